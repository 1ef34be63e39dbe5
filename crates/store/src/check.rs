//! Recomputes what the store derives from raw records and lists every difference.
//!
//! For the tree: each unit's materialised path and depth follow from its parent's, and its
//! search key and collation key follow from its name. For the roll-ups: every figure of every
//! unit is counted again from households, residents, visits, statuses and data values and compared with the
//! stored one. For the references the visit ingest checks itself: every visit, outcome and
//! status names rows that exist. The list must always come back empty.

use std::collections::{BTreeMap, HashMap};

use ngoso_core::outreach::{Barriers, VisitResult};
use ngoso_core::rollup::{Deltas, Traits};
use ngoso_core::text;
use ngoso_core::unit::UnitPath;

use crate::{Db, Result, on_db, rollups};

#[derive(sqlx::FromRow)]
struct Row {
    id: i64,
    code: String,
    name: String,
    name_key: String,
    name_sort: Vec<u8>,
    path: String,
    depth: i32,
    parent_path: Option<String>,
    parent_depth: Option<i32>,
    parent_id: Option<i64>,
}

/// Every difference found, as a line a person can read.
pub async fn run(db: &Db) -> Result<Vec<String>> {
    let sql = "SELECT c.id, c.code, c.name, c.name_key, c.name_sort, c.path, c.depth, \
               p.path AS parent_path, p.depth AS parent_depth, c.parent_id \
               FROM units c LEFT JOIN units p ON p.id = c.parent_id ORDER BY c.id";
    let rows: Vec<Row> = on_db!(db, p => sqlx::query_as(sql).fetch_all(p).await)?;
    let mut out = Vec::new();
    for r in rows {
        let (want_path, want_depth) = match (r.parent_id, &r.parent_path, r.parent_depth) {
            (None, _, _) => (UnitPath::root(r.id), 0),
            (Some(_), Some(pp), Some(pd)) => (UnitPath::from_stored(pp.clone()).child(r.id), pd + 1),
            (Some(pid), _, _) => {
                out.push(format!("unit {} ({}): parent {pid} does not exist", r.id, r.code));
                continue;
            }
        };
        if r.path != want_path.as_str() {
            out.push(format!("unit {} ({}): path {} should be {}", r.id, r.code, r.path, want_path.as_str()));
        }
        if r.depth != want_depth {
            out.push(format!("unit {} ({}): depth {} should be {want_depth}", r.id, r.code, r.depth));
        }
        if r.name_key != text::fold(&r.name) {
            out.push(format!("unit {} ({}): search key is stale", r.id, r.code));
        }
        if r.name_sort != text::sort_key(&r.name) {
            out.push(format!("unit {} ({}): collation key is stale", r.id, r.code));
        }
    }
    out.extend(check_references(db).await?);
    out.extend(check_rollups(db).await?);
    out.extend(crate::feedback::figures::check(db).await?);
    Ok(out)
}

