//! The raw export of visits for analysts, read a page at a time in visit order (so that a
//! million rows stream in bounded memory). Without core's proof of access to the area's
//! people a row carries no personal data: no household code, no note.

use ngoso_core::auth::{Area, Granted, may};
use ngoso_core::unit::UnitPath;
use sqlx::QueryBuilder;

use crate::{Db, Result, on_db};

/// A visit as exported.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ExportVisit {
    /// Where the next page starts.
    pub seq: i64,
    pub id: String,
    pub unit_code: String,
    pub team_id: i64,
    pub visited_at: i64,
    pub month: String,
    pub result: String,
    pub barriers: i32,
    /// Only with access to the area's people.
    pub household_code: Option<String>,
    /// Only with access to the area's people.
    pub note: Option<String>,
}

/// Which visits to export: of the households in `within`, visited in `from..=to` (Unix
/// times), after the visit `after` (0: from the first).
#[derive(Debug, Clone)]
pub struct ExportFilter {
    pub within: UnitPath,
    pub from: i64,
    pub to: i64,
    pub after: i64,
    pub limit: i64,
}

async fn page(db: &Db, f: &ExportFilter, personal: bool) -> Result<Vec<ExportVisit>> {
    let cols = if personal { "h.code AS household_code, v.note" } else { "NULL AS household_code, NULL AS note" };
    let rows = on_db!(db, p => {
        let mut qb = QueryBuilder::new(
            "SELECT v.seq, v.id, u.code AS unit_code, v.team_id, v.visited_at, v.month, v.result, v.barriers, ");
        qb.push(cols);
        qb.push(" FROM visits v JOIN households h ON h.id = v.household_id JOIN units u ON u.id = h.unit_id WHERE v.seq > ");
        qb.push_bind(f.after).push(" AND v.visited_at >= ").push_bind(f.from).push(" AND v.visited_at <= ").push_bind(f.to);
        qb.push(" AND u.path >= ").push_bind(f.within.as_str()).push(" AND u.path < ").push_bind(f.within.upper_bound());
        qb.push(" ORDER BY v.seq LIMIT ").push_bind(f.limit);
        qb.build_query_as::<ExportVisit>().fetch_all(p).await
    })?;
    Ok(rows)
}

/// A page of visits without personal data.
pub async fn export_page(db: &Db, f: &ExportFilter) -> Result<Vec<ExportVisit>> {
    page(db, f, false).await
}

/// A page of visits with the household's code and the note, for a caller with access to the
/// area's people; the first page writes the audit row (`visits.export`).
pub async fn export_page_personal(
    db: &Db,
    access: &Granted<may::ViewPersonalData, Area>,
    f: &ExportFilter,
) -> Result<Vec<ExportVisit>> {
    let within = access.on().0.clone().unwrap_or_else(|| UnitPath::from_stored("/".into()));
    let f = ExportFilter { within, ..f.clone() };
    let rows = page(db, &f, true).await?;
    if f.after == 0 {
        let unit = f.within.ids().last().copied().unwrap_or(0);
        crate::audit::read(db, access.user_id(), "visits.export", "unit", unit, &format!("{}..{}", f.from, f.to))
            .await?;
    }
    Ok(rows)
}
