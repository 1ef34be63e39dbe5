//! The pages of data values: the elements and the CSV import (`/app/values`), a unit's entry
//! grid for a period (`/app/units/{id}/values`) and the history of its values.

use std::collections::HashMap;

use askama::Template;
use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use ngoso_core::auth::Action;
use ngoso_core::period::{Period, PeriodKind};
use ngoso_core::values::{Element, ValueType};
use ngoso_store::units::{self, Unit};
use ngoso_store::users::Principal;
use ngoso_store::values::{self, Filter, Source, Written};
use serde::Deserialize;

use super::{NewElement, Row};
use crate::AppState;
use crate::auth::{PageUser, can, can_anywhere};
use crate::http::error::{AppError, message, message_naming_row};
use crate::http::extract::{CsrfFields, CsrfForm, CsrfUpload, Path, Query};
use crate::http::i18n::{Lang, format_datetime};
use crate::http::render::{Ctx, PageCtx, render, render_status};

struct ElementRow {
    code: String,
    name: String,
    kind: String,
}

#[derive(Template)]
#[template(path = "values/elements.html")]
struct ElementsPage {
    ctx: PageCtx,
    elements: Vec<ElementRow>,
    can_manage: bool,
    can_enter: bool,
    notice: Option<String>,
    error: Option<String>,
}

fn element_kind(ctx: &PageCtx, e: &Element) -> String {
    let english = ctx.lang == Lang::En;
    format!(
        "{} · {} · {} · {}",
        ctx.t(&format!("values-type-{}", e.value_type.as_str())),
        ctx.t(&format!("values-aggregation-{}", e.aggregation.as_str())),
        e.level.name(english),
        ctx.t(&format!("values-period-{}", e.period_kind.as_str())),
    )
}

async fn elements_page(
    st: &AppState,
    ctx: PageCtx,
    p: &Principal,
    notice: Option<String>,
    error: Option<String>,
) -> Result<ElementsPage, AppError> {
    let english = ctx.lang == Lang::En;
    let elements = super::elements(st)
        .await?
        .iter()
        .map(|e| ElementRow { code: e.code.clone(), name: e.name(english).to_owned(), kind: element_kind(&ctx, e) })
        .collect();
    Ok(ElementsPage {
        elements,
        can_manage: can_anywhere(p, Action::ManageSystem),
        can_enter: can_anywhere(p, Action::EnterData),
        notice,
        error,
        ctx,
    })
}

/// `GET /app/values`.
pub(super) async fn elements(
    State(st): State<AppState>,
    Ctx(ctx): Ctx,
    PageUser(p): PageUser,
) -> Result<Response, AppError> {
    render(&elements_page(&st, ctx, &p, None, None).await?)
}

/// `POST /app/values`: adds an element.
pub(super) async fn create_element(
    State(st): State<AppState>,
    Ctx(ctx): Ctx,
    PageUser(p): PageUser,
    CsrfForm(f): CsrfForm<NewElement>,
) -> Result<Response, AppError> {
    match super::create_element(&st, &p, &f).await {
        Ok(_) => Ok(Redirect::to("/app/values").into_response()),
        Err(e) if e.is_refusal() => {
            let msg = message(ctx.lang, e.info());
            render_status(e.info().status, &elements_page(&st, ctx, &p, None, Some(msg)).await?)
        }
        Err(e) => Err(e),
    }
}

fn summary(ctx: &PageCtx, w: &Written) -> String {
    let n = |v: u64| ctx.tr.num(&(v as i64));
    crate::http::i18n::msg(
        ctx.lang,
        "values-written",
        &[
            ("imported", &n(w.imported)),
            ("updated", &n(w.updated)),
            ("deleted", &n(w.deleted)),
            ("ignored", &n(w.ignored)),
        ],
    )
}

