//! `/api/v1/feedback/setup`: the set-up of citizen feedback by API, for administrators of
//! the whole tree — the set-up read and written as one document (agencies, categories with
//! their fields and deadlines, staff, routes, days), a year's days and the routing rules from
//! CSV files, and the API keys of Open311 clients. Every write is all or nothing, can be
//! tried first (`?dry_run=true`) and is logged.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use ngoso_core::Invalid;
use ngoso_core::auth::Action;
use ngoso_store::StoreError;
use ngoso_store::feedback::document::{self as doc, Applied, SetupDocument};
use ngoso_store::feedback_setup as setup;
use ngoso_store::users::Principal;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::AppState;
use crate::auth::{ApiUser, can_anywhere};
use crate::http::error::{ApiErrorBody, AppError};
use crate::http::extract::{ApiJson, Path, Query};

fn ensure_admin(p: &Principal) -> Result<(), AppError> {
    if can_anywhere(p, Action::ManageSystem) { Ok(()) } else { Err(AppError::forbidden()) }
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct DryRun {
    /// Check and do everything, then take it back: the answer says what a run would do.
    pub dry_run: Option<bool>,
}

/// The whole set-up of feedback as one document (webhook secrets left out): what
/// `POST /api/v1/feedback/setup` takes, so a set-up is kept in a file and applied elsewhere.
#[utoipa::path(get, path = "/api/v1/feedback/setup", tag = "feedback",
    responses((status = 200, body = SetupDocument), (status = 403, body = ApiErrorBody)))]
pub async fn export(State(st): State<AppState>, ApiUser(p): ApiUser) -> Result<Json<SetupDocument>, AppError> {
    ensure_admin(&p)?;
    Ok(Json(doc::export(&st.db).await?))
}

/// A webhook at a private or local address is refused (unless such addresses are allowed):
/// it would never be sent.
fn check_webhooks(st: &AppState, d: &SetupDocument) -> Result<(), AppError> {
    for (i, a) in d.agencies.iter().enumerate() {
        let url = a.webhook_url.as_deref().unwrap_or_default();
        if let Some(host) = crate::jobs::outbox::private_host(url).filter(|_| !st.cfg.webhook_private_addresses) {
            let invalid = Invalid::field("webhook-address-private", "webhook_url").with_detail(host);
            return Err(StoreError::AtRow { row: i as u64 + 1, section: Some("agencies"), invalid }.into());
        }
    }
    Ok(())
}

async fn apply(
    st: &AppState,
    p: &Principal,
    d: &SetupDocument,
    dry_run: bool,
    lines: Option<&[u64]>,
) -> Result<Applied, AppError> {
    ensure_admin(p)?;
    check_webhooks(st, d)?;
    let applied = doc::apply(&st.db, d, dry_run).await.map_err(|e| match lines {
        Some(lines) => doc::at_line(e, lines),
        None => e,
    })?;
    if !dry_run {
        st.feedback_setup_changed().await;
        let what = format!(
            "agencies +{} ~{}; categories +{} ~{}; fields +{}; staff {}; routes {}; days {}",
            applied.agencies_added,
            applied.agencies_changed,
            applied.categories_added,
            applied.categories_changed,
            applied.fields_added,
            applied.staff,
            applied.routes,
            applied.days
        );
        crate::auth::audit::log(&st.db, p, "feedback.setup.apply", "feedback_setup", 0, &what).await;
    }
    Ok(applied)
}

/// Apply a set-up document, all or nothing: entries are matched by code, new ones added,
/// known ones changed; lists left out change nothing. A refused entry is named by its list
/// (`error.section`) and place (`error.row`, from 1).
#[utoipa::path(post, path = "/api/v1/feedback/setup", tag = "feedback", params(DryRun), request_body = SetupDocument,
    responses((status = 200, body = Applied), (status = 400, body = ApiErrorBody), (status = 403, body = ApiErrorBody),
        (status = 413, body = ApiErrorBody), (status = 422, body = ApiErrorBody)))]
pub async fn apply_document(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    Query(q): Query<DryRun>,
    ApiJson(d): ApiJson<SetupDocument>,
) -> Result<Json<Applied>, AppError> {
    Ok(Json(apply(&st, &p, &d, q.dry_run.unwrap_or(false), None).await?))
}

/// Reads a CSV file of one list of the set-up into a document, with each entry's line.
type ReadCsv = fn(&str) -> ngoso_store::Result<(SetupDocument, Vec<u64>)>;

/// A CSV file of one list of the set-up, read into a document and applied; a refused
/// entry is named by its line in the file.
async fn apply_csv(
    st: &AppState,
    p: &Principal,
    q: &DryRun,
    body: &[u8],
    read: ReadCsv,
) -> Result<Json<Applied>, AppError> {
    ensure_admin(p)?;
    let (d, lines) = read(crate::http::csvfile::body_text(body)?)?;
    Ok(Json(apply(st, p, &d, q.dry_run.unwrap_or(false), Some(&lines)).await?))
}

