//! `/api/v1/units`: the administrative tree.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use ngoso_store::units::{self as store, Unit, UnitListItem};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::AppState;
use crate::auth::ApiUser;
use crate::http::error::{ApiErrorBody, AppError};
use crate::http::extract::{ApiJson, ApiLang, Path, Query};
use crate::http::i18n::Lang;
use crate::units::figures::{self, ChildFigures, OutreachFigures};
use crate::units::{self as ops, UnitInput};

/// A unit.
#[derive(Debug, Serialize, ToSchema)]
pub struct UnitDto {
    pub id: i64,
    pub code: String,
    pub name: String,
    /// The level's name: tỉnh, huyện, xã, ấp…
    pub kind: String,
    pub parent_id: Option<i64>,
    /// Materialised path of ids from the root: `/1/5/23/`.
    pub path: String,
    pub depth: i32,
    /// `YYYY-MM-DD`, inclusive.
    pub valid_from: Option<String>,
    /// `YYYY-MM-DD`, exclusive.
    pub valid_to: Option<String>,
}

impl From<Unit> for UnitDto {
    fn from(u: Unit) -> Self {
        Self {
            id: u.id,
            code: u.code,
            name: u.name,
            kind: u.kind,
            parent_id: u.parent_id,
            path: u.path,
            depth: u.depth,
            valid_from: u.valid_from.map(|d| d.to_string()),
            valid_to: u.valid_to.map(|d| d.to_string()),
        }
    }
}

/// A unit in a list.
#[derive(Debug, Serialize, ToSchema)]
pub struct UnitSummary {
    pub id: i64,
    pub code: String,
    pub name: String,
    pub kind: String,
    pub child_count: i64,
}

impl From<UnitListItem> for UnitSummary {
    fn from(u: UnitListItem) -> Self {
        Self { id: u.id, code: u.code, name: u.name, kind: u.kind, child_count: u.child_count }
    }
}

/// A reference to a unit.
#[derive(Debug, Serialize, ToSchema)]
pub struct UnitRef {
    pub id: i64,
    pub code: String,
    pub name: String,
    pub kind: String,
}

/// A list of units.
#[derive(Debug, Serialize, ToSchema)]
pub struct UnitList {
    pub units: Vec<UnitSummary>,
}

/// A unit with its surroundings.
#[derive(Debug, Serialize, ToSchema)]
pub struct UnitDetail {
    pub unit: UnitDto,
    /// Visible ancestors, root first.
    pub ancestors: Vec<UnitRef>,
    /// Children that exist today, in Vietnamese alphabetical order.
    pub children: Vec<UnitSummary>,
    /// Units in the subtree, the unit included.
    pub subtree_size: i64,
    /// Whether the unit has closed (its `valid_to` is today or before).
    pub closed: bool,
    /// The units that took over from it when it closed (one when merged, several when split).
    pub successors: Vec<UnitRef>,
    /// The units it was formed from.
    pub predecessors: Vec<UnitRef>,
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct ListQuery {
    /// Children of this unit.
    pub parent: Option<i64>,
    /// Search by name (accents optional) or code, inside the caller's scope.
    pub q: Option<String>,
    /// At most this many results of a search (default 50, at most 500).
    pub limit: Option<i64>,
    /// The children as the tree stood on this day, `YYYY-MM-DD` (default: today): units
    /// closed before it or opened after it are left out.
    pub on: Option<String>,
}

/// List units: the children of `parent`, the results of a search `q`, or the top of the
/// caller's tree.
#[utoipa::path(get, path = "/api/v1/units", tag = "units", params(ListQuery),
    responses((status = 200, body = UnitList), (status = 401, body = ApiErrorBody), (status = 404, body = ApiErrorBody),
        (status = 422, body = ApiErrorBody)))]
pub async fn list(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    Query(q): Query<ListQuery>,
) -> Result<Json<UnitList>, AppError> {
    let items = if let Some(text) = q.q.as_deref().filter(|t| !t.trim().is_empty()) {
        ops::search(&st.db, &p, text, q.limit.unwrap_or(50).clamp(1, 500)).await?
    } else if let Some(parent) = q.parent {
        ops::visible(&st.db, &p, parent).await?;
        let on = ops::tree_day(q.on.as_deref(), ngoso_store::teams::today())?;
        store::children_on(&st.db, Some(parent), on).await?
    } else {
        ops::top(&st.db, &p).await?
    };
    Ok(Json(UnitList { units: items.into_iter().map(Into::into).collect() }))
}