/// Every figure, counted again from the raw records: (unit, figure, period) → value.
pub async fn recount(db: &Db) -> Result<BTreeMap<(i64, String, String), i64>> {
    let mut leaf = Deltas::default();
    let rows: Vec<(i64, i32, i64)> = on_db!(db, p => sqlx::query_as(
        "SELECT unit_id, barriers, COUNT(*) FROM households GROUP BY unit_id, barriers").fetch_all(p).await)?;
    for (unit, barriers, n) in rows {
        leaf.household(unit, Barriers::from_bits(barriers), n);
    }
    type Counted = (i64, bool, Option<String>, Option<i32>, i64, i64);
    let rows: Vec<Counted> = on_db!(db, p => sqlx::query_as(
        "SELECT h.unit_id, r.youth_union, r.sex, r.birth_year, r.groups, COUNT(*) FROM residents r \
         JOIN households h ON h.id = r.household_id GROUP BY h.unit_id, r.youth_union, r.sex, r.birth_year, r.groups")
        .fetch_all(p).await)?;
    for (unit, youth, sex, born, groups, n) in rows {
        leaf.resident(unit, &Traits::new(sex.as_deref(), born, groups), youth, n);
    }
    // A person's statuses, by their sex, year of birth and groups.
    type ByTrait = (i64, i64, i64, Option<String>, Option<i32>, i64, i64);
    let rows: Vec<ByTrait> = on_db!(db, p => sqlx::query_as(
        "SELECT h.unit_id, s.service_id, s.status_id, r.sex, r.birth_year, r.groups, COUNT(*) FROM subject_statuses s \
         JOIN residents r ON r.id = s.resident_id AND r.household_id = s.household_id JOIN households h ON h.id = s.household_id \
         GROUP BY h.unit_id, s.service_id, s.status_id, r.sex, r.birth_year, r.groups").fetch_all(p).await)?;
    for (unit, service, status, sex, born, groups, n) in rows {
        let base = ngoso_core::rollup::figure::status(service, status);
        for part in Traits::new(sex.as_deref(), born, groups).parts() {
            leaf.add(unit, ngoso_core::rollup::figure::slice(&base, &part), "", n);
        }
    }
    let rows: Vec<(i64, String, String, i32, i64)> = on_db!(db, p => sqlx::query_as(
        "SELECT h.unit_id, v.month, v.result, v.barriers, COUNT(*) FROM visits v JOIN households h ON h.id = v.household_id \
         GROUP BY h.unit_id, v.month, v.result, v.barriers").fetch_all(p).await)?;
    for (unit, month, result, barriers, n) in rows {
        let result = VisitResult::parse(&result).unwrap_or(VisitResult::NotHome);
        leaf.visits(unit, &month, result, Barriers::from_bits(barriers), n);
    }
    let rows: Vec<(i64, i64)> = on_db!(db, p => sqlx::query_as(
        "SELECT h.unit_id, COUNT(DISTINCT v.household_id) FROM visits v JOIN households h ON h.id = v.household_id GROUP BY h.unit_id")
        .fetch_all(p).await)?;
    for (unit, n) in rows {
        leaf.add(unit, ngoso_core::rollup::figure::HOUSEHOLDS_VISITED, "", n);
    }
    let rows: Vec<(i64, i64, i64, i64)> = on_db!(db, p => sqlx::query_as(
        "SELECT h.unit_id, s.service_id, s.status_id, COUNT(*) FROM subject_statuses s JOIN households h ON h.id = s.household_id \
         GROUP BY h.unit_id, s.service_id, s.status_id").fetch_all(p).await)?;
    for (unit, service, status, n) in rows {
        leaf.add(unit, ngoso_core::rollup::figure::status(service, status), "", n);
    }
    // Figures entered on a unit as aggregates: counted up its tree and, through links of one
    // successor each, up its successors' trees (restructure.rs).
    let mut entered = Deltas::default();
    // Feedback counts (themselves checked against the items) up the tree.
    let rows: Vec<(i64, String, i64, i64, i64)> = on_db!(db, p => sqlx::query_as(
        "SELECT unit_id, month, CAST(SUM(received) AS BIGINT), CAST(SUM(answered) AS BIGINT), CAST(SUM(on_time) AS BIGINT) \
         FROM feedback_counts WHERE unit_id <> 0 GROUP BY unit_id, month").fetch_all(p).await)?;
    for (unit, month, r, a, o) in rows {
        entered.feedback(unit, &month, (r, a, o));
    }
    for (unit, element, period, sum, n) in crate::values::for_recount(db).await? {
        entered.add(unit, ngoso_core::rollup::figure::value(element), &period, sum);
        entered.add(unit, ngoso_core::rollup::figure::value_n(element), &period, n);
    }
    let paths: HashMap<i64, Vec<i64>> =
        on_db!(db, p => sqlx::query_as::<_, (i64, String)>("SELECT id, path FROM units").fetch_all(p).await)?
            .into_iter()
            .map(|(id, path)| (id, UnitPath::from_stored(path).ids()))
            .collect();
    let mut all: BTreeMap<(i64, String, String), i64> = BTreeMap::new();
    for d in leaf.into_vec() {
        for a in paths.get(&d.unit_id).map(Vec::as_slice).unwrap_or(&[]) {
            *all.entry((*a, d.figure.clone(), d.period.clone())).or_insert(0) += d.value;
        }
    }
    let reach = crate::restructure::entry_reach(db).await?;
    let shared = crate::restructure::entry_shares(db).await?;
    for d in entered.into_vec() {
        if let Some(succ) = shared.get(&d.unit_id) {
            let from = paths.get(&d.unit_id).cloned().unwrap_or_default();
            let weights: Vec<i64> = succ.iter().map(|s| s.1).collect();
            for ((path, _), part) in succ.iter().zip(ngoso_core::rollup::share_out(&d.figure, d.value, &weights)) {
                for a in path.iter().filter(|a| !from.contains(a)) {
                    *all.entry((*a, d.figure.clone(), d.period.clone())).or_insert(0) += part;
                }
            }
        }
        let units: Vec<i64> = match reach.get(&d.unit_id) {
            Some(r) => r.iter().copied().collect(),
            None => paths.get(&d.unit_id).cloned().unwrap_or_default(),
        };
        for a in units {
            *all.entry((a, d.figure.clone(), d.period.clone())).or_insert(0) += d.value;
        }
    }
    // Visits made before a restructuring that moved their household are counted where they
    // were reported too: on the units above the household's unit of then that its unit of
    // now does not have.
    for day in crate::restructure::move_days(db).await? {
        let before = ngoso_core::calendar::start_of_day(day);
        type Past = (i64, i64, String, String, i32, i64);
        let rows: Vec<Past> = on_db!(db, p => sqlx::query_as(
            "SELECT h.unit_id, m.from_unit_id, v.month, v.result, v.barriers, COUNT(*) FROM visits v \
             JOIN household_moves m ON m.household_id = v.household_id AND m.effective = $1 \
             JOIN households h ON h.id = v.household_id WHERE v.visited_at < $2 \
             GROUP BY h.unit_id, m.from_unit_id, v.month, v.result, v.barriers")
            .bind(day).bind(before).fetch_all(p).await)?;
        for (now, then, month, result, barriers, n) in rows {
            let (Some(now), Some(then)) = (paths.get(&now), paths.get(&then)) else { continue };
            let mut d = Deltas::default();
            let result = VisitResult::parse(&result).unwrap_or(VisitResult::NotHome);
            d.visits(0, &month, result, Barriers::from_bits(barriers), n);
            for d in d.into_vec() {
                for a in then.iter().filter(|a| !now.contains(a)) {
                    *all.entry((*a, d.figure.clone(), d.period.clone())).or_insert(0) += d.value;
                }
            }
        }
    }
    all.retain(|_, v| *v != 0);
    Ok(all)
}

