//! The catalogue of digital services and their ordered statuses.

use std::collections::HashMap;

use ngoso_core::{Invalid, text};
use serde::Serialize;

use crate::{Db, Result, StoreError, now, on_db, on_tx, on_write};

/// A service with its statuses in order.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Service {
    pub id: i64,
    pub code: String,
    pub name_vi: String,
    pub name_en: String,
    /// `household` or `person`.
    pub subject: String,
    pub position: i32,
    pub active: bool,
    pub statuses: Vec<Status>,
}

impl Service {
    pub fn is_household(&self) -> bool {
        self.subject == "household"
    }
    pub fn name(&self, english: bool) -> &str {
        if english { &self.name_en } else { &self.name_vi }
    }
}

/// A step of a service; rank 1 is the first.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Status {
    pub id: i64,
    pub service_id: i64,
    pub code: String,
    pub name_vi: String,
    pub name_en: String,
    pub rank: i32,
}

impl Status {
    pub fn name(&self, english: bool) -> &str {
        if english { &self.name_en } else { &self.name_vi }
    }
}

#[derive(sqlx::FromRow)]
struct ServiceRow {
    id: i64,
    code: String,
    name_vi: String,
    name_en: String,
    subject: String,
    position: i32,
    active: bool,
}

/// The whole catalogue, in order, with lookups.
#[derive(Debug, Clone, Default)]
pub struct Catalog {
    pub services: Vec<Service>,
    by_code: HashMap<String, usize>,
    by_id: HashMap<i64, usize>,
}

impl Catalog {
    pub fn service(&self, id: i64) -> Option<&Service> {
        self.by_id.get(&id).map(|&i| &self.services[i])
    }
    pub fn service_by_code(&self, code: &str) -> Option<&Service> {
        self.by_code.get(code).map(|&i| &self.services[i])
    }
    /// A status of a service, by its code.
    pub fn status<'a>(&self, service: &'a Service, code: &str) -> Option<&'a Status> {
        service.statuses.iter().find(|s| s.code == code)
    }
    /// A status by id.
    pub fn status_by_id(&self, status_id: i64) -> Option<(&Service, &Status)> {
        self.services.iter().find_map(|s| s.statuses.iter().find(|st| st.id == status_id).map(|st| (s, st)))
    }
}

/// Loads the catalogue.
pub async fn load(db: &Db) -> Result<Catalog> {
    let services: Vec<ServiceRow> = on_db!(db, p => sqlx::query_as(
        "SELECT id, code, name_vi, name_en, subject, position, active FROM services ORDER BY position, id")
        .fetch_all(p).await)?;
    let statuses: Vec<Status> = on_db!(db, p => sqlx::query_as::<_, Status>(
        "SELECT id, service_id, code, name_vi, name_en, rank FROM service_statuses ORDER BY service_id, rank")
        .fetch_all(p).await)?;
    let mut cat = Catalog::default();
    for s in services {
        let i = cat.services.len();
        cat.by_code.insert(s.code.clone(), i);
        cat.by_id.insert(s.id, i);
        cat.services.push(Service {
            statuses: statuses.iter().filter(|st| st.service_id == s.id).cloned().collect(),
            id: s.id,
            code: s.code,
            name_vi: s.name_vi,
            name_en: s.name_en,
            subject: s.subject,
            position: s.position,
            active: s.active,
        });
    }
    Ok(cat)
}

/// A code of the catalogue: 2–40 characters of `a-z 0-9 _`.
pub fn parse_code(s: &str) -> Result<String, Invalid> {
    let t = s.trim();
    let ok =
        (2..=40).contains(&t.len()) && t.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
    if ok { Ok(t.to_owned()) } else { Err(Invalid::field("catalog-code-invalid", "code").with_detail(t)) }
}

/// A required one-line name: NFC, at most 200 characters, no control characters.
pub(crate) fn parse_name(s: &str, field: &'static str) -> Result<String, Invalid> {
    text::parse_line(s, field, 200)?.ok_or(Invalid::field("required", field))
}

/// Adds a service at the end of the catalogue.
pub async fn create_service(db: &Db, code: &str, name_vi: &str, name_en: &str, subject: &str) -> Result<i64> {
    let code = parse_code(code)?;
    let name_vi = parse_name(name_vi, "name_vi")?;
    let name_en = parse_name(name_en, "name_en")?;
    if subject != "household" && subject != "person" {
        return Err(Invalid::field("service-subject-invalid", "subject").with_detail(subject).into());
    }
    let mut tx = db.begin().await?;
    let pos: i32 = on_tx!(&mut tx, c => sqlx::query_scalar("SELECT COALESCE(MAX(position), 0) + 1 FROM services").fetch_one(c).await)?;
    let res: std::result::Result<i64, sqlx::Error> = on_tx!(&mut tx, c => sqlx::query_scalar(
        "INSERT INTO services (code, name_vi, name_en, subject, position, active, created_at) VALUES ($1, $2, $3, $4, $5, TRUE, $6) RETURNING id")
        .bind(&code).bind(&name_vi).bind(&name_en).bind(subject).bind(pos).bind(now()).fetch_one(c).await);
    let id = res.map_err(|e| unique_to(e, "catalog-code-exists", &code))?;
    tx.commit().await?;
    Ok(id)
}