async fn detail(st: &AppState, p: &ngoso_store::users::Principal, unit: Unit) -> Result<UnitDetail, AppError> {
    let ancestors = ops::visible_ancestors(&st.db, p, &unit).await?;
    let today = ngoso_store::teams::today();
    let children = store::children_on(&st.db, Some(unit.id), today).await?;
    let subtree_size = store::subtree_size(&st.db, &unit.unit_path()).await?;
    let link = |u: Unit| UnitRef { id: u.id, code: u.code, name: u.name, kind: u.kind };
    let successors = store::successors(&st.db, unit.id).await?.into_iter().map(link).collect();
    let predecessors = store::predecessors(&st.db, unit.id).await?.into_iter().map(link).collect();
    Ok(UnitDetail {
        ancestors: ancestors
            .into_iter()
            .map(|a| UnitRef { id: a.id, code: a.code, name: a.name, kind: a.kind })
            .collect(),
        children: children.into_iter().map(Into::into).collect(),
        subtree_size,
        closed: unit.closed_by(today),
        successors,
        predecessors,
        unit: unit.into(),
    })
}

/// A unit by id, with its ancestors and children.
#[utoipa::path(get, path = "/api/v1/units/{id}", tag = "units", params(("id" = i64, Path)),
    responses((status = 200, body = UnitDetail), (status = 404, body = ApiErrorBody)))]
pub async fn get_one(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    Path(id): Path<i64>,
) -> Result<Json<UnitDetail>, AppError> {
    let unit = ops::visible(&st.db, &p, id).await?;
    Ok(Json(detail(&st, &p, unit).await?))
}

/// A unit by official code.
#[utoipa::path(get, path = "/api/v1/units/by-code/{code}", tag = "units", params(("code" = String, Path)),
    responses((status = 200, body = UnitDetail), (status = 404, body = ApiErrorBody)))]
pub async fn get_by_code(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    Path(code): Path<String>,
) -> Result<Json<UnitDetail>, AppError> {
    let unit = ops::visible_by_code(&st.db, &p, &code).await?;
    Ok(Json(detail(&st, &p, unit).await?))
}

/// A unit to create.
#[derive(Debug, Deserialize, ToSchema)]
pub struct CreateUnit {
    pub code: String,
    pub name: String,
    pub kind: String,
    /// The parent, by id…
    pub parent_id: Option<i64>,
    /// …or by code. Neither: a new root (administrators of the whole tree only).
    pub parent_code: Option<String>,
    /// `YYYY-MM-DD`.
    pub valid_from: Option<String>,
    /// `YYYY-MM-DD`, after `valid_from`.
    pub valid_to: Option<String>,
}

/// Create a unit.
#[utoipa::path(post, path = "/api/v1/units", tag = "units", request_body = CreateUnit,
    responses((status = 201, body = UnitDto), (status = 403, body = ApiErrorBody), (status = 409, body = ApiErrorBody),
              (status = 422, body = ApiErrorBody)))]
pub async fn create(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    ApiJson(req): ApiJson<CreateUnit>,
) -> Result<Response, AppError> {
    let parent_id = match (req.parent_id, req.parent_code.as_deref().map(str::trim).filter(|c| !c.is_empty())) {
        (Some(id), _) => Some(id),
        (None, Some(code)) => Some(
            ops::visible_by_code(&st.db, &p, code)
                .await
                .map_err(|_| ngoso_core::Invalid::field("unit-parent-unknown", "parent_code").with_detail(code))?
                .id,
        ),
        (None, None) => None,
    };
    let input = UnitInput {
        code: req.code,
        name: req.name,
        kind: req.kind,
        valid_from: req.valid_from,
        valid_to: req.valid_to,
    };
    let u = ops::create(&st.db, &p, parent_id, &input).await?;
    let mut res = (StatusCode::CREATED, Json(UnitDto::from(u.clone()))).into_response();
    if let Ok(v) = HeaderValue::from_str(&format!("/api/v1/units/{}", u.id)) {
        res.headers_mut().insert(header::LOCATION, v);
    }
    Ok(res)
}

/// Changes to a unit: any of the fields.
#[derive(Debug, Deserialize, ToSchema)]
pub struct UpdateUnit {
    pub name: Option<String>,
    pub kind: Option<String>,
    /// Move the unit (with its subtree) under the unit with this code; `""` moves it to the top.
    pub parent_code: Option<String>,
}

/// Rename or move a unit.
#[utoipa::path(patch, path = "/api/v1/units/{id}", tag = "units", params(("id" = i64, Path)), request_body = UpdateUnit,
    responses((status = 200, body = UnitDto), (status = 403, body = ApiErrorBody), (status = 404, body = ApiErrorBody),
              (status = 422, body = ApiErrorBody)))]
