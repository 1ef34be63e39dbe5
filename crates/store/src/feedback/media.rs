//! Photos given by their address (Open311's `media_url`): recorded with the item, fetched
//! once in the background (by the web crate's job, through its public-address-only client),
//! then kept like an uploaded photo or marked failed with the reason. A failure is recorded,
//! never fatal: the item stands without its photo.

use ngoso_core::photo::Photo;
use serde::Serialize;

use crate::{Db, Result, now, on_db, on_tx, on_write};

/// A photo address waiting to be fetched.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct Waiting {
    pub id: i64,
    pub feedback_id: i64,
    pub url: String,
}

/// A photo address of an item and what became of it.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct Fetch {
    pub url: String,
    /// `waiting`, `done` or `failed`.
    pub state: String,
    pub error: Option<String>,
    pub done_at: Option<i64>,
}

/// The oldest addresses waiting, at most `limit`.
pub async fn waiting(db: &Db, limit: i64) -> Result<Vec<Waiting>> {
    Ok(on_db!(db, p => sqlx::query_as::<_, Waiting>(
        "SELECT id, feedback_id, url FROM feedback_media WHERE state = 'waiting' ORDER BY id LIMIT $1")
        .bind(limit).fetch_all(p).await)?)
}

/// Keeps a fetched photo (already checked and stripped of its metadata) as the item's photo;
/// an item that has one already keeps it, and the fetch is recorded as done.
pub async fn fetched(db: &Db, w: &Waiting, photo: &Photo) -> Result<()> {
    let mut tx = db.begin().await?;
    let has: Option<bool> = on_tx!(&mut tx, c => sqlx::query_scalar("SELECT has_photo FROM feedback WHERE id = $1")
        .bind(w.feedback_id).fetch_optional(c).await)?;
    let note = if has == Some(false) {
        on_tx!(&mut tx, c => sqlx::query("INSERT INTO feedback_photos (feedback_id, mime, width, height, bytes) VALUES ($1, $2, $3, $4, $5)")
            .bind(w.feedback_id).bind(photo.mime).bind(photo.width as i64).bind(photo.height as i64).bind(&photo.bytes)
            .execute(c).await.map(|r| r.rows_affected()))?;
        on_tx!(&mut tx, c => sqlx::query("UPDATE feedback SET has_photo = TRUE WHERE id = $1")
            .bind(w.feedback_id).execute(c).await.map(|r| r.rows_affected()))?;
        None
    } else {
        Some("the item has a photo already")
    };
    on_tx!(&mut tx, c => sqlx::query("UPDATE feedback_media SET state = 'done', error = $1, attempts = attempts + 1, done_at = $2 WHERE id = $3")
        .bind(note).bind(now()).bind(w.id).execute(c).await.map(|r| r.rows_affected()))?;
    tx.commit().await?;
    Ok(())
}

/// Records why a fetch failed; the item stands without the photo.
pub async fn failed(db: &Db, w: &Waiting, error: &str) -> Result<()> {
    let error: String = error.chars().take(500).collect();
    on_write!(db, p => sqlx::query("UPDATE feedback_media SET state = 'failed', error = $1, attempts = attempts + 1, done_at = $2 WHERE id = $3")
        .bind(&error).bind(now()).bind(w.id).execute(p).await.map(|r| r.rows_affected()))?;
    Ok(())
}

/// The photo addresses of an item and what became of them (for its staff page).
pub async fn of_item(db: &Db, feedback_id: i64) -> Result<Vec<Fetch>> {
    Ok(on_db!(db, p => sqlx::query_as::<_, Fetch>(
        "SELECT url, state, error, done_at FROM feedback_media WHERE feedback_id = $1 ORDER BY id")
        .bind(feedback_id).fetch_all(p).await)?)
}
