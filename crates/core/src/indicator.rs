//! Indicators: a numerator, and for a share a denominator, each a sum of terms read off the
//! roll-ups of a unit's subtree. A share is Σ numerator ÷ Σ denominator over the subtree —
//! never an average of the children's shares.

use crate::error::Invalid;

/// What a term of an indicator reads.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Term {
    /// A data element's figure for the period: `value:HEALTH_FEES_CASHLESS`.
    Value(String),
    /// A door-to-door figure: `figure:households`, `figure:households_visited`,
    /// `figure:residents`, `figure:youth_union` (today's), `figure:visits`,
    /// `figure:visits_met` (in the period).
    Figure(String),
    /// Subjects at a service's status or past it, today: `reached:vneid_l2:collected`.
    Reached(String, String),
    /// People at a service's status or past it who are of a part of the population, today:
    /// `reached:cashless:opened@group:social_security`, `reached:vneid_l2:activated@age:60+`.
    ReachedBy(String, String, Part),
    /// Residents of a part of the population, today: `figure:residents@group:social_security`.
    ResidentsBy(Part),
    /// Feedback in the period: `feedback:received`, `feedback:answered`, `feedback:on_time`.
    Feedback(String),
    /// Places of a kind accepting cashless payment on the period's last day:
    /// `places:market`.
    Places(crate::place::PlaceKind),
    /// Places of a kind collecting fees online on the period's last day: `online:school`.
    Online(crate::place::PlaceKind),
    /// Programme figures (see [`PROGRAMME`]): creative models by status today
    /// (`programme:models_running`), events of a kind starting in the period and the
    /// citizens they served (`programme:trainings`, `programme:served`), team members'
    /// attendances in the period, active members and those trained in the twelve months to
    /// the period's end (`programme:members_trained` ÷ `programme:members_active`), places on
    /// digital streets and heritage routes today and their plaques' scans in the period
    /// (`programme:qr_scans`).
    Programme(String),
}

/// Programme figures a term may name, and whether each counts within a period.
pub const PROGRAMME: [(&str, bool); 16] = [
    ("models_proposed", false),
    ("models_running", false),
    ("models_evaluated", false),
    ("models_stopped", false),
    ("trainings", true),
    ("contests", true),
    ("seminars", true),
    ("help_counters", true),
    ("campaigns", true),
    ("events", true),
    ("served", true),
    ("attendances", true),
    ("members_active", false),
    ("members_trained", false),
    ("places_on_routes", false),
    ("qr_scans", true),
];

/// A part of the population a person figure is read for: by sex, by age band (age reached
/// this year), or by resident group.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Part {
    /// `sex:f` or `sex:m`.
    Sex(&'static str),
    /// `age:15-59`, `age:60+` (lowest and highest age, inclusive).
    Age(i32, i32),
    /// `group:social_security`.
    Group(String),
}

impl Part {
    pub fn parse(s: &str) -> Option<Part> {
        let (kind, v) = s.split_once(':')?;
        match kind {
            "sex" => match v {
                "f" => Some(Part::Sex("f")),
                "m" => Some(Part::Sex("m")),
                _ => None,
            },
            "age" => {
                let (lo, hi) = match v.strip_suffix('+') {
                    Some(lo) => (lo.parse().ok()?, i32::MAX),
                    None => {
                        let (lo, hi) = v.split_once('-')?;
                        (lo.parse().ok()?, hi.parse().ok()?)
                    }
                };
                ((0..=150).contains(&lo) && lo <= hi).then_some(Part::Age(lo, hi))
            }
            "group" if !v.is_empty() && v.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') => {
                Some(Part::Group(v.to_owned()))
            }
            _ => None,
        }
    }

    /// Whether a counted part of the roll-ups (`sex:f`, `born:1958`, `group:2`) belongs to
    /// this one, in `year`, with the group's id looked up.
    pub fn holds(&self, counted: &str, year: i32, group_id: Option<i64>) -> bool {
        match self {
            Part::Sex(s) => counted.strip_prefix("sex:") == Some(s),
            Part::Age(lo, hi) => counted
                .strip_prefix("born:")
                .and_then(|y| y.parse::<i32>().ok())
                .is_some_and(|born| (*lo..=*hi).contains(&(year - born))),
            Part::Group(_) => {
                group_id.is_some_and(|g| counted.strip_prefix("group:").and_then(|x| x.parse::<i64>().ok()) == Some(g))
            }
        }
    }
}

impl std::fmt::Display for Part {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Part::Sex(s) => write!(f, "sex:{s}"),
            Part::Age(lo, i32::MAX) => write!(f, "age:{lo}+"),
            Part::Age(lo, hi) => write!(f, "age:{lo}-{hi}"),
            Part::Group(g) => write!(f, "group:{g}"),
        }
    }
}

