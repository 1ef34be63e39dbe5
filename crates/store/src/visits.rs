//! Visits: a batch of door knocks stored at once, idempotently, with the subjects' statuses
//! moving forward and the roll-ups updated in the same transaction.

use std::collections::HashMap as StdHashMap;

// The ingest's maps and sets are keyed by ids and hashed thousands of times per group commit,
// under SQLite's write lock: a fast hash, not SipHash (a batch holds at most a few thousand
// keys, so a crafted collision costs little).
use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};

use ngoso_core::Invalid;
use ngoso_core::outreach::{Barriers, VisitResult, advances, month_of};
use ngoso_core::rollup::Deltas;
use ngoso_core::unit::UnitPath;
use serde::Serialize;
use sqlx::{Connection, PgConnection};

use crate::{Db, Result, StoreError, backend, now, on_db, on_tx, rollups};

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
    Ok(answers_per_job(jobs, ingest_retrying(db, None, &items_of(jobs)).await?))
}

/// One of the server's group-commit writers, storing batch after batch.
///
/// On PostgreSQL it keeps a connection of its own, opened at its first batch (and again after
/// a broken one, or one idle for five minutes): its statements then run on one backend, whose
/// plans and caches stay warm, instead of on whichever of the pool's connections comes next.
/// With four writers over a pool of sixteen, one visit per request ran on all sixteen
/// backends; on four, it stores 15–20 % more visits per second (bench/RESULTS.md). The
/// connection is not the pool's, so the pages never wait for it.
pub struct Writer {
    db: Db,
    own: Option<OwnConnection>,
}

/// A writer's own PostgreSQL connection, and when it last stored a batch.
struct OwnConnection {
    conn: PgConnection,
    used: std::time::Instant,
}

/// A connection idle for longer is opened anew rather than trusted: a firewall or a fail-over
/// may have dropped it on the way without the socket knowing, and the next batch would wait
/// for the kernel to give up on it.
const MAX_IDLE: std::time::Duration = std::time::Duration::from_secs(300);

impl OwnConnection {
    /// Opens one, named in `pg_stat_activity`, within the pool's time to acquire a connection.
    async fn open(pool: &sqlx::PgPool) -> Result<OwnConnection> {
        let opts = (*pool.connect_options()).clone().application_name("ngoso visit writer");
        let conn = tokio::time::timeout(pool.options().get_acquire_timeout(), PgConnection::connect_with(&opts))
            .await
            .map_err(|_| StoreError::Db(sqlx::Error::PoolTimedOut))??;
        Ok(OwnConnection { conn, used: std::time::Instant::now() })
    }
}

impl Writer {
    pub fn new(db: Db) -> Writer {
        Writer { db, own: None }
    }

    /// As [`ingest_jobs`], on this writer's connection.
    pub async fn ingest_jobs(&mut self, jobs: &[Job<'_>]) -> Result<Vec<Vec<Stored>>> {
        Ok(answers_per_job(jobs, ingest_retrying(&self.db, Some(&mut self.own), &items_of(jobs)).await?))
    }
}

fn items_of<'a>(jobs: &[Job<'a>]) -> Vec<Item<'a>> {
    let mut all: Vec<Item<'_>> = Vec::new();
    for j in jobs {
        let member = if j.members_only { j.user_id } else { None };
        all.extend(j.visits.iter().map(|v| (v, j.user_id, j.may_record, member)));
    }
    all
}

