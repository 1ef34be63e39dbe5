//! Configuration: defaults in code, then `ngoso.toml`, then `NGOSO_*` environment
//! variables, then command-line flags.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// Every setting, with its default. Each key `k` can be set as `k = …` in `ngoso.toml` or
/// as the environment variable `NGOSO_K` (upper case).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Where ngoso keeps its files (the SQLite database by default).
    pub data_dir: PathBuf,
    /// `sqlite://PATH` or `postgres://USER:PASSWORD@HOST/DB`; empty: `sqlite://DATA_DIR/ngoso.db`.
    pub database_url: String,
    /// Largest number of database connections of one process.
    pub db_max_connections: u32,
    /// Address `serve` and `demo` listen on.
    pub listen: String,
    /// Log filter, e.g. `info` or `ngoso=debug,tower_http=info`.
    pub log: String,
    /// How long a login session lasts, in seconds.
    pub session_ttl_secs: i64,
    /// Longest lifetime of an API token, in days (also the default).
    pub token_ttl_days: i64,
    /// Mark cookies `Secure`: set it when ngoso is served over HTTPS.
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
    /// Failed logins of one user name within the window before logins are refused.
    pub login_max_failures_per_user: i64,
    /// Failed logins from one client address within the window before logins are refused.
    pub login_max_failures_per_client: i64,
    /// The window of the login limits, in seconds.
    pub login_window_secs: i64,
    /// Take the client address from `X-Forwarded-For`: only behind a proxy that sets it.
    pub trust_forwarded_for: bool,
    /// Fewest active members of a team before it is flagged.
    pub team_min_members: i64,
    /// Most active members of a team before it is flagged.
    pub team_max_members: i64,
    /// Secret key (at least 32 characters) of the keyed hash that stands for citizen ID
    /// numbers; without it citizen IDs are not accepted. Keep it out of the database's
    /// backups: with both, IDs could be guessed back.
    pub cccd_key: String,
    /// Largest photo accepted with a feedback item, in bytes.
    pub feedback_photo_max_bytes: usize,
    /// Public feedback items accepted from one client address per hour (0: no limit).
    pub feedback_per_client_per_hour: u32,
    /// Where messages to citizens (tracking code, answer) are posted as JSON, for an SMS or
    /// e-mail gateway to send; empty: messages are not sent (they stay listed as undelivered).
    pub citizen_notify_url: String,
    /// The address ngoso is reached at, e.g. `https://ngoso.example.vn`, for the links it
    /// gives out of band (the Open311 discovery document); empty: taken from each request's
    /// `Host` header. Set it when ngoso is behind a proxy.
    pub public_url: String,
    /// Let agencies' webhooks (set by administrators on a page) go to loopback, private and
    /// other non-public addresses, for agency systems inside the province's own network.
    /// Off, such webhooks are not sent, so that a page setting cannot make ngoso post to
    /// the services around it.
    pub webhook_private_addresses: bool,
}

impl Default for Config {
    fn default() -> Self {
        let web = ngoso_web::WebConfig::default();
        Self {
            data_dir: PathBuf::from("ngoso-data"),
            database_url: String::new(),
            db_max_connections: 8,
            listen: "127.0.0.1:8080".into(),
            log: "info".into(),
            session_ttl_secs: web.session_ttl_secs,
            token_ttl_days: web.token_ttl_days,
            cookie_secure: web.cookie_secure,
            body_limit_bytes: web.body_limit_bytes,
            request_timeout_secs: web.request_timeout_secs,
            client_timeout_secs: web.client_timeout_secs,
            max_connections: web.max_connections,
            login_max_failures_per_user: web.login_max_failures_per_user,
            login_max_failures_per_client: web.login_max_failures_per_client,
            login_window_secs: web.login_window_secs,
            trust_forwarded_for: web.trusted_proxies > 0,
            team_min_members: web.team_bounds.min,
            team_max_members: web.team_bounds.max,
            cccd_key: String::new(),
            feedback_photo_max_bytes: web.feedback_photo_max_bytes,
            feedback_per_client_per_hour: web.feedback_per_client_per_hour,
            citizen_notify_url: String::new(),
            public_url: String::new(),
            webhook_private_addresses: false,
        }
    }
}

