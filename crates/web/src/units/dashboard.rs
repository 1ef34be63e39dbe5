//! The unit page as a dashboard: the units below compared on one indicator for the period (a
//! bar chart whose labelled list is its own text), the table of units below sorted by any of
//! its columns, the visits of the last twelve months as a chart with its table, and the teams
//! needing attention.

use ngoso_core::Invalid;
use ngoso_core::period::Period;
use ngoso_store::units::{Unit, UnitListItem};

use crate::AppState;
use crate::http::error::AppError;
use crate::http::i18n::Tr;
use crate::indicators::ChildValue;
use crate::units::figures::{ChildFigures, MonthFigures};

/// The units below compared on one indicator.
pub struct Compared {
    pub code: String,
    pub name: String,
    /// Every active indicator: (code, name).
    pub choices: Vec<(String, String)>,
    /// Ranked by value (largest first), or by name.
    pub by_name: bool,
    pub rows: Vec<ChildValue>,
}

/// The units below on the indicator `code` (default: the first), ranked by value or by name
/// (`rank=name`: the order of the tree, Vietnamese collation).
pub async fn compared(
    st: &AppState,
    children: &[UnitListItem],
    period: &Period,
    code: Option<&str>,
    rank: Option<&str>,
    tr: &Tr,
    english: bool,
) -> Result<Option<Compared>, AppError> {
    if children.is_empty() {
        return Ok(None);
    }
    let active: Vec<_> = ngoso_store::indicators::list(&st.db).await?.into_iter().filter(|i| i.active).collect();
    let Some(first) = active.first() else {
        return Ok(None);
    };
    let code = code.map(str::trim).filter(|c| !c.is_empty()).unwrap_or(&first.code).to_owned();
    let by_name = match rank.map(str::trim).unwrap_or("") {
        "" | "value" => false,
        "name" => true,
        other => return Err(Invalid::field("sort-invalid", "rank").with_detail(other).into()),
    };
    let (ind, mut rows) = crate::indicators::for_children(st, children, period, &code, tr)
        .await?
        .ok_or_else(|| Invalid::field("indicator-unknown", "compare").with_detail(&code))?;
    if !by_name {
        // Largest first; units with nothing counted last, in the tree's order.
        rows.sort_by(|a, b| b.value.unwrap_or(f64::MIN).total_cmp(&a.value.unwrap_or(f64::MIN)));
    }
    Ok(Some(Compared {
        name: ind.name(english).to_owned(),
        code,
        choices: active.iter().map(|i| (i.code.clone(), i.name(english).to_owned())).collect(),
        by_name,
        rows,
    }))
}

/// Sorts the table of units below: `name` (the tree's order, Vietnamese collation),
/// `households`, `visited`, `service:CODE` (people or households that reached the service)
/// or `status:SERVICE:STATUS` (at that status or further along), largest first. `statuses`
/// names the columns of [`ChildFigures::statuses`] as `SERVICE:STATUS`.
pub fn sort_children(
    rows: &mut [ChildFigures],
    sort: &str,
    services: &[String],
    statuses: &[String],
) -> Result<(), Invalid> {
    let key: Box<dyn Fn(&ChildFigures) -> i64> = match sort.trim() {
        "" | "name" => return Ok(()),
        "households" => Box::new(|c| c.households),
        "visited" => Box::new(|c| c.households_visited),
        s if s.starts_with("status:") => {
            let i = s
                .strip_prefix("status:")
                .and_then(|code| statuses.iter().position(|x| x == code))
                .ok_or_else(|| Invalid::field("sort-invalid", "sort").with_detail(s))?;
            Box::new(move |c| c.statuses.get(i).copied().unwrap_or(0))
        }
        s => {
            let i = s
                .strip_prefix("service:")
                .and_then(|code| services.iter().position(|x| x == code))
                .ok_or_else(|| Invalid::field("sort-invalid", "sort").with_detail(s))?;
            Box::new(move |c| c.reached.get(i).copied().unwrap_or(0))
        }
    };
    rows.sort_by_key(|c| std::cmp::Reverse(key(c)));
    Ok(())
}

/// A column of the visits chart.
pub struct TrendBar {
    pub x: i64,
    pub y: i64,
    pub h: i64,
    /// `MM` under the column.
    pub label: String,
    /// The tree changed on this month's first day (a restructuring): a line marks it.
    pub changed: bool,
}

/// The visits of the last twelve months as columns, oldest first, in a 300 × 120 box.
pub struct Trend {
    pub bars: Vec<TrendBar>,
    pub width: i64,
    /// Column width.
    pub w: i64,
    /// The chart in words, for screen readers (the table below has every figure).
    pub summary: String,
}

pub const TREND_HEIGHT: i64 = 100;

