//! The field app's page, its manifest, its service worker and its icon. The page holds no
//! one's data (the script fetches it), so it can be kept by the service worker and opened
//! with no connection; the worker keeps the page and the assets, content-hashed, and lets the
//! API through to the network.

use std::sync::OnceLock;

use askama::Template;
use axum::http::{HeaderMap, HeaderValue, Uri, header};
use axum::response::{IntoResponse, Redirect, Response};
use sha2::{Digest, Sha256};

use crate::http::assets;
use crate::http::error::AppError;
use crate::http::i18n::{Lang, msg};

#[derive(Template)]
#[template(path = "field/app.html")]
struct AppPage {
    lang: &'static str,
    title: String,
    loading: String,
    needs_script: String,
    /// The site's stylesheet, then the app's own additions.
    site_css: &'static str,
    css: &'static str,
    js: &'static str,
    /// The script's texts, as JSON safe inside `<script>`.
    strings: String,
}

/// The ids of the texts the script shows: the app's own (`fapp-…`), and the visit results
/// and barriers the server's pages name too.
fn string_ids() -> &'static [String] {
    static IDS: OnceLock<Vec<String>> = OnceLock::new();
    IDS.get_or_init(|| {
        include_str!("../../i18n/vi.ftl")
            .lines()
            .filter_map(|l| l.split_once(" = ").map(|(k, _)| k.trim()))
            .filter(|k| k.starts_with("fapp-") || k.starts_with("result-") || k.starts_with("barrier-"))
            .map(str::to_owned)
            .collect()
    })
}

/// The texts in `lang`, their arguments left as `{n}` for the script to fill in.
fn strings(lang: Lang) -> String {
    let holes = [("n", "{n}"), ("at", "{at}"), ("status", "{status}")];
    let map: serde_json::Map<String, serde_json::Value> =
        string_ids().iter().map(|id| (id.clone(), msg(lang, id, &holes).into())).collect();
    serde_json::Value::Object(map).to_string().replace('<', "\\u003c")
}

/// `GET /app/field`: to the app's own address (the worker's scope ends in `/`).
pub(super) async fn to_app() -> Redirect {
    Redirect::permanent("/app/field/")
}

/// `GET /app/field/`: the app's page, in the language asked for.
pub(super) async fn app(headers: HeaderMap, uri: Uri) -> Result<Response, AppError> {
    let lang = crate::http::lang::page_lang(&headers, &uri);
    let page = AppPage {
        lang: lang.code(),
        title: msg(lang, "fapp-title", &[]),
        loading: msg(lang, "fapp-loading", &[]),
        needs_script: msg(lang, "fapp-needs-script", &[]),
        site_css: assets::css_url(),
        css: assets::field_css_url(),
        js: assets::field_js_url(),
        strings: strings(lang),
    };
    let mut res = crate::http::render::render(&page)?;
    // The worker keeps the page for offline use; the network is asked first each time.
    let h = res.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    h.insert(VERSION_HEADER, HeaderValue::from_static(version()));
    Ok(res)
}

/// `GET /app/field/manifest.webmanifest`: what makes the app installable.
pub(super) async fn manifest(headers: HeaderMap, uri: Uri) -> Response {
    let lang = crate::http::lang::page_lang(&headers, &uri);
    let body = serde_json::json!({
        "name": msg(lang, "fapp-app-name", &[]),
        "short_name": "Ngõ Số",
        "lang": lang.code(),
        "start_url": "/app/field/",
        "scope": "/app/field/",
        "display": "standalone",
        "background_color": "#ffffff",
        "theme_color": "#0b6e4f",
        "icons": [{ "src": "/app/field/icon.svg", "sizes": "any", "type": "image/svg+xml", "purpose": "any" }],
    });
    let mut res = body.to_string().into_response();
    res.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/manifest+json"));
    res
}

/// What the worker keeps: the page and everything it loads.
fn kept() -> [&'static str; 6] {
    [
        "/app/field/",
        assets::css_url(),
        assets::field_js_url(),
        assets::field_css_url(),
        "/app/field/manifest.webmanifest",
        "/app/field/icon.svg",
    ]
}

/// The app's version: the hash of what the worker keeps, so that a new script or page text
/// makes a new worker, which replaces the old one's cache.
fn version() -> &'static str {
    static VERSION: OnceLock<String> = OnceLock::new();
    VERSION.get_or_init(|| {
        let mut h = Sha256::new();
        for k in kept() {
            h.update(k.as_bytes());
        }
        h.update(include_bytes!("../../i18n/vi.ftl"));
        h.update(include_bytes!("../../i18n/en.ftl"));
        h.update(include_bytes!("../../templates/field/app.html"));
        ngoso_store::secrets::hex(&h.finalize()[..6])
    })
}

/// The header that tells the worker which version a page is: a worker keeps only a page of
/// its own version, whose assets it holds.
const VERSION_HEADER: &str = "x-ngoso-field-version";

/// The service worker, its version and what it keeps written in.
fn worker() -> &'static str {
    static SW: OnceLock<String> = OnceLock::new();
    SW.get_or_init(|| {
        let list = serde_json::to_string(&kept()).unwrap_or_default();
        format!(
            "const VERSION = \"{}\";\nconst KEPT = {list};\nconst VERSION_HEADER = \"{VERSION_HEADER}\";\n{}",
            version(),
            include_str!("../../assets/field-sw.js")
        )
    })
}

/// `GET /app/field/sw.js`.
pub(super) async fn service_worker() -> Response {
    let mut res = worker().into_response();
    let h = res.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/javascript; charset=utf-8"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    res
}

/// `GET /app/field/icon.svg`: the app's icon, a house on the brand's green.
pub(super) async fn icon() -> Response {
    const SVG: &str = r##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 512 512"><rect width="512" height="512" rx="96" fill="#0b6e4f"/><path d="M256 96 80 248h48v168h96V320h64v96h96V248h48z" fill="#fff"/></svg>"##;
    let mut res = SVG.into_response();
    let h = res.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("image/svg+xml"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=86400"));
    res
}
