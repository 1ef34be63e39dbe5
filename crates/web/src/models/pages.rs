//! The catalogue of creative models, a model's page, its form, and the moves and copy.

use askama::Template;
use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use ngoso_core::auth::Action;
use ngoso_core::programme::ModelStatus;
use ngoso_store::programme::{self, Model, evaluations};
use ngoso_store::users::Principal;

use super::{CatalogueQuery, LinkInput, ModelInput, PAGE};
use crate::AppState;
use crate::auth::{PageUser, can, can_anywhere};
use crate::http::error::{AppError, message};
use crate::http::extract::{CsrfFields, CsrfUpload, Fields, Path, Query};
use crate::http::i18n::{Lang, format_date};
use crate::http::render::{Ctx, PageCtx, render, render_status, urlencode};

/// Links a form offers.
const LINK_ROWS: usize = 3;

struct Row {
    id: i64,
    name: String,
    unit: String,
    kind: String,
    status: String,
    status_label: String,
    year: String,
    copied: bool,
}

#[derive(Template)]
#[template(path = "models/index.html")]
struct Index {
    ctx: PageCtx,
    q: CatalogueQuery,
    kinds: Vec<(String, String)>,
    statuses: Vec<(String, String)>,
    rows: Vec<Row>,
    /// The query of this page without its page number, for the next page and the CSV.
    query: String,
    next_page: Option<u32>,
    can_add: bool,
    error: Option<String>,
}

fn en(ctx: &PageCtx) -> bool {
    ctx.lang == Lang::En
}

fn status_label(ctx: &PageCtx, s: &str) -> String {
    ctx.t(&format!("model-status-{s}"))
}

async fn kind_options(st: &AppState, ctx: &PageCtx) -> Result<Vec<(String, String)>, AppError> {
    Ok(programme::kinds(&st.db)
        .await?
        .into_iter()
        .filter(|k| k.active)
        .map(|k| (k.code, if en(ctx) { k.name_en } else { k.name_vi }))
        .collect())
}

/// `GET /app/models`: the catalogue.
pub(super) async fn index(
    State(st): State<AppState>,
    Ctx(ctx): Ctx,
    PageUser(p): PageUser,
    Query(q): Query<CatalogueQuery>,
) -> Result<Response, AppError> {
    let kinds = kind_options(&st, &ctx).await?;
    let statuses = ModelStatus::ALL.iter().map(|s| (s.as_str().to_owned(), status_label(&ctx, s.as_str()))).collect();
    let query = format!(
        "unit={}&kind={}&status={}&year={}&q={}",
        urlencode(q.unit.trim()),
        urlencode(q.kind.trim()),
        urlencode(q.status.trim()),
        urlencode(q.year.trim()),
        urlencode(q.q.trim())
    );
    let can_add = can_anywhere(&p, Action::ManageProgrammes);
    let (rows, next_page, error) = match q.filter(&st).await {
        Ok(filter) => {
            let mut models = programme::list(&st.db, &filter, PAGE + 1, q.offset()).await?;
            let more = models.len() as i64 > PAGE;
            models.truncate(PAGE as usize);
            let rows = models.into_iter().map(|m| row(&ctx, m)).collect();
            (rows, more.then(|| q.page.unwrap_or(1).max(1) + 1), None)
        }
        Err(e) if e.is_refusal() => (Vec::new(), None, Some(message(ctx.lang, e.info()))),
        Err(e) => return Err(e),
    };
    let page = Index { ctx, q, kinds, statuses, rows, query, next_page, can_add, error };
    if page.error.is_some() {
        render_status(axum::http::StatusCode::UNPROCESSABLE_ENTITY, &page)
    } else {
        render(&page)
    }
}

fn row(ctx: &PageCtx, m: Model) -> Row {
    let year = m
        .started_on
        .map(|d| d.format("%Y").to_string())
        .unwrap_or_else(|| ngoso_core::calendar::local_day(m.created_at).format("%Y").to_string());
    Row {
        id: m.id,
        unit: m.unit_name,
        kind: if en(ctx) { m.kind_name_en } else { m.kind_name_vi },
        status_label: status_label(ctx, &m.status),
        status: m.status,
        name: m.name,
        year,
        copied: m.copied_from.is_some(),
    }
}

