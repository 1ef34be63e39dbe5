//! Programme management: the creative models (mô hình sáng tạo) of the units, with their
//! kinds and measures (data), figures and links; a model copied from another unit's names
//! it. Models hold no one's personal data: partners are organisations.

use chrono::NaiveDate;
use ngoso_core::Invalid;
use ngoso_core::auth::{Area, Granted, may};
use ngoso_core::photo::Photo;
use ngoso_core::programme::{ModelFields, ModelStatus};
use ngoso_core::text::fold;
use ngoso_core::unit::UnitPath;
use serde::Serialize;
use sqlx::QueryBuilder;

use crate::{Db, Result, StoreError, Tx, now, on_db, on_tx, on_write};

pub mod evaluations;
pub mod events;
pub mod places;

/// A kind of model (digital street, digitised heritage, contest…): data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ModelKind {
    pub id: i64,
    pub code: String,
    pub name_vi: String,
    pub name_en: String,
    pub active: bool,
}

/// A figure a model reports (people served, QR plaques placed…): data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Measure {
    pub id: i64,
    pub code: String,
    pub name_vi: String,
    pub name_en: String,
}

/// The kinds, in their order.
pub async fn kinds(db: &Db) -> Result<Vec<ModelKind>> {
    Ok(on_db!(db, p => sqlx::query_as::<_, ModelKind>(
        "SELECT id, code, name_vi, name_en, active FROM model_kinds ORDER BY position, id").fetch_all(p).await)?)
}

/// The measures, in their order.
pub async fn measures(db: &Db) -> Result<Vec<Measure>> {
    Ok(on_db!(db, p => sqlx::query_as::<_, Measure>(
        "SELECT id, code, name_vi, name_en FROM model_measures ORDER BY position, id").fetch_all(p).await)?)
}

/// A model to record.
#[derive(Debug, Clone)]
pub struct NewModel {
    pub unit_id: i64,
    /// The kind's code.
    pub kind: String,
    pub status: ModelStatus,
    pub fields: ModelFields,
    pub copied_from: Option<i64>,
    pub created_by: Option<i64>,
    /// The team members who run it (of teams of its unit or below).
    pub members: Vec<i64>,
}

/// A model's figure.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Outcome {
    #[serde(skip)]
    pub model_id: i64,
    /// The measure's code.
    pub measure: String,
    pub name_vi: String,
    pub name_en: String,
    pub value: i64,
}

/// A model's link.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Link {
    #[serde(skip)]
    pub model_id: i64,
    pub url: String,
    pub title: String,
}

/// A model, whole.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Model {
    pub id: i64,
    pub unit_id: i64,
    pub unit_code: String,
    pub unit_name: String,
    #[serde(skip)]
    pub unit_path: String,
    /// The kind's code.
    pub kind: String,
    pub kind_name_vi: String,
    pub kind_name_en: String,
    pub name: String,
    pub description: String,
    pub started_on: Option<NaiveDate>,
    /// proposed, running, evaluated or stopped.
    pub status: String,
    /// Partners named, one a line.
    pub partners: String,
    /// The model this one was copied from.
    pub copied_from: Option<i64>,
    pub copied_from_name: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
    #[sqlx(skip)]
    pub outcomes: Vec<Outcome>,
    #[sqlx(skip)]
    pub links: Vec<Link>,
    #[sqlx(skip)]
    pub photos: Vec<PhotoInfo>,
    /// The team members who run it, by id (their names only to those who may see them).
    #[sqlx(skip)]
    pub member_ids: Vec<i64>,
}

/// A photo of a model, without its bytes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PhotoInfo {
    pub id: i64,
    pub caption: String,
    pub width: i32,
    pub height: i32,
}

/// Most photos a model keeps.
pub const MAX_PHOTOS: i64 = 12;

