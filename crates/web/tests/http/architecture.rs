//! Rules of the code's shape, checked by reading the sources: each fails when a change
//! breaks its rule, naming the file and line.

use std::path::{Path, PathBuf};

/// The workspace's `crates/` folder.
fn crates() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("crates/").to_path_buf()
}

/// Every `.rs` file under `dir`, with its text.
fn sources(dir: &Path) -> Vec<(PathBuf, String)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap_or_else(|e| panic!("{}: {e}", d.display())) {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "rs") {
                let text = std::fs::read_to_string(&p).unwrap();
                out.push((p, text));
            }
        }
    }
    out.sort();
    out
}

/// Two types documented under one name would be one schema in the OpenAPI document (the
/// second silently replaces the first, as `Figures` once did).
#[test]
fn schema_names_are_unique() {
    let mut seen: std::collections::BTreeMap<String, Vec<String>> = Default::default();
    for dir in ["web/src", "store/src", "core/src"] {
        for (path, text) in sources(&crates().join(dir)) {
            let lines: Vec<&str> = text.lines().collect();
            for (i, line) in lines.iter().enumerate() {
                if !(line.contains("derive(") && line.contains("ToSchema")) {
                    continue;
                }
                let name = lines[i + 1..].iter().find_map(|l| {
                    let l = l.trim_start();
                    let rest = l.strip_prefix("pub struct ").or_else(|| l.strip_prefix("pub enum "))?;
                    Some(rest.split(|c: char| !c.is_alphanumeric() && c != '_').next().unwrap_or("").to_owned())
                });
                if let Some(name) = name {
                    seen.entry(name).or_default().push(format!("{}:{}", path.display(), i + 1));
                }
            }
        }
    }
    let twice: Vec<_> = seen.iter().filter(|(_, places)| places.len() > 1).collect();
    assert!(twice.is_empty(), "schema names used twice: {twice:#?}");
    assert!(seen.contains_key("OutreachFigures") && seen.contains_key("FeedbackFigures"), "the scan finds schemas");
}
