//! Pages of the administrative tree under `/app/units`.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use ngoso_core::auth::Action;
use ngoso_store::units::{self, Unit};
use serde::Deserialize;

use crate::AppState;
use crate::auth::{PageUser, can};
use crate::http::error::{AppError, message};
use crate::http::extract::{CsrfForm, Path, Query};
use crate::http::i18n::format_date;
use crate::http::render::{Ctx, PageCtx, render, render_status};
use crate::units::{self as ops, UnitInput, UnitItem, can_create_under};

#[derive(Template)]
#[template(path = "units/index.html")]
struct Index {
    ctx: PageCtx,
    q: String,
    units: Vec<UnitItem>,
    can_create_root: bool,
}

#[derive(Deserialize)]
pub struct IndexQuery {
    #[serde(default)]
    q: String,
}

/// `GET /app/units`: the top of the user's tree, or search results.
pub(crate) async fn index(
    State(st): State<AppState>,
    Ctx(ctx): Ctx,
    PageUser(p): PageUser,
    Query(q): Query<IndexQuery>,
) -> Result<Response, AppError> {
    let q = q.q.trim().to_owned();
    let list = if q.is_empty() { ops::top(&st.db, &p).await? } else { ops::search(&st.db, &p, &q, 200).await? };
    let can_create_root = can_create_under(&p, None);
    render(&Index { ctx, q, units: list.into_iter().map(UnitItem::from).collect(), can_create_root })
}

#[derive(Template)]
#[template(path = "units/show.html")]
struct Show {
    ctx: PageCtx,
    unit: Unit,
    breakdowns: Vec<crate::units::figures::Breakdown>,
    ancestors: Vec<Unit>,
    units: Vec<UnitItem>,
    subtree_size: i64,
    valid_from: Option<String>,
    valid_to: Option<String>,
    /// The unit closed on or before today.
    closed: bool,
    successors: Vec<Unit>,
    predecessors: Vec<Unit>,
    /// The day whose tree the units below are, when not today.
    tree_on: Option<String>,
    can_manage: bool,
    can_add: bool,
    can_people: bool,
    notice: Option<String>,
    figures: crate::units::figures::OutreachFigures,
    recent_months: Vec<MonthRow>,
    children_figures: Vec<crate::units::figures::ChildFigures>,
    headline: Vec<crate::indicators::Headline>,
    period: String,
    period_name: String,
    /// Quick choices of period: (id, name).
    period_links: Vec<(String, String)>,
    can_target: bool,
    /// The export form's days: the period's first and last.
    export_from: String,
    export_to: String,
    compared: Option<crate::units::dashboard::Compared>,
    /// The table of units below: how it is sorted, and the query that keeps the rest.
    sort: String,
    keep: String,
    /// The status columns of the table: (name, sort key).
    service_columns: Vec<(String, String)>,
    trend: Option<crate::units::dashboard::Trend>,
    trend_height: i64,
    /// What the period's figures mean across a restructuring.
    tree_note: Vec<String>,
    attention_total: usize,
    attention: Vec<crate::units::dashboard::TeamFlag>,
}

/// A month of the visits table, with the width of its bar.
struct MonthRow {
    label: String,
    visits: i64,
    met: i64,
    width: i64,
}

fn recent_months(f: &crate::units::figures::OutreachFigures) -> Vec<MonthRow> {
    let recent: Vec<&crate::units::figures::MonthFigures> = f.months.iter().rev().take(12).collect();
    let max = recent.iter().map(|m| m.visits).max().unwrap_or(1).max(1);
    recent
        .into_iter()
        .map(|m| MonthRow {
            label: format!("{}/{}", m.period.get(4..6).unwrap_or(""), m.period.get(0..4).unwrap_or("")),
            visits: m.visits,
            met: m.met,
            width: m.visits * 120 / max,
        })
        .collect()
}

#[derive(Deserialize)]
pub struct ShowQuery {
    saved: Option<String>,
    #[serde(default)]
    period: Option<String>,
    /// The indicator the units below are compared on.
    #[serde(default)]
    compare: Option<String>,
    /// `value` (default) or `name`.
    #[serde(default)]
    rank: Option<String>,
    /// The column the table of units below is sorted by.
    #[serde(default)]
    sort: Option<String>,
    /// The day whose tree the units below are listed as (`YYYY-MM-DD`; default: today, or
    /// the period's last day when it ended before today).
    #[serde(default)]
    on: Option<String>,
}

async fn predecessors_empty(st: &AppState, id: i64) -> Result<bool, AppError> {
    Ok(units::predecessors(&st.db, id).await?.is_empty())
}

