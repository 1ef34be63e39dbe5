//! `ngoso import units|households|residents FILE.csv`: a file with any bad row is refused
//! whole, every bad row listed with its number and reason, and nothing is written. A checked
//! file of households or residents is written in chunks that leave the running server room
//! between them (see `ngoso_store::households::import`); `ngoso import undo ID` takes an
//! import back, `ngoso import list` shows the journal.

use std::path::PathBuf;
use std::time::Instant;

use clap::Subcommand;
use indicatif::{ProgressBar, ProgressStyle};
use ngoso_core::Invalid;
use ngoso_core::import::{ImportRow, RowError, plan_units};
use std::collections::HashMap;

use ngoso_core::household::{HouseholdInput, ResidentInput, parse_household, parse_resident};
use ngoso_store::households::{self, Chunking, ImportRow as HouseholdRow, ImportedResident, NewHousehold};
use ngoso_store::{Db, units};

use crate::config::Config;
use crate::{Failure, invalid_message, open_migrated, t};

#[derive(Debug, Subcommand)]
pub enum ImportCommand {
    /// Import administrative units from a CSV file with the columns
    /// code,name,kind,parent_code and optionally valid_from,valid_to (YYYY-MM-DD).
    /// A file with any bad row is refused whole and nothing is written.
    Units {
        /// The CSV file (UTF-8, comma-separated, with a header row).
        file: PathBuf,
    },
    /// Import households from a CSV file with the columns code,unit_code,size,smartphones and
    /// optionally address,head_name,barriers (codes separated by ';' or spaces),
    /// consent_by,consent_purposes (outreach;contact;statistics). Refused whole on any bad row.
    Households { file: PathBuf },
    /// Import residents from a CSV file with the column household_code and optionally
    /// full_name,birth_year,sex (m/f),youth_union (1/0),cccd,phone,consent_by,consent_purposes.
    /// Citizen IDs are kept only as a keyed hash (needs cccd_key) and their last 4 digits.
    Residents { file: PathBuf },
    /// Import teams and their members from a CSV file, one line a member: unit_code, team,
    /// full_name, role (leader/deputy/member), affiliation, and optionally phone, joined_on
    /// (YYYY-MM-DD), username. A team is found by its unit and name, or made. Refused whole on
    /// any bad row.
    Teams { file: PathBuf },
    /// Take an import of households or residents back: delete the rows it wrote, with their
    /// consents and their part of the figures. Refused when a visit or a later resident
    /// names one of them.
    Undo {
        /// The import's number, as printed when it ended (or by `ngoso import list`).
        id: i64,
    },
    /// The latest imports of households and residents, with their state.
    List,
}

pub async fn run(cmd: ImportCommand, cfg: &Config) -> Result<(), Failure> {
    let db = open_migrated(cfg).await?;
    let result = match cmd {
        ImportCommand::Units { file } => import_units(&file, &db).await,
        ImportCommand::Households { file } => import_households(&file, &db).await,
        ImportCommand::Residents { file } => import_residents(&file, &db, cfg).await,
        ImportCommand::Teams { file } => import_teams(&file, &db).await,
        ImportCommand::Undo { id } => undo(&db, id).await,
        ImportCommand::List => list(&db).await,
    };
    // Closed on every path, so that SQLite folds its write-ahead log back into the file
    // before the process ends.
    db.close().await;
    result
}

/// Progress of a long step: a bar with the rate and the time left on a terminal; otherwise
/// (a log, a pipe, a cron job's mail) a plain line every five seconds and one at the end.
pub struct Progress {
    pb: ProgressBar,
    plain: Option<std::sync::Mutex<Plain>>,
}

struct Plain {
    label: String,
    len: u64,
    start: std::time::Instant,
    last: std::time::Instant,
    pos: u64,
}

impl Plain {
    fn line(&self) -> String {
        let secs = self.start.elapsed().as_secs_f64().max(0.001);
        let rate = self.pos as f64 / secs;
        let left = if rate > 0.0 { (self.len.saturating_sub(self.pos)) as f64 / rate } else { 0.0 };
        t(
            "cli-progress-line",
            &[
                ("label", &self.label),
                ("pos", &self.pos.to_string()),
                ("len", &self.len.to_string()),
                ("rate", &format!("{rate:.0}")),
                ("left", &format!("{left:.0}")),
            ],
        )
    }
}

