//! `/api/v1/field`: the field app's sync.

use axum::Json;
use axum::extract::State;
use serde::Deserialize;
use utoipa::IntoParams;

use crate::AppState;
use crate::auth::ApiUser;
use crate::field::FieldBundle;
use crate::http::error::{ApiErrorBody, AppError};
use crate::http::extract::{ApiLang, Query};

#[derive(Debug, Deserialize, IntoParams)]
pub struct SyncQuery {
    /// The area: a unit the member may see (default: their whole scope).
    pub unit: Option<i64>,
    /// The `cursor` of the last sync; without it, everything.
    pub since: Option<i64>,
}

/// What a phone keeps of its area: the account, its teams, the service catalogue and the
/// feedback categories (names in the answer's language), the ids of every household, and each
/// household changed since `since` (all of them without it) with its residents and statuses —
/// only what the visit form needs. The read is logged.
#[utoipa::path(get, path = "/api/v1/field/sync", tag = "field", params(SyncQuery),
    responses((status = 200, body = FieldBundle), (status = 401, body = ApiErrorBody), (status = 403, description = "no access to personal data", body = ApiErrorBody),
        (status = 404, body = ApiErrorBody), (status = 422, body = ApiErrorBody)))]
pub async fn sync(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    ApiLang(lang): ApiLang,
    Query(q): Query<SyncQuery>,
) -> Result<Json<FieldBundle>, AppError> {
    Ok(Json(super::sync(&st, &p, lang, q.unit, q.since).await?))
}
