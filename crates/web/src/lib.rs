//! The ngoso web application: public pages, staff pages, the JSON API.
//!
//! Data flows one way: request → extractor (who, which unit scope) → parse input into core
//! types → store call → render (HTML or JSON).

pub mod api;
pub mod assets;
pub mod auth;
pub mod cookies;
pub mod error;
pub mod feedback;
pub mod figures;
pub mod households;
pub mod i18n;
pub mod lang;
pub mod metrics;
pub mod notify;
pub mod open311;
pub mod pages;
pub mod teams;
pub mod units;
pub mod visits;

use std::ops::Deref;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{DefaultBodyLimit, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router, middleware};
use ngoso_store::Db;
use tower_http::compression::CompressionLayer;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::timeout::TimeoutLayer;

/// Settings of the web layer.
#[derive(Debug, Clone)]
pub struct WebConfig {
    /// How long a login session lasts, in seconds.
    pub session_ttl_secs: i64,
    /// Longest lifetime of an API token, in days (also the default).
    pub token_ttl_days: i64,
    /// Mark cookies `Secure` (set when served over HTTPS).
    pub cookie_secure: bool,
    /// Largest request body accepted, in bytes.
    pub body_limit_bytes: usize,
    /// Seconds a request may take before it is cut off.
    pub request_timeout_secs: u64,
    /// Failed logins of one user name within the window before logins are refused.
    pub login_max_failures_per_user: i64,
    /// Failed logins from one client address within the window before logins are refused.
    pub login_max_failures_per_client: i64,
    /// The window of the login limits, in seconds.
    pub login_window_secs: i64,
    /// Take the client address from `X-Forwarded-For` (only behind a proxy that sets it).
    pub trust_forwarded_for: bool,
    /// Fewest and most active members of a team before it is flagged.
    pub team_bounds: ngoso_core::outreach::TeamBounds,
    /// Key of the citizen-ID hash (HMAC-SHA256). Without it citizen IDs are not accepted.
    pub cccd_key: Option<String>,
    /// Largest photo accepted with a feedback item, in bytes.
    pub feedback_photo_max_bytes: usize,
    /// Public feedback submissions accepted from one client address per hour (0: no limit).
    pub feedback_per_client_per_hour: u32,
    /// The SMS/e-mail gateway that receives messages to citizens, if any.
    pub citizen_notify_url: Option<String>,
    /// The address ngoso is reached at (`https://host[/prefix]`, no trailing slash), for the
    /// links it gives out of band: the Open311 discovery document's endpoint. None: taken
    /// from the request's `Host` header, when that is a plain host name.
    pub public_url: Option<String>,
    /// Let agencies' webhooks go to loopback, private and other non-public addresses (an
    /// agency system inside the province's own network). Off: such webhooks are not sent.
    pub webhook_private_addresses: bool,
}

impl Default for WebConfig {
    fn default() -> Self {
        Self {
            session_ttl_secs: 12 * 3600,
            token_ttl_days: 90,
            cookie_secure: false,
            body_limit_bytes: 1024 * 1024,
            request_timeout_secs: 30,
            login_max_failures_per_user: 5,
            login_max_failures_per_client: 30,
            login_window_secs: 15 * 60,
            trust_forwarded_for: false,
            team_bounds: ngoso_core::outreach::TeamBounds::default(),
            cccd_key: None,
            feedback_photo_max_bytes: 5 * 1024 * 1024,
            feedback_per_client_per_hour: 10,
            citizen_notify_url: None,
            public_url: None,
            webhook_private_addresses: false,
        }
    }
}

