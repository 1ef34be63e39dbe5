//! The household import on PostgreSQL: `COPY … FROM STDIN` of each step of rows.

use std::collections::HashMap;

use ngoso_core::Invalid;
use sqlx::PgConnection;

use super::copy_row;
use crate::db::dialect::Table;
use crate::households::ImportRow;
use crate::{Result, StoreError};

/// `COPY … FROM STDIN` of the rows, households then their consents; returns their ids.
pub(crate) async fn write(
    c: &mut PgConnection,
    rows: &[ImportRow],
    t: i64,
    actor: Option<i64>,
    per_unit: &mut HashMap<(i64, i32), i64>,
) -> Result<Vec<i64>> {
    let actor = actor.map(|a| a.to_string());
    let (mut households, mut consents) = (Vec::new(), Vec::new());
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<i64> =
        sqlx::query_scalar(Table::Households.pg_next_ids()).bind(rows.len() as i32).fetch_all(&mut *c).await?;
    let ts = t.to_string();
    for (ImportRow { household: h, key }, id) in rows.iter().zip(&ids) {
        let (id, unit) = (id.to_string(), h.unit_id.to_string());
        let (size, phones, barriers) = (h.size.to_string(), h.smartphones.to_string(), h.barriers.0.to_string());
        copy_row(
            &mut households,
            &[
                Some(&id),
                Some(&unit),
                Some(&h.code),
                h.address.as_ref(),
                h.head_name.as_ref(),
                Some(key),
                Some(&size),
                Some(&phones),
                Some(&barriers),
                Some(&ts),
                Some(&ts),
            ],
        );
        if let Some((by, purposes)) = &h.consent {
            copy_row(&mut consents, &[Some(&id), None, Some(by), Some(purposes), Some(&ts), actor.as_ref()]);
        }
        *per_unit.entry((h.unit_id, h.barriers.0)).or_insert(0) += 1;
    }
    let copy = async {
        let mut copy = c
            .copy_in_raw(
                "COPY households (id, unit_id, code, address, head_name, search_key, size, smartphones, barriers, \
                     created_at, updated_at) FROM STDIN",
            )
            .await?;
        copy.send(households.as_slice()).await?;
        copy.finish().await
    };
    if let Err(e) = copy.await {
        let e = StoreError::from(e);
        return Err(if e.is_unique_violation() { Invalid::new("household-code-exists").into() } else { e });
    }
    if !consents.is_empty() {
        let mut copy = c
            .copy_in_raw(
                "COPY consents (household_id, resident_id, given_by, purposes, given_at, recorded_by) FROM STDIN",
            )
            .await?;
        copy.send(consents.as_slice()).await?;
        copy.finish().await?;
    }
    Ok(ids)
}
