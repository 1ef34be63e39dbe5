//! The feedback API for staff and for team members' apps: submit on a citizen's behalf, the
//! inbox, an item with its history, moves, drafts, extensions, notes, hiding, removal of the
//! citizen's contact, and the figures. Citizens without an account use the public form or
//! Open311.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use ngoso_core::Invalid;
use ngoso_core::feedback::{Channel, Move, TrackingCode};
use ngoso_store::feedback::{self as store, HistoryRow, InboxRow, Item, MoveInput, Submitted};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::AppState;
use crate::auth::ApiUser;
use crate::feedback::figures::FeedbackFigures;
use crate::feedback::{self as fb, SubmitFields};
use crate::http::error::{ApiErrorBody, AppError};
use crate::http::extract::{ApiJson, Path, Query};
use crate::http::openapi::json_status;

/// Feedback typed in for a citizen.
#[derive(Debug, Deserialize, ToSchema)]
pub struct NewFeedback {
    /// The category's code.
    pub category: String,
    pub description: String,
    /// A unit code, an address or coordinates (at least one).
    #[serde(default)]
    pub unit: String,
    #[serde(default)]
    pub address: String,
    #[serde(default)]
    pub lat: Option<f64>,
    #[serde(default)]
    pub long: Option<f64>,
    #[serde(default)]
    pub contact_name: String,
    #[serde(default)]
    pub contact_phone: String,
    #[serde(default)]
    pub contact_email: String,
    /// The citizen agreed to the use of their contact (required with a contact).
    #[serde(default)]
    pub consent: bool,
    /// `team` (default) or `hotline`.
    #[serde(default)]
    pub channel: String,
    /// Answers to the category's extra fields: code → values.
    #[serde(default)]
    pub attributes: std::collections::BTreeMap<String, Vec<String>>,
    /// A UUID the phone made for the item: sending it again (say, after the answer was
    /// lost) answers 200 with the item made the first time, whose citizen key was given then
    /// and is empty here, instead of making another.
    #[serde(default)]
    pub client_id: Option<String>,
}

/// `POST /api/v1/feedback`: a team member or staff submits for a citizen.
#[utoipa::path(post, path = "/api/v1/feedback", tag = "feedback", request_body = NewFeedback,
    responses((status = 201, body = Submitted), (status = 200, description = "a repeated send of the same `client_id`: the item made the first time", body = Submitted), (status = 403, body = ApiErrorBody), (status = 422, body = ApiErrorBody)))]
pub async fn submit(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    ApiJson(n): ApiJson<NewFeedback>,
) -> Result<Response, AppError> {
    ngoso_core::auth::submit_for_citizen(&p.actor())?;
    let channel = match n.channel.trim() {
        "" | "team" => Channel::Team,
        "hotline" => Channel::Hotline,
        other => return Err(Invalid::field("feedback-channel-invalid", "channel").with_detail(other).into()),
    };
    let client_id = match n.client_id.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(c) => Some(ngoso_core::outreach::parse_client_id(c)?),
    };
    // A repeated send finds its item before anything else is checked again.
    if let Some(c) = &client_id
        && let Some(s) = store::by_client(&st.db, p.id, c).await?
    {
        return Ok(json_status(StatusCode::OK, &s));
    }
    let setup = st.feedback_setup().await?;
    let fields = SubmitFields {
        category: n.category,
        description: n.description,
        unit: n.unit,
        address: n.address,
        lat: n.lat.map(|v| v.to_string()).unwrap_or_default(),
        lon: n.long.map(|v| v.to_string()).unwrap_or_default(),
        contact_name: n.contact_name,
        contact_phone: n.contact_phone,
        contact_email: n.contact_email,
        consent: n.consent,
        answers: n.attributes.into_iter().flat_map(|(k, vs)| vs.into_iter().map(move |v| (k.clone(), v))).collect(),
    };
    let mut item = fb::parse_submission(&st.db, &setup, &fields, channel, Some(p.id), None).await?;
    item.client_id = client_id;
    let s = fb::submit(&st, &setup, &item).await?;
    Ok(json_status(if s.replayed { StatusCode::OK } else { StatusCode::CREATED }, &s))
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct InboxParams {
    /// A state: received, forwarded, in_progress, needs_info, answered, closed, rejected, duplicate.
    #[serde(default)]
    pub state: Option<String>,
    /// A category code.
    #[serde(default)]
    pub category: Option<String>,
    /// An agency code, or `none` for items with no agency (officers and administrators).
    #[serde(default)]
    pub agency: Option<String>,
    /// Only items past their deadline.
    #[serde(default)]
    pub overdue: Option<bool>,
    /// A unit code: only items in its subtree.
    #[serde(default)]
    pub unit: Option<String>,
    #[serde(default)]
    pub page: Option<u32>,
}

