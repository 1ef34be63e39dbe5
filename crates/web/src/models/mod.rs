//! Creative models (mô hình sáng tạo): the catalogue (`/app/models`, filterable by unit,
//! kind, status, year and name, and as CSV), a page per model, recording and editing in the
//! model's unit, moving it proposed → running → evaluated (or stopped), and "copy this model"
//! into one's own unit; the same under `/api/v1/models`.
//!
//! Models are no one's personal data: every signed-in account reads the whole catalogue, so
//! that one commune finds another's model; recording, editing and moving a model take
//! [`Action::ManageProgrammes`] on its unit.

pub mod api;
mod pages;

use axum::routing::{get, post};
use ngoso_core::Invalid;
use ngoso_core::auth::Action;
use ngoso_core::programme::{ModelFields, ModelForm, ModelStatus};
use ngoso_store::programme::{self, Model, ModelFilter, NewModel, evaluations};
use ngoso_store::users::Principal;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::auth::{audit, can, ensure};
use crate::http::error::AppError;

/// The pages and API of creative models.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .route("/app/models", get(pages::index).post(pages::create))
        .route("/app/models/export.csv", get(pages::export))
        .route("/app/models/new", get(pages::new_form))
        .route("/app/models/{id}", get(pages::show).post(pages::update))
        .route("/app/models/{id}/edit", get(pages::edit_form))
        .route("/app/models/{id}/status", post(pages::status))
        .route("/app/models/{id}/copy", post(pages::copy))
        .route("/app/models/{id}/photos/{photo}", get(pages::photo))
        .route("/app/models/{id}/photos/{photo}/delete", post(pages::delete_photo))
        .routes(routes!(api::list, api::create))
        .routes(routes!(api::get_one, api::update))
        .routes(routes!(api::move_status))
        .routes(routes!(api::copy))
        .routes(routes!(api::photo, api::delete_photo))
        .routes(routes!(api::kinds))
        .routes(routes!(api::evaluate, api::evaluations))
        .routes(routes!(api::criteria_sets))
        .routes(routes!(api::ranking))
        .routes(routes!(api::give_award, api::awards))
        .route("/app/models/ranking", get(pages::ranking))
        .route("/app/models/{id}/evaluations", post(pages::evaluate))
        .route("/app/models/{id}/awards", post(pages::give_award))
        .route("/app/awards", post(pages::give_award_to))
        .route("/app/awards/{id}/certificate", get(pages::certificate))
}

/// A link as sent.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct LinkInput {
    pub url: String,
    #[serde(default)]
    pub title: String,
}

/// A model as sent or typed.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct ModelInput {
    /// On creation: the unit's code.
    #[serde(default)]
    pub unit: String,
    /// On creation: proposed (default), running, evaluated or stopped (a model recorded
    /// after the fact).
    #[serde(default)]
    pub status: String,
    /// The kind's code (`GET /api/v1/modelKinds`).
    #[serde(default)]
    pub kind: String,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub description: String,
    /// `YYYY-MM-DD` or `DD/MM/YYYY`.
    #[serde(default)]
    pub started_on: String,
    /// Partners named, one a line.
    #[serde(default)]
    pub partners: String,
    /// A measure's code → its value (a whole number of 0 or more; empty: none).
    #[serde(default)]
    pub outcomes: std::collections::BTreeMap<String, String>,
    #[serde(default)]
    pub links: Vec<LinkInput>,
    /// The team members who run it, by id (of teams of its unit or below); left out, they
    /// stay as they are.
    #[serde(default)]
    pub members: Option<Vec<i64>>,
}

impl ModelInput {
    fn fields(&self) -> Result<ModelFields, Invalid> {
        ModelFields::parse(&ModelForm {
            name: &self.name,
            description: &self.description,
            started_on: &self.started_on,
            partners: &self.partners,
            outcomes: self.outcomes.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect(),
            links: self.links.iter().map(|l| (l.url.as_str(), l.title.as_str())).collect(),
        })
    }
}

