//! Data elements and data values, their history, and their figures up the tree.
//!
//! A value is kept per element, unit and period; every change writes a history row and adds
//! its difference to the roll-ups (`value:<element>` and `value_n:<element>`, the number of
//! units that entered one) of the unit and every ancestor, in the same transaction, so that a
//! province's figure for a quarter is read from a few roll-up rows, never from the values.

use std::collections::{BTreeMap, HashMap};

use ngoso_core::Invalid;
use ngoso_core::period::{Period, PeriodKind};
use ngoso_core::rollup::{Deltas, figure};
use ngoso_core::unit::AdminLevel;
use ngoso_core::values::{Aggregation, Element, ValueType};
use sqlx::QueryBuilder;

use crate::{Db, Result, StoreError, Tx, now, on_db, on_tx, rollups};

#[derive(sqlx::FromRow)]
struct ElementRow {
    id: i64,
    code: String,
    name_vi: String,
    name_en: String,
    value_type: String,
    aggregation: String,
    level: String,
    period_type: String,
    active: bool,
}

impl ElementRow {
    fn into_element(self) -> Result<Element> {
        Ok(Element {
            id: self.id,
            code: self.code,
            name_vi: self.name_vi,
            name_en: self.name_en,
            value_type: ValueType::parse(&self.value_type)?,
            aggregation: Aggregation::parse(&self.aggregation)?,
            level: AdminLevel::parse(&self.level)?,
            period_kind: PeriodKind::parse(&self.period_type)?,
            active: self.active,
        })
    }
}

/// Every data element, in order.
pub async fn elements(db: &Db) -> Result<Vec<Element>> {
    let rows: Vec<ElementRow> = on_db!(db, p => sqlx::query_as(
        "SELECT id, code, name_vi, name_en, value_type, aggregation, level, period_type, active \
         FROM data_elements ORDER BY position, id").fetch_all(p).await)?;
    rows.into_iter().map(ElementRow::into_element).collect()
}

/// A new data element.
#[derive(Debug, Clone)]
pub struct NewElement {
    pub code: String,
    pub name_vi: String,
    pub name_en: String,
    pub value_type: ValueType,
    pub aggregation: Aggregation,
    pub level: AdminLevel,
    pub period_kind: PeriodKind,
}

/// Adds an element at the end of the list; returns its id.
pub async fn create_element(db: &Db, e: &NewElement) -> Result<i64> {
    let code = ngoso_core::values::parse_code(&e.code)?;
    let name_vi = crate::catalog::parse_name(&e.name_vi, "name_vi")?;
    let name_en = crate::catalog::parse_name(&e.name_en, "name_en")?;
    let mut tx = db.begin().await?;
    let pos: i32 = on_tx!(&mut tx, c => sqlx::query_scalar("SELECT COALESCE(MAX(position), 0) + 1 FROM data_elements").fetch_one(c).await)?;
    let res: std::result::Result<i64, sqlx::Error> = on_tx!(&mut tx, c => sqlx::query_scalar(
        "INSERT INTO data_elements (code, name_vi, name_en, value_type, aggregation, level, period_type, position, active, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, TRUE, $9) RETURNING id")
        .bind(&code).bind(&name_vi).bind(&name_en).bind(e.value_type.as_str()).bind(e.aggregation.as_str())
        .bind(e.level.as_str()).bind(e.period_kind.as_str()).bind(pos).bind(now()).fetch_one(c).await);
    let id = res.map_err(|err| {
        let err = StoreError::from(err);
        if err.is_unique_violation() {
            Invalid::field("element-code-exists", "code").with_detail(&code).into()
        } else {
            err
        }
    })?;
    tx.commit().await?;
    Ok(id)
}

/// The way a change came in, kept in the history.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    Form,
    Api,
    Csv,
    Demo,
}

impl Source {
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Form => "form",
            Source::Api => "api",
            Source::Csv => "csv",
            Source::Demo => "demo",
        }
    }
}

/// One value to set (`value` `None`: remove the value).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Write {
    pub element_id: i64,
    pub unit_id: i64,
    pub period: Period,
    pub value: Option<i64>,
    pub comment: Option<String>,
}

/// What a set of writes did, as DHIS2 counts it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Written {
    pub imported: u64,
    pub updated: u64,
    pub deleted: u64,
    pub ignored: u64,
}

type Key = (i64, i64, String);

/// A history row to write: key, before, after, comment.
type HistoryRow = (Key, Option<i64>, Option<i64>, Option<String>);