impl Progress {
    pub fn set_position(&self, pos: u64) {
        self.pb.set_position(pos);
        if let Some(m) = &self.plain
            && let Ok(mut p) = m.lock()
        {
            p.pos = pos;
            if p.last.elapsed() >= std::time::Duration::from_secs(5) {
                p.last = std::time::Instant::now();
                eprintln!("{}", p.line());
            }
        }
    }

    /// Ends the step; a plain log gets a last line, at the whole length (positions are
    /// only reported now and then, so the last one reported falls short of it).
    pub fn finish_and_clear(&self) {
        self.pb.finish_and_clear();
        if let Some(m) = &self.plain
            && let Ok(mut p) = m.lock()
            && p.pos > 0
        {
            p.pos = p.len;
            eprintln!("{}", p.line());
        }
    }
}

fn bar(len: u64, label: &str) -> Progress {
    use std::io::IsTerminal;
    let pb = ProgressBar::new(len);
    pb.set_style(
        ProgressStyle::with_template("{msg:12} [{bar:40}] {pos}/{len} ({per_sec}, {eta})")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    pb.set_message(label.to_owned());
    let plain = (!std::io::stderr().is_terminal()).then(|| {
        let now = std::time::Instant::now();
        std::sync::Mutex::new(Plain { label: label.to_owned(), len, start: now, last: now, pos: 0 })
    });
    Progress { pb, plain }
}

/// A row of a CSV file: its line number and its fields by column name.
#[derive(Debug, Default, Clone)]
pub struct CsvRow {
    /// The row's line number in the file (the header is line 1).
    pub row: u64,
    /// The values of the requested columns, in the order asked for ("" when absent).
    pub fields: Vec<String>,
    /// Bytes that are not UTF-8 in the row.
    pub utf8_error: bool,
    /// Fewer fields than a required column needs.
    pub missing_fields: bool,
}

/// Reads a CSV file with a header row. `required` columns must be in the header (a file
/// without them is refused whole); `optional` columns may be. Rows come back with the
/// fields of `required` then `optional`, in that order; a row's own problems are marked on
/// it, not returned as an error.
pub fn read_table(bytes: &[u8], required: &[&str], optional: &[&str]) -> Result<Vec<CsvRow>, Failure> {
    let pb = bar(bytes.len() as u64, &t("cli-reading", &[]));
    let mut rows = Vec::new();
    scan_table(bytes, required, optional, |r, at| {
        rows.push(r);
        if rows.len() % 4096 == 0 {
            pb.set_position(at);
        }
    })?;
    pb.finish_and_clear();
    Ok(rows)
}

/// Like [`read_table`], handing each row to `each` as it is read, with the byte offset
/// reached, instead of keeping them all.
pub fn scan_table(
    bytes: &[u8],
    required: &[&str],
    optional: &[&str],
    mut each: impl FnMut(CsvRow, u64),
) -> Result<(), Failure> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let mut rdr = csv::ReaderBuilder::new().flexible(true).has_headers(true).from_reader(bytes);
    let header = rdr.byte_headers().map_err(|e| Failure::Input(format!("CSV: {e}")))?.clone();
    let col = |name: &str| header.iter().position(|h| h.trim_ascii().eq_ignore_ascii_case(name.as_bytes()));
    let missing: Vec<&str> = required.iter().copied().filter(|c| col(c).is_none()).collect();
    if !missing.is_empty() {
        return Err(Failure::Input(invalid_message(&Invalid::new("csv-header").with_detail(missing.join(", ")))));
    }
    let columns: Vec<(Option<usize>, bool)> =
        required.iter().map(|c| (col(c), true)).chain(optional.iter().map(|c| (col(c), false))).collect();
    let mut rec = csv::ByteRecord::new();
    // The reader's own line numbers count from before skipped blank lines; count ourselves.
    let mut lines = LineCounter::default();
    loop {
        let line = lines.line_at(bytes, rdr.position().byte() as usize);
        match rdr.read_byte_record(&mut rec) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => {
                // A broken record (an unclosed quote…): mark the row and stop reading, since
                // nothing after it can be trusted.
                let line = e.position().map(|p| lines.line_at(bytes, p.byte() as usize)).unwrap_or(line);
                let utf8_error = matches!(e.kind(), csv::ErrorKind::Utf8 { .. });
                each(
                    CsvRow { row: line, utf8_error, missing_fields: !utf8_error, ..Default::default() },
                    bytes.len() as u64,
                );
                break;
            }
        }
        if rec.iter().all(|f| f.trim_ascii().is_empty()) {
            continue;
        }
        let row_no = rec.position().map(|p| lines.line_at(bytes, p.byte() as usize)).unwrap_or(line);
        let mut r = CsvRow { row: row_no, fields: Vec::with_capacity(columns.len()), ..Default::default() };
        for (i, needed) in &columns {
            let value = match i.and_then(|i| rec.get(i)) {
                Some(b) => match std::str::from_utf8(b) {
                    Ok(s) => s.to_owned(),
                    Err(_) => {
                        r.utf8_error = true;
                        String::new()
                    }
                },
                None => {
                    r.missing_fields |= *needed;
                    String::new()
                }
            };
            r.fields.push(value);
        }
        each(r, rdr.position().byte());
    }
    Ok(())
}

