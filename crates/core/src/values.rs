//! Data elements and their values: the figures of a report that are not counted door to door
//! (health fees paid cashless, digital signatures issued, app installs…), entered per unit and
//! period.
//!
//! A value is a whole number: a count, or money in whole đồng. A percentage is never stored:
//! it is an indicator over two elements, so that a province's share is the sum of its
//! communes' numerators over the sum of their denominators.

use crate::error::Invalid;
use crate::period::{Period, PeriodKind};
use crate::text;
use crate::unit::AdminLevel;

/// Largest value accepted: a million billion (10¹⁵) đồng, far above any province's budget.
pub const VALUE_MAX: i64 = 1_000_000_000_000_000;

/// What an element counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ValueType {
    /// A whole number of things or people.
    Count,
    /// Money in whole đồng.
    Money,
}

impl ValueType {
    pub fn as_str(self) -> &'static str {
        match self {
            ValueType::Count => "count",
            ValueType::Money => "money",
        }
    }
    pub fn parse(s: &str) -> Result<ValueType, Invalid> {
        match s.trim() {
            "count" => Ok(ValueType::Count),
            "money" => Ok(ValueType::Money),
            other => Err(Invalid::field("value-type-invalid", "value_type").with_detail(other)),
        }
    }
}

/// How an element's values add up over time (up the tree they always add up).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Aggregation {
    /// A flow: a quarter is the sum of its months.
    Sum,
    /// A stock: a quarter is its latest month with a value.
    Last,
}

impl Aggregation {
    pub fn as_str(self) -> &'static str {
        match self {
            Aggregation::Sum => "sum",
            Aggregation::Last => "last",
        }
    }
    pub fn parse(s: &str) -> Result<Aggregation, Invalid> {
        match s.trim() {
            "sum" => Ok(Aggregation::Sum),
            "last" => Ok(Aggregation::Last),
            other => Err(Invalid::field("aggregation-invalid", "aggregation").with_detail(other)),
        }
    }
}

/// An element's code: 2–50 characters of `A-Z 0-9 _` (DHIS2's codes look the same).
pub fn parse_code(s: &str) -> Result<String, Invalid> {
    let t = s.trim();
    let ok =
        (2..=50).contains(&t.len()) && t.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_');
    if ok {
        Ok(t.to_owned())
    } else {
        Err(Invalid::field("element-code-invalid", "code").with_detail(t.chars().take(60).collect::<String>()))
    }
}

/// Parses a value as typed: digits, optionally grouped by thousands the Vietnamese way
/// (`255.600`), with spaces or commas (`255,600`, `255 600`). Never negative, never a
/// fraction.
pub fn parse_value(s: &str) -> Result<i64, Invalid> {
    let t = text::clean_line(s).unwrap_or_default();
    let bad = || Invalid::field("value-invalid", "value").with_detail(t.chars().take(30).collect::<String>());
    if t.is_empty() {
        return Err(Invalid::field("required", "value"));
    }
    let groups: Vec<&str> = t.split(['.', ',', ' ', '\u{a0}', '\u{202f}']).collect();
    let digits_only = |g: &str| !g.is_empty() && g.bytes().all(|b| b.is_ascii_digit());
    let grouped = groups.len() > 1
        && groups[0].len() <= 3
        && digits_only(groups[0])
        && groups[1..].iter().all(|g| g.len() == 3 && digits_only(g));
    if !(groups.len() == 1 && digits_only(&t) || grouped) {
        return Err(bad());
    }
    let v: i64 = groups.concat().parse().map_err(|_| bad())?;
    if v > VALUE_MAX {
        return Err(Invalid::field("value-too-large", "value").with_detail(t));
    }
    Ok(v)
}

/// An optional comment beside a value: one line, at most 500 characters.
pub fn parse_comment(s: Option<&str>) -> Result<Option<String>, Invalid> {
    match s {
        None => Ok(None),
        Some(s) => text::parse_line(s, "comment", 500),
    }
}

/// A data element.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Element {
    pub id: i64,
    pub code: String,
    pub name_vi: String,
    pub name_en: String,
    pub value_type: ValueType,
    pub aggregation: Aggregation,
    pub level: AdminLevel,
    pub period_kind: PeriodKind,
    pub active: bool,
}

