//! The outbox: notifications written in the same transaction as the change they announce
//! (see [`crate::feedback::enqueue`]), delivered by a worker that leases due rows, records
//! every attempt and retries with backoff. A process that dies holding a lease loses
//! nothing: the rows come due again when the lease ends.

use serde::Serialize;
use sqlx::QueryBuilder;

use crate::db::dialect::locking_read;
use crate::{Db, Result, now, on_db, on_tx};

/// A notification to deliver.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct Message {
    pub id: i64,
    /// `webhook` (target: the agency id) or `citizen` (target: `phone:…` or `email:…`).
    pub kind: String,
    pub target: String,
    pub feedback_id: Option<i64>,
    pub payload: String,
    pub attempts: i32,
}

/// How long a worker holds the rows it took before another may take them.
pub const LEASE_SECS: i64 = 120;

/// Attempts before a message is given up.
pub const MAX_ATTEMPTS: i32 = 10;

/// Takes up to `n` due messages and leases them to the caller.
pub async fn claim(db: &Db, n: i64) -> Result<Vec<Message>> {
    let t = now();
    let mut tx = db.begin().await?;
    // Concurrent workers on PostgreSQL pass over the rows another holds.
    let pick = locking_read!(
        &tx,
        "SELECT id FROM outbox WHERE delivered_at IS NULL AND gave_up_at IS NULL AND next_attempt_at <= $1 \
         ORDER BY next_attempt_at, id LIMIT $2",
        "SKIP LOCKED"
    );
    let ids: Vec<i64> = on_tx!(&mut tx, c => sqlx::query_scalar(pick).bind(t).bind(n).fetch_all(c).await)?;
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    // One statement for the lot: on SQLite every statement is a trip to the one writer.
    let mut out: Vec<Message> = on_tx!(&mut tx, c => {
        let mut qb = QueryBuilder::new("UPDATE outbox SET next_attempt_at = ");
        qb.push_bind(t + LEASE_SECS).push(" WHERE id IN (");
        let mut sep = qb.separated(", ");
        for id in &ids {
            sep.push_bind(*id);
        }
        qb.push(") RETURNING id, kind, target, feedback_id, payload, attempts");
        qb.build_query_as().fetch_all(c).await
    })?;
    tx.commit().await?;
    // In the order they came due.
    out.sort_by_key(|m| ids.iter().position(|id| *id == m.id));
    Ok(out)
}

/// The wait before attempt `n + 1` after `n` failures: 30 s doubling, at most 6 hours.
pub fn backoff_secs(attempts: i32) -> i64 {
    let exp = attempts.clamp(0, 20) as u32;
    (30i64 << exp).min(6 * 3600)
}

/// What an attempt came to.
#[derive(Debug, Clone)]
pub struct Attempt {
    pub status: Option<i32>,
    pub error: Option<String>,
    pub duration_ms: i64,
    pub delivered: bool,
    /// Give up now whatever the count (nothing can deliver it).
    pub give_up: bool,
}

/// Records an attempt and moves the message on: delivered, retried later, or given up.
pub async fn record(db: &Db, m: &Message, a: &Attempt) -> Result<()> {
    record_all(db, &[(m, a.clone())]).await
}

/// Records attempts as [`record`] does, all in one transaction: a worker that went through
/// a batch of messages at once (given up for want of a gateway, say) takes the writer once
/// for them instead of once each.
pub async fn record_all(db: &Db, attempts: &[(&Message, Attempt)]) -> Result<()> {
    if attempts.is_empty() {
        return Ok(());
    }
    let t = now();
    let mut tx = db.begin().await?;
    // Two statements for a batch, whatever its size: the attempts, then each message's new
    // state (its count, and delivered, given up or when to try again).
    for chunk in crate::db::batch::chunks(attempts, RECORD_CHUNK) {
        on_tx!(&mut tx, c => {
            let mut qb = QueryBuilder::new("INSERT INTO outbox_attempts (outbox_id, at, status, error, duration_ms) ");
            qb.push_values(chunk, |mut b, (m, a)| {
                b.push_bind(m.id).push_bind(t).push_bind(a.status).push_bind(a.error.as_deref()).push_bind(a.duration_ms);
            });
            qb.build().execute(c).await.map(|r| r.rows_affected())
        })?;
        on_tx!(&mut tx, c => {
            let mut qb = QueryBuilder::new("WITH x (id, attempts, delivered_at, gave_up_at, next_at, error) AS (VALUES ");
            let mut rows = qb.separated(", ");
            for (m, a) in chunk {
                let attempts = m.attempts + 1;
                let gave_up = !a.delivered && (a.give_up || attempts >= MAX_ATTEMPTS);
                let retry = !a.delivered && !gave_up;
                rows.push("(CAST(").push_bind_unseparated(m.id);
                rows.push_unseparated(" AS BIGINT), CAST(").push_bind_unseparated(attempts);
                rows.push_unseparated(" AS INTEGER), CAST(").push_bind_unseparated(a.delivered.then_some(t));
                rows.push_unseparated(" AS BIGINT), CAST(").push_bind_unseparated(gave_up.then_some(t));
                rows.push_unseparated(" AS BIGINT), CAST(").push_bind_unseparated(retry.then(|| t + backoff_secs(m.attempts)));
                rows.push_unseparated(" AS BIGINT), CAST(").push_bind_unseparated((!a.delivered).then_some(a.error.as_deref()).flatten());
                rows.push_unseparated(" AS TEXT))");
            }
            qb.push(") UPDATE outbox SET attempts = x.attempts, delivered_at = COALESCE(x.delivered_at, outbox.delivered_at), \
                     gave_up_at = COALESCE(x.gave_up_at, outbox.gave_up_at), \
                     next_attempt_at = COALESCE(x.next_at, outbox.next_attempt_at), last_error = x.error \
                     FROM x WHERE outbox.id = x.id");
            qb.build().execute(c).await.map(|r| r.rows_affected())
        })?;
    }
    tx.commit().await?;
    Ok(())
}

