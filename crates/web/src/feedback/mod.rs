//! Citizen feedback (phản ánh, kiến nghị): the public pages (`/feedback…`), the staff
//! pages (`/app/feedback…`), the set-up, the figures, the JSON API (`/api/v1/feedback…`) and
//! Open311 (`/open311/…`). This module holds what they share: parsing a submission, the spam
//! guards, who may handle an item, and the cached set-up.

pub mod api;
pub mod figures;
pub mod open311;
mod public;
mod setup;
pub mod setup_api;
mod staff;

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::time::{Duration, Instant};

use ngoso_core::Invalid;
use ngoso_core::auth;
use ngoso_core::feedback::{self as fb, Channel, DESCRIPTION_MAX, Point};
use ngoso_core::photo::Photo;
use ngoso_core::text;
use ngoso_core::unit::UnitPath;
use ngoso_store::feedback::{Handle, Item, NewItem, Submitted};
use ngoso_store::feedback_setup::{Agency, Category};
use ngoso_store::users::Principal;
use ngoso_store::{Db, StoreError};

use axum::routing::{get, post};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::http::error::AppError;

/// The pages and API of feedback, but for the forms that may carry a photo.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .route("/feedback/track", get(public::track))
        .route("/feedback/answered", get(public::answered))
        .route("/feedback/{code}", get(public::show))
        .route("/feedback/{code}/rating", post(public::rate))
        .route("/feedback/{code}/info", post(public::add_info))
        .route("/app/feedback", get(staff::inbox))
        .route("/app/feedback/figures", get(staff::figures))
        .route("/app/feedback/{id}", get(staff::show))
        .route("/app/feedback/{id}/move", post(staff::do_move))
        .route("/app/feedback/{id}/draft", post(staff::draft))
        .route("/app/feedback/{id}/publish", post(staff::publish))
        .route("/app/feedback/{id}/extend", post(staff::extend))
        .route("/app/feedback/{id}/hide", post(staff::hide))
        .route("/app/feedback/{id}/note", post(staff::note))
        .route("/app/feedback/{id}/erase-contact", post(staff::erase_contact))
        .route("/app/feedback/{id}/photo", get(staff::photo))
        .route("/app/feedback/setup", get(setup::show))
        .route("/app/feedback/setup/categories", post(setup::add_category))
        .route("/app/feedback/setup/categories/{id}/fields", post(setup::add_field))
        .route("/app/feedback/setup/categories/{id}/names", post(setup::rename_category))
        .route("/app/feedback/setup/categories/{id}/fields/names", post(setup::rename_field))
        .route("/app/feedback/setup/categories/{id}/deadline", post(setup::set_deadline))
        .route("/app/feedback/setup/categories/{id}/channel-deadlines", post(setup::set_channel_deadline))
        .route("/app/feedback/setup/categories/{id}/channel-deadlines/delete", post(setup::remove_channel_deadline))
        .route("/app/feedback/setup/categories/{id}/active", post(setup::set_active))
        .route("/app/feedback/setup/categories/{id}/fields/withdrawn", post(setup::set_field_withdrawn))
        .route("/app/feedback/setup/categories/{id}/fields/delete", post(setup::delete_field))
        .route("/app/feedback/setup/categories/{id}/delete", post(setup::delete_category))
        .route("/app/feedback/setup/agencies/{id}/active", post(setup::set_agency_active))
        .route("/app/feedback/setup/agencies/{id}/delete", post(setup::delete_agency))
        .route("/app/feedback/setup/agencies", post(setup::add_agency))
        .route("/app/feedback/setup/agencies/{id}/names", post(setup::rename_agency))
        .route("/app/feedback/setup/agencies/{id}/webhook", post(setup::set_webhook))
        .route("/app/feedback/setup/staff", post(setup::set_staff))
        .route("/app/feedback/setup/routes", post(setup::add_route))
        .route("/app/feedback/setup/routes/{id}/delete", post(setup::delete_route))
        .route("/app/feedback/setup/days", post(setup::set_day))
        .route("/app/feedback/setup/days/{id}/delete", post(setup::delete_day))
        .route("/app/feedback/setup/keys", post(setup::add_key))
        .route("/app/feedback/setup/keys/{id}/revoke", post(setup::revoke_key))
        .route("/app/feedback/setup/outbox/{id}/retry", post(setup::retry_message))
        .routes(routes!(setup_api::export, setup_api::apply_document))
        .routes(routes!(setup_api::import_days))
        .routes(routes!(setup_api::import_routes))
        .routes(routes!(setup_api::keys, setup_api::create_key))
        .routes(routes!(setup_api::revoke_key))
        .routes(routes!(setup_api::delete_agency))
        .routes(routes!(setup_api::delete_category))
        .routes(routes!(setup_api::delete_field))
        .routes(routes!(setup_api::import_past))
        .routes(routes!(api::inbox, api::submit))
        .routes(routes!(api::figures))
        .routes(routes!(api::get_one))
        .routes(routes!(api::by_code))
        .routes(routes!(api::do_move))
        .routes(routes!(api::draft))
        .routes(routes!(api::extend))
        .routes(routes!(api::note))
        .routes(routes!(api::visibility))
        .routes(routes!(api::erase_contact))
}

