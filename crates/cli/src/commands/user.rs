//! `ngoso user add | list | disable | enable | reset-password`.

use std::io::BufRead;

use clap::Subcommand;
use ngoso_core::Invalid;
use ngoso_core::auth::Role;
use ngoso_core::user::{Username, check_new_password, parse_display_name};
use ngoso_store::{StoreError, secrets, units, users};

use crate::config::Config;
use crate::{Failure, invalid_message, open_migrated, t};

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create an account.
    Add {
        #[arg(long)]
        username: String,
        /// admin, officer, team_leader, member, agency_staff or viewer.
        #[arg(long)]
        role: String,
        /// Code of the unit whose subtree the account works in (omit for the whole tree:
        /// administrators only).
        #[arg(long, value_name = "CODE")]
        unit: Option<String>,
        /// Full name shown in the pages [default: the user name].
        #[arg(long)]
        display_name: Option<String>,
        /// Read the password from the first line of standard input (otherwise one is
        /// generated and printed).
        #[arg(long)]
        password_stdin: bool,
    },
    /// List the accounts.
    List,
    /// Disable an account: its sessions end and its API tokens are revoked.
    Disable { username: String },
    /// Enable a disabled account.
    Enable { username: String },
    /// Set a new password (ends the account's sessions).
    ResetPassword {
        username: String,
        /// Read the password from the first line of standard input (otherwise one is
        /// generated and printed).
        #[arg(long)]
        password_stdin: bool,
    },
}

fn input(e: Invalid) -> Failure {
    Failure::Input(invalid_message(&e))
}

/// A password from standard input, or a new random one (then printed).
fn password(from_stdin: bool) -> Result<(String, bool), Failure> {
    if from_stdin {
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line).map_err(Failure::other)?;
        let p = line.trim_end_matches(['\n', '\r']).to_owned();
        check_new_password(&p).map_err(input)?;
        Ok((p, false))
    } else {
        Ok((secrets::generate_password(), true))
    }
}

pub async fn run(cmd: UserCommand, cfg: &Config) -> Result<(), Failure> {
    let db = open_migrated(cfg).await?;
    let result = run_on(&db, cmd).await;
    db.close().await;
    result
}

async fn run_on(db: &ngoso_store::Db, cmd: UserCommand) -> Result<(), Failure> {
    match cmd {
        UserCommand::Add { username, role, unit, display_name, password_stdin } => {
            let name = Username::parse(&username).map_err(input)?;
            let role = Role::parse(&role).map_err(input)?;
            let display = parse_display_name(display_name.as_deref().unwrap_or(name.as_str())).map_err(input)?;
            let unit_id = match unit.as_deref().map(str::trim).filter(|u| !u.is_empty()) {
                Some(code) => match units::by_code(db, code).await {
                    Ok(u) => Some(u.id),
                    Err(StoreError::NotFound) => {
                        return Err(input(Invalid::field("unit-unknown", "unit").with_detail(code)));
                    }
                    Err(e) => return Err(e.into()),
                },
                None if !ngoso_core::auth::account_needs_unit(role) => None,
                None => return Err(input(Invalid::field("required", "unit"))),
            };
            let (pw, generated) = password(password_stdin)?;
            let hash = secrets::hash_password(&pw);
            users::create(
                db,
                &users::NewUser { username: &name, display_name: &display, password_hash: &hash, role, unit_id },
            )
            .await?;
            println!("{}", t("cli-user-added", &[("username", name.as_str()), ("role", role.as_str())]));
            if generated {
                println!("{}", t("cli-password-generated", &[("password", &pw)]));
            }
            Ok(())
        }
        UserCommand::List => {
            for u in users::list(db, None).await? {
                println!(
                    "{}\t{}\t{}\t{}\t{}",
                    u.username,
                    u.role,
                    u.unit_code.as_deref().unwrap_or("*"),
                    if u.disabled { "disabled" } else { "active" },
                    u.display_name
                );
            }
            Ok(())
        }
        UserCommand::Disable { username } => set_disabled(db, &username, true).await,
        UserCommand::Enable { username } => set_disabled(db, &username, false).await,
        UserCommand::ResetPassword { username, password_stdin } => {
            let name = Username::parse(&username).map_err(input)?;
            let (pw, generated) = password(password_stdin)?;
            match users::set_password_hash(db, &name, &secrets::hash_password(&pw)).await {
                Err(StoreError::NotFound) => return Err(not_found(&name)),
                other => other?,
            }
            println!("{}", t("cli-password-reset", &[("username", name.as_str())]));
            if generated {
                println!("{}", t("cli-password-generated", &[("password", &pw)]));
            }
            Ok(())
        }
    }
}

fn not_found(name: &Username) -> Failure {
    Failure::Input(t("cli-user-unknown", &[("username", name.as_str())]))
}

async fn set_disabled(db: &ngoso_store::Db, username: &str, disabled: bool) -> Result<(), Failure> {
    let name = Username::parse(username).map_err(input)?;
    match users::set_disabled(db, &name, disabled).await {
        Err(StoreError::NotFound) => return Err(not_found(&name)),
        other => other?,
    }
    let id = if disabled { "cli-user-disabled" } else { "cli-user-enabled" };
    println!("{}", t(id, &[("username", name.as_str())]));
    Ok(())
}
