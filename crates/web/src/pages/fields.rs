//! A form body as name/value pairs, for forms with repeated names (check boxes).

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};

use crate::error::AppError;

/// The fields of an `application/x-www-form-urlencoded` body.
#[derive(Debug, Default, Clone)]
pub struct Fields(pub Vec<(String, String)>);

impl Fields {
    /// The first value of `name`, or "".
    pub fn get(&self, name: &str) -> &str {
        self.0.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str()).unwrap_or("")
    }
    /// Every value of `name`.
    pub fn all(&self, name: &str) -> Vec<&str> {
        self.0.iter().filter(|(k, _)| k == name).map(|(_, v)| v.as_str()).collect()
    }
    /// The value of `name`, or `None` when empty.
    pub fn opt(&self, name: &str) -> Option<String> {
        Some(self.get(name).to_owned()).filter(|v| !v.trim().is_empty())
    }
}

impl<S: Send + Sync> FromRequest<S> for Fields {
    type Rejection = AppError;
    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let bytes = Bytes::from_request(req, state).await.map_err(|e| {
            if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
                AppError::new(e.status(), "body-too-large")
            } else {
                AppError::bad_request("bad-request")
            }
        })?;
        // Bytes that are not UTF-8 are replaced, never a crash: the field's own check refuses them.
        Ok(Fields(form_urlencoded::parse(&bytes).map(|(k, v)| (k.into_owned(), v.into_owned())).collect()))
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
        let too_large = |status: axum::http::StatusCode| {
            if status == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
                AppError::new(status, "body-too-large")
            } else {
                AppError::bad_request("bad-request")
            }
        };
        let mut mp = axum::extract::Multipart::from_request(req, state).await.map_err(|e| too_large(e.status()))?;
        let mut out = Upload::default();
        while let Some(field) = mp.next_field().await.map_err(|e| too_large(e.status()))? {
            let name = field.name().unwrap_or_default().to_owned();
            if name == "photo" {
                let bytes = field.bytes().await.map_err(|e| too_large(e.status()))?;
                if !bytes.is_empty() {
                    out.photo = Some(bytes.to_vec());
                }
            } else {
                let bytes = field.bytes().await.map_err(|e| too_large(e.status()))?;
                out.fields.0.push((name, String::from_utf8_lossy(&bytes).into_owned()));
            }
        }
        Ok(out)
    }
}
