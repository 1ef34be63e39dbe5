//! The raw export for analysts: visits, service statuses and feedback items of a unit's
//! subtree and a date range, a chunk of CSV lines at a time in key order, so that a million
//! rows stream in bounded memory. The database writes the lines itself (one text value per
//! chunk), which spares decoding each row's columns. Without core's proof of access a line
//! carries no personal data: no household code, no resident, no note, no citizen's words;
//! with it, the first chunk writes the audit row. Contacts are never exported.

use ngoso_core::auth::{Area, Granted, may};
use ngoso_core::outreach::Barrier;
use ngoso_core::unit::UnitPath;

use crate::{Backend, Db, Result, StoreError, on_db};

/// What is exported.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dataset {
    /// Visits, by the day visited.
    Visits,
    /// Each household's and resident's current status in each service, by the day it was
    /// last changed.
    Statuses,
    /// Feedback items with a unit, by the day received.
    Feedback,
}

/// How a column reads in a spreadsheet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Column {
    Text,
    /// A whole number (empty: none).
    Integer,
    /// A Vietnam time, `YYYY-MM-DDTHH:MM:SS+07:00` (empty: none).
    Time,
}

impl Dataset {
    pub const ALL: [Dataset; 3] = [Dataset::Visits, Dataset::Statuses, Dataset::Feedback];

    pub fn as_str(self) -> &'static str {
        match self {
            Dataset::Visits => "visits",
            Dataset::Statuses => "statuses",
            Dataset::Feedback => "feedback",
        }
    }

    /// The columns, by name and kind; the personal ones only with `personal`.
    pub fn columns(self, personal: bool) -> Vec<(&'static str, Column)> {
        use Column::*;
        let all: &[(&str, Column, bool)] = match self {
            Dataset::Visits => &[
                ("visit_id", Text, false),
                ("unit_code", Text, false),
                ("household_code", Text, true),
                ("team_id", Integer, false),
                ("visited_at", Time, false),
                ("month", Text, false),
                ("result", Text, false),
                ("barriers", Text, false),
                ("note", Text, true),
            ],
            Dataset::Statuses => &[
                ("unit_code", Text, false),
                ("household_code", Text, true),
                ("resident_id", Integer, true),
                ("subject", Text, false),
                ("service", Text, false),
                ("status", Text, false),
                ("rank", Integer, false),
                ("sex", Text, false),
                ("birth_year", Integer, true),
                ("age_band", Text, false),
                ("updated_at", Time, false),
            ],
            Dataset::Feedback => &[
                ("code", Text, false),
                ("unit_code", Text, false),
                ("category", Text, false),
                ("channel", Text, false),
                ("state", Text, false),
                ("agency", Text, false),
                ("received_at", Time, false),
                ("due_at", Time, false),
                ("answered_at", Time, false),
                ("on_time", Text, false),
                ("closed_at", Time, false),
                ("rating", Text, false),
                ("description", Text, true),
                ("address", Text, true),
                ("answer", Text, true),
            ],
        };
        all.iter().filter(|c| personal || !c.2).map(|c| (c.0, c.1)).collect()
    }

    /// The header line.
    pub fn header(self, personal: bool) -> String {
        let names: Vec<&str> = self.columns(personal).iter().map(|c| c.0).collect();
        format!("{}\r\n", names.join(","))
    }

    /// Rows of the key a chunk's window spans: visits, households or items.
    pub fn window(self) -> i64 {
        match self {
            Dataset::Visits => 100_000,
            Dataset::Statuses => 10_000,
            Dataset::Feedback => 50_000,
        }
    }

    fn audit_action(self) -> &'static str {
        match self {
            Dataset::Visits => "visits.export",
            Dataset::Statuses => "statuses.export",
            Dataset::Feedback => "feedback.export",
        }
    }
}

/// Which rows to export: of the units in `within`, on Unix times `from..=to`, after the key
/// `after` (0: from the first), a window of `limit` keys at a time.
#[derive(Debug, Clone)]
pub struct ExportFilter {
    pub within: UnitPath,
    pub from: i64,
    pub to: i64,
    pub after: i64,
    pub limit: i64,
}

/// A chunk of the export: CRLF-terminated CSV lines of a window of `limit` keys (visits,
/// households or items) in key order. The window's rows outside the area or days make no
/// line; the export is over when a window holds fewer than `limit` keys.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExportChunk {
    /// Lines written.
    pub lines: i64,
    /// Keys in the window.
    pub window: i64,
    /// The window's last key: the next chunk starts after it.
    pub last: Option<i64>,
    pub csv: String,
}