/// Keys whose values are secret, or hold a secret.
const SECRET_KEYS: &[&str] = &["database_url", "cccd_key", "citizen_notify_url"];

impl Config {
    /// Loads the configuration: defaults, then the file (if given or if `ngoso.toml` exists
    /// in the current directory), then the environment.
    pub fn load(file: Option<&Path>, env: &[(String, String)]) -> Result<Config, String> {
        let mut value = toml::Value::try_from(Config::default()).map_err(|e| e.to_string())?;
        let default_file = Path::new("ngoso.toml");
        let file = match file {
            Some(f) => Some(f.to_path_buf()),
            None if default_file.exists() => Some(default_file.to_path_buf()),
            None => None,
        };
        if let Some(f) = file {
            let text = std::fs::read_to_string(&f).map_err(|e| format!("cannot read {}: {e}", f.display()))?;
            let from_file: toml::Table = toml::from_str(&text).map_err(|e| format!("{}: {e}", f.display()))?;
            merge(&mut value, from_file, &f.display().to_string())?;
        }
        let table = value.as_table_mut().expect("the config is a table");
        let keys: Vec<String> = table.keys().cloned().collect();
        for key in keys {
            let var = format!("NGOSO_{}", key.to_uppercase());
            let Some((_, raw)) = env.iter().find(|(k, _)| *k == var) else { continue };
            let current = &table[&key];
            let parsed = match current {
                toml::Value::Integer(_) => toml::Value::Integer(
                    raw.trim().parse().map_err(|_| format!("{var}: expected a whole number, got {raw:?}"))?,
                ),
                toml::Value::Boolean(_) => toml::Value::Boolean(match raw.trim().to_ascii_lowercase().as_str() {
                    "1" | "true" | "yes" | "on" => true,
                    "0" | "false" | "no" | "off" | "" => false,
                    _ => return Err(format!("{var}: expected true or false, got {raw:?}")),
                }),
                _ => toml::Value::String(raw.clone()),
            };
            table.insert(key, parsed);
        }
        let cfg: Config = value.try_into().map_err(|e: toml::de::Error| e.to_string())?;
        let public = cfg.public_url.trim();
        let web_address = public.starts_with("https://") || public.starts_with("http://");
        if !public.is_empty() && !web_address {
            return Err(format!("public_url: expected an address starting with https:// or http://, got {public:?}"));
        }
        Ok(cfg)
    }

    /// The database URL in effect.
    pub fn database_url(&self) -> String {
        if self.database_url.trim().is_empty() {
            format!("sqlite://{}", self.data_dir.join("ngoso.db").display())
        } else {
            self.database_url.trim().to_owned()
        }
    }

    /// The web layer's part.
    pub fn web(&self) -> ngoso_web::WebConfig {
        ngoso_web::WebConfig {
            session_ttl_secs: self.session_ttl_secs,
            token_ttl_days: self.token_ttl_days,
            cookie_secure: self.cookie_secure,
            body_limit_bytes: self.body_limit_bytes,
            request_timeout_secs: self.request_timeout_secs,
            client_timeout_secs: self.client_timeout_secs,
            max_connections: self.max_connections,
            login_max_failures_per_user: self.login_max_failures_per_user,
            login_max_failures_per_client: self.login_max_failures_per_client,
            login_window_secs: self.login_window_secs,
            trusted_proxies: u32::from(self.trust_forwarded_for),
            team_bounds: ngoso_core::outreach::TeamBounds { min: self.team_min_members, max: self.team_max_members },
            cccd_key: Some(self.cccd_key.trim().to_owned()).filter(|k| !k.is_empty()),
            feedback_photo_max_bytes: self.feedback_photo_max_bytes,
            feedback_per_client_per_hour: self.feedback_per_client_per_hour,
            citizen_notify_url: Some(self.citizen_notify_url.trim().to_owned()).filter(|u| !u.is_empty()),
            public_url: Some(self.public_url.trim().trim_end_matches('/').to_owned()).filter(|u| !u.is_empty()),
            webhook_private_addresses: self.webhook_private_addresses,
        }
    }

