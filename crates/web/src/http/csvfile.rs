//! Files of rows under a header that names the columns (CSV in UTF-8, with or without a
//! byte-order mark, separated by commas or semicolons), as officials save them from a
//! spreadsheet. Column names are matched without case, spaces or underscores (`orgUnit`,
//! `orgunit` and `org_unit` are one column). Rows are numbered as the file's lines: the
//! header is row 1; empty rows are skipped.

use ngoso_core::Invalid;

use crate::http::error::AppError;

/// The text of a file sent as a request's body (`text/csv`): UTF-8, or `utf8-invalid`.
pub fn body_text(body: &[u8]) -> Result<&str, AppError> {
    Ok(std::str::from_utf8(body).map_err(|_| Invalid::field("utf8-invalid", "file"))?)
}

/// A file read whole.
#[derive(Debug, Clone)]
pub struct Table {
    names: Vec<String>,
    rows: Vec<(u64, Vec<String>)>,
}

fn key(name: &str) -> String {
    name.trim().to_ascii_lowercase().replace([' ', '_'], "")
}

fn invalid(row: u64) -> AppError {
    AppError::from(Invalid::field("csv-invalid", "file")).at_row(row)
}

impl Table {
    /// Reads a file; one with no row under its header is refused (`csv-empty`).
    pub fn read(text: &str) -> Result<Table, AppError> {
        let t = text.strip_prefix('\u{feff}').unwrap_or(text);
        let first = t.lines().next().unwrap_or_default();
        let delimiter = if first.matches(';').count() > first.matches(',').count() { b';' } else { b',' };
        let mut rd = csv::ReaderBuilder::new().delimiter(delimiter).flexible(true).from_reader(t.as_bytes());
        let names = rd.headers().map_err(|_| invalid(1))?.iter().map(key).collect();
        let mut rows = Vec::new();
        for (i, rec) in rd.records().enumerate() {
            let row = i as u64 + 2;
            let rec = rec.map_err(|_| invalid(row))?;
            if rec.iter().all(|f| f.trim().is_empty()) {
                continue;
            }
            rows.push((row, rec.iter().map(str::to_owned).collect()));
        }
        if rows.is_empty() {
            return Err(Invalid::field("csv-empty", "file").into());
        }
        Ok(Table { names, rows })
    }

    /// The place of a column, if the header names it.
    pub fn column(&self, name: &str) -> Option<usize> {
        let k = key(name);
        self.names.iter().position(|n| *n == k)
    }

    /// The place of a column the file must have (`csv-column-missing`, row 1, otherwise).
    pub fn need(&self, name: &str, field: &'static str) -> Result<usize, AppError> {
        self.column(name)
            .ok_or_else(|| AppError::from(Invalid::field("csv-column-missing", field).with_detail(name)).at_row(1))
    }

    /// The rows: (row number, fields).
    pub fn rows(&self) -> impl Iterator<Item = (u64, Cell<'_>)> {
        self.rows.iter().map(|(n, f)| (*n, Cell(f)))
    }
}

/// The fields of one row.
#[derive(Debug, Clone, Copy)]
pub struct Cell<'a>(&'a [String]);

impl Cell<'_> {
    /// The field in column `c` ("" when the row is short).
    pub fn get(&self, c: usize) -> String {
        self.0.get(c).cloned().unwrap_or_default()
    }
}

/// A CSV file to download, for Excel: UTF-8 with a byte-order mark, CRLF line ends, each
/// cell quoted when it needs it and a leading `=`, `+`, `-` or `@` neutralised so that a
/// spreadsheet does not run it as a formula.
pub fn download(file_name: &str, header: &[String], rows: &[Vec<String>]) -> axum::response::Response {
    use axum::http::{HeaderValue, header};
    use axum::response::IntoResponse;
    let mut out = String::from("\u{feff}");
    for row in std::iter::once(header).chain(rows.iter().map(Vec::as_slice)) {
        let cells: Vec<String> = row.iter().map(|c| cell(c)).collect();
        out.push_str(&cells.join(","));
        out.push_str("\r\n");
    }
    let mut res = out.into_response();
    res.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("text/csv; charset=utf-8"));
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{file_name}\"")) {
        res.headers_mut().insert(header::CONTENT_DISPOSITION, v);
    }
    res
}

/// A CSV cell, quoted when needed, a formula's first character neutralised.
pub fn cell(s: &str) -> String {
    let s = if s.starts_with(['=', '+', '-', '@']) { format!("'{s}") } else { s.to_owned() };
    if s.contains([',', '"', '\n', '\r']) { format!("\"{}\"", s.replace('"', "\"\"")) } else { s }
}

#[cfg(test)]
mod tests {
    #[test]
    fn cells_are_quoted_and_formulas_neutralised() {
        assert_eq!(super::cell("a,b"), "\"a,b\"");
        assert_eq!(super::cell("=cmd()"), "'=cmd()");
        assert_eq!(super::cell("Nguyễn \"Ba\""), "\"Nguyễn \"\"Ba\"\"\"");
    }

    use super::*;

    #[test]
    fn headers_match_loosely_and_rows_keep_their_numbers() {
        let t = Table::read("\u{feff}Data Element;org_unit;value\nA;1;2\n;;\nB;3\n").unwrap();
        assert_eq!((t.column("dataelement"), t.column("orgUnit"), t.column("comment")), (Some(0), Some(1), None));
        let rows: Vec<(u64, String, String)> = t.rows().map(|(n, c)| (n, c.get(0), c.get(2))).collect();
        assert_eq!(rows, vec![(2, "A".into(), "2".into()), (4, "B".into(), String::new())]);
        assert_eq!(t.need("period", "period").unwrap_err().info().code, "csv-column-missing");
        assert_eq!(Table::read("a,b\n").unwrap_err().info().code, "csv-empty");
    }
}
