//! The report written out: XLSX, CSV, HTML and JSON, from the same [`Report`].

use askama::Template;
use rust_xlsxwriter::{Format as XlsxFormat, Workbook, Worksheet, XlsxError};
use serde::Serialize;
use utoipa::ToSchema;

use super::{Cell, Format, Kind, Line, Report};
use crate::http::error::AppError;
use crate::http::i18n::{Lang, Tr, format_int};

/// Writes the report in a format; a file's HTML carries its style, a served page links it.
pub fn write(r: &Report, f: Format, file: bool) -> Result<Vec<u8>, AppError> {
    match f {
        Format::Xlsx => xlsx(r).map_err(AppError::internal),
        Format::Csv => Ok(csv(r).into_bytes()),
        Format::Html => Ok(html(r, file)?.into_bytes()),
        Format::Json => serde_json::to_vec_pretty(&json(r)).map_err(AppError::internal),
    }
}

fn lang(r: &Report) -> Lang {
    if r.lang == "en" { Lang::En } else { Lang::Vi }
}

/// A figure as a machine reads it: a percent to one decimal, the rest whole.
pub fn machine(kind: Kind, v: f64) -> String {
    match kind {
        Kind::Percent => format!("{v:.1}"),
        _ => format!("{}", v.round() as i64),
    }
}

/// A figure the Vietnamese way (`255.600`, `12.000.000.000 đồng`, `20,5 %`): exact, as a
/// report must be.
pub fn shown(tr: &Tr, kind: Kind, v: Option<f64>) -> String {
    match v {
        None => "—".to_owned(),
        Some(v) => match kind {
            Kind::Count => format_int(v.round() as i64, tr.0),
            Kind::Money => format!("{} {}", format_int(v.round() as i64, tr.0), tr.t("report-dong")),
            Kind::Percent => tr.pct(v),
        },
    }
}

// ---- JSON: DHIS2's dataValueSets shape ----

/// The report as a DHIS2 data value set.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DataValueSetReport {
    /// Always `NGOSO_PERIODIC_REPORT`.
    pub data_set: String,
    pub period: String,
    /// The report's unit.
    pub org_unit: String,
    /// The day it was made, `YYYY-MM-DD` (Vietnam time).
    pub complete_date: String,
    pub data_values: Vec<ReportValue>,
}

/// A figure of the report.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ReportValue {
    /// The indicator's code (or `TEAMS`, `TEAM_MEMBERS_ACTIVE`, `TEAMS_OUTSIDE_SIZE`).
    pub data_element: String,
    /// The report's period, or for the year before the same period a year earlier.
    pub period: String,
    pub org_unit: String,
    /// Absent for the figure itself; `TARGET` for its target, `ACHIEVEMENT` for the share
    /// of the target reached (a percent).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub category_option_combo: Option<String>,
    /// A whole number (count, đồng) or a percent to one decimal, as text.
    pub value: String,
}

pub fn json(r: &Report) -> DataValueSetReport {
    let mut values = Vec::new();
    for s in &r.sections {
        for l in &s.lines {
            for (u, c) in r.units.iter().zip(&l.cells) {
                let mut push = |combo: Option<&str>, kind: Kind, v: Option<f64>, period: &str| {
                    if let Some(v) = v {
                        values.push(ReportValue {
                            data_element: l.code.clone(),
                            period: period.to_owned(),
                            org_unit: u.code.clone(),
                            category_option_combo: combo.map(str::to_owned),
                            value: machine(kind, v),
                        });
                    }
                };
                push(None, l.kind, c.value, &r.period);
                push(Some("TARGET"), l.kind, c.target, &r.period);
                push(Some("ACHIEVEMENT"), Kind::Percent, c.achievement, &r.period);
            }
            if let Some(v) = l.year_before {
                values.push(ReportValue {
                    data_element: l.code.clone(),
                    period: r.period_before.clone(),
                    org_unit: r.unit().code.clone(),
                    category_option_combo: None,
                    value: machine(l.kind, v),
                });
            }
        }
    }
    let day = chrono::DateTime::from_timestamp(r.generated_at, 0)
        .map(|t| t.with_timezone(&ngoso_core::calendar::tz()).format("%Y-%m-%d").to_string())
        .unwrap_or_default();
    DataValueSetReport {
        data_set: "NGOSO_PERIODIC_REPORT".to_owned(),
        period: r.period.clone(),
        org_unit: r.unit().code.clone(),
        complete_date: day,
        data_values: values,
    }
}

// ---- CSV ----

/// The CSV's columns, one line per figure and unit.
pub const CSV_HEADER: &str =
    "section,indicator_code,indicator,unit_code,unit,period,value,target,achievement_percent,year_before";

