//! The login and logout pages.

use std::net::SocketAddr;

use askama::Template;
use axum::Form;
use axum::extract::{ConnectInfo, FromRequestParts, Query, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use ngoso_store::{sessions, users};
use serde::Deserialize;

use crate::AppState;
use crate::auth::SESSION_COOKIE;
use crate::auth::csrf::Csrf;
use crate::cookies::{cookie, set_cookie};
use crate::error::AppError;
use crate::lang::safe_next;
use crate::pages::{Ctx, PageCtx, render, render_status};

#[derive(Template)]
#[template(path = "login.html")]
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
pub async fn form(Ctx(ctx): Ctx, Query(q): Query<LoginQuery>) -> Result<Response, AppError> {
    let next = safe_next(q.next.as_deref(), "/app/units");
    render(&LoginPage { ctx, next, username: String::new(), error: None })
}

#[derive(Deserialize, Default)]
pub struct LoginForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    next: String,
}

/// The address a request comes from.
pub struct Client(pub String);

impl FromRequestParts<AppState> for Client {
    type Rejection = std::convert::Infallible;
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let peer = parts.extensions.get::<ConnectInfo<SocketAddr>>().map(|c| c.0);
        Ok(Client(client_addr(state, &parts.headers, peer)))
    }
}

/// The address a request comes from: the peer, or the first `X-Forwarded-For` hop when the
/// configuration says a trusted proxy sets it.
pub fn client_addr(state: &AppState, headers: &HeaderMap, peer: Option<SocketAddr>) -> String {
    if state.cfg.trust_forwarded_for
        && let Some(first) =
            headers.get("x-forwarded-for").and_then(|v| v.to_str().ok()).and_then(|v| v.split(',').next())
    {
        return first.trim().to_owned();
    }
    peer.map(|a| a.ip().to_string()).unwrap_or_else(|| "unknown".into())
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
pub async fn submit(
    State(st): State<AppState>,
    Ctx(ctx): Ctx,
    csrf: Csrf,
    Client(client): Client,
    Form(f): Form<LoginForm>,
) -> Result<Response, AppError> {
    csrf.verify(&f.csrf)?;
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
            set_cookie(&mut res, SESSION_COOKIE, &token, Some(st.cfg.session_ttl_secs), true, st.cfg.cookie_secure);
            Ok(res)
        }
        None => {
            sessions::record_login_failure(&st.db, &key, &client).await?;
            let error = Some(ctx.t("err-login-failed"));
            render_status(StatusCode::UNAUTHORIZED, &LoginPage { ctx, next, username: f.username, error })
        }
    }
}

#[derive(Deserialize, Default)]
pub struct LogoutForm {
    #[serde(default)]
    csrf: String,
}

/// `POST /logout`.
pub async fn logout(
    State(st): State<AppState>,
    csrf: Csrf,
    headers: HeaderMap,
    Form(f): Form<LogoutForm>,
) -> Result<Response, AppError> {
    csrf.verify(&f.csrf)?;
    if let Some(token) = cookie(&headers, SESSION_COOKIE) {
        sessions::delete(&st.db, &token).await?;
    }
    let mut res = Redirect::to("/").into_response();
    set_cookie(&mut res, SESSION_COOKIE, "", Some(0), true, st.cfg.cookie_secure);
    Ok(res)
}