/// Adds a status after the service's last one.
pub async fn add_status(db: &Db, service_id: i64, code: &str, name_vi: &str, name_en: &str) -> Result<i64> {
    let code = parse_code(code)?;
    let name_vi = parse_name(name_vi, "name_vi")?;
    let name_en = parse_name(name_en, "name_en")?;
    let mut tx = db.begin().await?;
    let exists: Option<i64> = on_tx!(&mut tx, c => sqlx::query_scalar("SELECT id FROM services WHERE id = $1").bind(service_id).fetch_optional(c).await)?;
    if exists.is_none() {
        return Err(StoreError::NotFound);
    }
    let rank: i32 = on_tx!(&mut tx, c => sqlx::query_scalar(
        "SELECT COALESCE(MAX(rank), 0) + 1 FROM service_statuses WHERE service_id = $1").bind(service_id).fetch_one(c).await)?;
    let res: std::result::Result<i64, sqlx::Error> = on_tx!(&mut tx, c => sqlx::query_scalar(
        "INSERT INTO service_statuses (service_id, code, name_vi, name_en, rank) VALUES ($1, $2, $3, $4, $5) RETURNING id")
        .bind(service_id).bind(&code).bind(&name_vi).bind(&name_en).bind(rank).fetch_one(c).await);
    let id = res.map_err(|e| unique_to(e, "catalog-code-exists", &code))?;
    tx.commit().await?;
    Ok(id)
}

/// Adds a group residents may belong to, after the others; returns its number. Numbers go
/// up to 62 (a resident's groups are the bits of one integer, which the roll-ups count by):
/// past that, refused.
pub async fn create_group(db: &Db, code: &str, name_vi: &str, name_en: &str) -> Result<i64> {
    let code = parse_code(code)?;
    let name_vi = parse_name(name_vi, "name_vi")?;
    let name_en = parse_name(name_en, "name_en")?;
    let mut tx = db.begin().await?;
    let (id, pos): (i64, i64) = on_tx!(&mut tx, c => sqlx::query_as(
        "SELECT CAST(COALESCE(MAX(id), 0) + 1 AS BIGINT), CAST(COALESCE(MAX(position), 0) + 1 AS BIGINT) FROM resident_groups")
        .fetch_one(c).await)?;
    if id > 62 {
        return Err(Invalid::field("group-limit", "code").with_detail("62").into());
    }
    let res: std::result::Result<(), sqlx::Error> = on_tx!(&mut tx, c => sqlx::query(
        "INSERT INTO resident_groups (id, code, name_vi, name_en, position) VALUES ($1, $2, $3, $4, $5)")
        .bind(id).bind(&code).bind(&name_vi).bind(&name_en).bind(pos).execute(c).await.map(|_| ()));
    res.map_err(|e| unique_to(e, "catalog-code-exists", &code))?;
    tx.commit().await?;
    Ok(id)
}

/// A change of a service: new names, offered or withdrawn, statuses renamed by code.
#[derive(Debug, Clone, Default)]
pub struct ServiceChange {
    pub names: Option<(String, String)>,
    pub active: Option<bool>,
    /// (status code, name_vi, name_en).
    pub statuses: Vec<(String, String, String)>,
}

/// Renames a service and its statuses and offers or withdraws it, all or nothing; codes
/// stay (visits, imports and indicators name them).
pub async fn update_service(db: &Db, id: i64, c: &ServiceChange) -> Result<()> {
    let names = match &c.names {
        Some((vi, en)) => Some((parse_name(vi, "name_vi")?, parse_name(en, "name_en")?)),
        None => None,
    };
    let mut statuses = Vec::with_capacity(c.statuses.len());
    for (code, vi, en) in &c.statuses {
        statuses.push((code.trim().to_owned(), parse_name(vi, "name_vi")?, parse_name(en, "name_en")?));
    }
    let mut tx = db.begin().await?;
    let exists: Option<i64> = on_tx!(&mut tx, t => sqlx::query_scalar("SELECT id FROM services WHERE id = $1").bind(id).fetch_optional(t).await)?;
    exists.ok_or(StoreError::NotFound)?;
    if let Some((vi, en)) = &names {
        on_tx!(&mut tx, t => sqlx::query("UPDATE services SET name_vi = $1, name_en = $2 WHERE id = $3")
            .bind(vi).bind(en).bind(id).execute(t).await.map(|r| r.rows_affected()))?;
    }
    if let Some(active) = c.active {
        on_tx!(&mut tx, t => sqlx::query("UPDATE services SET active = $1 WHERE id = $2")
            .bind(active).bind(id).execute(t).await.map(|r| r.rows_affected()))?;
    }
    for (code, vi, en) in &statuses {
        let n = on_tx!(&mut tx, t => sqlx::query("UPDATE service_statuses SET name_vi = $1, name_en = $2 WHERE service_id = $3 AND code = $4")
            .bind(vi).bind(en).bind(id).bind(code).execute(t).await.map(|r| r.rows_affected()))?;
        if n == 0 {
            return Err(Invalid::field("status-unknown", "code").with_detail(code).into());
        }
    }
    tx.commit().await?;
    Ok(())
}

/// Turns a service on or off (an inactive service is kept for its history but not offered).
pub async fn set_active(db: &Db, service_id: i64, active: bool) -> Result<()> {
    let n = on_write!(db, p => sqlx::query("UPDATE services SET active = $1 WHERE id = $2").bind(active).bind(service_id)
        .execute(p).await.map(|r| r.rows_affected()))?;
    if n == 0 { Err(StoreError::NotFound) } else { Ok(()) }
}

fn unique_to(e: sqlx::Error, code: &'static str, detail: &str) -> StoreError {
    let e = StoreError::from(e);
    if e.is_unique_violation() { Invalid::field(code, "code").with_detail(detail).into() } else { e }
}
