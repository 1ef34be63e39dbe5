//! The rules one visit of a batch must pass, against what the batch read: the caller's
//! rights, the team's area, the visitor, the statuses and the subjects named.

use rustc_hash::FxHashSet as HashSet;

use ngoso_core::Invalid;
use ngoso_core::outreach::check_visit_time;

use super::plan::Loaded;
use super::{MayRecord, VisitInput};

/// Checks one visit; `in_team`: whether the caller's team membership, if it is needed, holds.
pub(super) fn check(
    v: &VisitInput,
    now: i64,
    l: &Loaded,
    may_record: MayRecord<'_>,
    in_team: bool,
) -> std::result::Result<(), Invalid> {
    let Loaded { households, teams, visitors, residents, steps, .. } = l;
    check_visit_time(v.visited_at, now)?;
    let h = households
        .get(&v.household_id)
        .ok_or_else(|| Invalid::field("household-unknown", "household_id").with_detail(v.household_id.to_string()))?;
    let team = teams
        .get(&v.team_id)
        .ok_or_else(|| Invalid::field("team-unknown", "team_id").with_detail(v.team_id.to_string()))?;
    if !in_team || !may_record(v.team_id, team) {
        return Err(Invalid::field("visit-team-not-yours", "team_id").with_detail(v.team_id.to_string()));
    }
    if !team.contains(&h.path) {
        return Err(Invalid::field("visit-outside-team-area", "household_id").with_detail(v.household_id.to_string()));
    }
    if let Some(m) = v.member_id
        && visitors.get(&m) != Some(&v.team_id)
    {
        return Err(Invalid::field("visit-member-not-in-team", "member_id").with_detail(m.to_string()));
    }
    let mut subjects = HashSet::default();
    for o in &v.outcomes {
        // The caller names the status from the catalogue; the database confirms it (no
        // foreign key would).
        if steps.get(&o.status_id) != Some(&(o.service_id, o.rank, o.person)) {
            return Err(Invalid::field("status-unknown", "status").with_detail(o.status_id.to_string()));
        }
        if o.person {
            if residents.get(&o.resident_id).map(|r| r.0) != Some(v.household_id) {
                return Err(Invalid::field("resident-unknown", "resident_id").with_detail(o.resident_id.to_string()));
            }
        } else if o.resident_id != 0 {
            return Err(Invalid::field("outcome-subject-invalid", "resident_id").with_detail(o.resident_id.to_string()));
        }
        if !subjects.insert((o.service_id, o.resident_id)) {
            return Err(Invalid::field("outcome-duplicate", "outcomes").with_detail(o.service_id.to_string()));
        }
    }
    Ok(())
}
