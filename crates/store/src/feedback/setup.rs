//! What citizen feedback runs on: agencies, categories with their deadlines and extra fields,
//! routing rules, the working-day calendar and the API keys of Open311 clients.

use chrono::NaiveDate;
use ngoso_core::Invalid;
use ngoso_core::calendar::{Calendar, DayKind, DayOff};
use ngoso_core::feedback::{Channel, ExtraField};
use ngoso_core::unit::UnitPath;
use serde::Serialize;

use crate::catalog::{parse_code, parse_name};
use crate::{Db, Result, StoreError, now, on_db, on_tx, on_write, secrets};

/// An agency that answers feedback.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Agency {
    pub id: i64,
    pub code: String,
    pub name_vi: String,
    pub name_en: String,
    /// Where changes of its items are posted (JSON), if anywhere.
    pub webhook_url: Option<String>,
    pub active: bool,
}

impl Agency {
    pub fn name(&self, english: bool) -> &str {
        if english { &self.name_en } else { &self.name_vi }
    }
}

/// A feedback category.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Category {
    pub id: i64,
    pub code: String,
    pub name_vi: String,
    pub name_en: String,
    pub description_vi: String,
    pub description_en: String,
    /// Days to answer, counted as `day_kind` says.
    pub deadline_days: i32,
    /// `working` or `calendar`.
    pub day_kind: String,
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<Object>))]
    pub fields: Vec<ExtraField>,
    pub position: i32,
    pub active: bool,
    /// Deadlines for some channels that differ from the category's own.
    pub channel_deadlines: Vec<ChannelDeadline>,
}

/// A category's deadline for items that come in by one channel.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ChannelDeadline {
    #[serde(skip)]
    pub category_id: i64,
    /// `web`, `open311`, `team` or `hotline`.
    pub channel: String,
    pub deadline_days: i32,
    /// `working` or `calendar`.
    pub day_kind: String,
}

impl Category {
    pub fn name(&self, english: bool) -> &str {
        if english { &self.name_en } else { &self.name_vi }
    }
    pub fn description(&self, english: bool) -> &str {
        if english { &self.description_en } else { &self.description_vi }
    }
    pub fn kind(&self) -> DayKind {
        DayKind::parse(&self.day_kind).unwrap_or(DayKind::Working)
    }

    /// The extra fields still asked (withdrawn ones left out).
    pub fn asked_fields(&self) -> Vec<ExtraField> {
        self.fields.iter().filter(|f| !f.withdrawn).cloned().collect()
    }

    /// The deadline of an item that came in by `channel`: the channel's own, or else the
    /// category's. Days, and how they are counted.
    pub fn deadline_for(&self, channel: Channel) -> (u32, DayKind) {
        match self.channel_deadlines.iter().find(|d| d.channel == channel.as_str()) {
            Some(d) => {
                (u32::try_from(d.deadline_days).unwrap_or(1), DayKind::parse(&d.day_kind).unwrap_or(DayKind::Working))
            }
            None => (u32::try_from(self.deadline_days).unwrap_or(1), self.kind()),
        }
    }
}

#[derive(sqlx::FromRow)]
struct CategoryRow {
    id: i64,
    code: String,
    name_vi: String,
    name_en: String,
    description_vi: String,
    description_en: String,
    deadline_days: i32,
    day_kind: String,
    fields: String,
    position: i32,
    active: bool,
}

impl From<CategoryRow> for Category {
    fn from(r: CategoryRow) -> Self {
        Category {
            fields: serde_json::from_str(&r.fields).unwrap_or_default(),
            id: r.id,
            code: r.code,
            name_vi: r.name_vi,
            name_en: r.name_en,
            description_vi: r.description_vi,
            description_en: r.description_en,
            deadline_days: r.deadline_days,
            day_kind: r.day_kind,
            position: r.position,
            active: r.active,
            channel_deadlines: Vec::new(),
        }
    }
}

