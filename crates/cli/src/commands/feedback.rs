//! `ngoso feedback setup export | apply`, `feedback days import`, `feedback routes import`,
//! `feedback key add | list | revoke`: the set-up of citizen feedback from the command line,
//! as the API does it (`/api/v1/feedback/setup…`) — one document or file written all or
//! nothing, tried first with `--dry-run`, logged.

use std::path::{Path, PathBuf};

use clap::Subcommand;
use ngoso_store::feedback::document::{self as doc, Applied, SetupDocument};
use ngoso_store::{Db, audit, feedback_setup as setup};

use crate::config::Config;
use crate::{Failure, open_migrated, t};

#[derive(Debug, Subcommand)]
pub enum FeedbackCommand {
    /// The set-up as one JSON document: read it, or apply one.
    #[command(subcommand)]
    Setup(SetupCommand),
    /// Holidays and declared working days from a CSV file (day, kind = holiday or workday, name).
    #[command(subcommand)]
    Days(ImportOnly),
    /// Routing rules from a CSV file (agency_code, and category_code, unit_code for a narrower rule).
    #[command(subcommand)]
    Routes(ImportOnly),
    /// The API keys of Open311 clients.
    #[command(subcommand)]
    Key(KeyCommand),
    /// Record the feedback of an earlier system with its own codes and dates, all or
    /// nothing: a CSV (code, category, description, received_at, and unit_code, address,
    /// channel, state, agency_code, answered_at, answer where known; Open311's column names
    /// too) or an Open311 export (a .json file: the list of GET requests.json).
    Import { file: PathBuf },
    /// Delete what was never used (an agency no item was sent to, a category no item was
    /// filed under, a field never answered); what was used is refused: withdraw it in the
    /// set-up document instead (`active: false`, `withdrawn: true`).
    #[command(subcommand)]
    Delete(DeleteCommand),
}

#[derive(Debug, Subcommand)]
pub enum DeleteCommand {
    Agency { code: String },
    Category { code: String },
    Field { category: String, field: String },
}