/// `POST /app/values/import`: a CSV file of values, all or none.
pub(super) async fn import(
    State(st): State<AppState>,
    Ctx(ctx): Ctx,
    PageUser(p): PageUser,
    CsrfUpload(up): CsrfUpload,
) -> Result<Response, AppError> {
    let file = up.fields.get("file").to_owned();
    let r = match super::parse_csv(&file) {
        Ok(rows) => super::apply(&st, &p, Source::Csv, rows).await,
        Err(e) => Err(e),
    };
    match r {
        Ok(w) => {
            let notice = summary(&ctx, &w);
            render(&elements_page(&st, ctx, &p, Some(notice), None).await?)
        }
        Err(e) if e.is_refusal() => {
            let msg = message(ctx.lang, e.info());
            render_status(e.info().status, &elements_page(&st, ctx, &p, None, Some(msg)).await?)
        }
        Err(e) => Err(e),
    }
}

struct GridRow {
    id: i64,
    code: String,
    name: String,
    money: bool,
    /// What the input shows: the stored value, or what was typed when the grid was refused.
    input: String,
    stored: Option<String>,
    updated: Option<String>,
}

#[derive(Template)]
#[template(path = "values/grid.html")]
struct Grid {
    ctx: PageCtx,
    unit: Unit,
    period: String,
    period_name: String,
    prev: String,
    next: String,
    kinds: Vec<(String, String, bool)>,
    level: String,
    rows: Vec<GridRow>,
    can_enter: bool,
    notice: Option<String>,
    error: Option<String>,
}

/// What the grid page tells besides the values: what was typed (when refused), a notice, an
/// error.
#[derive(Default)]
struct Told<'a> {
    typed: Option<&'a HashMap<String, String>>,
    notice: Option<String>,
    error: Option<String>,
}

#[derive(Deserialize, Default)]
pub struct GridQuery {
    #[serde(default)]
    period: Option<String>,
    #[serde(default)]
    saved: Option<String>,
}

/// The period asked for, or this month.
fn period_or_now(s: Option<&str>) -> Result<Period, AppError> {
    match s.map(str::trim).filter(|s| !s.is_empty()) {
        Some(s) => Ok(Period::parse(s)?),
        None => Ok(Period::of_time(PeriodKind::Monthly, ngoso_store::now())),
    }
}

async fn grid_page(
    st: &AppState,
    ctx: PageCtx,
    p: &Principal,
    unit: Unit,
    period: Period,
    told: Told<'_>,
) -> Result<Grid, AppError> {
    let Told { typed, notice, error } = told;
    let english = ctx.lang == Lang::En;
    let level = units::level(&st.db, &unit).await?;
    let all = super::elements(st).await?;
    let here: Vec<&Element> = all.iter().filter(|e| e.active && Some(e.level) == level).collect();
    let mut kinds: Vec<PeriodKind> = here.iter().map(|e| e.period_kind).collect();
    kinds.sort();
    kinds.dedup();
    let stored = values::stored(
        &st.db,
        &Filter { units: vec![unit.unit_path()], periods: vec![period], ..Default::default() },
        10_000,
    )
    .await?;
    let by_id: HashMap<i64, &values::Stored> = stored.iter().map(|s| (s.element_id, s)).collect();
    let rows = here
        .iter()
        .filter(|e| e.period_kind == period.kind())
        .map(|e| {
            let s = by_id.get(&e.id);
            let key = format!("v{}", e.id);
            GridRow {
                id: e.id,
                code: e.code.clone(),
                name: e.name(english).to_owned(),
                money: e.value_type == ValueType::Money,
                input: match typed {
                    Some(t) => t.get(&key).cloned().unwrap_or_default(),
                    None => s.map(|s| s.value.to_string()).unwrap_or_default(),
                },
                stored: s.map(|s| ctx.tr.num(&s.value)),
                updated: s.map(|s| match &s.stored_by {
                    Some(who) => format!("{} · {who}", format_datetime(s.updated_at)),
                    None => format_datetime(s.updated_at),
                }),
            }
        })
        .collect();
    let now = ngoso_store::now();
    Ok(Grid {
        can_enter: can(p, Action::EnterData, &unit.unit_path()),
        period: period.id(),
        period_name: period.name(english),
        prev: period.prev().id(),
        next: period.next().id(),
        kinds: kinds
            .into_iter()
            .map(|k| {
                let q = if k == period.kind() { period } else { Period::of_time(k, now) };
                (q.id(), ctx.t(&format!("values-period-{}", k.as_str())), k == period.kind())
            })
            .collect(),
        level: level.map(|l| l.name(english).to_owned()).unwrap_or_else(|| unit.kind.clone()),
        rows,
        notice,
        error,
        unit,
        ctx,
    })
}

