//! The whole application: every feature's router merged, and the layers around them.

use std::time::Duration;

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::DefaultBodyLimit;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Json, Router, middleware};
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tower::Service;
use tower_http::compression::CompressionLayer;
use tower_http::limit::RequestBodyLimitLayer;

use utoipa_axum::router::OpenApiRouter;

use crate::http::{self, error, metrics, openapi};
use crate::{
    AppState, accounts, auth, events, export, feedback, field, home, households, indicators, models, places, report,
    services, stats, streets, teams, units, values, visits,
};

async fn not_found() -> error::AppError {
    error::AppError::not_found()
}

/// What every feature's router holds: pages and API routes (the API documented).
fn features() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(openapi::frame())
        .merge(home::router())
        .merge(auth::router())
        .merge(accounts::router())
        .merge(units::router())
        .merge(teams::router())
        .merge(households::router())
        .merge(visits::router())
        .merge(services::router())
        .merge(values::router())
        .merge(indicators::router())
        .merge(export::router())
        .merge(places::router())
        .merge(report::router())
        .merge(stats::router())
        .merge(feedback::router())
        .merge(field::router())
        .merge(models::router())
        .merge(events::router())
        .merge(streets::router())
}

/// The forms and requests that may carry a photo: feedback's, creative models' and their
/// places'.
fn uploads() -> OpenApiRouter<AppState> {
    feedback::uploads().merge(models::uploads()).merge(streets::uploads())
}

/// The OpenAPI document of the API, as `/api/v1/openapi.json` serves it.
pub fn openapi_doc() -> utoipa::openapi::OpenApi {
    let (_, doc) = features().merge(uploads()).split_for_parts();
    openapi::finish(doc)
}

/// The whole application.
pub fn app(state: AppState) -> Router {
    let limit = state.cfg.body_limit_bytes;
    let timeout = Duration::from_secs(state.cfg.request_timeout_secs);
    let (small, doc) = features().split_for_parts();
    // Forms that may carry a photo get room for it (and a little for the other fields).
    let upload_limit = state.cfg.feedback_photo_max_bytes + 256 * 1024;
    let (uploads, upload_doc) = uploads().split_for_parts();
    let mut doc = doc;
    doc.merge(upload_doc);
    let doc = Arc::new(openapi::finish(doc));
    let small = small
        .merge(http::router())
        .route("/api/v1/openapi.json", get(move || async move { Json(doc.as_ref().clone()).into_response() }))
        .layer(DefaultBodyLimit::max(limit))
        .layer(RequestBodyLimitLayer::new(limit));
    let uploads = uploads.layer(DefaultBodyLimit::max(upload_limit)).layer(RequestBodyLimitLayer::new(upload_limit));
    Router::new()
        .merge(small)
        .merge(uploads)
        .fallback(not_found)
        .layer(middleware::from_fn_with_state(state.clone(), metrics::track))
        .layer(middleware::from_fn_with_state(state.clone(), auth::csrf::ensure_cookie))
        .layer(middleware::from_fn_with_state(timeout, error::time_limit))
        .layer(middleware::from_fn_with_state(
            error::Renderers::default().with("/open311/", feedback::open311::render_error),
            error::render_errors,
        ))
        .layer(middleware::from_fn(http::headers::security))
        .layer(CompressionLayer::new())
        .with_state(state)
}

/// Serves the application on a bound listener until Ctrl-C or SIGTERM.
///
/// A client must send a request's headers within `client_timeout_secs`, and a connection
/// idle for as long between requests is closed: a client trickling its headers (or a crowd
/// of them) would otherwise hold connections for ever. At most `max_connections` are open
/// at once; past that, new ones wait in the kernel's queue until one closes.
pub async fn serve(listener: tokio::net::TcpListener, state: AppState) -> std::io::Result<()> {
    crate::jobs::spawn(&state);
    let client_timeout = Duration::from_secs(state.cfg.client_timeout_secs.max(1));
    let slots = Arc::new(tokio::sync::Semaphore::new(state.cfg.max_connections.max(1)));
    let mut make = app(state).into_make_service_with_connect_info::<SocketAddr>();
    let mut builder = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
    builder.http1().timer(TokioTimer::new()).header_read_timeout(client_timeout);
    builder.http2().timer(TokioTimer::new()).keep_alive_interval(client_timeout).keep_alive_timeout(client_timeout);
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let stop = shutdown_signal();
    tokio::pin!(stop);
    loop {
        let slot = tokio::select! {
            slot = slots.clone().acquire_owned() => slot.expect("the semaphore is never closed"),
            _ = &mut stop => break,
        };
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    // Out of file descriptors, say: wait a little rather than spin.
                    tracing::warn!(error = %e, "accepting a connection failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            _ = &mut stop => break,
        };
        let Ok(svc) = make.call(peer).await;
        let conn = builder.serve_connection_with_upgrades(TokioIo::new(stream), TowerToHyperService::new(svc));
        let conn = graceful.watch(conn.into_owned());
        tokio::spawn(async move {
            if let Err(e) = conn.await {
                tracing::debug!(error = %e, "connection ended");
            }
            drop(slot);
        });
    }
    // Requests under way finish (within the request timeout); idle connections close.
    drop(listener);
    if tokio::time::timeout(Duration::from_secs(30), graceful.shutdown()).await.is_err() {
        tracing::warn!("connections still open at shutdown were closed");
    }
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
    tracing::info!("shutting down");
}
