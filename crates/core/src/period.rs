//! Reporting periods, named as DHIS2 names them.
//!
//! `2024` (a year), `2024S1` (a half: January–June), `2024Q3` (a quarter), `202410` (a month),
//! `2024W41` (an ISO week, Monday to Sunday, belonging to the year of its Thursday) and
//! `20241015` (a day). A period is a run of whole calendar days in Vietnam time (UTC+7); one
//! period contains another when it covers all of its days.

use std::cmp::Ordering;
use std::fmt;

use chrono::{Datelike, Duration, NaiveDate, Weekday};

use crate::calendar::local_day;
use crate::error::Invalid;

/// The kinds of period, shortest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum PeriodKind {
    Daily,
    Weekly,
    Monthly,
    Quarterly,
    SixMonthly,
    Yearly,
}

impl PeriodKind {
    pub const ALL: [PeriodKind; 6] = [
        PeriodKind::Daily,
        PeriodKind::Weekly,
        PeriodKind::Monthly,
        PeriodKind::Quarterly,
        PeriodKind::SixMonthly,
        PeriodKind::Yearly,
    ];

    /// The name DHIS2 gives the kind (`Monthly`…), which is also how ngoso stores it.
    pub fn as_str(self) -> &'static str {
        match self {
            PeriodKind::Daily => "Daily",
            PeriodKind::Weekly => "Weekly",
            PeriodKind::Monthly => "Monthly",
            PeriodKind::Quarterly => "Quarterly",
            PeriodKind::SixMonthly => "SixMonthly",
            PeriodKind::Yearly => "Yearly",
        }
    }

    pub fn parse(s: &str) -> Result<PeriodKind, Invalid> {
        PeriodKind::ALL
            .into_iter()
            .find(|k| k.as_str().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| Invalid::field("period-kind-invalid", "period_type").with_detail(s.trim()))
    }
}

/// One reporting period.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Period {
    Year(i32),
    /// Half 1 (January–June) or 2.
    Half(i32, u8),
    /// Quarter 1 to 4.
    Quarter(i32, u8),
    /// Month 1 to 12.
    Month(i32, u8),
    /// ISO week 1 to 52 or 53 of an ISO week-year.
    Week(i32, u8),
    Day(NaiveDate),
}

/// Years a period may name: wide enough for any record, narrow enough that every day exists.
const YEARS: std::ops::RangeInclusive<i32> = 1900..=2999;

fn invalid(s: &str) -> Invalid {
    Invalid::field("period-invalid", "period").with_detail(s.trim().chars().take(20).collect::<String>())
}

fn digits(s: &str) -> Option<u32> {
    if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) { s.parse().ok() } else { None }
}

fn iso_weeks(year: i32) -> u8 {
    NaiveDate::from_ymd_opt(year, 12, 28).map(|d| d.iso_week().week() as u8).unwrap_or(52)
}

impl Period {
    /// Parses a DHIS2 period id.
    pub fn parse(s: &str) -> Result<Period, Invalid> {
        let t = s.trim();
        if !t.is_ascii() || t.len() < 4 {
            return Err(invalid(s));
        }
        let (y, rest) = t.split_at(4);
        let year = digits(y).map(|y| y as i32).filter(|y| YEARS.contains(y)).ok_or_else(|| invalid(s))?;
        let p = match rest.as_bytes().first() {
            None => Period::Year(year),
            Some(b'S') => match digits(&rest[1..]) {
                Some(h @ 1..=2) if rest.len() == 2 => Period::Half(year, h as u8),
                _ => return Err(invalid(s)),
            },
            Some(b'Q') => match digits(&rest[1..]) {
                Some(q @ 1..=4) if rest.len() == 2 => Period::Quarter(year, q as u8),
                _ => return Err(invalid(s)),
            },
            Some(b'W') => match digits(&rest[1..]) {
                Some(w) if (1..=iso_weeks(year) as u32).contains(&w) && rest.len() <= 3 => Period::Week(year, w as u8),
                _ => return Err(invalid(s)),
            },
            Some(_) if rest.len() == 2 => match digits(rest) {
                Some(m @ 1..=12) => Period::Month(year, m as u8),
                _ => return Err(invalid(s)),
            },
            Some(_) if rest.len() == 4 => {
                let (m, d) = (digits(&rest[..2]), digits(&rest[2..]));
                match (m, d) {
                    (Some(m), Some(d)) => Period::Day(NaiveDate::from_ymd_opt(year, m, d).ok_or_else(|| invalid(s))?),
                    _ => return Err(invalid(s)),
                }
            }
            Some(_) => return Err(invalid(s)),
        };
        Ok(p)
    }

