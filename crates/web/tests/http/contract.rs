//! The API document is the contract: every answer of `/api/v1/…` a test sees is checked
//! against the OpenAPI document — its status must be one the operation documents, and its
//! JSON body must match the documented schema (types, required fields, no undocumented
//! field). A handler that starts answering something new fails every test that meets it
//! until the document says so.

use std::sync::OnceLock;

use axum::http::{Method, StatusCode};
use serde_json::Value;

/// The document, made once per test binary.
fn doc() -> &'static Value {
    static DOC: OnceLock<Value> = OnceLock::new();
    DOC.get_or_init(|| serde_json::to_value(ngoso_web::openapi_doc()).expect("the document serialises"))
}

/// Whether a path matches a template of the document (`{x}` takes one segment).
fn matches(template: &str, path: &str) -> bool {
    let (t, p): (Vec<&str>, Vec<&str>) = (template.split('/').collect(), path.split('/').collect());
    t.len() == p.len()
        && t.iter().zip(&p).all(|(a, b)| (a.starts_with('{') && a.ends_with('}') && !b.is_empty()) || a == b)
}

/// Checks one answer of the API; panics with what does not hold.
pub fn check(method: &Method, path_and_query: &str, status: StatusCode, content_type: Option<&str>, body: &str) {
    let path = path_and_query.split('?').next().unwrap_or("");
    if !path.starts_with("/api/v1/") || path == "/api/v1/openapi.json" {
        return;
    }
    let doc = doc();
    let paths = doc["paths"].as_object().expect("paths");
    // A static segment wins over a parameter, as in the router (`/units/by-code/x` is not
    // `/units/{id}`… with a longer path it could not be anyway).
    let Some((template, item)) =
        paths.iter().filter(|(t, _)| matches(t, path)).min_by_key(|(t, _)| t.matches('{').count())
    else {
        // No such route: the fallback's 404.
        assert_eq!(status, StatusCode::NOT_FOUND, "{method} {path}: not in the document, answered {status}");
        return;
    };
    let Some(op) = item.get(method.as_str().to_ascii_lowercase()) else {
        assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED, "{method} {path}: method not documented, answered {status}");
        return;
    };
    let responses = op["responses"].as_object().expect("responses");
    let Some(documented) = responses.get(status.as_str()).or_else(|| responses.get("default")) else {
        panic!(
            "{method} {template}: status {status} is not documented (documented: {:?}); body: {body}",
            responses.keys().collect::<Vec<_>>()
        );
    };
    let documented = resolve(documented);
    // A body in another documented media type (a CSV download) is taken as documented.
    let media = content_type.map(|c| c.split(';').next().unwrap_or("").trim()).unwrap_or("");
    if media != "application/json" && !media.is_empty() && !documented["content"][media].is_null() {
        return;
    }
    let schema = &documented["content"]["application/json"]["schema"];
    if schema.is_null() {
        assert!(body.is_empty(), "{method} {template} {status}: a body where none is documented: {body}");
        return;
    }
    assert!(
        content_type.is_some_and(|c| c.starts_with("application/json")),
        "{method} {template} {status}: documented as JSON, sent as {content_type:?}"
    );
    let value: Value =
        serde_json::from_str(body).unwrap_or_else(|e| panic!("{method} {template}: not JSON ({e}): {body}"));
    let mut errors = Vec::new();
    validate(schema, &value, "$", &mut errors);
    assert!(
        errors.is_empty(),
        "{method} {template} {status}: the body does not match the document:\n{}\n{body}",
        errors.join("\n")
    );
}

/// A `$ref` followed to its component.
fn resolve(v: &Value) -> &Value {
    match v.get("$ref").and_then(Value::as_str) {
        Some(r) => {
            let name = r.rsplit('/').next().unwrap_or("");
            let kind = if r.contains("/responses/") { "responses" } else { "schemas" };
            let target = &doc()["components"][kind][name];
            assert!(!target.is_null(), "{r} is not in the document");
            resolve(target)
        }
        None => v,
    }
}

fn type_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// Checks `v` against the part of JSON Schema the document uses.
fn validate(schema: &Value, v: &Value, at: &str, errors: &mut Vec<String>) {
    let schema = resolve(schema);
    if schema.as_object().is_some_and(|o| o.is_empty()) {
        return;
    }
    for (key, any) in [("oneOf", false), ("anyOf", false)] {
        if let Some(alts) = schema.get(key).and_then(Value::as_array) {
            let _ = any;
            let ok = alts.iter().any(|s| {
                let mut e = Vec::new();
                validate(s, v, at, &mut e);
                e.is_empty()
            });
            if !ok {
                errors.push(format!("{at}: matches none of {key}: {v}"));
            }
            return;
        }
    }
    if let Some(all) = schema.get("allOf").and_then(Value::as_array) {
        for s in all {
            validate(s, v, at, errors);
        }
        return;
    }
    let actual = type_of(v);
    let types: Vec<&str> = match &schema["type"] {
        Value::String(t) => vec![t.as_str()],
        Value::Array(ts) => ts.iter().filter_map(Value::as_str).collect(),
        _ => vec![],
    };
    if !types.is_empty() && !types.iter().any(|t| *t == actual || (*t == "number" && actual == "integer")) {
        errors.push(format!("{at}: expected {types:?}, found {actual}: {v}"));
        return;
    }
    if let Some(values) = schema.get("enum").and_then(Value::as_array)
        && !values.contains(v)
    {
        errors.push(format!("{at}: {v} is not one of {values:?}"));
    }
    match v {
        Value::Object(o) => {
            let props = schema.get("properties").and_then(Value::as_object);
            for r in schema.get("required").and_then(Value::as_array).into_iter().flatten() {
                let r = r.as_str().unwrap_or("");
                if !o.contains_key(r) {
                    errors.push(format!("{at}: required field {r:?} is missing"));
                }
            }
            for (k, x) in o {
                match props.and_then(|p| p.get(k)) {
                    Some(s) => validate(s, x, &format!("{at}.{k}"), errors),
                    None => match schema.get("additionalProperties") {
                        Some(Value::Object(s)) => validate(&Value::Object(s.clone()), x, &format!("{at}.{k}"), errors),
                        Some(Value::Bool(true)) => {}
                        _ if props.is_none() => {}
                        _ => errors.push(format!("{at}: field {k:?} is not documented")),
                    },
                }
            }
        }
        Value::Array(items) => {
            if let Some(s) = schema.get("items") {
                for (i, x) in items.iter().enumerate() {
                    validate(s, x, &format!("{at}[{i}]"), errors);
                }
            }
        }
        _ => {}
    }
}

#[test]
fn the_checker_can_fail() {
    let schema = serde_json::json!({"type": "object", "required": ["id"], "properties": {"id": {"type": "integer"}, "name": {"type": ["string", "null"]}}});
    let mut e = Vec::new();
    validate(&schema, &serde_json::json!({"id": 1, "name": null}), "$", &mut e);
    assert!(e.is_empty(), "{e:?}");
    validate(&schema, &serde_json::json!({"id": "1", "extra": 2}), "$", &mut e);
    assert_eq!(e.len(), 2, "{e:?}");
    assert!(
        matches("/api/v1/units/{id}", "/api/v1/units/5") && !matches("/api/v1/units/{id}", "/api/v1/units/5/figures")
    );
}
