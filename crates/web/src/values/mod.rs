//! Data values: the figures of the report that are not counted door to door, entered per
//! unit and period. The entry grid is `/app/units/{id}/values`, the elements
//! `/app/values`; the API is DHIS2's `dataValueSets` (JSON and CSV) and `dataElements`.
//! Every way in goes through [`apply`]: authorise each unit → parse every row → refuse the
//! whole set on the first bad row → store → audit.

pub mod api;
mod pages;

use std::collections::{BTreeSet, HashMap};

use axum::routing::{get, post};
use ngoso_core::auth::Action;
use ngoso_core::period::{Period, PeriodKind};
use ngoso_core::unit::AdminLevel;
use ngoso_core::values::{self as core_values, Aggregation, Element, ValueType};
use ngoso_core::{Invalid, text};
use ngoso_store::units;
use ngoso_store::users::Principal;
use ngoso_store::values::{self, Source, Write, Written};
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::auth::{audit, can_anywhere};
use crate::http::error::AppError;

/// The pages and API of data values.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .route("/app/values", get(pages::elements).post(pages::create_element))
        .route("/app/values/import", post(pages::import))
        .route("/app/units/{id}/values", get(pages::grid).post(pages::save_grid))
        .route("/app/units/{id}/values/history", get(pages::history))
        .routes(routes!(api::get_sets, api::post_sets))
        .routes(routes!(api::list_elements, api::create_element))
        .routes(routes!(api::history))
}

/// One value as sent: by codes, with the value as typed (empty or none: remove it).
#[derive(Debug, Clone, Default)]
pub struct Row {
    /// The row of the file or the entry of the list (1 is the first), for errors.
    pub row: u64,
    pub element: String,
    pub period: String,
    pub unit: String,
    pub value: Option<String>,
    pub comment: Option<String>,
}

/// The elements, as the store keeps them.
pub async fn elements(st: &AppState) -> Result<Vec<Element>, AppError> {
    Ok(values::elements(&st.db).await?)
}

/// A unit resolved for entry: its id and level.
#[derive(Clone, Copy)]
struct Target {
    id: i64,
    level: Option<AdminLevel>,
}

/// Sets the values of a set, all or none: every row is checked first (the element exists and
/// is active, the period is of the element's type, the unit is one the principal may enter
/// data for and of the element's level, the value is a whole number), and the first bad row
/// refuses the whole set with its row number.
pub async fn apply(st: &AppState, p: &Principal, source: Source, rows: Vec<Row>) -> Result<Written, AppError> {
    if !can_anywhere(p, Action::EnterData) {
        return Err(AppError::forbidden());
    }
    let all = elements(st).await?;
    let by_code: HashMap<&str, &Element> = all.iter().map(|e| (e.code.as_str(), e)).collect();
    let mut targets: HashMap<String, Target> = HashMap::new();
    let mut seen: BTreeSet<(i64, i64, String)> = BTreeSet::new();
    let mut writes = Vec::with_capacity(rows.len());
    for r in rows {
        let at = |e: AppError| e.at_row(r.row);
        let code = r.element.trim();
        let e = by_code
            .get(code)
            .filter(|e| e.active)
            .ok_or_else(|| at(Invalid::field("element-unknown", "dataElement").with_detail(code).into()))?;
        let period = Period::parse(&r.period).map_err(|i| at(i.into()))?;
        e.check_period(&period).map_err(|i| at(i.into()))?;
        let unit_code = r.unit.trim();
        let t = match targets.get(unit_code) {
            Some(t) => *t,
            None => {
                let u = crate::units::for_entry(&st.db, p, unit_code, "orgUnit").await.map_err(at)?;
                let t = Target { id: u.id, level: units::level(&st.db, &u).await? };
                targets.insert(unit_code.to_owned(), t);
                t
            }
        };
        e.check_level(t.level, unit_code).map_err(|i| at(i.into()))?;
        let value = match r.value.as_deref().map(str::trim).filter(|v| !v.is_empty()) {
            None => None,
            Some(v) => Some(core_values::parse_value(v).map_err(|i| at(i.into()))?),
        };
        let comment = core_values::parse_comment(r.comment.as_deref()).map_err(|i| at(i.into()))?;
        if !seen.insert((e.id, t.id, period.id())) {
            return Err(at(Invalid::field("value-repeated", "dataElement")
                .with_detail(format!("{} {} {}", e.code, unit_code, period.id()))
                .into()));
        }
        writes.push(Write { element_id: e.id, unit_id: t.id, period, value, comment });
    }
    let done = values::write(&st.db, Some(p.id), source, writes).await?;
    for t in targets.values() {
        audit::log(
            &st.db,
            p,
            "values.write",
            "unit",
            t.id,
            &format!("{}: {} new, {} changed, {} removed", source.as_str(), done.imported, done.updated, done.deleted),
        )
        .await;
    }
    Ok(done)
}

/// Reads a CSV file of values: a header naming the columns (DHIS2's `dataelement`, `period`,
/// `orgunit`, `value`, and optionally `comment`, in any order and case), then one value per
/// row. UTF-8, with or without a byte-order mark; commas or semicolons.
pub fn parse_csv(text: &str) -> Result<Vec<Row>, AppError> {
    let t = crate::http::csvfile::Table::read(text)?;
    let ce = t.need("dataelement", "dataElement")?;
    let cp = t.need("period", "period")?;
    let cu = t.need("orgunit", "orgUnit")?;
    let cv = t.need("value", "value")?;
    let cc = t.column("comment");
    Ok(t.rows()
        .map(|(row, r)| Row {
            row,
            element: r.get(ce),
            period: r.get(cp),
            unit: r.get(cu),
            value: Some(r.get(cv)),
            comment: cc.map(|c| r.get(c)).filter(|c| !c.trim().is_empty()),
        })
        .collect())
}

/// A new element, as typed on the page or sent to the API.
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct NewElement {
    #[serde(default)]
    pub code: String,
    #[serde(default)]
    pub name_vi: String,
    #[serde(default)]
    pub name_en: String,
    /// `count` or `money` (whole đồng).
    #[serde(default)]
    pub value_type: String,
    /// `sum` (a flow) or `last` (a stock).
    #[serde(default)]
    pub aggregation: String,
    /// `province`, `district`, `commune` or `hamlet`.
    #[serde(default)]
    pub level: String,
    /// `Daily`, `Weekly`, `Monthly`, `Quarterly`, `SixMonthly` or `Yearly`.
    #[serde(default)]
    pub period_type: String,
}

/// Adds an element (administrators of the whole tree); returns its id.
pub async fn create_element(st: &AppState, p: &Principal, n: &NewElement) -> Result<i64, AppError> {
    if !can_anywhere(p, Action::ManageSystem) {
        return Err(AppError::forbidden());
    }
    let new = values::NewElement {
        code: n.code.clone(),
        name_vi: n.name_vi.clone(),
        name_en: n.name_en.clone(),
        value_type: ValueType::parse(&n.value_type)?,
        aggregation: Aggregation::parse(&n.aggregation)?,
        level: AdminLevel::parse(&n.level)?,
        period_kind: PeriodKind::parse(&n.period_type)?,
    };
    let id = values::create_element(&st.db, &new).await?;
    audit::log(&st.db, p, "element.create", "data_element", id, &text::clean_line(&n.code).unwrap_or_default()).await;
    Ok(id)
}
