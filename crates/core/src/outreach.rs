//! Door-to-door outreach: teams and members, households' barriers, visits and the rule that
//! a subject's status only moves forward.

use serde::{Deserialize, Serialize};

use crate::error::Invalid;

/// A member's role in a team.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MemberRole {
    Leader,
    Deputy,
    Member,
}

impl MemberRole {
    pub const ALL: [MemberRole; 3] = [MemberRole::Leader, MemberRole::Deputy, MemberRole::Member];
    pub fn as_str(self) -> &'static str {
        match self {
            MemberRole::Leader => "leader",
            MemberRole::Deputy => "deputy",
            MemberRole::Member => "member",
        }
    }
    pub fn parse(s: &str) -> Result<Self, Invalid> {
        Self::ALL
            .into_iter()
            .find(|r| r.as_str() == s.trim())
            .ok_or_else(|| Invalid::field("member-role-invalid", "role").with_detail(s.trim()))
    }
}

/// Where a member comes from.
pub const AFFILIATIONS: [&str; 9] =
    ["commune_official", "police", "youth_union", "womens_union", "telecom", "teacher", "health", "volunteer", "other"];

/// Checks an affiliation code.
pub fn parse_affiliation(s: &str) -> Result<&'static str, Invalid> {
    AFFILIATIONS
        .into_iter()
        .find(|a| *a == s.trim())
        .ok_or_else(|| Invalid::field("affiliation-invalid", "affiliation").with_detail(s.trim()))
}

/// Size bounds of a team; outside them a team is flagged, never refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TeamBounds {
    pub min: i64,
    pub max: i64,
}

impl Default for TeamBounds {
    fn default() -> Self {
        Self { min: 4, max: 12 }
    }
}

impl TeamBounds {
    /// `None` when the team's active size is within bounds; otherwise why not.
    pub fn flag(&self, active_members: i64) -> Option<&'static str> {
        if active_members < self.min {
            Some("team-too-small")
        } else if active_members > self.max {
            Some("team-too-large")
        } else {
            None
        }
    }
}

/// What stands in the way of a household: a set of flags stored as bits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Barrier {
    NoSmartphone,
    ElderlyAlone,
    NoIdCard,
    NoInternet,
    Disability,
    Language,
}

impl Barrier {
    pub const ALL: [Barrier; 6] = [
        Barrier::NoSmartphone,
        Barrier::ElderlyAlone,
        Barrier::NoIdCard,
        Barrier::NoInternet,
        Barrier::Disability,
        Barrier::Language,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            Barrier::NoSmartphone => "no_smartphone",
            Barrier::ElderlyAlone => "elderly_alone",
            Barrier::NoIdCard => "no_id_card",
            Barrier::NoInternet => "no_internet",
            Barrier::Disability => "disability",
            Barrier::Language => "language",
        }
    }
    pub fn bit(self) -> i32 {
        1 << (self as i32)
    }
    pub fn parse(s: &str) -> Result<Self, Invalid> {
        Self::ALL
            .into_iter()
            .find(|b| b.as_str() == s.trim())
            .ok_or_else(|| Invalid::field("barrier-invalid", "barriers").with_detail(s.trim()))
    }
}

/// A set of barriers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub struct Barriers(pub i32);

impl Barriers {
    /// All defined bits.
    pub const MASK: i32 = (1 << Barrier::ALL.len()) - 1;

    pub fn from_bits(bits: i32) -> Self {
        Barriers(bits & Self::MASK)
    }
    /// Parses a list of barrier codes (`no_smartphone`, …), separated by commas, semicolons
    /// or spaces.
    pub fn parse_list(s: &str) -> Result<Self, Invalid> {
        let mut bits = 0;
        for part in s.split([',', ';', ' ', '|']).filter(|p| !p.trim().is_empty()) {
            bits |= Barrier::parse(part)?.bit();
        }
        Ok(Barriers(bits))
    }
    pub fn of(list: &[Barrier]) -> Self {
        Barriers(list.iter().fold(0, |acc, b| acc | b.bit()))
    }
    pub fn contains(self, b: Barrier) -> bool {
        self.0 & b.bit() != 0
    }
    pub fn iter(self) -> impl Iterator<Item = Barrier> {
        Barrier::ALL.into_iter().filter(move |b| self.contains(*b))
    }
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }
    pub fn count(self) -> u32 {
        self.0.count_ones()
    }
}

/// What happened at the door.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VisitResult {
    Met,
    NotHome,
    Refused,
    Moved,
}

impl VisitResult {
    pub const ALL: [VisitResult; 4] =
        [VisitResult::Met, VisitResult::NotHome, VisitResult::Refused, VisitResult::Moved];
    pub fn as_str(self) -> &'static str {
        match self {
            VisitResult::Met => "met",
            VisitResult::NotHome => "not_home",
            VisitResult::Refused => "refused",
            VisitResult::Moved => "moved",
        }
    }
    pub fn parse(s: &str) -> Result<Self, Invalid> {
        Self::ALL
            .into_iter()
            .find(|r| r.as_str() == s.trim())
            .ok_or_else(|| Invalid::field("visit-result-invalid", "result").with_detail(s.trim()))
    }
}

/// Whether a subject's status moves from `current` (rank; 0 when not started) to `proposed`.
/// Statuses only move forward, so two phones that visited the same house offline merge to the
/// furthest status whatever order their uploads arrive in.
pub fn advances(current: i32, proposed: i32) -> bool {
    proposed > current
}

/// A client-made visit id: a UUID in its canonical text form (lower case, hyphenated).
pub fn parse_visit_id(s: &str) -> Result<String, Invalid> {
    uuid_text(s).ok_or_else(|| Invalid::field("visit-id-invalid", "id").with_detail(s.trim()))
}

