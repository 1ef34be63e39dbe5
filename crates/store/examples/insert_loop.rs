//! The baseline of `bench/feedback.sh`: the same rows the public form receives, written one
//! `INSERT` at a time through sqlx into a bare table, in a loop on one connection.
//!
//!     cargo run --release -p ngoso-store --example insert_loop -- DATABASE_URL ROWS.tsv
//!
//! Prints the rows written per second.

use std::time::Instant;

use ngoso_store::{Db, PoolConfig, on_write};

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (url, file) = match (args.get(1), args.get(2)) {
        (Some(u), Some(f)) => (u.clone(), f.clone()),
        _ => {
            eprintln!("usage: insert_loop DATABASE_URL ROWS.tsv");
            std::process::exit(2);
        }
    };
    let db = Db::connect(&url, &PoolConfig { max_connections: 1, ..PoolConfig::default() }).await.expect("connect");
    let text = std::fs::read_to_string(&file).expect("read the rows");
    let rows: Vec<Vec<&str>> = text.lines().map(|l| l.split('\t').collect()).collect();
    on_write!(&db, p => sqlx::query(
        "CREATE TABLE IF NOT EXISTS bare_feedback (id BIGINT, category TEXT, description TEXT, unit TEXT, contact_phone TEXT, received_at BIGINT)")
        .execute(p).await.map(|r| r.rows_affected())).expect("create the bare table");
    let started = Instant::now();
    for (i, r) in rows.iter().enumerate() {
        on_write!(&db, p => sqlx::query(
            "INSERT INTO bare_feedback (id, category, description, unit, contact_phone, received_at) VALUES ($1, $2, $3, $4, $5, $6)")
            .bind(i as i64).bind(r[0]).bind(r[1]).bind(r[2]).bind(r.get(3).copied().filter(|p| !p.is_empty()))
            .bind(ngoso_store::now()).execute(p).await.map(|r| r.rows_affected())).expect("insert");
    }
    let secs = started.elapsed().as_secs_f64();
    on_write!(&db, p => sqlx::query("DROP TABLE bare_feedback").execute(p).await.map(|r| r.rows_affected()))
        .expect("drop");
    println!("{:.0}", rows.len() as f64 / secs);
}
