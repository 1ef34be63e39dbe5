//! `/api/v1/teams`: teams and their members.

use axum::Json;
use axum::extract::State;
use axum::response::Response;
use ngoso_core::person::mask_phone;
use ngoso_store::teams::{self as tstore, Team};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::AppState;
use crate::auth::ApiUser;
use crate::http::error::{ApiErrorBody, AppError};
use crate::http::extract::{ApiJson, Path, Query};
use crate::http::openapi::{Created, created};
use crate::teams::{self as tops, MemberEdit, MemberInput};

#[derive(Debug, Deserialize, IntoParams)]
pub struct TeamQuery {
    /// Teams inside this unit (default: the caller's whole scope).
    pub unit: Option<i64>,
    /// Only teams whose size is outside the configured bounds.
    pub attention: Option<bool>,
    /// Teams whose name or unit's name contains this (folded: `vinh loi` finds `Vĩnh Lợi`).
    pub q: Option<String>,
}

/// A team as listed.
#[derive(Debug, Serialize, ToSchema)]
pub struct TeamDto {
    pub id: i64,
    pub name: String,
    pub unit_id: i64,
    pub unit_name: String,
    /// The name of the unit above the team's (a hamlet's commune), when there is one.
    pub parent_name: Option<String>,
    pub active_members: i64,
    /// `team-too-small` or `team-too-large` when the size is outside the bounds.
    pub flag: Option<&'static str>,
}

fn team_dto(st: &AppState, t: Team) -> TeamDto {
    TeamDto {
        flag: st.cfg.team_bounds().flag(t.active_members),
        id: t.id,
        name: t.name,
        unit_id: t.unit_id,
        unit_name: t.unit_name,
        parent_name: t.parent_name,
        active_members: t.active_members,
    }
}

/// Teams in the caller's scope (or inside one unit).
#[utoipa::path(get, path = "/api/v1/teams", tag = "teams", params(TeamQuery),
    responses((status = 200, body = Vec<TeamDto>), (status = 404, description = "the unit is not in sight", body = ApiErrorBody)))]
pub async fn list(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    Query(q): Query<TeamQuery>,
) -> Result<Json<Vec<TeamDto>>, AppError> {
    let within = match q.unit {
        Some(id) => Some(crate::units::visible(&st.db, &p, id).await?.unit_path()),
        None => crate::auth::scope_path(&p).cloned(),
    };
    let teams = tstore::list(&st.db, within.as_ref()).await?;
    let found =
        tops::search(st.cfg.team_bounds(), teams, q.q.as_deref().unwrap_or_default(), q.attention.unwrap_or(false));
    Ok(Json(found.into_iter().map(|(t, _)| team_dto(&st, t)).collect()))
}

/// A team to create.
#[derive(Debug, Deserialize, ToSchema)]
pub struct NewTeam {
    pub unit_id: Option<i64>,
    pub unit_code: Option<String>,
    pub name: String,
}

/// Create a team attached to a unit.
#[utoipa::path(post, path = "/api/v1/teams", tag = "teams", request_body = NewTeam,
    responses((status = 201, body = Created), (status = 403, body = ApiErrorBody), (status = 422, body = ApiErrorBody)))]
pub async fn create(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    ApiJson(t): ApiJson<NewTeam>,
) -> Result<Response, AppError> {
    let unit = crate::units::id_or_code(&st.db, &p, t.unit_id, t.unit_code.as_deref()).await?;
    let id = tops::create(&st.db, &p, unit, &t.name).await?;
    Ok(created(id, &format!("/api/v1/teams/{id}")))
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
    /// Absent for the viewer and agency staff, who see the team's size (`team.active_members`),
    /// not who is in it. Reading them is logged.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub members: Option<Vec<MemberDto>>,
}

/// A team and its members (phones masked; names only for those who see people).
#[utoipa::path(get, path = "/api/v1/teams/{id}", tag = "teams", params(("id" = i64, Path)),
    responses((status = 200, body = TeamDetail), (status = 404, body = ApiErrorBody)))]
pub async fn get_one(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    Path(id): Path<i64>,
) -> Result<Json<TeamDetail>, AppError> {
    let team = tops::visible(&st.db, &p, id).await?;
    let members = tops::members(&st.db, &p, &team).await?;
    Ok(Json(TeamDetail {
        team: team_dto(&st, team),
        members: members.map(|list| list.into_iter().map(member_dto).collect()),
    }))
}