/// What the figures of a period mean across a restructuring: a unit opened after the
/// period began counts its households' past (today's tree), and what was entered as
/// aggregates on a predecessor that split cannot be compared; a unit closed before the period
/// ended shows what was reported.
async fn tree_note(
    st: &AppState,
    ctx: &PageCtx,
    unit: &Unit,
    period: &ngoso_core::period::Period,
    changes: &[chrono::NaiveDate],
    has_predecessors: bool,
) -> Result<Vec<String>, AppError> {
    let mut out = Vec::new();
    if let Some(from) = unit.valid_from
        && has_predecessors
        && period.start() < from
    {
        out.push(ctx.tr.t1("unit-figures-today-tree", "date", format_date(&from)));
        if !ngoso_store::restructure::entries_comparable(&st.db, unit.id).await? {
            out.push(ctx.t("unit-figures-not-comparable"));
        }
    } else if let Some(d) = changes.iter().find(|d| period.start() < **d && **d <= period.end()) {
        out.push(ctx.tr.t1("unit-figures-changed-within", "date", format_date(d)));
    }
    if let Some(to) = unit.valid_to {
        out.push(ctx.tr.t1("unit-figures-as-reported", "date", format_date(&to)));
    }
    Ok(out)
}

/// `GET /app/units/{id}`: a unit, its breadcrumbs and its children.
pub(crate) async fn show(
    State(st): State<AppState>,
    Ctx(ctx): Ctx,
    PageUser(p): PageUser,
    Path(id): Path<i64>,
    Query(q): Query<ShowQuery>,
) -> Result<Response, AppError> {
    let unit = ops::visible(&st.db, &p, id).await?;
    let path = unit.unit_path();
    let ancestors = ops::visible_ancestors(&st.db, &p, &unit).await?;
    let period = crate::indicators::period_or_this_year(q.period.as_deref())?;
    let today = ngoso_store::teams::today();
    let on = ops::tree_day(q.on.as_deref(), ops::period_tree_day(&unit, &period, today))?;
    let changes = ngoso_store::restructure::change_days(&st.db, id).await?;
    let tree_note = tree_note(&st, &ctx, &unit, &period, &changes, !predecessors_empty(&st, id).await?).await?;
    let children = units::children_on(&st.db, Some(id), on).await?;
    let successors = units::successors(&st.db, id).await?;
    let predecessors = units::predecessors(&st.db, id).await?;
    let subtree_size = units::subtree_size(&st.db, &path).await?;
    let notice = q.saved.map(|_| ctx.t("saved"));
    let english = ctx.lang == crate::http::i18n::Lang::En;
    let figures = crate::units::figures::of_unit(&st, id, english).await?;
    let mut children_figures = crate::units::figures::of_children(&st, &children).await?;
    let catalog = st.catalog().await?;
    let service_codes: Vec<String> = catalog.services.iter().map(|s| s.code.clone()).collect();
    let status_codes: Vec<String> =
        catalog.services.iter().flat_map(|s| s.statuses.iter().map(|st| format!("{}:{}", s.code, st.code))).collect();
    let sort = q.sort.clone().unwrap_or_default();
    crate::units::dashboard::sort_children(&mut children_figures, &sort, &service_codes, &status_codes)?;
    let compared = crate::units::dashboard::compared(
        &st,
        &children,
        &period,
        q.compare.as_deref(),
        q.rank.as_deref(),
        &ctx.tr,
        english,
    )
    .await?;
    let keep = format!(
        "period={}{}",
        period.id(),
        compared.as_ref().map(|c| format!("&compare={}", c.code)).unwrap_or_default()
    );
    let (attention_total, attention) = crate::units::dashboard::attention(&st, &unit, &ctx.tr, 5).await?;
    let headline = crate::indicators::headline(&st, &unit, &period, english).await?;
    let now = ngoso_store::now();
    let this_year = ngoso_core::period::Period::of_time(ngoso_core::period::PeriodKind::Yearly, now);
    let period_links = [
        this_year,
        this_year.prev(),
        ngoso_core::period::Period::of_time(ngoso_core::period::PeriodKind::Quarterly, now),
        ngoso_core::period::Period::of_time(ngoso_core::period::PeriodKind::Monthly, now),
    ]
    .into_iter()
    .filter(|x| *x != period)
    .map(|x| (x.id(), x.name(english)))
    .collect();
    render(&Show {
        trend: crate::units::dashboard::trend(
            &figures.months,
            &ctx.tr,
            &changes.iter().map(|d| ngoso_core::outreach::month_of_day(*d)).collect::<Vec<_>>(),
        ),
        tree_note,
        trend_height: crate::units::dashboard::TREND_HEIGHT,
        compared,
        sort,
        keep,
        // One column for each status: a service of several (VNeID collected, activated) shows
        // each, named after the service and the status.
        service_columns: catalog
            .services
            .iter()
            .flat_map(|s| {
                s.statuses.iter().map(move |st| {
                    let name = if s.statuses.len() > 1 {
                        format!("{} · {}", s.name(english), st.name(english))
                    } else {
                        s.name(english).to_owned()
                    };
                    (name, format!("status:{}:{}", s.code, st.code))
                })
            })
            .collect(),
        attention_total,
        attention,
        breakdowns: crate::units::figures::breakdowns(&st, id, &figures, english).await?,
        can_target: crate::indicators::can_target(&p, &unit),
        export_from: period.start().format("%Y-%m-%d").to_string(),
        export_to: period.end().format("%Y-%m-%d").to_string(),
        headline,
        period: period.id(),
        period_name: period.name(english),
        period_links,
        can_people: can(&p, Action::ViewPersonalData, &path),
        recent_months: recent_months(&figures),
        figures,
        children_figures,
        valid_from: unit.valid_from.as_ref().map(format_date),
        valid_to: unit.valid_to.as_ref().map(format_date),
        closed: unit.closed_by(today),
        successors,
        predecessors,
        tree_on: (on != today).then(|| format_date(&on)),
        can_manage: can(&p, Action::ManageUnit, &path),
        can_add: can_create_under(&p, Some(&path)) && unit.valid_to.is_none(),
        ctx,
        unit,
        ancestors,
        units: children.into_iter().map(UnitItem::from).collect(),
        subtree_size,
        notice,
    })
}

