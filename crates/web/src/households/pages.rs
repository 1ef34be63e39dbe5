//! Pages of households: the list, the record, registration, residents, consent, deletion
//! requests, corrections, and the visit form.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use ngoso_core::auth::{self as access, Action};
use ngoso_core::outreach::{Barrier, Barriers};
use ngoso_store::households::{self as store, Household, HouseholdRecord, PURPOSES};
use ngoso_store::units::Unit;
use ngoso_store::users::Principal;
use serde::Deserialize;
use serde::de::IgnoredAny;

use crate::AppState;
use crate::auth::{PageUser, can, ensure};
use crate::households::{self as ops, HouseholdInput, ResidentInput};
use crate::http::error::{AppError, message};
use crate::http::extract::{CsrfForm, Path, Query};
use crate::http::render::{Ctx, PageCtx, render, render_status};

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
pub(crate) async fn index(
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
    let g = access::area::<access::may::ViewPersonalData>(&p.actor(), Some(&unit.unit_path()))?;
    let page = q.page.unwrap_or(0).max(0);
    // The store logs the read.
    let list = store::list(&st.db, &g, &q.q, PAGE + 1, store::Page::Offset(page * PAGE)).await?;
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
    let q_enc = crate::http::render::urlencode(&q.q);
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

/// The household form as posted: check boxes repeat their names.
#[derive(Deserialize)]
pub(crate) struct HouseholdForm {
    #[serde(default)]
    code: String,
    #[serde(default)]
    address: String,
    #[serde(default)]
    head_name: String,
    #[serde(default)]
    size: String,
    #[serde(default)]
    smartphones: String,
    #[serde(default)]
    barrier: Vec<String>,
    #[serde(default)]
    consent_by: String,
    #[serde(default)]
    purpose: Vec<String>,
}

/// An empty text field is no value.
fn opt(s: &str) -> Option<String> {
    Some(s.to_owned()).filter(|v| !v.trim().is_empty())
}

impl HouseholdForm {
    fn input(&self) -> HouseholdInput {
        HouseholdInput {
            code: self.code.clone(),
            address: opt(&self.address),
            head_name: opt(&self.head_name),
            size: self.size.clone(),
            smartphones: self.smartphones.clone(),
            barriers: self.barrier.join(","),
            consent_by: opt(&self.consent_by),
            consent_purposes: opt(&self.purpose.join(",")),
        }
    }

    fn values(&self) -> FormValues {
        FormValues {
            code: self.code.clone(),
            head_name: self.head_name.clone(),
            address: self.address.clone(),
            size: self.size.clone(),
            smartphones: self.smartphones.clone(),
            consent_by: self.consent_by.clone(),
        }
    }

    /// The barriers ticked, for the form sent back (unknown codes left out).
    fn barrier_set(&self) -> Barriers {
        Barriers::parse_list(&self.barrier.join(",")).unwrap_or_default()
    }

    fn purposes(&self) -> Vec<&str> {
        self.purpose.iter().map(String::as_str).collect()
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
pub(crate) async fn new_form(
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
pub(crate) async fn create(
    State(st): State<AppState>,
    Ctx(ctx): Ctx,
    PageUser(p): PageUser,
    Query(q): Query<UnitQuery>,
    CsrfForm(f): CsrfForm<HouseholdForm>,
) -> Result<Response, AppError> {
    let unit = crate::units::visible(&st.db, &p, q.unit).await?;
    match ops::create(&st.db, &p, unit.id, &f.input()).await {
        Ok(id) => Ok(Redirect::to(&format!("/app/households/{id}?saved=1")).into_response()),
        Err(e) if matches!(e.info().status, StatusCode::UNPROCESSABLE_ENTITY | StatusCode::CONFLICT) => {
            let msg = message(ctx.lang, e.info());
            let page = new_page(ctx, &unit, f.values(), f.barrier_set(), &f.purposes(), Some(msg));
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
pub(crate) async fn edit_form(
    State(st): State<AppState>,
    Ctx(ctx): Ctx,
    PageUser(p): PageUser,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    let h = ops::open(&st.db, &p, id, 0).await?.household;
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
pub(crate) async fn edit(
    State(st): State<AppState>,
    Ctx(ctx): Ctx,
    PageUser(p): PageUser,
    Path(id): Path<i64>,
    CsrfForm(f): CsrfForm<HouseholdForm>,
) -> Result<Response, AppError> {
    match ops::update(&st.db, &p, id, &f.input()).await {
        Ok(()) => Ok(Redirect::to(&format!("/app/households/{id}?saved=1")).into_response()),
        Err(e) if e.info().status == StatusCode::UNPROCESSABLE_ENTITY => {
            let h = ops::open(&st.db, &p, id, 0).await?.household;
            let msg = message(ctx.lang, e.info());
            let page = edit_page(ctx, &h, f.values(), f.barrier_set(), Some(msg));
            render_status(StatusCode::UNPROCESSABLE_ENTITY, &page)
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
    /// Groups a resident may be put in besides the youth union: (code, name).
    groups: Vec<(String, String)>,
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
    // The store logs the read.
    let HouseholdRecord { household: h, residents, consents, statuses, visits } = ops::open(&st.db, p, id, 50).await?;
    let english = ctx.lang == crate::http::i18n::Lang::En;
    let cat = st.catalog().await?;
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
    let statuses = statuses
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
    let consents = consents
        .into_iter()
        .map(|c| {
            let who = if c.given_by.is_empty() { "—".to_owned() } else { c.given_by.clone() };
            let purposes: Vec<String> = c.purposes.split(',').map(|x| ctx.t(&format!("purpose-{x}"))).collect();
            let subject = c.resident_id.map(|r| format!(" · {}", name_of(r))).unwrap_or_default();
            ConsentRow {
                id: c.id,
                text: format!(
                    "{}{subject}",
                    crate::http::i18n::msg(
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
        visits,
        consents,
        purposes: purpose_choices(&ctx, &[]),
        groups: ngoso_store::households::groups(&st.db)
            .await?
            .into_iter()
            .filter(|g| g.id != ngoso_core::rollup::YOUTH_UNION_GROUP)
            .map(|g| (g.code.clone(), g.name(english).to_owned()))
            .collect(),
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
pub(crate) async fn show(
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

/// The resident form as posted.
#[derive(Deserialize)]
pub(crate) struct ResidentForm {
    #[serde(default)]
    full_name: String,
    #[serde(default)]
    birth_year: String,
    #[serde(default)]
    sex: String,
    #[serde(default)]
    youth_union: String,
    #[serde(default)]
    cccd: String,
    #[serde(default)]
    phone: String,
    #[serde(default)]
    consent_by: String,
    #[serde(default)]
    purpose: Vec<String>,
    #[serde(default)]
    group: Vec<String>,
}

/// `POST /app/households/{id}/residents`.
pub(crate) async fn add_resident(
    State(st): State<AppState>,
    Ctx(ctx): Ctx,
    PageUser(p): PageUser,
    Path(id): Path<i64>,
    CsrfForm(f): CsrfForm<ResidentForm>,
) -> Result<Response, AppError> {
    let input = ResidentInput {
        full_name: opt(&f.full_name),
        birth_year: opt(&f.birth_year),
        sex: opt(&f.sex),
        youth_union: opt(&f.youth_union),
        cccd: opt(&f.cccd),
        phone: opt(&f.phone),
        consent_by: opt(&f.consent_by),
        consent_purposes: opt(&f.purpose.join(",")),
        groups: f.group,
    };
    match ops::add_resident(&st.db, &p, id, &input, st.cfg.cccd_key()).await {
        Ok(_) => Ok(Redirect::to(&format!("/app/households/{id}?saved=1")).into_response()),
        Err(e) => refuse(&st, ctx, &p, id, e).await,
    }
}

/// `POST /app/consents/{id}/withdraw`: the subject's personal data goes, the counts stay.
pub(crate) async fn withdraw_consent(
    State(st): State<AppState>,
    PageUser(p): PageUser,
    Path(id): Path<i64>,
    _: CsrfForm<IgnoredAny>,
) -> Result<Response, AppError> {
    let household_id = store::household_of(&st.db, None, Some(id)).await?;
    ops::granted::<access::may::CorrectRecords>(&st.db, &p, household_id).await?;
    store::withdraw_consent(&st.db, id).await?;
    crate::auth::audit::log(&st.db, &p, "consent.withdraw", "household", household_id, &id.to_string()).await;
    Ok(Redirect::to(&format!("/app/households/{household_id}?saved=1")).into_response())
}

/// `POST /app/households/{id}/anonymize`: a deletion request.
pub(crate) async fn anonymize(
    State(st): State<AppState>,
    PageUser(p): PageUser,
    Path(id): Path<i64>,
    _: CsrfForm<IgnoredAny>,
) -> Result<Response, AppError> {
    ops::granted::<access::may::CorrectRecords>(&st.db, &p, id).await?;
    store::anonymize_household(&st.db, id).await?;
    crate::auth::audit::log(&st.db, &p, "household.anonymize", "household", id, "").await;
    Ok(Redirect::to(&format!("/app/households/{id}?saved=1")).into_response())
}

#[derive(Deserialize)]
pub(crate) struct ResidentChoice {
    #[serde(default)]
    resident_id: i64,
}

/// `POST /app/households/{id}/residents/anonymize`: a deletion request for one resident of
/// this household.
pub(crate) async fn anonymize_resident(
    State(st): State<AppState>,
    PageUser(p): PageUser,
    Path(id): Path<i64>,
    CsrfForm(f): CsrfForm<ResidentChoice>,
) -> Result<Response, AppError> {
    if store::household_of(&st.db, Some(f.resident_id), None).await? != id {
        return Err(AppError::not_found());
    }
    ops::anonymize_resident(&st.db, &p, f.resident_id).await?;
    Ok(Redirect::to(&format!("/app/households/{id}?saved=1")).into_response())
}

/// The correction form: `target` is `SERVICE:STATUS` (an empty status: not started).
#[derive(Deserialize)]
pub(crate) struct CorrectionForm {
    #[serde(default)]
    target: String,
    #[serde(default)]
    resident_id: String,
    #[serde(default)]
    reason: String,
}

/// `POST /app/households/{id}/correct`: an officer's correction of a status.
pub(crate) async fn correct(
    State(st): State<AppState>,
    Ctx(ctx): Ctx,
    PageUser(p): PageUser,
    Path(id): Path<i64>,
    CsrfForm(f): CsrfForm<CorrectionForm>,
) -> Result<Response, AppError> {
    let (service, status) = f.target.split_once(':').unwrap_or((&f.target, ""));
    let resident = f.resident_id.parse::<i64>().ok().filter(|r| *r != 0);
    let status = Some(status).filter(|s| !s.is_empty());
    match ops::correct(&st, &p, id, service, resident, status, &f.reason).await {
        Ok(()) => Ok(Redirect::to(&format!("/app/households/{id}?saved=1")).into_response()),
        Err(e) => refuse(&st, ctx, &p, id, e).await,
    }
}
