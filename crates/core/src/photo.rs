//! Photos sent with feedback: JPEG or PNG only, checked structurally and stripped of every
//! metadata block (EXIF with its GPS position and camera serial, XMP, comments, text chunks)
//! before anything is stored. The picture data itself is copied unchanged, so nothing is
//! re-encoded and nothing is lost but the metadata.
//!
//! One consequence: the EXIF orientation flag goes too, so a phone photo taken upright may
//! show turned. Keeping only that flag would mean writing EXIF ourselves; not yet done.

use crate::error::Invalid;

/// A photo ready to store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Photo {
    /// `image/jpeg` or `image/png`.
    pub mime: &'static str,
    pub bytes: Vec<u8>,
    pub width: u32,
    pub height: u32,
}

/// The largest picture accepted, in pixels (a 48-megapixel phone camera fits).
const MAX_PIXELS: u64 = 60_000_000;

fn bad(why: &str) -> Invalid {
    Invalid::field("photo-invalid", "photo").with_detail(why)
}

/// Checks a JPEG or PNG file and returns it without metadata.
pub fn clean(data: &[u8], max_bytes: usize) -> Result<Photo, Invalid> {
    if data.len() > max_bytes {
        return Err(
            Invalid::field("photo-too-large", "photo").with_detail((max_bytes / 1024 / 1024).max(1).to_string())
        );
    }
    let photo = if data.starts_with(&[0xFF, 0xD8]) {
        clean_jpeg(data)?
    } else if data.starts_with(PNG_SIGNATURE) {
        clean_png(data)?
    } else {
        return Err(Invalid::field("photo-type", "photo"));
    };
    if photo.width == 0 || photo.height == 0 || u64::from(photo.width) * u64::from(photo.height) > MAX_PIXELS {
        return Err(bad("size"));
    }
    Ok(photo)
}

/// JPEG: keep the segments needed to show the picture (tables, frame, scans, restart
/// interval, JFIF and Adobe colour markers, ICC profile); drop APP1 (EXIF, XMP), the other
/// application segments and comments.
fn clean_jpeg(d: &[u8]) -> Result<Photo, Invalid> {
    let mut out = Vec::with_capacity(d.len());
    out.extend_from_slice(&[0xFF, 0xD8]);
    let mut i = 2;
    let mut size = None;
    let mut saw_scan = false;
    loop {
        // Markers may be preceded by fill bytes 0xFF.
        while i < d.len() && d[i] == 0xFF && d.get(i + 1) == Some(&0xFF) {
            i += 1;
        }
        if i + 1 >= d.len() || d[i] != 0xFF {
            return Err(bad("truncated"));
        }
        let marker = d[i + 1];
        i += 2;
        match marker {
            0xD9 => {
                if !saw_scan {
                    return Err(bad("no image data"));
                }
                out.extend_from_slice(&[0xFF, 0xD9]);
                break;
            }
            0x01 | 0xD0..=0xD7 => {
                out.extend_from_slice(&[0xFF, marker]);
                continue;
            }
            _ => {}
        }
        if i + 2 > d.len() {
            return Err(bad("truncated"));
        }
        let len = usize::from(u16::from_be_bytes([d[i], d[i + 1]]));
        if len < 2 || i + len > d.len() {
            return Err(bad("segment length"));
        }
        let seg = &d[i - 2..i + len];
        let body = &d[i + 2..i + len];
        i += len;
        let keep = match marker {
            // Start of frame (baseline, progressive, lossless…; C4/C8/CC are other tables).
            0xC0..=0xCF if !matches!(marker, 0xC4 | 0xC8 | 0xCC) => {
                if body.len() < 5 {
                    return Err(bad("frame"));
                }
                let h = u32::from(u16::from_be_bytes([body[1], body[2]]));
                let w = u32::from(u16::from_be_bytes([body[3], body[4]]));
                size = Some((w, h));
                true
            }
            0xC4 | 0xCC | 0xDB | 0xDD | 0xDA => true,
            0xE0 => body.starts_with(b"JFIF\0") || body.starts_with(b"JFXX\0"),
            0xE2 => body.starts_with(b"ICC_PROFILE\0"),
            0xEE => body.starts_with(b"Adobe"),
            // EXIF, XMP, other application data, comments and anything unknown.
            _ => false,
        };
        if keep {
            out.extend_from_slice(seg);
        }
        if marker == 0xDA {
            if size.is_none() {
                return Err(bad("scan before frame"));
            }
            saw_scan = true;
            // Entropy-coded data runs to the next marker that is not a stuffed 0xFF00 or a
            // restart marker.
            let start = i;
            while i + 1 < d.len() && !(d[i] == 0xFF && d[i + 1] != 0x00 && !(0xD0..=0xD7).contains(&d[i + 1])) {
                i += 1;
            }
            if i + 1 >= d.len() {
                return Err(bad("truncated"));
            }
            out.extend_from_slice(&d[start..i]);
        }
    }
    let (width, height) = size.ok_or_else(|| bad("no frame"))?;
    Ok(Photo { mime: "image/jpeg", bytes: out, width, height })
}

