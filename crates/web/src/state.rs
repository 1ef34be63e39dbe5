//! The state every handler shares: the database, the configuration, the caches and the
//! group-commit writer of visits.

use std::ops::Deref;
use std::sync::Arc;
use std::time::Duration;

use ngoso_store::Db;

use crate::http::metrics;
use crate::{auth, feedback, visits};

/// Settings of the web layer.
#[derive(Debug, Clone)]
pub struct WebConfig {
    /// How long a login session lasts, in seconds.
    pub session_ttl_secs: i64,
    /// Longest lifetime of an API token, in days (also the default).
    pub token_ttl_days: i64,
    /// Mark cookies `Secure` (set when served over HTTPS; implied by an `https://` public URL).
    pub cookie_secure: bool,
    /// Largest request body accepted, in bytes.
    pub body_limit_bytes: usize,
    /// Seconds a request may take before it is cut off.
    pub request_timeout_secs: u64,
    /// Seconds a client may take to send a request's headers, and may stay idle between
    /// requests, before its connection is closed.
    pub client_timeout_secs: u64,
    /// Connections open at once; more wait until one closes.
    pub max_connections: usize,
    /// Failed logins of one user name within the window before logins are refused.
    pub login_max_failures_per_user: i64,
    /// Failed logins from one client address within the window before logins are refused.
    pub login_max_failures_per_client: i64,
    /// The window of the login limits, in seconds.
    pub login_window_secs: i64,
    /// How many proxies in front of ngoso append to `X-Forwarded-For`; the client address is
    /// the one the outermost of them added (0: the peer's address, the header ignored).
    pub trusted_proxies: u32,
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

impl WebConfig {
    /// Whether cookies carry `Secure`: asked for, or implied by an `https://` public URL (a
    /// browser then never sends them over plain HTTP).
    pub fn secure_cookies(&self) -> bool {
        self.cookie_secure || self.public_url.as_deref().is_some_and(|u| u.starts_with("https://"))
    }
}

impl Default for WebConfig {
    fn default() -> Self {
        Self {
            session_ttl_secs: 12 * 3600,
            token_ttl_days: 90,
            cookie_secure: false,
            body_limit_bytes: 1024 * 1024,
            request_timeout_secs: 30,
            client_timeout_secs: 15,
            max_connections: 1024,
            login_max_failures_per_user: 5,
            login_max_failures_per_client: 30,
            login_window_secs: 15 * 60,
            trusted_proxies: 0,
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