/// A routing rule, with the names to show.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Route {
    pub id: i64,
    pub category_id: Option<i64>,
    pub category_code: Option<String>,
    pub unit_id: Option<i64>,
    pub unit_code: Option<String>,
    pub unit_name: Option<String>,
    pub agency_id: i64,
    pub agency_code: String,
}

/// A day of the calendar that differs from the plain week.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CalendarDay {
    pub day: String,
    /// `holiday` or `workday`.
    pub kind: String,
    pub name: String,
}

const CATEGORY_SELECT: &str = "SELECT id, code, name_vi, name_en, description_vi, description_en, deadline_days, \
                               day_kind, fields, position, active FROM feedback_categories";

const CHANNEL_DEADLINE_SELECT: &str =
    "SELECT category_id, channel, deadline_days, day_kind FROM feedback_channel_deadlines";

fn unique_to(e: sqlx::Error, code: &'static str, detail: &str) -> StoreError {
    let e = StoreError::from(e);
    if e.is_unique_violation() { Invalid::field(code, "code").with_detail(detail).into() } else { e }
}

/// A webhook address: `http://` or `https://`, no spaces, at most 500 characters.
pub fn parse_url(s: &str) -> Result<Option<String>, Invalid> {
    ngoso_core::text::parse_url(s, "webhook_url")
}

// ---- agencies ----

pub async fn agencies(db: &Db) -> Result<Vec<Agency>> {
    Ok(on_db!(db, p => sqlx::query_as::<_, Agency>(
        "SELECT id, code, name_vi, name_en, webhook_url, active FROM agencies ORDER BY code").fetch_all(p).await)?)
}

pub async fn agency(db: &Db, id: i64) -> Result<Agency> {
    on_db!(db, p => sqlx::query_as::<_, Agency>(
        "SELECT id, code, name_vi, name_en, webhook_url, active FROM agencies WHERE id = $1").bind(id).fetch_optional(p).await)?
        .ok_or(StoreError::NotFound)
}

/// Adds an agency. The webhook secret, when a URL is given, is made here and shown once.
pub async fn create_agency(
    db: &Db,
    code: &str,
    name_vi: &str,
    name_en: &str,
    webhook_url: &str,
) -> Result<(i64, Option<String>)> {
    let code = parse_code(code)?;
    let (vi, en) = (parse_name(name_vi, "name_vi")?, parse_name(name_en, "name_en")?);
    let url = parse_url(webhook_url)?;
    let secret = url.as_ref().map(|_| secrets::new_token());
    let res: std::result::Result<i64, sqlx::Error> = on_write!(db, p => sqlx::query_scalar(
        "INSERT INTO agencies (code, name_vi, name_en, webhook_url, webhook_secret, active, created_at) \
         VALUES ($1, $2, $3, $4, $5, TRUE, $6) RETURNING id")
        .bind(&code).bind(&vi).bind(&en).bind(&url).bind(&secret).bind(now()).fetch_one(p).await);
    let id = res.map_err(|e| unique_to(e, "catalog-code-exists", &code))?;
    Ok((id, secret))
}

/// Renames an agency (its code stays: routes, staff and Open311 clients know it by it).
pub async fn rename_agency(db: &Db, id: i64, name_vi: &str, name_en: &str) -> Result<()> {
    let (vi, en) = (parse_name(name_vi, "name_vi")?, parse_name(name_en, "name_en")?);
    let n = on_write!(db, p => sqlx::query("UPDATE agencies SET name_vi = $1, name_en = $2 WHERE id = $3")
        .bind(&vi).bind(&en).bind(id).execute(p).await.map(|r| r.rows_affected()))?;
    if n == 0 { Err(StoreError::NotFound) } else { Ok(()) }
}

