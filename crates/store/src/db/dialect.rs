//! The SQL that differs between SQLite and PostgreSQL, for the store's portable queries: how a
//! write transaction reserves ids ahead of its inserts and how it locks the rows it reads.

use crate::{Result, Tx};

/// The tables whose ids the store reserves before it inserts: units are inserted with their
/// id known in advance so that the materialised path can be written in the same row; the
/// bulk paths number their rows themselves.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Table {
    Units,
    Households,
    Residents,
    Visits,
}

impl Table {
    /// SQLite: the largest id in use. A write transaction (`BEGIN IMMEDIATE`) holds the
    /// database's one write lock, so no one else can take the ids after it.
    pub(crate) const fn sqlite_max_id(self) -> &'static str {
        match self {
            Table::Units => "SELECT COALESCE(MAX(id), 0) FROM units",
            Table::Households => "SELECT COALESCE(MAX(id), 0) FROM households",
            Table::Residents => "SELECT COALESCE(MAX(id), 0) FROM residents",
            Table::Visits => "SELECT COALESCE(MAX(seq), 0) FROM visits",
        }
    }

    /// PostgreSQL: `$1` fresh ids from the table's sequence.
    pub(crate) const fn pg_next_ids(self) -> &'static str {
        match self {
            Table::Units => "SELECT nextval('units_id_seq') FROM generate_series(1, $1)",
            Table::Households => "SELECT nextval('households_id_seq') FROM generate_series(1, $1)",
            Table::Residents => "SELECT nextval('residents_id_seq') FROM generate_series(1, $1)",
            Table::Visits => "SELECT nextval('visits_seq_seq') FROM generate_series(1, $1)",
        }
    }
}

/// Reserves `n` fresh ids of `table` inside a write transaction.
pub(crate) async fn reserve_ids(tx: &mut Tx, table: Table, n: usize) -> Result<Vec<i64>> {
    if n == 0 {
        return Ok(Vec::new());
    }
    match tx {
        Tx::Sqlite(t) => {
            let max: i64 = sqlx::query_scalar(table.sqlite_max_id()).fetch_one(&mut **t).await?;
            Ok((1..=n as i64).map(|i| max + i).collect())
        }
        Tx::Pg(t) => Ok(sqlx::query_scalar(table.pg_next_ids()).bind(n as i32).fetch_all(&mut **t).await?),
    }
}

/// A `SELECT` (a string literal) as a read that locks its rows for the rest of the write
/// transaction `$tx`: with `FOR UPDATE` (and any further words given, such as `SKIP LOCKED`)
/// on PostgreSQL, where concurrent writers take row locks; as it is on SQLite, whose
/// `BEGIN IMMEDIATE` already holds the database's one write lock. Both texts are made at
/// compile time.
macro_rules! locking_read {
    ($tx:expr, $select:literal $(, $more:literal)?) => {
        match $tx {
            $crate::Tx::Sqlite(_) => $select,
            $crate::Tx::Pg(_) => concat!($select, " FOR UPDATE" $(, " ", $more)?),
        }
    };
}
pub(crate) use locking_read;

/// Locks households for the rest of a write transaction, in id order (so that concurrent
/// writers lock them in the same order). Nothing to do on SQLite (see [`locking_read!`]).
pub(crate) async fn lock_households(tx: &mut Tx, ids: &[i64]) -> Result<()> {
    let sql = locking_read!(&*tx, "SELECT id FROM households WHERE id = ANY($1) ORDER BY id");
    if let Tx::Pg(t) = tx {
        let mut sorted = ids.to_vec();
        sorted.sort_unstable();
        sorted.dedup();
        sqlx::query(sql).bind(&sorted).fetch_all(&mut **t).await?;
    }
    Ok(())
}