/// The values already stored for the keys: key → (value, comment).
async fn existing(tx: &mut Tx, keys: &[Key]) -> Result<HashMap<Key, (i64, Option<String>)>> {
    let mut out = HashMap::new();
    for chunk in keys.chunks(200) {
        let rows: Vec<(i64, i64, String, i64, Option<String>)> = on_tx!(tx, c => {
            let mut qb = QueryBuilder::new("SELECT element_id, unit_id, period, value, comment FROM data_values WHERE ");
            for (i, (e, u, p)) in chunk.iter().enumerate() {
                if i > 0 {
                    qb.push(" OR ");
                }
                qb.push("(element_id = ").push_bind(*e).push(" AND unit_id = ").push_bind(*u)
                    .push(" AND period = ").push_bind(p.as_str()).push(")");
            }
            qb.build_query_as::<(i64, i64, String, i64, Option<String>)>().fetch_all(c).await
        })?;
        for (e, u, p, v, c) in rows {
            out.insert((e, u, p), (v, c));
        }
    }
    Ok(out)
}

/// Sets values, all or none, in one transaction: each change is kept in the history with
/// who made it and how, and its difference goes up the tree. A write equal to what is stored
/// is ignored. When a key comes twice, the last write counts.
pub async fn write(db: &Db, user_id: Option<i64>, source: Source, writes: Vec<Write>) -> Result<Written> {
    let mut last: BTreeMap<Key, (Option<i64>, Option<String>)> = BTreeMap::new();
    for w in writes {
        last.insert((w.element_id, w.unit_id, w.period.id()), (w.value, w.comment));
    }
    let keys: Vec<Key> = last.keys().cloned().collect();
    let at = now();
    let mut tx = db.begin().await?;
    let before = existing(&mut tx, &keys).await?;
    let mut done = Written::default();
    let mut deltas = Deltas::default();
    let mut upserts: Vec<(Key, i64, Option<String>)> = Vec::new();
    let mut deletes: Vec<Key> = Vec::new();
    let mut history: Vec<HistoryRow> = Vec::new();
    for (key, (value, comment)) in last {
        let old = before.get(&key);
        match (old, value) {
            (None, None) => done.ignored += 1,
            (Some((v, c)), Some(n)) if *v == n && *c == comment => done.ignored += 1,
            (old, Some(n)) => {
                let was = old.map(|(v, _)| *v);
                if was.is_some() {
                    done.updated += 1
                } else {
                    done.imported += 1
                }
                deltas.add(key.1, figure::value(key.0), &key.2, n - was.unwrap_or(0));
                if was.is_none() {
                    deltas.add(key.1, figure::value_n(key.0), &key.2, 1);
                }
                history.push((key.clone(), was, Some(n), comment.clone()));
                upserts.push((key, n, comment));
            }
            (Some((v, _)), None) => {
                done.deleted += 1;
                deltas.add(key.1, figure::value(key.0), &key.2, -v);
                deltas.add(key.1, figure::value_n(key.0), &key.2, -1);
                history.push((key.clone(), Some(*v), None, comment));
                deletes.push(key);
            }
        }
    }
    for chunk in upserts.chunks(128) {
        on_tx!(&mut tx, c => {
            let mut qb = QueryBuilder::new(
                "INSERT INTO data_values (element_id, unit_id, period, value, comment, updated_by, updated_at) ");
            qb.push_values(chunk, |mut b, ((e, u, p), v, cm)| {
                b.push_bind(*e).push_bind(*u).push_bind(p.as_str()).push_bind(*v).push_bind(cm.as_deref())
                    .push_bind(user_id).push_bind(at);
            });
            qb.push(" ON CONFLICT (element_id, unit_id, period) DO UPDATE SET value = excluded.value, \
                     comment = excluded.comment, updated_by = excluded.updated_by, updated_at = excluded.updated_at");
            qb.build().execute(c).await.map(|r| r.rows_affected())
        })?;
    }
    for (e, u, p) in &deletes {
        on_tx!(&mut tx, c => sqlx::query("DELETE FROM data_values WHERE element_id = $1 AND unit_id = $2 AND period = $3")
            .bind(*e).bind(*u).bind(p.as_str()).execute(c).await.map(|r| r.rows_affected()))?;
    }
    for chunk in history.chunks(128) {
        on_tx!(&mut tx, c => {
            let mut qb = QueryBuilder::new(
                "INSERT INTO data_value_history (element_id, unit_id, period, before, after, comment, user_id, source, at) ");
            qb.push_values(chunk, |mut b, ((e, u, p), was, now_v, cm)| {
                b.push_bind(*e).push_bind(*u).push_bind(p.as_str()).push_bind(*was).push_bind(*now_v)
                    .push_bind(cm.as_deref()).push_bind(user_id).push_bind(source.as_str()).push_bind(at);
            });
            qb.build().execute(c).await.map(|r| r.rows_affected())
        })?;
    }
    rollups::apply(&mut tx, deltas.into_vec()).await?;
    tx.commit().await?;
    Ok(done)
}

