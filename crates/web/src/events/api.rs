//! `/api/v1/events`.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use ngoso_store::programme::events::{Event, MemberTraining};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use super::{EventInput, EventQuery};
use crate::AppState;
use crate::auth::ApiUser;
use crate::http::error::{ApiErrorBody, AppError};
use crate::http::extract::{ApiJson, Path, Query};
use crate::http::openapi::{Created, created};

/// The events of a unit's subtree in a year, newest first.
#[utoipa::path(get, path = "/api/v1/events", tag = "programmes", params(EventQuery),
    responses((status = 200, content((Vec<Event> = "application/json"), (String = "text/csv"))), (status = 401, body = ApiErrorBody),
        (status = 404, body = ApiErrorBody), (status = 422, body = ApiErrorBody)))]
pub async fn list(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    Query(q): Query<EventQuery>,
) -> Result<Response, AppError> {
    let (_, list) = super::list(&st, &p, &q).await?;
    match q.format.trim() {
        "csv" => Ok(super::csv(&list)),
        "" | "json" => Ok(axum::response::IntoResponse::into_response(Json(list))),
        other => Err(ngoso_core::Invalid::field("format-invalid", "format").with_detail(other).into()),
    }
}

/// Record a training, contest, seminar, help counter or campaign, with the members who
/// attended.
#[utoipa::path(post, path = "/api/v1/events", tag = "programmes", request_body = EventInput,
    responses((status = 201, body = Created), (status = 401, body = ApiErrorBody), (status = 403, body = ApiErrorBody),
        (status = 422, body = ApiErrorBody)))]
pub async fn create(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    ApiJson(e): ApiJson<EventInput>,
) -> Result<Response, AppError> {
    let f = e.fields()?;
    let id = super::create(&st, &p, &e.unit, &f, &e.attendees).await?;
    Ok(created(id, &format!("/api/v1/events/{id}")))
}

/// An event.
#[utoipa::path(get, path = "/api/v1/events/{id}", tag = "programmes", params(("id" = i64, Path)),
    responses((status = 200, body = Event), (status = 401, body = ApiErrorBody), (status = 404, body = ApiErrorBody)))]
pub async fn get_one(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    Path(id): Path<i64>,
) -> Result<Json<Event>, AppError> {
    Ok(Json(super::visible(&st, &p, id).await?))
}

/// Change an event: every field as on creation but its unit and attendance (which stay).
#[utoipa::path(put, path = "/api/v1/events/{id}", tag = "programmes", params(("id" = i64, Path)), request_body = EventInput,
    responses((status = 204), (status = 401, body = ApiErrorBody), (status = 403, body = ApiErrorBody),
        (status = 404, body = ApiErrorBody), (status = 422, body = ApiErrorBody)))]
pub async fn update(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    Path(id): Path<i64>,
    ApiJson(e): ApiJson<EventInput>,
) -> Result<axum::http::StatusCode, AppError> {
    let f = e.fields()?;
    super::update(&st, &p, id, &f).await?;
    Ok(axum::http::StatusCode::NO_CONTENT)
}

/// Remove an event recorded by mistake, with its attendance.
#[utoipa::path(delete, path = "/api/v1/events/{id}", tag = "programmes", params(("id" = i64, Path)),
    responses((status = 204), (status = 401, body = ApiErrorBody), (status = 403, body = ApiErrorBody),
        (status = 404, body = ApiErrorBody)))]
pub async fn delete(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    Path(id): Path<i64>,
) -> Result<axum::http::StatusCode, AppError> {
    super::delete(&st, &p, id).await?;
    Ok(axum::http::StatusCode::NO_CONTENT)
}

/// An event's attendance.
#[derive(Debug, Deserialize, ToSchema)]
pub struct Attendance {
    /// The team members who attended, by id (in place of those before).
    pub attendees: Vec<i64>,
}

/// Take an event's attendance.
#[utoipa::path(put, path = "/api/v1/events/{id}/attendance", tag = "programmes", params(("id" = i64, Path)), request_body = Attendance,
    responses((status = 204), (status = 401, body = ApiErrorBody), (status = 403, body = ApiErrorBody), (status = 404, body = ApiErrorBody),
        (status = 422, body = ApiErrorBody)))]
pub async fn set_attendance(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    Path(id): Path<i64>,
    ApiJson(a): ApiJson<Attendance>,
) -> Result<StatusCode, AppError> {
    super::set_attendance(&st, &p, id, &a.attendees).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The area of the training list.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TrainingQuery {
    /// A unit's code (default: the caller's scope).
    #[serde(default)]
    pub unit: String,
    /// `json` (default) or `csv`.
    #[serde(default)]
    pub format: String,
}

/// The active members of an area's teams with the day of their latest training (those with
/// none in the last twelve months first to train); names, so for those who may see people
/// (logged).
#[utoipa::path(get, path = "/api/v1/events/training", tag = "programmes", params(TrainingQuery),
    responses((status = 200, content((Vec<MemberTraining> = "application/json"), (String = "text/csv"))),
        (status = 401, body = ApiErrorBody), (status = 403, body = ApiErrorBody), (status = 404, body = ApiErrorBody),
        (status = 422, body = ApiErrorBody)))]
pub async fn training(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    Query(q): Query<TrainingQuery>,
) -> Result<Response, AppError> {
    let within = match q.unit.trim() {
        "" => None,
        code => Some(crate::units::visible_by_code(&st.db, &p, code).await?.unit_path()),
    };
    let list = super::members_training(&st, &p, within.as_ref()).await?.ok_or_else(AppError::forbidden)?;
    let header = ["member_id", "full_name", "team_id", "team", "last_training"];
    crate::models::api::as_format(&q.format, list, "training.csv", &header, |(_, m)| {
        vec![
            m.member_id.to_string(),
            m.full_name.clone(),
            m.team_id.to_string(),
            m.team_name.clone(),
            m.last_training.map(|d| d.to_string()).unwrap_or_default(),
        ]
    })
}

/// Record a file of events, all or none: the body is a CSV (UTF-8, a header line; `unit_code`,
/// `kind`, `title`, `starts_on` needed, the other fields of an event where known). One bad
/// line refuses the file, named by its number (`error.row`).
#[utoipa::path(post, path = "/api/v1/events/import", tag = "programmes", request_body(content = String, content_type = "text/csv"),
    responses((status = 201, body = Vec<i64>), (status = 401, body = ApiErrorBody), (status = 403, body = ApiErrorBody),
        (status = 413, body = ApiErrorBody), (status = 422, body = ApiErrorBody)))]
pub async fn import(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    body: axum::body::Bytes,
) -> Result<Response, AppError> {
    let text = crate::http::csvfile::body_text(&body)?;
    let ids = super::import(&st, &p, super::parse_csv(text)?).await?;
    Ok(axum::response::IntoResponse::into_response((axum::http::StatusCode::CREATED, Json(ids))))
}