/// The catalogue's filters, as a page's query or the API's.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CatalogueQuery {
    /// A unit's code: its subtree's models.
    #[serde(default)]
    pub unit: String,
    /// A kind's code.
    #[serde(default)]
    pub kind: String,
    /// proposed, running, evaluated or stopped.
    #[serde(default)]
    pub status: String,
    /// Started (or, with no start day, recorded) in this year.
    #[serde(default)]
    pub year: String,
    /// Words of the name.
    #[serde(default)]
    pub q: String,
    /// From 1.
    #[serde(default)]
    pub page: Option<u32>,
}

/// Models on a page of the catalogue.
pub const PAGE: i64 = 50;

impl CatalogueQuery {
    /// The filter, checked: a unit by its code, a status, a year.
    pub async fn filter(&self, st: &AppState) -> Result<ModelFilter, AppError> {
        let within = match self.unit.trim() {
            "" => None,
            code => Some(
                ngoso_store::units::by_code(&st.db, code)
                    .await
                    .map_err(|_| {
                        Invalid::field("unit-unknown", "unit").with_detail(code.chars().take(40).collect::<String>())
                    })?
                    .unit_path(),
            ),
        };
        let status = match self.status.trim() {
            "" => None,
            s => Some(ModelStatus::parse(s)?),
        };
        let year = match self.year.trim() {
            "" => None,
            y => Some(y.parse::<i32>().ok().filter(|y| (1990..=2100).contains(y)).ok_or_else(|| {
                Invalid::field("year-invalid", "year").with_detail(y.chars().take(10).collect::<String>())
            })?),
        };
        let kind = Some(self.kind.trim().to_owned()).filter(|k| !k.is_empty());
        let search = Some(self.q.trim().to_owned()).filter(|q| !q.is_empty());
        Ok(ModelFilter { within, kind, status, year, search })
    }

    pub fn offset(&self) -> i64 {
        (i64::from(self.page.unwrap_or(1).max(1)) - 1) * PAGE
    }
}

/// A model the principal may manage (404 when there is none, 403 when it is not theirs:
/// every account sees every model).
pub(crate) async fn managed(st: &AppState, p: &Principal, id: i64) -> Result<Model, AppError> {
    let m = programme::get(&st.db, id).await?;
    if !can(p, Action::ManageProgrammes, &m.path()) {
        return Err(AppError::forbidden());
    }
    Ok(m)
}

/// The members of a model's teams with their names, when the principal may see them
/// (logged); `only_named`: those the model names, else every active member (and those named).
pub async fn members(
    st: &AppState,
    p: &Principal,
    m: &Model,
    only_named: bool,
) -> Result<Option<Vec<programme::ModelMember>>, AppError> {
    let path = m.path();
    match ngoso_core::auth::area::<ngoso_core::auth::may::ViewPersonalData>(&p.actor(), Some(&path)) {
        Ok(g) => Ok(Some(programme::members_of_area(&st.db, &g, Some(m.id), only_named).await?)),
        Err(_) => Ok(None),
    }
}

/// Adds a photo to a model: JPEG or PNG, checked and stripped of its metadata (as feedback
/// photos are), with a caption.
pub async fn add_photo(st: &AppState, p: &Principal, id: i64, bytes: &[u8], caption: &str) -> Result<i64, AppError> {
    managed(st, p, id).await?;
    let photo = ngoso_core::photo::clean(bytes, st.cfg.feedback_photo_max_bytes)?;
    let caption = ngoso_core::text::parse_line(caption, "caption", 200)?.unwrap_or_default();
    let pid = programme::add_photo(&st.db, id, &caption, &photo).await?;
    audit::log(&st.db, p, "model.photo.add", "model", id, &pid.to_string()).await;
    Ok(pid)
}

/// A model's photo, for any signed-in account (the read is logged).
pub async fn photo(st: &AppState, p: &Principal, id: i64, photo: i64) -> Result<axum::response::Response, AppError> {
    let g = ngoso_core::auth::area::<ngoso_core::auth::may::ViewUnit>(&p.actor(), None)?;
    let (mime, bytes) = programme::photo(&st.db, &g, id, photo).await?;
    Ok(crate::http::render::photo_response(mime, bytes))
}

