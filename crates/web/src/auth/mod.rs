//! Who is asking: sessions, bearer tokens, CSRF tokens and the checks built on them.

pub mod audit;
pub mod csrf;
pub mod login;

use axum::extract::{FromRequestParts, OriginalUri};
use axum::http::header;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Redirect, Response};
use ngoso_core::auth::Action;
use ngoso_core::unit::UnitPath;
use ngoso_store::users::Principal;
use ngoso_store::{sessions, tokens};

use axum::routing::{get, post};
use utoipa_axum::router::OpenApiRouter;

use crate::AppState;
use crate::http::cookies::cookie;
use crate::http::error::AppError;

/// The login and logout pages.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().route("/login", get(login::form).post(login::submit)).route("/logout", post(login::logout))
}

/// Name of the session cookie.
pub const SESSION_COOKIE: &str = "ngoso_session";

/// The principal of the request, looked up once and kept in the request's extensions.
#[derive(Clone)]
struct Resolved(Option<Principal>);

/// The bearer token of a request, if it has one.
fn bearer(parts: &Parts) -> Option<String> {
    let v = parts.headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = v.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim().to_owned())
}

async fn resolve(parts: &mut Parts, state: &AppState) -> Result<Option<Principal>, AppError> {
    if let Some(Resolved(p)) = parts.extensions.get::<Resolved>() {
        return Ok(p.clone());
    }
    let p = if let Some(token) = bearer(parts) {
        state.tokens.principal(&state.db, &token).await?
    } else if let Some(token) = cookie(&parts.headers, SESSION_COOKIE) {
        sessions::principal(&state.db, &token).await?
    } else {
        None
    };
    parts.extensions.insert(Resolved(p.clone()));
    Ok(p)
}

/// The signed-in user, if any.
pub struct MaybeUser(pub Option<Principal>);

impl FromRequestParts<AppState> for MaybeUser {
    type Rejection = AppError;
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        Ok(MaybeUser(resolve(parts, state).await?))
    }
}

/// A signed-in user on a page; anyone else is sent to the login page.
pub struct PageUser(pub Principal);

impl FromRequestParts<AppState> for PageUser {
    type Rejection = Response;
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        match resolve(parts, state).await {
            Ok(Some(p)) => Ok(PageUser(p)),
            Ok(None) => {
                let here = parts
                    .extensions
                    .get::<OriginalUri>()
                    .map(|u| u.0.to_string())
                    .unwrap_or_else(|| parts.uri.to_string());
                let next = crate::http::render::urlencode(&here);
                Err(Redirect::to(&format!("/login?next={next}")).into_response())
            }
            Err(e) => Err(e.into_response()),
        }
    }
}

/// A signed-in user of the API (session cookie or `Authorization: Bearer`); anyone else
/// gets 401. A request that changes something, signed in with the session cookie, must also
/// prove it comes from our own pages: a JSON body (`Content-Type: application/json`, which
/// a page of another site cannot send without the browser asking first) or the page's CSRF
/// token in `X-CSRF-Token`; otherwise 403. The cookie's `SameSite=Lax` alone lets older
/// browsers, and sites on the same domain, post with it.
pub struct ApiUser(pub Principal);

/// Whether a cookie-signed request that changes something proves it comes from us.
fn same_origin_proof(parts: &mut Parts, state: &AppState) -> bool {
    if parts.method.is_safe() || bearer(parts).is_some() {
        return true;
    }
    let json = parts
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.trim_start().to_ascii_lowercase().starts_with("application/json"));
    if json {
        return true;
    }
    let token = parts.headers.get("x-csrf-token").and_then(|v| v.to_str().ok()).map(str::to_owned);
    match (token, csrf::Csrf::of(parts, state)) {
        (Some(t), Some(c)) => c.verify(&t).is_ok(),
        _ => false,
    }
}

