//! Restructuring the tree (`ngoso units restructure` on a page and in the API): a mapping
//! applied on a day, the households waiting to be placed, and placing them.
//!
//! Who may: a restructuring closes and opens units, so the principal must manage every unit
//! it closes and may create units where it puts them; the store asks once its plan is made,
//! before it writes anything.

use askama::Template;
use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::NaiveDate;
use ngoso_core::auth::Action;
use ngoso_store::restructure::{self as store, Gate, Outcome, RowError, Summary, ToPlace};
use ngoso_store::users::Principal;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::AppState;
use crate::auth::{ApiUser, PageUser, can, ensure, scope_path};
use crate::http::error::{ApiErrorBody, AppError, message};
use crate::http::extract::{ApiJson, CsrfForm, CsrfUpload, Path, Query};
use crate::http::render::{Ctx, PageCtx, render, render_status};
use crate::units as ops;

/// A refused mapping: its first bad row as the error (the page lists them all).
fn refused(errors: &[RowError]) -> AppError {
    let first = errors.iter().min_by_key(|e| e.line).cloned().unwrap_or(RowError {
        line: 1,
        key: "restructure-file-columns",
        detail: String::new(),
    });
    AppError::from(ngoso_core::Invalid::field(first.key, "mapping").with_detail(first.detail)).at_row(first.line as u64)
}

fn parse_day(s: &str) -> Result<NaiveDate, AppError> {
    NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d")
        .map_err(|_| ngoso_core::Invalid::field("date-invalid", "on").with_detail(s.trim()).into())
}

/// Applies a mapping as the principal, in one run: the store asks, before it writes, whether
/// the principal manages every unit the run closes and may create units under every unit it
/// puts units under. Refused rows, or what was done (or would be).
pub async fn run(
    st: &AppState,
    p: &Principal,
    bytes: &[u8],
    day: NaiveDate,
    dry_run: bool,
) -> Result<Result<Summary, Vec<RowError>>, AppError> {
    let rows = match store::read_mapping(bytes) {
        Ok(r) => r,
        Err(errors) => return Ok(Err(errors)),
    };
    let allow = |g: Gate<'_>| match g {
        Gate::Close(path) => can(p, Action::ManageUnit, path),
        Gate::Under(parent) => ops::can_create_under(p, parent),
    };
    let done = match store::restructure_as(&st.db, &rows, day, dry_run, Some(p.id), &allow).await? {
        Outcome::Refused(errors) => return Ok(Err(errors)),
        Outcome::NotAllowed => return Err(AppError::forbidden()),
        Outcome::Done(s) => s,
    };
    if !dry_run && !done.already_applied {
        let detail = format!(
            "{day}: {} closed, {} opened, {} households",
            done.closed.len(),
            done.opened.len(),
            done.households_moved
        );
        let unit = done.opened.first().map(|u| u.id).unwrap_or(0);
        crate::auth::audit::log(&st.db, p, "unit.restructure", "unit", unit, &detail).await;
    }
    Ok(Ok(done))
}

/// Places a closed unit's waiting households under `parent` (a successor, or a unit below one).
pub async fn place(st: &AppState, p: &Principal, id: i64, parent: i64) -> Result<Summary, AppError> {
    let unit = ops::visible(&st.db, p, id).await?;
    ensure(p, Action::ManageUnit, &unit.unit_path())?;
    let target = ops::visible(&st.db, p, parent)
        .await
        .map_err(|_| ngoso_core::Invalid::field("unit-parent-unknown", "parent_id").with_detail(parent.to_string()))?;
    ensure(p, Action::ManageUnit, &target.unit_path())?;
    let s = store::place(&st.db, id, parent, Some(p.id)).await?;
    crate::auth::audit::log(&st.db, p, "unit.place", "unit", id, &format!("→ {}", target.code)).await;
    Ok(s)
}

/// The waiting households the principal may see.
pub async fn waiting(st: &AppState, p: &Principal) -> Result<Vec<ToPlace>, AppError> {
    Ok(store::to_place(&st.db, scope_path(p)).await?)
}

