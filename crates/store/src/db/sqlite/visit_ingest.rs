//! The visit ingest on SQLite's own handle: single-key reads and single-row writes through
//! prepared statements, all on the calling thread, under the one write lock.

use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};

use ngoso_core::outreach::month_of;
use ngoso_core::unit::UnitPath;
use sqlx::sqlite::LockedSqliteHandle;

use super::{Locked, Row, SqliteError, Value, write_rollups};
use crate::db::dialect::Table;
use crate::rollups;
use crate::visits::plan::{HouseholdRow, Keys, Loaded, Plan, plan};
use crate::visits::{Item, Stored};
use crate::{Result, StoreError};

pub(crate) fn ingest(
    handle: &mut LockedSqliteHandle<'_>,
    items: &[Item<'_>],
    keys: &Keys,
    t: i64,
) -> Result<Vec<Stored>> {
    Locked::new(handle)
        .transaction(|conn| {
            let loaded = load(conn, items, keys)?;
            let plan = plan(items, t, loaded);
            write(conn, &plan, t)?;
            let folded = rollups::fold(plan.deltas.into_vec(), &plan.ancestry);
            write_rollups(conn, folded)?;
            Ok(plan.out)
        })
        .map_err(db_error)
}

fn db_error(e: SqliteError) -> StoreError {
    StoreError::Sqlite(e.to_string())
}

fn load(conn: &Locked<'_>, items: &[Item<'_>], keys: &Keys) -> std::result::Result<Loaded, SqliteError> {
    let mut households = HashMap::with_capacity_and_hasher(keys.households.len(), Default::default());
    let mut visited = HashSet::default();
    let mut statuses = HashMap::default();
    {
        let mut household =
            conn.prepare("SELECT h.unit_id, u.path FROM households h JOIN units u ON u.id = h.unit_id WHERE h.id = ?")?;
        let mut any_visit = conn.prepare("SELECT 1 FROM visits WHERE household_id = ? LIMIT 1")?;
        let mut status = conn
            .prepare("SELECT service_id, resident_id, status_id, rank FROM subject_statuses WHERE household_id = ?")?;
        for &id in &keys.households {
            let key = [Value::Int(id)];
            for (unit_id, path) in household.rows(&key, |r| (r.int(0), r.text(1)))? {
                households.insert(id, HouseholdRow { unit_id, path: UnitPath::from_stored(path) });
            }
            if !any_visit.rows(&key, |_| ())?.is_empty() {
                visited.insert(id);
            }
            if !keys.services.is_empty() {
                for (s, r, st, rank) in status.rows(&key, |r| (r.int(0), r.int(1), r.int(2), r.int(3)))? {
                    if keys.services.binary_search(&s).is_ok() {
                        statuses.insert((s, id, r), (st, rank as i32));
                    }
                }
            }
        }
    }
    let mut existing = HashSet::default();
    let mut visit = conn.prepare("SELECT 1 FROM visits WHERE household_id = ? AND id = ?")?;
    for (v, ..) in items {
        if !visit.rows(&[Value::Int(v.household_id), Value::Text(&v.id)], |_| ())?.is_empty() {
            existing.insert((v.household_id, v.id.clone()));
        }
    }
    let teams =
        by_id(conn, "SELECT u.path FROM teams t JOIN units u ON u.id = t.unit_id WHERE t.id = ?", &keys.teams, |r| {
            UnitPath::from_stored(r.text(0))
        })?;
    let mut memberships = HashSet::default();
    if !keys.members.is_empty() {
        // Dates are stored as sqlx writes them: `YYYY-MM-DD` text.
        let today = crate::teams::today().format("%Y-%m-%d").to_string();
        let mut member = conn.prepare(
            "SELECT team_id FROM team_members WHERE user_id = ? AND joined_on <= ? AND (left_on IS NULL OR left_on > ?)",
        )?;
        for &u in &keys.members {
            for team_id in member.rows(&[Value::Int(u), Value::Text(&today), Value::Text(&today)], |r| r.int(0))? {
                memberships.insert((u, team_id));
            }
        }
    }
    let visitors = by_id(conn, "SELECT team_id FROM team_members WHERE id = ?", &keys.visitors, |r| r.int(0))?;
    let residents = by_id(
        conn,
        "SELECT household_id, COALESCE(sex, ''), COALESCE(birth_year, 0), groups FROM residents WHERE id = ?",
        &keys.residents,
        |r| {
            let (sex, born) = (r.text(1), r.int(2));
            let traits =
                ngoso_core::rollup::Traits::new(Some(sex.as_str()), (born != 0).then_some(born as i32), r.int(3));
            (r.int(0), traits)
        },
    )?;
    let mut steps = HashMap::default();
    if !keys.services.is_empty() {
        let mut step = conn.prepare(
            "SELECT s.id, s.rank, v.subject = 'person' FROM service_statuses s JOIN services v ON v.id = s.service_id \
             WHERE s.service_id = ?",
        )?;
        for &service in &keys.services {
            for (id, rank, person) in step.rows(&[Value::Int(service)], |r| (r.int(0), r.int(1), r.int(2) != 0))? {
                steps.insert(id, (service, rank as i32, person));
            }
        }
    }
    Ok(Loaded { households, existing, visited, teams, memberships, visitors, residents, statuses, steps })
}

