//! `ngoso check`: recomputes what is derived from the raw records and reports differences.

use crate::config::Config;
use crate::{Failure, open_migrated};

pub async fn run(cfg: &Config) -> Result<(), Failure> {
    let db = open_migrated(cfg).await?;
    let problems = ngoso_store::check::run(&db).await?;
    if problems.is_empty() {
        println!("{}", crate::t("cli-check-ok", &[]));
        Ok(())
    } else {
        for p in &problems {
            println!("{p}");
        }
        Err(Failure::Other(crate::t("cli-check-differences", &[("count", &problems.len().to_string())])))
    }
}