/// An inbox page.
#[derive(Debug, Serialize, ToSchema)]
pub struct InboxPage {
    pub items: Vec<InboxRow>,
    /// The next page, when there is one.
    pub next_page: Option<u32>,
}

/// `GET /api/v1/feedback`: the inbox of the caller (their agency, their area).
#[utoipa::path(get, path = "/api/v1/feedback", tag = "feedback", params(InboxParams),
    responses((status = 200, body = InboxPage), (status = 403, body = ApiErrorBody),
        (status = 422, description = "an unknown state, category, agency or unit", body = ApiErrorBody)))]
pub async fn inbox(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    Query(q): Query<InboxParams>,
) -> Result<Json<InboxPage>, AppError> {
    let setup = st.feedback_setup().await?;
    let ask = fb::InboxAsk {
        state: q.state.as_deref().unwrap_or(""),
        category: q.category.as_deref().unwrap_or(""),
        agency: q.agency.as_deref().unwrap_or(""),
        overdue: q.overdue == Some(true),
        unit: q.unit.as_deref().unwrap_or(""),
        page: q.page.unwrap_or(0),
    };
    let (f, _) = fb::inbox_filter(&st.db, &setup, &p, &ask, ngoso_store::now()).await?;
    let page = f.page;
    let mut items = store::inbox(&st.db, &f).await?;
    let more = items.len() as i64 > store::PAGE;
    items.truncate(store::PAGE as usize);
    Ok(Json(InboxPage { items, next_page: more.then_some(page + 1) }))
}

/// An item with its history.
#[derive(Debug, Serialize, ToSchema)]
pub struct ItemDetail {
    pub item: Item,
    pub history: Vec<HistoryRow>,
    /// Fingerprint of the answer draft, to send back as `draft_seen` when publishing it.
    pub draft_hash: Option<String>,
}

/// `GET /api/v1/feedback/{id}`: an item the caller may handle; reading its contact is logged.
#[utoipa::path(get, path = "/api/v1/feedback/{id}", tag = "feedback", params(("id" = i64, Path)),
    responses((status = 200, body = ItemDetail), (status = 404, body = ApiErrorBody)))]
pub async fn get_one(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    Path(id): Path<i64>,
) -> Result<Json<ItemDetail>, AppError> {
    detail(&st, &p, id).await
}

async fn detail(st: &AppState, p: &ngoso_store::users::Principal, id: i64) -> Result<Json<ItemDetail>, AppError> {
    // The store logs the read of the contact.
    let (h, item) = fb::open(&st.db, p, id).await?;
    let history = store::history(&st.db, &h).await?;
    let draft_hash = item.answer_draft.as_deref().map(store::draft_hash);
    Ok(Json(ItemDetail { item, history, draft_hash }))
}

/// `GET /api/v1/feedback/by-code/{code}`: an item by the tracking code Open311 and the
/// public form give (`PAKN.YYYYMMDD.NNNN`), as by its id; not found when the caller may not
/// handle it.
#[utoipa::path(get, path = "/api/v1/feedback/by-code/{code}", tag = "feedback", params(("code" = String, Path)),
    responses((status = 200, body = ItemDetail), (status = 404, body = ApiErrorBody)))]
pub async fn by_code(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    Path(code): Path<String>,
) -> Result<Json<ItemDetail>, AppError> {
    let id = store::id_by_code(&st.db, &code).await?;
    detail(&st, &p, id).await
}

