//! Pages of households: the list, the record, registration, residents, consent, deletion
//! requests, corrections, and the visit form.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use ngoso_core::auth::{Action, Role};
use ngoso_core::outreach::{Barrier, Barriers, VisitResult};
use ngoso_store::households::{self as store, Household, PURPOSES};
use ngoso_store::units::Unit;
use ngoso_store::users::Principal;
use serde::Deserialize;

use super::fields::Fields;
use crate::AppState;
use crate::auth::csrf::Csrf;
use crate::auth::{PageUser, can, ensure};
use crate::error::{AppError, message};
use crate::households::{self as ops, HouseholdInput, ResidentInput};
use crate::pages::{Ctx, PageCtx, render, render_status};
use crate::visits::{OutcomeJson, Recorder, VisitJson};

/// Rows per page of the list.
const PAGE: i64 = 100;

struct Row {
    id: i64,
    code: String,
    unit_name: String,
    head_name: Option<String>,
    address: Option<String>,
    visits: i64,
}

#[derive(Template)]
#[template(path = "households/index.html")]
struct Index {
    ctx: PageCtx,
    unit: Unit,
    q: String,
    q_enc: String,
    households: Vec<Row>,
    next_page: Option<i64>,
    can_add: bool,
}

#[derive(Deserialize)]
pub struct IndexQuery {
    unit: Option<i64>,
    #[serde(default)]
    q: String,
    page: Option<i64>,
}

/// `GET /app/households?unit=&q=`: households of an area (personal data: the read is logged).
pub async fn index(
    State(st): State<AppState>,
    Ctx(ctx): Ctx,
    PageUser(p): PageUser,
    Query(q): Query<IndexQuery>,
) -> Result<Response, AppError> {
    let unit_id = match q.unit.or(p.unit_id) {
        Some(id) => id,
        None => return Ok(Redirect::to("/app/units").into_response()),
    };
    let unit = crate::units::visible(&st.db, &p, unit_id).await?;
    ensure(&p, Action::ViewPersonalData, &unit.unit_path())?;
    let page = q.page.unwrap_or(0).max(0);
    let list = store::search(&st.db, &unit.unit_path(), &q.q, PAGE + 1, page * PAGE).await?;
    crate::teams::log(&st.db, &p, "household.list", "unit", unit.id, &format!("{} rows", list.len())).await;
    let next_page = (list.len() as i64 > PAGE).then_some(page + 1);
    let households = list
        .into_iter()
        .take(PAGE as usize)
        .map(|h| Row {
            id: h.id,
            code: h.code,
            unit_name: h.unit_name,
            head_name: h.head_name,
            address: h.address,
            visits: h.visit_count as i64,
        })
        .collect();
    let can_add = can(&p, Action::EditHouseholds, &unit.unit_path());
    let q_enc = super::urlencode(&q.q);
    render(&Index { ctx, unit, q: q.q, q_enc, households, next_page, can_add })
}

#[derive(Default)]
struct FormValues {
    code: String,
    head_name: String,
    address: String,
    size: String,
    smartphones: String,
    consent_by: String,
}

