//! The figures of citizen feedback: received, answered, on time and overdue, by category,
//! agency and child unit, over a period.

use ngoso_core::Invalid;
use ngoso_store::Db;
use ngoso_store::users::Principal;

use super::Setup;
use crate::http::error::AppError;

/// One line of the feedback figures.
#[derive(Debug, Clone, Default, serde::Serialize, utoipa::ToSchema)]
pub struct FeedbackFigureRow {
    /// The code of the category, agency or unit (empty for "none").
    pub code: String,
    pub name: String,
    pub received: i64,
    pub answered: i64,
    /// Answered by the deadline.
    pub on_time: i64,
    /// Waiting past the deadline now.
    pub overdue: i64,
}

impl FeedbackFigureRow {
    /// Answered on time, as a share of answered, in per cent with one decimal.
    pub fn on_time_pct(&self) -> Option<f64> {
        (self.answered > 0).then(|| (self.on_time as f64 * 1000.0 / self.answered as f64).round() / 10.0)
    }
    fn add(&mut self, r: i64, a: i64, o: i64, d: i64) {
        self.received += r;
        self.answered += a;
        self.on_time += o;
        self.overdue += d;
    }
}

/// Feedback figures of a unit's subtree over a period, by category, agency and child unit.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct FeedbackFigures {
    /// First and last month, `YYYYMM`.
    pub from: String,
    pub to: String,
    pub total: FeedbackFigureRow,
    pub by_category: Vec<FeedbackFigureRow>,
    pub by_agency: Vec<FeedbackFigureRow>,
    pub by_unit: Vec<FeedbackFigureRow>,
}

/// Computes the figures from the counters (received, answered, on time) and the pending
/// items past due (overdue); `unit` None is the whole tree.
pub async fn figures(
    db: &Db,
    setup: &Setup,
    unit: Option<&ngoso_store::units::Unit>,
    months: (String, String),
    english: bool,
) -> Result<FeedbackFigures, AppError> {
    let within = unit.map(|u| u.unit_path());
    let counts = ngoso_store::feedback_figures::counts(db, within.as_ref(), &months.0, &months.1).await?;
    let overdue = ngoso_store::feedback_figures::overdue(db, within.as_ref(), ngoso_store::now()).await?;
    let children = ngoso_store::units::children_on(db, unit.map(|u| u.id), ngoso_store::teams::today()).await?;
    let mut total = FeedbackFigureRow::default();
    let mut by_cat: std::collections::BTreeMap<i64, FeedbackFigureRow> = Default::default();
    let mut by_agency: std::collections::BTreeMap<i64, FeedbackFigureRow> = Default::default();
    let mut by_child: Vec<FeedbackFigureRow> = children
        .iter()
        .map(|c| FeedbackFigureRow { code: c.code.clone(), name: c.name.clone(), ..Default::default() })
        .collect();
    let mut unplaced = FeedbackFigureRow::default();
    let rows = counts
        .iter()
        .map(|c| (c.path.as_deref(), c.category_id, c.agency_id, c.received, c.answered, c.on_time, 0))
        .chain(overdue.iter().map(|(p, c, a, n)| (p.as_deref(), *c, *a, 0, 0, 0, *n)));
    for (path, cat, agency, r, a, o, d) in rows {
        total.add(r, a, o, d);
        by_cat.entry(cat).or_default().add(r, a, o, d);
        by_agency.entry(agency).or_default().add(r, a, o, d);
        let child = path.and_then(|p| children.iter().position(|c| p.starts_with(c.path.as_str())));
        match child {
            Some(i) => by_child[i].add(r, a, o, d),
            // The unit itself (not a child), or no unit at all.
            None => unplaced.add(r, a, o, d),
        }
    }
    let by_category = by_cat
        .into_iter()
        .map(|(id, mut row)| {
            let c = setup.category(id);
            row.code = c.map(|c| c.code.clone()).unwrap_or_default();
            row.name = c.map(|c| c.name(english).to_owned()).unwrap_or_default();
            row
        })
        .collect();
    let by_agency = by_agency
        .into_iter()
        .map(|(id, mut row)| {
            let a = setup.agency(id);
            row.code = a.map(|a| a.code.clone()).unwrap_or_default();
            row.name = a.map(|a| a.name(english).to_owned()).unwrap_or_else(|| "—".into());
            row
        })
        .collect();
    if unplaced.received + unplaced.answered + unplaced.overdue > 0 {
        unplaced.name = "—".into();
        by_child.push(unplaced);
    }
    Ok(FeedbackFigures { from: months.0, to: months.1, total, by_category, by_agency, by_unit: by_child })
}

/// The months of a period parameter; the current year when empty.
pub fn months_of(period: &str) -> Result<(String, String), Invalid> {
    if period.trim().is_empty() {
        let year = ngoso_core::calendar::local_day(ngoso_store::now()).format("%Y").to_string();
        return ngoso_core::calendar::period_months(&year);
    }
    ngoso_core::calendar::period_months(period)
}

/// The unit whose figures a user asks for: the one given (if visible), else the user's own
/// (None: the whole tree, for users scoped to it).
pub async fn figures_unit(
    db: &Db,
    p: &Principal,
    unit: Option<i64>,
) -> Result<Option<ngoso_store::units::Unit>, AppError> {
    match (unit, p.unit_id) {
        (Some(id), _) => Ok(Some(crate::units::visible(db, p, id).await?)),
        (None, Some(own)) => Ok(Some(crate::units::visible(db, p, own).await?)),
        (None, None) => Ok(None),
    }
}
