//! The administrative tree: its pages under `/app/units`, its API under `/api/v1/units`,
//! and the operations both go through (authorise → parse → store → audit).

pub mod api;
pub mod dashboard;
pub mod figures;
mod pages;
pub mod restructure;

use ngoso_core::auth::Action;
use ngoso_core::text;
use ngoso_core::unit::{UnitCode, UnitKind, UnitName, UnitPath, Validity};
use ngoso_store::Db;
use ngoso_store::units::{self, NewUnit, Unit, UnitListItem};
use ngoso_store::users::Principal;

use axum::routing::get;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::auth::{ensure, ensure_visible, scope_path};
use crate::http::error::AppError;

/// The pages and API of units.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .route("/app", get(|| async { axum::response::Redirect::to("/app/units") }))
        .route("/app/units", get(pages::index))
        .route("/app/units/new", get(pages::new_form).post(pages::create))
        .route("/app/units/{id}", get(pages::show))
        .route("/app/units/{id}/edit", get(pages::edit_form).post(pages::edit))
        .route("/app/units/{id}/move", get(pages::move_form).post(pages::move_unit))
        .route("/app/units/restructure", get(restructure::page).post(restructure::submit))
        .route("/app/units/{id}/place", axum::routing::post(restructure::place_page))
        .routes(routes!(api::list, api::create))
        .routes(routes!(api::get_one, api::update))
        .routes(routes!(api::get_by_code))
        .routes(routes!(api::figures))
        .routes(routes!(api::add_successor))
        .routes(routes!(restructure::restructure))
        .routes(routes!(restructure::to_place))
        .routes(routes!(restructure::place_api))
        .routes(routes!(restructure::list))
}

/// Whether the principal may create a unit directly under `parent` (or a root when `None`).
pub fn can_create_under(p: &Principal, parent: Option<&UnitPath>) -> bool {
    ngoso_core::auth::create_unit_under(&p.actor(), parent).is_ok()
}

/// A unit the principal may see, by id.
pub async fn visible(db: &Db, p: &Principal, id: i64) -> Result<Unit, AppError> {
    let u = units::get(db, id).await?;
    ensure_visible(p, &u.unit_path())?;
    Ok(u)
}

/// A unit the principal may see, by code.
pub async fn visible_by_code(db: &Db, p: &Principal, code: &str) -> Result<Unit, AppError> {
    let u = units::by_code(db, code).await?;
    ensure_visible(p, &u.unit_path())?;
    Ok(u)
}

/// The id of a unit the principal may see, named by id or else by code (a reference in a
/// body: an unknown or unseen unit is a refused field, not a missing page).
pub async fn id_or_code(db: &Db, p: &Principal, id: Option<i64>, code: Option<&str>) -> Result<i64, AppError> {
    match (id, code.map(str::trim).filter(|c| !c.is_empty())) {
        (Some(id), _) => Ok(visible(db, p, id)
            .await
            .map_err(|_| ngoso_core::Invalid::field("unit-unknown", "unit_id").with_detail(id.to_string()))?
            .id),
        (None, Some(code)) => Ok(visible_by_code(db, p, code)
            .await
            .map_err(|_| ngoso_core::Invalid::field("unit-unknown", "unit_code").with_detail(code))?
            .id),
        (None, None) => Err(ngoso_core::Invalid::field("required", "unit_code").into()),
    }
}

/// A unit named by code in an entry of data (a value, a target, a place), where the principal
/// may enter data: an unknown or unseen unit is a refused `field`, a unit in sight but out of
/// their reach is 403.
pub async fn for_entry(db: &Db, p: &Principal, code: &str, field: &'static str) -> Result<Unit, AppError> {
    for_action(db, p, code, field, Action::EnterData).await
}

/// A unit named by its code in a request, on which the principal may do `action`: an unknown
/// code (or one out of sight) is a refused field; one in sight but not theirs is 403.
pub async fn for_action(
    db: &Db,
    p: &Principal,
    code: &str,
    field: &'static str,
    action: Action,
) -> Result<Unit, AppError> {
    let code = code.trim();
    if code.is_empty() {
        return Err(ngoso_core::Invalid::field("required", field).into());
    }
    let u = visible_by_code(db, p, code).await.map_err(|e| match e.info().code {
        "not-found" => ngoso_core::Invalid::field("unit-unknown", field).with_detail(code).into(),
        _ => e,
    })?;
    ensure(p, action, &u.unit_path())?;
    Ok(u)
}

/// The ancestors of a unit that the principal may see, root first.
pub async fn visible_ancestors(db: &Db, p: &Principal, u: &Unit) -> Result<Vec<Unit>, AppError> {
    Ok(units::ancestors(db, u).await?.into_iter().filter(|a| ensure_visible(p, &a.unit_path()).is_ok()).collect())
}

/// The top of what the principal sees: the roots, or the unit of their scope.
pub async fn top(db: &Db, p: &Principal) -> Result<Vec<UnitListItem>, AppError> {
    // Today's tree: units closed by a restructuring are reached through their successors.
    let today = ngoso_store::teams::today();
    match p.unit_id {
        None => Ok(units::children_on(db, None, today).await?),
        Some(id) => {
            let u = units::get(db, id).await?;
            let child_count = units::children_on(db, Some(id), today).await?.len() as i64;
            Ok(vec![UnitListItem { id: u.id, code: u.code, name: u.name, kind: u.kind, path: u.path, child_count }])
        }
    }
}

/// Units matching a search, inside the principal's scope.
pub async fn search(db: &Db, p: &Principal, q: &str, limit: i64) -> Result<Vec<UnitListItem>, AppError> {
    Ok(units::search(db, q, scope_path(p), limit).await?)
}

