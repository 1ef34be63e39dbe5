//! What only SQLite runs: bulk work on the connection's own C handle ([`handle`]), and the
//! engines built on it — the visit ingest and the household import, each the SQLite engine of
//! a path that PostgreSQL runs with array statements or `COPY` (see [`super::pg`]), and the
//! public feedback submission, whose transaction runs here in one trip to the writer.

pub(crate) mod export;
pub(crate) mod feedback_submit;
mod handle;
pub(crate) mod household_import;
pub(crate) mod visit_ingest;

pub(crate) use handle::{Locked, Row, SqliteError, Stmt, Value};

use std::collections::BTreeMap;

use crate::rollups::{self, upsert};

/// The statement that adds to a figure (shard 0, SQLite's only).
fn rollup_statement<'c>(conn: &'c Locked<'_>) -> std::result::Result<Stmt<'c>, SqliteError> {
    conn.prepare(concat!(upsert!(into), "VALUES (?, ?, ?, 0, ?)", upsert!(add)))
}

/// Adds the folded roll-up rows.
fn write_rollups(conn: &Locked<'_>, folded: BTreeMap<rollups::Key, i64>) -> std::result::Result<(), SqliteError> {
    add_rollups(&mut rollup_statement(conn)?, folded)
}

/// Adds the folded roll-up rows through [`rollup_statement`].
fn add_rollups(upsert: &mut Stmt<'_>, folded: BTreeMap<rollups::Key, i64>) -> std::result::Result<(), SqliteError> {
    for ((u, f, p), v) in folded.iter().filter(|r| *r.1 != 0) {
        upsert.run(&[Value::Int(*u), Value::Text(f), Value::Text(p), Value::Int(*v)])?;
    }
    Ok(())
}
