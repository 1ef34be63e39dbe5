//! The registry of places (shopping centres, supermarkets, markets, shops, health
//! facilities, schools) and their counts for a unit's subtree on a day.

use std::collections::HashMap;

use chrono::NaiveDate;
use ngoso_core::Invalid;
use ngoso_core::place::PlaceKind;
use ngoso_core::unit::UnitPath;
use sqlx::QueryBuilder;

use crate::{Db, Result, StoreError, now, on_db, on_tx};

/// A place to register.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewPlace {
    pub unit_id: i64,
    pub kind: PlaceKind,
    pub code: String,
    pub name: String,
    pub cashless_since: Option<NaiveDate>,
    pub online_fees_since: Option<NaiveDate>,
}

/// A registered place.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow, serde::Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Place {
    pub id: i64,
    pub unit_id: i64,
    pub unit_code: String,
    /// `shopping_centre`, `supermarket`, `market`, `shop`, `health_facility` or `school`.
    pub kind: String,
    pub code: String,
    pub name: String,
    pub cashless_since: Option<NaiveDate>,
    pub online_fees_since: Option<NaiveDate>,
}

/// Registers places, all or none (a code already registered refuses the whole set, named by
/// its place in the list).
pub async fn create(db: &Db, places: &[NewPlace]) -> Result<Vec<i64>> {
    let at = now();
    let mut tx = db.begin().await?;
    let mut ids = Vec::with_capacity(places.len());
    for (i, p) in places.iter().enumerate() {
        let res: std::result::Result<i64, sqlx::Error> = on_tx!(&mut tx, c => sqlx::query_scalar(
            "INSERT INTO places (unit_id, kind, code, name, cashless_since, online_fees_since, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $7) RETURNING id")
            .bind(p.unit_id).bind(p.kind.as_str()).bind(&p.code).bind(&p.name).bind(p.cashless_since)
            .bind(p.online_fees_since).bind(at).fetch_one(c).await);
        ids.push(res.map_err(|e| {
            let e = StoreError::from(e);
            if e.is_unique_violation() {
                Invalid::field("place-code-exists", "code").with_detail(format!("{} ({})", p.code, i + 1)).into()
            } else {
                e
            }
        })?);
    }
    tx.commit().await?;
    Ok(ids)
}

/// The places of a subtree, by unit and code (at most `limit`).
pub async fn list(db: &Db, within: &UnitPath, limit: i64) -> Result<Vec<Place>> {
    Ok(on_db!(db, p => sqlx::query_as::<_, Place>(
        "SELECT p.id, p.unit_id, u.code AS unit_code, p.kind, p.code, p.name, p.cashless_since, p.online_fees_since \
         FROM places p JOIN units u ON u.id = p.unit_id WHERE u.path >= $1 AND u.path < $2 ORDER BY u.path, p.code LIMIT $3")
        .bind(within.as_str()).bind(within.upper_bound()).bind(limit).fetch_all(p).await)?)
}

/// Counts of a subtree's places on a day, by kind.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Counts {
    /// Registered.
    pub total: i64,
    /// Accepting cashless payment on the day.
    pub cashless: i64,
    /// Collecting fees online on the day.
    pub online: i64,
}

/// Each kind's counts for a subtree on a day.
pub async fn counts(db: &Db, within: &UnitPath, day: NaiveDate) -> Result<HashMap<PlaceKind, Counts>> {
    let rows: Vec<(String, i64, i64, i64)> = on_db!(db, p => {
        let mut qb = QueryBuilder::new(
            "SELECT p.kind, COUNT(*), SUM(CASE WHEN p.cashless_since <= ");
        qb.push_bind(day).push(" THEN 1 ELSE 0 END), SUM(CASE WHEN p.online_fees_since <= ").push_bind(day)
            .push(" THEN 1 ELSE 0 END) FROM places p JOIN units u ON u.id = p.unit_id WHERE u.path >= ")
            .push_bind(within.as_str()).push(" AND u.path < ").push_bind(within.upper_bound()).push(" GROUP BY p.kind");
        qb.build_query_as::<(String, i64, i64, i64)>().fetch_all(p).await
    })?;
    let mut out = HashMap::new();
    for (kind, total, cashless, online) in rows {
        if let Ok(k) = PlaceKind::parse(&kind) {
            out.insert(k, Counts { total, cashless, online });
        }
    }
    Ok(out)
}
