//! Figures of every unit, kept in step with the records in the same transaction.
//!
//! Each figure is stored for the household's unit *and every ancestor*, so reading a
//! province's figures costs the same for 500 households or 30 million: one indexed range of
//! rows, never a scan of households or visits. To keep concurrent writers from queueing on
//! the province's row, each row is split into shards (one on SQLite, whose writers are
//! serialised anyway; [`PG_SHARDS`] on PostgreSQL); a write picks a shard at random and a
//! read sums them.

use std::collections::{BTreeMap, HashMap};

use argon2::password_hash::rand_core::{OsRng, RngCore};
use ngoso_core::rollup::Delta;
use ngoso_core::unit::UnitPath;
use sqlx::QueryBuilder;

use crate::{Backend, Db, Result, Tx, on_db, on_tx};

/// Shards per figure on PostgreSQL.
pub const PG_SHARDS: u32 = 16;

/// Rows per upsert statement (a power of two: see `batch`).
const CHUNK: usize = 128;

/// The text of the one statement that adds to figures, in two parts around its rows (a
/// `VALUES` list or a `SELECT` of unit, figure, period, shard and value):
/// `concat!(upsert!(into), rows, upsert!(add))`. Every path that adds to figures builds its
/// statement from it: [`apply`] and [`move_subtree`] here, the visit ingest on each backend. A
/// macro rather than constants, so that a statement built from it is still one literal.
macro_rules! upsert {
    (into) => {
        "INSERT INTO rollups (unit_id, figure, period, shard, value) "
    };
    (add) => {
        " ON CONFLICT (unit_id, figure, period, shard) DO UPDATE SET value = rollups.value + excluded.value"
    };
}
pub(crate) use upsert;

/// A shard picked at random, for a PostgreSQL writer.
pub(crate) fn pg_shard() -> i32 {
    (OsRng.next_u32() % PG_SHARDS) as i32
}

fn shard_for(tx: &Tx) -> i32 {
    match tx {
        Tx::Sqlite(_) => 0,
        Tx::Pg(_) => pg_shard(),
    }
}

/// The ids from the root to each unit, for the units named.
async fn read_ancestry(tx: &mut Tx, unit_ids: &[i64]) -> Result<HashMap<i64, Vec<i64>>> {
    let mut out = HashMap::with_capacity(unit_ids.len());
    for chunk in crate::db::batch::padded(unit_ids, 256) {
        let rows: Vec<(i64, String)> = on_tx!(tx, c => {
            let mut qb = QueryBuilder::new("SELECT id, path FROM units WHERE id IN (");
            let mut sep = qb.separated(", ");
            for id in &chunk {
                sep.push_bind(*id);
            }
            qb.push(")");
            qb.build_query_as::<(i64, String)>().fetch_all(c).await
        })?;
        for (id, path) in rows {
            out.insert(id, UnitPath::from_stored(path).ids());
        }
    }
    Ok(out)
}

/// Adds the deltas to their units and every ancestor (read from the units' paths).
pub async fn apply(tx: &mut Tx, deltas: Vec<Delta>) -> Result<()> {
    if deltas.is_empty() {
        return Ok(());
    }
    let mut units: Vec<i64> = deltas.iter().map(|d| d.unit_id).collect();
    units.sort_unstable();
    units.dedup();
    let ancestry = read_ancestry(tx, &units).await?;
    write(tx, fold(deltas, &ancestry)).await
}

/// A figure's key: (unit, figure, period).
pub(crate) type Key = (i64, String, String);

/// Sums the deltas into rows for their units and every ancestor (`ancestry`: unit → the ids
/// from the root to it; a unit missing from it counts nowhere, so callers pass them all).
pub(crate) fn fold(deltas: Vec<Delta>, ancestry: &HashMap<i64, Vec<i64>>) -> BTreeMap<Key, i64> {
    let mut folded: BTreeMap<Key, i64> = BTreeMap::new();
    for d in deltas {
        let chain = ancestry.get(&d.unit_id).map(Vec::as_slice).unwrap_or(&[]);
        for a in chain {
            *folded.entry((*a, d.figure.clone(), d.period.clone())).or_insert(0) += d.value;
        }
    }
    folded
}

/// Writes folded rows (deltas), in key order, zeros left out.
pub(crate) async fn write_folded(tx: &mut Tx, folded: BTreeMap<Key, i64>) -> Result<()> {
    write(tx, folded).await
}

/// Writes folded rows, in key order (so concurrent writers lock rows in the same order).
async fn write(tx: &mut Tx, folded: BTreeMap<Key, i64>) -> Result<()> {
    let shard = shard_for(tx);
    let rows: Vec<(i64, String, String, i64)> =
        folded.into_iter().filter(|(_, v)| *v != 0).map(|((u, f, p), v)| (u, f, p, v)).collect();
    for chunk in crate::db::batch::chunks(&rows, CHUNK) {
        on_tx!(tx, c => {
            let mut qb = QueryBuilder::new(upsert!(into));
            qb.push_values(chunk, |mut b, (u, f, p, v)| {
                b.push_bind(*u).push_bind(f.as_str()).push_bind(p.as_str()).push_bind(shard).push_bind(*v);
            });
            qb.push(upsert!(add));
            qb.build().execute(c).await.map(|r| r.rows_affected())
        })?;
    }
    Ok(())
}

