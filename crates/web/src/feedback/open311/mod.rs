//! Open311 GeoReport v2 at `/open311/v2/`, in XML and JSON, so that existing civic-tech
//! clients (FixMyStreet and others) work unchanged.
//!
//! Mapping: a feedback category is a service (its extra fields are the service definition's
//! attributes); an item is a service request whose id is its tracking code; states map to
//! `open`/`closed` with `status_notes`; `expected_datetime` is the deadline. `address_id`
//! may name a unit of the tree by its code. Public reads leave out contact details and
//! coordinates (a position from a phone is sensitive data under Decree 13); `address` is the
//! unit's name. POST needs an API key (made by administrators, stored hashed); `api_key` and
//! `jurisdiction_id` are read from the query or the form body; there is one jurisdiction, so
//! `jurisdiction_id` is accepted and not checked. Photos are not fetched from `media_url`.

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use ngoso_core::calendar::w3c;
use ngoso_core::feedback::{Channel, State as FbState, item_code};
use ngoso_store::feedback::{self as store, Item, Search};
use ngoso_store::feedback_setup::Category;

mod format;

use format::{Format, Rec, V, error_body, list, object, opt, s, status_for};

use crate::AppState;
use crate::feedback::{Setup, SubmitFields};
use crate::http::error::{ErrorInfo, message};
use crate::http::extract::{Path, Query, Upload};
use crate::http::i18n::Lang;

/// An error of an Open311 handler, written by [`crate::http::error::render_errors`] in the
/// format of the path.
struct Fail(crate::http::error::AppError);

impl<E: Into<crate::http::error::AppError>> From<E> for Fail {
    fn from(e: E) -> Self {
        Fail(e.into())
    }
}

impl IntoResponse for Fail {
    fn into_response(self) -> Response {
        let mut e = self.0;
        e.0.status = status_for(e.0.status);
        e.into_response()
    }
}

fn not_found() -> Fail {
    Fail(crate::http::error::AppError::not_found())
}

fn bad(code: &'static str, field: &'static str) -> Fail {
    Fail(crate::http::error::AppError::new(StatusCode::BAD_REQUEST, code).with_field(field))
}

fn service(c: &Category, en: bool) -> Rec {
    vec![
        ("service_code", s(&c.code)),
        ("service_name", s(c.name(en))),
        ("description", opt(Some(c.description(en)))),
        ("metadata", V::B(!c.asked_fields().is_empty())),
        ("type", s("realtime")),
        ("keywords", V::S(None)),
        ("group", V::S(None)),
    ]
}

fn definition(c: &Category, en: bool) -> Rec {
    let attrs = c
        .asked_fields()
        .iter()
        .enumerate()
        .map(|(i, f)| {
            let mut r: Rec = vec![
                ("variable", V::B(true)),
                ("code", s(&f.code)),
                ("datatype", s(f.datatype.as_str())),
                ("required", V::B(f.required)),
                ("datatype_description", V::S(None)),
                ("order", V::I(i as i64 + 1)),
                ("description", s(f.name(en))),
            ];
            if f.datatype.is_list() {
                let vals = f
                    .values
                    .iter()
                    .map(|v| vec![("key", s(&v.key)), ("name", s(if en { &v.name_en } else { &v.name_vi }))])
                    .collect();
                r.push(("values", V::L("values", "value", vals)));
            }
            r
        })
        .collect();
    vec![("service_code", s(&c.code)), ("attributes", V::L("attributes", "attribute", attrs))]
}

/// What an item says about its state, for `status_notes`.
fn status_notes(item: &Item, lang: Lang) -> String {
    let state = item.state();
    let name = crate::http::i18n::msg(lang, &format!("feedback-state-{}", item.state), &[]);
    match state {
        FbState::Answered | FbState::Closed => item.answer.clone().unwrap_or(name),
        FbState::Rejected | FbState::NeedsInfo => match &item.reason {
            Some(r) => format!("{name}: {r}"),
            None => name,
        },
        FbState::Duplicate => match &item.duplicate_of_code {
            Some(c) => format!("{name}: {c}"),
            None => name,
        },
        _ => name,
    }
}

