//! Indicators and targets: the headline figures of the report for a unit and period, each
//! beside its target and the same period a year before. The headline is part of the unit's
//! page (`/app/units/{id}?period=2024`); indicators are listed and added at
//! `/app/indicators`, targets set at `/app/units/{id}/targets`; the API is
//! `/api/v1/indicators`, `/api/v1/units/{id}/indicators` and `/api/v1/targets`.

pub mod api;
mod pages;

use std::collections::HashMap;

use axum::routing::get;
use ngoso_core::auth::Action;
use ngoso_core::indicator::{Indicator, IndicatorKind, Measured};
use ngoso_core::period::{Period, PeriodKind};
use ngoso_core::{Invalid, text};
use ngoso_store::indicators::{self, NewIndicator, TargetWrite};
use ngoso_store::units::Unit;
use ngoso_store::users::Principal;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::auth::{audit, can, can_anywhere};
use crate::http::error::AppError;
use crate::http::i18n::Tr;

/// The pages and API of indicators and targets.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .route("/app/indicators", get(pages::index).post(pages::create))
        .route("/app/units/{id}/targets", get(pages::targets_form).post(pages::save_targets))
        .routes(routes!(api::list, api::create))
        .routes(routes!(api::of_unit))
        .routes(routes!(api::set_targets))
}

/// The period asked for, or this year.
pub fn period_or_this_year(s: Option<&str>) -> Result<Period, AppError> {
    match s.map(str::trim).filter(|s| !s.is_empty()) {
        Some(s) => Ok(Period::parse(s)?),
        None => Ok(Period::of_time(PeriodKind::Yearly, ngoso_store::now())),
    }
}

/// One indicator of a unit for a period, with its target and the year before.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Headline {
    pub id: i64,
    pub code: String,
    pub name: String,
    /// `count`, `money` or `percent`.
    pub kind: &'static str,
    /// The figure: a count, đồng, or a percent (none: nothing counted).
    pub value: Option<f64>,
    pub numerator: Option<i64>,
    pub denominator: Option<i64>,
    /// The target for this unit and period, in the indicator's unit (a percent in hundredths).
    pub target: Option<i64>,
    /// The share of the target reached, in percent.
    pub achievement: Option<f64>,
    /// The same period a year before (none for figures of today's state).
    pub year_before: Option<f64>,
    /// Whether the figure is today's state (households, statuses) rather than the period's.
    pub current_state: bool,
}

/// A figure of an indicator of kind `count`, `money` or `percent`, as a page shows it
/// (`255.600`, `12 tỷ đồng`, `20,0 %`; `—` when nothing was counted).
pub fn shown(tr: &Tr, kind: &str, v: Option<f64>) -> String {
    match (v, kind) {
        (None, _) => "—".to_owned(),
        (Some(v), "money") => tr.money(v),
        (Some(v), "percent") => tr.pct(v),
        (Some(v), _) => tr.num(&(v.round() as i64)),
    }
}

/// One indicator's figure for a unit below, with the length of its bar (0–100: a share as
/// itself, a count or an amount against the largest).
#[derive(Debug, Clone)]
pub struct ChildValue {
    pub id: i64,
    pub code: String,
    pub name: String,
    pub value: Option<f64>,
    pub shown: String,
    pub bar: i64,
}