/// Changes an agency's webhook; a new secret is made when the URL is set.
pub async fn set_webhook(db: &Db, id: i64, webhook_url: &str) -> Result<Option<String>> {
    let url = parse_url(webhook_url)?;
    let secret = url.as_ref().map(|_| secrets::new_token());
    let n = on_write!(db, p => sqlx::query("UPDATE agencies SET webhook_url = $1, webhook_secret = $2 WHERE id = $3")
        .bind(&url).bind(&secret).bind(id).execute(p).await.map(|r| r.rows_affected()))?;
    if n == 0 { Err(StoreError::NotFound) } else { Ok(secret) }
}

/// Attaches a user (agency staff) to an agency, or detaches them.
pub async fn set_user_agency(db: &Db, user_id: i64, agency_id: Option<i64>) -> Result<()> {
    let res: std::result::Result<u64, sqlx::Error> = on_write!(db, p => sqlx::query("UPDATE users SET agency_id = $1 WHERE id = $2")
        .bind(agency_id).bind(user_id).execute(p).await.map(|r| r.rows_affected()));
    let n = res.map_err(|e| {
        let e = StoreError::from(e);
        if e.is_foreign_key_violation() { Invalid::field("agency-unknown", "agency").into() } else { e }
    })?;
    crate::tokens::changed();
    if n == 0 { Err(StoreError::NotFound) } else { Ok(()) }
}

/// The agency of a user, if any.
pub async fn user_agency(db: &Db, user_id: i64) -> Result<Option<i64>> {
    Ok(on_db!(db, p => sqlx::query_scalar::<_, Option<i64>>("SELECT agency_id FROM users WHERE id = $1")
        .bind(user_id).fetch_optional(p).await)?
    .flatten())
}

// ---- categories ----

pub async fn categories(db: &Db) -> Result<Vec<Category>> {
    let rows: Vec<CategoryRow> = on_db!(db, p => sqlx::query_as(sqlx::AssertSqlSafe(format!("{CATEGORY_SELECT} ORDER BY position, id"))).fetch_all(p).await)?;
    let mut out: Vec<Category> = rows.into_iter().map(Category::from).collect();
    let deadlines: Vec<ChannelDeadline> = on_db!(db, p => sqlx::query_as(sqlx::AssertSqlSafe(
        format!("{CHANNEL_DEADLINE_SELECT} ORDER BY category_id, channel"))).fetch_all(p).await)?;
    for d in deadlines {
        if let Some(c) = out.iter_mut().find(|c| c.id == d.category_id) {
            c.channel_deadlines.push(d);
        }
    }
    Ok(out)
}

pub async fn category(db: &Db, id: i64) -> Result<Category> {
    let row: Option<CategoryRow> = on_db!(db, p => sqlx::query_as(sqlx::AssertSqlSafe(format!("{CATEGORY_SELECT} WHERE id = $1"))).bind(id).fetch_optional(p).await)?;
    let mut c = row.map(Category::from).ok_or(StoreError::NotFound)?;
    c.channel_deadlines = on_db!(db, p => sqlx::query_as(sqlx::AssertSqlSafe(
        format!("{CHANNEL_DEADLINE_SELECT} WHERE category_id = $1 ORDER BY channel"))).bind(id).fetch_all(p).await)?;
    Ok(c)
}

/// What an administrator gives for a new category.
pub struct NewCategory<'a> {
    pub code: &'a str,
    pub name_vi: &'a str,
    pub name_en: &'a str,
    pub description_vi: &'a str,
    pub description_en: &'a str,
    pub deadline_days: &'a str,
    pub day_kind: &'a str,
}

/// A category's names and descriptions, checked: (name_vi, name_en, description_vi,
/// description_en).
fn category_texts(
    name_vi: &str,
    name_en: &str,
    description_vi: &str,
    description_en: &str,
) -> Result<(String, String, String, String)> {
    let (vi, en) = (parse_name(name_vi, "name_vi")?, parse_name(name_en, "name_en")?);
    let dvi = ngoso_core::text::parse_line(description_vi, "description_vi", 500)?.unwrap_or_default();
    let den = ngoso_core::text::parse_line(description_en, "description_en", 500)?.unwrap_or_default();
    Ok((vi, en, dvi, den))
}

