//! Our CSS and JavaScript, embedded in the binary and served under content-hashed names, so
//! a phone keeps them cached until they change.

use std::sync::OnceLock;

use crate::http::extract::Path;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};

use crate::http::error::AppError;

struct Asset {
    url: String,
    body: &'static [u8],
    content_type: &'static str,
}

struct Assets {
    css: Asset,
    js: Asset,
    report_css: Asset,
    field_js: Asset,
    field_css: Asset,
}

fn make(stem: &str, ext: &str, body: &'static [u8], content_type: &'static str) -> Asset {
    let hash = ngoso_store::secrets::hex(&Sha256::digest(body)[..6]);
    Asset { url: format!("/assets/{stem}.{hash}.{ext}"), body, content_type }
}

fn assets() -> &'static Assets {
    static ASSETS: OnceLock<Assets> = OnceLock::new();
    ASSETS.get_or_init(|| Assets {
        css: make("app", "css", include_bytes!("../../assets/app.css"), "text/css; charset=utf-8"),
        js: make("app", "js", include_bytes!("../../assets/app.js"), "text/javascript; charset=utf-8"),
        report_css: make("report", "css", include_bytes!("../../assets/report.css"), "text/css; charset=utf-8"),
        field_js: make("field", "js", include_bytes!("../../assets/field.js"), "text/javascript; charset=utf-8"),
        field_css: make("field", "css", include_bytes!("../../assets/field.css"), "text/css; charset=utf-8"),
    })
}

/// The URL of the stylesheet.
pub fn css_url() -> &'static str {
    &assets().css.url
}

/// The URL of the script.
pub fn js_url() -> &'static str {
    &assets().js.url
}

/// The URL of the periodic report's stylesheet.
pub fn report_css_url() -> &'static str {
    &assets().report_css.url
}

/// The URL of the field app's script.
pub fn field_js_url() -> &'static str {
    &assets().field_js.url
}

/// The URL of the field app's stylesheet.
pub fn field_css_url() -> &'static str {
    &assets().field_css.url
}

/// The periodic report's stylesheet, for a report written to a file.
pub fn report_css() -> &'static str {
    std::str::from_utf8(assets().report_css.body).unwrap_or_default()
}

/// `GET /assets/{name}`.
pub async fn serve(Path(name): Path<String>) -> Result<Response, AppError> {
    let a = assets();
    let asset = [&a.css, &a.js, &a.report_css, &a.field_js, &a.field_css]
        .into_iter()
        .find(|x| x.url.rsplit('/').next() == Some(name.as_str()))
        .ok_or_else(AppError::not_found)?;
    let mut res = asset.body.into_response();
    let h = res.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(asset.content_type));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=31536000, immutable"));
    Ok(res)
}
