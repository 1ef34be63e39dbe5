//! Walk lists: the households of an area not yet reached for chosen services, in the order a
//! team should knock — never visited first, then those with barriers, then the longest
//! without a visit.

use ngoso_core::auth::{Area, Granted, may};
use ngoso_core::unit::UnitPath;
use serde::Serialize;
use sqlx::QueryBuilder;

use crate::{Db, Result, on_db};

/// A household on a walk list.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WalkItem {
    pub id: i64,
    pub code: String,
    pub unit_name: String,
    pub address: Option<String>,
    pub head_name: Option<String>,
    pub size: i32,
    pub smartphones: i32,
    pub barriers: i32,
    pub visit_count: i32,
    pub last_visit_at: Option<i64>,
}

/// Households of the area that no subject has reached yet for at least one of `service_ids`
/// (for a person's service: no resident has any status yet); with no services, every
/// household. Needs core's proof of access to the area's people; logged as
/// `walklist.read` with the number of rows.
pub async fn list(
    db: &Db,
    access: &Granted<may::ViewPersonalData, Area>,
    service_ids: &[i64],
    limit: i64,
) -> Result<Vec<WalkItem>> {
    let root = UnitPath::from_stored("/".into());
    let within = access.on().0.as_ref().unwrap_or(&root);
    let rows = query(db, within, service_ids, limit).await?;
    let unit = within.ids().last().copied().unwrap_or(0);
    crate::audit::read(db, access.user_id(), "walklist.read", "unit", unit, &format!("{} rows", rows.len())).await?;
    Ok(rows)
}

async fn query(db: &Db, within: &UnitPath, service_ids: &[i64], limit: i64) -> Result<Vec<WalkItem>> {
    let rows = on_db!(db, p => {
        let mut qb = QueryBuilder::new(
            "SELECT * FROM (SELECT h.id, h.code, u.name AS unit_name, u.name_sort, h.address, h.head_name, h.size, h.smartphones, h.barriers, \
             (SELECT CAST(COUNT(*) AS INTEGER) FROM visits v WHERE v.household_id = h.id) AS visit_count, \
             (SELECT MAX(v.visited_at) FROM visits v WHERE v.household_id = h.id) AS last_visit_at \
             FROM households h JOIN units u ON u.id = h.unit_id WHERE u.path >= ");
        qb.push_bind(within.as_str());
        qb.push(" AND u.path < ");
        qb.push_bind(within.upper_bound());
        if !service_ids.is_empty() {
            qb.push(" AND (");
            for (i, s) in service_ids.iter().enumerate() {
                if i > 0 {
                    qb.push(" OR ");
                }
                qb.push("NOT EXISTS (SELECT 1 FROM subject_statuses s WHERE s.household_id = h.id AND s.service_id = ");
                qb.push_bind(*s);
                qb.push(")");
            }
            qb.push(")");
        }
        qb.push(
            ") w ORDER BY CASE WHEN w.visit_count = 0 THEN 0 ELSE 1 END, CASE WHEN w.barriers <> 0 THEN 0 ELSE 1 END, \
             COALESCE(w.last_visit_at, 0), w.name_sort, w.code LIMIT ",
        );
        qb.push_bind(limit);
        qb.build_query_as::<WalkItem>().fetch_all(p).await
    })?;
    Ok(rows)
}
