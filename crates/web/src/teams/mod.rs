//! Teams (tổ CNSCĐ) and their members: pages under `/app/teams`, the API under
//! `/api/v1/teams`, and the operations both go through.

pub mod api;
mod pages;

use chrono::NaiveDate;
use ngoso_core::auth::Action;
use ngoso_core::outreach::{MemberRole, parse_affiliation};
use ngoso_core::person::PhoneNumber;
use ngoso_core::user::Username;
use ngoso_core::{Invalid, text};
use ngoso_store::Db;
use ngoso_store::teams::{self, Member, Membership, NewMember, Team};
use ngoso_store::users::Principal;

use axum::routing::{get, post};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::auth::audit::log;

use crate::auth::{ensure, ensure_visible};
use crate::http::error::AppError;

/// The pages and API of teams.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .route("/app/teams", get(pages::index))
        .route("/app/teams/new", get(pages::new_form).post(pages::create))
        .route("/app/teams/{id}", get(pages::show))
        .route("/app/teams/{id}/members", post(pages::add_member))
        .route("/app/members/{id}", get(pages::member))
        .route("/app/members/{id}/left", post(pages::member_left))
        .routes(routes!(api::list, api::create))
        .routes(routes!(api::get_one))
        .routes(routes!(api::add_member))
}

/// A team's members, for those who may see people (the store logs the read); `None` for
/// the viewer and agency staff, who see the team's size, not who is in it.
pub async fn members(db: &Db, p: &Principal, team: &Team) -> Result<Option<Vec<Member>>, AppError> {
    let place = ngoso_core::auth::TeamPlace { id: team.id, path: team.path() };
    match ngoso_core::auth::team_members(&p.actor(), place) {
        Ok(g) => Ok(Some(teams::members(db, &g).await?)),
        Err(ngoso_core::auth::Denied::Forbidden) => Ok(None),
        Err(d) => Err(d.into()),
    }
}

/// A team the principal may see.
pub async fn visible(db: &Db, p: &Principal, id: i64) -> Result<Team, AppError> {
    let t = teams::get(db, id).await?;
    ensure_visible(p, &t.path())?;
    Ok(t)
}

/// A team's name: NFC, 1–120 characters.
pub fn parse_name(s: &str) -> Result<String, Invalid> {
    text::parse_line(s, "name", 120)?.ok_or(Invalid::field("required", "name"))
}

/// Creates a team attached to a unit.
pub async fn create(db: &Db, p: &Principal, unit_id: i64, name: &str) -> Result<i64, AppError> {
    let unit = crate::units::visible(db, p, unit_id).await?;
    ensure(p, Action::ManageTeams, &unit.unit_path())?;
    let name = parse_name(name)?;
    let id = teams::create(db, unit_id, &name).await?;
    log(db, p, "team.create", "team", id, &name).await;
    Ok(id)
}

/// The fields of a new member, as typed.
#[derive(Debug, Default, Clone, serde::Deserialize, utoipa::ToSchema)]
pub struct MemberInput {
    #[serde(default)]
    pub full_name: String,
    /// leader, deputy or member.
    #[serde(default)]
    pub role: String,
    /// commune_official, police, youth_union, womens_union, telecom, teacher, health, volunteer or other.
    #[serde(default)]
    pub affiliation: String,
    #[serde(default)]
    pub phone: Option<String>,
    /// `YYYY-MM-DD`; today when empty.
    #[serde(default)]
    pub joined_on: Option<String>,
    /// The member's user account, if they have one.
    #[serde(default)]
    pub username: Option<String>,
}

/// Adds a member to a team.
pub async fn add_member(db: &Db, p: &Principal, team: &Team, m: &MemberInput) -> Result<i64, AppError> {
    ensure(p, Action::ManageTeams, &team.path())?;
    let full_name = parse_name(&m.full_name).map_err(|e| Invalid { field: Some("full_name"), ..e })?;
    let role = MemberRole::parse(&m.role)?;
    let affiliation = parse_affiliation(&m.affiliation)?;
    let phone = match m.phone.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        Some(s) => Some(PhoneNumber::parse(s)?.as_str().to_owned()),
        None => None,
    };
    let joined_on = match m.joined_on.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        Some(s) => NaiveDate::parse_from_str(s, "%Y-%m-%d")
            .map_err(|_| Invalid::field("date-invalid", "joined_on").with_detail(s))?,
        None => teams::today(),
    };
    let user_id = match m.username.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        Some(u) => {
            let name = Username::parse(u)?;
            let found = ngoso_store::users::list(db, Some(&team.path()))
                .await?
                .into_iter()
                .find(|x| x.username == name.as_str());
            Some(found.ok_or_else(|| Invalid::field("user-unknown", "username").with_detail(u))?.id)
        }
        None => None,
    };
    let id = teams::add_member(
        db,
        team.id,
        &NewMember {
            full_name: &full_name,
            role: role.as_str(),
            affiliation,
            phone: phone.as_deref(),
            joined_on,
            user_id,
        },
    )
    .await?;
    log(db, p, "member.add", "team", team.id, &full_name).await;
    Ok(id)
}

/// Records that a member left.
pub async fn member_left(db: &Db, p: &Principal, member: &Membership, day: NaiveDate) -> Result<(), AppError> {
    let team = visible(db, p, member.team_id).await?;
    ensure(p, Action::ManageTeams, &team.path())?;
    if day < member.joined_on {
        return Err(Invalid::field("member-left-before-joining", "left_on").into());
    }
    teams::member_left(db, member.id, day).await?;
    log(db, p, "member.left", "team", team.id, &member.id.to_string()).await;
    Ok(())
}
