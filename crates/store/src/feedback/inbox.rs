//! Lists of items: the staff inbox, the public list of answers and the search behind
//! Open311.

use ngoso_core::feedback::State;
use ngoso_core::text;
use ngoso_core::unit::UnitPath;
use serde::Serialize;

use super::items::{PUBLIC_ITEM_SELECT, PublicItem};
use super::{Arg, bind_all};
use crate::{Db, Result, on_db, on_tx};

/// A row of the inbox.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct InboxRow {
    pub id: i64,
    pub code: String,
    pub category_id: i64,
    pub unit_name: Option<String>,
    pub agency_code: Option<String>,
    pub state: String,
    pub received_at: i64,
    pub due_at: i64,
    pub extended: bool,
    /// The first 140 characters of the description.
    pub summary: String,
}

/// Which items an inbox lists.
#[derive(Debug, Clone, Default)]
pub struct InboxFilter {
    /// Only this agency's items (always set for agency staff).
    pub agency_id: Option<i64>,
    /// Only items with no agency yet.
    pub unassigned: bool,
    /// Only items in this subtree (the viewer's scope); items with no unit are shown only
    /// when `unitless` is set.
    pub within: Option<UnitPath>,
    pub unitless: bool,
    /// Closed units whose items the viewer handles though they lie outside `within`: their
    /// successors are inside it (a restructuring; see `restructure::handling_path`).
    pub also_units: Vec<i64>,
    pub state: Option<State>,
    pub category_id: Option<i64>,
    /// Only pending items past their deadline at this time.
    pub overdue_at: Option<i64>,
    pub page: u32,
}

/// Items per inbox page.
pub const PAGE: i64 = 50;

/// An inbox page: pending items by deadline, the others newest first. One more row than
/// [`PAGE`] tells the caller there is a next page.
pub async fn inbox(db: &Db, f: &InboxFilter) -> Result<Vec<InboxRow>> {
    let (conds, args) = inbox_where(f);
    let pending_only = f.overdue_at.is_some() || f.state.is_some_and(State::is_pending);
    let sql = format!(
        "SELECT f.id, f.code, f.category_id, u.name AS unit_name, a.code AS agency_code, f.state, f.received_at, f.due_at, \
         f.extended, SUBSTR(f.description, 1, 140) AS summary FROM feedback f LEFT JOIN units u ON u.id = f.unit_id \
         LEFT JOIN agencies a ON a.id = f.agency_id WHERE TRUE{conds} {} LIMIT {} OFFSET {}",
        if pending_only { "ORDER BY f.due_at, f.id" } else { "ORDER BY f.received_at DESC, f.id DESC" },
        PAGE + 1,
        i64::from(f.page.min(10_000)) * PAGE
    );
    let rows = on_db!(db, p => bind_all!(sqlx::query_as::<_, InboxRow>(sqlx::AssertSqlSafe(sql.as_str())), &args).fetch_all(p).await)?;
    Ok(rows)
}

/// How many items an inbox filter matches, counting no further than `cap` (a page shows
/// "1.000+" rather than paying for a count of every overdue item).
pub async fn inbox_count(db: &Db, f: &InboxFilter, cap: i64) -> Result<i64> {
    let (conds, args) = inbox_where(f);
    let sql = format!(
        "SELECT COUNT(*) FROM (SELECT f.id FROM feedback f LEFT JOIN units u ON u.id = f.unit_id WHERE TRUE{conds} LIMIT {}) x",
        cap.max(1)
    );
    Ok(
        on_db!(db, p => bind_all!(sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(sql.as_str())), &args).fetch_one(p).await)?,
    )
}

/// The conditions of an inbox filter (to follow `WHERE TRUE`) and their values.
fn inbox_where(f: &InboxFilter) -> (String, Vec<Arg>) {
    let mut sql = String::new();
    let mut args = Vec::new();
    let mut push = |sql: &mut String, cond: &str, a: Arg| {
        args.push(a);
        sql.push_str(&cond.replace('?', &format!("${}", args.len())));
    };
    if let Some(a) = f.agency_id {
        push(&mut sql, " AND f.agency_id = ?", Arg::I(a));
    }
    if f.unassigned {
        sql.push_str(" AND f.agency_id IS NULL");
    }
    if let Some(at) = f.overdue_at {
        push(&mut sql, " AND f.pending AND f.due_at < ?", Arg::I(at));
    }
    if let Some(s) = f.state {
        push(&mut sql, " AND f.state = ?", Arg::S(s.as_str().into()));
    }
    if let Some(c) = f.category_id {
        push(&mut sql, " AND f.category_id = ?", Arg::I(c));
    }
    if let Some(w) = &f.within {
        push(&mut sql, " AND ((u.path >= ?", Arg::S(w.as_str().into()));
        push(&mut sql, " AND u.path < ?)", Arg::S(w.upper_bound()));
        if !f.also_units.is_empty() {
            // Ids are integers of ours: written into the text.
            let ids: Vec<String> = f.also_units.iter().map(i64::to_string).collect();
            sql.push_str(&format!(" OR f.unit_id IN ({})", ids.join(", ")));
        }
        sql.push_str(if f.unitless { " OR f.unit_id IS NULL)" } else { ")" });
    }
    (sql, args)
}

