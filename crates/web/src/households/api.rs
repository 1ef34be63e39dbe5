//! `/api/v1/households`: households and residents, status corrections and walk lists. Every
//! read of personal data is audit-logged.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use ngoso_core::auth as access;
use ngoso_store::households::{self as hstore, Consent, Resident};
use ngoso_store::visits::{SubjectStatus, VisitRow};
use ngoso_store::walk;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::AppState;
use crate::auth::ApiUser;
use crate::households::{self as hops, HouseholdInput, ResidentInput};
use crate::http::error::{ApiErrorBody, AppError};
use crate::http::extract::{ApiJson, Path, Query};
use crate::http::openapi::{Created, created};

#[derive(Debug, Deserialize, IntoParams)]
pub struct HouseholdQuery {
    /// Households inside this unit (default: the caller's scope).
    pub unit: Option<i64>,
    /// Name, address or code; accents optional.
    pub q: Option<String>,
    pub limit: Option<i64>,
    /// Skip this many (by unit, then code). Deep offsets are slow: read an area whole with
    /// `after` instead.
    pub offset: Option<i64>,
    /// A cursor: the households after this id, in id order (the last `id` of the page before;
    /// none for the first). Each page is as quick as the first.
    pub after: Option<i64>,
}

/// A household as listed.
#[derive(Debug, Serialize, ToSchema)]
pub struct HouseholdItem {
    pub id: i64,
    pub code: String,
    pub unit_id: i64,
    pub unit_name: String,
    pub address: Option<String>,
    pub head_name: Option<String>,
    pub size: i32,
    pub barriers: Vec<String>,
    pub visit_count: i32,
    pub consent: bool,
    pub anonymized: bool,
}

fn barrier_codes(bits: i32) -> Vec<String> {
    ngoso_core::outreach::Barriers::from_bits(bits).iter().map(|b| b.as_str().to_owned()).collect()
}

fn household_item(h: hstore::Household) -> HouseholdItem {
    HouseholdItem {
        barriers: barrier_codes(h.barriers),
        anonymized: h.anonymized_at.is_some(),
        id: h.id,
        code: h.code,
        unit_id: h.unit_id,
        unit_name: h.unit_name,
        address: h.address,
        head_name: h.head_name,
        size: h.size,
        visit_count: h.visit_count,
        consent: h.consent,
    }
}

/// Households in an area; the read is logged.
#[utoipa::path(get, path = "/api/v1/households", tag = "households", params(HouseholdQuery),
    responses((status = 200, body = Vec<HouseholdItem>), (status = 403, description = "no access to personal data", body = ApiErrorBody),
        (status = 404, description = "the unit is not in sight", body = ApiErrorBody)))]
pub async fn list(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    Query(q): Query<HouseholdQuery>,
) -> Result<Json<Vec<HouseholdItem>>, AppError> {
    let unit = match q.unit {
        Some(id) => Some(crate::units::visible(&st.db, &p, id).await?.unit_path()),
        None => None,
    };
    let g = access::area::<access::may::ViewPersonalData>(&p.actor(), unit.as_ref())?;
    let limit = q.limit.unwrap_or(100).clamp(1, 1000);
    // The store logs the read.
    let page = match q.after {
        Some(after) => hstore::Page::After(after.max(0)),
        None => hstore::Page::Offset(q.offset.unwrap_or(0).max(0)),
    };
    let list = hstore::list(&st.db, &g, q.q.as_deref().unwrap_or(""), limit, page).await?;
    Ok(Json(list.into_iter().map(household_item).collect()))
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct ExportQuery {
    /// Households inside this unit (default: the caller's scope).
    pub unit: Option<i64>,
    /// The cursor: `next` of the page before (none for the first page).
    pub after: Option<i64>,
    /// Households a page, 1–1000 (500 by default).
    pub limit: Option<i64>,
}

/// A household with its residents, as the bulk read gives it.
#[derive(Debug, Serialize, ToSchema)]
pub struct ExportedHousehold {
    pub household: HouseholdItem,
    pub smartphones: i32,
    pub residents: Vec<Resident>,
}

/// A page of the bulk read.
#[derive(Debug, Serialize, ToSchema)]
pub struct ExportPage {
    pub households: Vec<ExportedHousehold>,
    /// The cursor of the next page, to send as `after`; `null` after the last.
    pub next: Option<i64>,
}

/// The households of an area with their residents, in pages that follow a cursor (each page
/// as fast as the first): an integrator reads a province's register, with the ids of the
/// codes it imported, in a few hundred requests. The read is logged.
#[utoipa::path(get, path = "/api/v1/households/export", tag = "households", params(ExportQuery),
    responses((status = 200, body = ExportPage), (status = 403, description = "no access to personal data", body = ApiErrorBody),
        (status = 404, description = "the unit is not in sight", body = ApiErrorBody)))]
