//! A place's QR plaque, A6 portrait (105 × 148 mm): the route's name, the place's name, a QR
//! code of its page's address and that address in short, to print on a card or a sticker.
//! One drawing, two files: SVG and PDF. The words are drawn as the outlines of DejaVu Sans
//! Bold (which has every Vietnamese letter), so both print the same on any machine with no
//! font to embed.

use qrcode::{Color, EcLevel, QrCode};
use ttf_parser::{Face, OutlineBuilder};

/// The page: A6 portrait, in millimetres.
pub const WIDTH_MM: f32 = 105.0;
pub const HEIGHT_MM: f32 = 148.0;
const MARGIN: f32 = 8.0;
/// The QR code's side and top.
const QR_SIDE: f32 = 70.0;

/// What a plaque says.
#[derive(Debug, Clone)]
pub struct Plaque {
    /// The route's name (a digital street, a heritage route).
    pub route: String,
    pub name: String,
    /// The address the QR code holds.
    pub url: String,
    /// The page's address in short, for those who type it (`host/p/code`).
    pub short: String,
    /// "Nhận thanh toán không dùng tiền mặt", when the place accepts it.
    pub cashless: Option<String>,
    /// What to do, in Vietnamese then English.
    pub scan_vi: String,
    pub scan_en: String,
}

/// A piece of a path, in millimetres from the page's top left.
#[derive(Debug, Clone, Copy)]
enum Seg {
    M(f32, f32),
    L(f32, f32),
    C(f32, f32, f32, f32, f32, f32),
    Z,
}

/// The drawing: the QR code's dark modules (rectangles) and the words' outlines, both filled
/// black on white.
struct Drawing {
    qr: Vec<(f32, f32, f32, f32)>,
    text: Vec<Seg>,
}

fn font() -> Face<'static> {
    Face::parse(dejavu::sans::bold(), 0).expect("DejaVu Sans Bold parses")
}

/// Draws glyph outlines into millimetres at a size and baseline.
struct Pen<'a> {
    out: &'a mut Vec<Seg>,
    x: f32,
    y: f32,
    scale: f32,
    last: (f32, f32),
}

impl Pen<'_> {
    fn at(&self, x: f32, y: f32) -> (f32, f32) {
        (self.x + x * self.scale, self.y - y * self.scale)
    }
}

impl OutlineBuilder for Pen<'_> {
    fn move_to(&mut self, x: f32, y: f32) {
        let p = self.at(x, y);
        self.out.push(Seg::M(p.0, p.1));
        self.last = p;
    }
    fn line_to(&mut self, x: f32, y: f32) {
        let p = self.at(x, y);
        self.out.push(Seg::L(p.0, p.1));
        self.last = p;
    }
    fn quad_to(&mut self, x1: f32, y1: f32, x: f32, y: f32) {
        // A quadratic curve as the cubic one it is: control points two thirds of the way to
        // the quadratic's from each end.
        let (q, p, o) = (self.at(x1, y1), self.at(x, y), self.last);
        let c1 = (o.0 + 2.0 / 3.0 * (q.0 - o.0), o.1 + 2.0 / 3.0 * (q.1 - o.1));
        let c2 = (p.0 + 2.0 / 3.0 * (q.0 - p.0), p.1 + 2.0 / 3.0 * (q.1 - p.1));
        self.out.push(Seg::C(c1.0, c1.1, c2.0, c2.1, p.0, p.1));
        self.last = p;
    }
    fn curve_to(&mut self, x1: f32, y1: f32, x2: f32, y2: f32, x: f32, y: f32) {
        let (a, b, p) = (self.at(x1, y1), self.at(x2, y2), self.at(x, y));
        self.out.push(Seg::C(a.0, a.1, b.0, b.1, p.0, p.1));
        self.last = p;
    }
    fn close(&mut self) {
        self.out.push(Seg::Z);
    }
}

/// The width of a line at a size (mm).
fn width(face: &Face<'_>, s: &str, size: f32) -> f32 {
    let em = f32::from(face.units_per_em());
    s.chars()
        .map(|c| {
            let g = face.glyph_index(c).unwrap_or_default();
            f32::from(face.glyph_hor_advance(g).unwrap_or(0)) / em * size
        })
        .sum()
}