/// An indicator (by code) measured for each unit below, in the order given; `None` when no
/// active indicator has the code.
pub async fn for_children(
    st: &AppState,
    children: &[ngoso_store::units::UnitListItem],
    period: &Period,
    code: &str,
    tr: &Tr,
) -> Result<Option<(Indicator, Vec<ChildValue>)>, AppError> {
    let Some(ind) = indicators::list(&st.db).await?.into_iter().find(|i| i.active && i.code == code) else {
        return Ok(None);
    };
    let one = std::slice::from_ref(&ind);
    let lookups = indicators::Lookups::load(&st.db, Some(st.catalog().await?)).await?;
    let units: Vec<(i64, ngoso_core::unit::UnitPath)> =
        children.iter().map(|c| (c.id, ngoso_core::unit::UnitPath::from_stored(c.path.clone()))).collect();
    let measured = indicators::measure_many(&st.db, &lookups, &units, period, one).await?;
    let values: Vec<Option<f64>> =
        children.iter().map(|c| measured.get(&c.id).and_then(|m| m.get(&ind.id)).and_then(|m| m.value)).collect();
    let max = values.iter().flatten().copied().fold(0.0_f64, f64::max);
    let kind = ind.kind.as_str();
    let rows = children
        .iter()
        .zip(values)
        .map(|(c, v)| ChildValue {
            id: c.id,
            code: c.code.clone(),
            name: c.name.clone(),
            value: v,
            shown: shown(tr, kind, v),
            bar: match (kind, v) {
                (_, None) => 0,
                ("percent", Some(v)) => v.clamp(0.0, 100.0).round() as i64,
                (_, Some(v)) if max > 0.0 => (v * 100.0 / max).round() as i64,
                _ => 0,
            },
        })
        .collect();
    Ok(Some((ind, rows)))
}

impl Headline {
    /// The value as a report writes it.
    pub fn shown(&self, tr: &Tr, v: Option<f64>) -> String {
        shown(tr, self.kind, v)
    }
    pub fn shown_value(&self, tr: &Tr) -> String {
        self.shown(tr, self.value)
    }
    pub fn shown_year_before(&self, tr: &Tr) -> String {
        self.shown(tr, self.year_before)
    }
    pub fn shown_target(&self, tr: &Tr) -> String {
        match self.target {
            None => "—".to_owned(),
            Some(t) if self.kind == "percent" => tr.pct(t as f64 / 100.0),
            Some(t) => self.shown(tr, Some(t as f64)),
        }
    }
    pub fn shown_achievement(&self, tr: &Tr) -> String {
        self.achievement.map(|a| tr.pct(a)).unwrap_or_else(|| "—".to_owned())
    }
    /// The width of the progress bar, 0–100.
    pub fn bar(&self) -> i64 {
        self.achievement.map(|a| a.clamp(0.0, 100.0).round() as i64).unwrap_or(0)
    }
}

/// The headline of a unit the caller may see, for a period.
pub async fn headline(st: &AppState, unit: &Unit, period: &Period, english: bool) -> Result<Vec<Headline>, AppError> {
    headline_of(st, unit, period, english).await
}

/// The headline of each unit below, without the year before (the report): measured
/// together, in the order given.
pub async fn measured_children(
    st: &AppState,
    children: &[ngoso_store::units::UnitListItem],
    period: &Period,
    english: bool,
) -> Result<Vec<Vec<Headline>>, AppError> {
    let all: Vec<Indicator> = indicators::list(&st.db).await?.into_iter().filter(|i| i.active).collect();
    let lookups = indicators::Lookups::load(&st.db, Some(st.catalog().await?)).await?;
    let units: Vec<(i64, ngoso_core::unit::UnitPath)> =
        children.iter().map(|c| (c.id, ngoso_core::unit::UnitPath::from_stored(c.path.clone()))).collect();
    let mut measured = indicators::measure_many(&st.db, &lookups, &units, period, &all).await?;
    let mut out = Vec::with_capacity(children.len());
    for c in children {
        let m = measured.remove(&c.id).unwrap_or_default();
        let targets = indicators::targets(&st.db, c.id, period).await?;
        out.push(lines(&all, &m, &HashMap::new(), &targets, english));
    }
    Ok(out)
}

/// Headline lines from measures, the year before's and targets.
fn lines(
    all: &[Indicator],
    now: &HashMap<i64, Measured>,
    before: &HashMap<i64, Measured>,
    targets: &HashMap<i64, i64>,
    english: bool,
) -> Vec<Headline> {
    let none = Measured::default();
    all.iter()
        .map(|i| {
            let m = now.get(&i.id).unwrap_or(&none);
            let target = targets.get(&i.id).copied();
            let current_state = i.is_current_state();
            Headline {
                id: i.id,
                code: i.code.clone(),
                name: i.name(english).to_owned(),
                kind: i.kind.as_str(),
                value: m.value,
                numerator: m.numerator,
                denominator: m.denominator,
                target,
                achievement: target.and_then(|t| i.achievement(m, t)),
                year_before: if current_state { None } else { before.get(&i.id).and_then(|b| b.value) },
                current_state,
            }
        })
        .collect()
}