/// The forms that may carry a photo: the public form, staff typing in for a citizen, and
/// Open311 (the application gives them a larger body limit).
pub fn uploads() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .route("/feedback", get(public::form).post(public::create))
        .route("/app/feedback/new", get(staff::new_form).post(staff::create))
        .merge(OpenApiRouter::from(open311::router()))
}

/// Categories, agencies, the calendar and the units a citizen may pick, loaded together
/// and kept a few seconds (other processes may change them).
#[derive(Debug, Default)]
pub struct Setup {
    pub categories: Vec<Category>,
    pub agencies: Vec<Agency>,
    pub calendar: ngoso_core::calendar::Calendar,
    /// (id, code, name, depth) of the units down to communes, in tree order.
    pub places: Vec<(i64, String, String, i32)>,
}

impl Setup {
    pub async fn load(db: &Db) -> Result<Setup, StoreError> {
        Ok(Setup {
            categories: ngoso_store::feedback_setup::categories(db).await?,
            agencies: ngoso_store::feedback_setup::agencies(db).await?,
            calendar: ngoso_store::feedback_setup::calendar(db).await?,
            places: ngoso_store::units::down_to_depth(db, 2).await?,
        })
    }
    pub fn category(&self, id: i64) -> Option<&Category> {
        self.categories.iter().find(|c| c.id == id)
    }
    pub fn category_by_code(&self, code: &str) -> Option<&Category> {
        self.categories.iter().find(|c| c.code == code.trim())
    }
    pub fn agency(&self, id: i64) -> Option<&Agency> {
        self.agencies.iter().find(|a| a.id == id)
    }
    /// How an item's days are counted: as its category counts them for its channel.
    pub fn day_kind_of(&self, category_id: i64, channel: &str) -> ngoso_core::calendar::DayKind {
        match (self.category(category_id), Channel::parse(channel)) {
            (Some(c), Ok(channel)) => c.deadline_for(channel).1,
            (Some(c), Err(_)) => c.kind(),
            (None, _) => ngoso_core::calendar::DayKind::Working,
        }
    }
    pub fn category_name(&self, id: i64, english: bool) -> String {
        self.category(id).map(|c| c.name(english).to_owned()).unwrap_or_default()
    }
}

/// A submission as typed, from any channel.
#[derive(Debug, Default, Clone)]
pub struct SubmitFields {
    pub category: String,
    pub description: String,
    pub unit: String,
    pub address: String,
    pub lat: String,
    pub lon: String,
    pub contact_name: String,
    pub contact_phone: String,
    pub contact_email: String,
    pub consent: bool,
    /// Answers to the category's extra fields: (field code, value), repeated for lists.
    pub answers: Vec<(String, String)>,
}

/// More links than this in a description is taken for spam.
const MAX_LINKS: usize = 3;

