//! The outreach API: the service catalogue, a unit's figures, teams, households, status
//! corrections and walk lists.

use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use ngoso_core::Invalid;
use ngoso_core::auth::{Action, Scope};
use ngoso_core::person::mask_phone;
use ngoso_store::households::{self as hstore, Consent, Resident};
use ngoso_store::teams::{self as tstore, Team};
use ngoso_store::visits::{self as vstore, SubjectStatus, VisitRow};
use ngoso_store::{catalog, walk};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::ApiJson;
use crate::AppState;
use crate::auth::{ApiUser, can_anywhere, ensure};
use crate::error::{ApiErrorBody, AppError};
use crate::figures::{self, ChildFigures, Figures};
use crate::households::{self as hops, HouseholdInput, ResidentInput};
use crate::teams::{self as tops, MemberInput};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/services", get(list_services).post(create_service))
        .route("/api/v1/services/{id}/statuses", post(add_status))
        .route("/api/v1/units/{id}/figures", get(unit_figures))
        .route("/api/v1/teams", get(list_teams).post(create_team))
        .route("/api/v1/teams/{id}", get(get_team))
        .route("/api/v1/teams/{id}/members", post(add_member))
        .route("/api/v1/households", get(list_households).post(create_household))
        .route("/api/v1/households/{id}", get(get_household))
        .route("/api/v1/households/{id}/residents", post(add_resident))
        .route("/api/v1/statuses/corrections", post(correct_status))
        .route("/api/v1/walklist", get(walklist))
}

fn english(headers: &axum::http::HeaderMap) -> bool {
    headers.get(header::ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok()).and_then(crate::i18n::Lang::from_accept_language)
        == Some(crate::i18n::Lang::En)
}

/// The service catalogue.
#[utoipa::path(get, path = "/api/v1/services", tag = "outreach", responses((status = 200, body = Vec<catalog::Service>)))]
pub async fn list_services(
    State(st): State<AppState>,
    ApiUser(_user): ApiUser,
) -> Result<Json<Vec<catalog::Service>>, AppError> {
    Ok(Json(st.catalog().await?.services.clone()))
}

/// A new service.
#[derive(Debug, Deserialize, ToSchema)]
pub struct NewService {
    pub code: String,
    pub name_vi: String,
    pub name_en: String,
    /// `household` or `person`.
    pub subject: String,
}

/// A new status, added after the service's last one.
#[derive(Debug, Deserialize, ToSchema)]
pub struct NewStatus {
    pub code: String,
    pub name_vi: String,
    pub name_en: String,
}

/// An id of something created.
#[derive(Debug, Serialize, ToSchema)]
pub struct Created {
    pub id: i64,
}

fn created(id: i64, location: String) -> Response {
    let mut res = (StatusCode::CREATED, Json(Created { id })).into_response();
    if let Ok(v) = HeaderValue::from_str(&location) {
        res.headers_mut().insert(header::LOCATION, v);
    }
    res
}

/// Add a service to the catalogue (administrators of the whole tree).
#[utoipa::path(post, path = "/api/v1/services", tag = "outreach", request_body = NewService,
    responses((status = 201, body = Created), (status = 403, body = ApiErrorBody), (status = 409, body = ApiErrorBody), (status = 422, body = ApiErrorBody)))]
pub async fn create_service(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    ApiJson(s): ApiJson<NewService>,
) -> Result<Response, AppError> {
    if !can_anywhere(&p, Action::ManageSystem) {
        return Err(AppError::forbidden());
    }
    let id = catalog::create_service(&st.db, &s.code, &s.name_vi, &s.name_en, s.subject.trim()).await?;
    st.catalog_changed().await;
    tops::log(&st.db, &p, "service.create", "service", id, &s.code).await;
    Ok(created(id, "/api/v1/services".into()))
}

