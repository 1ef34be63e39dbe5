//! The `ngoso` command line: commands, configuration, logging and the demo generator.

pub mod commands;
pub mod config;
pub mod demo;
mod demo_feedback;
mod demo_outreach;
mod demo_programme;
mod demo_values;
pub mod official;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use ngoso_store::{Db, PoolConfig};
use ngoso_web::http::i18n::{Lang, msg};

use crate::config::Config;

/// ngoso (Ngõ Số): the platform of community digital technology teams.
#[derive(Debug, Parser)]
#[command(name = "ngoso", version, about, long_about = None)]
pub struct Cli {
    /// Database URL: sqlite://PATH or postgres://USER:PASSWORD@HOST/DB.
    #[arg(long, global = true, env = "NGOSO_DATABASE_URL", value_name = "URL", hide_env_values = true)]
    pub database: Option<String>,
    /// Configuration file [default: ngoso.toml, if present].
    #[arg(long, global = true, env = "NGOSO_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the web application and the API.
    Serve {
        /// Address to listen on [default: 127.0.0.1:8080].
        #[arg(long, env = "NGOSO_LISTEN", value_name = "ADDR")]
        listen: Option<String>,
    },
    /// Generate a synthetic province with accounts, then serve it.
    Demo(demo::DemoArgs),
    /// Apply the database migrations.
    Migrate,
    /// Import data from CSV files.
    #[command(subcommand)]
    Import(commands::import::ImportCommand),
    /// Manage user accounts.
    #[command(subcommand)]
    User(commands::user::UserCommand),
    /// The set-up of citizen feedback: categories, agencies, staff, routes, days, API keys.
    #[command(subcommand)]
    Feedback(commands::feedback::FeedbackCommand),
    /// The administrative tree: load the official units.
    #[command(subcommand)]
    Units(commands::units::UnitsCommand),
    /// Check the database's derived data against the raw records.
    Check,
    /// Write the periodic report of a unit for a period (XLSX, CSV, HTML or JSON).
    Report(commands::report::ReportArgs),
    /// Print the effective configuration, secrets redacted.
    Config,
}

/// How a command failed, and so its exit code.
#[derive(Debug)]
pub enum Failure {
    /// Bad input or bad usage: exit code 2.
    Input(String),
    /// Anything else: exit code 1.
    Other(String),
}

impl Failure {
    pub fn other(e: impl std::fmt::Display) -> Self {
        Failure::Other(e.to_string())
    }
}

impl From<ngoso_store::StoreError> for Failure {
    fn from(e: ngoso_store::StoreError) -> Self {
        match e {
            ngoso_store::StoreError::Invalid(i) => Failure::Input(invalid_message(&i)),
            ngoso_store::StoreError::AtRow { row, section, invalid } => {
                let text = invalid_message(&invalid);
                let row = row.to_string();
                Failure::Input(match section {
                    Some(s) => t(
                        "err-at-entry",
                        &[("row", &row), ("section", &t(&format!("section-{s}"), &[])), ("message", &text)],
                    ),
                    None => t("err-at-row", &[("row", &row), ("message", &text)]),
                })
            }
            other => Failure::Other(other.to_string()),
        }
    }
}

/// The language of the command line's messages: `NGOSO_LANG`, else `LANG` when it names
/// English, else Vietnamese.
pub fn cli_lang() -> Lang {
    std::env::var("NGOSO_LANG")
        .ok()
        .and_then(|v| Lang::parse(&v))
        .or_else(|| std::env::var("LANG").ok().filter(|v| v.starts_with("en")).map(|_| Lang::En))
        .unwrap_or_default()
}

/// The message of a refused input, in the command line's language.
pub fn invalid_message(i: &ngoso_core::Invalid) -> String {
    let lang = cli_lang();
    let info = ngoso_web::http::error::ErrorInfo {
        status: ngoso_web::http::error::AppError::from(i.clone()).info().status,
        code: i.code,
        field: i.field,
        detail: i.detail.clone(),
        row: None,
        section: None,
    };
    ngoso_web::http::error::message(lang, &info)
}

/// A message of the catalogue in the command line's language.
pub fn t(id: &str, args: &[(&str, &str)]) -> String {
    msg(cli_lang(), id, args)
}

/// Opens the database named by the configuration.
pub async fn open_db(cfg: &Config) -> Result<Db, Failure> {
    open_with(cfg, false).await
}

/// Opens and migrates the database for a long-running server: SQLite checkpoints run in the
/// background.
pub async fn open_serving(cfg: &Config) -> Result<Db, Failure> {
    let db = open_with(cfg, true).await?;
    db.migrate().await?;
    Ok(db)
}

async fn open_with(cfg: &Config, background_checkpoint: bool) -> Result<Db, Failure> {
    let url = cfg.database_url();
    if let Some(path) = url.strip_prefix("sqlite://")
        && let Some(dir) = std::path::Path::new(path).parent()
        && !dir.as_os_str().is_empty()
    {
        std::fs::create_dir_all(dir).map_err(|e| Failure::Other(format!("cannot create {}: {e}", dir.display())))?;
    }
    let pool = PoolConfig { max_connections: cfg.db_max_connections, background_checkpoint, ..PoolConfig::default() };
    Ok(Db::connect(&url, &pool).await?)
}

/// Opens and migrates the database.
pub async fn open_migrated(cfg: &Config) -> Result<Db, Failure> {
    let db = open_db(cfg).await?;
    db.migrate().await?;
    Ok(db)
}

fn init_logging(filter: &str) {
    let filter =
        tracing_subscriber::EnvFilter::try_new(filter).unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).try_init();
}

/// Parses the command line, runs the command and returns the exit code.
pub fn run() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { 2 } else { 0 });
        }
    };
    let env: Vec<(String, String)> = std::env::vars().filter(|(k, _)| k.starts_with("NGOSO_")).collect();
    let mut cfg = match Config::load(cli.config.as_deref(), &env) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("ngoso: {e}");
            return ExitCode::from(2);
        }
    };
    if let Some(url) = &cli.database {
        cfg.database_url = ngoso_core::secret::Secret::new(url.clone());
    }
    init_logging(&cfg.log);
    let rt = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("ngoso: {e}");
            return ExitCode::from(1);
        }
    };
    match rt.block_on(commands::dispatch(cli.command, cfg)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure::Input(m)) => {
            eprintln!("ngoso: {m}");
            ExitCode::from(2)
        }
        Err(Failure::Other(m)) => {
            eprintln!("ngoso: {m}");
            ExitCode::from(1)
        }
    }
}