pub async fn create_category(db: &Db, c: &NewCategory<'_>) -> Result<i64> {
    let code = parse_code(c.code)?;
    let (vi, en, dvi, den) = category_texts(c.name_vi, c.name_en, c.description_vi, c.description_en)?;
    let days = ngoso_core::calendar::parse_days(c.deadline_days, "deadline_days")?;
    let kind = DayKind::parse(c.day_kind)?;
    let mut tx = db.begin().await?;
    let pos: i32 = on_tx!(&mut tx, t => sqlx::query_scalar("SELECT COALESCE(MAX(position), 0) + 1 FROM feedback_categories").fetch_one(t).await)?;
    let res: std::result::Result<i64, sqlx::Error> = on_tx!(&mut tx, t => sqlx::query_scalar(
        "INSERT INTO feedback_categories (code, name_vi, name_en, description_vi, description_en, deadline_days, day_kind, \
         fields, position, active, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, '[]', $8, TRUE, $9) RETURNING id")
        .bind(&code).bind(&vi).bind(&en).bind(&dvi).bind(&den).bind(days as i32).bind(kind.as_str()).bind(pos).bind(now())
        .fetch_one(t).await);
    let id = res.map_err(|e| unique_to(e, "catalog-code-exists", &code))?;
    tx.commit().await?;
    Ok(id)
}

/// Renames a category and rewrites its descriptions (its code stays: it is the Open311
/// service code, and routes name it).
pub async fn rename_category(
    db: &Db,
    id: i64,
    name_vi: &str,
    name_en: &str,
    description_vi: &str,
    description_en: &str,
) -> Result<()> {
    let (vi, en, dvi, den) = category_texts(name_vi, name_en, description_vi, description_en)?;
    let n = on_write!(db, p => sqlx::query(
        "UPDATE feedback_categories SET name_vi = $1, name_en = $2, description_vi = $3, description_en = $4 WHERE id = $5")
        .bind(&vi).bind(&en).bind(&dvi).bind(&den).bind(id).execute(p).await.map(|r| r.rows_affected()))?;
    if n == 0 { Err(StoreError::NotFound) } else { Ok(()) }
}

/// Changes a category's deadline.
pub async fn set_deadline(db: &Db, id: i64, days: &str, kind: &str) -> Result<()> {
    let days = ngoso_core::calendar::parse_days(days, "deadline_days")?;
    let kind = DayKind::parse(kind)?;
    let n = on_write!(db, p => sqlx::query("UPDATE feedback_categories SET deadline_days = $1, day_kind = $2 WHERE id = $3")
        .bind(days as i32).bind(kind.as_str()).bind(id).execute(p).await.map(|r| r.rows_affected()))?;
    if n == 0 { Err(StoreError::NotFound) } else { Ok(()) }
}

/// Sets a category's deadline for items that come in by one channel.
pub async fn set_channel_deadline(db: &Db, category_id: i64, channel: &str, days: &str, kind: &str) -> Result<()> {
    let channel = Channel::parse(channel)?;
    let days = ngoso_core::calendar::parse_days(days, "deadline_days")?;
    let kind = DayKind::parse(kind)?;
    let mut tx = db.begin().await?;
    let found: Option<i64> = on_tx!(&mut tx, t => sqlx::query_scalar("SELECT id FROM feedback_categories WHERE id = $1")
        .bind(category_id).fetch_optional(t).await)?;
    found.ok_or(StoreError::NotFound)?;
    on_tx!(&mut tx, t => sqlx::query(
        "INSERT INTO feedback_channel_deadlines (category_id, channel, deadline_days, day_kind) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (category_id, channel) DO UPDATE SET deadline_days = excluded.deadline_days, day_kind = excluded.day_kind")
        .bind(category_id).bind(channel.as_str()).bind(days as i32).bind(kind.as_str()).execute(t).await.map(|r| r.rows_affected()))?;
    tx.commit().await?;
    Ok(())
}

