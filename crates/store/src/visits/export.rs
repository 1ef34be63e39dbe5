//! The raw export of visits for analysts, a chunk of CSV lines at a time in visit order, so
//! that a million rows stream in bounded memory. The database writes the lines itself (one
//! text value per chunk), which spares decoding each row's columns. Without core's proof of
//! access to the area's people a line carries no personal data: no household code, no note.

use ngoso_core::auth::{Area, Granted, may};
use ngoso_core::outreach::Barrier;
use ngoso_core::unit::UnitPath;

use crate::{Backend, Db, Result, on_db};

/// Which visits to export: of the households in `within`, visited in `from..=to` (Unix
/// times), after the visit `after` (0: from the first).
#[derive(Debug, Clone)]
pub struct ExportFilter {
    pub within: UnitPath,
    pub from: i64,
    pub to: i64,
    pub after: i64,
    pub limit: i64,
}

/// A chunk of the export: CSV lines (`visit_id, unit_code, [household_code,] team_id,
/// visited_at, month, result, barriers[, note]`, CRLF-terminated) of a window of `limit`
/// visits in key order. The window's visits outside the area or days make no line; the
/// export is over when a window holds fewer than `limit` visits.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExportChunk {
    /// Lines written.
    pub lines: i64,
    /// Visits in the window.
    pub window: i64,
    /// The last visit of the window: the next chunk starts after it.
    pub last: Option<i64>,
    pub csv: String,
}

/// The header line of the export.
pub fn header(personal: bool) -> &'static str {
    if personal {
        "visit_id,unit_code,household_code,team_id,visited_at,month,result,barriers,note\r\n"
    } else {
        "visit_id,unit_code,team_id,visited_at,month,result,barriers\r\n"
    }
}

/// The SQL of a chunk; built from constants only (the barrier codes of core).
fn sql(backend: Backend, personal: bool, limit: i64) -> String {
    let quoted = |col: &str| format!("'\"' || REPLACE({col}, '\"', '\"\"') || '\"'");
    let barriers: Vec<String> = Barrier::ALL
        .iter()
        .map(|b| format!("CASE WHEN (v.barriers & {}) <> 0 THEN '{};' ELSE '' END", b.bit(), b.as_str()))
        .collect();
    let barriers = format!("RTRIM({}, ';')", barriers.join(" || "));
    let time = match backend {
        Backend::Sqlite => "strftime('%Y-%m-%dT%H:%M:%S', v.visited_at + 25200, 'unixepoch')".to_owned(),
        Backend::Postgres => {
            "to_char(to_timestamp(v.visited_at + 25200) AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS')".to_owned()
        }
    };
    let (hh, note) = if personal {
        (format!("{} || ',' || ", quoted("h.code")), format!(" || ',' || {}", quoted("v.note")))
    } else {
        (String::new(), String::new())
    };
    let line = format!(
        "v.id || ',' || u.code || ',' || {hh}CAST(v.team_id AS TEXT) || ',' || {time} || '+07:00,' || v.month || ',' || \
         v.result || ',' || {barriers}{note} || CHR_CRLF"
    );
    let (crlf, agg) = match backend {
        Backend::Sqlite => ("char(13, 10)", "group_concat(x.line, '')"),
        Backend::Postgres => ("(chr(13) || chr(10))", "string_agg(x.line, '' ORDER BY x.seq)"),
    };
    let line = line.replace("CHR_CRLF", crlf);
    // A window of the next `limit` visits by their key (an index range on any plan), then the
    // window's visits of the area and days asked for, as lines. The limit is written into the
    // text, so that the planner knows how small the window is.
    format!(
        "WITH win AS (SELECT * FROM visits WHERE seq > $1 ORDER BY seq LIMIT {limit}) \
         SELECT (SELECT CAST(COUNT(*) AS BIGINT) FROM win), (SELECT MAX(seq) FROM win), \
         (SELECT {agg} FROM (SELECT v.seq, {line} AS line FROM win v JOIN households h ON h.id = v.household_id \
         JOIN units u ON u.id = h.unit_id WHERE v.visited_at >= $2 AND v.visited_at <= $3 AND u.path >= $4 AND u.path < $5 \
         ORDER BY v.seq) x)"
    )
}

async fn chunk(db: &Db, f: &ExportFilter, personal: bool) -> Result<ExportChunk> {
    let sql = sql(db.backend(), personal, f.limit.max(1));
    let (window, last, csv): (i64, Option<i64>, Option<String>) = on_db!(db, p => sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
        .bind(f.after).bind(f.from).bind(f.to).bind(f.within.as_str()).bind(f.within.upper_bound())
        .fetch_one(p).await)?;
    let csv = csv.unwrap_or_default();
    Ok(ExportChunk { lines: csv.matches('\n').count() as i64, window, last, csv })
}

/// A chunk of visits without personal data.
pub async fn export_chunk(db: &Db, f: &ExportFilter) -> Result<ExportChunk> {
    chunk(db, f, false).await
}

/// A chunk of visits with the household's code and the note, for a caller with access to
/// the area's people (the filter's area is the proof's); the first chunk writes the audit
/// row (`visits.export`).
pub async fn export_chunk_personal(
    db: &Db,
    access: &Granted<may::ViewPersonalData, Area>,
    f: &ExportFilter,
) -> Result<ExportChunk> {
    let within = access.on().0.clone().unwrap_or_else(|| UnitPath::from_stored("/".into()));
    let f = ExportFilter { within, ..f.clone() };
    let out = chunk(db, &f, true).await?;
    if f.after == 0 {
        let unit = f.within.ids().last().copied().unwrap_or(0);
        crate::audit::read(db, access.user_id(), "visits.export", "unit", unit, &format!("{}..{}", f.from, f.to))
            .await?;
    }
    Ok(out)
}