/// Breaks words into lines of at most `max` mm, at most `lines` of them (the last cut with
/// an ellipsis when the words do not fit).
fn wrap(face: &Face<'_>, s: &str, size: f32, max: f32, lines: usize) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut line = String::new();
    for word in s.split_whitespace() {
        let tried = if line.is_empty() { word.to_owned() } else { format!("{line} {word}") };
        if width(face, &tried, size) <= max || line.is_empty() {
            line = tried;
        } else {
            out.push(std::mem::replace(&mut line, word.to_owned()));
        }
    }
    if !line.is_empty() {
        out.push(line);
    }
    if out.len() > lines {
        out.truncate(lines);
        if let Some(last) = out.last_mut() {
            last.push('…');
        }
    }
    for l in &mut out {
        while width(face, l, size) > max && l.chars().count() > 1 {
            let mut cut: String = l.chars().take(l.chars().count().saturating_sub(2)).collect();
            cut.push('…');
            *l = cut;
        }
    }
    out
}

/// Draws a line centred on the page with its baseline at `y`.
fn centred(face: &Face<'_>, out: &mut Vec<Seg>, s: &str, size: f32, y: f32) {
    let em = f32::from(face.units_per_em());
    let scale = size / em;
    let mut x = (WIDTH_MM - width(face, s, size)) / 2.0;
    for c in s.chars() {
        let g = face.glyph_index(c).unwrap_or_default();
        let mut pen = Pen { out: &mut *out, x, y, scale, last: (x, y) };
        face.outline_glyph(g, &mut pen);
        x += f32::from(face.glyph_hor_advance(g).unwrap_or(0)) * scale;
    }
}

impl Plaque {
    fn draw(&self) -> Drawing {
        let face = font();
        let max = WIDTH_MM - 2.0 * MARGIN;
        let mut text = Vec::new();
        let mut y = MARGIN + 4.0;
        for l in wrap(&face, &self.route, 3.6, max, 1) {
            centred(&face, &mut text, &l, 3.6, y);
            y += 5.0;
        }
        y += 3.5;
        let names = wrap(&face, &self.name, 6.4, max, 3);
        let size = if names.len() == 3 { 5.6 } else { 6.4 };
        for l in wrap(&face, &self.name, size, max, 3) {
            centred(&face, &mut text, &l, size, y);
            y += size * 1.25;
        }
        let qr_top = y.max(40.0) - 1.0;
        let mut below = qr_top + QR_SIDE + 8.0;
        centred(&face, &mut text, &self.short, 4.6, below);
        below += 6.5;
        centred(&face, &mut text, &self.scan_vi, 3.3, below);
        below += 4.6;
        centred(&face, &mut text, &self.scan_en, 3.0, below);
        if let Some(c) = &self.cashless {
            below += 5.8;
            for l in wrap(&face, c, 3.3, max, 1) {
                centred(&face, &mut text, &l, 3.3, below);
            }
        }
        Drawing { qr: qr_modules(&self.url, (WIDTH_MM - QR_SIDE) / 2.0, qr_top, QR_SIDE), text }
    }

    /// The plaque as an SVG file, 105 × 148 mm.
    pub fn svg(&self) -> String {
        let d = self.draw();
        let mut s = String::with_capacity(64 * 1024);
        s.push_str(&format!(
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{WIDTH_MM}mm\" height=\"{HEIGHT_MM}mm\" \
             viewBox=\"0 0 {WIDTH_MM} {HEIGHT_MM}\" role=\"img\" aria-labelledby=\"t\">\
             <title id=\"t\">{} — {}</title>\
             <rect width=\"{WIDTH_MM}\" height=\"{HEIGHT_MM}\" fill=\"#fff\"/>\
             <rect x=\"2\" y=\"2\" width=\"{}\" height=\"{}\" rx=\"3\" fill=\"none\" stroke=\"#000\" stroke-width=\"0.4\"/>",
            escape(&self.name),
            escape(&self.short),
            WIDTH_MM - 4.0,
            HEIGHT_MM - 4.0
        ));
        s.push_str("<path id=\"qr\" fill=\"#000\" d=\"");
        for (x, y, w, h) in &d.qr {
            s.push_str(&format!("M{x:.3} {y:.3}h{w:.3}v{h:.3}h-{w:.3}z"));
        }
        s.push_str("\"/><path id=\"words\" fill=\"#000\" d=\"");
        for seg in &d.text {
            match *seg {
                Seg::M(x, y) => s.push_str(&format!("M{x:.2} {y:.2}")),
                Seg::L(x, y) => s.push_str(&format!("L{x:.2} {y:.2}")),
                Seg::C(a, b, c, e, x, y) => s.push_str(&format!("C{a:.2} {b:.2} {c:.2} {e:.2} {x:.2} {y:.2}")),
                Seg::Z => s.push('Z'),
            }
        }
        s.push_str("\"/></svg>\n");
        s
    }