/// The fields of a new unit, as typed.
#[derive(Debug, Default, Clone, serde::Deserialize)]
pub struct UnitInput {
    #[serde(default)]
    pub code: String,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub kind: String,
    #[serde(default)]
    pub valid_from: Option<String>,
    #[serde(default)]
    pub valid_to: Option<String>,
}

/// Creates a unit under `parent_id` (or a root).
pub async fn create(db: &Db, p: &Principal, parent_id: Option<i64>, input: &UnitInput) -> Result<Unit, AppError> {
    let parent = match parent_id {
        Some(id) => Some(visible(db, p, id).await.map_err(|e| parent_error(e, id))?),
        None => None,
    };
    if !can_create_under(p, parent.as_ref().map(|u| u.unit_path()).as_ref()) {
        return Err(AppError::forbidden());
    }
    let new = NewUnit {
        code: UnitCode::parse(&input.code)?,
        name: UnitName::parse(&input.name)?,
        kind: UnitKind::parse(&input.kind)?,
        parent_id,
        validity: Validity::parse(input.valid_from.as_deref(), input.valid_to.as_deref())?,
    };
    let u = units::create(db, &new).await?;
    log(db, p, "unit.create", &u, &u.name).await;
    Ok(u)
}

/// Renames a unit (and sets its level name).
pub async fn rename(db: &Db, p: &Principal, id: i64, name: &str, kind: &str) -> Result<Unit, AppError> {
    let u = visible(db, p, id).await?;
    ensure(p, Action::ManageUnit, &u.unit_path())?;
    let name = UnitName::parse(name)?;
    let kind = UnitKind::parse(if kind.trim().is_empty() { &u.kind } else { kind })?;
    let after = units::rename(db, id, &name, &kind).await?;
    log(db, p, "unit.rename", &after, &format!("{} → {}", u.name, after.name)).await;
    Ok(after)
}

/// The day a tree is read as: `on` (`YYYY-MM-DD`) when given, else `default`.
/// The day whose tree a unit's figures of a period list the units below as: the period's
/// end (today for a period not over), so that a period before a restructuring is shown as it
/// was reported; for a unit opened since, its first day (today's tree, its households'
/// past); for a unit closed since, its last day.
pub fn period_tree_day(
    unit: &Unit,
    period: &ngoso_core::period::Period,
    today: chrono::NaiveDate,
) -> chrono::NaiveDate {
    let mut day = period.end().min(today);
    if let Some(from) = unit.valid_from
        && day < from
    {
        day = from;
    }
    if let Some(to) = unit.valid_to
        && day >= to
    {
        day = to.pred_opt().unwrap_or(to);
    }
    day
}

pub fn tree_day(on: Option<&str>, default: chrono::NaiveDate) -> Result<chrono::NaiveDate, AppError> {
    match on.map(str::trim).filter(|d| !d.is_empty()) {
        Some(d) => Ok(ngoso_core::calendar::parse_day(d, "on")?),
        None => Ok(default),
    }
}

/// Records that `successor` took over (all or part of) unit `id`; the caller must manage
/// both.
pub async fn add_successor(st: &AppState, p: &Principal, id: i64, successor: i64) -> Result<(), AppError> {
    let (old, new) = (visible(&st.db, p, id).await?, visible(&st.db, p, successor).await?);
    ensure(p, Action::ManageUnit, &old.unit_path())?;
    ensure(p, Action::ManageUnit, &new.unit_path())?;
    units::add_successor(&st.db, id, successor).await?;
    log(&st.db, p, "unit.successor", &old, &new.code).await;
    Ok(())
}

/// Moves a unit under the unit with code `parent_code` (empty: to the top).
pub async fn move_to(db: &Db, p: &Principal, id: i64, parent_code: &str) -> Result<Unit, AppError> {
    let u = visible(db, p, id).await?;
    ensure(p, Action::ManageUnit, &u.unit_path())?;
    let parent = if parent_code.trim().is_empty() {
        None
    } else {
        Some(visible_by_code(db, p, parent_code).await.map_err(|e| match e.info().code {
            "not-found" => {
                ngoso_core::Invalid::field("unit-parent-unknown", "parent_code").with_detail(parent_code.trim()).into()
            }
            _ => e,
        })?)
    };
    if !can_create_under(p, parent.as_ref().map(|x| x.unit_path()).as_ref()) {
        return Err(AppError::forbidden());
    }
    let after = units::move_to(db, id, parent.as_ref().map(|x| x.id)).await?;
    let to = parent.map(|x| x.code).unwrap_or_else(|| "—".into());
    log(db, p, "unit.move", &after, &format!("{} → {to}", u.path)).await;
    Ok(after)
}

fn parent_error(e: AppError, id: i64) -> AppError {
    if e.info().code == "not-found" {
        ngoso_core::Invalid::field("unit-parent-unknown", "parent").with_detail(id.to_string()).into()
    } else {
        e
    }
}

async fn log(db: &Db, p: &Principal, action: &str, u: &Unit, detail: &str) {
    crate::auth::audit::log(db, p, action, "unit", u.id, detail).await;
}

/// A list item with its folded name, for the filter on long lists.
#[derive(Debug, Clone)]
pub struct UnitItem {
    pub id: i64,
    pub code: String,
    pub name: String,
    pub kind: String,
    pub child_count: i64,
    pub key: String,
}

impl From<UnitListItem> for UnitItem {
    fn from(u: UnitListItem) -> Self {
        let key = text::fold(&format!("{} {}", u.name, u.code));
        Self { id: u.id, code: u.code, name: u.name, kind: u.kind, child_count: u.child_count, key }
    }
}
