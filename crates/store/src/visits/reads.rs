//! Reading visits and statuses back.

use serde::Serialize;

use crate::{Db, Result, on_db};

/// A visit as listed on a household's page.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct VisitRow {
    pub id: String,
    pub team_id: i64,
    pub team_name: String,
    pub member_name: Option<String>,
    pub visited_at: i64,
    pub result: String,
    pub barriers: i32,
    pub note: String,
}

/// A household's visits, newest first.
pub(crate) async fn of_household(db: &Db, household_id: i64, limit: i64) -> Result<Vec<VisitRow>> {
    let sql = "SELECT v.id, v.team_id, t.name AS team_name, m.full_name AS member_name, v.visited_at, v.result, v.barriers, v.note \
               FROM visits v JOIN teams t ON t.id = v.team_id LEFT JOIN team_members m ON m.id = v.member_id \
               WHERE v.household_id = $1 ORDER BY v.visited_at DESC, v.id LIMIT $2";
    Ok(on_db!(db, p => sqlx::query_as::<_, VisitRow>(sql).bind(household_id).bind(limit).fetch_all(p).await)?)
}

/// A subject's current status.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SubjectStatus {
    pub service_id: i64,
    pub resident_id: i64,
    pub status_id: i64,
    pub rank: i32,
    pub updated_at: i64,
}

/// The current statuses of a household and its residents.
pub async fn statuses_of_household(db: &Db, household_id: i64) -> Result<Vec<SubjectStatus>> {
    let sql = "SELECT service_id, resident_id, status_id, rank, updated_at FROM subject_statuses WHERE household_id = $1 ORDER BY service_id, resident_id";
    Ok(on_db!(db, p => sqlx::query_as::<_, SubjectStatus>(sql).bind(household_id).fetch_all(p).await)?)
}

/// Number of visits.
pub async fn count(db: &Db) -> Result<i64> {
    Ok(on_db!(db, p => sqlx::query_scalar("SELECT COUNT(*) FROM visits").fetch_one(p).await)?)
}
