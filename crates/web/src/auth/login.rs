//! The login and logout pages.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use ngoso_store::{sessions, users};
use serde::Deserialize;

use crate::AppState;
use crate::auth::SESSION_COOKIE;
use crate::http::cookies::{cookie, set_cookie};
use crate::http::error::AppError;
use crate::http::extract::{Client, CsrfForm};
use crate::http::lang::safe_next;
use crate::http::render::{Ctx, PageCtx, render, render_status};

#[derive(Template)]
#[template(path = "auth/login.html")]
struct LoginPage {
    ctx: PageCtx,
    next: String,
    username: String,
    error: Option<String>,
}

#[derive(Deserialize)]
pub struct LoginQuery {
    next: Option<String>,
}

/// `GET /login`.
pub(super) async fn form(Ctx(ctx): Ctx, Query(q): Query<LoginQuery>) -> Result<Response, AppError> {
    let next = safe_next(q.next.as_deref(), "/app/units");
    render(&LoginPage { ctx, next, username: String::new(), error: None })
}

#[derive(Deserialize, Default)]
pub struct LoginForm {
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    next: String,
}

/// Whether this user name or client has failed too often lately; if so, how long to wait.
pub async fn throttled(state: &AppState, username_key: &str, client: &str) -> Result<Option<u64>, AppError> {
    let window = state.cfg.login_window_secs;
    let (by_user, by_client) =
        sessions::recent_login_failures(&state.db, username_key, client, ngoso_store::now() - window).await?;
    if by_user >= state.cfg.login_max_failures_per_user || by_client >= state.cfg.login_max_failures_per_client {
        Ok(Some(window as u64))
    } else {
        Ok(None)
    }
}

/// `POST /login`.
pub(super) async fn submit(
    State(st): State<AppState>,
    Ctx(ctx): Ctx,
    Client(client): Client,
    CsrfForm(f): CsrfForm<LoginForm>,
) -> Result<Response, AppError> {
    let next = safe_next(Some(&f.next), "/app/units");
    let key = f.username.trim().to_lowercase();
    if let Some(wait) = throttled(&st, &key, &client).await? {
        let minutes = wait.div_ceil(60);
        let error = Some(ctx.tr.t1("err-login-throttled", "minutes", minutes));
        let mut res =
            render_status(StatusCode::TOO_MANY_REQUESTS, &LoginPage { ctx, next, username: f.username, error })?;
        res.headers_mut().insert(axum::http::header::RETRY_AFTER, wait.into());
        return Ok(res);
    }
    match users::authenticate(&st.db, &f.username, &f.password).await? {
        Some(p) => {
            sessions::clear_login_failures(&st.db, &key).await?;
            let token = sessions::create(&st.db, p.id, st.cfg.session_ttl_secs).await?;
            let mut res = Redirect::to(&next).into_response();
            set_cookie(&mut res, SESSION_COOKIE, &token, Some(st.cfg.session_ttl_secs), true, st.cfg.secure_cookies());
            Ok(res)
        }
        None => {
            sessions::record_login_failure(&st.db, &key, &client).await?;
            let error = Some(ctx.t("err-login-failed"));
            render_status(StatusCode::UNAUTHORIZED, &LoginPage { ctx, next, username: f.username, error })
        }
    }
}

/// `POST /logout`.
pub(super) async fn logout(
    State(st): State<AppState>,
    headers: HeaderMap,
    _: CsrfForm<serde::de::IgnoredAny>,
) -> Result<Response, AppError> {
    if let Some(token) = cookie(&headers, SESSION_COOKIE) {
        sessions::delete(&st.db, &token).await?;
    }
    let mut res = Redirect::to("/").into_response();
    set_cookie(&mut res, SESSION_COOKIE, "", Some(0), true, st.cfg.secure_cookies());
    Ok(res)
}
