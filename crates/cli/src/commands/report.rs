//! `ngoso report`: the periodic report of a unit for a period, written to a file.

use std::io::Write;
use std::path::PathBuf;

use ngoso_core::period::Period;
use ngoso_web::AppState;
use ngoso_web::report::{self, Format};

use crate::config::Config;
use crate::{Failure, cli_lang, invalid_message, open_migrated};

#[derive(Debug, clap::Args)]
pub struct ReportArgs {
    /// The unit's code: the report covers its whole subtree and each unit below it.
    #[arg(long, value_name = "CODE")]
    pub unit: String,
    /// The period: 2024, 2024S1, 2024Q3, 202410, 2024W41 or 20241015.
    #[arg(long)]
    pub period: String,
    /// xlsx, csv, html or json.
    #[arg(long, default_value = "xlsx")]
    pub format: String,
    /// Where to write it (`-`: standard output) [default: ngoso-CODE-PERIOD.FORMAT here].
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

pub async fn run(args: ReportArgs, cfg: &Config) -> Result<(), Failure> {
    let format = Format::parse(&args.format).map_err(|e| Failure::Input(invalid_message(&e)))?;
    let period = Period::parse(&args.period).map_err(|e| Failure::Input(invalid_message(&e)))?;
    let db = open_migrated(cfg).await?;
    let unit = match ngoso_store::units::by_code_for(&db, &args.unit, period.end()).await {
        Ok(u) => u,
        Err(ngoso_store::StoreError::NotFound) => {
            return Err(Failure::Input(crate::t("cli-report-unit-unknown", &[("code", args.unit.trim())])));
        }
        Err(e) => return Err(e.into()),
    };
    let st = AppState::new(db.clone(), cfg.web.clone()).await?;
    let r = report::build(&st, &unit, &period, cli_lang()).await.map_err(|e| Failure::Other(format!("{e:?}")))?;
    let bytes = report::formats::write(&r, format, true).map_err(|e| Failure::Other(format!("{e:?}")))?;
    drop(st);
    db.close().await;
    match args.output {
        Some(p) if p.as_os_str() == "-" => {
            std::io::stdout().write_all(&bytes).map_err(Failure::other)?;
        }
        out => {
            let path = out.unwrap_or_else(|| PathBuf::from(r.file_name(format)));
            std::fs::write(&path, &bytes).map_err(|e| Failure::Other(format!("{}: {e}", path.display())))?;
            let size = bytes.len().to_string();
            eprintln!("{}", crate::t("cli-report-written", &[("path", &path.display().to_string()), ("bytes", &size)]));
        }
    }
    Ok(())
}