/// Removes a model's photo.
pub async fn delete_photo(st: &AppState, p: &Principal, id: i64, photo: i64) -> Result<(), AppError> {
    managed(st, p, id).await?;
    programme::delete_photo(&st.db, id, photo).await?;
    audit::log(&st.db, p, "model.photo.delete", "model", id, &photo.to_string()).await;
    Ok(())
}

/// The forms and requests that carry a photo (the application gives them a larger body limit).
pub fn uploads() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().route("/app/models/{id}/photos", post(pages::add_photo)).routes(routes!(api::add_photo))
}

/// An evaluation as sent or typed.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct EvaluationInput {
    /// The criteria set's code (default: `creative_model`).
    #[serde(default)]
    pub set: String,
    /// `YYYY-MM-DD` or `DD/MM/YYYY` (default: today).
    #[serde(default)]
    pub evaluated_on: String,
    #[serde(default)]
    pub comment: String,
    /// A criterion's code → its score (a whole number from 0 to its maximum); every
    /// criterion of the set is scored.
    #[serde(default)]
    pub scores: std::collections::BTreeMap<String, String>,
}

fn day_or_today(s: &str, field: &'static str) -> Result<chrono::NaiveDate, Invalid> {
    match s.trim() {
        "" => Ok(ngoso_core::calendar::local_day(ngoso_store::now())),
        d => ngoso_core::calendar::parse_day(d, field),
    }
}

/// Records an evaluation of a running or evaluated model (a running one becomes evaluated),
/// by those who run its unit's programmes; the reviewer is the caller.
pub async fn evaluate(st: &AppState, p: &Principal, id: i64, e: &EvaluationInput) -> Result<i64, AppError> {
    managed(st, p, id).await?;
    let comment = if e.comment.trim().is_empty() {
        String::new()
    } else {
        ngoso_core::text::parse_text(&e.comment, "comment", 2000)?
    };
    let n = evaluations::NewEvaluation {
        model_id: id,
        set: if e.set.trim().is_empty() { "creative_model".into() } else { e.set.clone() },
        reviewer_id: Some(p.id),
        reviewer: p.display_name.clone(),
        evaluated_on: day_or_today(&e.evaluated_on, "evaluated_on")?,
        comment,
        scores: e.scores.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
    };
    let eid = evaluations::evaluate(&st.db, &n).await?;
    audit::log(&st.db, p, "model.evaluate", "model", id, &eid.to_string()).await;
    Ok(eid)
}

/// An award as sent or typed: to exactly one of a model, a team or a team member.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct AwardInput {
    #[serde(default)]
    pub title: String,
    /// commune, district, province or national.
    #[serde(default)]
    pub level: String,
    /// `YYYY-MM-DD` or `DD/MM/YYYY` (default: today).
    #[serde(default)]
    pub awarded_on: String,
    #[serde(default)]
    pub model_id: Option<i64>,
    #[serde(default)]
    pub team_id: Option<i64>,
    #[serde(default)]
    pub member_id: Option<i64>,
}

/// Gives an award, by those who run the programmes of the recipient's unit.
pub async fn give_award(st: &AppState, p: &Principal, a: &AwardInput) -> Result<i64, AppError> {
    use evaluations::Recipient;
    let to = match (a.model_id, a.team_id, a.member_id) {
        (Some(m), None, None) => Recipient::Model(m),
        (None, Some(t), None) => Recipient::Team(t),
        (None, None, Some(m)) => Recipient::Member(m),
        _ => return Err(Invalid::field("award-recipient-required", "model_id").into()),
    };
    let (_, path) = evaluations::recipient_unit(&st.db, to).await?;
    if !can(p, Action::ManageProgrammes, &path) {
        return Err(AppError::forbidden());
    }
    let n = evaluations::NewAward {
        title: ngoso_core::text::parse_line(&a.title, "title", 200)?.ok_or(Invalid::field("required", "title"))?,
        level: ngoso_core::programme::AwardLevel::parse(&a.level)?,
        awarded_on: day_or_today(&a.awarded_on, "awarded_on")?,
        to,
        created_by: Some(p.id),
    };
    let id = evaluations::give(&st.db, &n).await?;
    audit::log(&st.db, p, "award.give", "award", id, &n.title).await;
    Ok(id)
}