/// What every handler shares.
pub struct Inner {
    pub db: Db,
    pub cfg: WebConfig,
    /// Key of the CSRF tokens' HMAC, shared by every process through the database.
    pub csrf_key: Vec<u8>,
    pub metrics: metrics::Metrics,
    /// The service catalogue, reloaded every few seconds (other processes may change it).
    catalog: tokio::sync::RwLock<Option<(std::time::Instant, Arc<ngoso_store::catalog::Catalog>)>>,
    /// Group commit of visit uploads.
    pub ingestor: visits::Ingestor,
    /// Feedback categories, agencies, calendar and places, reloaded every few seconds.
    feedback_setup: feedback::SetupCache,
    /// Public feedback submissions per client.
    pub feedback_limiter: feedback::RateLimiter,
    /// Recent answers for API tokens.
    pub tokens: auth::TokenCache,
}

/// The shared state, cheap to clone.
#[derive(Clone)]
pub struct AppState(Arc<Inner>);

impl Deref for AppState {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}

impl AppState {
    /// Builds the state; reads (or creates) the instance secret in the database.
    pub async fn new(db: Db, cfg: WebConfig) -> Result<Self, ngoso_store::StoreError> {
        let secret = ngoso_store::settings::secret(&db, "csrf_key").await?;
        Ok(AppState(Arc::new(Inner {
            ingestor: visits::Ingestor::start(db.clone()),
            db,
            cfg,
            csrf_key: secret.into_bytes(),
            metrics: Default::default(),
            catalog: Default::default(),
            feedback_setup: Default::default(),
            feedback_limiter: Default::default(),
            tokens: Default::default(),
        })))
    }

    /// The service catalogue, at most a few seconds old.
    pub async fn catalog(&self) -> Result<Arc<ngoso_store::catalog::Catalog>, ngoso_store::StoreError> {
        const FRESH: Duration = Duration::from_secs(5);
        if let Some((at, c)) = self.catalog.read().await.as_ref()
            && at.elapsed() < FRESH
        {
            return Ok(c.clone());
        }
        let c = Arc::new(ngoso_store::catalog::load(&self.db).await?);
        *self.catalog.write().await = Some((std::time::Instant::now(), c.clone()));
        Ok(c)
    }

    /// The feedback set-up, at most a few seconds old.
    pub async fn feedback_setup(&self) -> Result<Arc<feedback::Setup>, ngoso_store::StoreError> {
        const FRESH: Duration = Duration::from_secs(5);
        if let Some((at, c)) = self.feedback_setup.read().await.as_ref()
            && at.elapsed() < FRESH
        {
            return Ok(c.clone());
        }
        let c = Arc::new(feedback::Setup::load(&self.db).await?);
        *self.feedback_setup.write().await = Some((std::time::Instant::now(), c.clone()));
        Ok(c)
    }

    /// Forgets the cached feedback set-up after a change.
    pub async fn feedback_setup_changed(&self) {
        *self.feedback_setup.write().await = None;
    }

    /// Forgets the cached catalogue after a change.
    pub async fn catalog_changed(&self) {
        *self.catalog.write().await = None;
    }
}

async fn healthz(State(st): State<AppState>) -> Response {
    match st.db.ping().await {
        Ok(()) => Json(serde_json::json!({"status": "ok", "database": st.db.backend().as_str()})).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "health check: database unreachable");
            (StatusCode::SERVICE_UNAVAILABLE, Json(serde_json::json!({"status": "unavailable"}))).into_response()
        }
    }
}

async fn not_found() -> error::AppError {
    error::AppError::not_found()
}