/// An answered item as anyone may see it: no contact, no address, no coordinates.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PublicRow {
    pub code: String,
    pub category_id: i64,
    pub unit_name: Option<String>,
    pub description: String,
    pub state: String,
    pub received_at: i64,
    pub answered_at: Option<i64>,
    pub answer: Option<String>,
    pub rating: Option<String>,
}

/// Items on a page of the public list of answered items.
pub const PUBLIC_PAGE: i64 = 20;

/// Which answered items the public list shows: inside a unit, and those whose code or
/// description contains a query (folded, so "hoa" finds "Hòa"); a page of [`PUBLIC_PAGE`].
#[derive(Debug, Clone, Default)]
pub struct PublicFilter {
    pub within: Option<UnitPath>,
    pub query: String,
    pub page: u32,
}

/// The public list: answered items not hidden, newest answer first; one more than a page,
/// so the caller knows whether another follows.
pub async fn public_list(db: &Db, f: &PublicFilter) -> Result<Vec<PublicRow>> {
    let mut sql = String::from(
        "SELECT f.code, f.category_id, u.name AS unit_name, f.description, f.state, f.received_at, f.answered_at, f.answer, \
         f.rating FROM feedback f LEFT JOIN units u ON u.id = f.unit_id \
         WHERE f.answer IS NOT NULL AND f.hidden_reason IS NULL",
    );
    let mut args = Vec::new();
    if let Some(w) = &f.within {
        args.push(Arg::S(w.as_str().to_owned()));
        args.push(Arg::S(w.upper_bound()));
        sql.push_str(" AND u.path >= $1 AND u.path < $2");
    }
    let key = text::fold(&f.query);
    if !key.is_empty() {
        args.push(Arg::S(format!("%{}%", key.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_"))));
        let n = args.len();
        sql.push_str(&format!(" AND (f.search_key LIKE ${n} ESCAPE '\\' OR LOWER(f.code) LIKE ${n} ESCAPE '\\')"));
    }
    sql.push_str(&format!(
        " ORDER BY f.answered_at DESC, f.id DESC LIMIT {} OFFSET {}",
        PUBLIC_PAGE + 1,
        i64::from(f.page.min(10_000)) * PUBLIC_PAGE
    ));
    Ok(
        on_db!(db, p => bind_all!(sqlx::query_as::<_, PublicRow>(sqlx::AssertSqlSafe(sql.as_str())), &args).fetch_all(p).await)?,
    )
}

/// The units answered items lie in (the units they name and those above), as (id, name,
/// depth), each under its parent: the public list's filter. Read off the feedback figures (a
/// row a unit, category, agency and month), not the items: the public page asks on every
/// view. When there are more than 500, the deepest level goes first.
pub async fn public_units(db: &Db) -> Result<Vec<(i64, String, usize)>> {
    let paths: Vec<String> = on_db!(db, p => sqlx::query_scalar(
        "SELECT u.path FROM units u WHERE u.id IN (SELECT c.unit_id FROM feedback_counts c WHERE c.answered > 0)")
        .fetch_all(p).await)?;
    let mut ids: std::collections::BTreeMap<i64, usize> = std::collections::BTreeMap::new();
    for p in paths {
        for (depth, id) in UnitPath::from_stored(p).ids().into_iter().enumerate() {
            ids.insert(id, depth);
        }
    }
    let mut deepest = ids.values().copied().max().unwrap_or(0);
    while ids.len() > 500 && deepest > 0 {
        ids.retain(|_, d| *d < deepest);
        deepest -= 1;
    }
    let mut rows: Vec<(i64, String, String)> = Vec::with_capacity(ids.len());
    let list: Vec<i64> = ids.keys().copied().collect();
    for chunk in list.chunks(500) {
        let mut sql = String::from("SELECT id, name, path FROM units WHERE id IN (");
        let args: Vec<Arg> = chunk.iter().map(|id| Arg::I(*id)).collect();
        for i in 1..=args.len() {
            sql.push_str(&format!("{}${i}", if i > 1 { ", " } else { "" }));
        }
        sql.push(')');
        rows.extend(on_db!(db, p => bind_all!(sqlx::query_as::<_, (i64, String, String)>(sqlx::AssertSqlSafe(sql.as_str())), &args).fetch_all(p).await)?);
    }
    // Each under its parent, brothers by name.
    let names: std::collections::HashMap<i64, String> =
        rows.iter().map(|(id, name, _)| (*id, ngoso_core::text::fold(name))).collect();
    let key = |path: &str| -> Vec<String> {
        UnitPath::from_stored(path.to_owned())
            .ids()
            .iter()
            .map(|id| names.get(id).cloned().unwrap_or_default())
            .collect()
    };
    rows.sort_by_cached_key(|r| key(&r.2));
    Ok(rows.into_iter().map(|(id, name, path)| (id, name, UnitPath::from_stored(path).depth())).collect())
}

/// Gives the items without a search key theirs (those recorded before migration 0030), a
/// thousand at a time; returns how many. Run when the program starts.
pub async fn fill_search_keys(db: &Db) -> Result<u64> {
    let mut done = 0;
    loop {
        let rows: Vec<(i64, String)> = on_db!(db, p => sqlx::query_as(
            "SELECT id, description FROM feedback WHERE search_key IS NULL ORDER BY id LIMIT 1000").fetch_all(p).await)?;
        if rows.is_empty() {
            return Ok(done);
        }
        let mut tx = db.begin().await?;
        for (id, description) in &rows {
            on_tx!(&mut tx, c => sqlx::query("UPDATE feedback SET search_key = $1 WHERE id = $2")
                .bind(text::fold(description)).bind(id).execute(c).await.map(|r| r.rows_affected()))?;
        }
        tx.commit().await?;
        done += rows.len() as u64;
    }
}

/// Which items an Open311 `GET requests` lists: by codes (which overrides the rest), or by
/// category, open/closed and a window on the time of receipt. Hidden items are left out.
#[derive(Debug, Clone, Default)]
pub struct Search {
    pub codes: Vec<String>,
    pub category_ids: Vec<i64>,
    /// `Some(true)`: pending only; `Some(false)`: finished only.
    pub pending: Option<bool>,
    pub from: i64,
    pub to: i64,
    pub limit: i64,
}

/// Items for Open311 (and other public lists), as the public may see them, newest first;
/// hidden items left out.
pub async fn search(db: &Db, s: &Search) -> Result<Vec<PublicItem>> {
    let mut sql = format!("{PUBLIC_ITEM_SELECT} WHERE f.hidden_reason IS NULL");
    let mut args = Vec::new();
    let mut list = |sql: &mut String, col: &str, vals: Vec<Arg>| {
        sql.push_str(&format!(" AND {col} IN ("));
        for (i, v) in vals.into_iter().enumerate() {
            args.push(v);
            sql.push_str(&format!("{}${}", if i > 0 { ", " } else { "" }, args.len()));
        }
        sql.push(')');
    };
    if !s.codes.is_empty() {
        list(&mut sql, "f.code", s.codes.iter().take(200).map(|c| Arg::S(c.clone())).collect());
    } else {
        if !s.category_ids.is_empty() {
            list(&mut sql, "f.category_id", s.category_ids.iter().map(|c| Arg::I(*c)).collect());
        }
        if let Some(p) = s.pending {
            sql.push_str(if p { " AND f.pending" } else { " AND NOT f.pending" });
        }
        args.push(Arg::I(s.from));
        sql.push_str(&format!(" AND f.received_at >= ${}", args.len()));
        args.push(Arg::I(s.to));
        sql.push_str(&format!(" AND f.received_at <= ${}", args.len()));
    }
    sql.push_str(&format!(" ORDER BY f.received_at DESC, f.id DESC LIMIT {}", s.limit.clamp(1, 1000)));
    Ok(
        on_db!(db, p => bind_all!(sqlx::query_as::<_, PublicItem>(sqlx::AssertSqlSafe(sql.as_str())), &args).fetch_all(p).await)?,
    )
}