/// A stored value, with the codes DHIS2 names it by.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Stored {
    pub element_id: i64,
    pub element_code: String,
    pub unit_id: i64,
    pub unit_code: String,
    pub period: String,
    pub value: i64,
    pub comment: Option<String>,
    pub stored_by: Option<String>,
    pub updated_at: i64,
}

/// Which stored values to read.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// The units (with their subtrees when `children`), by path.
    pub units: Vec<ngoso_core::unit::UnitPath>,
    pub children: bool,
    /// Periods named exactly (DHIS2's `period`); empty: any.
    pub periods: Vec<Period>,
    /// Periods inside these days (DHIS2's `startDate` and `endDate`).
    pub between: Option<(chrono::NaiveDate, chrono::NaiveDate)>,
    /// Elements by id; empty: all.
    pub elements: Vec<i64>,
}

/// The values entered, in element, unit and period order (at most `limit`).
pub async fn stored(db: &Db, f: &Filter, limit: i64) -> Result<Vec<Stored>> {
    if f.units.is_empty() {
        return Ok(Vec::new());
    }
    let periods: Vec<String> = f.periods.iter().map(Period::id).collect();
    let rows: Vec<Stored> = on_db!(db, p => {
        let mut qb = QueryBuilder::new(
            "SELECT v.element_id, e.code AS element_code, v.unit_id, u.code AS unit_code, v.period, v.value, v.comment, \
             us.username AS stored_by, v.updated_at FROM data_values v JOIN data_elements e ON e.id = v.element_id \
             JOIN units u ON u.id = v.unit_id LEFT JOIN users us ON us.id = v.updated_by WHERE (");
        for (i, path) in f.units.iter().enumerate() {
            if i > 0 {
                qb.push(" OR ");
            }
            if f.children {
                qb.push("(u.path >= ").push_bind(path.as_str().to_owned()).push(" AND u.path < ")
                    .push_bind(path.upper_bound()).push(")");
            } else {
                qb.push("u.path = ").push_bind(path.as_str().to_owned());
            }
        }
        qb.push(")");
        if !periods.is_empty() {
            qb.push(" AND v.period IN (");
            let mut sep = qb.separated(", ");
            for p in &periods {
                sep.push_bind(p.as_str());
            }
            qb.push(")");
        }
        if !f.elements.is_empty() {
            qb.push(" AND v.element_id IN (");
            let mut sep = qb.separated(", ");
            for e in &f.elements {
                sep.push_bind(*e);
            }
            qb.push(")");
        }
        qb.push(" ORDER BY e.position, e.id, u.path, v.period LIMIT ").push_bind(limit);
        qb.build_query_as::<Stored>().fetch_all(p).await
    })?;
    Ok(match f.between {
        None => rows,
        Some((from, to)) => rows
            .into_iter()
            .filter(|r| Period::parse(&r.period).is_ok_and(|p| from <= p.start() && p.end() <= to))
            .collect(),
    })
}

/// A change in a value's history.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow, serde::Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Change {
    pub element_id: i64,
    pub unit_id: i64,
    pub period: String,
    /// The value before (none: there was none).
    pub before: Option<i64>,
    /// The value after (none: removed).
    pub after: Option<i64>,
    pub comment: Option<String>,
    /// The account that made the change.
    pub username: Option<String>,
    /// `form`, `api`, `csv` or `demo`.
    pub source: String,
    /// Unix time.
    pub at: i64,
}

/// The changes to one unit's values for a period (and one element, if given), newest first.
pub async fn history(
    db: &Db,
    unit_id: i64,
    period: &Period,
    element_id: Option<i64>,
    limit: i64,
) -> Result<Vec<Change>> {
    let rows: Vec<Change> = on_db!(db, p => {
        let mut qb = QueryBuilder::new(
            "SELECT h.element_id, h.unit_id, h.period, h.before, h.after, h.comment, us.username, h.source, h.at \
             FROM data_value_history h LEFT JOIN users us ON us.id = h.user_id WHERE h.unit_id = ");
        qb.push_bind(unit_id).push(" AND h.period = ").push_bind(period.id());
        if let Some(e) = element_id {
            qb.push(" AND h.element_id = ").push_bind(e);
        }
        qb.push(" ORDER BY h.id DESC LIMIT ").push_bind(limit);
        qb.build_query_as::<Change>().fetch_all(p).await
    })?;
    Ok(rows)
}

