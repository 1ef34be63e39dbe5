//! Persistence for ngoso on SQLite (the embedded default) or PostgreSQL.
//!
//! The backend is chosen at run time from the database URL. Most queries are written once
//! in portable SQL and run on either backend through [`on_db!`], [`on_write!`] and
//! [`on_tx!`]. Everything that differs between the backends lives under `db` (see its
//! notes): the connection settings, the SQL words that differ, and the bulk engines that each
//! backend runs its own way (the visit ingest and the household import), besides the
//! migrations under `migrations/{sqlite,postgres}`. Each aggregate has one module or folder:
//! units, teams, households, visits, feedback, roll-ups…

mod db;
mod error;

pub mod audit;
pub mod catalog;
pub mod check;
mod csvrows;
pub mod export;
pub mod feedback;
pub mod field;
pub mod households;
pub mod indicators;
pub mod outbox;
pub mod places;
pub mod programme;
pub mod restructure;
pub mod rollups;
pub mod secrets;
pub mod sessions;
pub mod settings;
pub mod teams;
#[cfg(feature = "testing")]
pub mod testing;
pub mod tokens;
pub mod units;
pub mod users;
pub mod values;
pub mod visits;
pub mod walk;

pub use db::{Backend, Db, PoolConfig, SqlitePools, Tx};
pub use error::StoreError;
/// Feedback figures, at their former path.
pub use feedback::figures as feedback_figures;
/// Feedback set-up (agencies, categories, routes, calendar, API keys), at its former path.
pub use feedback::setup as feedback_setup;

/// Result of a store call.
pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// The current time in Unix seconds.
pub fn now() -> i64 {
    chrono::Utc::now().timestamp()
}
