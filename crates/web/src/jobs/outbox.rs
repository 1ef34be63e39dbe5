//! Delivers the outbox: agencies' webhooks (JSON, signed with the agency's secret) and
//! messages to citizens through an SMS/e-mail gateway. Every attempt is recorded; failures
//! are retried with backoff; a restart loses nothing (see [`ngoso_store::outbox`]).

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use hmac::{Hmac, Mac};
use ngoso_store::outbox::{self, Attempt, Message};
use ngoso_store::{Db, StoreError};
use sha2::Sha256;

use crate::http::i18n::{Lang, msg};

/// What delivers messages.
#[derive(Clone, Debug)]
pub struct Notifier {
    /// For the citizen gateway, which the operator configures.
    client: reqwest::Client,
    /// For agencies' webhooks, which administrators set on a page: unless private addresses
    /// are allowed, it connects only to public ones.
    webhooks: reqwest::Client,
    private_webhooks: bool,
    /// The gateway that sends messages to citizens; none: they are given up at once.
    citizen_url: Option<String>,
}

impl Notifier {
    /// `private_webhooks`: whether webhooks may go to loopback, private, link-local and other
    /// non-public addresses (`webhook_private_addresses`). Off, a webhook set to such an
    /// address, or to a name that resolves only to such addresses, is not sent: a page
    /// setting would otherwise let ngoso post to the services of its own network.
    pub fn new(citizen_url: Option<String>, private_webhooks: bool) -> Self {
        let builder = || {
            reqwest::Client::builder()
                .timeout(Duration::from_secs(10))
                .connect_timeout(Duration::from_secs(5))
                .redirect(reqwest::redirect::Policy::none())
                .user_agent(concat!("ngoso/", env!("CARGO_PKG_VERSION")))
        };
        // A client that cannot be built (no TLS roots) stops the server at start: a default
        // one would follow redirects, wait without end and, for webhooks, reach any address.
        let client = builder().build().expect("the HTTP client of notifications builds");
        let webhooks = if private_webhooks {
            client.clone()
        } else {
            // No proxy from the environment (HTTP_PROXY and the like): a proxy would resolve the
            // webhook's host itself, past the resolver below.
            builder()
                .no_proxy()
                .dns_resolver(Arc::new(PUBLIC_ONLY))
                .build()
                .expect("the HTTP client of webhooks builds")
        };
        Self { client, webhooks, private_webhooks, citizen_url: citizen_url.filter(|u| !u.trim().is_empty()) }
    }
}

/// Whether an address is on the public Internet: not loopback, private, shared (carrier
/// NAT), link-local, unspecified, broadcast, multicast, reserved, or set aside for
/// documentation or benchmarks. An IPv6 address that carries an IPv4 one (mapped, or NAT64's
/// well-known prefix) is judged by the IPv4 one; IPv4-compatible and site-local IPv6
/// addresses, both deprecated, are not public.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, c, _] = v4.octets();
            !(v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_multicast()
                || v4.is_documentation()
                || a == 0
                || (a == 100 && (64..128).contains(&b))
                || (a == 192 && b == 0 && c == 0)
                || (a == 198 && (18..20).contains(&b))
                || a >= 240)
        }
        IpAddr::V6(v6) => {
            let seg = v6.segments();
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_public(IpAddr::V4(v4));
            }
            if seg[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
                let [.., a, b, c, d] = v6.octets();
                return is_public(IpAddr::V4(std::net::Ipv4Addr::new(a, b, c, d)));
            }
            !(v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || seg[..6] == [0; 6]
                || (seg[0] & 0xfe00) == 0xfc00
                || (seg[0] & 0xffc0) == 0xfe80
                || (seg[0] & 0xffc0) == 0xfec0
                || (seg[0] == 0x2001 && seg[1] == 0x0db8))
        }
    }
}

/// Resolves names to the addresses a policy allows only (public ones, [`is_public`], for
/// webhooks and fetched photos): the client connects to what it resolves, so a name cannot be
/// checked once and then point elsewhere when connected.
#[derive(Clone, Copy)]
pub(crate) struct Only(pub(crate) fn(IpAddr) -> bool);

/// Public addresses only.
pub(crate) const PUBLIC_ONLY: Only = Only(is_public);

