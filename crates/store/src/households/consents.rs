//! Consents given for a household or one of its residents, and their withdrawal.

use serde::Serialize;
use sqlx::QueryBuilder;

use super::anonymize_household_in;
use super::residents::anonymize_resident_in;
use crate::{Db, Result, StoreError, Tx, now, on_db, on_tx};

/// A consent given for a household or one of its residents.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Consent {
    pub id: i64,
    pub household_id: i64,
    pub resident_id: Option<i64>,
    pub given_by: String,
    pub purposes: String,
    pub given_at: i64,
    pub recorded_by: Option<i64>,
    pub withdrawn_at: Option<i64>,
}

pub(super) async fn insert_consent(
    tx: &mut Tx,
    household_id: i64,
    resident_id: Option<i64>,
    by: &str,
    purposes: &str,
    actor: Option<i64>,
) -> Result<()> {
    let sql = "INSERT INTO consents (household_id, resident_id, given_by, purposes, given_at, recorded_by) VALUES ($1, $2, $3, $4, $5, $6)";
    on_tx!(tx, c => sqlx::query(sql).bind(household_id).bind(resident_id).bind(by).bind(purposes).bind(now()).bind(actor)
        .execute(c).await.map(|r| r.rows_affected()))?;
    Ok(())
}

/// Consents recorded for a household and its residents, newest first.
pub(crate) async fn consents(db: &Db, household_id: i64) -> Result<Vec<Consent>> {
    let sql = "SELECT id, household_id, resident_id, given_by, purposes, given_at, recorded_by, withdrawn_at \
               FROM consents WHERE household_id = $1 ORDER BY id DESC";
    Ok(on_db!(db, p => sqlx::query_as::<_, Consent>(sql).bind(household_id).fetch_all(p).await)?)
}

/// One consent.
#[cfg(feature = "testing")]
pub(crate) async fn consent(db: &Db, id: i64) -> Result<Consent> {
    let sql = "SELECT id, household_id, resident_id, given_by, purposes, given_at, recorded_by, withdrawn_at FROM consents WHERE id = $1";
    on_db!(db, p => sqlx::query_as::<_, Consent>(sql).bind(id).fetch_optional(p).await)?.ok_or(StoreError::NotFound)
}

/// Records a consent for a household (`resident_id` `None`) or a resident.
pub async fn record_consent(
    db: &Db,
    household_id: i64,
    resident_id: Option<i64>,
    by: &str,
    purposes: &str,
    actor: Option<i64>,
) -> Result<()> {
    let mut tx = db.begin().await?;
    // No foreign key checks the household (migrations 0009 on PostgreSQL, 0011 on SQLite).
    let found: Option<i64> = on_tx!(&mut tx, c => sqlx::query_scalar("SELECT id FROM households WHERE id = $1")
        .bind(household_id).fetch_optional(c).await)?;
    found.ok_or(StoreError::NotFound)?;
    insert_consent(&mut tx, household_id, resident_id, by, purposes, actor).await?;
    tx.commit().await
}

/// Withdraws a consent: its subject's personal data is removed, the counts stay.
pub async fn withdraw_consent(db: &Db, consent_id: i64) -> Result<()> {
    let mut tx = db.begin().await?;
    let row: Option<(i64, Option<i64>)> = on_tx!(&mut tx, c => sqlx::query_as(
        "SELECT household_id, resident_id FROM consents WHERE id = $1 AND withdrawn_at IS NULL").bind(consent_id).fetch_optional(c).await)?;
    let (household_id, resident_id) = row.ok_or(StoreError::NotFound)?;
    on_tx!(&mut tx, c => sqlx::query("UPDATE consents SET withdrawn_at = $1 WHERE id = $2").bind(now()).bind(consent_id)
        .execute(c).await.map(|r| r.rows_affected()))?;
    match resident_id {
        None => anonymize_household_in(&mut tx, household_id).await?,
        Some(r) => anonymize_resident_in(&mut tx, r).await?,
    }
    tx.commit().await
}

/// A consent of a bulk import: household, resident (none: the household), by whom, purposes.
pub(super) type ConsentRow<'a> = (i64, Option<i64>, &'a str, &'a str);

/// Writes the consents of a chunk of a bulk import in one statement.
pub(super) async fn insert_consents(tx: &mut Tx, rows: &[ConsentRow<'_>], t: i64, actor: Option<i64>) -> Result<()> {
    if rows.is_empty() {
        return Ok(());
    }
    on_tx!(tx, c => {
        let mut qb = QueryBuilder::new("INSERT INTO consents (household_id, resident_id, given_by, purposes, given_at, recorded_by) ");
        qb.push_values(rows, |mut b, (h, r, by, p)| {
            b.push_bind(*h).push_bind(*r).push_bind(*by).push_bind(*p).push_bind(t).push_bind(actor);
        });
        qb.build().execute(c).await.map(|r| r.rows_affected())
    })?;
    Ok(())
}
