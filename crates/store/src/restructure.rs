//! Restructuring the tree on a day (Vietnam's of 2025-07-01 first): units closed and opened,
//! units below re-made under their successors, households re-homed, figures carried, history
//! kept.
//!
//! A mapping names old units (those that exist on the eve of the day) and new ones (those
//! that exist on the day, or that the mapping opens). An old unit with one row merges into
//! (or is renamed as) its new unit; with several rows it is split. A row whose old unit lies
//! below another row's old unit places it (a hamlet, say) under one of that unit's
//! successors.
//!
//! Nothing is rewritten. Every old unit closes on the day and stays with its figures as they
//! were reported; each unit below a merged unit, or placed, is made again under the
//! successor (same code, name and kind) with a link back; households move to the new units,
//! and each move is recorded (`household_moves`). The figures follow the records:
//! - the state of today (households, statuses, people) leaves the closed units for the new;
//! - the households' past (visits, by month) stays where it was reported and is also counted
//!   on the new units, so that a new commune's history is the sum of its households' past;
//! - figures entered on a unit as aggregates (data values, feedback counts) are counted on
//!   its successor too when it has exactly one, and are not comparable otherwise.
//!
//! Households of a split unit that no row places wait, in their closed unit, for an officer
//! to place them ([`place`]); they are never guessed. `ngoso check` counts all of it again.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use chrono::NaiveDate;
use ngoso_core::text;
use ngoso_core::unit::UnitPath;
use serde::Serialize;
use sqlx::QueryBuilder;

use crate::db::dialect::{self, Table};
use crate::units::Unit;
use crate::{Db, Result, StoreError, Tx, now, on_db, on_tx, rollups};

/// One row of a mapping, as read from its file (the line number is the file's).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MappingRow {
    pub line: usize,
    /// Empty: the row only opens a unit (a new province, say).
    pub old_code: String,
    pub new_code: String,
    /// When the new unit does not exist yet: its name, kind and parent's code (empty: a root).
    pub new_name: String,
    pub new_kind: String,
    pub new_parent_code: String,
    /// The share of a split unit's figures entered as aggregates that this new unit takes,
    /// in hundredths of a percent (the file gives a percentage: `40`, `33.33`).
    pub share: Option<i64>,
}

/// A percentage with at most two decimals, in hundredths of a percent.
fn parse_share(s: &str) -> Option<i64> {
    let s = s.trim().trim_end_matches('%').trim().replace(',', ".");
    let (whole, frac) = s.split_once('.').unwrap_or((s.as_str(), ""));
    if whole.is_empty()
        || frac.len() > 2
        || !whole.bytes().all(|b| b.is_ascii_digit())
        || !frac.bytes().all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let w: i64 = whole.parse().ok()?;
    let f: i64 = format!("{frac:0<2}").parse().ok()?;
    let v = w.checked_mul(100)?.checked_add(f)?;
    (v <= 10_000).then_some(v)
}

/// A row refused, with the message's key and what to show in it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RowError {
    pub line: usize,
    pub key: &'static str,
    pub detail: String,
}

/// A unit named in a summary.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RestructuredUnit {
    pub id: i64,
    pub code: String,
    pub name: String,
}

/// A closed unit whose households wait to be placed, with the units they may go to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ToPlace {
    pub unit: RestructuredUnit,
    pub households: i64,
    pub candidates: Vec<RestructuredUnit>,
}

/// Something scoped to a closed unit that an administrator must look at (the unit split).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ToReview {
    pub kind: &'static str,
    pub id: i64,
    pub name: String,
    pub unit: RestructuredUnit,
}

/// What a restructuring did (or, in a dry run, would do).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Summary {
    pub effective: Option<NaiveDate>,
    /// Every row had been applied before: nothing changed.
    pub already_applied: bool,
    /// Units closed on the day (those of the mapping and those left with nothing below).
    pub closed: Vec<RestructuredUnit>,
    /// Units the mapping opened.
    pub opened: Vec<RestructuredUnit>,
    /// Units below made again under a successor.
    pub remade: i64,
    pub households_moved: i64,
    pub to_place: Vec<ToPlace>,
    pub teams_moved: i64,
    pub accounts_moved: i64,
    pub routes_moved: i64,
    pub to_review: Vec<ToReview>,
    /// Feedback items not yet closed that were filed against a closed unit (they keep it).
    pub open_feedback: i64,
}

/// The outcome: refused whole (nothing written), or done.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Refused(Vec<RowError>),
    /// The caller may not do part of it (see [`Gate`]): nothing written.
    NotAllowed,
    Done(Summary),
}

/// What a restructuring does that its caller must be allowed to do: close a unit (and what
/// lies below it), or put units under one (`None`: at the top of the tree).
#[derive(Debug, Clone, Copy)]
pub enum Gate<'a> {
    Close(&'a UnitPath),
    Under(Option<&'a UnitPath>),
}

/// A past restructuring as recorded.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Restructuring {
    pub id: i64,
    pub effective: NaiveDate,
    pub digest: String,
    pub summary: String,
    pub user_id: Option<i64>,
    pub created_at: i64,
}

use crate::units::COLUMNS as UNIT_COLUMNS;

/// The tree in memory, with the successor links.
struct Tree {
    units: HashMap<i64, Unit>,
    by_code: HashMap<String, Vec<i64>>,
    children: HashMap<i64, Vec<i64>>,
    successors: HashMap<i64, Vec<i64>>,
    predecessors: HashMap<i64, Vec<i64>>,
    /// (unit, successor) → the successor's share of the unit's entered figures.
    shares: HashMap<(i64, i64), i64>,
}

impl Tree {
    async fn load(tx: &mut Tx) -> Result<Tree> {
        let sql = format!("SELECT {UNIT_COLUMNS} FROM units");
        let rows: Vec<Unit> =
            on_tx!(tx, c => sqlx::query_as::<_, Unit>(sqlx::AssertSqlSafe(sql.as_str())).fetch_all(c).await)?;
        let links: Vec<(i64, i64, Option<i64>)> = on_tx!(tx, c => sqlx::query_as(
            "SELECT unit_id, successor_id, CAST(share AS BIGINT) FROM unit_successors").fetch_all(c).await)?;
        let mut t = Tree {
            units: HashMap::new(),
            by_code: HashMap::new(),
            children: HashMap::new(),
            successors: HashMap::new(),
            predecessors: HashMap::new(),
            shares: HashMap::new(),
        };
        for u in rows {
            t.insert(u);
        }
        for (a, b, share) in links {
            t.link(a, b);
            if let Some(sh) = share {
                t.shares.insert((a, b), sh);
            }
        }
        Ok(t)
    }
    fn insert(&mut self, u: Unit) {
        self.by_code.entry(u.code.clone()).or_default().push(u.id);
        if let Some(p) = u.parent_id {
            self.children.entry(p).or_default().push(u.id);
        }
        self.units.insert(u.id, u);
    }
    fn link(&mut self, a: i64, b: i64) {
        let s = self.successors.entry(a).or_default();
        if !s.contains(&b) {
            s.push(b);
            self.predecessors.entry(b).or_default().push(a);
        }
    }
    fn on(&self, code: &str, day: NaiveDate) -> Option<&Unit> {
        self.by_code.get(code)?.iter().map(|id| &self.units[id]).find(|u| u.exists_on(day))
    }
    fn path(&self, id: i64) -> Vec<i64> {
        self.units[&id].unit_path().ids()
    }
    fn ref_of(&self, id: i64) -> RestructuredUnit {
        let u = &self.units[&id];
        RestructuredUnit { id, code: u.code.clone(), name: u.name.clone() }
    }
    /// The children of `id` that exist on `day`.
    fn children_on(&self, id: i64, day: NaiveDate) -> Vec<i64> {
        let mut out: Vec<i64> = self
            .children
            .get(&id)
            .map(|c| c.iter().copied().filter(|c| self.units[c].exists_on(day)).collect())
            .unwrap_or_default();
        out.sort_unstable();
        out
    }
    /// The successors of a split unit with their shares, when every one has a share.
    fn shared(&self, id: i64) -> Option<Vec<(i64, i64)>> {
        let succ = self.successors.get(&id)?;
        if succ.len() < 2 {
            return None;
        }
        let mut out: Vec<(i64, i64)> =
            succ.iter().map(|s| self.shares.get(&(id, *s)).map(|sh| (*s, *sh))).collect::<Option<Vec<_>>>()?;
        // In the order of the successors' ids, as `ngoso check` divides them.
        out.sort_unstable();
        Some(out)
    }
    /// The single successor of a unit, if it has exactly one.
    fn single(&self, id: i64) -> Option<i64> {
        match self.successors.get(&id).map(Vec::as_slice) {
            Some([s]) => Some(*s),
            _ => None,
        }
    }
}

/// A new unit row to write.
struct NewRow {
    id: i64,
    code: String,
    name: String,
    kind: String,
    parent_id: Option<i64>,
    path: UnitPath,
}

