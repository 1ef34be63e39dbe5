//! The figures that roll up the tree, and how a change turns into deltas.
//!
//! Every figure is a count kept per unit for the unit's whole subtree. A change to the raw
//! records (a household added, a visit recorded, a status advanced) becomes a list of
//! [`Delta`]s at the household's unit; the store adds each delta to that unit and every
//! ancestor in the same transaction, folding equal keys first so that a batch of visits in
//! one hamlet costs a handful of writes.

use std::collections::BTreeMap;

use crate::outreach::{Barrier, Barriers, VisitResult};

/// Names of the figures.
pub mod figure {
    pub const HOUSEHOLDS: &str = "households";
    pub const HOUSEHOLDS_VISITED: &str = "households_visited";
    pub const RESIDENTS: &str = "residents";
    pub const YOUTH_UNION: &str = "youth_union";
    pub const VISITS: &str = "visits";
    pub const VISITS_MET: &str = "visits_met";
    /// Feedback items received (by the month they came in), answered and answered on time
    /// (by the month of the answer), of the units with a place in the tree.
    pub const FEEDBACK_RECEIVED: &str = "feedback_received";
    pub const FEEDBACK_ANSWERED: &str = "feedback_answered";
    pub const FEEDBACK_ON_TIME: &str = "feedback_on_time";

    /// Households whose flags include a barrier.
    pub fn barrier(code: &str) -> String {
        format!("barrier:{code}")
    }
    /// Barriers met during visits (per month).
    pub fn visit_barrier(code: &str) -> String {
        format!("visit_barrier:{code}")
    }
    /// The sum of a data element's values (per entry period).
    pub fn value(element_id: i64) -> String {
        format!("value:{element_id}")
    }
    /// How many units entered a value of a data element (per entry period).
    pub fn value_n(element_id: i64) -> String {
        format!("value_n:{element_id}")
    }
    /// Subjects whose current status for a service is this status.
    pub fn status(service_id: i64, status_id: i64) -> String {
        format!("status:{service_id}:{status_id}")
    }
    /// A person figure counted for one trait: `~residents|sex:f`, `~status:3:7|born:1960`,
    /// `~status:3:7|group:2`. The `~` sorts these after every other figure, so that reads
    /// of the plain figures skip them by key (`figure < '~'`).
    pub fn slice(base: &str, part: &str) -> String {
        format!("~{base}|{part}")
    }
    /// Whether a figure with a period counts a household's past (visits, by month), which
    /// follows the household when a restructuring moves it; the others with a period are
    /// entered as aggregates on a unit (data values, feedback counts).
    pub fn is_household_past(f: &str) -> bool {
        f == VISITS || f == VISITS_MET || f.starts_with("visit_barrier:")
    }
    /// The first byte of sliced figures' names.
    pub const SLICES_FROM: &str = "~";
}

/// What a person's figures are counted by besides the total: sex, year of birth (an age
/// band is read off it for any day) and the groups they belong to (group `n` is bit `n − 1`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct Traits {
    /// `m`, `f`, or unknown.
    pub sex: Option<&'static str>,
    pub birth_year: Option<i32>,
    pub groups: u64,
}

/// The most groups there can be (bits of a signed 64-bit column, kept positive).
pub const MAX_GROUPS: i64 = 62;

impl Traits {
    /// Traits as stored: a sex other than `m` or `f` counts as unknown.
    pub fn new(sex: Option<&str>, birth_year: Option<i32>, groups: i64) -> Traits {
        let sex = match sex {
            Some("m") => Some("m"),
            Some("f") => Some("f"),
            _ => None,
        };
        Traits { sex, birth_year, groups: groups.max(0) as u64 }
    }
    /// Whether the person is in group `id` (1 to 62).
    pub fn in_group(&self, id: i64) -> bool {
        (1..=MAX_GROUPS).contains(&id) && self.groups & (1 << (id - 1)) != 0
    }
    /// The bit set of a list of group ids.
    pub fn bits(ids: &[i64]) -> i64 {
        ids.iter().filter(|id| (1..=MAX_GROUPS).contains(id)).fold(0, |acc, id| acc | (1 << (id - 1)))
    }
    /// The parts the person is counted under: `sex:f`, `born:1960`, `group:2`.
    pub fn parts(&self) -> Vec<String> {
        let mut out = Vec::new();
        if let Some(s) = self.sex {
            out.push(format!("sex:{s}"));
        }
        if let Some(y) = self.birth_year {
            out.push(format!("born:{y}"));
        }
        for g in 1..=MAX_GROUPS {
            if self.in_group(g) {
                out.push(format!("group:{g}"));
            }
        }
        out
    }
}

/// The group of youth-union members (kept in step with the `youth_union` flag).
pub const YOUTH_UNION_GROUP: i64 = 1;

