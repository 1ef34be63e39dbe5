//! `POST /api/v1/visits`: a batch of visits, each with a client-made UUID.

use axum::Json;
use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde::Serialize;
use utoipa::ToSchema;

use super::ApiJson;
use crate::AppState;
use crate::auth::ApiUser;
use crate::error::{ApiErrorBody, ApiErrorDetail, AppError, message};
use crate::visits::{MAX_BATCH, Recorder, VisitJson, record};

pub fn router() -> Router<AppState> {
    Router::new().route("/api/v1/visits", post(post_visits))
}

/// A batch: `{"visits": [...]}` (a bare array is accepted too).
#[derive(Debug, serde::Deserialize, ToSchema)]
#[serde(untagged)]
pub enum VisitBatch {
    Wrapped { visits: Vec<serde_json::Value> },
    Bare(Vec<serde_json::Value>),
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
    headers: HeaderMap,
    uri: Uri,
    ApiJson(batch): ApiJson<VisitBatch>,
) -> Result<Response, AppError> {
    let lang = crate::lang::api_lang(&headers, &uri);
    let items = match batch {
        VisitBatch::Wrapped { visits } | VisitBatch::Bare(visits) => visits,
    };
    if items.len() > MAX_BATCH {
        return Err(AppError::new(StatusCode::PAYLOAD_TOO_LARGE, "batch-too-large").with_detail(MAX_BATCH.to_string()));
    }
    let parsed = items
        .into_iter()
        .map(|v| {
            let id = v.get("id").and_then(|x| x.as_str()).unwrap_or_default().to_owned();
            let r = serde_json::from_value::<VisitJson>(v)
                .map_err(|e| ngoso_core::Invalid::new("invalid-json-data").with_detail(e.to_string()));
            (id, r)
        })
        .collect();
    let rec = std::sync::Arc::new(Recorder::new(p));
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
                    }),
                });
            }
        }
    }
    Ok((StatusCode::OK, Json(out)).into_response())
}