/// A unit of the mapping's new side.
#[derive(Clone, Debug)]
enum NewSide {
    Existing(i64),
    /// Index into the units to open.
    Open(usize),
}

struct Opening {
    code: String,
    name: String,
    kind: String,
    parent: Option<NewSide>,
    line: usize,
}

/// The mapping resolved against the tree.
struct Resolved {
    /// Top old units and their new units, in the rows' order.
    tops: BTreeMap<i64, Vec<NewSide>>,
    /// Old units placed under a new unit.
    placements: BTreeMap<i64, NewSide>,
    openings: Vec<Opening>,
    /// Rows already applied / rows in all (those that only close a unit aside).
    applied: usize,
    rows: usize,
    /// Whether the units that rows only close are closed on the day already.
    closed_before: bool,
    /// (old unit, index of its new unit in `tops`) → share.
    shares: HashMap<i64, Vec<Option<i64>>>,
}

/// Reads a mapping file: a header with `old_code` and `new_code` (and optionally `new_name`,
/// `new_kind`, `new_parent_code`), then one row per old → new pair. Line numbers count the
/// header as line 1.
pub fn read_mapping(bytes: &[u8]) -> std::result::Result<Vec<MappingRow>, Vec<RowError>> {
    let bytes = bytes.strip_prefix("\u{feff}".as_bytes()).unwrap_or(bytes);
    let mut rdr = csv::ReaderBuilder::new().flexible(true).trim(csv::Trim::All).from_reader(bytes);
    let headers = match rdr.headers() {
        Ok(h) => h.clone(),
        Err(e) => return Err(vec![RowError { line: 1, key: "restructure-file-unreadable", detail: e.to_string() }]),
    };
    let col = |name: &str| headers.iter().position(|h| h.eq_ignore_ascii_case(name));
    let (Some(old), Some(new)) = (col("old_code"), col("new_code")) else {
        return Err(vec![RowError { line: 1, key: "restructure-file-columns", detail: "old_code, new_code".into() }]);
    };
    let (name, kind, parent, share) = (col("new_name"), col("new_kind"), col("new_parent_code"), col("share"));
    let mut rows = Vec::new();
    let mut errors = Vec::new();
    for (i, rec) in rdr.records().enumerate() {
        let line = i + 2;
        let rec = match rec {
            Ok(r) => r,
            Err(e) => {
                errors.push(RowError { line, key: "restructure-file-unreadable", detail: e.to_string() });
                continue;
            }
        };
        let get = |c: Option<usize>| c.and_then(|c| rec.get(c)).map(text::nfc).unwrap_or_default();
        let share_text = get(share);
        let row = MappingRow {
            line,
            old_code: get(Some(old)),
            new_code: get(Some(new)),
            new_name: get(name),
            new_kind: get(kind),
            new_parent_code: get(parent),
            share: if share_text.is_empty() { None } else { parse_share(&share_text) },
        };
        if row.old_code.is_empty() && row.new_code.is_empty() {
            continue;
        }
        if !share_text.is_empty() && row.share.is_none() {
            errors.push(RowError { line, key: "restructure-share-invalid", detail: share_text });
            continue;
        }
        rows.push(row);
    }
    if errors.is_empty() { Ok(rows) } else { Err(errors) }
}

