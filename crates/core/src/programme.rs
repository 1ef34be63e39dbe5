//! Programme management: the creative models (mô hình sáng tạo) units run — a digital
//! street, digitised relics, a contest, a seminar, a help counter — as typed and checked.

use chrono::NaiveDate;

use crate::Invalid;
use crate::calendar::parse_day;
use crate::text::{parse_line, parse_text, parse_url};

/// Where a model stands. Proposed → running → evaluated; any but an evaluated one may stop.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ModelStatus {
    Proposed,
    Running,
    Evaluated,
    Stopped,
}

impl ModelStatus {
    pub const ALL: [ModelStatus; 4] =
        [ModelStatus::Proposed, ModelStatus::Running, ModelStatus::Evaluated, ModelStatus::Stopped];

    pub fn as_str(self) -> &'static str {
        match self {
            ModelStatus::Proposed => "proposed",
            ModelStatus::Running => "running",
            ModelStatus::Evaluated => "evaluated",
            ModelStatus::Stopped => "stopped",
        }
    }

    pub fn parse(s: &str) -> Result<Self, Invalid> {
        Self::ALL
            .into_iter()
            .find(|x| x.as_str() == s.trim())
            .ok_or_else(|| Invalid::field("model-status-invalid", "status").with_detail(s.trim()))
    }

    /// The statuses a model may move to from this one.
    pub fn next(self) -> &'static [ModelStatus] {
        match self {
            ModelStatus::Proposed => &[ModelStatus::Running, ModelStatus::Stopped],
            ModelStatus::Running => &[ModelStatus::Evaluated, ModelStatus::Stopped],
            ModelStatus::Evaluated | ModelStatus::Stopped => &[],
        }
    }

    /// Checks a move; refused with both statuses named.
    pub fn move_to(self, to: ModelStatus) -> Result<ModelStatus, Invalid> {
        if self.next().contains(&to) {
            Ok(to)
        } else {
            Err(Invalid::field("model-status-move", "status").with_detail(format!(
                "{} → {}",
                self.as_str(),
                to.as_str()
            )))
        }
    }
}

/// Most partners a model names, links it lists, characters of its description.
pub const MAX_PARTNERS: usize = 30;
pub const MAX_LINKS: usize = 10;
pub const DESCRIPTION_MAX: usize = 5000;

/// A model as typed, before its unit and kind are looked up.
#[derive(Debug, Clone, Default)]
pub struct ModelForm<'a> {
    pub name: &'a str,
    pub description: &'a str,
    pub started_on: &'a str,
    /// One a line.
    pub partners: &'a str,
    /// (measure code, value as typed); an empty value is no figure.
    pub outcomes: Vec<(&'a str, &'a str)>,
    /// (address, title).
    pub links: Vec<(&'a str, &'a str)>,
}

/// A model's fields, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelFields {
    pub name: String,
    pub description: String,
    pub started_on: Option<NaiveDate>,
    pub partners: Vec<String>,
    /// (measure code, value).
    pub outcomes: Vec<(String, i64)>,
    /// (address, title).
    pub links: Vec<(String, String)>,
}