pub async fn update(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    Path(id): Path<i64>,
    ApiJson(req): ApiJson<UpdateUnit>,
) -> Result<Json<UnitDto>, AppError> {
    let mut unit = ops::visible(&st.db, &p, id).await?;
    crate::auth::ensure(&p, ngoso_core::auth::Action::ManageUnit, &unit.unit_path())?;
    // Check every field before changing anything.
    if let Some(n) = &req.name {
        ngoso_core::unit::UnitName::parse(n)?;
    }
    if let Some(k) = &req.kind {
        ngoso_core::unit::UnitKind::parse(k)?;
    }
    if req.name.is_some() || req.kind.is_some() {
        let name = req.name.clone().unwrap_or_else(|| unit.name.clone());
        let kind = req.kind.clone().unwrap_or_else(|| unit.kind.clone());
        if req.parent_code.is_some() {
            // Refuse a bad move before renaming.
            check_move(&st, &p, &unit, req.parent_code.as_deref().unwrap_or_default()).await?;
        }
        unit = ops::rename(&st.db, &p, id, &name, &kind).await?;
    }
    if let Some(code) = &req.parent_code {
        unit = ops::move_to(&st.db, &p, id, code).await?;
    }
    Ok(Json(unit.into()))
}

/// Checks a move without doing it.
async fn check_move(
    st: &AppState,
    p: &ngoso_store::users::Principal,
    unit: &Unit,
    parent_code: &str,
) -> Result<(), AppError> {
    if parent_code.trim().is_empty() {
        return if ops::can_create_under(p, None) { Ok(()) } else { Err(AppError::forbidden()) };
    }
    let parent = ops::visible_by_code(&st.db, p, parent_code).await.map_err(|_| {
        ngoso_core::Invalid::field("unit-parent-unknown", "parent_code").with_detail(parent_code.trim())
    })?;
    if unit.unit_path().contains(&parent.unit_path()) {
        return Err(ngoso_core::Invalid::field("unit-move-cycle", "parent").with_detail(parent.code).into());
    }
    if !ops::can_create_under(p, Some(&parent.unit_path())) {
        return Err(AppError::forbidden());
    }
    Ok(())
}

/// A unit's figures, with its children's side by side.
#[derive(Debug, Serialize, ToSchema)]
pub struct UnitFigures {
    pub unit_id: i64,
    pub figures: OutreachFigures,
    pub children: Vec<ChildFigures>,
    /// Service codes, in the order of `children[].reached`.
    pub services: Vec<String>,
    /// The residents and the people at each status of a person service, by sex, age band
    /// and group.
    pub breakdowns: Vec<figures::Breakdown>,
}

/// The figures of a unit (its whole subtree), read from the roll-ups: the same cost at any
/// level of the tree.
#[utoipa::path(get, path = "/api/v1/units/{id}/figures", tag = "units", params(("id" = i64, Path)),
    responses((status = 200, body = UnitFigures), (status = 404, body = ApiErrorBody)))]
pub async fn figures(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    ApiLang(lang): ApiLang,
    Path(id): Path<i64>,
) -> Result<Json<UnitFigures>, AppError> {
    let unit = ops::visible(&st.db, &p, id).await?;
    let figures = figures::of_unit(&st, unit.id, lang == Lang::En).await?;
    let today = ngoso_store::teams::today();
    let children = ngoso_store::units::children_on(&st.db, Some(unit.id), today).await?;
    let children = figures::of_children(&st, &children).await?;
    let services = st.catalog().await?.services.iter().map(|s| s.code.clone()).collect();
    let breakdowns = figures::breakdowns(&st, unit.id, &figures, lang == Lang::En).await?;
    Ok(Json(UnitFigures { unit_id: unit.id, figures, children, services, breakdowns }))
}

/// A unit that took over from another.
#[derive(Debug, Deserialize, ToSchema)]
pub struct SuccessorInput {
    pub successor_id: i64,
}

/// Record that a unit took over (all or part of) a closed one: both must be units the caller
/// manages; recording it again changes nothing.
#[utoipa::path(post, path = "/api/v1/units/{id}/successors", tag = "units", params(("id" = i64, Path)),
    request_body = SuccessorInput,
    responses((status = 204), (status = 403, body = ApiErrorBody), (status = 404, body = ApiErrorBody),
        (status = 422, body = ApiErrorBody)))]
pub async fn add_successor(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    Path(id): Path<i64>,
    ApiJson(input): ApiJson<SuccessorInput>,
) -> Result<axum::http::StatusCode, AppError> {
    ops::add_successor(&st, &p, id, input.successor_id).await?;
    Ok(axum::http::StatusCode::NO_CONTENT)
}
