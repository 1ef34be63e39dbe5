//! The events of an area, an event's page with its attendance, the form, and the members'
//! latest trainings.

use askama::Template;
use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use ngoso_core::auth::Action;
use ngoso_core::programme::{EventFields, EventForm, EventKind};
use ngoso_store::programme::events::{self, Event};

use super::EventQuery;
use crate::AppState;
use crate::auth::{PageUser, can, can_anywhere};
use crate::http::error::{AppError, message};
use crate::http::extract::{CsrfFields, Fields, Path, Query};
use crate::http::i18n::format_date;
use crate::http::render::{Ctx, PageCtx, render, render_status};

fn kind_label(ctx: &PageCtx, k: &str) -> String {
    ctx.t(&format!("event-kind-{k}"))
}

fn when(e: &Event) -> String {
    match e.ends_on {
        Some(end) if end != e.starts_on => format!("{} – {}", format_date(&e.starts_on), format_date(&end)),
        _ => format_date(&e.starts_on),
    }
}

#[derive(Template)]
#[template(path = "events/index.html")]
struct Index {
    ctx: PageCtx,
    q: EventQuery,
    year: i32,
    kinds: Vec<(String, String)>,
    /// (id, title, kind, unit, when, attendees, citizens served).
    rows: Vec<(i64, String, String, String, String, i64, i64)>,
    can_add: bool,
    error: Option<String>,
    notice: Option<String>,
}

#[derive(serde::Deserialize, Default)]
pub struct ImportedQuery {
    /// How many events a file just recorded.
    #[serde(default)]
    imported: Option<u32>,
}

/// `GET /app/events`.
pub(super) async fn index(
    State(st): State<AppState>,
    Ctx(ctx): Ctx,
    PageUser(p): PageUser,
    Query(q): Query<EventQuery>,
    Query(i): Query<ImportedQuery>,
) -> Result<Response, AppError> {
    let kinds = EventKind::ALL.iter().map(|k| (k.as_str().to_owned(), kind_label(&ctx, k.as_str()))).collect();
    let can_add = can_anywhere(&p, Action::ManageProgrammes);
    let notice = i.imported.map(|n| ctx.tr.t1("events-imported", "count", ctx.tr.num(&i64::from(n))));
    let this_year = chrono::Datelike::year(&ngoso_store::teams::today());
    match super::list(&st, &p, &q).await {
        Ok((year, list)) => {
            let rows = list
                .iter()
                .map(|e| {
                    (
                        e.id,
                        e.title.clone(),
                        kind_label(&ctx, &e.kind),
                        e.unit_name.clone(),
                        when(e),
                        e.attendees,
                        e.citizens_served,
                    )
                })
                .collect();
            render(&Index { ctx, q, year, kinds, rows, can_add, error: None, notice })
        }
        Err(e) if e.is_refusal() => {
            let msg = message(ctx.lang, e.info());
            render_status(
                e.info().status,
                &Index { ctx, q, year: this_year, kinds, rows: Vec::new(), can_add, error: Some(msg), notice: None },
            )
        }
        Err(e) => Err(e),
    }
}

#[derive(Template)]
#[template(path = "events/form.html")]
struct FormPage {
    ctx: PageCtx,
    /// The event edited (none: a new one).
    id: Option<i64>,
    f: Fields,
    kinds: Vec<(String, String)>,
    error: Option<String>,
}

/// `GET /app/events/new`.
pub(super) async fn new_form(
    State(st): State<AppState>,
    Ctx(ctx): Ctx,
    PageUser(p): PageUser,
) -> Result<Response, AppError> {
    if !can_anywhere(&p, Action::ManageProgrammes) {
        return Err(AppError::forbidden());
    }
    let unit = match p.unit_id {
        Some(u) => ngoso_store::units::get(&st.db, u).await?.code,
        None => String::new(),
    };
    let today = format_date(&ngoso_core::calendar::local_day(ngoso_store::now()));
    let f = Fields(vec![("unit".into(), unit), ("kind".into(), "training".into()), ("starts_on".into(), today)]);
    let kinds = EventKind::ALL.iter().map(|k| (k.as_str().to_owned(), kind_label(&ctx, k.as_str()))).collect();
    render(&FormPage { ctx, id: None, f, kinds, error: None })
}

fn parse(f: &Fields) -> Result<EventFields, ngoso_core::Invalid> {
    EventFields::parse(&EventForm {
        kind: f.get("kind"),
        title: f.get("title"),
        topic: f.get("topic"),
        place: f.get("place"),
        organiser: f.get("organiser"),
        starts_on: f.get("starts_on"),
        ends_on: f.get("ends_on"),
        opening_days: f.get("opening_days"),
        citizens_served: f.get("citizens_served"),
        by_sex: [f.get("served_male"), f.get("served_female")],
        by_age: [f.get("served_under_18"), f.get("served_18_59"), f.get("served_60_plus")],
    })
}