impl ModelFields {
    /// Checks what was typed: a name, an optional description and start day, partners one a
    /// line, figures as whole numbers of 0 or more (each measure once), links as web
    /// addresses.
    pub fn parse(f: &ModelForm<'_>) -> Result<Self, Invalid> {
        let name = parse_line(f.name, "name", 200)?.ok_or(Invalid::field("required", "name"))?;
        let description = if f.description.trim().is_empty() {
            String::new()
        } else {
            parse_text(f.description, "description", DESCRIPTION_MAX)?
        };
        let started_on = match f.started_on.trim() {
            "" => None,
            s => Some(parse_day(s, "started_on")?),
        };
        let mut partners = Vec::new();
        for line in f.partners.lines() {
            if let Some(p) = parse_line(line, "partners", 200)? {
                partners.push(p);
            }
        }
        if partners.len() > MAX_PARTNERS {
            return Err(Invalid::field("too-many-items", "partners").with_detail(MAX_PARTNERS.to_string()));
        }
        let mut outcomes: Vec<(String, i64)> = Vec::new();
        for (code, value) in &f.outcomes {
            let v = value.trim().replace(['.', ','], "");
            if v.is_empty() {
                continue;
            }
            let n: i64 = v.parse().ok().filter(|n| (0..=1_000_000_000_000).contains(n)).ok_or_else(|| {
                Invalid::field("model-outcome-invalid", "outcomes").with_detail(format!("{code}: {value}"))
            })?;
            let code = code.trim().to_owned();
            if outcomes.iter().any(|(c, _)| *c == code) {
                return Err(Invalid::field("model-outcome-twice", "outcomes").with_detail(code));
            }
            outcomes.push((code, n));
        }
        let mut links = Vec::new();
        for (url, title) in &f.links {
            let Some(url) = parse_url(url, "links")? else { continue };
            let title = parse_line(title, "links", 200)?.unwrap_or_default();
            links.push((url, title));
        }
        if links.len() > MAX_LINKS {
            return Err(Invalid::field("too-many-items", "links").with_detail(MAX_LINKS.to_string()));
        }
        Ok(ModelFields { name, description, started_on, partners, outcomes, links })
    }
}

/// What kind of event a unit holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EventKind {
    Training,
    Contest,
    Seminar,
    HelpCounter,
    Campaign,
}

impl EventKind {
    pub const ALL: [EventKind; 5] =
        [EventKind::Training, EventKind::Contest, EventKind::Seminar, EventKind::HelpCounter, EventKind::Campaign];

    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::Training => "training",
            EventKind::Contest => "contest",
            EventKind::Seminar => "seminar",
            EventKind::HelpCounter => "help_counter",
            EventKind::Campaign => "campaign",
        }
    }

    pub fn parse(s: &str) -> Result<Self, Invalid> {
        Self::ALL.into_iter().find(|x| x.as_str() == s.trim()).ok_or_else(|| {
            Invalid::field("event-kind-invalid", "kind").with_detail(s.trim().chars().take(30).collect::<String>())
        })
    }
}

/// The days of the week, as a help counter's opening days name them.
pub const WEEKDAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

/// An event as typed.
#[derive(Debug, Clone, Default)]
pub struct EventForm<'a> {
    pub kind: &'a str,
    pub title: &'a str,
    pub topic: &'a str,
    pub place: &'a str,
    pub organiser: &'a str,
    pub starts_on: &'a str,
    pub ends_on: &'a str,
    /// Weekdays, separated by commas or spaces.
    pub opening_days: &'a str,
    pub citizens_served: &'a str,
    /// Male, female; under 18, 18–59, 60 and over: empty when not known.
    pub by_sex: [&'a str; 2],
    pub by_age: [&'a str; 3],
}

/// An event's fields, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventFields {
    pub kind: EventKind,
    pub title: String,
    pub topic: String,
    pub place: String,
    pub organiser: String,
    pub starts_on: NaiveDate,
    pub ends_on: Option<NaiveDate>,
    pub opening_days: Vec<&'static str>,
    pub citizens_served: i64,
    pub by_sex: [Option<i64>; 2],
    pub by_age: [Option<i64>; 3],
}

fn count(typed: &str, field: &'static str) -> Result<Option<i64>, Invalid> {
    let t = typed.trim().replace(['.', ','], "");
    if t.is_empty() {
        return Ok(None);
    }
    t.parse::<i64>().ok().filter(|n| (0..=100_000_000).contains(n)).map(Some).ok_or_else(|| {
        Invalid::field("count-invalid", field).with_detail(typed.trim().chars().take(20).collect::<String>())
    })
}

