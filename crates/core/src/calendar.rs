//! Working days and deadlines, in Vietnam time (UTC+7, no daylight saving).
//!
//! Saturdays and Sundays are days off. Public holidays are data, not code (Tết moves every
//! year), and so are the Saturdays the government declares working days to make up for a
//! bridged holiday.

use std::collections::BTreeSet;

use chrono::{DateTime, Datelike, Duration, FixedOffset, NaiveDate, TimeZone, Weekday};

use crate::error::Invalid;

/// Vietnam's offset from UTC.
pub fn tz() -> FixedOffset {
    FixedOffset::east_opt(7 * 3600).expect("UTC+7 is valid")
}

/// The Vietnamese calendar day of a Unix time.
pub fn local_day(t: i64) -> NaiveDate {
    DateTime::from_timestamp(t, 0).map(|d| d.with_timezone(&tz()).date_naive()).unwrap_or_default()
}

/// The first second of a Vietnamese calendar day, as a Unix time.
pub fn start_of_day(day: NaiveDate) -> i64 {
    tz().from_local_datetime(&day.and_hms_opt(0, 0, 0).expect("midnight exists"))
        .single()
        .map(|d| d.timestamp())
        .unwrap_or(0)
}

/// The last second of a Vietnamese calendar day, as a Unix time.
pub fn end_of_day(day: NaiveDate) -> i64 {
    let next = day.succ_opt().unwrap_or(day);
    tz().from_local_datetime(&next.and_hms_opt(0, 0, 0).expect("midnight exists"))
        .single()
        .map(|d| d.timestamp() - 1)
        .unwrap_or(0)
}

/// The Unix time as RFC 3339 in Vietnam time, e.g. `2024-10-15T08:30:00+07:00`.
pub fn w3c(t: i64) -> String {
    DateTime::from_timestamp(t, 0)
        .map(|d| d.with_timezone(&tz()).format("%Y-%m-%dT%H:%M:%S%:z").to_string())
        .unwrap_or_default()
}

/// How a deadline counts its days.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DayKind {
    /// Working days: weekends and holidays do not count.
    Working,
    /// Every calendar day counts.
    Calendar,
}

impl DayKind {
    pub fn as_str(self) -> &'static str {
        match self {
            DayKind::Working => "working",
            DayKind::Calendar => "calendar",
        }
    }
    pub fn parse(s: &str) -> Result<DayKind, Invalid> {
        match s.trim() {
            "working" => Ok(DayKind::Working),
            "calendar" => Ok(DayKind::Calendar),
            other => Err(Invalid::field("day-kind-invalid", "day_kind").with_detail(other)),
        }
    }
}

/// A special day of the calendar.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DayOff {
    /// A public holiday on what would be a working day.
    Holiday,
    /// A weekend day declared a working day.
    Workday,
}

impl DayOff {
    pub fn as_str(self) -> &'static str {
        match self {
            DayOff::Holiday => "holiday",
            DayOff::Workday => "workday",
        }
    }
    pub fn parse(s: &str) -> Result<DayOff, Invalid> {
        match s.trim() {
            "holiday" => Ok(DayOff::Holiday),
            "workday" => Ok(DayOff::Workday),
            other => Err(Invalid::field("day-off-kind-invalid", "kind").with_detail(other)),
        }
    }
}

/// The working-day calendar: weekends, holidays and declared working days.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Calendar {
    holidays: BTreeSet<NaiveDate>,
    workdays: BTreeSet<NaiveDate>,
}

/// The most days a deadline or an extension may count.
pub const MAX_DAYS: u32 = 365;

impl Calendar {
    pub fn new(days: impl IntoIterator<Item = (NaiveDate, DayOff)>) -> Self {
        let mut c = Calendar::default();
        for (d, k) in days {
            match k {
                DayOff::Holiday => c.holidays.insert(d),
                DayOff::Workday => c.workdays.insert(d),
            };
        }
        c
    }

    /// Whether staff work on `day`.
    pub fn is_working(&self, day: NaiveDate) -> bool {
        if self.workdays.contains(&day) {
            return true;
        }
        !matches!(day.weekday(), Weekday::Sat | Weekday::Sun) && !self.holidays.contains(&day)
    }

    /// The day `n` days after `from` (which does not count): the `n`-th working day after it
    /// for [`DayKind::Working`], `from + n` for [`DayKind::Calendar`].
    pub fn add(&self, from: NaiveDate, n: u32, kind: DayKind) -> NaiveDate {
        let n = n.min(MAX_DAYS);
        match kind {
            DayKind::Calendar => from + Duration::days(i64::from(n)),
            DayKind::Working => {
                let mut d = from;
                let mut left = n;
                while left > 0 {
                    d = d.succ_opt().unwrap_or(d);
                    if self.is_working(d) {
                        left -= 1;
                    }
                }
                d
            }
        }
    }

    /// The deadline of an item received at Unix time `received`: the end of the day `n`
    /// days after the day of receipt.
    pub fn deadline(&self, received: i64, n: u32, kind: DayKind) -> i64 {
        end_of_day(self.add(local_day(received), n, kind))
    }

    /// A deadline moved `n` more days on from an existing one.
    pub fn extend(&self, due: i64, n: u32, kind: DayKind) -> i64 {
        end_of_day(self.add(local_day(due), n, kind))
    }
}

