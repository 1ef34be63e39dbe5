//! The periodic report of a unit for a period: every headline figure of the unit and of each
//! unit below it, beside its target, the share of the target reached and (for the unit) the
//! same period a year before, in sections — outreach, e-identity, cashless, feedback, programme, teams.
//!
//! One [`Report`] is built from the roll-ups and written out in four formats with the same
//! figures: an XLSX workbook (a cover sheet and a sheet per section), CSV (UTF-8 with a
//! byte-order mark), HTML that prints on A4, and JSON in DHIS2's `dataValueSets` shape. The
//! dashboard's download button and `GET /api/v1/reports/periodic` serve it; `ngoso report`
//! writes it to a file.

pub mod api;
pub mod formats;

use ngoso_core::indicator::Section;
use ngoso_core::outreach::TeamBounds;
use ngoso_core::period::Period;
use ngoso_core::unit::UnitPath;
use ngoso_store::units::{self, Unit};
use serde::Serialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::http::error::AppError;
use crate::http::i18n::{Lang, Tr};

/// The report's API.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(api::periodic))
}

/// A format the report is written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Xlsx,
    Csv,
    Html,
    Json,
}

impl Format {
    pub fn parse(s: &str) -> Result<Format, ngoso_core::Invalid> {
        match s.trim().to_ascii_lowercase().as_str() {
            "" | "xlsx" => Ok(Format::Xlsx),
            "csv" => Ok(Format::Csv),
            "html" => Ok(Format::Html),
            "json" => Ok(Format::Json),
            other => Err(ngoso_core::Invalid::field("report-format-invalid", "format").with_detail(other)),
        }
    }
    pub fn extension(self) -> &'static str {
        match self {
            Format::Xlsx => "xlsx",
            Format::Csv => "csv",
            Format::Html => "html",
            Format::Json => "json",
        }
    }
    pub fn content_type(self) -> &'static str {
        match self {
            Format::Xlsx => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            Format::Csv => "text/csv; charset=utf-8",
            Format::Html => "text/html; charset=utf-8",
            Format::Json => "application/json",
        }
    }
}

/// A unit of the report: the unit itself first, then each unit below it.
#[derive(Debug, Clone, Serialize)]
pub struct ReportUnit {
    pub code: String,
    pub name: String,
}

/// What a figure counts: a number, whole đồng, or a percent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    Count,
    Money,
    Percent,
}

/// One unit's figure: the value, its target and the share of the target reached (a percent
/// and an achievement to one decimal, counts and money whole).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Cell {
    pub value: Option<f64>,
    pub target: Option<f64>,
    pub achievement: Option<f64>,
}

/// A line of the report: one figure for every unit.
#[derive(Debug, Clone, Serialize)]
pub struct Line {
    pub code: String,
    pub name: String,
    pub kind: Kind,
    /// One per unit of the report, in its order.
    pub cells: Vec<Cell>,
    /// The report's unit, the same period a year before (none for today's state).
    pub year_before: Option<f64>,
}

/// A section of the report.
#[derive(Debug, Clone, Serialize)]
pub struct ReportSection {
    /// `outreach`, `identity`, `cashless`, `feedback` or `teams`.
    pub key: &'static str,
    pub title: String,
    pub lines: Vec<Line>,
}

/// The periodic report.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub lang: &'static str,
    pub period: String,
    pub period_name: String,
    /// The period a year before, as its id.
    pub period_before: String,
    /// When it was made: Unix seconds, and as Vietnam time.
    pub generated_at: i64,
    pub generated_at_text: String,
    /// The unit first, then each unit below it by name.
    pub units: Vec<ReportUnit>,
    pub sections: Vec<ReportSection>,
}

impl Report {
    /// The unit the report is for.
    pub fn unit(&self) -> &ReportUnit {
        &self.units[0]
    }
    pub fn file_name(&self, f: Format) -> String {
        let safe: String =
            self.unit().code.chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' { c } else { '_' }).collect();
        format!("ngoso-{safe}-{}.{}", self.period, f.extension())
    }
}

/// Rounds a figure the way the report writes it: a percent to one decimal, the rest whole.
fn rounded(kind: Kind, v: f64) -> f64 {
    match kind {
        Kind::Percent => (v * 10.0).round() / 10.0,
        _ => v.round(),
    }
}

fn kind_of(k: &str) -> Kind {
    match k {
        "money" => Kind::Money,
        "percent" => Kind::Percent,
        _ => Kind::Count,
    }
}