impl EventFields {
    /// Checks what was typed: a kind, a title, a first day (and a last one not before it),
    /// opening days among mon … sun, counts of citizens served whose parts by sex, and by age
    /// band, add up to no more than the whole.
    pub fn parse(f: &EventForm<'_>) -> Result<Self, Invalid> {
        let kind = EventKind::parse(f.kind)?;
        let title = parse_line(f.title, "title", 200)?.ok_or(Invalid::field("required", "title"))?;
        let line = |s: &str, field: &'static str| parse_line(s, field, 200).map(Option::unwrap_or_default);
        if f.starts_on.trim().is_empty() {
            return Err(Invalid::field("required", "starts_on"));
        }
        let starts_on = parse_day(f.starts_on, "starts_on")?;
        let ends_on = match f.ends_on.trim() {
            "" => None,
            s => Some(parse_day(s, "ends_on")?),
        };
        if ends_on.is_some_and(|e| e < starts_on) {
            return Err(Invalid::field("event-dates-order", "ends_on"));
        }
        let mut opening_days = Vec::new();
        for d in f.opening_days.split([',', ' ', ';']).map(str::trim).filter(|d| !d.is_empty()) {
            let day = WEEKDAYS.into_iter().find(|w| w.eq_ignore_ascii_case(d)).ok_or_else(|| {
                Invalid::field("weekday-invalid", "opening_days").with_detail(d.chars().take(10).collect::<String>())
            })?;
            if !opening_days.contains(&day) {
                opening_days.push(day);
            }
        }
        opening_days.sort_by_key(|d| WEEKDAYS.iter().position(|w| w == d));
        let citizens_served = count(f.citizens_served, "citizens_served")?.unwrap_or(0);
        let by_sex = [count(f.by_sex[0], "served_male")?, count(f.by_sex[1], "served_female")?];
        let by_age = [
            count(f.by_age[0], "served_under_18")?,
            count(f.by_age[1], "served_18_59")?,
            count(f.by_age[2], "served_60_plus")?,
        ];
        for (parts, field) in [
            (by_sex.iter().flatten().sum::<i64>(), "served_male"),
            (by_age.iter().flatten().sum::<i64>(), "served_under_18"),
        ] {
            if parts > citizens_served {
                return Err(Invalid::field("event-served-parts", field).with_detail(citizens_served.to_string()));
            }
        }
        Ok(EventFields {
            kind,
            title,
            topic: line(f.topic, "topic")?,
            place: line(f.place, "place")?,
            organiser: line(f.organiser, "organiser")?,
            starts_on,
            ends_on,
            opening_days,
            citizens_served,
            by_sex,
            by_age,
        })
    }
}

/// The level of an award.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AwardLevel {
    Commune,
    District,
    Province,
    National,
}

impl AwardLevel {
    pub const ALL: [AwardLevel; 4] =
        [AwardLevel::Commune, AwardLevel::District, AwardLevel::Province, AwardLevel::National];

    pub fn as_str(self) -> &'static str {
        match self {
            AwardLevel::Commune => "commune",
            AwardLevel::District => "district",
            AwardLevel::Province => "province",
            AwardLevel::National => "national",
        }
    }

    pub fn parse(s: &str) -> Result<Self, Invalid> {
        Self::ALL.into_iter().find(|x| x.as_str() == s.trim()).ok_or_else(|| {
            Invalid::field("award-level-invalid", "level").with_detail(s.trim().chars().take(30).collect::<String>())
        })
    }
}

/// What a place on a digital street or a heritage route is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PlaceKind {
    Shop,
    MarketStall,
    Eatery,
    Relic,
    PublicService,
    Other,
}

impl PlaceKind {
    pub const ALL: [PlaceKind; 6] = [
        PlaceKind::Shop,
        PlaceKind::MarketStall,
        PlaceKind::Eatery,
        PlaceKind::Relic,
        PlaceKind::PublicService,
        PlaceKind::Other,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            PlaceKind::Shop => "shop",
            PlaceKind::MarketStall => "market_stall",
            PlaceKind::Eatery => "eatery",
            PlaceKind::Relic => "relic",
            PlaceKind::PublicService => "public_service",
            PlaceKind::Other => "other",
        }
    }

    pub fn parse(s: &str) -> Result<Self, Invalid> {
        Self::ALL.into_iter().find(|x| x.as_str() == s.trim()).ok_or_else(|| {
            Invalid::field("route-place-kind-invalid", "kind")
                .with_detail(s.trim().chars().take(30).collect::<String>())
        })
    }
}