/// The whole application.
pub fn app(state: AppState) -> Router {
    let pages = Router::new()
        .route("/", get(pages::home))
        .route("/login", get(auth::login::form).post(auth::login::submit))
        .route("/logout", post(auth::login::logout))
        .route("/lang/{code}", get(lang::switch))
        .route("/app", get(|| async { axum::response::Redirect::to("/app/units") }))
        .route("/app/units", get(pages::units::index))
        .route("/app/units/new", get(pages::units::new_form).post(pages::units::create))
        .route("/app/units/{id}", get(pages::units::show))
        .route("/app/units/{id}/edit", get(pages::units::edit_form).post(pages::units::edit))
        .route("/app/units/{id}/move", get(pages::units::move_form).post(pages::units::move_unit))
        .route("/app/users", get(pages::users::list))
        .route("/app/users/new", get(pages::users::new_form).post(pages::users::create))
        .route("/app/users/{id}/disable", post(pages::users::disable))
        .route("/app/users/{id}/enable", post(pages::users::enable))
        .route("/app/users/{id}/reset-password", post(pages::users::reset_password))
        .route("/app/teams", get(pages::teams::index))
        .route("/app/teams/new", get(pages::teams::new_form).post(pages::teams::create))
        .route("/app/teams/{id}", get(pages::teams::show))
        .route("/app/teams/{id}/members", post(pages::teams::add_member))
        .route("/app/members/{id}/left", post(pages::teams::member_left))
        .route("/app/households", get(pages::households::index))
        .route("/app/households/new", get(pages::households::new_form).post(pages::households::create))
        .route("/app/households/{id}", get(pages::households::show))
        .route("/app/households/{id}/edit", get(pages::households::edit_form).post(pages::households::edit))
        .route("/app/households/{id}/residents", post(pages::households::add_resident))
        .route("/app/households/{id}/visit", get(pages::households::visit_form).post(pages::households::visit))
        .route("/app/households/{id}/correct", post(pages::households::correct))
        .route("/app/households/{id}/anonymize", post(pages::households::anonymize))
        .route("/app/consents/{id}/withdraw", post(pages::households::withdraw_consent))
        .route("/app/walk", get(pages::walk::page))
        .route("/app/services", get(pages::services::index).post(pages::services::create))
        .route("/app/services/{id}/statuses", post(pages::services::add_status))
        .route("/app/feedback", get(pages::feedback_staff::inbox))
        .route("/app/feedback/figures", get(pages::feedback_staff::figures))
        .route("/app/feedback/{id}", get(pages::feedback_staff::show))
        .route("/app/feedback/{id}/move", post(pages::feedback_staff::do_move))
        .route("/app/feedback/{id}/draft", post(pages::feedback_staff::draft))
        .route("/app/feedback/{id}/publish", post(pages::feedback_staff::publish))
        .route("/app/feedback/{id}/extend", post(pages::feedback_staff::extend))
        .route("/app/feedback/{id}/hide", post(pages::feedback_staff::hide))
        .route("/app/feedback/{id}/note", post(pages::feedback_staff::note))
        .route("/app/feedback/{id}/erase-contact", post(pages::feedback_staff::erase_contact))
        .route("/app/feedback/{id}/photo", get(pages::feedback_staff::photo))
        .route("/app/feedback/setup", get(pages::feedback_setup::show))
        .route("/app/feedback/setup/categories", post(pages::feedback_setup::add_category))
        .route("/app/feedback/setup/categories/{id}/fields", post(pages::feedback_setup::add_field))
        .route("/app/feedback/setup/categories/{id}/names", post(pages::feedback_setup::rename_category))
        .route("/app/feedback/setup/categories/{id}/fields/names", post(pages::feedback_setup::rename_field))
        .route("/app/feedback/setup/categories/{id}/deadline", post(pages::feedback_setup::set_deadline))
        .route(
            "/app/feedback/setup/categories/{id}/channel-deadlines",
            post(pages::feedback_setup::set_channel_deadline),
        )
        .route(
            "/app/feedback/setup/categories/{id}/channel-deadlines/delete",
            post(pages::feedback_setup::remove_channel_deadline),
        )
        .route("/app/feedback/setup/categories/{id}/active", post(pages::feedback_setup::set_active))
        .route("/app/feedback/setup/agencies", post(pages::feedback_setup::add_agency))
        .route("/app/feedback/setup/agencies/{id}/names", post(pages::feedback_setup::rename_agency))
        .route("/app/feedback/setup/agencies/{id}/webhook", post(pages::feedback_setup::set_webhook))
        .route("/app/feedback/setup/staff", post(pages::feedback_setup::set_staff))
        .route("/app/feedback/setup/routes", post(pages::feedback_setup::add_route))
        .route("/app/feedback/setup/routes/{id}/delete", post(pages::feedback_setup::delete_route))
        .route("/app/feedback/setup/days", post(pages::feedback_setup::set_day))
        .route("/app/feedback/setup/days/{id}/delete", post(pages::feedback_setup::delete_day))
        .route("/app/feedback/setup/keys", post(pages::feedback_setup::add_key))
        .route("/app/feedback/setup/keys/{id}/revoke", post(pages::feedback_setup::revoke_key))
        .route("/app/feedback/setup/outbox/{id}/retry", post(pages::feedback_setup::retry_message))
        .route("/feedback/track", get(pages::feedback::track))
        .route("/feedback/answered", get(pages::feedback::answered))
        .route("/feedback/{code}", get(pages::feedback::show))
        .route("/feedback/{code}/rating", post(pages::feedback::rate))
        .route("/feedback/{code}/info", post(pages::feedback::add_info))
        .route("/app/account", get(pages::account::show))
        .route("/app/account/password", post(pages::account::change_password))
        .route("/app/account/tokens/{id}/revoke", post(pages::account::revoke_token));
    let limit = state.cfg.body_limit_bytes;
    let timeout = Duration::from_secs(state.cfg.request_timeout_secs);
    let small = Router::new()
        .merge(pages)
        .merge(api::router())
        .route("/assets/{name}", get(assets::serve))
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics::serve))
        .layer(DefaultBodyLimit::max(limit))
        .layer(RequestBodyLimitLayer::new(limit));
    // Forms that may carry a photo get room for it (and a little for the other fields).
    let upload_limit = state.cfg.feedback_photo_max_bytes + 256 * 1024;
    let uploads = Router::new()
        .route("/feedback", get(pages::feedback::form).post(pages::feedback::create))
        .route("/app/feedback/new", get(pages::feedback_staff::new_form).post(pages::feedback_staff::create))
        .merge(open311::router())
        .layer(DefaultBodyLimit::max(upload_limit))
        .layer(RequestBodyLimitLayer::new(upload_limit));
    Router::new()
        .merge(small)
        .merge(uploads)
        .fallback(not_found)
        .layer(middleware::from_fn_with_state(state.clone(), metrics::track))
        .layer(middleware::from_fn_with_state(state.clone(), auth::csrf::ensure_cookie))
        .layer(middleware::from_fn_with_state(state.clone(), error::render_errors))
        .layer(TimeoutLayer::with_status_code(StatusCode::REQUEST_TIMEOUT, timeout))
        .layer(CompressionLayer::new())
        .with_state(state)
}

