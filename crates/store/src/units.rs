//! The administrative tree: units with a materialised path.

use std::collections::HashMap;

use chrono::NaiveDate;
use ngoso_core::import::{ExistingUnit, PlannedParent, PlannedUnit};
use ngoso_core::unit::{UnitCode, UnitKind, UnitName, UnitPath, Validity};
use ngoso_core::{Invalid, text};
use serde::Serialize;
use sqlx::QueryBuilder;

use crate::db::dialect::{self, Table};
use crate::{Db, Result, StoreError, Tx, now, on_db, on_tx, on_write};

/// A unit as stored.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct Unit {
    pub id: i64,
    pub code: String,
    pub name: String,
    pub kind: String,
    pub parent_id: Option<i64>,
    pub path: String,
    pub depth: i32,
    pub valid_from: Option<NaiveDate>,
    pub valid_to: Option<NaiveDate>,
    pub created_at: i64,
    pub updated_at: i64,
}

impl Unit {
    pub fn unit_path(&self) -> UnitPath {
        UnitPath::from_stored(self.path.clone())
    }
    /// Whether the unit exists on `day` (from `valid_from`, inclusive, to `valid_to`,
    /// exclusive; an open end is no limit).
    pub fn exists_on(&self, day: NaiveDate) -> bool {
        Validity { from: self.valid_from, to: self.valid_to }.contains(day)
    }
    /// Whether the unit was closed on or before `day`.
    pub fn closed_by(&self, day: NaiveDate) -> bool {
        self.valid_to.is_some_and(|t| t <= day)
    }
    pub fn validity(&self) -> Validity {
        Validity { from: self.valid_from, to: self.valid_to }
    }
}

/// A unit in a list, with the number of its children.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct UnitListItem {
    pub id: i64,
    pub code: String,
    pub name: String,
    pub kind: String,
    pub path: String,
    pub child_count: i64,
}

/// A unit to create.
#[derive(Debug, Clone)]
pub struct NewUnit {
    pub code: UnitCode,
    pub name: UnitName,
    pub kind: UnitKind,
    pub parent_id: Option<i64>,
    pub validity: Validity,
}

pub(crate) const COLUMNS: &str =
    "id, code, name, kind, parent_id, path, depth, valid_from, valid_to, created_at, updated_at";

pub async fn get(db: &Db, id: i64) -> Result<Unit> {
    let sql = "SELECT id, code, name, kind, parent_id, path, depth, valid_from, valid_to, created_at, updated_at \
               FROM units WHERE id = $1";
    on_db!(db, p => sqlx::query_as::<_, Unit>(sql).bind(id).fetch_optional(p).await)?.ok_or(StoreError::NotFound)
}

/// The unit of a code. A code names one unit on any day, but may be reused once a unit has
/// closed (the new Tây Ninh is 80, Long An's code): the unit that exists today, or else the
/// one that closed last (an open end counts as the latest).
pub async fn by_code(db: &Db, code: &str) -> Result<Unit> {
    let today = crate::teams::today();
    let all = all_of_code(db, code).await?;
    let found = all.iter().find(|u| u.exists_on(today)).or_else(|| all.last());
    found.cloned().ok_or(StoreError::NotFound)
}

/// The unit of a code that exists on `day`.
pub async fn by_code_on(db: &Db, code: &str, day: NaiveDate) -> Result<Unit> {
    all_of_code(db, code).await?.into_iter().find(|u| u.exists_on(day)).ok_or(StoreError::NotFound)
}

/// The unit a code named during a period (a report of 2024 for code 80 is Long An's, though
/// 80 is now the new Tây Ninh's): the one that existed on the period's last day (or today,
/// for a period not over), else the one [`by_code`] gives.
pub async fn by_code_for(db: &Db, code: &str, last_day: NaiveDate) -> Result<Unit> {
    let day = last_day.min(crate::teams::today());
    let all = all_of_code(db, code).await?;
    if let Some(u) = all.iter().rev().find(|u| u.exists_on(day)) {
        return Ok(u.clone());
    }
    by_code(db, code).await
}