/// What a team's or a member's page shows of awards: those given to it, and the form to
/// give one when the principal runs the programmes of its unit.
pub struct AwardsPart {
    /// (id, title, level's name, day).
    pub awards: Vec<(i64, String, String, String)>,
    pub can_award: bool,
    /// The form's hidden field: (`team_id` or `member_id`, the id).
    pub award_to: (&'static str, i64),
    /// (code, name) of the levels.
    pub levels: Vec<(String, String)>,
}

/// The awards given to a team or a member, and whether the principal may give one.
pub async fn awards_part(
    st: &AppState,
    p: &Principal,
    tr: &crate::http::i18n::Tr,
    to: evaluations::Recipient,
) -> Result<AwardsPart, AppError> {
    use crate::http::i18n::format_date;
    let (_, path) = evaluations::recipient_unit(&st.db, to).await?;
    let awards = evaluations::awards(&st.db, &path, None, None)
        .await?
        .into_iter()
        .filter(|a| match to {
            evaluations::Recipient::Team(t) => a.team_id == Some(t),
            evaluations::Recipient::Member(m) => a.member_id == Some(m),
            evaluations::Recipient::Model(m) => a.model_id == Some(m),
        })
        .map(|a| (a.id, a.title, tr.t(&format!("award-level-{}", a.level)), format_date(&a.awarded_on)))
        .collect();
    let award_to = match to {
        evaluations::Recipient::Team(t) => ("team_id", t),
        evaluations::Recipient::Member(m) => ("member_id", m),
        evaluations::Recipient::Model(m) => ("model_id", m),
    };
    let levels = ngoso_core::programme::AwardLevel::ALL
        .iter()
        .map(|l| (l.as_str().to_owned(), tr.t(&format!("award-level-{}", l.as_str()))))
        .collect();
    Ok(AwardsPart { awards, can_award: can(p, Action::ManageProgrammes, &path), award_to, levels })
}

/// An award for its certificate: a member's name to those who may see people there.
pub async fn award(st: &AppState, p: &Principal, id: i64) -> Result<evaluations::Award, AppError> {
    let a = evaluations::award(&st.db, id, None).await?;
    if a.member_id.is_none() {
        return Ok(a);
    }
    let path = ngoso_core::unit::UnitPath::from_stored(a.unit_path.clone());
    match ngoso_core::auth::area::<ngoso_core::auth::may::ViewPersonalData>(&p.actor(), Some(&path)) {
        Ok(g) => Ok(evaluations::award(&st.db, id, Some(&g)).await?),
        Err(_) => Ok(a),
    }
}

/// The ranking's query.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RankingQuery {
    /// A unit's code (default: the whole tree).
    #[serde(default)]
    pub unit: String,
    /// The year (default: this one).
    #[serde(default)]
    pub year: String,
    /// `json` (default) or `csv`.
    #[serde(default)]
    pub format: String,
}

impl RankingQuery {
    pub async fn parts(&self, st: &AppState) -> Result<(ngoso_core::unit::UnitPath, i32), AppError> {
        let q = CatalogueQuery { unit: self.unit.clone(), year: self.year.clone(), ..Default::default() };
        let f = q.filter(st).await?;
        let year = f.year.unwrap_or_else(|| chrono::Datelike::year(&ngoso_store::teams::today()));
        Ok((f.within.unwrap_or_else(|| ngoso_core::unit::UnitPath::from_stored("/".into())), year))
    }
}