// ---- API ----

#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
pub struct RestructureQuery {
    /// The first day of the new tree (`YYYY-MM-DD`, the first of a month).
    pub on: String,
    /// Say what would happen; write nothing.
    #[serde(default)]
    pub dry_run: bool,
}

/// Applies a mapping of old unit codes to new ones (a CSV body: `old_code,new_code` and, for
/// units to open, `new_name,new_kind,new_parent_code`) on a day, in one transaction. Refused
/// whole on any bad row (the first is named with its row); applying it again changes nothing.
#[utoipa::path(post, path = "/api/v1/units/restructure", tag = "units", params(RestructureQuery),
    request_body(content((String = "text/csv"))),
    responses((status = 200, body = Summary), (status = 400, body = ApiErrorBody), (status = 403, body = ApiErrorBody),
        (status = 415, body = ApiErrorBody), (status = 422, body = ApiErrorBody)))]
pub async fn restructure(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    Query(q): Query<RestructureQuery>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Summary>, AppError> {
    let ct = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or_default().to_ascii_lowercase();
    if !(ct.starts_with("text/csv") || ct.starts_with("application/csv")) {
        return Err(AppError::new(StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported-media-type"));
    }
    let day = parse_day(&q.on)?;
    match run(&st, &p, &body, day, q.dry_run).await? {
        Ok(s) => Ok(Json(s)),
        Err(errors) => Err(refused(&errors)),
    }
}

/// Households waiting to be placed after a restructuring, by the closed unit they are in,
/// with the units they may go to.
#[utoipa::path(get, path = "/api/v1/units/toPlace", tag = "units",
    responses((status = 200, body = Vec<ToPlace>), (status = 403, body = ApiErrorBody)))]
pub async fn to_place(State(st): State<AppState>, ApiUser(p): ApiUser) -> Result<Json<Vec<ToPlace>>, AppError> {
    Ok(Json(waiting(&st, &p).await?))
}

/// Where a closed unit's waiting households go.
#[derive(Debug, Deserialize, ToSchema)]
pub struct PlacementInput {
    /// A successor of the closed unit (or of the unit it lay in), or a unit below one.
    pub parent_id: i64,
}

/// Places the waiting households of a closed unit: a hamlet is made again under the unit
/// given, with its households; the households on a split unit itself move to it.
#[utoipa::path(post, path = "/api/v1/units/{id}/place", tag = "units", params(("id" = i64, Path)),
    request_body = PlacementInput,
    responses((status = 200, body = Summary), (status = 400, body = ApiErrorBody), (status = 403, body = ApiErrorBody),
        (status = 404, body = ApiErrorBody), (status = 422, body = ApiErrorBody)))]
pub async fn place_api(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    Path(id): Path<i64>,
    ApiJson(input): ApiJson<PlacementInput>,
) -> Result<Json<Summary>, AppError> {
    Ok(Json(place(&st, &p, id, input.parent_id).await?))
}

/// A restructuring applied, as the API shows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct RestructuringView {
    pub id: i64,
    pub effective: NaiveDate,
    pub digest: String,
    pub summary: serde_json::Value,
    pub created_at: i64,
}

/// The restructurings applied (and placements made), the latest first.
#[utoipa::path(get, path = "/api/v1/units/restructurings", tag = "units",
    responses((status = 200, body = Vec<RestructuringView>), (status = 403, body = ApiErrorBody)))]
pub async fn list(State(st): State<AppState>, ApiUser(p): ApiUser) -> Result<Json<Vec<RestructuringView>>, AppError> {
    if scope_path(&p).is_some() {
        // The record names units across the country: a national view.
        return Err(AppError::forbidden());
    }
    Ok(Json(
        store::list(&st.db)
            .await?
            .into_iter()
            .map(|r| RestructuringView {
                id: r.id,
                effective: r.effective,
                digest: r.digest,
                summary: serde_json::from_str(&r.summary).unwrap_or_default(),
                created_at: r.created_at,
            })
            .collect(),
    ))
}