/// Moves a unit's figures (which cover its whole subtree) from its old ancestors to its new
/// ones, when the unit moves in the tree. `old_chain` and `new_chain` exclude the unit.
pub async fn move_subtree(tx: &mut Tx, unit_id: i64, old_chain: &[i64], new_chain: &[i64]) -> Result<()> {
    let sql =
        "SELECT figure, period, CAST(SUM(value) AS BIGINT) FROM rollups WHERE unit_id = $1 GROUP BY figure, period";
    let totals: Vec<(String, String, i64)> = on_tx!(tx, c => sqlx::query_as(sql).bind(unit_id).fetch_all(c).await)?;
    let mut folded: BTreeMap<(i64, String, String), i64> = BTreeMap::new();
    for (f, p, v) in totals {
        for a in old_chain {
            *folded.entry((*a, f.clone(), p.clone())).or_insert(0) -= v;
        }
        for a in new_chain {
            *folded.entry((*a, f.clone(), p.clone())).or_insert(0) += v;
        }
    }
    write(tx, folded).await
}

/// The condition that leaves out the figures counted by trait (`~…`): an index range, since
/// figures compare byte by byte on both backends (PostgreSQL's column is `COLLATE "C"`).
const PLAIN: &str = "figure < '~'";

/// The figures of one unit, without those counted by trait: (figure, period) → value.
pub async fn of_unit(db: &Db, unit_id: i64) -> Result<HashMap<(String, String), i64>> {
    let sql = format!(
        "SELECT figure, period, CAST(SUM(value) AS BIGINT) FROM rollups WHERE unit_id = $1 AND {} GROUP BY figure, period",
        PLAIN
    );
    let rows: Vec<(String, String, i64)> =
        on_db!(db, p => sqlx::query_as(sqlx::AssertSqlSafe(sql.clone())).bind(unit_id).fetch_all(p).await)?;
    Ok(rows.into_iter().map(|(f, p, v)| ((f, p), v)).collect())
}

/// The current-state figures (no period) of several units, without those counted by trait:
/// unit → figure → value.
pub async fn current_of_units(db: &Db, unit_ids: &[i64]) -> Result<HashMap<i64, HashMap<String, i64>>> {
    let mut out: HashMap<i64, HashMap<String, i64>> = HashMap::new();
    let head = format!(
        "SELECT unit_id, figure, CAST(SUM(value) AS BIGINT) FROM rollups WHERE period = '' AND {} AND unit_id IN (",
        PLAIN
    );
    for chunk in unit_ids.chunks(CHUNK) {
        let rows: Vec<(i64, String, i64)> = on_db!(db, p => {
            let mut qb = QueryBuilder::new(head.clone());
            let mut sep = qb.separated(", ");
            for id in chunk {
                sep.push_bind(*id);
            }
            qb.push(") GROUP BY unit_id, figure");
            qb.build_query_as::<(i64, String, i64)>().fetch_all(p).await
        })?;
        for (u, f, v) in rows {
            out.entry(u).or_default().insert(f, v);
        }
    }
    Ok(out)
}

/// The figures counted by trait of one unit (today's state): base figure → part → value, as
/// `status:3:7` → `sex:f` → 120.
pub async fn slices_of_unit(db: &Db, unit_id: i64) -> Result<HashMap<String, HashMap<String, i64>>> {
    let cond = "figure >= '~'";
    let sql = format!(
        "SELECT figure, CAST(SUM(value) AS BIGINT) FROM rollups WHERE unit_id = $1 AND period = '' AND {cond} GROUP BY figure"
    );
    let rows: Vec<(String, i64)> =
        on_db!(db, p => sqlx::query_as(sqlx::AssertSqlSafe(sql.clone())).bind(unit_id).fetch_all(p).await)?;
    let mut out: HashMap<String, HashMap<String, i64>> = HashMap::new();
    for (f, v) in rows {
        if let Some((base, part)) = f.strip_prefix('~').and_then(|f| f.split_once('|')) {
            *out.entry(base.to_owned()).or_default().entry(part.to_owned()).or_insert(0) += v;
        }
    }
    Ok(out)
}

/// Every stored figure, summed over shards: (unit, figure, period) → value, zeros left out.
pub async fn all(db: &Db) -> Result<BTreeMap<(i64, String, String), i64>> {
    let sql =
        "SELECT unit_id, figure, period, CAST(SUM(value) AS BIGINT) FROM rollups GROUP BY unit_id, figure, period";
    let rows: Vec<(i64, String, String, i64)> = on_db!(db, p => sqlx::query_as(sql).fetch_all(p).await)?;
    Ok(rows.into_iter().filter(|r| r.3 != 0).map(|(u, f, p, v)| ((u, f, p), v)).collect())
}

/// Number of shards a figure is split into on this backend.
pub fn shards(backend: Backend) -> u32 {
    match backend {
        Backend::Sqlite => 1,
        Backend::Postgres => PG_SHARDS,
    }
}
