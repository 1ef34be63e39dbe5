//! Files of rows under a header that names the columns, as officials save them from a
//! spreadsheet, for the store's imports that take a file whole.

use ngoso_core::Invalid;

use crate::{Result, StoreError};

/// A row: its line (the header is line 1) and its fields by column name (lower case, no
/// spaces or underscores: `unit_code` is `unitcode`).
pub(crate) type Row = (u64, std::collections::HashMap<String, String>);

/// A field of a row ("" when the column is absent or the row short).
pub(crate) fn get(row: &Row, column: &str) -> String {
    row.1.get(column).cloned().unwrap_or_default()
}

/// The rows of a CSV file under a header (UTF-8, a byte-order mark allowed, commas or
/// semicolons), as (line, field by column name); blank lines skipped. Column names are
/// matched without case, spaces or underscores.
pub(crate) fn read(text: &str, needed: &[&'static str]) -> Result<Vec<Row>> {
    let t = text.strip_prefix('\u{feff}').unwrap_or(text);
    let first = t.lines().next().unwrap_or_default();
    let delimiter = if first.matches(';').count() > first.matches(',').count() { b';' } else { b',' };
    let key = |s: &str| s.trim().to_ascii_lowercase().replace([' ', '_'], "");
    let mut rd = csv::ReaderBuilder::new().delimiter(delimiter).flexible(true).from_reader(t.as_bytes());
    let bad = |row: u64| StoreError::AtRow { row, section: None, invalid: Invalid::field("csv-invalid", "file") };
    let names: Vec<String> = rd.headers().map_err(|_| bad(1))?.iter().map(key).collect();
    if let Some(missing) = needed.iter().find(|n| !names.contains(&key(n))) {
        return Err(StoreError::AtRow {
            row: 1,
            section: None,
            invalid: Invalid::field("csv-column-missing", "file").with_detail(*missing),
        });
    }
    let mut rows = Vec::new();
    for (i, rec) in rd.records().enumerate() {
        let row = i as u64 + 2;
        let rec = rec.map_err(|_| bad(row))?;
        if rec.iter().all(|f| f.trim().is_empty()) {
            continue;
        }
        rows.push((row, names.iter().cloned().zip(rec.iter().map(|f| f.trim().to_owned())).collect()));
    }
    if rows.is_empty() {
        return Err(Invalid::field("csv-empty", "file").into());
    }
    Ok(rows)
}
