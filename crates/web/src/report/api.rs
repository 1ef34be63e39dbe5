//! `GET /api/v1/reports/periodic`: the periodic report as a file (the dashboard's download
//! button links here).

use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::Response;
use ngoso_core::Invalid;
use ngoso_core::period::Period;
use serde::Deserialize;
use utoipa::IntoParams;

use super::{Format, build, formats};
use crate::AppState;
use crate::auth::{ApiUser, audit};
use crate::http::error::{ApiErrorBody, AppError};
use crate::http::extract::{ApiLang, Query};

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ReportQuery {
    /// The unit's code (the report covers its whole subtree, and each unit below it).
    #[serde(default)]
    pub unit: String,
    /// The period: `2024`, `2024S1`, `2024Q3`, `202410`, `2024W41` or `20241015`.
    #[serde(default)]
    pub period: String,
    /// `xlsx` (the default), `csv`, `html` or `json`.
    #[serde(default)]
    pub format: String,
}

/// The periodic report of a unit for a period: the headline figures of the unit and of each
/// unit below it, with targets, the share of each target reached and the same period a year
/// before, in sections (outreach, e-identity, cashless, feedback, programme, teams). XLSX: a cover sheet
/// and a sheet per section; CSV: UTF-8 with a byte-order mark, one line per figure and unit;
/// HTML: a page that prints on A4; JSON: DHIS2's `dataValueSets` shape, where a target is a
/// value with `categoryOptionCombo` `TARGET`, the share reached one with `ACHIEVEMENT`, and
/// the year before a value of the earlier period. The figures are the same in every format.
#[utoipa::path(get, path = "/api/v1/reports/periodic", tag = "reports", params(ReportQuery),
    responses(
        (status = 200, description = "The report", content(
            (formats::DataValueSetReport = "application/json"),
            (String = "text/csv"),
            (String = "text/html"),
            (Vec<u8> = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"))),
        (status = 400, body = ApiErrorBody), (status = 401, body = ApiErrorBody), (status = 404, body = ApiErrorBody),
        (status = 422, body = ApiErrorBody)))]
pub async fn periodic(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    ApiLang(lang): ApiLang,
    Query(q): Query<ReportQuery>,
) -> Result<Response, AppError> {
    if q.unit.trim().is_empty() {
        return Err(Invalid::field("required", "unit").into());
    }
    if q.period.trim().is_empty() {
        return Err(Invalid::field("required", "period").into());
    }
    let period = Period::parse(&q.period)?;
    // The unit the code named during the period (codes were reused after a restructuring).
    let unit = ngoso_store::units::by_code_for(&st.db, &q.unit, period.end()).await?;
    crate::auth::ensure_visible(&p, &unit.unit_path())?;
    let format = Format::parse(&q.format)?;
    let report = build(&st, &unit, &period, lang).await?;
    let body = formats::write(&report, format, false)?;
    audit::log(&st.db, &p, "report.generate", "unit", unit.id, &format!("{} {}", report.period, format.extension()))
        .await;
    let mut res = Response::new(axum::body::Body::from(body));
    let h = res.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(format.content_type()));
    if format != Format::Html
        && let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{}\"", report.file_name(format)))
    {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(res)
}