#[derive(Template)]
#[template(path = "units/form.html")]
struct FormPage {
    ctx: PageCtx,
    heading: String,
    action: String,
    creating: bool,
    parent: Option<Unit>,
    form: FormValues,
    error: Option<String>,
}

/// What the form shows: the values typed, never lost on an error.
#[derive(Default)]
struct FormValues {
    code: String,
    name: String,
    kind: String,
    valid_from: String,
    valid_to: String,
}

#[derive(Deserialize)]
pub struct NewQuery {
    parent: Option<i64>,
}

#[derive(Deserialize, Default)]
pub struct UnitForm {
    #[serde(flatten)]
    input: UnitInput,
}

fn new_page(ctx: PageCtx, parent: Option<Unit>, form: FormValues, error: Option<String>) -> FormPage {
    let action = match &parent {
        Some(p) => format!("/app/units/new?parent={}", p.id),
        None => "/app/units/new".to_owned(),
    };
    let heading = match &parent {
        Some(p) => ctx.tr.t1("unit-new-under", "name", &p.name),
        None => ctx.t("unit-add-root"),
    };
    FormPage { ctx, heading, action, creating: true, parent, form, error }
}

/// `GET /app/units/new?parent=ID`.
pub(crate) async fn new_form(
    State(st): State<AppState>,
    Ctx(ctx): Ctx,
    PageUser(p): PageUser,
    Query(q): Query<NewQuery>,
) -> Result<Response, AppError> {
    let parent = match q.parent {
        Some(id) => Some(ops::visible(&st.db, &p, id).await?),
        None => None,
    };
    if !can_create_under(&p, parent.as_ref().map(|u| u.unit_path()).as_ref()) {
        return Err(AppError::forbidden());
    }
    let kind = parent.as_ref().map(|u| suggested_child_kind(&u.kind)).unwrap_or_default();
    render(&new_page(ctx, parent, FormValues { kind, ..Default::default() }, None))
}

/// The usual level below a level, to prefill the form.
fn suggested_child_kind(kind: &str) -> String {
    match kind {
        "tỉnh" | "thành phố" => "huyện",
        "huyện" | "quận" | "thị xã" => "xã",
        "xã" => "ấp",
        "phường" | "thị trấn" => "khu phố",
        _ => "",
    }
    .to_owned()
}

