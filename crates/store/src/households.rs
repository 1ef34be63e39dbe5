//! Households and residents, with consent, anonymisation and their part of the roll-ups.
//!
//! Personal fields (address, head of household, names, phones) are kept only with the
//! minimum the work needs; a citizen ID is never stored, only its keyed hash and last four
//! digits. Withdrawing consent or asking for deletion clears every personal field and keeps
//! the anonymous counts, so the figures stay right.

use ngoso_core::Invalid;
use ngoso_core::outreach::Barriers;
use ngoso_core::rollup::{Deltas, figure};
use ngoso_core::text;
use ngoso_core::unit::UnitPath;
use std::collections::HashMap;

use serde::Serialize;
use sqlx::QueryBuilder;

use crate::{Db, Result, StoreError, Tx, backend, now, on_db, on_tx, rollups};

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

/// The purposes a consent can cover.
pub const PURPOSES: [&str; 3] = ["outreach", "contact", "statistics"];

/// Checks a list of purposes (comma-separated).
pub fn parse_purposes(s: &str) -> std::result::Result<String, Invalid> {
    let mut out: Vec<&str> = Vec::new();
    for p in s.split([',', ';', ' ']).map(str::trim).filter(|p| !p.is_empty()) {
        let known = PURPOSES
            .iter()
            .find(|k| **k == p)
            .ok_or_else(|| Invalid::field("purpose-invalid", "purposes").with_detail(p))?;
        if !out.contains(known) {
            out.push(known);
        }
    }
    if out.is_empty() {
        return Err(Invalid::field("required", "purposes"));
    }
    Ok(out.join(","))
}

/// A household to create; text already checked and NFC.
#[derive(Debug, Clone)]
pub struct NewHousehold {
    pub unit_id: i64,
    pub code: String,
    pub address: Option<String>,
    pub head_name: Option<String>,
    pub size: i32,
    pub smartphones: i32,
    pub barriers: Barriers,
    /// Who consented, for which purposes.
    pub consent: Option<(String, String)>,
}

/// A resident to add.
#[derive(Debug, Clone)]
pub struct NewResident {
    pub full_name: Option<String>,
    pub birth_year: Option<i32>,
    pub sex: Option<&'static str>,
    pub youth_union: bool,
    /// Keyed hash and last four digits of the citizen ID.
    pub cccd: Option<(String, String)>,
    pub phone: Option<String>,
    pub consent: Option<(String, String)>,
}

fn household_key(address: Option<&str>, head: Option<&str>, code: &str) -> String {
    text::fold(&format!("{} {} {code}", head.unwrap_or(""), address.unwrap_or("")))
}

const HOUSEHOLD_SELECT: &str = "SELECT h.id, h.unit_id, u.name AS unit_name, u.path AS unit_path, h.code, h.address, h.head_name, \
     h.size, h.smartphones, h.barriers, \
     (SELECT CAST(COUNT(*) AS INTEGER) FROM visits v WHERE v.household_id = h.id) AS visit_count, \
     (SELECT MAX(v.visited_at) FROM visits v WHERE v.household_id = h.id) AS last_visit_at, h.anonymized_at, \
     EXISTS (SELECT 1 FROM consents c WHERE c.household_id = h.id AND c.resident_id IS NULL AND c.withdrawn_at IS NULL) AS consent, \
     h.created_at FROM households h JOIN units u ON u.id = h.unit_id";

