//! The raw export for analysts: visits, service statuses and feedback items of a unit's
//! subtree and a date range, a chunk of CSV lines at a time in key order, so that a million
//! rows stream in bounded memory. Each engine reads a window's raw columns its fastest way
//! (SQLite on its own handle, PostgreSQL by `COPY … TO STDOUT`) and one formatter writes
//! the lines, the same on both. Without core's proof of access a line
//! carries no personal data: no household code, no resident, no note, no citizen's words;
//! with it, the first chunk writes the audit row. Contacts are never exported.

use ngoso_core::auth::{Area, Granted, may};
use ngoso_core::outreach::Barrier;
use ngoso_core::unit::UnitPath;

use crate::{Db, Result, StoreError, on_db};

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

/// A row of raw columns, from either engine: column `i` as an integer or as text (`None`:
/// `NULL`).
pub(crate) trait Fields {
    fn int(&self, i: usize) -> Option<i64>;
    fn text(&self, i: usize) -> Option<&str>;
}

/// The raw columns of a dataset's rows in the window `(after, last]` of the area and days
/// asked for, in line order; the personal ones `NULL` without `personal`. Built from
/// constants and integers, with the two paths (stored units' paths: digits and slashes)
/// quoted, since PostgreSQL's `COPY` takes no parameters.
fn select(d: Dataset, personal: bool, f: &ExportFilter, last: i64) -> String {
    let lit = |s: &str| format!("'{}'", s.replace('\'', "''"));
    let only = |col: &'static str| if personal { col } else { "NULL" };
    let (cols, from, time, key, order) = match d {
        Dataset::Visits => (
            format!(
                "w.id, u.code, {}, w.team_id, w.visited_at, w.month, w.result, w.barriers, {}",
                only("h.code"),
                only("w.note")
            ),
            "visits w JOIN households h ON h.id = w.household_id JOIN units u ON u.id = h.unit_id",
            "w.visited_at",
            "w.seq",
            "w.seq",
        ),
        Dataset::Statuses => (
            format!(
                "u.code, {}, {}, sv.subject, sv.code, st.code, st.rank, r.sex, r.birth_year, s.updated_at",
                only("w.code"),
                only("s.resident_id")
            ),
            "households w JOIN units u ON u.id = w.unit_id JOIN subject_statuses s ON s.household_id = w.id \
             JOIN services sv ON sv.id = s.service_id JOIN service_statuses st ON st.id = s.status_id \
             LEFT JOIN residents r ON r.id = s.resident_id AND s.resident_id <> 0",
            "s.updated_at",
            "w.id",
            "w.id, sv.position, s.resident_id",
        ),
        Dataset::Feedback => (
            format!(
                "w.code, u.code, c.code, w.channel, w.state, a.code, w.received_at, w.due_at, w.answered_at, \
                 w.closed_at, w.rating, {}, {}, {}",
                only("w.description"),
                only("w.address"),
                only("w.answer")
            ),
            "feedback w JOIN units u ON u.id = w.unit_id JOIN feedback_categories c ON c.id = w.category_id \
             LEFT JOIN agencies a ON a.id = w.agency_id",
            "w.received_at",
            "w.id",
            "w.id",
        ),
    };
    format!(
        "SELECT {cols} FROM {from} WHERE {key} > {} AND {key} <= {last} AND {time} >= {} AND {time} <= {} \
         AND u.path >= {} AND u.path < {} ORDER BY {order}",
        f.after,
        f.from,
        f.to,
        lit(f.within.as_str()),
        lit(&f.within.upper_bound()),
    )
}

/// How a row becomes a CSV line: the same on both engines.
pub(crate) struct Liner {
    d: Dataset,
    personal: bool,
    /// The year age bands are reckoned in.
    year: i64,
}

/// Text, always quoted, `"` doubled.
fn quoted(out: &mut String, v: Option<&str>) {
    out.push('"');
    match v {
        Some(v) if v.contains('"') => out.push_str(&v.replace('"', "\"\"")),
        Some(v) => out.push_str(v),
        None => {}
    }
    out.push('"');
}

fn plain(out: &mut String, v: Option<&str>) {
    out.push_str(v.unwrap_or(""));
}

fn int(out: &mut String, v: Option<i64>) {
    use std::fmt::Write;
    if let Some(v) = v {
        let _ = write!(out, "{v}");
    }
}

/// A Unix time as Vietnam time, `YYYY-MM-DDTHH:MM:SS+07:00` (days from the civil calendar
/// by integer arithmetic: a million times a second's fraction).
fn time(out: &mut String, v: Option<i64>) {
    use std::fmt::Write;
    let Some(t) = v else { return };
    let local = t + 25_200;
    let (days, secs) = (local.div_euclid(86_400), local.rem_euclid(86_400));
    // Howard Hinnant's days-to-civil.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    let _ =
        write!(out, "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}+07:00", secs / 3600, secs % 3600 / 60, secs % 60);
}