/// Door-to-door figures a term may name, and whether each counts within a period (the
/// others are today's state).
pub const FIGURES: [(&str, bool); 6] = [
    ("households", false),
    ("households_visited", false),
    ("residents", false),
    ("youth_union", false),
    ("visits", true),
    ("visits_met", true),
];

/// Feedback counts a term may name.
pub const FEEDBACK: [&str; 3] = ["received", "answered", "on_time"];

impl Term {
    pub fn parse(s: &str) -> Result<Term, Invalid> {
        let t = s.trim();
        let bad = || {
            Invalid::field("indicator-term-invalid", "numerator").with_detail(t.chars().take(80).collect::<String>())
        };
        let word = |w: &str| !w.is_empty() && w.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
        if let Some((base, part)) = t.split_once('@') {
            let part = Part::parse(part.trim()).ok_or_else(bad)?;
            return match base.trim().split(':').collect::<Vec<_>>()[..] {
                ["reached", service, status] if word(service) && word(status) => {
                    Ok(Term::ReachedBy(service.to_owned(), status.to_owned(), part))
                }
                ["figure", "residents"] => Ok(Term::ResidentsBy(part)),
                _ => Err(bad()),
            };
        }
        let (kind, rest) = t.split_once(':').ok_or_else(bad)?;
        match kind {
            "value" if word(rest) => Ok(Term::Value(rest.to_owned())),
            "figure" if FIGURES.iter().any(|(f, _)| *f == rest) => Ok(Term::Figure(rest.to_owned())),
            "reached" => match rest.split_once(':') {
                Some((service, status)) if word(service) && word(status) => {
                    Ok(Term::Reached(service.to_owned(), status.to_owned()))
                }
                _ => Err(bad()),
            },
            "feedback" if FEEDBACK.contains(&rest) => Ok(Term::Feedback(rest.to_owned())),
            "programme" if PROGRAMME.iter().any(|(f, _)| *f == rest) => Ok(Term::Programme(rest.to_owned())),
            "places" | "online" => {
                let k = crate::place::PlaceKind::ALL.into_iter().find(|k| k.as_str() == rest).ok_or_else(bad)?;
                Ok(if kind == "places" { Term::Places(k) } else { Term::Online(k) })
            }
            _ => Err(bad()),
        }
    }

    /// Whether the term is today's state rather than a count within the period.
    pub fn is_current_state(&self) -> bool {
        match self {
            Term::Reached(..) | Term::ReachedBy(..) | Term::ResidentsBy(_) => true,
            Term::Figure(f) => FIGURES.iter().any(|(n, in_period)| n == f && !in_period),
            Term::Programme(f) => PROGRAMME.iter().any(|(n, in_period)| n == f && !in_period),
            Term::Value(_) | Term::Feedback(_) | Term::Places(_) | Term::Online(_) => false,
        }
    }
}

impl std::fmt::Display for Term {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Term::Value(c) => write!(f, "value:{c}"),
            Term::Figure(c) => write!(f, "figure:{c}"),
            Term::Reached(s, st) => write!(f, "reached:{s}:{st}"),
            Term::ReachedBy(s, st, p) => write!(f, "reached:{s}:{st}@{p}"),
            Term::ResidentsBy(p) => write!(f, "figure:residents@{p}"),
            Term::Feedback(c) => write!(f, "feedback:{c}"),
            Term::Places(k) => write!(f, "places:{}", k.as_str()),
            Term::Online(k) => write!(f, "online:{}", k.as_str()),
            Term::Programme(c) => write!(f, "programme:{c}"),
        }
    }
}

/// Splits a sum at its `+` signs, but for the `+` that ends an open age band
/// (`…@age:60+`): that one belongs to its term when nothing but a space, another `+` or the
/// end follows it.
fn split_terms(s: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    for (i, c) in s.char_indices() {
        if c != '+' {
            continue;
        }
        let token = &s[start..i];
        let open_band = token.rfind("@age:").is_some_and(|at| {
            let digits = &token[at + 5..];
            !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit())
        });
        let next = s[i + 1..].chars().next();
        if open_band && next.is_none_or(|n| n.is_whitespace() || n == '+') {
            continue;
        }
        out.push(token);
        start = i + 1;
    }
    out.push(&s[start..]);
    out
}

/// A sum of terms: `value:A + value:B`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expr(pub Vec<Term>);

