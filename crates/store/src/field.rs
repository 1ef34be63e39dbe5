//! What a phone of the field app keeps of its area, and what changed since it last synced:
//! the households with their residents and statuses, each only as much as the visit form
//! needs (no identity-card digits, no phone numbers).
//!
//! A sync gives the ids of every household of the area (so that the phone drops those that
//! left it) and the whole record of each household changed since the cursor it sent: the
//! household itself (a status corrected to none marks it), a resident, a status, or a visit
//! received. The cursor it gets back is
//! the server's clock a few seconds before the read began, so that a write committed while
//! the read ran is sent again next time rather than missed; a record sent twice is the same
//! record.

use std::collections::HashMap;

use ngoso_core::auth::{Area, Granted, may};
use ngoso_core::unit::UnitPath;
use serde::Serialize;
use sqlx::QueryBuilder;

use crate::{Db, Result, now, on_db};

/// How far back the next sync looks again, in seconds: writes committed while a read ran.
pub const OVERLAP: i64 = 5;

/// A resident as the phone keeps them.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FieldResident {
    pub id: i64,
    #[serde(skip)]
    pub household_id: i64,
    pub full_name: Option<String>,
    pub birth_year: Option<i32>,
    pub sex: Option<String>,
}

/// A subject's status for a service (`resident_id` 0: the household).
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FieldStatus {
    #[serde(skip)]
    pub household_id: i64,
    pub service_id: i64,
    pub resident_id: i64,
    pub status_id: i64,
}

/// A household as the phone keeps it.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FieldHousehold {
    pub id: i64,
    pub code: String,
    pub unit_id: i64,
    pub unit_name: String,
    pub address: Option<String>,
    pub head_name: Option<String>,
    pub size: i32,
    pub smartphones: i32,
    pub barriers: i32,
    pub visit_count: i64,
    pub last_visit_at: Option<i64>,
    #[sqlx(skip)]
    pub residents: Vec<FieldResident>,
    #[sqlx(skip)]
    pub statuses: Vec<FieldStatus>,
}

/// One sync's answer.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FieldSync {
    /// To send as `since` next time.
    pub cursor: i64,
    /// Every household of the area, by id: the phone drops the others.
    pub household_ids: Vec<i64>,
    /// The households changed since `since` (all of them without it), whole.
    pub households: Vec<FieldHousehold>,
}

/// The area's households and those changed since `since` (every one without it). Needs
/// core's proof of access to the area's people; logged as `field.sync` with the number of
/// households sent.
pub async fn sync(db: &Db, access: &Granted<may::ViewPersonalData, Area>, since: Option<i64>) -> Result<FieldSync> {
    let cursor = now() - OVERLAP;
    let root = UnitPath::from_stored("/".into());
    let within = access.on().0.as_ref().unwrap_or(&root);
    let (lo, hi) = (within.as_str().to_owned(), within.upper_bound());
    let household_ids: Vec<i64> = on_db!(db, p => sqlx::query_scalar(
        "SELECT h.id FROM households h JOIN units u ON u.id = h.unit_id WHERE u.path >= $1 AND u.path < $2 ORDER BY h.id")
        .bind(&lo).bind(&hi).fetch_all(p).await)?;
    let mut households: Vec<FieldHousehold> = on_db!(db, p => {
        let mut qb = QueryBuilder::new(
            "SELECT h.id, h.code, h.unit_id, u.name AS unit_name, h.address, h.head_name, h.size, h.smartphones, h.barriers, \
             (SELECT COUNT(*) FROM visits v WHERE v.household_id = h.id) AS visit_count, \
             (SELECT MAX(v.visited_at) FROM visits v WHERE v.household_id = h.id) AS last_visit_at \
             FROM households h JOIN units u ON u.id = h.unit_id WHERE u.path >= ");
        qb.push_bind(&lo).push(" AND u.path < ").push_bind(&hi);
        if let Some(t) = since {
            qb.push(" AND (h.updated_at > ").push_bind(t);
            qb.push(" OR EXISTS (SELECT 1 FROM residents r WHERE r.household_id = h.id AND r.updated_at > ").push_bind(t);
            qb.push(") OR EXISTS (SELECT 1 FROM subject_statuses s WHERE s.household_id = h.id AND s.updated_at > ").push_bind(t);
            qb.push(") OR EXISTS (SELECT 1 FROM visits v WHERE v.household_id = h.id AND v.received_at > ").push_bind(t);
            qb.push("))");
        }
        qb.push(" ORDER BY h.id");
        qb.build_query_as::<FieldHousehold>().fetch_all(p).await
    })?;
    let ids: Vec<i64> = households.iter().map(|h| h.id).collect();
    let mut residents: HashMap<i64, Vec<FieldResident>> = HashMap::new();
    let mut statuses: HashMap<i64, Vec<FieldStatus>> = HashMap::new();
    for chunk in crate::db::batch::padded(&ids, 512) {
        let rs: Vec<FieldResident> = on_db!(db, p => {
            let mut qb = QueryBuilder::new(
                "SELECT id, household_id, full_name, birth_year, sex FROM residents WHERE household_id IN (");
            let mut sep = qb.separated(", ");
            for id in &chunk {
                sep.push_bind(*id);
            }
            qb.push(") ORDER BY household_id, id");
            qb.build_query_as::<FieldResident>().fetch_all(p).await
        })?;
        let ss: Vec<FieldStatus> = on_db!(db, p => {
            let mut qb = QueryBuilder::new(
                "SELECT household_id, service_id, resident_id, status_id FROM subject_statuses WHERE household_id IN (");
            let mut sep = qb.separated(", ");
            for id in &chunk {
                sep.push_bind(*id);
            }
            qb.push(") ORDER BY household_id, service_id, resident_id");
            qb.build_query_as::<FieldStatus>().fetch_all(p).await
        })?;
        for r in rs {
            residents.entry(r.household_id).or_default().push(r);
        }
        for s in ss {
            statuses.entry(s.household_id).or_default().push(s);
        }
    }
    for h in &mut households {
        let mut rs = residents.remove(&h.id).unwrap_or_default();
        rs.dedup_by_key(|r| r.id);
        h.residents = rs;
        let mut ss = statuses.remove(&h.id).unwrap_or_default();
        ss.dedup_by_key(|s| (s.service_id, s.resident_id));
        h.statuses = ss;
    }
    let unit = within.ids().last().copied().unwrap_or(0);
    let detail =
        format!("{} households sent, since {}", households.len(), since.map(|t| t.to_string()).unwrap_or("—".into()));
    crate::audit::read(db, access.user_id(), "field.sync", "unit", unit, &detail).await?;
    Ok(FieldSync { cursor, household_ids, households })
}
