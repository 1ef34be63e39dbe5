//! One error type for the web layer, and the middleware that renders every error response
//! in the request's language and format.
//!
//! Handlers return [`AppError`]; it becomes a response carrying an [`ErrorInfo`] and no
//! body. [`render_errors`] then writes the body: a JSON object with a stable `code` under
//! `/api/`, an HTML page elsewhere. Error responses made outside our handlers (an extractor
//! refusing a body, a request too large, an unknown route) are rendered the same way.

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use ngoso_core::Invalid;
use ngoso_store::StoreError;
use serde::Serialize;

use crate::http::i18n::{Lang, msg};

/// What went wrong, without words: the words are chosen when the response is rendered.
#[derive(Debug, Clone)]
pub struct ErrorInfo {
    pub status: StatusCode,
    pub code: &'static str,
    pub field: Option<&'static str>,
    pub detail: Option<String>,
    /// The row of a file or the entry of a list that was refused (1 is the first).
    pub row: Option<u64>,
    /// The list of a document the entry is in (`agencies`, `routes`…), when there are several.
    pub section: Option<&'static str>,
}

/// An error a handler returns.
#[derive(Debug, Clone)]
pub struct AppError(pub Box<ErrorInfo>);

impl AppError {
    pub fn new(status: StatusCode, code: &'static str) -> Self {
        Self(Box::new(ErrorInfo { status, code, field: None, detail: None, row: None, section: None }))
    }
    pub fn not_found() -> Self {
        Self::new(StatusCode::NOT_FOUND, "not-found")
    }
    pub fn forbidden() -> Self {
        Self::new(StatusCode::FORBIDDEN, "forbidden")
    }
    pub fn unauthorized() -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "unauthorized")
    }
    pub fn bad_request(code: &'static str) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code)
    }
    pub fn too_many(retry_after_secs: u64) -> Self {
        Self::new(StatusCode::TOO_MANY_REQUESTS, "too-many-requests").with_detail(retry_after_secs.to_string())
    }
    /// 503 with `Retry-After`: the server could not do it now, and nothing was done.
    pub fn unavailable(retry_after_secs: u64) -> Self {
        Self::new(StatusCode::SERVICE_UNAVAILABLE, "unavailable").with_detail(retry_after_secs.to_string())
    }
    /// Logs the cause; the client sees only that something failed on our side.
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        tracing::error!(error = %cause, "internal error");
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "internal-error")
    }
    pub fn with_field(mut self, f: &'static str) -> Self {
        self.0.field = Some(f);
        self
    }
    pub fn with_detail(mut self, d: impl Into<String>) -> Self {
        self.0.detail = Some(d.into());
        self
    }
    /// The error of one row of a file or one entry of a list.
    pub fn at_row(mut self, row: u64) -> Self {
        self.0.row = Some(row);
        self
    }
    /// Whether the error is a refusal of what was typed, to show on the form sent back (a
    /// 4xx other than a missing page).
    pub fn is_refusal(&self) -> bool {
        self.0.status.is_client_error() && self.0.status != StatusCode::NOT_FOUND
    }
    pub fn info(&self) -> &ErrorInfo {
        &self.0
    }
}

/// Status of a refused input: 409 for a clash with what exists, 422 otherwise.
fn invalid_status(code: &str) -> StatusCode {
    if code.ends_with("-exists") || code.ends_with("-taken") || code.ends_with("-duplicate") {
        StatusCode::CONFLICT
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    }
}

impl From<Invalid> for AppError {
    fn from(i: Invalid) -> Self {
        Self(Box::new(ErrorInfo {
            status: invalid_status(i.code),
            code: i.code,
            field: i.field,
            detail: i.detail,
            row: None,
            section: None,
        }))
    }
}

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => AppError::not_found(),
            // Too many password checks waiting: the client may try again in a moment.
            StoreError::Busy => AppError::too_many(2),
            // The database could not be had in time (another writer held it, every
            // connection was busy): nothing was done; the client may send it again.
            e if e.is_busy() => {
                tracing::warn!(error = %e, "the database was busy: answered 503");
                AppError::unavailable(5)
            }
            StoreError::Invalid(i) => i.into(),
            StoreError::AtRow { row, section, invalid } => {
                let mut e = AppError::from(invalid).at_row(row);
                e.0.section = section;
                e
            }
            other => AppError::internal(other),
        }
    }
}

