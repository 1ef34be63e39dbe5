//! Instance-wide settings shared by every `serve` process through the database.

use crate::{Db, Result, on_db, on_write, secrets};

/// Reads a setting.
pub async fn get(db: &Db, key: &str) -> Result<Option<String>> {
    Ok(
        on_db!(db, p => sqlx::query_scalar("SELECT value FROM settings WHERE key = $1").bind(key).fetch_optional(p).await)?,
    )
}

/// Returns the random secret stored under `key`, creating it on first use. Every process
/// reading the same database gets the same secret.
pub async fn secret(db: &Db, key: &str) -> Result<String> {
    let fresh = secrets::new_token();
    on_write!(db, p => sqlx::query("INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING")
        .bind(key).bind(&fresh).execute(p).await.map(|r| r.rows_affected()))?;
    Ok(get(db, key).await?.unwrap_or(fresh))
}