/// Checks a submission against the category and the rules; the store does the rest.
pub async fn parse_submission(
    db: &Db,
    setup: &Setup,
    f: &SubmitFields,
    channel: Channel,
    by: Option<i64>,
    photo: Option<Photo>,
) -> Result<NewItem, AppError> {
    let cat = setup.category_by_code(&f.category).filter(|c| c.active).ok_or_else(|| {
        Invalid::field("category-unknown", "category")
            .with_detail(f.category.trim().chars().take(40).collect::<String>())
    })?;
    let description = text::parse_text(&f.description, "description", DESCRIPTION_MAX)?;
    let links = description.matches("http://").count() + description.matches("https://").count();
    if links > MAX_LINKS {
        return Err(Invalid::field("feedback-spam-links", "description").with_detail(MAX_LINKS.to_string()).into());
    }
    let unit_id = match f.unit.trim() {
        "" => None,
        code => Some(
            ngoso_store::units::by_code(db, code)
                .await
                .map_err(|_| {
                    Invalid::field("unit-unknown", "unit").with_detail(code.chars().take(40).collect::<String>())
                })?
                .id,
        ),
    };
    let address = text::parse_line(&f.address, "address", 300)?;
    let point = Point::parse(&f.lat, &f.lon)?;
    if unit_id.is_none() && address.is_none() && point.is_none() {
        return Err(Invalid::field("feedback-place-required", "unit").into());
    }
    let contact_name = text::parse_line(&f.contact_name, "contact_name", 200)?;
    let contact_phone = match f.contact_phone.trim() {
        "" => None,
        p => Some(ngoso_core::person::PhoneNumber::parse(p)?.as_str().to_owned()),
    };
    let contact_email = fb::parse_email(&f.contact_email)?;
    let has_contact = contact_name.is_some() || contact_phone.is_some() || contact_email.is_some();
    if has_contact && !f.consent {
        return Err(Invalid::field("feedback-consent-required", "consent").into());
    }
    let extra = fb::parse_answers(&cat.asked_fields(), |code| {
        f.answers.iter().filter(|(k, _)| k == code).map(|(_, v)| v.clone()).collect()
    })?;
    Ok(NewItem {
        category_id: cat.id,
        unit_id,
        address,
        point,
        description,
        extra,
        channel,
        contact_name,
        contact_phone,
        contact_email,
        consent: has_contact && f.consent,
        submitted_by: by,
        api_key_id: None,
        photo,
        received_at: ngoso_store::now(),
        client_id: None,
        media_url: None,
    })
}

/// Stores a checked submission with its category's deadline for its channel.
pub async fn submit(st: &AppState, setup: &Setup, item: &NewItem) -> Result<Submitted, AppError> {
    let cat = setup.category(item.category_id).ok_or_else(|| Invalid::field("category-unknown", "category"))?;
    let (days, kind) = cat.deadline_for(item.channel);
    let s = ngoso_store::feedback::submit(&st.db, &setup.calendar, days, kind, item).await?;
    Ok(s)
}

/// Counts public submissions per client over a sliding hour, in this process.
#[derive(Debug, Default)]
pub struct RateLimiter {
    seen: std::sync::Mutex<HashMap<String, VecDeque<Instant>>>,
}

impl RateLimiter {
    /// Whether `client` may send another item: `Err(seconds to wait)` when it sent
    /// `per_hour` in the last hour (0 turns the limit off). Only stored items (and spam
    /// caught by the honeypot) count, so a citizen correcting typos is not locked out.
    pub fn check(&self, client: &str, per_hour: u32) -> Result<(), u64> {
        self.count(client, per_hour, false)
    }

    /// Counts one item of `client`.
    pub fn record(&self, client: &str, per_hour: u32) {
        let _ = self.count(client, per_hour, true);
    }

    fn count(&self, client: &str, per_hour: u32, add: bool) -> Result<(), u64> {
        if per_hour == 0 {
            return Ok(());
        }
        let window = Duration::from_secs(3600);
        let now = Instant::now();
        let mut seen = self.seen.lock().unwrap_or_else(|e| e.into_inner());
        if seen.len() > 100_000 {
            seen.retain(|_, q| q.back().is_some_and(|t| now.duration_since(*t) < window));
        }
        let q = seen.entry(client.to_owned()).or_default();
        while q.front().is_some_and(|t| now.duration_since(*t) >= window) {
            q.pop_front();
        }
        if add {
            q.push_back(now);
            return Ok(());
        }
        if q.len() >= per_hour as usize {
            let wait = q.front().map(|t| window.saturating_sub(now.duration_since(*t)).as_secs() + 1).unwrap_or(60);
            return Err(wait);
        }
        Ok(())
    }
}