/// Reads the rows of a units CSV.
pub fn read_unit_rows(bytes: &[u8]) -> Result<Vec<ImportRow>, Failure> {
    let rows = read_table(bytes, &["code", "name", "kind", "parent_code"], &["valid_from", "valid_to"])?;
    Ok(rows
        .into_iter()
        .map(|r| {
            let mut f = r.fields.into_iter();
            let mut next = || f.next().unwrap_or_default();
            ImportRow {
                row: r.row,
                code: next(),
                name: next(),
                kind: next(),
                parent_code: next(),
                valid_from: next(),
                valid_to: next(),
                utf8_error: r.utf8_error,
                missing_fields: r.missing_fields,
            }
        })
        .collect())
}

/// Turns byte offsets into line numbers, skipping the blank lines before a record.
#[derive(Default)]
struct LineCounter {
    pos: usize,
    line: u64,
}

impl LineCounter {
    /// The line (1-based) of the first non-blank byte at or after `offset`. Offsets only
    /// grow, so the counting is linear in the file's size.
    fn line_at(&mut self, bytes: &[u8], offset: usize) -> u64 {
        let offset = offset.min(bytes.len());
        if offset >= self.pos {
            self.line += bytes[self.pos..offset].iter().filter(|&&b| b == b'\n').count() as u64;
            self.pos = offset;
        }
        let mut line = self.line + 1;
        for &b in &bytes[self.pos..] {
            match b {
                b'\n' => line += 1,
                b'\r' => {}
                _ => break,
            }
        }
        line
    }
}

/// One line per refused row, in the command line's language.
pub fn describe_errors(errors: &[RowError]) -> Vec<String> {
    errors
        .iter()
        .map(|e| t("cli-row-error", &[("row", &e.row.to_string()), ("reason", &invalid_message(&e.error))]))
        .collect()
}

async fn import_units(file: &std::path::Path, db: &Db) -> Result<(), Failure> {
    let started = Instant::now();
    let bytes = std::fs::read(file).map_err(|e| Failure::Input(format!("{}: {e}", file.display())))?;
    let rows = read_unit_rows(&bytes)?;
    let existing = units::existing_for_import(db, None).await?;
    let plan = match plan_units(&rows, &existing) {
        Ok(p) => p,
        Err(errors) => {
            for line in describe_errors(&errors) {
                eprintln!("{line}");
            }
            return Err(Failure::Input(t("cli-import-refused", &[("count", &errors.len().to_string())])));
        }
    };
    let pb = bar(plan.len() as u64, &t("cli-writing", &[]));
    let n = units::import(db, &plan, &|k| pb.set_position(k)).await?;
    pb.finish_and_clear();
    println!(
        "{}",
        t(
            "cli-imported-units",
            &[("count", &n.to_string()), ("seconds", &format!("{:.2}", started.elapsed().as_secs_f64()))]
        )
    );
    Ok(())
}

fn row_error(row: &CsvRow) -> Option<Invalid> {
    if row.utf8_error {
        Some(Invalid::new("utf8-invalid"))
    } else if row.missing_fields {
        Some(Invalid::new("csv-missing-fields"))
    } else {
        None
    }
}

fn refuse(errors: Vec<RowError>) -> Failure {
    let mut errors = errors;
    errors.sort_by_key(|e| e.row);
    for line in describe_errors(&errors) {
        eprintln!("{line}");
    }
    Failure::Input(t("cli-import-refused", &[("count", &errors.len().to_string())]))
}

fn read_file(file: &std::path::Path) -> Result<Vec<u8>, Failure> {
    std::fs::read(file).map_err(|e| Failure::Input(format!("{}: {e}", file.display())))
}

type Units = HashMap<String, ngoso_core::import::ExistingUnit>;

