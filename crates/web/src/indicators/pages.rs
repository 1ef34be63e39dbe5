//! The indicators page and the targets form of a unit.

use askama::Template;
use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use ngoso_core::auth::Action;
use ngoso_store::indicators;
use ngoso_store::units::Unit;
use ngoso_store::users::Principal;
use serde::Deserialize;

use super::{IndicatorInput, TargetInput};
use crate::AppState;
use crate::auth::{PageUser, can_anywhere};
use crate::http::error::{AppError, message, message_naming_row};
use crate::http::extract::{CsrfFields, CsrfForm, Path, Query};
use crate::http::i18n::Lang;
use crate::http::render::{Ctx, PageCtx, render, render_status};

struct Row {
    code: String,
    name: String,
    formula: String,
}

#[derive(Template)]
#[template(path = "indicators/index.html")]
struct Index {
    ctx: PageCtx,
    rows: Vec<Row>,
    can_manage: bool,
    /// The report's sections: (code, name).
    sections: Vec<(&'static str, String)>,
    error: Option<String>,
}

async fn index_page(st: &AppState, ctx: PageCtx, p: &Principal, error: Option<String>) -> Result<Index, AppError> {
    let english = ctx.lang == Lang::En;
    let rows = indicators::list(&st.db)
        .await?
        .into_iter()
        .map(|i| Row {
            formula: match &i.denominator {
                Some(d) => format!("({}) ÷ ({})", i.numerator, d),
                None => i.numerator.to_string(),
            },
            name: i.name(english).to_owned(),
            code: i.code,
        })
        .collect();
    let sections = ngoso_core::indicator::Section::ALL
        .iter()
        .map(|s| (s.as_str(), ctx.tr.t(&format!("report-section-{}", s.as_str()))))
        .collect();
    Ok(Index { rows, can_manage: can_anywhere(p, Action::ManageSystem), sections, error, ctx })
}

/// `GET /app/indicators`.
pub(super) async fn index(
    State(st): State<AppState>,
    Ctx(ctx): Ctx,
    PageUser(p): PageUser,
) -> Result<Response, AppError> {
    render(&index_page(&st, ctx, &p, None).await?)
}

/// `POST /app/indicators`.
pub(super) async fn create(
    State(st): State<AppState>,
    Ctx(ctx): Ctx,
    PageUser(p): PageUser,
    CsrfForm(f): CsrfForm<IndicatorInput>,
) -> Result<Response, AppError> {
    match super::create(&st, &p, &f).await {
        Ok(_) => Ok(Redirect::to("/app/indicators").into_response()),
        Err(e) if e.is_refusal() => {
            let msg = message(ctx.lang, e.info());
            render_status(e.info().status, &index_page(&st, ctx, &p, Some(msg)).await?)
        }
        Err(e) => Err(e),
    }
}

struct TargetRow {
    code: String,
    name: String,
    percent: bool,
    input: String,
}

#[derive(Template)]
#[template(path = "indicators/targets.html")]
struct TargetsPage {
    ctx: PageCtx,
    unit: Unit,
    period: String,
    period_name: String,
    rows: Vec<TargetRow>,
    error: Option<String>,
}

#[derive(Deserialize, Default)]
pub struct PeriodQuery {
    #[serde(default)]
    period: Option<String>,
}

async fn targets_page(
    st: &AppState,
    ctx: PageCtx,
    unit: Unit,
    period: ngoso_core::period::Period,
    typed: Option<&CsrfFields>,
    error: Option<String>,
) -> Result<TargetsPage, AppError> {
    let english = ctx.lang == Lang::En;
    let set = indicators::targets(&st.db, unit.id, &period).await?;
    let rows = indicators::list(&st.db)
        .await?
        .into_iter()
        .filter(|i| i.active)
        .map(|i| {
            let percent = i.kind == ngoso_core::indicator::IndicatorKind::Percent;
            let input = match typed {
                Some(f) => f.0.get(&format!("t_{}", i.code)).to_owned(),
                None => set
                    .get(&i.id)
                    .map(|t| if percent { format!("{}", *t as f64 / 100.0) } else { t.to_string() })
                    .unwrap_or_default(),
            };
            TargetRow { name: i.name(english).to_owned(), code: i.code, percent, input }
        })
        .collect();
    Ok(TargetsPage { period: period.id(), period_name: period.name(english), rows, error, unit, ctx })
}

/// `GET /app/units/{id}/targets?period=2024`.
pub(super) async fn targets_form(
    State(st): State<AppState>,
    Ctx(ctx): Ctx,
    PageUser(p): PageUser,
    Path(id): Path<i64>,
    Query(q): Query<PeriodQuery>,
) -> Result<Response, AppError> {
    let unit = crate::units::visible(&st.db, &p, id).await?;
    crate::auth::ensure(&p, Action::EnterData, &unit.unit_path())?;
    let period = super::period_or_this_year(q.period.as_deref())?;
    render(&targets_page(&st, ctx, unit, period, None, None).await?)
}

/// `POST /app/units/{id}/targets`: every indicator's target (`t_<code>`), all or none.
pub(super) async fn save_targets(
    State(st): State<AppState>,
    Ctx(ctx): Ctx,
    PageUser(p): PageUser,
    Path(id): Path<i64>,
    CsrfFields(f): CsrfFields,
) -> Result<Response, AppError> {
    let unit = crate::units::visible(&st.db, &p, id).await?;
    let period = ngoso_core::period::Period::parse(f.get("period"))?;
    let inputs: Vec<TargetInput> =
        f.0.iter()
            .filter_map(|(k, v)| {
                k.strip_prefix("t_").map(|code| TargetInput {
                    indicator: code.to_owned(),
                    org_unit: unit.code.clone(),
                    period: period.id(),
                    target: Some(serde_json::Value::String(v.clone())),
                })
            })
            .collect();
    let names: Vec<String> = inputs.iter().map(|t| t.indicator.clone()).collect();
    match super::set_targets(&st, &p, inputs).await {
        Ok(_) => Ok(Redirect::to(&format!("/app/units/{id}?period={}&saved=1", period.id())).into_response()),
        Err(e) if e.is_refusal() => {
            let msg = message_naming_row(ctx.lang, e.info(), |r| names.get(r as usize - 1).cloned());
            let status = e.info().status;
            render_status(status, &targets_page(&st, ctx, unit, period, Some(&CsrfFields(f)), Some(msg)).await?)
        }
        Err(e) => Err(e),
    }
}
