//! Residents of a household: their register, their part of the roll-ups, and deletion on
//! request.

use ngoso_core::Invalid;
use ngoso_core::rollup::{Deltas, figure};
use ngoso_core::text;
use serde::Serialize;
use sqlx::QueryBuilder;

use super::NewResident;
use super::consents::insert_consent;
use crate::{Db, Result, StoreError, Tx, now, on_db, on_tx, rollups};

/// A resident (personal fields absent once anonymised).
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Resident {
    pub id: i64,
    pub household_id: i64,
    pub full_name: Option<String>,
    pub birth_year: Option<i32>,
    pub sex: Option<String>,
    pub youth_union: bool,
    pub cccd_last4: Option<String>,
    pub phone: Option<String>,
    pub anonymized_at: Option<i64>,
}

const RESIDENT_SELECT: &str =
    "SELECT id, household_id, full_name, birth_year, sex, youth_union, cccd_last4, phone, anonymized_at FROM residents";

/// A household's residents, by given name.
pub(crate) async fn residents(db: &Db, household_id: i64) -> Result<Vec<Resident>> {
    let sql = format!("{RESIDENT_SELECT} WHERE household_id = $1 ORDER BY name_sort, id");
    Ok(on_db!(db, p => sqlx::query_as::<_, Resident>(sqlx::AssertSqlSafe(sql)).bind(household_id).fetch_all(p).await)?)
}

#[cfg(feature = "testing")]
pub(crate) async fn resident(db: &Db, id: i64) -> Result<Resident> {
    let sql = format!("{RESIDENT_SELECT} WHERE id = $1");
    on_db!(db, p => sqlx::query_as::<_, Resident>(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(p).await)?
        .ok_or(StoreError::NotFound)
}

async fn insert_resident(tx: &mut Tx, household_id: i64, r: &NewResident) -> Result<i64> {
    let sort = r.full_name.as_deref().map(|n| text::sort_key(&crate::teams::given_name_first(n)));
    let key = r.full_name.as_deref().map(text::fold).unwrap_or_default();
    let t = now();
    let sql = "INSERT INTO residents (household_id, full_name, name_sort, search_key, birth_year, sex, youth_union, cccd_hash, cccd_last4, phone, created_at, updated_at) \
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11) RETURNING id";
    let res: std::result::Result<i64, sqlx::Error> = on_tx!(tx, c => sqlx::query_scalar(sql)
        .bind(household_id).bind(&r.full_name).bind(&sort).bind(&key).bind(r.birth_year).bind(r.sex).bind(r.youth_union)
        .bind(r.cccd.as_ref().map(|c| c.0.as_str())).bind(r.cccd.as_ref().map(|c| c.1.as_str())).bind(&r.phone).bind(t)
        .fetch_one(c).await);
    res.map_err(|e| {
        let e = StoreError::from(e);
        if e.is_unique_violation() { Invalid::field("cccd-duplicate", "cccd").into() } else { e }
    })
}

/// Adds a resident to a household (and their consent); counts them in the roll-ups. An
/// anonymised household is refused.
pub async fn add_resident(db: &Db, household_id: i64, r: &NewResident, actor: Option<i64>) -> Result<i64> {
    let mut tx = db.begin().await?;
    let row: Option<(i64, Option<i64>)> = on_tx!(&mut tx, c => sqlx::query_as(
        "SELECT unit_id, anonymized_at FROM households WHERE id = $1").bind(household_id).fetch_optional(c).await)?;
    let (unit, anonymized) = row.ok_or(StoreError::NotFound)?;
    // Its personal data was removed on request: no new person's data is added to it.
    if anonymized.is_some() {
        return Err(Invalid::new("household-anonymized").into());
    }
    let id = insert_resident(&mut tx, household_id, r).await?;
    if let Some((by, purposes)) = &r.consent {
        insert_consent(&mut tx, household_id, Some(id), by, purposes, actor).await?;
    }
    let mut d = Deltas::default();
    d.add(unit, figure::RESIDENTS, "", 1);
    if r.youth_union {
        d.add(unit, figure::YOUTH_UNION, "", 1);
    }
    rollups::apply(&mut tx, d.into_vec()).await?;
    tx.commit().await?;
    Ok(id)
}

pub(super) async fn anonymize_resident_in(tx: &mut Tx, id: i64) -> Result<()> {
    let t = now();
    let sql = "UPDATE residents SET full_name = NULL, name_sort = NULL, search_key = '', birth_year = NULL, sex = NULL, \
               cccd_hash = NULL, cccd_last4 = NULL, phone = NULL, anonymized_at = COALESCE(anonymized_at, $1), updated_at = $1 WHERE id = $2";
    let n = on_tx!(tx, c => sqlx::query(sql).bind(t).bind(id).execute(c).await.map(|r| r.rows_affected()))?;
    if n == 0 {
        return Err(StoreError::NotFound);
    }
    on_tx!(tx, c => sqlx::query("UPDATE consents SET given_by = '' WHERE resident_id = $1").bind(id).execute(c).await.map(|r| r.rows_affected()))?;
    Ok(())
}

/// A deletion request for one resident.
pub async fn anonymize_resident(db: &Db, id: i64) -> Result<()> {
    let mut tx = db.begin().await?;
    anonymize_resident_in(&mut tx, id).await?;
    tx.commit().await
}

/// Every resident's id with their household's, by id.
pub async fn resident_ids(db: &Db) -> Result<Vec<(i64, i64)>> {
    Ok(on_db!(db, p => sqlx::query_as("SELECT id, household_id FROM residents ORDER BY id").fetch_all(p).await)?)
}

/// Which of these citizen-ID hashes are already recorded.
pub async fn existing_cccd(db: &Db, hashes: &[String]) -> Result<std::collections::HashSet<String>> {
    let mut out = std::collections::HashSet::new();
    for chunk in hashes.chunks(500) {
        let rows: Vec<String> = on_db!(db, p => {
            let mut qb = QueryBuilder::new("SELECT cccd_hash FROM residents WHERE cccd_hash IN (");
            let mut sep = qb.separated(", ");
            for h in chunk {
                sep.push_bind(h.as_str());
            }
            qb.push(")");
            qb.build_query_scalar::<String>().fetch_all(p).await
        })?;
        out.extend(rows);
    }
    Ok(out)
}
