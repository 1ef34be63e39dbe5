//! `/api/v1/field`: the field app's sync.

use axum::Json;
use axum::extract::State;
use ngoso_store::field::FieldSync;
use serde::Deserialize;
use utoipa::IntoParams;

use crate::AppState;
use crate::auth::ApiUser;
use crate::http::error::{ApiErrorBody, AppError};
use crate::http::extract::Query;

#[derive(Debug, Deserialize, IntoParams)]
pub struct SyncQuery {
    /// The area: a unit the member may see (default: their whole scope).
    pub unit: Option<i64>,
    /// The `cursor` of the last sync; without it, everything.
    pub since: Option<i64>,
}

/// What a phone keeps of its area: the ids of every household, and each household changed
/// since `since` (all of them without it) with its residents and statuses — only what the
/// visit form needs. The read is logged.
#[utoipa::path(get, path = "/api/v1/field/sync", tag = "field", params(SyncQuery),
    responses((status = 200, body = FieldSync), (status = 403, description = "no access to personal data", body = ApiErrorBody),
        (status = 404, body = ApiErrorBody), (status = 422, body = ApiErrorBody)))]
pub async fn sync(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    Query(q): Query<SyncQuery>,
) -> Result<Json<FieldSync>, AppError> {
    Ok(Json(super::sync(&st, &p, q.unit, q.since).await?))
}
