//! API tokens and the caller's own account.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use ngoso_store::{sessions, tokens, users};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::AppState;
use crate::auth::ApiUser;
use crate::auth::login::attempt;
use crate::http::error::{ApiErrorBody, AppError};
use crate::http::extract::{ApiJson, Client, Path};
use crate::http::openapi::json_status;

/// A request for a token.
#[derive(Debug, Deserialize, ToSchema)]
pub struct TokenRequest {
    pub username: String,
    pub password: String,
    /// A name to recognise the token by (the phone or script using it).
    #[serde(default)]
    pub name: Option<String>,
    /// Lifetime in days; at most the configured maximum, which is also the default.
    #[serde(default)]
    pub ttl_days: Option<i64>,
}

/// A token, shown once.
#[derive(Debug, Serialize, ToSchema)]
pub struct TokenResponse {
    pub id: i64,
    /// Send it as `Authorization: Bearer TOKEN`.
    pub token: String,
    pub token_type: &'static str,
    /// RFC 3339.
    pub expires_at: String,
}

fn rfc3339(t: i64) -> String {
    chrono::DateTime::from_timestamp(t, 0).map(|d| d.to_rfc3339()).unwrap_or_default()
}

/// Issue an API token for a user name and password.
#[utoipa::path(post, path = "/api/v1/auth/token", tag = "auth", security(()),
    request_body = TokenRequest,
    responses(
        (status = 201, body = TokenResponse),
        (status = 401, description = "wrong user name or password", body = ApiErrorBody),
        (status = 422, description = "a lifetime or name out of bounds", body = ApiErrorBody),
        (status = 429, description = "too many failed attempts, or too many logins being checked at once", body = ApiErrorBody),
    ))]
pub async fn issue_token(
    State(st): State<AppState>,
    Client(client): Client,
    ApiJson(req): ApiJson<TokenRequest>,
) -> Result<Response, AppError> {
    let key = req.username.trim().to_lowercase();
    if let Some(wait) = attempt(&st, &key, &client).await? {
        return Err(AppError::too_many(wait));
    }
    let Some(p) = users::authenticate(&st.db, &st.passwords, &req.username, &req.password).await? else {
        return Err(AppError::new(StatusCode::UNAUTHORIZED, "login-failed"));
    };
    sessions::clear_login_failures(&st.db, &key).await?;
    let max_days = st.cfg.token_ttl_days;
    let days = req.ttl_days.unwrap_or(max_days);
    if !(1..=max_days).contains(&days) {
        return Err(ngoso_core::Invalid::field("token-ttl-invalid", "ttl_days")
            .with_detail(max_days.to_string())
            .into());
    }
    let name = req.name.as_deref().and_then(ngoso_core::text::clean_line).unwrap_or_else(|| "api".into());
    if name.chars().count() > 100 {
        return Err(ngoso_core::Invalid::field("too-long", "name").with_detail("100").into());
    }
    let issued = tokens::issue(&st.db, p.id, &name, days * 86_400).await?;
    Ok(json_status(
        StatusCode::CREATED,
        &TokenResponse {
            id: issued.id,
            token: issued.token,
            token_type: "Bearer",
            expires_at: rfc3339(issued.expires_at),
        },
    ))
}

/// A token as listed.
#[derive(Debug, Serialize, ToSchema)]
pub struct TokenInfo {
    pub id: i64,
    pub name: String,
    pub created_at: String,
    pub expires_at: String,
    pub revoked: bool,
    pub last_used_at: Option<String>,
}

/// The caller's API tokens.
#[utoipa::path(get, path = "/api/v1/auth/tokens", tag = "auth",
    responses((status = 200, body = Vec<TokenInfo>), (status = 401, body = ApiErrorBody)))]
pub async fn list_tokens(State(st): State<AppState>, ApiUser(p): ApiUser) -> Result<Json<Vec<TokenInfo>>, AppError> {
    let list = tokens::list(&st.db, p.id).await?;
    Ok(Json(
        list.into_iter()
            .map(|t| TokenInfo {
                id: t.id,
                name: t.name,
                created_at: rfc3339(t.created_at),
                expires_at: rfc3339(t.expires_at),
                revoked: t.revoked_at.is_some(),
                last_used_at: t.last_used_at.map(rfc3339),
            })
            .collect(),
    ))
}

/// Revoke one of the caller's tokens.
#[utoipa::path(delete, path = "/api/v1/auth/tokens/{id}", tag = "auth",
    params(("id" = i64, Path, description = "token id")),
    responses((status = 204), (status = 404, body = ApiErrorBody)))]
pub async fn revoke_token(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    tokens::revoke(&st.db, p.id, id).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// The caller.
#[derive(Debug, Serialize, ToSchema)]
pub struct Me {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    /// admin, officer, team_leader, member, agency_staff or viewer.
    pub role: String,
    /// The unit of the caller's scope; absent for the whole tree.
    pub unit_id: Option<i64>,
}

/// Who the caller is.
#[utoipa::path(get, path = "/api/v1/me", tag = "auth", responses((status = 200, body = Me), (status = 401, body = ApiErrorBody)))]
pub async fn me(ApiUser(p): ApiUser) -> Json<Me> {
    Json(Me {
        id: p.id,
        username: p.username,
        display_name: p.display_name,
        role: p.role.as_str().into(),
        unit_id: p.unit_id,
    })
}
