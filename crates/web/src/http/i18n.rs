//! Message catalogues (Fluent), Vietnamese first and English second.
//!
//! Words people read live in `i18n/vi.ftl` and `i18n/en.ftl`, embedded in the binary; code
//! refers to them by message id. Every error code has a message `err-CODE`.

use std::collections::HashMap;
use std::sync::OnceLock;

use fluent_bundle::concurrent::FluentBundle;
use fluent_bundle::{FluentArgs, FluentResource, FluentValue};

/// A language of the interface.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Lang {
    #[default]
    Vi,
    En,
}

impl Lang {
    pub const ALL: [Lang; 2] = [Lang::Vi, Lang::En];

    pub fn code(self) -> &'static str {
        match self {
            Lang::Vi => "vi",
            Lang::En => "en",
        }
    }

    pub fn parse(s: &str) -> Option<Lang> {
        let s = s.trim().to_ascii_lowercase();
        if s == "vi" || s.starts_with("vi-") {
            Some(Lang::Vi)
        } else if s == "en" || s.starts_with("en-") {
            Some(Lang::En)
        } else {
            None
        }
    }

    /// The first supported language of an `Accept-Language` header, by preference.
    pub fn from_accept_language(header: &str) -> Option<Lang> {
        let mut tags: Vec<(f32, usize, Lang)> = header
            .split(',')
            .enumerate()
            .filter_map(|(i, part)| {
                let mut it = part.split(';');
                let lang = Lang::parse(it.next()?)?;
                let q = it.find_map(|p| p.trim().strip_prefix("q=")).and_then(|q| q.parse::<f32>().ok()).unwrap_or(1.0);
                Some((q, i, lang))
            })
            .collect();
        tags.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
        tags.first().map(|t| t.2)
    }

    /// The other language, for the switch in the page header.
    pub fn other(self) -> Lang {
        match self {
            Lang::Vi => Lang::En,
            Lang::En => Lang::Vi,
        }
    }
}

struct Catalog {
    bundles: HashMap<Lang, FluentBundle<FluentResource>>,
}

fn bundle(lang: Lang, src: &'static str) -> FluentBundle<FluentResource> {
    let res = FluentResource::try_new(src.to_owned())
        .unwrap_or_else(|(_, errs)| panic!("the {} catalogue does not parse: {errs:?}", lang.code()));
    let id = lang.code().parse().expect("a valid language id");
    let mut b = FluentBundle::new_concurrent(vec![id]);
    // No Unicode isolation marks: they show as boxes on some phones.
    b.set_use_isolating(false);
    b.add_resource(res).expect("no duplicate message ids");
    b
}

fn catalog() -> &'static Catalog {
    static CATALOG: OnceLock<Catalog> = OnceLock::new();
    CATALOG.get_or_init(|| {
        let mut bundles = HashMap::new();
        bundles.insert(Lang::Vi, bundle(Lang::Vi, include_str!("../../i18n/vi.ftl")));
        bundles.insert(Lang::En, bundle(Lang::En, include_str!("../../i18n/en.ftl")));
        Catalog { bundles }
    })
}

/// Whether the catalogue of `lang` has a message `id`.
pub fn has(lang: Lang, id: &str) -> bool {
    catalog().bundles[&lang].has_message(id)
}

/// The message `id` in `lang`, with named arguments. A missing message shows its id, so a
/// gap is visible rather than silent (a test checks that both catalogues have the same ids).
pub fn msg(lang: Lang, id: &str, args: &[(&str, &str)]) -> String {
    let bundle = &catalog().bundles[&lang];
    let Some(pattern) = bundle.get_message(id).and_then(|m| m.value()) else {
        return id.to_owned();
    };
    let mut fargs = FluentArgs::new();
    for (k, v) in args {
        fargs.set(*k, FluentValue::from(*v));
    }
    let mut errors = Vec::new();
    bundle.format_pattern(pattern, Some(&fargs), &mut errors).into_owned()
}

/// A translator bound to one language, handed to templates.
#[derive(Debug, Clone, Copy)]
pub struct Tr(pub Lang);