impl FromRequestParts<AppState> for ApiUser {
    type Rejection = Response;
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        match resolve(parts, state).await {
            Ok(Some(_)) if !same_origin_proof(parts, state) => {
                Err(AppError::new(axum::http::StatusCode::FORBIDDEN, "csrf-invalid").into_response())
            }
            Ok(Some(p)) => Ok(ApiUser(p)),
            Ok(None) => {
                let mut res = AppError::unauthorized().into_response();
                res.headers_mut().insert(header::WWW_AUTHENTICATE, header::HeaderValue::from_static("Bearer"));
                Err(res)
            }
            Err(e) => Err(e.into_response()),
        }
    }
}

/// Whether the principal may do `action` on the unit at `path` (decided by core).
pub fn can(p: &Principal, action: Action, path: &UnitPath) -> bool {
    p.actor().can(action, path)
}

/// Whether the principal may do `action` somewhere in their scope (decided by core).
pub fn can_anywhere(p: &Principal, action: Action) -> bool {
    p.actor().can_anywhere(action)
}

/// Checks that the principal may see the unit at `path`: a unit outside the scope is
/// answered as if it did not exist.
pub fn ensure_visible(p: &Principal, path: &UnitPath) -> Result<(), AppError> {
    if can(p, Action::ViewUnit, path) { Ok(()) } else { Err(AppError::not_found()) }
}

/// Checks `action` on a unit the principal can see: 404 when it is out of sight, 403 when
/// it is in sight but the action is not theirs.
pub fn ensure(p: &Principal, action: Action, path: &UnitPath) -> Result<(), AppError> {
    ensure_visible(p, path)?;
    if can(p, action, path) { Ok(()) } else { Err(AppError::forbidden()) }
}

/// The root of what the principal sees: `None` for the whole tree.
pub fn scope_path(p: &Principal) -> Option<&UnitPath> {
    p.scope_root()
}

/// Recent answers for API tokens, so that a phone sending its queue of visits one request
/// at a time is looked up once every few seconds, not at every request. An answer is kept
/// for at most [`TokenCache::FRESH`], never past the token's expiry, and is dropped as soon
/// as anything that changes what a token grants happens in this process (a revocation, an
/// account disabled or moved to another agency, a unit moved: [`tokens::changed`]). A change
/// made by another process (the command line) is seen within `FRESH`. Only accepted tokens
/// are kept; the key is the token's hash.
#[derive(Default)]
pub struct TokenCache {
    entries: std::sync::Mutex<std::collections::HashMap<String, CachedToken>>,
}

struct CachedToken {
    principal: Principal,
    /// The token's expiry (Unix seconds).
    expires_at: i64,
    /// [`tokens::generation`] read before the lookup.
    generation: u64,
    at: std::time::Instant,
}

impl TokenCache {
    pub const FRESH: std::time::Duration = std::time::Duration::from_secs(5);
    /// Most tokens kept; when full, the cache starts over.
    const MAX: usize = 10_000;

    /// The principal of a live token, from the cache or the database.
    pub async fn principal(&self, db: &ngoso_store::Db, token: &str) -> Result<Option<Principal>, AppError> {
        let key = ngoso_store::secrets::hash_token(token.trim());
        let generation = tokens::generation();
        let now = ngoso_store::now();
        {
            let entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
            if let Some(c) = entries.get(&key)
                && c.generation == generation
                && c.at.elapsed() < Self::FRESH
                && c.expires_at > now
            {
                return Ok(Some(c.principal.clone()));
            }
        }
        let found = tokens::lookup(db, token).await?;
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        match &found {
            Some((principal, expires_at)) => {
                if entries.len() >= Self::MAX {
                    entries.clear();
                }
                let at = std::time::Instant::now();
                let entry = CachedToken { principal: principal.clone(), expires_at: *expires_at, generation, at };
                entries.insert(key, entry);
            }
            None => {
                entries.remove(&key);
            }
        }
        Ok(found.map(|(p, _)| p))
    }
}
