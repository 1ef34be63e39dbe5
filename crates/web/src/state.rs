//! The state every handler shares: the database, the configuration, the caches and the
//! group-commit writer of visits.

use std::ops::Deref;
use std::sync::Arc;
use std::time::Duration;

use ngoso_core::secret::Secret;
use ngoso_store::Db;
use serde::{Deserialize, Serialize};

use crate::http::metrics;
use crate::{auth, feedback};

/// The settings of the web layer: each key can be set in `ngoso.toml` or as `NGOSO_KEY`
/// (see the command line's configuration, which adds its own keys to these).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct WebConfig {
    /// How long a login session lasts, in seconds.
    pub session_ttl_secs: i64,
    /// Longest lifetime of an API token, in days (also the default).
    pub token_ttl_days: i64,
    /// Mark cookies `Secure`: set it when ngoso is served over HTTPS (an `https://`
    /// `public_url` implies it).
    pub cookie_secure: bool,
    /// Largest request body accepted, in bytes.
    pub body_limit_bytes: usize,
    /// Seconds a request may take before it is cut off.
    pub request_timeout_secs: u64,
    /// Seconds a client may take to send a request's headers, and may stay idle between
    /// requests, before its connection is closed.
    pub client_timeout_secs: u64,
    /// Connections `serve` keeps open at once; more wait until one closes.
    pub max_connections: usize,
    /// Password checks and hashes computed at once (0: one per core); each takes a core and
    /// about 19 MiB while it runs.
    pub password_workers: usize,
    /// Password checks that may wait for a worker; past that, logins answer 429 at once.
    pub password_queue: usize,
    /// Failed logins of one user name within the window before logins are refused.
    pub login_max_failures_per_user: i64,
    /// Failed logins from one client address within the window before logins are refused.
    pub login_max_failures_per_client: i64,
    /// The window of the login limits, in seconds.
    pub login_window_secs: i64,
    /// How many proxies in front of ngoso append to `X-Forwarded-For`: the client address is
    /// the one the outermost of them added (0: the peer's address, the header ignored).
    pub trusted_proxies: u32,
    /// Fewest active members of a team before it is flagged.
    pub team_min_members: i64,
    /// Most active members of a team before it is flagged.
    pub team_max_members: i64,
    /// Secret key (at least 32 characters) of the keyed hash that stands for citizen ID
    /// numbers; without it citizen IDs are not accepted. Keep it out of the database's
    /// backups: with both, IDs could be guessed back.
    pub cccd_key: Secret,
    /// Largest photo accepted with a feedback item, in bytes.
    pub feedback_photo_max_bytes: usize,
    /// Public feedback items accepted from one client address per hour (0: no limit).
    pub feedback_per_client_per_hour: u32,
    /// Where messages to citizens (tracking code, answer) are posted as JSON, for an SMS or
    /// e-mail gateway to send; empty: messages are not sent (they stay listed as
    /// undelivered). Secret: it may carry the gateway's credentials.
    pub citizen_notify_url: Secret,
    /// The address ngoso is reached at, e.g. `https://ngoso.example.vn`, for the links it
    /// gives out of band (the Open311 discovery document); empty: taken from each request's
    /// `Host` header. Set it when ngoso is behind a proxy.
    pub public_url: String,
    /// Let agencies' webhooks (set by administrators on a page) go to loopback, private and
    /// other non-public addresses, for agency systems inside the province's own network.
    /// Off, such webhooks are not sent, so that a page setting cannot make ngoso post to the
    /// services around it.
    pub webhook_private_addresses: bool,
}

/// The shortest `cccd_key` accepted: 32 characters, 256 bits if random.
pub const CCCD_KEY_MIN_CHARS: usize = 32;

impl WebConfig {
    /// Refuses settings that cannot work, with a message naming the key.
    pub fn check(&self) -> Result<(), String> {
        let public = self.public_url.trim();
        if !(public.is_empty() || public.starts_with("https://") || public.starts_with("http://")) {
            return Err(format!("public_url: expected an address starting with https:// or http://, got {public:?}"));
        }
        if let Some(k) = self.cccd_key.get()
            && k.chars().count() < CCCD_KEY_MIN_CHARS
        {
            return Err(format!(
                "cccd_key: at least {CCCD_KEY_MIN_CHARS} characters are needed (a short key lets citizen ID numbers be \
                 guessed back from their hashes); this one has {}. Make one with: openssl rand -hex 32",
                k.chars().count()
            ));
        }
        if self.team_min_members > self.team_max_members {
            return Err(format!(
                "team_min_members ({}) is larger than team_max_members ({})",
                self.team_min_members, self.team_max_members
            ));
        }
        Ok(())
    }

    /// Whether cookies carry `Secure`: asked for, or implied by an `https://` public URL (a
    /// browser then never sends them over plain HTTP).
    pub fn secure_cookies(&self) -> bool {
        self.cookie_secure || self.public_url().is_some_and(|u| u.starts_with("https://"))
    }

    /// The public address without a trailing slash, if set.
    pub fn public_url(&self) -> Option<&str> {
        Some(self.public_url.trim().trim_end_matches('/')).filter(|u| !u.is_empty())
    }

    /// The key of the citizen-ID hash, if set.
    pub fn cccd_key(&self) -> Option<&str> {
        self.cccd_key.get()
    }

    /// The citizen message gateway, if set.
    pub fn citizen_notify_url(&self) -> Option<&str> {
        self.citizen_notify_url.get()
    }

    /// The sizes outside which a team is flagged.
    pub fn team_bounds(&self) -> ngoso_core::outreach::TeamBounds {
        ngoso_core::outreach::TeamBounds { min: self.team_min_members, max: self.team_max_members }
    }
}

impl Default for WebConfig {
    fn default() -> Self {
        let bounds = ngoso_core::outreach::TeamBounds::default();
        Self {
            session_ttl_secs: 12 * 3600,
            token_ttl_days: 90,
            cookie_secure: false,
            body_limit_bytes: 1024 * 1024,
            request_timeout_secs: 30,
            client_timeout_secs: 15,
            max_connections: 1024,
            password_workers: 0,
            password_queue: 64,
            login_max_failures_per_user: 5,
            login_max_failures_per_client: 30,
            login_window_secs: 15 * 60,
            trusted_proxies: 0,
            team_min_members: bounds.min,
            team_max_members: bounds.max,
            cccd_key: Secret::default(),
            feedback_photo_max_bytes: 5 * 1024 * 1024,
            feedback_per_client_per_hour: 10,
            citizen_notify_url: Secret::default(),
            public_url: String::new(),
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
    pub ingestor: ngoso_store::visits::Ingestor,
    /// Feedback categories, agencies, calendar and places, reloaded every few seconds.
    feedback_setup: feedback::SetupCache,
    /// Public feedback submissions per client.
    pub feedback_limiter: feedback::RateLimiter,
    /// Recent answers for API tokens.
    pub tokens: auth::TokenCache,
    /// Where passwords are checked and hashed, a few at a time.
    pub passwords: ngoso_store::secrets::PasswordPool,
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
            ingestor: ngoso_store::visits::Ingestor::start(db.clone()),
            db,
            csrf_key: secret.into_bytes(),
            metrics: Default::default(),
            catalog: Default::default(),
            feedback_setup: Default::default(),
            feedback_limiter: Default::default(),
            tokens: Default::default(),
            passwords: match cfg.password_workers {
                0 => ngoso_store::secrets::PasswordPool::new(
                    std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2),
                    cfg.password_queue,
                ),
                n => ngoso_store::secrets::PasswordPool::new(n, cfg.password_queue),
            },
            cfg,
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
