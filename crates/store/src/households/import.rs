//! Bulk imports of households and residents, with their consents and their part of the
//! roll-ups. The caller checks the whole file first; the rows are then written in chunks,
//! each its own short transaction, so that the server's writes (visit uploads, feedback, the
//! outbox) get the database between them instead of waiting behind one transaction as long
//! as the file. Each chunk records the ids it wrote in the `imports` journal: an import that
//! fails half way (a code taken meanwhile, a lost connection) takes back what it wrote before
//! returning its error, and one cut short by a crash is taken back by [`undo`]. So a file
//! still goes in whole or not at all.
//!
//! Each backend writes households its own way (`db::sqlite` on the connection's handle,
//! `db::pg` with `COPY`).

use std::collections::HashMap;
use std::time::{Duration, Instant};

use ngoso_core::Invalid;
use ngoso_core::outreach::Barriers;
use ngoso_core::rollup::Deltas;
use ngoso_core::text;
use serde::Serialize;
use sqlx::QueryBuilder;

use super::consents::{ConsentRow, insert_consents};
use super::{NewHousehold, NewResident, household_key};
use crate::db::dialect::{self, Table};
use crate::db::{pg, sqlite};
use crate::{Backend, Db, Result, StoreError, Tx, now, on_db, on_tx, on_write, rollups};

/// A household of a bulk import, with its search key already computed (by whichever
/// thread checks the rows, so that the writer only writes).
#[derive(Debug, Clone)]
pub struct ImportRow {
    pub(crate) household: NewHousehold,
    pub(crate) key: String,
}

impl From<NewHousehold> for ImportRow {
    fn from(household: NewHousehold) -> Self {
        let h = &household;
        let key = household_key(h.address.as_deref(), h.head_name.as_deref(), &h.code);
        ImportRow { household, key }
    }
}

/// A resident of an import, attached to a household id.
pub struct ImportedResident {
    pub household_id: i64,
    pub unit_id: i64,
    pub resident: NewResident,
}

/// How an import shares the database with the server while it writes.
#[derive(Debug, Clone, Copy)]
pub struct Chunking {
    /// The most rows one transaction writes.
    pub rows: usize,
    /// How long one transaction may go on writing (checked after each statement).
    pub time: Duration,
    /// The pause between two chunks on SQLite, where the import holds the one write lock.
    /// SQLite's busy handler tries again every 100 ms at most once it has waited a while, so
    /// a longer pause lets every waiting writer in.
    pub pause: Duration,
}

impl Chunking {
    /// For a database nothing else writes to (the demo being made): one transaction.
    pub const ALONE: Chunking = Chunking { rows: usize::MAX, time: Duration::MAX, pause: Duration::ZERO };
}

impl Default for Chunking {
    /// Half a second of writing, then a tenth of a second for the server: a visit upload
    /// waits well under a second behind an import, far within the 10 s busy timeout, and the
    /// import takes about a fifth longer than in one transaction.
    fn default() -> Self {
        Chunking { rows: 200_000, time: Duration::from_millis(500), pause: Duration::from_millis(110) }
    }
}

/// Households written per `COPY` (or run of one prepared statement) within a chunk.
const STEP: usize = 2048;
/// Residents per multi-row `INSERT` (13 values each: well within SQLite's 32,766).
const RESIDENT_STEP: usize = 1000;

/// What an import wrote.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Imported {
    /// The import's number in the journal (for [`undo`]).
    pub id: i64,
    pub rows: u64,
}

/// The rows of an import, of either kind.
#[derive(Clone, Copy)]
enum Rows<'a> {
    Households(&'a [ImportRow]),
    Residents(&'a [ImportedResident]),
}

impl<'a> Rows<'a> {
    fn len(&self) -> usize {
        match self {
            Rows::Households(r) => r.len(),
            Rows::Residents(r) => r.len(),
        }
    }

    fn kind(&self) -> &'static str {
        match self {
            Rows::Households(_) => "households",
            Rows::Residents(_) => "residents",
        }
    }

    fn slice(&self, from: usize, to: usize) -> Rows<'a> {
        match self {
            Rows::Households(r) => Rows::Households(&r[from..to]),
            Rows::Residents(r) => Rows::Residents(&r[from..to]),
        }
    }
}