fn request(item: &Item, setup: &Setup, lang: Lang) -> Rec {
    let en = lang == Lang::En;
    let cat = setup.category(item.category_id);
    let agency = item.agency_id.and_then(|a| setup.agency(a)).map(|a| a.name(en).to_owned());
    vec![
        ("service_request_id", s(&item.code)),
        ("status", s(item.state().open311())),
        ("status_notes", s(status_notes(item, lang))),
        ("service_name", opt(cat.map(|c| c.name(en).to_owned()))),
        ("service_code", s(&item.category_code)),
        // Public only with the published answer, as on the public pages.
        ("description", opt((item.answer.is_some() && item.hidden_reason.is_none()).then(|| item.description.clone()))),
        ("agency_responsible", opt(agency)),
        ("service_notice", V::S(None)),
        ("requested_datetime", s(w3c(item.received_at))),
        ("updated_datetime", s(w3c(item.updated_at))),
        ("expected_datetime", s(w3c(item.due_at))),
        ("address", opt(item.unit_name.clone())),
        ("address_id", V::S(None)),
        ("zipcode", V::S(None)),
        ("lat", V::S(None)),
        ("long", V::S(None)),
        ("media_url", V::S(None)),
    ]
}

/// Splits `services.xml` into the resource and the format; anything else is not found.
fn file(name: &str, want: &str) -> Result<Format, Fail> {
    match Format::split(name) {
        Some((n, f)) if n == want => Ok(f),
        _ => Err(not_found()),
    }
}

/// `GET /open311/v2/{discovery|services|requests}.{fmt}`.
async fn get_root(
    State(st): State<AppState>,
    Path(name): Path<String>,
    Query(q): Query<Vec<(String, String)>>,
    headers: HeaderMap,
    uri: Uri,
) -> Result<Response, Fail> {
    let (what, fmt) = Format::split(&name).ok_or_else(not_found)?;
    let lang = crate::http::lang::api_lang(&headers, &uri);
    let en = lang == Lang::En;
    match what {
        "discovery" => Ok(discovery_doc(&st, fmt, &headers)),
        "services" => {
            let setup = st.feedback_setup().await?;
            let recs: Vec<Rec> = setup.categories.iter().filter(|c| c.active).map(|c| service(c, en)).collect();
            Ok(list(fmt, "services", "service", &recs))
        }
        "requests" => get_requests(&st, fmt, lang, &q).await,
        _ => Err(not_found()),
    }
}

fn param<'a>(q: &'a [(String, String)], name: &str) -> Option<&'a str> {
    q.iter().find(|(k, _)| k == name).map(|(_, v)| v.trim()).filter(|v| !v.is_empty())
}

/// A W3C date-time (or a date, taken at midnight Vietnam time).
fn parse_when(s: &str, field: &'static str) -> Result<i64, Fail> {
    if let Ok(d) = chrono::DateTime::parse_from_rfc3339(s) {
        return Ok(d.timestamp());
    }
    if let Ok(d) = chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        return Ok(ngoso_core::calendar::end_of_day(d.pred_opt().unwrap_or(d)) + 1);
    }
    Err(bad("date-invalid", field).detail(s))
}

impl Fail {
    fn detail(mut self, d: &str) -> Self {
        self.0 = self.0.with_detail(d.chars().take(60).collect::<String>());
        self
    }
}

/// The spec's window: 90 days at most, the last 90 days by default; 1,000 requests at most.
const WINDOW: i64 = 90 * 86_400;

async fn get_requests(st: &AppState, fmt: Format, lang: Lang, q: &[(String, String)]) -> Result<Response, Fail> {
    let setup = st.feedback_setup().await?;
    let mut search = Search { limit: 1000, ..Default::default() };
    if let Some(ids) = param(q, "service_request_id") {
        search.codes = ids.split(',').filter_map(|c| item_code(c).ok()).collect();
        if search.codes.is_empty() {
            return Ok(list(fmt, "service_requests", "request", &[]));
        }
    } else {
        if let Some(codes) = param(q, "service_code") {
            for c in codes.split(',').map(str::trim).filter(|c| !c.is_empty()) {
                match setup.category_by_code(c) {
                    Some(cat) if search.category_ids.contains(&cat.id) => {}
                    Some(cat) => search.category_ids.push(cat.id),
                    None => return Err(bad("category-unknown", "service_code").detail(c)),
                }
            }
        }
        if let Some(status) = param(q, "status") {
            let (mut open, mut closed) = (false, false);
            for s in status.split(',').map(str::trim) {
                match s {
                    "open" => open = true,
                    "closed" => closed = true,
                    other => return Err(bad("open311-status-invalid", "status").detail(other)),
                }
            }
            search.pending = if open == closed { None } else { Some(open) };
        }
        let now = ngoso_store::now();
        // A date alone: the end date takes in its whole day.
        let end = param(q, "end_date")
            .map(|d| {
                let t = parse_when(d, "end_date")?;
                Ok::<_, Fail>(if d.len() == 10 { t + 86_399 } else { t })
            })
            .transpose()?;
        let start = param(q, "start_date").map(|d| parse_when(d, "start_date")).transpose()?;
        let (from, to) = match (start, end) {
            (Some(a), Some(b)) => (a, b),
            (Some(a), None) => (a, (a + WINDOW).min(now.max(a))),
            (None, Some(b)) => (b - WINDOW, b),
            (None, None) => (now - WINDOW, now),
        };
        if to < from {
            return Err(bad("open311-dates-order", "end_date"));
        }
        if to - from > WINDOW {
            return Err(bad("open311-dates-span", "end_date").detail("90"));
        }
        search.from = from;
        search.to = to;
    }
    let items = store::search(&st.db, &search).await?;
    let recs: Vec<Rec> = items.iter().map(|i| request(i, &setup, lang)).collect();
    Ok(list(fmt, "service_requests", "request", &recs))
}