/// `POST /app/units/new?parent=ID`.
pub(crate) async fn create(
    State(st): State<AppState>,
    Ctx(ctx): Ctx,
    PageUser(p): PageUser,
    Query(q): Query<NewQuery>,
    CsrfForm(f): CsrfForm<UnitForm>,
) -> Result<Response, AppError> {
    if let Some(id) = q.parent {
        // A parent out of sight is a page that does not exist.
        ops::visible(&st.db, &p, id).await?;
    }
    match ops::create(&st.db, &p, q.parent, &f.input).await {
        Ok(u) => Ok(Redirect::to(&format!("/app/units/{}?saved=1", u.id)).into_response()),
        Err(e) if is_input_error(&e) => {
            let parent = match q.parent {
                Some(id) => ops::visible(&st.db, &p, id).await.ok(),
                None => None,
            };
            let msg = message(ctx.lang, e.info());
            let i = &f.input;
            let values = FormValues {
                code: i.code.clone(),
                name: i.name.clone(),
                kind: i.kind.clone(),
                valid_from: i.valid_from.clone().unwrap_or_default(),
                valid_to: i.valid_to.clone().unwrap_or_default(),
            };
            render_status(e.info().status, &new_page(ctx, parent, values, Some(msg)))
        }
        Err(e) => Err(e),
    }
}

/// Errors that send the form back with a message, rather than an error page.
fn is_input_error(e: &AppError) -> bool {
    matches!(e.info().status, StatusCode::UNPROCESSABLE_ENTITY | StatusCode::CONFLICT)
}

fn edit_page(ctx: PageCtx, unit: &Unit, name: String, kind: String, error: Option<String>) -> FormPage {
    FormPage {
        heading: ctx.tr.t1("unit-rename-heading", "name", &unit.name),
        action: format!("/app/units/{}/edit", unit.id),
        creating: false,
        parent: Some(unit.clone()),
        form: FormValues { name, kind, ..Default::default() },
        error,
        ctx,
    }
}

/// `GET /app/units/{id}/edit`.
pub(crate) async fn edit_form(
    State(st): State<AppState>,
    Ctx(ctx): Ctx,
    PageUser(p): PageUser,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    let unit = ops::visible(&st.db, &p, id).await?;
    crate::auth::ensure(&p, Action::ManageUnit, &unit.unit_path())?;
    render(&edit_page(ctx, &unit, unit.name.clone(), unit.kind.clone(), None))
}

#[derive(Deserialize, Default)]
pub struct EditForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    kind: String,
}

/// `POST /app/units/{id}/edit`.
pub(crate) async fn edit(
    State(st): State<AppState>,
    Ctx(ctx): Ctx,
    PageUser(p): PageUser,
    Path(id): Path<i64>,
    CsrfForm(f): CsrfForm<EditForm>,
) -> Result<Response, AppError> {
    match ops::rename(&st.db, &p, id, &f.name, &f.kind).await {
        Ok(u) => Ok(Redirect::to(&format!("/app/units/{}?saved=1", u.id)).into_response()),
        Err(e) if is_input_error(&e) => {
            let unit = ops::visible(&st.db, &p, id).await?;
            let msg = message(ctx.lang, e.info());
            render_status(e.info().status, &edit_page(ctx, &unit, f.name, f.kind, Some(msg)))
        }
        Err(e) => Err(e),
    }
}

#[derive(Template)]
#[template(path = "units/move.html")]
struct MovePage {
    ctx: PageCtx,
    unit: Unit,
    parent_code: String,
    error: Option<String>,
}

/// `GET /app/units/{id}/move`.
pub(crate) async fn move_form(
    State(st): State<AppState>,
    Ctx(ctx): Ctx,
    PageUser(p): PageUser,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    let unit = ops::visible(&st.db, &p, id).await?;
    crate::auth::ensure(&p, Action::ManageUnit, &unit.unit_path())?;
    let parent_code = match unit.parent_id {
        Some(pid) => units::get(&st.db, pid).await?.code,
        None => String::new(),
    };
    render(&MovePage { ctx, unit, parent_code, error: None })
}

#[derive(Deserialize, Default)]
pub struct MoveForm {
    #[serde(default)]
    parent_code: String,
}

/// `POST /app/units/{id}/move`.
pub(crate) async fn move_unit(
    State(st): State<AppState>,
    Ctx(ctx): Ctx,
    PageUser(p): PageUser,
    Path(id): Path<i64>,
    CsrfForm(f): CsrfForm<MoveForm>,
) -> Result<Response, AppError> {
    match ops::move_to(&st.db, &p, id, &f.parent_code).await {
        Ok(u) => Ok(Redirect::to(&format!("/app/units/{}?saved=1", u.id)).into_response()),
        Err(e) if is_input_error(&e) => {
            let unit = ops::visible(&st.db, &p, id).await?;
            let msg = message(ctx.lang, e.info());
            render_status(e.info().status, &MovePage { ctx, unit, parent_code: f.parent_code, error: Some(msg) })
        }
        Err(e) => Err(e),
    }
}