impl Expr {
    pub fn parse(s: &str, field: &'static str) -> Result<Expr, Invalid> {
        let terms: Result<Vec<Term>, Invalid> = split_terms(s)
            .into_iter()
            .map(|t| Term::parse(t).map_err(|e| Invalid { field: Some(field), ..e }))
            .collect();
        let terms = terms?;
        if terms.is_empty() {
            return Err(Invalid::field("required", field));
        }
        Ok(Expr(terms))
    }

    /// The sum, given each term's figure (`None`: nothing counted; the sum is `None` only
    /// when every term is).
    pub fn sum(&self, lookup: &impl Fn(&Term) -> Option<i64>) -> Option<i64> {
        self.0.iter().filter_map(lookup).fold(None, |acc, v| Some(acc.unwrap_or(0) + v))
    }
}

impl std::fmt::Display for Expr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let parts: Vec<String> = self.0.iter().map(Term::to_string).collect();
        f.write_str(&parts.join(" + "))
    }
}

/// What an indicator measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IndicatorKind {
    Count,
    /// Whole đồng.
    Money,
    /// Numerator ÷ denominator; targets in hundredths of a percent.
    Percent,
}

impl IndicatorKind {
    pub fn as_str(self) -> &'static str {
        match self {
            IndicatorKind::Count => "count",
            IndicatorKind::Money => "money",
            IndicatorKind::Percent => "percent",
        }
    }
    pub fn parse(s: &str) -> Result<IndicatorKind, Invalid> {
        match s.trim() {
            "count" => Ok(IndicatorKind::Count),
            "money" => Ok(IndicatorKind::Money),
            "percent" => Ok(IndicatorKind::Percent),
            other => Err(Invalid::field("indicator-kind-invalid", "kind").with_detail(other)),
        }
    }
}

/// The section of the periodic report an indicator belongs to. (The report's teams section
/// is counted from the teams, not from indicators.)
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Section {
    Outreach,
    Identity,
    Cashless,
    Feedback,
    /// Creative models, trainings and events, members trained, the plaques' scans.
    Programme,
}

impl Section {
    pub const ALL: [Section; 5] =
        [Section::Outreach, Section::Identity, Section::Cashless, Section::Feedback, Section::Programme];

    pub fn as_str(self) -> &'static str {
        match self {
            Section::Outreach => "outreach",
            Section::Identity => "identity",
            Section::Cashless => "cashless",
            Section::Feedback => "feedback",
            Section::Programme => "programme",
        }
    }
    /// Parses a section's code; empty is `outreach`.
    pub fn parse(s: &str) -> Result<Section, Invalid> {
        match s.trim() {
            "" => Ok(Section::Outreach),
            t => Section::ALL
                .into_iter()
                .find(|x| x.as_str() == t)
                .ok_or_else(|| Invalid::field("indicator-section-invalid", "section").with_detail(t)),
        }
    }
}

/// An indicator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Indicator {
    pub id: i64,
    pub code: String,
    pub name_vi: String,
    pub name_en: String,
    pub kind: IndicatorKind,
    pub numerator: Expr,
    pub denominator: Option<Expr>,
    pub section: Section,
    pub active: bool,
}

/// An indicator's figure for a unit and period.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Measured {
    pub numerator: Option<i64>,
    pub denominator: Option<i64>,
    /// The count or money, or the share in percent; `None` when nothing was counted (or a
    /// share's denominator is zero).
    pub value: Option<f64>,
}

impl Indicator {
    pub fn name(&self, english: bool) -> &str {
        if english { &self.name_en } else { &self.name_vi }
    }

    /// Checks that a share has a denominator and a count does not.
    pub fn check_shape(kind: IndicatorKind, denominator: Option<&Expr>) -> Result<(), Invalid> {
        match (kind, denominator) {
            (IndicatorKind::Percent, None) => Err(Invalid::field("required", "denominator")),
            (IndicatorKind::Count | IndicatorKind::Money, Some(_)) => {
                Err(Invalid::field("indicator-denominator-unexpected", "denominator").with_detail(kind.as_str()))
            }
            _ => Ok(()),
        }
    }

    /// Every term, numerator's then denominator's.
    pub fn terms(&self) -> impl Iterator<Item = &Term> {
        self.numerator.0.iter().chain(self.denominator.iter().flat_map(|d| d.0.iter()))
    }

    /// Whether any term is today's state, not a count within the period.
    pub fn is_current_state(&self) -> bool {
        self.terms().any(Term::is_current_state)
    }

    pub fn measure(&self, lookup: &impl Fn(&Term) -> Option<i64>) -> Measured {
        let numerator = self.numerator.sum(lookup);
        match &self.denominator {
            None => Measured { numerator, denominator: None, value: numerator.map(|n| n as f64) },
            Some(d) => {
                let denominator = d.sum(lookup);
                let value = match (numerator, denominator) {
                    (Some(n), Some(d)) if d > 0 => Some(n as f64 * 100.0 / d as f64),
                    _ => None,
                };
                Measured { numerator, denominator, value }
            }
        }
    }