/// Writes checked households (their codes new, their units there), with their consents and
/// their part of the roll-ups: all of them, or none (see the module's notes). `progress`
/// hears how many are written so far.
pub async fn import(
    db: &Db,
    rows: &[ImportRow],
    actor: Option<i64>,
    chunking: Chunking,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<Imported> {
    run(db, Rows::Households(rows), actor, chunking, progress).await
}

/// Writes checked residents, with their consents and their part of the roll-ups: all of
/// them, or none (see the module's notes).
pub async fn import_residents(
    db: &Db,
    rows: &[ImportedResident],
    actor: Option<i64>,
    chunking: Chunking,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<Imported> {
    run(db, Rows::Residents(rows), actor, chunking, progress).await
}

async fn run(
    db: &Db,
    rows: Rows<'_>,
    actor: Option<i64>,
    chunking: Chunking,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<Imported> {
    let id: i64 = on_write!(db, p => sqlx::query_scalar(
        "INSERT INTO imports (kind, state, actor, started_at) VALUES ($1, 'running', $2, $3) RETURNING id")
        .bind(rows.kind()).bind(actor).bind(now()).fetch_one(p).await)?;
    let mut at = 0;
    while at < rows.len() {
        if let Err(e) = chunk(db, id, rows, &mut at, actor, chunking).await {
            // Take back the chunks already committed, so that the file leaves nothing.
            if let Err(u) = undo(db, id).await {
                tracing::error!(import = id, error = %u, "a failed import could not be taken back: run `ngoso import undo {id}`");
            }
            return Err(e);
        }
        progress(at as u64);
        if at < rows.len() && db.backend() == Backend::Sqlite {
            tokio::time::sleep(chunking.pause).await;
        }
    }
    on_write!(db, p => sqlx::query("UPDATE imports SET state = 'done', finished_at = $1 WHERE id = $2")
        .bind(now()).bind(id).execute(p).await.map(|r| r.rows_affected()))?;
    Ok(Imported { id, rows: at as u64 })
}

/// Writes the next chunk from `at` in one transaction, with its roll-ups and its ids in the
/// journal, and moves `at` past it once committed.
async fn chunk(db: &Db, id: i64, rows: Rows<'_>, at: &mut usize, actor: Option<i64>, c: Chunking) -> Result<()> {
    let started = Instant::now();
    let mut tx = db.begin().await?;
    let t = now();
    let mut deltas = Deltas::default();
    let mut ids = Vec::new();
    let mut end = *at;
    let cap = at.saturating_add(c.rows.max(1)).min(rows.len());
    while end < cap && (end == *at || started.elapsed() < c.time) {
        let step = if matches!(rows, Rows::Households(_)) { STEP } else { RESIDENT_STEP };
        let to = (end + step).min(cap);
        let part = rows.slice(end, to);
        match part {
            Rows::Households(part) => households(&mut tx, part, t, actor, &mut ids, &mut deltas).await?,
            Rows::Residents(part) => residents(&mut tx, part, t, actor, &mut ids, &mut deltas).await?,
        }
        end = to;
    }
    // The roll-up rows are shared with every visit upload of the same units: touched last,
    // so that PostgreSQL holds their locks only for the commit.
    rollups::apply(&mut tx, deltas.into_vec()).await?;
    let runs = runs(ids);
    for chunk in runs.chunks(1000) {
        on_tx!(&mut tx, c => {
            let mut qb = QueryBuilder::new("INSERT INTO import_ranges (import_id, first_id, last_id) ");
            qb.push_values(chunk, |mut b, (first, last)| {
                b.push_bind(id).push_bind(*first).push_bind(*last);
            });
            qb.build().execute(c).await.map(|r| r.rows_affected())
        })?;
    }
    let n = (end - *at) as i64;
    on_tx!(&mut tx, c => sqlx::query("UPDATE imports SET rows = rows + $1 WHERE id = $2").bind(n).bind(id).execute(c).await.map(|r| r.rows_affected()))?;
    tx.commit().await?;
    tracing::debug!(import = id, rows = end - *at, elapsed = ?started.elapsed(), "import chunk committed");
    *at = end;
    Ok(())
}

/// Consecutive ids as `(first, last)` runs.
fn runs(mut ids: Vec<i64>) -> Vec<(i64, i64)> {
    ids.sort_unstable();
    let mut out: Vec<(i64, i64)> = Vec::new();
    for id in ids {
        match out.last_mut() {
            Some((_, last)) if *last + 1 == id => *last = id,
            _ => out.push((id, id)),
        }
    }
    out
}

async fn households(
    tx: &mut Tx,
    rows: &[ImportRow],
    t: i64,
    actor: Option<i64>,
    ids: &mut Vec<i64>,
    deltas: &mut Deltas,
) -> Result<()> {
    let mut per_unit: HashMap<(i64, i32), i64> = HashMap::new();
    let written = match tx {
        Tx::Sqlite(c) => {
            // BEGIN IMMEDIATE holds the write lock: the ids after the largest are free.
            let max: i64 = sqlx::query_scalar(Table::Households.sqlite_max_id()).fetch_one(&mut **c).await?;
            let mut handle = c.lock_handle().await?;
            sqlite::household_import::write(&mut handle, rows, max, t, actor, &mut per_unit)?.collect()
        }
        Tx::Pg(c) => pg::household_import::write(c, rows, t, actor, &mut per_unit).await?,
    };
    ids.extend(written);
    for ((unit, barriers), n) in per_unit {
        deltas.household(unit, Barriers::from_bits(barriers), n);
    }
    Ok(())
}

async fn residents(
    tx: &mut Tx,
    rows: &[ImportedResident],
    t: i64,
    actor: Option<i64>,
    ids: &mut Vec<i64>,
    deltas: &mut Deltas,
) -> Result<()> {
    let new = dialect::reserve_ids(tx, Table::Residents, rows.len()).await?;
    let res = on_tx!(tx, c => {
        let mut qb = QueryBuilder::new(
            "INSERT INTO residents (id, household_id, full_name, name_sort, search_key, birth_year, sex, youth_union, cccd_hash, cccd_last4, phone, created_at, updated_at, groups) ");
        qb.push_values(rows.iter().zip(&new), |mut b, (ir, id)| {
            let r = &ir.resident;
            b.push_bind(*id).push_bind(ir.household_id).push_bind(r.full_name.as_deref())
                .push_bind(r.full_name.as_deref().map(|n| text::sort_key(&crate::teams::given_name_first(n))))
                .push_bind(r.full_name.as_deref().map(text::fold).unwrap_or_default())
                .push_bind(r.birth_year).push_bind(r.sex).push_bind(r.is_youth_union())
                .push_bind(r.cccd.as_ref().map(|c| c.0.clone())).push_bind(r.cccd.as_ref().map(|c| c.1.clone()))
                .push_bind(r.phone.as_deref()).push_bind(t).push_bind(t).push_bind(r.group_bits());
        });
        qb.build().execute(c).await.map(|r| r.rows_affected())
    });
    if let Err(e) = res {
        let e = StoreError::from(e);
        return Err(if e.is_unique_violation() { Invalid::new("cccd-duplicate").into() } else { e });
    }
    let consents: Vec<ConsentRow<'_>> = rows
        .iter()
        .zip(&new)
        .filter_map(|(ir, id)| {
            ir.resident.consent.as_ref().map(|(by, p)| (ir.household_id, Some(*id), by.as_str(), p.as_str()))
        })
        .collect();
    insert_consents(tx, &consents, t, actor).await?;
    for ir in rows {
        deltas.resident(ir.unit_id, &ir.resident.traits(), ir.resident.is_youth_union(), 1);
    }
    ids.extend(new);
    Ok(())
}

/// An import in the journal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct ImportRecord {
    pub id: i64,
    pub kind: String,
    /// `running` (writing, or cut short by a crash), `done` or `undone`.
    pub state: String,
    pub rows: i64,
    pub started_at: i64,
    pub finished_at: Option<i64>,
}

/// The imports of the journal, newest first.
pub async fn imports(db: &Db, limit: i64) -> Result<Vec<ImportRecord>> {
    Ok(on_db!(db, p => sqlx::query_as(
        "SELECT id, kind, state, rows, started_at, finished_at FROM imports ORDER BY id DESC LIMIT $1")
        .bind(limit).fetch_all(p).await)?)
}

/// Takes an import back: deletes the rows it wrote, with their consents and their part of the
/// roll-ups, one recorded run at a time, and marks it `undone`. Refused (`import-in-use`),
/// leaving the rest as it is, when a row has been built on since (a visit to an imported
/// household, a resident added to one); `not-found` for no such import, `import-undone` for
/// one already taken back. Returns the number of rows deleted.
pub async fn undo(db: &Db, id: i64) -> Result<u64> {
    let found: Option<(String, String)> = on_db!(db, p => sqlx::query_as("SELECT kind, state FROM imports WHERE id = $1").bind(id).fetch_optional(p).await)?;
    let Some((kind, state)) = found else { return Err(StoreError::NotFound) };
    if state == "undone" {
        return Err(Invalid::new("import-undone").into());
    }
    let mut deleted = 0u64;
    loop {
        let mut tx = db.begin().await?;
        let run: Option<(i64, i64)> = on_tx!(&mut tx, c => sqlx::query_as(
            "SELECT first_id, last_id FROM import_ranges WHERE import_id = $1 ORDER BY first_id DESC LIMIT 1")
            .bind(id).fetch_optional(c).await)?;
        let Some((first, last)) = run else {
            on_tx!(&mut tx, c => sqlx::query("UPDATE imports SET state = 'undone', finished_at = $1 WHERE id = $2")
                .bind(now()).bind(id).execute(c).await.map(|r| r.rows_affected()))?;
            tx.commit().await?;
            return Ok(deleted);
        };
        let n = match take_back(&mut tx, &kind, first, last).await {
            Ok(n) => n,
            Err(e) if e.is_foreign_key_violation() || e.to_string().contains("still named") => {
                return Err(Invalid::new("import-in-use").with_detail(format!("{kind} {first}–{last}")).into());
            }
            Err(e) => return Err(e),
        };
        on_tx!(&mut tx, c => sqlx::query("DELETE FROM import_ranges WHERE import_id = $1 AND first_id = $2")
            .bind(id).bind(first).execute(c).await.map(|r| r.rows_affected()))?;
        on_tx!(&mut tx, c => sqlx::query("UPDATE imports SET rows = rows - $1 WHERE id = $2")
            .bind(n as i64).bind(id).execute(c).await.map(|r| r.rows_affected()))?;
        tx.commit().await?;
        deleted += n;
    }
}

/// Deletes the rows of one run, with their consents, and takes their part of the roll-ups
/// away.
async fn take_back(tx: &mut Tx, kind: &str, first: i64, last: i64) -> Result<u64> {
    let mut deltas = Deltas::default();
    let n = if kind == "households" {
        let groups: Vec<(i64, i32, i64)> = on_tx!(tx, c => sqlx::query_as(
            "SELECT unit_id, barriers, COUNT(*) FROM households WHERE id BETWEEN $1 AND $2 GROUP BY unit_id, barriers")
            .bind(first).bind(last).fetch_all(c).await)?;
        for (unit, barriers, n) in groups {
            deltas.household(unit, Barriers::from_bits(barriers), -n);
        }
        on_tx!(tx, c => sqlx::query("DELETE FROM consents WHERE household_id BETWEEN $1 AND $2")
            .bind(first).bind(last).execute(c).await.map(|r| r.rows_affected()))?;
        on_tx!(tx, c => sqlx::query("DELETE FROM households WHERE id BETWEEN $1 AND $2")
            .bind(first).bind(last).execute(c).await.map(|r| r.rows_affected()))?
    } else {
        // Statuses and outcomes name residents without a foreign key (the visit ingest checks
        // them itself): a resident a visit recorded a service for stays, and so does the run.
        // Every outcome leaves its status row, so the statuses are the ones to look at.
        let named: bool = on_tx!(tx, c => sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM residents r JOIN subject_statuses s \
             ON s.household_id = r.household_id AND s.resident_id = r.id WHERE r.id BETWEEN $1 AND $2)")
            .bind(first).bind(last).fetch_one(c).await)?;
        if named {
            return Err(Invalid::new("import-in-use").with_detail(format!("{kind} {first}–{last}")).into());
        }
        type Counted = (i64, bool, Option<String>, Option<i32>, i64, i64);
        let groups: Vec<Counted> = on_tx!(tx, c => sqlx::query_as(
            "SELECT h.unit_id, r.youth_union, r.sex, r.birth_year, r.groups, COUNT(*) FROM residents r \
             JOIN households h ON h.id = r.household_id WHERE r.id BETWEEN $1 AND $2 \
             GROUP BY h.unit_id, r.youth_union, r.sex, r.birth_year, r.groups")
            .bind(first).bind(last).fetch_all(c).await)?;
        for (unit, youth, sex, born, bits, n) in groups {
            deltas.resident(unit, &ngoso_core::rollup::Traits::new(sex.as_deref(), born, bits), youth, -n);
        }
        on_tx!(tx, c => sqlx::query("DELETE FROM consents WHERE resident_id BETWEEN $1 AND $2")
            .bind(first).bind(last).execute(c).await.map(|r| r.rows_affected()))?;
        on_tx!(tx, c => sqlx::query("DELETE FROM residents WHERE id BETWEEN $1 AND $2")
            .bind(first).bind(last).execute(c).await.map(|r| r.rows_affected()))?
    };
    rollups::apply(tx, deltas.into_vec()).await?;
    Ok(n)
}