/// Most messages recorded per pair of statements (a power of two: see `batch`; 6 values a
/// row, within SQLite's 32,766).
const RECORD_CHUNK: usize = 256;

/// The webhook of an agency: (url, signing secret).
pub async fn webhook(db: &Db, agency_id: i64) -> Result<Option<(String, String)>> {
    let row: Option<(Option<String>, Option<String>)> = on_db!(db, p => sqlx::query_as(
        "SELECT webhook_url, webhook_secret FROM agencies WHERE id = $1 AND active").bind(agency_id).fetch_optional(p).await)?;
    Ok(row.and_then(|(u, s)| Some((u?, s.unwrap_or_default()))))
}

/// Counts of the outbox: (waiting, delivered, given up).
pub async fn counts(db: &Db) -> Result<(i64, i64, i64)> {
    Ok(on_db!(db, p => sqlx::query_as(
        "SELECT COALESCE(SUM(CASE WHEN delivered_at IS NULL AND gave_up_at IS NULL THEN 1 ELSE 0 END), 0), \
         COALESCE(SUM(CASE WHEN delivered_at IS NOT NULL THEN 1 ELSE 0 END), 0), \
         COALESCE(SUM(CASE WHEN gave_up_at IS NOT NULL THEN 1 ELSE 0 END), 0) FROM outbox").fetch_one(p).await)?)
}

/// A message as the administrators' page lists it.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct Listed {
    pub id: i64,
    pub kind: String,
    pub code: Option<String>,
    pub created_at: i64,
    pub attempts: i32,
    pub delivered_at: Option<i64>,
    pub gave_up_at: Option<i64>,
    pub next_attempt_at: i64,
    pub last_error: Option<String>,
}

/// The newest messages not delivered (waiting or given up).
pub async fn undelivered(db: &Db, limit: i64) -> Result<Vec<Listed>> {
    Ok(on_db!(db, p => sqlx::query_as::<_, Listed>(
        "SELECT o.id, o.kind, f.code, o.created_at, o.attempts, o.delivered_at, o.gave_up_at, o.next_attempt_at, o.last_error \
         FROM outbox o LEFT JOIN feedback f ON f.id = o.feedback_id WHERE o.delivered_at IS NULL ORDER BY o.id DESC LIMIT $1")
        .bind(limit).fetch_all(p).await)?)
}

/// Puts a given-up message back in the queue (after a gateway or webhook was fixed).
pub async fn retry(db: &Db, id: i64) -> Result<()> {
    let n = crate::on_write!(db, p => sqlx::query(
        "UPDATE outbox SET gave_up_at = NULL, attempts = 0, next_attempt_at = $1 WHERE id = $2 AND delivered_at IS NULL \
         AND target <> 'erased'")
        .bind(now()).bind(id).execute(p).await.map(|r| r.rows_affected()))?;
    if n == 0 { Err(crate::StoreError::NotFound) } else { Ok(()) }
}

#[cfg(test)]
mod tests {
    #[test]
    fn backoff_doubles_to_a_ceiling() {
        assert_eq!(super::backoff_secs(0), 30);
        assert_eq!(super::backoff_secs(1), 60);
        assert_eq!(super::backoff_secs(5), 960);
        assert_eq!(super::backoff_secs(30), 6 * 3600);
    }
}