#[derive(Template)]
#[template(path = "households/form.html")]
struct FormPage {
    ctx: PageCtx,
    heading: String,
    action: String,
    back: String,
    back_label: String,
    creating: bool,
    form: FormValues,
    barriers: Vec<(&'static str, String, bool)>,
    purposes: Vec<(&'static str, String, bool)>,
    error: Option<String>,
}

fn barrier_choices(ctx: &PageCtx, set: Barriers) -> Vec<(&'static str, String, bool)> {
    Barrier::ALL.iter().map(|b| (b.as_str(), ctx.t(&format!("barrier-{}", b.as_str())), set.contains(*b))).collect()
}

fn purpose_choices(ctx: &PageCtx, chosen: &[&str]) -> Vec<(&'static str, String, bool)> {
    PURPOSES.iter().map(|p| (*p, ctx.t(&format!("purpose-{p}")), chosen.contains(p))).collect()
}

fn input_of(f: &Fields) -> HouseholdInput {
    let purposes = f.all("purpose").join(",");
    HouseholdInput {
        code: f.get("code").to_owned(),
        address: f.opt("address"),
        head_name: f.opt("head_name"),
        size: f.get("size").to_owned(),
        smartphones: f.get("smartphones").to_owned(),
        barriers: f.all("barrier").join(","),
        consent_by: f.opt("consent_by"),
        consent_purposes: Some(purposes).filter(|p| !p.is_empty()),
    }
}

fn values_of(f: &Fields) -> FormValues {
    FormValues {
        code: f.get("code").to_owned(),
        head_name: f.get("head_name").to_owned(),
        address: f.get("address").to_owned(),
        size: f.get("size").to_owned(),
        smartphones: f.get("smartphones").to_owned(),
        consent_by: f.get("consent_by").to_owned(),
    }
}

#[derive(Deserialize)]
pub struct UnitQuery {
    unit: i64,
}

fn new_page(
    ctx: PageCtx,
    unit: &Unit,
    form: FormValues,
    set: Barriers,
    purposes: &[&str],
    error: Option<String>,
) -> FormPage {
    FormPage {
        heading: ctx.t("households-new"),
        action: format!("/app/households/new?unit={}", unit.id),
        back: format!("/app/households?unit={}", unit.id),
        back_label: unit.name.clone(),
        creating: true,
        barriers: barrier_choices(&ctx, set),
        purposes: purpose_choices(&ctx, purposes),
        form,
        error,
        ctx,
    }
}

/// `GET /app/households/new?unit=ID`.
pub async fn new_form(
    State(st): State<AppState>,
    Ctx(ctx): Ctx,
    PageUser(p): PageUser,
    Query(q): Query<UnitQuery>,
) -> Result<Response, AppError> {
    let unit = crate::units::visible(&st.db, &p, q.unit).await?;
    ensure(&p, Action::EditHouseholds, &unit.unit_path())?;
    let form = FormValues { size: "1".into(), smartphones: "0".into(), ..Default::default() };
    render(&new_page(ctx, &unit, form, Barriers::default(), &["outreach", "statistics"], None))
}

/// `POST /app/households/new?unit=ID`.
pub async fn create(
    State(st): State<AppState>,
    Ctx(ctx): Ctx,
    PageUser(p): PageUser,
    csrf: Csrf,
    Query(q): Query<UnitQuery>,
    f: Fields,
) -> Result<Response, AppError> {
    csrf.verify(f.get("csrf"))?;
    let unit = crate::units::visible(&st.db, &p, q.unit).await?;
    match ops::create(&st.db, &p, unit.id, &input_of(&f)).await {
        Ok(id) => Ok(Redirect::to(&format!("/app/households/{id}?saved=1")).into_response()),
        Err(e) if matches!(e.info().status, StatusCode::UNPROCESSABLE_ENTITY | StatusCode::CONFLICT) => {
            let msg = message(ctx.lang, e.info());
            let set = Barriers::parse_list(&f.all("barrier").join(",")).unwrap_or_default();
            let page = new_page(ctx, &unit, values_of(&f), set, &f.all("purpose"), Some(msg));
            render_status(e.info().status, &page)
        }
        Err(e) => Err(e),
    }
}

fn edit_page(ctx: PageCtx, h: &Household, form: FormValues, set: Barriers, error: Option<String>) -> FormPage {
    FormPage {
        heading: ctx.t("household-edit"),
        action: format!("/app/households/{}/edit", h.id),
        back: format!("/app/households/{}", h.id),
        back_label: h.head_name.clone().unwrap_or_else(|| h.code.clone()),
        creating: false,
        barriers: barrier_choices(&ctx, set),
        purposes: purpose_choices(&ctx, &[]),
        form,
        error,
        ctx,
    }
}

/// `GET /app/households/{id}/edit`.
pub async fn edit_form(
    State(st): State<AppState>,
    Ctx(ctx): Ctx,
    PageUser(p): PageUser,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    let h = ops::open(&st.db, &p, id).await?;
    ensure(&p, Action::EditHouseholds, &h.path())?;
    let form = FormValues {
        code: h.code.clone(),
        head_name: h.head_name.clone().unwrap_or_default(),
        address: h.address.clone().unwrap_or_default(),
        size: h.size.to_string(),
        smartphones: h.smartphones.to_string(),
        consent_by: String::new(),
    };
    let set = h.barrier_set();
    render(&edit_page(ctx, &h, form, set, None))
}

/// `POST /app/households/{id}/edit`.
pub async fn edit(
    State(st): State<AppState>,
    Ctx(ctx): Ctx,
    PageUser(p): PageUser,
    csrf: Csrf,
    Path(id): Path<i64>,
    f: Fields,
) -> Result<Response, AppError> {
    csrf.verify(f.get("csrf"))?;
    match ops::update(&st.db, &p, id, &input_of(&f)).await {
        Ok(()) => Ok(Redirect::to(&format!("/app/households/{id}?saved=1")).into_response()),
        Err(e) if e.info().status == StatusCode::UNPROCESSABLE_ENTITY => {
            let h = ops::open(&st.db, &p, id).await?;
            let msg = message(ctx.lang, e.info());
            let set = Barriers::parse_list(&f.all("barrier").join(",")).unwrap_or_default();
            render_status(StatusCode::UNPROCESSABLE_ENTITY, &edit_page(ctx, &h, values_of(&f), set, Some(msg)))
        }
        Err(e) => Err(e),
    }
}

struct StatusRow {
    service: String,
    subject: String,
    status: String,
}

struct ResidentRow {
    id: i64,
    name: String,
    birth_year: String,
    sex: String,
    youth: bool,
    cccd: String,
    phone: String,
}

struct ConsentRow {
    id: i64,
    text: String,
    withdrawn: Option<String>,
}

#[derive(Template)]
#[template(path = "households/show.html")]
struct Show {
    ctx: PageCtx,
    h: Household,
    barrier_names: Vec<String>,
    statuses: Vec<StatusRow>,
    residents: Vec<ResidentRow>,
    visits: Vec<ngoso_store::visits::VisitRow>,
    consents: Vec<ConsentRow>,
    purposes: Vec<(&'static str, String, bool)>,
    correction_options: Vec<(String, String)>,
    can_edit: bool,
    can_visit: bool,
    can_correct: bool,
    notice: Option<String>,
    error: Option<String>,
}

async fn show_page(
    st: &AppState,
    ctx: PageCtx,
    p: &Principal,
    id: i64,
    notice: Option<String>,
    error: Option<String>,
) -> Result<Show, AppError> {
    let h = ops::open(&st.db, p, id).await?;
    let english = ctx.lang == crate::i18n::Lang::En;
    let cat = st.catalog().await?;
    let residents = store::residents(&st.db, id).await?;
    let name_of = |rid: i64| -> String {
        if rid == 0 {
            return ctx.t("nav-households");
        }
        residents
            .iter()
            .find(|r| r.id == rid)
            .map(|r| r.full_name.clone().unwrap_or_else(|| format!("#{}", r.id)))
            .unwrap_or_else(|| format!("#{rid}"))
    };
    let statuses = ngoso_store::visits::statuses_of_household(&st.db, id)
        .await?
        .into_iter()
        .filter_map(|s| {
            let (svc, status) = cat.status_by_id(s.status_id)?;
            Some(StatusRow {
                service: svc.name(english).to_owned(),
                subject: name_of(s.resident_id),
                status: status.name(english).to_owned(),
            })
        })
        .collect();
    let consents = store::consents(&st.db, id)
        .await?
        .into_iter()
        .map(|c| {
            let who = if c.given_by.is_empty() { "—".to_owned() } else { c.given_by.clone() };
            let purposes: Vec<String> = c.purposes.split(',').map(|x| ctx.t(&format!("purpose-{x}"))).collect();
            let subject = c.resident_id.map(|r| format!(" · {}", name_of(r))).unwrap_or_default();
            ConsentRow {
                id: c.id,
                text: format!(
                    "{}{subject}",
                    crate::i18n::msg(
                        ctx.lang,
                        "household-consent-given",
                        &[("by", &who), ("purposes", &purposes.join(", ")), ("at", &ctx.tr.datetime(&c.given_at))]
                    )
                ),
                withdrawn: c.withdrawn_at.map(|w| ctx.tr.t1("household-consent-withdrawn", "at", ctx.tr.datetime(&w))),
            }
        })
        .collect();
    let resident_rows = residents
        .iter()
        .map(|r| ResidentRow {
            id: r.id,
            name: r.full_name.clone().unwrap_or_else(|| "—".into()),
            birth_year: r.birth_year.map(|y| y.to_string()).unwrap_or_default(),
            sex: r.sex.as_deref().map(|s| ctx.t(&format!("sex-{s}"))).unwrap_or_default(),
            youth: r.youth_union,
            cccd: r.cccd_last4.as_deref().map(|l| format!("********{l}")).unwrap_or_default(),
            phone: r.phone.clone().unwrap_or_default(),
        })
        .collect();
    let mut correction_options = Vec::new();
    for s in &cat.services {
        correction_options
            .push((format!("{}:", s.code), format!("{} — {}", s.name(english), ctx.t("household-not-started"))));
        for stt in &s.statuses {
            correction_options
                .push((format!("{}:{}", s.code, stt.code), format!("{} — {}", s.name(english), stt.name(english))));
        }
    }
    Ok(Show {
        barrier_names: h.barrier_set().iter().map(|b| ctx.t(&format!("barrier-{}", b.as_str()))).collect(),
        statuses,
        residents: resident_rows,
        visits: ngoso_store::visits::of_household(&st.db, id, 50).await?,
        consents,
        purposes: purpose_choices(&ctx, &[]),
        correction_options,
        can_edit: ops::can_edit(p, &h),
        can_visit: can(p, Action::RecordVisit, &h.path()),
        can_correct: ops::can_correct(p, &h),
        h,
        notice,
        error,
        ctx,
    })
}

#[derive(Deserialize)]
pub struct Done {
    saved: Option<String>,
}

/// `GET /app/households/{id}`: the record (the read is logged).
pub async fn show(
    State(st): State<AppState>,
    Ctx(ctx): Ctx,
    PageUser(p): PageUser,
    Path(id): Path<i64>,
    Query(q): Query<Done>,
) -> Result<Response, AppError> {
    let notice = q.saved.map(|s| if s == "visit" { ctx.t("visit-saved") } else { ctx.t("saved") });
    render(&show_page(&st, ctx, &p, id, notice, None).await?)
}

/// Sends the household's page back with an error message.
async fn refuse(st: &AppState, ctx: PageCtx, p: &Principal, id: i64, e: AppError) -> Result<Response, AppError> {
    if !matches!(e.info().status, StatusCode::UNPROCESSABLE_ENTITY | StatusCode::CONFLICT) {
        return Err(e);
    }
    let msg = message(ctx.lang, e.info());
    let status = e.info().status;
    render_status(status, &show_page(st, ctx, p, id, None, Some(msg)).await?)
}

/// `POST /app/households/{id}/residents`.
pub async fn add_resident(
    State(st): State<AppState>,
    Ctx(ctx): Ctx,
    PageUser(p): PageUser,
    csrf: Csrf,
    Path(id): Path<i64>,
    f: Fields,
) -> Result<Response, AppError> {
    csrf.verify(f.get("csrf"))?;
    let purposes = f.all("purpose").join(",");
    let input = ResidentInput {
        full_name: f.opt("full_name"),
        birth_year: f.opt("birth_year"),
        sex: f.opt("sex"),
        youth_union: f.opt("youth_union"),
        cccd: f.opt("cccd"),
        phone: f.opt("phone"),
        consent_by: f.opt("consent_by"),
        consent_purposes: Some(purposes).filter(|p| !p.is_empty()),
    };
    match ops::add_resident(&st.db, &p, id, &input, st.cfg.cccd_key.as_deref()).await {
        Ok(_) => Ok(Redirect::to(&format!("/app/households/{id}?saved=1")).into_response()),
        Err(e) => refuse(&st, ctx, &p, id, e).await,
    }
}

/// `POST /app/consents/{id}/withdraw`: the subject's personal data goes, the counts stay.
pub async fn withdraw_consent(
    State(st): State<AppState>,
    PageUser(p): PageUser,
    csrf: Csrf,
    Path(id): Path<i64>,
    f: Fields,
) -> Result<Response, AppError> {
    csrf.verify(f.get("csrf"))?;
    let household_id = store::consent(&st.db, id).await?.household_id;
    let h = store::get(&st.db, household_id).await?;
    crate::auth::ensure_visible(&p, &h.path())?;
    ensure(&p, Action::CorrectRecords, &h.path())?;
    store::withdraw_consent(&st.db, id).await?;
    crate::teams::log(&st.db, &p, "consent.withdraw", "household", household_id, &id.to_string()).await;
    Ok(Redirect::to(&format!("/app/households/{household_id}?saved=1")).into_response())
}

/// `POST /app/households/{id}/anonymize`: a deletion request.
pub async fn anonymize(
    State(st): State<AppState>,
    PageUser(p): PageUser,
    csrf: Csrf,
    Path(id): Path<i64>,
    f: Fields,
) -> Result<Response, AppError> {
    csrf.verify(f.get("csrf"))?;
    let h = store::get(&st.db, id).await?;
    crate::auth::ensure_visible(&p, &h.path())?;
    ensure(&p, Action::CorrectRecords, &h.path())?;
    store::anonymize_household(&st.db, id).await?;
    crate::teams::log(&st.db, &p, "household.anonymize", "household", id, "").await;
    Ok(Redirect::to(&format!("/app/households/{id}?saved=1")).into_response())
}

/// `POST /app/households/{id}/correct`: an officer's correction of a status.
pub async fn correct(
    State(st): State<AppState>,
    Ctx(ctx): Ctx,
    PageUser(p): PageUser,
    csrf: Csrf,
    Path(id): Path<i64>,
    f: Fields,
) -> Result<Response, AppError> {
    csrf.verify(f.get("csrf"))?;
    let (service, status) = f.get("target").split_once(':').unwrap_or((f.get("target"), ""));
    let resident = f.get("resident_id").parse::<i64>().ok().filter(|r| *r != 0);
    let status = Some(status).filter(|s| !s.is_empty());
    match ops::correct(&st, &p, id, service, resident, status, f.get("reason")).await {
        Ok(()) => Ok(Redirect::to(&format!("/app/households/{id}?saved=1")).into_response()),
        Err(e) => refuse(&st, ctx, &p, id, e).await,
    }
}

struct OutcomeRow {
    label: String,
    field: String,
    options: Vec<(String, String)>,
}

#[derive(Template)]
#[template(path = "households/visit.html")]
struct VisitPage {
    ctx: PageCtx,
    h: Household,
    visit_id: String,
    teams: Vec<(i64, String)>,
    results: Vec<(&'static str, String)>,
    outcome_rows: Vec<OutcomeRow>,
    barriers: Vec<(&'static str, String)>,
    error: Option<String>,
}

/// The teams the principal may record for at this household.
async fn recording_teams(st: &AppState, p: &Principal, h: &Household) -> Result<Vec<(i64, String)>, AppError> {
    let teams = if p.role == Role::Officer {
        ngoso_store::teams::list(&st.db, crate::auth::scope_path(p)).await?
    } else {
        ngoso_store::teams::of_user(&st.db, p.id).await?
    };
    Ok(teams.into_iter().filter(|t| t.path().contains(&h.path())).map(|t| (t.id, t.name)).collect())
}

async fn visit_page(
    st: &AppState,
    ctx: PageCtx,
    p: &Principal,
    id: i64,
    error: Option<String>,
) -> Result<VisitPage, AppError> {
    let h = ops::open(&st.db, p, id).await?;
    ensure(p, Action::RecordVisit, &h.path())?;
    let teams = recording_teams(st, p, &h).await?;
    if teams.is_empty() {
        return Err(AppError::forbidden());
    }
    let english = ctx.lang == crate::i18n::Lang::En;
    let cat = st.catalog().await?;
    let residents = store::residents(&st.db, id).await?;
    let mut outcome_rows = Vec::new();
    for s in cat.services.iter().filter(|s| s.active) {
        let options: Vec<(String, String)> =
            s.statuses.iter().map(|x| (x.code.clone(), x.name(english).to_owned())).collect();
        if s.is_household() {
            outcome_rows.push(OutcomeRow {
                label: s.name(english).to_owned(),
                field: format!("o:{}:0", s.code),
                options,
            });
        } else {
            for r in &residents {
                let who = r.full_name.clone().unwrap_or_else(|| format!("#{}", r.id));
                outcome_rows.push(OutcomeRow {
                    label: format!("{} — {who}", s.name(english)),
                    field: format!("o:{}:{}", s.code, r.id),
                    options: options.clone(),
                });
            }
        }
    }
    Ok(VisitPage {
        // Time-ordered (version 7): new visits then land at the end of the index of visit
        // ids instead of on a random page of it.
        visit_id: uuid::Uuid::now_v7().to_string(),
        teams,
        results: VisitResult::ALL.iter().map(|r| (r.as_str(), ctx.t(&format!("result-{}", r.as_str())))).collect(),
        outcome_rows,
        barriers: Barrier::ALL.iter().map(|b| (b.as_str(), ctx.t(&format!("barrier-{}", b.as_str())))).collect(),
        h,
        error,
        ctx,
    })
}

/// `GET /app/households/{id}/visit`: the visit form (a fresh visit id makes a double submit harmless).
pub async fn visit_form(
    State(st): State<AppState>,
    Ctx(ctx): Ctx,
    PageUser(p): PageUser,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    render(&visit_page(&st, ctx, &p, id, None).await?)
}

/// `POST /app/households/{id}/visit`.
pub async fn visit(
    State(st): State<AppState>,
    Ctx(ctx): Ctx,
    PageUser(p): PageUser,
    csrf: Csrf,
    Path(id): Path<i64>,
    f: Fields,
) -> Result<Response, AppError> {
    csrf.verify(f.get("csrf"))?;
    let outcomes =
        f.0.iter()
            .filter(|(k, v)| k.starts_with("o:") && !v.is_empty())
            .filter_map(|(k, v)| {
                let mut parts = k.splitn(3, ':').skip(1);
                let service = parts.next()?.to_owned();
                let resident = parts.next()?.parse::<i64>().ok()?;
                Some(OutcomeJson { service, status: v.clone(), resident_id: Some(resident).filter(|r| *r != 0) })
            })
            .collect();
    let now = chrono::Utc::now().to_rfc3339();
    let v = VisitJson {
        id: f.get("id").to_owned(),
        household_id: id,
        team_id: f.get("team_id").parse().ok(),
        member_id: None,
        visited_at: now,
        result: f.get("result").to_owned(),
        barriers: f.all("barrier").into_iter().map(str::to_owned).collect(),
        note: f.get("note").to_owned(),
        outcomes,
    };
    let rec = std::sync::Arc::new(Recorder::new(p.clone()));
    let answer = crate::visits::record(&st, &rec, vec![(v.id.clone(), Ok(v))]).await?.remove(0);
    match answer.result {
        Ok(()) => Ok(Redirect::to(&format!("/app/households/{id}?saved=visit")).into_response()),
        Err(e) => {
            let e = AppError::from(e);
            let msg = message(ctx.lang, e.info());
            render_status(e.info().status, &visit_page(&st, ctx, &p, id, Some(msg)).await?)
        }
    }
}
