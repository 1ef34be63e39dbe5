//! Background work of a `serve` process: delivering the outbox, SQLite's checkpoints, and
//! hourly housekeeping. Several processes may run it at once: every step is safe to repeat.

pub mod media;
pub mod outbox;

use std::time::Duration;

use crate::AppState;

/// Starts the background tasks. Also hourly: removes expired sessions and old login
/// failures (idempotent deletes).
pub fn spawn(state: &AppState) {
    outbox::spawn(
        state.db.clone(),
        outbox::Notifier::new(state.cfg.citizen_notify_url().map(str::to_owned), state.cfg.webhook_private_addresses),
    );
    media::spawn(
        state.db.clone(),
        media::Fetcher::new(state.cfg.webhook_private_addresses, state.cfg.feedback_photo_max_bytes),
    );
    let state = state.clone();
    let db = state.db.clone();
    tokio::spawn(async move {
        // SQLite's checkpoints run here, every second, not in a request's commit.
        let mut tick = tokio::time::interval(Duration::from_secs(1));
        loop {
            tick.tick().await;
            if let Err(e) = db.checkpoint().await {
                tracing::warn!(error = %e, "checkpoint failed");
            }
        }
    });
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(3600));
        loop {
            tick.tick().await;
            match ngoso_store::sessions::purge_expired(&state.db).await {
                Ok(n) if n > 0 => tracing::info!(removed = n, "expired sessions and login failures removed"),
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "housekeeping failed"),
            }
        }
    });
}