pub async fn export(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    Query(q): Query<ExportQuery>,
) -> Result<Json<ExportPage>, AppError> {
    let unit = match q.unit {
        Some(id) => Some(crate::units::visible(&st.db, &p, id).await?.unit_path()),
        None => None,
    };
    let g = access::area::<access::may::ViewPersonalData>(&p.actor(), unit.as_ref())?;
    // The store logs the read.
    let page = hstore::export(&st.db, &g, q.after.unwrap_or(0), q.limit.unwrap_or(500)).await?;
    Ok(Json(ExportPage {
        households: page
            .households
            .into_iter()
            .map(|(h, residents)| ExportedHousehold {
                smartphones: h.smartphones,
                household: household_item(h),
                residents,
            })
            .collect(),
        next: page.next,
    }))
}

/// A household to register.
#[derive(Debug, Deserialize, ToSchema)]
pub struct NewHousehold {
    pub unit_id: Option<i64>,
    pub unit_code: Option<String>,
    #[serde(flatten)]
    pub household: HouseholdInput,
}

/// Register a household.
#[utoipa::path(post, path = "/api/v1/households", tag = "households", request_body = NewHousehold,
    responses((status = 201, body = Created), (status = 403, body = ApiErrorBody), (status = 409, body = ApiErrorBody), (status = 422, body = ApiErrorBody)))]
pub async fn create(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    ApiJson(h): ApiJson<NewHousehold>,
) -> Result<Response, AppError> {
    let unit = crate::units::id_or_code(&st.db, &p, h.unit_id, h.unit_code.as_deref()).await?;
    let id = hops::create(&st.db, &p, unit, &h.household).await?;
    Ok(created(id, &format!("/api/v1/households/{id}")))
}

/// A household with its residents, statuses, visits and consents.
#[derive(Debug, Serialize, ToSchema)]
pub struct HouseholdDetail {
    pub household: HouseholdItem,
    pub smartphones: i32,
    pub residents: Vec<Resident>,
    pub statuses: Vec<SubjectStatus>,
    pub visits: Vec<VisitRow>,
    pub consents: Vec<Consent>,
}

/// A household's record with personal data; the read is logged.
#[utoipa::path(get, path = "/api/v1/households/{id}", tag = "households", params(("id" = i64, Path)),
    responses((status = 200, body = HouseholdDetail), (status = 403, description = "no access to personal data", body = ApiErrorBody),
        (status = 404, body = ApiErrorBody)))]
pub async fn get_one(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    Path(id): Path<i64>,
) -> Result<Json<HouseholdDetail>, AppError> {
    // The store logs the read.
    let r = hops::open(&st.db, &p, id, 100).await?;
    Ok(Json(HouseholdDetail {
        residents: r.residents,
        statuses: r.statuses,
        visits: r.visits,
        consents: r.consents,
        smartphones: r.household.smartphones,
        household: household_item(r.household),
    }))
}

/// A household found by its code (the one it was imported or recorded with), whole as by its
/// id: for an integrator that holds the codes of its own register.
#[utoipa::path(get, path = "/api/v1/households/by-code/{code}", tag = "households", params(("code" = String, Path)),
    responses((status = 200, body = HouseholdDetail), (status = 403, description = "no access to personal data", body = ApiErrorBody),
        (status = 404, body = ApiErrorBody)))]
pub async fn by_code(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    Path(code): Path<String>,
) -> Result<Json<HouseholdDetail>, AppError> {
    let id = ngoso_store::households::id_by_code(&st.db, &code).await?;
    get_one(State(st), ApiUser(p), Path(id)).await
}

/// Add a resident to a household.
#[utoipa::path(post, path = "/api/v1/households/{id}/residents", tag = "households", params(("id" = i64, Path)), request_body = ResidentInput,
    responses((status = 201, body = Created), (status = 403, description = "may not edit households here", body = ApiErrorBody),
        (status = 404, body = ApiErrorBody), (status = 409, description = "the citizen ID is already recorded", body = ApiErrorBody), (status = 422, body = ApiErrorBody),
        (status = 429, description = "too many citizen IDs already recorded within the hour", body = ApiErrorBody)))]
pub async fn add_resident(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    Path(id): Path<i64>,
    ApiJson(r): ApiJson<ResidentInput>,
) -> Result<Response, AppError> {
    let rid = hops::add_resident(&st.db, &p, id, &r, st.cfg.cccd_key()).await?;
    Ok(created(rid, &format!("/api/v1/households/{id}")))
}

