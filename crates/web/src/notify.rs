//! Delivers the outbox: agencies' webhooks (JSON, signed with the agency's secret) and
//! messages to citizens through an SMS/e-mail gateway. Every attempt is recorded; failures
//! are retried with backoff; a restart loses nothing (see [`ngoso_store::outbox`]).

use std::time::{Duration, Instant};

use hmac::{Hmac, Mac};
use ngoso_store::outbox::{self, Attempt, Message};
use ngoso_store::{Db, StoreError};
use sha2::Sha256;

use crate::i18n::{Lang, msg};

/// What delivers messages.
#[derive(Clone, Debug)]
pub struct Notifier {
    client: reqwest::Client,
    /// The gateway that sends messages to citizens; none: they are given up at once.
    citizen_url: Option<String>,
}

impl Notifier {
    pub fn new(citizen_url: Option<String>) -> Self {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .connect_timeout(Duration::from_secs(5))
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("ngoso/", env!("CARGO_PKG_VERSION")))
            .build()
            .unwrap_or_default();
        Self { client, citizen_url: citizen_url.filter(|u| !u.trim().is_empty()) }
    }
}

/// The signature header of a webhook: `sha256=` and the hex HMAC-SHA256, under the agency's
/// secret, of the time it was sent (Unix seconds, also sent as `X-Ngoso-Timestamp`), a dot and
/// the body. With the time signed, a receiver can refuse a delivery captured and replayed
/// later: it checks the signature, then that the time is recent (within five minutes, say).
/// A retry is signed anew; `X-Ngoso-Delivery` tells it from a new delivery.
pub fn signature(secret: &str, timestamp: i64, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key length");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    format!("sha256={}", ngoso_store::secrets::hex(&mac.finalize().into_bytes()))
}

async fn post(n: &Notifier, url: &str, body: String, headers: &[(&str, String)]) -> Attempt {
    let started = Instant::now();
    let mut req = n.client.post(url).header("content-type", "application/json").body(body);
    for (k, v) in headers {
        req = req.header(*k, v);
    }
    let res = req.send().await;
    let duration_ms = started.elapsed().as_millis() as i64;
    match res {
        Ok(r) if r.status().is_success() => Attempt {
            status: Some(r.status().as_u16() as i32),
            error: None,
            duration_ms,
            delivered: true,
            give_up: false,
        },
        Ok(r) => Attempt {
            status: Some(r.status().as_u16() as i32),
            error: Some(format!("HTTP {}", r.status())),
            duration_ms,
            delivered: false,
            give_up: false,
        },
        Err(e) => Attempt { status: None, error: Some(e.to_string()), duration_ms, delivered: false, give_up: false },
    }
}

fn nothing_to_do(why: &str) -> Attempt {
    Attempt { status: None, error: Some(why.to_owned()), duration_ms: 0, delivered: false, give_up: true }
}

async fn deliver(db: &Db, n: &Notifier, m: &Message) -> Result<Attempt, StoreError> {
    let event: serde_json::Value = serde_json::from_str(&m.payload).unwrap_or_default();
    Ok(match m.kind.as_str() {
        "webhook" => {
            let Ok(agency) = m.target.parse::<i64>() else { return Ok(nothing_to_do("bad target")) };
            match outbox::webhook(db, agency).await? {
                None => nothing_to_do("the agency has no webhook"),
                Some((url, secret)) => {
                    let sent_at = ngoso_store::now();
                    let headers = [
                        ("x-ngoso-timestamp", sent_at.to_string()),
                        ("x-ngoso-signature", signature(&secret, sent_at, m.payload.as_bytes())),
                        ("x-ngoso-event", event["event"].as_str().unwrap_or("").to_owned()),
                        ("x-ngoso-delivery", m.id.to_string()),
                    ];
                    post(n, &url, m.payload.clone(), &headers).await
                }
            }
        }
        "citizen" => match &n.citizen_url {
            None => nothing_to_do("no citizen message gateway is configured"),
            Some(url) => {
                let (channel, to) = m.target.split_once(':').unwrap_or(("", &m.target));
                let code = event["code"].as_str().unwrap_or("");
                let text = msg(
                    Lang::Vi,
                    &format!("notify-{}", event["event"].as_str().unwrap_or("submitted")),
                    &[("code", code), ("due", event["due"].as_str().unwrap_or(""))],
                );
                let body =
                    serde_json::json!({ "channel": channel, "to": to, "code": code, "text": text, "event": event });
                post(n, url, body.to_string(), &[("x-ngoso-delivery", m.id.to_string())]).await
            }
        },
        other => nothing_to_do(&format!("unknown kind {other}")),
    })
}

/// Delivers one batch of due messages; returns how many were tried.
pub async fn deliver_due(db: &Db, n: &Notifier) -> Result<usize, StoreError> {
    let batch = outbox::claim(db, 20).await?;
    for m in &batch {
        let a = deliver(db, n, m).await?;
        if !a.delivered {
            tracing::warn!(id = m.id, kind = %m.kind, error = a.error.as_deref().unwrap_or(""), "notification not delivered");
        }
        outbox::record(db, m, &a).await?;
    }
    Ok(batch.len())
}

/// Runs the delivery loop until the process ends.
pub fn spawn(db: Db, n: Notifier) {
    tokio::spawn(async move {
        loop {
            match deliver_due(&db, &n).await {
                Ok(0) => tokio::time::sleep(Duration::from_secs(1)).await,
                Ok(_) => {}
                Err(e) => {
                    tracing::warn!(error = %e, "outbox delivery failed");
                    tokio::time::sleep(Duration::from_secs(5)).await;
                }
            }
        }
    });
}
