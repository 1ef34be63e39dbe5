//! Households: their register, their part of the roll-ups, and deletion on request. Their
//! residents, consents and bulk import have modules of their own, re-exported here.
//!
//! Personal fields (address, head of household, names, phones) are kept only with the
//! minimum the work needs; a citizen ID is never stored, only its keyed hash and last four
//! digits. Withdrawing consent or asking for deletion clears every personal field and keeps
//! the anonymous counts, so the figures stay right.

use ngoso_core::Invalid;
use ngoso_core::outreach::Barriers;
use ngoso_core::rollup::Deltas;
use ngoso_core::text;
use ngoso_core::unit::UnitPath;
use serde::Serialize;

use consents::insert_consent;
use residents::anonymize_resident_in;

use crate::{Db, Result, StoreError, Tx, now, on_db, on_tx, rollups};

mod consents;
mod import;
mod record;
mod residents;

#[cfg(feature = "testing")]
pub(crate) use consents::consent;
pub(crate) use consents::consents;
pub use consents::{Consent, record_consent, withdraw_consent};
pub use import::{
    Chunking, ImportRecord, ImportRow, Imported, ImportedResident, import, import_residents, imports,
    undo as undo_import,
};
pub use ngoso_core::household::{HouseholdUpdate, NewHousehold, NewResident, PURPOSES, parse_purposes};
pub use record::{ExportPage, HouseholdRecord, Page, export, household_of, list, place, read};
#[cfg(feature = "testing")]
pub(crate) use residents::resident;
pub(crate) use residents::residents;
pub use residents::{
    Resident, ResidentGroup, add_resident, anonymize_resident, existing_cccd, group_bits, groups, ids_in_household,
    resident_ids, set_groups,
};

/// A household, with its personal fields (absent once anonymised).
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct Household {
    pub id: i64,
    pub unit_id: i64,
    pub unit_name: String,
    pub unit_path: String,
    pub code: String,
    pub address: Option<String>,
    pub head_name: Option<String>,
    pub size: i32,
    pub smartphones: i32,
    pub barriers: i32,
    pub visit_count: i32,
    pub last_visit_at: Option<i64>,
    pub anonymized_at: Option<i64>,
    pub consent: bool,
    pub created_at: i64,
}

impl Household {
    pub fn path(&self) -> UnitPath {
        UnitPath::from_stored(self.unit_path.clone())
    }
    pub fn barrier_set(&self) -> Barriers {
        Barriers::from_bits(self.barriers)
    }
}

pub(super) fn household_key(address: Option<&str>, head: Option<&str>, code: &str) -> String {
    text::fold(&format!("{} {} {code}", head.unwrap_or(""), address.unwrap_or("")))
}

const HOUSEHOLD_SELECT: &str = "SELECT h.id, h.unit_id, u.name AS unit_name, u.path AS unit_path, h.code, h.address, h.head_name, \
     h.size, h.smartphones, h.barriers, \
     (SELECT CAST(COUNT(*) AS INTEGER) FROM visits v WHERE v.household_id = h.id) AS visit_count, \
     (SELECT MAX(v.visited_at) FROM visits v WHERE v.household_id = h.id) AS last_visit_at, h.anonymized_at, \
     EXISTS (SELECT 1 FROM consents c WHERE c.household_id = h.id AND c.resident_id IS NULL AND c.withdrawn_at IS NULL) AS consent, \
     h.created_at FROM households h JOIN units u ON u.id = h.unit_id";

