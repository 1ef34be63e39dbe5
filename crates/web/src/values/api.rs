//! `/api/v1/dataValueSets`, `/api/v1/dataElements` and `/api/v1/dataValues/history`, in the
//! shapes DHIS2's users know.

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use ngoso_core::Invalid;
use ngoso_core::calendar::{parse_day, w3c};
use ngoso_core::period::Period;
use ngoso_store::values::{self, Change, Filter, Source, Written};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::{NewElement, Row};
use crate::AppState;
use crate::auth::ApiUser;
use crate::http::error::{ApiErrorBody, AppError};
use crate::http::extract::{ApiJson, Query};
use crate::http::openapi::{Created, created};

/// Most values one `GET` returns: narrow the units or periods for more.
const MAX_VALUES: i64 = 200_000;

/// A set of data values, as DHIS2 writes it.
#[derive(Debug, Default, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DataValueSet {
    /// Applies to every value that names no period of its own.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub period: Option<String>,
    /// Applies to every value that names no unit of its own.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub org_unit: Option<String>,
    #[serde(default)]
    pub data_values: Vec<DataValue>,
}

/// One data value: element, period (a DHIS2 period id) and unit by code.
#[derive(Debug, Default, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DataValue {
    /// The element's code, e.g. `HEALTH_FEES_CASHLESS`.
    pub data_element: String,
    /// e.g. `202410`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub period: Option<String>,
    /// The unit's code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub org_unit: Option<String>,
    /// A whole number, as text or a number; empty, null or absent removes the value.
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub value: Option<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    /// `true` removes the value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deleted: Option<bool>,
    /// The account that last set it (read only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stored_by: Option<String>,
    /// When it was last set, RFC 3339 in Vietnam time (read only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_updated: Option<String>,
}

/// What an import did, as DHIS2 reports it.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ImportSummary {
    /// `SUCCESS`: every value was taken (a refused set answers with an error instead).
    pub status: &'static str,
    pub import_count: Written,
}

/// Which values to read.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct SetQuery {
    /// Unit codes, separated by commas.
    #[serde(default)]
    pub org_unit: String,
    /// Period ids, separated by commas (values of exactly these periods).
    #[serde(default)]
    pub period: Option<String>,
    /// Values of periods that begin on or after this day (`YYYY-MM-DD`)…
    #[serde(default)]
    pub start_date: Option<String>,
    /// …and end on or before this day.
    #[serde(default)]
    pub end_date: Option<String>,
    /// `true`: the units' whole subtrees.
    #[serde(default)]
    pub children: Option<bool>,
    /// Element codes, separated by commas.
    #[serde(default)]
    pub data_element: Option<String>,
}

fn list(s: &str) -> impl Iterator<Item = &str> {
    s.split(',').map(str::trim).filter(|x| !x.is_empty())
}

/// The values entered for units and periods, in DHIS2's `dataValueSets` shape.
#[utoipa::path(get, path = "/api/v1/dataValueSets", tag = "values", params(SetQuery),
    responses((status = 200, body = DataValueSet), (status = 404, body = ApiErrorBody), (status = 422, body = ApiErrorBody)))]