/// The id a phone made for a record it sends (feedback typed in offline): a UUID, as for
/// visits.
pub fn parse_client_id(s: &str) -> Result<String, Invalid> {
    uuid_text(s).ok_or_else(|| {
        Invalid::field("client-id-invalid", "client_id").with_detail(s.trim().chars().take(40).collect::<String>())
    })
}

/// A UUID in its canonical text form (lower case, hyphenated), if `s` is one.
fn uuid_text(s: &str) -> Option<String> {
    let t = s.trim().to_ascii_lowercase();
    let ok = t.len() == 36
        && t.char_indices().all(|(i, c)| if [8, 13, 18, 23].contains(&i) { c == '-' } else { c.is_ascii_hexdigit() });
    ok.then_some(t)
}

/// How far ahead of the server's clock a visit's time may be, in seconds: a phone's clock
/// may run a few minutes fast; a visit further in the future is a wrong clock or a typo.
pub const VISIT_CLOCK_AHEAD_SECS: i64 = 300;

/// The earliest time a visit can have, 2000-01-01T00:00:00Z: before any digital-outreach
/// team existed, so an earlier time is a phone whose clock was reset (to 1970, say).
pub const EARLIEST_VISIT_AT: i64 = 946_684_800;

/// Checks a visit's time (`visited_at`, Unix seconds) against the time it is received.
pub fn check_visit_time(visited_at: i64, now: i64) -> Result<(), Invalid> {
    if visited_at > now + VISIT_CLOCK_AHEAD_SECS {
        return Err(Invalid::field("visit-time-future", "visited_at"));
    }
    if visited_at < EARLIEST_VISIT_AT {
        return Err(Invalid::field("visit-time-invalid", "visited_at"));
    }
    Ok(())
}

/// The month of a Unix time in Vietnam (UTC+7), as a DHIS2 period id: `202410`.
pub fn month_of(t: i64) -> String {
    let tz = crate::calendar::tz();
    chrono::DateTime::from_timestamp(t, 0)
        .map(|d| {
            let d = d.with_timezone(&tz);
            format!("{:04}{:02}", chrono::Datelike::year(&d), chrono::Datelike::month(&d))
        })
        .unwrap_or_else(|| "197001".into())
}

/// The month of a day, as a DHIS2 period id: `202507`.
pub fn month_of_day(d: chrono::NaiveDate) -> String {
    d.format("%Y%m").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn barriers() {
        let b = Barriers::parse_list("no_smartphone, elderly_alone").unwrap();
        assert!(
            b.contains(Barrier::NoSmartphone) && b.contains(Barrier::ElderlyAlone) && !b.contains(Barrier::Language)
        );
        assert_eq!(b.iter().count(), 2);
        assert_eq!(Barriers::parse_list("").unwrap(), Barriers(0));
        assert_eq!(Barriers::parse_list("no_phone").unwrap_err().code, "barrier-invalid");
        assert_eq!(Barriers::from_bits(-1).0, Barriers::MASK);
    }

    #[test]
    fn visit_times() {
        let now = 1_760_000_000;
        assert_eq!(check_visit_time(now, now), Ok(()));
        assert_eq!(check_visit_time(now + VISIT_CLOCK_AHEAD_SECS, now), Ok(()));
        assert_eq!(check_visit_time(now + VISIT_CLOCK_AHEAD_SECS + 1, now).unwrap_err().code, "visit-time-future");
        assert_eq!(check_visit_time(EARLIEST_VISIT_AT, now), Ok(()));
        assert_eq!(check_visit_time(EARLIEST_VISIT_AT - 1, now).unwrap_err().code, "visit-time-invalid");
        assert_eq!(check_visit_time(0, now).unwrap_err().field, Some("visited_at"));
        // 2000-01-01T00:00:00Z.
        assert_eq!(
            chrono::DateTime::from_timestamp(EARLIEST_VISIT_AT, 0).unwrap().to_rfc3339(),
            "2000-01-01T00:00:00+00:00"
        );
    }

    #[test]
    fn team_bounds() {
        let b = TeamBounds::default();
        assert_eq!(b.flag(3), Some("team-too-small"));
        assert_eq!(b.flag(4), None);
        assert_eq!(b.flag(12), None);
        assert_eq!(b.flag(13), Some("team-too-large"));
    }

    #[test]
    fn visit_ids_and_months() {
        assert_eq!(
            parse_visit_id("0F8FAD5B-D9CB-469F-A165-70867728950E").unwrap(),
            "0f8fad5b-d9cb-469f-a165-70867728950e"
        );
        assert!(parse_visit_id("0f8fad5b-d9cb-469f-a165-70867728950").is_err());
        assert!(parse_visit_id("0f8fad5bxd9cb-469f-a165-70867728950e").is_err());
        // 2024-10-31 17:30 UTC is already November in Vietnam.
        assert_eq!(month_of(1_730_395_800), "202411");
        assert_eq!(month_of(1_730_300_000), "202410");
    }

    proptest! {
        /// Whatever order the uploads of the same visits arrive in, the status ends at the
        /// furthest one.
        #[test]
        fn forward_only_merge_is_order_independent(mut ranks in proptest::collection::vec(0i32..5, 0..12)) {
            let fold = |rs: &[i32]| rs.iter().fold(0, |cur, &r| if advances(cur, r) { r } else { cur });
            let a = fold(&ranks);
            ranks.reverse();
            let b = fold(&ranks);
            prop_assert_eq!(a, b);
            prop_assert_eq!(a, ranks.iter().copied().max().unwrap_or(0));
        }
    }
}