/// Checks household rows against the tree, the households already recorded and the rows
/// before them in the file.
pub struct HouseholdChecker {
    units: Units,
    existing: HashMap<String, (i64, i64)>,
    /// Codes met so far and their rows (a million of them in a big file: a fast hash,
    /// sized up front).
    seen: HashMap<String, u64, foldhash::fast::RandomState>,
}

/// The columns of a households file: required, then optional.
const HOUSEHOLD_COLUMNS: (&[&str], &[&str]) = (
    &["code", "unit_code", "size", "smartphones"],
    &["address", "head_name", "barriers", "consent_by", "consent_purposes"],
);

impl HouseholdChecker {
    /// `rows_hint`: about how many rows the file has.
    pub async fn new(db: &ngoso_store::Db, rows_hint: usize) -> Result<Self, Failure> {
        Ok(Self {
            units: units::existing_for_import(db, None).await?,
            existing: households::codes(db).await?,
            seen: HashMap::with_capacity_and_hasher(rows_hint, Default::default()),
        })
    }

    /// The household of a row, or why the row is refused, by the row alone and the tree:
    /// needs no other row, so it runs on the thread that reads the file.
    fn parse(units: &Units, r: CsvRow) -> Result<NewHousehold, RowError> {
        let err = |e: Invalid| RowError { row: r.row, error: e };
        if let Some(e) = row_error(&r) {
            return Err(err(e));
        }
        let Some(unit) = units.get(r.fields[1].trim()) else {
            return Err(err(Invalid::field("unit-unknown", "unit_code").with_detail(r.fields[1].trim())));
        };
        let unit_id = unit.id;
        let mut f = r.fields.into_iter();
        let mut next = || f.next().unwrap_or_default();
        let (code, _unit, size, smartphones) = (next(), next(), next(), next());
        let (address, head_name, barriers, consent_by, purposes) = (next(), next(), next(), next(), next());
        let input = HouseholdInput {
            code,
            size,
            smartphones,
            address: Some(address),
            head_name: Some(head_name),
            barriers,
            consent_by: Some(consent_by),
            consent_purposes: Some(purposes.replace(';', ",")),
        };
        parse_household(unit_id, &input).map_err(err)
    }

    /// A parsed household against the households already recorded and the rows before it.
    fn admit(&mut self, row: u64, h: &NewHousehold) -> Result<(), RowError> {
        let err = |e: Invalid| RowError { row, error: e };
        if self.existing.contains_key(&h.code) {
            return Err(err(Invalid::field("household-code-exists", "code").with_detail(&h.code)));
        }
        if let Some(first) = self.seen.get(&h.code) {
            return Err(err(
                Invalid::field("unit-code-duplicate", "code").with_detail(format!("{} (row {first})", h.code))
            ));
        }
        self.seen.insert(h.code.clone(), row);
        Ok(())
    }
}

/// Rows handed from the thread that reads and parses the file to the one that checks codes.
const BATCH: usize = 2048;

/// Reads and checks a whole households file: the rows to write, or every refused row. Two
/// threads share the work (about 4.5 s a million rows on one): one reads the CSV and parses
/// each row on its own (text cleaned and normalised, numbers, consent), the other checks the
/// codes against the database and the rows before, and folds the search keys.
fn check_households(
    bytes: &[u8],
    mut checker: HouseholdChecker,
    pb: &Progress,
) -> Result<Result<Vec<HouseholdRow>, Vec<RowError>>, Failure> {
    type Batch = (Vec<(u64, Result<NewHousehold, RowError>)>, u64);
    let mut errors = Vec::new();
    // Rows of the generated files take about 100 bytes.
    let mut rows: Vec<HouseholdRow> = Vec::with_capacity(bytes.len() / 100);
    let (required, optional) = HOUSEHOLD_COLUMNS;
    let units = std::mem::take(&mut checker.units);
    let (send, receive) = std::sync::mpsc::sync_channel::<Batch>(8);
    let scanned = std::thread::scope(|s| {
        let reader = s.spawn(move || {
            let mut batch = Vec::with_capacity(BATCH);
            let scanned = scan_table(bytes, required, optional, |r, at| {
                batch.push((r.row, HouseholdChecker::parse(&units, r)));
                if batch.len() == BATCH {
                    // The receiver only goes when this thread is done.
                    let _ = send.send((std::mem::replace(&mut batch, Vec::with_capacity(BATCH)), at));
                }
            });
            let _ = send.send((batch, bytes.len() as u64));
            scanned
        });
        for (batch, at) in receive {
            for (row, parsed) in batch {
                match parsed.and_then(|h| checker.admit(row, &h).map(|()| h)) {
                    // After a bad row the rest is only checked, so that every bad row is listed.
                    Ok(h) if errors.is_empty() => rows.push(h.into()),
                    Ok(_) => {}
                    Err(e) => errors.push(e),
                }
            }
            pb.set_position(at);
        }
        reader.join().unwrap_or_else(|p| std::panic::resume_unwind(p))
    });
    scanned?;
    Ok(if errors.is_empty() { Ok(rows) } else { Err(errors) })
}