impl Liner {
    pub(crate) fn new(d: Dataset, personal: bool, f: &ExportFilter) -> Liner {
        let year = chrono::DateTime::from_timestamp(f.to.clamp(0, 253_402_300_799) + 25_200, 0)
            .map(|t| i64::from(chrono::Datelike::year(&t)))
            .unwrap_or(9999);
        Liner { d, personal, year }
    }

    /// Appends the row's line, CRLF-terminated.
    pub(crate) fn line(&self, r: &impl Fields, out: &mut String) {
        let p = self.personal;
        match self.d {
            Dataset::Visits => {
                plain(out, r.text(0));
                out.push(',');
                plain(out, r.text(1));
                out.push(',');
                if p {
                    quoted(out, r.text(2));
                    out.push(',');
                }
                int(out, r.int(3));
                out.push(',');
                time(out, r.int(4));
                out.push(',');
                plain(out, r.text(5));
                out.push(',');
                plain(out, r.text(6));
                out.push(',');
                let bits = r.int(7).unwrap_or(0);
                let mut first = true;
                for b in Barrier::ALL.iter().filter(|b| bits & i64::from(b.bit()) != 0) {
                    if !first {
                        out.push(';');
                    }
                    out.push_str(b.as_str());
                    first = false;
                }
                if p {
                    out.push(',');
                    quoted(out, r.text(8));
                }
            }
            Dataset::Statuses => {
                plain(out, r.text(0));
                out.push(',');
                if p {
                    quoted(out, r.text(1));
                    out.push(',');
                    int(out, r.int(2).filter(|&id| id != 0));
                    out.push(',');
                }
                plain(out, r.text(3));
                out.push(',');
                quoted(out, r.text(4));
                out.push(',');
                quoted(out, r.text(5));
                out.push(',');
                int(out, r.int(6));
                out.push(',');
                plain(out, r.text(7));
                out.push(',');
                let born = r.int(8);
                if p {
                    int(out, born);
                    out.push(',');
                }
                out.push_str(match born.map(|b| self.year - b) {
                    None => "",
                    Some(a) if a >= 60 => "60+",
                    Some(a) if a >= 15 => "15-59",
                    Some(_) => "0-14",
                });
                out.push(',');
                time(out, r.int(9));
            }
            Dataset::Feedback => {
                quoted(out, r.text(0));
                out.push(',');
                plain(out, r.text(1));
                out.push(',');
                quoted(out, r.text(2));
                out.push(',');
                plain(out, r.text(3));
                out.push(',');
                plain(out, r.text(4));
                out.push(',');
                quoted(out, r.text(5));
                for i in 6..=8 {
                    out.push(',');
                    time(out, r.int(i));
                }
                out.push(',');
                out.push_str(match (r.int(8), r.int(7)) {
                    (None, _) => "",
                    (Some(answered), Some(due)) if answered <= due => "yes",
                    _ => "no",
                });
                out.push(',');
                time(out, r.int(9));
                out.push(',');
                plain(out, r.text(10));
                if p {
                    for i in 11..=13 {
                        out.push(',');
                        quoted(out, r.text(i));
                    }
                }
            }
        }
        out.push_str("\r\n");
    }
}

/// The window after `f.after`: how many keys it holds (at most `f.limit`) and its last.
async fn window(db: &Db, d: Dataset, f: &ExportFilter) -> Result<(i64, Option<i64>)> {
    let (table, key) = match d {
        Dataset::Visits => ("visits", "seq"),
        Dataset::Statuses => ("households", "id"),
        Dataset::Feedback => ("feedback", "id"),
    };
    let sql = format!(
        "SELECT CAST(COUNT(*) AS BIGINT), MAX(k) FROM (SELECT {key} AS k FROM {table} WHERE {key} > $1 ORDER BY {key} \
         LIMIT {}) w",
        f.limit.max(1)
    );
    Ok(on_db!(db, p => sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())).bind(f.after).fetch_one(p).await)?)
}