/// `GET /app/models/export.csv`: the catalogue as filtered, as CSV.
pub(super) async fn export(
    State(st): State<AppState>,
    Ctx(ctx): Ctx,
    PageUser(_p): PageUser,
    Query(q): Query<CatalogueQuery>,
) -> Result<Response, AppError> {
    super::csv(&st, &q, en(&ctx)).await
}

/// An evaluation as the model's page shows it: (date, reviewer, total, max, comment,
/// [(criterion, score, max)]).
type EvaluationView = (String, String, i32, i32, String, Vec<(String, i32, i32)>);

#[derive(Template)]
#[template(path = "models/show.html")]
struct Show {
    ctx: PageCtx,
    /// The places on its route, for a digital street or a heritage route (or any model with
    /// places).
    places: Option<usize>,
    m: Model,
    kind: String,
    status_label: String,
    started: String,
    partners: Vec<String>,
    outcomes: Vec<(String, i64)>,
    next: Vec<(String, String)>,
    can_manage: bool,
    can_copy: bool,
    /// The members who run it, when the viewer may see names; else only how many.
    members: Option<Vec<String>>,
    evaluations: Vec<EvaluationView>,
    /// The default set's criteria to score: (code, name, max).
    criteria: Vec<(String, String, i32)>,
    can_evaluate: bool,
    /// (id, title, level, date).
    awards: Vec<(i64, String, String, String)>,
    levels: Vec<(String, String)>,
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
    let m = programme::get(&st.db, id).await?;
    let english = en(&ctx);
    let can_manage = can(p, Action::ManageProgrammes, &m.path());
    let next = m
        .status()
        .next()
        .iter()
        .map(|s| (s.as_str().to_owned(), ctx.t(&format!("model-move-{}", s.as_str()))))
        .collect();
    let members = if m.member_ids.is_empty() {
        Some(Vec::new())
    } else {
        super::members(st, p, &m, true)
            .await?
            .map(|v| v.into_iter().map(|x| format!("{} ({})", x.full_name, x.team_name)).collect())
    };
    let evaluations = evaluations::evaluations(&st.db, m.id)
        .await?
        .into_iter()
        .map(|e| {
            let scores = e
                .scores
                .into_iter()
                .map(|x| (if english { x.name_en } else { x.name_vi }, x.score, x.max_score))
                .collect();
            (format_date(&e.evaluated_on), e.reviewer, e.total, e.max_total, e.comment, scores)
        })
        .collect();
    let sets = evaluations::criteria_sets(&st.db).await?;
    let criteria = sets
        .iter()
        .find(|s| s.code == "creative_model")
        .map(|s| {
            s.criteria
                .iter()
                .map(|c| (c.code.clone(), if english { c.name_en.clone() } else { c.name_vi.clone() }, c.max_score))
                .collect()
        })
        .unwrap_or_default();
    let can_evaluate = can_manage && matches!(m.status(), ModelStatus::Running | ModelStatus::Evaluated);
    let on_route = programme::places::of_model(&st.db, m.id).await?.len();
    let places = (on_route > 0 || matches!(m.kind.as_str(), "digital_street" | "digital_heritage")).then_some(on_route);
    let awards = evaluations::awards(&st.db, &m.path(), None, Some(m.id))
        .await?
        .into_iter()
        .map(|a| (a.id, a.title, ctx.t(&format!("award-level-{}", a.level)), format_date(&a.awarded_on)))
        .collect();
    let levels = ngoso_core::programme::AwardLevel::ALL
        .iter()
        .map(|l| (l.as_str().to_owned(), ctx.t(&format!("award-level-{}", l.as_str()))))
        .collect();
    Ok(Show {
        places,
        members,
        evaluations,
        criteria,
        can_evaluate,
        awards,
        levels,
        kind: if english { m.kind_name_en.clone() } else { m.kind_name_vi.clone() },
        status_label: status_label(&ctx, &m.status),
        started: m.started_on.as_ref().map(format_date).unwrap_or_else(|| "—".into()),
        partners: m.partners.lines().map(str::to_owned).collect(),
        outcomes: m
            .outcomes
            .iter()
            .map(|o| (if english { o.name_en.clone() } else { o.name_vi.clone() }, o.value))
            .collect(),
        next,
        can_manage,
        can_copy: can_anywhere(p, Action::ManageProgrammes) && p.unit_id.is_some_and(|u| u != m.unit_id),
        notice,
        error,
        ctx,
        m,
    })
}