/// The proof a personal export needs: access to the area's people for visits and statuses,
/// to its feedback for items.
#[derive(Debug, Clone)]
pub enum Personal {
    People(Granted<may::ViewPersonalData, Area>),
    Feedback(Granted<may::ProcessFeedback, Area>),
}

impl Personal {
    fn fits(&self, d: Dataset) -> bool {
        matches!(
            (self, d),
            (Personal::People(_), Dataset::Visits | Dataset::Statuses) | (Personal::Feedback(_), Dataset::Feedback)
        )
    }
    fn area(&self) -> &Area {
        match self {
            Personal::People(g) => g.on(),
            Personal::Feedback(g) => g.on(),
        }
    }
    fn user_id(&self) -> i64 {
        match self {
            Personal::People(g) => g.user_id(),
            Personal::Feedback(g) => g.user_id(),
        }
    }
}

/// SQL text that quotes a text column for CSV (empty when `NULL`).
fn quoted(col: &str) -> String {
    format!("'\"' || REPLACE(COALESCE({col}, ''), '\"', '\"\"') || '\"'")
}

/// SQL text of a Unix time as Vietnam time (empty when `NULL`).
fn time(backend: Backend, col: &str) -> String {
    match backend {
        Backend::Sqlite => format!("COALESCE(strftime('%Y-%m-%dT%H:%M:%S+07:00', {col} + 25200, 'unixepoch'), '')"),
        Backend::Postgres => format!(
            "COALESCE(to_char(to_timestamp({col} + 25200) AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"+07:00\"'), '')"
        ),
    }
}

/// The pieces of a dataset's SQL: the table its window runs over (by the key column), the
/// line, and the rest of the query after `FROM win w`.
struct Parts {
    table: &'static str,
    key: &'static str,
    line: Vec<String>,
    from: String,
    /// The columns lines are ordered by.
    order: &'static [&'static str],
}

fn parts(d: Dataset, backend: Backend, personal: bool, year: i32) -> Parts {
    let path = "u.path >= $4 AND u.path < $5";
    match d {
        Dataset::Visits => {
            let barriers: Vec<String> = Barrier::ALL
                .iter()
                .map(|b| format!("CASE WHEN (w.barriers & {}) <> 0 THEN '{};' ELSE '' END", b.bit(), b.as_str()))
                .collect();
            let mut line = vec!["w.id".to_owned(), "u.code".to_owned()];
            if personal {
                line.push(quoted("h.code"));
            }
            line.extend([
                "CAST(w.team_id AS TEXT)".to_owned(),
                time(backend, "w.visited_at"),
                "w.month".to_owned(),
                "w.result".to_owned(),
                format!("RTRIM({}, ';')", barriers.join(" || ")),
            ]);
            if personal {
                line.push(quoted("w.note"));
            }
            Parts {
                table: "visits",
                key: "seq",
                line,
                from: format!(
                    "JOIN households h ON h.id = w.household_id JOIN units u ON u.id = h.unit_id \
                     WHERE w.visited_at >= $2 AND w.visited_at <= $3 AND {path}"
                ),
                order: &["w.seq"],
            }
        }
        Dataset::Statuses => {
            let mut line = vec!["u.code".to_owned()];
            if personal {
                line.push(quoted("w.code"));
                line.push("CASE WHEN s.resident_id = 0 THEN '' ELSE CAST(s.resident_id AS TEXT) END".to_owned());
            }
            line.extend([
                "sv.subject".to_owned(),
                quoted("sv.code"),
                quoted("st.code"),
                "CAST(st.rank AS TEXT)".to_owned(),
                "COALESCE(r.sex, '')".to_owned(),
            ]);
            if personal {
                line.push("COALESCE(CAST(r.birth_year AS TEXT), '')".to_owned());
            }
            line.extend([
                format!(
                    "CASE WHEN r.birth_year IS NULL THEN '' WHEN {year} - r.birth_year >= 60 THEN '60+' \
                     WHEN {year} - r.birth_year >= 15 THEN '15-59' ELSE '0-14' END"
                ),
                time(backend, "s.updated_at"),
            ]);
            Parts {
                table: "households",
                key: "id",
                line,
                from: format!(
                    "JOIN units u ON u.id = w.unit_id JOIN subject_statuses s ON s.household_id = w.id \
                     JOIN services sv ON sv.id = s.service_id JOIN service_statuses st ON st.id = s.status_id \
                     LEFT JOIN residents r ON r.id = s.resident_id AND s.resident_id <> 0 \
                     WHERE s.updated_at >= $2 AND s.updated_at <= $3 AND {path}"
                ),
                order: &["w.id", "sv.position", "s.resident_id"],
            }
        }
        Dataset::Feedback => {
            let mut line = vec![
                quoted("w.code"),
                "u.code".to_owned(),
                quoted("c.code"),
                "w.channel".to_owned(),
                "w.state".to_owned(),
                quoted("a.code"),
                time(backend, "w.received_at"),
                time(backend, "w.due_at"),
                time(backend, "w.answered_at"),
                "CASE WHEN w.answered_at IS NULL THEN '' WHEN w.answered_at <= w.due_at THEN 'yes' ELSE 'no' END"
                    .to_owned(),
                time(backend, "w.closed_at"),
                "COALESCE(w.rating, '')".to_owned(),
            ];
            if personal {
                line.extend([quoted("w.description"), quoted("w.address"), quoted("w.answer")]);
            }
            Parts {
                table: "feedback",
                key: "id",
                line,
                from: format!(
                    "JOIN units u ON u.id = w.unit_id JOIN feedback_categories c ON c.id = w.category_id \
                     LEFT JOIN agencies a ON a.id = w.agency_id \
                     WHERE w.received_at >= $2 AND w.received_at <= $3 AND {path}"
                ),
                order: &["w.id"],
            }
        }
    }
}

