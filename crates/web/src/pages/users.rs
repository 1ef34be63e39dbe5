//! The list of accounts, for administrators.

use askama::Template;
use axum::extract::State;
use axum::response::Response;
use ngoso_core::auth::Action;
use ngoso_store::users::{self, User};

use crate::AppState;
use crate::auth::{PageUser, can_anywhere, scope_path};
use crate::error::AppError;
use crate::pages::{Ctx, PageCtx, render};

#[derive(Template)]
#[template(path = "users.html")]
struct List {
    ctx: PageCtx,
    users: Vec<User>,
}

/// `GET /app/users`: the accounts inside the administrator's scope.
pub async fn list(State(st): State<AppState>, Ctx(ctx): Ctx, PageUser(p): PageUser) -> Result<Response, AppError> {
    if !can_anywhere(&p, Action::ManageUsers) {
        return Err(AppError::forbidden());
    }
    let users = users::list(&st.db, scope_path(&p)).await?;
    render(&List { ctx, users })
}
