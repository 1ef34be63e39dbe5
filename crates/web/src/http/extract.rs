//! Extractors of request bodies and of the client's address.
//!
//! Form bodies are decoded strictly: a name or value whose bytes are not UTF-8 once
//! percent-decoded is refused with 400 and the field's name. (The usual decoders replace
//! such bytes with U+FFFD, so `abc%FF%FEdef` would be stored as `abc��def`; a U+FFFD typed by
//! a person is data and is kept.) Every form a page posts carries its CSRF token, checked by
//! [`CsrfForm`], [`CsrfFields`] and [`CsrfUpload`] before the handler runs.

use std::borrow::Cow;
use std::net::{IpAddr, SocketAddr};

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::JsonRejection;
use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode};
use serde::de::DeserializeOwned;

use crate::AppState;
use crate::auth::csrf::Csrf;
use crate::http::error::AppError;

/// Percent-decodes one name or value of a form (`+` is a space).
fn decode_part(raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(raw.len());
    let mut i = 0;
    while i < raw.len() {
        match raw[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < raw.len() => {
                let hex = |b: u8| (b as char).to_digit(16);
                match (hex(raw[i + 1]), hex(raw[i + 2])) {
                    (Some(h), Some(l)) => {
                        out.push((h * 16 + l) as u8);
                        i += 2;
                    }
                    _ => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    out
}

/// Refuses a field that is not UTF-8.
fn not_utf8(name: &str) -> AppError {
    AppError::bad_request("form-not-utf8").with_detail(name.chars().take(60).collect::<String>())
}

/// Decodes an `application/x-www-form-urlencoded` body into its pairs, in order; a name or
/// value that is not UTF-8 is refused with the field's name.
pub fn decode_form(body: &[u8]) -> Result<Vec<(String, String)>, AppError> {
    let mut out = Vec::new();
    for part in body.split(|b| *b == b'&').filter(|p| !p.is_empty()) {
        let (k, v) = match part.iter().position(|b| *b == b'=') {
            Some(i) => (&part[..i], &part[i + 1..]),
            None => (part, &part[..0]),
        };
        let name = String::from_utf8(decode_part(k)).map_err(|e| not_utf8(&String::from_utf8_lossy(e.as_bytes())))?;
        let value = String::from_utf8(decode_part(v)).map_err(|_| not_utf8(&name))?;
        out.push((name, value));
    }
    Ok(out)
}

/// The body's bytes, with our errors for a body too large or unreadable.
async fn body_bytes<S: Send + Sync>(req: Request, state: &S) -> Result<Bytes, AppError> {
    Bytes::from_request(req, state).await.map_err(|e| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            AppError::new(e.status(), "body-too-large")
        } else {
            AppError::bad_request("bad-request")
        }
    })
}

/// A value taken from the request's path (`/units/{id}`); one that does not parse (`/units/abc`,
/// bytes that are not UTF-8) is refused with 400 `bad-path` rather than a bare text answer.
#[derive(Debug, Clone)]
pub struct Path<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for Path<T> {
    type Rejection = AppError;
    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match axum::extract::Path::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Path(v)) => Ok(Path(v)),
            Err(e) if e.status().is_server_error() => Err(AppError::internal(e.body_text())),
            Err(e) => Err(AppError::bad_request("bad-path").with_detail(e.body_text())),
        }
    }
}

/// The query string decoded into `T`; one that does not (`?page=abc`) is refused with 400
/// `bad-query`.
#[derive(Debug, Clone, Default)]
pub struct Query<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for Query<T> {
    type Rejection = AppError;
    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match axum::extract::Query::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Query(v)) => Ok(Query(v)),
            Err(e) => Err(AppError::bad_request("bad-query").with_detail(e.body_text())),
        }
    }
}

/// The fields of a form as name/value pairs, for forms whose names are not known in advance
/// (a category's extra fields, `attribute[CODE]`).
#[derive(Debug, Default, Clone)]
pub struct Fields(pub Vec<(String, String)>);

impl Fields {
    /// The first value of `name`, or "".
    pub fn get(&self, name: &str) -> &str {
        self.0.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str()).unwrap_or("")
    }
    /// The pairs as a typed form.
    pub fn parse<T: DeserializeOwned>(&self) -> Result<T, AppError> {
        let encoded = serde_html_form::to_string(&self.0).map_err(AppError::internal)?;
        serde_html_form::from_str(&encoded).map_err(|e| {
            AppError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid-form-data").with_detail(e.to_string())
        })
    }
}