/// `GET /open311/v2/{services|requests|tokens}/{id}.{fmt}`.
async fn get_one(
    State(st): State<AppState>,
    Path((what, name)): Path<(String, String)>,
    headers: HeaderMap,
    uri: Uri,
) -> Result<Response, Fail> {
    let (id, fmt) = Format::split(&name).ok_or_else(not_found)?;
    let lang = crate::http::lang::api_lang(&headers, &uri);
    let setup = st.feedback_setup().await?;
    match what.as_str() {
        "services" => {
            let c = setup.category_by_code(id).filter(|c| c.active).ok_or_else(not_found)?;
            Ok(object(fmt, "service_definition", &definition(c, lang == Lang::En)))
        }
        "requests" => {
            let code = item_code(id).map_err(|_| not_found())?;
            let item = store::public_by_code(&st.db, &code).await?;
            // Hidden by staff: not public, as in the list.
            if item.hidden_reason.is_some() {
                return Err(not_found());
            }
            Ok(list(fmt, "service_requests", "request", &[request(&item, &setup, lang)]))
        }
        // Every request gets its id at once (type `realtime`); no token is ever given out.
        "tokens" => Err(not_found()),
        _ => Err(not_found()),
    }
}

/// `POST /open311/v2/requests.{fmt}`: a new item from an Open311 client.
async fn post_request(
    State(st): State<AppState>,
    Path(name): Path<String>,
    Query(q): Query<Vec<(String, String)>>,
    headers: HeaderMap,
    uri: Uri,
    req: axum::extract::Request,
) -> Result<Response, Fail> {
    // The address is checked before the body is read: a post to a list that only answers GET
    // is told so, whatever its body.
    let fmt = match Format::split(&name) {
        Some(("requests", f)) => f,
        Some(("services" | "discovery", _)) => {
            return Err(Fail(crate::http::error::AppError::new(StatusCode::METHOD_NOT_ALLOWED, "method-not-allowed")));
        }
        _ => return Err(not_found()),
    };
    let up = <Upload as axum::extract::FromRequest<AppState>>::from_request(req, &st).await?;
    let f = &up.fields;
    let get = |k: &str| param(q.as_slice(), k).or_else(|| Some(f.get(k).trim()).filter(|v| !v.is_empty()));
    let key = get("api_key")
        .ok_or_else(|| Fail(crate::http::error::AppError::new(StatusCode::FORBIDDEN, "open311-key-missing")))?;
    let key_id = ngoso_store::feedback_setup::check_key(&st.db, key)
        .await?
        .ok_or_else(|| Fail(crate::http::error::AppError::new(StatusCode::FORBIDDEN, "open311-key-invalid")))?;
    let setup = st.feedback_setup().await?;
    let code = get("service_code").ok_or_else(|| bad("required", "service_code"))?;
    let cat = setup.category_by_code(code).filter(|c| c.active).ok_or_else(not_found)?;
    let (lat, lon) = (get("lat").unwrap_or(""), get("long").unwrap_or(""));
    let address_id = get("address_id").unwrap_or("");
    // An address_id naming a unit of the tree places the item there.
    let unit = if address_id.is_empty() {
        String::new()
    } else {
        match ngoso_store::units::by_code(&st.db, address_id).await {
            Ok(u) => u.code,
            Err(_) => String::new(),
        }
    };
    let mut address = get("address_string").unwrap_or("").to_owned();
    if address.is_empty() && unit.is_empty() {
        address = address_id.to_owned();
    }
    if lat.is_empty() != lon.is_empty() {
        return Err(bad("open311-location-pair", "long"));
    }
    if lat.is_empty() && address.is_empty() && unit.is_empty() {
        return Err(bad("open311-location-required", "address_string"));
    }
    let name = [get("first_name"), get("last_name")].into_iter().flatten().collect::<Vec<_>>().join(" ");
    let answers =
        f.0.iter()
            .chain(q.iter())
            .filter_map(|(k, v)| {
                let c = k.strip_prefix("attribute[")?;
                let c = c.strip_suffix("][]").or_else(|| c.strip_suffix(']'))?;
                Some((c.to_owned(), v.clone()))
            })
            .collect();
    let fields = SubmitFields {
        category: cat.code.clone(),
        description: get("description").unwrap_or("").to_owned(),
        unit,
        address,
        lat: lat.to_owned(),
        lon: lon.to_owned(),
        contact_name: name,
        contact_phone: get("phone").unwrap_or("").to_owned(),
        contact_email: get("email").unwrap_or("").to_owned(),
        // The client that holds the key collects the citizen's agreement under its terms.
        consent: true,
        answers,
    };
    // A photo by its address is fetched later, in the background; only its form is checked here.
    let media_url = match get("media_url") {
        Some(u) => Some(
            ngoso_core::text::parse_url(u, "media_url")
                .ok()
                .flatten()
                .filter(|u| reqwest::Url::parse(u).is_ok())
                .ok_or_else(|| {
                    let e = crate::http::error::AppError::new(StatusCode::BAD_REQUEST, "url-invalid");
                    Fail(e.with_field("media_url").with_detail(u.chars().take(100).collect::<String>()))
                })?,
        ),
        None => None,
    };
    let mut item = crate::feedback::parse_submission(&st.db, &setup, &fields, Channel::Open311, None, None).await?;
    item.api_key_id = Some(key_id);
    item.media_url = media_url;
    let sent = crate::feedback::submit(&st, &setup, &item).await?;
    let lang = crate::http::lang::api_lang(&headers, &uri);
    let notice =
        crate::http::i18n::msg(lang, "open311-notice", &[("due", &crate::http::i18n::format_datetime(sent.due_at))]);
    let rec: Rec =
        vec![("service_request_id", s(&sent.code)), ("service_notice", s(notice)), ("account_id", V::S(None))];
    Ok(list(fmt, "service_requests", "request", &[rec]))
}