/// Builds the report of a unit (which the caller may see) for a period.
pub async fn build(st: &AppState, unit: &Unit, period: &Period, lang: Lang) -> Result<Report, AppError> {
    let english = lang == Lang::En;
    let tr = Tr(lang);
    // The units below as the tree stood at the period's end (or today, for a period not
    // over): a period before a restructuring is reported as it was.
    let on = crate::units::period_tree_day(unit, period, ngoso_store::teams::today());
    let children = units::children_on(&st.db, Some(unit.id), on).await?;
    let mut report_units = vec![ReportUnit { code: unit.code.clone(), name: unit.name.clone() }];
    report_units.extend(children.iter().map(|c| ReportUnit { code: c.code.clone(), name: c.name.clone() }));

    // Indicators: the unit with its year before, then each child.
    let own = crate::indicators::headline(st, unit, period, english).await?;
    let per_child = crate::indicators::measured_children(st, &children, period, english).await?;
    let sections_of = crate::indicators::sections(st).await?;
    let mut sections: Vec<ReportSection> = Vec::new();
    for s in Section::ALL {
        let mut lines = Vec::new();
        for (n, h) in own.iter().enumerate() {
            if sections_of.get(&h.id) != Some(&s) {
                continue;
            }
            let kind = kind_of(h.kind);
            let cell = |h: &crate::indicators::Headline| Cell {
                value: h.value.map(|v| rounded(kind, v)),
                target: h.target.map(|t| if kind == Kind::Percent { t as f64 / 100.0 } else { t as f64 }),
                achievement: h.achievement.map(|a| rounded(Kind::Percent, a)),
            };
            let mut cells = vec![cell(h)];
            cells.extend(per_child.iter().map(|c| c.get(n).map(cell).unwrap_or_default()));
            lines.push(Line {
                code: h.code.clone(),
                name: h.name.clone(),
                kind,
                cells,
                year_before: h.year_before.map(|v| rounded(kind, v)),
            });
        }
        sections.push(ReportSection { key: s.as_str(), title: tr.t(&format!("report-section-{}", s.as_str())), lines });
    }
    sections.push(teams_section(st, unit, &children, &tr).await?);
    let now = ngoso_store::now();
    Ok(Report {
        lang: if english { "en" } else { "vi" },
        period: period.id(),
        period_name: period.name(english),
        period_before: period.year_before().id(),
        generated_at: now,
        generated_at_text: tr.datetime(&now),
        units: report_units,
        sections,
    })
}

/// The teams of the unit and of each unit below it: teams, active members, and teams whose
/// size is outside the configured bounds (today's state).
async fn teams_section(
    st: &AppState,
    unit: &Unit,
    children: &[units::UnitListItem],
    tr: &Tr,
) -> Result<ReportSection, AppError> {
    let teams = ngoso_store::teams::list(&st.db, Some(&unit.unit_path())).await?;
    let bounds: TeamBounds = st.cfg.team_bounds();
    let paths: Vec<UnitPath> = children.iter().map(|c| UnitPath::from_stored(c.path.clone())).collect();
    let n = children.len() + 1;
    let (mut count, mut members, mut outside) = (vec![0i64; n], vec![0i64; n], vec![0i64; n]);
    for t in &teams {
        let tp = t.path();
        let cols = std::iter::once(0).chain(paths.iter().position(|p| p.contains(&tp)).map(|i| i + 1));
        for c in cols {
            count[c] += 1;
            members[c] += t.active_members;
            if t.active_members < bounds.min || t.active_members > bounds.max {
                outside[c] += 1;
            }
        }
    }
    let line = |code: &str, name: String, v: &[i64]| Line {
        code: code.to_owned(),
        name,
        kind: Kind::Count,
        cells: v.iter().map(|x| Cell { value: Some(*x as f64), ..Cell::default() }).collect(),
        year_before: None,
    };
    Ok(ReportSection {
        key: "teams",
        title: tr.t("report-section-teams"),
        lines: vec![
            line("TEAMS", tr.t("report-teams"), &count),
            line("TEAM_MEMBERS_ACTIVE", tr.t("report-team-members"), &members),
            line(
                "TEAMS_OUTSIDE_SIZE",
                crate::http::i18n::msg(
                    tr.0,
                    "report-teams-outside",
                    &[("min", &bounds.min.to_string()), ("max", &bounds.max.to_string())],
                ),
                &outside,
            ),
        ],
    })
}