impl From<ngoso_core::auth::Denied> for AppError {
    fn from(d: ngoso_core::auth::Denied) -> Self {
        match d {
            ngoso_core::auth::Denied::NotFound => AppError::not_found(),
            ngoso_core::auth::Denied::Forbidden => AppError::forbidden(),
        }
    }
}

impl From<askama::Error> for AppError {
    fn from(e: askama::Error) -> Self {
        AppError::internal(e)
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let mut res = Response::new(Body::empty());
        *res.status_mut() = self.0.status;
        if matches!(self.0.status, StatusCode::TOO_MANY_REQUESTS | StatusCode::SERVICE_UNAVAILABLE)
            && let Some(v) = self.0.detail.as_deref().and_then(|d| HeaderValue::from_str(d).ok())
        {
            res.headers_mut().insert(header::RETRY_AFTER, v);
        }
        res.extensions_mut().insert(*self.0);
        res
    }
}

/// The message a person reads for an error, in `lang`.
pub fn message(lang: Lang, info: &ErrorInfo) -> String {
    let field = info.field.map(|f| msg(lang, &format!("field-{f}"), &[])).unwrap_or_default();
    let detail = info.detail.clone().unwrap_or_default();
    let id = format!("err-{}", info.code);
    let text = if crate::http::i18n::has(lang, &id) {
        msg(lang, &id, &[("field", &field), ("detail", &detail)])
    } else {
        msg(lang, "err-generic", &[("code", info.code)])
    };
    match (info.row, info.section) {
        (Some(row), Some(section)) => {
            let id = format!("section-{section}");
            let name = if crate::http::i18n::has(lang, &id) { msg(lang, &id, &[]) } else { section.to_owned() };
            msg(lang, "err-at-entry", &[("row", &row.to_string()), ("section", &name), ("message", &text)])
        }
        (Some(row), None) => msg(lang, "err-at-row", &[("row", &row.to_string()), ("message", &text)]),
        (None, _) => text,
    }
}

/// The message of an error of one entry of a form that lists several (a grid of values, of
/// targets), the entry named by `name_of(row)` in place of its number.
pub fn message_naming_row(lang: Lang, info: &ErrorInfo, name_of: impl Fn(u64) -> Option<String>) -> String {
    let mut info = info.clone();
    let name = info.row.take().and_then(name_of);
    let msg = message(lang, &info);
    match name {
        Some(n) => format!("{n}: {msg}"),
        None => msg,
    }
}

/// The JSON body of an API error.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ApiErrorBody {
    pub error: ApiErrorDetail,
}

/// An API error: a stable `code` to act on and a `message` in the request's language.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ApiErrorDetail {
    /// Stable machine-readable code, e.g. `unit-code-exists`.
    pub code: String,
    /// What went wrong, in the request's language (Vietnamese unless the request asks for English).
    pub message: String,
    /// The input field concerned, when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// The offending value or the limit, when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// The row of a file (the header is row 1) or the entry of a list (the first is 1) that
    /// was refused; nothing of the file or list was written.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub row: Option<u64>,
    /// The list of the document that entry is in (`agencies`, `categories`, `staff`,
    /// `routes`, `days`), when the request carries several.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub section: Option<&'static str>,
}

/// A status with no error info of ours: map it to a code.
fn info_for_bare_status(status: StatusCode) -> ErrorInfo {
    let code = match status {
        StatusCode::NOT_FOUND => "not-found",
        StatusCode::METHOD_NOT_ALLOWED => "method-not-allowed",
        StatusCode::PAYLOAD_TOO_LARGE => "body-too-large",
        StatusCode::UNSUPPORTED_MEDIA_TYPE => "unsupported-media-type",
        StatusCode::UNPROCESSABLE_ENTITY | StatusCode::BAD_REQUEST => "bad-request",
        StatusCode::UNAUTHORIZED => "unauthorized",
        StatusCode::FORBIDDEN => "forbidden",
        StatusCode::TOO_MANY_REQUESTS => "too-many-requests",
        s if s.is_server_error() => "internal-error",
        _ => "bad-request",
    };
    ErrorInfo { status, code, field: None, detail: None, row: None, section: None }
}