    pub fn kind(&self) -> PeriodKind {
        match self {
            Period::Year(_) => PeriodKind::Yearly,
            Period::Half(..) => PeriodKind::SixMonthly,
            Period::Quarter(..) => PeriodKind::Quarterly,
            Period::Month(..) => PeriodKind::Monthly,
            Period::Week(..) => PeriodKind::Weekly,
            Period::Day(_) => PeriodKind::Daily,
        }
    }

    /// The DHIS2 id (`2024Q3`).
    pub fn id(&self) -> String {
        self.to_string()
    }

    /// The first day.
    pub fn start(&self) -> NaiveDate {
        let ymd = |y: i32, m: u32| NaiveDate::from_ymd_opt(y, m, 1).expect("a period's first day exists");
        match *self {
            Period::Year(y) => ymd(y, 1),
            Period::Half(y, h) => ymd(y, 1 + 6 * (h as u32 - 1)),
            Period::Quarter(y, q) => ymd(y, 1 + 3 * (q as u32 - 1)),
            Period::Month(y, m) => ymd(y, m as u32),
            Period::Week(y, w) => NaiveDate::from_isoywd_opt(y, w as u32, Weekday::Mon).expect("a parsed week exists"),
            Period::Day(d) => d,
        }
    }

    /// The last day.
    pub fn end(&self) -> NaiveDate {
        self.next().start() - Duration::days(1)
    }

    /// Number of days.
    pub fn days(&self) -> i64 {
        (self.end() - self.start()).num_days() + 1
    }

    /// The period of the same kind just after this one.
    pub fn next(&self) -> Period {
        match *self {
            Period::Year(y) => Period::Year(y + 1),
            Period::Half(y, 2) => Period::Half(y + 1, 1),
            Period::Half(y, h) => Period::Half(y, h + 1),
            Period::Quarter(y, 4) => Period::Quarter(y + 1, 1),
            Period::Quarter(y, q) => Period::Quarter(y, q + 1),
            Period::Month(y, 12) => Period::Month(y + 1, 1),
            Period::Month(y, m) => Period::Month(y, m + 1),
            Period::Week(y, w) if w >= iso_weeks(y) => Period::Week(y + 1, 1),
            Period::Week(y, w) => Period::Week(y, w + 1),
            Period::Day(d) => Period::Day(d + Duration::days(1)),
        }
    }

    /// The period of the same kind just before this one.
    pub fn prev(&self) -> Period {
        match *self {
            Period::Year(y) => Period::Year(y - 1),
            Period::Half(y, 1) => Period::Half(y - 1, 2),
            Period::Half(y, h) => Period::Half(y, h - 1),
            Period::Quarter(y, 1) => Period::Quarter(y - 1, 4),
            Period::Quarter(y, q) => Period::Quarter(y, q - 1),
            Period::Month(y, 1) => Period::Month(y - 1, 12),
            Period::Month(y, m) => Period::Month(y, m - 1),
            Period::Week(y, 1) => Period::Week(y - 1, iso_weeks(y - 1)),
            Period::Week(y, w) => Period::Week(y, w - 1),
            Period::Day(d) => Period::Day(d - Duration::days(1)),
        }
    }