    /// The page's drawing as PDF operators, in points with the y axis up.
    fn pdf_content(&self) -> String {
        let d = self.draw();
        let pt = |mm: f32| mm * 72.0 / 25.4;
        let p = |x: f32, y: f32| format!("{:.2} {:.2}", pt(x), pt(HEIGHT_MM - y));
        let mut c = String::with_capacity(64 * 1024);
        c.push_str("0.4 w 0 G 0 g\n");
        c.push_str(&format!(
            "{:.2} {:.2} {:.2} {:.2} re S\n",
            pt(2.0),
            pt(2.0),
            pt(WIDTH_MM - 4.0),
            pt(HEIGHT_MM - 4.0)
        ));
        c.push_str("% qr\n");
        for (x, y, mw, mh) in &d.qr {
            c.push_str(&format!("{:.3} {:.3} {:.3} {:.3} re\n", pt(*x), pt(HEIGHT_MM - y - mh), pt(*mw), pt(*mh)));
        }
        c.push_str("f\n% words\n");
        for seg in &d.text {
            match *seg {
                Seg::M(x, y) => c.push_str(&format!("{} m\n", p(x, y))),
                Seg::L(x, y) => c.push_str(&format!("{} l\n", p(x, y))),
                Seg::C(a, b, e, f, x, y) => c.push_str(&format!("{} {} {} c\n", p(a, b), p(e, f), p(x, y))),
                Seg::Z => c.push_str("h\n"),
            }
        }
        c.push_str("f\n");
        c
    }
}

/// Plaques as a PDF, one A6 page each, in order.
pub fn pdf(plaques: &[Plaque]) -> Vec<u8> {
    let pt = |mm: f32| mm * 72.0 / 25.4;
    let (w, h) = (pt(WIDTH_MM), pt(HEIGHT_MM));
    // 1 catalog, 2 pages, 3 info, then a page and its contents for each plaque.
    let page_id = |i: usize| 4 + 2 * i;
    let kids: Vec<String> = (0..plaques.len()).map(|i| format!("{} 0 R", page_id(i))).collect();
    let title = match plaques {
        [one] => one.name.clone(),
        _ => plaques.first().map(|p| p.route.clone()).unwrap_or_default(),
    };
    let mut objects = vec![
        "<< /Type /Catalog /Pages 2 0 R >>".to_owned(),
        format!("<< /Type /Pages /Kids [{}] /Count {} >>", kids.join(" "), plaques.len()),
        format!("<< /Title ({}) /Producer (ngoso) >>", pdf_string(&title)),
    ];
    for (i, p) in plaques.iter().enumerate() {
        let c = p.pdf_content();
        objects.push(format!(
            "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {w:.2} {h:.2}] /Contents {} 0 R /Resources << >> >>",
            page_id(i) + 1
        ));
        objects.push(format!("<< /Length {} >>\nstream\n{c}endstream", c.len()));
    }
    let mut out: Vec<u8> = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n".to_vec();
    let mut offsets = Vec::new();
    for (i, o) in objects.iter().enumerate() {
        offsets.push(out.len());
        out.extend_from_slice(format!("{} 0 obj\n{o}\nendobj\n", i + 1).as_bytes());
    }
    let xref = out.len();
    out.extend_from_slice(format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1).as_bytes());
    for o in offsets {
        out.extend_from_slice(format!("{o:010} 00000 n \n").as_bytes());
    }
    out.extend_from_slice(
        format!("trailer\n<< /Size {} /Root 1 0 R /Info 3 0 R >>\nstartxref\n{xref}\n%%EOF\n", objects.len() + 1)
            .as_bytes(),
    );
    out
}

