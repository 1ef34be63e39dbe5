//! Accounts: administrators manage the accounts of their scope (`/app/users`); everyone
//! signed in has their own page (`/app/account`: password, API tokens); the API issues and
//! lists tokens and says who the caller is.

pub mod api;
mod pages;
mod users;
pub mod users_api;

use axum::routing::{get, post};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;

/// The pages and API of accounts.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .route("/app/users", get(users::list))
        .route("/app/users/new", get(users::new_form).post(users::create))
        .route("/app/users/{id}/disable", post(users::disable))
        .route("/app/users/{id}/enable", post(users::enable))
        .route("/app/users/{id}/reset-password", post(users::reset_password))
        .route("/app/account", get(pages::show))
        .route("/app/account/password", post(pages::change_password))
        .route("/app/account/tokens/{id}/revoke", post(pages::revoke_token))
        .routes(routes!(api::issue_token))
        .routes(routes!(api::list_tokens))
        .routes(routes!(api::revoke_token))
        .routes(routes!(api::me))
        .routes(routes!(users_api::list, users_api::create))
        .routes(routes!(users_api::get_one))
        .routes(routes!(users_api::disable))
        .routes(routes!(users_api::enable))
        .routes(routes!(users_api::reset_password))
}
