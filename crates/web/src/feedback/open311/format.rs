//! The two formats of Open311 answers, XML and JSON, written from one description of a
//! record: elements in the specification's order, text escaped for XML, lists wrapped as the
//! specification names them.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

/// The response format, from the file extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Xml,
    Json,
}

impl Format {
    /// Splits `name.xml` / `name.json`.
    pub(super) fn split(file: &str) -> Option<(&str, Format)> {
        if let Some(n) = file.strip_suffix(".xml") {
            Some((n, Format::Xml))
        } else {
            file.strip_suffix(".json").map(|n| (n, Format::Json))
        }
    }
    /// The format an error under `path` is written in (XML unless the path asks for JSON).
    pub fn of_path(path: &str) -> Format {
        if path.ends_with(".json") { Format::Json } else { Format::Xml }
    }
    fn content_type(self) -> &'static str {
        match self {
            Format::Xml => "text/xml; charset=utf-8",
            Format::Json => "application/json; charset=utf-8",
        }
    }
}

/// A value of a record.
pub(super) enum V {
    S(Option<String>),
    B(bool),
    I(i64),
    /// A container of records: (container name, child name, records).
    L(&'static str, &'static str, Vec<Rec>),
    /// A container of strings: (container name, child name, values).
    SL(&'static str, &'static str, Vec<String>),
}

pub(super) type Rec = Vec<(&'static str, V)>;

pub(super) fn s(v: impl Into<String>) -> V {
    V::S(Some(v.into()))
}

pub(super) fn opt(v: Option<impl Into<String>>) -> V {
    V::S(v.map(Into::into).filter(|s: &String| !s.is_empty()))
}

/// Escapes text for XML; characters XML 1.0 cannot carry are dropped.
pub(super) fn esc(out: &mut String, t: &str) {
    for c in t.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => {}
            c => out.push(c),
        }
    }
}

pub(super) fn xml_rec(out: &mut String, rec: &Rec) {
    for (k, v) in rec {
        match v {
            V::S(None) => {
                out.push_str(&format!("<{k}/>"));
            }
            V::S(Some(t)) => {
                out.push_str(&format!("<{k}>"));
                esc(out, t);
                out.push_str(&format!("</{k}>"));
            }
            V::B(b) => out.push_str(&format!("<{k}>{b}</{k}>")),
            V::I(n) => out.push_str(&format!("<{k}>{n}</{k}>")),
            V::L(container, child, recs) => {
                out.push_str(&format!("<{container}>"));
                for r in recs {
                    out.push_str(&format!("<{child}>"));
                    xml_rec(out, r);
                    out.push_str(&format!("</{child}>"));
                }
                out.push_str(&format!("</{container}>"));
            }
            V::SL(container, child, vals) => {
                out.push_str(&format!("<{container}>"));
                for t in vals {
                    out.push_str(&format!("<{child}>"));
                    esc(out, t);
                    out.push_str(&format!("</{child}>"));
                }
                out.push_str(&format!("</{container}>"));
            }
        }
    }
}

pub(super) fn json_rec(rec: &Rec) -> serde_json::Value {
    let mut m = serde_json::Map::new();
    for (k, v) in rec {
        let val = match v {
            V::S(None) => serde_json::Value::Null,
            V::S(Some(t)) => serde_json::Value::String(t.clone()),
            V::B(b) => serde_json::Value::Bool(*b),
            V::I(n) => serde_json::Value::from(*n),
            V::L(container, _, recs) => {
                m.insert((*container).to_owned(), serde_json::Value::Array(recs.iter().map(json_rec).collect()));
                continue;
            }
            V::SL(container, _, vals) => {
                m.insert((*container).to_owned(), serde_json::Value::from(vals.clone()));
                continue;
            }
        };
        m.insert((*k).to_owned(), val);
    }
    serde_json::Value::Object(m)
}

pub(super) fn respond(status: StatusCode, fmt: Format, body: String) -> Response {
    let mut res = (status, body).into_response();
    res.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(fmt.content_type()));
    res
}

/// A list document: `<root><child>…</child>…</root>`, or a JSON array of objects.
pub(super) fn list(fmt: Format, root: &str, child: &str, recs: &[Rec]) -> Response {
    let body = match fmt {
        Format::Xml => {
            let mut out = String::from("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n");
            out.push_str(&format!("<{root}>"));
            for r in recs {
                out.push_str(&format!("<{child}>"));
                xml_rec(&mut out, r);
                out.push_str(&format!("</{child}>"));
            }
            out.push_str(&format!("</{root}>"));
            out
        }
        Format::Json => serde_json::Value::Array(recs.iter().map(json_rec).collect()).to_string(),
    };
    respond(StatusCode::OK, fmt, body)
}

/// A single document: `<root>…</root>`, or a JSON object.
pub(super) fn object(fmt: Format, root: &str, rec: &Rec) -> Response {
    let body = match fmt {
        Format::Xml => {
            let mut out = String::from("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n");
            out.push_str(&format!("<{root}>"));
            xml_rec(&mut out, rec);
            out.push_str(&format!("</{root}>"));
            out
        }
        Format::Json => json_rec(rec).to_string(),
    };
    respond(StatusCode::OK, fmt, body)
}

/// The Open311 error document for a status and a description.
pub fn error_body(fmt: Format, status: StatusCode, description: &str) -> (HeaderValue, String) {
    let rec: Rec = vec![("code", V::I(i64::from(status.as_u16()))), ("description", s(description))];
    let body = match fmt {
        Format::Xml => {
            let mut out = String::from("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<errors><error>");
            xml_rec(&mut out, &rec);
            out.push_str("</error></errors>");
            out
        }
        Format::Json => serde_json::Value::Array(vec![json_rec(&rec)]).to_string(),
    };
    (HeaderValue::from_static(fmt.content_type()), body)
}

/// The status Open311 uses for one of ours: 404 and 403 stand; a refused input is 400.
pub fn status_for(status: StatusCode) -> StatusCode {
    match status {
        StatusCode::UNPROCESSABLE_ENTITY | StatusCode::CONFLICT | StatusCode::UNSUPPORTED_MEDIA_TYPE => {
            StatusCode::BAD_REQUEST
        }
        s => s,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xml_escapes_and_drops_what_xml_cannot_carry() {
        let mut out = String::new();
        esc(&mut out, "a<b>&\"'\u{1}🍜");
        assert_eq!(out, "a&lt;b&gt;&amp;&quot;&apos;🍜");
    }

    #[test]
    fn formats_split() {
        assert_eq!(Format::split("services.xml"), Some(("services", Format::Xml)));
        assert_eq!(Format::split("PAKN.20241015.0001.json"), Some(("PAKN.20241015.0001", Format::Json)));
        assert_eq!(Format::split("services.html"), None);
    }

    #[test]
    fn records_render_in_both_formats() {
        let rec: Rec = vec![
            ("a", s("x")),
            ("b", V::S(None)),
            ("c", V::B(true)),
            ("d", V::L("vs", "v", vec![vec![("k", s("1"))]])),
        ];
        let mut x = String::new();
        xml_rec(&mut x, &rec);
        assert_eq!(x, "<a>x</a><b/><c>true</c><vs><v><k>1</k></v></vs>");
        assert_eq!(json_rec(&rec), serde_json::json!({"a": "x", "b": null, "c": true, "vs": [{"k": "1"}]}));
    }
}
