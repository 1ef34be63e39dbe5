//! Reading and setting cookies.

use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::Response;

/// The value of cookie `name` in a request.
pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.trim().to_owned())
}

/// Adds a `Set-Cookie` header. `max_age` of `Some(0)` deletes the cookie.
pub fn set_cookie(res: &mut Response, name: &str, value: &str, max_age: Option<i64>, http_only: bool, secure: bool) {
    let mut c = format!("{name}={value}; Path=/; SameSite=Lax");
    if let Some(age) = max_age {
        c.push_str(&format!("; Max-Age={age}"));
    }
    if http_only {
        c.push_str("; HttpOnly");
    }
    if secure {
        c.push_str("; Secure");
    }
    if let Ok(v) = HeaderValue::from_str(&c) {
        res.headers_mut().append(header::SET_COOKIE, v);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_cookies() {
        let mut h = HeaderMap::new();
        h.insert(header::COOKIE, HeaderValue::from_static("a=1; ngoso_session=abc ; b=2"));
        assert_eq!(cookie(&h, "ngoso_session").as_deref(), Some("abc"));
        assert_eq!(cookie(&h, "zzz"), None);
    }
}