/// A digest of the rows (order kept), to record with the restructuring.
fn digest(rows: &[MappingRow]) -> String {
    use sha2::Digest;
    let mut h = sha2::Sha256::new();
    for r in rows {
        for f in [&r.old_code, &r.new_code, &r.new_name, &r.new_kind, &r.new_parent_code] {
            h.update(f.as_bytes());
            h.update([0x1f]);
        }
        h.update(r.share.map(|s| s.to_string()).unwrap_or_default().as_bytes());
        h.update([0x1e]);
    }
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

fn resolve(t: &Tree, rows: &[MappingRow], day: NaiveDate) -> std::result::Result<Resolved, Vec<RowError>> {
    let eve = day.pred_opt().unwrap_or(day);
    let mut errors = Vec::new();
    let err = |errors: &mut Vec<RowError>, line, key, detail: &str| {
        errors.push(RowError { line, key, detail: detail.to_owned() })
    };
    // Visits are counted by month: the tree changes on a month's first day.
    if chrono::Datelike::day(&day) != 1 {
        err(&mut errors, rows.first().map(|r| r.line).unwrap_or(1), "restructure-day-not-first", &day.to_string());
        return Err(errors);
    }
    // Units to open, by code; their parents are resolved once every row is read.
    let mut openings: Vec<Opening> = Vec::new();
    let mut opening_of: HashMap<String, usize> = HashMap::new();
    let mut pairs: Vec<(usize, i64, NewSide)> = Vec::new();
    let mut closes: Vec<(usize, i64)> = Vec::new();
    // The share of each pair, in the order of `pairs` (before they are sorted).
    let mut row_share: Vec<Option<i64>> = Vec::new();
    let mut seen: HashSet<(String, String)> = HashSet::new();
    // Rows that name a new unit first, so that rows without a name find the units opened.
    let mut ordered: Vec<&MappingRow> = rows.iter().collect();
    ordered.sort_by_key(|r| r.new_name.is_empty());
    for r in ordered {
        if !seen.insert((r.old_code.clone(), r.new_code.clone())) {
            err(&mut errors, r.line, "restructure-row-repeated", &format!("{} → {}", r.old_code, r.new_code));
            continue;
        }
        // A row with no new unit closes the old one with no successor: its households wait
        // to be placed (the official mapping leaves a few old communes out).
        if r.new_code.is_empty() {
            match t.on(&r.old_code, eve) {
                Some(old) if old.valid_to.is_none_or(|to| to == day) => closes.push((r.line, old.id)),
                Some(old) => err(&mut errors, r.line, "restructure-old-closes-later", &old.code),
                None => err(&mut errors, r.line, "restructure-old-unknown", &r.old_code),
            }
            continue;
        }
        // The new side: a unit of the day, or one the mapping opens.
        // A unit of the day with another name than the row gives is one the restructuring
        // closes (its code reused): the row opens a new one (refused later if it stays open).
        // The same goes for a unit the mapping itself closes (a code kept by the new unit).
        let existing = t.on(&r.new_code, day).filter(|u| {
            r.new_name.is_empty()
                || (r.new_name == u.name && !(u.exists_on(eve) && rows.iter().any(|o| o.old_code == u.code)))
        });
        let new = match existing {
            // A row without a name names a unit the mapping opens, if it opens one of the code.
            Some(_) if r.new_name.is_empty() && opening_of.contains_key(&r.new_code) => {
                NewSide::Open(opening_of[&r.new_code])
            }
            Some(u) => NewSide::Existing(u.id),
            None if r.new_name.is_empty() => match opening_of.get(&r.new_code) {
                Some(&i) => NewSide::Open(i),
                None => {
                    err(&mut errors, r.line, "restructure-new-unknown", &r.new_code);
                    continue;
                }
            },
            None => {
                if let Some(&i) = opening_of.get(&r.new_code) {
                    let o = &openings[i];
                    if o.name != r.new_name || o.kind != r.new_kind {
                        err(&mut errors, r.line, "restructure-new-conflict", &r.new_code);
                        continue;
                    }
                    NewSide::Open(i)
                } else {
                    if r.new_kind.is_empty() {
                        err(&mut errors, r.line, "restructure-new-kind", &r.new_code);
                        continue;
                    }
                    if let Err(e) = ngoso_core::unit::UnitName::parse(&r.new_name) {
                        err(&mut errors, r.line, e.code, &r.new_name);
                        continue;
                    }
                    if let Err(e) = ngoso_core::unit::UnitCode::parse(&r.new_code) {
                        err(&mut errors, r.line, e.code, &r.new_code);
                        continue;
                    }
                    // A code reused must not overlap a unit of the code that stays open.
                    openings.push(Opening {
                        code: r.new_code.clone(),
                        name: r.new_name.clone(),
                        kind: r.new_kind.clone(),
                        parent: None,
                        line: r.line,
                    });
                    opening_of.insert(r.new_code.clone(), openings.len() - 1);
                    NewSide::Open(openings.len() - 1)
                }
            }
        };
        if r.old_code.is_empty() {
            continue;
        }
        // The old side: a unit of the eve.
        let Some(old) = t.on(&r.old_code, eve) else {
            match t.by_code.get(&r.old_code) {
                Some(ids) if ids.iter().any(|id| t.units[id].valid_from.is_some_and(|f| f > eve)) => {
                    err(&mut errors, r.line, "restructure-old-not-yet", &r.old_code)
                }
                _ => err(&mut errors, r.line, "restructure-old-unknown", &r.old_code),
            }
            continue;
        };
        if let Some(to) = old.valid_to
            && to != day
        {
            err(&mut errors, r.line, "restructure-old-closes-later", &format!("{} {}", old.code, to));
            continue;
        }
        if let NewSide::Existing(n) = new
            && n == old.id
        {
            err(&mut errors, r.line, "restructure-cycle", &old.code);
            continue;
        }
        pairs.push((r.line, old.id, new));
        row_share.push(r.share);
    }
    // Parents of the units to open.
    for r in rows {
        let Some(&i) = opening_of.get(&r.new_code) else { continue };
        if openings[i].line != r.line || r.new_parent_code.is_empty() {
            continue;
        }
        let parent = if let Some(&j) = opening_of.get(&r.new_parent_code) {
            Some(NewSide::Open(j))
        } else if let Some(p) = t.on(&r.new_parent_code, day) {
            Some(NewSide::Existing(p.id))
        } else {
            err(&mut errors, r.line, "restructure-parent-unknown", &r.new_parent_code);
            None
        };
        openings[i].parent = parent;
    }
    // A unit opened under itself, through its parents.
    for i in 0..openings.len() {
        let (mut at, mut steps) = (i, 0);
        while let Some(NewSide::Open(j)) = openings[at].parent {
            at = j;
            steps += 1;
            if at == i || steps > openings.len() {
                err(&mut errors, openings[i].line, "restructure-cycle", &openings[i].code);
                break;
            }
        }
    }
    // The same unit on both sides: closed by one row, a successor in another.
    let olds: HashSet<i64> = pairs.iter().map(|p| p.1).chain(closes.iter().map(|c| c.1)).collect();
    for (line, _, new) in &pairs {
        if let NewSide::Existing(n) = new
            && olds.contains(n)
        {
            err(&mut errors, *line, "restructure-cycle", &t.units[n].code);
        }
    }
    if !errors.is_empty() {
        errors.sort_by_key(|e| e.line);
        return Err(errors);
    }
    let share_of: HashMap<usize, Option<i64>> = pairs.iter().map(|p| p.0).zip(row_share.iter().copied()).collect();
    pairs.sort_by_key(|p| p.0);
    // Tops and placements: an old unit below another row's old unit is placed.
    let mut tops: BTreeMap<i64, Vec<NewSide>> = BTreeMap::new();
    let mut placements: BTreeMap<i64, NewSide> = BTreeMap::new();
    let mut applied = 0;
    for (line, old, new) in &pairs {
        let above = t.path(*old).into_iter().filter(|a| a != old).find(|a| olds.contains(a));
        // Applied before: a top linked to this new unit, a placed unit made again.
        let linked = match (above, new) {
            (None, NewSide::Existing(n)) => t.successors.get(old).is_some_and(|s| s.contains(n)),
            (Some(_), _) => t.successors.get(old).is_some_and(|s| !s.is_empty()),
            _ => false,
        };
        if linked {
            applied += 1;
        }
        match above {
            None => tops.entry(*old).or_default().push(new.clone()),
            Some(a) => {
                // It must go under one of that unit's successors (or below one).
                let succ: Vec<&NewSide> = pairs.iter().filter(|p| p.1 == a).map(|p| &p.2).collect();
                let ok = match new {
                    NewSide::Open(i) => succ.iter().any(|s| matches!(s, NewSide::Open(j) if j == i)),
                    NewSide::Existing(n) => {
                        let np = t.path(*n);
                        succ.iter().any(|s| matches!(s, NewSide::Existing(m) if np.contains(m)))
                    }
                };
                if !ok {
                    err(&mut errors, *line, "restructure-placement-outside", &t.units[old].code);
                } else if placements.insert(*old, new.clone()).is_some() {
                    err(&mut errors, *line, "restructure-placed-twice", &t.units[old].code);
                }
            }
        }
    }
    for (line, old) in &closes {
        if t.path(*old).into_iter().any(|a| a != *old && olds.contains(&a)) {
            err(&mut errors, *line, "restructure-placement-outside", &t.units[old].code);
        } else if tops.contains_key(old) {
            err(&mut errors, *line, "restructure-row-repeated", &t.units[old].code);
        } else {
            tops.insert(*old, Vec::new());
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let closed_before = closes.iter().all(|(_, c)| t.units[c].valid_to == Some(day));
    // Shares: given for every row of a split unit and adding up to 100 %, or for none.
    let mut shares: HashMap<i64, Vec<Option<i64>>> = HashMap::new();
    for (line, old, _) in &pairs {
        if tops.contains_key(old) {
            shares.entry(*old).or_default().push(share_of[line]);
        }
    }
    for (old, s) in &shares {
        let given = s.iter().filter(|x| x.is_some()).count();
        let sum: i64 = s.iter().flatten().sum();
        if given > 0 && (given < s.len() || sum != 10_000) {
            let line = pairs.iter().find(|p| p.1 == *old).map(|p| p.0).unwrap_or(1);
            err(&mut errors, line, "restructure-shares-sum", &t.units[old].code);
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(Resolved { tops, placements, openings, applied, rows: pairs.len(), closed_before, shares })
}

/// Applies a mapping on `day` in one transaction: everything, or nothing when a row is bad
/// (the rows refused are returned, with their line numbers). A dry run does the same work
/// and rolls it back, so that what it reports is what the real run would do. Applying a
/// mapping again changes nothing.
pub async fn restructure(
    db: &Db,
    rows: &[MappingRow],
    day: NaiveDate,
    dry_run: bool,
    user_id: Option<i64>,
) -> Result<Outcome> {
    restructure_as(db, rows, day, dry_run, user_id, &|_| true).await
}

/// [`restructure`] for a caller who may do only what `allow` says: asked for every unit the
/// run would close and every unit it would put units under, once the plan is made and before
/// anything is written.
pub async fn restructure_as(
    db: &Db,
    rows: &[MappingRow],
    day: NaiveDate,
    dry_run: bool,
    user_id: Option<i64>,
    allow: &(dyn Fn(Gate<'_>) -> bool + Sync),
) -> Result<Outcome> {
    let mut tx = db.begin().await?;
    let mut t = Tree::load(&mut tx).await?;
    let r = match resolve(&t, rows, day) {
        Ok(r) => r,
        Err(errors) => return Ok(Outcome::Refused(errors)),
    };
    if r.applied == r.rows && r.openings.is_empty() && r.closed_before && (r.rows > 0 || !r.tops.is_empty()) {
        return Ok(Outcome::Done(Summary { effective: Some(day), already_applied: true, ..Summary::default() }));
    }
    if r.applied > 0 {
        let line = rows.first().map(|r| r.line).unwrap_or(1);
        return Ok(Outcome::Refused(vec![RowError {
            line,
            key: "restructure-partly-applied",
            detail: format!("{}/{}", r.applied, r.rows),
        }]));
    }
    let mut summary = Summary { effective: Some(day), ..Summary::default() };
    let eve = day.pred_opt().unwrap_or(day);

    // 1. Close the old units and everything below them that exists on the eve.
    let mut closing: BTreeSet<i64> = BTreeSet::new();
    for old in r.tops.keys().chain(r.placements.keys()) {
        let mut stack = vec![*old];
        while let Some(u) = stack.pop() {
            if closing.insert(u) {
                stack.extend(t.children_on(u, eve));
            }
        }
    }

    // Units above left with nothing on the day close too: all their units of the eve close,
    // and nothing (no unit that stays, no unit the mapping opens) lies under them on the day.
    for id in &closing {
        if let Some(u) = t.units.get_mut(id) {
            u.valid_to = Some(day);
        }
    }
    let opened_under: HashSet<i64> = r
        .openings
        .iter()
        .filter_map(|o| match o.parent {
            Some(NewSide::Existing(p)) => Some(p),
            _ => None,
        })
        .chain(r.tops.values().flatten().chain(r.placements.values()).filter_map(|n| match n {
            NewSide::Existing(p) => Some(*p),
            NewSide::Open(_) => None,
        }))
        .collect();
    let mut above: BTreeSet<(std::cmp::Reverse<i32>, i64)> = BTreeSet::new();
    for old in r.tops.keys() {
        for a in t.path(*old) {
            if a != *old && !closing.contains(&a) {
                above.insert((std::cmp::Reverse(t.units[&a].depth), a));
            }
        }
    }
    let mut emptied: Vec<i64> = Vec::new();
    for (_, a) in above {
        let kids_eve = t.children_on(a, eve);
        if kids_eve.is_empty()
            || !kids_eve.iter().all(|k| closing.contains(k))
            || !t.children_on(a, day).is_empty()
            || opened_under.contains(&a)
        {
            continue;
        }
        closing.insert(a);
        emptied.push(a);
        if let Some(u) = t.units.get_mut(&a) {
            u.valid_to = Some(day);
        }
    }
    // The caller must be allowed every unit it closes and every unit it puts units under.
    let under_existing = r
        .openings
        .iter()
        .map(|o| match o.parent {
            Some(NewSide::Existing(p)) => Some(Some(p)),
            None => Some(None),
            Some(NewSide::Open(_)) => None,
        })
        .chain(r.tops.values().flatten().chain(r.placements.values()).map(|n| match n {
            NewSide::Existing(p) => Some(Some(*p)),
            NewSide::Open(_) => None,
        }))
        .flatten();
    let mut allowed = closing.iter().all(|id| allow(Gate::Close(&t.units[id].unit_path())));
    for parent in under_existing {
        allowed &= allow(Gate::Under(parent.map(|p| t.units[&p].unit_path()).as_ref()));
    }
    if !allowed {
        return Ok(Outcome::NotAllowed);
    }
    // A code the mapping opens must be free on the day.
    let mut clashes = Vec::new();
    for o in &r.openings {
        let taken =
            t.by_code.get(&o.code).into_iter().flatten().any(|id| t.units[id].valid_to.is_none_or(|to| to > day));
        if taken {
            clashes.push(RowError { line: o.line, key: "restructure-new-code-taken", detail: o.code.clone() });
        }
    }
    if !clashes.is_empty() {
        return Ok(Outcome::Refused(clashes));
    }
    close_units(&mut tx, &closing, day).await?;

    // 2. Open the mapping's units, parents first.
    let mut order: Vec<usize> = Vec::new();
    let mut placed: HashSet<usize> = HashSet::new();
    while order.len() < r.openings.len() {
        for (i, o) in r.openings.iter().enumerate() {
            if placed.contains(&i) {
                continue;
            }
            let ready = match &o.parent {
                Some(NewSide::Open(j)) => placed.contains(j),
                _ => true,
            };
            if ready {
                placed.insert(i);
                order.push(i);
            }
        }
    }
    let mut opened_rows: Vec<NewRow> = Vec::new();
    let ids = dialect::reserve_ids(&mut tx, Table::Units, r.openings.len()).await?;
    let mut opened_id: HashMap<usize, i64> = HashMap::new();
    let mut opened_path: HashMap<usize, UnitPath> = HashMap::new();
    for (k, &i) in order.iter().enumerate() {
        let o = &r.openings[i];
        let id = ids[k];
        let (parent_id, path) = match &o.parent {
            None => (None, UnitPath::root(id)),
            Some(NewSide::Existing(p)) => (Some(*p), t.units[p].unit_path().child(id)),
            Some(NewSide::Open(j)) => (Some(opened_id[j]), opened_path[j].child(id)),
        };
        opened_id.insert(i, id);
        opened_path.insert(i, path.clone());
        opened_rows.push(NewRow {
            id,
            code: o.code.clone(),
            name: o.name.clone(),
            kind: o.kind.clone(),
            parent_id,
            path,
        });
    }
    let resolve_new = |n: &NewSide| match n {
        NewSide::Existing(id) => *id,
        NewSide::Open(i) => opened_id[i],
    };
    write_units(&mut tx, &opened_rows, day).await?;
    for row in &opened_rows {
        t.insert(row.unit(day));
    }
    summary.opened = opened_rows.iter().map(|r| t.ref_of(r.id)).collect();

    // 3. Link each old unit to its new ones.
    let mut links: Vec<(i64, i64)> = Vec::new();
    let mut link_shares: HashMap<(i64, i64), i64> = HashMap::new();
    for (old, news) in &r.tops {
        for (k, n) in news.iter().enumerate() {
            links.push((*old, resolve_new(n)));
            if let Some(Some(sh)) = r.shares.get(old).and_then(|s| s.get(k))
                && news.len() > 1
            {
                link_shares.insert((*old, resolve_new(n)), *sh);
                t.shares.insert((*old, resolve_new(n)), *sh);
            }
        }
    }

    // 4. Make again, under the new units, what lies below a merged unit, and what is placed.
    // (old, new parent, top of a moved subtree)
    let mut work: Vec<(i64, i64, bool)> = Vec::new();
    for (old, news) in &r.tops {
        if let [n] = news.as_slice() {
            let n = resolve_new(n);
            for c in t.children_on(*old, eve) {
                if !r.placements.contains_key(&c) {
                    work.push((c, n, false));
                }
            }
        }
    }
    for (old, n) in &r.placements {
        work.push((*old, resolve_new(n), true));
    }
    let mut pairs: Vec<Pair> = Vec::new();
    for (old, news) in &r.tops {
        if let [n] = news.as_slice() {
            pairs.push(Pair { old: *old, new: resolve_new(n), top: true });
        }
    }
    let (remade, made_links, made_pairs) = remake(&mut tx, &t, work, eve, &|c| r.placements.contains_key(&c)).await?;
    links.extend(made_links);
    pairs.extend(made_pairs);
    write_units(&mut tx, &remade, day).await?;
    for row in &remade {
        t.insert(row.unit(day));
    }
    summary.remade = remade.len() as i64;
    for (a, b) in &links {
        t.link(*a, *b);
    }

    // 5. The units above that closed: their successors are the new units at their depth
    // above (or at) their closed units' successors.
    for a in emptied {
        let depth = t.units[&a].depth as usize;
        let mut succ: BTreeSet<i64> = BTreeSet::new();
        for k in t.children_on(a, eve) {
            for s in t.successors.get(&k).cloned().unwrap_or_default() {
                let p = t.path(s);
                succ.insert(*p.get(depth).unwrap_or(&s));
            }
        }
        for s in succ {
            links.push((a, s));
            t.link(a, s);
        }
    }
    write_links(&mut tx, &links, &link_shares).await?;
    summary.closed = closing.iter().map(|id| t.ref_of(*id)).collect();

    // 6. Households move with their units; each move is recorded.
    summary.households_moved = move_households(&mut tx, &pairs, day).await?;

    // 7. Figures.
    carry_figures(&mut tx, &t, &pairs, day).await?;
    let closed: Vec<i64> = closing.iter().copied().collect();
    carry_entries(&mut tx, &t, &closed).await?;

    // 8. Teams, accounts and routes of a closed unit with one successor follow it; the
    // others are listed.
    let (teams, accounts, routes, review) = follow(&mut tx, &t, &closing).await?;
    summary.teams_moved = teams;
    summary.accounts_moved = accounts;
    summary.routes_moved = routes;
    summary.to_review = review;

    // 9. What waits: households of closed units left without a successor.
    summary.to_place = waiting(&mut tx, &t, &closing).await?;
    summary.open_feedback = open_feedback(&mut tx, &closing).await?;

    record(&mut tx, day, &digest(rows), &summary, user_id).await?;
    if dry_run {
        // Dropped without a commit: rolled back.
        drop(tx);
    } else {
        tx.commit().await?;
        crate::tokens::changed();
    }
    Ok(Outcome::Done(summary))
}

/// Makes again, under their new parents, the units of `work` (old unit, new parent, whether
/// it is the top of a moved subtree) and what lay below them on the eve (but the units
/// `elsewhere` says are placed by rows of their own): the rows to write, the links from each
/// old unit to the new, and the pairs whose households and figures move.
async fn remake(
    tx: &mut Tx,
    t: &Tree,
    mut work: Vec<(i64, i64, bool)>,
    eve: NaiveDate,
    elsewhere: &(dyn Fn(i64) -> bool + Sync),
) -> Result<(Vec<NewRow>, Vec<(i64, i64)>, Vec<Pair>)> {
    let count = {
        let mut n = 0usize;
        let mut stack: Vec<i64> = work.iter().map(|w| w.0).collect();
        while let Some(u) = stack.pop() {
            n += 1;
            stack.extend(t.children_on(u, eve).into_iter().filter(|c| !elsewhere(*c)));
        }
        n
    };
    let mut next = dialect::reserve_ids(tx, Table::Units, count).await?.into_iter();
    let (mut rows, mut links, mut pairs) = (Vec::new(), Vec::new(), Vec::new());
    let mut paths: HashMap<i64, UnitPath> = HashMap::new();
    while let Some((old, parent, top)) = work.pop() {
        let id = next.next().expect("ids reserved for every unit made again");
        let path = paths.get(&parent).cloned().unwrap_or_else(|| t.units[&parent].unit_path()).child(id);
        let u = &t.units[&old];
        rows.push(NewRow {
            id,
            code: u.code.clone(),
            name: u.name.clone(),
            kind: u.kind.clone(),
            parent_id: Some(parent),
            path: path.clone(),
        });
        paths.insert(id, path);
        links.push((old, id));
        pairs.push(Pair { old, new: id, top });
        for c in t.children_on(old, eve) {
            if !elsewhere(c) {
                work.push((c, id, false));
            }
        }
    }
    Ok((rows, links, pairs))
}

/// A unit's households and figures moving to a new unit (`top`: the highest unit of a moved
/// subtree, whose figures also leave and reach ancestors).
#[derive(Debug, Clone, Copy)]
struct Pair {
    old: i64,
    new: i64,
    top: bool,
}

impl NewRow {
    /// The unit as written by [`write_units`].
    fn unit(&self, day: NaiveDate) -> Unit {
        let t = now();
        Unit {
            id: self.id,
            code: self.code.clone(),
            name: self.name.clone(),
            kind: self.kind.clone(),
            parent_id: self.parent_id,
            path: self.path.as_str().to_owned(),
            depth: self.path.depth() as i32,
            valid_from: Some(day),
            valid_to: None,
            created_at: t,
            updated_at: t,
        }
    }
}

async fn write_units(tx: &mut Tx, rows: &[NewRow], day: NaiveDate) -> Result<()> {
    let t = now();
    for chunk in rows.chunks(1000) {
        let res = on_tx!(tx, c => {
            let mut qb = QueryBuilder::new(
                "INSERT INTO units (id, code, name, name_key, name_sort, kind, parent_id, path, depth, valid_from, valid_to, created_at, updated_at) ",
            );
            qb.push_values(chunk, |mut b, u| {
                b.push_bind(u.id)
                    .push_bind(u.code.as_str())
                    .push_bind(u.name.as_str())
                    .push_bind(text::fold(&u.name))
                    .push_bind(text::sort_key(&u.name))
                    .push_bind(u.kind.as_str())
                    .push_bind(u.parent_id)
                    .push_bind(u.path.as_str())
                    .push_bind(u.path.depth() as i32)
                    .push_bind(day)
                    .push_bind(None::<NaiveDate>)
                    .push_bind(t)
                    .push_bind(t);
            });
            qb.build().execute(c).await.map(|r| r.rows_affected())
        });
        if let Err(e) = res {
            let e = StoreError::from(e);
            if e.is_unique_violation() {
                return Err(ngoso_core::Invalid::new("unit-code-exists").into());
            }
            return Err(e);
        }
    }
    Ok(())
}

async fn close_units(tx: &mut Tx, ids: &BTreeSet<i64>, day: NaiveDate) -> Result<()> {
    let ids: Vec<i64> = ids.iter().copied().collect();
    for chunk in ids.chunks(500) {
        on_tx!(tx, c => {
            let mut qb = QueryBuilder::new("UPDATE units SET valid_to = ");
            qb.push_bind(day).push(", updated_at = ").push_bind(now()).push(" WHERE id IN (");
            let mut sep = qb.separated(", ");
            for id in chunk {
                sep.push_bind(*id);
            }
            qb.push(")");
            qb.build().execute(c).await.map(|_| ())
        })?;
    }
    Ok(())
}

async fn write_links(tx: &mut Tx, links: &[(i64, i64)], shares: &HashMap<(i64, i64), i64>) -> Result<()> {
    for chunk in links.chunks(1000) {
        on_tx!(tx, c => {
            let mut qb = QueryBuilder::new("INSERT INTO unit_successors (unit_id, successor_id, share) ");
            qb.push_values(chunk, |mut b, (a, s)| {
                b.push_bind(*a).push_bind(*s).push_bind(shares.get(&(*a, *s)).copied());
            });
            qb.push(" ON CONFLICT DO NOTHING");
            qb.build().execute(c).await.map(|_| ())
        })?;
    }
    Ok(())
}

/// Moves the households of each pair's old unit to its new one, recording each move.
async fn move_households(tx: &mut Tx, pairs: &[Pair], day: NaiveDate) -> Result<i64> {
    if pairs.is_empty() {
        return Ok(0);
    }
    let create = match tx {
        Tx::Sqlite(_) => "CREATE TEMP TABLE restructure_pairs (old_id INTEGER PRIMARY KEY, new_id INTEGER NOT NULL)",
        Tx::Pg(_) => {
            "CREATE TEMP TABLE restructure_pairs (old_id BIGINT PRIMARY KEY, new_id BIGINT NOT NULL) ON COMMIT DROP"
        }
    };
    on_tx!(tx, c => sqlx::query(create).execute(c).await.map(|_| ()))?;
    for chunk in pairs.chunks(1000) {
        on_tx!(tx, c => {
            let mut qb = QueryBuilder::new("INSERT INTO restructure_pairs (old_id, new_id) ");
            qb.push_values(chunk, |mut b, p| {
                b.push_bind(p.old).push_bind(p.new);
            });
            qb.build().execute(c).await.map(|_| ())
        })?;
    }
    on_tx!(tx, c => sqlx::query(
        "INSERT INTO household_moves (household_id, effective, from_unit_id, to_unit_id) \
         SELECT h.id, $1, p.old_id, p.new_id FROM households h JOIN restructure_pairs p ON p.old_id = h.unit_id")
        .bind(day).execute(c).await.map(|_| ()))?;
    let moved = on_tx!(tx, c => sqlx::query(
        "UPDATE households SET unit_id = p.new_id FROM restructure_pairs p WHERE households.unit_id = p.old_id")
        .execute(c).await.map(|r| r.rows_affected()))?;
    on_tx!(tx, c => sqlx::query("DROP TABLE restructure_pairs").execute(c).await.map(|_| ()))?;
    Ok(moved as i64)
}

/// Sums of the figures of units, over shards: unit → (figure, period) → value.
async fn figures_of(tx: &mut Tx, ids: &[i64]) -> Result<HashMap<i64, Vec<(String, String, i64)>>> {
    let mut out: HashMap<i64, Vec<(String, String, i64)>> = HashMap::new();
    for chunk in crate::db::batch::padded(ids, 256) {
        let rows: Vec<(i64, String, String, i64)> = on_tx!(tx, c => {
            let mut qb = QueryBuilder::new(
                "SELECT unit_id, figure, period, CAST(SUM(value) AS BIGINT) FROM rollups WHERE unit_id IN (");
            let mut sep = qb.separated(", ");
            for id in &chunk {
                sep.push_bind(*id);
            }
            qb.push(") GROUP BY unit_id, figure, period");
            qb.build_query_as::<(i64, String, String, i64)>().fetch_all(c).await
        })?;
        for (u, f, p, v) in rows {
            if v != 0 {
                out.entry(u).or_default().push((f, p, v));
            }
        }
    }
    for v in out.values_mut() {
        v.sort();
        v.dedup();
    }
    Ok(out)
}

/// The figures follow the moved households: today's state leaves the old units for the
/// new; the households' past (visits) is counted on the new units too.
async fn carry_figures(tx: &mut Tx, t: &Tree, pairs: &[Pair], day: NaiveDate) -> Result<()> {
    let olds: Vec<i64> = pairs.iter().map(|p| p.old).collect();
    let figures = figures_of(tx, &olds).await?;
    let mut folded: BTreeMap<rollups::Key, i64> = BTreeMap::new();
    for pair in pairs {
        if let Some(rows) = figures.get(&pair.old) {
            fold_pair(&mut folded, t, *pair, rows, day);
        }
    }
    rollups::write_folded(tx, folded).await
}

async fn carry_rows(tx: &mut Tx, t: &Tree, pair: Pair, rows: &[(String, String, i64)], day: NaiveDate) -> Result<()> {
    let mut folded: BTreeMap<rollups::Key, i64> = BTreeMap::new();
    fold_pair(&mut folded, t, pair, rows, day);
    rollups::write_folded(tx, folded).await
}

/// The deltas of one pair's figures (`rows`: the old unit's).
fn fold_pair(
    folded: &mut BTreeMap<rollups::Key, i64>,
    t: &Tree,
    pair: Pair,
    rows: &[(String, String, i64)],
    day: NaiveDate,
) {
    // Visits of the day's month and after were made on the new tree (a restructuring
    // applied late finds them on the old one): they move, like today's state.
    let first = ngoso_core::outreach::month_of_day(day);
    let mut add = |u: i64, f: &str, p: &str, v: i64| {
        *folded.entry((u, f.to_owned(), p.to_owned())).or_insert(0) += v;
    };
    let carried = rows.iter().filter(|(f, p, _)| p.is_empty() || ngoso_core::rollup::figure::is_household_past(f));
    for (f, p, v) in carried {
        let moves = p.is_empty() || p.as_str() >= first.as_str();
        if pair.top {
            let (from, to) = (t.path(pair.old), t.path(pair.new));
            for a in to.iter().filter(|a| !from.contains(a)) {
                add(*a, f, p, *v);
            }
            if moves {
                for a in from.iter().filter(|a| !to.contains(a)) {
                    add(*a, f, p, -*v);
                }
            }
        } else {
            add(pair.new, f, p, *v);
            if moves {
                add(pair.old, f, p, -*v);
            }
        }
    }
}

/// The figures of the households on a unit itself (not in a unit below): its figures less
/// those of its children of the eve of its closing.
async fn direct_figures(tx: &mut Tx, t: &Tree, unit: i64) -> Result<Vec<(String, String, i64)>> {
    let eve = t.units[&unit].valid_to.and_then(|d| d.pred_opt());
    let kids: Vec<i64> = eve.map(|e| t.children_on(unit, e)).unwrap_or_default();
    let mut ids = kids.clone();
    ids.push(unit);
    let f = figures_of(tx, &ids).await?;
    let mut sum: BTreeMap<(String, String), i64> = BTreeMap::new();
    for (fig, p, v) in f.get(&unit).into_iter().flatten() {
        *sum.entry((fig.clone(), p.clone())).or_insert(0) += v;
    }
    for k in kids {
        for (fig, p, v) in f.get(&k).into_iter().flatten() {
            *sum.entry((fig.clone(), p.clone())).or_insert(0) -= v;
        }
    }
    Ok(sum.into_iter().filter(|(_, v)| *v != 0).map(|((f, p), v)| (f, p, v)).collect())
}

async fn record(tx: &mut Tx, day: NaiveDate, digest: &str, summary: &Summary, user_id: Option<i64>) -> Result<()> {
    let json = serde_json::to_string(summary).unwrap_or_default();
    on_tx!(tx, c => sqlx::query(
        "INSERT INTO restructurings (effective, digest, summary, user_id, created_at) VALUES ($1, $2, $3, $4, $5)")
        .bind(day).bind(digest).bind(&json).bind(user_id).bind(now()).execute(c).await.map(|_| ()))?;
    Ok(())
}

/// The units whose entries are counted at `id` through links of one successor each: `id`
/// and, recursively, its predecessors that have it as their only successor; each with the
/// units along its way to `id` (itself included, `id` excluded).
fn feeders(t: &Tree, id: i64) -> Vec<(i64, Vec<i64>)> {
    let mut out = vec![(id, Vec::new())];
    let mut i = 0;
    while i < out.len() {
        let (at, way) = out[i].clone();
        for p in t.predecessors.get(&at).cloned().unwrap_or_default() {
            if t.single(p) == Some(at) && !out.iter().any(|(u, _)| *u == p) {
                let mut w = vec![p];
                w.extend(way.iter().copied());
                out.push((p, w));
            }
        }
        i += 1;
    }
    // The way of `id` itself is empty; every other includes `id` at its end.
    out.into_iter()
        .map(|(u, mut w)| {
            if u != id {
                w.push(id);
            }
            (u, w)
        })
        .collect()
}

/// Figures entered as aggregates (data values, feedback counts) on a unit closed with one
/// successor are counted on the successor's units too (those not already counting them).
async fn carry_entries(tx: &mut Tx, t: &Tree, closed: &[i64]) -> Result<()> {
    // (entry unit, the units to add its entries to)
    let mut plan: Vec<(i64, Vec<i64>)> = Vec::new();
    for &x in closed {
        let Some(s) = t.single(x) else { continue };
        let target = t.path(s);
        for (e, way) in feeders(t, x) {
            let mut counted: HashSet<i64> = t.path(e).into_iter().collect();
            for w in way.iter().chain(std::iter::once(&x)) {
                counted.extend(t.path(*w));
            }
            let to: Vec<i64> = target.iter().copied().filter(|a| !counted.contains(a)).collect();
            if !to.is_empty() {
                plan.push((e, to));
            }
        }
    }
    // A split unit's own entries, divided among its successors by the shares given.
    let split: Vec<(i64, Vec<(i64, i64)>)> = closed.iter().filter_map(|x| t.shared(*x).map(|s| (*x, s))).collect();
    let mut units: Vec<i64> = plan.iter().map(|p| p.0).collect();
    units.extend(split.iter().map(|s| s.0));
    let entries = entries_of(tx, &units).await?;
    let mut folded: BTreeMap<rollups::Key, i64> = BTreeMap::new();
    for (e, to) in plan {
        for (f, p, v) in entries.get(&e).into_iter().flatten() {
            for a in &to {
                *folded.entry((*a, f.clone(), p.clone())).or_insert(0) += v;
            }
        }
    }
    for (x, succ) in split {
        let from = t.path(x);
        let weights: Vec<i64> = succ.iter().map(|s| s.1).collect();
        for (f, p, v) in entries.get(&x).into_iter().flatten() {
            for ((s, _), part) in succ.iter().zip(ngoso_core::rollup::share_out(f, *v, &weights)) {
                for a in t.path(*s).into_iter().filter(|a| !from.contains(a)) {
                    *folded.entry((a, f.clone(), p.clone())).or_insert(0) += part;
                }
            }
        }
    }
    rollups::write_folded(tx, folded).await
}

/// The figures entered on units themselves: data values and feedback counts, by unit.
async fn entries_of(tx: &mut Tx, units: &[i64]) -> Result<HashMap<i64, Vec<(String, String, i64)>>> {
    use ngoso_core::rollup::figure;
    let mut out: HashMap<i64, Vec<(String, String, i64)>> = HashMap::new();
    let mut ids = units.to_vec();
    ids.sort_unstable();
    ids.dedup();
    for chunk in ids.chunks(500) {
        // Ids are integers of ours: written into the text.
        let list = chunk.iter().map(i64::to_string).collect::<Vec<_>>().join(", ");
        let sql = format!(
            "SELECT unit_id, element_id, period, CAST(SUM(value) AS BIGINT), COUNT(*) FROM data_values \
             WHERE unit_id IN ({list}) GROUP BY unit_id, element_id, period"
        );
        let values: Vec<(i64, i64, String, i64, i64)> =
            on_tx!(tx, c => sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())).fetch_all(c).await)?;
        for (u, e, p, sum, n) in values {
            let v = out.entry(u).or_default();
            v.push((figure::value(e), p.clone(), sum));
            v.push((figure::value_n(e), p, n));
        }
        let sql = format!(
            "SELECT unit_id, month, CAST(SUM(received) AS BIGINT), CAST(SUM(answered) AS BIGINT), \
             CAST(SUM(on_time) AS BIGINT) FROM feedback_counts WHERE unit_id IN ({list}) GROUP BY unit_id, month"
        );
        let counts: Vec<(i64, String, i64, i64, i64)> =
            on_tx!(tx, c => sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())).fetch_all(c).await)?;
        for (u, m, r, a, o) in counts {
            let v = out.entry(u).or_default();
            v.push((figure::FEEDBACK_RECEIVED.to_owned(), m.clone(), r));
            v.push((figure::FEEDBACK_ANSWERED.to_owned(), m.clone(), a));
            v.push((figure::FEEDBACK_ON_TIME.to_owned(), m, o));
        }
    }
    for v in out.values_mut() {
        v.retain(|r| r.2 != 0);
    }
    Ok(out)
}

/// Teams, accounts and feedback routes of each closed unit with one successor move to it;
/// those of a unit split (or left to place) are listed for an administrator.
async fn follow(tx: &mut Tx, t: &Tree, closed: &BTreeSet<i64>) -> Result<(i64, i64, i64, Vec<ToReview>)> {
    let (mut teams, mut accounts, mut routes) = (0i64, 0i64, 0i64);
    let mut review = Vec::new();
    let ids: Vec<i64> = closed.iter().copied().collect();
    for chunk in ids.chunks(500) {
        // Ids are integers of ours: written into the text.
        let ids = chunk.iter().map(i64::to_string).collect::<Vec<_>>().join(", ");
        let sql = format!(
            "SELECT 'team', id, name, unit_id FROM teams WHERE unit_id IN ({ids}) \
             UNION ALL SELECT 'account', id, username, unit_id FROM users WHERE unit_id IN ({ids}) \
             UNION ALL SELECT 'route', r.id, a.name_vi, r.unit_id FROM feedback_routes r JOIN agencies a ON a.id = r.agency_id \
             WHERE r.unit_id IN ({ids})"
        );
        let rows: Vec<(String, i64, String, i64)> =
            on_tx!(tx, c => sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())).fetch_all(c).await)?;
        // (table, id, successor) of what follows a unit with one successor.
        let mut moves: Vec<(&'static str, i64, i64)> = Vec::new();
        for (kind, id, name, unit) in rows {
            let (table, kind) = match kind.as_str() {
                "team" => ("teams", "team"),
                "account" => ("users", "account"),
                _ => ("feedback_routes", "route"),
            };
            match t.single(unit) {
                Some(s) => moves.push((table, id, s)),
                None => review.push(ToReview { kind, id, name, unit: t.ref_of(unit) }),
            }
        }
        for table in ["teams", "users", "feedback_routes"] {
            let these: Vec<(i64, i64)> = moves.iter().filter(|m| m.0 == table).map(|m| (m.1, m.2)).collect();
            if these.is_empty() {
                continue;
            }
            // Ids are integers of ours: written into the text.
            let cases: String = these.iter().map(|(id, s)| format!(" WHEN {id} THEN {s}")).collect();
            let ids = these.iter().map(|(id, _)| id.to_string()).collect::<Vec<_>>().join(", ");
            let sql = format!("UPDATE {table} SET unit_id = CASE id{cases} END WHERE id IN ({ids})");
            let res = on_tx!(tx, c => sqlx::query(sqlx::AssertSqlSafe(sql.as_str())).execute(c).await.map(|_| ()))
                .map_err(StoreError::from);
            match res {
                Ok(()) => match table {
                    "teams" => teams += these.len() as i64,
                    "users" => accounts += these.len() as i64,
                    _ => routes += these.len() as i64,
                },
                // A successor with a rule of its own for the same category.
                Err(e) if e.is_unique_violation() && table == "feedback_routes" => {
                    let codes: Vec<String> = these.iter().map(|(_, s)| t.units[s].code.clone()).collect();
                    return Err(ngoso_core::Invalid::new("restructure-route-clash")
                        .with_detail(codes.join(", "))
                        .into());
                }
                Err(e) => return Err(e),
            }
        }
    }
    Ok((teams, accounts, routes, review))
}

/// Households in closed units without a successor, with the units they may go to: the
/// successors of the nearest closed unit above that has some.
async fn waiting(tx: &mut Tx, t: &Tree, closed: &BTreeSet<i64>) -> Result<Vec<ToPlace>> {
    let lonely: Vec<i64> = closed.iter().copied().filter(|c| t.single(*c).is_none()).collect();
    let mut out = Vec::new();
    for chunk in lonely.chunks(500) {
        let rows: Vec<(i64, i64)> = on_tx!(tx, c => {
            let mut qb = QueryBuilder::new("SELECT unit_id, COUNT(*) FROM households WHERE unit_id IN (");
            let mut sep = qb.separated(", ");
            for id in chunk {
                sep.push_bind(*id);
            }
            qb.push(") GROUP BY unit_id");
            qb.build_query_as::<(i64, i64)>().fetch_all(c).await
        })?;
        for (unit, n) in rows {
            out.push(ToPlace { unit: t.ref_of(unit), households: n, candidates: candidates(t, unit) });
        }
    }
    out.sort_by(|a, b| a.unit.code.cmp(&b.unit.code));
    Ok(out)
}

fn candidates(t: &Tree, unit: i64) -> Vec<RestructuredUnit> {
    for a in t.path(unit).into_iter().rev() {
        if let Some(s) = t.successors.get(&a)
            && !s.is_empty()
        {
            let mut v: Vec<RestructuredUnit> = s.iter().map(|id| t.ref_of(*id)).collect();
            v.sort_by(|a, b| a.code.cmp(&b.code));
            return v;
        }
    }
    Vec::new()
}

async fn open_feedback(tx: &mut Tx, closed: &BTreeSet<i64>) -> Result<i64> {
    let ids: Vec<i64> = closed.iter().copied().collect();
    let mut n = 0i64;
    for chunk in ids.chunks(500) {
        let k: i64 = on_tx!(tx, c => {
            let mut qb = QueryBuilder::new("SELECT COUNT(*) FROM feedback WHERE closed_at IS NULL AND unit_id IN (");
            let mut sep = qb.separated(", ");
            for id in chunk {
                sep.push_bind(*id);
            }
            qb.push(")");
            qb.build_query_scalar::<i64>().fetch_one(c).await
        })?;
        n += k;
    }
    Ok(n)
}

/// Places the households of a closed unit left without a successor (a hamlet of a split
/// commune): the unit is made again under `new_parent`, which must be one of the units its
/// households may go to, on the day it closed; its households, figures, teams and accounts
/// follow as in a restructuring. Returns the summary of what moved.
pub async fn place(db: &Db, unit_id: i64, new_parent: i64, user_id: Option<i64>) -> Result<Summary> {
    let mut tx = db.begin().await?;
    let mut t = Tree::load(&mut tx).await?;
    let unit = t.units.get(&unit_id).cloned().ok_or(StoreError::NotFound)?;
    let Some(day) = unit.valid_to else {
        return Err(ngoso_core::Invalid::new("restructure-place-open").with_detail(unit.code).into());
    };
    if t.single(unit_id).is_some() {
        return Err(ngoso_core::Invalid::new("restructure-place-placed").with_detail(unit.code).into());
    }
    if !t.units.contains_key(&new_parent) || !candidates(&t, unit_id).iter().any(|c| t.path(new_parent).contains(&c.id))
    {
        return Err(ngoso_core::Invalid::field("restructure-placement-outside", "parent")
            .with_detail(unit.code)
            .into());
    }
    // A split unit stays closed with its successors: the households on it (not in a unit
    // below) go to the unit chosen, and their figures with them.
    if t.successors.contains_key(&unit_id) {
        let mut summary = Summary { effective: Some(day), ..Summary::default() };
        let pair = Pair { old: unit_id, new: new_parent, top: true };
        let direct = direct_figures(&mut tx, &t, unit_id).await?;
        summary.households_moved = move_households(&mut tx, &[pair], day).await?;
        if summary.households_moved == 0 {
            return Err(ngoso_core::Invalid::new("restructure-place-placed").with_detail(unit.code).into());
        }
        carry_rows(&mut tx, &t, pair, &direct, day).await?;
        record(&mut tx, day, &format!("place {} on {}", unit.code, t.units[&new_parent].code), &summary, user_id)
            .await?;
        tx.commit().await?;
        return Ok(summary);
    }
    let eve = day.pred_opt().unwrap_or(day);
    // The unit and what lay below it, made again.
    let (rows, links, pairs) = remake(&mut tx, &t, vec![(unit_id, new_parent, true)], eve, &|_| false).await?;
    write_units(&mut tx, &rows, day).await?;
    for r in &rows {
        t.insert(r.unit(day));
    }
    write_links(&mut tx, &links, &HashMap::new()).await?;
    for (a, b) in &links {
        t.link(*a, *b);
    }
    let mut summary = Summary { effective: Some(day), remade: rows.len() as i64, ..Summary::default() };
    summary.households_moved = move_households(&mut tx, &pairs, day).await?;
    carry_figures(&mut tx, &t, &pairs, day).await?;
    let olds: Vec<i64> = pairs.iter().map(|p| p.old).collect();
    carry_entries(&mut tx, &t, &olds).await?;
    let closed: BTreeSet<i64> = olds.into_iter().collect();
    let (teams, accounts, routes, review) = follow(&mut tx, &t, &closed).await?;
    summary.teams_moved = teams;
    summary.accounts_moved = accounts;
    summary.routes_moved = routes;
    summary.to_review = review;
    record(&mut tx, day, &format!("place {} under {}", unit.code, t.units[&new_parent].code), &summary, user_id)
        .await?;
    tx.commit().await?;
    crate::tokens::changed();
    Ok(summary)
}

/// The households waiting to be placed, by closed unit, under `within` (a path; the whole
/// tree when none): those whose closed unit, or a unit they may go to, lies there.
pub async fn to_place(db: &Db, within: Option<&UnitPath>) -> Result<Vec<ToPlace>> {
    let mut tx = db.begin().await?;
    let t = Tree::load(&mut tx).await?;
    let closed: BTreeSet<i64> = t.units.values().filter(|u| u.valid_to.is_some()).map(|u| u.id).collect();
    let mut out = waiting(&mut tx, &t, &closed).await?;
    drop(tx);
    if let Some(w) = within {
        let inside = |id: i64| w.contains(&t.units[&id].unit_path());
        out.retain(|p| inside(p.unit.id) || p.candidates.iter().any(|c| inside(c.id)));
    }
    Ok(out)
}

/// The restructurings recorded, the latest first.
pub async fn list(db: &Db) -> Result<Vec<Restructuring>> {
    Ok(on_db!(db, p => sqlx::query_as::<_, Restructuring>(
        "SELECT id, effective, digest, summary, user_id, created_at FROM restructurings ORDER BY id DESC")
        .fetch_all(p).await)?)
}

/// The days on which a unit's tree changed: the day it opened by a restructuring and the
/// days its predecessors (recursively) did, for marking a series across them.
pub async fn change_days(db: &Db, unit_id: i64) -> Result<Vec<NaiveDate>> {
    let mut days: BTreeSet<NaiveDate> = BTreeSet::new();
    let mut seen: HashSet<i64> = HashSet::new();
    let mut stack = vec![unit_id];
    while let Some(u) = stack.pop() {
        if !seen.insert(u) {
            continue;
        }
        let preds: Vec<(i64, Option<NaiveDate>)> = on_db!(db, p => sqlx::query_as(
            "SELECT s.unit_id, n.valid_from FROM unit_successors s JOIN units n ON n.id = s.successor_id WHERE s.successor_id = $1")
            .bind(u).fetch_all(p).await)?;
        for (p, from) in preds {
            if let Some(d) = from {
                days.insert(d);
            }
            stack.push(p);
        }
    }
    // The ancestors' changes count too: a province opened by a merge.
    let unit = crate::units::get(db, unit_id).await?;
    for a in unit.unit_path().ids() {
        if a == unit_id {
            continue;
        }
        let from: Option<(Option<NaiveDate>,)> = on_db!(db, p => sqlx::query_as(
            "SELECT n.valid_from FROM units n WHERE n.id = $1 AND EXISTS (SELECT 1 FROM unit_successors s WHERE s.successor_id = n.id)")
            .bind(a).fetch_optional(p).await)?;
        if let Some((Some(d),)) = from {
            days.insert(d);
        }
    }
    Ok(days.into_iter().collect())
}

/// Whether the figures entered as aggregates on `unit_id`'s tree before `day` are complete
/// on it: false when a predecessor (recursively) was split, so that what was entered on it
/// cannot be told apart among its successors.
pub async fn entries_comparable(db: &Db, unit_id: i64) -> Result<bool> {
    let mut seen: HashSet<i64> = HashSet::new();
    let mut stack = vec![unit_id];
    while let Some(u) = stack.pop() {
        if !seen.insert(u) {
            continue;
        }
        let preds: Vec<(i64, i64)> = on_db!(db, p => sqlx::query_as(
            "SELECT s.unit_id, (SELECT COUNT(*) FROM unit_successors o WHERE o.unit_id = s.unit_id) \
             FROM unit_successors s WHERE s.successor_id = $1")
            .bind(u).fetch_all(p).await)?;
        for (p, n) in preds {
            let shared: i64 = on_db!(db, c => sqlx::query_scalar(
                "SELECT COUNT(*) FROM unit_successors WHERE unit_id = $1 AND share IS NOT NULL").bind(p).fetch_one(c).await)?;
            if n > 1 && shared < n {
                let entered: i64 = on_db!(db, c => sqlx::query_scalar(
                    "SELECT COUNT(*) FROM data_values WHERE unit_id = $1").bind(p).fetch_one(c).await)?;
                if entered > 0 {
                    return Ok(false);
                }
            }
            stack.push(p);
        }
    }
    Ok(true)
}

/// For `ngoso check`: the extra units each entry unit's figures are counted at, through
/// links of one successor: unit → the union of the paths along its way (its own included).
pub(crate) async fn entry_reach(db: &Db) -> Result<HashMap<i64, BTreeSet<i64>>> {
    let paths: HashMap<i64, Vec<i64>> =
        on_db!(db, p => sqlx::query_as::<_, (i64, String)>("SELECT id, path FROM units").fetch_all(p).await)?
            .into_iter()
            .map(|(id, path)| (id, UnitPath::from_stored(path).ids()))
            .collect();
    let links: Vec<(i64, i64)> =
        on_db!(db, p => sqlx::query_as("SELECT unit_id, successor_id FROM unit_successors").fetch_all(p).await)?;
    let mut succ: HashMap<i64, Vec<i64>> = HashMap::new();
    for (a, b) in links {
        succ.entry(a).or_default().push(b);
    }
    let mut out = HashMap::new();
    for id in paths.keys() {
        let mut reach: BTreeSet<i64> = BTreeSet::new();
        let mut at = *id;
        let mut steps = 0;
        while let Some([s]) = succ.get(&at).map(Vec::as_slice) {
            reach.extend(paths.get(s).into_iter().flatten().copied());
            at = *s;
            steps += 1;
            if steps > 64 {
                break;
            }
        }
        if !reach.is_empty() {
            reach.extend(paths[id].iter().copied());
            out.insert(*id, reach);
        }
    }
    Ok(out)
}

/// For `ngoso check`: each restructuring day with the households it moved and where from.
pub(crate) async fn move_days(db: &Db) -> Result<Vec<NaiveDate>> {
    Ok(on_db!(db, p => sqlx::query_scalar::<_, NaiveDate>(
        "SELECT DISTINCT effective FROM household_moves ORDER BY effective").fetch_all(p).await)?)
}

/// Successor links with what the handling of an item needs of each successor: unit →
/// (successor, its path, whether it has closed by today).
type Onward = HashMap<i64, Vec<(i64, UnitPath, bool)>>;

async fn onward(db: &Db, from: Option<i64>) -> Result<Onward> {
    // All the links, or those reachable from one unit.
    let head = "SELECT s.unit_id, s.successor_id, u.path, u.valid_to FROM unit_successors s JOIN units u ON u.id = s.successor_id";
    let rows: Vec<(i64, i64, String, Option<NaiveDate>)> = match from {
        None => on_db!(db, p => sqlx::query_as(head).fetch_all(p).await)?,
        Some(id) => {
            let sql = format!(
                "WITH RECURSIVE chain(id) AS (SELECT CAST($1 AS BIGINT) UNION SELECT s.successor_id FROM unit_successors s \
                 JOIN chain c ON s.unit_id = c.id) {head} WHERE s.unit_id IN (SELECT id FROM chain)"
            );
            on_db!(db, p => sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())).bind(id).fetch_all(p).await)?
        }
    };
    let today = crate::teams::today();
    let mut out: Onward = HashMap::new();
    for (unit, succ, path, to) in rows {
        out.entry(unit).or_default().push((succ, UnitPath::from_stored(path), to.is_some_and(|t| t <= today)));
    }
    Ok(out)
}

