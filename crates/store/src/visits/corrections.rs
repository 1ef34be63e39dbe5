//! An officer's correction of a subject's status, the one way a status moves back.

use ngoso_core::rollup::Deltas;

use crate::db::dialect;
use crate::{Db, Result, StoreError, now, on_tx, rollups};

/// An officer's correction of a subject's status: to any status of the service, or back to
/// "not started" (`to` `None`). Recorded with its reason.
#[allow(clippy::too_many_arguments)]
pub async fn correct_status(
    db: &Db,
    user_id: i64,
    service_id: i64,
    household_id: i64,
    resident_id: i64,
    to: Option<(i64, i32)>,
    reason: &str,
) -> Result<Option<i64>> {
    let mut tx = db.begin().await?;
    dialect::lock_households(&mut tx, &[household_id]).await?;
    let unit: Option<i64> = on_tx!(&mut tx, c => sqlx::query_scalar("SELECT unit_id FROM households WHERE id = $1")
        .bind(household_id).fetch_optional(c).await)?;
    let unit = unit.ok_or(StoreError::NotFound)?;
    let current: Option<i64> = on_tx!(&mut tx, c => sqlx::query_scalar(
        "SELECT status_id FROM subject_statuses WHERE service_id = $1 AND household_id = $2 AND resident_id = $3")
        .bind(service_id).bind(household_id).bind(resident_id).fetch_optional(c).await)?;
    let t = now();
    match to {
        Some((status_id, rank)) => {
            on_tx!(&mut tx, c => sqlx::query(
                "INSERT INTO subject_statuses (service_id, household_id, resident_id, status_id, rank, updated_at) VALUES ($1, $2, $3, $4, $5, $6) \
                 ON CONFLICT (household_id, service_id, resident_id) DO UPDATE SET status_id = excluded.status_id, rank = excluded.rank, updated_at = excluded.updated_at")
                .bind(service_id).bind(household_id).bind(resident_id).bind(status_id).bind(rank).bind(t)
                .execute(c).await.map(|r| r.rows_affected()))?;
        }
        None => {
            on_tx!(&mut tx, c => sqlx::query(
                "DELETE FROM subject_statuses WHERE service_id = $1 AND household_id = $2 AND resident_id = $3")
                .bind(service_id).bind(household_id).bind(resident_id).execute(c).await.map(|r| r.rows_affected()))?;
            // No status row is left to say the household changed: the household says it, so
            // that the phones' next sync (field::sync) takes the status away.
            on_tx!(&mut tx, c => sqlx::query("UPDATE households SET updated_at = $1 WHERE id = $2")
                .bind(t).bind(household_id).execute(c).await.map(|r| r.rows_affected()))?;
        }
    }
    on_tx!(&mut tx, c => sqlx::query(
        "INSERT INTO status_corrections (service_id, household_id, resident_id, from_status_id, to_status_id, reason, user_id, at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)")
        .bind(service_id).bind(household_id).bind(resident_id).bind(current).bind(to.map(|x| x.0)).bind(reason).bind(user_id).bind(t)
        .execute(c).await.map(|r| r.rows_affected()))?;
    let mut d = Deltas::default();
    let traits: Option<(Option<String>, Option<i32>, i64)> = if resident_id == 0 {
        None
    } else {
        on_tx!(&mut tx, c => sqlx::query_as("SELECT sex, birth_year, groups FROM residents WHERE id = $1 AND household_id = $2")
            .bind(resident_id).bind(household_id).fetch_optional(c).await)?
    };
    match traits {
        Some((sex, born, groups)) => {
            let t = ngoso_core::rollup::Traits::new(sex.as_deref(), born, groups);
            d.person_status(unit, service_id, current, to.map(|x| x.0), &t);
        }
        None => d.status(unit, service_id, current, to.map(|x| x.0)),
    }
    rollups::apply(&mut tx, d.into_vec()).await?;
    crate::audit::record_in(
        &mut tx,
        crate::audit::Event {
            user_id: Some(user_id),
            action: "status.correct",
            object_type: "household",
            object_id: &household_id.to_string(),
            detail: &format!(
                "service {service_id} resident {resident_id}: {current:?} → {:?}: {reason}",
                to.map(|x| x.0)
            ),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(current)
}