/// Core's proof that the user may handle an item (decided by [`auth::feedback_item`]), to
/// act on it; anything else is "not found".
pub async fn handle(db: &Db, p: &Principal, id: i64) -> Result<Handle, AppError> {
    let place = ngoso_store::feedback::place(db, id).await?;
    auth::feedback_item(&p.actor(), place).map_err(|_| AppError::not_found())
}

/// An item the user may handle, read with its contact (the store logs the read), and the
/// proof to act on it; anything else is "not found".
pub async fn open(db: &Db, p: &Principal, id: i64) -> Result<(Handle, Item), AppError> {
    let h = handle(db, p, id).await?;
    let item = ngoso_store::feedback::read(db, &h).await?;
    Ok((h, item))
}

/// An inbox as asked for, by the page or the API: every part optional.
#[derive(Debug, Clone, Default)]
pub struct InboxAsk<'a> {
    pub state: &'a str,
    pub category: &'a str,
    /// An agency code, or `none` for items with no agency.
    pub agency: &'a str,
    pub overdue: bool,
    /// A unit code: only items in its subtree.
    pub unit: &'a str,
    pub page: u32,
}

/// The store's filter of a user's inbox: their area and, for agency staff, their agency
/// (decided by [`auth::feedback_inbox`]), narrowed by what they asked. An unknown state,
/// category, agency or unit is a 422 naming the field, on the page and in the API alike.
/// Also returns the scope, for what the page offers.
pub async fn inbox_filter(
    db: &Db,
    setup: &Setup,
    p: &Principal,
    ask: &InboxAsk<'_>,
    at: i64,
) -> Result<(ngoso_store::feedback::InboxFilter, auth::InboxScope), AppError> {
    let scope = auth::feedback_inbox(&p.actor())?.ok_or_else(|| AppError::from(Invalid::new("feedback-no-agency")))?;
    let mut f = ngoso_store::feedback::InboxFilter {
        within: scope.within.clone(),
        unitless: scope.unitless,
        agency_id: scope.agency_id,
        page: ask.page.min(public::MAX_PAGE),
        ..Default::default()
    };
    let cut = |s: &str| s.trim().chars().take(40).collect::<String>();
    match ask.agency.trim() {
        "" => {}
        // Agency staff see their own agency's items whatever they ask.
        _ if !scope.any_agency => {}
        "none" => f.unassigned = true,
        code => {
            let a = setup.agencies.iter().find(|a| a.code == code);
            f.agency_id = Some(a.ok_or_else(|| Invalid::field("agency-unknown", "agency").with_detail(cut(code)))?.id);
        }
    }
    if !ask.state.trim().is_empty() {
        f.state = Some(fb::State::parse(ask.state)?);
    }
    if !ask.category.trim().is_empty() {
        let c = setup.category_by_code(ask.category);
        f.category_id =
            Some(c.ok_or_else(|| Invalid::field("category-unknown", "category").with_detail(cut(ask.category)))?.id);
    }
    if ask.overdue {
        f.overdue_at = Some(at);
    }
    if let Some(u) = unit_filter(db, p, ask.unit).await? {
        f.within = Some(u);
        f.unitless = false;
    }
    // Items of units closed by a restructuring, handled by their successors' staff.
    if let Some(w) = &f.within {
        f.also_units = ngoso_store::restructure::handled_within(db, w).await?;
    }
    Ok((f, scope))
}

/// The subtree of a unit code given as an inbox filter (inside the user's scope), if any.
pub async fn unit_filter(db: &Db, p: &Principal, code: &str) -> Result<Option<UnitPath>, AppError> {
    let code = code.trim();
    if code.is_empty() {
        return Ok(None);
    }
    let u = crate::units::visible_by_code(db, p, code).await.map_err(|_| {
        AppError::from(Invalid::field("unit-unknown", "unit").with_detail(code.chars().take(40).collect::<String>()))
    })?;
    Ok(Some(u.unit_path()))
}

/// Shared handle on the cached set-up.
pub type SetupCache = tokio::sync::RwLock<Option<(Instant, Arc<Setup>)>>;
