//! `ngoso serve`.

use ngoso_web::AppState;

use crate::Failure;
use crate::config::Config;

/// Migrates, binds and serves until stopped.
pub async fn run(cfg: &Config) -> Result<(), Failure> {
    let db = crate::open_serving(cfg).await?;
    serve_db(db, cfg).await
}

/// Serves an open, migrated database, and closes it once the server has stopped (or could
/// not start), so that SQLite folds its write-ahead log back into the file.
pub async fn serve_db(db: ngoso_store::Db, cfg: &Config) -> Result<(), Failure> {
    let result = serve_on(db.clone(), cfg).await;
    db.close().await;
    result
}

async fn serve_on(db: ngoso_store::Db, cfg: &Config) -> Result<(), Failure> {
    let state = AppState::new(db, cfg.web.clone()).await?;
    let listener = tokio::net::TcpListener::bind(&cfg.listen)
        .await
        .map_err(|e| Failure::Other(format!("cannot listen on {}: {e}", cfg.listen)))?;
    let addr = listener.local_addr().map(|a| a.to_string()).unwrap_or_else(|_| cfg.listen.clone());
    println!("{}", crate::t("cli-serving", &[("url", &format!("http://{addr}/"))]));
    tracing::info!(%addr, backend = state.db.backend().as_str(), "serving");
    ngoso_web::serve(listener, state).await.map_err(Failure::other)
}