/// `GET /app/models/{id}`.
pub(super) async fn show(
    State(st): State<AppState>,
    Ctx(ctx): Ctx,
    PageUser(p): PageUser,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    render(&show_page(&st, ctx, &p, id, None, None).await?)
}

#[derive(Template)]
#[template(path = "models/form.html")]
struct FormPage {
    ctx: PageCtx,
    /// The model edited (none: a new one).
    id: Option<i64>,
    unit: String,
    status: String,
    kind: String,
    name: String,
    description: String,
    started_on: String,
    partners: String,
    kinds: Vec<(String, String)>,
    /// (code, name, value typed).
    measures: Vec<(String, String, String)>,
    links: Vec<LinkInput>,
    /// On editing, the members one may name: (id, name, team, named).
    members: Option<Vec<(i64, String, String, bool)>>,
    error: Option<String>,
}

async fn form_page(
    st: &AppState,
    ctx: PageCtx,
    p: &Principal,
    id: Option<i64>,
    m: &ModelInput,
    error: Option<String>,
) -> Result<FormPage, AppError> {
    let members = match id {
        Some(id) => {
            let model = programme::get(&st.db, id).await?;
            let named = m.members.clone().unwrap_or_else(|| model.member_ids.clone());
            super::members(st, p, &model, false)
                .await?
                .map(|v| v.into_iter().map(|x| (x.id, x.full_name, x.team_name, named.contains(&x.id))).collect())
        }
        None => None,
    };
    let kinds = kind_options(st, &ctx).await?;
    let english = en(&ctx);
    let measures = programme::measures(&st.db)
        .await?
        .into_iter()
        .map(|x| {
            let v = m.outcomes.get(&x.code).cloned().unwrap_or_default();
            (x.code, if english { x.name_en } else { x.name_vi }, v)
        })
        .collect();
    let mut links = m.links.clone();
    links.resize(LINK_ROWS.max(links.len()), LinkInput::default());
    Ok(FormPage {
        id,
        unit: m.unit.clone(),
        status: if m.status.is_empty() { "proposed".into() } else { m.status.clone() },
        kind: m.kind.clone(),
        name: m.name.clone(),
        description: m.description.clone(),
        started_on: m.started_on.clone(),
        partners: m.partners.clone(),
        kinds,
        measures,
        links,
        members,
        error,
        ctx,
    })
}

/// What a page's form says of a model: its named fields, `outcome-CODE` figures and
/// `link_url_N`/`link_title_N` links.
fn input(f: &Fields) -> ModelInput {
    let outcomes =
        f.0.iter()
            .filter_map(|(k, v)| k.strip_prefix("outcome-").map(|c| (c.to_owned(), v.clone())))
            .filter(|(_, v)| !v.trim().is_empty())
            .collect();
    let links = (0..10)
        .map(|i| LinkInput {
            url: f.get(&format!("link_url_{i}")).to_owned(),
            title: f.get(&format!("link_title_{i}")).to_owned(),
        })
        .filter(|l| !l.url.trim().is_empty() || !l.title.trim().is_empty())
        .collect();
    // The boxes were offered (on editing): those ticked are the members, none ticked none.
    let members = (f.get("members_listed") == "1")
        .then(|| f.0.iter().filter(|(k, _)| k == "member").filter_map(|(_, v)| v.parse().ok()).collect());
    ModelInput {
        members,
        unit: f.get("unit").to_owned(),
        status: f.get("status").to_owned(),
        kind: f.get("kind").to_owned(),
        name: f.get("name").to_owned(),
        description: f.get("description").to_owned(),
        started_on: f.get("started_on").to_owned(),
        partners: f.get("partners").to_owned(),
        outcomes,
        links,
    }
}

