//! What a batch of visits needs to know, and what to write for it: the keys it reads, what
//! was read, and the answer to each visit with the rows and roll-up deltas that follow.

use std::collections::HashMap as StdHashMap;

// The ingest's maps and sets are keyed by ids and hashed thousands of times per group commit,
// under SQLite's write lock: a fast hash, not SipHash (a batch holds at most a few thousand
// keys, so a crafted collision costs little).
use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};

use ngoso_core::outreach::{advances, month_of};
use ngoso_core::rollup::{Deltas, Traits};
use ngoso_core::unit::UnitPath;

use super::check::check;
use super::{Item, Stored, VisitInput};

/// A household of the batch: its unit and the unit's path.
pub(crate) struct HouseholdRow {
    pub(crate) unit_id: i64,
    pub(crate) path: UnitPath,
}

/// The distinct keys a batch reads, each sorted.
pub(crate) struct Keys {
    pub(crate) households: Vec<i64>,
    pub(crate) teams: Vec<i64>,
    /// Users whose team memberships are checked.
    pub(crate) members: Vec<i64>,
    /// Team members named as the visitors.
    pub(crate) visitors: Vec<i64>,
    /// Residents named by the outcomes of services about persons.
    pub(crate) residents: Vec<i64>,
    pub(crate) services: Vec<i64>,
}

impl Keys {
    pub(crate) fn of(items: &[Item<'_>]) -> Keys {
        fn sorted(mut v: Vec<i64>) -> Vec<i64> {
            v.sort_unstable();
            v.dedup();
            v
        }
        let visits = || items.iter().map(|i| i.0);
        Keys {
            households: sorted(visits().map(|v| v.household_id).collect()),
            teams: sorted(visits().map(|v| v.team_id).collect()),
            members: sorted(items.iter().filter_map(|i| i.3).collect()),
            visitors: sorted(visits().filter_map(|v| v.member_id).collect()),
            residents: sorted(
                visits().flat_map(|v| v.outcomes.iter().filter(|o| o.person).map(|o| o.resident_id)).collect(),
            ),
            services: sorted(visits().flat_map(|v| v.outcomes.iter().map(|o| o.service_id)).collect()),
        }
    }
}

/// What a batch needs to know from the database before deciding on each visit.
pub(crate) struct Loaded {
    pub(crate) households: HashMap<i64, HouseholdRow>,
    /// The batch's visits stored before: (household, id); a visit's id is unique within its
    /// household.
    pub(crate) existing: HashSet<(i64, String)>,
    /// Households visited before: a first visit counts the household as reached.
    pub(crate) visited: HashSet<i64>,
    pub(crate) teams: HashMap<i64, UnitPath>,
    pub(crate) memberships: HashSet<(i64, i64)>,
    /// Team member → their team, for the visitors named.
    pub(crate) visitors: HashMap<i64, i64>,
    /// Residents named: their household and what their figures are counted by.
    pub(crate) residents: HashMap<i64, (i64, Traits)>,
    pub(crate) statuses: StatusMap,
    /// The statuses of the batch's services: status → (its service, rank, about a person).
    pub(crate) steps: HashMap<i64, (i64, i32, bool)>,
}

/// What to write for a batch, and the answer to each visit.
pub(crate) struct Plan<'a> {
    pub(crate) out: Vec<Stored>,
    pub(crate) deltas: Deltas,
    /// Ancestry of every unit the deltas name (from the households' paths).
    pub(crate) ancestry: StdHashMap<i64, Vec<i64>>,
    /// Statuses that moved, in the tables' key order (household, service, resident), so
    /// that concurrent writers lock them in the same order.
    pub(crate) changed: Vec<(StatusKey, (i64, i32))>,
    pub(crate) to_insert: Vec<(&'a VisitInput, Option<i64>)>,
}

pub(crate) fn plan<'a>(items: &[Item<'a>], t: i64, mut l: Loaded) -> Plan<'a> {
    let mut out: Vec<Option<Stored>> = vec![None; items.len()];
    // The visits stored before and those met earlier in the batch: either way, a duplicate.
    let existing = std::mem::take(&mut l.existing);
    let mut seen: HashSet<(i64, &str)> = existing.iter().map(|(h, id)| (*h, id.as_str())).collect();
    let mut deltas = Deltas::default();
    let mut changed: StatusMap = HashMap::default();
    let mut to_insert: Vec<(&VisitInput, Option<i64>)> = Vec::new();

    for (i, &(v, user_id, may_record, member)) in items.iter().enumerate() {
        let key = (v.household_id, v.id.as_str());
        if !seen.insert(key) {
            out[i] = Some(Stored::Duplicate);
            continue;
        }
        let in_team = member.is_none_or(|u| l.memberships.contains(&(u, v.team_id)));
        if let Err(e) = check(v, t, &l, may_record, in_team) {
            out[i] = Some(Stored::Refused(e));
            seen.remove(&key);
            continue;
        }
        let h = &l.households[&v.household_id];
        let first = l.visited.insert(v.household_id);
        deltas.visit(h.unit_id, &month_of(v.visited_at), v.result, v.barriers, first);
        for o in &v.outcomes {
            let key = (o.service_id, v.household_id, o.resident_id);
            let current = l.statuses.get(&key).copied();
            if advances(current.map_or(0, |c| c.1), o.rank) {
                match l.residents.get(&o.resident_id) {
                    Some((_, traits)) if o.person => {
                        deltas.person_status(h.unit_id, o.service_id, current.map(|c| c.0), Some(o.status_id), traits)
                    }
                    _ => deltas.status(h.unit_id, o.service_id, current.map(|c| c.0), Some(o.status_id)),
                }
                l.statuses.insert(key, (o.status_id, o.rank));
                changed.insert(key, (o.status_id, o.rank));
            }
        }
        to_insert.push((v, user_id));
        out[i] = Some(Stored::New);
    }
    // The households' paths give their units' ancestry: no need to read it again.
    let ancestry = l.households.values().map(|h| (h.unit_id, h.path.ids())).collect();
    let mut changed: Vec<_> = changed.into_iter().collect();
    changed.sort_unstable_by_key(|((s, h, r), _)| (*h, *s, *r));
    Plan {
        out: out.into_iter().map(|o| o.expect("every visit has an answer")).collect(),
        deltas,
        ancestry,
        changed,
        to_insert,
    }
}

/// A subject's status key: (service, household, resident).
pub(crate) type StatusKey = (i64, i64, i64);
pub(crate) type StatusMap = HashMap<StatusKey, (i64, i32)>;
