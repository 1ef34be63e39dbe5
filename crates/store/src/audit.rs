//! The audit log: who did or read what, when.

use serde::Serialize;

use crate::{Db, Result, Tx, now, on_db, on_tx, on_write};

/// One entry of the log.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct AuditEntry {
    pub id: i64,
    pub at: i64,
    pub user_id: Option<i64>,
    pub username: Option<String>,
    pub action: String,
    pub object_type: String,
    pub object_id: String,
    pub detail: String,
}

/// What to log.
#[derive(Debug, Clone, Copy)]
pub struct Event<'a> {
    pub user_id: Option<i64>,
    pub action: &'a str,
    pub object_type: &'a str,
    pub object_id: &'a str,
    pub detail: &'a str,
}

const INSERT: &str =
    "INSERT INTO audit_log (at, user_id, action, object_type, object_id, detail) VALUES ($1, $2, $3, $4, $5, $6)";

/// Writes an entry on its own.
pub async fn record(db: &Db, e: Event<'_>) -> Result<()> {
    on_write!(db, p => sqlx::query(INSERT)
        .bind(now()).bind(e.user_id).bind(e.action).bind(e.object_type).bind(e.object_id).bind(e.detail)
        .execute(p).await.map(|r| r.rows_affected()))?;
    Ok(())
}

/// Writes an entry inside a transaction, with the change it records.
pub async fn record_in(tx: &mut Tx, e: Event<'_>) -> Result<()> {
    on_tx!(tx, c => sqlx::query(INSERT)
        .bind(now()).bind(e.user_id).bind(e.action).bind(e.object_type).bind(e.object_id).bind(e.detail)
        .execute(c).await.map(|r| r.rows_affected()))?;
    Ok(())
}

/// Writes the entry of a read of personal data, by the store call that reads it: the read
/// fails if its entry cannot be written (no personal data leaves unlogged).
pub(crate) async fn read(
    db: &Db,
    user_id: i64,
    action: &str,
    object_type: &str,
    object_id: i64,
    detail: &str,
) -> Result<()> {
    let id = object_id.to_string();
    record(db, Event { user_id: Some(user_id), action, object_type, object_id: &id, detail }).await
}

/// How many entries of `action` a user has had since `since` (Unix seconds): to limit how
/// often they may do what the entries record.
pub async fn count_since(db: &Db, user_id: i64, action: &str, since: i64) -> Result<i64> {
    Ok(on_db!(db, p => sqlx::query_scalar(
        "SELECT COUNT(*) FROM audit_log WHERE user_id = $1 AND action = $2 AND at >= $3")
        .bind(user_id).bind(action).bind(since).fetch_one(p).await)?)
}

/// The newest entries, optionally about one object.
pub async fn list(db: &Db, object: Option<(&str, &str)>, limit: i64) -> Result<Vec<AuditEntry>> {
    let rows = match object {
        Some((ty, id)) => {
            let sql = "SELECT a.id, a.at, a.user_id, u.username, a.action, a.object_type, a.object_id, a.detail \
                       FROM audit_log a LEFT JOIN users u ON u.id = a.user_id \
                       WHERE a.object_type = $1 AND a.object_id = $2 ORDER BY a.id DESC LIMIT $3";
            on_db!(db, p => sqlx::query_as::<_, AuditEntry>(sql).bind(ty).bind(id).bind(limit).fetch_all(p).await)?
        }
        None => {
            let sql = "SELECT a.id, a.at, a.user_id, u.username, a.action, a.object_type, a.object_id, a.detail \
                       FROM audit_log a LEFT JOIN users u ON u.id = a.user_id ORDER BY a.id DESC LIMIT $1";
            on_db!(db, p => sqlx::query_as::<_, AuditEntry>(sql).bind(limit).fetch_all(p).await)?
        }
    };
    Ok(rows)
}