/// `GET /app/units/{id}/values?period=202410`: the unit's values for a period, to read or
/// enter.
pub(super) async fn grid(
    State(st): State<AppState>,
    Ctx(ctx): Ctx,
    PageUser(p): PageUser,
    Path(id): Path<i64>,
    Query(q): Query<GridQuery>,
) -> Result<Response, AppError> {
    let unit = crate::units::visible(&st.db, &p, id).await?;
    let period = period_or_now(q.period.as_deref())?;
    let notice = q.saved.map(|_| ctx.t("saved"));
    render(&grid_page(&st, ctx, &p, unit, period, Told { notice, ..Told::default() }).await?)
}

/// `POST /app/units/{id}/values`: the grid's values (`v<element id>`), all or none. An input
/// left empty removes its value.
pub(super) async fn save_grid(
    State(st): State<AppState>,
    Ctx(ctx): Ctx,
    PageUser(p): PageUser,
    Path(id): Path<i64>,
    CsrfFields(f): CsrfFields,
) -> Result<Response, AppError> {
    let unit = crate::units::visible(&st.db, &p, id).await?;
    let period = Period::parse(f.get("period"))?;
    let all = super::elements(&st).await?;
    let typed: HashMap<String, String> = f.0.iter().filter(|(k, _)| k.starts_with('v')).cloned().collect();
    let mut rows = Vec::new();
    for (i, e) in all.iter().enumerate() {
        if let Some(v) = typed.get(&format!("v{}", e.id)) {
            rows.push(Row {
                row: i as u64 + 1,
                element: e.code.clone(),
                period: period.id(),
                unit: unit.code.clone(),
                value: Some(v.clone()),
                comment: None,
            });
        }
    }
    match super::apply(&st, &p, Source::Form, rows).await {
        Ok(_) => Ok(Redirect::to(&format!("/app/units/{id}/values?period={}&saved=1", period.id())).into_response()),
        Err(e) if e.is_refusal() => {
            // The row is the element's place in the grid; name the element instead.
            let english = ctx.lang == Lang::En;
            let msg =
                message_naming_row(ctx.lang, e.info(), |r| all.get(r as usize - 1).map(|e| e.name(english).to_owned()));
            let status = e.info().status;
            let told = Told { typed: Some(&typed), notice: None, error: Some(msg) };
            render_status(status, &grid_page(&st, ctx, &p, unit, period, told).await?)
        }
        Err(e) => Err(e),
    }
}

struct ChangeRow {
    element: String,
    before: String,
    after: String,
    who: String,
    source: String,
    at: String,
}

#[derive(Template)]
#[template(path = "values/history.html")]
struct History {
    ctx: PageCtx,
    unit: Unit,
    period: String,
    period_name: String,
    changes: Vec<ChangeRow>,
}

/// `GET /app/units/{id}/values/history?period=202410`: who changed which value, when.
pub(super) async fn history(
    State(st): State<AppState>,
    Ctx(ctx): Ctx,
    PageUser(p): PageUser,
    Path(id): Path<i64>,
    Query(q): Query<GridQuery>,
) -> Result<Response, AppError> {
    let unit = crate::units::visible(&st.db, &p, id).await?;
    let period = period_or_now(q.period.as_deref())?;
    let english = ctx.lang == Lang::En;
    let all = super::elements(&st).await?;
    let names: HashMap<i64, &str> = all.iter().map(|e| (e.id, e.name(english))).collect();
    let none = "—".to_owned();
    let changes = values::history(&st.db, id, &period, None, 500)
        .await?
        .into_iter()
        .map(|c| ChangeRow {
            element: names.get(&c.element_id).copied().unwrap_or_default().to_owned(),
            before: c.before.map(|v| ctx.tr.num(&v)).unwrap_or_else(|| none.clone()),
            after: c.after.map(|v| ctx.tr.num(&v)).unwrap_or_else(|| none.clone()),
            who: c.username.unwrap_or_default(),
            source: ctx.t(&format!("values-source-{}", c.source)),
            at: format_datetime(c.at),
        })
        .collect();
    render(&History { period: period.id(), period_name: period.name(english), changes, unit, ctx })
}