pub async fn get(db: &Db, id: i64) -> Result<Household> {
    let sql = format!("{HOUSEHOLD_SELECT} WHERE h.id = $1");
    on_db!(db, p => sqlx::query_as::<_, Household>(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(p).await)?
        .ok_or(StoreError::NotFound)
}

pub async fn by_code(db: &Db, code: &str) -> Result<Household> {
    let sql = format!("{HOUSEHOLD_SELECT} WHERE h.code = $1");
    on_db!(db, p => sqlx::query_as::<_, Household>(sqlx::AssertSqlSafe(sql)).bind(code.trim()).fetch_optional(p).await)?
        .ok_or(StoreError::NotFound)
}

/// Households inside `within` whose name, address or code contains the folded query (all
/// when the query is empty), by unit then code.
pub async fn search(db: &Db, within: &UnitPath, query: &str, limit: i64, offset: i64) -> Result<Vec<Household>> {
    let key = format!("%{}%", text::fold(query).replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_"));
    let sql = format!(
        "{HOUSEHOLD_SELECT} WHERE u.path >= $1 AND u.path < $2 AND h.search_key LIKE $3 ESCAPE '\\' \
         ORDER BY u.name_sort, h.code LIMIT $4 OFFSET $5"
    );
    Ok(on_db!(db, p => sqlx::query_as::<_, Household>(sqlx::AssertSqlSafe(sql))
        .bind(within.as_str()).bind(within.upper_bound()).bind(&key).bind(limit).bind(offset).fetch_all(p).await)?)
}

async fn insert_consent(
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

/// Creates a household (and its consent) and counts it in the roll-ups.
pub async fn create(db: &Db, h: &NewHousehold, actor: Option<i64>) -> Result<i64> {
    let mut tx = db.begin().await?;
    let t = now();
    // No foreign key checks the unit on PostgreSQL (migration 0009).
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

/// Changes of a household's own fields.
#[derive(Debug, Clone)]
pub struct HouseholdUpdate {
    pub address: Option<String>,
    pub head_name: Option<String>,
    pub size: i32,
    pub smartphones: i32,
    pub barriers: Barriers,
}

/// Updates a household; the barrier figures follow.
pub async fn update(db: &Db, id: i64, u: &HouseholdUpdate) -> Result<()> {
    let mut tx = db.begin().await?;
    let row: Option<(i64, i32, String, Option<i64>)> = on_tx!(&mut tx, c => sqlx::query_as(
        "SELECT unit_id, barriers, code, anonymized_at FROM households WHERE id = $1").bind(id).fetch_optional(c).await)?;
    let (unit_id, before, code, anonymized) = row.ok_or(StoreError::NotFound)?;
    // An anonymised household takes no personal fields back.
    let (address, head) = if anonymized.is_some() { (None, None) } else { (u.address.clone(), u.head_name.clone()) };
    let sql = "UPDATE households SET address = $1, head_name = $2, search_key = $3, size = $4, smartphones = $5, barriers = $6, updated_at = $7 WHERE id = $8";
    on_tx!(&mut tx, c => sqlx::query(sql)
        .bind(&address).bind(&head).bind(household_key(address.as_deref(), head.as_deref(), &code))
        .bind(u.size).bind(u.smartphones).bind(u.barriers.0).bind(now()).bind(id).execute(c).await.map(|r| r.rows_affected()))?;
    let mut d = Deltas::default();
    d.household_barriers(unit_id, Barriers::from_bits(before), u.barriers);
    rollups::apply(&mut tx, d.into_vec()).await?;
    tx.commit().await
}

const RESIDENT_SELECT: &str =
    "SELECT id, household_id, full_name, birth_year, sex, youth_union, cccd_last4, phone, anonymized_at FROM residents";

/// A household's residents, by given name.
pub async fn residents(db: &Db, household_id: i64) -> Result<Vec<Resident>> {
    let sql = format!("{RESIDENT_SELECT} WHERE household_id = $1 ORDER BY name_sort, id");
    Ok(on_db!(db, p => sqlx::query_as::<_, Resident>(sqlx::AssertSqlSafe(sql)).bind(household_id).fetch_all(p).await)?)
}

pub async fn resident(db: &Db, id: i64) -> Result<Resident> {
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

/// Adds a resident to a household (and their consent); counts them in the roll-ups.
pub async fn add_resident(db: &Db, household_id: i64, r: &NewResident, actor: Option<i64>) -> Result<i64> {
    let mut tx = db.begin().await?;
    let unit: Option<i64> = on_tx!(&mut tx, c => sqlx::query_scalar("SELECT unit_id FROM households WHERE id = $1")
        .bind(household_id).fetch_optional(c).await)?;
    let unit = unit.ok_or(StoreError::NotFound)?;
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

/// Consents recorded for a household and its residents, newest first.
pub async fn consents(db: &Db, household_id: i64) -> Result<Vec<Consent>> {
    let sql = "SELECT id, household_id, resident_id, given_by, purposes, given_at, recorded_by, withdrawn_at \
               FROM consents WHERE household_id = $1 ORDER BY id DESC";
    Ok(on_db!(db, p => sqlx::query_as::<_, Consent>(sql).bind(household_id).fetch_all(p).await)?)
}

/// One consent.
pub async fn consent(db: &Db, id: i64) -> Result<Consent> {
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
    // No foreign key checks the household on PostgreSQL (migration 0009).
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

async fn anonymize_resident_in(tx: &mut Tx, id: i64) -> Result<()> {
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

async fn anonymize_household_in(tx: &mut Tx, id: i64) -> Result<()> {
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

/// A deletion request for one resident.
pub async fn anonymize_resident(db: &Db, id: i64) -> Result<()> {
    let mut tx = db.begin().await?;
    anonymize_resident_in(&mut tx, id).await?;
    tx.commit().await
}

/// Every household code with its id and unit, for planning an import.
pub async fn codes(db: &Db) -> Result<std::collections::HashMap<String, (i64, i64)>> {
    let rows: Vec<(String, i64, i64)> =
        on_db!(db, p => sqlx::query_as("SELECT code, id, unit_id FROM households").fetch_all(p).await)?;
    Ok(rows.into_iter().map(|(c, id, u)| (c, (id, u))).collect())
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

/// A consent of a bulk import: household, resident (none: the household), by whom, purposes.
type ConsentRow<'a> = (i64, Option<i64>, &'a str, &'a str);

/// Writes the consents of a chunk of a bulk import in one statement.
async fn insert_consents(tx: &mut Tx, rows: &[ConsentRow<'_>], t: i64, actor: Option<i64>) -> Result<()> {
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

/// Rows per INSERT of a bulk import of residents.
const IMPORT_CHUNK: usize = 1000;

/// A household of a bulk import, with its search key already computed (by whichever
/// thread checks the rows, so that the writer only writes).
#[derive(Debug, Clone)]
pub struct ImportRow {
    household: NewHousehold,
    key: String,
}

impl From<NewHousehold> for ImportRow {
    fn from(household: NewHousehold) -> Self {
        let h = &household;
        let key = household_key(h.address.as_deref(), h.head_name.as_deref(), &h.code);
        ImportRow { household, key }
    }
}

/// A part of a bulk import of households, in the file's order.
#[derive(Debug)]
pub enum ImportPart {
    /// Checked households to write.
    Rows(Vec<ImportRow>),
    /// The whole file was read and every row passed its checks: the import may commit.
    Done,
}

/// Writes checked households in one transaction, all or nothing, with their consents and
/// their part of the roll-ups, as the parts arrive: the caller can check the next rows while
/// these are written. Commits only when the parts end with [`ImportPart::Done`]; a source
/// that ends without it (a bad row was found) leaves nothing written and gives `None`.
/// Waiting for the next part blocks the thread (the source is typically a channel from the
/// checking thread), so call this from a command, not from a request handler.
pub async fn import<I>(db: &Db, parts: I, actor: Option<i64>) -> Result<Option<u64>>
where
    I: IntoIterator<Item = ImportPart>,
{
    let mut tx = db.begin().await?;
    let t = now();
    let mut per_unit: HashMap<(i64, i32), i64> = HashMap::new();
    let written = match &mut tx {
        Tx::Sqlite(c) => {
            // BEGIN IMMEDIATE holds the write lock: the ids after the largest are free.
            let max: i64 =
                sqlx::query_scalar("SELECT COALESCE(MAX(id), 0) FROM households").fetch_one(&mut **c).await?;
            let mut handle = c.lock_handle().await?;
            write_sqlite(&mut handle, parts, max, t, actor, &mut per_unit)?
        }
        Tx::Pg(_) => write_pg(&mut tx, parts, t, actor, &mut per_unit).await?,
    };
    let Some(written) = written else { return Ok(None) };
    let mut deltas = Deltas::default();
    for ((unit, barriers), n) in per_unit {
        deltas.household(unit, Barriers::from_bits(barriers), n);
    }
    rollups::apply(&mut tx, deltas.into_vec()).await?;
    tx.commit().await?;
    Ok(Some(written))
}

fn code_exists(e: crate::sqlite_bulk::SqliteError) -> StoreError {
    if e.is_unique_violation() {
        Invalid::new("household-code-exists").into()
    } else {
        StoreError::Sqlite(e.to_string())
    }
}

/// SQLite: one prepared row statement per table, on the locked connection.
fn write_sqlite(
    handle: &mut sqlx::sqlite::LockedSqliteHandle<'_>,
    parts: impl IntoIterator<Item = ImportPart>,
    max_id: i64,
    t: i64,
    actor: Option<i64>,
    per_unit: &mut HashMap<(i64, i32), i64>,
) -> Result<Option<u64>> {
    use crate::sqlite_bulk::{Locked, Value};
    let conn = Locked::new(handle);
    let mut household = conn
        .prepare(
            "INSERT INTO households (id, unit_id, code, address, head_name, search_key, size, smartphones, barriers, created_at, updated_at) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .map_err(code_exists)?;
    let mut consent = conn
        .prepare(
            "INSERT INTO consents (household_id, resident_id, given_by, purposes, given_at, recorded_by) VALUES (?, NULL, ?, ?, ?, ?)",
        )
        .map_err(code_exists)?;
    let actor = actor.map_or(Value::Null, Value::Int);
    let mut id = max_id;
    let mut written = 0u64;
    for part in parts {
        let rows = match part {
            ImportPart::Rows(rows) => rows,
            ImportPart::Done => return Ok(Some(written)),
        };
        for ImportRow { household: h, key } in &rows {
            id += 1;
            household
                .run(&[
                    Value::Int(id),
                    Value::Int(h.unit_id),
                    Value::Text(&h.code),
                    h.address.as_deref().into(),
                    h.head_name.as_deref().into(),
                    Value::Text(key),
                    Value::Int(h.size.into()),
                    Value::Int(h.smartphones.into()),
                    Value::Int(h.barriers.0.into()),
                    Value::Int(t),
                    Value::Int(t),
                ])
                .map_err(code_exists)?;
            if let Some((by, purposes)) = &h.consent {
                consent
                    .run(&[Value::Int(id), Value::Text(by), Value::Text(purposes), Value::Int(t), actor])
                    .map_err(code_exists)?;
            }
            *per_unit.entry((h.unit_id, h.barriers.0)).or_insert(0) += 1;
        }
        written += rows.len() as u64;
    }
    Ok(None)
}

/// PostgreSQL: `COPY … FROM STDIN` of each part, households then their consents.
async fn write_pg(
    tx: &mut Tx,
    parts: impl IntoIterator<Item = ImportPart>,
    t: i64,
    actor: Option<i64>,
    per_unit: &mut HashMap<(i64, i32), i64>,
) -> Result<Option<u64>> {
    let Tx::Pg(c) = tx else { unreachable!("write_pg on SQLite") };
    let actor = actor.map(|a| a.to_string());
    let mut written = 0u64;
    let (mut households, mut consents) = (Vec::new(), Vec::new());
    for part in parts {
        let rows = match part {
            ImportPart::Rows(rows) => rows,
            ImportPart::Done => return Ok(Some(written)),
        };
        if rows.is_empty() {
            continue;
        }
        let ids: Vec<i64> = sqlx::query_scalar("SELECT nextval('households_id_seq') FROM generate_series(1, $1)")
            .bind(rows.len() as i32)
            .fetch_all(&mut **c)
            .await?;
        households.clear();
        consents.clear();
        let ts = t.to_string();
        for (ImportRow { household: h, key }, id) in rows.iter().zip(&ids) {
            let (id, unit) = (id.to_string(), h.unit_id.to_string());
            let (size, phones, barriers) = (h.size.to_string(), h.smartphones.to_string(), h.barriers.0.to_string());
            copy_row(
                &mut households,
                &[
                    Some(&id),
                    Some(&unit),
                    Some(&h.code),
                    h.address.as_ref(),
                    h.head_name.as_ref(),
                    Some(key),
                    Some(&size),
                    Some(&phones),
                    Some(&barriers),
                    Some(&ts),
                    Some(&ts),
                ],
            );
            if let Some((by, purposes)) = &h.consent {
                copy_row(&mut consents, &[Some(&id), None, Some(by), Some(purposes), Some(&ts), actor.as_ref()]);
            }
            *per_unit.entry((h.unit_id, h.barriers.0)).or_insert(0) += 1;
        }
        let copy = async {
            let mut copy = c
                .copy_in_raw(
                    "COPY households (id, unit_id, code, address, head_name, search_key, size, smartphones, barriers, \
                     created_at, updated_at) FROM STDIN",
                )
                .await?;
            copy.send(households.as_slice()).await?;
            copy.finish().await
        };
        if let Err(e) = copy.await {
            let e = StoreError::from(e);
            return Err(if e.is_unique_violation() { Invalid::new("household-code-exists").into() } else { e });
        }
        if !consents.is_empty() {
            let mut copy = c
                .copy_in_raw(
                    "COPY consents (household_id, resident_id, given_by, purposes, given_at, recorded_by) FROM STDIN",
                )
                .await?;
            copy.send(consents.as_slice()).await?;
            copy.finish().await?;
        }
        written += rows.len() as u64;
    }
    Ok(None)
}

/// Appends a row in COPY's text format: tab-separated, `\N` for NULL, with backslash, tab,
/// newline and carriage return escaped.
fn copy_row(out: &mut Vec<u8>, fields: &[Option<&String>]) {
    for (i, f) in fields.iter().enumerate() {
        if i > 0 {
            out.push(b'\t');
        }
        match f {
            None => out.extend_from_slice(b"\\N"),
            Some(v) => {
                for &b in v.as_bytes() {
                    match b {
                        b'\\' => out.extend_from_slice(b"\\\\"),
                        b'\t' => out.extend_from_slice(b"\\t"),
                        b'\n' => out.extend_from_slice(b"\\n"),
                        b'\r' => out.extend_from_slice(b"\\r"),
                        _ => out.push(b),
                    }
                }
            }
        }
    }
    out.push(b'\n');
}

/// A resident of an import, attached to a household id.
pub struct ImportedResident {
    pub household_id: i64,
    pub unit_id: i64,
    pub resident: NewResident,
}

/// Writes checked residents in one transaction, all or nothing.
pub async fn import_residents(
    db: &Db,
    rows: &[ImportedResident],
    actor: Option<i64>,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<u64> {
    let mut tx = db.begin().await?;
    let ids = backend::reserve_ids(&mut tx, "residents", rows.len()).await?;
    let t = now();
    let mut deltas = Deltas::default();
    let mut written = 0u64;
    for (chunk_no, chunk) in rows.chunks(IMPORT_CHUNK).enumerate() {
        let base = chunk_no * IMPORT_CHUNK;
        let res = on_tx!(&mut tx, c => {
            let mut qb = QueryBuilder::new(
                "INSERT INTO residents (id, household_id, full_name, name_sort, search_key, birth_year, sex, youth_union, cccd_hash, cccd_last4, phone, created_at, updated_at) ");
            qb.push_values(chunk.iter().enumerate(), |mut b, (k, ir)| {
                let r = &ir.resident;
                b.push_bind(ids[base + k]).push_bind(ir.household_id).push_bind(r.full_name.as_deref())
                    .push_bind(r.full_name.as_deref().map(|n| text::sort_key(&crate::teams::given_name_first(n))))
                    .push_bind(r.full_name.as_deref().map(text::fold).unwrap_or_default())
                    .push_bind(r.birth_year).push_bind(r.sex).push_bind(r.youth_union)
                    .push_bind(r.cccd.as_ref().map(|c| c.0.clone())).push_bind(r.cccd.as_ref().map(|c| c.1.clone()))
                    .push_bind(r.phone.as_deref()).push_bind(t).push_bind(t);
            });
            qb.build().execute(c).await.map(|r| r.rows_affected())
        });
        if let Err(e) = res {
            let e = StoreError::from(e);
            return Err(if e.is_unique_violation() { Invalid::new("cccd-duplicate").into() } else { e });
        }
        let consents: Vec<ConsentRow<'_>> = chunk
            .iter()
            .enumerate()
            .filter_map(|(k, ir)| {
                ir.resident
                    .consent
                    .as_ref()
                    .map(|(by, p)| (ir.household_id, Some(ids[base + k]), by.as_str(), p.as_str()))
            })
            .collect();
        insert_consents(&mut tx, &consents, t, actor).await?;
        for ir in chunk {
            deltas.add(ir.unit_id, figure::RESIDENTS, "", 1);
            if ir.resident.youth_union {
                deltas.add(ir.unit_id, figure::YOUTH_UNION, "", 1);
            }
        }
        written += chunk.len() as u64;
        progress(written);
    }
    rollups::apply(&mut tx, deltas.into_vec()).await?;
    tx.commit().await?;
    Ok(written)
}

/// Number of households.
pub async fn count(db: &Db) -> Result<i64> {
    Ok(on_db!(db, p => sqlx::query_scalar("SELECT COUNT(*) FROM households").fetch_one(p).await)?)
}