pub async fn get_sets(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    Query(q): Query<SetQuery>,
) -> Result<Json<DataValueSet>, AppError> {
    let mut f = Filter { children: q.children.unwrap_or(false), ..Default::default() };
    for code in list(&q.org_unit) {
        f.units.push(crate::units::visible_by_code(&st.db, &p, code).await?.unit_path());
    }
    if f.units.is_empty() {
        return Err(Invalid::field("required", "orgUnit").into());
    }
    for id in list(q.period.as_deref().unwrap_or_default()) {
        f.periods.push(Period::parse(id)?);
    }
    match (q.start_date.as_deref(), q.end_date.as_deref()) {
        (None, None) => {}
        (Some(a), Some(b)) => f.between = Some((parse_day(a, "startDate")?, parse_day(b, "endDate")?)),
        (None, Some(_)) => return Err(Invalid::field("required", "startDate").into()),
        (Some(_), None) => return Err(Invalid::field("required", "endDate").into()),
    }
    if f.periods.is_empty() && f.between.is_none() {
        return Err(Invalid::field("required", "period").into());
    }
    if let Some(codes) = q.data_element.as_deref() {
        let all = super::elements(&st).await?;
        for code in list(codes) {
            let e = all
                .iter()
                .find(|e| e.code == code)
                .ok_or_else(|| Invalid::field("element-unknown", "dataElement").with_detail(code))?;
            f.elements.push(e.id);
        }
    }
    let rows = values::stored(&st.db, &f, MAX_VALUES + 1).await?;
    if rows.len() as i64 > MAX_VALUES {
        return Err(Invalid::field("too-many-values", "orgUnit").with_detail(MAX_VALUES.to_string()).into());
    }
    let data_values = rows
        .into_iter()
        .map(|r| DataValue {
            data_element: r.element_code,
            period: Some(r.period),
            org_unit: Some(r.unit_code),
            value: Some(serde_json::Value::String(r.value.to_string())),
            comment: r.comment,
            deleted: None,
            stored_by: r.stored_by,
            last_updated: Some(w3c(r.updated_at)),
        })
        .collect();
    Ok(Json(DataValueSet { period: None, org_unit: None, data_values }))
}

/// The rows of a JSON set: each value's own period and unit, or the set's.
fn json_rows(set: DataValueSet) -> Result<Vec<Row>, AppError> {
    let mut out = Vec::with_capacity(set.data_values.len());
    for (i, v) in set.data_values.into_iter().enumerate() {
        let row = i as u64 + 1;
        let value = match (&v.value, v.deleted) {
            (_, Some(true)) | (None | Some(serde_json::Value::Null), _) => None,
            (Some(serde_json::Value::String(s)), _) => Some(s.clone()),
            (Some(serde_json::Value::Number(n)), _) => Some(n.to_string()),
            (Some(other), _) => {
                return Err(
                    AppError::from(Invalid::field("value-invalid", "value").with_detail(other.to_string())).at_row(row)
                );
            }
        };
        out.push(Row {
            row,
            element: v.data_element,
            period: v.period.or_else(|| set.period.clone()).unwrap_or_default(),
            unit: v.org_unit.or_else(|| set.org_unit.clone()).unwrap_or_default(),
            value,
            comment: v.comment,
        });
    }
    Ok(out)
}

/// Sets values from a `dataValueSets` JSON body (`application/json`) or a CSV file
/// (`text/csv` or `application/csv`: a header row naming `dataelement`, `period`, `orgunit`,
/// `value` and optionally `comment`). All or none: one bad row refuses the whole set, with its
/// row number, and nothing is written. An empty value removes the value.
#[utoipa::path(post, path = "/api/v1/dataValueSets", tag = "values",
    request_body(content(
        (DataValueSet = "application/json"),
        (String = "text/csv"),
    )),
    responses((status = 200, body = ImportSummary), (status = 400, body = ApiErrorBody), (status = 403, body = ApiErrorBody),
        (status = 413, body = ApiErrorBody), (status = 415, body = ApiErrorBody), (status = 422, body = ApiErrorBody)))]