// ---- Pages ----

#[derive(Template)]
#[template(path = "units/restructure.html")]
struct RestructurePage {
    ctx: PageCtx,
    on: String,
    errors: Vec<String>,
    summary: Option<Summary>,
    dry_run: bool,
    waiting: Vec<ToPlace>,
}

impl RestructurePage {
    fn waiting_total(&self) -> i64 {
        self.waiting.iter().map(|w| w.households).sum()
    }
}

/// `GET /app/units/restructure`.
pub(crate) async fn page(
    State(st): State<AppState>,
    Ctx(ctx): Ctx,
    PageUser(p): PageUser,
) -> Result<Response, AppError> {
    ensure_restructurer(&p)?;
    let waiting = waiting(&st, &p).await?;
    render(&RestructurePage { ctx, on: "2025-07-01".into(), errors: vec![], summary: None, dry_run: true, waiting })
}

fn ensure_restructurer(p: &Principal) -> Result<(), AppError> {
    let path = scope_path(p).cloned().unwrap_or_else(|| ngoso_core::unit::UnitPath::from_stored("/".into()));
    ensure(p, Action::ManageUnit, &path)
}

/// `POST /app/units/restructure`: a mapping file, a day, a dry run or not.
pub(crate) async fn submit(
    State(st): State<AppState>,
    Ctx(ctx): Ctx,
    PageUser(p): PageUser,
    CsrfUpload(up): CsrfUpload,
) -> Result<Response, AppError> {
    ensure_restructurer(&p)?;
    let on = up.fields.get("on").trim().to_owned();
    let dry_run = !up.fields.get("dry_run").is_empty();
    let mapping = up.fields.get("mapping").to_owned();
    let lang = ctx.lang;
    let outcome = match parse_day(&on) {
        Ok(day) => run(&st, &p, mapping.as_bytes(), day, dry_run).await.map(|r| {
            r.map_err(|errors| {
                errors
                    .iter()
                    .map(|e| {
                        let info = AppError::from(ngoso_core::Invalid::new(e.key).with_detail(e.detail.clone()))
                            .at_row(e.line as u64);
                        message(lang, info.info())
                    })
                    .collect::<Vec<_>>()
            })
        }),
        Err(e) => Ok(Err(vec![message(lang, e.info())])),
    };
    let waiting = waiting(&st, &p).await?;
    match outcome? {
        Ok(summary) => render(&RestructurePage { ctx, on, errors: vec![], summary: Some(summary), dry_run, waiting }),
        Err(errors) => render_status(
            StatusCode::UNPROCESSABLE_ENTITY,
            &RestructurePage { ctx, on, errors, summary: None, dry_run, waiting },
        ),
    }
}

#[derive(Deserialize, Default)]
pub struct PlaceForm {
    #[serde(default)]
    parent_id: i64,
}

/// `POST /app/units/{id}/place`: from the list of households waiting.
pub(crate) async fn place_page(
    State(st): State<AppState>,
    Ctx(ctx): Ctx,
    PageUser(p): PageUser,
    Path(id): Path<i64>,
    CsrfForm(f): CsrfForm<PlaceForm>,
) -> Result<Response, AppError> {
    match place(&st, &p, id, f.parent_id).await {
        Ok(_) => Ok(Redirect::to("/app/units/restructure?placed=1").into_response()),
        Err(e) if e.info().status.is_client_error() && e.info().status != StatusCode::FORBIDDEN => {
            let waiting = waiting(&st, &p).await?;
            let msg = message(ctx.lang, e.info());
            render_status(
                e.info().status,
                &RestructurePage {
                    ctx,
                    on: "2025-07-01".into(),
                    errors: vec![msg],
                    summary: None,
                    dry_run: true,
                    waiting,
                },
            )
        }
        Err(e) => Err(e),
    }
}
