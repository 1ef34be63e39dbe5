//! `ngoso units load-official`: the official tree shipped with ngoso (`data/official`, the
//! statistics office's codes, extracted by `scripts/official_units.py`), the units before
//! 2025-07-01 or from that day, of the whole country or one province. Units already recorded
//! are matched by code and kept as they are; the rest are added under them, through the same
//! checks as `ngoso import units` (refused whole on any bad row, nothing written).
//!
//! `ngoso units restructure`: a mapping of old unit codes to new ones applied on a day (the
//! official one of 2025-07-01 with `--official`), in one transaction, with a dry run; and
//! `ngoso units official-mapping`, the official mapping as a file to edit (to place hamlets).

use std::time::Instant;

use clap::{ArgGroup, Subcommand};
use ngoso_core::import::{ImportRow, plan_units};
use ngoso_core::unit::Validity;
use ngoso_store::restructure::{self, MappingRow};
use ngoso_store::{Db, units};

use crate::commands::import::{describe_errors, read_unit_rows};
use crate::config::Config;
use crate::{Failure, invalid_message, open_migrated, t};

use crate::official::{AFTER, BEFORE, gunzip, of_province, official_day, official_rows};

#[derive(Debug, Subcommand)]
pub enum UnitsCommand {
    /// Load the official administrative units shipped with ngoso (statistics-office codes):
    /// those before the restructuring of 2025-07-01 (--before: 63 provinces, 696 districts,
    /// about 10,000 communes) or from that day (--after: 34 provinces, 3,321 communes), the
    /// whole country or one province (--province CODE). Units already recorded are matched by
    /// code and kept; the others are added.
    /// With --both, the tree before, then the restructuring of 2025-07-01 by the official
    /// mapping (the new units opened, each old one linked to its successors).
    #[command(group(ArgGroup::new("side").required(true).args(["before", "after", "both"])))]
    LoadOfficial {
        /// The tree before 2025-07-01.
        #[arg(long)]
        before: bool,
        /// The tree from 2025-07-01.
        #[arg(long)]
        after: bool,
        /// Both trees, linked by the official mapping.
        #[arg(long)]
        both: bool,
        /// Only this province (its code in that tree, e.g. 80; with --both, the old one) and
        /// the units below it.
        #[arg(long)]
        province: Option<String>,
    },
    /// Apply a mapping of old unit codes to new ones on a day, in one transaction: old units
    /// close, new ones open, the units below a merged unit (and hamlets placed by a row) are
    /// made again under their successors, households move, figures follow; a split unit's
    /// other households wait to be placed. The mapping file has the columns old_code,
    /// new_code and, for units to open, new_name, new_kind, new_parent_code. Refused whole on
    /// any bad row; applying it again changes nothing.
    #[command(group(ArgGroup::new("source").required(true).args(["mapping", "official"])))]
    Restructure {
        /// The mapping file (CSV).
        #[arg(long)]
        mapping: Option<std::path::PathBuf>,
        /// The official mapping of 2025-07-01 (for the old communes recorded here).
        #[arg(long)]
        official: bool,
        /// With --official: only this old province (e.g. 80, Long An).
        #[arg(long)]
        province: Option<String>,
        /// The first day of the new tree (YYYY-MM-DD; the first of a month). Default with
        /// --official: 2025-07-01.
        #[arg(long)]
        on: Option<String>,
        /// Say what would happen; write nothing.
        #[arg(long)]
        dry_run: bool,
    },
    /// Print the official mapping of 2025-07-01 as a mapping file (of one old province with
    /// --province), to edit before `ngoso units restructure --mapping`: add a row per hamlet
    /// of a split commune to say where it goes.
    OfficialMapping {
        #[arg(long)]
        province: Option<String>,
    },
}

pub async fn run(cmd: UnitsCommand, cfg: &Config) -> Result<(), Failure> {
    match cmd {
        UnitsCommand::LoadOfficial { before, after, both: _, province } => {
            let db = open_migrated(cfg).await?;
            let result = if before || after {
                load(&db, if before { BEFORE } else { AFTER }, province.as_deref()).await
            } else {
                match load(&db, BEFORE, province.as_deref()).await {
                    Ok(()) => {
                        let rows = official_rows(province.as_deref(), None)?;
                        apply(&db, &rows, official_day(), false).await
                    }
                    Err(e) => Err(e),
                }
            };
            db.close().await;
            result
        }
        UnitsCommand::Restructure { mapping, official, province, on, dry_run } => {
            let day = match on.as_deref() {
                Some(d) => chrono::NaiveDate::parse_from_str(d.trim(), "%Y-%m-%d")
                    .map_err(|_| Failure::Input(t("cli-date-invalid", &[("date", d)])))?,
                None if official => official_day(),
                None => return Err(Failure::Input(t("cli-date-invalid", &[("date", "")]))),
            };
            let db = open_migrated(cfg).await?;
            let result = async {
                let rows = match (&mapping, official) {
                    (Some(path), _) => {
                        let bytes =
                            std::fs::read(path).map_err(|e| Failure::Input(format!("{}: {e}", path.display())))?;
                        restructure::read_mapping(&bytes).map_err(|errors| refused(&errors))?
                    }
                    (None, true) => {
                        let known =
                            units::existing_for_import(&db, Some(&Validity { from: None, to: Some(day) })).await?;
                        official_rows(province.as_deref(), Some(&known))?
                    }
                    (None, false) => return Err(Failure::Input(t("cli-restructure-source", &[]))),
                };
                apply(&db, &rows, day, dry_run).await
            }
            .await;
            db.close().await;
            result
        }
        UnitsCommand::OfficialMapping { province } => {
            let rows = official_rows(province.as_deref(), None)?;
            let mut w = csv::Writer::from_writer(std::io::stdout().lock());
            w.write_record(["old_code", "new_code", "new_name", "new_kind", "new_parent_code"])
                .map_err(Failure::other)?;
            for r in rows {
                w.write_record([&r.old_code, &r.new_code, &r.new_name, &r.new_kind, &r.new_parent_code])
                    .map_err(Failure::other)?;
            }
            w.flush().map_err(Failure::other)?;
            Ok(())
        }
    }
}

