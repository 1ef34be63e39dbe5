//! The set-up of citizen feedback as one document: agencies, categories with their extra
//! fields and deadlines, staff, routing rules and the days off, each entry named by its
//! code. [`apply`] writes a document in one transaction — every entry checked, the first bad
//! one refusing the whole document with its list and place ([`StoreError::AtRow`]) — adding
//! what is new and changing what is there; [`export`] reads the set-up back in the same
//! shape, so that a set-up is kept in a file, moved from one deployment to another, and
//! applied again without change. The files of a year's days and of routing rules
//! ([`read_days_csv`], [`read_routes_csv`]) become documents of one list.

use chrono::NaiveDate;
use ngoso_core::Invalid;
use ngoso_core::calendar::{DayKind, DayOff};
use ngoso_core::feedback::{Channel, ExtraField, FieldValue};
use serde::{Deserialize, Serialize};

use crate::catalog::{parse_code, parse_name};
use crate::{Db, Result, StoreError, Tx, now, on_tx, secrets};

/// The set-up, or the part of it to change: entries are matched by code; lists left out
/// change nothing.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct SetupDocument {
    #[serde(default)]
    pub agencies: Vec<AgencyEntry>,
    #[serde(default)]
    pub categories: Vec<CategoryEntry>,
    /// Accounts attached to an agency (or detached from theirs).
    #[serde(default)]
    pub staff: Vec<StaffEntry>,
    #[serde(default)]
    pub routes: Vec<RouteEntry>,
    /// Holidays and declared working days.
    #[serde(default)]
    pub days: Vec<DayEntry>,
}

/// An agency that answers feedback.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct AgencyEntry {
    /// `a-z 0-9 _`, 2–40 characters; it never changes.
    pub code: String,
    pub name_vi: String,
    pub name_en: String,
    /// Where changes of its items are posted; `""` removes it, absent keeps it. A new
    /// address gets a new secret, returned once.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub webhook_url: Option<String>,
    /// Absent: kept (a new agency is active).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub active: Option<bool>,
}

/// A category of feedback.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CategoryEntry {
    /// `a-z 0-9 _`, 2–40 characters: the Open311 service code; it never changes.
    pub code: String,
    pub name_vi: String,
    pub name_en: String,
    #[serde(default)]
    pub description_vi: String,
    #[serde(default)]
    pub description_en: String,
    /// Days to answer, 1–365.
    pub deadline_days: u32,
    /// `working` or `calendar`.
    pub day_kind: String,
    /// Absent: kept (a new category is offered).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub active: Option<bool>,
    /// Extra questions: a new code is added at the end; a known one is renamed, made
    /// required or not, and given more choices (its type and its choices' keys stay, since
    /// answers are kept by them). Fields left out stay.
    #[serde(default)]
    pub fields: Vec<FieldEntry>,
    /// Deadlines for some channels that differ from the category's own.
    #[serde(default)]
    pub channel_deadlines: Vec<ChannelDeadlineEntry>,
}

/// An extra question of a category.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct FieldEntry {
    pub code: String,
    pub name_vi: String,
    pub name_en: String,
    /// string, number, datetime, text, singlevaluelist or multivaluelist.
    pub datatype: String,
    #[serde(default)]
    pub required: bool,
    /// The choices of a list: `{key, name_vi, name_en}`.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<Object>))]
    pub values: Vec<FieldValue>,
    /// No longer asked; its answers on earlier items stay.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub withdrawn: bool,
}

/// A category's deadline for one channel.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ChannelDeadlineEntry {
    /// web, open311, hotline, counter, field, zalo or other.
    pub channel: String,
    pub deadline_days: u32,
    pub day_kind: String,
}

/// An account of agency staff and its agency.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct StaffEntry {
    pub username: String,
    /// The agency's code; `null` detaches the account from its agency.
    pub agency_code: Option<String>,
}

/// A routing rule: the agency that answers a category (or any) in a unit's area (or
/// everywhere); it replaces the rule of the same category and unit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct RouteEntry {
    #[serde(default)]
    pub category_code: Option<String>,
    #[serde(default)]
    pub unit_code: Option<String>,
    pub agency_code: String,
}

/// A day that differs from the plain week.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct DayEntry {
    /// `YYYY-MM-DD`.
    pub day: String,
    /// `holiday` (a weekday off) or `workday` (a weekend day worked to make up for one).
    pub kind: String,
    #[serde(default)]
    pub name: String,
}