/// Every unit that has had a code, the earliest first.
pub async fn all_of_code(db: &Db, code: &str) -> Result<Vec<Unit>> {
    let sql = format!("SELECT {COLUMNS} FROM units WHERE code = $1");
    let mut rows: Vec<Unit> = on_db!(db, p => sqlx::query_as::<_, Unit>(sqlx::AssertSqlSafe(sql.as_str())).bind(code.trim()).fetch_all(p).await)?;
    rows.sort_by_key(|u| (u.valid_to.is_none(), u.valid_to, u.valid_from, u.id));
    Ok(rows)
}

/// Whether another unit of the code exists on some day of `validity`.
async fn code_taken(tx: &mut Tx, code: &str, validity: &Validity) -> Result<bool> {
    let sql = "SELECT valid_from, valid_to FROM units WHERE code = $1";
    let rows: Vec<(Option<NaiveDate>, Option<NaiveDate>)> =
        on_tx!(tx, c => sqlx::query_as(sql).bind(code).fetch_all(c).await)?;
    Ok(rows.into_iter().any(|(from, to)| Validity { from, to }.overlaps(validity)))
}

async fn get_in(tx: &mut Tx, id: i64) -> Result<Unit> {
    let sql = "SELECT id, code, name, kind, parent_id, path, depth, valid_from, valid_to, created_at, updated_at \
               FROM units WHERE id = $1";
    on_tx!(tx, c => sqlx::query_as::<_, Unit>(sql).bind(id).fetch_optional(c).await)?.ok_or(StoreError::NotFound)
}

/// The children of a unit (or the roots), in Vietnamese alphabetical order.
pub async fn children(db: &Db, parent: Option<i64>) -> Result<Vec<UnitListItem>> {
    let rows = match parent {
        Some(id) => {
            let sql = "SELECT u.id, u.code, u.name, u.kind, u.path, \
                       (SELECT COUNT(*) FROM units c WHERE c.parent_id = u.id) AS child_count \
                       FROM units u WHERE u.parent_id = $1 ORDER BY u.name_sort, u.id";
            on_db!(db, p => sqlx::query_as::<_, UnitListItem>(sql).bind(id).fetch_all(p).await)?
        }
        None => {
            let sql = "SELECT u.id, u.code, u.name, u.kind, u.path, \
                       (SELECT COUNT(*) FROM units c WHERE c.parent_id = u.id) AS child_count \
                       FROM units u WHERE u.parent_id IS NULL ORDER BY u.name_sort, u.id";
            on_db!(db, p => sqlx::query_as::<_, UnitListItem>(sql).fetch_all(p).await)?
        }
    };
    Ok(rows)
}

/// The children of a unit (or the roots) that exist on `day`, in Vietnamese alphabetical
/// order, each with the number of its own children that exist on that day: the tree as it
/// stood then.
pub async fn children_on(db: &Db, parent: Option<i64>, day: NaiveDate) -> Result<Vec<UnitListItem>> {
    let valid = |t: &str| {
        format!("({t}.valid_from IS NULL OR {t}.valid_from <= $1) AND ({t}.valid_to IS NULL OR {t}.valid_to > $1)")
    };
    let sql = format!(
        "SELECT u.id, u.code, u.name, u.kind, u.path, \
         (SELECT COUNT(*) FROM units c WHERE c.parent_id = u.id AND {}) AS child_count \
         FROM units u WHERE {} AND {} ORDER BY u.name_sort, u.id",
        valid("c"),
        if parent.is_some() { "u.parent_id = $2" } else { "u.parent_id IS NULL" },
        valid("u")
    );
    let sql = sqlx::AssertSqlSafe(sql.as_str());
    Ok(match parent {
        Some(id) => on_db!(db, p => sqlx::query_as::<_, UnitListItem>(sql).bind(day).bind(id).fetch_all(p).await)?,
        None => on_db!(db, p => sqlx::query_as::<_, UnitListItem>(sql).bind(day).fetch_all(p).await)?,
    })
}

/// The units that took over from `id` when it closed (merged into one, or split among
/// several), in Vietnamese alphabetical order.
pub async fn successors(db: &Db, id: i64) -> Result<Vec<Unit>> {
    linked(db, id, "s.unit_id = $1 AND u.id = s.successor_id").await
}

