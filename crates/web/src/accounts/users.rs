//! Accounts, for administrators: list, create, disable, enable, reset the password.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use ngoso_core::Invalid;
use ngoso_core::auth::{self as access, Role, Scope};
use ngoso_core::unit::UnitPath;
use ngoso_core::user::{Username, check_new_password, parse_display_name};
use ngoso_store::audit::{self, Event};
use ngoso_store::users::{self, Principal, User};
use ngoso_store::{StoreError, secrets};
use serde::Deserialize;

use crate::AppState;
use crate::auth::{PageUser, scope_path};
use crate::http::error::{AppError, message};
use crate::http::extract::{CsrfForm, Path, Query};
use crate::http::render::{Ctx, PageCtx, render, render_status};

/// A row of the list.
struct Row {
    id: i64,
    username: String,
    display_name: String,
    role_key: String,
    unit_name: Option<String>,
    disabled: bool,
    is_me: bool,
}

#[derive(Template)]
#[template(path = "accounts/users.html")]
struct List {
    ctx: PageCtx,
    users: Vec<Row>,
    notice: Option<String>,
    new_password: Option<String>,
}

fn rows(users: Vec<User>, me: i64) -> Vec<Row> {
    users
        .into_iter()
        .map(|u| Row {
            is_me: u.id == me,
            id: u.id,
            role_key: format!("role-{}", u.role),
            username: u.username,
            display_name: u.display_name,
            unit_name: u.unit_name,
            disabled: u.disabled,
        })
        .collect()
}

pub(super) fn ensure_admin(p: &Principal) -> Result<(), AppError> {
    access::anywhere::<access::may::ManageUsers>(&p.actor())?;
    Ok(())
}

/// An account's reach, from its role and the path of its unit (`None`: the whole tree).
fn reach(role: Role, unit_path: Option<UnitPath>) -> access::AccountReach {
    access::AccountReach { role, scope: unit_path.map_or(Scope::All, Scope::Subtree) }
}

#[derive(Deserialize)]
pub struct ListQuery {
    done: Option<String>,
    who: Option<String>,
}

/// `GET /app/users`: the accounts inside the administrator's scope.
pub(crate) async fn list(
    State(st): State<AppState>,
    Ctx(ctx): Ctx,
    PageUser(p): PageUser,
    Query(q): Query<ListQuery>,
) -> Result<Response, AppError> {
    ensure_admin(&p)?;
    let users = users::list(&st.db, scope_path(&p)).await?;
    let who = q.who.clone().unwrap_or_default();
    let notice = match q.done.as_deref() {
        Some("added") => Some(ctx.tr.t1("users-added", "username", &who)),
        Some("disabled") => Some(ctx.tr.t1("cli-user-disabled", "username", &who)),
        Some("enabled") => Some(ctx.tr.t1("cli-user-enabled", "username", &who)),
        Some("reset") => Some(ctx.tr.t1("cli-password-reset", "username", &who)),
        _ => None,
    };
    let rows = rows(users, p.id);
    render(&List { ctx, users: rows, notice, new_password: None })
}

