//! Configuration: defaults in code, then `ngoso.toml`, then `NGOSO_*` environment
//! variables, then command-line flags.

use std::path::{Path, PathBuf};

use ngoso_core::secret::Secret;
use ngoso_web::WebConfig;
use serde::{Deserialize, Serialize};

/// Every setting, with its default. Each key `k` can be set as `k = …` in `ngoso.toml` or
/// as the environment variable `NGOSO_K` (upper case). The keys of the command line are
/// here; those of the web layer are declared once, in [`WebConfig`], and read from the same
/// file and variables.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct Config {
    /// Where ngoso keeps its files (the SQLite database by default).
    pub data_dir: PathBuf,
    /// `sqlite://PATH` or `postgres://USER:PASSWORD@HOST/DB`; empty: `sqlite://DATA_DIR/ngoso.db`.
    pub database_url: Secret,
    /// Largest number of database connections of one process.
    pub db_max_connections: u32,
    /// Address `serve` and `demo` listen on.
    pub listen: String,
    /// Log filter, e.g. `info` or `ngoso=debug,tower_http=info`.
    pub log: String,
    /// The web layer's settings.
    #[serde(flatten)]
    pub web: WebConfig,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            data_dir: PathBuf::from("ngoso-data"),
            database_url: Secret::default(),
            db_max_connections: 8,
            listen: "127.0.0.1:8080".into(),
            log: "info".into(),
            web: WebConfig::default(),
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
            let mut from_file: toml::Table = toml::from_str(&text).map_err(|e| format!("{}: {e}", f.display()))?;
            // Before `trusted_proxies`, one trusted proxy was `trust_forwarded_for = true`.
            if let Some(old) = from_file.remove("trust_forwarded_for") {
                from_file
                    .entry("trusted_proxies")
                    .or_insert(toml::Value::Integer(i64::from(old.as_bool() == Some(true))));
            }
            merge(&mut value, from_file, &f.display().to_string())?;
        }
        let table = value.as_table_mut().expect("the config is a table");
        if let Some((_, old)) = env.iter().find(|(k, _)| k == "NGOSO_TRUST_FORWARDED_FOR")
            && !env.iter().any(|(k, _)| k == "NGOSO_TRUSTED_PROXIES")
        {
            let on = matches!(old.trim().to_ascii_lowercase().as_str(), "1" | "true" | "yes" | "on");
            table.insert("trusted_proxies".into(), toml::Value::Integer(i64::from(on)));
        }
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
        cfg.web.check()?;
        Ok(cfg)
    }

    /// The database URL in effect.
    pub fn database_url(&self) -> String {
        match self.database_url.get() {
            Some(url) => url.to_owned(),
            None => format!("sqlite://{}", self.data_dir.join("ngoso.db").display()),
        }
    }

    /// The effective configuration as TOML, secrets redacted.
    pub fn redacted_toml(&self) -> String {
        let mut c = self.clone();
        c.database_url = Secret::new(self.database_url());
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
        assert_eq!(c.web.token_ttl_days, 7);
        assert!(c.web.cookie_secure);
        assert_eq!(c.web.session_ttl_secs, 12 * 3600);
        assert_eq!(c.database_url(), format!("sqlite://{}", Path::new("ngoso-data").join("ngoso.db").display()));

        std::fs::write(&file, "lisen = 1\n").unwrap();
        assert!(Config::load(Some(&file), &[]).unwrap_err().contains("unknown setting"));
        assert!(Config::load(None, &env(&[("NGOSO_TOKEN_TTL_DAYS", "many")])).unwrap_err().contains("whole number"));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn the_public_url_is_an_http_address() {
        let c = Config::load(None, &env(&[("NGOSO_PUBLIC_URL", " https://ngoso.tinh.gov.vn/ ")])).unwrap();
        assert_eq!(c.web.public_url(), Some("https://ngoso.tinh.gov.vn"));
        assert_eq!(Config::load(None, &[]).unwrap().web.public_url(), None);
        let e = Config::load(None, &env(&[("NGOSO_PUBLIC_URL", "ngoso.tinh.gov.vn")])).unwrap_err();
        assert!(e.contains("public_url") && e.contains("https://"), "{e}");
    }

    #[test]
    fn secrets_are_redacted() {
        assert_eq!(redact_url("postgres://ngoso:s3cret@db:5432/ngoso"), "postgres://ngoso:***@db:5432/ngoso");
        assert_eq!(redact_url("postgres://ngoso@db/ngoso"), "postgres://ngoso@db/ngoso");
        let c = Config {
            database_url: Secret::new("postgres://a:b@c/d"),
            web: WebConfig { cccd_key: Secret::new("k".repeat(40)), ..WebConfig::default() },
            ..Config::default()
        };
        let out = c.redacted_toml();
        assert!(out.contains("postgres://a:***@c/d") && !out.contains(":b@"));
        assert!(out.contains("cccd_key = \"***\"") && !out.contains("kkkk"));
        // Printed for a log, the configuration shows no secret either.
        let debug = format!("{c:?}");
        assert!(!debug.contains("kkkk") && !debug.contains(":b@"), "{debug}");
    }

    #[test]
    fn a_short_cccd_key_is_refused_at_start() {
        let e = Config::load(None, &env(&[("NGOSO_CCCD_KEY", "short-key")])).unwrap_err();
        assert!(e.contains("cccd_key") && e.contains("32"), "{e}");
        assert!(Config::load(None, &env(&[("NGOSO_CCCD_KEY", &"k".repeat(32))])).is_ok());
        assert!(Config::load(None, &env(&[("NGOSO_CCCD_KEY", "")])).is_ok(), "no key at all is allowed");
    }

    #[test]
    fn the_old_forwarded_for_switch_means_one_proxy() {
        let c = Config::load(None, &env(&[("NGOSO_TRUST_FORWARDED_FOR", "true")])).unwrap();
        assert_eq!(c.web.trusted_proxies, 1);
        let c = Config::load(None, &env(&[("NGOSO_TRUSTED_PROXIES", "2")])).unwrap();
        assert_eq!(c.web.trusted_proxies, 2);
    }
}
