//! Photos sent with feedback: JPEG or PNG only, checked structurally and stripped of every
//! metadata block (EXIF with its GPS position and camera serial, XMP, comments, text chunks)
//! before anything is stored. The picture data itself is copied unchanged, so nothing is
//! re-encoded and nothing is lost but the metadata.
//!
//! One piece of EXIF is kept: a JPEG's orientation flag, without which a phone photo taken
//! upright would show turned. The cleaned file carries it in a minimal EXIF block of ngoso's
//! own making, holding that flag and nothing else.

use crate::error::Invalid;

/// A photo ready to store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Photo {
    /// `image/jpeg` or `image/png`.
    pub mime: &'static str,
    pub bytes: Vec<u8>,
    /// Size as shown, after the orientation (a photo turned a quarter swaps them).
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
/// application segments and comments; write the EXIF orientation back, alone.
fn clean_jpeg(d: &[u8]) -> Result<Photo, Invalid> {
    let mut out = Vec::with_capacity(d.len());
    out.extend_from_slice(&[0xFF, 0xD8]);
    let mut i = 2;
    let mut size = None;
    let mut saw_scan = false;
    let mut orientation = None;
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
            0xE1 => {
                orientation = orientation.or_else(|| exif_orientation(body));
                false
            }
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
    let (mut width, mut height) = size.ok_or_else(|| bad("no frame"))?;
    if let Some(o) = orientation.filter(|o| *o != 1) {
        // After SOI, or after a JFIF marker there (which must come first).
        let at =
            if out[2..].starts_with(&[0xFF, 0xE0]) { 4 + usize::from(u16::from_be_bytes([out[4], out[5]])) } else { 2 };
        out.splice(at..at, orientation_segment(o));
        if o >= 5 {
            std::mem::swap(&mut width, &mut height);
        }
    }
    Ok(Photo { mime: "image/jpeg", bytes: out, width, height })
}

/// The orientation (1–8) in an APP1 segment's body, if it is EXIF with a well-formed one in
/// its first directory (tag 0x0112, one SHORT). Every offset is checked; anything else gives
/// none, never an error: the photo then shows as coded.
fn exif_orientation(body: &[u8]) -> Option<u16> {
    let tiff = body.strip_prefix(b"Exif\0\0")?;
    let big_endian = match tiff.get(..4)? {
        b"MM\0*" => true,
        b"II*\0" => false,
        _ => return None,
    };
    let u16_at = |at: usize| {
        let b: [u8; 2] = tiff.get(at..at.checked_add(2)?)?.try_into().ok()?;
        Some(if big_endian { u16::from_be_bytes(b) } else { u16::from_le_bytes(b) })
    };
    let u32_at = |at: usize| {
        let b: [u8; 4] = tiff.get(at..at.checked_add(4)?)?.try_into().ok()?;
        Some(if big_endian { u32::from_be_bytes(b) } else { u32::from_le_bytes(b) })
    };
    let directory = usize::try_from(u32_at(4)?).ok()?;
    for k in 0..usize::from(u16_at(directory)?) {
        let entry = directory.checked_add(2 + 12 * k)?;
        if u16_at(entry)? == 0x0112 {
            let (kind, count, value) = (u16_at(entry + 2)?, u32_at(entry + 4)?, u16_at(entry + 8)?);
            return (kind == 3 && count == 1 && (1..=8).contains(&value)).then_some(value);
        }
    }
    None
}

