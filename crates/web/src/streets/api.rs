//! `/api/v1/models/{id}/places`: a digital street's or a heritage route's places, their
//! photos and plaques.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use ngoso_store::programme::places::{self, RoutePlace};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use super::RoutePlaceInput;
use crate::AppState;
use crate::auth::ApiUser;
use crate::http::error::{ApiErrorBody, AppError};
use crate::http::extract::{ApiJson, ApiLang, Path, Query};
use crate::http::i18n::{Lang, Tr};
use crate::http::openapi::{Created, created};
use crate::http::render::base_url;
use crate::models::api::CaptionQuery;

/// A list's format.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FormatQuery {
    /// `json` (default) or `csv`.
    #[serde(default)]
    pub format: String,
}

/// A model's route: its places in order, with their public addresses, photos and the scans
/// of their plaques; as CSV with `format=csv`.
#[utoipa::path(get, path = "/api/v1/models/{id}/places", tag = "programmes", params(("id" = i64, Path), FormatQuery),
    responses((status = 200, content((Vec<RoutePlace> = "application/json"), (String = "text/csv"))),
        (status = 401, body = ApiErrorBody), (status = 404, body = ApiErrorBody), (status = 422, body = ApiErrorBody)))]
pub async fn list(
    State(st): State<AppState>,
    ApiUser(_p): ApiUser,
    ApiLang(lang): ApiLang,
    headers: HeaderMap,
    Path(id): Path<i64>,
    Query(f): Query<FormatQuery>,
) -> Result<Response, AppError> {
    ngoso_store::programme::get(&st.db, id).await?;
    let list = super::of_model(&st, &headers, id).await?;
    match f.format.trim() {
        "csv" => Ok(super::csv(&list, lang == Lang::En)),
        "" | "json" => Ok(Json(list).into_response()),
        other => Err(ngoso_core::Invalid::field("format-invalid", "format").with_detail(other).into()),
    }
}

/// Add a place at the end of a model's route (those who run the programmes of its unit).
#[utoipa::path(post, path = "/api/v1/models/{id}/places", tag = "programmes", params(("id" = i64, Path)),
    request_body = RoutePlaceInput,
    responses((status = 201, body = Created), (status = 401, body = ApiErrorBody), (status = 403, body = ApiErrorBody),
        (status = 404, body = ApiErrorBody), (status = 422, body = ApiErrorBody)))]
pub async fn add(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    Path(id): Path<i64>,
    ApiJson(input): ApiJson<RoutePlaceInput>,
) -> Result<Response, AppError> {
    let (pid, _) = super::add(&st, &p, id, &input).await?;
    Ok(created(pid, &format!("/api/v1/models/{id}/places/{pid}")))
}

/// A place of a model's route.
#[utoipa::path(get, path = "/api/v1/models/{id}/places/{place}", tag = "programmes",
    params(("id" = i64, Path), ("place" = i64, Path)),
    responses((status = 200, body = RoutePlace), (status = 401, body = ApiErrorBody), (status = 404, body = ApiErrorBody)))]
pub async fn get_one(
    State(st): State<AppState>,
    ApiUser(_p): ApiUser,
    headers: HeaderMap,
    Path((id, place)): Path<(i64, i64)>,
) -> Result<Json<RoutePlace>, AppError> {
    let mut p = places::get(&st.db, id, place).await?;
    p.url = super::page_url(&base_url(&st, &headers), &p.code);
    Ok(Json(p))
}

/// Change a place (its code and position stay).
#[utoipa::path(put, path = "/api/v1/models/{id}/places/{place}", tag = "programmes",
    params(("id" = i64, Path), ("place" = i64, Path)), request_body = RoutePlaceInput,
    responses((status = 204), (status = 401, body = ApiErrorBody), (status = 403, body = ApiErrorBody),
        (status = 404, body = ApiErrorBody), (status = 422, body = ApiErrorBody)))]
pub async fn update(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    Path((id, place)): Path<(i64, i64)>,
    ApiJson(input): ApiJson<RoutePlaceInput>,
) -> Result<StatusCode, AppError> {
    super::update(&st, &p, id, place, &input).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Remove a place from its route, with its photos and scan counts (its plaque then leads
/// nowhere).
#[utoipa::path(delete, path = "/api/v1/models/{id}/places/{place}", tag = "programmes",
    params(("id" = i64, Path), ("place" = i64, Path)),
    responses((status = 204), (status = 401, body = ApiErrorBody), (status = 403, body = ApiErrorBody),
        (status = 404, body = ApiErrorBody)))]
