//! `ngoso units load-official`: the official tree shipped with ngoso (`data/official`, the
//! statistics office's codes, extracted by `scripts/official_units.py`), the units before
//! 2025-07-01 or from that day, of the whole country or one province. Units already recorded
//! are matched by code and kept as they are; the rest are added under them, through the same
//! checks as `ngoso import units` (refused whole on any bad row, nothing written).

use std::collections::HashSet;
use std::io::Read;
use std::time::Instant;

use clap::{ArgGroup, Subcommand};
use ngoso_core::import::{ImportRow, plan_units};
use ngoso_core::unit::Validity;
use ngoso_store::{Db, units};

use crate::commands::import::{describe_errors, read_unit_rows};
use crate::config::Config;
use crate::{Failure, open_migrated, t};

/// The tree until 2025-06-30 (`valid_to` 2025-07-01, exclusive).
const BEFORE: &[u8] = include_bytes!("../../../../data/official/units-before.csv.gz");
/// The tree from 2025-07-01.
const AFTER: &[u8] = include_bytes!("../../../../data/official/units-after.csv.gz");

#[derive(Debug, Subcommand)]
pub enum UnitsCommand {
    /// Load the official administrative units shipped with ngoso (statistics-office codes):
    /// those before the restructuring of 2025-07-01 (--before: 63 provinces, 696 districts,
    /// about 10,000 communes) or from that day (--after: 34 provinces, 3,321 communes), the
    /// whole country or one province (--province CODE). Units already recorded are matched by
    /// code and kept; the others are added.
    #[command(group(ArgGroup::new("side").required(true).args(["before", "after"])))]
    LoadOfficial {
        /// The tree before 2025-07-01.
        #[arg(long)]
        before: bool,
        /// The tree from 2025-07-01.
        #[arg(long)]
        after: bool,
        /// Only this province (its code in that tree, e.g. 80) and the units below it.
        #[arg(long)]
        province: Option<String>,
    },
}

pub async fn run(cmd: UnitsCommand, cfg: &Config) -> Result<(), Failure> {
    let UnitsCommand::LoadOfficial { before, after: _, province } = cmd;
    let db = open_migrated(cfg).await?;
    let result = load(&db, if before { BEFORE } else { AFTER }, province.as_deref()).await;
    db.close().await;
    result
}

/// The rows of a province and everything below it, in file order (parents come first).
fn of_province(rows: Vec<ImportRow>, code: &str) -> Result<Vec<ImportRow>, Failure> {
    let code = code.trim();
    if !rows.iter().any(|r| r.code == code && r.parent_code.trim().is_empty()) {
        return Err(Failure::Input(t("cli-official-province-unknown", &[("code", code)])));
    }
    let mut kept: HashSet<String> = HashSet::new();
    Ok(rows
        .into_iter()
        .filter(|r| {
            let keep = r.code == code || kept.contains(r.parent_code.trim());
            if keep {
                kept.insert(r.code.clone());
            }
            keep
        })
        .collect())
}

async fn load(db: &Db, gz: &[u8], province: Option<&str>) -> Result<(), Failure> {
    let started = Instant::now();
    let mut bytes = Vec::new();
    flate2::read::GzDecoder::new(gz).read_to_end(&mut bytes).map_err(Failure::other)?;
    let mut rows = read_unit_rows(&bytes)?;
    if let Some(p) = province {
        rows = of_province(rows, p)?;
    }
    let existing = units::existing_for_import(db).await?;
    let total = rows.len();
    let (known, new): (Vec<ImportRow>, Vec<ImportRow>) = rows.into_iter().partition(|r| existing.contains_key(&r.code));
    // A unit matched by code must be the same unit: a code of the other tree, reused for a
    // unit of another time (the new Tây Ninh is 80, Long An's code), is refused, not merged.
    let mut renamed = 0;
    for r in &known {
        let u = units::by_code(db, &r.code).await?;
        let v = Validity::parse(Some(&r.valid_from), Some(&r.valid_to)).map_err(|e| Failure::Other(e.to_string()))?;
        let apart = u.valid_to.zip(v.from).is_some_and(|(end, start)| start >= end)
            || u.valid_from.zip(v.to).is_some_and(|(start, end)| end <= start);
        if apart {
            return Err(Failure::Input(t(
                "cli-official-code-reused",
                &[("code", &r.code), ("name", &u.name), ("official", &r.name)],
            )));
        }
        if u.name != r.name {
            renamed += 1;
        }
    }
    let plan = plan_units(&new, &existing).map_err(|errors| {
        for line in describe_errors(&errors) {
            eprintln!("{line}");
        }
        Failure::Input(t("cli-import-refused", &[("count", &errors.len().to_string())]))
    })?;
    let n = units::import(db, &plan, &|_| {}).await?;
    println!(
        "{}",
        t(
            "cli-official-loaded",
            &[
                ("count", &n.to_string()),
                ("total", &total.to_string()),
                ("known", &known.len().to_string()),
                ("renamed", &renamed.to_string()),
                ("seconds", &format!("{:.2}", started.elapsed().as_secs_f64())),
            ]
        )
    );
    Ok(())
}