/// Holidays and declared working days from a CSV file (`day`, `kind` = holiday or workday,
/// `name`), a year's at once, all or nothing; a refused line is named by its number.
#[utoipa::path(post, path = "/api/v1/feedback/setup/days", tag = "feedback", params(DryRun),
    request_body(content = String, content_type = "text/csv"),
    responses((status = 200, body = Applied), (status = 403, body = ApiErrorBody), (status = 413, body = ApiErrorBody),
        (status = 422, body = ApiErrorBody)))]
pub async fn import_days(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    Query(q): Query<DryRun>,
    body: axum::body::Bytes,
) -> Result<Json<Applied>, AppError> {
    apply_csv(&st, &p, &q, &body, doc::read_days_csv).await
}

/// Routing rules from a CSV file (`agency_code`, and `category_code`, `unit_code` for a
/// narrower rule), all or nothing; a refused line is named by its number.
#[utoipa::path(post, path = "/api/v1/feedback/setup/routes", tag = "feedback", params(DryRun),
    request_body(content = String, content_type = "text/csv"),
    responses((status = 200, body = Applied), (status = 403, body = ApiErrorBody), (status = 413, body = ApiErrorBody),
        (status = 422, body = ApiErrorBody)))]
pub async fn import_routes(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    Query(q): Query<DryRun>,
    body: axum::body::Bytes,
) -> Result<Json<Applied>, AppError> {
    apply_csv(&st, &p, &q, &body, doc::read_routes_csv).await
}

/// An API key of an Open311 client, as listed (the key itself is shown once).
#[derive(Debug, Serialize, ToSchema)]
pub struct ApiKeyDto {
    pub id: i64,
    pub name: String,
    /// The key's first characters, to tell keys apart.
    pub prefix: String,
    pub created_at: i64,
    pub revoked_at: Option<i64>,
    pub last_used_at: Option<i64>,
}

/// The API keys of Open311 clients.
#[utoipa::path(get, path = "/api/v1/feedback/setup/keys", tag = "feedback",
    responses((status = 200, body = Vec<ApiKeyDto>), (status = 403, body = ApiErrorBody)))]
pub async fn keys(State(st): State<AppState>, ApiUser(p): ApiUser) -> Result<Json<Vec<ApiKeyDto>>, AppError> {
    ensure_admin(&p)?;
    let keys = setup::keys(&st.db).await?;
    Ok(Json(
        keys.into_iter()
            .map(|k| ApiKeyDto {
                id: k.id,
                name: k.name,
                prefix: k.prefix,
                created_at: k.created_at,
                revoked_at: k.revoked_at,
                last_used_at: k.last_used_at,
            })
            .collect(),
    ))
}

/// The client a key is for.
#[derive(Debug, Deserialize, ToSchema)]
pub struct NewKey {
    pub name: String,
}

/// A new key, shown this once.
#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedKey {
    pub id: i64,
    pub key: String,
}

/// Make an API key for an Open311 client; the key is shown once.
#[utoipa::path(post, path = "/api/v1/feedback/setup/keys", tag = "feedback", request_body = NewKey,
    responses((status = 201, body = CreatedKey), (status = 403, body = ApiErrorBody), (status = 422, body = ApiErrorBody)))]
pub async fn create_key(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    ApiJson(k): ApiJson<NewKey>,
) -> Result<Response, AppError> {
    ensure_admin(&p)?;
    let (id, key) = setup::create_key(&st.db, &k.name, Some(p.id)).await?;
    crate::auth::audit::log(&st.db, &p, "feedback.api_key.create", "feedback_setup", id, &k.name).await;
    Ok((StatusCode::CREATED, Json(CreatedKey { id, key })).into_response())
}

/// Revoke an API key: its client is refused from now on.
#[utoipa::path(delete, path = "/api/v1/feedback/setup/keys/{id}", tag = "feedback", params(("id" = i64, Path)),
    responses((status = 204), (status = 403, body = ApiErrorBody), (status = 404, body = ApiErrorBody)))]
pub async fn revoke_key(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    Path(id): Path<i64>,
) -> Result<StatusCode, AppError> {
    ensure_admin(&p)?;
    setup::revoke_key(&st.db, id).await?;
    crate::auth::audit::log(&st.db, &p, "feedback.api_key.revoke", "feedback_setup", id, "").await;
    Ok(StatusCode::NO_CONTENT)
}

