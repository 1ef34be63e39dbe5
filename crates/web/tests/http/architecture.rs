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

/// Lines of `text` (with their numbers) that match a rule, comments left out.
fn offending<'a>(text: &'a str, bad: &dyn Fn(&str) -> bool) -> Vec<(usize, &'a str)> {
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim_start().starts_with("//"))
        .filter(|(_, l)| bad(l))
        .map(|(i, l)| (i + 1, l.trim()))
        .collect()
}

/// Who may do what is decided in `ngoso_core::auth` and nowhere else: no other code compares
/// roles or scopes (the command line's demo only names the roles of its accounts).
#[test]
fn roles_are_compared_only_in_core_auth() {
    let role_rule = |l: &str| {
        let l = l.replace(' ', "");
        l.contains("==Role::")
            || l.contains("!=Role::")
            || l.contains("Role::Admin|")
            || l.contains("Role::AgencyStaff=>")
            || l.contains("Role::Officer=>")
            || l.contains("matches!(p.role")
            || l.contains("matchp.role")
            || l.contains(".role==")
            || l.contains(".role!=")
            || l.contains("==Scope::")
            || l.contains("!=Scope::")
            || l.contains("matches!(p.scope")
    };
    let mut found = Vec::new();
    for dir in ["web/src", "store/src", "cli/src"] {
        for (path, text) in sources(&crates().join(dir)) {
            for (n, line) in offending(&text, &role_rule) {
                found.push(format!("{}:{n}: {line}", path.display()));
            }
        }
    }
    assert!(found.is_empty(), "roles or scopes compared outside core::auth:\n{}", found.join("\n"));
    // The rule can fail: the core's own table compares them.
    let core = std::fs::read_to_string(crates().join("core/src/auth/mod.rs")).unwrap();
    assert!(!offending(&core, &role_rule).is_empty());
}

/// Features do not reach into each other's pages, and the old `pages` and `api` modules are
/// gone: each feature's folder owns its pages and API.
#[test]
fn no_feature_reaches_into_pages() {
    let rule = |l: &str| l.contains("crate::pages") || l.contains("crate::api::") || l.contains("use super::super::");
    let mut found = Vec::new();
    for (path, text) in sources(&crates().join("web/src")) {
        for (n, line) in offending(&text, &rule) {
            found.push(format!("{}:{n}: {line}", path.display()));
        }
        // A feature's pages and API are private to it.
        let rel = path.strip_prefix(crates().join("web/src")).unwrap().to_string_lossy().replace('\\', "/");
        if let Some((feature, _)) = rel.split_once('/') {
            for (n, line) in offending(&text, &|l: &str| {
                l.contains("::pages::")
                    && !l.contains(&format!("crate::{feature}::pages"))
                    && !l.contains("super::pages")
            }) {
                found.push(format!("{}:{n}: {line}", path.display()));
            }
        }
    }
    assert!(found.is_empty(), "reaches into pages:\n{}", found.join("\n"));
    assert!(!crates().join("web/src/pages").exists() && !crates().join("web/src/api").exists());
}

/// Handlers take the path and the query through our extractors, whose refusals are error pages
/// and API errors in the reader's language, not axum's bare English text.
#[test]
fn path_and_query_come_through_our_extractors() {
    let rule = |l: &str| {
        l.contains("axum::extract::Path")
            || l.contains("axum::extract::Query")
            || (l.contains("use axum::extract::{")
                && l.split(|c: char| !c.is_alphanumeric()).any(|w| w == "Path" || w == "Query"))
    };
    let mut found = Vec::new();
    for (path, text) in sources(&crates().join("web/src")) {
        if path.ends_with("http/extract.rs") {
            continue;
        }
        for (n, line) in offending(&text, &rule) {
            found.push(format!("{}:{n}: {line}", path.display()));
        }
    }
    assert!(found.is_empty(), "axum's own Path or Query:\n{}", found.join("\n"));
}

/// Personal data leaves the store only through calls that take core's proof of access and
/// write the audit row themselves: no public store function returns households, residents,
/// consents, feedback items with their contact, team members, visits with who knocked, walk
/// lists or photos without a `Granted<…>` (or a feedback `Handle`) in its signature.
#[test]
fn personal_data_is_read_only_with_a_proof() {
    let personal = [
        "Household>",
        "HouseholdRecord>",
        "Resident>",
        "Consent>",
        "<Item>",
        "Vec<Item>",
        "Member>",
        "VisitRow>",
        "HistoryRow>",
        "WalkItem>",
        "Vec<u8>",
    ];
    let mut found = Vec::new();
    let mut checked = 0;
    for (path, text) in sources(&crates().join("store/src")) {
        if path.ends_with("testing.rs") {
            continue;
        }
        let mut rest = text.as_str();
        while let Some(i) = rest.find("\npub async fn ") {
            let sig_start = i + 1;
            let sig_end = rest[sig_start..].find('{').map_or(rest.len(), |j| sig_start + j);
            let sig = &rest[sig_start..sig_end];
            let ret = sig.rsplit_once("->").map_or("", |(_, r)| r);
            if personal.iter().any(|t| ret.contains(t)) {
                checked += 1;
                if !(sig.contains("Granted<") || sig.contains("&Handle")) {
                    found.push(format!("{}: {}", path.display(), sig.split_whitespace().collect::<Vec<_>>().join(" ")));
                }
            }
            rest = &rest[sig_end..];
        }
    }
    assert!(found.is_empty(), "personal data read without a proof:\n{}", found.join("\n"));
    assert!(checked >= 6, "the scan finds the audited reads ({checked})");
}
/// The command line calls core and store, never web, but to serve (and to share its
/// configuration and messages), and to write the periodic report (built from the store and
/// written in its formats; the access check is the caller's, as in the API's handler).
#[test]
fn the_command_line_does_not_use_web_operations() {
    let allowed = [
        "ngoso_web::AppState",
        "ngoso_web::serve",
        "ngoso_web::WebConfig",
        "ngoso_web::http::i18n",
        "ngoso_web::http::error",
        "ngoso_web::report",
    ];
    let mut found = Vec::new();
    for (path, text) in sources(&crates().join("cli/src")) {
        for (n, line) in offending(&text, &|l: &str| {
            l.contains("ngoso_web::") && !allowed.iter().any(|a| l.contains(a)) && !l.contains("use ngoso_web::{")
        }) {
            found.push(format!("{}:{n}: {line}", path.display()));
        }
    }
    assert!(found.is_empty(), "the command line uses web operations:\n{}", found.join("\n"));
}