fn refused(errors: &[restructure::RowError]) -> Failure {
    for e in errors {
        let i = ngoso_core::Invalid::new(e.key).with_detail(e.detail.clone());
        eprintln!("{}", t("cli-row-error", &[("row", &e.line.to_string()), ("reason", &invalid_message(&i))]));
    }
    Failure::Input(t("cli-restructure-refused", &[("count", &errors.len().to_string())]))
}

async fn apply(db: &Db, rows: &[MappingRow], day: chrono::NaiveDate, dry_run: bool) -> Result<(), Failure> {
    let s = match restructure::restructure(db, rows, day, dry_run, None).await? {
        restructure::Outcome::Refused(errors) => return Err(refused(&errors)),
        // The command line runs with the database's own rights: everything is allowed.
        restructure::Outcome::NotAllowed => return Err(Failure::Other("restructuring not allowed".into())),
        restructure::Outcome::Done(s) => s,
    };
    if s.already_applied {
        println!("{}", t("cli-restructure-already", &[]));
        return Ok(());
    }
    let waiting: i64 = s.to_place.iter().map(|w| w.households).sum();
    println!(
        "{}",
        t(
            "cli-restructure-summary",
            &[
                ("day", &day.format("%d/%m/%Y").to_string()),
                ("closed", &s.closed.len().to_string()),
                ("opened", &s.opened.len().to_string()),
                ("remade", &s.remade.to_string()),
                ("moved", &s.households_moved.to_string()),
                ("waiting", &waiting.to_string()),
                ("teams", &s.teams_moved.to_string()),
                ("accounts", &s.accounts_moved.to_string()),
                ("routes", &s.routes_moved.to_string()),
                ("review", &s.to_review.len().to_string()),
                ("feedback", &s.open_feedback.to_string()),
            ]
        )
    );
    let name = |u: &restructure::RestructuredUnit| format!("{} {}", u.code, u.name);
    for w in &s.to_place {
        let c: Vec<String> = w.candidates.iter().map(name).collect();
        println!(
            "{}",
            t(
                "cli-restructure-waiting",
                &[("unit", &name(&w.unit)), ("households", &w.households.to_string()), ("candidates", &c.join(", "))]
            )
        );
    }
    for r in &s.to_review {
        println!("{}", t("cli-restructure-review", &[("kind", r.kind), ("name", &r.name), ("unit", &name(&r.unit))]));
    }
    if dry_run {
        println!("{}", t("cli-restructure-dry-run", &[]));
    }
    Ok(())
}

async fn load(db: &Db, gz: &[u8], province: Option<&str>) -> Result<(), Failure> {
    let started = Instant::now();
    let mut rows = read_unit_rows(&gunzip(gz)?)?;
    if let Some(p) = province {
        rows = of_province(rows, p)?;
    }
    // The units of the list's time: those whose validity overlaps it.
    let span = match rows.first() {
        Some(r) => {
            Validity::parse(Some(&r.valid_from), Some(&r.valid_to)).map_err(|e| Failure::Other(e.to_string()))?
        }
        None => Validity::default(),
    };
    let existing = units::existing_for_import(db, Some(&span)).await?;
    let total = rows.len();
    let (known, new): (Vec<ImportRow>, Vec<ImportRow>) = rows.into_iter().partition(|r| existing.contains_key(&r.code));
    // A unit matched by code must be the same unit: a code of the other tree, reused for a
    // unit of another time (the new Tây Ninh is 80, Long An's code), is refused, not merged.
    let mut renamed = 0;
    for r in &known {
        let v = Validity::parse(Some(&r.valid_from), Some(&r.valid_to)).map_err(|e| Failure::Other(e.to_string()))?;
        let u = units::all_of_code(db, &r.code)
            .await?
            .into_iter()
            .find(|u| u.validity().overlaps(&v))
            .ok_or(ngoso_store::StoreError::NotFound)?;
        // A unit of the new tree found open since before its day: the old unit of that code,
        // not yet restructured.
        let older = v.from.is_some_and(|from| u.valid_from.is_none_or(|f| f < from));
        if older {
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