    /// The same period a year before (week 53 of a year without one becomes week 52; 29
    /// February becomes the 28th).
    pub fn year_before(&self) -> Period {
        match *self {
            Period::Year(y) => Period::Year(y - 1),
            Period::Half(y, h) => Period::Half(y - 1, h),
            Period::Quarter(y, q) => Period::Quarter(y - 1, q),
            Period::Month(y, m) => Period::Month(y - 1, m),
            Period::Week(y, w) => Period::Week(y - 1, w.min(iso_weeks(y - 1))),
            Period::Day(d) => Period::Day(
                d.with_year(d.year() - 1)
                    .unwrap_or_else(|| NaiveDate::from_ymd_opt(d.year() - 1, 2, 28).expect("28 February exists")),
            ),
        }
    }

    /// The period of a kind that a calendar day falls in.
    pub fn of_day(kind: PeriodKind, d: NaiveDate) -> Period {
        let (y, m) = (d.year(), d.month() as u8);
        match kind {
            PeriodKind::Yearly => Period::Year(y),
            PeriodKind::SixMonthly => Period::Half(y, if m <= 6 { 1 } else { 2 }),
            PeriodKind::Quarterly => Period::Quarter(y, (m - 1) / 3 + 1),
            PeriodKind::Monthly => Period::Month(y, m),
            PeriodKind::Weekly => {
                let w = d.iso_week();
                Period::Week(w.year(), w.week() as u8)
            }
            PeriodKind::Daily => Period::Day(d),
        }
    }

    /// The period of a kind that a Unix time falls in, in Vietnam time.
    pub fn of_time(kind: PeriodKind, t: i64) -> Period {
        Period::of_day(kind, local_day(t))
    }

    /// Whether the day falls in this period.
    pub fn contains_day(&self, d: NaiveDate) -> bool {
        self.start() <= d && d <= self.end()
    }

    /// Whether every day of `other` falls in this period (a period contains itself).
    pub fn contains(&self, other: &Period) -> bool {
        self.start() <= other.start() && other.end() <= self.end()
    }

    /// The periods of a kind wholly inside this one, in order (a month holds no whole
    /// quarter; the weeks of a month are those from Monday to Sunday inside it).
    pub fn within(&self, kind: PeriodKind) -> Vec<Period> {
        let mut out = Vec::new();
        let end = self.end();
        let mut p = Period::of_day(kind, self.start());
        if p.start() < self.start() {
            p = p.next();
        }
        while p.end() <= end {
            out.push(p);
            p = p.next();
        }
        out
    }

    /// The name a Vietnamese reader expects: `Năm 2024`, `6 tháng đầu năm 2024`, `Quý 3/2024`,
    /// `Tháng 10/2024`, `Tuần 41/2024`, `15/10/2024`.
    pub fn name_vi(&self) -> String {
        match *self {
            Period::Year(y) => format!("Năm {y}"),
            Period::Half(y, 1) => format!("6 tháng đầu năm {y}"),
            Period::Half(y, _) => format!("6 tháng cuối năm {y}"),
            Period::Quarter(y, q) => format!("Quý {q}/{y}"),
            Period::Month(y, m) => format!("Tháng {m}/{y}"),
            Period::Week(y, w) => format!("Tuần {w}/{y}"),
            Period::Day(d) => d.format("%d/%m/%Y").to_string(),
        }
    }

    /// The name in English: `2024`, `H1 2024`, `Q3 2024`, `October 2024`, `Week 41 2024`,
    /// `15 October 2024`.
    pub fn name_en(&self) -> String {
        match *self {
            Period::Year(y) => y.to_string(),
            Period::Half(y, h) => format!("H{h} {y}"),
            Period::Quarter(y, q) => format!("Q{q} {y}"),
            Period::Month(..) => self.start().format("%B %Y").to_string(),
            Period::Week(y, w) => format!("Week {w} {y}"),
            Period::Day(d) => d.format("%-d %B %Y").to_string(),
        }
    }

