//! Households, their residents and consents, status corrections and walk lists: pages under
//! `/app/households` and `/app/walk`, the API under `/api/v1/households`, and the
//! operations both go through. Every read of a record with personal data is written to the
//! audit log.

pub mod api;
mod pages;
mod walk;

use chrono::Datelike;
use ngoso_core::auth::{self as access, Action, Granted, HouseholdPlace, Permission, may};
pub use ngoso_core::household::{HouseholdInput, ResidentInput};
use ngoso_core::household::{parse_changes, parse_household, parse_resident};
use ngoso_core::{Invalid, text};
use ngoso_store::Db;
use ngoso_store::households::{self, Household, HouseholdRecord};
use ngoso_store::users::Principal;

use axum::routing::{get, post};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::auth::audit::log;
use crate::auth::{can, ensure};
use crate::http::error::AppError;

/// The pages and API of households.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .route("/app/households", get(pages::index))
        .route("/app/households/new", get(pages::new_form).post(pages::create))
        .route("/app/households/{id}", get(pages::show))
        .route("/app/households/{id}/edit", get(pages::edit_form).post(pages::edit))
        .route("/app/households/{id}/residents", post(pages::add_resident))
        .route("/app/households/{id}/correct", post(pages::correct))
        .route("/app/households/{id}/anonymize", post(pages::anonymize))
        .route("/app/households/{id}/residents/anonymize", post(pages::anonymize_resident))
        .route("/app/consents/{id}/withdraw", post(pages::withdraw_consent))
        .route("/app/walk", get(walk::page))
        .routes(routes!(api::list, api::create))
        .routes(routes!(api::get_one))
        .routes(routes!(api::by_code))
        .routes(routes!(api::export))
        .routes(routes!(api::add_resident))
        .routes(routes!(api::resident_groups, api::create_resident_group))
        .routes(routes!(api::set_resident_groups))
        .routes(routes!(api::anonymize_resident))
        .routes(routes!(api::correct_status))
        .routes(routes!(api::walklist))
}

/// A deletion request for one resident, by those who may correct the household's records:
/// their personal data goes (name, citizen ID, phone, birth year, consent's signer), the counts
/// stay, as for a household. The household's id.
pub async fn anonymize_resident(db: &Db, p: &Principal, resident_id: i64) -> Result<i64, AppError> {
    let household_id = households::household_of(db, Some(resident_id), None).await?;
    granted::<may::CorrectRecords>(db, p, household_id).await?;
    households::anonymize_resident(db, resident_id).await?;
    crate::auth::audit::log(db, p, "resident.anonymize", "household", household_id, &resident_id.to_string()).await;
    Ok(household_id)
}

/// Core's proof that the principal may do `P` on a household: not found when it is out of
/// sight, forbidden when it is in sight but `P` is not theirs there.
pub async fn granted<P: Permission>(db: &Db, p: &Principal, id: i64) -> Result<Granted<P, HouseholdPlace>, AppError> {
    let place = households::place(db, id).await?;
    Ok(access::household::<P>(&p.actor(), place)?)
}

/// A household's record (with its `visits` latest visits), for one who may see its people;
/// the store logs the read.
pub async fn open(db: &Db, p: &Principal, id: i64, visits: i64) -> Result<HouseholdRecord, AppError> {
    let g = granted::<may::ViewPersonalData>(db, p, id).await?;
    Ok(households::read(db, &g, visits).await?)
}

/// Registers a household in a unit.
pub async fn create(db: &Db, p: &Principal, unit_id: i64, i: &HouseholdInput) -> Result<i64, AppError> {
    let unit = crate::units::visible(db, p, unit_id).await?;
    ensure(p, Action::EditHouseholds, &unit.unit_path())?;
    let h = parse_household(unit_id, i)?;
    let id = households::create(db, &h, Some(p.id)).await?;
    log(db, p, "household.create", "household", id, "").await;
    Ok(id)
}

/// Updates a household's fields (its code and unit stay).
/// An anonymised household takes no personal field back (the store refuses it).
pub async fn update(db: &Db, p: &Principal, id: i64, i: &HouseholdInput) -> Result<(), AppError> {
    granted::<may::EditHouseholds>(db, p, id).await?;
    let (u, consent) = parse_changes(i)?;
    households::update(db, id, &u).await?;
    if let Some((by, purposes)) = consent {
        households::record_consent(db, id, None, &by, &purposes, Some(p.id)).await?;
    }
    log(db, p, "household.update", "household", id, "").await;
    Ok(())
}

/// Citizen IDs already recorded that one account may run into within an hour. A duplicate
/// is answered (409), so that the same person is not recorded twice; that answer says the ID
/// is recorded somewhere, perhaps outside the account's area, so every one is logged and an
/// account that keeps hitting them is stopped.
pub const CCCD_DUPLICATES_PER_HOUR: i64 = 10;

