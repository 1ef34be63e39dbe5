//! The commands.

pub mod check;
pub mod feedback;
pub mod import;
pub mod report;
pub mod serve;
pub mod units;
pub mod user;

use crate::config::Config;
use crate::{Command, Failure, open_migrated};

pub async fn dispatch(command: Command, mut cfg: Config) -> Result<(), Failure> {
    match command {
        Command::Serve { listen } => {
            if let Some(l) = listen {
                cfg.listen = l;
            }
            serve::run(&cfg).await
        }
        Command::Demo(args) => crate::demo::run(args, cfg).await,
        Command::Migrate => {
            open_migrated(&cfg).await?.close().await;
            println!("{}", crate::t("cli-migrated", &[]));
            Ok(())
        }
        Command::Import(c) => import::run(c, &cfg).await,
        Command::User(c) => user::run(c, &cfg).await,
        Command::Feedback(c) => feedback::run(c, &cfg).await,
        Command::Units(c) => units::run(c, &cfg).await,
        Command::Check => check::run(&cfg).await,
        Command::Report(args) => report::run(args, &cfg).await,
        Command::Config => {
            print!("{}", cfg.redacted_toml());
            Ok(())
        }
    }
}