/// The secret a new webhook signs its posts with.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WebhookSecret {
    pub agency_code: String,
    pub secret: String,
}

/// What applying a document did.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Applied {
    pub agencies_added: usize,
    pub agencies_changed: usize,
    pub categories_added: usize,
    pub categories_changed: usize,
    pub fields_added: usize,
    pub staff: usize,
    pub routes: usize,
    pub days: usize,
    /// The secrets of webhooks set by this document, shown this once.
    pub webhook_secrets: Vec<WebhookSecret>,
    /// A dry run: all was checked and done, then taken back.
    pub dry_run: bool,
}

fn at(section: &'static str, row: usize) -> impl Fn(Invalid) -> StoreError {
    move |invalid| StoreError::AtRow { row: row as u64 + 1, section: Some(section), invalid }
}

/// Refuses an entry for the store's own reasons (an unknown reference) at its place.
fn at_store(section: &'static str, row: usize) -> impl Fn(StoreError) -> StoreError {
    move |e| match e {
        StoreError::Invalid(invalid) => StoreError::AtRow { row: row as u64 + 1, section: Some(section), invalid },
        e => e,
    }
}

/// Applies a document in one transaction; with `dry_run` everything is checked and done,
/// then rolled back, so the result says exactly what a run would do.
pub async fn apply(db: &Db, doc: &SetupDocument, dry_run: bool) -> Result<Applied> {
    // References outside the set-up, read before writing: units and accounts.
    let mut units = Vec::with_capacity(doc.routes.len());
    for (i, r) in doc.routes.iter().enumerate() {
        units.push(match r.unit_code.as_deref().map(str::trim).filter(|c| !c.is_empty()) {
            Some(code) => Some(
                crate::units::by_code(db, code)
                    .await
                    .map_err(|_| at("routes", i)(Invalid::field("unit-unknown", "unit").with_detail(code)))?
                    .id,
            ),
            None => None,
        });
    }
    let mut users = Vec::with_capacity(doc.staff.len());
    for (i, s) in doc.staff.iter().enumerate() {
        let name = ngoso_core::user::Username::parse(&s.username).map_err(at("staff", i))?;
        let user = crate::users::by_username(db, &name)
            .await?
            .ok_or_else(|| at("staff", i)(Invalid::field("user-unknown", "username").with_detail(name.as_str())))?;
        users.push(user.id);
    }
    let mut tx = db.begin().await?;
    let mut out = Applied { dry_run, ..Applied::default() };
    for (i, a) in doc.agencies.iter().enumerate() {
        agency(&mut tx, a, &mut out).await.map_err(at_store("agencies", i))?;
    }
    for (i, c) in doc.categories.iter().enumerate() {
        category(&mut tx, c, &mut out).await.map_err(at_store("categories", i))?;
    }
    for (i, (s, user)) in doc.staff.iter().zip(&users).enumerate() {
        let agency = match s.agency_code.as_deref().map(str::trim).filter(|c| !c.is_empty()) {
            Some(code) => Some(agency_id(&mut tx, code).await.map_err(at_store("staff", i))?),
            None => None,
        };
        on_tx!(&mut tx, t => sqlx::query("UPDATE users SET agency_id = $1 WHERE id = $2")
            .bind(agency).bind(user).execute(t).await.map(|r| r.rows_affected()))?;
        out.staff += 1;
    }
    for (i, (r, unit)) in doc.routes.iter().zip(&units).enumerate() {
        let category = match r.category_code.as_deref().map(str::trim).filter(|c| !c.is_empty()) {
            Some(code) => Some(category_id(&mut tx, code).await.map_err(at_store("routes", i))?),
            None => None,
        };
        let agency = agency_id(&mut tx, r.agency_code.trim()).await.map_err(at_store("routes", i))?;
        on_tx!(&mut tx, t => sqlx::query(
            "DELETE FROM feedback_routes WHERE COALESCE(category_id, 0) = COALESCE($1, 0) AND COALESCE(unit_id, 0) = COALESCE($2, 0)")
            .bind(category).bind(unit).execute(t).await.map(|r| r.rows_affected()))?;
        on_tx!(&mut tx, t => sqlx::query(
            "INSERT INTO feedback_routes (category_id, unit_id, agency_id, created_at) VALUES ($1, $2, $3, $4)")
            .bind(category).bind(unit).bind(agency).bind(now()).execute(t).await.map(|r| r.rows_affected()))?;
        out.routes += 1;
    }
    let mut seen = std::collections::HashSet::new();
    for (i, d) in doc.days.iter().enumerate() {
        let day = ngoso_core::calendar::parse_day(&d.day, "day").map_err(at("days", i))?;
        if !seen.insert(day) {
            return Err(at("days", i)(Invalid::field("day-twice", "day").with_detail(&d.day)));
        }
        let kind = DayOff::parse(&d.kind).map_err(at("days", i))?;
        let label = ngoso_core::text::parse_line(&d.name, "name", 200).map_err(at("days", i))?.unwrap_or_default();
        set_day(&mut tx, day, kind, &label).await?;
        out.days += 1;
    }
    if dry_run {
        // Dropped without a commit: rolled back.
        drop(tx);
        out.webhook_secrets.clear();
    } else {
        tx.commit().await?;
        if out.staff > 0 {
            crate::tokens::changed();
        }
    }
    Ok(out)
}

