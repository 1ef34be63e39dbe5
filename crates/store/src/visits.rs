//! Visits: a batch of door knocks stored at once, idempotently, with the subjects' statuses
//! moving forward and the roll-ups updated in the same transaction.

use std::collections::{HashMap, HashSet};

use ngoso_core::Invalid;
use ngoso_core::outreach::{Barriers, VisitResult, advances, month_of};
use ngoso_core::rollup::Deltas;
use ngoso_core::unit::UnitPath;
use serde::Serialize;
use sqlx::QueryBuilder;

use crate::{Db, Result, StoreError, Tx, backend, now, on_db, on_tx, rollups};

/// One outcome of a visit: a subject's new status for a service.
#[derive(Debug, Clone, PartialEq)]
pub struct OutcomeInput {
    pub service_id: i64,
    /// 0 when the service's subject is the household.
    pub resident_id: i64,
    pub status_id: i64,
    /// The status's rank within its service.
    pub rank: i32,
    /// Whether the service's subject is a person.
    pub person: bool,
}

/// A visit to store; the catalogue part is already checked by the caller.
#[derive(Debug, Clone)]
pub struct VisitInput {
    pub id: String,
    pub household_id: i64,
    pub team_id: i64,
    pub member_id: Option<i64>,
    pub visited_at: i64,
    pub result: VisitResult,
    pub barriers: Barriers,
    pub note: String,
    pub outcomes: Vec<OutcomeInput>,
}

/// What became of one visit of a batch.
#[derive(Debug, Clone, PartialEq)]
pub enum Stored {
    /// Stored now.
    New,
    /// Stored before (same id): nothing changed.
    Duplicate,
    /// Refused; nothing of it was stored.
    Refused(Invalid),
}

/// What the caller lets this user do: whether they may record visits for a team whose unit
/// is at `team_path`.
pub type MayRecord<'a> = &'a (dyn Fn(i64, &UnitPath) -> bool + Sync);

struct HouseholdRow {
    unit_id: i64,
    path: UnitPath,
}

/// Keys per `IN (…)` list.
const CHUNK: usize = 256;

/// A batch of visits from one caller: who records them and what they may record.
pub struct Job<'a> {
    pub user_id: Option<i64>,
    pub visits: &'a [VisitInput],
    pub may_record: MayRecord<'a>,
    /// The caller may record only for teams they are an active member of (checked in the
    /// same transaction, so a member who just left cannot record).
    pub members_only: bool,
}

/// Stores a batch of visits in one transaction. Each visit is checked on its own: the good
/// ones are stored even when others are refused.
pub async fn ingest(
    db: &Db,
    user_id: Option<i64>,
    visits: &[VisitInput],
    may_record: MayRecord<'_>,
) -> Result<Vec<Stored>> {
    let mut out = ingest_jobs(db, &[Job { user_id, visits, may_record, members_only: false }]).await?;
    Ok(out.pop().unwrap_or_default())
}