impl Element {
    pub fn name(&self, english: bool) -> &str {
        if english { &self.name_en } else { &self.name_vi }
    }

    /// Whether a value may be entered for this period.
    pub fn check_period(&self, p: &Period) -> Result<(), Invalid> {
        if p.kind() == self.period_kind {
            Ok(())
        } else {
            Err(Invalid::field("value-period-kind", "period").with_detail(format!(
                "{} {} {}",
                self.code,
                p.id(),
                self.period_kind.as_str()
            )))
        }
    }

    /// Whether a value may be entered at a unit of this level.
    pub fn check_level(&self, level: Option<AdminLevel>, unit_code: &str) -> Result<(), Invalid> {
        if level == Some(self.level) {
            Ok(())
        } else {
            Err(Invalid::field("value-level", "orgUnit").with_detail(format!(
                "{} {} {}",
                self.code,
                unit_code,
                self.level.as_str()
            )))
        }
    }

    /// The value of a period from the figures of the entry periods inside it, given as
    /// (entry period, sum of values, number of units that entered one) in time order. `None`
    /// when nothing was entered (or the period is shorter than the entry period).
    pub fn combine(&self, p: &Period, entries: &[(Period, i64, i64)]) -> Option<i64> {
        let inside = entries.iter().filter(|(e, _, n)| *n > 0 && p.contains(e));
        match self.aggregation {
            Aggregation::Sum => inside.fold(None, |acc, (_, v, _)| Some(acc.unwrap_or(0) + v)),
            Aggregation::Last => inside.max_by_key(|(e, _, _)| *e).map(|(_, v, _)| *v),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_whole_and_may_be_grouped() {
        assert_eq!(parse_value("255600"), Ok(255_600));
        assert_eq!(parse_value("255.600"), Ok(255_600));
        assert_eq!(parse_value("12.000.000.000"), Ok(12_000_000_000));
        assert_eq!(parse_value("255,600"), Ok(255_600));
        assert_eq!(parse_value(" 1 300 000 "), Ok(1_300_000));
        assert_eq!(parse_value("0"), Ok(0));
        for bad in ["-5", "1.5", "12.34", "1,2345", "abc", "1e6", "١٢", "12..000", ".600"] {
            assert_eq!(parse_value(bad).unwrap_err().code, "value-invalid", "{bad}");
        }
        assert_eq!(parse_value("").unwrap_err().code, "required");
        assert_eq!(parse_value("9999999999999999999").unwrap_err().code, "value-invalid");
        assert_eq!(parse_value("2000000000000000").unwrap_err().code, "value-too-large");
    }

    #[test]
    fn codes() {
        assert!(parse_code("HEALTH_FEES_CASHLESS").is_ok());
        assert!(parse_code("health").is_err());
        assert!(parse_code("X").is_err());
    }

    fn element(aggregation: Aggregation) -> Element {
        Element {
            id: 1,
            code: "X".into(),
            name_vi: "x".into(),
            name_en: "x".into(),
            value_type: ValueType::Count,
            aggregation,
            level: AdminLevel::Commune,
            period_kind: PeriodKind::Monthly,
            active: true,
        }
    }

    #[test]
    fn a_flow_sums_and_a_stock_takes_the_latest() {
        let m = |s: &str| Period::parse(s).unwrap();
        let entries = [(m("202407"), 10, 2), (m("202408"), 0, 1), (m("202409"), 30, 3), (m("202410"), 5, 1)];
        let q3 = m("2024Q3");
        assert_eq!(element(Aggregation::Sum).combine(&q3, &entries), Some(40));
        assert_eq!(element(Aggregation::Last).combine(&q3, &entries), Some(30));
        assert_eq!(element(Aggregation::Last).combine(&m("202408"), &entries), Some(0), "a zero entered is a value");
        assert_eq!(element(Aggregation::Sum).combine(&m("2024Q1"), &entries), None);
        assert_eq!(element(Aggregation::Sum).combine(&m("2024"), &entries), Some(45));
    }
}
