//! Raw data for analysts: visits, service statuses and feedback items of a unit's subtree and
//! a date range, as CSV streamed a chunk at a time, or as an XLSX workbook up to its row
//! limit. A caller who may read the area's people (for feedback: who handles the area's
//! feedback) also gets the personal columns, and the export is audit-logged; anyone else
//! gets no personal data. Contacts are never exported.

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::Response;
use ngoso_core::Invalid;
use ngoso_core::auth::{self as access, Action, may};
use ngoso_core::calendar::{end_of_day, parse_day, start_of_day};
use ngoso_store::export::{self as store, Column, Dataset, ExportFilter, Personal};
use ngoso_store::users::Principal;
use rust_xlsxwriter::{ExcelDateTime, Format as XlsxFormat, Workbook, Worksheet, XlsxError};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::auth::{ApiUser, can};
use crate::http::error::{ApiErrorBody, AppError};
use crate::http::extract::Query;

/// Data rows a worksheet holds (its 1,048,576 rows less the header).
pub const XLSX_ROWS: u32 = 1_048_575;

const XLSX_TYPE: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// The export's API.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(visits)).routes(routes!(statuses)).routes(routes!(feedback))
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ExportQuery {
    /// The unit's code (its whole subtree).
    #[serde(default)]
    pub unit: String,
    /// First day, `YYYY-MM-DD` (Vietnam time).
    #[serde(default)]
    pub from: String,
    /// Last day, `YYYY-MM-DD`.
    #[serde(default)]
    pub to: String,
    /// `csv` (the default: streamed, UTF-8 with a byte-order mark) or `xlsx` (one sheet, up
    /// to 1,048,575 rows; more is refused: ask for CSV or fewer days).
    #[serde(default)]
    pub format: String,
}

