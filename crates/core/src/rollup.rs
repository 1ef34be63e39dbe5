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
    fn changes_that_cancel_leave_nothing() {
        let mut d = Deltas::default();
        d.status(3, 2, None, Some(2));
        d.status(3, 2, Some(2), None);
        d.household_barriers(3, Barriers(0), Barriers(0));
        assert!(d.is_empty());
        assert!(d.into_vec().is_empty());
    }
}