/// Adds a photo (already checked and stripped) to a model; refused past [`MAX_PHOTOS`].
pub async fn add_photo(db: &Db, model_id: i64, caption: &str, photo: &Photo) -> Result<i64> {
    let mut tx = db.begin().await?;
    let sql = crate::db::dialect::locking_read!(&tx, "SELECT id FROM models WHERE id = $1");
    let found: Option<i64> = on_tx!(&mut tx, c => sqlx::query_scalar(sql).bind(model_id).fetch_optional(c).await)?;
    found.ok_or(StoreError::NotFound)?;
    let n: i64 = on_tx!(&mut tx, c => sqlx::query_scalar("SELECT COUNT(*) FROM model_photos WHERE model_id = $1")
        .bind(model_id).fetch_one(c).await)?;
    if n >= MAX_PHOTOS {
        return Err(Invalid::field("too-many-items", "photo").with_detail(MAX_PHOTOS.to_string()).into());
    }
    let id: i64 = on_tx!(&mut tx, c => sqlx::query_scalar(
        "INSERT INTO model_photos (model_id, caption, mime, width, height, bytes, added_at) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id")
        .bind(model_id).bind(caption).bind(photo.mime).bind(photo.width as i64).bind(photo.height as i64).bind(&photo.bytes).bind(now())
        .fetch_one(c).await)?;
    on_tx!(&mut tx, c => sqlx::query("UPDATE models SET updated_at = $1 WHERE id = $2").bind(now()).bind(model_id)
        .execute(c).await.map(|r| r.rows_affected()))?;
    tx.commit().await?;
    Ok(id)
}

/// A model's photo: its type and bytes. A photo may show people: read with core's proof that
/// the caller is a signed-in account (every account sees every model), and logged as
/// `model.photo.read`.
pub async fn photo(
    db: &Db,
    access: &Granted<may::ViewUnit, Area>,
    model_id: i64,
    photo_id: i64,
) -> Result<(String, Vec<u8>)> {
    let found: (String, Vec<u8>) =
        on_db!(db, p => sqlx::query_as("SELECT mime, bytes FROM model_photos WHERE id = $1 AND model_id = $2")
            .bind(photo_id).bind(model_id).fetch_optional(p).await)?
        .ok_or(StoreError::NotFound)?;
    crate::audit::read(db, access.user_id(), "model.photo.read", "model", model_id, &photo_id.to_string()).await?;
    Ok(found)
}

/// Removes a model's photo.
pub async fn delete_photo(db: &Db, model_id: i64, photo_id: i64) -> Result<()> {
    let n = on_write!(db, p => sqlx::query("DELETE FROM model_photos WHERE id = $1 AND model_id = $2")
        .bind(photo_id).bind(model_id).execute(p).await.map(|r| r.rows_affected()))?;
    if n == 0 { Err(StoreError::NotFound) } else { Ok(()) }
}

/// Names the team members who run a model, in place of those named before: each an active
/// or past member of a team of the model's unit or below it (else refused, named).
async fn write_members(tx: &mut Tx, model_id: i64, member_ids: &[i64]) -> Result<()> {
    let path: Option<String> = on_tx!(tx, c => sqlx::query_scalar(
        "SELECT u.path FROM models m JOIN units u ON u.id = m.unit_id WHERE m.id = $1").bind(model_id).fetch_optional(c).await)?;
    let path = UnitPath::from_stored(path.ok_or(StoreError::NotFound)?);
    on_tx!(tx, c => sqlx::query("DELETE FROM model_members WHERE model_id = $1").bind(model_id)
        .execute(c).await.map(|r| r.rows_affected()))?;
    let mut seen = std::collections::HashSet::new();
    for &m in member_ids {
        if !seen.insert(m) {
            continue;
        }
        member_within(tx, m, &path, "members").await?;
        on_tx!(tx, c => sqlx::query("INSERT INTO model_members (model_id, member_id) VALUES ($1, $2)")
            .bind(model_id).bind(m).execute(c).await.map(|r| r.rows_affected()))?;
    }
    Ok(())
}

/// Checks that a team member is of a team of the unit at `path` or below it; refused,
/// named, otherwise.
pub(crate) async fn member_within(tx: &mut Tx, member: i64, path: &UnitPath, field: &'static str) -> Result<()> {
    let ok: Option<i64> = on_tx!(tx, c => sqlx::query_scalar(
        "SELECT tm.id FROM team_members tm JOIN teams t ON t.id = tm.team_id JOIN units u ON u.id = t.unit_id \
         WHERE tm.id = $1 AND u.path >= $2 AND u.path < $3")
        .bind(member).bind(path.as_str()).bind(path.upper_bound()).fetch_optional(c).await)?;
    if ok.is_none() {
        return Err(Invalid::field("model-member-unknown", field).with_detail(member.to_string()).into());
    }
    Ok(())
}

/// A team member as a model's form offers them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ModelMember {
    pub id: i64,
    pub full_name: String,
    pub team_name: String,
}