    /// The name in the language asked for.
    pub fn name(&self, english: bool) -> String {
        if english { self.name_en() } else { self.name_vi() }
    }
}

impl fmt::Display for Period {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Period::Year(y) => write!(f, "{y:04}"),
            Period::Half(y, h) => write!(f, "{y:04}S{h}"),
            Period::Quarter(y, q) => write!(f, "{y:04}Q{q}"),
            Period::Month(y, m) => write!(f, "{y:04}{m:02}"),
            Period::Week(y, w) => write!(f, "{y:04}W{w}"),
            Period::Day(d) => write!(f, "{}", d.format("%Y%m%d")),
        }
    }
}

impl std::str::FromStr for Period {
    type Err = Invalid;
    fn from_str(s: &str) -> Result<Self, Invalid> {
        Period::parse(s)
    }
}

/// Periods in time order: by first day, the longer first when two begin together.
impl Ord for Period {
    fn cmp(&self, other: &Self) -> Ordering {
        self.start().cmp(&other.start()).then_with(|| other.end().cmp(&self.end()))
    }
}

impl PartialOrd for Period {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl serde::Serialize for Period {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for Period {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Period::parse(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn p(s: &str) -> Period {
        Period::parse(s).unwrap()
    }

    #[test]
    fn parses_every_dhis2_form() {
        assert_eq!(p("2024"), Period::Year(2024));
        assert_eq!(p("2024S1"), Period::Half(2024, 1));
        assert_eq!(p("2024Q3"), Period::Quarter(2024, 3));
        assert_eq!(p("202410"), Period::Month(2024, 10));
        assert_eq!(p("2024W41"), Period::Week(2024, 41));
        assert_eq!(p("2024W1"), Period::Week(2024, 1));
        assert_eq!(p("2024W01"), Period::Week(2024, 1));
        assert_eq!(p("20241015"), Period::Day(NaiveDate::from_ymd_opt(2024, 10, 15).unwrap()));
        assert_eq!(p(" 2024Q3 "), Period::Quarter(2024, 3));
    }

    #[test]
    fn refuses_what_is_not_a_period() {
        for s in [
            "",
            "24",
            "2024Q5",
            "2024Q0",
            "2024S3",
            "202413",
            "202400",
            "20240230",
            "2024W54",
            "2023W53",
            "2024q3",
            "２０２４",
            "2024-10",
            "2024Q33",
            "abcd",
            "2024W",
            "0999",
            "2024W0",
        ] {
            let e = Period::parse(s).unwrap_err();
            assert_eq!(e.code, "period-invalid", "{s}");
        }
        assert!(Period::parse("2020W53").is_ok(), "2020 has 53 ISO weeks");
    }

    #[test]
    fn vietnamese_and_english_names() {
        assert_eq!(p("2024Q3").name_vi(), "Quý 3/2024");
        assert_eq!(p("202410").name_vi(), "Tháng 10/2024");
        assert_eq!(p("2024").name_vi(), "Năm 2024");
        assert_eq!(p("2024S1").name_vi(), "6 tháng đầu năm 2024");
        assert_eq!(p("2024W41").name_vi(), "Tuần 41/2024");
        assert_eq!(p("20241015").name_vi(), "15/10/2024");
        assert_eq!(p("202410").name_en(), "October 2024");
        assert_eq!(p("2024Q3").name_en(), "Q3 2024");
        assert_eq!(p("20241005").name_en(), "5 October 2024");
    }

    #[test]
    fn days_and_containment() {
        assert_eq!(p("2024Q3").start(), NaiveDate::from_ymd_opt(2024, 7, 1).unwrap());
        assert_eq!(p("2024Q3").end(), NaiveDate::from_ymd_opt(2024, 9, 30).unwrap());
        assert_eq!(p("2024W1").start(), NaiveDate::from_ymd_opt(2024, 1, 1).unwrap());
        assert_eq!(p("2025W1").start(), NaiveDate::from_ymd_opt(2024, 12, 30).unwrap());
        assert_eq!(p("2024").days(), 366);
        assert!(p("2024").contains(&p("2024Q3")));
        assert!(p("2024S2").contains(&p("202410")));
        assert!(!p("2024S1").contains(&p("202410")));
        assert!(!p("2025").contains(&p("2025W1")), "week 1 of 2025 begins in December 2024");
        assert_eq!(p("2024Q3").within(PeriodKind::Monthly), vec![p("202407"), p("202408"), p("202409")]);
        assert!(p("202410").within(PeriodKind::Quarterly).is_empty());
        assert_eq!(p("2024").within(PeriodKind::Weekly).len(), 52);
        assert_eq!(p("2024Q3").year_before(), p("2023Q3"));
        assert_eq!(p("20240229").year_before(), p("20230228"));
        assert_eq!(p("2020W53").year_before(), p("2019W52"));
    }

    #[test]
    fn the_period_of_a_time_is_in_vietnam_time() {
        // 2024-09-30T17:30:00Z is 1 October 00:30 in Vietnam.
        let t = 1_727_717_400;
        assert_eq!(Period::of_time(PeriodKind::Monthly, t), p("202410"));
        assert_eq!(Period::of_time(PeriodKind::Quarterly, t), p("2024Q4"));
        assert_eq!(Period::of_time(PeriodKind::Monthly, t - 3600), p("202409"));
    }

    fn any_kind() -> impl Strategy<Value = PeriodKind> {
        prop::sample::select(PeriodKind::ALL.to_vec())
    }

    fn any_day() -> impl Strategy<Value = NaiveDate> {
        (1901i32..2998, 1u32..=366)
            .prop_map(|(y, o)| NaiveDate::from_yo_opt(y, o).unwrap_or_else(|| NaiveDate::from_yo_opt(y, 365).unwrap()))
    }

    fn any_period() -> impl Strategy<Value = Period> {
        (any_kind(), any_day()).prop_map(|(k, d)| Period::of_day(k, d))
    }

    proptest! {
        #[test]
        fn an_id_parses_back_to_its_period(q in any_period()) {
            prop_assert_eq!(Period::parse(&q.id()).unwrap(), q);
        }

        #[test]
        fn a_day_falls_in_the_period_made_for_it(k in any_kind(), d in any_day()) {
            let q = Period::of_day(k, d);
            prop_assert!(q.contains_day(d));
            prop_assert_eq!(q.kind(), k);
            prop_assert!(!q.prev().contains_day(d) && !q.next().contains_day(d));
        }

        #[test]
        fn periods_follow_each_other_without_gap(q in any_period()) {
            prop_assert_eq!(q.next().start(), q.end() + Duration::days(1));
            prop_assert_eq!(q.next().prev(), q);
            prop_assert!(q < q.next());
            prop_assert!(q.days() >= 1);
        }

        #[test]
        fn shorter_periods_tile_the_longer(q in any_period(), k in any_kind()) {
            let parts = q.within(k);
            for w in parts.windows(2) {
                prop_assert_eq!(w[1], w[0].next());
            }
            for part in &parts {
                prop_assert!(q.contains(part));
            }
            // Every kind but weeks divides the kinds above it exactly.
            if k <= q.kind() && k != PeriodKind::Weekly && q.kind() != PeriodKind::Weekly {
                let days: i64 = parts.iter().map(Period::days).sum();
                prop_assert_eq!(days, q.days());
            }
        }

        #[test]
        fn containment_is_by_days(a in any_period(), b in any_period()) {
            let by_days = a.start() <= b.start() && b.end() <= a.end();
            prop_assert_eq!(a.contains(&b), by_days);
            if a.contains(&b) && b.contains(&a) {
                prop_assert_eq!(a.days(), b.days());
            }
        }
    }
}
