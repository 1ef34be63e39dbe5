//! `POST /api/v1/visits`: a batch of visits, each with a client-made UUID.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::value::RawValue;
use utoipa::ToSchema;

use crate::AppState;
use crate::auth::ApiUser;
use crate::http::error::{ApiErrorBody, ApiErrorDetail, AppError, message};
use crate::http::extract::{ApiJson, ApiLang};
use crate::visits::{MAX_BATCH, Recorder, VisitJson, record};

/// A batch: `{"visits": [...]}` (a bare array is accepted too). Each visit is kept as its
/// raw text and read on its own, so that one malformed visit is refused alone — and the
/// batch is read in one pass, without first building a tree of every value.
#[derive(Debug)]
pub struct VisitBatch(pub Vec<Box<RawValue>>);

impl<'de> serde::Deserialize<'de> for VisitBatch {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = VisitBatch;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("an object {\"visits\": [...]} or an array of visits")
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<VisitBatch, A::Error> {
                let mut out = Vec::new();
                while let Some(v) = seq.next_element::<Box<RawValue>>()? {
                    out.push(v);
                }
                Ok(VisitBatch(out))
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<VisitBatch, A::Error> {
                let mut visits = None;
                while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
                    if key == "visits" {
                        if visits.is_some() {
                            return Err(serde::de::Error::duplicate_field("visits"));
                        }
                        visits = Some(map.next_value::<Vec<Box<RawValue>>>()?);
                    } else {
                        map.next_value::<serde::de::IgnoredAny>()?;
                    }
                }
                visits.map(VisitBatch).ok_or_else(|| serde::de::Error::missing_field("visits"))
            }
        }
        d.deserialize_any(V)
    }
}

/// The id of a visit that could not be read, when it is an object with a text id.
fn id_of(raw: &RawValue) -> String {
    serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(raw.get())
        .ok()
        .and_then(|m| m.get("id").and_then(|v| v.as_str()).map(str::to_owned))
        .unwrap_or_default()
}

/// What became of each visit.
#[derive(Debug, Serialize, ToSchema)]
pub struct VisitBatchResult {
    /// Visits stored now or before (a replay answers the same as the first time).
    pub accepted: usize,
    /// Visits refused; nothing of them was stored.
    pub refused: usize,
    /// One entry per visit, in the order sent.
    pub results: Vec<VisitResultItem>,
}

/// One visit's answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct VisitResultItem {
    pub id: String,
    /// `accepted` or `refused`.
    pub status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<ApiErrorDetail>,
}

/// Record a batch of visits. Each visit is checked on its own: the good ones are stored even
/// when others are refused, and the answer says which. Posting the same batch again changes
/// nothing and gives the same answer.
#[utoipa::path(post, path = "/api/v1/visits", tag = "visits", request_body = Vec<VisitJson>,
    responses(
        (status = 200, body = VisitBatchResult),
        (status = 401, body = ApiErrorBody),
        (status = 413, description = "more than 1,000 visits", body = ApiErrorBody),
        (status = 422, body = ApiErrorBody),
    ))]
pub async fn post_visits(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    ApiLang(lang): ApiLang,
    ApiJson(batch): ApiJson<VisitBatch>,
) -> Result<Response, AppError> {
    let items = batch.0;
    if items.len() > MAX_BATCH {
        return Err(AppError::new(StatusCode::PAYLOAD_TOO_LARGE, "batch-too-large").with_detail(MAX_BATCH.to_string()));
    }
    let parsed = items
        .into_iter()
        .map(|raw| match serde_json::from_str::<VisitJson>(raw.get()) {
            Ok(v) => (v.id.clone(), Ok(v)),
            Err(e) => (id_of(&raw), Err(ngoso_core::Invalid::new("invalid-json-data").with_detail(e.to_string()))),
        })
        .collect();
    let rec = std::sync::Arc::new(Recorder::new(&p)?);
    let answers = record(&st, &rec, parsed).await?;
    let mut out = VisitBatchResult { accepted: 0, refused: 0, results: Vec::with_capacity(answers.len()) };
    for a in answers {
        match a.result {
            Ok(()) => {
                out.accepted += 1;
                out.results.push(VisitResultItem { id: a.id, status: "accepted", error: None });
            }
            Err(e) => {
                out.refused += 1;
                let info = AppError::from(e).info().clone();
                out.results.push(VisitResultItem {
                    id: a.id,
                    status: "refused",
                    error: Some(ApiErrorDetail {
                        code: info.code.to_owned(),
                        message: message(lang, &info),
                        field: info.field.map(str::to_owned),
                        detail: info.detail.clone(),
                        row: None,
                        section: None,
                    }),
                });
            }
        }
    }
    Ok((StatusCode::OK, Json(out)).into_response())
}
