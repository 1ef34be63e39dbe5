//! Planning an import of units from rows of a file.
//!
//! The whole file is checked before anything is written: every bad row is reported with its
//! row number and reason, and a file with any bad row is refused whole. A good file comes
//! back as a plan ordered parents first, ready for the store to insert in one transaction.

use std::collections::HashMap;

use crate::error::Invalid;
use crate::unit::{UnitCode, UnitKind, UnitName, UnitPath, Validity};

/// One row of the file as read, before checking. A field that was not valid UTF-8 is `None`
/// in `bad_utf8` order: the reader reports it through [`ImportRow::utf8_error`].
#[derive(Debug, Clone, Default)]
pub struct ImportRow {
    /// The row's line number in the file (the header is line 1).
    pub row: u64,
    pub code: String,
    pub name: String,
    pub kind: String,
    pub parent_code: String,
    pub valid_from: String,
    pub valid_to: String,
    /// Set when the reader found bytes that are not UTF-8 in this row.
    pub utf8_error: bool,
    /// Set when the row has fewer fields than the header names.
    pub missing_fields: bool,
}

/// A refused row: its number and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowError {
    pub row: u64,
    pub error: Invalid,
}

/// Where a planned unit hangs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PlannedParent {
    /// A root of the tree.
    Root,
    /// A unit already in the database.
    Existing { id: i64, path: UnitPath },
    /// An earlier unit of the same plan (its index in the plan).
    New(usize),
}

/// A checked unit, ready to insert.
#[derive(Debug, Clone)]
pub struct PlannedUnit {
    pub row: u64,
    pub code: UnitCode,
    pub name: UnitName,
    pub kind: UnitKind,
    pub validity: Validity,
    pub parent: PlannedParent,
}

/// What the planner needs to know of a unit already in the database.
#[derive(Debug, Clone)]
pub struct ExistingUnit {
    pub id: i64,
    pub path: UnitPath,
}