/// An APP1 segment of EXIF holding only an orientation: a big-endian TIFF header and one
/// directory of one entry (tag 0x0112, one SHORT), with no next directory.
fn orientation_segment(o: u16) -> Vec<u8> {
    let mut s = vec![0xFF, 0xE1, 0, 34];
    s.extend_from_slice(b"Exif\0\0MM\0*");
    s.extend_from_slice(&8u32.to_be_bytes());
    s.extend_from_slice(&1u16.to_be_bytes());
    s.extend_from_slice(&0x0112u16.to_be_bytes());
    s.extend_from_slice(&3u16.to_be_bytes());
    s.extend_from_slice(&1u32.to_be_bytes());
    s.extend_from_slice(&o.to_be_bytes());
    s.extend_from_slice(&[0, 0]);
    s.extend_from_slice(&0u32.to_be_bytes());
    debug_assert_eq!(s.len(), 36);
    s
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

    /// An EXIF APP1 body: a TIFF header, one directory of `entries` (tag, type, count, value
    /// bytes as they are stored), then `tail` (where a camera puts its strings and GPS block).
    fn exif(big_endian: bool, entries: &[(u16, u16, u32, [u8; 4])], tail: &[u8]) -> Vec<u8> {
        let u16b = |v: u16| if big_endian { v.to_be_bytes() } else { v.to_le_bytes() };
        let u32b = |v: u32| if big_endian { v.to_be_bytes() } else { v.to_le_bytes() };
        let mut b = b"Exif\0\0".to_vec();
        b.extend_from_slice(if big_endian { b"MM\0*" } else { b"II*\0" });
        b.extend_from_slice(&u32b(8));
        b.extend_from_slice(&u16b(entries.len() as u16));
        for (tag, kind, count, value) in entries {
            b.extend_from_slice(&u16b(*tag));
            b.extend_from_slice(&u16b(*kind));
            b.extend_from_slice(&u32b(*count));
            b.extend_from_slice(value);
        }
        b.extend_from_slice(&u32b(0));
        b.extend_from_slice(tail);
        b
    }

    /// The JPEG of `jpeg_with_metadata`, its EXIF replaced by `app1`.
    fn jpeg_with_exif(app1: &[u8]) -> Vec<u8> {
        let j = jpeg_with_metadata();
        let old = seg(0xE1, b"Exif\0\0MM\0*GPSLatitude 10.53 GPSLongitude 106.41");
        let at = j.windows(old.len()).position(|w| w == old.as_slice()).unwrap();
        let mut v = j[..at].to_vec();
        v.extend(seg(0xE1, app1));
        v.extend_from_slice(&j[at + old.len()..]);
        v
    }

    fn shown_orientation(p: &Photo) -> Option<u16> {
        let at = p.bytes.windows(4).position(|w| w == b"Exif")?;
        let len = usize::from(u16::from_be_bytes([p.bytes[at - 2], p.bytes[at - 1]]));
        exif_orientation(&p.bytes[at..at - 2 + len])
    }

    #[test]
    fn the_orientation_is_kept_and_nothing_else_of_exif() {
        let camera = b"Nguyen Van A's phone, serial 12345\0GPSLatitude 10.53";
        for (big_endian, o) in [(true, 6u16), (false, 8), (true, 3), (false, 5)] {
            let value = if big_endian { [(o >> 8) as u8, o as u8, 0, 0] } else { [o as u8, (o >> 8) as u8, 0, 0] };
            // The make (a string stored after the directory) comes before the orientation.
            let make = if big_endian { [0, 0, 0, 38] } else { [38, 0, 0, 0] };
            let app1 = exif(big_endian, &[(0x010F, 2, camera.len() as u32, make), (0x0112, 3, 1, value)], camera);
            let p = clean(&jpeg_with_exif(&app1), 1 << 20).unwrap();
            assert_eq!(shown_orientation(&p), Some(o));
            for secret in [&b"Nguyen"[..], b"serial", b"GPS", b"xmpmeta"] {
                assert!(!contains(&p.bytes, secret), "{}", String::from_utf8_lossy(secret));
            }
            // A quarter turn swaps the size as shown.
            let size = if o >= 5 { (16, 32) } else { (32, 16) };
            assert_eq!((p.width, p.height), size);
            // After the JFIF marker, which stays first; cleaning again changes nothing.
            assert_eq!(&p.bytes[2..6], &[0xFF, 0xE0, 0, 16]);
            assert_eq!(&p.bytes[20..24], &[0xFF, 0xE1, 0, 34]);
            assert_eq!(clean(&p.bytes, 1 << 20).unwrap(), p);
        }
    }

    #[test]
    fn no_orientation_or_a_bad_one_writes_no_exif() {
        for app1 in [
            exif(true, &[(0x0112, 3, 1, [0, 1, 0, 0])], b""), // upright: nothing to say
            exif(true, &[(0x0112, 3, 1, [0, 9, 0, 0])], b""), // no such orientation
            exif(false, &[(0x0112, 4, 1, [6, 0, 0, 0])], b""), // a LONG, not a SHORT
            exif(true, &[(0x0112, 3, 2, [0, 6, 0, 6])], b""), // two values
            b"Exif\0\0MM\0*\xFF\xFF\xFF\xF0".to_vec(),        // directory past the end
            exif(true, &[], b""),
        ] {
            let p = clean(&jpeg_with_exif(&app1), 1 << 20).unwrap();
            assert!(!contains(&p.bytes, b"Exif"));
            assert_eq!((p.width, p.height), (32, 16));
        }
        // A directory claiming more entries than there are bytes.
        let mut short = exif(true, &[(0x010F, 2, 1, [0; 4])], b"");
        short[14..16].copy_from_slice(&60_000u16.to_be_bytes());
        assert_eq!(exif_orientation(&short), None);
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
        let j = jpeg_with_exif(&exif(false, &[(0x0112, 3, 1, [6, 0, 0, 0])], b"GPS"));
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