/// The report's section of each active indicator.
pub async fn sections(st: &AppState) -> Result<HashMap<i64, ngoso_core::indicator::Section>, AppError> {
    Ok(indicators::list(&st.db).await?.into_iter().map(|i| (i.id, i.section)).collect())
}

async fn headline_of(st: &AppState, unit: &Unit, period: &Period, english: bool) -> Result<Vec<Headline>, AppError> {
    let all: Vec<Indicator> = indicators::list(&st.db).await?.into_iter().filter(|i| i.active).collect();
    let lookups = indicators::Lookups::load(&st.db, Some(st.catalog().await?)).await?;
    let units = [(unit.id, unit.unit_path())];
    let now =
        indicators::measure_many(&st.db, &lookups, &units, period, &all).await?.remove(&unit.id).unwrap_or_default();
    // The year before, for the figures of a period only (today's state has none).
    let of_period: Vec<Indicator> = all.iter().filter(|i| !i.is_current_state()).cloned().collect();
    let before = indicators::measure_many(&st.db, &lookups, &units, &period.year_before(), &of_period)
        .await?
        .remove(&unit.id)
        .unwrap_or_default();
    let targets = indicators::targets(&st.db, unit.id, period).await?;
    Ok(lines(&all, &now, &before, &targets, english))
}

/// A target as sent: indicator and unit by code, the target as typed (empty: remove it; a
/// percent as `80` or `80,5`).
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TargetInput {
    pub indicator: String,
    pub org_unit: String,
    pub period: String,
    /// A count, đồng, or a percent (`80`, `80.5`); empty or absent removes the target.
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub target: Option<serde_json::Value>,
}

/// Parses a target in an indicator's unit: a whole number, or a percent with at most two
/// decimals (kept in hundredths).
fn parse_target(kind: IndicatorKind, raw: &str) -> Result<i64, Invalid> {
    match kind {
        IndicatorKind::Percent => {
            let t = raw.trim().trim_end_matches('%').trim().replace(',', ".");
            let bad = || Invalid::field("target-invalid", "target").with_detail(raw.trim());
            let (whole, frac) = t.split_once('.').unwrap_or((&t, ""));
            if whole.is_empty() || frac.len() > 2 || !whole.bytes().chain(frac.bytes()).all(|b| b.is_ascii_digit()) {
                return Err(bad());
            }
            let v: i64 = whole.parse::<i64>().map_err(|_| bad())? * 100
                + format!("{frac:0<2}").parse::<i64>().map_err(|_| bad())?;
            if v > 100_000 { Err(bad()) } else { Ok(v) }
        }
        _ => ngoso_core::values::parse_value(raw).map_err(|e| Invalid { field: Some("target"), ..e }),
    }
}