/// Serves the application on a bound listener until Ctrl-C or SIGTERM.
pub async fn serve(listener: tokio::net::TcpListener, state: AppState) -> std::io::Result<()> {
    spawn_housekeeping(state.clone());
    let app = app(state).into_make_service_with_connect_info::<std::net::SocketAddr>();
    axum::serve(listener, app).with_graceful_shutdown(shutdown_signal()).await
}

/// Hourly: removes expired sessions and old login failures. Several processes may do it at
/// once; the deletes are idempotent.
fn spawn_housekeeping(state: AppState) {
    notify::spawn(
        state.db.clone(),
        notify::Notifier::new(state.cfg.citizen_notify_url.clone(), state.cfg.webhook_private_addresses),
    );
    let db = state.db.clone();
    tokio::spawn(async move {
        // SQLite's checkpoints run here, every second, not in a request's commit.
        let mut tick = tokio::time::interval(Duration::from_secs(1));
        loop {
            tick.tick().await;
            if let Err(e) = db.checkpoint().await {
                tracing::warn!(error = %e, "checkpoint failed");
            }
        }
    });
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(3600));
        loop {
            tick.tick().await;
            match ngoso_store::sessions::purge_expired(&state.db).await {
                Ok(n) if n > 0 => tracing::info!(removed = n, "expired sessions and login failures removed"),
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "housekeeping failed"),
            }
        }
    });
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
