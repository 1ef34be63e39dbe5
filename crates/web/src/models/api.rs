//! `/api/v1/models` and `/api/v1/modelKinds`.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use ngoso_store::programme::{self, Measure, Model, ModelKind};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::{CatalogueQuery, ModelInput, PAGE};
use crate::AppState;
use crate::auth::ApiUser;
use crate::http::error::{ApiErrorBody, AppError};
use crate::http::extract::{ApiJson, ApiLang, Path, Query};
use crate::http::i18n::Lang;
use crate::http::openapi::{Created, created};

/// The catalogue's format.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FormatQuery {
    /// `json` (default) or `csv` (every model the filters find, for Excel).
    #[serde(default)]
    pub format: String,
}

/// A page of the catalogue.
#[derive(Debug, Serialize, ToSchema)]
pub struct ModelPage {
    pub models: Vec<Model>,
    /// The next page, when there is one.
    pub next_page: Option<u32>,
}

/// The catalogue of creative models, newest first, 50 a page (every signed-in account reads
/// it: one commune finds another's models), or all of it as CSV.
#[utoipa::path(get, path = "/api/v1/models", tag = "programmes", params(CatalogueQuery, FormatQuery),
    responses((status = 200, content((ModelPage = "application/json"), (String = "text/csv"))),
        (status = 401, body = ApiErrorBody), (status = 422, body = ApiErrorBody)))]
pub async fn list(
    State(st): State<AppState>,
    ApiUser(_p): ApiUser,
    ApiLang(lang): ApiLang,
    Query(q): Query<CatalogueQuery>,
    Query(f): Query<FormatQuery>,
) -> Result<Response, AppError> {
    match f.format.trim() {
        "csv" => super::csv(&st, &q, lang == Lang::En).await,
        "" | "json" => {
            let filter = q.filter(&st).await?;
            let mut models = programme::list(&st.db, &filter, PAGE + 1, q.offset()).await?;
            let more = models.len() as i64 > PAGE;
            models.truncate(PAGE as usize);
            let mut figures = programme::outcomes_of(&st.db, &models.iter().map(|m| m.id).collect::<Vec<_>>()).await?;
            for m in &mut models {
                m.outcomes = figures.remove(&m.id).unwrap_or_default();
            }
            let next_page = more.then(|| q.page.unwrap_or(1).max(1) + 1);
            Ok(Json(ModelPage { models, next_page }).into_response())
        }
        other => Err(ngoso_core::Invalid::field("format-invalid", "format").with_detail(other).into()),
    }
}

/// Record a creative model in a unit (officers, team leaders and administrators there).
#[utoipa::path(post, path = "/api/v1/models", tag = "programmes", request_body = ModelInput,
    responses((status = 201, body = Created), (status = 401, body = ApiErrorBody), (status = 403, body = ApiErrorBody),
        (status = 404, body = ApiErrorBody), (status = 422, body = ApiErrorBody)))]
pub async fn create(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    ApiJson(m): ApiJson<ModelInput>,
) -> Result<Response, AppError> {
    let id = super::create(&st, &p, &m.unit, &m.status, &m).await?;
    Ok(created(id, &format!("/api/v1/models/{id}")))
}

/// A model, with its figures and links.
#[utoipa::path(get, path = "/api/v1/models/{id}", tag = "programmes", params(("id" = i64, Path)),
    responses((status = 200, body = Model), (status = 401, body = ApiErrorBody), (status = 404, body = ApiErrorBody)))]
pub async fn get_one(
    State(st): State<AppState>,
    ApiUser(_p): ApiUser,
    Path(id): Path<i64>,
) -> Result<Json<Model>, AppError> {
    Ok(Json(programme::get(&st.db, id).await?))
}

/// Change a model's kind and fields, its figures and links given whole (its unit and status
/// stay: `unit` and `status` are not read).
#[utoipa::path(put, path = "/api/v1/models/{id}", tag = "programmes", params(("id" = i64, Path)), request_body = ModelInput,
    responses((status = 204), (status = 401, body = ApiErrorBody), (status = 403, body = ApiErrorBody),
        (status = 404, body = ApiErrorBody), (status = 422, body = ApiErrorBody)))]