pub async fn post_sets(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<ImportSummary>, AppError> {
    let ct = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or_default().to_ascii_lowercase();
    let (rows, source) = if ct.starts_with("application/json") {
        let set: DataValueSet = serde_json::from_slice(&body).map_err(|e| {
            let code = if e.is_data() { "invalid-json-data" } else { "invalid-json" };
            let status = if e.is_data() { StatusCode::UNPROCESSABLE_ENTITY } else { StatusCode::BAD_REQUEST };
            AppError::new(status, code).with_detail(e.to_string())
        })?;
        (json_rows(set)?, Source::Api)
    } else if ct.starts_with("text/csv") || ct.starts_with("application/csv") {
        let text =
            std::str::from_utf8(&body).map_err(|_| AppError::bad_request("form-not-utf8").with_detail("file"))?;
        (super::parse_csv(text)?, Source::Csv)
    } else {
        return Err(AppError::new(StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported-media-type"));
    };
    let done = super::apply(&st, &p, source, rows).await?;
    Ok(Json(ImportSummary { status: "SUCCESS", import_count: done }))
}

/// A data element, as the API shows it.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ElementView {
    pub id: i64,
    pub code: String,
    pub name_vi: String,
    pub name_en: String,
    /// `count` or `money`.
    pub value_type: &'static str,
    /// `sum` or `last`.
    pub aggregation: &'static str,
    /// `province`, `district`, `commune` or `hamlet`.
    pub level: &'static str,
    pub period_type: &'static str,
    pub active: bool,
}

impl From<ngoso_core::values::Element> for ElementView {
    fn from(e: ngoso_core::values::Element) -> Self {
        Self {
            id: e.id,
            value_type: e.value_type.as_str(),
            aggregation: e.aggregation.as_str(),
            level: e.level.as_str(),
            period_type: e.period_kind.as_str(),
            active: e.active,
            code: e.code,
            name_vi: e.name_vi,
            name_en: e.name_en,
        }
    }
}

/// The data elements.
#[utoipa::path(get, path = "/api/v1/dataElements", tag = "values", responses((status = 200, body = Vec<ElementView>)))]
pub async fn list_elements(
    State(st): State<AppState>,
    ApiUser(_p): ApiUser,
) -> Result<Json<Vec<ElementView>>, AppError> {
    Ok(Json(super::elements(&st).await?.into_iter().map(ElementView::from).collect()))
}

/// Add a data element (administrators of the whole tree).
#[utoipa::path(post, path = "/api/v1/dataElements", tag = "values", request_body = NewElement,
    responses((status = 201, body = Created), (status = 403, body = ApiErrorBody), (status = 409, body = ApiErrorBody), (status = 422, body = ApiErrorBody)))]
pub async fn create_element(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    ApiJson(n): ApiJson<NewElement>,
) -> Result<Response, AppError> {
    let id = super::create_element(&st, &p, &n).await?;
    Ok(created(id, "/api/v1/dataElements"))
}

/// Which history to read.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct HistoryQuery {
    /// The unit's code.
    #[serde(default)]
    pub org_unit: String,
    /// The period id.
    #[serde(default)]
    pub period: String,
    /// One element's code; all when absent.
    #[serde(default)]
    pub data_element: Option<String>,
}

/// Who changed which value of a unit and period, when, from what to what; newest first.
#[utoipa::path(get, path = "/api/v1/dataValues/history", tag = "values", params(HistoryQuery),
    responses((status = 200, body = Vec<Change>), (status = 404, body = ApiErrorBody), (status = 422, body = ApiErrorBody)))]
pub async fn history(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    Query(q): Query<HistoryQuery>,
) -> Result<Json<Vec<Change>>, AppError> {
    if q.org_unit.trim().is_empty() {
        return Err(Invalid::field("required", "orgUnit").into());
    }
    let u = crate::units::visible_by_code(&st.db, &p, &q.org_unit).await?;
    let period = Period::parse(&q.period)?;
    let element = match q.data_element.as_deref().map(str::trim).filter(|c| !c.is_empty()) {
        None => None,
        Some(code) => Some(
            super::elements(&st)
                .await?
                .into_iter()
                .find(|e| e.code == code)
                .ok_or_else(|| Invalid::field("element-unknown", "dataElement").with_detail(code))?
                .id,
        ),
    };
    Ok(Json(values::history(&st.db, u.id, &period, element, 1000).await?))
}