#[derive(Debug, Subcommand)]
pub enum SetupCommand {
    /// Print the whole set-up as JSON (webhook secrets left out).
    Export,
    /// Apply a set-up document (JSON) all or nothing: entries matched by code, new ones
    /// added, known ones changed.
    Apply {
        file: PathBuf,
        /// Check and do everything, then take it back.
        #[arg(long)]
        dry_run: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum ImportOnly {
    /// Import a CSV file, all or nothing.
    Import {
        file: PathBuf,
        /// Check and do everything, then take it back.
        #[arg(long)]
        dry_run: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum KeyCommand {
    /// Make a key for a client; it is printed once.
    Add {
        #[arg(long)]
        name: String,
    },
    /// List the keys (their first characters only).
    List,
    /// Revoke a key: its client is refused from now on.
    Revoke { id: i64 },
}

pub async fn run(cmd: FeedbackCommand, cfg: &Config) -> Result<(), Failure> {
    let db = open_migrated(cfg).await?;
    let result = run_on(&db, cmd).await;
    db.close().await;
    result
}

fn read(file: &Path) -> Result<String, Failure> {
    let bytes = std::fs::read(file).map_err(|e| Failure::Input(format!("{}: {e}", file.display())))?;
    String::from_utf8(bytes)
        .map_err(|_| Failure::Input(crate::invalid_message(&ngoso_core::Invalid::field("utf8-invalid", "file"))))
}

async fn log(db: &Db, action: &str, detail: &str) -> Result<(), Failure> {
    let ev = audit::Event { user_id: None, action, object_type: "feedback_setup", object_id: "0", detail };
    Ok(audit::record(db, ev).await?)
}

async fn apply(db: &Db, d: &SetupDocument, dry_run: bool, lines: Option<&[u64]>) -> Result<(), Failure> {
    let a: Applied = doc::apply(db, d, dry_run).await.map_err(|e| match lines {
        Some(lines) => doc::at_line(e, lines),
        None => e,
    })?;
    let n = |v: usize| v.to_string();
    let what = t(
        if dry_run { "cli-feedback-setup-dry-run" } else { "cli-feedback-setup-applied" },
        &[
            ("agencies_added", &n(a.agencies_added)),
            ("agencies_changed", &n(a.agencies_changed)),
            ("categories_added", &n(a.categories_added)),
            ("categories_changed", &n(a.categories_changed)),
            ("fields", &n(a.fields_added)),
            ("staff", &n(a.staff)),
            ("routes", &n(a.routes)),
            ("days", &n(a.days)),
        ],
    );
    println!("{what}");
    for s in &a.webhook_secrets {
        println!("{}", t("cli-feedback-webhook-secret", &[("agency", &s.agency_code), ("secret", &s.secret)]));
    }
    if !dry_run {
        log(db, "feedback.setup.apply", &what).await?;
    }
    Ok(())
}

async fn run_on(db: &Db, cmd: FeedbackCommand) -> Result<(), Failure> {
    match cmd {
        FeedbackCommand::Setup(SetupCommand::Export) => {
            let d = doc::export(db).await?;
            println!("{}", serde_json::to_string_pretty(&d).map_err(Failure::other)?);
            Ok(())
        }
        FeedbackCommand::Setup(SetupCommand::Apply { file, dry_run }) => {
            let text = read(&file)?;
            let d: SetupDocument = serde_json::from_str(&text).map_err(|e| {
                Failure::Input(t(
                    "cli-feedback-document-invalid",
                    &[("file", &file.display().to_string()), ("error", &e.to_string())],
                ))
            })?;
            apply(db, &d, dry_run, None).await
        }
        FeedbackCommand::Days(ImportOnly::Import { file, dry_run }) => {
            let (d, lines) = doc::read_days_csv(&read(&file)?)?;
            apply(db, &d, dry_run, Some(&lines)).await
        }
        FeedbackCommand::Routes(ImportOnly::Import { file, dry_run }) => {
            let (d, lines) = doc::read_routes_csv(&read(&file)?)?;
            apply(db, &d, dry_run, Some(&lines)).await
        }
        FeedbackCommand::Import { file } => {
            let text = read(&file)?;
            let json = file.extension().is_some_and(|e| e.eq_ignore_ascii_case("json"));
            let rows = if json {
                ngoso_store::feedback::past::read_open311(&text)?
            } else {
                ngoso_store::feedback::past::read_csv(&text)?
            };
            let cal = setup::calendar(db).await?;
            let done = ngoso_store::feedback::past::import(db, &cal, &rows).await?;
            let what = format!("{} items, {} answered", done.items, done.answered);
            log(db, "feedback.import", &what).await?;
            println!(
                "{}",
                t(
                    "cli-feedback-imported",
                    &[("items", &done.items.to_string()), ("answered", &done.answered.to_string())]
                )
            );
            Ok(())
        }
        FeedbackCommand::Delete(d) => {
            let agencies = setup::agencies(db).await?;
            let categories = setup::categories(db).await?;
            let unknown = |code: &str| Failure::Input(t("cli-feedback-code-unknown", &[("code", code)]));
            let category = |code: &str| {
                categories.iter().find(|c| c.code == code.trim()).map(|c| c.id).ok_or_else(|| unknown(code))
            };
            let (action, what) = match &d {
                DeleteCommand::Agency { code } => {
                    let id =
                        agencies.iter().find(|a| a.code == code.trim()).map(|a| a.id).ok_or_else(|| unknown(code))?;
                    setup::delete_agency(db, id).await?;
                    ("feedback.agency.delete", code.clone())
                }
                DeleteCommand::Category { code } => {
                    setup::delete_category(db, category(code)?).await?;
                    ("feedback.category.delete", code.clone())
                }
                DeleteCommand::Field { category: code, field } => {
                    match setup::delete_field(db, category(code)?, field).await {
                        Err(ngoso_store::StoreError::NotFound) => return Err(unknown(field)),
                        other => other?,
                    }
                    ("feedback.category.field_delete", format!("{code}.{field}"))
                }
            };
            log(db, action, &what).await?;
            println!("{}", t("cli-feedback-deleted", &[("code", &what)]));
            Ok(())
        }
        FeedbackCommand::Key(KeyCommand::Add { name }) => {
            let (id, key) = setup::create_key(db, &name, None).await?;
            log(db, "feedback.api_key.create", &name).await?;
            println!("{}", t("cli-feedback-key-added", &[("id", &id.to_string()), ("key", &key)]));
            Ok(())
        }
        FeedbackCommand::Key(KeyCommand::List) => {
            for k in setup::keys(db).await? {
                let state = if k.revoked_at.is_some() { "revoked" } else { "active" };
                println!("{}\t{}…\t{}\t{}", k.id, k.prefix, state, k.name);
            }
            Ok(())
        }
        FeedbackCommand::Key(KeyCommand::Revoke { id }) => {
            match setup::revoke_key(db, id).await {
                Err(ngoso_store::StoreError::NotFound) => {
                    return Err(Failure::Input(t("cli-feedback-key-unknown", &[("id", &id.to_string())])));
                }
                other => other?,
            }
            log(db, "feedback.api_key.revoke", &id.to_string()).await?;
            println!("{}", t("cli-feedback-key-revoked", &[("id", &id.to_string())]));
            Ok(())
        }
    }
}