/// Records a model in the unit with `unit_code`, proposed (or as `status` says: a model
/// recorded after the fact may already run).
pub async fn create(
    st: &AppState,
    p: &Principal,
    unit_code: &str,
    status: &str,
    m: &ModelInput,
) -> Result<i64, AppError> {
    let unit = crate::units::for_action(&st.db, p, unit_code, "unit", Action::ManageProgrammes).await?;
    let status = match status.trim() {
        "" => ModelStatus::Proposed,
        s => ModelStatus::parse(s)?,
    };
    let n = NewModel {
        unit_id: unit.id,
        kind: m.kind.clone(),
        status,
        fields: m.fields()?,
        copied_from: None,
        created_by: Some(p.id),
        members: m.members.clone().unwrap_or_default(),
    };
    let id = programme::create(&st.db, &n).await?;
    audit::log(&st.db, p, "model.create", "model", id, &n.fields.name).await;
    Ok(id)
}

/// Changes a model's kind and fields.
pub async fn update(st: &AppState, p: &Principal, id: i64, m: &ModelInput) -> Result<(), AppError> {
    managed(st, p, id).await?;
    let f = m.fields()?;
    programme::update(&st.db, id, &m.kind, &f, m.members.as_deref()).await?;
    audit::log(&st.db, p, "model.update", "model", id, &f.name).await;
    Ok(())
}

/// Moves a model to another status.
pub async fn move_status(st: &AppState, p: &Principal, id: i64, to: &str) -> Result<(), AppError> {
    managed(st, p, id).await?;
    let to = ModelStatus::parse(to)?;
    programme::set_status(&st.db, id, to).await?;
    audit::log(&st.db, p, "model.status", "model", id, to.as_str()).await;
    Ok(())
}

/// Starts a proposed copy of a model in a unit the principal manages (their own unit when
/// none is named).
pub async fn copy(st: &AppState, p: &Principal, id: i64, unit_code: &str) -> Result<i64, AppError> {
    let from = programme::get(&st.db, id).await?;
    let unit = match unit_code.trim() {
        "" => match p.unit_id {
            Some(u) => ngoso_store::units::get(&st.db, u).await?,
            None => return Err(Invalid::field("required", "unit").into()),
        },
        code => crate::units::for_action(&st.db, p, code, "unit", Action::ManageProgrammes).await?,
    };
    ensure(p, Action::ManageProgrammes, &unit.unit_path())?;
    let new = programme::copy(&st.db, from.id, unit.id, Some(p.id)).await?;
    audit::log(&st.db, p, "model.copy", "model", new, &format!("from {}", from.id)).await;
    Ok(new)
}

/// The catalogue as CSV (UTF-8 with a byte-order mark, for Excel), every model the filter
/// finds (at most 50,000).
pub async fn csv(st: &AppState, q: &CatalogueQuery, english: bool) -> Result<axum::response::Response, AppError> {
    let filter = q.filter(st).await?;
    let rows = programme::list(&st.db, &filter, 50_000, 0).await?;
    let measures = programme::measures(&st.db).await?;
    let mut header: Vec<String> =
        ["id", "unit_code", "unit", "kind", "name", "status", "started_on", "partners", "copied_from"]
            .map(String::from)
            .into();
    header.extend(measures.iter().map(|m| m.code.clone()));
    let ids: Vec<i64> = rows.iter().map(|m| m.id).collect();
    let mut figures = programme::outcomes_of(&st.db, &ids).await?;
    let mut out = Vec::with_capacity(rows.len());
    for m in rows {
        let outcomes = figures.remove(&m.id).unwrap_or_default();
        let mut row = vec![
            m.id.to_string(),
            m.unit_code.clone(),
            m.unit_name.clone(),
            if english { m.kind_name_en.clone() } else { m.kind_name_vi.clone() },
            m.name.clone(),
            m.status.clone(),
            m.started_on.map(|d| d.to_string()).unwrap_or_default(),
            m.partners.replace('\n', "; "),
            m.copied_from.map(|c| c.to_string()).unwrap_or_default(),
        ];
        row.extend(
            measures.iter().map(|x| {
                outcomes.iter().find(|o| o.measure == x.code).map(|o| o.value.to_string()).unwrap_or_default()
            }),
        );
        out.push(row);
    }
    Ok(crate::http::csvfile::download("models.csv", &header, &out))
}