pub fn csv(r: &Report) -> String {
    let mut w = csv::WriterBuilder::new().has_headers(false).from_writer(Vec::new());
    let opt = |kind: Kind, v: Option<f64>| v.map(|v| machine(kind, v)).unwrap_or_default();
    for s in &r.sections {
        for l in &s.lines {
            for (i, (u, c)) in r.units.iter().zip(&l.cells).enumerate() {
                let before = if i == 0 { opt(l.kind, l.year_before) } else { String::new() };
                let _ = w.write_record([
                    s.key,
                    &l.code,
                    &l.name,
                    &u.code,
                    &u.name,
                    &r.period,
                    &opt(l.kind, c.value),
                    &opt(l.kind, c.target),
                    &opt(Kind::Percent, c.achievement),
                    &before,
                ]);
            }
        }
    }
    let body = w.into_inner().map(|b| String::from_utf8_lossy(&b).into_owned()).unwrap_or_default();
    format!("\u{feff}{CSV_HEADER}\r\n{body}")
}

// ---- HTML ----

/// A line of the unit's table, as shown.
struct ShownLine {
    code: String,
    name: String,
    value: String,
    target: String,
    achievement: String,
    year_before: String,
}

/// A cell of the table of units below, as shown.
struct ShownCell {
    value: String,
    /// `target · achievement`, or empty.
    target: String,
}

struct ShownSection {
    title: String,
    lines: Vec<ShownLine>,
    /// Names of the lines (columns of the table of units below).
    columns: Vec<String>,
    /// One row per unit below: (code, name, cells).
    children: Vec<(String, String, Vec<ShownCell>)>,
}

#[derive(Template)]
#[template(path = "report/print.html")]
struct Print<'a> {
    tr: Tr,
    inline_css: Option<&'static str>,
    css_url: &'static str,
    r: &'a Report,
    sections: Vec<ShownSection>,
}

fn shown_cell(tr: &Tr, l: &Line, c: &Cell) -> ShownCell {
    let target = match (c.target, c.achievement) {
        (None, _) => String::new(),
        (Some(t), a) => {
            format!("{} {} · {}", tr.t("report-target-short"), shown(tr, l.kind, Some(t)), shown(tr, Kind::Percent, a))
        }
    };
    ShownCell { value: shown(tr, l.kind, c.value), target }
}

pub fn html(r: &Report, inline_style: bool) -> Result<String, AppError> {
    let tr = Tr(lang(r));
    let sections = r
        .sections
        .iter()
        .map(|s| ShownSection {
            title: s.title.clone(),
            lines: s
                .lines
                .iter()
                .map(|l| ShownLine {
                    code: l.code.clone(),
                    name: l.name.clone(),
                    value: shown(&tr, l.kind, l.cells[0].value),
                    target: shown(&tr, l.kind, l.cells[0].target),
                    achievement: shown(&tr, Kind::Percent, l.cells[0].achievement),
                    year_before: shown(&tr, l.kind, l.year_before),
                })
                .collect(),
            columns: s.lines.iter().map(|l| l.name.clone()).collect(),
            children: r
                .units
                .iter()
                .enumerate()
                .skip(1)
                .map(|(i, u)| {
                    (u.code.clone(), u.name.clone(), s.lines.iter().map(|l| shown_cell(&tr, l, &l.cells[i])).collect())
                })
                .collect(),
        })
        .collect();
    let inline_css = inline_style.then(crate::http::assets::report_css);
    Ok(Print { tr, inline_css, css_url: crate::http::assets::report_css_url(), r, sections }.render()?)
}

// ---- XLSX ----

/// A sheet's name: at most 31 characters, none of `[]:*?/\`.
fn sheet_name(title: &str) -> String {
    title.chars().filter(|c| !"[]:*?/\\".contains(*c)).take(31).collect()
}

struct Styles {
    title: XlsxFormat,
    head: XlsxFormat,
    count: XlsxFormat,
    money: XlsxFormat,
    percent: XlsxFormat,
}

impl Styles {
    fn new() -> Styles {
        Styles {
            title: XlsxFormat::new().set_bold().set_font_size(14),
            head: XlsxFormat::new().set_bold().set_text_wrap().set_background_color("#E8EEF4"),
            count: XlsxFormat::new().set_num_format("#,##0"),
            money: XlsxFormat::new().set_num_format("#,##0 \"đ\""),
            percent: XlsxFormat::new().set_num_format("0.0%"),
        }
    }
    fn number(&self, ws: &mut Worksheet, row: u32, col: u16, kind: Kind, v: Option<f64>) -> Result<(), XlsxError> {
        let Some(v) = v else {
            return Ok(());
        };
        match kind {
            Kind::Count => ws.write_number_with_format(row, col, v, &self.count)?,
            Kind::Money => ws.write_number_with_format(row, col, v, &self.money)?,
            Kind::Percent => ws.write_number_with_format(row, col, v / 100.0, &self.percent)?,
        };
        Ok(())
    }
}