/// Stores the batches of several callers in one transaction (group commit): each visit is
/// checked with its own caller's rights; the answers come back per batch, in order.
pub async fn ingest_jobs(db: &Db, jobs: &[Job<'_>]) -> Result<Vec<Vec<Stored>>> {
    let mut all: Vec<Item<'_>> = Vec::new();
    for j in jobs {
        let member = if j.members_only { j.user_id } else { None };
        all.extend(j.visits.iter().map(|v| (v, j.user_id, j.may_record, member)));
    }
    let flat = ingest_retrying(db, &all).await?;
    let mut it = flat.into_iter();
    Ok(jobs.iter().map(|j| it.by_ref().take(j.visits.len()).collect()).collect())
}

/// A visit with its caller, their rights, and the user whose team membership it needs.
type Item<'a> = (&'a VisitInput, Option<i64>, MayRecord<'a>, Option<i64>);

async fn ingest_retrying(db: &Db, items: &[Item<'_>]) -> Result<Vec<Stored>> {
    let mut attempt = 0;
    loop {
        match ingest_once(db, items).await {
            Err(StoreError::Db(sqlx::Error::Database(e)))
                if attempt < 5 && matches!(e.code().as_deref(), Some("40P01") | Some("40001")) =>
            {
                // A deadlock or serialisation failure on PostgreSQL: the whole batch is retried.
                attempt += 1;
                tokio::time::sleep(std::time::Duration::from_millis(5 << attempt)).await;
            }
            other => return other,
        }
    }
}

async fn ingest_once(db: &Db, items: &[Item<'_>]) -> Result<Vec<Stored>> {
    let visits: Vec<&VisitInput> = items.iter().map(|i| i.0).collect();
    let t = now();
    let mut out: Vec<Option<Stored>> = vec![None; visits.len()];
    let mut tx = db.begin().await?;

    let mut household_ids: Vec<i64> = visits.iter().map(|v| v.household_id).collect();
    household_ids.sort_unstable();
    household_ids.dedup();
    // Loading the households also locks them on PostgreSQL (SQLite's writer is alone).
    let households = load_households(&mut tx, &household_ids).await?;
    let existing = existing_ids(&mut tx, &visits).await?;
    // Households visited before: a first visit counts the household as reached.
    let mut visited = visited_households(&mut tx, &household_ids).await?;
    let mut team_ids: Vec<i64> = visits.iter().map(|v| v.team_id).collect();
    team_ids.sort_unstable();
    team_ids.dedup();
    let teams = load_team_paths(&mut tx, &team_ids).await?;
    let mut members: Vec<i64> = items.iter().filter_map(|i| i.3).collect();
    members.sort_unstable();
    members.dedup();
    let memberships = load_memberships(&mut tx, &members).await?;
    // Only what the batch's outcomes can touch: its residents, its services.
    let mut resident_ids: Vec<i64> =
        visits.iter().flat_map(|v| v.outcomes.iter().filter(|o| o.person).map(|o| o.resident_id)).collect();
    resident_ids.sort_unstable();
    resident_ids.dedup();
    let residents = load_residents(&mut tx, &resident_ids).await?;
    let mut service_ids: Vec<i64> = visits.iter().flat_map(|v| v.outcomes.iter().map(|o| o.service_id)).collect();
    service_ids.sort_unstable();
    service_ids.dedup();
    let mut statuses = if service_ids.is_empty() {
        HashMap::new()
    } else {
        load_statuses(&mut tx, &household_ids, &service_ids).await?
    };

    let mut seen: HashSet<&str> = HashSet::new();
    let mut deltas = Deltas::default();
    let mut changed: StatusMap = HashMap::new();
    let mut to_insert: Vec<(&VisitInput, Option<i64>)> = Vec::new();

    for (i, &(v, user_id, may_record, member)) in items.iter().enumerate() {
        if existing.contains(v.id.as_str()) || !seen.insert(v.id.as_str()) {
            out[i] = Some(Stored::Duplicate);
            continue;
        }
        let in_team = member.is_none_or(|u| memberships.contains(&(u, v.team_id)));
        if let Err(e) = check(v, t, &households, &teams, &residents, may_record, in_team) {
            out[i] = Some(Stored::Refused(e));
            seen.remove(v.id.as_str());
            continue;
        }
        let h = &households[&v.household_id];
        let first = visited.insert(v.household_id);
        deltas.visit(h.unit_id, &month_of(v.visited_at), v.result, v.barriers, first);
        for o in &v.outcomes {
            let key = (o.service_id, v.household_id, o.resident_id);
            let current = statuses.get(&key).copied();
            if advances(current.map_or(0, |c| c.1), o.rank) {
                deltas.status(h.unit_id, o.service_id, current.map(|c| c.0), Some(o.status_id));
                statuses.insert(key, (o.status_id, o.rank));
                changed.insert(key, (o.status_id, o.rank));
            }
        }
        to_insert.push((v, user_id));
        out[i] = Some(Stored::New);
    }

    insert_visits(&mut tx, &to_insert, t).await?;
    upsert_statuses(&mut tx, &changed, t).await?;
    // The households' paths give their units' ancestry: no need to read it again.
    let ancestry = households.values().map(|h| (h.unit_id, h.path.ids())).collect();
    rollups::apply_known(&mut tx, deltas.into_vec(), ancestry).await?;
    tx.commit().await?;
    Ok(out.into_iter().map(|o| o.expect("every visit has an answer")).collect())
}

fn check(
    v: &VisitInput,
    now: i64,
    households: &HashMap<i64, HouseholdRow>,
    teams: &HashMap<i64, UnitPath>,
    residents: &HashMap<i64, i64>,
    may_record: MayRecord<'_>,
    in_team: bool,
) -> std::result::Result<(), Invalid> {
    if v.visited_at > now + 300 {
        return Err(Invalid::field("visit-time-future", "visited_at"));
    }
    if v.visited_at < 946_684_800 {
        return Err(Invalid::field("visit-time-invalid", "visited_at"));
    }
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
    let mut subjects = HashSet::new();
    for o in &v.outcomes {
        if o.person {
            if residents.get(&o.resident_id) != Some(&v.household_id) {
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

fn in_list<DB: sqlx::Database>(qb: &mut QueryBuilder<DB>, ids: &[i64])
where
    for<'e> i64: sqlx::Encode<'e, DB> + sqlx::Type<DB>,
{
    let mut sep = qb.separated(", ");
    for id in ids {
        sep.push_bind(*id);
    }
}

async fn existing_ids(tx: &mut Tx, visits: &[&VisitInput]) -> Result<HashSet<String>> {
    let ids: Vec<&str> = visits.iter().map(|v| v.id.as_str()).collect();
    let mut out = HashSet::new();
    for chunk in crate::batch::padded(&ids, CHUNK) {
        let rows: Vec<String> = on_tx!(tx, c => {
            let mut qb = QueryBuilder::new("SELECT id FROM visits WHERE id IN (");
            let mut sep = qb.separated(", ");
            for id in &chunk {
                sep.push_bind(*id);
            }
            qb.push(")");
            qb.build_query_scalar::<String>().fetch_all(c).await
        })?;
        out.extend(rows);
    }
    Ok(out)
}

async fn load_households(tx: &mut Tx, ids: &[i64]) -> Result<HashMap<i64, HouseholdRow>> {
    let mut out = HashMap::with_capacity(ids.len());
    for chunk in crate::batch::padded(ids, CHUNK) {
        let lock = if matches!(tx, Tx::Pg(_)) { ") ORDER BY h.id FOR UPDATE OF h" } else { ")" };
        let rows: Vec<(i64, i64, String)> = on_tx!(tx, c => {
            let mut qb = QueryBuilder::new(
                "SELECT h.id, h.unit_id, u.path FROM households h JOIN units u ON u.id = h.unit_id WHERE h.id IN (");
            in_list(&mut qb, &chunk);
            qb.push(lock);
            qb.build_query_as::<(i64, i64, String)>().fetch_all(c).await
        })?;
        for (id, unit_id, path) in rows {
            out.insert(id, HouseholdRow { unit_id, path: UnitPath::from_stored(path) });
        }
    }
    Ok(out)
}

/// Which of these households have any visit (read from the index by household, whose
/// pages the new visits are about to change anyway).
async fn visited_households(tx: &mut Tx, ids: &[i64]) -> Result<HashSet<i64>> {
    let mut out = HashSet::new();
    for chunk in crate::batch::padded(ids, CHUNK) {
        let rows: Vec<i64> = on_tx!(tx, c => {
            let mut qb = QueryBuilder::new("SELECT DISTINCT household_id FROM visits WHERE household_id IN (");
            in_list(&mut qb, &chunk);
            qb.push(")");
            qb.build_query_scalar::<i64>().fetch_all(c).await
        })?;
        out.extend(rows);
    }
    Ok(out)
}

async fn load_team_paths(tx: &mut Tx, ids: &[i64]) -> Result<HashMap<i64, UnitPath>> {
    let mut out = HashMap::new();
    for chunk in crate::batch::padded(ids, CHUNK) {
        let rows: Vec<(i64, String)> = on_tx!(tx, c => {
            let mut qb = QueryBuilder::new("SELECT t.id, u.path FROM teams t JOIN units u ON u.id = t.unit_id WHERE t.id IN (");
            in_list(&mut qb, &chunk);
            qb.push(")");
            qb.build_query_as::<(i64, String)>().fetch_all(c).await
        })?;
        out.extend(rows.into_iter().map(|(id, p)| (id, UnitPath::from_stored(p))));
    }
    Ok(out)
}

/// (user, team) pairs of the active memberships of these users.
async fn load_memberships(tx: &mut Tx, user_ids: &[i64]) -> Result<HashSet<(i64, i64)>> {
    let mut out = HashSet::new();
    let today = crate::teams::today();
    for chunk in crate::batch::padded(user_ids, CHUNK) {
        let rows: Vec<(i64, i64)> = on_tx!(tx, c => {
            let mut qb = QueryBuilder::new("SELECT user_id, team_id FROM team_members WHERE joined_on <= ");
            qb.push_bind(today);
            qb.push(" AND (left_on IS NULL OR left_on > ");
            qb.push_bind(today);
            qb.push(") AND user_id IN (");
            in_list(&mut qb, &chunk);
            qb.push(")");
            qb.build_query_as::<(i64, i64)>().fetch_all(c).await
        })?;
        out.extend(rows);
    }
    Ok(out)
}

/// Resident id → household id, for these residents.
async fn load_residents(tx: &mut Tx, resident_ids: &[i64]) -> Result<HashMap<i64, i64>> {
    let mut out = HashMap::new();
    for chunk in crate::batch::padded(resident_ids, CHUNK) {
        let rows: Vec<(i64, i64)> = on_tx!(tx, c => {
            let mut qb = QueryBuilder::new("SELECT id, household_id FROM residents WHERE id IN (");
            in_list(&mut qb, &chunk);
            qb.push(")");
            qb.build_query_as::<(i64, i64)>().fetch_all(c).await
        })?;
        out.extend(rows);
    }
    Ok(out)
}

type StatusMap = HashMap<(i64, i64, i64), (i64, i32)>;

async fn load_statuses(tx: &mut Tx, household_ids: &[i64], service_ids: &[i64]) -> Result<StatusMap> {
    let mut out = HashMap::new();
    let services = crate::batch::padded(service_ids, 16).concat();
    for chunk in crate::batch::padded(household_ids, CHUNK) {
        let rows: Vec<(i64, i64, i64, i64, i32)> = on_tx!(tx, c => {
            let mut qb = QueryBuilder::new(
                "SELECT service_id, household_id, resident_id, status_id, rank FROM subject_statuses WHERE household_id IN (");
            in_list(&mut qb, &chunk);
            qb.push(") AND service_id IN (");
            in_list(&mut qb, &services);
            qb.push(")");
            qb.build_query_as::<(i64, i64, i64, i64, i32)>().fetch_all(c).await
        })?;
        out.extend(rows.into_iter().map(|(s, h, r, st, rank)| ((s, h, r), (st, rank))));
    }
    Ok(out)
}

async fn insert_visits(tx: &mut Tx, visits: &[(&VisitInput, Option<i64>)], t: i64) -> Result<()> {
    let seqs = backend::reserve_ids(tx, "visits", visits.len()).await?;
    let numbered: Vec<(i64, &VisitInput, Option<i64>)> =
        seqs.iter().copied().zip(visits.iter().copied()).map(|(s, (v, u))| (s, v, u)).collect();
    for chunk in crate::batch::chunks(&numbered, 64) {
        on_tx!(tx, c => {
            let mut qb = QueryBuilder::new(
                "INSERT INTO visits (seq, id, household_id, team_id, member_id, user_id, visited_at, month, result, barriers, note, received_at) ");
            qb.push_values(chunk, |mut b, (seq, v, user_id)| {
                b.push_bind(*seq).push_bind(v.id.as_str()).push_bind(v.household_id).push_bind(v.team_id).push_bind(v.member_id).push_bind(*user_id)
                    .push_bind(v.visited_at).push_bind(month_of(v.visited_at)).push_bind(v.result.as_str()).push_bind(v.barriers.0)
                    .push_bind(v.note.as_str()).push_bind(t);
            });
            qb.build().execute(c).await.map(|r| r.rows_affected())
        })?;
    }
    let outcomes: Vec<(i64, &OutcomeInput)> =
        numbered.iter().flat_map(|(seq, v, _)| v.outcomes.iter().map(move |o| (*seq, o))).collect();
    for chunk in crate::batch::chunks(&outcomes, 128) {
        on_tx!(tx, c => {
            let mut qb = QueryBuilder::new("INSERT INTO visit_outcomes (visit_seq, service_id, resident_id, status_id) ");
            qb.push_values(chunk, |mut b, (seq, o)| {
                b.push_bind(*seq).push_bind(o.service_id).push_bind(o.resident_id).push_bind(o.status_id);
            });
            qb.build().execute(c).await.map(|r| r.rows_affected())
        })?;
    }
    Ok(())
}

async fn upsert_statuses(tx: &mut Tx, changed: &StatusMap, t: i64) -> Result<()> {
    let mut rows: Vec<_> = changed.iter().collect();
    rows.sort_by_key(|r| *r.0);
    for chunk in crate::batch::chunks(&rows, 128) {
        on_tx!(tx, c => {
            let mut qb = QueryBuilder::new("INSERT INTO subject_statuses (service_id, household_id, resident_id, status_id, rank, updated_at) ");
            qb.push_values(chunk, |mut b, ((s, h, r), (st, rank))| {
                b.push_bind(*s).push_bind(*h).push_bind(*r).push_bind(*st).push_bind(*rank).push_bind(t);
            });
            qb.push(
                " ON CONFLICT (household_id, service_id, resident_id) DO UPDATE SET status_id = excluded.status_id, \
                 rank = excluded.rank, updated_at = excluded.updated_at",
            );
            qb.build().execute(c).await.map(|r| r.rows_affected())
        })?;
    }
    Ok(())
}

/// A visit as listed on a household's page.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct VisitRow {
    pub id: String,
    pub team_id: i64,
    pub team_name: String,
    pub member_name: Option<String>,
    pub visited_at: i64,
    pub result: String,
    pub barriers: i32,
    pub note: String,
}

/// A household's visits, newest first.
pub async fn of_household(db: &Db, household_id: i64, limit: i64) -> Result<Vec<VisitRow>> {
    let sql = "SELECT v.id, v.team_id, t.name AS team_name, m.full_name AS member_name, v.visited_at, v.result, v.barriers, v.note \
               FROM visits v JOIN teams t ON t.id = v.team_id LEFT JOIN team_members m ON m.id = v.member_id \
               WHERE v.household_id = $1 ORDER BY v.visited_at DESC, v.id LIMIT $2";
    Ok(on_db!(db, p => sqlx::query_as::<_, VisitRow>(sql).bind(household_id).bind(limit).fetch_all(p).await)?)
}

/// A subject's current status.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SubjectStatus {
    pub service_id: i64,
    pub resident_id: i64,
    pub status_id: i64,
    pub rank: i32,
    pub updated_at: i64,
}

/// The current statuses of a household and its residents.
pub async fn statuses_of_household(db: &Db, household_id: i64) -> Result<Vec<SubjectStatus>> {
    let sql = "SELECT service_id, resident_id, status_id, rank, updated_at FROM subject_statuses WHERE household_id = $1 ORDER BY service_id, resident_id";
    Ok(on_db!(db, p => sqlx::query_as::<_, SubjectStatus>(sql).bind(household_id).fetch_all(p).await)?)
}

/// An officer's correction of a subject's status: to any status of the service, or back to
/// "not started" (`to` `None`). Recorded with its reason.
#[allow(clippy::too_many_arguments)]
pub async fn correct_status(
    db: &Db,
    user_id: i64,
    service_id: i64,
    household_id: i64,
    resident_id: i64,
    to: Option<(i64, i32)>,
    reason: &str,
) -> Result<Option<i64>> {
    let mut tx = db.begin().await?;
    backend::lock_households(&mut tx, &[household_id]).await?;
    let unit: Option<i64> = on_tx!(&mut tx, c => sqlx::query_scalar("SELECT unit_id FROM households WHERE id = $1")
        .bind(household_id).fetch_optional(c).await)?;
    let unit = unit.ok_or(StoreError::NotFound)?;
    let current: Option<i64> = on_tx!(&mut tx, c => sqlx::query_scalar(
        "SELECT status_id FROM subject_statuses WHERE service_id = $1 AND household_id = $2 AND resident_id = $3")
        .bind(service_id).bind(household_id).bind(resident_id).fetch_optional(c).await)?;
    let t = now();
    match to {
        Some((status_id, rank)) => {
            on_tx!(&mut tx, c => sqlx::query(
                "INSERT INTO subject_statuses (service_id, household_id, resident_id, status_id, rank, updated_at) VALUES ($1, $2, $3, $4, $5, $6) \
                 ON CONFLICT (household_id, service_id, resident_id) DO UPDATE SET status_id = excluded.status_id, rank = excluded.rank, updated_at = excluded.updated_at")
                .bind(service_id).bind(household_id).bind(resident_id).bind(status_id).bind(rank).bind(t)
                .execute(c).await.map(|r| r.rows_affected()))?;
        }
        None => {
            on_tx!(&mut tx, c => sqlx::query(
                "DELETE FROM subject_statuses WHERE service_id = $1 AND household_id = $2 AND resident_id = $3")
                .bind(service_id).bind(household_id).bind(resident_id).execute(c).await.map(|r| r.rows_affected()))?;
        }
    }
    on_tx!(&mut tx, c => sqlx::query(
        "INSERT INTO status_corrections (service_id, household_id, resident_id, from_status_id, to_status_id, reason, user_id, at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)")
        .bind(service_id).bind(household_id).bind(resident_id).bind(current).bind(to.map(|x| x.0)).bind(reason).bind(user_id).bind(t)
        .execute(c).await.map(|r| r.rows_affected()))?;
    let mut d = Deltas::default();
    d.status(unit, service_id, current, to.map(|x| x.0));
    rollups::apply(&mut tx, d.into_vec()).await?;
    crate::audit::record_in(
        &mut tx,
        crate::audit::Event {
            user_id: Some(user_id),
            action: "status.correct",
            object_type: "household",
            object_id: &household_id.to_string(),
            detail: &format!(
                "service {service_id} resident {resident_id}: {current:?} → {:?}: {reason}",
                to.map(|x| x.0)
            ),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(current)
}

/// Number of visits.
pub async fn count(db: &Db) -> Result<i64> {
    Ok(on_db!(db, p => sqlx::query_scalar("SELECT COUNT(*) FROM visits").fetch_one(p).await)?)
}