async fn agency_id(tx: &mut Tx, code: &str) -> Result<i64> {
    let id: Option<i64> = on_tx!(tx, t => sqlx::query_scalar("SELECT id FROM agencies WHERE code = $1").bind(code).fetch_optional(t).await)?;
    id.ok_or_else(|| Invalid::field("agency-unknown", "agency").with_detail(code).into())
}

async fn category_id(tx: &mut Tx, code: &str) -> Result<i64> {
    let id: Option<i64> = on_tx!(tx, t => sqlx::query_scalar("SELECT id FROM feedback_categories WHERE code = $1").bind(code).fetch_optional(t).await)?;
    id.ok_or_else(|| Invalid::field("category-unknown", "category").with_detail(code).into())
}

async fn agency(tx: &mut Tx, a: &AgencyEntry, out: &mut Applied) -> Result<()> {
    let code = parse_code(&a.code)?;
    let (vi, en) = (parse_name(&a.name_vi, "name_vi")?, parse_name(&a.name_en, "name_en")?);
    let url = match &a.webhook_url {
        Some(u) => Some(super::setup::parse_url(u)?),
        None => None,
    };
    let found: Option<(i64, Option<String>)> = on_tx!(tx, t => sqlx::query_as(
        "SELECT id, webhook_url FROM agencies WHERE code = $1").bind(&code).fetch_optional(t).await)?;
    let id = match found {
        Some((id, _)) => {
            on_tx!(tx, t => sqlx::query("UPDATE agencies SET name_vi = $1, name_en = $2, active = COALESCE($3, active) WHERE id = $4")
                .bind(&vi).bind(&en).bind(a.active).bind(id).execute(t).await.map(|r| r.rows_affected()))?;
            out.agencies_changed += 1;
            id
        }
        None => {
            let id: i64 = on_tx!(tx, t => sqlx::query_scalar(
                "INSERT INTO agencies (code, name_vi, name_en, active, created_at) VALUES ($1, $2, $3, $4, $5) RETURNING id")
                .bind(&code).bind(&vi).bind(&en).bind(a.active.unwrap_or(true)).bind(now()).fetch_one(t).await)?;
            out.agencies_added += 1;
            id
        }
    };
    // A webhook changes only when its address does: applying the same document again keeps
    // the secret the receiver holds.
    let now_url = found.and_then(|(_, u)| u);
    if let Some(url) = url
        && url != now_url
    {
        let secret = url.as_ref().map(|_| secrets::new_token());
        on_tx!(tx, t => sqlx::query("UPDATE agencies SET webhook_url = $1, webhook_secret = $2 WHERE id = $3")
            .bind(&url).bind(&secret).bind(id).execute(t).await.map(|r| r.rows_affected()))?;
        if let Some(s) = secret {
            out.webhook_secrets.push(WebhookSecret { agency_code: code, secret: s });
        }
    }
    Ok(())
}

