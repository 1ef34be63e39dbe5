//! Residents of a household: their register, their part of the roll-ups, and deletion on
//! request.

use ngoso_core::Invalid;
use ngoso_core::rollup::{Deltas, Traits, YOUTH_UNION_GROUP, figure};
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

/// The residents of households whose ids lie between two, by household then given name:
/// the bulk read's, unlogged.
pub(crate) async fn residents_between(db: &Db, first: i64, last: i64) -> Result<Vec<Resident>> {
    let sql = format!(
        "{RESIDENT_SELECT} WHERE household_id >= $1 AND household_id <= $2 ORDER BY household_id, name_sort, id"
    );
    Ok(
        on_db!(db, p => sqlx::query_as::<_, Resident>(sqlx::AssertSqlSafe(sql)).bind(first).bind(last).fetch_all(p).await)?,
    )
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
    let sql = "INSERT INTO residents (household_id, full_name, name_sort, search_key, birth_year, sex, youth_union, cccd_hash, cccd_last4, phone, created_at, updated_at, groups) \
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11, $12) RETURNING id";
    let res: std::result::Result<i64, sqlx::Error> = on_tx!(tx, c => sqlx::query_scalar(sql)
        .bind(household_id).bind(&r.full_name).bind(&sort).bind(&key).bind(r.birth_year).bind(r.sex).bind(r.is_youth_union())
        .bind(r.cccd.as_ref().map(|c| c.0.as_str())).bind(r.cccd.as_ref().map(|c| c.1.as_str())).bind(&r.phone).bind(t)
        .bind(r.group_bits()).fetch_one(c).await);
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
    d.resident(unit, &r.traits(), r.is_youth_union(), 1);
    rollups::apply(&mut tx, d.into_vec()).await?;
    tx.commit().await?;
    Ok(id)
}

/// A resident's unit, traits, youth-union flag and the statuses they hold, read for an
/// update of their traits.
async fn counted_as(tx: &mut Tx, id: i64) -> Result<(i64, Traits, bool, Vec<(i64, i64)>)> {
    type Row = (i64, Option<String>, Option<i32>, i64, bool);
    let row: Option<Row> = on_tx!(tx, c => sqlx::query_as(
        "SELECT h.unit_id, r.sex, r.birth_year, r.groups, r.youth_union FROM residents r JOIN households h ON h.id = r.household_id \
         WHERE r.id = $1").bind(id).fetch_optional(c).await)?;
    let (unit, sex, born, groups, youth) = row.ok_or(StoreError::NotFound)?;
    let statuses: Vec<(i64, i64)> = on_tx!(tx, c => sqlx::query_as(
        "SELECT s.service_id, s.status_id FROM subject_statuses s JOIN residents r ON r.household_id = s.household_id \
         WHERE r.id = $1 AND s.resident_id = $1").bind(id).fetch_all(c).await)?;
    Ok((unit, Traits::new(sex.as_deref(), born, groups), youth, statuses))
}

/// The groups a resident may belong to, in order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ResidentGroup {
    pub id: i64,
    pub code: String,
    pub name_vi: String,
    pub name_en: String,
}

impl ResidentGroup {
    pub fn name(&self, english: bool) -> &str {
        if english { &self.name_en } else { &self.name_vi }
    }
}

/// Every group residents may belong to.
pub async fn groups(db: &Db) -> Result<Vec<ResidentGroup>> {
    Ok(on_db!(db, p => sqlx::query_as::<_, ResidentGroup>(
        "SELECT id, code, name_vi, name_en FROM resident_groups ORDER BY position, id").fetch_all(p).await)?)
}

/// The bits of groups named by their codes; an unknown code is refused.
pub async fn group_bits(db: &Db, codes: &[String]) -> Result<i64> {
    let all = groups(db).await?;
    let mut ids = Vec::new();
    for c in codes.iter().map(|c| c.trim()).filter(|c| !c.is_empty()) {
        let g =
            all.iter().find(|g| g.code == c).ok_or_else(|| Invalid::field("group-unknown", "groups").with_detail(c))?;
        ids.push(g.id);
    }
    Ok(Traits::bits(&ids))
}

/// Sets the groups a resident belongs to (bits; group 1 is the youth-union flag): their
/// counts by group move, for the residents and every status they hold. An anonymised
/// resident is refused.
pub async fn set_groups(db: &Db, id: i64, groups: i64) -> Result<()> {
    let mut tx = db.begin().await?;
    let anonymized: Option<Option<i64>> = on_tx!(&mut tx, c => sqlx::query_scalar(
        "SELECT anonymized_at FROM residents WHERE id = $1").bind(id).fetch_optional(c).await)?;
    if anonymized.ok_or(StoreError::NotFound)?.is_some() {
        return Err(Invalid::new("household-anonymized").into());
    }
    let (unit, before, youth_before, statuses) = counted_as(&mut tx, id).await?;
    let after = Traits { groups: groups.max(0) as u64, ..before };
    let youth_after = after.in_group(YOUTH_UNION_GROUP);
    on_tx!(&mut tx, c => sqlx::query("UPDATE residents SET groups = $1, youth_union = $2, updated_at = $3 WHERE id = $4")
        .bind(after.groups as i64).bind(youth_after).bind(now()).bind(id).execute(c).await.map(|r| r.rows_affected()))?;
    let mut d = Deltas::default();
    d.retrait(unit, &statuses, &before, &after);
    match (youth_before, youth_after) {
        (false, true) => d.add(unit, figure::YOUTH_UNION, "", 1),
        (true, false) => d.add(unit, figure::YOUTH_UNION, "", -1),
        _ => {}
    }
    rollups::apply(&mut tx, d.into_vec()).await?;
    tx.commit().await
}

pub(super) async fn anonymize_resident_in(tx: &mut Tx, id: i64) -> Result<()> {
    let t = now();
    // The totals stay; what is personal goes: sex, year of birth and groups (but the
    // youth-union flag, counted since before groups were kept), and the counts by them.
    let (unit, before, youth, statuses) = counted_as(tx, id).await?;
    let after = Traits { sex: None, birth_year: None, groups: u64::from(youth) };
    let sql = "UPDATE residents SET full_name = NULL, name_sort = NULL, search_key = '', birth_year = NULL, sex = NULL, \
               cccd_hash = NULL, cccd_last4 = NULL, phone = NULL, groups = $3, anonymized_at = COALESCE(anonymized_at, $1), updated_at = $1 WHERE id = $2";
    let n = on_tx!(tx, c => sqlx::query(sql).bind(t).bind(id).bind(after.groups as i64).execute(c).await.map(|r| r.rows_affected()))?;
    if n == 0 {
        return Err(StoreError::NotFound);
    }
    let mut d = Deltas::default();
    d.retrait(unit, &statuses, &before, &after);
    rollups::apply(tx, d.into_vec()).await?;
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
/// The ids of a household's residents (no personal data).
pub async fn ids_in_household(db: &Db, household_id: i64) -> Result<Vec<i64>> {
    Ok(on_db!(db, p => sqlx::query_scalar("SELECT id FROM residents WHERE household_id = $1 ORDER BY id")
        .bind(household_id).fetch_all(p).await)?)
}

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