    /// The share of the target reached, in percent (a target of a share in hundredths).
    pub fn achievement(&self, m: &Measured, target: i64) -> Option<f64> {
        let target = match self.kind {
            IndicatorKind::Percent => target as f64 / 100.0,
            _ => target as f64,
        };
        match m.value {
            Some(v) if target > 0.0 => Some(v * 100.0 / target),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    #[test]
    fn terms_parse_and_print_back() {
        for s in [
            "value:HEALTH_FEES_CASHLESS",
            "figure:households_visited",
            "reached:vneid_l2:activated",
            "feedback:on_time",
            "reached:cashless:opened@group:social_security",
            "reached:vneid_l2:activated@age:60+",
            "reached:vneid_l2:activated@age:15-59",
            "figure:residents@sex:f",
        ] {
            assert_eq!(Term::parse(s).unwrap().to_string(), s);
            assert!(Term::parse(s).unwrap().is_current_state() || !s.contains('@'));
        }
        for bad in
            ["reached:x@sex:f", "figure:visits@sex:f", "reached:a:b@sex:x", "reached:a:b@age:60-15", "value:A@group:x"]
        {
            assert_eq!(Term::parse(bad).unwrap_err().code, "indicator-term-invalid", "{bad}");
        }
        let elderly = Part::parse("age:60+").unwrap();
        assert!(elderly.holds("born:1960", 2026, None) && !elderly.holds("born:1967", 2026, None));
        assert!(!elderly.holds("sex:f", 2026, None));
        assert!(Part::parse("group:social_security").unwrap().holds("group:2", 2026, Some(2)));
        assert!(!Part::parse("group:social_security").unwrap().holds("group:2", 2026, None));
        for bad in [
            "value:",
            "figure:nope",
            "reached:x",
            "feedback:late",
            "places:bar",
            "programme:parades",
            "households",
            "value:a b",
            "sql:1; drop",
        ] {
            assert_eq!(Term::parse(bad).unwrap_err().code, "indicator-term-invalid", "{bad}");
        }
        let e = Expr::parse("reached:a:b@age:60+ + reached:a:b@age:15-59+reached:c:d@age:60+", "numerator").unwrap();
        assert_eq!(e.to_string(), "reached:a:b@age:60+ + reached:a:b@age:15-59 + reached:c:d@age:60+");
        assert_eq!(Expr::parse(&e.to_string(), "numerator").unwrap(), e, "reads back what it writes");
        let e = Expr::parse("value:A + value:B+value:C", "numerator").unwrap();
        assert_eq!(e.to_string(), "value:A + value:B + value:C");
        assert!(Expr::parse("value:A + ", "numerator").is_err());
    }

    /// Two communes with different shares: the province's is the sum of the parts over the
    /// sum of the wholes, not the mean of the two shares.
    #[test]
    fn a_share_is_summed_from_its_parts() {
        let i = Indicator {
            id: 1,
            code: "S".into(),
            name_vi: "s".into(),
            name_en: "s".into(),
            kind: IndicatorKind::Percent,
            numerator: Expr::parse("value:CASHLESS", "numerator").unwrap(),
            denominator: Some(Expr::parse("value:TOTAL", "denominator").unwrap()),
            section: Section::Cashless,
            active: true,
        };
        let communes = [(10, 100), (90, 1_000)];
        let mean = communes.iter().map(|(n, d)| *n as f64 / *d as f64 * 100.0).sum::<f64>() / 2.0;
        let figures: HashMap<String, i64> = HashMap::from([
            ("CASHLESS".into(), communes.iter().map(|c| c.0).sum()),
            ("TOTAL".into(), communes.iter().map(|c| c.1).sum()),
        ]);
        let lookup = |t: &Term| match t {
            Term::Value(c) => figures.get(c).copied(),
            _ => None,
        };
        let m = i.measure(&lookup);
        assert_eq!((m.numerator, m.denominator), (Some(100), Some(1100)));
        assert!((m.value.unwrap() - 100.0 / 11.0).abs() < 1e-9);
        assert!((mean - 9.5).abs() < 1e-9 && (m.value.unwrap() - mean).abs() > 0.4);
        assert!((i.achievement(&m, 1000).unwrap() - 90.909).abs() < 0.01, "9.09 % of a 10 % target");
        assert_eq!(i.measure(&|_| None).value, None);
        assert_eq!(
            i.measure(&|t| if matches!(t, Term::Value(c) if c == "TOTAL") { Some(0) } else { Some(5) }).value,
            None
        );
    }
}