/// Removes a category's deadline for one channel: the category's own applies again.
pub async fn remove_channel_deadline(db: &Db, category_id: i64, channel: &str) -> Result<()> {
    let channel = Channel::parse(channel)?;
    let n = on_write!(db, p => sqlx::query("DELETE FROM feedback_channel_deadlines WHERE category_id = $1 AND channel = $2")
        .bind(category_id).bind(channel.as_str()).execute(p).await.map(|r| r.rows_affected()))?;
    if n == 0 { Err(StoreError::NotFound) } else { Ok(()) }
}

/// Adds an extra field at the end of a category's fields.
pub async fn add_field(db: &Db, category_id: i64, field: ExtraField) -> Result<()> {
    update_fields(db, category_id, |fields| {
        if fields.iter().any(|f| f.code == field.code) {
            return Err(Invalid::field("catalog-code-exists", "code").with_detail(field.code).into());
        }
        fields.push(field);
        Ok(())
    })
    .await
}

/// Reads a category's extra fields, changes them with `change` and writes them back, in one
/// transaction; nothing is written when `change` refuses.
async fn update_fields(
    db: &Db,
    category_id: i64,
    change: impl FnOnce(&mut Vec<ExtraField>) -> Result<()>,
) -> Result<()> {
    let mut tx = db.begin().await?;
    let raw: Option<String> = on_tx!(&mut tx, t => sqlx::query_scalar("SELECT fields FROM feedback_categories WHERE id = $1")
        .bind(category_id).fetch_optional(t).await)?;
    let mut fields: Vec<ExtraField> = serde_json::from_str(&raw.ok_or(StoreError::NotFound)?).unwrap_or_default();
    change(&mut fields)?;
    let json = serde_json::to_string(&fields).map_err(|e| StoreError::Connect(e.to_string()))?;
    on_tx!(&mut tx, t => sqlx::query("UPDATE feedback_categories SET fields = $1 WHERE id = $2")
        .bind(&json).bind(category_id).execute(t).await.map(|r| r.rows_affected()))?;
    tx.commit().await?;
    Ok(())
}

/// Renames a category's extra field (its code, which the stored answers are keyed by,
/// stays; so do its type and choices).
pub async fn rename_field(db: &Db, category_id: i64, code: &str, name_vi: &str, name_en: &str) -> Result<()> {
    let (vi, en) = (parse_name(name_vi, "name_vi")?, parse_name(name_en, "name_en")?);
    update_fields(db, category_id, |fields| {
        let field = fields.iter_mut().find(|f| f.code == code.trim()).ok_or(StoreError::NotFound)?;
        (field.name_vi, field.name_en) = (vi, en);
        Ok(())
    })
    .await
}

/// Whether any item of a category has an answer to one of its fields.
async fn field_answered(db: &Db, category_id: i64, code: &str) -> Result<bool> {
    // Answers are kept as a JSON object keyed by the field's code (`a-z 0-9 _`).
    let pattern = format!("%\"{}\":%", code.replace('_', "\\_"));
    let found: Option<i32> = on_db!(db, p => sqlx::query_scalar(
        "SELECT 1 FROM feedback WHERE category_id = $1 AND extra LIKE $2 ESCAPE '\\' LIMIT 1")
        .bind(category_id).bind(&pattern).fetch_optional(p).await)?;
    Ok(found.is_some())
}

/// Deletes an extra field no item has answered; one that was answered is refused
/// (`field-used`): withdraw it instead.
pub async fn delete_field(db: &Db, category_id: i64, code: &str) -> Result<()> {
    let code = code.trim();
    if field_answered(db, category_id, code).await? {
        return Err(Invalid::field("field-used", "code").with_detail(code).into());
    }
    update_fields(db, category_id, |fields| {
        let before = fields.len();
        fields.retain(|f| f.code != code);
        if fields.len() == before { Err(StoreError::NotFound) } else { Ok(()) }
    })
    .await
}

