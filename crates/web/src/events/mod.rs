//! Trainings and events (training sessions, contests, seminars, help counters, campaigns):
//! `/app/events` and `/api/v1/events`, each with its team members who attended (attendance
//! taken on a phone) and the citizens served, by sex and age band where known; the members
//! with no training in the last twelve months; a team's share trained (on the team's page).
//!
//! Events are no one's personal data and every account in sight of their unit reads them;
//! recording and taking attendance need [`Action::ManageProgrammes`] on the event's unit;
//! the members' names are read only with access to people there, and logged.

pub mod api;
mod pages;

use axum::routing::{get, post};
use chrono::NaiveDate;
use ngoso_core::Invalid;
use ngoso_core::auth::{self as access, Action, may};
use ngoso_core::programme::{EventFields, EventForm};
use ngoso_store::programme::events::{self, Event, MemberTraining};
use ngoso_store::users::Principal;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::auth::{audit, can};
use crate::http::error::AppError;

/// The pages and API of events.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .route("/app/events", get(pages::index).post(pages::create))
        .route("/app/events/new", get(pages::new_form))
        .route("/app/events/training", get(pages::training))
        .route("/app/events/{id}", get(pages::show).post(pages::update))
        .route("/app/events/{id}/edit", get(pages::edit_form))
        .route("/app/events/{id}/delete", post(pages::delete))
        .route("/app/events/{id}/attendance", post(pages::attendance))
        .routes(routes!(api::list, api::create))
        .routes(routes!(api::get_one, api::update, api::delete))
        .routes(routes!(api::set_attendance))
        .routes(routes!(api::training))
        .routes(routes!(api::import))
        .route("/app/events/import", post(pages::import))
}

/// An event as sent (the API's numbers) or typed (a form's text).
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct EventInput {
    /// The unit's code.
    #[serde(default)]
    pub unit: String,
    /// training, contest, seminar, help_counter or campaign.
    #[serde(default)]
    pub kind: String,
    #[serde(default)]
    pub title: String,
    #[serde(default)]
    pub topic: String,
    #[serde(default)]
    pub place: String,
    #[serde(default)]
    pub organiser: String,
    /// `YYYY-MM-DD` or `DD/MM/YYYY`.
    #[serde(default)]
    pub starts_on: String,
    #[serde(default)]
    pub ends_on: String,
    /// Help counters: mon … sun, comma-separated.
    #[serde(default)]
    pub opening_days: String,
    #[serde(default)]
    pub citizens_served: Option<i64>,
    /// By sex and age band, where known.
    #[serde(default)]
    pub served_male: Option<i64>,
    #[serde(default)]
    pub served_female: Option<i64>,
    #[serde(default)]
    pub served_under_18: Option<i64>,
    #[serde(default)]
    pub served_18_59: Option<i64>,
    #[serde(default)]
    pub served_60_plus: Option<i64>,
    /// The team members who attended, by id.
    #[serde(default)]
    pub attendees: Vec<i64>,
}

impl EventInput {
    /// The fields, checked as a form's would be.
    pub fn fields(&self) -> Result<EventFields, Invalid> {
        let n = |v: Option<i64>| v.map(|v| v.to_string()).unwrap_or_default();
        let (served, m, f, a, b, c) = (
            n(self.citizens_served),
            n(self.served_male),
            n(self.served_female),
            n(self.served_under_18),
            n(self.served_18_59),
            n(self.served_60_plus),
        );
        EventFields::parse(&EventForm {
            kind: &self.kind,
            title: &self.title,
            topic: &self.topic,
            place: &self.place,
            organiser: &self.organiser,
            starts_on: &self.starts_on,
            ends_on: &self.ends_on,
            opening_days: &self.opening_days,
            citizens_served: &served,
            by_sex: [&m, &f],
            by_age: [&a, &b, &c],
        })
    }
}

/// Records an event in a unit the principal runs the programmes of.
pub async fn create(
    st: &AppState,
    p: &Principal,
    unit_code: &str,
    f: &EventFields,
    attendees: &[i64],
) -> Result<i64, AppError> {
    let unit = crate::units::for_action(&st.db, p, unit_code, "unit", Action::ManageProgrammes).await?;
    let id = events::create(&st.db, unit.id, f, attendees, Some(p.id)).await?;
    audit::log(&st.db, p, "event.create", "event", id, &f.title).await;
    Ok(id)
}