/// The units `id` was formed from.
pub async fn predecessors(db: &Db, id: i64) -> Result<Vec<Unit>> {
    linked(db, id, "s.successor_id = $1 AND u.id = s.unit_id").await
}

async fn linked(db: &Db, id: i64, join: &str) -> Result<Vec<Unit>> {
    let cols: Vec<String> = COLUMNS.split(", ").map(|c| format!("u.{c}")).collect();
    let sql =
        format!("SELECT {} FROM unit_successors s JOIN units u ON {join} ORDER BY u.name_sort, u.id", cols.join(", "));
    Ok(on_db!(db, p => sqlx::query_as::<_, Unit>(sqlx::AssertSqlSafe(sql.as_str())).bind(id).fetch_all(p).await)?)
}

/// Records that `successor` took over (all or part of) `id`; recording it again changes
/// nothing. A unit is not its own successor, and a successor must begin on or after the
/// day its predecessor closed (both dates set).
pub async fn add_successor(db: &Db, id: i64, successor: i64) -> Result<()> {
    if id == successor {
        return Err(Invalid::field("unit-successor-self", "successor_id").into());
    }
    let (old, new) = (get(db, id).await?, get(db, successor).await?);
    // An open end overlaps whatever follows it.
    match (old.valid_to, new.valid_from) {
        (Some(end), Some(start)) if start >= end => {}
        _ => return Err(Invalid::field("unit-successor-overlap", "successor_id").with_detail(new.code).into()),
    }
    on_write!(db, p => sqlx::query(
        "INSERT INTO unit_successors (unit_id, successor_id) VALUES ($1, $2) ON CONFLICT DO NOTHING")
        .bind(id).bind(successor).execute(p).await.map(|_| ()))?;
    Ok(())
}

/// The ancestors of a unit, root first, the unit itself excluded.
pub async fn ancestors(db: &Db, unit: &Unit) -> Result<Vec<Unit>> {
    let ids: Vec<i64> = unit.unit_path().ids().into_iter().filter(|&i| i != unit.id).collect();
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut rows: Vec<Unit> = on_db!(db, p => {
        let mut qb = QueryBuilder::new(format!("SELECT {COLUMNS} FROM units WHERE id IN ("));
        let mut sep = qb.separated(", ");
        for id in &ids {
            sep.push_bind(*id);
        }
        qb.push(")");
        qb.build_query_as::<Unit>().fetch_all(p).await
    })?;
    rows.sort_by_key(|u| u.depth);
    Ok(rows)
}

/// Number of units in the subtree under `path`, the unit itself included.
pub async fn subtree_size(db: &Db, path: &UnitPath) -> Result<i64> {
    let sql = "SELECT COUNT(*) FROM units WHERE path >= $1 AND path < $2";
    let n: i64 =
        on_db!(db, p => sqlx::query_scalar(sql).bind(path.as_str()).bind(path.upper_bound()).fetch_one(p).await)?;
    Ok(n)
}

/// Units whose folded name contains the folded query, or whose code is the query, inside
/// `within` (or anywhere), in alphabetical order.
pub async fn search(db: &Db, query: &str, within: Option<&UnitPath>, limit: i64) -> Result<Vec<UnitListItem>> {
    let key = format!("%{}%", escape_like(&text::fold(query)));
    let (lo, hi) = match within {
        Some(p) => (p.as_str().to_owned(), p.upper_bound()),
        None => ("/".to_owned(), "0".to_owned()),
    };
    let sql = "SELECT u.id, u.code, u.name, u.kind, u.path, \
               (SELECT COUNT(*) FROM units c WHERE c.parent_id = u.id) AS child_count \
               FROM units u WHERE (u.name_key LIKE $1 ESCAPE '\\' OR u.code = $2) AND u.path >= $3 AND u.path < $4 \
               ORDER BY u.name_sort, u.id LIMIT $5";
    let rows = on_db!(db, p => sqlx::query_as::<_, UnitListItem>(sql)
        .bind(&key).bind(query.trim()).bind(&lo).bind(&hi).bind(limit).fetch_all(p).await)?;
    Ok(rows)
}

fn escape_like(s: &str) -> String {
    s.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_")
}