pub async fn update(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    Path(id): Path<i64>,
    ApiJson(m): ApiJson<ModelInput>,
) -> Result<StatusCode, AppError> {
    super::update(&st, &p, id, &m).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A move of status.
#[derive(Debug, Deserialize, ToSchema)]
pub struct StatusBody {
    /// running, evaluated or stopped (proposed → running → evaluated; any but evaluated → stopped).
    pub status: String,
}

/// Move a model to another status.
#[utoipa::path(post, path = "/api/v1/models/{id}/status", tag = "programmes", params(("id" = i64, Path)), request_body = StatusBody,
    responses((status = 204), (status = 401, body = ApiErrorBody), (status = 403, body = ApiErrorBody),
        (status = 404, body = ApiErrorBody), (status = 422, body = ApiErrorBody)))]
pub async fn move_status(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    Path(id): Path<i64>,
    ApiJson(b): ApiJson<StatusBody>,
) -> Result<StatusCode, AppError> {
    super::move_status(&st, &p, id, &b.status).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Where a copy goes.
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct CopyBody {
    /// The unit's code (default: the caller's own unit).
    #[serde(default)]
    pub unit: String,
}

/// Copy a model: a proposed model in the caller's unit with the same kind, name, description
/// and links, naming the model it was copied from.
#[utoipa::path(post, path = "/api/v1/models/{id}/copy", tag = "programmes", params(("id" = i64, Path)), request_body = CopyBody,
    responses((status = 201, body = Created), (status = 401, body = ApiErrorBody), (status = 403, body = ApiErrorBody),
        (status = 404, body = ApiErrorBody), (status = 422, body = ApiErrorBody)))]
pub async fn copy(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    Path(id): Path<i64>,
    ApiJson(b): ApiJson<CopyBody>,
) -> Result<Response, AppError> {
    let new = super::copy(&st, &p, id, &b.unit).await?;
    Ok(created(new, &format!("/api/v1/models/{new}")))
}

/// The kinds of models and the figures they report (both data).
#[derive(Debug, Serialize, ToSchema)]
pub struct ModelKinds {
    pub kinds: Vec<ModelKind>,
    pub measures: Vec<Measure>,
}

/// The kinds of creative models and the measures of their figures.
#[utoipa::path(get, path = "/api/v1/modelKinds", tag = "programmes",
    responses((status = 200, body = ModelKinds), (status = 401, body = ApiErrorBody)))]
pub async fn kinds(State(st): State<AppState>, ApiUser(_p): ApiUser) -> Result<Json<ModelKinds>, AppError> {
    Ok(Json(ModelKinds { kinds: programme::kinds(&st.db).await?, measures: programme::measures(&st.db).await? }))
}

/// A photo's caption.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CaptionQuery {
    #[serde(default)]
    pub caption: String,
}

/// Add a photo to a model: the body is the JPEG or PNG file itself; it is checked and
/// stripped of its metadata (GPS position, camera) before it is kept. At most 12 a model.
#[utoipa::path(post, path = "/api/v1/models/{id}/photos", tag = "programmes", params(("id" = i64, Path), CaptionQuery),
    request_body(content = Vec<u8>, content_type = "image/jpeg"),
    responses((status = 201, body = Created), (status = 401, body = ApiErrorBody), (status = 403, body = ApiErrorBody),
        (status = 404, body = ApiErrorBody), (status = 413, body = ApiErrorBody), (status = 422, body = ApiErrorBody)))]
pub async fn add_photo(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    Path(id): Path<i64>,
    Query(q): Query<CaptionQuery>,
    body: axum::body::Bytes,
) -> Result<Response, AppError> {
    let pid = super::add_photo(&st, &p, id, &body, &q.caption).await?;
    Ok(created(pid, &format!("/api/v1/models/{id}/photos/{pid}")))
}