/// Reads a CSV of events (one a line; columns as the API's fields: `unit_code`, `kind`,
/// `title`, `starts_on` needed; `topic`, `place`, `organiser`, `ends_on`, `opening_days`,
/// `citizens_served`, `served_male`, `served_female`, `served_under_18`, `served_18_59`,
/// `served_60_plus` if known): each line checked, the first bad one refusing the file, named.
pub fn parse_csv(text: &str) -> Result<Vec<(u64, String, EventFields)>, AppError> {
    let t = crate::http::csvfile::Table::read(text)?;
    let (cu, ck) = (t.need("unit_code", "file")?, t.need("kind", "file")?);
    let (ct, cs) = (t.need("title", "file")?, t.need("starts_on", "file")?);
    let opt = [
        "topic",
        "place",
        "organiser",
        "ends_on",
        "opening_days",
        "citizens_served",
        "served_male",
        "served_female",
        "served_under_18",
        "served_18_59",
        "served_60_plus",
    ]
    .map(|c| t.column(c));
    let mut out = Vec::new();
    for (row, r) in t.rows() {
        let v: Vec<String> = opt.iter().map(|c| c.map(|c| r.get(c)).unwrap_or_default()).collect();
        let (kind, title, starts_on) = (r.get(ck), r.get(ct), r.get(cs));
        let f = EventFields::parse(&EventForm {
            kind: &kind,
            title: &title,
            topic: &v[0],
            place: &v[1],
            organiser: &v[2],
            starts_on: &starts_on,
            ends_on: &v[3],
            opening_days: &v[4],
            citizens_served: &v[5],
            by_sex: [&v[6], &v[7]],
            by_age: [&v[8], &v[9], &v[10]],
        })
        .map_err(|e| AppError::from(e).at_row(row))?;
        out.push((row, r.get(cu), f));
    }
    if out.is_empty() {
        return Err(Invalid::field("required", "file").into());
    }
    Ok(out)
}

/// Records the events of a file, all or none, in units the principal runs the programmes of.
pub async fn import(st: &AppState, p: &Principal, rows: Vec<(u64, String, EventFields)>) -> Result<Vec<i64>, AppError> {
    let mut units: std::collections::HashMap<String, i64> = std::collections::HashMap::new();
    let mut news = Vec::with_capacity(rows.len());
    for (row, code, f) in rows {
        let unit_id = match units.get(code.trim()) {
            Some(id) => *id,
            None => {
                let u = crate::units::for_action(&st.db, p, &code, "unit_code", Action::ManageProgrammes)
                    .await
                    .map_err(|e| e.at_row(row))?;
                units.insert(code.trim().to_owned(), u.id);
                u.id
            }
        };
        news.push((unit_id, f));
    }
    let ids = events::create_many(&st.db, &news, Some(p.id)).await?;
    audit::log(&st.db, p, "event.import", "event", ids.first().copied().unwrap_or(0), &format!("{} events", ids.len()))
        .await;
    Ok(ids)
}

/// An event in sight of the principal.
pub async fn visible(st: &AppState, p: &Principal, id: i64) -> Result<Event, AppError> {
    let e = events::get(&st.db, id).await?;
    crate::auth::ensure_visible(p, &e.path())?;
    Ok(e)
}

/// An event the principal runs the programmes of (404 when not in sight, 403 when only seen).
async fn managed(st: &AppState, p: &Principal, id: i64) -> Result<Event, AppError> {
    let e = visible(st, p, id).await?;
    if !can(p, Action::ManageProgrammes, &e.path()) {
        return Err(AppError::forbidden());
    }
    Ok(e)
}

/// Changes an event's fields (its unit and attendance stay).
pub async fn update(st: &AppState, p: &Principal, id: i64, f: &EventFields) -> Result<(), AppError> {
    managed(st, p, id).await?;
    events::update(&st.db, id, f).await?;
    audit::log(&st.db, p, "event.update", "event", id, &f.title).await;
    Ok(())
}

/// Removes an event recorded by mistake, with its attendance.
pub async fn delete(st: &AppState, p: &Principal, id: i64) -> Result<(), AppError> {
    let e = managed(st, p, id).await?;
    events::delete(&st.db, id).await?;
    audit::log(&st.db, p, "event.delete", "event", id, &e.title).await;
    Ok(())
}

/// Takes an event's attendance.
pub async fn set_attendance(st: &AppState, p: &Principal, id: i64, members: &[i64]) -> Result<(), AppError> {
    managed(st, p, id).await?;
    events::set_attendance(&st.db, id, members).await?;
    audit::log(&st.db, p, "event.attendance", "event", id, &format!("{} members", members.len())).await;
    Ok(())
}