/// Withdraws an extra field (no longer asked; earlier answers stay) or offers it again.
pub async fn set_field_withdrawn(db: &Db, category_id: i64, code: &str, withdrawn: bool) -> Result<()> {
    update_fields(db, category_id, |fields| {
        let field = fields.iter_mut().find(|f| f.code == code.trim()).ok_or(StoreError::NotFound)?;
        field.withdrawn = withdrawn;
        Ok(())
    })
    .await
}

/// Deletes a category no item was filed under (with its channel deadlines and routing
/// rules); one that was used is refused (`category-used`): withdraw it instead.
pub async fn delete_category(db: &Db, id: i64) -> Result<()> {
    let mut tx = db.begin().await?;
    let code: Option<String> = on_tx!(&mut tx, t => sqlx::query_scalar("SELECT code FROM feedback_categories WHERE id = $1")
        .bind(id).fetch_optional(t).await)?;
    let code = code.ok_or(StoreError::NotFound)?;
    let used: Option<i32> = on_tx!(&mut tx, t => sqlx::query_scalar("SELECT 1 FROM feedback WHERE category_id = $1 LIMIT 1")
        .bind(id).fetch_optional(t).await)?;
    if used.is_some() {
        return Err(Invalid::field("category-used", "code").with_detail(code).into());
    }
    for sql in [
        "DELETE FROM feedback_channel_deadlines WHERE category_id = $1",
        "DELETE FROM feedback_routes WHERE category_id = $1",
        "DELETE FROM feedback_categories WHERE id = $1",
    ] {
        on_tx!(&mut tx, t => sqlx::query(sql).bind(id).execute(t).await.map(|r| r.rows_affected()))?;
    }
    tx.commit().await?;
    Ok(())
}

/// Deletes an agency no item was ever sent to (its routing rules go, its staff are
/// detached); one that was used is refused (`agency-used`): withdraw it instead.
pub async fn delete_agency(db: &Db, id: i64) -> Result<()> {
    let mut tx = db.begin().await?;
    let code: Option<String> = on_tx!(&mut tx, t => sqlx::query_scalar("SELECT code FROM agencies WHERE id = $1")
        .bind(id).fetch_optional(t).await)?;
    let code = code.ok_or(StoreError::NotFound)?;
    let used: Option<i32> = on_tx!(&mut tx, t => sqlx::query_scalar(
        "SELECT 1 FROM feedback WHERE agency_id = $1 UNION ALL SELECT 1 FROM feedback_history WHERE agency_id = $1 LIMIT 1")
        .bind(id).fetch_optional(t).await)?;
    if used.is_some() {
        return Err(Invalid::field("agency-used", "code").with_detail(code).into());
    }
    for sql in [
        "UPDATE users SET agency_id = NULL WHERE agency_id = $1",
        "DELETE FROM feedback_routes WHERE agency_id = $1",
        "DELETE FROM agencies WHERE id = $1",
    ] {
        on_tx!(&mut tx, t => sqlx::query(sql).bind(id).execute(t).await.map(|r| r.rows_affected()))?;
    }
    tx.commit().await?;
    crate::tokens::changed();
    Ok(())
}

/// Offers an agency or withdraws it: a withdrawn agency gets no new items (its routing
/// rules are passed over) and keeps those it has.
pub async fn set_agency_active(db: &Db, id: i64, active: bool) -> Result<()> {
    let n = on_write!(db, p => sqlx::query("UPDATE agencies SET active = $1 WHERE id = $2")
        .bind(active).bind(id).execute(p).await.map(|r| r.rows_affected()))?;
    if n == 0 { Err(StoreError::NotFound) } else { Ok(()) }
}

