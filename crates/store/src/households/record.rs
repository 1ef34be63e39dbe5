//! Reading a household's personal data: only with core's proof of access, and every read
//! written to the audit log by the same call (a read whose entry cannot be written fails).

use ngoso_core::auth::{Area, Granted, HouseholdPlace, may};
use ngoso_core::unit::UnitPath;
use serde::Serialize;

use super::{Consent, Household, Resident, consents, get, residents, search};
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

/// Households of an area whose name, address or code contains the folded query, by unit then
/// code; logged as `household.list` with the number of rows.
pub async fn list(
    db: &Db,
    access: &Granted<may::ViewPersonalData, Area>,
    query: &str,
    limit: i64,
    offset: i64,
) -> Result<Vec<Household>> {
    let root = UnitPath::from_stored("/".into());
    let within = access.on().0.as_ref().unwrap_or(&root);
    let rows = search(db, within, query, limit, offset).await?;
    let unit: i64 = within.ids().last().copied().unwrap_or(0);
    audit::read(db, access.user_id(), "household.list", "unit", unit, &format!("{} rows", rows.len())).await?;
    Ok(rows)
}