/// Creates a unit under `parent_id` (or as a root).
pub async fn create(db: &Db, new: &NewUnit) -> Result<Unit> {
    let mut tx = db.begin().await?;
    let parent_path = match new.parent_id {
        Some(pid) => Some(match get_in(&mut tx, pid).await {
            Err(StoreError::NotFound) => {
                return Err(Invalid::field("unit-parent-unknown", "parent").with_detail(pid.to_string()).into());
            }
            Ok(parent) => {
                // A unit under a closed one must end by then.
                if let Some(end) = parent.valid_to
                    && new.validity.to.is_none_or(|to| to > end)
                {
                    return Err(Invalid::field("unit-parent-closed", "parent").with_detail(parent.code).into());
                }
                parent.unit_path()
            }
            Err(e) => return Err(e),
        }),
        None => None,
    };
    if code_taken(&mut tx, new.code.as_str(), &new.validity).await? {
        return Err(Invalid::field("unit-code-exists", "code").with_detail(new.code.as_str()).into());
    }
    let id = dialect::reserve_ids(&mut tx, Table::Units, 1).await?[0];
    let path = match &parent_path {
        Some(pp) => pp.child(id),
        None => UnitPath::root(id),
    };
    let t = now();
    let sql = "INSERT INTO units (id, code, name, name_key, name_sort, kind, parent_id, path, depth, valid_from, valid_to, created_at, updated_at) \
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12)";
    let res = on_tx!(&mut tx, c => sqlx::query(sql)
        .bind(id)
        .bind(new.code.as_str())
        .bind(new.name.as_str())
        .bind(text::fold(new.name.as_str()))
        .bind(text::sort_key(new.name.as_str()))
        .bind(new.kind.as_str())
        .bind(new.parent_id)
        .bind(path.as_str())
        .bind(path.depth() as i32)
        .bind(new.validity.from)
        .bind(new.validity.to)
        .bind(t)
        .execute(c).await.map(|r| r.rows_affected()));
    if let Err(e) = res {
        let e = StoreError::from(e);
        if e.is_unique_violation() {
            return Err(Invalid::field("unit-code-exists", "code").with_detail(new.code.as_str()).into());
        }
        return Err(e);
    }
    let unit = get_in(&mut tx, id).await?;
    tx.commit().await?;
    Ok(unit)
}

/// Renames a unit and changes its level name.
pub async fn rename(db: &Db, id: i64, name: &UnitName, kind: &UnitKind) -> Result<Unit> {
    let mut tx = db.begin().await?;
    let sql = "UPDATE units SET name = $1, name_key = $2, name_sort = $3, kind = $4, updated_at = $5 WHERE id = $6";
    let done = on_tx!(&mut tx, c => sqlx::query(sql)
        .bind(name.as_str())
        .bind(text::fold(name.as_str()))
        .bind(text::sort_key(name.as_str()))
        .bind(kind.as_str())
        .bind(now())
        .bind(id)
        .execute(c).await.map(|r| r.rows_affected()))?;
    if done == 0 {
        return Err(StoreError::NotFound);
    }
    let unit = get_in(&mut tx, id).await?;
    tx.commit().await?;
    Ok(unit)
}