/// `GET /app/models/new`: a model of the caller's unit (or `?unit=CODE`).
pub(super) async fn new_form(
    State(st): State<AppState>,
    Ctx(ctx): Ctx,
    PageUser(p): PageUser,
    Query(q): Query<CatalogueQuery>,
) -> Result<Response, AppError> {
    if !can_anywhere(&p, Action::ManageProgrammes) {
        return Err(AppError::forbidden());
    }
    let unit = match (q.unit.trim(), p.unit_id) {
        ("", Some(u)) => ngoso_store::units::get(&st.db, u).await?.code,
        (code, _) => code.to_owned(),
    };
    let m = ModelInput { unit, ..Default::default() };
    render(&form_page(&st, ctx, &p, None, &m, None).await?)
}

/// `POST /app/models`: records a model; a refusal shows the form again with what was typed.
pub(super) async fn create(
    State(st): State<AppState>,
    Ctx(ctx): Ctx,
    PageUser(p): PageUser,
    CsrfFields(f): CsrfFields,
) -> Result<Response, AppError> {
    let m = input(&f);
    match super::create(&st, &p, &m.unit, &m.status, &m).await {
        Ok(id) => Ok(Redirect::to(&format!("/app/models/{id}")).into_response()),
        Err(e) if e.is_refusal() => {
            let msg = message(ctx.lang, e.info());
            render_status(e.info().status, &form_page(&st, ctx, &p, None, &m, Some(msg)).await?)
        }
        Err(e) => Err(e),
    }
}

/// `GET /app/models/{id}/edit`.
pub(super) async fn edit_form(
    State(st): State<AppState>,
    Ctx(ctx): Ctx,
    PageUser(p): PageUser,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    let m = super::managed(&st, &p, id).await?;
    let input = ModelInput {
        unit: m.unit_code.clone(),
        status: m.status.clone(),
        kind: m.kind.clone(),
        name: m.name.clone(),
        description: m.description.clone(),
        started_on: m.started_on.map(|d| d.to_string()).unwrap_or_default(),
        partners: m.partners.clone(),
        outcomes: m.outcomes.iter().map(|o| (o.measure.clone(), o.value.to_string())).collect(),
        links: m.links.iter().map(|l| LinkInput { url: l.url.clone(), title: l.title.clone() }).collect(),
        members: Some(m.member_ids.clone()),
    };
    render(&form_page(&st, ctx, &p, Some(id), &input, None).await?)
}

/// `POST /app/models/{id}`: the edit.
pub(super) async fn update(
    State(st): State<AppState>,
    Ctx(ctx): Ctx,
    PageUser(p): PageUser,
    Path(id): Path<i64>,
    CsrfFields(f): CsrfFields,
) -> Result<Response, AppError> {
    let m = input(&f);
    match super::update(&st, &p, id, &m).await {
        Ok(()) => Ok(Redirect::to(&format!("/app/models/{id}")).into_response()),
        Err(e) if e.is_refusal() => {
            let msg = message(ctx.lang, e.info());
            render_status(e.info().status, &form_page(&st, ctx, &p, Some(id), &m, Some(msg)).await?)
        }
        Err(e) => Err(e),
    }
}

/// A refusal shown on the model's page; anything else is the error it is.
async fn on_page(
    st: &AppState,
    ctx: PageCtx,
    p: &Principal,
    id: i64,
    r: Result<Response, AppError>,
) -> Result<Response, AppError> {
    match r {
        Err(e) if e.is_refusal() && e.info().status != axum::http::StatusCode::NOT_FOUND => {
            let msg = message(ctx.lang, e.info());
            render_status(e.info().status, &show_page(st, ctx, p, id, None, Some(msg)).await?)
        }
        other => other,
    }
}

