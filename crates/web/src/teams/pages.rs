//! Pages of teams and their members.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use ngoso_core::auth::Action;
use ngoso_core::outreach::{AFFILIATIONS, MemberRole};
use ngoso_core::person::mask_phone;
use ngoso_store::teams::{self as store, Team};
use ngoso_store::units::Unit;
use serde::Deserialize;

use crate::AppState;
use crate::auth::{PageUser, can, scope_path};
use crate::http::error::{AppError, message};
use crate::http::extract::{CsrfForm, Path, Query};
use crate::http::i18n::format_date;
use crate::http::render::{Ctx, PageCtx, render, render_status};
use crate::teams::{self as ops, MemberEdit, MemberInput};

/// A team in a list.
struct TeamRow {
    id: i64,
    name: String,
    unit_name: String,
    parent_name: Option<String>,
    active: i64,
    flag: Option<&'static str>,
}

#[derive(Template)]
#[template(path = "teams/index.html")]
struct Index {
    ctx: PageCtx,
    unit: Option<Unit>,
    teams: Vec<TeamRow>,
    attention: bool,
    can_create: bool,
    unit_query: String,
    unit_amp: String,
    q: String,
    /// The query string of this list without its page, for the page links.
    list_qs: String,
    page: u32,
    next_page: Option<u32>,
    /// How many teams the filter finds, over every page.
    found: usize,
    /// Whether the user may record a file of teams, and what the last one did or why not.
    can_import: bool,
    notice: Option<String>,
    error: Option<String>,
}

#[derive(Deserialize)]
pub struct IndexQuery {
    unit: Option<i64>,
    attention: Option<String>,
    #[serde(default)]
    q: String,
    #[serde(default)]
    page: u32,
    /// After a file: teams and members added.
    imported: Option<String>,
}

/// Teams on a page of the list.
const PAGE: usize = 50;

/// `GET /app/teams?unit=&attention=1`: the teams of an area, or those needing attention.
pub(crate) async fn index(
    State(st): State<AppState>,
    Ctx(ctx): Ctx,
    PageUser(p): PageUser,
    Query(q): Query<IndexQuery>,
) -> Result<Response, AppError> {
    let notice = q.imported.as_deref().map(|n| ctx.tr.t1("teams-imported", "count", n));
    render(&index_page(&st, ctx, &p, q, notice, None).await?)
}

async fn index_page(
    st: &AppState,
    ctx: PageCtx,
    p: &ngoso_store::users::Principal,
    q: IndexQuery,
    notice: Option<String>,
    error: Option<String>,
) -> Result<Index, AppError> {
    let unit = match q.unit {
        Some(id) => Some(crate::units::visible(&st.db, p, id).await?),
        None => None,
    };
    let within = match &unit {
        Some(u) => Some(u.unit_path()),
        None => scope_path(p).cloned(),
    };
    let attention = q.attention.is_some();
    let query = q.q.trim().to_owned();
    let mut teams: Vec<TeamRow> =
        ops::search(st.cfg.team_bounds(), store::list(&st.db, within.as_ref()).await?, &query, attention)
            .into_iter()
            .map(|(t, flag)| TeamRow {
                flag,
                id: t.id,
                name: t.name,
                unit_name: t.unit_name,
                parent_name: t.parent_name,
                active: t.active_members,
            })
            .collect();
    let found = teams.len();
    let page = q.page.min((found.saturating_sub(1) / PAGE) as u32);
    let start = page as usize * PAGE;
    let next_page = (found > start + PAGE).then_some(page + 1);
    teams = teams.into_iter().skip(start).take(PAGE).collect();
    let can_create = unit.as_ref().is_some_and(|u| can(p, Action::ManageTeams, &u.unit_path()));
    let root = ngoso_core::unit::UnitPath::from_stored("/".into());
    let can_import = can(p, Action::ManageTeams, scope_path(p).unwrap_or(&root));
    let (unit_query, unit_amp) = match &unit {
        Some(u) => (format!("?unit={}", u.id), format!("&unit={}", u.id)),
        None => (String::new(), String::new()),
    };
    let list_qs = format!(
        "q={}{}{}",
        crate::http::render::urlencode(&query),
        if attention { "&attention=1" } else { "" },
        unit_amp
    );
    Ok(Index {
        ctx,
        unit,
        teams,
        attention,
        can_create,
        unit_query,
        unit_amp,
        q: query,
        list_qs,
        page,
        next_page,
        found,
        can_import,
        notice,
        error,
    })
}