/// Divides a whole `total` among parts by `shares` (in hundredths of a percent, summing to
/// 10,000) so that the parts add up to the total exactly: each gets the floor of its share,
/// and what is left goes one by one to the largest remainders (the first on a tie).
pub fn apportion(total: i64, shares: &[i64]) -> Vec<i64> {
    let sum: i64 = shares.iter().sum();
    if sum <= 0 {
        return vec![0; shares.len()];
    }
    let mut parts: Vec<i64> = shares.iter().map(|s| total * s / sum).collect();
    let mut left = total - parts.iter().sum::<i64>();
    let mut order: Vec<usize> = (0..shares.len()).collect();
    order.sort_by_key(|&i| (std::cmp::Reverse((total * shares[i]) % sum), i));
    for i in order {
        if left == 0 {
            break;
        }
        parts[i] += left.signum();
        left -= left.signum();
    }
    parts
}

/// A split unit's entered figure shared out among its successors: a sum by [`apportion`];
/// the number of units that entered a value (`value_n:`) goes whole to each, since each now
/// has a part of a value entered.
pub fn share_out(figure: &str, value: i64, shares: &[i64]) -> Vec<i64> {
    if figure.starts_with("value_n:") { vec![value; shares.len()] } else { apportion(value, shares) }
}

/// A change of one figure at one unit, for one period (`""`: no period, a current state).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Delta {
    pub unit_id: i64,
    pub figure: String,
    pub period: String,
    pub value: i64,
}

/// Collects deltas, folding equal keys.
#[derive(Debug, Default, Clone)]
pub struct Deltas(BTreeMap<(i64, String, String), i64>);

impl Deltas {
    pub fn add(&mut self, unit_id: i64, figure: impl Into<String>, period: &str, value: i64) {
        if value == 0 {
            return;
        }
        *self.0.entry((unit_id, figure.into(), period.to_owned())).or_insert(0) += value;
    }

    /// A household entering (`sign` 1) or leaving (`sign` -1) the counts of its unit.
    pub fn household(&mut self, unit_id: i64, barriers: Barriers, sign: i64) {
        self.add(unit_id, figure::HOUSEHOLDS, "", sign);
        for b in barriers.iter() {
            self.add(unit_id, figure::barrier(b.as_str()), "", sign);
        }
    }

    /// A household's barrier flags changing.
    pub fn household_barriers(&mut self, unit_id: i64, before: Barriers, after: Barriers) {
        for b in Barrier::ALL {
            match (before.contains(b), after.contains(b)) {
                (false, true) => self.add(unit_id, figure::barrier(b.as_str()), "", 1),
                (true, false) => self.add(unit_id, figure::barrier(b.as_str()), "", -1),
                _ => {}
            }
        }
    }

    /// A visit recorded: `first` when it is the household's first visit.
    pub fn visit(&mut self, unit_id: i64, month: &str, result: VisitResult, barriers: Barriers, first: bool) {
        self.visits(unit_id, month, result, barriers, 1);
        if first {
            self.add(unit_id, figure::HOUSEHOLDS_VISITED, "", 1);
        }
    }

    /// `n` visits alike, in one month.
    pub fn visits(&mut self, unit_id: i64, month: &str, result: VisitResult, barriers: Barriers, n: i64) {
        self.add(unit_id, figure::VISITS, month, n);
        if result == VisitResult::Met {
            self.add(unit_id, figure::VISITS_MET, month, n);
        }
        for b in barriers.iter() {
            self.add(unit_id, figure::visit_barrier(b.as_str()), month, n);
        }
    }

    /// A subject's status changing from `from` (none: not started) to `to` (none: reset).
    pub fn status(&mut self, unit_id: i64, service_id: i64, from: Option<i64>, to: Option<i64>) {
        if from == to {
            return;
        }
        if let Some(f) = from {
            self.add(unit_id, figure::status(service_id, f), "", -1);
        }
        if let Some(t) = to {
            self.add(unit_id, figure::status(service_id, t), "", 1);
        }
    }

    /// A resident entering (`sign` 1) or leaving (`sign` -1) the counts of their unit, with
    /// their traits.
    pub fn resident(&mut self, unit_id: i64, traits: &Traits, youth_union: bool, sign: i64) {
        self.add(unit_id, figure::RESIDENTS, "", sign);
        if youth_union {
            self.add(unit_id, figure::YOUTH_UNION, "", sign);
        }
        for p in traits.parts() {
            self.add(unit_id, figure::slice(figure::RESIDENTS, &p), "", sign);
        }
    }

    /// A person's status for a service changing, counted by their traits too.
    pub fn person_status(&mut self, unit_id: i64, service_id: i64, from: Option<i64>, to: Option<i64>, t: &Traits) {
        if from == to {
            return;
        }
        self.status(unit_id, service_id, from, to);
        for p in t.parts() {
            if let Some(f) = from {
                self.add(unit_id, figure::slice(&figure::status(service_id, f), &p), "", -1);
            }
            if let Some(to) = to {
                self.add(unit_id, figure::slice(&figure::status(service_id, to), &p), "", 1);
            }
        }
    }