/// The dark modules of a QR code of `url` (error correction M: a quarter of a scratched
/// plaque still reads), as rectangles, a row's neighbours merged, in a square at (x, y).
fn qr_modules(url: &str, x: f32, y: f32, side: f32) -> Vec<(f32, f32, f32, f32)> {
    let code = QrCode::with_error_correction_level(url.as_bytes(), EcLevel::M)
        .or_else(|_| QrCode::with_error_correction_level(url.as_bytes(), EcLevel::L))
        .expect("an address of a few hundred bytes fits a QR code");
    let n = code.width();
    let colors = code.to_colors();
    let m = side / n as f32;
    let mut out = Vec::new();
    for row in 0..n {
        let mut col = 0;
        while col < n {
            if colors[row * n + col] == Color::Dark {
                let start = col;
                while col < n && colors[row * n + col] == Color::Dark {
                    col += 1;
                }
                out.push((x + start as f32 * m, y + row as f32 * m, (col - start) as f32 * m, m));
            } else {
                col += 1;
            }
        }
    }
    out
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// A PDF text string: UTF-16BE with its byte-order mark, as octal escapes.
fn pdf_string(s: &str) -> String {
    let mut out = String::from("\\376\\377");
    for u in s.encode_utf16() {
        for b in u.to_be_bytes() {
            out.push_str(&format!("\\{b:03o}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plaque(name: &str) -> Plaque {
        Plaque {
            route: "Tuyến phố số chợ Cần Giuộc".into(),
            name: name.into(),
            url: "https://ngoso.example/p/k3x9bz?s=qr".into(),
            short: "ngoso.example/p/k3x9bz".into(),
            cashless: Some("Nhận thanh toán không dùng tiền mặt".into()),
            scan_vi: "Quét mã để xem giới thiệu".into(),
            scan_en: "Scan to read about this place".into(),
        }
    }

    #[test]
    fn long_names_wrap_and_stay_on_the_page() {
        let face = font();
        let lines = wrap(&face, &"Tiệm tạp hoá bà Năm ".repeat(8), 6.4, 89.0, 3);
        assert_eq!(lines.len(), 3);
        assert!(lines[2].ends_with('…'));
        assert!(lines.iter().all(|l| width(&face, l, 6.4) <= 89.0));
        let d = plaque(&"Đình thần Long Hựu Đông ".repeat(6)).draw();
        let inside = |x: f32, y: f32| (0.0..=WIDTH_MM).contains(&x) && (0.0..=HEIGHT_MM).contains(&y);
        assert!(d.text.iter().all(|s| match *s {
            Seg::M(x, y) | Seg::L(x, y) | Seg::C(_, _, _, _, x, y) => inside(x, y),
            Seg::Z => true,
        }));
        assert!(d.qr.iter().all(|(x, y, w, h)| inside(*x, *y) && inside(x + w, y + h)));
    }

    #[test]
    fn the_pdf_has_an_a6_page_a_plaque_and_a_sound_cross_reference() {
        let pdf = pdf(&[plaque("Chợ Cần Giuộc"), plaque("Đình Long Hựu")]);
        let has = |at: usize, s: &str| pdf[at..].starts_with(s.as_bytes());
        assert!(has(0, "%PDF-1.4") && pdf.ends_with(b"%%EOF\n"));
        let tail = String::from_utf8(pdf[pdf.len() - 40..].to_vec()).unwrap();
        let xref: usize = tail.rsplit("startxref\n").next().unwrap().lines().next().unwrap().parse().unwrap();
        assert!(has(xref, "xref"));
        let table = String::from_utf8(pdf[xref..].to_vec()).unwrap();
        for (i, line) in table.lines().skip(3).take(7).enumerate() {
            let at: usize = line[..10].parse().unwrap();
            assert!(has(at, &format!("{} 0 obj", i + 1)), "object {}", i + 1);
        }
        let text = String::from_utf8_lossy(&pdf);
        assert_eq!(text.matches("/MediaBox [0 0 297.64 419.53]").count(), 2);
        assert!(text.contains("/Count 2"));
    }
}