fn discovery_doc(st: &AppState, fmt: Format, headers: &HeaderMap) -> Response {
    let url = format!("{}/open311/v2", base_url(st, headers));
    let changeset = env!("CARGO_PKG_VERSION").to_owned();
    let endpoint: Rec = vec![
        ("specification", s("http://wiki.open311.org/GeoReport_v2")),
        ("url", s(url)),
        ("changeset", s(&changeset)),
        ("type", s("production")),
        ("formats", V::SL("formats", "format", vec!["text/xml".into(), "application/json".into()])),
    ];
    let rec: Rec = vec![
        ("changeset", s(&changeset)),
        ("contact", s(crate::http::i18n::msg(Lang::Vi, "open311-contact", &[]))),
        ("key_service", s(crate::http::i18n::msg(Lang::Vi, "open311-key-service", &[]))),
        ("endpoints", V::L("endpoints", "endpoint", vec![endpoint])),
    ];
    let mut res = object(fmt, "discovery", &rec);
    if st.cfg.public_url().is_none() {
        // The document depends on the Host header: a cache in front must not serve one
        // client's copy to another.
        res.headers_mut().append(header::VARY, axum::http::HeaderValue::from_static("host"));
    }
    res
}

/// Where clients reach ngoso: the configured public address, or else the request's `Host`
/// header when it is a plain host name and port (a client sets it: anything else, such as a
/// path or markup, would be echoed into the document), or else `localhost`.
fn base_url(st: &AppState, headers: &HeaderMap) -> String {
    crate::http::render::base_url(st, headers)
}

async fn discovery(State(st): State<AppState>, Path(name): Path<String>, headers: HeaderMap) -> Result<Response, Fail> {
    let fmt = file(&name, "discovery")?;
    Ok(discovery_doc(&st, fmt, &headers))
}

/// The Open311 routes; bodies may carry a photo-sized multipart form.
pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/open311/{file}", get(discovery))
        .route("/open311/v2/{file}", get(get_root).post(post_request))
        .route("/open311/v2/{what}/{file}", get(get_one))
}

/// Renders an error under `/open311/` in the format of the path.
pub fn render_error(path: &str, lang: Lang, info: &ErrorInfo) -> (StatusCode, HeaderValue, String) {
    let status = status_for(info.status);
    let (ct, body) = error_body(Format::of_path(path), status, &message(lang, info));
    (status, ct, body)
}