/// The flat answers cut back into one list per job, in order.
fn answers_per_job(jobs: &[Job<'_>], flat: Vec<Stored>) -> Vec<Vec<Stored>> {
    let mut it = flat.into_iter();
    jobs.iter().map(|j| it.by_ref().take(j.visits.len()).collect()).collect()
}

/// A visit with its caller, their rights, and the user whose team membership it needs.
type Item<'a> = (&'a VisitInput, Option<i64>, MayRecord<'a>, Option<i64>);

/// `own`: a writer's connection slot (PostgreSQL), or none to take a connection from the pool.
async fn ingest_retrying(
    db: &Db,
    mut own: Option<&mut Option<OwnConnection>>,
    items: &[Item<'_>],
) -> Result<Vec<Stored>> {
    let mut attempt = 0;
    loop {
        match ingest_once(db, own.as_deref_mut(), items).await {
            // A deadlock or serialisation failure on PostgreSQL, the same visit sent again
            // while its first copy was being stored by another writer (a unique violation on
            // its id), or a connection that broke (the server restarted, say): the whole
            // batch is retried, on a new connection for the last. Retrying is safe even if
            // the connection broke during COMMIT: what was stored comes back as duplicates,
            // which answer as the first copy did.
            Err(e) if attempt < 5 && (conflict(&e) || connection_lost(&e)) => {
                attempt += 1;
                tokio::time::sleep(std::time::Duration::from_millis(5 << attempt)).await;
            }
            other => return other,
        }
    }
}

fn conflict(e: &StoreError) -> bool {
    matches!(e, StoreError::Db(sqlx::Error::Database(e)) if matches!(e.code().as_deref(), Some("40P01" | "40001" | "23505")))
}

/// The connection broke or the server is going away (SQLSTATE classes 08 and 57P).
fn connection_lost(e: &StoreError) -> bool {
    match e {
        StoreError::Db(sqlx::Error::Io(_) | sqlx::Error::Protocol(_)) => true,
        StoreError::Db(sqlx::Error::Database(e)) => {
            e.code().is_some_and(|c| c.starts_with("08") || c.starts_with("57P"))
        }
        _ => false,
    }
}

async fn ingest_once(db: &Db, own: Option<&mut Option<OwnConnection>>, items: &[Item<'_>]) -> Result<Vec<Stored>> {
    let t = now();
    let keys = Keys::of(items);
    match db {
        Db::Sqlite(p) => {
            // The whole transaction runs on SQLite's own handle, on this thread: BEGIN
            // IMMEDIATE, the batch and COMMIT, with one hand-over to sqlx's worker thread (for
            // the handle) instead of one per statement. The writer is SQLite's only one, so
            // every hand-over was time no other batch could use.
            let mut conn = p.write.acquire().await?;
            let mut handle = conn.lock_handle().await?;
            blocking(|| sqlite::ingest(&mut handle, items, &keys, t))
        }
        Db::Pg(p) => match own {
            None => pg_batch(&mut *p.acquire().await?, items, &keys, t).await,
            Some(slot) => {
                if slot.as_ref().is_some_and(|c| c.used.elapsed() > MAX_IDLE) {
                    *slot = None;
                }
                let own = match slot {
                    Some(c) => c,
                    None => slot.insert(OwnConnection::open(p).await?),
                };
                let out = pg_batch(&mut own.conn, items, &keys, t).await;
                own.used = std::time::Instant::now();
                // The connection stays after an error the server answered (a deadlock, say:
                // the transaction was rolled back as it was dropped). After any other, the
                // next batch opens a new one.
                if let Err(e) = &out
                    && (connection_lost(e) || !matches!(e, StoreError::Db(sqlx::Error::Database(_))))
                {
                    *slot = None;
                }
                out
            }
        },
    }
}

/// The batch in one transaction on a PostgreSQL connection.
async fn pg_batch(conn: &mut PgConnection, items: &[Item<'_>], keys: &Keys, t: i64) -> Result<Vec<Stored>> {
    let mut tx = conn.begin_with(crate::PG_BATCH_BEGIN).await?;
    let out = pg::ingest(&mut tx, items, keys, t).await?;
    tx.commit().await?;
    Ok(out)
}

/// Runs `f`, which blocks on SQLite, telling a multi-threaded runtime to move its other
/// tasks to another worker meanwhile.
fn blocking<R>(f: impl FnOnce() -> R) -> R {
    use tokio::runtime::{Handle, RuntimeFlavor};
    match Handle::try_current() {
        Ok(h) if h.runtime_flavor() == RuntimeFlavor::MultiThread => tokio::task::block_in_place(f),
        _ => f(),
    }
}

/// The distinct keys a batch reads, each sorted.
struct Keys {
    households: Vec<i64>,
    teams: Vec<i64>,
    /// Users whose team memberships are checked.
    members: Vec<i64>,
    /// Team members named as the visitors.
    visitors: Vec<i64>,
    /// Residents named by the outcomes of services about persons.
    residents: Vec<i64>,
    services: Vec<i64>,
}

impl Keys {
    fn of(items: &[Item<'_>]) -> Keys {
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
struct Loaded {
    households: HashMap<i64, HouseholdRow>,
    /// The batch's visits stored before: (household, id); a visit's id is unique within its
    /// household.
    existing: HashSet<(i64, String)>,
    /// Households visited before: a first visit counts the household as reached.
    visited: HashSet<i64>,
    teams: HashMap<i64, UnitPath>,
    memberships: HashSet<(i64, i64)>,
    /// Team member → their team, for the visitors named.
    visitors: HashMap<i64, i64>,
    residents: HashMap<i64, i64>,
    statuses: StatusMap,
    /// The statuses of the batch's services: status → (its service, rank, about a person).
    steps: HashMap<i64, (i64, i32, bool)>,
}

/// What to write for a batch, and the answer to each visit.
struct Plan<'a> {
    out: Vec<Stored>,
    deltas: Deltas,
    /// Ancestry of every unit the deltas name (from the households' paths).
    ancestry: StdHashMap<i64, Vec<i64>>,
    /// Statuses that moved, in the tables' key order (household, service, resident), so
    /// that concurrent writers lock them in the same order.
    changed: Vec<(StatusKey, (i64, i32))>,
    to_insert: Vec<(&'a VisitInput, Option<i64>)>,
}

fn plan<'a>(items: &[Item<'a>], t: i64, mut l: Loaded) -> Plan<'a> {
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
                deltas.status(h.unit_id, o.service_id, current.map(|c| c.0), Some(o.status_id));
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

/// The batch on SQLite's own handle: single-key reads and single-row writes through
/// prepared statements, all on the calling thread.
mod sqlite {
    use super::*;
    use crate::sqlite_bulk::{Locked, Row, SqliteError, Value};
    use sqlx::sqlite::LockedSqliteHandle;

    pub(super) fn ingest(
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
                rollups::write_locked(conn, folded)?;
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
            let mut household = conn.prepare(
                "SELECT h.unit_id, u.path FROM households h JOIN units u ON u.id = h.unit_id WHERE h.id = ?",
            )?;
            let mut any_visit = conn.prepare("SELECT 1 FROM visits WHERE household_id = ? LIMIT 1")?;
            let mut status = conn.prepare(
                "SELECT service_id, resident_id, status_id, rank FROM subject_statuses WHERE household_id = ?",
            )?;
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
        let teams = by_id(
            conn,
            "SELECT u.path FROM teams t JOIN units u ON u.id = t.unit_id WHERE t.id = ?",
            &keys.teams,
            |r| UnitPath::from_stored(r.text(0)),
        )?;
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
        let residents = by_id(conn, "SELECT household_id FROM residents WHERE id = ?", &keys.residents, |r| r.int(0))?;
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
        let max = conn.prepare("SELECT COALESCE(MAX(seq), 0) FROM visits")?.rows(&[], |r| r.int(0))?;
        let mut seq = max.first().copied().unwrap_or(0);
        let mut visit = conn.prepare(
            "INSERT INTO visits (seq, id, household_id, team_id, member_id, user_id, visited_at, month, result, barriers, note, received_at) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )?;
        let mut outcome = conn.prepare(
            "INSERT INTO visit_outcomes (visit_seq, service_id, resident_id, status_id) VALUES (?, ?, ?, ?)",
        )?;
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
}

/// The batch on PostgreSQL in five round trips, whatever its size: the transaction begun;
/// the households read and locked; every other read in one statement; every write in one
/// statement; the commit. Every read is a lookup by key through an index (see
/// [`PG_BATCH_BEGIN`](crate::PG_BATCH_BEGIN) for why that matters to the plans).
mod pg {
    use super::*;

    pub(super) async fn ingest(c: &mut PgConnection, items: &[Item<'_>], keys: &Keys, t: i64) -> Result<Vec<Stored>> {
        let loaded = load(c, items, keys).await?;
        let mut plan = plan(items, t, loaded);
        if !plan.to_insert.is_empty() {
            write(c, &mut plan, t).await?;
        }
        Ok(plan.out)
    }

    async fn load(c: &mut PgConnection, items: &[Item<'_>], keys: &Keys) -> Result<Loaded> {
        // The households first, locked in id order so that concurrent writers lock them in
        // the same order. In a statement of their own: each statement reads the database as
        // it was when the statement began, so the reads below, made once the locks are held,
        // see whatever a writer that held them before has stored.
        let households: Vec<(i64, i64, String)> = sqlx::query_as(
            "SELECT id, unit_id, (SELECT path FROM units WHERE units.id = households.unit_id) FROM households \
             WHERE id = ANY($1) ORDER BY id FOR UPDATE",
        )
        .bind(&keys.households)
        .fetch_all(&mut *c)
        .await?;
        let ids: Vec<&str> = items.iter().map(|i| i.0.id.as_str()).collect();
        let of: Vec<i64> = items.iter().map(|i| i.0.household_id).collect();
        // One row shape for every other read: (kind, five numbers, one text). The lookups in
        // visits are LATERAL with LIMIT 1, which the planner cannot flatten into a join: a
        // generic plan made while visits is nearly empty would otherwise be free to scan it.
        let sql = "\
            SELECT 1 AS kind, k.h AS a, 0::bigint AS b, 0::bigint AS c, 0::bigint AS d, 0::bigint AS e, k.id AS s \
              FROM UNNEST($9::bigint[], $2::text[]) AS k(h, id) \
              CROSS JOIN LATERAL (SELECT 1 FROM visits WHERE household_id = k.h AND visits.id = k.id LIMIT 1) AS stored \
            UNION ALL SELECT 2, h, 0, 0, 0, 0, '' FROM UNNEST($1::bigint[]) AS h \
              CROSS JOIN LATERAL (SELECT 1 FROM visits WHERE household_id = h LIMIT 1) AS seen \
            UNION ALL SELECT 3, id, 0, 0, 0, 0, (SELECT path FROM units WHERE units.id = teams.unit_id) FROM teams \
              WHERE id = ANY($3) \
            UNION ALL SELECT 4, user_id, team_id, 0, 0, 0, '' FROM team_members \
              WHERE user_id = ANY($4) AND joined_on <= $5 AND (left_on IS NULL OR left_on > $5) \
            UNION ALL SELECT 5, id, household_id, 0, 0, 0, '' FROM residents WHERE id = ANY($6) \
            UNION ALL SELECT 6, id, team_id, 0, 0, 0, '' FROM team_members WHERE id = ANY($8) \
            UNION ALL SELECT 7, service_id, household_id, resident_id, status_id, rank::bigint, '' FROM subject_statuses \
              WHERE household_id = ANY($1) AND service_id = ANY($7) \
            UNION ALL SELECT 8, s.id, s.service_id, s.rank::bigint, CASE WHEN v.subject = 'person' THEN 1 ELSE 0 END, 0, '' \
              FROM service_statuses s JOIN services v ON v.id = s.service_id WHERE s.service_id = ANY($7)";
        type Row = (i32, i64, i64, i64, i64, i64, String);
        let rows: Vec<Row> = sqlx::query_as(sql)
            .bind(&keys.households)
            .bind(&ids)
            .bind(&keys.teams)
            .bind(&keys.members)
            .bind(crate::teams::today())
            .bind(&keys.residents)
            .bind(&keys.services)
            .bind(&keys.visitors)
            .bind(&of)
            .fetch_all(&mut *c)
            .await?;
        let mut l = Loaded {
            households: households
                .into_iter()
                .map(|(id, unit_id, path)| (id, HouseholdRow { unit_id, path: UnitPath::from_stored(path) }))
                .collect(),
            existing: HashSet::default(),
            visited: HashSet::default(),
            teams: HashMap::default(),
            memberships: HashSet::default(),
            visitors: HashMap::default(),
            residents: HashMap::default(),
            statuses: HashMap::default(),
            steps: HashMap::default(),
        };
        for (kind, a, b, c, d, e, s) in rows {
            match kind {
                1 => {
                    l.existing.insert((a, s));
                }
                2 => {
                    l.visited.insert(a);
                }
                3 => {
                    l.teams.insert(a, UnitPath::from_stored(s));
                }
                4 => {
                    l.memberships.insert((a, b));
                }
                5 => {
                    l.residents.insert(a, b);
                }
                6 => {
                    l.visitors.insert(a, b);
                }
                7 => {
                    l.statuses.insert((a, b, c), (d, e as i32));
                }
                8 => {
                    l.steps.insert(a, (b, c as i32, d != 0));
                }
                _ => {}
            }
        }
        Ok(l)
    }

    /// The visits, their outcomes, the statuses that moved and the roll-ups, in one
    /// statement (the outcomes take their visits' numbers from the insert before them).
    async fn write(c: &mut PgConnection, plan: &mut Plan<'_>, t: i64) -> Result<()> {
        let v = &plan.to_insert;
        let col = |f: fn(&VisitInput) -> i64| v.iter().map(|(x, _)| f(x)).collect::<Vec<i64>>();
        let ids: Vec<&str> = v.iter().map(|(x, _)| x.id.as_str()).collect();
        let members: Vec<Option<i64>> = v.iter().map(|(x, _)| x.member_id).collect();
        let users: Vec<Option<i64>> = v.iter().map(|(_, u)| *u).collect();
        let months: Vec<String> = v.iter().map(|(x, _)| month_of(x.visited_at)).collect();
        let results: Vec<&str> = v.iter().map(|(x, _)| x.result.as_str()).collect();
        let barriers: Vec<i32> = v.iter().map(|(x, _)| x.barriers.0).collect();
        let notes: Vec<&str> = v.iter().map(|(x, _)| x.note.as_str()).collect();
        let outcomes: Vec<(&VisitInput, &OutcomeInput)> =
            v.iter().flat_map(|(x, _)| x.outcomes.iter().map(move |o| (*x, o))).collect();
        let statuses = &plan.changed;
        let folded = rollups::fold(std::mem::take(&mut plan.deltas).into_vec(), &plan.ancestry);
        let figures: Vec<_> = folded.iter().filter(|r| *r.1 != 0).collect();
        let sql = "\
            WITH v AS ( \
              INSERT INTO visits (id, household_id, team_id, member_id, user_id, visited_at, month, result, barriers, note, received_at) \
              SELECT id, h, team, member, usr, at, month, result, barriers, note, $11 \
                FROM UNNEST($1::text[], $2::bigint[], $3::bigint[], $4::bigint[], $5::bigint[], $6::bigint[], $7::text[], $8::text[], $9::int[], $10::text[]) \
                  AS x(id, h, team, member, usr, at, month, result, barriers, note) \
              RETURNING seq, id, household_id), \
            o AS ( \
              INSERT INTO visit_outcomes (visit_seq, service_id, resident_id, status_id) \
              SELECT v.seq, x.service, x.resident, x.status \
                FROM UNNEST($12::text[], $13::bigint[], $14::bigint[], $15::bigint[], $26::bigint[]) \
                  AS x(visit, service, resident, status, h) \
                JOIN v ON v.id = x.visit AND v.household_id = x.h), \
            s AS ( \
              INSERT INTO subject_statuses (service_id, household_id, resident_id, status_id, rank, updated_at) \
              SELECT service, h, resident, status, rank, $11 \
                FROM UNNEST($16::bigint[], $17::bigint[], $18::bigint[], $19::bigint[], $20::int[]) AS x(service, h, resident, status, rank) \
              ON CONFLICT (household_id, service_id, resident_id) DO UPDATE SET status_id = excluded.status_id, \
                rank = excluded.rank, updated_at = excluded.updated_at), \
            r AS ( \
              INSERT INTO rollups (unit_id, figure, period, shard, value) \
              SELECT unit, figure, period, $21, value \
                FROM UNNEST($22::bigint[], $23::text[], $24::text[], $25::bigint[]) AS x(unit, figure, period, value) \
              ON CONFLICT (unit_id, figure, period, shard) DO UPDATE SET value = rollups.value + excluded.value) \
            SELECT COUNT(*) FROM v";
        let stored: i64 = sqlx::query_scalar(sql)
            .bind(&ids)
            .bind(col(|x| x.household_id))
            .bind(col(|x| x.team_id))
            .bind(&members)
            .bind(&users)
            .bind(col(|x| x.visited_at))
            .bind(&months)
            .bind(&results)
            .bind(&barriers)
            .bind(&notes)
            .bind(t)
            .bind(outcomes.iter().map(|o| o.0.id.as_str()).collect::<Vec<_>>())
            .bind(outcomes.iter().map(|o| o.1.service_id).collect::<Vec<_>>())
            .bind(outcomes.iter().map(|o| o.1.resident_id).collect::<Vec<_>>())
            .bind(outcomes.iter().map(|o| o.1.status_id).collect::<Vec<_>>())
            .bind(statuses.iter().map(|r| r.0.0).collect::<Vec<_>>())
            .bind(statuses.iter().map(|r| r.0.1).collect::<Vec<_>>())
            .bind(statuses.iter().map(|r| r.0.2).collect::<Vec<_>>())
            .bind(statuses.iter().map(|r| r.1.0).collect::<Vec<_>>())
            .bind(statuses.iter().map(|r| r.1.1).collect::<Vec<_>>())
            .bind(rollups::pg_shard())
            .bind(figures.iter().map(|r| r.0.0).collect::<Vec<_>>())
            .bind(figures.iter().map(|r| r.0.1.as_str()).collect::<Vec<_>>())
            .bind(figures.iter().map(|r| r.0.2.as_str()).collect::<Vec<_>>())
            .bind(figures.iter().map(|r| *r.1).collect::<Vec<_>>())
            .bind(outcomes.iter().map(|o| o.0.household_id).collect::<Vec<_>>())
            .fetch_one(&mut *c)
            .await?;
        debug_assert_eq!(stored as usize, v.len());
        Ok(())
    }
}

fn check(
    v: &VisitInput,
    now: i64,
    l: &Loaded,
    may_record: MayRecord<'_>,
    in_team: bool,
) -> std::result::Result<(), Invalid> {
    let Loaded { households, teams, visitors, residents, steps, .. } = l;
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

/// A subject's status key: (service, household, resident).
type StatusKey = (i64, i64, i64);
type StatusMap = HashMap<StatusKey, (i64, i32)>;

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
