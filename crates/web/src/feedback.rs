//! Citizen feedback, shared by the public pages, the staff pages, the JSON API and Open311:
//! parsing a submission, the spam guards, who may handle an item, and the cached set-up.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::time::{Duration, Instant};

use ngoso_core::Invalid;
use ngoso_core::auth::{Action, Role, Scope};
use ngoso_core::feedback::{self as fb, Channel, DESCRIPTION_MAX, Point};
use ngoso_core::photo::Photo;
use ngoso_core::text;
use ngoso_core::unit::UnitPath;
use ngoso_store::feedback::{Item, NewItem, Submitted};
use ngoso_store::feedback_setup::{Agency, Category};
use ngoso_store::users::Principal;
use ngoso_store::{Db, StoreError};

use crate::AppState;
use crate::auth::can;
use crate::error::AppError;

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
    pub fn day_kind_of(&self, item: &Item) -> ngoso_core::calendar::DayKind {
        match (self.category(item.category_id), Channel::parse(&item.channel)) {
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
    let extra = fb::parse_answers(&cat.fields, |code| {
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

/// Whether a user may see and handle an item: agency staff the items of their agency (in
/// their scope, or with no unit), officers and administrators the items in their scope.
pub fn can_handle(p: &Principal, item: &Item) -> bool {
    let in_scope = match item.path() {
        Some(path) => can(p, Action::ProcessFeedback, &path),
        None => matches!(p.scope, Scope::All) || p.role == Role::AgencyStaff,
    };
    match p.role {
        Role::AgencyStaff => in_scope && p.agency_id.is_some() && item.agency_id == p.agency_id,
        Role::Admin | Role::Officer => in_scope,
        _ => false,
    }
}

/// Loads an item the user may handle; anything else is "not found".
pub async fn open(db: &Db, p: &Principal, id: i64) -> Result<Item, AppError> {
    let item = ngoso_store::feedback::get(db, id).await?;
    if can_handle(p, &item) { Ok(item) } else { Err(AppError::not_found()) }
}

/// Runs a staff action on an item that [`open`] gave: its transaction refuses the item (not
/// found) if it was reassigned to another agency or unit since the check.
pub async fn act_on<F: std::future::Future>(item: &Item, action: F) -> F::Output {
    let checked = ngoso_store::feedback::Checked { agency_id: item.agency_id, unit_id: item.unit_id };
    ngoso_store::feedback::as_checked(checked, action).await
}

/// Whether a user may submit on a citizen's behalf (team members, officers, staff).
pub fn can_submit_for_citizen(p: &Principal) -> bool {
    crate::auth::can_anywhere(p, Action::RecordVisit) || crate::auth::can_anywhere(p, Action::ProcessFeedback)
}

/// The inbox scope of a user: the subtree and whether items with no unit are included.
pub fn scope_of(p: &Principal) -> (Option<UnitPath>, bool) {
    match &p.scope {
        Scope::All => (None, true),
        Scope::Subtree(path) => (Some(path.clone()), p.role == Role::AgencyStaff),
    }
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

/// Writes the audit row of a read of an item's private contact.
pub async fn audit_contact_read(db: &Db, p: &Principal, item: &Item) {
    if item.contact_name.is_none() && item.contact_phone.is_none() && item.contact_email.is_none() {
        return;
    }
    crate::teams::log(db, p, "feedback.read_contact", "feedback", item.id, &item.code).await;
}

/// Shared handle on the cached set-up.
pub type SetupCache = tokio::sync::RwLock<Option<(Instant, Arc<Setup>)>>;

/// One line of the feedback figures.
#[derive(Debug, Clone, Default, serde::Serialize, utoipa::ToSchema)]
pub struct FigureRow {
    /// The code of the category, agency or unit (empty for "none").
    pub code: String,
    pub name: String,
    pub received: i64,
    pub answered: i64,
    /// Answered by the deadline.
    pub on_time: i64,
    /// Waiting past the deadline now.
    pub overdue: i64,
}

impl FigureRow {
    /// Answered on time, as a share of answered, in per cent with one decimal.
    pub fn on_time_pct(&self) -> Option<f64> {
        (self.answered > 0).then(|| (self.on_time as f64 * 1000.0 / self.answered as f64).round() / 10.0)
    }
    fn add(&mut self, r: i64, a: i64, o: i64, d: i64) {
        self.received += r;
        self.answered += a;
        self.on_time += o;
        self.overdue += d;
    }
}

/// Feedback figures of a unit's subtree over a period, by category, agency and child unit.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct Figures {
    /// First and last month, `YYYYMM`.
    pub from: String,
    pub to: String,
    pub total: FigureRow,
    pub by_category: Vec<FigureRow>,
    pub by_agency: Vec<FigureRow>,
    pub by_unit: Vec<FigureRow>,
}

/// Computes the figures from the counters (received, answered, on time) and the pending
/// items past due (overdue); `unit` None is the whole tree.
pub async fn figures(
    db: &Db,
    setup: &Setup,
    unit: Option<&ngoso_store::units::Unit>,
    months: (String, String),
    english: bool,
) -> Result<Figures, AppError> {
    let within = unit.map(|u| u.unit_path());
    let counts = ngoso_store::feedback_figures::counts(db, within.as_ref(), &months.0, &months.1).await?;
    let overdue = ngoso_store::feedback_figures::overdue(db, within.as_ref(), ngoso_store::now()).await?;
    let children = ngoso_store::units::children(db, unit.map(|u| u.id)).await?;
    let mut total = FigureRow::default();
    let mut by_cat: std::collections::BTreeMap<i64, FigureRow> = Default::default();
    let mut by_agency: std::collections::BTreeMap<i64, FigureRow> = Default::default();
    let mut by_child: Vec<FigureRow> = children
        .iter()
        .map(|c| FigureRow { code: c.code.clone(), name: c.name.clone(), ..Default::default() })
        .collect();
    let mut unplaced = FigureRow::default();
    let rows = counts
        .iter()
        .map(|c| (c.path.as_deref(), c.category_id, c.agency_id, c.received, c.answered, c.on_time, 0))
        .chain(overdue.iter().map(|(p, c, a, n)| (p.as_deref(), *c, *a, 0, 0, 0, *n)));
    for (path, cat, agency, r, a, o, d) in rows {
        total.add(r, a, o, d);
        by_cat.entry(cat).or_default().add(r, a, o, d);
        by_agency.entry(agency).or_default().add(r, a, o, d);
        let child = path.and_then(|p| children.iter().position(|c| p.starts_with(c.path.as_str())));
        match child {
            Some(i) => by_child[i].add(r, a, o, d),
            // The unit itself (not a child), or no unit at all.
            None => unplaced.add(r, a, o, d),
        }
    }
    let by_category = by_cat
        .into_iter()
        .map(|(id, mut row)| {
            let c = setup.category(id);
            row.code = c.map(|c| c.code.clone()).unwrap_or_default();
            row.name = c.map(|c| c.name(english).to_owned()).unwrap_or_default();
            row
        })
        .collect();
    let by_agency = by_agency
        .into_iter()
        .map(|(id, mut row)| {
            let a = setup.agency(id);
            row.code = a.map(|a| a.code.clone()).unwrap_or_default();
            row.name = a.map(|a| a.name(english).to_owned()).unwrap_or_else(|| "—".into());
            row
        })
        .collect();
    if unplaced.received + unplaced.answered + unplaced.overdue > 0 {
        unplaced.name = "—".into();
        by_child.push(unplaced);
    }
    Ok(Figures { from: months.0, to: months.1, total, by_category, by_agency, by_unit: by_child })
}

/// The months of a period parameter; the current year when empty.
pub fn months_of(period: &str) -> Result<(String, String), Invalid> {
    if period.trim().is_empty() {
        let year = ngoso_core::calendar::local_day(ngoso_store::now()).format("%Y").to_string();
        return ngoso_core::calendar::period_months(&year);
    }
    ngoso_core::calendar::period_months(period)
}

/// The unit whose figures a user asks for: the one given (if visible), else the user's own
/// (None: the whole tree, for users scoped to it).
pub async fn figures_unit(
    db: &Db,
    p: &Principal,
    unit: Option<i64>,
) -> Result<Option<ngoso_store::units::Unit>, AppError> {
    match (unit, p.unit_id) {
        (Some(id), _) => Ok(Some(crate::units::visible(db, p, id).await?)),
        (None, Some(own)) => Ok(Some(crate::units::visible(db, p, own).await?)),
        (None, None) => Ok(None),
    }
}