/// Visits of a unit's subtree visited between two days. Columns: `visit_id, unit_code,
/// [household_code,] team_id, visited_at, month, result, barriers[, note]` — the bracketed
/// ones only for callers who may read the area's people, and then the export is audit-logged.
#[utoipa::path(get, path = "/api/v1/export/visits", tag = "export", params(ExportQuery),
    responses((status = 200, description = "CSV, or XLSX with `format=xlsx`",
            content((String = "text/csv"), (Vec<u8> = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"))),
        (status = 400, body = ApiErrorBody), (status = 404, body = ApiErrorBody), (status = 422, body = ApiErrorBody)))]
pub async fn visits(st: State<AppState>, user: ApiUser, q: Query<ExportQuery>) -> Result<Response, AppError> {
    export(st, user, q, Dataset::Visits).await
}

/// Each household's and resident's current status in each service, last changed between two
/// days, for the households of a unit's subtree. Columns: `unit_code, [household_code,
/// resident_id,] subject, service, status, rank, sex, [birth_year,] age_band, updated_at` —
/// the bracketed ones only for callers who may read the area's people (audit-logged). The
/// age band (`0-14`, `15-59`, `60+`) is reckoned in the year of the last day.
#[utoipa::path(get, path = "/api/v1/export/statuses", tag = "export", params(ExportQuery),
    responses((status = 200, description = "CSV, or XLSX with `format=xlsx`",
            content((String = "text/csv"), (Vec<u8> = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"))),
        (status = 400, body = ApiErrorBody), (status = 404, body = ApiErrorBody), (status = 422, body = ApiErrorBody)))]
pub async fn statuses(st: State<AppState>, user: ApiUser, q: Query<ExportQuery>) -> Result<Response, AppError> {
    export(st, user, q, Dataset::Statuses).await
}

/// Feedback items filed against a unit's subtree, received between two days. Columns: `code,
/// unit_code, category, channel, state, agency, received_at, due_at, answered_at, on_time,
/// closed_at, rating[, description, address, answer]` — the bracketed ones only for callers
/// who handle the area's feedback (audit-logged). Contacts are never exported.
#[utoipa::path(get, path = "/api/v1/export/feedback", tag = "export", params(ExportQuery),
    responses((status = 200, description = "CSV, or XLSX with `format=xlsx`",
            content((String = "text/csv"), (Vec<u8> = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"))),
        (status = 400, body = ApiErrorBody), (status = 404, body = ApiErrorBody), (status = 422, body = ApiErrorBody)))]
pub async fn feedback(st: State<AppState>, user: ApiUser, q: Query<ExportQuery>) -> Result<Response, AppError> {
    export(st, user, q, Dataset::Feedback).await
}

/// What an export was asked for, checked.
struct Asked {
    dataset: Dataset,
    filter: ExportFilter,
    personal: Option<Personal>,
    file: String,
}

fn personal(p: &Principal, d: Dataset, path: &ngoso_core::unit::UnitPath) -> Result<Option<Personal>, AppError> {
    let actor = p.actor();
    Ok(match d {
        Dataset::Visits | Dataset::Statuses if can(p, Action::ViewPersonalData, path) => {
            Some(Personal::People(access::area::<may::ViewPersonalData>(&actor, Some(path))?))
        }
        // Agency staff handle their agency's items, not every item of the area: the
        // citizens' words of the others are not theirs to export.
        Dataset::Feedback if p.agency_id.is_none() && can(p, Action::ProcessFeedback, path) => {
            Some(Personal::Feedback(access::area::<may::ProcessFeedback>(&actor, Some(path))?))
        }
        _ => None,
    })
}

async fn export(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    Query(q): Query<ExportQuery>,
    dataset: Dataset,
) -> Result<Response, AppError> {
    let xlsx = match q.format.trim() {
        "" | "csv" => false,
        "xlsx" => true,
        other => return Err(Invalid::field("export-format-invalid", "format").with_detail(other).into()),
    };
    if q.unit.trim().is_empty() {
        return Err(Invalid::field("required", "unit").into());
    }
    let unit = crate::units::visible_by_code(&st.db, &p, &q.unit).await?;
    let from = parse_day(&q.from, "from")?;
    let to = parse_day(&q.to, "to")?;
    if to < from {
        return Err(Invalid::field("date-range-invalid", "to").with_detail(q.to.trim()).into());
    }
    let path = unit.unit_path();
    let asked = Asked {
        dataset,
        personal: personal(&p, dataset, &path)?,
        filter: ExportFilter {
            within: path,
            from: start_of_day(from),
            to: end_of_day(to),
            after: 0,
            limit: dataset.window(),
        },
        file: format!(
            "{}-{}-{}-{}.{}",
            dataset.as_str(),
            unit.code,
            from.format("%Y%m%d"),
            to.format("%Y%m%d"),
            if xlsx { "xlsx" } else { "csv" }
        ),
    };
    let export = store::open(&st.db, asked.dataset, &asked.filter, asked.personal.as_ref()).await?;
    let personal = asked.personal.is_some();
    let (body, kind) = if xlsx {
        (Body::from(workbook(export, asked.dataset, personal).await?), XLSX_TYPE)
    } else {
        (csv_body(export, format!("\u{feff}{}", asked.dataset.header(personal))), "text/csv; charset=utf-8")
    };
    let mut res = Response::new(body);
    let h = res.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(kind));
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{}\"", asked.file)) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(res)
}

/// CSV in UTF-8 with a byte-order mark (so spreadsheets read the Vietnamese right), the
/// header first, then the lines as the store reads them.
fn csv_body(export: store::Export, header: String) -> Body {
    let first = futures_util::stream::once(async move { Ok::<_, std::io::Error>(Bytes::from(header)) });
    let rest = futures_util::stream::unfold(Some(export), |e| async move {
        let mut e = e?;
        match e.next().await {
            Ok(Some(lines)) => Some((Ok(Bytes::from(lines)), Some(e))),
            Ok(None) => None,
            Err(err) => {
                tracing::error!(error = %err, "the export failed part way");
                Some((Err(std::io::Error::other("export failed")), None))
            }
        }
    });
    Body::from_stream(futures_util::StreamExt::chain(first, rest))
}

