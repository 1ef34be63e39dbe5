//! What only SQLite runs: bulk work on the connection's own C handle ([`handle`]), and the
//! engines built on it — the visit ingest and the household import, each the SQLite engine of
//! a path that PostgreSQL runs with array statements or `COPY` (see [`super::pg`]).

pub(crate) mod export;
mod handle;
pub(crate) mod household_import;
pub(crate) mod visit_ingest;

pub(crate) use handle::{Locked, Row, SqliteError, Value};