/// Adds a resident to a household.
pub async fn add_resident(
    db: &Db,
    p: &Principal,
    household_id: i64,
    i: &ResidentInput,
    cccd_key: Option<&str>,
) -> Result<i64, AppError> {
    // An anonymised household is refused by the store.
    granted::<may::EditHouseholds>(db, p, household_id).await?;
    let mut r = parse_resident(i, cccd_key, ngoso_store::teams::today().year())?;
    r.groups = households::group_bits(db, &i.groups).await?;
    if r.cccd.is_some() {
        let since = ngoso_store::now() - 3600;
        if ngoso_store::audit::count_since(db, p.id, "resident.cccd_duplicate", since).await?
            >= CCCD_DUPLICATES_PER_HOUR
        {
            return Err(AppError::too_many(3600));
        }
    }
    let id = match households::add_resident(db, household_id, &r, Some(p.id)).await {
        Err(ngoso_store::StoreError::Invalid(e)) if e.code == "cccd-duplicate" => {
            // Logged, and it must be: the answer says the ID is recorded somewhere.
            let ev = ngoso_store::audit::Event {
                user_id: Some(p.id),
                action: "resident.cccd_duplicate",
                object_type: "household",
                object_id: &household_id.to_string(),
                detail: "",
            };
            ngoso_store::audit::record(db, ev).await?;
            return Err(e.into());
        }
        other => other?,
    };
    log(db, p, "resident.create", "household", household_id, &id.to_string()).await;
    Ok(id)
}

/// Sets the groups a resident belongs to (by code); their figures by group follow.
pub async fn set_groups(db: &Db, p: &Principal, resident_id: i64, codes: &[String]) -> Result<(), AppError> {
    let household_id = households::household_of(db, Some(resident_id), None).await?;
    granted::<may::EditHouseholds>(db, p, household_id).await?;
    let bits = households::group_bits(db, codes).await?;
    households::set_groups(db, resident_id, bits).await?;
    log(db, p, "resident.groups", "household", household_id, &format!("{resident_id}: {}", codes.join(","))).await;
    Ok(())
}

/// Whether the principal may register and edit households at `h`.
pub fn can_edit(p: &Principal, h: &Household) -> bool {
    can(p, Action::EditHouseholds, &h.path())
}

/// Whether the principal handles consent withdrawals, deletions and corrections at `h`.
pub fn can_correct(p: &Principal, h: &Household) -> bool {
    can(p, Action::CorrectRecords, &h.path())
}

/// Corrects a subject's status (officers and administrators): to a status code of the
/// service, or back to "not started" (`status` `None`).
pub async fn correct(
    st: &AppState,
    p: &Principal,
    household_id: i64,
    service: &str,
    resident_id: Option<i64>,
    status: Option<&str>,
    reason: &str,
) -> Result<(), AppError> {
    granted::<may::CorrectRecords>(&st.db, p, household_id).await?;
    let reason = text::parse_line(reason, "reason", 1000)?.ok_or(Invalid::field("required", "reason"))?;
    let cat = st.catalog().await?;
    let s = cat
        .service_by_code(service.trim())
        .ok_or_else(|| Invalid::field("service-unknown", "service").with_detail(service.trim()))?;
    let resident = if s.is_household() {
        0
    } else {
        let r = resident_id.ok_or(Invalid::field("required", "resident_id"))?;
        let of = households::household_of(&st.db, Some(r), None)
            .await
            .map_err(|_| Invalid::field("resident-unknown", "resident_id").with_detail(r.to_string()))?;
        if of != household_id {
            return Err(Invalid::field("resident-unknown", "resident_id").with_detail(r.to_string()).into());
        }
        r
    };
    let to = match status.map(str::trim).filter(|x| !x.is_empty()) {
        Some(code) => {
            let st_ =
                cat.status(s, code).ok_or_else(|| Invalid::field("status-unknown", "status").with_detail(code))?;
            Some((st_.id, st_.rank))
        }
        None => None,
    };
    ngoso_store::visits::correct_status(&st.db, p.id, s.id, household_id, resident, to, &reason).await?;
    Ok(())
}

/// Most services a walk list may name: more than any catalogue holds, few enough that the
/// query stays small (each one is a condition of it).
pub const WALK_MAX_SERVICES: usize = 50;

/// The services of a walk list: their codes (separated by commas, repeats ignored) as ids
/// of the catalogue.
pub fn walk_services(cat: &ngoso_store::catalog::Catalog, codes: &str) -> Result<Vec<i64>, Invalid> {
    let mut ids = Vec::new();
    for code in codes.split(',').map(str::trim).filter(|c| !c.is_empty()) {
        let s =
            cat.service_by_code(code).ok_or_else(|| Invalid::field("service-unknown", "services").with_detail(code))?;
        if !ids.contains(&s.id) {
            ids.push(s.id);
        }
        if ids.len() > WALK_MAX_SERVICES {
            return Err(Invalid::field("walk-too-many-services", "services").with_detail(WALK_MAX_SERVICES.to_string()));
        }
    }
    Ok(ids)
}

/// A walk list for an area; the read is logged.
pub async fn walk_list(
    st: &AppState,
    p: &Principal,
    unit_id: i64,
    services: &str,
    limit: i64,
) -> Result<Vec<ngoso_store::walk::WalkItem>, AppError> {
    let unit = crate::units::visible(&st.db, p, unit_id).await?;
    let g = access::area::<may::ViewPersonalData>(&p.actor(), Some(&unit.unit_path()))?;
    let cat = st.catalog().await?;
    let ids = walk_services(&cat, services)?;
    // The store logs the read.
    Ok(ngoso_store::walk::list(&st.db, &g, &ids, limit.clamp(1, 100_000)).await?)
}