fn member_dto(m: tstore::Member) -> MemberDto {
    MemberDto {
        id: m.id,
        full_name: m.full_name,
        role: m.role,
        affiliation: m.affiliation,
        phone_masked: m.phone.as_deref().map(mask_phone),
        joined_on: m.joined_on.to_string(),
        left_on: m.left_on.map(|d| d.to_string()),
        username: m.username,
    }
}

/// Add a member to a team.
#[utoipa::path(post, path = "/api/v1/teams/{id}/members", tag = "teams", params(("id" = i64, Path)), request_body = MemberInput,
    responses((status = 201, body = Created), (status = 403, body = ApiErrorBody), (status = 404, body = ApiErrorBody), (status = 422, body = ApiErrorBody)))]
pub async fn add_member(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    Path(id): Path<i64>,
    ApiJson(m): ApiJson<MemberInput>,
) -> Result<Response, AppError> {
    let team = tops::visible(&st.db, &p, id).await?;
    let mid = tops::add_member(&st.db, &p, &team, &m).await?;
    Ok(created(mid, &format!("/api/v1/teams/{id}")))
}

/// A team member (phone masked), for those who see who is in the team; the read is logged.
#[utoipa::path(get, path = "/api/v1/members/{id}", tag = "teams", params(("id" = i64, Path)),
    responses((status = 200, body = MemberDto), (status = 403, body = ApiErrorBody), (status = 404, body = ApiErrorBody)))]
pub async fn get_member(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    Path(id): Path<i64>,
) -> Result<Json<MemberDto>, AppError> {
    Ok(Json(member_dto(tops::member(&st.db, &p, id).await?.1)))
}

/// Change a member's name, role, affiliation, phone, days or account: absent fields keep
/// their value, an empty `phone`, `left_on` or `username` clears it. All or nothing.
#[utoipa::path(patch, path = "/api/v1/members/{id}", tag = "teams", params(("id" = i64, Path)), request_body = MemberEdit,
    responses((status = 200, body = MemberDto), (status = 403, body = ApiErrorBody), (status = 404, body = ApiErrorBody),
              (status = 422, body = ApiErrorBody)))]
pub async fn edit_member(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    Path(id): Path<i64>,
    ApiJson(e): ApiJson<MemberEdit>,
) -> Result<Json<MemberDto>, AppError> {
    tops::edit_member(&st.db, &p, id, &e).await?;
    Ok(Json(member_dto(tops::member(&st.db, &p, id).await?.1)))
}

/// The day a member left.
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct LeftOn {
    /// `YYYY-MM-DD`, on or after the day they joined; today when absent.
    pub left_on: Option<String>,
}

/// Mark a member as having left the team (on a day, today by default).
#[utoipa::path(post, path = "/api/v1/members/{id}/left", tag = "teams", params(("id" = i64, Path)), request_body = LeftOn,
    responses((status = 200, body = MemberDto), (status = 403, body = ApiErrorBody), (status = 404, body = ApiErrorBody),
              (status = 422, body = ApiErrorBody)))]
pub async fn member_left(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    Path(id): Path<i64>,
    ApiJson(l): ApiJson<LeftOn>,
) -> Result<Json<MemberDto>, AppError> {
    let m = tstore::membership(&st.db, id).await?;
    let day = tops::parse_day(l.left_on.as_deref(), "left_on")?.unwrap_or_else(tstore::today);
    tops::member_left(&st.db, &p, &m, day).await?;
    Ok(Json(member_dto(tops::member(&st.db, &p, id).await?.1)))
}

/// Record teams and their members from a CSV file, all or nothing: one line a member —
/// `unit_code`, `team`, `full_name`, `role`, `affiliation`, and `phone`, `joined_on`,
/// `username` where known; a team is found by its unit and name (accents and spaces as
/// typed do not matter) or made. The first bad line refuses the file, named by its number.
#[utoipa::path(post, path = "/api/v1/teams/import", tag = "teams", request_body(content = String, content_type = "text/csv"),
    responses((status = 201, body = tstore::TeamsImported), (status = 403, body = ApiErrorBody), (status = 413, body = ApiErrorBody),
        (status = 422, body = ApiErrorBody)))]
pub async fn import(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    body: axum::body::Bytes,
) -> Result<Response, AppError> {
    let text = crate::http::csvfile::body_text(&body)?;
    let done = tops::import(&st.db, &p, text).await?;
    Ok(axum::response::IntoResponse::into_response((axum::http::StatusCode::CREATED, Json(done))))
}