/// The subtree whose staff handle an item filed against a closed unit (see [`handling_path`]).
fn handling(id: i64, own: UnitPath, onward: &Onward) -> Option<UnitPath> {
    let (mut id, mut path) = (id, own);
    for _ in 0..16 {
        match onward.get(&id).map(Vec::as_slice).unwrap_or(&[]) {
            [] => return Some(path),
            [(s, p, closed)] => {
                if !closed {
                    return Some(p.clone());
                }
                (id, path) = (*s, p.clone());
            }
            many => {
                let paths: Vec<Vec<i64>> = many.iter().map(|s| s.1.ids()).collect();
                let common: Vec<String> = paths[0]
                    .iter()
                    .enumerate()
                    .take_while(|(i, id)| paths.iter().all(|p| p.get(*i) == Some(id)))
                    .map(|(_, id)| id.to_string())
                    .collect();
                return (!common.is_empty()).then(|| UnitPath::from_stored(format!("/{}/", common.join("/"))));
            }
        }
    }
    Some(path)
}

/// The subtree whose staff handle what was filed against a closed unit: that of the unit
/// carrying on from it (through links of one successor each), or, where it split, of the
/// nearest unit above all its successors (`None`: only those who see the whole tree). A
/// closed unit left without a successor keeps its own. One query, for the links reachable
/// from the unit.
pub async fn handling_path(db: &Db, unit_id: i64, own: UnitPath) -> Result<Option<UnitPath>> {
    Ok(handling(unit_id, own, &onward(db, Some(unit_id)).await?))
}