/// The members of the teams of an area (active ones, and those named by `model_id`), with
/// their names: personal data, so only with core's proof; logged as `model.members.read`.
pub async fn members_of_area(
    db: &Db,
    access: &Granted<may::ViewPersonalData, Area>,
    model_id: Option<i64>,
    only_named: bool,
) -> Result<Vec<ModelMember>> {
    let root = UnitPath::from_stored("/".into());
    let within = access.on().0.as_ref().unwrap_or(&root);
    let today = crate::teams::today();
    let rows: Vec<ModelMember> = on_db!(db, p => {
        let mut qb = QueryBuilder::new(
            "SELECT tm.id, tm.full_name, t.name AS team_name FROM team_members tm JOIN teams t ON t.id = tm.team_id \
             JOIN units u ON u.id = t.unit_id WHERE u.path >= ");
        qb.push_bind(within.as_str().to_owned()).push(" AND u.path < ").push_bind(within.upper_bound());
        let named = "tm.id IN (SELECT member_id FROM model_members WHERE model_id = ";
        if only_named {
            qb.push(" AND ").push(named).push_bind(model_id.unwrap_or(0)).push(")");
        } else {
            qb.push(" AND ((tm.joined_on <= ").push_bind(today).push(" AND (tm.left_on IS NULL OR tm.left_on > ").push_bind(today);
            qb.push(")) OR ").push(named).push_bind(model_id.unwrap_or(0)).push("))");
        }
        qb.push(" ORDER BY t.name_sort, tm.full_name, tm.id");
        qb.build_query_as::<ModelMember>().fetch_all(p).await
    })?;
    let object = model_id.unwrap_or(0);
    crate::audit::read(db, access.user_id(), "model.members.read", "model", object, &format!("{} rows", rows.len()))
        .await?;
    Ok(rows)
}

impl Model {
    pub fn path(&self) -> UnitPath {
        UnitPath::from_stored(self.unit_path.clone())
    }
    pub fn status(&self) -> ModelStatus {
        ModelStatus::parse(&self.status).unwrap_or(ModelStatus::Proposed)
    }
}

const MODEL_SELECT: &str = "SELECT m.id, m.unit_id, u.code AS unit_code, u.name AS unit_name, u.path AS unit_path, \
     k.code AS kind, k.name_vi AS kind_name_vi, k.name_en AS kind_name_en, m.name, m.description, m.started_on, m.status, \
     m.partners, m.copied_from, c.name AS copied_from_name, m.created_at, m.updated_at \
     FROM models m JOIN units u ON u.id = m.unit_id JOIN model_kinds k ON k.id = m.kind_id \
     LEFT JOIN models c ON c.id = m.copied_from";

async fn kind_id(tx: &mut Tx, code: &str) -> Result<i64> {
    let id: Option<i64> = on_tx!(tx, c => sqlx::query_scalar("SELECT id FROM model_kinds WHERE code = $1 AND active")
        .bind(code.trim()).fetch_optional(c).await)?;
    id.ok_or_else(|| {
        Invalid::field("model-kind-unknown", "kind")
            .with_detail(code.trim().chars().take(40).collect::<String>())
            .into()
    })
}

/// Writes a model's figures and links in place of those it had.
async fn write_parts(tx: &mut Tx, id: i64, f: &ModelFields) -> Result<()> {
    on_tx!(tx, c => sqlx::query("DELETE FROM model_outcomes WHERE model_id = $1").bind(id).execute(c).await.map(|r| r.rows_affected()))?;
    on_tx!(tx, c => sqlx::query("DELETE FROM model_links WHERE model_id = $1").bind(id).execute(c).await.map(|r| r.rows_affected()))?;
    for (code, value) in &f.outcomes {
        let measure: Option<i64> = on_tx!(tx, c => sqlx::query_scalar("SELECT id FROM model_measures WHERE code = $1")
            .bind(code).fetch_optional(c).await)?;
        let measure = measure.ok_or_else(|| Invalid::field("model-measure-unknown", "outcomes").with_detail(code))?;
        on_tx!(tx, c => sqlx::query("INSERT INTO model_outcomes (model_id, measure_id, value) VALUES ($1, $2, $3)")
            .bind(id).bind(measure).bind(value).execute(c).await.map(|r| r.rows_affected()))?;
    }
    for (i, (url, title)) in f.links.iter().enumerate() {
        on_tx!(tx, c => sqlx::query("INSERT INTO model_links (model_id, position, url, title) VALUES ($1, $2, $3, $4)")
            .bind(id).bind(i as i32).bind(url).bind(title).execute(c).await.map(|r| r.rows_affected()))?;
    }
    Ok(())
}

