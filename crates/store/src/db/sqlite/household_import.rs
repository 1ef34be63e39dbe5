//! The household import on SQLite's own handle: one prepared row statement per table.

use std::collections::HashMap;

use ngoso_core::Invalid;

use super::{Locked, SqliteError, Value};
use crate::households::ImportRow;
use crate::{Result, StoreError};

/// A code already taken is the importer's error; any other is the store's.
fn code_exists(e: SqliteError) -> StoreError {
    if e.is_unique_violation() {
        Invalid::new("household-code-exists").into()
    } else {
        StoreError::Sqlite(e.to_string())
    }
}

/// Writes the rows on the locked connection, numbering households after `max_id`; returns
/// their ids.
pub(crate) fn write(
    handle: &mut sqlx::sqlite::LockedSqliteHandle<'_>,
    rows: &[ImportRow],
    max_id: i64,
    t: i64,
    actor: Option<i64>,
    per_unit: &mut HashMap<(i64, i32), i64>,
) -> Result<std::ops::RangeInclusive<i64>> {
    let conn = Locked::new(handle);
    let mut household = conn
        .prepare(
            "INSERT INTO households (id, unit_id, code, address, head_name, search_key, size, smartphones, barriers, created_at, updated_at) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .map_err(code_exists)?;
    let mut consent = conn
        .prepare(
            "INSERT INTO consents (household_id, resident_id, given_by, purposes, given_at, recorded_by) VALUES (?, NULL, ?, ?, ?, ?)",
        )
        .map_err(code_exists)?;
    let actor = actor.map_or(Value::Null, Value::Int);
    let mut id = max_id;
    for ImportRow { household: h, key } in rows {
        id += 1;
        household
            .run(&[
                Value::Int(id),
                Value::Int(h.unit_id),
                Value::Text(&h.code),
                h.address.as_deref().into(),
                h.head_name.as_deref().into(),
                Value::Text(key),
                Value::Int(h.size.into()),
                Value::Int(h.smartphones.into()),
                Value::Int(h.barriers.0.into()),
                Value::Int(t),
                Value::Int(t),
            ])
            .map_err(code_exists)?;
        if let Some((by, purposes)) = &h.consent {
            consent
                .run(&[Value::Int(id), Value::Text(by), Value::Text(purposes), Value::Int(t), actor])
                .map_err(code_exists)?;
        }
        *per_unit.entry((h.unit_id, h.barriers.0)).or_insert(0) += 1;
    }
    Ok(max_id + 1..=id)
}
