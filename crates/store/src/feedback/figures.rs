//! Figures of citizen feedback — received, answered, answered on time, overdue — by unit,
//! category, agency and month, read from the counters kept in step with every change (never
//! by scanning the items), and their recount for `ngoso check`.

use std::collections::BTreeMap;

use ngoso_core::unit::UnitPath;
use serde::Serialize;

use crate::{Db, Result, on_db};

/// Counts of one leaf of the breakdown, summed over the months asked for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Count {
    /// 0: no unit given.
    pub unit_id: i64,
    pub category_id: i64,
    /// 0: no agency yet.
    pub agency_id: i64,
    pub received: i64,
    pub answered: i64,
    pub on_time: i64,
    /// The unit's materialised path (none for items with no unit).
    pub path: Option<String>,
}

/// The counts of every leaf in a subtree (or everywhere, items with no unit included),
/// summed over the months `from..=to` (`YYYYMM`).
pub async fn counts(db: &Db, within: Option<&UnitPath>, from: &str, to: &str) -> Result<Vec<Count>> {
    Ok(match within {
        Some(w) => on_db!(db, p => sqlx::query_as::<_, Count>(
            "SELECT c.unit_id, c.category_id, c.agency_id, CAST(SUM(c.received) AS BIGINT) AS received, CAST(SUM(c.answered) AS BIGINT) AS answered, \
             CAST(SUM(c.on_time) AS BIGINT) AS on_time, u.path FROM feedback_counts c JOIN units u ON u.id = c.unit_id \
             WHERE u.path >= $1 AND u.path < $2 AND c.month >= $3 AND c.month <= $4 \
             GROUP BY c.unit_id, c.category_id, c.agency_id, u.path")
            .bind(w.as_str()).bind(w.upper_bound()).bind(from).bind(to).fetch_all(p).await)?,
        None => on_db!(db, p => sqlx::query_as::<_, Count>(
            "SELECT c.unit_id, c.category_id, c.agency_id, CAST(SUM(c.received) AS BIGINT) AS received, \
             CAST(SUM(c.answered) AS BIGINT) AS answered, CAST(SUM(c.on_time) AS BIGINT) AS on_time, u.path FROM feedback_counts c LEFT JOIN units u ON u.id = c.unit_id \
             WHERE c.month >= $1 AND c.month <= $2 GROUP BY c.unit_id, c.category_id, c.agency_id, u.path")
            .bind(from).bind(to).fetch_all(p).await)?,
    })
}

/// Items waiting past their deadline at `at`: (unit path, category, agency) → count. Reads
/// only the pending items past due, through the partial index of the inbox.
pub async fn overdue(db: &Db, within: Option<&UnitPath>, at: i64) -> Result<Vec<(Option<String>, i64, i64, i64)>> {
    Ok(match within {
        Some(w) => on_db!(db, p => sqlx::query_as(
            "SELECT u.path, f.category_id, COALESCE(f.agency_id, 0), COUNT(*) FROM feedback f \
             JOIN units u ON u.id = f.unit_id WHERE f.pending AND f.due_at < $1 AND u.path >= $2 AND u.path < $3 \
             GROUP BY u.path, f.category_id, f.agency_id")
            .bind(at).bind(w.as_str()).bind(w.upper_bound()).fetch_all(p).await)?,
        None => on_db!(db, p => sqlx::query_as(
            "SELECT u.path, f.category_id, COALESCE(f.agency_id, 0), COUNT(*) FROM feedback f \
             LEFT JOIN units u ON u.id = f.unit_id WHERE f.pending AND f.due_at < $1 GROUP BY u.path, f.category_id, f.agency_id")
            .bind(at).fetch_all(p).await)?,
    })
}

type Key = (i64, i64, i64, String);

/// Every counter, counted again from the items: (unit, category, agency, month) →
/// (received, answered, on time).
pub async fn recount(db: &Db) -> Result<BTreeMap<Key, (i64, i64, i64)>> {
    /// (unit, category, agency, received at, answered at, due at)
    type ItemRow = (Option<i64>, i64, Option<i64>, i64, Option<i64>, i64);
    let rows: Vec<ItemRow> = on_db!(db, p => sqlx::query_as(
        "SELECT unit_id, category_id, agency_id, received_at, answered_at, due_at FROM feedback").fetch_all(p).await)?;
    let mut out: BTreeMap<Key, (i64, i64, i64)> = BTreeMap::new();
    for (unit, cat, agency, received, answered, due) in rows {
        let leaf = |at: i64| (unit.unwrap_or(0), cat, agency.unwrap_or(0), ngoso_core::outreach::month_of(at));
        out.entry(leaf(received)).or_default().0 += 1;
        if let Some(a) = answered {
            let e = out.entry(leaf(a)).or_default();
            e.1 += 1;
            e.2 += i64::from(a <= due);
        }
    }
    Ok(out)
}

/// The differences between the counters and a recount, as lines a person can read.
pub async fn check(db: &Db) -> Result<Vec<String>> {
    let want = recount(db).await?;
    let rows: Vec<(i64, i64, i64, String, i64, i64, i64)> = on_db!(db, p => sqlx::query_as(
        "SELECT unit_id, category_id, agency_id, month, received, answered, on_time FROM feedback_counts").fetch_all(p).await)?;
    let mut have: BTreeMap<Key, (i64, i64, i64)> = BTreeMap::new();
    for (u, c, a, m, r, an, ot) in rows {
        if (r, an, ot) != (0, 0, 0) {
            have.insert((u, c, a, m), (r, an, ot));
        }
    }
    let mut out = Vec::new();
    for (k, v) in &want {
        if have.get(k) != Some(v) {
            out.push(format!(
                "feedback figures of unit {}, category {}, agency {}, month {}: stored {:?}, counted {v:?}",
                k.0,
                k.1,
                k.2,
                k.3,
                have.get(k).copied().unwrap_or_default()
            ));
        }
    }
    for (k, v) in &have {
        if !want.contains_key(k) {
            out.push(format!(
                "feedback figures of unit {}, category {}, agency {}, month {}: stored {v:?}, counted nothing",
                k.0, k.1, k.2, k.3
            ));
        }
    }
    Ok(out)
}