/// A move of an item.
#[derive(Debug, Deserialize, ToSchema)]
pub struct MoveBody {
    /// forward, start, ask_info, info_received, answer, close, reopen, reject, duplicate.
    #[serde(rename = "move")]
    pub mv: String,
    /// For `forward`: the agency's id.
    #[serde(default)]
    pub agency_id: Option<i64>,
    /// Required for reject, ask_info and reopen.
    #[serde(default)]
    pub reason: Option<String>,
    /// For `duplicate`: the tracking code of the original.
    #[serde(default)]
    pub duplicate_of: Option<String>,
    /// For `answer`: the `draft_hash` of the item as read; refused if the draft changed since.
    #[serde(default)]
    pub draft_seen: Option<String>,
}

/// The state after a move.
#[derive(Debug, Serialize, ToSchema)]
pub struct Moved {
    pub state: String,
}

/// `POST /api/v1/feedback/{id}/moves`.
#[utoipa::path(post, path = "/api/v1/feedback/{id}/moves", tag = "feedback", params(("id" = i64, Path)), request_body = MoveBody,
    responses((status = 200, body = Moved), (status = 422, body = ApiErrorBody), (status = 404, body = ApiErrorBody)))]
pub async fn do_move(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    Path(id): Path<i64>,
    ApiJson(b): ApiJson<MoveBody>,
) -> Result<Json<Moved>, AppError> {
    let h = fb::handle(&st.db, &p, id).await?;
    let mv = Move::parse(&b.mv)?;
    let reason = b
        .reason
        .as_deref()
        .filter(|r| !r.trim().is_empty())
        .map(|r| ngoso_core::text::parse_text(r, "reason", 2000))
        .transpose()?;
    let duplicate_of =
        b.duplicate_of.as_deref().filter(|c| !c.trim().is_empty()).map(TrackingCode::parse).transpose()?;
    let input = MoveInput { agency_id: b.agency_id, reason, duplicate_of, draft_seen: b.draft_seen };
    let to = store::apply(&st.db, &h, mv, &input).await?;
    Ok(Json(Moved { state: to.as_str().to_owned() }))
}

/// The public answer to be reviewed and published by someone else.
#[derive(Debug, Deserialize, ToSchema)]
pub struct DraftBody {
    pub answer: String,
}

/// What publishing a draft needs: its fingerprint, to send as `draft_seen` with the
/// `answer` move (by another member of staff, who reviews it).
#[derive(Debug, Serialize, ToSchema)]
pub struct Drafted {
    pub draft_hash: String,
    pub state: String,
}

/// `POST /api/v1/feedback/{id}/draft`: write (or rewrite) the answer's draft; the answer
/// carries what publishing it needs.
#[utoipa::path(post, path = "/api/v1/feedback/{id}/draft", tag = "feedback", params(("id" = i64, Path)), request_body = DraftBody,
    responses((status = 200, body = Drafted), (status = 422, body = ApiErrorBody), (status = 404, body = ApiErrorBody)))]
pub async fn draft(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    Path(id): Path<i64>,
    ApiJson(b): ApiJson<DraftBody>,
) -> Result<Json<Drafted>, AppError> {
    let h = fb::handle(&st.db, &p, id).await?;
    let (draft_hash, state) = store::draft_answer(&st.db, &h, &b.answer).await?;
    Ok(Json(Drafted { draft_hash, state: state.as_str().to_owned() }))
}

/// An internal note of staff, kept in the item's history.
#[derive(Debug, Deserialize, ToSchema)]
pub struct NoteBody {
    pub note: String,
}

/// `POST /api/v1/feedback/{id}/notes`: add an internal note (never shown to the public).
#[utoipa::path(post, path = "/api/v1/feedback/{id}/notes", tag = "feedback", params(("id" = i64, Path)), request_body = NoteBody,
    responses((status = 204), (status = 422, body = ApiErrorBody), (status = 404, body = ApiErrorBody)))]
pub async fn note(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    Path(id): Path<i64>,
    ApiJson(b): ApiJson<NoteBody>,
) -> Result<StatusCode, AppError> {
    let h = fb::handle(&st.db, &p, id).await?;
    store::note(&st.db, &h, &b.note).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Whether an item shows in the public list of answered items.
#[derive(Debug, Deserialize, ToSchema)]
pub struct VisibilityBody {
    /// `true` hides the item from the public (a reason is then required); `false` shows it
    /// again.
    pub hidden: bool,
    #[serde(default)]
    pub reason: String,
}

/// `POST /api/v1/feedback/{id}/visibility`: hide an item from the public list, with a reason,
/// or show it again.
#[utoipa::path(post, path = "/api/v1/feedback/{id}/visibility", tag = "feedback", params(("id" = i64, Path)), request_body = VisibilityBody,
    responses((status = 204), (status = 422, body = ApiErrorBody), (status = 404, body = ApiErrorBody)))]