/// A model's photo.
#[utoipa::path(get, path = "/api/v1/models/{id}/photos/{photo}", tag = "programmes", params(("id" = i64, Path), ("photo" = i64, Path)),
    responses((status = 200, content((Vec<u8> = "image/jpeg"), (Vec<u8> = "image/png"))), (status = 401, body = ApiErrorBody),
        (status = 404, body = ApiErrorBody)))]
pub async fn photo(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    Path((id, photo)): Path<(i64, i64)>,
) -> Result<Response, AppError> {
    super::photo(&st, &p, id, photo).await
}

/// Remove a model's photo.
#[utoipa::path(delete, path = "/api/v1/models/{id}/photos/{photo}", tag = "programmes", params(("id" = i64, Path), ("photo" = i64, Path)),
    responses((status = 204), (status = 401, body = ApiErrorBody), (status = 403, body = ApiErrorBody), (status = 404, body = ApiErrorBody)))]
pub async fn delete_photo(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    Path((id, photo)): Path<(i64, i64)>,
) -> Result<StatusCode, AppError> {
    super::delete_photo(&st, &p, id, photo).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Evaluate a model against a set of criteria, every criterion scored (a running model
/// becomes evaluated).
#[utoipa::path(post, path = "/api/v1/models/{id}/evaluations", tag = "programmes", params(("id" = i64, Path)),
    request_body = super::EvaluationInput,
    responses((status = 201, body = Created), (status = 401, body = ApiErrorBody), (status = 403, body = ApiErrorBody),
        (status = 404, body = ApiErrorBody), (status = 422, body = ApiErrorBody)))]
pub async fn evaluate(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    Path(id): Path<i64>,
    ApiJson(e): ApiJson<super::EvaluationInput>,
) -> Result<Response, AppError> {
    let eid = super::evaluate(&st, &p, id, &e).await?;
    Ok(created(eid, &format!("/api/v1/models/{id}/evaluations")))
}

/// A model's evaluations, newest first, with their scores; as CSV with `format=csv` (a line
/// an evaluation, its scores as `code=score/max`).
#[utoipa::path(get, path = "/api/v1/models/{id}/evaluations", tag = "programmes", params(("id" = i64, Path), FormatQuery),
    responses((status = 200, content((Vec<ngoso_store::programme::evaluations::Evaluation> = "application/json"), (String = "text/csv"))),
        (status = 401, body = ApiErrorBody), (status = 404, body = ApiErrorBody), (status = 422, body = ApiErrorBody)))]
pub async fn evaluations(
    State(st): State<AppState>,
    ApiUser(_p): ApiUser,
    Path(id): Path<i64>,
    Query(f): Query<FormatQuery>,
) -> Result<Response, AppError> {
    programme::get(&st.db, id).await?;
    let list = programme::evaluations::evaluations(&st.db, id).await?;
    let header =
        ["id", "model_id", "criteria_set", "reviewer", "evaluated_on", "total", "max_total", "scores", "comment"];
    as_format(&f.format, list, "evaluations.csv", &header, |(_, e)| {
        let scores: Vec<String> =
            e.scores.iter().map(|x| format!("{}={}/{}", x.criterion, x.score, x.max_score)).collect();
        vec![
            e.id.to_string(),
            e.model_id.to_string(),
            e.criteria_set.clone(),
            e.reviewer.clone(),
            e.evaluated_on.to_string(),
            e.total.to_string(),
            e.max_total.to_string(),
            scores.join("; "),
            e.comment.clone(),
        ]
    })
}

/// The sets of criteria models are evaluated against (data).
#[utoipa::path(get, path = "/api/v1/criteriaSets", tag = "programmes",
    responses((status = 200, body = Vec<ngoso_store::programme::evaluations::CriteriaSet>), (status = 401, body = ApiErrorBody)))]
pub async fn criteria_sets(
    State(st): State<AppState>,
    ApiUser(_p): ApiUser,
) -> Result<Json<Vec<ngoso_store::programme::evaluations::CriteriaSet>>, AppError> {
    Ok(Json(programme::evaluations::criteria_sets(&st.db).await?))
}