/// Parses a number of days for a deadline or an extension: 1 to [`MAX_DAYS`].
pub fn parse_days(s: &str, field: &'static str) -> Result<u32, Invalid> {
    s.trim()
        .parse::<u32>()
        .ok()
        .filter(|n| (1..=MAX_DAYS).contains(n))
        .ok_or_else(|| Invalid::field("days-invalid", field).with_detail(MAX_DAYS.to_string()))
}

/// Parses a calendar day written `2025-01-29` or `29/01/2025`.
pub fn parse_day(s: &str, field: &'static str) -> Result<NaiveDate, Invalid> {
    let t = s.trim();
    NaiveDate::parse_from_str(t, "%Y-%m-%d")
        .or_else(|_| NaiveDate::parse_from_str(t, "%d/%m/%Y"))
        .map_err(|_| Invalid::field("date-invalid", field).with_detail(t.chars().take(30).collect::<String>()))
}

/// The months (`YYYYMM`, first and last) of a period of whole months: `2024` (a year),
/// `2024S1` (a half), `2024Q3` (a quarter) or `202410` (a month).
pub fn period_months(s: &str) -> Result<(String, String), Invalid> {
    let p = crate::period::Period::parse(s)?;
    let months = p.within(crate::period::PeriodKind::Monthly);
    match (months.first(), months.last()) {
        (Some(a), Some(b)) if a.start() == p.start() && b.end() == p.end() => Ok((a.id(), b.id())),
        _ => Err(Invalid::field("period-invalid", "period").with_detail(p.id())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    /// Tết 2025: Monday 27 January to Friday 31 January were days off.
    fn tet_2025() -> Calendar {
        Calendar::new((27..=31).map(|day| (d(2025, 1, day), DayOff::Holiday)))
    }

    #[test]
    fn weekends_and_holidays_do_not_count() {
        let c = tet_2025();
        // Friday 24 January + 1 working day: the week of Tết is off, so Monday 3 February.
        assert_eq!(c.add(d(2025, 1, 24), 1, DayKind::Working), d(2025, 2, 3));
        // The same in calendar days: Saturday.
        assert_eq!(c.add(d(2025, 1, 24), 1, DayKind::Calendar), d(2025, 1, 25));
        // A plain week: Monday + 5 working days is the next Monday.
        assert_eq!(Calendar::default().add(d(2024, 10, 14), 5, DayKind::Working), d(2024, 10, 21));
        // Received on a Saturday: day 1 is Monday.
        assert_eq!(Calendar::default().add(d(2024, 10, 19), 1, DayKind::Working), d(2024, 10, 21));
    }

    #[test]
    fn a_declared_workday_counts() {
        let c = Calendar::new([(d(2024, 10, 19), DayOff::Workday)]);
        assert_eq!(c.add(d(2024, 10, 18), 1, DayKind::Working), d(2024, 10, 19));
        assert!(c.is_working(d(2024, 10, 19)));
        assert!(!c.is_working(d(2024, 10, 20)));
    }

    #[test]
    fn deadlines_end_at_midnight_vietnam_time() {
        // 2024-10-15 23:30 in Hà Nội is 16:30 UTC.
        let received = chrono::DateTime::parse_from_rfc3339("2024-10-15T23:30:00+07:00").unwrap().timestamp();
        assert_eq!(local_day(received), d(2024, 10, 15));
        let due = Calendar::default().deadline(received, 1, DayKind::Working);
        assert_eq!(w3c(due), "2024-10-16T23:59:59+07:00");
        let later = Calendar::default().extend(due, 3, DayKind::Working);
        assert_eq!(w3c(later), "2024-10-21T23:59:59+07:00");
    }

    #[test]
    fn periods() {
        assert_eq!(period_months("2024").unwrap(), ("202401".into(), "202412".into()));
        assert_eq!(period_months("2024Q3").unwrap(), ("202407".into(), "202409".into()));
        assert_eq!(period_months("202410").unwrap(), ("202410".into(), "202410".into()));
        for bad in ["", "24", "2024Q5", "202413", "2024-10", "20241", "２０２４", "2024Q０"] {
            assert!(period_months(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn parsers() {
        assert_eq!(parse_days("20", "days").unwrap(), 20);
        for bad in ["0", "-1", "366", "x", ""] {
            assert!(parse_days(bad, "days").is_err(), "{bad}");
        }
        assert_eq!(parse_day("29/01/2025", "day").unwrap(), d(2025, 1, 29));
        assert_eq!(parse_day("2025-01-29", "day").unwrap(), d(2025, 1, 29));
        assert!(parse_day("31/02/2025", "day").is_err());
    }

    proptest! {
        /// n working days later is a working day, and exactly n working days lie in between.
        #[test]
        fn working_days_count_exactly(start in 0i64..3000, n in 1u32..60, holidays in proptest::collection::vec(0i64..3100, 0..40)) {
            let base = d(2020, 1, 1);
            let c = Calendar::new(holidays.iter().map(|h| (base + Duration::days(*h), DayOff::Holiday)));
            let from = base + Duration::days(start);
            let to = c.add(from, n, DayKind::Working);
            prop_assert!(c.is_working(to));
            let counted = from.iter_days().skip(1).take_while(|x| *x <= to).filter(|x| c.is_working(*x)).count();
            prop_assert_eq!(counted, n as usize);
        }
    }
}