/// The workbook: a cover sheet naming the unit, period and time of making, then a sheet per
/// section with the unit's figures on top and the units below it underneath.
pub fn xlsx(r: &Report) -> Result<Vec<u8>, XlsxError> {
    let tr = Tr(lang(r));
    let st = Styles::new();
    let mut wb = Workbook::new();
    {
        let ws = wb.add_worksheet();
        ws.set_name(sheet_name(&tr.t("report-cover")))?;
        ws.set_column_width(0, 24)?;
        ws.set_column_width(1, 48)?;
        ws.write_string_with_format(0, 0, tr.t("report-title"), &st.title)?;
        let facts = [
            (tr.t("report-unit"), format!("{} ({})", r.unit().name, r.unit().code)),
            (tr.t("report-period"), format!("{} ({})", r.period_name, r.period)),
            (tr.t("report-generated"), r.generated_at_text.clone()),
            (tr.t("report-units-below"), r.units.len().saturating_sub(1).to_string()),
        ];
        for (i, (k, v)) in facts.iter().enumerate() {
            ws.write_string_with_format(2 + i as u32, 0, k, &st.head)?;
            ws.write_string(2 + i as u32, 1, v)?;
        }
        ws.write_string_with_format(7, 0, tr.t("report-sections"), &st.head)?;
        for (i, s) in r.sections.iter().enumerate() {
            ws.write_string(7 + i as u32, 1, &s.title)?;
        }
        ws.write_string(8 + r.sections.len() as u32, 0, tr.t("report-source"))?;
    }
    for s in &r.sections {
        let ws = wb.add_worksheet();
        ws.set_name(sheet_name(&s.title))?;
        ws.write_string_with_format(0, 0, &s.title, &st.title)?;
        ws.write_string(1, 0, format!("{} ({}) · {} ({})", r.unit().name, r.unit().code, r.period_name, r.period))?;
        let heads = [
            tr.t("report-col-code"),
            tr.t("report-col-indicator"),
            tr.t("report-col-value"),
            tr.t("report-col-target"),
            tr.t("report-col-achievement"),
            tr.t1("report-col-year-before", "period", &r.period_before),
        ];
        for (c, h) in heads.iter().enumerate() {
            ws.write_string_with_format(3, c as u16, h, &st.head)?;
        }
        ws.set_column_width(0, 22)?;
        ws.set_column_width(1, 44)?;
        for c in 2..=5 {
            ws.set_column_width(c, 18)?;
        }
        for (i, l) in s.lines.iter().enumerate() {
            let row = 4 + i as u32;
            ws.write_string(row, 0, &l.code)?;
            ws.write_string(row, 1, &l.name)?;
            st.number(ws, row, 2, l.kind, l.cells[0].value)?;
            st.number(ws, row, 3, l.kind, l.cells[0].target)?;
            st.number(ws, row, 4, Kind::Percent, l.cells[0].achievement)?;
            st.number(ws, row, 5, l.kind, l.year_before)?;
        }
        if r.units.len() > 1 {
            let top = 6 + s.lines.len() as u32;
            ws.write_string_with_format(top, 0, tr.t("report-units-below"), &st.title)?;
            let head = top + 1;
            ws.write_string_with_format(head, 0, tr.t("report-col-unit-code"), &st.head)?;
            ws.write_string_with_format(head, 1, tr.t("report-col-unit"), &st.head)?;
            for (j, l) in s.lines.iter().enumerate() {
                let col = 2 + 3 * j as u16;
                ws.write_string_with_format(head, col, &l.name, &st.head)?;
                ws.write_string_with_format(head, col + 1, tr.t("report-col-target"), &st.head)?;
                ws.write_string_with_format(head, col + 2, tr.t("report-col-achievement"), &st.head)?;
            }
            for (i, u) in r.units.iter().enumerate().skip(1) {
                let row = head + i as u32;
                ws.write_string(row, 0, &u.code)?;
                ws.write_string(row, 1, &u.name)?;
                for (j, l) in s.lines.iter().enumerate() {
                    let col = 2 + 3 * j as u16;
                    let c = &l.cells[i];
                    st.number(ws, row, col, l.kind, c.value)?;
                    st.number(ws, row, col + 1, l.kind, c.target)?;
                    st.number(ws, row, col + 2, Kind::Percent, c.achievement)?;
                }
            }
        }
        ws.set_freeze_panes(4, 2)?;
    }
    wb.save_to_buffer()
}