/// Offers a category or withdraws it (withdrawn ones keep their items).
pub async fn set_category_active(db: &Db, id: i64, active: bool) -> Result<()> {
    let n = on_write!(db, p => sqlx::query("UPDATE feedback_categories SET active = $1 WHERE id = $2")
        .bind(active).bind(id).execute(p).await.map(|r| r.rows_affected()))?;
    if n == 0 { Err(StoreError::NotFound) } else { Ok(()) }
}

// ---- routing ----

pub async fn routes(db: &Db) -> Result<Vec<Route>> {
    Ok(on_db!(db, p => sqlx::query_as::<_, Route>(
        "SELECT r.id, r.category_id, c.code AS category_code, r.unit_id, u.code AS unit_code, u.name AS unit_name, \
         r.agency_id, a.code AS agency_code FROM feedback_routes r JOIN agencies a ON a.id = r.agency_id \
         LEFT JOIN feedback_categories c ON c.id = r.category_id LEFT JOIN units u ON u.id = r.unit_id \
         ORDER BY c.code NULLS FIRST, u.path NULLS FIRST").fetch_all(p).await)?)
}

/// Sets the agency for a category (or any) in a unit's subtree (or the whole tree),
/// replacing the rule already there.
pub async fn set_route(db: &Db, category_id: Option<i64>, unit_id: Option<i64>, agency_id: i64) -> Result<i64> {
    let mut tx = db.begin().await?;
    on_tx!(&mut tx, t => sqlx::query(
        "DELETE FROM feedback_routes WHERE COALESCE(category_id, 0) = COALESCE($1, 0) AND COALESCE(unit_id, 0) = COALESCE($2, 0)")
        .bind(category_id).bind(unit_id).execute(t).await.map(|r| r.rows_affected()))?;
    let res: std::result::Result<i64, sqlx::Error> = on_tx!(&mut tx, t => sqlx::query_scalar(
        "INSERT INTO feedback_routes (category_id, unit_id, agency_id, created_at) VALUES ($1, $2, $3, $4) RETURNING id")
        .bind(category_id).bind(unit_id).bind(agency_id).bind(now()).fetch_one(t).await);
    let id = res.map_err(|e| {
        let e = StoreError::from(e);
        if e.is_foreign_key_violation() {
            StoreError::NotFound
        } else if e.is_unique_violation() {
            // Another administrator set the same rule at the same moment.
            Invalid::field("catalog-code-exists", "code").with_detail("route").into()
        } else {
            e
        }
    })?;
    tx.commit().await?;
    Ok(id)
}

pub async fn delete_route(db: &Db, id: i64) -> Result<()> {
    let n = on_write!(db, p => sqlx::query("DELETE FROM feedback_routes WHERE id = $1").bind(id).execute(p).await.map(|r| r.rows_affected()))?;
    if n == 0 { Err(StoreError::NotFound) } else { Ok(()) }
}

/// The agency responsible for a category at a unit (or with no unit), among the rules that
/// name the category or any, each with its agency (active) and the path of its unit: the most
/// specific rule — the deepest unit, then a named category over any. Returns its agency and
/// what comes with it (`T`, e.g. the agency's webhook).
pub(crate) fn pick_route<T>(
    rules: impl IntoIterator<Item = (i64, Option<i64>, Option<String>, T)>,
    unit: Option<&UnitPath>,
) -> Option<(i64, T)> {
    rules
        .into_iter()
        .filter_map(|(agency, cat, path, with)| {
            let depth = match (&path, unit) {
                (None, _) => 0,
                (Some(p), Some(u)) if u.as_str().starts_with(p.as_str()) => p.matches('/').count(),
                _ => return None,
            };
            Some(((depth, cat.is_some()), (agency, with)))
        })
        .max_by_key(|(k, _)| *k)
        .map(|(_, found)| found)
}

// ---- calendar ----