/// The SQL of a chunk; built from constants only (column names, core's codes, the year).
fn sql(d: Dataset, backend: Backend, personal: bool, limit: i64, year: i32) -> String {
    let p = parts(d, backend, personal, year);
    let keys: Vec<String> = (0..p.order.len()).map(|i| format!("x.o{i}")).collect();
    let (crlf, agg) = match backend {
        Backend::Sqlite => ("char(13, 10)", "group_concat(x.line, '')".to_owned()),
        Backend::Postgres => ("(chr(13) || chr(10))", format!("string_agg(x.line, '' ORDER BY {})", keys.join(", "))),
    };
    let line = format!("{} || {crlf}", p.line.join(" || ',' || "));
    let order = p.order.join(", ");
    let ordered: Vec<String> = p.order.iter().enumerate().map(|(i, c)| format!("{c} AS o{i}")).collect();
    let ordered = ordered.join(", ");
    let (table, key, from) = (p.table, p.key, p.from);
    // A window of the next `limit` keys (an index range on any plan), then the window's rows
    // of the area and days asked for, as lines (SQLite's aggregate keeps the inner query's
    // order). The limit is written into the text, so that the planner knows how small the
    // window is.
    format!(
        "WITH win AS (SELECT * FROM {table} WHERE {key} > $1 ORDER BY {key} LIMIT {limit}) \
         SELECT (SELECT CAST(COUNT(*) AS BIGINT) FROM win), (SELECT MAX({key}) FROM win), \
         (SELECT {agg} FROM (SELECT {ordered}, {line} AS line FROM win w {from} ORDER BY {order}) x)"
    )
}

async fn run(db: &Db, d: Dataset, f: &ExportFilter, personal: bool) -> Result<ExportChunk> {
    let year = chrono::DateTime::from_timestamp(f.to.min(253_402_300_799) + 25_200, 0)
        .map(|t| chrono::Datelike::year(&t))
        .unwrap_or(9999);
    let sql = sql(d, db.backend(), personal, f.limit.max(1), year);
    let (window, last, csv): (i64, Option<i64>, Option<String>) = on_db!(db, p => sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
        .bind(f.after).bind(f.from).bind(f.to).bind(f.within.as_str()).bind(f.within.upper_bound())
        .fetch_one(p).await)?;
    let csv = csv.unwrap_or_default();
    Ok(ExportChunk { lines: csv.matches('\n').count() as i64, window, last, csv })
}

/// A chunk without personal data.
pub async fn chunk(db: &Db, d: Dataset, f: &ExportFilter) -> Result<ExportChunk> {
    run(db, d, f, false).await
}

/// A chunk with personal data, for a caller with the proof the dataset asks for (the
/// filter's area is the proof's); the first chunk writes the audit row.
pub async fn chunk_personal(db: &Db, d: Dataset, access: &Personal, f: &ExportFilter) -> Result<ExportChunk> {
    if !access.fits(d) {
        return Err(StoreError::Invalid(ngoso_core::Invalid::field("forbidden", "dataset")));
    }
    let within = access.area().0.clone().unwrap_or_else(|| UnitPath::from_stored("/".into()));
    let f = ExportFilter { within, ..f.clone() };
    let out = run(db, d, &f, true).await?;
    if f.after == 0 {
        let unit = f.within.ids().last().copied().unwrap_or(0);
        crate::audit::read(db, access.user_id(), d.audit_action(), "unit", unit, &format!("{}..{}", f.from, f.to))
            .await?;
    }
    Ok(out)
}