/// `changes`: the months (`YYYYMM`) on whose first day the unit's tree changed.
pub fn trend(months: &[MonthFigures], tr: &Tr, changes: &[String]) -> Option<Trend> {
    let recent: Vec<&MonthFigures> = months.iter().rev().take(12).collect::<Vec<_>>().into_iter().rev().collect();
    if recent.is_empty() {
        return None;
    }
    let max = recent.iter().map(|m| m.visits).max().unwrap_or(1).max(1);
    let w = 22;
    let gap = 3;
    let bars = recent
        .iter()
        .enumerate()
        .map(|(i, m)| {
            let h = m.visits * TREND_HEIGHT / max;
            TrendBar {
                x: i as i64 * (w + gap),
                y: TREND_HEIGHT - h,
                h,
                label: m.period.get(4..6).unwrap_or("").to_owned(),
                changed: changes.contains(&m.period),
            }
        })
        .collect();
    let (lo, hi) = (recent.iter().min_by_key(|m| m.visits)?, recent.iter().max_by_key(|m| m.visits)?);
    let month = |m: &MonthFigures| format!("{}/{}", m.period.get(4..6).unwrap_or(""), m.period.get(0..4).unwrap_or(""));
    let mut summary = crate::http::i18n::msg(
        tr.0,
        "dashboard-trend-summary",
        &[
            ("months", &recent.len().to_string()),
            ("high", &tr.num(&hi.visits)),
            ("high_month", &month(hi)),
            ("low", &tr.num(&lo.visits)),
            ("low_month", &month(lo)),
        ],
    );
    for m in recent.iter().filter(|m| changes.contains(&m.period)) {
        summary.push(' ');
        summary.push_str(&crate::http::i18n::msg(tr.0, "dashboard-trend-changed", &[("month", &month(m))]));
    }
    Some(Trend { width: recent.len() as i64 * (w + gap) - gap, bars, w, summary })
}

/// A team needing attention.
pub struct TeamFlag {
    pub id: i64,
    pub name: String,
    pub unit_name: String,
    pub members: i64,
    /// Why, in words.
    pub reason: String,
}

/// The teams of a unit's subtree whose size is outside the configured bounds: how many, and
/// the first few.
pub async fn attention(st: &AppState, unit: &Unit, tr: &Tr, shown: usize) -> Result<(usize, Vec<TeamFlag>), AppError> {
    let bounds = st.cfg.team_bounds();
    let flagged: Vec<(ngoso_store::teams::Team, &'static str)> =
        ngoso_store::teams::outside_bounds(&st.db, &unit.unit_path(), bounds.min, bounds.max)
            .await?
            .into_iter()
            .filter_map(|t| bounds.flag(t.active_members).map(|f| (t, f)))
            .collect();
    let total = flagged.len();
    let first = flagged
        .into_iter()
        .take(shown)
        .map(|(t, flag)| TeamFlag {
            id: t.id,
            reason: crate::http::i18n::msg(
                tr.0,
                &format!("team-flag-{flag}"),
                &[("min", &bounds.min.to_string()), ("max", &bounds.max.to_string())],
            ),
            name: t.name,
            unit_name: t.unit_name,
            members: t.active_members,
        })
        .collect();
    Ok((total, first))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn child(name: &str, households: i64, reached: Vec<i64>) -> ChildFigures {
        ChildFigures {
            id: 1,
            code: name.into(),
            name: name.into(),
            households,
            households_visited: 0,
            statuses: reached.clone(),
            reached,
        }
    }

    #[test]
    fn the_table_sorts_by_any_column() {
        let mut rows = vec![child("Ấp A", 5, vec![1, 9]), child("Ấp B", 9, vec![3, 2])];
        let services = vec!["citizen_app".to_owned(), "vneid_l2".to_owned()];
        let statuses = vec!["citizen_app:installed".to_owned(), "vneid_l2:collected".to_owned()];
        sort_children(&mut rows, "households", &services, &statuses).unwrap();
        assert_eq!(rows[0].name, "Ấp B");
        sort_children(&mut rows, "service:vneid_l2", &services, &statuses).unwrap();
        assert_eq!(rows[0].name, "Ấp A");
        sort_children(&mut rows, "status:citizen_app:installed", &services, &statuses).unwrap();
        assert_eq!(rows[0].name, "Ấp B");
        assert_eq!(sort_children(&mut rows, "service:nope", &services, &statuses).unwrap_err().code, "sort-invalid");
        assert_eq!(sort_children(&mut rows, "status:nope", &services, &statuses).unwrap_err().code, "sort-invalid");
        assert_eq!(sort_children(&mut rows, "x; drop", &services, &statuses).unwrap_err().code, "sort-invalid");
    }

    #[test]
    fn the_trend_is_the_last_twelve_months_oldest_first() {
        let months: Vec<MonthFigures> = (1..=14)
            .map(|i| MonthFigures { period: format!("2024{:02}", (i - 1) % 12 + 1), visits: i * 10, met: i })
            .collect();
        let t = trend(&months, &Tr(crate::http::i18n::Lang::Vi), &[]).unwrap();
        assert_eq!(t.bars.len(), 12);
        assert_eq!(t.bars.last().unwrap().h, TREND_HEIGHT, "the largest is full height");
        assert_eq!(t.bars[0].label, "03");
        assert!(t.summary.contains("140"), "{}", t.summary);
        assert!(t.bars.iter().all(|b| !b.changed));
    }

    #[test]
    fn the_trend_marks_the_month_the_tree_changed() {
        let months: Vec<MonthFigures> =
            (1..=12).map(|i| MonthFigures { period: format!("2025{i:02}"), visits: i * 10, met: i }).collect();
        let t = trend(&months, &Tr(crate::http::i18n::Lang::Vi), &["202507".to_owned()]).unwrap();
        let changed: Vec<&str> = t.bars.iter().filter(|b| b.changed).map(|b| b.label.as_str()).collect();
        assert_eq!(changed, ["07"]);
        assert!(t.summary.contains("Cây đơn vị thay đổi từ tháng 07/2025"), "{}", t.summary);
        let t = trend(&months, &Tr(crate::http::i18n::Lang::En), &["202401".to_owned()]).unwrap();
        assert!(
            t.bars.iter().all(|b| !b.changed) && !t.summary.contains("tree changed"),
            "a change outside is not shown"
        );
    }
}
