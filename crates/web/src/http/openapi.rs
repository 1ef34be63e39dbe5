//! The frame of the OpenAPI document at `/api/v1/openapi.json`. The paths come from the
//! features' routers (each API handler's `#[utoipa::path]`); this module adds what every
//! operation shares: the title, the bearer scheme, and the error answers the layers and
//! extractors give (a bad path or query, a body that is not JSON, no sign-in, a request too
//! large or too slow, a database too busy), so that every status a handler can return is in
//! the document.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::openapi::path::{HttpMethod, Operation};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{Content, OpenApi as Doc, Ref, RefOr, ResponseBuilder};
use utoipa::{Modify, OpenApi, ToSchema};

use crate::http::error::{ApiErrorBody, ApiErrorDetail};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "ngoso API",
        description = "The JSON API of ngoso (Ngõ Số). Authenticate with a session cookie or `Authorization: Bearer TOKEN` \
                       from `POST /api/v1/auth/token`. Errors carry a stable `code` and a `message` in the request's \
                       language (`Accept-Language: vi` or `en`; Vietnamese by default). A request that changes \
                       something and is signed in with the session cookie must send a JSON body \
                       (`Content-Type: application/json`) or the page's CSRF token in `X-CSRF-Token`."
    ),
    components(schemas(ApiErrorBody, ApiErrorDetail, Created)),
    modifiers(&BearerAuth),
    security(("bearer" = [])),
)]
struct Frame;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut Doc) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// The frame the features' paths are added to.
pub fn frame() -> Doc {
    Frame::openapi()
}

/// Adds to every operation the error answers it can give besides its own, then returns the
/// finished document.
pub fn finish(mut doc: Doc) -> Doc {
    let error = |why: &str| {
        ResponseBuilder::new()
            .description(why)
            .content("application/json", Content::new(Some(RefOr::Ref(Ref::from_schema_name("ApiErrorBody")))))
            .build()
    };
    let secured_by_default = doc.security.as_ref().is_some_and(|s| !s.is_empty());
    for (_, item) in doc.paths.paths.iter_mut() {
        let has_params = !item.parameters.as_ref().is_none_or(|p| p.is_empty());
        for (method, op) in operations(item) {
            let secured = match &op.security {
                // `security(())`: an empty requirement, anyone may call.
                Some(s) => !s.iter().all(|r| serde_json::to_value(r).is_ok_and(|v| v == serde_json::json!({}))),
                None => secured_by_default,
            };
            let with_body = op.request_body.is_some();
            let changes = !matches!(method, HttpMethod::Get | HttpMethod::Head | HttpMethod::Options);
            let mut add = |status: StatusCode, why: &str| {
                op.responses.responses.entry(status.as_u16().to_string()).or_insert_with(|| RefOr::T(error(why)));
            };
            if has_params || op.parameters.as_ref().is_some_and(|p| !p.is_empty()) || with_body {
                add(StatusCode::BAD_REQUEST, "a path, query or body that cannot be read");
            }
            if secured {
                add(StatusCode::UNAUTHORIZED, "not signed in: no session, or a token unknown, expired or revoked");
                if changes {
                    add(StatusCode::FORBIDDEN, "signed in with the session cookie, without a JSON body or CSRF token");
                }
            }
            if with_body {
                add(StatusCode::PAYLOAD_TOO_LARGE, "the body is larger than the configured limit");
                add(StatusCode::UNSUPPORTED_MEDIA_TYPE, "the body is not sent as application/json");
                add(StatusCode::UNPROCESSABLE_ENTITY, "the body is JSON but not of the expected shape");
            }
            add(
                StatusCode::SERVICE_UNAVAILABLE,
                "the database is busy, or the request took longer than the configured timeout; try again after Retry-After seconds",
            );
        }
    }
    doc
}

fn operations(item: &mut utoipa::openapi::PathItem) -> Vec<(HttpMethod, &mut Operation)> {
    [
        (HttpMethod::Get, item.get.as_mut()),
        (HttpMethod::Put, item.put.as_mut()),
        (HttpMethod::Post, item.post.as_mut()),
        (HttpMethod::Delete, item.delete.as_mut()),
        (HttpMethod::Options, item.options.as_mut()),
        (HttpMethod::Head, item.head.as_mut()),
        (HttpMethod::Patch, item.patch.as_mut()),
        (HttpMethod::Trace, item.trace.as_mut()),
    ]
    .into_iter()
    .filter_map(|(m, op)| op.map(|o| (m, o)))
    .collect()
}

/// The id of something created.
#[derive(Debug, Serialize, ToSchema)]
pub struct Created {
    pub id: i64,
}

/// `201 Created` with the new id, and its place in `Location`.
pub fn created(id: i64, location: &str) -> Response {
    let mut res = (StatusCode::CREATED, Json(Created { id })).into_response();
    if let Ok(v) = HeaderValue::from_str(location) {
        res.headers_mut().insert(header::LOCATION, v);
    }
    res
}

/// A JSON response with a status.
pub fn json_status<T: Serialize>(status: StatusCode, body: &T) -> Response {
    (status, Json(body)).into_response()
}
