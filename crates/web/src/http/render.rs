//! Rendering server-side pages: the context every page's layout needs (language, user,
//! CSRF token), the extractor that builds it, and the error page. Every page works without
//! JavaScript.

use askama::Template;
use axum::extract::{FromRequestParts, OriginalUri};
use axum::http::request::Parts;
use axum::response::{Html, IntoResponse, Response};
use ngoso_core::auth::Action;
use ngoso_store::users::Principal;

use crate::AppState;
use crate::auth::csrf::Csrf;
use crate::auth::{MaybeUser, can_anywhere};
use crate::http::assets;
use crate::http::error::{AppError, ErrorInfo, message};
use crate::http::i18n::{Lang, Tr};

/// What the signed-in user sees in the page header.
#[derive(Debug, Clone)]
pub struct UserView {
    pub username: String,
    pub display_name: String,
    pub manages_users: bool,
    /// Records visits: the field app is theirs.
    pub records_visits: bool,
}

impl UserView {
    fn of(p: &Principal) -> Self {
        Self {
            username: p.username.clone(),
            display_name: p.display_name.clone(),
            manages_users: can_anywhere(p, Action::ManageUsers),
            records_visits: can_anywhere(p, Action::RecordVisit),
        }
    }
}

/// What every page's layout needs.
#[derive(Debug, Clone)]
pub struct PageCtx {
    pub lang: Lang,
    pub tr: Tr,
    pub user: Option<UserView>,
    pub csrf: String,
    /// The path and query of this page, to come back to after switching language.
    pub here: String,
}

impl PageCtx {
    pub fn t(&self, id: &str) -> String {
        self.tr.t(id)
    }
    pub fn css(&self) -> &'static str {
        assets::css_url()
    }
    pub fn js(&self) -> &'static str {
        assets::js_url()
    }
    pub fn switch_url(&self) -> String {
        format!("/lang/{}?next={}", self.lang.other().code(), urlencode(&self.here))
    }
}

/// Extracts the page context: language, user, CSRF token.
pub struct Ctx(pub PageCtx);

impl FromRequestParts<AppState> for Ctx {
    type Rejection = AppError;
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let lang = crate::http::lang::page_lang(&parts.headers, &parts.uri);
        let MaybeUser(user) = MaybeUser::from_request_parts(parts, state).await?;
        let csrf = Csrf::from_request_parts(parts, state).await?;
        let uri = parts.extensions.get::<OriginalUri>().map(|u| u.0.clone()).unwrap_or_else(|| parts.uri.clone());
        let here = strip_lang(uri.path_and_query().map(|p| p.as_str()).unwrap_or("/"));
        Ok(Ctx(PageCtx {
            lang,
            tr: Tr(lang),
            user: user.as_ref().map(UserView::of),
            csrf: csrf.token().to_owned(),
            here,
        }))
    }
}

/// Drops a `lang=` parameter from a path and query.
fn strip_lang(pq: &str) -> String {
    match pq.split_once('?') {
        None => pq.to_owned(),
        Some((path, q)) => {
            let rest: Vec<&str> = q.split('&').filter(|kv| !kv.starts_with("lang=") && !kv.is_empty()).collect();
            if rest.is_empty() { path.to_owned() } else { format!("{path}?{}", rest.join("&")) }
        }
    }
}

/// Percent-encodes a string for a query parameter.
pub fn urlencode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => out.push(b as char),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// Renders a template into a response.
pub fn render(t: &impl Template) -> Result<Response, AppError> {
    Ok(Html(t.render()?).into_response())
}

/// Renders a template with a status other than 200 (a form sent back with its error).
pub fn render_status(status: axum::http::StatusCode, t: &impl Template) -> Result<Response, AppError> {
    Ok((status, Html(t.render()?)).into_response())
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage {
    ctx: PageCtx,
    heading: String,
    message: String,
    /// The stable code of the error, shown small so a person can quote it when asking for help.
    code: &'static str,
}

/// The HTML page of an error (the layout without user details: the error may be about the
/// session itself).
pub fn error_page(lang: Lang, info: &ErrorInfo) -> String {
    let tr = Tr(lang);
    let page = ErrorPage {
        ctx: PageCtx { lang, tr, user: None, csrf: String::new(), here: "/".into() },
        heading: tr.t1("error-heading", "status", info.status.as_u16()),
        message: message(lang, info),
        code: info.code,
    };
    page.render().unwrap_or_else(|_| message(lang, info))
}

/// The application's own address: its configured public address, else the request's host
/// (plain host names only) with the scheme its cookies say.
pub fn base_url(st: &crate::AppState, headers: &axum::http::HeaderMap) -> String {
    if let Some(u) = st.cfg.public_url() {
        return u.to_owned();
    }
    let plain = |h: &&str| {
        !h.is_empty() && h.len() <= 255 && h.bytes().all(|b| b.is_ascii_alphanumeric() || b".-:[]".contains(&b))
    };
    let host = headers.get(axum::http::header::HOST).and_then(|h| h.to_str().ok()).filter(plain).unwrap_or("localhost");
    let scheme = if st.cfg.secure_cookies() { "https" } else { "http" };
    format!("{scheme}://{host}")
}

/// A stored photo (a feedback item's, a creative model's) for signed-in users, with a type
/// browsers will not sniff: the public never sees photos (they may show people or homes).
pub fn photo_response(mime: String, bytes: Vec<u8>) -> Response {
    use axum::http::header;
    (
        [
            (header::CONTENT_TYPE, mime),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff".to_owned()),
            (header::CACHE_CONTROL, "private, max-age=3600".to_owned()),
            (header::CONTENT_DISPOSITION, "inline".to_owned()),
        ],
        bytes,
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lang_parameter_is_dropped() {
        assert_eq!(strip_lang("/app/units?lang=en"), "/app/units");
        assert_eq!(strip_lang("/app/units?q=a&lang=en"), "/app/units?q=a");
        assert_eq!(strip_lang("/"), "/");
    }

    #[test]
    fn encodes() {
        assert_eq!(urlencode("/app/units?q=ấp 1&x=2"), "/app/units%3Fq%3D%E1%BA%A5p%201%26x%3D2");
    }
}