/// `POST /app/teams/import`: a CSV of teams' members, all or none; the list says how many,
/// or why the file was refused.
pub(crate) async fn import(
    State(st): State<AppState>,
    Ctx(ctx): Ctx,
    PageUser(p): PageUser,
    crate::http::extract::CsrfUpload(up): crate::http::extract::CsrfUpload,
) -> Result<Response, AppError> {
    match ops::import(&st.db, &p, up.fields.get("file")).await {
        Ok(done) => Ok(Redirect::to(&format!("/app/teams?imported={}", done.members_added)).into_response()),
        Err(e) if e.is_refusal() => {
            let msg = message(ctx.lang, e.info());
            let status = e.info().status;
            let q = IndexQuery { unit: None, attention: None, q: String::new(), page: 0, imported: None };
            render_status(status, &index_page(&st, ctx, &p, q, None, Some(msg)).await?)
        }
        Err(e) => Err(e),
    }
}

#[derive(Template)]
#[template(path = "teams/new.html")]
struct NewPage {
    ctx: PageCtx,
    unit: Unit,
    name: String,
    error: Option<String>,
}

#[derive(Deserialize)]
pub struct UnitQuery {
    unit: i64,
}

/// `GET /app/teams/new?unit=ID`.
pub(crate) async fn new_form(
    State(st): State<AppState>,
    Ctx(ctx): Ctx,
    PageUser(p): PageUser,
    Query(q): Query<UnitQuery>,
) -> Result<Response, AppError> {
    let unit = crate::units::visible(&st.db, &p, q.unit).await?;
    crate::auth::ensure(&p, Action::ManageTeams, &unit.unit_path())?;
    let name = format!("Tổ CNSCĐ {}", unit.name);
    render(&NewPage { ctx, unit, name, error: None })
}

#[derive(Deserialize)]
pub(crate) struct NameForm {
    #[serde(default)]
    name: String,
}

/// `POST /app/teams/new?unit=ID`.
pub(crate) async fn create(
    State(st): State<AppState>,
    Ctx(ctx): Ctx,
    PageUser(p): PageUser,
    Query(q): Query<UnitQuery>,
    CsrfForm(f): CsrfForm<NameForm>,
) -> Result<Response, AppError> {
    let unit = crate::units::visible(&st.db, &p, q.unit).await?;
    match ops::create(&st.db, &p, unit.id, &f.name).await {
        Ok(id) => Ok(Redirect::to(&format!("/app/teams/{id}?saved=1")).into_response()),
        Err(e) if e.info().status == StatusCode::UNPROCESSABLE_ENTITY => {
            let msg = message(ctx.lang, e.info());
            render_status(StatusCode::UNPROCESSABLE_ENTITY, &NewPage { ctx, unit, name: f.name, error: Some(msg) })
        }
        Err(e) => Err(e),
    }
}

/// A member as shown in the team's list: the phone is masked.
struct MemberRow {
    id: i64,
    full_name: String,
    username: Option<String>,
    role_key: String,
    affiliation_key: String,
    phone: String,
    joined: String,
    left: Option<String>,
}

#[derive(Default)]
struct MemberForm {
    full_name: String,
    role: String,
    affiliation: String,
    phone: String,
    joined_on: String,
    username: String,
}