/// An agency's id by its code.
async fn agency_by_code(st: &AppState, code: &str) -> Result<i64, AppError> {
    let all = setup::agencies(&st.db).await?;
    Ok(all.into_iter().find(|a| a.code == code.trim()).ok_or_else(AppError::not_found)?.id)
}

/// A category's id by its code.
async fn category_by_code(st: &AppState, code: &str) -> Result<i64, AppError> {
    let all = setup::categories(&st.db).await?;
    Ok(all.into_iter().find(|c| c.code == code.trim()).ok_or_else(AppError::not_found)?.id)
}

async fn deleted(st: &AppState, p: &Principal, action: &str, what: &str) -> Result<StatusCode, AppError> {
    st.feedback_setup_changed().await;
    crate::auth::audit::log(&st.db, p, action, "feedback_setup", 0, what).await;
    Ok(StatusCode::NO_CONTENT)
}

/// Delete an agency no item was ever sent to (its routing rules go, its staff are detached);
/// one that was used is refused (`agency-used`): withdraw it instead (`active: false`).
#[utoipa::path(delete, path = "/api/v1/feedback/setup/agencies/{code}", tag = "feedback", params(("code" = String, Path)),
    responses((status = 204), (status = 403, body = ApiErrorBody), (status = 404, body = ApiErrorBody), (status = 422, body = ApiErrorBody)))]
pub async fn delete_agency(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    Path(code): Path<String>,
) -> Result<StatusCode, AppError> {
    ensure_admin(&p)?;
    setup::delete_agency(&st.db, agency_by_code(&st, &code).await?).await?;
    deleted(&st, &p, "feedback.agency.delete", &code).await
}

/// Delete a category no item was filed under (with its deadlines and routing rules); one
/// that was used is refused (`category-used`): withdraw it instead (`active: false`).
#[utoipa::path(delete, path = "/api/v1/feedback/setup/categories/{code}", tag = "feedback", params(("code" = String, Path)),
    responses((status = 204), (status = 403, body = ApiErrorBody), (status = 404, body = ApiErrorBody), (status = 422, body = ApiErrorBody)))]
pub async fn delete_category(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    Path(code): Path<String>,
) -> Result<StatusCode, AppError> {
    ensure_admin(&p)?;
    setup::delete_category(&st.db, category_by_code(&st, &code).await?).await?;
    deleted(&st, &p, "feedback.category.delete", &code).await
}

/// Delete a category's extra field no item has answered; one that was answered is refused
/// (`field-used`): withdraw it instead (`withdrawn: true`).
#[utoipa::path(delete, path = "/api/v1/feedback/setup/categories/{code}/fields/{field}", tag = "feedback",
    params(("code" = String, Path), ("field" = String, Path)),
    responses((status = 204), (status = 403, body = ApiErrorBody), (status = 404, body = ApiErrorBody), (status = 422, body = ApiErrorBody)))]
pub async fn delete_field(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    Path((code, field)): Path<(String, String)>,
) -> Result<StatusCode, AppError> {
    ensure_admin(&p)?;
    setup::delete_field(&st.db, category_by_code(&st, &code).await?, &field).await?;
    deleted(&st, &p, "feedback.category.field_delete", &format!("{code}.{field}")).await
}

/// Record the feedback of an earlier system with its own codes and dates, all or nothing:
/// a CSV (`code`, `category`, `description`, `received_at`, and where known `unit_code`,
/// `address`, `channel`, `state`, `agency_code`, `answered_at`, `answer`; Open311's column
/// names are understood too) or an Open311 export (the JSON list of `GET requests.json`).
/// The first bad line or entry refuses the file. No notification goes out.
#[utoipa::path(post, path = "/api/v1/feedback/import", tag = "feedback",
    request_body(content = String, content_type = "text/csv"),
    responses((status = 201, body = ngoso_store::feedback::past::PastImported), (status = 403, body = ApiErrorBody),
        (status = 409, description = "a code is taken already", body = ApiErrorBody), (status = 413, body = ApiErrorBody),
        (status = 422, body = ApiErrorBody)))]
pub async fn import_past(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    headers: axum::http::HeaderMap,
    body: axum::body::Bytes,
) -> Result<Response, AppError> {
    ensure_admin(&p)?;
    let text = crate::http::csvfile::body_text(&body)?;
    let json = headers
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    let rows = if json {
        ngoso_store::feedback::past::read_open311(text)?
    } else {
        ngoso_store::feedback::past::read_csv(text)?
    };
    let cal = setup::calendar(&st.db).await?;
    let done = ngoso_store::feedback::past::import(&st.db, &cal, &rows).await?;
    let what = format!("{} items, {} answered", done.items, done.answered);
    crate::auth::audit::log(&st.db, &p, "feedback.import", "feedback_setup", 0, &what).await;
    Ok((StatusCode::CREATED, Json(done)).into_response())
}