async fn run(db: &Db, d: Dataset, f: &ExportFilter, personal: bool) -> Result<ExportChunk> {
    let (window, last) = window(db, d, f).await?;
    let Some(last) = last else {
        return Ok(ExportChunk { lines: 0, window, last: None, csv: String::new() });
    };
    let sql = select(d, personal, f, last);
    let liner = Liner::new(d, personal, f);
    let mut csv = String::new();
    let lines = match db {
        Db::Sqlite(pools) => {
            let mut conn = pools.read.acquire().await?;
            let mut handle = conn.lock_handle().await?;
            crate::db::blocking(|| crate::db::sqlite::export::lines(&mut handle, &sql, &liner, &mut csv))?
        }
        Db::Pg(pool) => crate::db::pg::export::lines(pool, &sql, &liner, &mut csv).await?,
    };
    Ok(ExportChunk { lines, window, last: Some(last), csv })
}

/// A chunk without personal data.
pub async fn chunk(db: &Db, d: Dataset, f: &ExportFilter) -> Result<ExportChunk> {
    run(db, d, f, false).await
}

/// A chunk with personal data, for a caller with the proof the dataset asks for (the
/// filter's area is the proof's); the first chunk writes the audit row.
pub async fn chunk_personal(db: &Db, d: Dataset, access: &Personal, f: &ExportFilter) -> Result<ExportChunk> {
    let f = admit(db, d, access, f, f.after == 0).await?;
    run(db, d, &f, true).await
}

/// The filter of a personal export: refused unless the proof is the one the dataset asks
/// for, narrowed to the proof's area, with the audit row written when `first`.
async fn admit(db: &Db, d: Dataset, access: &Personal, f: &ExportFilter, first: bool) -> Result<ExportFilter> {
    if !access.fits(d) {
        return Err(StoreError::Invalid(ngoso_core::Invalid::field("forbidden", "dataset")));
    }
    let within = access.area().0.clone().unwrap_or_else(|| UnitPath::from_stored("/".into()));
    let f = ExportFilter { within, ..f.clone() };
    if first {
        let unit = f.within.ids().last().copied().unwrap_or(0);
        crate::audit::read(db, access.user_id(), d.audit_action(), "unit", unit, &format!("{}..{}", f.from, f.to))
            .await?;
    }
    Ok(f)
}

/// An export being read: [`Export::next`] gives CSV lines, a chunk at a time, until `None`.
/// SQLite reads a window of keys at a time (each a short read on the handle); PostgreSQL
/// streams one `COPY` of the whole range, formatting rows as they arrive, as `psql` would.
pub struct Export {
    db: Db,
    d: Dataset,
    f: ExportFilter,
    personal: bool,
    copy: Option<crate::db::pg::export::CopyLines>,
    done: bool,
}

/// Starts an export, with personal data when `access` is given (the filter's area becomes
/// the proof's, and the audit row is written here, before any line).
pub async fn open(db: &Db, d: Dataset, f: &ExportFilter, access: Option<&Personal>) -> Result<Export> {
    let f = match access {
        Some(a) => admit(db, d, a, f, true).await?,
        None => f.clone(),
    };
    let personal = access.is_some();
    let copy = match db {
        Db::Pg(pool) => {
            let sql = select(d, personal, &ExportFilter { after: 0, ..f.clone() }, i64::MAX);
            Some(crate::db::pg::export::CopyLines::open(pool, &sql).await?)
        }
        Db::Sqlite(_) => None,
    };
    Ok(Export { db: db.clone(), d, f, personal, copy, done: false })
}

impl Export {
    /// The next chunk of lines (about 256 KB on PostgreSQL, a window on SQLite; possibly
    /// empty), or `None` at the end.
    pub async fn next(&mut self) -> Result<Option<String>> {
        if self.done {
            return Ok(None);
        }
        if let Some(copy) = &mut self.copy {
            let liner = Liner::new(self.d, self.personal, &self.f);
            let out = copy.next(&liner, 256 * 1024).await?;
            self.done = out.is_none();
            return Ok(out);
        }
        let c = run(&self.db, self.d, &self.f, self.personal).await?;
        match c.last {
            Some(last) if c.window >= self.f.limit => self.f.after = last,
            _ => self.done = true,
        }
        Ok(Some(c.csv))
    }
}

#[cfg(test)]
mod tests {
    use super::time;

    #[test]
    fn times_are_vietnam_times_as_chrono_writes_them() {
        let tz = chrono::FixedOffset::east_opt(7 * 3600).unwrap();
        let mut t = -2_208_988_800_i64; // 1900
        while t < 7_258_118_400 {
            // 2200
            let mut out = String::new();
            time(&mut out, Some(t));
            let want =
                chrono::DateTime::from_timestamp(t, 0).unwrap().with_timezone(&tz).format("%Y-%m-%dT%H:%M:%S%:z");
            assert_eq!(out, want.to_string(), "{t}");
            t += 86_399 * 7 + 3_607;
        }
        let mut out = String::new();
        time(&mut out, None);
        assert_eq!(out, "");
    }
}