/// The groups a resident may belong to (youth-union member, social-security beneficiary,
/// person with a disability…): a person's figures are counted by each.
#[utoipa::path(get, path = "/api/v1/residentGroups", tag = "households",
    responses((status = 200, body = Vec<ngoso_store::households::ResidentGroup>), (status = 401, body = ApiErrorBody)))]
pub async fn resident_groups(
    State(st): State<AppState>,
    ApiUser(_p): ApiUser,
) -> Result<Json<Vec<ngoso_store::households::ResidentGroup>>, AppError> {
    Ok(Json(ngoso_store::households::groups(&st.db).await?))
}

/// Add a group residents may belong to (administrators of the whole tree); its figures start
/// at nought and grow as residents are put in it. At most 62 groups.
#[utoipa::path(post, path = "/api/v1/residentGroups", tag = "households", request_body = crate::services::NewGroup,
    responses((status = 201, body = Created), (status = 403, body = ApiErrorBody),
        (status = 409, body = ApiErrorBody), (status = 422, body = ApiErrorBody)))]
pub async fn create_resident_group(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    ApiJson(g): ApiJson<crate::services::NewGroup>,
) -> Result<Response, AppError> {
    let id = crate::services::add_group(&st, &p, &g).await?;
    Ok(created(id, "/api/v1/residentGroups"))
}

/// The groups a resident belongs to, by code.
#[derive(Debug, Deserialize, ToSchema)]
pub struct GroupsInput {
    pub groups: Vec<String>,
}

/// Set the groups a resident belongs to (all of them: a group left out is left); the
/// figures by group follow at once.
#[utoipa::path(put, path = "/api/v1/residents/{id}/groups", tag = "households", params(("id" = i64, Path)), request_body = GroupsInput,
    responses((status = 204), (status = 403, body = ApiErrorBody), (status = 404, body = ApiErrorBody), (status = 422, body = ApiErrorBody)))]
pub async fn set_resident_groups(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    Path(id): Path<i64>,
    ApiJson(g): ApiJson<GroupsInput>,
) -> Result<axum::http::StatusCode, AppError> {
    hops::set_groups(&st.db, &p, id, &g.groups).await?;
    Ok(axum::http::StatusCode::NO_CONTENT)
}

/// A deletion request for one resident: their personal data goes, the counts stay (as for a
/// household's).
#[utoipa::path(delete, path = "/api/v1/residents/{id}", tag = "households", params(("id" = i64, Path)),
    responses((status = 204), (status = 403, body = ApiErrorBody), (status = 404, body = ApiErrorBody)))]
pub async fn anonymize_resident(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    Path(id): Path<i64>,
) -> Result<axum::http::StatusCode, AppError> {
    hops::anonymize_resident(&st.db, &p, id).await?;
    Ok(axum::http::StatusCode::NO_CONTENT)
}

/// An officer's correction of a subject's status.
#[derive(Debug, Deserialize, ToSchema)]
pub struct Correction {
    pub household_id: i64,
    /// Service code.
    pub service: String,
    /// The resident, for a person's service.
    pub resident_id: Option<i64>,
    /// The status code to set; `null` resets to "not started".
    pub status: Option<String>,
    pub reason: String,
}

/// Correct a subject's status (officers): the one way a status moves back. Logged.
#[utoipa::path(post, path = "/api/v1/statuses/corrections", tag = "households", request_body = Correction,
    responses((status = 204), (status = 403, body = ApiErrorBody), (status = 404, body = ApiErrorBody), (status = 422, body = ApiErrorBody)))]
pub async fn correct_status(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    ApiJson(c): ApiJson<Correction>,
) -> Result<Response, AppError> {
    crate::households::correct(&st, &p, c.household_id, &c.service, c.resident_id, c.status.as_deref(), &c.reason)
        .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct WalkQuery {
    /// The area.
    pub unit: i64,
    /// Service codes, comma-separated: households not yet reached for any of them.
    pub services: Option<String>,
    pub limit: Option<i64>,
}

/// A walk list: households of an area not yet reached, never visited first, then those with
/// barriers, then the longest without a visit. The read is logged.
#[utoipa::path(get, path = "/api/v1/walklist", tag = "households", params(WalkQuery),
    responses((status = 200, body = Vec<walk::WalkItem>), (status = 403, description = "no access to personal data", body = ApiErrorBody),
        (status = 404, body = ApiErrorBody), (status = 422, description = "an unknown service, or too many", body = ApiErrorBody)))]
pub async fn walklist(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    Query(q): Query<WalkQuery>,
) -> Result<Json<Vec<walk::WalkItem>>, AppError> {
    let items =
        crate::households::walk_list(&st, &p, q.unit, q.services.as_deref().unwrap_or(""), q.limit.unwrap_or(500))
            .await?;
    Ok(Json(items))
}