pub async fn visibility(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    Path(id): Path<i64>,
    ApiJson(b): ApiJson<VisibilityBody>,
) -> Result<StatusCode, AppError> {
    let h = fb::handle(&st.db, &p, id).await?;
    // To hide, a reason is required: the store refuses a blank one.
    store::set_hidden(&st.db, &h, b.hidden.then_some(b.reason.as_str())).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /api/v1/feedback/{id}/contact-removal`: remove the citizen's contact on their
/// request (or when they withdraw consent). The item, its text and the figures stay; messages
/// not yet sent to the citizen are given up.
#[utoipa::path(post, path = "/api/v1/feedback/{id}/contact-removal", tag = "feedback", params(("id" = i64, Path)),
    responses((status = 204), (status = 404, body = ApiErrorBody)))]
pub async fn erase_contact(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    Path(id): Path<i64>,
) -> Result<StatusCode, AppError> {
    let h = fb::handle(&st.db, &p, id).await?;
    store::erase_contact(&st.db, &h).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// More days for an item, and why.
#[derive(Debug, Deserialize, ToSchema)]
pub struct ExtensionBody {
    /// 1 to 365, counted as the category counts its deadline.
    pub days: u32,
    pub reason: String,
}

/// The new deadline.
#[derive(Debug, Serialize, ToSchema)]
pub struct Extended {
    /// RFC 3339, Vietnam time.
    pub due: String,
}

/// `POST /api/v1/feedback/{id}/extension`: move the deadline on.
#[utoipa::path(post, path = "/api/v1/feedback/{id}/extension", tag = "feedback", params(("id" = i64, Path)), request_body = ExtensionBody,
    responses((status = 200, body = Extended), (status = 422, body = ApiErrorBody), (status = 404, body = ApiErrorBody)))]
pub async fn extend(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    Path(id): Path<i64>,
    ApiJson(b): ApiJson<ExtensionBody>,
) -> Result<Json<Extended>, AppError> {
    let h = fb::handle(&st.db, &p, id).await?;
    let days = ngoso_core::calendar::parse_days(&b.days.to_string(), "days")?;
    let setup = st.feedback_setup().await?;
    let (category, channel) = store::deadline_basis(&st.db, &h).await?;
    let kind = setup.day_kind_of(category, &channel);
    let due = store::extend(&st.db, &setup.calendar, &h, days, kind, &b.reason).await?;
    Ok(Json(Extended { due: ngoso_core::calendar::w3c(due) }))
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct FiguresParams {
    /// A unit id (default: the caller's unit, or the whole tree).
    #[serde(default)]
    pub unit: Option<i64>,
    /// `2024`, `2024Q3` or `202410` (default: this year).
    #[serde(default)]
    pub period: Option<String>,
}

/// `GET /api/v1/feedback/figures`: received, answered, on time and overdue, by category,
/// agency and child unit.
#[utoipa::path(get, path = "/api/v1/feedback/figures", tag = "feedback", params(FiguresParams),
    responses((status = 200, body = FeedbackFigures), (status = 404, description = "the unit is not in sight", body = ApiErrorBody),
        (status = 422, description = "a period that does not parse", body = ApiErrorBody)))]
pub async fn figures(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    headers: axum::http::HeaderMap,
    Query(q): Query<FiguresParams>,
) -> Result<Json<FeedbackFigures>, AppError> {
    let setup = st.feedback_setup().await?;
    let unit = fb::figures::figures_unit(&st.db, &p, q.unit).await?;
    let months = fb::figures::months_of(q.period.as_deref().unwrap_or(""))?;
    let english = headers
        .get(axum::http::header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
        .and_then(crate::http::i18n::Lang::from_accept_language)
        == Some(crate::http::i18n::Lang::En);
    Ok(Json(fb::figures::figures(&st.db, &setup, unit.as_ref(), months, english).await?))
}