/// Checks every row and orders the good file parents first.
pub fn plan_units(
    rows: &[ImportRow],
    existing: &HashMap<String, ExistingUnit>,
) -> Result<Vec<PlannedUnit>, Vec<RowError>> {
    let mut errors: Vec<RowError> = Vec::new();
    let mut parsed: Vec<Option<(UnitCode, UnitName, UnitKind, Validity)>> = Vec::with_capacity(rows.len());
    let mut first_row_of: HashMap<&str, usize> = HashMap::with_capacity(rows.len());

    for (i, r) in rows.iter().enumerate() {
        let err = |e: Invalid| RowError { row: r.row, error: e };
        if r.utf8_error {
            errors.push(err(Invalid::new("utf8-invalid")));
            parsed.push(None);
            continue;
        }
        if r.missing_fields {
            errors.push(err(Invalid::new("csv-missing-fields")));
            parsed.push(None);
            continue;
        }
        let fields = (|| {
            let code = UnitCode::parse(&r.code)?;
            let name = UnitName::parse(&r.name)?;
            let kind = UnitKind::parse(&r.kind)?;
            let validity = Validity::parse(Some(&r.valid_from), Some(&r.valid_to))?;
            Ok::<_, Invalid>((code, name, kind, validity))
        })();
        match fields {
            Err(e) => {
                errors.push(err(e));
                parsed.push(None);
            }
            Ok(f) => {
                let code = f.0.as_str();
                if existing.contains_key(code) {
                    errors.push(err(Invalid::field("unit-code-exists", "code").with_detail(code)));
                    parsed.push(None);
                } else if let Some(&first) = first_row_of.get(code) {
                    errors.push(err(Invalid::field("unit-code-duplicate", "code")
                        .with_detail(format!("{code} (row {})", rows[first].row))));
                    parsed.push(None);
                } else {
                    first_row_of.insert(r.code.trim(), i);
                    parsed.push(Some(f));
                }
            }
        }
    }

    // Resolve parents.
    let mut parent_of: Vec<Option<PlannedParent>> = vec![None; rows.len()];
    for (i, r) in rows.iter().enumerate() {
        let Some((code, ..)) = &parsed[i] else { continue };
        let pc = r.parent_code.trim();
        parent_of[i] = if pc.is_empty() {
            Some(PlannedParent::Root)
        } else if pc == code.as_str() {
            errors.push(RowError { row: r.row, error: Invalid::field("unit-cycle", "parent_code").with_detail(pc) });
            None
        } else if let Some(e) = existing.get(pc) {
            Some(PlannedParent::Existing { id: e.id, path: e.path.clone() })
        } else if let Some(&j) = first_row_of.get(pc) {
            Some(PlannedParent::New(j))
        } else {
            errors.push(RowError {
                row: r.row,
                error: Invalid::field("unit-parent-unknown", "parent_code").with_detail(pc),
            });
            None
        };
    }

    // Depth of each new unit among the new ones; cycles have no depth.
    const VISITING: usize = usize::MAX;
    let mut depth: Vec<Option<usize>> = vec![None; rows.len()];
    let mut state: Vec<usize> = vec![0; rows.len()]; // 0 unseen, VISITING, 1 done
    let mut in_cycle = vec![false; rows.len()];
    let mut orphaned = vec![false; rows.len()];
    for start in 0..rows.len() {
        if state[start] != 0 || parent_of[start].is_none() {
            continue;
        }
        let mut stack = vec![start];
        while let Some(&i) = stack.last() {
            if state[i] == 1 {
                stack.pop();
                continue;
            }
            state[i] = VISITING;
            match &parent_of[i] {
                Some(PlannedParent::New(j)) => {
                    let j = *j;
                    if state[j] == VISITING {
                        // Everything on the stack from j upward is a cycle.
                        let from = stack.iter().position(|&k| k == j).unwrap_or(0);
                        for &k in &stack[from..] {
                            in_cycle[k] = true;
                            state[k] = 1;
                        }
                        for &k in &stack[..from] {
                            orphaned[k] = true;
                            state[k] = 1;
                        }
                        stack.clear();
                    } else if state[j] == 1 {
                        match depth[j] {
                            Some(d) if !in_cycle[j] && !orphaned[j] => depth[i] = Some(d + 1),
                            _ => orphaned[i] = true,
                        }
                        state[i] = 1;
                        stack.pop();
                    } else if parent_of[j].is_none() {
                        // The parent row itself is bad: this row cannot be placed either, but
                        // the parent's own error says why.
                        orphaned[i] = true;
                        state[i] = 1;
                        stack.pop();
                    } else {
                        stack.push(j);
                    }
                }
                _ => {
                    depth[i] = Some(0);
                    state[i] = 1;
                    stack.pop();
                }
            }
        }
    }
    for (i, r) in rows.iter().enumerate() {
        if in_cycle[i] {
            errors.push(RowError {
                row: r.row,
                error: Invalid::field("unit-cycle", "parent_code").with_detail(r.parent_code.trim()),
            });
        }
    }

    if !errors.is_empty() {
        errors.sort_by_key(|e| e.row);
        return Err(errors);
    }

    // Parents first: order by depth, keeping the file's order within a level.
    let mut order: Vec<usize> = (0..rows.len()).collect();
    order.sort_by_key(|&i| depth[i].unwrap_or(0));
    let mut new_index = vec![0usize; rows.len()];
    for (pos, &i) in order.iter().enumerate() {
        new_index[i] = pos;
    }
    let plan = order
        .into_iter()
        .map(|i| {
            let (code, name, kind, validity) = parsed[i].take().expect("checked above");
            let parent = match parent_of[i].take().expect("checked above") {
                PlannedParent::New(j) => PlannedParent::New(new_index[j]),
                other => other,
            };
            PlannedUnit { row: rows[i].row, code, name, kind, validity, parent }
        })
        .collect();
    Ok(plan)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(n: u64, code: &str, name: &str, kind: &str, parent: &str) -> ImportRow {
        ImportRow {
            row: n,
            code: code.into(),
            name: name.into(),
            kind: kind.into(),
            parent_code: parent.into(),
            ..Default::default()
        }
    }

    fn codes_of(errs: &[RowError]) -> Vec<(u64, &'static str)> {
        errs.iter().map(|e| (e.row, e.error.code)).collect()
    }

    #[test]
    fn orders_parents_first() {
        let rows = vec![
            row(2, "27694", "Ấp 1", "ấp", "276"),
            row(3, "276", "Xã A", "xã", "80"),
            row(4, "80", "Long An", "tỉnh", ""),
        ];
        let plan = plan_units(&rows, &HashMap::new()).unwrap();
        let codes: Vec<_> = plan.iter().map(|p| p.code.as_str()).collect();
        assert_eq!(codes, vec!["80", "276", "27694"]);
        assert_eq!(plan[0].parent, PlannedParent::Root);
        assert_eq!(plan[1].parent, PlannedParent::New(0));
        assert_eq!(plan[2].parent, PlannedParent::New(1));
    }

    #[test]
    fn attaches_to_existing_units() {
        let mut existing = HashMap::new();
        existing.insert("80".to_string(), ExistingUnit { id: 7, path: UnitPath::root(7) });
        let plan = plan_units(&[row(2, "276", "Xã A", "xã", "80")], &existing).unwrap();
        assert_eq!(plan[0].parent, PlannedParent::Existing { id: 7, path: UnitPath::root(7) });
        let errs = plan_units(&[row(2, "80", "Dup", "tỉnh", "")], &existing).unwrap_err();
        assert_eq!(codes_of(&errs), vec![(2, "unit-code-exists")]);
    }

    #[test]
    fn reports_every_bad_row() {
        let mut bad_utf8 = row(7, "", "", "", "");
        bad_utf8.utf8_error = true;
        let mut short = row(9, "", "", "", "");
        short.missing_fields = true;
        let rows = vec![
            row(2, "80", "Long An", "tỉnh", ""),
            row(3, "80", "Again", "tỉnh", ""),
            row(4, "A", "a", "x", "B"),
            row(5, "B", "b", "x", "C"),
            row(6, "C", "c", "x", "A"),
            bad_utf8,
            row(8, "D", "d", "x", "NOPE"),
            short,
            row(10, "E", "", "x", "80"),
            row(11, "F", "f", "x", "F"),
            row(12, "G", "g", "x", "D"),
        ];
        let errs = plan_units(&rows, &HashMap::new()).unwrap_err();
        assert_eq!(
            codes_of(&errs),
            vec![
                (3, "unit-code-duplicate"),
                (4, "unit-cycle"),
                (5, "unit-cycle"),
                (6, "unit-cycle"),
                (7, "utf8-invalid"),
                (8, "unit-parent-unknown"),
                (9, "csv-missing-fields"),
                (10, "required"),
                (11, "unit-cycle"),
            ]
        );
    }

    #[test]
    fn a_chain_into_a_cycle_is_refused_through_the_cycle() {
        let rows = vec![row(2, "A", "a", "x", "B"), row(3, "B", "b", "x", "A"), row(4, "C", "c", "x", "A")];
        let errs = plan_units(&rows, &HashMap::new()).unwrap_err();
        assert_eq!(codes_of(&errs), vec![(2, "unit-cycle"), (3, "unit-cycle")]);
    }
}