/// The active members of an area's teams with their latest training, when the principal may
/// see people there (logged); `None` otherwise.
pub async fn members_training(
    st: &AppState,
    p: &Principal,
    within: Option<&ngoso_core::unit::UnitPath>,
) -> Result<Option<Vec<MemberTraining>>, AppError> {
    match access::area::<may::ViewPersonalData>(&p.actor(), within) {
        Ok(g) => Ok(Some(events::members_training(&st.db, &g).await?)),
        Err(_) => Ok(None),
    }
}

/// The day twelve months before today: trainings since it count.
pub fn year_ago() -> NaiveDate {
    let today = ngoso_core::calendar::local_day(ngoso_store::now());
    today.checked_sub_months(chrono::Months::new(12)).unwrap_or(today)
}

/// The list's filters.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct EventQuery {
    /// A unit's code (default: the caller's scope).
    #[serde(default)]
    pub unit: String,
    /// A year (default: this one).
    #[serde(default)]
    pub year: String,
    /// A kind.
    #[serde(default)]
    pub kind: String,
    /// `json` (default) or `csv`.
    #[serde(default)]
    pub format: String,
}

impl EventQuery {
    /// The area, the year's first and last day, and the kind, checked.
    pub async fn parts(
        &self,
        st: &AppState,
        p: &Principal,
    ) -> Result<(ngoso_core::unit::UnitPath, i32, Option<String>), AppError> {
        let within = match self.unit.trim() {
            "" => match p.unit_id {
                Some(u) => ngoso_store::units::get(&st.db, u).await?.unit_path(),
                None => ngoso_core::unit::UnitPath::from_stored("/".into()),
            },
            code => crate::units::visible_by_code(&st.db, p, code).await?.unit_path(),
        };
        let this_year = chrono::Datelike::year(&ngoso_store::teams::today());
        let year = match self.year.trim() {
            "" => this_year,
            y => y.parse::<i32>().ok().filter(|y| (1990..=2100).contains(y)).ok_or_else(|| {
                Invalid::field("year-invalid", "year").with_detail(y.chars().take(10).collect::<String>())
            })?,
        };
        let kind = match self.kind.trim() {
            "" => None,
            k => Some(ngoso_core::programme::EventKind::parse(k)?.as_str().to_owned()),
        };
        Ok((within, year, kind))
    }
}

/// The year asked for (this one by default) and the events of the area in it.
pub async fn list(st: &AppState, p: &Principal, q: &EventQuery) -> Result<(i32, Vec<Event>), AppError> {
    let (within, year, kind) = q.parts(st, p).await?;
    let (a, b) = (NaiveDate::from_ymd_opt(year, 1, 1), NaiveDate::from_ymd_opt(year, 12, 31));
    let (Some(a), Some(b)) = (a, b) else { return Ok((year, Vec::new())) };
    Ok((year, events::list(&st.db, &within, a, b, kind.as_deref()).await?))
}

/// The events as CSV (for Excel), as `list` finds them.
pub fn csv(list: &[Event]) -> axum::response::Response {
    let header: Vec<String> = [
        "id",
        "unit_code",
        "unit",
        "kind",
        "title",
        "topic",
        "place",
        "organiser",
        "starts_on",
        "ends_on",
        "opening_days",
        "citizens_served",
        "served_male",
        "served_female",
        "served_under_18",
        "served_18_59",
        "served_60_plus",
        "attendees",
    ]
    .map(String::from)
    .into();
    let n = |v: Option<i64>| v.map(|v| v.to_string()).unwrap_or_default();
    let rows: Vec<Vec<String>> = list
        .iter()
        .map(|e| {
            vec![
                e.id.to_string(),
                e.unit_code.clone(),
                e.unit_name.clone(),
                e.kind.clone(),
                e.title.clone(),
                e.topic.clone(),
                e.place.clone(),
                e.organiser.clone(),
                e.starts_on.to_string(),
                e.ends_on.map(|d| d.to_string()).unwrap_or_default(),
                e.opening_days.clone(),
                e.citizens_served.to_string(),
                n(e.served_male),
                n(e.served_female),
                n(e.served_under_18),
                n(e.served_18_59),
                n(e.served_60_plus),
                e.attendees.to_string(),
            ]
        })
        .collect();
    crate::http::csvfile::download("events.csv", &header, &rows)
}