impl reqwest::dns::Resolve for Only {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let host = name.as_str().to_owned();
        let allowed = self.0;
        Box::pin(async move {
            let public: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.filter(|a| allowed(a.ip())).collect();
            if public.is_empty() {
                return Err(format!("{host} has no public address").into());
            }
            Ok(Box::new(public.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

/// Why a webhook URL may not be posted to when private addresses are not allowed: its host
/// is an address that is not public (the client connects to an address as written, without
/// asking the resolver), or `localhost` (refused by name, whatever it resolves to).
fn refused_webhook_host(url: &str) -> Option<String> {
    private_host(url).map(|host| format!("the webhook address {host} is not public (webhook_private_addresses is off)"))
}

/// The host of `url` when it is a non-public address or `localhost`.
pub(crate) fn private_host(url: &str) -> Option<String> {
    let parsed = reqwest::Url::parse(url.trim()).ok()?;
    // The parser writes an address in its usual form (0x7f.1 is 127.0.0.1), IPv6 bracketed.
    let host = parsed.host_str()?.to_ascii_lowercase();
    let private = match host.trim_start_matches('[').trim_end_matches(']').parse::<IpAddr>() {
        Ok(ip) => !is_public(ip),
        Err(_) => host == "localhost" || host.ends_with(".localhost"),
    };
    private.then_some(host)
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

async fn post(client: &reqwest::Client, url: &str, body: String, headers: &[(&str, String)]) -> Attempt {
    let started = Instant::now();
    let mut req = client.post(url).header("content-type", "application/json").body(body);
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
        // reqwest names the URL in its errors, with its user name, password and query (a
        // gateway's credentials, a receiver's token): the error goes to the logs and to
        // `outbox.last_error`, so it carries the scheme, host and port only.
        Err(e) => Attempt {
            status: None,
            error: Some(format!("{} ({})", e.without_url(), origin(url))),
            duration_ms,
            delivered: false,
            give_up: false,
        },
    }
}

/// The scheme, host and port of a URL, to name it in a log without what may be secret in
/// it (user name, password, path, query).
pub fn origin(url: &str) -> String {
    match reqwest::Url::parse(url.trim()) {
        Ok(u) => match (u.host_str(), u.port()) {
            (Some(h), Some(p)) => format!("{}://{h}:{p}", u.scheme()),
            (Some(h), None) => format!("{}://{h}", u.scheme()),
            _ => u.scheme().to_owned(),
        },
        Err(_) => "an address that does not parse".to_owned(),
    }
}

/// What became of a message, and whether it was given up for a reason of set-up (which is
/// logged once per reason, not for every message).
struct Outcome {
    attempt: Attempt,
    set_up: bool,
}

impl From<Attempt> for Outcome {
    fn from(attempt: Attempt) -> Self {
        Outcome { attempt, set_up: false }
    }
}

fn given_up(why: &str) -> Attempt {
    Attempt { status: None, error: Some(why.to_owned()), duration_ms: 0, delivered: false, give_up: true }
}

/// Given up because of a broken message (a bug, logged every time).
fn nothing_to_do(why: &str) -> Outcome {
    given_up(why).into()
}

/// Given up because of the set-up: no gateway, no webhook, a private address.
fn not_set_up(why: &str) -> Outcome {
    Outcome { attempt: given_up(why), set_up: true }
}

async fn deliver(db: &Db, n: &Notifier, m: &Message) -> Result<Outcome, StoreError> {
    let event: serde_json::Value = serde_json::from_str(&m.payload).unwrap_or_default();
    Ok(match m.kind.as_str() {
        "webhook" => {
            let Ok(agency) = m.target.parse::<i64>() else { return Ok(nothing_to_do("bad target")) };
            match outbox::webhook(db, agency).await? {
                None => not_set_up("the agency has no webhook"),
                Some((url, secret)) => {
                    // Set before private addresses were turned off, or with a name that was
                    // public when it was saved.
                    if let Some(why) = refused_webhook_host(&url).filter(|_| !n.private_webhooks) {
                        return Ok(not_set_up(&why));
                    }
                    let sent_at = ngoso_store::now();
                    let headers = [
                        ("x-ngoso-timestamp", sent_at.to_string()),
                        ("x-ngoso-signature", signature(&secret, sent_at, m.payload.as_bytes())),
                        ("x-ngoso-event", event["event"].as_str().unwrap_or("").to_owned()),
                        ("x-ngoso-delivery", m.id.to_string()),
                    ];
                    post(&n.webhooks, &url, m.payload.clone(), &headers).await.into()
                }
            }
        }
        "citizen" => match &n.citizen_url {
            None => not_set_up("no citizen message gateway is configured"),
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
                post(&n.client, url, body.to_string(), &[("x-ngoso-delivery", m.id.to_string())]).await.into()
            }
        },
        other => nothing_to_do(&format!("unknown kind {other}")),
    })
}

/// Delivers one batch of due messages; returns how many were tried.
pub async fn deliver_due(db: &Db, n: &Notifier) -> Result<usize, StoreError> {
    let batch = outbox::claim(db, 20).await?;
    // Attempts are recorded together, in one transaction, unless the batch takes long (its
    // webhooks wait for slow servers): then every few seconds, well within the lease.
    let mut done: Vec<(&outbox::Message, Attempt)> = Vec::new();
    let mut since = Instant::now();
    for m in &batch {
        let Outcome { attempt: a, set_up } = match deliver(db, n, m).await {
            Ok(o) => o,
            Err(e) => {
                // What was delivered before is recorded, not sent again when the lease ends.
                outbox::record_all(db, &done).await?;
                return Err(e);
            }
        };
        let error = a.error.as_deref().unwrap_or("");
        if set_up {
            // Given up without being sent, for a reason of set-up (no citizen gateway, no
            // webhook, a private address): each reason is warned once per process, not for
            // every message (the demo's thousands buried its list of accounts). The outbox
            // list keeps every message's reason.
            static SAID: std::sync::Mutex<Vec<String>> = std::sync::Mutex::new(Vec::new());
            let key = format!("{} {error}", m.kind);
            let first = match SAID.lock() {
                Ok(mut said) if !said.contains(&key) => {
                    said.push(key);
                    true
                }
                Ok(_) => false,
                Err(_) => true,
            };
            if first {
                tracing::warn!(kind = %m.kind, error, "notifications given up without being sent (the set-up page's outbox lists them)");
            }
            tracing::debug!(id = m.id, kind = %m.kind, error, "notification given up");
        } else if !a.delivered {
            tracing::warn!(id = m.id, kind = %m.kind, error, "notification not delivered");
        }
        done.push((m, a));
        if since.elapsed() > Duration::from_secs(5) {
            outbox::record_all(db, &done).await?;
            done.clear();
            since = Instant::now();
        }
    }
    outbox::record_all(db, &done).await?;
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

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::dns::Resolve;

    #[test]
    fn urls_are_named_by_their_origin_only() {
        assert_eq!(origin("https://user:s3cret@sms.example.vn:8443/send?token=abc"), "https://sms.example.vn:8443");
        assert_eq!(origin("http://10.0.0.5/hook?key=x"), "http://10.0.0.5");
        assert!(!origin("not a url with a s3cret").contains("s3cret"));
    }

    #[test]
    fn only_public_addresses_are_public() {
        for ip in [
            "93.184.216.34",
            "8.8.8.8",
            "192.0.32.10",
            "2606:4700:4700::1111",
            "::ffff:93.184.216.34",
            "64:ff9b::5db8:d822",
        ] {
            assert!(is_public(ip.parse().unwrap()), "{ip}");
        }
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "255.255.255.255",
            "224.0.0.1",
            "192.0.2.1",
            "::1",
            "::",
            "fd00::1",
            "fe80::1",
            "::ffff:10.0.0.1",
            "2001:db8::1",
            "198.18.0.1",
            "192.0.0.8",
            "64:ff9b::a00:1",
            "::10.0.0.1",
            "fec0::1",
        ] {
            assert!(!is_public(ip.parse().unwrap()), "{ip}");
        }
    }

    #[test]
    fn webhooks_to_local_or_private_hosts_are_refused() {
        for url in [
            "http://127.0.0.1:8080/hook",
            "http://0x7f.1/hook",
            "http://[::1]/hook",
            "http://[::ffff:10.0.0.1]/hook",
            "http://LOCALHOST:9000/",
            "http://api.localhost/",
            "http://169.254.169.254/latest/meta-data/",
            "https://10.1.2.3/",
        ] {
            assert!(refused_webhook_host(url).is_some_and(|w| w.contains("not public")), "{url}");
        }
        for url in ["https://93.184.216.34/hook", "https://hooks.so-gtvt.example.vn/ngoso"] {
            assert_eq!(refused_webhook_host(url), None, "{url}");
        }
    }

    #[tokio::test]
    async fn names_resolve_to_public_addresses_only() {
        // localhost resolves (from the hosts file) only to loopback addresses.
        let err = PUBLIC_ONLY.resolve("localhost".parse().unwrap()).await.err().expect("no public address");
        assert!(err.to_string().contains("no public address"), "{err}");
    }
}
