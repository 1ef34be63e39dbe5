//! API tokens: issued for a user name and password, stored hashed, expiring, revocable.

use std::sync::atomic::{AtomicU64, Ordering};

use serde::Serialize;

use crate::secrets::{hash_token, new_token};
use crate::users::{Principal, PrincipalRow};
use crate::{Db, Result, StoreError, now, on_db, on_write};

/// A token as listed (never the secret itself).
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct ApiToken {
    pub id: i64,
    pub name: String,
    pub created_at: i64,
    pub expires_at: i64,
    pub revoked_at: Option<i64>,
    pub last_used_at: Option<i64>,
}

/// A freshly issued token: the secret is shown once.
#[derive(Debug, Clone)]
pub struct IssuedToken {
    pub id: i64,
    pub token: String,
    pub expires_at: i64,
}

/// Prefix of every API token, so that a leaked one is easy to recognise.
pub const PREFIX: &str = "ngoso_";

pub async fn issue(db: &Db, user_id: i64, name: &str, ttl_secs: i64) -> Result<IssuedToken> {
    let token = format!("{PREFIX}{}", new_token());
    let t = now();
    let expires_at = t + ttl_secs;
    let sql = "INSERT INTO api_tokens (user_id, name, token_hash, created_at, expires_at) VALUES ($1, $2, $3, $4, $5) RETURNING id";
    let id: i64 = on_write!(db, p => sqlx::query_scalar(sql)
        .bind(user_id).bind(name).bind(hash_token(&token)).bind(t).bind(expires_at).fetch_one(p).await)?;
    Ok(IssuedToken { id, token, expires_at })
}

#[derive(sqlx::FromRow)]
struct TokenRow {
    #[sqlx(flatten)]
    user: PrincipalRow,
    last_used_at: Option<i64>,
    expires_at: i64,
}

/// Counts changes that can alter what a token grants: a token revoked, an account disabled
/// or given another agency, a unit moved in the tree. A cache of [`lookup`]'s answers keeps
/// an answer only while this has not moved since before the lookup began.
static GENERATION: AtomicU64 = AtomicU64::new(0);

/// The current generation (see [`GENERATION`]): read it *before* a lookup.
pub fn generation() -> u64 {
    GENERATION.load(Ordering::SeqCst)
}

/// Marks that what some token grants may have changed; called after the change commits.
pub fn changed() {
    GENERATION.fetch_add(1, Ordering::SeqCst);
}

/// The principal of a live, unrevoked token of an enabled user.
pub async fn principal(db: &Db, token: &str) -> Result<Option<Principal>> {
    Ok(lookup(db, token).await?.map(|(p, _)| p))
}

/// Like [`principal`], with the token's expiry time.
pub async fn lookup(db: &Db, token: &str) -> Result<Option<(Principal, i64)>> {
    let t = now();
    let hash = hash_token(token.trim());
    let sql = "SELECT us.id, us.username, us.display_name, us.role, us.unit_id, un.path, us.disabled, us.password_hash, us.agency_id, \
               tk.last_used_at, tk.expires_at FROM api_tokens tk JOIN users us ON us.id = tk.user_id LEFT JOIN units un ON un.id = us.unit_id \
               WHERE tk.token_hash = $1 AND tk.expires_at > $2 AND tk.revoked_at IS NULL";
    let row: Option<TokenRow> = on_db!(db, p => sqlx::query_as(sql).bind(&hash).bind(t).fetch_optional(p).await)?;
    let Some(row) = row else { return Ok(None) };
    // Written at most once a minute: an UPDATE that changes nothing still takes SQLite's one
    // writer, and every API request passes here.
    if row.last_used_at.is_none_or(|u| u < t - 60) {
        on_write!(db, p => sqlx::query("UPDATE api_tokens SET last_used_at = $1 WHERE token_hash = $2")
            .bind(t).bind(&hash).execute(p).await.map(|r| r.rows_affected()))?;
    }
    if row.user.disabled {
        return Ok(None);
    }
    Ok(row.user.into_principal().map(|p| (p, row.expires_at)))
}

/// A user's tokens, newest first.
pub async fn list(db: &Db, user_id: i64) -> Result<Vec<ApiToken>> {
    let sql = "SELECT id, name, created_at, expires_at, revoked_at, last_used_at FROM api_tokens WHERE user_id = $1 ORDER BY id DESC";
    Ok(on_db!(db, p => sqlx::query_as::<_, ApiToken>(sql).bind(user_id).fetch_all(p).await)?)
}

/// Revokes one of a user's tokens.
pub async fn revoke(db: &Db, user_id: i64, token_id: i64) -> Result<()> {
    let sql = "UPDATE api_tokens SET revoked_at = $1 WHERE id = $2 AND user_id = $3 AND revoked_at IS NULL";
    let done = on_write!(db, p => sqlx::query(sql).bind(now()).bind(token_id).bind(user_id).execute(p).await.map(|r| r.rows_affected()))?;
    changed();
    if done == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

/// Revokes the token presented with a request.
pub async fn revoke_by_secret(db: &Db, token: &str) -> Result<()> {
    let sql = "UPDATE api_tokens SET revoked_at = $1 WHERE token_hash = $2 AND revoked_at IS NULL";
    on_write!(db, p => sqlx::query(sql).bind(now()).bind(hash_token(token.trim())).execute(p).await.map(|r| r.rows_affected()))?;
    changed();
    Ok(())
}