impl<S: Send + Sync> FromRequest<S> for Fields {
    type Rejection = AppError;
    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        Ok(Fields(decode_form(&body_bytes(req, state).await?)?))
    }
}

/// A form decoded into `T` (repeated names, such as check boxes, into a `Vec`).
#[derive(Debug, Clone)]
pub struct Form<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for Form<T> {
    type Rejection = AppError;
    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        Ok(Form(Fields::from_request(req, state).await?.parse()?))
    }
}

/// A page's form whose CSRF token (field `csrf`) was checked, decoded into `T`.
#[derive(Debug, Clone)]
pub struct CsrfForm<T>(pub T);

impl<T: DeserializeOwned> FromRequest<AppState> for CsrfForm<T> {
    type Rejection = AppError;
    async fn from_request(req: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let CsrfFields(f) = CsrfFields::from_request(req, state).await?;
        Ok(CsrfForm(f.parse()?))
    }
}

/// A page's form as pairs, with its CSRF token checked.
#[derive(Debug, Clone)]
pub struct CsrfFields(pub Fields);

impl FromRequest<AppState> for CsrfFields {
    type Rejection = AppError;
    async fn from_request(req: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let (mut parts, body) = req.into_parts();
        let csrf = Csrf::from_request_parts(&mut parts, state).await?;
        let f = Fields::from_request(Request::from_parts(parts, body), state).await?;
        csrf.verify(f.get("csrf"))?;
        Ok(CsrfFields(f))
    }
}

/// A form that may carry one file (`multipart/form-data`), or a plain form.
#[derive(Debug, Default)]
pub struct Upload {
    pub fields: Fields,
    /// The bytes of the file field `photo`, when one was chosen.
    pub photo: Option<Vec<u8>>,
}

impl<S: Send + Sync> FromRequest<S> for Upload {
    type Rejection = AppError;
    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let is_multipart = req
            .headers()
            .get(axum::http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|ct| ct.starts_with("multipart/form-data"));
        if !is_multipart {
            return Ok(Upload { fields: Fields::from_request(req, state).await?, photo: None });
        }
        let refused = |status: StatusCode| {
            if status == StatusCode::PAYLOAD_TOO_LARGE {
                AppError::new(status, "body-too-large")
            } else {
                AppError::bad_request("multipart-invalid")
            }
        };
        let mut mp = axum::extract::Multipart::from_request(req, state).await.map_err(|e| refused(e.status()))?;
        let mut out = Upload::default();
        while let Some(field) = mp.next_field().await.map_err(|e| refused(e.status()))? {
            let name = field.name().unwrap_or_default().to_owned();
            let bytes = field.bytes().await.map_err(|e| refused(e.status()))?;
            if name == "photo" {
                if !bytes.is_empty() {
                    out.photo = Some(bytes.to_vec());
                }
            } else {
                let value = String::from_utf8(bytes.to_vec()).map_err(|_| not_utf8(&name))?;
                out.fields.0.push((name, value));
            }
        }
        Ok(out)
    }
}

/// An [`Upload`] from a page, with its CSRF token checked.
#[derive(Debug)]
pub struct CsrfUpload(pub Upload);

impl FromRequest<AppState> for CsrfUpload {
    type Rejection = AppError;
    async fn from_request(req: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let (mut parts, body) = req.into_parts();
        let csrf = Csrf::from_request_parts(&mut parts, state).await?;
        let up = Upload::from_request(Request::from_parts(parts, body), state).await?;
        csrf.verify(up.fields.get("csrf"))?;
        Ok(CsrfUpload(up))
    }
}

/// A JSON body; a body that is not JSON, or not of the expected shape, is refused with a
/// clear error in our format.
pub struct ApiJson<T>(pub T);

impl<S, T> FromRequest<S> for ApiJson<T>
where
    Json<T>: FromRequest<S, Rejection = JsonRejection>,
    S: Send + Sync,
{
    type Rejection = AppError;
    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match Json::<T>::from_request(req, state).await {
            Ok(Json(v)) => Ok(ApiJson(v)),
            Err(rej) => Err(match rej {
                JsonRejection::JsonDataError(e) => {
                    AppError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid-json-data").with_detail(e.body_text())
                }
                JsonRejection::JsonSyntaxError(e) => {
                    AppError::new(StatusCode::BAD_REQUEST, "invalid-json").with_detail(e.body_text())
                }
                JsonRejection::MissingJsonContentType(_) => {
                    AppError::new(StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported-media-type")
                }
                other if other.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                    AppError::new(StatusCode::PAYLOAD_TOO_LARGE, "body-too-large")
                }
                other => AppError::new(other.status(), "bad-request").with_detail(other.body_text()),
            }),
        }
    }
}