/// A place of a route as typed.
#[derive(Debug, Clone, Default)]
pub struct PlaceForm<'a> {
    pub kind: &'a str,
    pub name: &'a str,
    pub address: &'a str,
    pub description: &'a str,
    pub history: &'a str,
    /// As people say it: "7:00–21:00 hằng ngày", "Thứ Hai–Thứ Bảy 8:00–17:00".
    pub opening_hours: &'a str,
    pub cashless: bool,
    /// How one pays without cash: "VietQR, thẻ ngân hàng, ví MoMo".
    pub cashless_how: &'a str,
}

/// A place of a route, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlaceFields {
    pub kind: PlaceKind,
    pub name: String,
    pub address: String,
    pub description: String,
    pub history: String,
    pub opening_hours: String,
    pub cashless: bool,
    pub cashless_how: String,
}

impl PlaceFields {
    /// Checks what was typed: a kind and a name; an address, opening hours and how one pays
    /// on a line each; a description and a history as text. Saying how one pays without cash
    /// means it is accepted.
    pub fn parse(f: &PlaceForm<'_>) -> Result<Self, Invalid> {
        let kind = PlaceKind::parse(f.kind)?;
        let name = parse_line(f.name, "name", 200)?.ok_or(Invalid::field("required", "name"))?;
        let text = |s: &str, field: &'static str| -> Result<String, Invalid> {
            if s.trim().is_empty() { Ok(String::new()) } else { parse_text(s, field, DESCRIPTION_MAX) }
        };
        let cashless_how = parse_line(f.cashless_how, "cashless_how", 200)?.unwrap_or_default();
        Ok(PlaceFields {
            kind,
            name,
            address: parse_line(f.address, "address", 300)?.unwrap_or_default(),
            description: text(f.description, "description")?,
            history: text(f.history, "history")?,
            opening_hours: parse_line(f.opening_hours, "opening_hours", 200)?.unwrap_or_default(),
            cashless: f.cashless || !cashless_how.is_empty(),
            cashless_how,
        })
    }
}

/// The letters of a place's short code: no vowels (no words), no look-alikes (0/o, 1/l/i).
pub const PLACE_CODE_LETTERS: &[u8] = b"23456789bcdfghjkmnpqrstvwxz";

/// Whether `s` could be a place's short code (6 of [`PLACE_CODE_LETTERS`]).
pub fn is_place_code(s: &str) -> bool {
    s.len() == 6 && s.bytes().all(|b| PLACE_CODE_LETTERS.contains(&b))
}

