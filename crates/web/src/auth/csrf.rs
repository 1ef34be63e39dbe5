//! CSRF tokens for every form.
//!
//! Each browser gets a random `ngoso_csrf` cookie; forms carry an HMAC of it, and of the
//! session cookie when there is one, under the instance secret (stored in the database, so
//! every `serve` process agrees). A cross-site page can neither read the cookies nor compute
//! the HMAC; and a token seen before a login (or in another session) is no good after it.

use axum::extract::{FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::middleware::Next;
use axum::response::Response;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::AppState;
use crate::http::cookies::{cookie, set_cookie};
use crate::http::error::AppError;

pub const COOKIE: &str = "ngoso_csrf";

#[derive(Clone)]
struct CsrfCookie(String);

fn valid_cookie(v: &str) -> bool {
    v.len() == 64 && v.bytes().all(|b| b.is_ascii_hexdigit())
}

/// Middleware: makes sure every browser has a CSRF cookie.
pub async fn ensure_cookie(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let existing = cookie(req.headers(), COOKIE).filter(|v| valid_cookie(v));
    let (value, fresh) = match existing {
        Some(v) => (v, false),
        None => (ngoso_store::secrets::new_token(), true),
    };
    req.extensions_mut().insert(CsrfCookie(value.clone()));
    let mut res = next.run(req).await;
    if fresh {
        set_cookie(&mut res, COOKIE, &value, None, true, state.cfg.secure_cookies());
    }
    res
}

/// The CSRF token of this request's forms.
#[derive(Clone)]
pub struct Csrf {
    token: String,
}

impl Csrf {
    fn for_cookies(key: &[u8], cookie: &str, session: Option<&str>) -> Self {
        let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes any key length");
        mac.update(cookie.as_bytes());
        if let Some(s) = session {
            mac.update(b"|session|");
            mac.update(s.as_bytes());
        }
        let token = ngoso_store::secrets::hex(&mac.finalize().into_bytes());
        Self { token }
    }

    /// The token of a request: of its CSRF cookie and its session cookie, if any.
    pub fn of(parts: &Parts, state: &AppState) -> Option<Self> {
        let c = parts.extensions.get::<CsrfCookie>()?;
        let session = cookie(&parts.headers, crate::auth::SESSION_COOKIE);
        Some(Csrf::for_cookies(&state.csrf_key, &c.0, session.as_deref()))
    }

    /// The value to put in the form's hidden `csrf` field.
    pub fn token(&self) -> &str {
        &self.token
    }

    /// Checks a submitted token.
    pub fn verify(&self, submitted: &str) -> Result<(), AppError> {
        let a = self.token.as_bytes();
        let b = submitted.trim().as_bytes();
        let same = a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0;
        if same { Ok(()) } else { Err(AppError::new(axum::http::StatusCode::FORBIDDEN, "csrf-invalid")) }
    }
}

impl FromRequestParts<AppState> for Csrf {
    type Rejection = AppError;
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        Csrf::of(parts, state).ok_or_else(|| AppError::internal("CSRF middleware is not installed"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_bind_to_cookie_session_and_key() {
        let c = "a".repeat(64);
        let t = Csrf::for_cookies(b"key", &c, None);
        assert!(t.verify(t.token()).is_ok());
        assert!(t.verify("").is_err());
        assert!(t.verify(Csrf::for_cookies(b"other", &c, None).token()).is_err());
        assert!(t.verify(Csrf::for_cookies(b"key", &"b".repeat(64), None).token()).is_err());
        let signed_in = Csrf::for_cookies(b"key", &c, Some("session-1"));
        assert!(signed_in.verify(t.token()).is_err(), "a token from before the login");
        assert!(signed_in.verify(Csrf::for_cookies(b"key", &c, Some("session-2")).token()).is_err());
        assert!(signed_in.verify(signed_in.token()).is_ok());
    }
}
