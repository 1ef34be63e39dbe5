//! Choosing the language of a request, and the switch between Vietnamese and English.

use crate::http::extract::{Path, Query};
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, Uri, header};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use crate::AppState;
use crate::http::cookies::{cookie, set_cookie};
use crate::http::i18n::Lang;

/// Name of the cookie that remembers the chosen language.
pub const COOKIE: &str = "ngoso_lang";

fn query_lang(uri: &Uri) -> Option<Lang> {
    uri.query()?.split('&').find_map(|kv| kv.strip_prefix("lang=")).and_then(Lang::parse)
}

/// Pages: `?lang=`, then the cookie, then Vietnamese.
pub fn page_lang(headers: &HeaderMap, uri: &Uri) -> Lang {
    query_lang(uri).or_else(|| cookie(headers, COOKIE).and_then(|c| Lang::parse(&c))).unwrap_or_default()
}

/// The API: `?lang=`, then `Accept-Language`, then the cookie, then Vietnamese.
pub fn api_lang(headers: &HeaderMap, uri: &Uri) -> Lang {
    query_lang(uri)
        .or_else(|| {
            headers.get(header::ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok()).and_then(Lang::from_accept_language)
        })
        .or_else(|| cookie(headers, COOKIE).and_then(|c| Lang::parse(&c)))
        .unwrap_or_default()
}

#[derive(Deserialize)]
pub struct Next {
    next: Option<String>,
}

/// A path on this site to return to: one `/` and then only the characters of a URL's path
/// and query (letters, digits, `-._~!$&'()*+,;=:@/?%`); anything else is not followed. A
/// browser drops tabs and newlines from a URL and reads `\\` as `/`, so `/\t/evil.example`
/// would take the user to `//evil.example`, another site.
pub fn safe_next(next: Option<&str>, fallback: &str) -> String {
    let safe = |c: char| c.is_ascii_alphanumeric() || "-._~!$&'()*+,;=:@/?%".contains(c);
    match next {
        Some(n) if n.starts_with('/') && !n.starts_with("//") && n.chars().all(safe) && !n.contains("://") => {
            n.to_owned()
        }
        _ => fallback.to_owned(),
    }
}

/// `GET /lang/{code}?next=/path`: remembers the language and goes back.
pub async fn switch(State(st): State<AppState>, Path(code): Path<String>, Query(q): Query<Next>) -> Response {
    let lang = Lang::parse(&code).unwrap_or_default();
    let mut res = Redirect::to(&safe_next(q.next.as_deref(), "/")).into_response();
    set_cookie(&mut res, COOKIE, lang.code(), Some(365 * 86_400), false, st.cfg.secure_cookies());
    res.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_paths_stay_on_site() {
        assert_eq!(safe_next(Some("/app/units/3"), "/"), "/app/units/3");
        assert_eq!(safe_next(Some("//evil.example"), "/"), "/");
        assert_eq!(safe_next(Some("https://evil.example"), "/"), "/");
        assert_eq!(safe_next(Some("/\\evil"), "/"), "/");
        for bad in ["/\t/evil.example", "/\n/evil.example", "/ /evil", "/\u{3000}/x", "/%09/ok"] {
            let expected = if bad == "/%09/ok" { bad } else { "/" };
            assert_eq!(safe_next(Some(bad), "/"), expected, "{bad:?}");
        }
        assert_eq!(safe_next(Some("/app/units?q=%E1%BA%A5p&page=2"), "/"), "/app/units?q=%E1%BA%A5p&page=2");
        assert_eq!(safe_next(None, "/app"), "/app");
    }
}
