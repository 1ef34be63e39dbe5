//! Fetches the photos that Open311 clients give by address (`media_url`), once each, in the
//! background, through a client like the webhooks': it connects only to addresses its policy
//! allows (public ones, unless `webhook_private_addresses` is on), follows at most three
//! redirects and none to a refused address, reads at most the photo limit, and keeps only a
//! JPEG or PNG, stripped of its metadata like an uploaded photo. A failure is recorded with
//! its reason on the item, never fatal (see [`ngoso_store::feedback::media`]).

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use ngoso_store::feedback::media::{self, Waiting};
use ngoso_store::{Db, StoreError};

use super::outbox::{Only, is_public};

/// What fetches photos.
#[derive(Clone)]
pub struct Fetcher {
    client: reqwest::Client,
    allowed: fn(IpAddr) -> bool,
    max_bytes: usize,
}

fn allow_all(_: IpAddr) -> bool {
    true
}

/// Why an address may not be fetched before connecting: its host is an address the policy
/// refuses (the client connects to an address as written), or `localhost` by name.
fn refused_host(url: &reqwest::Url, allowed: fn(IpAddr) -> bool) -> Option<String> {
    let host = url.host_str()?.to_ascii_lowercase();
    let refused = match host.trim_start_matches('[').trim_end_matches(']').parse::<IpAddr>() {
        Ok(ip) => !allowed(ip),
        // `localhost` by name, unless loopback addresses are allowed.
        Err(_) => {
            (host == "localhost" || host.ends_with(".localhost")) && !allowed(IpAddr::V4(std::net::Ipv4Addr::LOCALHOST))
        }
    };
    refused.then_some(host)
}

impl Fetcher {
    /// The server's fetcher: public addresses only unless `private_allowed`; photos of at
    /// most `max_bytes`.
    pub fn new(private_allowed: bool, max_bytes: usize) -> Self {
        Self::with_policy(if private_allowed { allow_all } else { is_public }, max_bytes)
    }

    /// A fetcher that connects only to the addresses `allowed` accepts.
    pub fn with_policy(allowed: fn(IpAddr) -> bool, max_bytes: usize) -> Self {
        let policy = reqwest::redirect::Policy::custom(move |attempt| {
            if attempt.previous().len() >= 3 {
                return attempt.error("more than three redirects");
            }
            match refused_host(attempt.url(), allowed) {
                Some(host) => attempt.error(format!("a redirect to the address {host}, which is not public")),
                None => attempt.follow(),
            }
        });
        // A client that cannot be built (no TLS roots) stops the server at start.
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(20))
            .connect_timeout(Duration::from_secs(5))
            .redirect(policy)
            .no_proxy()
            .dns_resolver(Arc::new(Only(allowed)))
            .user_agent(concat!("ngoso/", env!("CARGO_PKG_VERSION")))
            .build()
            .expect("the HTTP client of photo fetches builds");
        Self { client, allowed, max_bytes }
    }

    /// Fetches one photo and checks it: the photo, or why not in a few words.
    pub async fn fetch(&self, url: &str) -> Result<ngoso_core::photo::Photo, String> {
        let parsed = reqwest::Url::parse(url).map_err(|_| "not an address".to_owned())?;
        if let Some(host) = refused_host(&parsed, self.allowed) {
            return Err(format!("the address {host} is not public"));
        }
        let mut res = self.client.get(parsed).send().await.map_err(|e| describe(&e))?;
        if !res.status().is_success() {
            return Err(format!("answered {}", res.status().as_u16()));
        }
        let too_large = || format!("larger than {} MB", (self.max_bytes / 1024 / 1024).max(1));
        if res.content_length().is_some_and(|n| n > self.max_bytes as u64) {
            return Err(too_large());
        }
        let mut body = Vec::new();
        while let Some(chunk) = res.chunk().await.map_err(|e| describe(&e))? {
            if body.len() + chunk.len() > self.max_bytes {
                return Err(too_large());
            }
            body.extend_from_slice(&chunk);
        }
        ngoso_core::photo::clean(&body, self.max_bytes).map_err(|e| match e.code {
            "photo-type" => "not a JPEG or PNG picture".to_owned(),
            code => format!("{code}: {}", e.detail.unwrap_or_default()),
        })
    }
}

/// An error of the client in a few words, without the address (which may carry a token).
fn describe(e: &reqwest::Error) -> String {
    let mut cause: Option<&dyn std::error::Error> = std::error::Error::source(e);
    let mut deepest = None;
    while let Some(c) = cause {
        deepest = Some(c.to_string());
        cause = c.source();
    }
    let kind = if e.is_redirect() {
        "redirect refused"
    } else if e.is_timeout() {
        "no answer in time"
    } else if e.is_connect() {
        "could not connect"
    } else {
        "could not fetch"
    };
    match deepest {
        Some(d) => format!("{kind}: {d}"),
        None => kind.to_owned(),
    }
}

/// Fetches the photos waiting (a batch); returns how many were tried.
pub async fn fetch_due(db: &Db, f: &Fetcher) -> Result<usize, StoreError> {
    let batch: Vec<Waiting> = media::waiting(db, 10).await?;
    for w in &batch {
        match f.fetch(&w.url).await {
            Ok(photo) => media::fetched(db, w, &photo).await?,
            Err(why) => {
                tracing::info!(feedback = w.feedback_id, why, "a photo given by address was not fetched");
                media::failed(db, w, &why).await?;
            }
        }
    }
    Ok(batch.len())
}

/// Runs the fetch loop until the process ends.
pub fn spawn(db: Db, f: Fetcher) {
    tokio::spawn(async move {
        loop {
            match fetch_due(&db, &f).await {
                Ok(0) => tokio::time::sleep(Duration::from_secs(2)).await,
                Ok(_) => {}
                Err(e) => {
                    tracing::warn!(error = %e, "photo fetches failed");
                    tokio::time::sleep(Duration::from_secs(5)).await;
                }
            }
        }
    });
}