/// Moves a unit, with its whole subtree, under a new parent (or to the top).
pub async fn move_to(db: &Db, id: i64, new_parent: Option<i64>) -> Result<Unit> {
    let mut tx = db.begin().await?;
    let unit = get_in(&mut tx, id).await?;
    // A closed unit stays where it was reported; and nothing goes under a closed unit.
    if unit.valid_to.is_some() {
        return Err(Invalid::new("unit-closed-move").with_detail(unit.code).into());
    }
    let old = unit.unit_path();
    let new_path = match new_parent {
        Some(pid) => {
            let parent = match get_in(&mut tx, pid).await {
                Err(StoreError::NotFound) => {
                    return Err(Invalid::field("unit-parent-unknown", "parent").with_detail(pid.to_string()).into());
                }
                other => other?,
            };
            if parent.valid_to.is_some() {
                return Err(Invalid::field("unit-parent-closed", "parent").with_detail(parent.code).into());
            }
            let pp = parent.unit_path();
            if old.contains(&pp) {
                return Err(Invalid::field("unit-move-cycle", "parent").with_detail(parent.code).into());
            }
            pp.child(id)
        }
        None => UnitPath::root(id),
    };
    if new_path == old {
        tx.commit().await?;
        return Ok(unit);
    }
    let delta = new_path.depth() as i32 - old.depth() as i32;
    let sql = "UPDATE units SET path = $1 || substr(path, $2), depth = depth + $3, updated_at = $4 \
               WHERE path >= $5 AND path < $6";
    on_tx!(&mut tx, c => sqlx::query(sql)
        .bind(new_path.as_str())
        .bind(old.as_str().len() as i32 + 1)
        .bind(delta)
        .bind(now())
        .bind(old.as_str())
        .bind(old.upper_bound())
        .execute(c).await.map(|r| r.rows_affected()))?;
    on_tx!(&mut tx, c => sqlx::query("UPDATE units SET parent_id = $1 WHERE id = $2").bind(new_parent).bind(id).execute(c).await.map(|r| r.rows_affected()))?;
    // The unit's figures cover its subtree: they leave the old ancestors for the new ones.
    let above = |p: &UnitPath| p.ids().into_iter().filter(|&a| a != id).collect::<Vec<_>>();
    crate::rollups::move_subtree(&mut tx, id, &above(&old), &above(&new_path)).await?;
    let unit = get_in(&mut tx, id).await?;
    tx.commit().await?;
    // Accounts of the subtree now have another path: cached answers for their tokens go.
    crate::tokens::changed();
    Ok(unit)
}

/// Every unit's code with its id and path, for planning an import: of the units whose
/// validity overlaps `within` when given (the tree of a time), and where a code was reused,
/// the unit that is open (or closed last).
pub async fn existing_for_import(db: &Db, within: Option<&Validity>) -> Result<HashMap<String, ExistingUnit>> {
    let sql = "SELECT code, id, path, valid_from, valid_to FROM units";
    type Row = (String, i64, String, Option<NaiveDate>, Option<NaiveDate>);
    let mut rows: Vec<Row> = on_db!(db, p => sqlx::query_as(sql).fetch_all(p).await)?;
    if let Some(w) = within {
        rows.retain(|r| Validity { from: r.3, to: r.4 }.overlaps(w));
    }
    // The latest last, so that it is the one kept.
    rows.sort_by_key(|r| (r.4.is_none(), r.4, r.3, r.1));
    Ok(rows
        .into_iter()
        .map(|(code, id, path, _, _)| (code, ExistingUnit { id, path: UnitPath::from_stored(path) }))
        .collect())
}

/// Rows per INSERT statement in a bulk import (13 bound values each stays under both
/// backends' limits on bound parameters).
const IMPORT_CHUNK: usize = 1000;

