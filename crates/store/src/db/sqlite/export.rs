//! The raw export on SQLite: a window's rows stepped on the connection's own handle, each
//! column read in place and written into the line by the shared formatter.

use sqlx::sqlite::LockedSqliteHandle;

use super::{Locked, Row};
use crate::export::{Fields, Liner};
use crate::{Result, StoreError};

impl Fields for Row<'_> {
    fn int(&self, i: usize) -> Option<i64> {
        self.int_or_null(i)
    }
    fn text(&self, i: usize) -> Option<&str> {
        self.str(i)
    }
}

/// Runs `sql` (no parameters) and appends a line per row to `out`; returns the lines.
pub(crate) fn lines(handle: &mut LockedSqliteHandle<'_>, sql: &str, liner: &Liner, out: &mut String) -> Result<i64> {
    let conn = Locked::new(handle);
    let mut stmt = conn.prepare(sql).map_err(|e| StoreError::Sqlite(e.to_string()))?;
    let mut n = 0;
    stmt.each(&[], |r| {
        liner.line(r, out);
        n += 1;
    })
    .map_err(|e| StoreError::Sqlite(e.to_string()))?;
    Ok(n)
}