/// Add a status at the end of a service's statuses.
#[utoipa::path(post, path = "/api/v1/services/{id}/statuses", tag = "outreach", params(("id" = i64, Path)), request_body = NewStatus,
    responses((status = 201, body = Created), (status = 403, body = ApiErrorBody), (status = 404, body = ApiErrorBody), (status = 409, body = ApiErrorBody)))]
pub async fn add_status(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    Path(id): Path<i64>,
    ApiJson(s): ApiJson<NewStatus>,
) -> Result<Response, AppError> {
    if !can_anywhere(&p, Action::ManageSystem) {
        return Err(AppError::forbidden());
    }
    let sid = catalog::add_status(&st.db, id, &s.code, &s.name_vi, &s.name_en).await?;
    st.catalog_changed().await;
    tops::log(&st.db, &p, "status.create", "service", id, &s.code).await;
    Ok(created(sid, "/api/v1/services".into()))
}

/// A unit's figures, with its children's side by side.
#[derive(Debug, Serialize, ToSchema)]
pub struct UnitFigures {
    pub unit_id: i64,
    pub figures: Figures,
    pub children: Vec<ChildFigures>,
    /// Service codes, in the order of `children[].reached`.
    pub services: Vec<String>,
}

/// The figures of a unit (its whole subtree), read from the roll-ups: the same cost at any
/// level of the tree.
#[utoipa::path(get, path = "/api/v1/units/{id}/figures", tag = "outreach", params(("id" = i64, Path)),
    responses((status = 200, body = UnitFigures), (status = 404, body = ApiErrorBody)))]
pub async fn unit_figures(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    headers: axum::http::HeaderMap,
    Path(id): Path<i64>,
) -> Result<Json<UnitFigures>, AppError> {
    let unit = crate::units::visible(&st.db, &p, id).await?;
    let figures = figures::of_unit(&st, unit.id, english(&headers)).await?;
    let children = ngoso_store::units::children(&st.db, Some(unit.id)).await?;
    let children = figures::of_children(&st, &children).await?;
    let services = st.catalog().await?.services.iter().map(|s| s.code.clone()).collect();
    Ok(Json(UnitFigures { unit_id: unit.id, figures, children, services }))
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct TeamQuery {
    /// Teams inside this unit (default: the caller's whole scope).
    pub unit: Option<i64>,
    /// Only teams whose size is outside the configured bounds.
    pub attention: Option<bool>,
}

/// A team as listed.
#[derive(Debug, Serialize, ToSchema)]
pub struct TeamDto {
    pub id: i64,
    pub name: String,
    pub unit_id: i64,
    pub unit_name: String,
    pub active_members: i64,
    /// `team-too-small` or `team-too-large` when the size is outside the bounds.
    pub flag: Option<&'static str>,
}

fn team_dto(st: &AppState, t: Team) -> TeamDto {
    TeamDto {
        flag: st.cfg.team_bounds.flag(t.active_members),
        id: t.id,
        name: t.name,
        unit_id: t.unit_id,
        unit_name: t.unit_name,
        active_members: t.active_members,
    }
}

/// Teams in the caller's scope (or inside one unit).
#[utoipa::path(get, path = "/api/v1/teams", tag = "outreach", params(TeamQuery), responses((status = 200, body = Vec<TeamDto>)))]
pub async fn list_teams(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    Query(q): Query<TeamQuery>,
) -> Result<Json<Vec<TeamDto>>, AppError> {
    let within = match q.unit {
        Some(id) => Some(crate::units::visible(&st.db, &p, id).await?.unit_path()),
        None => crate::auth::scope_path(&p).cloned(),
    };
    let teams = tstore::list(&st.db, within.as_ref()).await?;
    let mut out: Vec<TeamDto> = teams.into_iter().map(|t| team_dto(&st, t)).collect();
    if q.attention.unwrap_or(false) {
        out.retain(|t| t.flag.is_some());
    }
    Ok(Json(out))
}

/// A team to create.
#[derive(Debug, Deserialize, ToSchema)]
pub struct NewTeam {
    pub unit_id: Option<i64>,
    pub unit_code: Option<String>,
    pub name: String,
}

async fn unit_id_of(
    st: &AppState,
    p: &ngoso_store::users::Principal,
    id: Option<i64>,
    code: Option<&str>,
) -> Result<i64, AppError> {
    match (id, code.map(str::trim).filter(|c| !c.is_empty())) {
        (Some(id), _) => Ok(crate::units::visible(&st.db, p, id)
            .await
            .map_err(|_| Invalid::field("unit-unknown", "unit_id").with_detail(id.to_string()))?
            .id),
        (None, Some(code)) => Ok(crate::units::visible_by_code(&st.db, p, code)
            .await
            .map_err(|_| Invalid::field("unit-unknown", "unit_code").with_detail(code))?
            .id),
        (None, None) => Err(Invalid::field("required", "unit_code").into()),
    }
}

/// Create a team attached to a unit.
#[utoipa::path(post, path = "/api/v1/teams", tag = "outreach", request_body = NewTeam,
    responses((status = 201, body = Created), (status = 403, body = ApiErrorBody), (status = 422, body = ApiErrorBody)))]
