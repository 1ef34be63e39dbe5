//! What every feature shares over HTTP: the error type and its rendering, extractors,
//! page rendering, languages and message catalogues, cookies, embedded assets, metrics and
//! the OpenAPI document's frame.

pub mod assets;
pub mod cookies;
pub mod csvfile;
pub mod error;
pub mod extract;
pub mod headers;
pub mod i18n;
pub mod lang;
pub mod metrics;
pub mod openapi;
pub mod render;

use axum::Json;
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use crate::AppState;

/// The routes of the plumbing: the language switch, assets, health and metrics.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/lang/{code}", get(lang::switch))
        .route("/assets/{name}", get(assets::serve))
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics::serve))
}

/// `GET /healthz`: whether the database answers.
async fn healthz(State(st): State<AppState>) -> Response {
    match st.db.ping().await {
        Ok(()) => Json(serde_json::json!({"status": "ok", "database": st.db.backend().as_str()})).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "health check: database unreachable");
            (StatusCode::SERVICE_UNAVAILABLE, Json(serde_json::json!({"status": "unavailable"}))).into_response()
        }
    }
}
