//! Reading a household's personal data: only with core's proof of access, and every read
//! written to the audit log by the same call (a read whose entry cannot be written fails).

use ngoso_core::auth::{Area, Granted, HouseholdPlace, may};
use ngoso_core::unit::UnitPath;
use serde::Serialize;

use super::{Consent, Household, Resident, consents, get, page_after, residents, search, search_after};
use crate::visits::{SubjectStatus, VisitRow, of_household, statuses_of_household};
use crate::{Db, Result, StoreError, audit, on_db};

/// A household's record: the household, its residents and consents, its subjects' statuses
/// and its latest visits (with the names of the members who knocked).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HouseholdRecord {
    pub household: Household,
    pub residents: Vec<Resident>,
    pub consents: Vec<Consent>,
    pub statuses: Vec<SubjectStatus>,
    pub visits: Vec<VisitRow>,
}

/// Where a household is, for the access checks: its id and its unit's place in the tree.
/// No personal data.
pub async fn place(db: &Db, id: i64) -> Result<HouseholdPlace> {
    let path: Option<String> = on_db!(db, p => sqlx::query_scalar(
        "SELECT u.path FROM households h JOIN units u ON u.id = h.unit_id WHERE h.id = $1").bind(id).fetch_optional(p).await)?;
    Ok(HouseholdPlace { id, path: UnitPath::from_stored(path.ok_or(StoreError::NotFound)?) })
}

/// The household of a resident, or of a consent: no personal data.
pub async fn household_of(db: &Db, resident_id: Option<i64>, consent_id: Option<i64>) -> Result<i64> {
    let id: Option<i64> = match (resident_id, consent_id) {
        (Some(r), _) => {
            on_db!(db, p => sqlx::query_scalar("SELECT household_id FROM residents WHERE id = $1").bind(r).fetch_optional(p).await)?
        }
        (None, Some(c)) => {
            on_db!(db, p => sqlx::query_scalar("SELECT household_id FROM consents WHERE id = $1").bind(c).fetch_optional(p).await)?
        }
        (None, None) => None,
    };
    id.ok_or(StoreError::NotFound)
}

/// A household's record, with its latest `visits`; logged as `household.read`.
pub async fn read(
    db: &Db,
    access: &Granted<may::ViewPersonalData, HouseholdPlace>,
    visits: i64,
) -> Result<HouseholdRecord> {
    let id = access.on().id;
    let household = get(db, id).await?;
    let record = HouseholdRecord {
        residents: residents(db, id).await?,
        consents: consents(db, id).await?,
        statuses: statuses_of_household(db, id).await?,
        visits: of_household(db, id, visits).await?,
        household,
    };
    audit::read(db, access.user_id(), "household.read", "household", id, "").await?;
    Ok(record)
}

/// Which page of a list: an offset into the list by unit then code (the pages' order), or
/// the households after an id in id order (a cursor, for reading a whole area).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Page {
    Offset(i64),
    After(i64),
}

/// Households of an area whose name, address or code contains the folded query, by unit then
/// code (or after a cursor, by id); logged as `household.list` with the number of rows.
pub async fn list(
    db: &Db,
    access: &Granted<may::ViewPersonalData, Area>,
    query: &str,
    limit: i64,
    page: Page,
) -> Result<Vec<Household>> {
    let root = UnitPath::from_stored("/".into());
    let within = access.on().0.as_ref().unwrap_or(&root);
    let rows = match page {
        Page::Offset(offset) => search(db, within, query, limit, offset).await?,
        Page::After(after) => search_after(db, within, query, after, limit).await?,
    };
    let unit: i64 = within.ids().last().copied().unwrap_or(0);
    audit::read(db, access.user_id(), "household.list", "unit", unit, &format!("{} rows", rows.len())).await?;
    Ok(rows)
}

/// A page of the bulk read: households with their residents, and the cursor of the next
/// page (`None` after the last).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ExportPage {
    pub households: Vec<(Household, Vec<Resident>)>,
    pub next: Option<i64>,
}

/// Households of an area with their residents, `limit` at a time in id order after the
/// cursor `after` (0 for the first page): two indexed queries a page whatever the page's
/// depth, so a province's register is read in a few hundred requests. Logged as
/// `household.export` with the number of households.
pub async fn export(
    db: &Db,
    access: &Granted<may::ViewPersonalData, Area>,
    after: i64,
    limit: i64,
) -> Result<ExportPage> {
    let root = UnitPath::from_stored("/".into());
    let within = access.on().0.as_ref().unwrap_or(&root);
    let limit = limit.clamp(1, 1000);
    let rows = page_after(db, within, after.max(0), limit + 1).await?;
    let more = rows.len() as i64 > limit;
    let rows: Vec<Household> = rows.into_iter().take(limit as usize).collect();
    let mut residents = match (rows.first(), rows.last()) {
        (Some(f), Some(l)) => super::residents::residents_between(db, f.id, l.id).await?,
        _ => Vec::new(),
    }
    .into_iter()
    .peekable();
    let mut households = Vec::with_capacity(rows.len());
    for h in rows {
        // Both in household order: the residents of households outside the area are skipped.
        while residents.peek().is_some_and(|r| r.household_id < h.id) {
            residents.next();
        }
        let mut mine = Vec::new();
        while residents.peek().is_some_and(|r| r.household_id == h.id) {
            mine.extend(residents.next());
        }
        households.push((h, mine));
    }
    let next = if more { households.last().map(|(h, _)| h.id) } else { None };
    let unit: i64 = within.ids().last().copied().unwrap_or(0);
    audit::read(
        db,
        access.user_id(),
        "household.export",
        "unit",
        unit,
        &format!("{} rows after {after}", households.len()),
    )
    .await?;
    Ok(ExportPage { households, next })
}