/// One row per id, by a statement with a single `?`; ids with no row are left out.
fn by_id<T>(
    conn: &Locked<'_>,
    sql: &str,
    ids: &[i64],
    f: impl Fn(&Row<'_>) -> T,
) -> std::result::Result<HashMap<i64, T>, SqliteError> {
    let mut out = HashMap::with_capacity_and_hasher(ids.len(), Default::default());
    if ids.is_empty() {
        return Ok(out);
    }
    let mut stmt = conn.prepare(sql)?;
    for &id in ids {
        for v in stmt.rows(&[Value::Int(id)], &f)? {
            out.insert(id, v);
        }
    }
    Ok(out)
}

fn write(conn: &Locked<'_>, plan: &Plan<'_>, t: i64) -> std::result::Result<(), SqliteError> {
    if plan.to_insert.is_empty() {
        return Ok(());
    }
    // The write lock is held: the numbers after the largest are free.
    let max = conn.prepare(Table::Visits.sqlite_max_id())?.rows(&[], |r| r.int(0))?;
    let mut seq = max.first().copied().unwrap_or(0);
    let mut visit = conn.prepare(
        "INSERT INTO visits (seq, id, household_id, team_id, member_id, user_id, visited_at, month, result, barriers, note, received_at) \
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )?;
    let mut outcome =
        conn.prepare("INSERT INTO visit_outcomes (visit_seq, service_id, resident_id, status_id) VALUES (?, ?, ?, ?)")?;
    let opt = |v: Option<i64>| v.map_or(Value::Null, Value::Int);
    for (v, user_id) in &plan.to_insert {
        seq += 1;
        let month = month_of(v.visited_at);
        visit.run(&[
            Value::Int(seq),
            Value::Text(&v.id),
            Value::Int(v.household_id),
            Value::Int(v.team_id),
            opt(v.member_id),
            opt(*user_id),
            Value::Int(v.visited_at),
            Value::Text(&month),
            Value::Text(v.result.as_str()),
            Value::Int(v.barriers.0 as i64),
            Value::Text(&v.note),
            Value::Int(t),
        ])?;
        for o in &v.outcomes {
            outcome.run(&[
                Value::Int(seq),
                Value::Int(o.service_id),
                Value::Int(o.resident_id),
                Value::Int(o.status_id),
            ])?;
        }
    }
    let mut status = conn.prepare(
        "INSERT INTO subject_statuses (service_id, household_id, resident_id, status_id, rank, updated_at) VALUES (?, ?, ?, ?, ?, ?) \
         ON CONFLICT (household_id, service_id, resident_id) DO UPDATE SET status_id = excluded.status_id, \
         rank = excluded.rank, updated_at = excluded.updated_at",
    )?;
    for ((s, h, r), (st, rank)) in &plan.changed {
        status.run(&[
            Value::Int(*s),
            Value::Int(*h),
            Value::Int(*r),
            Value::Int(*st),
            Value::Int(*rank as i64),
            Value::Int(t),
        ])?;
    }
    Ok(())
}