/// Sets targets, all or none; the first bad entry refuses them all with its number.
pub async fn set_targets(st: &AppState, p: &Principal, inputs: Vec<TargetInput>) -> Result<usize, AppError> {
    if !can_anywhere(p, Action::EnterData) {
        return Err(AppError::forbidden());
    }
    let all = indicators::list(&st.db).await?;
    let by_code: HashMap<&str, &Indicator> = all.iter().map(|i| (i.code.as_str(), i)).collect();
    let mut units: HashMap<String, i64> = HashMap::new();
    let mut writes = Vec::new();
    for (n, t) in inputs.into_iter().enumerate() {
        let at = |e: AppError| e.at_row(n as u64 + 1);
        let i = by_code.get(t.indicator.trim()).ok_or_else(|| {
            at(Invalid::field("indicator-unknown", "indicator").with_detail(t.indicator.trim()).into())
        })?;
        let period = Period::parse(&t.period).map_err(|e| at(e.into()))?;
        let code = t.org_unit.trim().to_owned();
        let unit_id = match units.get(&code) {
            Some(id) => *id,
            None => {
                let u = crate::units::for_entry(&st.db, p, &code, "orgUnit").await.map_err(at)?;
                units.insert(code.clone(), u.id);
                u.id
            }
        };
        let raw = match &t.target {
            None | Some(serde_json::Value::Null) => String::new(),
            Some(serde_json::Value::String(s)) => s.clone(),
            Some(serde_json::Value::Number(n)) => n.to_string(),
            Some(other) => {
                return Err(at(Invalid::field("target-invalid", "target").with_detail(other.to_string()).into()));
            }
        };
        let target = match raw.trim() {
            "" => None,
            r => Some(parse_target(i.kind, r).map_err(|e| at(e.into()))?),
        };
        writes.push(TargetWrite { indicator_id: i.id, unit_id, period, target });
    }
    indicators::set_targets(&st.db, Some(p.id), &writes).await?;
    for id in units.values() {
        audit::log(&st.db, p, "targets.set", "unit", *id, &format!("{} targets", writes.len())).await;
    }
    Ok(writes.len())
}

/// A new indicator, as typed on the page or sent to the API.
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct IndicatorInput {
    #[serde(default)]
    pub code: String,
    #[serde(default)]
    pub name_vi: String,
    #[serde(default)]
    pub name_en: String,
    /// `count`, `money` or `percent`.
    #[serde(default)]
    pub kind: String,
    /// Terms joined by `+`: `value:CODE`, `figure:households_visited`,
    /// `reached:SERVICE:STATUS`, `feedback:received|answered|on_time`, `places:KIND`,
    /// `online:KIND`; people of a part of the population after `@` (`sex:f`, `age:60+`,
    /// `age:15-59`, `group:CODE`) for `reached:…` and `figure:residents`.
    #[serde(default)]
    pub numerator: String,
    /// For a percent only.
    #[serde(default)]
    pub denominator: Option<String>,
    /// The report's section: `outreach` (when absent), `identity`, `cashless`, `feedback` or `programme`.
    #[serde(default)]
    pub section: String,
}

/// Adds an indicator (administrators of the whole tree); returns its id.
pub async fn create(st: &AppState, p: &Principal, i: &IndicatorInput) -> Result<i64, AppError> {
    if !can_anywhere(p, Action::ManageSystem) {
        return Err(AppError::forbidden());
    }
    let n = NewIndicator {
        code: i.code.clone(),
        name_vi: i.name_vi.clone(),
        name_en: i.name_en.clone(),
        kind: i.kind.clone(),
        numerator: i.numerator.clone(),
        denominator: i.denominator.clone(),
        section: i.section.clone(),
    };
    let id = indicators::create(&st.db, &n).await?;
    audit::log(&st.db, p, "indicator.create", "indicator", id, &text::clean_line(&i.code).unwrap_or_default()).await;
    Ok(id)
}

/// Whether the principal may set targets for the unit.
pub fn can_target(p: &Principal, unit: &Unit) -> bool {
    can(p, Action::EnterData, &unit.unit_path())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_parse_in_the_indicators_unit() {
        assert_eq!(parse_target(IndicatorKind::Percent, "80"), Ok(8_000));
        assert_eq!(parse_target(IndicatorKind::Percent, "80,5 %"), Ok(8_050));
        assert_eq!(parse_target(IndicatorKind::Percent, "7.25"), Ok(725));
        assert!(parse_target(IndicatorKind::Percent, "7.255").is_err());
        assert!(parse_target(IndicatorKind::Percent, "1001").is_err());
        assert!(parse_target(IndicatorKind::Percent, "-1").is_err());
        assert_eq!(parse_target(IndicatorKind::Money, "12.000.000.000"), Ok(12_000_000_000));
        assert_eq!(parse_target(IndicatorKind::Count, "abc").unwrap_err().code, "value-invalid");
    }
}