pub async fn calendar_days(db: &Db) -> Result<Vec<CalendarDay>> {
    Ok(
        on_db!(db, p => sqlx::query_as::<_, CalendarDay>("SELECT day, kind, name FROM calendar_days ORDER BY day").fetch_all(p).await)?,
    )
}

/// The working-day calendar.
pub async fn calendar(db: &Db) -> Result<Calendar> {
    let days = calendar_days(db).await?;
    Ok(Calendar::new(
        days.into_iter()
            .filter_map(|d| Some((NaiveDate::parse_from_str(&d.day, "%Y-%m-%d").ok()?, DayOff::parse(&d.kind).ok()?))),
    ))
}

/// Marks a day a holiday or a working day (replacing what was there).
pub async fn set_day(db: &Db, day: NaiveDate, kind: DayOff, label: &str) -> Result<()> {
    let label = ngoso_core::text::parse_line(label, "name", 200)?.unwrap_or_default();
    on_write!(db, p => sqlx::query(
        "INSERT INTO calendar_days (day, kind, name) VALUES ($1, $2, $3) ON CONFLICT (day) DO UPDATE SET kind = $2, name = $3")
        .bind(day.format("%Y-%m-%d").to_string()).bind(kind.as_str()).bind(&label).execute(p).await.map(|r| r.rows_affected()))?;
    Ok(())
}

pub async fn remove_day(db: &Db, day: NaiveDate) -> Result<()> {
    let n = on_write!(db, p => sqlx::query("DELETE FROM calendar_days WHERE day = $1")
        .bind(day.format("%Y-%m-%d").to_string()).execute(p).await.map(|r| r.rows_affected()))?;
    if n == 0 { Err(StoreError::NotFound) } else { Ok(()) }
}

// ---- API keys of Open311 clients ----

/// An API key as listed (the key itself is shown once, at creation).
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct ApiKey {
    pub id: i64,
    pub name: String,
    pub prefix: String,
    pub created_at: i64,
    pub revoked_at: Option<i64>,
    pub last_used_at: Option<i64>,
}

/// Makes a key; returns its id and the key, which is not kept.
pub async fn create_key(db: &Db, label: &str, created_by: Option<i64>) -> Result<(i64, String)> {
    let label = parse_name(label, "name")?;
    let key = secrets::new_token();
    let id: i64 = on_write!(db, p => sqlx::query_scalar(
        "INSERT INTO api_keys (name, key_hash, prefix, created_by, created_at) VALUES ($1, $2, $3, $4, $5) RETURNING id")
        .bind(&label).bind(secrets::hash_token(&key)).bind(&key[..8]).bind(created_by).bind(now()).fetch_one(p).await)?;
    Ok((id, key))
}

pub async fn keys(db: &Db) -> Result<Vec<ApiKey>> {
    Ok(on_db!(db, p => sqlx::query_as::<_, ApiKey>(
        "SELECT id, name, prefix, created_at, revoked_at, last_used_at FROM api_keys ORDER BY id").fetch_all(p).await)?)
}

pub async fn revoke_key(db: &Db, id: i64) -> Result<()> {
    let n = on_write!(db, p => sqlx::query("UPDATE api_keys SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL")
        .bind(now()).bind(id).execute(p).await.map(|r| r.rows_affected()))?;
    if n == 0 { Err(StoreError::NotFound) } else { Ok(()) }
}

/// The id of a valid (not revoked) key.
pub async fn check_key(db: &Db, key: &str) -> Result<Option<i64>> {
    let id: Option<i64> = on_db!(db, p => sqlx::query_scalar(
        "SELECT id FROM api_keys WHERE key_hash = $1 AND revoked_at IS NULL").bind(secrets::hash_token(key.trim())).fetch_optional(p).await)?;
    if let Some(id) = id {
        on_write!(db, p => sqlx::query("UPDATE api_keys SET last_used_at = $1 WHERE id = $2").bind(now()).bind(id)
            .execute(p).await.map(|r| r.rows_affected()))?;
    }
    Ok(id)
}