/// Whether a response already carries a body we rendered ourselves.
fn is_rendered(res: &Response) -> bool {
    res.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).is_some_and(|ct| {
        ct.starts_with("text/html")
            || ct.starts_with("application/json")
            || ct.starts_with("application/xml")
            || ct.starts_with("text/xml")
    })
}

/// How the errors under one path prefix are written, when not as our JSON (under `/api/`)
/// or an HTML page: the status, content type and body for an error.
pub type Renderer = fn(&str, Lang, &ErrorInfo) -> (StatusCode, HeaderValue, String);

/// The renderers of the path prefixes that have their own error format (Open311's XML and
/// JSON), given by the application.
#[derive(Clone, Default)]
pub struct Renderers(Vec<(&'static str, Renderer)>);

impl Renderers {
    /// Errors under `prefix` are written by `r`.
    pub fn with(mut self, prefix: &'static str, r: Renderer) -> Self {
        self.0.push((prefix, r));
        self
    }
}

/// Middleware: a request that takes longer than the configured time is cut off and answered
/// 503 with `Retry-After` (the database was held by another writer, most often). Whatever it
/// had stored stays stored: every write the phones send may be sent again.
pub async fn time_limit(State(limit): State<std::time::Duration>, req: Request, next: Next) -> Response {
    let path = req.uri().path().to_owned();
    match tokio::time::timeout(limit, next.run(req)).await {
        Ok(res) => res,
        Err(_) => {
            tracing::warn!(%path, ?limit, "a request took longer than the request timeout: answered 503");
            AppError::new(StatusCode::SERVICE_UNAVAILABLE, "timeout").with_detail("5").into_response()
        }
    }
}

/// Middleware: writes the body of every error response.
pub async fn render_errors(State(renderers): State<Renderers>, req: Request, next: Next) -> Response {
    let path = req.uri().path().to_owned();
    let page_lang = crate::http::lang::page_lang(req.headers(), req.uri());
    let api_lang = crate::http::lang::api_lang(req.headers(), req.uri());
    let res = next.run(req).await;
    let status = res.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return res;
    }
    let info = match res.extensions().get::<ErrorInfo>() {
        Some(i) => i.clone(),
        None if is_rendered(&res) => return res,
        None => {
            if status.is_server_error() {
                tracing::error!(%status, %path, "server error without details");
            }
            info_for_bare_status(status)
        }
    };
    let (mut parts, _) = res.into_parts();
    parts.headers.remove(header::CONTENT_LENGTH);
    if path.starts_with("/api/") {
        let body = ApiErrorBody {
            error: ApiErrorDetail {
                code: info.code.to_owned(),
                message: message(api_lang, &info),
                field: info.field.map(str::to_owned),
                detail: info.detail.clone(),
                row: info.row,
                section: info.section,
            },
        };
        parts.headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
        let json = serde_json::to_vec(&body).unwrap_or_default();
        Response::from_parts(parts, Body::from(json))
    } else if let Some((_, render)) = renderers.0.iter().find(|(prefix, _)| path.starts_with(prefix)) {
        let (status, ct, body) = render(&path, api_lang, &info);
        parts.status = status;
        parts.headers.insert(header::CONTENT_TYPE, ct);
        Response::from_parts(parts, Body::from(body))
    } else if path == "/metrics" || path == "/healthz" {
        parts.headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain; charset=utf-8"));
        Response::from_parts(parts, Body::from(message(api_lang, &info)))
    } else {
        let html = crate::http::render::error_page(page_lang, &info);
        parts.headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"));
        Response::from_parts(parts, Body::from(html))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_busy_database_is_503_with_retry_after() {
        let res = AppError::from(StoreError::Db(sqlx::Error::PoolTimedOut)).into_response();
        assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(res.headers().get(header::RETRY_AFTER).unwrap(), "5");
        let res = AppError::from(StoreError::Sqlite("database is locked (code 5)".into())).into_response();
        assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
        let res = AppError::from(StoreError::Sqlite("disk I/O error".into())).into_response();
        assert_eq!(res.status(), StatusCode::INTERNAL_SERVER_ERROR);
    }
}
