//! `/api/v1/services`: the catalogue.

use axum::Json;
use axum::extract::State;
use axum::response::Response;
use ngoso_store::catalog;

use super::{NewService, NewStatus, ServiceUpdate};
use crate::AppState;
use crate::auth::ApiUser;
use crate::http::error::{ApiErrorBody, AppError};
use crate::http::extract::{ApiJson, Path};
use crate::http::openapi::{Created, created};

/// The service catalogue.
#[utoipa::path(get, path = "/api/v1/services", tag = "services", responses((status = 200, body = Vec<catalog::Service>)))]
pub async fn list(
    State(st): State<AppState>,
    ApiUser(_user): ApiUser,
) -> Result<Json<Vec<catalog::Service>>, AppError> {
    Ok(Json(st.catalog().await?.services.clone()))
}

/// Add a service to the catalogue (administrators of the whole tree).
#[utoipa::path(post, path = "/api/v1/services", tag = "services", request_body = NewService,
    responses((status = 201, body = Created), (status = 403, body = ApiErrorBody), (status = 409, body = ApiErrorBody), (status = 422, body = ApiErrorBody)))]
pub async fn create(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    ApiJson(s): ApiJson<NewService>,
) -> Result<Response, AppError> {
    let id = super::create_service(&st, &p, &s).await?;
    Ok(created(id, "/api/v1/services"))
}

/// Add a status at the end of a service's statuses.
#[utoipa::path(post, path = "/api/v1/services/{id}/statuses", tag = "services", params(("id" = i64, Path)), request_body = NewStatus,
    responses((status = 201, body = Created), (status = 403, body = ApiErrorBody), (status = 404, body = ApiErrorBody), (status = 409, body = ApiErrorBody), (status = 422, body = ApiErrorBody)))]
pub async fn add_status(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    Path(id): Path<i64>,
    ApiJson(s): ApiJson<NewStatus>,
) -> Result<Response, AppError> {
    let sid = super::add_status(&st, &p, id, &s).await?;
    Ok(created(sid, "/api/v1/services"))
}

/// Rename a service and its statuses, or withdraw it (`active: false`) or offer it again;
/// codes stay. All or nothing.
#[utoipa::path(patch, path = "/api/v1/services/{id}", tag = "services", params(("id" = i64, Path)), request_body = ServiceUpdate,
    responses((status = 200, body = catalog::Service), (status = 403, body = ApiErrorBody), (status = 404, body = ApiErrorBody), (status = 422, body = ApiErrorBody)))]
pub async fn update(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    Path(id): Path<i64>,
    ApiJson(u): ApiJson<ServiceUpdate>,
) -> Result<Json<catalog::Service>, AppError> {
    super::update_service(&st, &p, id, &u).await?;
    let s = st.catalog().await?.services.iter().find(|s| s.id == id).cloned().ok_or_else(AppError::not_found)?;
    Ok(Json(s))
}
