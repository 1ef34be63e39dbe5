//! The connection to either backend, and the only place the two differ.
//!
//! Most queries are written once in portable SQL and run on either backend through
//! [`on_db!`](crate::on_db), [`on_write!`](crate::on_write) and [`on_tx!`](crate::on_tx).
//! What differs lives below this module and nowhere else: the connection settings (here),
//! the SQL words that differ ([`dialect`]: id reservation, row locks), and the engines that
//! each backend runs its own way for speed — SQLite's bulk paths on its own C handle
//! ([`sqlite`]: the visit ingest, the household import) and PostgreSQL's array statements and
//! `COPY` ([`pg`]: the same two). The migrations differ too, under `migrations/{sqlite,postgres}`
//! with the same names, and a test holds the two schemas in step.

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{ConnectOptions, Postgres, Sqlite, Transaction};

use crate::{Result, StoreError};

pub(crate) mod batch;
pub(crate) mod dialect;
pub(crate) mod pg;
pub(crate) mod sqlite;

/// A connection pool on one of the two backends.
#[derive(Clone, Debug)]
pub enum Db {
    Sqlite(SqlitePools),
    Pg(PgPool),
}

/// SQLite: a pool of readers and one writer. Write transactions queue for the writer instead
/// of polling SQLite's lock (whose busy handler sleeps in ever longer steps), and the writer's
/// page cache stays warm, since no other connection changes the file under it. The readers
/// are opened read-only, so a write sent to them by mistake fails at once in every test
/// instead of contending with the writer for the lock under load; the WAL checkpoint, which
/// must write the file but should not hold up the writer, has a connection of its own.
#[derive(Clone, Debug)]
pub struct SqlitePools {
    pub read: SqlitePool,
    pub write: SqlitePool,
    checkpoint: SqlitePool,
    /// Public feedback submissions waiting for the writer (see `sqlite::feedback_submit`).
    pub(crate) submissions: std::sync::Arc<sqlite::feedback_submit::Queue>,
}

/// An open write transaction on one of the two backends.
pub enum Tx {
    Sqlite(Transaction<'static, Sqlite>),
    Pg(Transaction<'static, Postgres>),
}

/// Runs the same expression on the pool of either backend: `on_db!(db, p => query.fetch_all(p).await)`.
#[macro_export]
macro_rules! on_db {
    ($db:expr, $p:ident => $body:expr) => {
        match $db {
            $crate::Db::Sqlite(pools) => {
                let $p = &pools.read;
                $body
            }
            $crate::Db::Pg($p) => $body,
        }
    };
}

/// Like [`on_db!`] for a statement that writes: on SQLite it goes through the one writer.
#[macro_export]
macro_rules! on_write {
    ($db:expr, $p:ident => $body:expr) => {
        match $db {
            $crate::Db::Sqlite(pools) => {
                let $p = &pools.write;
                $body
            }
            $crate::Db::Pg($p) => $body,
        }
    };
}

/// Runs the same expression on the connection of either backend's transaction:
/// `on_tx!(tx, c => query.execute(c).await.map(|r| r.rows_affected()))`.
#[macro_export]
macro_rules! on_tx {
    ($tx:expr, $c:ident => $body:expr) => {
        match $tx {
            $crate::Tx::Sqlite(t) => {
                let $c = &mut **t;
                $body
            }
            $crate::Tx::Pg(t) => {
                let $c = &mut **t;
                $body
            }
        }
    };
}

/// Which database a [`Db`] talks to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn as_str(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }
}

/// Pool sizes and timeouts.
#[derive(Clone, Debug)]
pub struct PoolConfig {
    pub max_connections: u32,
    pub busy_timeout: Duration,
    pub acquire_timeout: Duration,
    /// SQLite: leave WAL checkpoints to [`Db::checkpoint`], called by a background task,
    /// instead of the committing writer (whose request would wait for the copy and fsync).
    pub background_checkpoint: bool,
}

impl Default for PoolConfig {
    fn default() -> Self {
        Self {
            max_connections: 8,
            busy_timeout: Duration::from_secs(10),
            acquire_timeout: Duration::from_secs(10),
            background_checkpoint: false,
        }
    }
}

impl Db {
    /// Connects to `url`: `sqlite://PATH` (the file is created if missing) or `postgres://…`.
    pub async fn connect(url: &str, cfg: &PoolConfig) -> Result<Db> {
        if let Some(rest) = url.strip_prefix("sqlite:") {
            let path = rest.trim_start_matches("//");
            if path.is_empty() {
                return Err(StoreError::Connect(format!("no file name in the database URL {url:?}")));
            }
            let mut opts = SqliteConnectOptions::new()
                .filename(Path::new(path.split('?').next().unwrap_or(path)))
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .foreign_keys(true)
                .busy_timeout(cfg.busy_timeout)
                // A larger page cache and memory-mapped reads: a batch of visits touches
                // pages all over the visit and status trees, and copying them through read()
                // dominated the profile (visit batches at a million households: +10 %).
                .statement_cache_capacity(512)
                .pragma("cache_size", "-8192")
                .pragma("mmap_size", "1073741824")
                .pragma("temp_store", "memory")
                .log_slow_statements(log::LevelFilter::Info, Duration::from_secs(1));
            if cfg.background_checkpoint {
                opts = opts.pragma("wal_autocheckpoint", "0");
            }
            // A connection to a local file cannot have gone away: no ping before each use,
            // which on SQLite is one more trip to the connection's worker thread.
            let open = |n: u32| {
                SqlitePoolOptions::new()
                    .max_connections(n)
                    .test_before_acquire(false)
                    .acquire_timeout(cfg.acquire_timeout)
                    .connect_with(opts.clone())
            };
            // The writer keeps more pages: a page it wrote stays in its cache, valid across
            // transactions (no other connection writes), instead of being looked up in the
            // write-ahead log and read back from it at the next batch that touches it.
            let write = SqlitePoolOptions::new()
                .max_connections(1)
                .test_before_acquire(false)
                .acquire_timeout(cfg.acquire_timeout)
                .connect_with(opts.clone().pragma("cache_size", "-65536"))
                .await
                .map_err(|e| StoreError::Connect(format!("cannot open the SQLite database {path:?}: {e}")))?;
            let read = SqlitePoolOptions::new()
                .max_connections(cfg.max_connections)
                .test_before_acquire(false)
                .acquire_timeout(cfg.acquire_timeout)
                .connect_with(opts.clone().read_only(true).create_if_missing(false))
                .await
                .map_err(|e| StoreError::Connect(format!("cannot open the SQLite database {path:?}: {e}")))?;
            let checkpoint = open(1)
                .await
                .map_err(|e| StoreError::Connect(format!("cannot open the SQLite database {path:?}: {e}")))?;
            Ok(Db::Sqlite(SqlitePools { read, write, checkpoint, submissions: Default::default() }))
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let opts =
                PgConnectOptions::from_str(url).map_err(|e| StoreError::Connect(format!("bad PostgreSQL URL: {e}")))?;
            Self::connect_pg(opts, cfg).await
        } else {
            let scheme = url.split(':').next().unwrap_or(url);
            Err(StoreError::Connect(format!(
                "unknown database URL scheme {scheme:?}: use sqlite://PATH or postgres://USER@HOST/DB"
            )))
        }
    }