    /// A person's traits changing (groups set, data removed on request): their counts move
    /// from the old traits to the new, for the residents and each status they hold.
    pub fn retrait(&mut self, unit_id: i64, statuses: &[(i64, i64)], before: &Traits, after: &Traits) {
        let bases = std::iter::once(figure::RESIDENTS.to_owned())
            .chain(statuses.iter().map(|(service, status)| figure::status(*service, *status)));
        for base in bases {
            for p in before.parts() {
                self.add(unit_id, figure::slice(&base, &p), "", -1);
            }
            for p in after.parts() {
                self.add(unit_id, figure::slice(&base, &p), "", 1);
            }
        }
    }

    /// Feedback counted at a unit in a month: received, answered, answered on time.
    pub fn feedback(&mut self, unit_id: i64, month: &str, (received, answered, on_time): (i64, i64, i64)) {
        self.add(unit_id, figure::FEEDBACK_RECEIVED, month, received);
        self.add(unit_id, figure::FEEDBACK_ANSWERED, month, answered);
        self.add(unit_id, figure::FEEDBACK_ON_TIME, month, on_time);
    }

    /// The folded deltas, without the zeros.
    pub fn into_vec(self) -> Vec<Delta> {
        self.0
            .into_iter()
            .filter(|(_, v)| *v != 0)
            .map(|((unit_id, figure, period), value)| Delta { unit_id, figure, period, value })
            .collect()
    }

    pub fn is_empty(&self) -> bool {
        self.0.values().all(|v| *v == 0)
    }
}

#[cfg(test)]
mod apportion_tests {
    use super::apportion;

    #[test]
    fn parts_add_up_to_the_total() {
        assert_eq!(apportion(1001, &[5_000, 5_000]), vec![501, 500]);
        assert_eq!(apportion(300, &[6_000, 4_000]), vec![180, 120]);
        assert_eq!(apportion(10, &[3_333, 3_333, 3_334]), vec![3, 3, 4]);
        assert_eq!(apportion(1, &[2_500, 7_500]), vec![0, 1]);
        assert_eq!(apportion(7, &[0, 0]), vec![0, 0]);
        for total in [0, 1, 2, 99, 12_345] {
            assert_eq!(apportion(total, &[1_234, 5_678, 3_088]).iter().sum::<i64>(), total);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_batch_of_visits_folds_into_few_deltas() {
        let mut d = Deltas::default();
        for i in 0..100 {
            d.visit(7, "202410", VisitResult::Met, Barriers::of(&[Barrier::NoSmartphone]), i % 2 == 0);
            d.status(7, 1, None, Some(1));
        }
        let v = d.into_vec();
        assert_eq!(v.len(), 5);
        let get = |f: &str| v.iter().find(|x| x.figure == f).map(|x| x.value);
        assert_eq!(get("visits"), Some(100));
        assert_eq!(get("visits_met"), Some(100));
        assert_eq!(get("households_visited"), Some(50));
        assert_eq!(get("status:1:1"), Some(100));
        assert_eq!(get("visit_barrier:no_smartphone"), Some(100));
    }

    #[test]
    fn a_persons_figures_are_counted_by_trait() {
        let t = Traits::new(Some("f"), Some(1958), Traits::bits(&[1, 3]));
        assert_eq!(t.parts(), ["sex:f", "born:1958", "group:1", "group:3"]);
        assert!(t.in_group(3) && !t.in_group(2) && !t.in_group(0) && !t.in_group(63));
        let mut d = Deltas::default();
        d.resident(5, &t, true, 1);
        d.person_status(5, 2, None, Some(4), &t);
        d.person_status(5, 2, Some(4), Some(6), &t);
        let v = d.into_vec();
        let get = |f: &str| v.iter().find(|x| x.figure == f).map(|x| x.value);
        assert_eq!(get("residents"), Some(1));
        assert_eq!(get("youth_union"), Some(1));
        assert_eq!(get("~residents|born:1958"), Some(1));
        assert_eq!(get("status:2:6"), Some(1));
        assert_eq!(get("~status:2:6|sex:f"), Some(1));
        assert_eq!(get("~status:2:6|group:3"), Some(1));
        assert_eq!(get("~status:2:4|sex:f"), None, "moved on: nothing left at the first status");
        // Data removed on request: the totals stay, the traits go.
        let mut d = Deltas::default();
        d.retrait(5, &[(2, 6)], &t, &Traits::new(None, None, Traits::bits(&[1])));
        let v = d.into_vec();
        let get = |f: &str| v.iter().find(|x| x.figure == f).map(|x| x.value);
        assert_eq!(get("~status:2:6|sex:f"), Some(-1));
        assert_eq!(get("~residents|group:3"), Some(-1));
        assert_eq!(get("~residents|group:1"), None, "still a youth-union member");
        assert!(figure::slice("residents", "sex:f").as_str() > "visits", "after every plain figure");
        assert_eq!(Traits::new(Some("x"), None, -5), Traits::default());
    }

    #[test]
    fn changes_that_cancel_leave_nothing() {
        let mut d = Deltas::default();
        d.status(3, 2, None, Some(2));
        d.status(3, 2, Some(2), None);
        d.household_barriers(3, Barriers(0), Barriers(0));
        assert!(d.is_empty());
        assert!(d.into_vec().is_empty());
    }
}
