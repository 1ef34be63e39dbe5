//! `/api/v1/indicators`, `/api/v1/units/{id}/indicators` and `/api/v1/targets`.

use axum::Json;
use axum::extract::State;
use axum::response::Response;
use ngoso_store::indicators;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::{Headline, IndicatorInput, TargetInput};
use crate::AppState;
use crate::auth::ApiUser;
use crate::http::error::{ApiErrorBody, AppError};
use crate::http::extract::{ApiJson, ApiLang, Path, Query};
use crate::http::i18n::Lang;
use crate::http::openapi::{Created, created};

/// An indicator, as the API shows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct IndicatorView {
    pub id: i64,
    pub code: String,
    pub name_vi: String,
    pub name_en: String,
    /// `count`, `money` or `percent`.
    pub kind: &'static str,
    pub numerator: String,
    pub denominator: Option<String>,
    /// The report's section: `outreach`, `identity`, `cashless`, `feedback` or `programme`.
    pub section: &'static str,
    pub active: bool,
}

/// The indicators.
#[utoipa::path(get, path = "/api/v1/indicators", tag = "indicators", responses((status = 200, body = Vec<IndicatorView>)))]
pub async fn list(State(st): State<AppState>, ApiUser(_p): ApiUser) -> Result<Json<Vec<IndicatorView>>, AppError> {
    Ok(Json(
        indicators::list(&st.db)
            .await?
            .into_iter()
            .map(|i| IndicatorView {
                id: i.id,
                kind: i.kind.as_str(),
                numerator: i.numerator.to_string(),
                denominator: i.denominator.as_ref().map(|d| d.to_string()),
                section: i.section.as_str(),
                active: i.active,
                code: i.code,
                name_vi: i.name_vi,
                name_en: i.name_en,
            })
            .collect(),
    ))
}

/// Add an indicator (administrators of the whole tree).
#[utoipa::path(post, path = "/api/v1/indicators", tag = "indicators", request_body = IndicatorInput,
    responses((status = 201, body = Created), (status = 403, body = ApiErrorBody), (status = 409, body = ApiErrorBody), (status = 422, body = ApiErrorBody)))]
pub async fn create(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    ApiJson(i): ApiJson<IndicatorInput>,
) -> Result<Response, AppError> {
    let id = super::create(&st, &p, &i).await?;
    Ok(created(id, "/api/v1/indicators"))
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PeriodQuery {
    /// A DHIS2 period id (`2024`, `2024Q3`, `202410`…); this year when absent.
    #[serde(default)]
    pub period: Option<String>,
}

/// A unit's indicators for a period.
#[derive(Debug, Serialize, ToSchema)]
pub struct UnitIndicators {
    pub unit_id: i64,
    pub period: String,
    pub indicators: Vec<Headline>,
}

/// The headline figures of a unit (its whole subtree) for a period, each with its target and
/// the same period a year before. Shares are Σ numerator ÷ Σ denominator.
#[utoipa::path(get, path = "/api/v1/units/{id}/indicators", tag = "indicators", params(("id" = i64, Path), PeriodQuery),
    responses((status = 200, body = UnitIndicators), (status = 400, body = ApiErrorBody), (status = 404, body = ApiErrorBody), (status = 422, body = ApiErrorBody)))]
pub async fn of_unit(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    ApiLang(lang): ApiLang,
    Path(id): Path<i64>,
    Query(q): Query<PeriodQuery>,
) -> Result<Json<UnitIndicators>, AppError> {
    let unit = crate::units::visible(&st.db, &p, id).await?;
    let period = super::period_or_this_year(q.period.as_deref())?;
    let indicators = super::headline(&st, &unit, &period, lang == Lang::En).await?;
    Ok(Json(UnitIndicators { unit_id: id, period: period.id(), indicators }))
}

/// Targets to set, all or none.
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct Targets {
    pub targets: Vec<TargetInput>,
}

/// What was set.
#[derive(Debug, Serialize, ToSchema)]
pub struct TargetsSet {
    pub set: usize,
}

/// Set targets per indicator, unit and period (officers and administrators in their scope).
/// One bad entry refuses them all, named by its number (`error.row`).
#[utoipa::path(put, path = "/api/v1/targets", tag = "indicators", request_body = Targets,
    responses((status = 200, body = TargetsSet), (status = 403, body = ApiErrorBody), (status = 422, body = ApiErrorBody)))]
pub async fn set_targets(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    ApiJson(t): ApiJson<Targets>,
) -> Result<Json<TargetsSet>, AppError> {
    let set = super::set_targets(&st, &p, t.targets).await?;
    Ok(Json(TargetsSet { set }))
}