/// An element's figure for a unit's subtree and a period.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Figure {
    /// The value (`None`: nothing entered in the period).
    pub value: Option<i64>,
    /// How many units entered a value, in the latest entry period that has one.
    pub reporting: i64,
}

/// Each element's figure for a unit (its whole subtree) and a period, read from the
/// roll-ups: a few rows per element, however many units and values lie below.
pub async fn figures(db: &Db, unit_id: i64, period: &Period, elements: &[Element]) -> Result<HashMap<i64, Figure>> {
    Ok(figures_of_units(db, &[unit_id], period, elements).await?.remove(&unit_id).unwrap_or_default())
}

/// [`figures`] of several units in one read: unit → element → figure.
pub async fn figures_of_units(
    db: &Db,
    unit_ids: &[i64],
    period: &Period,
    elements: &[Element],
) -> Result<HashMap<i64, HashMap<i64, Figure>>> {
    let mut entry_periods: Vec<String> = Vec::new();
    for kind in PeriodKind::ALL {
        if elements.iter().any(|e| e.period_kind == kind) {
            entry_periods.extend(period.within(kind).iter().map(Period::id));
        }
    }
    let mut all: HashMap<i64, HashMap<i64, Figure>> = HashMap::new();
    if entry_periods.is_empty() || unit_ids.is_empty() {
        return Ok(all);
    }
    let mut rows: Vec<(i64, String, String, i64)> = Vec::new();
    for chunk in unit_ids.chunks(128) {
        rows.extend(on_db!(db, p => {
            let mut qb = QueryBuilder::new(
                "SELECT unit_id, figure, period, CAST(SUM(value) AS BIGINT) FROM rollups WHERE unit_id IN (");
            let mut sep = qb.separated(", ");
            for id in chunk {
                sep.push_bind(*id);
            }
            // `value:…` and `value_n:…` both sort in ['value', 'valuf'): one index range.
            qb.push(") AND figure >= 'value' AND figure < 'valuf' AND period IN (");
            let mut sep = qb.separated(", ");
            for p in &entry_periods {
                sep.push_bind(p.as_str());
            }
            qb.push(") GROUP BY unit_id, figure, period");
            qb.build_query_as::<(i64, String, String, i64)>().fetch_all(p).await
        })?);
    }
    let mut per_unit: HashMap<i64, Vec<(String, String, i64)>> = HashMap::new();
    for (u, f, p, v) in rows {
        per_unit.entry(u).or_default().push((f, p, v));
    }
    for &unit_id in unit_ids {
        let rows = per_unit.remove(&unit_id).unwrap_or_default();
        let out = all.entry(unit_id).or_default();
        // element → entry period → (sum, units)
        let mut by: HashMap<i64, BTreeMap<Period, (i64, i64)>> = HashMap::new();
        for (fig, per, v) in rows {
            let Ok(per) = Period::parse(&per) else { continue };
            if let Some(id) = fig.strip_prefix("value_n:").and_then(|x| x.parse::<i64>().ok()) {
                by.entry(id).or_default().entry(per).or_default().1 += v;
            } else if let Some(id) = fig.strip_prefix("value:").and_then(|x| x.parse::<i64>().ok()) {
                by.entry(id).or_default().entry(per).or_default().0 += v;
            }
        }
        for e in elements {
            let entries: Vec<(Period, i64, i64)> = by
                .get(&e.id)
                .map(|m| m.iter().filter(|(p, _)| p.kind() == e.period_kind).map(|(p, (v, n))| (*p, *v, *n)).collect())
                .unwrap_or_default();
            let value = e.combine(period, &entries);
            let reporting = entries.iter().rev().find(|(_, _, n)| *n > 0).map(|(_, _, n)| *n).unwrap_or(0);
            out.insert(e.id, Figure { value, reporting });
        }
    }
    Ok(all)
}

/// The values for the roll-up recount: (unit, element, period, sum, how many).
pub(crate) async fn for_recount(db: &Db) -> Result<Vec<(i64, i64, String, i64, i64)>> {
    Ok(on_db!(db, p => sqlx::query_as(
        "SELECT unit_id, element_id, period, CAST(SUM(value) AS BIGINT), COUNT(*) FROM data_values GROUP BY unit_id, element_id, period")
        .fetch_all(p).await)?)
}