/// A household with its personal data, unlogged: for the store's own calls (the
/// [`read`] of a proof writes the audit row).
pub(crate) async fn get(db: &Db, id: i64) -> Result<Household> {
    let sql = format!("{HOUSEHOLD_SELECT} WHERE h.id = $1");
    on_db!(db, p => sqlx::query_as::<_, Household>(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(p).await)?
        .ok_or(StoreError::NotFound)
}

/// The id of the household with a code (the code it was imported or recorded with): no
/// personal data, so unlogged; reading the household itself takes a proof.
pub async fn id_by_code(db: &Db, code: &str) -> Result<i64> {
    on_db!(db, p => sqlx::query_scalar("SELECT id FROM households WHERE code = $1").bind(code.trim()).fetch_optional(p).await)?
        .ok_or(StoreError::NotFound)
}

#[cfg(feature = "testing")]
pub(crate) async fn by_code(db: &Db, code: &str) -> Result<Household> {
    let sql = format!("{HOUSEHOLD_SELECT} WHERE h.code = $1");
    on_db!(db, p => sqlx::query_as::<_, Household>(sqlx::AssertSqlSafe(sql)).bind(code.trim()).fetch_optional(p).await)?
        .ok_or(StoreError::NotFound)
}

/// Households inside `within` whose name, address or code contains the folded query (all
/// when the query is empty), by unit then code; unlogged (see [`list`]).
pub(crate) async fn search(db: &Db, within: &UnitPath, query: &str, limit: i64, offset: i64) -> Result<Vec<Household>> {
    let key = format!("%{}%", text::fold(query).replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_"));
    let sql = format!(
        "{HOUSEHOLD_SELECT} WHERE u.path >= $1 AND u.path < $2 AND h.search_key LIKE $3 ESCAPE '\\' \
         ORDER BY u.name_sort, h.code LIMIT $4 OFFSET $5"
    );
    Ok(on_db!(db, p => sqlx::query_as::<_, Household>(sqlx::AssertSqlSafe(sql))
        .bind(within.as_str()).bind(within.upper_bound()).bind(&key).bind(limit).bind(offset).fetch_all(p).await)?)
}

/// A page of the households inside `within` in id order, after the id `after`: the bulk
/// read's rows, unlogged (see [`record::export`]).
pub(crate) async fn page_after(db: &Db, within: &UnitPath, after: i64, limit: i64) -> Result<Vec<Household>> {
    let sql = format!("{HOUSEHOLD_SELECT} WHERE u.path >= $1 AND u.path < $2 AND h.id > $3 ORDER BY h.id LIMIT $4");
    Ok(on_db!(db, p => sqlx::query_as::<_, Household>(sqlx::AssertSqlSafe(sql))
        .bind(within.as_str()).bind(within.upper_bound()).bind(after).bind(limit).fetch_all(p).await)?)
}

/// Households inside `within` whose name, address or code contains the folded query, in id
/// order after the id `after`: a cursor's page, as quick at the end of a province as at its
/// start; unlogged (see [`list`]).
pub(crate) async fn search_after(
    db: &Db,
    within: &UnitPath,
    query: &str,
    after: i64,
    limit: i64,
) -> Result<Vec<Household>> {
    let key = format!("%{}%", text::fold(query).replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_"));
    let sql = format!(
        "{HOUSEHOLD_SELECT} WHERE u.path >= $1 AND u.path < $2 AND h.search_key LIKE $3 ESCAPE '\\' AND h.id > $4 \
         ORDER BY h.id LIMIT $5"
    );
    Ok(on_db!(db, p => sqlx::query_as::<_, Household>(sqlx::AssertSqlSafe(sql))
        .bind(within.as_str()).bind(within.upper_bound()).bind(&key).bind(after).bind(limit).fetch_all(p).await)?)
}

/// Creates a household (and its consent) and counts it in the roll-ups.
pub async fn create(db: &Db, h: &NewHousehold, actor: Option<i64>) -> Result<i64> {
    let mut tx = db.begin().await?;
    let t = now();
    // No foreign key checks the unit (migrations 0009 on PostgreSQL, 0011 on SQLite).
    let unit: Option<i64> = on_tx!(&mut tx, c => sqlx::query_scalar("SELECT id FROM units WHERE id = $1").bind(h.unit_id).fetch_optional(c).await)?;
    if unit.is_none() {
        return Err(Invalid::field("unit-unknown", "unit_id").with_detail(h.unit_id.to_string()).into());
    }
    let sql = "INSERT INTO households (unit_id, code, address, head_name, search_key, size, smartphones, barriers, created_at, updated_at) \
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9) RETURNING id";
    let res: std::result::Result<i64, sqlx::Error> = on_tx!(&mut tx, c => sqlx::query_scalar(sql)
        .bind(h.unit_id).bind(&h.code).bind(&h.address).bind(&h.head_name)
        .bind(household_key(h.address.as_deref(), h.head_name.as_deref(), &h.code))
        .bind(h.size).bind(h.smartphones).bind(h.barriers.0).bind(t).fetch_one(c).await);
    let id = res.map_err(|e| {
        let e = StoreError::from(e);
        if e.is_unique_violation() {
            Invalid::field("household-code-exists", "code").with_detail(&h.code).into()
        } else {
            e
        }
    })?;
    if let Some((by, purposes)) = &h.consent {
        insert_consent(&mut tx, id, None, by, purposes, actor).await?;
    }
    let mut d = Deltas::default();
    d.household(h.unit_id, h.barriers, 1);
    rollups::apply(&mut tx, d.into_vec()).await?;
    tx.commit().await?;
    Ok(id)
}

/// Updates a household; the barrier figures follow. An anonymised household takes no
/// personal field back (refused).
pub async fn update(db: &Db, id: i64, u: &HouseholdUpdate) -> Result<()> {
    let mut tx = db.begin().await?;
    let row: Option<(i64, i32, String, Option<i64>)> = on_tx!(&mut tx, c => sqlx::query_as(
        "SELECT unit_id, barriers, code, anonymized_at FROM households WHERE id = $1").bind(id).fetch_optional(c).await)?;
    let (unit_id, before, code, anonymized) = row.ok_or(StoreError::NotFound)?;
    // Its personal data was removed on request: nothing comes back through an edit (its
    // counts, such as its size and barriers, may still change).
    if anonymized.is_some() && (u.address.is_some() || u.head_name.is_some()) {
        return Err(Invalid::new("household-anonymized").into());
    }
    let (address, head) = (u.address.clone(), u.head_name.clone());
    let sql = "UPDATE households SET address = $1, head_name = $2, search_key = $3, size = $4, smartphones = $5, barriers = $6, updated_at = $7 WHERE id = $8";
    on_tx!(&mut tx, c => sqlx::query(sql)
        .bind(&address).bind(&head).bind(household_key(address.as_deref(), head.as_deref(), &code))
        .bind(u.size).bind(u.smartphones).bind(u.barriers.0).bind(now()).bind(id).execute(c).await.map(|r| r.rows_affected()))?;
    let mut d = Deltas::default();
    d.household_barriers(unit_id, Barriers::from_bits(before), u.barriers);
    rollups::apply(&mut tx, d.into_vec()).await?;
    tx.commit().await
}

pub(super) async fn anonymize_household_in(tx: &mut Tx, id: i64) -> Result<()> {
    let t = now();
    let code: Option<String> = on_tx!(tx, c => sqlx::query_scalar("SELECT code FROM households WHERE id = $1").bind(id).fetch_optional(c).await)?;
    let code = code.ok_or(StoreError::NotFound)?;
    let sql = "UPDATE households SET address = NULL, head_name = NULL, search_key = $1, anonymized_at = COALESCE(anonymized_at, $2), updated_at = $2 WHERE id = $3";
    on_tx!(tx, c => sqlx::query(sql).bind(text::fold(&code)).bind(t).bind(id).execute(c).await.map(|r| r.rows_affected()))?;
    let ids: Vec<i64> = on_tx!(tx, c => sqlx::query_scalar("SELECT id FROM residents WHERE household_id = $1").bind(id).fetch_all(c).await)?;
    for r in ids {
        anonymize_resident_in(tx, r).await?;
    }
    on_tx!(tx, c => sqlx::query("UPDATE consents SET given_by = '' WHERE household_id = $1").bind(id).execute(c).await.map(|r| r.rows_affected()))?;
    // Visit notes may name people: they go too.
    on_tx!(tx, c => sqlx::query("UPDATE visits SET note = '' WHERE household_id = $1").bind(id).execute(c).await.map(|r| r.rows_affected()))?;
    Ok(())
}

/// A deletion request for a household: every personal field of it and its residents is
/// removed; the household stays as an anonymous count.
pub async fn anonymize_household(db: &Db, id: i64) -> Result<()> {
    let mut tx = db.begin().await?;
    anonymize_household_in(&mut tx, id).await?;
    tx.commit().await
}

/// Every household code with its id and unit, for planning an import.
pub async fn codes(db: &Db) -> Result<std::collections::HashMap<String, (i64, i64)>> {
    let rows: Vec<(String, i64, i64)> =
        on_db!(db, p => sqlx::query_as("SELECT code, id, unit_id FROM households").fetch_all(p).await)?;
    Ok(rows.into_iter().map(|(c, id, u)| (c, (id, u))).collect())
}

/// Number of households.
pub async fn count(db: &Db) -> Result<i64> {
    Ok(on_db!(db, p => sqlx::query_scalar("SELECT COUNT(*) FROM households").fetch_one(p).await)?)
}
