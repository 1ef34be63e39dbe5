//! Recomputes what the store derives from raw records and lists every difference.
//!
//! For the tree: each unit's materialised path and depth follow from its parent's, and its
//! search key and collation key follow from its name. Later aggregates add their own checks
//! here; the list must always come back empty.

use ngoso_core::text;
use ngoso_core::unit::UnitPath;

use crate::{Db, Result, on_db};

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
    Ok(out)
}