async fn category(tx: &mut Tx, c: &CategoryEntry, out: &mut Applied) -> Result<()> {
    let code = parse_code(&c.code)?;
    let (vi, en) = (parse_name(&c.name_vi, "name_vi")?, parse_name(&c.name_en, "name_en")?);
    let dvi = ngoso_core::text::parse_line(&c.description_vi, "description_vi", 500)?.unwrap_or_default();
    let den = ngoso_core::text::parse_line(&c.description_en, "description_en", 500)?.unwrap_or_default();
    let days = ngoso_core::calendar::parse_days(&c.deadline_days.to_string(), "deadline_days")?;
    let kind = DayKind::parse(&c.day_kind)?;
    let mut given = Vec::with_capacity(c.fields.len());
    for f in &c.fields {
        let mut field = ExtraField::check(&f.code, &f.name_vi, &f.name_en, &f.datatype, f.required, f.values.clone())?;
        field.withdrawn = f.withdrawn;
        given.push(field);
    }
    let mut deadlines = Vec::with_capacity(c.channel_deadlines.len());
    for d in &c.channel_deadlines {
        deadlines.push((
            Channel::parse(&d.channel)?,
            ngoso_core::calendar::parse_days(&d.deadline_days.to_string(), "deadline_days")?,
            DayKind::parse(&d.day_kind)?,
        ));
    }
    let found: Option<(i64, String)> = on_tx!(tx, t => sqlx::query_as(
        "SELECT id, fields FROM feedback_categories WHERE code = $1").bind(&code).fetch_optional(t).await)?;
    let (id, mut fields) = match found {
        Some((id, raw)) => (id, serde_json::from_str::<Vec<ExtraField>>(&raw).unwrap_or_default()),
        None => (0, Vec::new()),
    };
    for f in given {
        match fields.iter_mut().find(|x| x.code == f.code) {
            Some(old) => {
                if old.datatype != f.datatype {
                    return Err(Invalid::field("field-datatype-fixed", "datatype").with_detail(&f.code).into());
                }
                if let Some(lost) = old.values.iter().find(|v| !f.values.iter().any(|n| n.key == v.key)) {
                    return Err(Invalid::field("field-value-kept", "values").with_detail(&lost.key).into());
                }
                *old = f;
            }
            None => {
                fields.push(f);
                out.fields_added += 1;
            }
        }
    }
    let json = serde_json::to_string(&fields).map_err(|e| StoreError::Connect(e.to_string()))?;
    let id = if id > 0 {
        on_tx!(tx, t => sqlx::query(
            "UPDATE feedback_categories SET name_vi = $1, name_en = $2, description_vi = $3, description_en = $4, \
             deadline_days = $5, day_kind = $6, fields = $7, active = COALESCE($8, active) WHERE id = $9")
            .bind(&vi).bind(&en).bind(&dvi).bind(&den).bind(days as i32).bind(kind.as_str()).bind(&json).bind(c.active).bind(id)
            .execute(t).await.map(|r| r.rows_affected()))?;
        out.categories_changed += 1;
        id
    } else {
        let pos: i32 = on_tx!(tx, t => sqlx::query_scalar("SELECT COALESCE(MAX(position), 0) + 1 FROM feedback_categories").fetch_one(t).await)?;
        let id: i64 = on_tx!(tx, t => sqlx::query_scalar(
            "INSERT INTO feedback_categories (code, name_vi, name_en, description_vi, description_en, deadline_days, day_kind, \
             fields, position, active, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id")
            .bind(&code).bind(&vi).bind(&en).bind(&dvi).bind(&den).bind(days as i32).bind(kind.as_str()).bind(&json).bind(pos)
            .bind(c.active.unwrap_or(true)).bind(now()).fetch_one(t).await)?;
        out.categories_added += 1;
        id
    };
    for (channel, days, kind) in deadlines {
        on_tx!(tx, t => sqlx::query(
            "INSERT INTO feedback_channel_deadlines (category_id, channel, deadline_days, day_kind) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (category_id, channel) DO UPDATE SET deadline_days = excluded.deadline_days, day_kind = excluded.day_kind")
            .bind(id).bind(channel.as_str()).bind(days as i32).bind(kind.as_str()).execute(t).await.map(|r| r.rows_affected()))?;
    }
    Ok(())
}

async fn set_day(tx: &mut Tx, day: NaiveDate, kind: DayOff, label: &str) -> Result<()> {
    on_tx!(tx, t => sqlx::query(
        "INSERT INTO calendar_days (day, kind, name) VALUES ($1, $2, $3) ON CONFLICT (day) DO UPDATE SET kind = $2, name = $3")
        .bind(day.format("%Y-%m-%d").to_string()).bind(kind.as_str()).bind(label).execute(t).await.map(|r| r.rows_affected()))?;
    Ok(())
}