/// A score as typed for a criterion: a whole number from 0 to the criterion's maximum.
pub fn parse_score(code: &str, typed: &str, max: i32) -> Result<i32, Invalid> {
    typed.trim().parse::<i32>().ok().filter(|v| (0..=max).contains(v)).ok_or_else(|| {
        Invalid::field("evaluation-score-invalid", "scores").with_detail(format!("{code}: {} / {max}", typed.trim()))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn places_need_a_kind_and_a_name_and_saying_how_one_pays_means_cashless() {
        let f = PlaceForm { kind: "relic", name: " Đình Long Hựu  ", cashless_how: "VietQR", ..Default::default() };
        let p = PlaceFields::parse(&f).unwrap();
        assert_eq!((p.kind, p.name.as_str(), p.cashless), (PlaceKind::Relic, "Đình Long Hựu", true));
        let bad = PlaceForm { kind: "castle", name: "x", ..Default::default() };
        assert_eq!(PlaceFields::parse(&bad).unwrap_err().code, "route-place-kind-invalid");
        let unnamed = PlaceForm { kind: "shop", name: " ", ..Default::default() };
        assert_eq!(PlaceFields::parse(&unnamed).unwrap_err().code, "required");
        assert!(is_place_code("k3x9bz") && !is_place_code("k3x9b") && !is_place_code("k3x9ba"));
    }

    #[test]
    fn statuses_move_forward_or_stop() {
        use ModelStatus::*;
        assert_eq!(Proposed.move_to(Running), Ok(Running));
        assert_eq!(Running.move_to(Evaluated), Ok(Evaluated));
        assert_eq!(Running.move_to(Stopped), Ok(Stopped));
        assert_eq!(Proposed.move_to(Evaluated).unwrap_err().code, "model-status-move");
        assert_eq!(Evaluated.move_to(Stopped).unwrap_err().code, "model-status-move");
        assert_eq!(Stopped.move_to(Running).unwrap_err().code, "model-status-move");
        assert_eq!(ModelStatus::parse(" running "), Ok(Running));
        assert_eq!(ModelStatus::parse("done").unwrap_err().code, "model-status-invalid");
    }

    #[test]
    fn fields_are_checked() {
        let f = ModelForm {
            name: "  Tuyến phố số Cần Giuộc 🏮 ",
            description: "Gắn mã QR\r\ncho cửa hàng",
            started_on: "15/03/2024",
            partners: "Viettel Long An\n\n Đoàn xã ",
            outcomes: vec![("qr_plaques", "1.200"), ("people_served", "")],
            links: vec![("https://example.org/pho-so", "Bài báo"), ("", "")],
        };
        let m = ModelFields::parse(&f).unwrap();
        assert_eq!(m.name, "Tuyến phố số Cần Giuộc 🏮");
        assert_eq!(m.description, "Gắn mã QR\ncho cửa hàng");
        assert_eq!(m.started_on, NaiveDate::from_ymd_opt(2024, 3, 15));
        assert_eq!(m.partners, ["Viettel Long An", "Đoàn xã"]);
        assert_eq!(m.outcomes, [("qr_plaques".to_owned(), 1200)]);
        assert_eq!(m.links, [("https://example.org/pho-so".to_owned(), "Bài báo".to_owned())]);

        let bad = |f: ModelForm| ModelFields::parse(&f).unwrap_err().code;
        assert_eq!(bad(ModelForm { name: " ", ..Default::default() }), "required");
        assert_eq!(
            bad(ModelForm { name: "x", outcomes: vec![("qr_plaques", "-3")], ..Default::default() }),
            "model-outcome-invalid"
        );
        assert_eq!(
            bad(ModelForm {
                name: "x",
                outcomes: vec![("qr_plaques", "1"), ("qr_plaques", "2")],
                ..Default::default()
            }),
            "model-outcome-twice"
        );
        assert_eq!(
            bad(ModelForm { name: "x", links: vec![("javascript:alert(1)", "")], ..Default::default() }),
            "url-invalid"
        );
        assert_eq!(bad(ModelForm { name: "x", started_on: "2024-13-01", ..Default::default() }), "date-invalid");
    }

    #[test]
    fn events_are_checked() {
        let f = EventForm {
            kind: "help_counter",
            title: " Quầy thanh niên ",
            starts_on: "2025-03-01",
            opening_days: "Sat, mon,sat",
            citizens_served: "1.200",
            by_sex: ["500", "700"],
            by_age: ["", "900", "300"],
            ..Default::default()
        };
        let e = EventFields::parse(&f).unwrap();
        assert_eq!((e.title.as_str(), e.citizens_served), ("Quầy thanh niên", 1200));
        assert_eq!(e.opening_days, ["mon", "sat"]);
        assert_eq!(e.by_age, [None, Some(900), Some(300)]);
        let bad = |f: EventForm| EventFields::parse(&f).unwrap_err().code;
        assert_eq!(bad(EventForm { by_sex: ["800", "700"], ..f.clone() }), "event-served-parts");
        assert_eq!(bad(EventForm { ends_on: "2025-02-01", ..f.clone() }), "event-dates-order");
        assert_eq!(bad(EventForm { opening_days: "funday", ..f.clone() }), "weekday-invalid");
        assert_eq!(bad(EventForm { kind: "party", ..f.clone() }), "event-kind-invalid");
        assert_eq!(bad(EventForm { citizens_served: "-4", ..f.clone() }), "count-invalid");
        assert_eq!(bad(EventForm { starts_on: "", ..f }), "required");
    }

    #[test]
    fn awards_and_scores() {
        assert_eq!(AwardLevel::parse("province"), Ok(AwardLevel::Province));
        assert_eq!(AwardLevel::parse("galaxy").unwrap_err().code, "award-level-invalid");
        assert_eq!(parse_score("reach", " 20 ", 25), Ok(20));
        assert_eq!(parse_score("reach", "26", 25).unwrap_err().detail.as_deref(), Some("reach: 26 / 25"));
        assert_eq!(parse_score("reach", "-1", 25).unwrap_err().code, "evaluation-score-invalid");
    }
}