/// The models of a unit evaluated in a year, best first (the mean of the year's
/// evaluations as a share of the full score); as CSV with `format=csv`.
#[utoipa::path(get, path = "/api/v1/models/ranking", tag = "programmes", params(super::RankingQuery),
    responses((status = 200, content((Vec<ngoso_store::programme::evaluations::Ranked> = "application/json"), (String = "text/csv"))),
        (status = 401, body = ApiErrorBody), (status = 422, body = ApiErrorBody)))]
pub async fn ranking(
    State(st): State<AppState>,
    ApiUser(_p): ApiUser,
    ApiLang(lang): ApiLang,
    Query(q): Query<super::RankingQuery>,
) -> Result<Response, AppError> {
    let (within, year) = q.parts(&st).await?;
    let list = programme::evaluations::ranking(&st.db, &within, year).await?;
    let english = lang == Lang::En;
    as_format(
        &q.format,
        list,
        "ranking.csv",
        &["rank", "model_id", "name", "unit_code", "unit", "kind", "evaluations", "score"],
        |(i, r)| {
            vec![
                (i + 1).to_string(),
                r.model_id.to_string(),
                r.name.clone(),
                r.unit_code.clone(),
                r.unit_name.clone(),
                if english { r.kind_name_en.clone() } else { r.kind_name_vi.clone() },
                r.evaluations.to_string(),
                r.score.to_string(),
            ]
        },
    )
}

/// JSON, or CSV with one row a value, as `format` asks.
pub(crate) fn as_format<T: Serialize>(
    format: &str,
    list: Vec<T>,
    file: &str,
    header: &[&str],
    row: impl Fn((usize, &T)) -> Vec<String>,
) -> Result<Response, AppError> {
    match format.trim() {
        "csv" => {
            let header: Vec<String> = header.iter().map(|h| h.to_string()).collect();
            let rows: Vec<Vec<String>> = list.iter().enumerate().map(row).collect();
            Ok(crate::http::csvfile::download(file, &header, &rows))
        }
        "" | "json" => Ok(Json(list).into_response()),
        other => Err(ngoso_core::Invalid::field("format-invalid", "format").with_detail(other).into()),
    }
}

/// Give an award to a model, a team or a team member (exactly one).
#[utoipa::path(post, path = "/api/v1/awards", tag = "programmes", request_body = super::AwardInput,
    responses((status = 201, body = Created), (status = 401, body = ApiErrorBody), (status = 403, body = ApiErrorBody),
        (status = 422, body = ApiErrorBody)))]
pub async fn give_award(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    ApiJson(a): ApiJson<super::AwardInput>,
) -> Result<Response, AppError> {
    let id = super::give_award(&st, &p, &a).await?;
    Ok(created(id, &format!("/app/awards/{id}/certificate")))
}

/// The awards of a unit's subtree in a year (default: this one), newest first; members are
/// named by id; as CSV with `format=csv`.
#[utoipa::path(get, path = "/api/v1/awards", tag = "programmes", params(super::RankingQuery),
    responses((status = 200, content((Vec<ngoso_store::programme::evaluations::Award> = "application/json"), (String = "text/csv"))),
        (status = 401, body = ApiErrorBody), (status = 422, body = ApiErrorBody)))]
pub async fn awards(
    State(st): State<AppState>,
    ApiUser(_p): ApiUser,
    Query(q): Query<super::RankingQuery>,
) -> Result<Response, AppError> {
    let (within, year) = q.parts(&st).await?;
    let list = programme::evaluations::awards(&st.db, &within, Some(year), None).await?;
    let header = ["id", "title", "level", "awarded_on", "unit", "model_id", "team_id", "member_id", "recipient"];
    as_format(&q.format, list, "awards.csv", &header, |(_, a)| {
        let n = |v: Option<i64>| v.map(|v| v.to_string()).unwrap_or_default();
        vec![
            a.id.to_string(),
            a.title.clone(),
            a.level.clone(),
            a.awarded_on.to_string(),
            a.unit_name.clone(),
            n(a.model_id),
            n(a.team_id),
            n(a.member_id),
            a.recipient.clone().unwrap_or_default(),
        ]
    })
}