/// The sheet being written, moved to a blocking thread for each chunk.
struct Sheet {
    ws: Worksheet,
    columns: Vec<(&'static str, Column)>,
    time: XlsxFormat,
    rows: u32,
}

impl Sheet {
    /// Writes a chunk's lines; `false` when they would pass the sheet's last row.
    fn write(&mut self, csv: &str) -> Result<bool, XlsxError> {
        let mut r = csv::ReaderBuilder::new().has_headers(false).from_reader(csv.as_bytes());
        for rec in r.records() {
            // The store wrote these lines: one it cannot read back is a fault, not a row to drop.
            let rec = rec.map_err(|e| XlsxError::ParameterError(format!("export line: {e}")))?;
            if self.rows >= XLSX_ROWS {
                return Ok(false);
            }
            self.rows += 1;
            let row = self.rows;
            for (c, (v, (_, kind))) in rec.iter().zip(&self.columns).enumerate() {
                let c = c as u16;
                if v.is_empty() {
                    continue;
                }
                match kind {
                    Column::Integer => match v.parse::<i64>() {
                        Ok(n) => self.ws.write_number(row, c, n as f64)?,
                        Err(_) => self.ws.write_string(row, c, v)?,
                    },
                    Column::Time => match ExcelDateTime::parse_from_str(v.get(..19).unwrap_or(v)) {
                        Ok(t) => self.ws.write_datetime_with_format(row, c, &t, &self.time)?,
                        Err(_) => self.ws.write_string(row, c, v)?,
                    },
                    Column::Text => self.ws.write_string(row, c, v)?,
                };
            }
        }
        Ok(true)
    }
}

fn xlsx_failed(e: impl std::fmt::Display) -> AppError {
    AppError::internal(format!("the XLSX export failed: {e}"))
}

/// One sheet named after the dataset, its header in bold, times as spreadsheet times in
/// Vietnam time, whole numbers as numbers; written a chunk at a time to a temporary file, so
/// a million rows take little memory. More rows than a sheet holds: refused.
async fn workbook(mut export: store::Export, d: Dataset, personal: bool) -> Result<Vec<u8>, AppError> {
    let mut wb = Workbook::new();
    let mut ws = wb.new_worksheet_with_constant_memory().map_err(xlsx_failed)?;
    ws.set_name(d.as_str()).map_err(xlsx_failed)?;
    let columns = d.columns(personal);
    let bold = XlsxFormat::new().set_bold();
    for (c, (name, kind)) in columns.iter().enumerate() {
        ws.write_string_with_format(0, c as u16, *name, &bold).map_err(xlsx_failed)?;
        let width = match kind {
            Column::Time => 20.0,
            Column::Integer => 10.0,
            Column::Text => 14.0,
        };
        ws.set_column_width(c as u16, width).map_err(xlsx_failed)?;
    }
    let mut sheet = Sheet { ws, columns, time: XlsxFormat::new().set_num_format("yyyy-mm-dd hh:mm:ss"), rows: 0 };
    while let Some(lines) = export.next().await? {
        let (back, fits) = tokio::task::spawn_blocking(move || {
            let fits = sheet.write(&lines);
            (sheet, fits)
        })
        .await
        .map_err(xlsx_failed)?;
        sheet = back;
        if !fits.map_err(xlsx_failed)? {
            return Err(Invalid::field("export-too-many-rows", "format").with_detail(XLSX_ROWS.to_string()).into());
        }
    }
    wb.push_worksheet(sheet.ws);
    tokio::task::spawn_blocking(move || wb.save_to_buffer()).await.map_err(xlsx_failed)?.map_err(xlsx_failed)
}
