//! The transaction of a batch of visits: on which connection it runs, and its retries.

use sqlx::{Connection, PgConnection};

use super::plan::Keys;
use super::{Item, Job, Stored, answers_per_job, items_of};
use crate::db::{pg, sqlite};
use crate::{Db, Result, StoreError, now};

/// One of the server's group-commit writers, storing batch after batch.
///
/// On PostgreSQL it keeps a connection of its own, opened at its first batch (and again after
/// a broken one, or one idle for five minutes): its statements then run on one backend, whose
/// plans and caches stay warm, instead of on whichever of the pool's connections comes next.
/// With four writers over a pool of sixteen, one visit per request ran on all sixteen
/// backends; on four, it stores 15–20 % more visits per second (bench/RESULTS.md). The
/// connection is not the pool's, so the pages never wait for it.
pub struct Writer {
    db: Db,
    own: Option<OwnConnection>,
}

/// A writer's own PostgreSQL connection, and when it last stored a batch.
pub(super) struct OwnConnection {
    conn: PgConnection,
    used: std::time::Instant,
}

/// A connection idle for longer is opened anew rather than trusted: a firewall or a fail-over
/// may have dropped it on the way without the socket knowing, and the next batch would wait
/// for the kernel to give up on it.
const MAX_IDLE: std::time::Duration = std::time::Duration::from_secs(300);

impl OwnConnection {
    /// Opens one, named in `pg_stat_activity`, within the pool's time to acquire a connection.
    async fn open(pool: &sqlx::PgPool) -> Result<OwnConnection> {
        let opts = (*pool.connect_options()).clone().application_name("ngoso visit writer");
        let conn = tokio::time::timeout(pool.options().get_acquire_timeout(), PgConnection::connect_with(&opts))
            .await
            .map_err(|_| StoreError::Db(sqlx::Error::PoolTimedOut))??;
        Ok(OwnConnection { conn, used: std::time::Instant::now() })
    }
}

impl Writer {
    pub fn new(db: Db) -> Writer {
        Writer { db, own: None }
    }

    /// As [`ingest_jobs`](super::ingest_jobs), on this writer's connection.
    pub async fn ingest_jobs(&mut self, jobs: &[Job<'_>]) -> Result<Vec<Vec<Stored>>> {
        Ok(answers_per_job(jobs, ingest_retrying(&self.db, Some(&mut self.own), &items_of(jobs)).await?))
    }
}

/// `own`: a writer's connection slot (PostgreSQL), or none to take a connection from the pool.
pub(super) async fn ingest_retrying(
    db: &Db,
    mut own: Option<&mut Option<OwnConnection>>,
    items: &[Item<'_>],
) -> Result<Vec<Stored>> {
    let mut attempt = 0;
    loop {
        match ingest_once(db, own.as_deref_mut(), items).await {
            // A deadlock or serialisation failure on PostgreSQL, the same visit sent again
            // while its first copy was being stored by another writer (a unique violation on
            // its id), or a connection that broke (the server restarted, say): the whole
            // batch is retried, on a new connection for the last. Retrying is safe even if
            // the connection broke during COMMIT: what was stored comes back as duplicates,
            // which answer as the first copy did.
            Err(e) if attempt < 5 && (conflict(&e) || connection_lost(&e)) => {
                attempt += 1;
                tokio::time::sleep(std::time::Duration::from_millis(5 << attempt)).await;
            }
            other => return other,
        }
    }
}

fn conflict(e: &StoreError) -> bool {
    matches!(e, StoreError::Db(sqlx::Error::Database(e)) if matches!(e.code().as_deref(), Some("40P01" | "40001" | "23505")))
}

/// The connection broke or the server is going away (SQLSTATE classes 08 and 57P).
fn connection_lost(e: &StoreError) -> bool {
    match e {
        StoreError::Db(sqlx::Error::Io(_) | sqlx::Error::Protocol(_)) => true,
        StoreError::Db(sqlx::Error::Database(e)) => {
            e.code().is_some_and(|c| c.starts_with("08") || c.starts_with("57P"))
        }
        _ => false,
    }
}

async fn ingest_once(db: &Db, own: Option<&mut Option<OwnConnection>>, items: &[Item<'_>]) -> Result<Vec<Stored>> {
    let t = now();
    let keys = Keys::of(items);
    match db {
        Db::Sqlite(p) => {
            // The whole transaction runs on SQLite's own handle, on this thread: BEGIN
            // IMMEDIATE, the batch and COMMIT, with one hand-over to sqlx's worker thread (for
            // the handle) instead of one per statement. The writer is SQLite's only one, so
            // every hand-over was time no other batch could use.
            let mut conn = p.write.acquire().await?;
            let mut handle = conn.lock_handle().await?;
            crate::db::blocking(|| sqlite::visit_ingest::ingest(&mut handle, items, &keys, t))
        }
        Db::Pg(p) => match own {
            None => pg_batch(&mut *p.acquire().await?, items, &keys, t).await,
            Some(slot) => {
                if slot.as_ref().is_some_and(|c| c.used.elapsed() > MAX_IDLE) {
                    *slot = None;
                }
                let own = match slot {
                    Some(c) => c,
                    None => slot.insert(OwnConnection::open(p).await?),
                };
                let out = pg_batch(&mut own.conn, items, &keys, t).await;
                own.used = std::time::Instant::now();
                // The connection stays after an error the server answered (a deadlock, say:
                // the transaction was rolled back as it was dropped). After any other, the
                // next batch opens a new one.
                if let Err(e) = &out
                    && (connection_lost(e) || !matches!(e, StoreError::Db(sqlx::Error::Database(_))))
                {
                    *slot = None;
                }
                out
            }
        },
    }
}

/// The batch in one transaction on a PostgreSQL connection.
async fn pg_batch(conn: &mut PgConnection, items: &[Item<'_>], keys: &Keys, t: i64) -> Result<Vec<Stored>> {
    let mut tx = conn.begin_with(pg::BATCH_BEGIN).await?;
    let out = pg::visit_ingest::ingest(&mut tx, items, keys, t).await?;
    tx.commit().await?;
    Ok(out)
}
