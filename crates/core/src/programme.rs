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
    fn awards_and_scores() {
        assert_eq!(AwardLevel::parse("province"), Ok(AwardLevel::Province));
        assert_eq!(AwardLevel::parse("galaxy").unwrap_err().code, "award-level-invalid");
        assert_eq!(parse_score("reach", " 20 ", 25), Ok(20));
        assert_eq!(parse_score("reach", "26", 25).unwrap_err().detail.as_deref(), Some("reach: 26 / 25"));
        assert_eq!(parse_score("reach", "-1", 25).unwrap_err().code, "evaluation-score-invalid");
    }
}
