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
        .route("/app/teams/import", post(pages::import))
        .route("/app/teams/{id}", get(pages::show))
        .route("/app/teams/{id}/members", post(pages::add_member))
        .route("/app/members/{id}", get(pages::member).post(pages::edit_member))
        .route("/app/members/{id}/left", post(pages::member_left))
        .routes(routes!(api::list, api::create))
        .routes(routes!(api::get_one))
        .routes(routes!(api::add_member))
        .routes(routes!(api::import))
        .routes(routes!(api::get_member, api::edit_member))
        .routes(routes!(api::member_left))
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

/// A member and their team, for those who see who is in it (the read is logged).
pub async fn member(db: &Db, p: &Principal, member_id: i64) -> Result<(Team, Member), AppError> {
    let membership = teams::membership(db, member_id).await?;
    let team = visible(db, p, membership.team_id).await?;
    let people = members(db, p, &team).await?.ok_or_else(AppError::forbidden)?;
    let m = people.into_iter().find(|m| m.id == member_id).ok_or_else(AppError::not_found)?;
    Ok((team, m))
}

/// A team the principal may see.
pub async fn visible(db: &Db, p: &Principal, id: i64) -> Result<Team, AppError> {
    let t = teams::get(db, id).await?;
    ensure_visible(p, &t.path())?;
    Ok(t)
}

/// The teams whose name, unit's name or the name of the unit above (a hamlet's commune)
/// contains a query (folded: "vinh loi" finds "Vĩnh Lợi"; all when it is empty), with their
/// size flag; only the flagged ones when `attention`.
pub fn search(
    bounds: ngoso_core::outreach::TeamBounds,
    teams: Vec<Team>,
    query: &str,
    attention: bool,
) -> Vec<(Team, Option<&'static str>)> {
    let key = text::fold(query);
    teams
        .into_iter()
        .filter(|t| {
            key.is_empty()
                || text::fold(&format!("{} {} {}", t.name, t.unit_name, t.parent_name.as_deref().unwrap_or_default()))
                    .contains(&key)
        })
        .map(|t| {
            let flag = bounds.flag(t.active_members);
            (t, flag)
        })
        .filter(|(_, flag)| !attention || flag.is_some())
        .collect()
}

/// Records a file of teams' members, all or nothing: teams found by their unit and name or
/// made, in units inside the caller's area, by those who manage teams there; logged.
pub async fn import(db: &Db, p: &Principal, text: &str) -> Result<teams::TeamsImported, AppError> {
    let root = ngoso_core::unit::UnitPath::from_stored("/".into());
    let within = crate::auth::scope_path(p);
    ensure(p, Action::ManageTeams, within.unwrap_or(&root))?;
    let rows = teams::read_members_csv(db, text, within).await?;
    let done = teams::import_members(db, &rows).await?;
    let what = format!("{} teams added, {} members added", done.teams_added, done.members_added);
    log(db, p, "team.import", "team", 0, &what).await;
    Ok(done)
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

/// A member's fields, checked.
struct MemberFields {
    full_name: String,
    role: &'static str,
    affiliation: &'static str,
    phone: Option<String>,
    joined_on: NaiveDate,
    user_id: Option<i64>,
}

impl MemberFields {
    fn as_new(&self) -> NewMember<'_> {
        NewMember {
            full_name: &self.full_name,
            role: self.role,
            affiliation: self.affiliation,
            phone: self.phone.as_deref(),
            joined_on: self.joined_on,
            user_id: self.user_id,
        }
    }
}

/// A `YYYY-MM-DD` day of a form field, `None` when empty.
pub(crate) fn parse_day(s: Option<&str>, field: &'static str) -> Result<Option<NaiveDate>, Invalid> {
    match s.map(str::trim).filter(|s| !s.is_empty()) {
        Some(s) => NaiveDate::parse_from_str(s, "%Y-%m-%d")
            .map(Some)
            .map_err(|_| Invalid::field("date-invalid", field).with_detail(s)),
        None => Ok(None),
    }
}

/// Checks a member's fields as typed; the account must be one in the team's area.
async fn parse_member(db: &Db, team: &Team, m: &MemberInput) -> Result<MemberFields, AppError> {
    let full_name = parse_name(&m.full_name).map_err(|e| Invalid { field: Some("full_name"), ..e })?;
    let role = MemberRole::parse(&m.role)?.as_str();
    let affiliation = parse_affiliation(&m.affiliation)?;
    let phone = match m.phone.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        Some(s) => Some(PhoneNumber::parse(s)?.as_str().to_owned()),
        None => None,
    };
    let joined_on = parse_day(m.joined_on.as_deref(), "joined_on")?.unwrap_or_else(teams::today);
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
    Ok(MemberFields { full_name, role, affiliation, phone, joined_on, user_id })
}

/// Adds a member to a team.
pub async fn add_member(db: &Db, p: &Principal, team: &Team, m: &MemberInput) -> Result<i64, AppError> {
    ensure(p, Action::ManageTeams, &team.path())?;
    let f = parse_member(db, team, m).await?;
    let id = teams::add_member(db, team.id, &f.as_new()).await?;
    log(db, p, "member.add", "team", team.id, &f.full_name).await;
    Ok(id)
}

/// The changes to a member: an absent field keeps its value; an empty phone, leaving day or
/// account clears it (an empty leaving day puts the member back in the team).
#[derive(Debug, Default, Clone, serde::Deserialize, utoipa::ToSchema)]
pub struct MemberEdit {
    pub full_name: Option<String>,
    /// leader, deputy or member.
    pub role: Option<String>,
    /// commune_official, police, youth_union, womens_union, telecom, teacher, health, volunteer or other.
    pub affiliation: Option<String>,
    pub phone: Option<String>,
    /// `YYYY-MM-DD`.
    pub joined_on: Option<String>,
    /// `YYYY-MM-DD`, on or after the day they joined.
    pub left_on: Option<String>,
    pub username: Option<String>,
}

/// Changes a member's fields, for those who manage the team; all checked before anything is
/// written. Logged as `member.edit`.
pub async fn edit_member(db: &Db, p: &Principal, member_id: i64, e: &MemberEdit) -> Result<(), AppError> {
    let (team, now) = member(db, p, member_id).await?;
    ensure(p, Action::ManageTeams, &team.path())?;
    let input = MemberInput {
        full_name: e.full_name.clone().unwrap_or(now.full_name),
        role: e.role.clone().unwrap_or(now.role),
        affiliation: e.affiliation.clone().unwrap_or(now.affiliation),
        phone: e.phone.clone().or(now.phone),
        joined_on: Some(e.joined_on.clone().unwrap_or_else(|| now.joined_on.to_string())),
        username: e.username.clone().or(now.username),
    };
    let f = parse_member(db, &team, &input).await?;
    let left_on = match &e.left_on {
        Some(s) => parse_day(Some(s), "left_on")?,
        None => now.left_on,
    };
    if left_on.is_some_and(|l| l < f.joined_on) {
        return Err(Invalid::field("member-left-before-joining", "left_on").into());
    }
    teams::update_member(db, member_id, &f.as_new(), left_on).await?;
    log(db, p, "member.edit", "team", team.id, &member_id.to_string()).await;
    Ok(())
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