/// The whole set-up as a document (webhook secrets left out; staff are the accounts
/// attached to an agency).
pub async fn export(db: &Db) -> Result<SetupDocument> {
    let agencies = super::setup::agencies(db).await?;
    let code_of = |id: i64| agencies.iter().find(|a| a.id == id).map(|a| a.code.clone());
    let staff: Vec<(String, i64)> = crate::on_db!(db, p => sqlx::query_as(
        "SELECT username, agency_id FROM users WHERE agency_id IS NOT NULL ORDER BY username").fetch_all(p).await)?;
    Ok(SetupDocument {
        staff: staff.into_iter().map(|(username, a)| StaffEntry { username, agency_code: code_of(a) }).collect(),
        categories: super::setup::categories(db)
            .await?
            .into_iter()
            .map(|c| CategoryEntry {
                code: c.code,
                name_vi: c.name_vi,
                name_en: c.name_en,
                description_vi: c.description_vi,
                description_en: c.description_en,
                deadline_days: c.deadline_days.max(0) as u32,
                day_kind: c.day_kind,
                active: Some(c.active),
                fields: c
                    .fields
                    .into_iter()
                    .map(|f| FieldEntry {
                        code: f.code,
                        name_vi: f.name_vi,
                        name_en: f.name_en,
                        datatype: f.datatype.as_str().to_owned(),
                        required: f.required,
                        values: f.values,
                        withdrawn: f.withdrawn,
                    })
                    .collect(),
                channel_deadlines: c
                    .channel_deadlines
                    .into_iter()
                    .map(|d| ChannelDeadlineEntry {
                        channel: d.channel,
                        deadline_days: d.deadline_days.max(0) as u32,
                        day_kind: d.day_kind,
                    })
                    .collect(),
            })
            .collect(),
        routes: super::setup::routes(db)
            .await?
            .into_iter()
            .map(|r| RouteEntry { category_code: r.category_code, unit_code: r.unit_code, agency_code: r.agency_code })
            .collect(),
        days: super::setup::calendar_days(db)
            .await?
            .into_iter()
            .map(|d| DayEntry { day: d.day, kind: d.kind, name: d.name })
            .collect(),
        agencies: agencies
            .iter()
            .map(|a| AgencyEntry {
                code: a.code.clone(),
                name_vi: a.name_vi.clone(),
                name_en: a.name_en.clone(),
                webhook_url: Some(a.webhook_url.clone().unwrap_or_default()),
                active: Some(a.active),
            })
            .collect(),
    })
}

/// Renumbers a document's refusal with the file's line (the header is line 1).
pub fn at_line(e: StoreError, lines: &[u64]) -> StoreError {
    match e {
        StoreError::AtRow { row, section: Some(_), invalid } => {
            let line = lines.get(row as usize - 1).copied().unwrap_or(row);
            StoreError::AtRow { row: line, section: None, invalid }
        }
        e => e,
    }
}

/// A file of days off and days worked (`day`, `kind`, and `name` where given) as a document
/// of days, with each entry's line.
pub fn read_days_csv(text: &str) -> Result<(SetupDocument, Vec<u64>)> {
    let rows = crate::csvrows::read(text, &["day", "kind"])?;
    let get = |m: &std::collections::HashMap<String, String>, k: &str| m.get(k).cloned().unwrap_or_default();
    let lines = rows.iter().map(|r| r.0).collect();
    let days =
        rows.iter().map(|(_, m)| DayEntry { day: get(m, "day"), kind: get(m, "kind"), name: get(m, "name") }).collect();
    Ok((SetupDocument { days, ..SetupDocument::default() }, lines))
}

/// A file of routing rules (`agency_code`, and `category_code`, `unit_code` where the rule
/// is narrower than everything) as a document of routes, with each entry's line.
pub fn read_routes_csv(text: &str) -> Result<(SetupDocument, Vec<u64>)> {
    let rows = crate::csvrows::read(text, &["agency_code"])?;
    let opt = |m: &std::collections::HashMap<String, String>, k: &str| m.get(k).filter(|v| !v.is_empty()).cloned();
    let lines = rows.iter().map(|r| r.0).collect();
    let routes = rows
        .iter()
        .map(|(_, m)| RouteEntry {
            category_code: opt(m, "categorycode"),
            unit_code: opt(m, "unitcode"),
            agency_code: opt(m, "agencycode").unwrap_or_default(),
        })
        .collect();
    Ok((SetupDocument { routes, ..SetupDocument::default() }, lines))
}