/// `GET /app/events/{id}/edit`: the form with what was recorded.
pub(super) async fn edit_form(
    State(st): State<AppState>,
    Ctx(ctx): Ctx,
    PageUser(p): PageUser,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    let e = super::visible(&st, &p, id).await?;
    if !can(&p, Action::ManageProgrammes, &e.path()) {
        return Err(AppError::forbidden());
    }
    let n = |v: Option<i64>| v.map(|v| v.to_string()).unwrap_or_default();
    let f = Fields(vec![
        ("unit".into(), e.unit_code.clone()),
        ("kind".into(), e.kind.clone()),
        ("title".into(), e.title.clone()),
        ("topic".into(), e.topic.clone()),
        ("place".into(), e.place.clone()),
        ("organiser".into(), e.organiser.clone()),
        ("starts_on".into(), format_date(&e.starts_on)),
        ("ends_on".into(), e.ends_on.as_ref().map(format_date).unwrap_or_default()),
        ("opening_days".into(), e.opening_days.replace(',', ", ")),
        ("citizens_served".into(), if e.citizens_served > 0 { e.citizens_served.to_string() } else { String::new() }),
        ("served_male".into(), n(e.served_male)),
        ("served_female".into(), n(e.served_female)),
        ("served_under_18".into(), n(e.served_under_18)),
        ("served_18_59".into(), n(e.served_18_59)),
        ("served_60_plus".into(), n(e.served_60_plus)),
    ]);
    let kinds = EventKind::ALL.iter().map(|k| (k.as_str().to_owned(), kind_label(&ctx, k.as_str()))).collect();
    render(&FormPage { ctx, id: Some(id), f, kinds, error: None })
}

/// `POST /app/events/{id}`: the form sent back.
pub(super) async fn update(
    State(st): State<AppState>,
    Ctx(ctx): Ctx,
    PageUser(p): PageUser,
    Path(id): Path<i64>,
    CsrfFields(f): CsrfFields,
) -> Result<Response, AppError> {
    let r = match parse(&f) {
        Ok(fields) => super::update(&st, &p, id, &fields).await,
        Err(e) => Err(e.into()),
    };
    match r {
        Ok(()) => Ok(Redirect::to(&format!("/app/events/{id}")).into_response()),
        Err(e) if e.is_refusal() && e.info().status != axum::http::StatusCode::NOT_FOUND => {
            let msg = message(ctx.lang, e.info());
            let kinds = EventKind::ALL.iter().map(|k| (k.as_str().to_owned(), kind_label(&ctx, k.as_str()))).collect();
            render_status(e.info().status, &FormPage { ctx, id: Some(id), f, kinds, error: Some(msg) })
        }
        Err(e) => Err(e),
    }
}

/// `POST /app/events/{id}/delete`.
pub(super) async fn delete(
    State(st): State<AppState>,
    PageUser(p): PageUser,
    Path(id): Path<i64>,
    CsrfFields(_f): CsrfFields,
) -> Result<Response, AppError> {
    super::delete(&st, &p, id).await?;
    Ok(Redirect::to("/app/events").into_response())
}

/// `POST /app/events`.
pub(super) async fn create(
    State(st): State<AppState>,
    Ctx(ctx): Ctx,
    PageUser(p): PageUser,
    CsrfFields(f): CsrfFields,
) -> Result<Response, AppError> {
    let r = match parse(&f) {
        Ok(fields) => super::create(&st, &p, f.get("unit"), &fields, &[]).await,
        Err(e) => Err(e.into()),
    };
    match r {
        Ok(id) => Ok(Redirect::to(&format!("/app/events/{id}")).into_response()),
        Err(e) if e.is_refusal() => {
            let msg = message(ctx.lang, e.info());
            let kinds = EventKind::ALL.iter().map(|k| (k.as_str().to_owned(), kind_label(&ctx, k.as_str()))).collect();
            render_status(e.info().status, &FormPage { ctx, id: None, f, kinds, error: Some(msg) })
        }
        Err(e) => Err(e),
    }
}

#[derive(Template)]
#[template(path = "events/show.html")]
struct Show {
    ctx: PageCtx,
    e: Event,
    kind: String,
    when: String,
    days: String,
    /// The members one may tick: (id, name, team, attended); none when names are hidden.
    members: Option<Vec<(i64, String, String, bool)>>,
    can_manage: bool,
    error: Option<String>,
    saved: bool,
}