    /// The effective configuration as TOML, secrets redacted.
    pub fn redacted_toml(&self) -> String {
        let mut c = self.clone();
        c.database_url = self.database_url();
        let mut value = toml::Value::try_from(&c).expect("the config serialises");
        if let Some(t) = value.as_table_mut() {
            for k in SECRET_KEYS {
                if let Some(toml::Value::String(s)) = t.get_mut(*k) {
                    *s = if *k == "database_url" {
                        redact_url(s)
                    } else if s.is_empty() {
                        String::new()
                    } else {
                        "***".into()
                    };
                }
            }
        }
        toml::to_string(&value).expect("the config serialises")
    }
}

fn merge(base: &mut toml::Value, overlay: toml::Table, source: &str) -> Result<(), String> {
    let table = base.as_table_mut().expect("the config is a table");
    for (k, v) in overlay {
        if !table.contains_key(&k) {
            return Err(format!("{source}: unknown setting {k:?}"));
        }
        table.insert(k, v);
    }
    Ok(())
}

/// Hides the password of a URL: `postgres://u:secret@h/db` → `postgres://u:***@h/db`.
pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else { return url.to_owned() };
    let Some((creds, host)) = rest.rsplit_once('@') else { return url.to_owned() };
    match creds.split_once(':') {
        Some((user, _)) => format!("{scheme}://{user}:***@{host}"),
        None => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn defaults_then_file_then_env() {
        let dir = std::env::temp_dir().join(format!("ngoso-config-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("ngoso.toml");
        std::fs::write(&file, "listen = \"0.0.0.0:9000\"\ntoken_ttl_days = 30\n").unwrap();
        let c =
            Config::load(Some(&file), &env(&[("NGOSO_TOKEN_TTL_DAYS", "7"), ("NGOSO_COOKIE_SECURE", "yes")])).unwrap();
        assert_eq!(c.listen, "0.0.0.0:9000");
        assert_eq!(c.token_ttl_days, 7);
        assert!(c.cookie_secure);
        assert_eq!(c.session_ttl_secs, 12 * 3600);
        assert_eq!(c.database_url(), format!("sqlite://{}", Path::new("ngoso-data").join("ngoso.db").display()));

        std::fs::write(&file, "lisen = 1\n").unwrap();
        assert!(Config::load(Some(&file), &[]).unwrap_err().contains("unknown setting"));
        assert!(Config::load(None, &env(&[("NGOSO_TOKEN_TTL_DAYS", "many")])).unwrap_err().contains("whole number"));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn the_public_url_is_an_http_address() {
        let c = Config::load(None, &env(&[("NGOSO_PUBLIC_URL", " https://ngoso.tinh.gov.vn/ ")])).unwrap();
        assert_eq!(c.web().public_url.as_deref(), Some("https://ngoso.tinh.gov.vn"));
        assert_eq!(Config::load(None, &[]).unwrap().web().public_url, None);
        let e = Config::load(None, &env(&[("NGOSO_PUBLIC_URL", "ngoso.tinh.gov.vn")])).unwrap_err();
        assert!(e.contains("public_url") && e.contains("https://"), "{e}");
    }

    #[test]
    fn secrets_are_redacted() {
        assert_eq!(redact_url("postgres://ngoso:s3cret@db:5432/ngoso"), "postgres://ngoso:***@db:5432/ngoso");
        assert_eq!(redact_url("postgres://ngoso@db/ngoso"), "postgres://ngoso@db/ngoso");
        let c = Config { database_url: "postgres://a:b@c/d".into(), cccd_key: "k".repeat(40), ..Config::default() };
        let out = c.redacted_toml();
        assert!(out.contains("postgres://a:***@c/d") && !out.contains(":b@"));
        assert!(out.contains("cccd_key = \"***\"") && !out.contains("kkkk"));
    }
}
