//! Raw data for analysts: visits of a unit's subtree and a date range as CSV, streamed a
//! page at a time. A caller who may read the area's people also gets each visit's household
//! code and note (and the export is audit-logged); anyone else gets no personal data.

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::Response;
use ngoso_core::Invalid;
use ngoso_core::auth::{self as access, Action, may};
use ngoso_core::calendar::{end_of_day, parse_day, start_of_day};
use ngoso_store::Db;
use ngoso_store::visits::{self, ExportFilter};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::auth::{ApiUser, can};
use crate::http::error::{ApiErrorBody, AppError};
use crate::http::extract::Query;

/// Rows read per query.
const PAGE: i64 = 100_000;

/// The export's API.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(visits_csv))
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
}

/// The stream's state: where the next chunk starts, or done.
struct Cursor {
    db: Db,
    filter: ExportFilter,
    access: Option<access::Granted<may::ViewPersonalData, access::Area>>,
    header: Option<String>,
    done: bool,
}

async fn next_chunk(mut c: Cursor) -> Option<(Result<Bytes, std::io::Error>, Cursor)> {
    if c.done {
        return None;
    }
    let chunk = match &c.access {
        Some(a) => visits::export_chunk_personal(&c.db, a, &c.filter).await,
        None => visits::export_chunk(&c.db, &c.filter).await,
    };
    let chunk = match chunk {
        Ok(r) => r,
        Err(e) => {
            tracing::error!(error = %e, "the visits export failed part way");
            return Some((Err(std::io::Error::other("export failed")), Cursor { done: true, ..c }));
        }
    };
    let mut out = c.header.take().unwrap_or_default();
    out.push_str(&chunk.csv);
    c.done = chunk.window < c.filter.limit;
    if let Some(last) = chunk.last {
        c.filter.after = last;
    }
    Some((Ok(Bytes::from(out)), c))
}

/// Visits of a unit's subtree between two days, as CSV (UTF-8 with a byte-order mark, so
/// spreadsheets read the Vietnamese right), streamed. Columns: `visit_id, unit_code,
/// [household_code,] team_id, visited_at, month, result, barriers[, note]` — the bracketed
/// ones only for callers who may read the area's people, and then the export is audit-logged.
#[utoipa::path(get, path = "/api/v1/export/visits", tag = "export", params(ExportQuery),
    responses((status = 200, content_type = "text/csv", body = String), (status = 400, body = ApiErrorBody),
        (status = 404, body = ApiErrorBody), (status = 422, body = ApiErrorBody)))]
pub async fn visits_csv(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    Query(q): Query<ExportQuery>,
) -> Result<Response, AppError> {
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
    let personal = can(&p, Action::ViewPersonalData, &path);
    let access = if personal { Some(access::area::<may::ViewPersonalData>(&p.actor(), Some(&path))?) } else { None };
    let header = format!("\u{feff}{}", visits::export_header(personal));
    let cursor = Cursor {
        db: st.db.clone(),
        filter: ExportFilter { within: path, from: start_of_day(from), to: end_of_day(to), after: 0, limit: PAGE },
        access,
        header: Some(header),
        done: false,
    };
    let body = Body::from_stream(futures_util::stream::unfold(cursor, next_chunk));
    let mut res = Response::new(body);
    let h = res.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/csv; charset=utf-8"));
    let name =
        format!("attachment; filename=\"visits-{}-{}-{}.csv\"", unit.code, from.format("%Y%m%d"), to.format("%Y%m%d"));
    if let Ok(v) = HeaderValue::from_str(&name) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(res)
}