/// `POST /app/models/{id}/status`.
pub(super) async fn status(
    State(st): State<AppState>,
    Ctx(ctx): Ctx,
    PageUser(p): PageUser,
    Path(id): Path<i64>,
    CsrfFields(f): CsrfFields,
) -> Result<Response, AppError> {
    let r = super::move_status(&st, &p, id, f.get("status"))
        .await
        .map(|()| Redirect::to(&format!("/app/models/{id}")).into_response());
    on_page(&st, ctx, &p, id, r).await
}

/// `POST /app/models/{id}/copy`: a proposed copy in the caller's unit, opened for editing.
pub(super) async fn copy(
    State(st): State<AppState>,
    Ctx(ctx): Ctx,
    PageUser(p): PageUser,
    Path(id): Path<i64>,
    CsrfFields(_f): CsrfFields,
) -> Result<Response, AppError> {
    let r =
        super::copy(&st, &p, id, "").await.map(|new| Redirect::to(&format!("/app/models/{new}/edit")).into_response());
    on_page(&st, ctx, &p, id, r).await
}

/// `POST /app/models/{id}/photos`: a photo with its caption.
pub(super) async fn add_photo(
    State(st): State<AppState>,
    Ctx(ctx): Ctx,
    PageUser(p): PageUser,
    Path(id): Path<i64>,
    CsrfUpload(up): CsrfUpload,
) -> Result<Response, AppError> {
    let r = match up.photo.as_deref() {
        Some(bytes) => super::add_photo(&st, &p, id, bytes, up.fields.get("caption")).await,
        None => Err(ngoso_core::Invalid::field("required", "photo").into()),
    };
    let r = r.map(|_| Redirect::to(&format!("/app/models/{id}#photos")).into_response());
    on_page(&st, ctx, &p, id, r).await
}

/// `GET /app/models/{id}/photos/{photo}`.
pub(super) async fn photo(
    State(st): State<AppState>,
    PageUser(p): PageUser,
    Path((id, photo)): Path<(i64, i64)>,
) -> Result<Response, AppError> {
    super::photo(&st, &p, id, photo).await
}

/// `POST /app/models/{id}/photos/{photo}/delete`.
pub(super) async fn delete_photo(
    State(st): State<AppState>,
    Ctx(ctx): Ctx,
    PageUser(p): PageUser,
    Path((id, photo)): Path<(i64, i64)>,
    CsrfFields(_f): CsrfFields,
) -> Result<Response, AppError> {
    let r = super::delete_photo(&st, &p, id, photo)
        .await
        .map(|()| Redirect::to(&format!("/app/models/{id}#photos")).into_response());
    on_page(&st, ctx, &p, id, r).await
}

/// `POST /app/models/{id}/evaluations`: scores typed as `score-CODE`.
pub(super) async fn evaluate(
    State(st): State<AppState>,
    Ctx(ctx): Ctx,
    PageUser(p): PageUser,
    Path(id): Path<i64>,
    CsrfFields(f): CsrfFields,
) -> Result<Response, AppError> {
    let e = super::EvaluationInput {
        set: f.get("set").to_owned(),
        evaluated_on: f.get("evaluated_on").to_owned(),
        comment: f.get("comment").to_owned(),
        scores: f.0.iter().filter_map(|(k, v)| k.strip_prefix("score-").map(|c| (c.to_owned(), v.clone()))).collect(),
    };
    let r = super::evaluate(&st, &p, id, &e)
        .await
        .map(|_| Redirect::to(&format!("/app/models/{id}#evaluations")).into_response());
    on_page(&st, ctx, &p, id, r).await
}