const PNG_SIGNATURE: &[u8] = &[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A];

/// PNG: keep the critical chunks and those that change how the picture looks; drop text,
/// EXIF, time stamps and anything unknown.
fn clean_png(d: &[u8]) -> Result<Photo, Invalid> {
    const KEEP: [&[u8; 4]; 13] = [
        b"IHDR", b"PLTE", b"IDAT", b"IEND", b"tRNS", b"gAMA", b"cHRM", b"sRGB", b"iCCP", b"sBIT", b"bKGD", b"pHYs",
        b"acTL",
    ];
    let mut out = Vec::with_capacity(d.len());
    out.extend_from_slice(PNG_SIGNATURE);
    let mut i = PNG_SIGNATURE.len();
    let mut size = None;
    let mut saw_data = false;
    loop {
        if i + 8 > d.len() {
            return Err(bad("truncated"));
        }
        let len = u32::from_be_bytes([d[i], d[i + 1], d[i + 2], d[i + 3]]) as usize;
        let kind: [u8; 4] = [d[i + 4], d[i + 5], d[i + 6], d[i + 7]];
        let end = i
            .checked_add(12)
            .and_then(|x| x.checked_add(len))
            .filter(|e| *e <= d.len())
            .ok_or_else(|| bad("chunk length"))?;
        let body = &d[i + 8..i + 8 + len];
        if size.is_none() && &kind != b"IHDR" {
            return Err(bad("no header"));
        }
        if &kind == b"IHDR" {
            if len != 13 || size.is_some() {
                return Err(bad("header"));
            }
            let w = u32::from_be_bytes([body[0], body[1], body[2], body[3]]);
            let h = u32::from_be_bytes([body[4], body[5], body[6], body[7]]);
            size = Some((w, h));
        }
        if &kind == b"IDAT" {
            saw_data = true;
        }
        if KEEP.contains(&&kind) || &kind == b"fcTL" || &kind == b"fdAT" {
            out.extend_from_slice(&d[i..end]);
        }
        i = end;
        if &kind == b"IEND" {
            break;
        }
    }
    if !saw_data {
        return Err(bad("no image data"));
    }
    let (width, height) = size.ok_or_else(|| bad("no header"))?;
    Ok(Photo { mime: "image/png", bytes: out, width, height })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seg(marker: u8, body: &[u8]) -> Vec<u8> {
        let mut v = vec![0xFF, marker];
        v.extend_from_slice(&((body.len() + 2) as u16).to_be_bytes());
        v.extend_from_slice(body);
        v
    }

    /// A structurally valid JPEG with EXIF (holding a GPS block), XMP and a comment.
    fn jpeg_with_metadata() -> Vec<u8> {
        let mut v = vec![0xFF, 0xD8];
        v.extend(seg(0xE0, b"JFIF\0\x01\x01\0\0\x01\0\x01\0\0"));
        v.extend(seg(0xE1, b"Exif\0\0MM\0*GPSLatitude 10.53 GPSLongitude 106.41"));
        v.extend(seg(0xE1, b"http://ns.adobe.com/xap/1.0/\0<x:xmpmeta>secret</x:xmpmeta>"));
        v.extend(seg(0xFE, b"taken by Nguyen Van A"));
        v.extend(seg(0xDB, &[0u8; 65]));
        v.extend(seg(0xC0, &[8, 0, 16, 0, 32, 1, 1, 0x11, 0]));
        v.extend(seg(0xC4, &[0u8; 20]));
        v.extend(seg(0xDA, &[1, 1, 0, 0, 63, 0]));
        v.extend_from_slice(&[0x12, 0xFF, 0x00, 0x34, 0xFF, 0xD0, 0x56]);
        v.extend_from_slice(&[0xFF, 0xD9]);
        v
    }

    fn contains(hay: &[u8], needle: &[u8]) -> bool {
        hay.windows(needle.len()).any(|w| w == needle)
    }

    #[test]
    fn jpeg_metadata_is_removed_and_the_picture_kept() {
        let src = jpeg_with_metadata();
        let p = clean(&src, 1 << 20).unwrap();
        assert_eq!((p.mime, p.width, p.height), ("image/jpeg", 32, 16));
        for secret in [&b"GPSLatitude"[..], b"Exif", b"xmpmeta", b"Nguyen"] {
            assert!(!contains(&p.bytes, secret), "{}", String::from_utf8_lossy(secret));
        }
        assert!(contains(&p.bytes, b"JFIF"));
        assert!(contains(&p.bytes, &[0x12, 0xFF, 0x00, 0x34, 0xFF, 0xD0, 0x56, 0xFF, 0xD9]));
        // Cleaning again changes nothing.
        assert_eq!(clean(&p.bytes, 1 << 20).unwrap().bytes, p.bytes);
    }

    fn chunk(kind: &[u8; 4], body: &[u8]) -> Vec<u8> {
        let mut v = (body.len() as u32).to_be_bytes().to_vec();
        v.extend_from_slice(kind);
        v.extend_from_slice(body);
        v.extend_from_slice(&[0, 0, 0, 0]);
        v
    }

    #[test]
    fn png_text_and_exif_chunks_are_removed() {
        let mut v = PNG_SIGNATURE.to_vec();
        let mut ihdr = 3u32.to_be_bytes().to_vec();
        ihdr.extend_from_slice(&2u32.to_be_bytes());
        ihdr.extend_from_slice(&[8, 2, 0, 0, 0]);
        v.extend(chunk(b"IHDR", &ihdr));
        v.extend(chunk(b"tEXt", b"Author\0Tran Thi B"));
        v.extend(chunk(b"eXIf", b"MM\0*GPS"));
        v.extend(chunk(b"IDAT", b"xyz"));
        v.extend(chunk(b"IEND", b""));
        let p = clean(&v, 1 << 20).unwrap();
        assert_eq!((p.mime, p.width, p.height), ("image/png", 3, 2));
        assert!(!contains(&p.bytes, b"Tran Thi B"));
        assert!(!contains(&p.bytes, b"GPS"));
        assert!(contains(&p.bytes, b"IDATxyz"));
    }

    #[test]
    fn anything_else_is_refused_without_panicking() {
        assert_eq!(clean(b"GIF89a....", 1 << 20).unwrap_err().code, "photo-type");
        assert_eq!(clean(b"<svg onload=alert(1)>", 1 << 20).unwrap_err().code, "photo-type");
        assert_eq!(clean(&jpeg_with_metadata(), 10).unwrap_err().code, "photo-too-large");
        let j = jpeg_with_metadata();
        for cut in 0..j.len() - 1 {
            assert!(clean(&j[..cut], 1 << 20).is_err(), "cut at {cut}");
        }
        let mut rng = 0x2545F4914F6CDD1Du64;
        for _ in 0..2000 {
            let mut v = j.clone();
            for _ in 0..3 {
                rng ^= rng << 13;
                rng ^= rng >> 7;
                rng ^= rng << 17;
                let at = (rng as usize) % v.len();
                v[at] = (rng >> 32) as u8;
            }
            let _ = clean(&v, 1 << 20);
        }
    }
}
