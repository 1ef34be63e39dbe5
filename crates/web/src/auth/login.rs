//! The login and logout pages.

use askama::Template;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use ngoso_store::{sessions, users};
use serde::Deserialize;

use crate::AppState;
use crate::auth::SESSION_COOKIE;
use crate::http::cookies::{cookie, set_cookie};
use crate::http::error::AppError;
use crate::http::extract::{Client, CsrfForm, Query};
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

/// Counts a login attempt before its password is checked (so that guesses sent at once are
/// counted one by one); `Some(seconds to wait)` when this user name or client has failed too
/// often lately, and the attempt is refused unchecked. A right password clears the user
/// name's failures ([`sessions::clear_login_failures`]).
pub async fn attempt(state: &AppState, username_key: &str, client: &str) -> Result<Option<u64>, AppError> {
    let limits = sessions::LoginLimits {
        per_user: state.cfg.login_max_failures_per_user,
        per_client: state.cfg.login_max_failures_per_client,
        window_secs: state.cfg.login_window_secs,
    };
    let allowed = sessions::begin_login(&state.db, username_key, client, limits).await?;
    Ok((!allowed).then_some(state.cfg.login_window_secs as u64))
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
    if let Some(wait) = attempt(&st, &key, &client).await? {
        let minutes = wait.div_ceil(60);
        let error = Some(ctx.tr.t1("err-login-throttled", "minutes", minutes));
        let mut res =
            render_status(StatusCode::TOO_MANY_REQUESTS, &LoginPage { ctx, next, username: f.username, error })?;
        res.headers_mut().insert(axum::http::header::RETRY_AFTER, wait.into());
        return Ok(res);
    }
    match users::authenticate(&st.db, &st.passwords, &f.username, &f.password).await? {
        Some(p) => {
            sessions::clear_login_failures(&st.db, &key).await?;
            let token = sessions::create(&st.db, p.id, st.cfg.session_ttl_secs).await?;
            let mut res = Redirect::to(&next).into_response();
            set_cookie(&mut res, SESSION_COOKIE, &token, Some(st.cfg.session_ttl_secs), true, st.cfg.secure_cookies());
            Ok(res)
        }
        None => {
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