async fn show_page(
    st: &AppState,
    ctx: PageCtx,
    p: &ngoso_store::users::Principal,
    id: i64,
    error: Option<String>,
    saved: bool,
) -> Result<Show, AppError> {
    let e = super::visible(st, p, id).await?;
    let attended = events::attendee_ids(&st.db, id).await?;
    let path = e.path();
    let members = super::members_training(st, p, Some(&path)).await?.map(|v| {
        v.into_iter().map(|m| (m.member_id, m.full_name, m.team_name, attended.contains(&m.member_id))).collect()
    });
    let days = e
        .opening_days
        .split(',')
        .filter(|d| !d.is_empty())
        .map(|d| ctx.t(&format!("weekday-{d}")))
        .collect::<Vec<_>>()
        .join(", ");
    Ok(Show {
        kind: kind_label(&ctx, &e.kind),
        when: when(&e),
        can_manage: can(p, Action::ManageProgrammes, &path),
        days,
        members,
        error,
        saved,
        e,
        ctx,
    })
}

#[derive(serde::Deserialize)]
pub(super) struct Saved {
    #[serde(default)]
    saved: Option<String>,
}

/// `GET /app/events/{id}`.
pub(super) async fn show(
    State(st): State<AppState>,
    Ctx(ctx): Ctx,
    PageUser(p): PageUser,
    Path(id): Path<i64>,
    Query(s): Query<Saved>,
) -> Result<Response, AppError> {
    render(&show_page(&st, ctx, &p, id, None, s.saved.is_some()).await?)
}

/// `POST /app/events/{id}/attendance`: the boxes ticked.
pub(super) async fn attendance(
    State(st): State<AppState>,
    Ctx(ctx): Ctx,
    PageUser(p): PageUser,
    Path(id): Path<i64>,
    CsrfFields(f): CsrfFields,
) -> Result<Response, AppError> {
    let members: Vec<i64> = f.0.iter().filter(|(k, _)| k == "member").filter_map(|(_, v)| v.parse().ok()).collect();
    match super::set_attendance(&st, &p, id, &members).await {
        Ok(()) => Ok(Redirect::to(&format!("/app/events/{id}?saved=1")).into_response()),
        Err(e) if e.is_refusal() && e.info().status != axum::http::StatusCode::NOT_FOUND => {
            let msg = message(ctx.lang, e.info());
            render_status(e.info().status, &show_page(&st, ctx, &p, id, Some(msg), false).await?)
        }
        Err(e) => Err(e),
    }
}

#[derive(Template)]
#[template(path = "events/training.html")]
struct Training {
    ctx: PageCtx,
    /// (name, team, latest training) of those with none in twelve months.
    untrained: Vec<(String, String, String)>,
    /// Trained of all, as shown.
    share: String,
    hidden: bool,
    /// The unit asked for (for the CSV's link).
    unit: String,
}

/// `GET /app/events/training?unit=`: who has had no training in the last twelve months.
pub(super) async fn training(
    State(st): State<AppState>,
    Ctx(ctx): Ctx,
    PageUser(p): PageUser,
    Query(q): Query<EventQuery>,
) -> Result<Response, AppError> {
    let within = match q.unit.trim() {
        "" => None,
        code => Some(crate::units::visible_by_code(&st.db, &p, code).await?.unit_path()),
    };
    let since = super::year_ago();
    let Some(list) = super::members_training(&st, &p, within.as_ref()).await? else {
        return render(&Training {
            ctx,
            untrained: Vec::new(),
            share: String::new(),
            hidden: true,
            unit: String::new(),
        });
    };
    let total = list.len();
    let untrained: Vec<(String, String, String)> = list
        .into_iter()
        .filter(|m| m.last_training.is_none_or(|d| d < since))
        .map(|m| (m.full_name, m.team_name, m.last_training.as_ref().map(format_date).unwrap_or_else(|| "—".into())))
        .collect();
    let share = format!("{} / {}", total - untrained.len(), total);
    render(&Training { share, untrained, hidden: false, unit: crate::http::render::urlencode(q.unit.trim()), ctx })
}

/// `POST /app/events/import`: a CSV of events, all or none; the list shows them, or the
/// reason the file was refused.
pub(super) async fn import(
    State(st): State<AppState>,
    Ctx(ctx): Ctx,
    PageUser(p): PageUser,
    crate::http::extract::CsrfUpload(up): crate::http::extract::CsrfUpload,
) -> Result<Response, AppError> {
    let r = match super::parse_csv(up.fields.get("file")) {
        Ok(rows) => super::import(&st, &p, rows).await,
        Err(e) => Err(e),
    };
    match r {
        Ok(ids) => Ok(Redirect::to(&format!("/app/events?imported={}", ids.len())).into_response()),
        Err(e) if e.is_refusal() => {
            let msg = message(ctx.lang, e.info());
            let status = e.info().status;
            let q = EventQuery::default();
            let kinds = EventKind::ALL.iter().map(|k| (k.as_str().to_owned(), kind_label(&ctx, k.as_str()))).collect();
            let this_year = chrono::Datelike::year(&ngoso_store::teams::today());
            render_status(
                status,
                &Index {
                    ctx,
                    q,
                    year: this_year,
                    kinds,
                    rows: Vec::new(),
                    can_add: true,
                    error: Some(msg),
                    notice: None,
                },
            )
        }
        Err(e) => Err(e),
    }
}