/// References ngoso checks itself, where no foreign key checks them: the visit ingest's
/// (since migration 0008 on SQLite and 0007 on PostgreSQL) and the household import's (since
/// 0011 on SQLite and 0009 on PostgreSQL). Each is (table, how a row is named, column, table
/// named, key named). A visit is named by its household and its id, which is unique only
/// within the household.
const REFERENCES: [(&str, &str, &str, &str, &str); 13] = [
    ("households", "CAST(c.id AS TEXT)", "unit_id", "units", "id"),
    ("household_moves", "'of household ' || CAST(c.household_id AS TEXT)", "household_id", "households", "id"),
    ("consents", "CAST(c.id AS TEXT)", "household_id", "households", "id"),
    ("visits", VISIT, "household_id", "households", "id"),
    ("visits", VISIT, "team_id", "teams", "id"),
    ("visits", VISIT, "member_id", "team_members", "id"),
    ("visits", VISIT, "user_id", "users", "id"),
    ("visit_outcomes", "'of visit ' || CAST(c.visit_seq AS TEXT)", "visit_seq", "visits", "seq"),
    ("visit_outcomes", "'of visit ' || CAST(c.visit_seq AS TEXT)", "service_id", "services", "id"),
    ("visit_outcomes", "'of visit ' || CAST(c.visit_seq AS TEXT)", "status_id", "service_statuses", "id"),
    ("subject_statuses", "'of household ' || CAST(c.household_id AS TEXT)", "household_id", "households", "id"),
    ("subject_statuses", "'of household ' || CAST(c.household_id AS TEXT)", "service_id", "services", "id"),
    ("subject_statuses", "'of household ' || CAST(c.household_id AS TEXT)", "status_id", "service_statuses", "id"),
];

const VISIT: &str = "c.id || ' of household ' || CAST(c.household_id AS TEXT)";

/// Rows that name a household, team, member, account, service, status or visit that does not
/// exist (at most a few of each kind, and how many in all).
async fn check_references(db: &Db) -> Result<Vec<String>> {
    let mut out = Vec::new();
    for (table, name, column, parent, parent_key) in REFERENCES {
        let sql = format!(
            "SELECT {name}, c.{column}, COUNT(*) OVER () FROM {table} c WHERE c.{column} IS NOT NULL \
             AND NOT EXISTS (SELECT 1 FROM {parent} p WHERE p.{parent_key} = c.{column}) ORDER BY 1 LIMIT 5"
        );
        let rows: Vec<(String, i64, i64)> =
            on_db!(db, p => sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())).fetch_all(p).await)?;
        for (row, named, all) in &rows {
            out.push(format!("{table} {row}: {column} {named} does not exist in {parent} ({all} such rows)"));
        }
    }
    Ok(out)
}

async fn check_rollups(db: &Db) -> Result<Vec<String>> {
    let want = recount(db).await?;
    let have = rollups::all(db).await?;
    let mut out = Vec::new();
    for (k, v) in &want {
        let h = have.get(k).copied().unwrap_or(0);
        if h != *v {
            out.push(format!("unit {}: figure {} {}: stored {h}, counted {v}", k.0, k.1, k.2));
        }
    }
    for (k, h) in &have {
        if !want.contains_key(k) {
            out.push(format!("unit {}: figure {} {}: stored {h}, counted 0", k.0, k.1, k.2));
        }
    }
    Ok(out)
}
