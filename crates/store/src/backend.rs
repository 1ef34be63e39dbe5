//! The few statements that differ between SQLite and PostgreSQL.

use crate::{Result, Tx};

/// Reserves `n` fresh ids of `table` inside a write transaction. Units are inserted with
/// their id known in advance so that the materialised path can be written in the same row.
pub async fn reserve_ids(tx: &mut Tx, table: &'static str, n: usize) -> Result<Vec<i64>> {
    if n == 0 {
        return Ok(Vec::new());
    }
    match tx {
        Tx::Sqlite(t) => {
            // BEGIN IMMEDIATE holds the write lock: no one else can take these ids.
            let sql = match table {
                "units" => "SELECT COALESCE(MAX(id), 0) FROM units",
                "households" => "SELECT COALESCE(MAX(id), 0) FROM households",
                "residents" => "SELECT COALESCE(MAX(id), 0) FROM residents",
                "visits" => "SELECT COALESCE(MAX(seq), 0) FROM visits",
                other => unreachable!("no id reservation for table {other}"),
            };
            let max: i64 = sqlx::query_scalar(sql).fetch_one(&mut **t).await?;
            Ok((1..=n as i64).map(|i| max + i).collect())
        }
        Tx::Pg(t) => {
            let sql = match table {
                "units" => "SELECT nextval('units_id_seq') FROM generate_series(1, $1)",
                "households" => "SELECT nextval('households_id_seq') FROM generate_series(1, $1)",
                "residents" => "SELECT nextval('residents_id_seq') FROM generate_series(1, $1)",
                "visits" => "SELECT nextval('visits_seq_seq') FROM generate_series(1, $1)",
                other => unreachable!("no id reservation for table {other}"),
            };
            let ids: Vec<i64> = sqlx::query_scalar(sql).bind(n as i32).fetch_all(&mut **t).await?;
            Ok(ids)
        }
    }
}

/// Locks households for the rest of a write transaction, in id order. PostgreSQL takes row
/// locks; SQLite's `BEGIN IMMEDIATE` already holds the one write lock.
pub async fn lock_households(tx: &mut Tx, ids: &[i64]) -> Result<()> {
    if let Tx::Pg(t) = tx {
        let mut sorted = ids.to_vec();
        sorted.sort_unstable();
        sorted.dedup();
        sqlx::query("SELECT id FROM households WHERE id = ANY($1) ORDER BY id FOR UPDATE")
            .bind(&sorted)
            .fetch_all(&mut **t)
            .await?;
    }
    Ok(())
}