/// Writes a checked plan in one transaction: all of it, or nothing (on PostgreSQL by `COPY`).
/// `progress` is called with the number of units written so far.
pub async fn import(db: &Db, plan: &[PlannedUnit], progress: &(dyn Fn(u64) + Sync)) -> Result<u64> {
    let mut tx = db.begin().await?;
    let ids = dialect::reserve_ids(&mut tx, Table::Units, plan.len()).await?;
    let mut paths: Vec<UnitPath> = Vec::with_capacity(plan.len());
    let mut parent_ids: Vec<Option<i64>> = Vec::with_capacity(plan.len());
    for (i, u) in plan.iter().enumerate() {
        let (path, parent) = match &u.parent {
            PlannedParent::Root => (UnitPath::root(ids[i]), None),
            PlannedParent::Existing { id, path } => (path.child(ids[i]), Some(*id)),
            PlannedParent::New(j) => {
                debug_assert!(*j < i, "the plan orders parents first");
                (paths[*j].child(ids[i]), Some(ids[*j]))
            }
        };
        paths.push(path);
        parent_ids.push(parent);
    }
    let t = now();
    if let Tx::Pg(c) = &mut tx {
        let ts = t.to_string();
        let date = |d: Option<NaiveDate>| d.map(|d| d.format("%Y-%m-%d").to_string());
        let rows: Vec<[Option<String>; 13]> = plan
            .iter()
            .enumerate()
            .map(|(i, u)| {
                [
                    Some(ids[i].to_string()),
                    Some(u.code.as_str().to_owned()),
                    Some(u.name.as_str().to_owned()),
                    Some(text::fold(u.name.as_str())),
                    // bytea in hex form.
                    Some(format!("\\x{}", crate::secrets::hex(&text::sort_key(u.name.as_str())))),
                    Some(u.kind.as_str().to_owned()),
                    parent_ids[i].map(|p| p.to_string()),
                    Some(paths[i].as_str().to_owned()),
                    Some(paths[i].depth().to_string()),
                    date(u.validity.from),
                    date(u.validity.to),
                    Some(ts.clone()),
                    Some(ts.clone()),
                ]
            })
            .collect();
        let written = match crate::db::pg::unit_import::write(c, &rows, progress).await {
            Err(e) if e.is_unique_violation() => return Err(Invalid::new("unit-code-exists").into()),
            other => other?,
        };
        tx.commit().await?;
        return Ok(written);
    }
    let mut written = 0u64;
    for (chunk_no, chunk) in plan.chunks(IMPORT_CHUNK).enumerate() {
        let base = chunk_no * IMPORT_CHUNK;
        let res = on_tx!(&mut tx, c => {
            let mut qb = QueryBuilder::new(
                "INSERT INTO units (id, code, name, name_key, name_sort, kind, parent_id, path, depth, valid_from, valid_to, created_at, updated_at) ",
            );
            qb.push_values(chunk.iter().enumerate(), |mut b, (k, u)| {
                let i = base + k;
                b.push_bind(ids[i])
                    .push_bind(u.code.as_str())
                    .push_bind(u.name.as_str())
                    .push_bind(text::fold(u.name.as_str()))
                    .push_bind(text::sort_key(u.name.as_str()))
                    .push_bind(u.kind.as_str())
                    .push_bind(parent_ids[i])
                    .push_bind(paths[i].as_str())
                    .push_bind(paths[i].depth() as i32)
                    .push_bind(u.validity.from)
                    .push_bind(u.validity.to)
                    .push_bind(t)
                    .push_bind(t);
            });
            qb.build().execute(c).await.map(|r| r.rows_affected())
        });
        if let Err(e) = res {
            let e = StoreError::from(e);
            if e.is_unique_violation() {
                // Someone created one of these codes since the plan was made.
                return Err(Invalid::new("unit-code-exists").into());
            }
            return Err(e);
        }
        written += chunk.len() as u64;
        progress(written);
    }
    tx.commit().await?;
    Ok(written)
}

/// Number of units in the database.
pub async fn count(db: &Db) -> Result<i64> {
    let n: i64 = on_db!(db, p => sqlx::query_scalar("SELECT COUNT(*) FROM units").fetch_one(p).await)?;
    Ok(n)
}

/// (id, code, name, depth) of every unit down to `depth` (0 is the top), in tree order:
/// the places a citizen may pick on a form.
pub async fn down_to_depth(db: &Db, depth: i32) -> Result<Vec<(i64, String, String, i32)>> {
    let mut rows: Vec<(i64, String, String, i32, String, Vec<u8>)> = on_db!(db, p => sqlx::query_as(
        "SELECT id, code, name, depth, path, name_sort FROM units WHERE depth <= $1").bind(depth).fetch_all(p).await)?;
    // Tree order with siblings in Vietnamese order: sort by the chain of ancestors' sort keys.
    let keys: HashMap<i64, Vec<u8>> = rows.iter().map(|r| (r.0, r.5.clone())).collect();
    let chain = |path: &str| -> Vec<Vec<u8>> {
        path.split('/')
            .filter(|s| !s.is_empty())
            .filter_map(|s| s.parse::<i64>().ok())
            .filter_map(|id| keys.get(&id).cloned())
            .collect()
    };
    rows.sort_by_cached_key(|r| chain(&r.4));
    Ok(rows.into_iter().map(|r| (r.0, r.1, r.2, r.3)).collect())
}

/// The administrative level of a unit, read off its kind and its ancestors' kinds.
pub async fn level(db: &Db, unit: &Unit) -> Result<Option<ngoso_core::unit::AdminLevel>> {
    let chain = ancestors(db, unit).await?;
    Ok(ngoso_core::unit::AdminLevel::of_chain(
        chain.iter().map(|u| u.kind.as_str()).chain(std::iter::once(unit.kind.as_str())),
    ))
}