/// Says, before an import starts, which earlier ones were cut short.
async fn warn_unfinished(db: &Db) -> Result<(), Failure> {
    for i in households::imports(db, 100).await?.iter().filter(|i| i.state == "running") {
        eprintln!("{}", t("cli-import-unfinished", &[("id", &i.id.to_string())]));
    }
    Ok(())
}

async fn import_households(file: &std::path::Path, db: &Db) -> Result<(), Failure> {
    let started = Instant::now();
    let bytes = read_file(file)?;
    // Rows of the generated files take about 100 bytes.
    let checker = HouseholdChecker::new(db, bytes.len() / 100).await?;
    // The whole file is checked before anything is written: a bad file writes nothing.
    let pb = bar(bytes.len() as u64, &t("cli-reading", &[]));
    let rows = match check_households(&bytes, checker, &pb)? {
        Ok(rows) => rows,
        Err(errors) => {
            pb.finish_and_clear();
            return Err(refuse(errors));
        }
    };
    pb.finish_and_clear();
    drop(bytes);
    tracing::debug!(elapsed = ?started.elapsed(), rows = rows.len(), "households file checked");
    warn_unfinished(db).await?;
    let pb = bar(rows.len() as u64, &t("cli-writing", &[]));
    let done = households::import(db, &rows, None, Chunking::default(), &|k| pb.set_position(k)).await?;
    pb.finish_and_clear();
    tracing::info!(elapsed = ?started.elapsed(), "households import");
    let secs = format!("{:.2}", started.elapsed().as_secs_f64());
    println!(
        "{}",
        t(
            "cli-imported-households",
            &[("count", &done.rows.to_string()), ("seconds", &secs), ("id", &done.id.to_string())]
        )
    );
    Ok(())
}

async fn undo(db: &Db, id: i64) -> Result<(), Failure> {
    let n = match households::undo_import(db, id).await {
        Err(ngoso_store::StoreError::NotFound) => {
            return Err(Failure::Input(t("cli-import-unknown", &[("id", &id.to_string())])));
        }
        other => other?,
    };
    println!("{}", t("cli-import-undone", &[("id", &id.to_string()), ("count", &n.to_string())]));
    Ok(())
}

async fn list(db: &Db) -> Result<(), Failure> {
    let all = households::imports(db, 50).await?;
    if all.is_empty() {
        println!("{}", t("cli-imports-none", &[]));
    }
    for i in all {
        let started = chrono::DateTime::from_timestamp(i.started_at, 0)
            .map(|d| d.with_timezone(&ngoso_core::calendar::tz()).format("%Y-%m-%d %H:%M").to_string())
            .unwrap_or_default();
        let line = t(
            "cli-import-line",
            &[
                ("id", &i.id.to_string()),
                ("kind", &i.kind),
                ("state", &i.state),
                ("rows", &i.rows.to_string()),
                ("started", &started),
            ],
        );
        println!("{line}");
    }
    Ok(())
}