#[derive(Template)]
#[template(path = "accounts/user_new.html")]
struct NewPage {
    ctx: PageCtx,
    form: NewUserForm,
    roles: Vec<(&'static str, String)>,
    error: Option<String>,
}

/// A new account, as typed on the page or sent to the API.
#[derive(Debug, Deserialize, Default, utoipa::ToSchema)]
pub struct NewUserForm {
    #[serde(default)]
    pub username: String,
    /// The name shown in the pages (default: the user name).
    #[serde(default)]
    pub display_name: String,
    /// admin, officer, team_leader, member, agency_staff or viewer.
    #[serde(default)]
    pub role: String,
    /// The code of the unit whose area the account works in (empty: the whole tree,
    /// administrators only).
    #[serde(default)]
    pub unit: String,
    /// Empty: one is generated and returned once.
    #[serde(default)]
    pub password: String,
}

fn new_page(ctx: PageCtx, form: NewUserForm, error: Option<String>) -> NewPage {
    let roles = Role::ALL.iter().map(|r| (r.as_str(), ctx.t(&format!("role-{}", r.as_str())))).collect();
    NewPage { ctx, form, roles, error }
}

/// `GET /app/users/new`.
pub(crate) async fn new_form(Ctx(ctx): Ctx, PageUser(p): PageUser) -> Result<Response, AppError> {
    ensure_admin(&p)?;
    let form = NewUserForm { role: "member".into(), ..Default::default() };
    render(&new_page(ctx, form, None))
}

/// `POST /app/users/new`.
pub(crate) async fn create(
    State(st): State<AppState>,
    Ctx(ctx): Ctx,
    PageUser(p): PageUser,
    CsrfForm(mut f): CsrfForm<NewUserForm>,
) -> Result<Response, AppError> {
    ensure_admin(&p)?;
    match create_user(&st, &p, &f).await {
        Ok((username, password)) => {
            f.password.clear();
            if let Some(pw) = password {
                // Show a generated password once, on the list, without putting it in a URL.
                let users = users::list(&st.db, scope_path(&p)).await?;
                let rows = rows(users, p.id);
                let notice = Some(ctx.tr.t1("users-added", "username", &username));
                return render(&List { ctx, users: rows, notice, new_password: Some(pw) });
            }
            Ok(Redirect::to(&format!("/app/users?done=added&who={username}")).into_response())
        }
        Err(e) if matches!(e.info().status, StatusCode::UNPROCESSABLE_ENTITY | StatusCode::CONFLICT) => {
            let msg = message(ctx.lang, e.info());
            f.password.clear();
            render_status(e.info().status, &new_page(ctx, f, Some(msg)))
        }
        Err(e) => Err(e),
    }
}

/// Creates the account; returns its user name and the generated password, if one was.
pub(super) async fn create_user(
    st: &AppState,
    p: &Principal,
    f: &NewUserForm,
) -> Result<(String, Option<String>), AppError> {
    let name = Username::parse(&f.username)?;
    let display = parse_display_name(if f.display_name.trim().is_empty() { &f.username } else { &f.display_name })?;
    let role = Role::parse(&f.role)?;
    let unit = match f.unit.trim() {
        "" if !access::account_needs_unit(role) => None,
        "" => return Err(Invalid::field("required", "unit").into()),
        code => Some(match ngoso_store::units::by_code(&st.db, code).await {
            Ok(u) if crate::auth::ensure_visible(p, &u.unit_path()).is_ok() => u,
            Ok(_) | Err(StoreError::NotFound) => {
                return Err(Invalid::field("unit-unknown", "unit").with_detail(code).into());
            }
            Err(e) => return Err(e.into()),
        }),
    };
    // A unit out of sight was refused above, as unknown: what is left is whether this reach
    // lies within the administrator's.
    access::manage_account(&p.actor(), None, &reach(role, unit.as_ref().map(|u| u.unit_path())))
        .map_err(|_| AppError::forbidden())?;
    let (password, generated) = if f.password.is_empty() {
        let pw = secrets::generate_password();
        (pw.clone(), Some(pw))
    } else {
        check_new_password(&f.password)?;
        (f.password.clone(), None)
    };
    let hash = st.passwords.hash(&password).await?;
    let id = users::create(
        &st.db,
        &users::NewUser {
            username: &name,
            display_name: &display,
            password_hash: &hash,
            role,
            unit_id: unit.as_ref().map(|u| u.id),
        },
    )
    .await?;
    log(st, p, "user.create", id, role.as_str()).await;
    Ok((name.as_str().to_owned(), generated))
}

async fn log(st: &AppState, p: &Principal, action: &str, user_id: i64, detail: &str) {
    let id = user_id.to_string();
    let ev = Event { user_id: Some(p.id), action, object_type: "user", object_id: &id, detail };
    if let Err(e) = audit::record(&st.db, ev).await {
        tracing::error!(error = %e, "could not write the audit log");
    }
}

/// The account `id`, if the principal may manage it (and it is not their own).
pub(super) async fn managed(st: &AppState, p: &Principal, id: i64) -> Result<User, AppError> {
    ensure_admin(p)?;
    let u = users::get(&st.db, id).await?;
    let role = Role::parse(&u.role)?;
    access::manage_account(&p.actor(), Some(u.id), &reach(role, u.unit_path.clone().map(UnitPath::from_stored)))?;
    Ok(u)
}

/// Disables an account (its sessions end, its tokens are revoked) or enables it again.
pub(super) async fn disable_user(st: &AppState, p: &Principal, id: i64, disabled: bool) -> Result<User, AppError> {
    let u = managed(st, p, id).await?;
    users::set_disabled(&st.db, &Username::parse(&u.username)?, disabled).await?;
    log(st, p, if disabled { "user.disable" } else { "user.enable" }, u.id, "").await;
    Ok(u)
}

/// Gives an account a new generated password (its sessions end); returns it, to show once.
pub(super) async fn new_password(st: &AppState, p: &Principal, id: i64) -> Result<(User, String), AppError> {
    let u = managed(st, p, id).await?;
    let pw = secrets::generate_password();
    users::set_password_hash(&st.db, &Username::parse(&u.username)?, &st.passwords.hash(&pw).await?).await?;
    log(st, p, "user.reset_password", u.id, "").await;
    Ok((u, pw))
}

async fn set_disabled(st: AppState, p: Principal, id: i64, disabled: bool) -> Result<Response, AppError> {
    let u = disable_user(&st, &p, id, disabled).await?;
    let done = if disabled { "disabled" } else { "enabled" };
    Ok(Redirect::to(&format!("/app/users?done={done}&who={}", u.username)).into_response())
}

/// `POST /app/users/{id}/disable`: ends the account's sessions and revokes its tokens.
pub(crate) async fn disable(
    State(st): State<AppState>,
    PageUser(p): PageUser,
    Path(id): Path<i64>,
    _: CsrfForm<serde::de::IgnoredAny>,
) -> Result<Response, AppError> {
    set_disabled(st, p, id, true).await
}

/// `POST /app/users/{id}/enable`.
pub(crate) async fn enable(
    State(st): State<AppState>,
    PageUser(p): PageUser,
    Path(id): Path<i64>,
    _: CsrfForm<serde::de::IgnoredAny>,
) -> Result<Response, AppError> {
    set_disabled(st, p, id, false).await
}

/// `POST /app/users/{id}/reset-password`: a new generated password, shown once.
pub(crate) async fn reset_password(
    State(st): State<AppState>,
    Ctx(ctx): Ctx,
    PageUser(p): PageUser,
    Path(id): Path<i64>,
    _: CsrfForm<serde::de::IgnoredAny>,
) -> Result<Response, AppError> {
    let (u, pw) = new_password(&st, &p, id).await?;
    let users = users::list(&st.db, scope_path(&p)).await?;
    let rows = rows(users, p.id);
    let notice = Some(ctx.tr.t1("cli-password-reset", "username", &u.username));
    render(&List { ctx, users: rows, notice, new_password: Some(pw) })
}