/// The language of an API answer: `?lang=`, then `Accept-Language`, then the cookie, then
/// Vietnamese.
pub struct ApiLang(pub crate::http::i18n::Lang);

impl<S: Send + Sync> FromRequestParts<S> for ApiLang {
    type Rejection = std::convert::Infallible;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(ApiLang(crate::http::lang::api_lang(&parts.headers, &parts.uri)))
    }
}

/// The address a request comes from.
pub struct Client(pub String);

impl FromRequestParts<AppState> for Client {
    type Rejection = std::convert::Infallible;
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let peer = parts.extensions.get::<ConnectInfo<SocketAddr>>().map(|c| c.0);
        Ok(Client(client_addr(state.cfg.trusted_proxies, &parts.headers, peer)))
    }
}

/// The address a request comes from. Behind `trusted_proxies` proxies, each of which appends
/// the address it was reached from to `X-Forwarded-For`, the client is the entry that many
/// places from the end: entries before it were written by the client itself and prove
/// nothing. With no proxy, or a header too short to hold what the proxies add, the peer.
pub fn client_addr(trusted_proxies: u32, headers: &HeaderMap, peer: Option<SocketAddr>) -> String {
    let peer = peer.map(|a| a.ip().to_string()).unwrap_or_else(|| "unknown".into());
    if trusted_proxies == 0 {
        return peer;
    }
    let hops: Vec<Cow<'_, str>> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|h| Cow::Borrowed(h.trim()))
        .collect();
    let n = trusted_proxies as usize;
    match hops.len().checked_sub(n).and_then(|i| hops.get(i)) {
        Some(h) if h.parse::<IpAddr>().is_ok() => h.to_string(),
        _ => peer,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn forms_decode_strictly() {
        let f = decode_form(b"a=1&b=x+y%20z&c=%E1%BA%A5p&d&e=%F0%9F%8D%9C&f=%EF%BF%BD").unwrap();
        assert_eq!(
            f,
            vec![
                ("a".into(), "1".into()),
                ("b".into(), "x y z".into()),
                ("c".into(), "ấp".into()),
                ("d".into(), "".into()),
                ("e".into(), "🍜".into()),
                // U+FFFD typed by a person is data.
                ("f".into(), "\u{FFFD}".into()),
            ]
        );
        let e = decode_form(b"csrf=1&description=abc%FF%FEdef").unwrap_err();
        assert_eq!(e.info().status, StatusCode::BAD_REQUEST);
        assert_eq!(e.info().code, "form-not-utf8");
        assert_eq!(e.info().detail.as_deref(), Some("description"));
        // A stray percent sign is kept as typed.
        assert_eq!(decode_form(b"q=50%&r=%4").unwrap(), vec![("q".into(), "50%".into()), ("r".into(), "%4".into())]);
    }

    #[test]
    fn typed_forms_take_repeated_names() {
        #[derive(serde::Deserialize)]
        struct F {
            #[serde(default)]
            barrier: Vec<String>,
            #[serde(default)]
            code: String,
        }
        let f: F = Fields(decode_form(b"code=H1&barrier=a&barrier=b").unwrap()).parse().unwrap();
        assert_eq!(f.barrier, ["a", "b"]);
        assert_eq!(f.code, "H1");
    }

    #[test]
    fn the_client_is_what_the_trusted_proxy_saw() {
        let peer: SocketAddr = "10.0.0.2:5000".parse().unwrap();
        let mut h = HeaderMap::new();
        // The client wrote "1.2.3.4" itself; the proxy appended the address it saw.
        h.insert("x-forwarded-for", HeaderValue::from_static("1.2.3.4, 203.0.113.9"));
        assert_eq!(client_addr(0, &h, Some(peer)), "10.0.0.2");
        assert_eq!(client_addr(1, &h, Some(peer)), "203.0.113.9");
        assert_eq!(client_addr(2, &h, Some(peer)), "1.2.3.4");
        assert_eq!(client_addr(3, &h, Some(peer)), "10.0.0.2");
        h.insert("x-forwarded-for", HeaderValue::from_static("not an address"));
        assert_eq!(client_addr(1, &h, Some(peer)), "10.0.0.2");
    }
}