async fn import_residents(file: &std::path::Path, db: &Db, cfg: &Config) -> Result<(), Failure> {
    let started = Instant::now();
    let bytes = read_file(file)?;
    let rows = read_table(
        &bytes,
        &["household_code"],
        &["full_name", "birth_year", "sex", "youth_union", "cccd", "phone", "consent_by", "consent_purposes"],
    )?;
    let codes = households::codes(db).await?;
    let key = cfg.web.cccd_key();
    let year = chrono::Datelike::year(&ngoso_store::teams::today());
    let mut errors = Vec::new();
    let mut plan: Vec<(u64, ImportedResident)> = Vec::with_capacity(rows.len());
    let mut hashes: HashMap<String, u64> = HashMap::new();
    for r in &rows {
        let err = |e: Invalid| RowError { row: r.row, error: e };
        if let Some(e) = row_error(r) {
            errors.push(err(e));
            continue;
        }
        let f = &r.fields;
        let Some(&(household_id, unit_id)) = codes.get(f[0].trim()) else {
            errors.push(err(Invalid::field("household-unknown", "household_code").with_detail(f[0].trim())));
            continue;
        };
        let opt = |s: &String| Some(s.clone()).filter(|v| !v.trim().is_empty());
        let input = ResidentInput {
            full_name: opt(&f[1]),
            birth_year: opt(&f[2]),
            sex: opt(&f[3]),
            youth_union: opt(&f[4]),
            cccd: opt(&f[5]),
            phone: opt(&f[6]),
            consent_by: opt(&f[7]),
            consent_purposes: opt(&f[8]).map(|p| p.replace(';', ",")),
            groups: Vec::new(),
        };
        match parse_resident(&input, key, year) {
            Err(e) => errors.push(err(e)),
            Ok(res) => {
                if let Some((hash, _)) = &res.cccd {
                    if let Some(first) = hashes.get(hash) {
                        errors.push(err(Invalid::field("cccd-duplicate", "cccd").with_detail(format!("row {first}"))));
                        continue;
                    }
                    hashes.insert(hash.clone(), r.row);
                }
                plan.push((r.row, ImportedResident { household_id, unit_id, resident: res }));
            }
        }
    }
    let all: Vec<String> = hashes.keys().cloned().collect();
    let taken = households::existing_cccd(db, &all).await?;
    for h in taken {
        errors.push(RowError { row: hashes[&h], error: Invalid::field("cccd-duplicate", "cccd") });
    }
    if !errors.is_empty() {
        return Err(refuse(errors));
    }
    let plan: Vec<ImportedResident> = plan.into_iter().map(|(_, r)| r).collect();
    warn_unfinished(db).await?;
    let pb = bar(plan.len() as u64, &t("cli-writing", &[]));
    let done = households::import_residents(db, &plan, None, Chunking::default(), &|k| pb.set_position(k)).await?;
    pb.finish_and_clear();
    let secs = format!("{:.2}", started.elapsed().as_secs_f64());
    let id = done.id.to_string();
    println!("{}", t("cli-imported-residents", &[("count", &done.rows.to_string()), ("seconds", &secs), ("id", &id)]));
    Ok(())
}

async fn import_teams(file: &std::path::Path, db: &Db) -> Result<(), Failure> {
    let bytes = std::fs::read(file).map_err(|e| Failure::Input(format!("{}: {e}", file.display())))?;
    let text = String::from_utf8(bytes)
        .map_err(|_| Failure::Input(invalid_message(&Invalid::field("utf8-invalid", "file"))))?;
    let rows = ngoso_store::teams::read_members_csv(db, &text, None).await?;
    let done = ngoso_store::teams::import_members(db, &rows).await?;
    let detail = format!("{} teams added, {} members added", done.teams_added, done.members_added);
    let ev = ngoso_store::audit::Event {
        user_id: None,
        action: "team.import",
        object_type: "team",
        object_id: "0",
        detail: &detail,
    };
    ngoso_store::audit::record(db, ev).await?;
    println!(
        "{}",
        t(
            "cli-imported-teams",
            &[("teams", &done.teams_added.to_string()), ("members", &done.members_added.to_string())]
        )
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_rows_with_their_line_numbers() {
        let csv = b"\xEF\xBB\xBFcode,name,kind,parent_code,valid_from\n80,Long An,t\xe1\xbb\x89nh,,\n\n794,\"C\xe1\xba\xa7n Giu\xe1\xbb\x99c, huy\xe1\xbb\x87n\",huy\xe1\xbb\x87n,80,2020-01-01\n795,Bad \xff name,huy\xe1\xbb\x87n,80\n796,Short\n";
        let rows = read_unit_rows(csv).unwrap();
        assert_eq!(rows.len(), 4);
        assert_eq!((rows[0].row, rows[0].name.as_str(), rows[0].kind.as_str()), (2, "Long An", "tỉnh"));
        assert_eq!(
            (rows[1].row, rows[1].name.as_str(), rows[1].valid_from.as_str()),
            (4, "Cần Giuộc, huyện", "2020-01-01")
        );
        assert!(rows[2].utf8_error && rows[2].row == 5);
        assert!(rows[3].missing_fields && rows[3].row == 6);
    }

    #[test]
    fn refuses_a_header_without_required_columns() {
        assert!(matches!(read_unit_rows(b"code,name\n1,a\n"), Err(Failure::Input(m)) if m.contains("kind")));
    }
}
