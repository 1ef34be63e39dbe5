//! Login sessions, stored in the database so that several `serve` processes share them.
//!
//! The browser holds a random token; the table holds its SHA-256.

use crate::secrets::{hash_token, new_token};
use crate::users::{Principal, PrincipalRow};
use crate::{Db, Result, now, on_db, on_tx, on_write};

/// Seconds between two updates of a session's last-seen time.
const TOUCH_EVERY: i64 = 300;

/// Opens a session for a user; returns the token to put in the cookie.
pub async fn create(db: &Db, user_id: i64, ttl_secs: i64) -> Result<String> {
    let token = new_token();
    let t = now();
    let sql =
        "INSERT INTO sessions (token_hash, user_id, created_at, expires_at, last_seen_at) VALUES ($1, $2, $3, $4, $3)";
    on_write!(db, p => sqlx::query(sql).bind(hash_token(&token)).bind(user_id).bind(t).bind(t + ttl_secs).execute(p).await.map(|r| r.rows_affected()))?;
    Ok(token)
}

/// The principal of a live session of an enabled user.
pub async fn principal(db: &Db, token: &str) -> Result<Option<Principal>> {
    let t = now();
    let hash = hash_token(token);
    let sql = "SELECT us.id, us.username, us.display_name, us.role, us.unit_id, un.path, us.disabled, us.password_hash, us.agency_id, \
               s.last_seen_at \
               FROM sessions s JOIN users us ON us.id = s.user_id LEFT JOIN units un ON un.id = us.unit_id \
               WHERE s.token_hash = $1 AND s.expires_at > $2";
    let row: Option<PrincipalRowWithSeen> =
        on_db!(db, p => sqlx::query_as(sql).bind(&hash).bind(t).fetch_optional(p).await)?;
    let Some(row) = row else { return Ok(None) };
    if t - row.last_seen_at > TOUCH_EVERY {
        on_write!(db, p => sqlx::query("UPDATE sessions SET last_seen_at = $1 WHERE token_hash = $2")
            .bind(t).bind(&hash).execute(p).await.map(|r| r.rows_affected()))?;
    }
    if row.user.disabled {
        return Ok(None);
    }
    Ok(row.user.into_principal())
}

#[derive(sqlx::FromRow)]
struct PrincipalRowWithSeen {
    #[sqlx(flatten)]
    user: PrincipalRow,
    last_seen_at: i64,
}

/// Ends a session.
pub async fn delete(db: &Db, token: &str) -> Result<()> {
    on_write!(db, p => sqlx::query("DELETE FROM sessions WHERE token_hash = $1").bind(hash_token(token)).execute(p).await.map(|r| r.rows_affected()))?;
    Ok(())
}

/// Removes expired sessions and old login failures.
pub async fn purge_expired(db: &Db) -> Result<u64> {
    let t = now();
    let a = on_write!(db, p => sqlx::query("DELETE FROM sessions WHERE expires_at <= $1").bind(t).execute(p).await.map(|r| r.rows_affected()))?;
    let b = on_write!(db, p => sqlx::query("DELETE FROM login_failures WHERE at < $1").bind(t - 86_400).execute(p).await.map(|r| r.rows_affected()))?;
    Ok(a + b)
}

/// The limits of login attempts: failures within the window, per user name and per client.
#[derive(Debug, Clone, Copy)]
pub struct LoginLimits {
    pub per_user: i64,
    pub per_client: i64,
    pub window_secs: i64,
}

/// Counts a login attempt of a user name from a client, before its password is checked:
/// the attempt is recorded as a failure (cleared by [`clear_login_failures`] if the password
/// turns out right). Returns `false`, recording nothing, when the user name or the client
/// has failed too often within the window. Attempts of one user name or one client are
/// counted one after another (PostgreSQL: advisory locks on both keys; SQLite: its one
/// writer), so that many guesses sent at once cannot all pass the count before any is
/// recorded.
pub async fn begin_login(db: &Db, username_key: &str, client: &str, limits: LoginLimits) -> Result<bool> {
    let t = now();
    let since = t - limits.window_secs;
    let mut tx = db.begin().await?;
    if let crate::Tx::Pg(c) = &mut tx {
        // Both keys, in a fixed order, so that two attempts never wait for each other crosswise.
        let mut keys = [format!("login user {username_key}"), format!("login client {client}")];
        keys.sort();
        for k in &keys {
            sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))").bind(k).execute(&mut **c).await?;
        }
    }
    let by_user: i64 = on_tx!(&mut tx, c => sqlx::query_scalar(
        "SELECT COUNT(*) FROM login_failures WHERE username_key = $1 AND at >= $2")
        .bind(username_key).bind(since).fetch_one(c).await)?;
    let by_client: i64 = on_tx!(&mut tx, c => sqlx::query_scalar(
        "SELECT COUNT(*) FROM login_failures WHERE client = $1 AND at >= $2")
        .bind(client).bind(since).fetch_one(c).await)?;
    if by_user >= limits.per_user || by_client >= limits.per_client {
        return Ok(false);
    }
    let sql = "INSERT INTO login_failures (username_key, client, at) VALUES ($1, $2, $3)";
    on_tx!(&mut tx, c => sqlx::query(sql).bind(username_key).bind(client).bind(t).execute(c).await.map(|r| r.rows_affected()))?;
    tx.commit().await?;
    Ok(true)
}

/// Records a failed login for a user name and a client address.
pub async fn record_login_failure(db: &Db, username_key: &str, client: &str) -> Result<()> {
    let sql = "INSERT INTO login_failures (username_key, client, at) VALUES ($1, $2, $3)";
    on_write!(db, p => sqlx::query(sql).bind(username_key).bind(client).bind(now()).execute(p).await.map(|r| r.rows_affected()))?;
    Ok(())
}

/// Failed logins since `since` (Unix seconds): for this user name, and from this client.
pub async fn recent_login_failures(db: &Db, username_key: &str, client: &str, since: i64) -> Result<(i64, i64)> {
    let by_user: i64 = on_db!(db, p => sqlx::query_scalar(
        "SELECT COUNT(*) FROM login_failures WHERE username_key = $1 AND at >= $2")
        .bind(username_key).bind(since).fetch_one(p).await)?;
    let by_client: i64 = on_db!(db, p => sqlx::query_scalar(
        "SELECT COUNT(*) FROM login_failures WHERE client = $1 AND at >= $2")
        .bind(client).bind(since).fetch_one(p).await)?;
    Ok((by_user, by_client))
}

/// Forgets the failures of a user name after a successful login.
pub async fn clear_login_failures(db: &Db, username_key: &str) -> Result<()> {
    on_write!(db, p => sqlx::query("DELETE FROM login_failures WHERE username_key = $1").bind(username_key).execute(p).await.map(|r| r.rows_affected()))?;
    Ok(())
}