pub async fn create_team(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    ApiJson(t): ApiJson<NewTeam>,
) -> Result<Response, AppError> {
    let unit = unit_id_of(&st, &p, t.unit_id, t.unit_code.as_deref()).await?;
    let id = tops::create(&st.db, &p, unit, &t.name).await?;
    Ok(created(id, format!("/api/v1/teams/{id}")))
}

/// A member as listed: the phone is masked.
#[derive(Debug, Serialize, ToSchema)]
pub struct MemberDto {
    pub id: i64,
    pub full_name: String,
    pub role: String,
    pub affiliation: String,
    pub phone_masked: Option<String>,
    pub joined_on: String,
    pub left_on: Option<String>,
    pub username: Option<String>,
}

/// A team with its members.
#[derive(Debug, Serialize, ToSchema)]
pub struct TeamDetail {
    pub team: TeamDto,
    pub members: Vec<MemberDto>,
}

/// A team and its members (phones masked).
#[utoipa::path(get, path = "/api/v1/teams/{id}", tag = "outreach", params(("id" = i64, Path)),
    responses((status = 200, body = TeamDetail), (status = 404, body = ApiErrorBody)))]
pub async fn get_team(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    Path(id): Path<i64>,
) -> Result<Json<TeamDetail>, AppError> {
    let team = tops::visible(&st.db, &p, id).await?;
    let members = tstore::members(&st.db, id).await?;
    Ok(Json(TeamDetail {
        team: team_dto(&st, team),
        members: members
            .into_iter()
            .map(|m| MemberDto {
                id: m.id,
                full_name: m.full_name,
                role: m.role,
                affiliation: m.affiliation,
                phone_masked: m.phone.as_deref().map(mask_phone),
                joined_on: m.joined_on.to_string(),
                left_on: m.left_on.map(|d| d.to_string()),
                username: m.username,
            })
            .collect(),
    }))
}

/// Add a member to a team.
#[utoipa::path(post, path = "/api/v1/teams/{id}/members", tag = "outreach", params(("id" = i64, Path)), request_body = MemberInput,
    responses((status = 201, body = Created), (status = 403, body = ApiErrorBody), (status = 404, body = ApiErrorBody), (status = 422, body = ApiErrorBody)))]
pub async fn add_member(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    Path(id): Path<i64>,
    ApiJson(m): ApiJson<MemberInput>,
) -> Result<Response, AppError> {
    let team = tops::visible(&st.db, &p, id).await?;
    let mid = tops::add_member(&st.db, &p, &team, &m).await?;
    Ok(created(mid, format!("/api/v1/teams/{id}")))
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct HouseholdQuery {
    /// Households inside this unit (default: the caller's scope).
    pub unit: Option<i64>,
    /// Name, address or code; accents optional.
    pub q: Option<String>,
    pub limit: Option<i64>,
    pub offset: Option<i64>,
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
#[utoipa::path(get, path = "/api/v1/households", tag = "outreach", params(HouseholdQuery),
    responses((status = 200, body = Vec<HouseholdItem>), (status = 403, body = ApiErrorBody)))]