/// Records a model, its figures and links, all or none.
pub async fn create(db: &Db, n: &NewModel) -> Result<i64> {
    let mut tx = db.begin().await?;
    let kind = kind_id(&mut tx, &n.kind).await?;
    let f = &n.fields;
    let t = now();
    let id: i64 = on_tx!(&mut tx, c => sqlx::query_scalar(
        "INSERT INTO models (unit_id, kind_id, name, name_key, description, started_on, status, partners, copied_from, created_by, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11) RETURNING id")
        .bind(n.unit_id).bind(kind).bind(&f.name).bind(fold(&f.name)).bind(&f.description).bind(f.started_on)
        .bind(n.status.as_str()).bind(f.partners.join("\n")).bind(n.copied_from).bind(n.created_by).bind(t)
        .fetch_one(c).await)?;
    write_parts(&mut tx, id, f).await?;
    write_members(&mut tx, id, &n.members).await?;
    tx.commit().await?;
    Ok(id)
}

/// Changes a model's kind and fields (its unit and status stay), and the members who run
/// it when `members` names them.
pub async fn update(db: &Db, id: i64, kind: &str, f: &ModelFields, members: Option<&[i64]>) -> Result<()> {
    let mut tx = db.begin().await?;
    let kind = kind_id(&mut tx, kind).await?;
    let n = on_tx!(&mut tx, c => sqlx::query(
        "UPDATE models SET kind_id = $1, name = $2, name_key = $3, description = $4, started_on = $5, partners = $6, updated_at = $7 WHERE id = $8")
        .bind(kind).bind(&f.name).bind(fold(&f.name)).bind(&f.description).bind(f.started_on).bind(f.partners.join("\n"))
        .bind(now()).bind(id).execute(c).await.map(|r| r.rows_affected()))?;
    if n == 0 {
        return Err(StoreError::NotFound);
    }
    write_parts(&mut tx, id, f).await?;
    if let Some(m) = members {
        write_members(&mut tx, id, m).await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Moves a model to `to`, when its current status allows it (checked in the transaction).
pub async fn set_status(db: &Db, id: i64, to: ModelStatus) -> Result<()> {
    let mut tx = db.begin().await?;
    let sql = crate::db::dialect::locking_read!(&tx, "SELECT status FROM models WHERE id = $1");
    let current: Option<String> = on_tx!(&mut tx, c => sqlx::query_scalar(sql).bind(id).fetch_optional(c).await)?;
    let current = ModelStatus::parse(&current.ok_or(StoreError::NotFound)?)?;
    current.move_to(to)?;
    on_tx!(&mut tx, c => sqlx::query("UPDATE models SET status = $1, updated_at = $2 WHERE id = $3")
        .bind(to.as_str()).bind(now()).bind(id).execute(c).await.map(|r| r.rows_affected()))?;
    tx.commit().await?;
    Ok(())
}

/// A model with its figures and links.
pub async fn get(db: &Db, id: i64) -> Result<Model> {
    let mut m =
        on_db!(db, p => sqlx::query_as::<_, Model>(sqlx::AssertSqlSafe(format!("{MODEL_SELECT} WHERE m.id = $1")))
        .bind(id).fetch_optional(p).await)?
        .ok_or(StoreError::NotFound)?;
    m.outcomes = on_db!(db, p => sqlx::query_as::<_, Outcome>(
        "SELECT o.model_id, x.code AS measure, x.name_vi, x.name_en, o.value FROM model_outcomes o \
         JOIN model_measures x ON x.id = o.measure_id WHERE o.model_id = $1 ORDER BY x.position, x.id")
        .bind(id).fetch_all(p).await)?;
    m.links = on_db!(db, p => sqlx::query_as::<_, Link>(
        "SELECT model_id, url, title FROM model_links WHERE model_id = $1 ORDER BY position").bind(id).fetch_all(p).await)?;
    m.photos = on_db!(db, p => sqlx::query_as::<_, PhotoInfo>(
        "SELECT id, caption, width, height FROM model_photos WHERE model_id = $1 ORDER BY id").bind(id).fetch_all(p).await)?;
    m.member_ids = on_db!(db, p => sqlx::query_scalar(
        "SELECT member_id FROM model_members WHERE model_id = $1 ORDER BY member_id").bind(id).fetch_all(p).await)?;
    Ok(m)
}

/// The figures of many models, by model.
pub async fn outcomes_of(db: &Db, ids: &[i64]) -> Result<std::collections::HashMap<i64, Vec<Outcome>>> {
    let mut out: std::collections::HashMap<i64, Vec<Outcome>> = std::collections::HashMap::new();
    for chunk in crate::db::batch::padded(ids, 512) {
        let rows: Vec<Outcome> = on_db!(db, p => {
            let mut qb = QueryBuilder::new(
                "SELECT o.model_id, x.code AS measure, x.name_vi, x.name_en, o.value FROM model_outcomes o \
                 JOIN model_measures x ON x.id = o.measure_id WHERE o.model_id IN (");
            let mut sep = qb.separated(", ");
            for id in &chunk {
                sep.push_bind(*id);
            }
            qb.push(") ORDER BY o.model_id, x.position, x.id");
            qb.build_query_as::<Outcome>().fetch_all(p).await
        })?;
        for o in rows {
            let list = out.entry(o.model_id).or_default();
            if !list.iter().any(|x| x.measure == o.measure) {
                list.push(o);
            }
        }
    }
    Ok(out)
}

/// What the catalogue is filtered by.
#[derive(Debug, Clone, Default)]
pub struct ModelFilter {
    /// Models of this subtree.
    pub within: Option<UnitPath>,
    /// A kind's code.
    pub kind: Option<String>,
    pub status: Option<ModelStatus>,
    /// Started in this year (a model with no start day: recorded in it).
    pub year: Option<i32>,
    /// Words of the name, folded.
    pub search: Option<String>,
}

/// A page of the catalogue: models newest first, at most `limit` from `offset`.
pub async fn list(db: &Db, f: &ModelFilter, limit: i64, offset: i64) -> Result<Vec<Model>> {
    let rows = on_db!(db, p => {
        let mut qb = QueryBuilder::new(MODEL_SELECT);
        qb.push(" WHERE 1 = 1");
        if let Some(w) = &f.within {
            qb.push(" AND u.path >= ").push_bind(w.as_str().to_owned()).push(" AND u.path < ").push_bind(w.upper_bound());
        }
        if let Some(k) = &f.kind {
            qb.push(" AND k.code = ").push_bind(k.clone());
        }
        if let Some(s) = f.status {
            qb.push(" AND m.status = ").push_bind(s.as_str());
        }
        if let Some(y) = f.year {
            let (a, b) = (NaiveDate::from_ymd_opt(y, 1, 1), NaiveDate::from_ymd_opt(y, 12, 31));
            let start = |y: i32| NaiveDate::from_ymd_opt(y, 1, 1).map_or(0, ngoso_core::calendar::start_of_day);
            let (t0, t1) = (start(y), start(y + 1));
            qb.push(" AND ((m.started_on >= ").push_bind(a).push(" AND m.started_on <= ").push_bind(b);
            qb.push(") OR (m.started_on IS NULL AND m.created_at >= ").push_bind(t0).push(" AND m.created_at < ").push_bind(t1).push("))");
        }
        if let Some(q) = f.search.as_deref().map(fold).filter(|q| !q.is_empty()) {
            qb.push(" AND m.name_key LIKE ").push_bind(format!("%{}%", q.replace(['%', '_'], "")));
        }
        qb.push(" ORDER BY m.created_at DESC, m.id DESC LIMIT ").push_bind(limit).push(" OFFSET ").push_bind(offset);
        qb.build_query_as::<Model>().fetch_all(p).await
    })?;
    Ok(rows)
}

/// Starts a proposed model in `unit_id` from another: the same kind, name, description and
/// links; its own partners, figures and start day to come.
pub async fn copy(db: &Db, from: i64, unit_id: i64, by: Option<i64>) -> Result<i64> {
    let m = get(db, from).await?;
    let fields = ModelFields {
        name: m.name.clone(),
        description: m.description.clone(),
        started_on: None,
        partners: Vec::new(),
        outcomes: Vec::new(),
        links: m.links.iter().map(|l| (l.url.clone(), l.title.clone())).collect(),
    };
    create(
        db,
        &NewModel {
            unit_id,
            kind: m.kind,
            status: ModelStatus::Proposed,
            fields,
            copied_from: Some(from),
            created_by: by,
            members: Vec::new(),
        },
    )
    .await
}

/// The programme figures of a subtree (see `ngoso_core::indicator::PROGRAMME`): models by
/// status today; events by kind starting between `from` and `to`, the citizens they served
/// and the members' attendances; the members active on `to`, and those of them who attended
/// a training in the twelve months up to it; the places on the routes of models not stopped,
/// and their plaques' scans in the period.
pub async fn figures(
    db: &Db,
    within: &UnitPath,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<std::collections::HashMap<&'static str, i64>> {
    let (lo, hi) = (within.as_str().to_owned(), within.upper_bound());
    let mut out: std::collections::HashMap<&'static str, i64> = std::collections::HashMap::new();
    let models: Vec<(String, i64)> = on_db!(db, p => sqlx::query_as(
        "SELECT m.status, COUNT(*) FROM models m JOIN units u ON u.id = m.unit_id WHERE u.path >= $1 AND u.path < $2 GROUP BY m.status")
        .bind(&lo).bind(&hi).fetch_all(p).await)?;
    for (status, n) in models {
        let key = match status.as_str() {
            "proposed" => "models_proposed",
            "running" => "models_running",
            "evaluated" => "models_evaluated",
            _ => "models_stopped",
        };
        out.insert(key, n);
    }
    let events: Vec<(String, i64, i64)> = on_db!(db, p => sqlx::query_as(
        "SELECT e.kind, COUNT(*), CAST(COALESCE(SUM(e.citizens_served), 0) AS BIGINT) FROM events e JOIN units u ON u.id = e.unit_id \
         WHERE u.path >= $1 AND u.path < $2 AND e.starts_on >= $3 AND e.starts_on <= $4 GROUP BY e.kind")
        .bind(&lo).bind(&hi).bind(from).bind(to).fetch_all(p).await)?;
    for (kind, n, served) in events {
        let key = match kind.as_str() {
            "training" => "trainings",
            "contest" => "contests",
            "seminar" => "seminars",
            "help_counter" => "help_counters",
            _ => "campaigns",
        };
        *out.entry(key).or_default() += n;
        *out.entry("events").or_default() += n;
        *out.entry("served").or_default() += served;
    }
    let attendances: i64 = on_db!(db, p => sqlx::query_scalar(
        "SELECT COUNT(*) FROM event_attendance a JOIN events e ON e.id = a.event_id JOIN units u ON u.id = e.unit_id \
         WHERE u.path >= $1 AND u.path < $2 AND e.starts_on >= $3 AND e.starts_on <= $4")
        .bind(&lo).bind(&hi).bind(from).bind(to).fetch_one(p).await)?;
    out.insert("attendances", attendances);
    let year_before = to.checked_sub_months(chrono::Months::new(12)).unwrap_or(to);
    let (active, trained): (i64, i64) = on_db!(db, p => sqlx::query_as(
        "SELECT COUNT(*), CAST(COALESCE(SUM(CASE WHEN EXISTS (SELECT 1 FROM event_attendance a JOIN events e ON e.id = a.event_id \
           WHERE a.member_id = tm.id AND e.kind = 'training' AND e.starts_on > $4 AND e.starts_on <= $3) THEN 1 ELSE 0 END), 0) AS BIGINT) \
         FROM team_members tm JOIN teams t ON t.id = tm.team_id JOIN units u ON u.id = t.unit_id \
         WHERE u.path >= $1 AND u.path < $2 AND tm.joined_on <= $3 AND (tm.left_on IS NULL OR tm.left_on > $3)")
        .bind(&lo).bind(&hi).bind(to).bind(year_before).fetch_one(p).await)?;
    out.insert("members_active", active);
    out.insert("members_trained", trained);
    let places: i64 = on_db!(db, p => sqlx::query_scalar(
        "SELECT COUNT(*) FROM route_places rp JOIN models m ON m.id = rp.model_id JOIN units u ON u.id = m.unit_id \
         WHERE u.path >= $1 AND u.path < $2 AND m.status <> 'stopped'")
        .bind(&lo).bind(&hi).fetch_one(p).await)?;
    out.insert("places_on_routes", places);
    out.insert("qr_scans", places::scans(db, within, from, to).await?);
    Ok(out)
}