pub async fn delete(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    Path((id, place)): Path<(i64, i64)>,
) -> Result<StatusCode, AppError> {
    super::delete(&st, &p, id, place).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Where a place moves to.
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct PlaceMoveInput {
    /// From 1; past the end: last.
    pub position: i64,
}

/// Move a place to another position on its route, the others keeping their order.
#[utoipa::path(post, path = "/api/v1/models/{id}/places/{place}/move", tag = "programmes",
    params(("id" = i64, Path), ("place" = i64, Path)), request_body = PlaceMoveInput,
    responses((status = 204), (status = 401, body = ApiErrorBody), (status = 403, body = ApiErrorBody),
        (status = 404, body = ApiErrorBody), (status = 422, body = ApiErrorBody)))]
pub async fn move_place(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    Path((id, place)): Path<(i64, i64)>,
    ApiJson(m): ApiJson<PlaceMoveInput>,
) -> Result<StatusCode, AppError> {
    super::move_place(&st, &p, id, place, &m.position.to_string()).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A plaque's format.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PlaqueQuery {
    /// `pdf` (default) or `svg`.
    #[serde(default)]
    pub format: String,
}

/// A place's QR plaque, A6, as PDF or SVG: the route's and the place's names, a QR code of
/// the place's public page and its address in short.
#[utoipa::path(get, path = "/api/v1/models/{id}/places/{place}/plaque", tag = "programmes",
    params(("id" = i64, Path), ("place" = i64, Path), PlaqueQuery),
    responses((status = 200, content((Vec<u8> = "application/pdf"), (String = "image/svg+xml"))),
        (status = 401, body = ApiErrorBody), (status = 404, body = ApiErrorBody), (status = 422, body = ApiErrorBody)))]
pub async fn plaque(
    State(st): State<AppState>,
    ApiUser(_p): ApiUser,
    ApiLang(lang): ApiLang,
    headers: HeaderMap,
    Path((id, place)): Path<(i64, i64)>,
    Query(q): Query<PlaqueQuery>,
) -> Result<Response, AppError> {
    let p = places::get(&st.db, id, place).await?;
    let route = places::route(&st.db, id).await?;
    let plaque = super::plaque(&base_url(&st, &headers), &p, &route, &Tr(lang));
    let (mime, bytes) = match q.format.trim() {
        "" | "pdf" => ("application/pdf", super::plaque::pdf(&[plaque])),
        "svg" => ("image/svg+xml", plaque.svg().into_bytes()),
        other => return Err(ngoso_core::Invalid::field("format-invalid", "format").with_detail(other).into()),
    };
    Ok(([(axum::http::header::CONTENT_TYPE, mime)], bytes).into_response())
}

/// Add a photo to a place: the body is the JPEG or PNG file itself; it is checked and
/// stripped of its metadata (GPS position, camera) before it is kept, and published on the
/// place's page. At most 6 a place.
#[utoipa::path(post, path = "/api/v1/models/{id}/places/{place}/photos", tag = "programmes",
    params(("id" = i64, Path), ("place" = i64, Path), CaptionQuery),
    request_body(content = Vec<u8>, content_type = "image/jpeg"),
    responses((status = 201, body = Created), (status = 401, body = ApiErrorBody), (status = 403, body = ApiErrorBody),
        (status = 404, body = ApiErrorBody), (status = 413, body = ApiErrorBody), (status = 422, body = ApiErrorBody)))]
pub async fn add_photo(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    Path((id, place)): Path<(i64, i64)>,
    Query(q): Query<CaptionQuery>,
    body: axum::body::Bytes,
) -> Result<Response, AppError> {
    let pid = super::add_photo(&st, &p, id, place, &body, &q.caption).await?;
    let code = places::get(&st.db, id, place).await?.code;
    Ok(created(pid, &format!("/p/{code}/photos/{pid}")))
}

/// Remove a place's photo.
#[utoipa::path(delete, path = "/api/v1/models/{id}/places/{place}/photos/{photo}", tag = "programmes",
    params(("id" = i64, Path), ("place" = i64, Path), ("photo" = i64, Path)),
    responses((status = 204), (status = 401, body = ApiErrorBody), (status = 403, body = ApiErrorBody),
        (status = 404, body = ApiErrorBody)))]
pub async fn delete_photo(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    Path((id, place, photo)): Path<(i64, i64, i64)>,
) -> Result<StatusCode, AppError> {
    super::delete_photo(&st, &p, id, place, photo).await?;
    Ok(StatusCode::NO_CONTENT)
}