pub async fn list_households(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    Query(q): Query<HouseholdQuery>,
) -> Result<Json<Vec<HouseholdItem>>, AppError> {
    let within = match q.unit {
        Some(id) => crate::units::visible(&st.db, &p, id).await?.unit_path(),
        None => match &p.scope {
            Scope::All => ngoso_core::unit::UnitPath::from_stored("/".into()),
            Scope::Subtree(path) => path.clone(),
        },
    };
    if within.as_str() != "/" {
        ensure(&p, Action::ViewPersonalData, &within)?;
    } else if !can_anywhere(&p, Action::ViewPersonalData) {
        return Err(AppError::forbidden());
    }
    let limit = q.limit.unwrap_or(100).clamp(1, 1000);
    let list =
        hstore::search(&st.db, &within, q.q.as_deref().unwrap_or(""), limit, q.offset.unwrap_or(0).max(0)).await?;
    tops::log(&st.db, &p, "household.list", "unit", q.unit.unwrap_or(0), &format!("{} rows", list.len())).await;
    Ok(Json(list.into_iter().map(household_item).collect()))
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
#[utoipa::path(post, path = "/api/v1/households", tag = "outreach", request_body = NewHousehold,
    responses((status = 201, body = Created), (status = 403, body = ApiErrorBody), (status = 409, body = ApiErrorBody), (status = 422, body = ApiErrorBody)))]
pub async fn create_household(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    ApiJson(h): ApiJson<NewHousehold>,
) -> Result<Response, AppError> {
    let unit = unit_id_of(&st, &p, h.unit_id, h.unit_code.as_deref()).await?;
    let id = hops::create(&st.db, &p, unit, &h.household).await?;
    Ok(created(id, format!("/api/v1/households/{id}")))
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
#[utoipa::path(get, path = "/api/v1/households/{id}", tag = "outreach", params(("id" = i64, Path)),
    responses((status = 200, body = HouseholdDetail), (status = 404, body = ApiErrorBody)))]
pub async fn get_household(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    Path(id): Path<i64>,
) -> Result<Json<HouseholdDetail>, AppError> {
    let h = hops::open(&st.db, &p, id).await?;
    Ok(Json(HouseholdDetail {
        residents: hstore::residents(&st.db, id).await?,
        statuses: vstore::statuses_of_household(&st.db, id).await?,
        visits: vstore::of_household(&st.db, id, 100).await?,
        consents: hstore::consents(&st.db, id).await?,
        smartphones: h.smartphones,
        household: household_item(h),
    }))
}

/// Add a resident to a household.
#[utoipa::path(post, path = "/api/v1/households/{id}/residents", tag = "outreach", params(("id" = i64, Path)), request_body = ResidentInput,
    responses((status = 201, body = Created), (status = 404, body = ApiErrorBody), (status = 409, body = ApiErrorBody), (status = 422, body = ApiErrorBody)))]
pub async fn add_resident(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    Path(id): Path<i64>,
    ApiJson(r): ApiJson<ResidentInput>,
) -> Result<Response, AppError> {
    let rid = hops::add_resident(&st.db, &p, id, &r, st.cfg.cccd_key.as_deref()).await?;
    Ok(created(rid, format!("/api/v1/households/{id}")))
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
#[utoipa::path(post, path = "/api/v1/statuses/corrections", tag = "outreach", request_body = Correction,
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
#[utoipa::path(get, path = "/api/v1/walklist", tag = "outreach", params(WalkQuery),
    responses((status = 200, body = Vec<walk::WalkItem>), (status = 404, body = ApiErrorBody)))]
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