/// `POST /app/awards`: an award to a team (`team_id`) or a team member (`member_id`), from
/// their pages; its certificate is shown.
pub(super) async fn give_award_to(
    State(st): State<AppState>,
    PageUser(p): PageUser,
    CsrfFields(f): CsrfFields,
) -> Result<Response, AppError> {
    let id = |k: &str| f.get(k).trim().parse::<i64>().ok();
    let a = super::AwardInput {
        title: f.get("title").to_owned(),
        level: f.get("level").to_owned(),
        awarded_on: f.get("awarded_on").to_owned(),
        model_id: None,
        team_id: id("team_id"),
        member_id: id("member_id"),
    };
    let aid = super::give_award(&st, &p, &a).await?;
    Ok(Redirect::to(&format!("/app/awards/{aid}/certificate")).into_response())
}

/// `POST /app/models/{id}/awards`: an award to this model.
pub(super) async fn give_award(
    State(st): State<AppState>,
    Ctx(ctx): Ctx,
    PageUser(p): PageUser,
    Path(id): Path<i64>,
    CsrfFields(f): CsrfFields,
) -> Result<Response, AppError> {
    let a = super::AwardInput {
        title: f.get("title").to_owned(),
        level: f.get("level").to_owned(),
        awarded_on: f.get("awarded_on").to_owned(),
        model_id: Some(id),
        team_id: None,
        member_id: None,
    };
    let r = super::give_award(&st, &p, &a)
        .await
        .map(|aid| Redirect::to(&format!("/app/awards/{aid}/certificate")).into_response());
    on_page(&st, ctx, &p, id, r).await
}

#[derive(Template)]
#[template(path = "models/ranking.html")]
struct RankingPage {
    ctx: PageCtx,
    unit: String,
    year: i32,
    /// (model id, name, unit, kind, evaluations, score as shown).
    rows: Vec<(i64, String, String, String, i64, String)>,
    error: Option<String>,
}

/// `GET /app/models/ranking?unit=&year=`.
pub(super) async fn ranking(
    State(st): State<AppState>,
    Ctx(ctx): Ctx,
    PageUser(_p): PageUser,
    Query(q): Query<super::RankingQuery>,
) -> Result<Response, AppError> {
    let this_year = chrono::Datelike::year(&ngoso_store::teams::today());
    match q.parts(&st).await {
        Ok((within, year)) => {
            let english = en(&ctx);
            let rows = evaluations::ranking(&st.db, &within, year)
                .await?
                .into_iter()
                .map(|r| {
                    let score = format!("{} %", r.score).replace('.', if english { "." } else { "," });
                    (
                        r.model_id,
                        r.name,
                        r.unit_name,
                        if english { r.kind_name_en } else { r.kind_name_vi },
                        r.evaluations,
                        score,
                    )
                })
                .collect();
            render(&RankingPage { unit: q.unit.clone(), year, rows, error: None, ctx })
        }
        Err(e) if e.is_refusal() => {
            let msg = message(ctx.lang, e.info());
            let page = RankingPage { unit: q.unit.clone(), year: this_year, rows: Vec::new(), error: Some(msg), ctx };
            render_status(e.info().status, &page)
        }
        Err(e) => Err(e),
    }
}

#[derive(Template)]
#[template(path = "models/certificate.html")]
struct Certificate {
    ctx: PageCtx,
    a: evaluations::Award,
    level: String,
    date: String,
    recipient_kind: String,
    css: &'static str,
}

/// `GET /app/awards/{id}/certificate`: prints on A4.
pub(super) async fn certificate(
    State(st): State<AppState>,
    Ctx(ctx): Ctx,
    PageUser(p): PageUser,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    let a = super::award(&st, &p, id).await?;
    let recipient_kind = ctx.t(if a.model_id.is_some() {
        "award-to-model"
    } else if a.team_id.is_some() {
        "award-to-team"
    } else {
        "award-to-member"
    });
    render(&Certificate {
        level: ctx.t(&format!("award-level-{}", a.level)),
        date: format_date(&a.awarded_on),
        recipient_kind,
        css: crate::http::assets::report_css_url(),
        a,
        ctx,
    })
}