    /// Connects to PostgreSQL with ready-made options.
    pub async fn connect_pg(opts: PgConnectOptions, cfg: &PoolConfig) -> Result<Db> {
        let opts =
            opts.statement_cache_capacity(512).log_slow_statements(log::LevelFilter::Info, Duration::from_secs(1));
        let pool = PgPoolOptions::new()
            .max_connections(cfg.max_connections)
            .acquire_timeout(cfg.acquire_timeout)
            .connect_with(opts)
            .await
            .map_err(|e| StoreError::Connect(format!("cannot connect to PostgreSQL: {e}")))?;
        Ok(Db::Pg(pool))
    }

    pub fn backend(&self) -> Backend {
        match self {
            Db::Sqlite(_) => Backend::Sqlite,
            Db::Pg(_) => Backend::Postgres,
        }
    }

    /// Applies the embedded migrations of this backend.
    pub async fn migrate(&self) -> Result<()> {
        match self {
            Db::Sqlite(p) => sqlx::migrate!("migrations/sqlite").run(&p.write).await?,
            Db::Pg(p) => sqlx::migrate!("migrations/postgres").run(p).await?,
        }
        // What a migration cannot compute: the folded search keys of rows recorded before.
        crate::feedback::fill_search_keys(self).await?;
        Ok(())
    }

    /// Opens a write transaction. On SQLite it takes the write lock at once
    /// (`BEGIN IMMEDIATE`), so read-then-write transactions never fail with "database is
    /// locked" half-way; they wait for the busy timeout instead.
    pub async fn begin(&self) -> Result<Tx> {
        Ok(match self {
            Db::Sqlite(p) => Tx::Sqlite(p.write.begin_with("BEGIN IMMEDIATE").await?),
            Db::Pg(p) => Tx::Pg(p.begin().await?),
        })
    }

    /// Copies the SQLite write-ahead log back into the database file without blocking
    /// writers (a no-op on PostgreSQL). Returns the number of WAL frames still to copy.
    pub async fn checkpoint(&self) -> Result<i64> {
        match self {
            Db::Sqlite(p) => {
                let started = std::time::Instant::now();
                let (_, log, done): (i64, i64, i64) =
                    sqlx::query_as("PRAGMA wal_checkpoint(PASSIVE)").fetch_one(&p.checkpoint).await?;
                tracing::debug!(log, done, ms = started.elapsed().as_millis() as u64, "checkpoint");
                Ok(log - done)
            }
            Db::Pg(_) => Ok(0),
        }
    }

    /// Checks that the database answers.
    pub async fn ping(&self) -> Result<()> {
        on_db!(self, p => sqlx::query("SELECT 1").execute(p).await.map(|r| r.rows_affected()))?;
        Ok(())
    }

    pub async fn close(&self) {
        match self {
            Db::Sqlite(p) => {
                p.read.close().await;
                p.checkpoint.close().await;
                p.write.close().await;
            }
            Db::Pg(p) => p.close().await,
        }
    }
}

impl Tx {
    pub async fn commit(self) -> Result<()> {
        match self {
            Tx::Sqlite(t) => t.commit().await?,
            Tx::Pg(t) => t.commit().await?,
        }
        Ok(())
    }
}

/// Runs `f`, which blocks on SQLite, telling a multi-threaded runtime to move its other
/// tasks to another worker meanwhile.
pub(crate) fn blocking<R>(f: impl FnOnce() -> R) -> R {
    use tokio::runtime::{Handle, RuntimeFlavor};
    match Handle::try_current() {
        Ok(h) if h.runtime_flavor() == RuntimeFlavor::MultiThread => tokio::task::block_in_place(f),
        _ => f(),
    }
}