#[derive(Template)]
#[template(path = "teams/show.html")]
struct Show {
    ctx: PageCtx,
    team: Team,
    flag: Option<&'static str>,
    members: Vec<MemberRow>,
    can_manage: bool,
    roles: Vec<(&'static str, String)>,
    affiliations: Vec<(&'static str, String)>,
    form: MemberForm,
    error: Option<String>,
    notice: Option<String>,
    /// Whether the user sees who is in the team (not the viewer or agency staff).
    shows_members: bool,
    /// Active members trained in the last twelve months, of all: counts only.
    trained: String,
    /// The awards given to the team, and the form to give one.
    awards: Vec<(i64, String, String, String)>,
    can_award: bool,
    award_to: (&'static str, i64),
    levels: Vec<(String, String)>,
}

async fn show_page(
    st: &AppState,
    ctx: PageCtx,
    p: &ngoso_store::users::Principal,
    id: i64,
    form: MemberForm,
    error: Option<String>,
    notice: Option<String>,
) -> Result<Show, AppError> {
    let team = ops::visible(&st.db, p, id).await?;
    let people = ops::members(&st.db, p, &team).await?;
    let (trained, active) =
        ngoso_store::programme::events::trained_share(&st.db, team.id, crate::events::year_ago()).await?;
    let trained = format!("{trained} / {active}");
    let part =
        crate::models::awards_part(st, p, &ctx.tr, ngoso_store::programme::evaluations::Recipient::Team(team.id))
            .await?;
    let shows_members = people.is_some();
    let members = people
        .unwrap_or_default()
        .into_iter()
        .map(|m| MemberRow {
            id: m.id,
            full_name: m.full_name,
            username: m.username,
            role_key: format!("member-role-{}", m.role),
            affiliation_key: format!("affiliation-{}", m.affiliation),
            phone: m.phone.as_deref().map(mask_phone).unwrap_or_default(),
            joined: format_date(&m.joined_on),
            left: m.left_on.as_ref().map(format_date),
        })
        .collect();
    let roles = MemberRole::ALL.iter().map(|r| (r.as_str(), ctx.t(&format!("member-role-{}", r.as_str())))).collect();
    let affiliations = AFFILIATIONS.iter().map(|a| (*a, ctx.t(&format!("affiliation-{a}")))).collect();
    Ok(Show {
        flag: st.cfg.team_bounds().flag(team.active_members),
        can_manage: can(p, Action::ManageTeams, &team.path()),
        shows_members,
        trained,
        awards: part.awards,
        can_award: part.can_award,
        award_to: part.award_to,
        levels: part.levels,
        team,
        members,
        roles,
        affiliations,
        form,
        error,
        notice,
        ctx,
    })
}

#[derive(Deserialize)]
pub struct Saved {
    saved: Option<String>,
}

/// `GET /app/teams/{id}`.
pub(crate) async fn show(
    State(st): State<AppState>,
    Ctx(ctx): Ctx,
    PageUser(p): PageUser,
    Path(id): Path<i64>,
    Query(q): Query<Saved>,
) -> Result<Response, AppError> {
    let notice = q.saved.map(|_| ctx.t("saved"));
    let form = MemberForm { role: "member".into(), affiliation: "volunteer".into(), ..Default::default() };
    render(&show_page(&st, ctx, &p, id, form, None, notice).await?)
}

/// `POST /app/teams/{id}/members`.
pub(crate) async fn add_member(
    State(st): State<AppState>,
    Ctx(ctx): Ctx,
    PageUser(p): PageUser,
    Path(id): Path<i64>,
    CsrfForm(input): CsrfForm<MemberInput>,
) -> Result<Response, AppError> {
    let team = ops::visible(&st.db, &p, id).await?;
    match ops::add_member(&st.db, &p, &team, &input).await {
        Ok(_) => Ok(Redirect::to(&format!("/app/teams/{id}?saved=1")).into_response()),
        Err(e) if e.info().status == StatusCode::UNPROCESSABLE_ENTITY => {
            let msg = message(ctx.lang, e.info());
            let form = MemberForm {
                full_name: input.full_name,
                role: input.role,
                affiliation: input.affiliation,
                phone: input.phone.unwrap_or_default(),
                joined_on: input.joined_on.unwrap_or_default(),
                username: input.username.unwrap_or_default(),
            };
            render_status(StatusCode::UNPROCESSABLE_ENTITY, &show_page(&st, ctx, &p, id, form, Some(msg), None).await?)
        }
        Err(e) => Err(e),
    }
}

/// `POST /app/members/{id}/left`: the member leaves today.
pub(crate) async fn member_left(
    State(st): State<AppState>,
    PageUser(p): PageUser,
    Path(id): Path<i64>,
    _: CsrfForm<serde::de::IgnoredAny>,
) -> Result<Response, AppError> {
    let m = store::membership(&st.db, id).await?;
    ops::member_left(&st.db, &p, &m, store::today()).await?;
    Ok(Redirect::to(&format!("/app/teams/{}?saved=1", m.team_id)).into_response())
}

#[derive(Template)]
#[template(path = "teams/member.html")]
struct MemberPage {
    ctx: PageCtx,
    team: Team,
    id: i64,
    name: String,
    /// (event id, title, kind, day) of the trainings and events attended.
    attended: Vec<(i64, String, String, String)>,
    /// Whether a training in the last twelve months is among them.
    trained: bool,
    /// The awards given to the member, and the form to give one.
    awards: Vec<(i64, String, String, String)>,
    can_award: bool,
    award_to: (&'static str, i64),
    levels: Vec<(String, String)>,
    /// The form to change the member, for those who manage the team.
    can_manage: bool,
    form: MemberEdit,
    roles: Vec<(&'static str, String)>,
    affiliations: Vec<(&'static str, String)>,
    error: Option<String>,
    notice: Option<String>,
}

async fn member_page(
    st: &AppState,
    ctx: PageCtx,
    p: &ngoso_store::users::Principal,
    id: i64,
    form: Option<MemberEdit>,
    error: Option<String>,
    notice: Option<String>,
) -> Result<MemberPage, AppError> {
    let (team, person) = ops::member(&st.db, p, id).await?;
    let since = crate::events::year_ago();
    let events = ngoso_store::programme::events::attended_by(&st.db, id).await?;
    let trained = events.iter().any(|e| e.kind == "training" && e.starts_on >= since);
    let attended = events
        .into_iter()
        .map(|e| (e.id, e.title, ctx.t(&format!("event-kind-{}", e.kind)), format_date(&e.starts_on)))
        .collect();
    let part =
        crate::models::awards_part(st, p, &ctx.tr, ngoso_store::programme::evaluations::Recipient::Member(id)).await?;
    let form = form.unwrap_or_else(|| MemberEdit {
        full_name: Some(person.full_name.clone()),
        role: Some(person.role.clone()),
        affiliation: Some(person.affiliation.clone()),
        phone: person.phone.clone(),
        joined_on: Some(person.joined_on.to_string()),
        left_on: person.left_on.map(|d| d.to_string()),
        username: person.username.clone(),
    });
    let roles = MemberRole::ALL.iter().map(|r| (r.as_str(), ctx.t(&format!("member-role-{}", r.as_str())))).collect();
    let affiliations = AFFILIATIONS.iter().map(|a| (*a, ctx.t(&format!("affiliation-{a}")))).collect();
    Ok(MemberPage {
        can_manage: can(p, Action::ManageTeams, &team.path()),
        id,
        name: person.full_name,
        team,
        attended,
        trained,
        awards: part.awards,
        can_award: part.can_award,
        award_to: part.award_to,
        levels: part.levels,
        form,
        roles,
        affiliations,
        error,
        notice,
        ctx,
    })
}

/// `GET /app/members/{id}`: a team member and the trainings and events they attended (for
/// those who see who is in the team; the read of the team's names is logged), with the form
/// to change them for those who manage the team.
pub(crate) async fn member(
    State(st): State<AppState>,
    Ctx(ctx): Ctx,
    PageUser(p): PageUser,
    Path(id): Path<i64>,
    Query(q): Query<Saved>,
) -> Result<Response, AppError> {
    let notice = q.saved.map(|_| ctx.t("saved"));
    render(&member_page(&st, ctx, &p, id, None, None, notice).await?)
}

/// `POST /app/members/{id}`: the member's fields changed, all or nothing.
pub(crate) async fn edit_member(
    State(st): State<AppState>,
    Ctx(ctx): Ctx,
    PageUser(p): PageUser,
    Path(id): Path<i64>,
    CsrfForm(input): CsrfForm<MemberEdit>,
) -> Result<Response, AppError> {
    match ops::edit_member(&st.db, &p, id, &input).await {
        Ok(()) => Ok(Redirect::to(&format!("/app/members/{id}?saved=1")).into_response()),
        Err(e) if e.info().status == StatusCode::UNPROCESSABLE_ENTITY => {
            let msg = message(ctx.lang, e.info());
            let page = member_page(&st, ctx, &p, id, Some(input), Some(msg), None).await?;
            render_status(StatusCode::UNPROCESSABLE_ENTITY, &page)
        }
        Err(e) => Err(e),
    }
}
