//! `ngoso import units FILE.csv`.

use std::path::PathBuf;
use std::time::Instant;

use clap::Subcommand;
use indicatif::{ProgressBar, ProgressStyle};
use ngoso_core::Invalid;
use ngoso_core::import::{ImportRow, RowError, plan_units};
use ngoso_store::units;

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
}

pub async fn run(cmd: ImportCommand, cfg: &Config) -> Result<(), Failure> {
    match cmd {
        ImportCommand::Units { file } => import_units(&file, cfg).await,
    }
}

fn bar(len: u64, label: &str) -> ProgressBar {
    let pb = ProgressBar::new(len);
    pb.set_style(
        ProgressStyle::with_template("{msg:12} [{bar:40}] {pos}/{len} ({per_sec}, {eta})")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    pb.set_message(label.to_owned());
    pb
}

/// Reads the rows of a units CSV. Errors of the file as a whole (unreadable, no header,
/// missing columns) come back as `Err`; errors of single rows are marked on the rows.
pub fn read_unit_rows(bytes: &[u8]) -> Result<Vec<ImportRow>, Failure> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let mut rdr = csv::ReaderBuilder::new().flexible(true).has_headers(true).from_reader(bytes);
    let header = rdr.byte_headers().map_err(|e| Failure::Input(format!("CSV: {e}")))?.clone();
    let col = |name: &str| header.iter().position(|h| h.trim_ascii().eq_ignore_ascii_case(name.as_bytes()));
    let required = ["code", "name", "kind", "parent_code"];
    let missing: Vec<&str> = required.iter().copied().filter(|c| col(c).is_none()).collect();
    if !missing.is_empty() {
        return Err(Failure::Input(invalid_message(&Invalid::new("csv-header").with_detail(missing.join(", ")))));
    }
    let (ci, ni, ki, pi) =
        (col("code").unwrap_or(0), col("name").unwrap_or(0), col("kind").unwrap_or(0), col("parent_code").unwrap_or(0));
    let (fi, ti) = (col("valid_from"), col("valid_to"));
    let pb = bar(bytes.len() as u64, &t("cli-reading", &[]));
    let mut rows = Vec::new();
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
                let line = e.position().map(|p| p.line()).unwrap_or(line);
                rows.push(ImportRow {
                    row: line,
                    utf8_error: matches!(e.kind(), csv::ErrorKind::Utf8 { .. }),
                    missing_fields: true,
                    ..Default::default()
                });
                break;
            }
        }
        let row_no = rec.position().map(|p| lines.line_at(bytes, p.byte() as usize)).unwrap_or(line);
        if rec.iter().all(|f| f.trim_ascii().is_empty()) {
            continue;
        }
        let mut r = ImportRow { row: row_no, ..Default::default() };
        let mut get = |i: Option<usize>, needed: bool| -> String {
            match i.and_then(|i| rec.get(i)) {
                Some(b) => match std::str::from_utf8(b) {
                    Ok(s) => s.to_owned(),
                    Err(_) => {
                        r.utf8_error = true;
                        String::new()
                    }
                },
                None => {
                    if needed {
                        r.missing_fields = true;
                    }
                    String::new()
                }
            }
        };
        let code = get(Some(ci), true);
        let name = get(Some(ni), true);
        let kind = get(Some(ki), true);
        let parent_code = get(Some(pi), true);
        let valid_from = get(fi, false);
        let valid_to = get(ti, false);
        r.code = code;
        r.name = name;
        r.kind = kind;
        r.parent_code = parent_code;
        r.valid_from = valid_from;
        r.valid_to = valid_to;
        rows.push(r);
        if rows.len() % 4096 == 0 {
            pb.set_position(rec.position().map(|p| p.byte()).unwrap_or(0));
        }
    }
    pb.finish_and_clear();
    Ok(rows)
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

async fn import_units(file: &std::path::Path, cfg: &Config) -> Result<(), Failure> {
    let started = Instant::now();
    let bytes = std::fs::read(file).map_err(|e| Failure::Input(format!("{}: {e}", file.display())))?;
    let rows = read_unit_rows(&bytes)?;
    let db = open_migrated(cfg).await?;
    let existing = units::existing_for_import(&db).await?;
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
    let n = units::import(&db, &plan, &|k| pb.set_position(k)).await?;
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
