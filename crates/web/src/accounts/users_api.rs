//! `/api/v1/users`: accounts by API, for administrators, each within their own area — one
//! process for a province's accounts instead of one command per account. Every change is
//! logged; generated passwords are returned once.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use ngoso_store::users::{self, User};
use serde::Serialize;
use utoipa::ToSchema;

use super::users::{NewUserForm, create_user, disable_user, ensure_admin, managed, new_password};
use crate::AppState;
use crate::auth::{ApiUser, scope_path};
use crate::http::error::{ApiErrorBody, AppError};
use crate::http::extract::{ApiJson, Path};

/// An account as listed.
#[derive(Debug, Serialize, ToSchema)]
pub struct Account {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    pub role: String,
    /// The code of the unit whose area it works in; `null`: the whole tree.
    pub unit_code: Option<String>,
    pub unit_name: Option<String>,
    pub disabled: bool,
}

fn account(u: User) -> Account {
    Account {
        id: u.id,
        username: u.username,
        display_name: u.display_name,
        role: u.role,
        unit_code: u.unit_code,
        unit_name: u.unit_name,
        disabled: u.disabled,
    }
}

/// The accounts inside the administrator's area.
#[utoipa::path(get, path = "/api/v1/users", tag = "auth",
    responses((status = 200, body = Vec<Account>), (status = 403, body = ApiErrorBody)))]
pub async fn list(State(st): State<AppState>, ApiUser(p): ApiUser) -> Result<Json<Vec<Account>>, AppError> {
    ensure_admin(&p)?;
    Ok(Json(users::list(&st.db, scope_path(&p)).await?.into_iter().map(account).collect()))
}

/// An account made, with its password when one was generated (shown this once).
#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedAccount {
    pub id: i64,
    pub username: String,
    pub password: Option<String>,
}

/// Make an account in the administrator's area (a role and a unit no wider than theirs).
#[utoipa::path(post, path = "/api/v1/users", tag = "auth", request_body = NewUserForm,
    responses((status = 201, body = CreatedAccount), (status = 403, body = ApiErrorBody), (status = 409, body = ApiErrorBody),
        (status = 422, body = ApiErrorBody)))]
pub async fn create(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    ApiJson(f): ApiJson<NewUserForm>,
) -> Result<Response, AppError> {
    ensure_admin(&p)?;
    let (username, password) = create_user(&st, &p, &f).await?;
    let id = users::by_username(&st.db, &ngoso_core::user::Username::parse(&username)?)
        .await?
        .ok_or_else(AppError::not_found)?
        .id;
    Ok((StatusCode::CREATED, Json(CreatedAccount { id, username, password })).into_response())
}

/// An account the administrator may manage.
#[utoipa::path(get, path = "/api/v1/users/{id}", tag = "auth", params(("id" = i64, Path)),
    responses((status = 200, body = Account), (status = 403, body = ApiErrorBody), (status = 404, body = ApiErrorBody)))]
pub async fn get_one(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    Path(id): Path<i64>,
) -> Result<Json<Account>, AppError> {
    Ok(Json(account(managed(&st, &p, id).await?)))
}

/// Disable an account: its sessions end and its API tokens are revoked.
#[utoipa::path(post, path = "/api/v1/users/{id}/disable", tag = "auth", params(("id" = i64, Path)),
    responses((status = 204), (status = 403, body = ApiErrorBody), (status = 404, body = ApiErrorBody)))]
pub async fn disable(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    Path(id): Path<i64>,
) -> Result<StatusCode, AppError> {
    disable_user(&st, &p, id, true).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Enable a disabled account.
#[utoipa::path(post, path = "/api/v1/users/{id}/enable", tag = "auth", params(("id" = i64, Path)),
    responses((status = 204), (status = 403, body = ApiErrorBody), (status = 404, body = ApiErrorBody)))]
pub async fn enable(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    Path(id): Path<i64>,
) -> Result<StatusCode, AppError> {
    disable_user(&st, &p, id, false).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A new password, shown once.
#[derive(Debug, Serialize, ToSchema)]
pub struct NewPassword {
    pub password: String,
}

/// Give an account a new generated password (its sessions end).
#[utoipa::path(post, path = "/api/v1/users/{id}/password", tag = "auth", params(("id" = i64, Path)),
    responses((status = 200, body = NewPassword), (status = 403, body = ApiErrorBody), (status = 404, body = ApiErrorBody)))]
pub async fn reset_password(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    Path(id): Path<i64>,
) -> Result<Json<NewPassword>, AppError> {
    let (_, password) = new_password(&st, &p, id).await?;
    Ok(Json(NewPassword { password }))
}