/// The closed units with feedback filed against them whose items are handled inside
/// `within` (their successors lie there) though they lie outside it. One query when no
/// unit has closed; two otherwise.
pub async fn handled_within(db: &Db, within: &UnitPath) -> Result<Vec<i64>> {
    let closed: Vec<(i64, String)> = on_db!(db, p => sqlx::query_as(
        "SELECT u.id, u.path FROM units u WHERE u.valid_to IS NOT NULL AND u.valid_to <= $1 \
         AND EXISTS (SELECT 1 FROM feedback f WHERE f.unit_id = u.id)")
        .bind(crate::teams::today()).fetch_all(p).await)?;
    let outside: Vec<(i64, UnitPath)> = closed
        .into_iter()
        .map(|(id, path)| (id, UnitPath::from_stored(path)))
        .filter(|(_, path)| !within.contains(path))
        .collect();
    if outside.is_empty() {
        return Ok(Vec::new());
    }
    let links = onward(db, None).await?;
    Ok(outside
        .into_iter()
        .filter(|(id, path)| handling(*id, path.clone(), &links).is_some_and(|h| within.contains(&h)))
        .map(|(id, _)| id)
        .collect())
}

/// For `ngoso check`: each split unit whose successors all have a share, with the successors'
/// paths and shares, in the order of their ids.
pub(crate) async fn entry_shares(db: &Db) -> Result<HashMap<i64, Vec<(Vec<i64>, i64)>>> {
    let rows: Vec<(i64, String, i64, Option<i64>)> = on_db!(db, p => sqlx::query_as(
        "SELECT s.unit_id, u.path, s.successor_id, CAST(s.share AS BIGINT) FROM unit_successors s \
         JOIN units u ON u.id = s.successor_id ORDER BY s.unit_id, s.successor_id")
        .fetch_all(p).await)?;
    // unit → (a successor's path, its share)
    type Shares = Vec<(Vec<i64>, Option<i64>)>;
    let mut by: HashMap<i64, Shares> = HashMap::new();
    for (unit, path, _, share) in rows {
        by.entry(unit).or_default().push((UnitPath::from_stored(path).ids(), share));
    }
    Ok(by
        .into_iter()
        .filter(|(_, v)| v.len() > 1 && v.iter().all(|x| x.1.is_some()))
        .map(|(u, v)| (u, v.into_iter().map(|(p, s)| (p, s.unwrap_or(0))).collect()))
        .collect())
}
