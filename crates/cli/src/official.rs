//! The official administrative units shipped with ngoso (`data/official`, extracted by
//! `scripts/official_units.py`): the tree before 2025-07-01, the tree from that day, and the
//! mapping of old communes to new ones, embedded in the binary so that they work with no
//! network.

use std::collections::{HashMap, HashSet};
use std::io::Read;

use ngoso_core::import::{ExistingUnit, ImportRow};
use ngoso_store::restructure::MappingRow;

use crate::commands::import::read_unit_rows;
use crate::{Failure, t};

/// The tree until 2025-06-30 (`valid_to` 2025-07-01, exclusive).
pub const BEFORE: &[u8] = include_bytes!("../../../data/official/units-before.csv.gz");
/// The tree from 2025-07-01.
pub const AFTER: &[u8] = include_bytes!("../../../data/official/units-after.csv.gz");
/// Old commune → new commune, from 2025-07-01.
pub const MAPPING: &[u8] = include_bytes!("../../../data/official/mapping.csv.gz");
/// The day of the official restructuring.
pub const OFFICIAL_DAY: (i32, u32, u32) = (2025, 7, 1);

pub fn official_day() -> chrono::NaiveDate {
    let (y, m, d) = OFFICIAL_DAY;
    chrono::NaiveDate::from_ymd_opt(y, m, d).expect("a real day")
}

pub fn gunzip(gz: &[u8]) -> Result<Vec<u8>, Failure> {
    let mut bytes = Vec::new();
    flate2::read::GzDecoder::new(gz).read_to_end(&mut bytes).map_err(Failure::other)?;
    Ok(bytes)
}

/// The official mapping as rows: a row opening each new province concerned, then one per
/// old commune → new commune pair (with the new commune's name, kind and province). Only
/// the old communes of `province` when given, and of those recorded (`known`) when given.
pub fn official_rows(
    province: Option<&str>,
    known: Option<&HashMap<String, ExistingUnit>>,
) -> Result<Vec<MappingRow>, Failure> {
    let before = read_unit_rows(&gunzip(BEFORE)?)?;
    let before = match province {
        Some(p) => of_province(before, p)?,
        None => before,
    };
    let old: HashSet<String> = before.iter().map(|r| r.code.clone()).collect();
    let after = read_unit_rows(&gunzip(AFTER)?)?;
    let after: HashMap<String, ImportRow> = after.into_iter().map(|r| (r.code.clone(), r)).collect();
    let bytes = gunzip(MAPPING)?;
    let mut rdr = csv::Reader::from_reader(bytes.as_slice());
    let mut pairs: Vec<(String, String)> = Vec::new();
    for rec in rdr.records() {
        let rec = rec.map_err(Failure::other)?;
        let (o, n) = (rec.get(0).unwrap_or_default().to_owned(), rec.get(1).unwrap_or_default().to_owned());
        if old.contains(&o) && known.is_none_or(|k| k.contains_key(&o)) {
            pairs.push((o, n));
        }
    }
    let mut provinces: Vec<String> = Vec::new();
    for (_, n) in &pairs {
        if let Some(c) = after.get(n) {
            let p = c.parent_code.trim().to_owned();
            if !provinces.contains(&p) {
                provinces.push(p);
            }
        }
    }
    let mut rows = Vec::new();
    let mut line = 1;
    // A province of the same code and name before and after (the lists write "Tỉnh Lai
    // Châu" before, "Lai Châu" after) continues: its name as it was, so that the restructuring
    // finds it and puts its new communes under it.
    let bare = |n: &str| {
        let n = n.trim();
        let lower = n.to_lowercase();
        for w in ["tỉnh ", "thành phố "] {
            if let Some(rest) = lower.strip_prefix(w) {
                return rest.to_owned();
            }
        }
        lower
    };
    let old_roots: HashMap<&str, &ImportRow> =
        before.iter().filter(|r| r.parent_code.trim().is_empty()).map(|r| (r.code.as_str(), r)).collect();
    for p in &provinces {
        let Some(u) = after.get(p) else { continue };
        let name = match old_roots.get(p.as_str()) {
            Some(o) if bare(&o.name) == bare(&u.name) => o.name.clone(),
            _ => u.name.clone(),
        };
        line += 1;
        rows.push(MappingRow {
            line,
            old_code: String::new(),
            new_code: u.code.clone(),
            new_name: name,
            new_kind: u.kind.clone(),
            new_parent_code: String::new(),
            share: None,
        });
    }
    // Old communes the mapping leaves out close with no successor: their households wait
    // for an officer to place them.
    let mapped: HashSet<String> = pairs.iter().map(|p| p.0.clone()).collect();
    // (Leaves, that is: an old district with no commune, Lý Sơn's or Cồn Cỏ's, closes too.)
    let parents: HashSet<&str> = before.iter().map(|r| r.parent_code.trim()).collect();
    let left: Vec<String> = before
        .iter()
        .filter(|r| !parents.contains(r.code.as_str()) && !mapped.contains(&r.code))
        .filter(|r| known.is_none_or(|k| k.contains_key(&r.code)))
        .map(|r| r.code.clone())
        .collect();
    for (o, n) in pairs {
        let Some(u) = after.get(&n) else { continue };
        line += 1;
        rows.push(MappingRow {
            line,
            old_code: o,
            new_code: n,
            new_name: u.name.clone(),
            new_kind: u.kind.clone(),
            new_parent_code: u.parent_code.trim().to_owned(),
            share: None,
        });
    }
    for o in left {
        line += 1;
        rows.push(MappingRow { line, old_code: o, ..Default::default() });
    }
    Ok(rows)
}

/// The rows of a province and everything below it, in file order (parents come first).
pub fn of_province(rows: Vec<ImportRow>, code: &str) -> Result<Vec<ImportRow>, Failure> {
    let code = code.trim();
    if !rows.iter().any(|r| r.code == code && r.parent_code.trim().is_empty()) {
        return Err(Failure::Input(t("cli-official-province-unknown", &[("code", code)])));
    }
    let mut kept: HashSet<String> = HashSet::new();
    Ok(rows
        .into_iter()
        .filter(|r| {
            let keep = r.code == code || kept.contains(r.parent_code.trim());
            if keep {
                kept.insert(r.code.clone());
            }
            keep
        })
        .collect())
}