impl Tr {
    /// The message `id`.
    pub fn t(&self, id: &str) -> String {
        msg(self.0, id, &[])
    }
    /// The message `id` with one argument.
    pub fn t1(&self, id: &str, name: &str, value: impl std::fmt::Display) -> String {
        msg(self.0, id, &[(name, &value.to_string())])
    }
    /// A whole number the Vietnamese way: `255.600` (English: `255,600`).
    pub fn num(&self, n: &i64) -> String {
        format_int(*n, self.0)
    }
    /// A percentage with one decimal, the Vietnamese way: `97,5 %` (English: `97.5%`).
    pub fn pct(&self, p: f64) -> String {
        match self.0 {
            Lang::Vi => format!("{} %", format!("{p:.1}").replace('.', ",")),
            Lang::En => format!("{p:.1}%"),
        }
    }
    /// An amount of đồng the way a report writes it: `12,3 tỷ đồng`, `850 triệu đồng`,
    /// `45.000 đồng` (English: `12.3 billion đồng`).
    pub fn money(&self, v: f64) -> String {
        let (scaled, vi, en) = if v.abs() >= 1e9 {
            (v / 1e9, "tỷ đồng", "billion đồng")
        } else if v.abs() >= 1e6 {
            (v / 1e6, "triệu đồng", "million đồng")
        } else {
            return format!("{} đồng", format_int(v.round() as i64, self.0));
        };
        let s = format!("{scaled:.1}");
        let s = s.strip_suffix(".0").unwrap_or(&s).to_owned();
        match self.0 {
            Lang::Vi => format!("{} {vi}", s.replace('.', ",")),
            Lang::En => format!("{s} {en}"),
        }
    }
    /// A Unix time as a date and time in Vietnam (UTC+7): `15/10/2024 08:30`.
    pub fn datetime(&self, t: &i64) -> String {
        format_datetime(*t)
    }
}

/// Groups the digits of `n` by thousands: `.` in Vietnamese, `,` in English.
pub fn format_int(n: i64, lang: Lang) -> String {
    let sep = match lang {
        Lang::Vi => '.',
        Lang::En => ',',
    };
    let digits = n.unsigned_abs().to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3 + 1);
    if n < 0 {
        out.push('-');
    }
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(sep);
        }
        out.push(c);
    }
    out
}

/// A Unix time shown in Vietnam's time zone (UTC+7, no daylight saving).
pub fn format_datetime(t: i64) -> String {
    let tz = ngoso_core::calendar::tz();
    chrono::DateTime::from_timestamp(t, 0)
        .map(|d| d.with_timezone(&tz).format("%d/%m/%Y %H:%M").to_string())
        .unwrap_or_default()
}

/// A date the Vietnamese way: `15/10/2024`.
pub fn format_date(d: &chrono::NaiveDate) -> String {
    d.format("%d/%m/%Y").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(src: &str) -> std::collections::BTreeSet<String> {
        src.lines()
            .filter(|l| !l.starts_with(' ') && !l.starts_with('#') && l.contains(" ="))
            .map(|l| l.split(" =").next().unwrap_or_default().trim().to_owned())
            .collect()
    }

    #[test]
    fn both_catalogues_have_the_same_messages() {
        let vi = ids(include_str!("../../i18n/vi.ftl"));
        let en = ids(include_str!("../../i18n/en.ftl"));
        let only_vi: Vec<_> = vi.difference(&en).collect();
        let only_en: Vec<_> = en.difference(&vi).collect();
        assert!(only_vi.is_empty() && only_en.is_empty(), "only in vi: {only_vi:?}; only in en: {only_en:?}");
        assert!(vi.len() > 50);
        // And both parse.
        assert!(has(Lang::Vi, "app-name") && has(Lang::En, "app-name"));
    }

    #[test]
    fn messages_with_arguments() {
        assert_eq!(msg(Lang::En, "err-too-long", &[("detail", "200")]), "Too long: at most 200 characters.");
        assert!(msg(Lang::Vi, "err-too-long", &[("detail", "200")]).contains("200"));
        assert_eq!(msg(Lang::Vi, "no-such-message", &[]), "no-such-message");
    }

    #[test]
    fn numbers_and_dates() {
        assert_eq!(format_int(255_600, Lang::Vi), "255.600");
        assert_eq!(format_int(1_300_000, Lang::En), "1,300,000");
        assert_eq!(format_int(-12, Lang::Vi), "-12");
        assert_eq!(format_int(999, Lang::Vi), "999");
        assert_eq!(Tr(Lang::Vi).money(11_960_000_000.0), "12 tỷ đồng");
        assert_eq!(Tr(Lang::Vi).money(14_260_000_000.0), "14,3 tỷ đồng");
        assert_eq!(Tr(Lang::En).money(850_000_000.0), "850 million đồng");
        assert_eq!(Tr(Lang::Vi).money(45_000.0), "45.000 đồng");
        assert_eq!(format_datetime(1_728_950_400), "15/10/2024 07:00");
    }

    #[test]
    fn accept_language() {
        assert_eq!(Lang::from_accept_language("en-US,en;q=0.9,vi;q=0.8"), Some(Lang::En));
        assert_eq!(Lang::from_accept_language("fr, vi;q=0.5, en;q=0.4"), Some(Lang::Vi));
        assert_eq!(Lang::from_accept_language("fr"), None);
    }
}
