//! The staff side of citizen feedback: the inbox per agency and unit scope, the page of an
//! item with its history and every action on it, and the form to type in feedback on a
//! citizen's behalf.

use askama::Template;
use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use ngoso_core::Invalid;
use ngoso_core::auth::Action;
use ngoso_core::feedback::{Channel, Move, State as FbState, TrackingCode};
use ngoso_store::feedback::{self as store, Handle, InboxFilter, Item, MoveInput};
use ngoso_store::users::Principal;
use serde::Deserialize;

use crate::AppState;
use crate::auth::{PageUser, can_anywhere};
use crate::feedback::{self as fb};
use crate::http::error::{AppError, message};
use crate::http::extract::{CsrfForm, CsrfUpload, Fields, Path, Query};
use crate::http::i18n::{Lang, format_datetime};
use crate::http::render::{Ctx, PageCtx, render, render_status, urlencode};

/// The overdue count of the inbox stops here ("1.000+").
const OVERDUE_CAP: i64 = 1000;

#[derive(Deserialize, Default)]
pub struct InboxQuery {
    #[serde(default)]
    state: String,
    #[serde(default)]
    category: String,
    #[serde(default)]
    agency: String,
    #[serde(default)]
    overdue: String,
    /// A unit code: only items in its subtree.
    #[serde(default)]
    unit: String,
    #[serde(default)]
    page: u32,
}

pub struct Row {
    pub id: i64,
    pub code: String,
    pub category: String,
    pub unit: String,
    pub agency: String,
    pub state: String,
    pub due: String,
    pub overdue: bool,
    pub extended: bool,
    pub summary: String,
}

#[derive(Template)]
#[template(path = "feedback/inbox.html")]
struct InboxPage {
    ctx: PageCtx,
    rows: Vec<Row>,
    states: Vec<(&'static str, String)>,
    categories: Vec<(String, String)>,
    agencies: Vec<(String, String)>,
    q_state: String,
    q_category: String,
    q_agency: String,
    q_unit: String,
    overdue: bool,
    overdue_count: i64,
    /// The count as shown: `1.000+` when it reached the cap.
    overdue_label: String,
    next: Option<String>,
    prev: Option<String>,
    agency_name: Option<String>,
    can_setup: bool,
    error: Option<String>,
}

fn query_string(q: &InboxQuery, page: u32) -> String {
    format!(
        "/app/feedback?state={}&category={}&agency={}&overdue={}&unit={}&page={page}",
        urlencode(&q.state),
        urlencode(&q.category),
        urlencode(&q.agency),
        urlencode(&q.overdue),
        urlencode(&q.unit)
    )
}

/// `GET /app/feedback`: the inbox.
pub(crate) async fn inbox(
    State(st): State<AppState>,
    Ctx(ctx): Ctx,
    PageUser(p): PageUser,
    Query(q): Query<InboxQuery>,
) -> Result<Response, AppError> {
    let setup = st.feedback_setup().await?;
    let english = ctx.lang == Lang::En;
    let now = ngoso_store::now();
    let ask = fb::InboxAsk {
        state: &q.state,
        category: &q.category,
        agency: &q.agency,
        overdue: !q.overdue.is_empty(),
        unit: &q.unit,
        page: q.page,
    };
    let (f, scope) = fb::inbox_filter(&st.db, &setup, &p, &ask, now).await?;
    let q = InboxQuery { page: f.page, ..q };
    let mut rows = store::inbox(&st.db, &f).await?;
    let more = rows.len() as i64 > store::PAGE;
    rows.truncate(store::PAGE as usize);
    // The overdue items the user would see with no other filter: their agency, their area.
    let overdue_filter = InboxFilter {
        overdue_at: Some(now),
        state: None,
        category_id: None,
        unassigned: false,
        page: 0,
        agency_id: scope.agency_id,
        ..f.clone()
    };
    let overdue_count = store::inbox_count(&st.db, &overdue_filter, OVERDUE_CAP).await?;
    let rows = rows
        .into_iter()
        .map(|r| {
            let state = FbState::parse(&r.state).unwrap_or(FbState::Received);
            Row {
                overdue: state.is_pending() && r.due_at < now,
                id: r.id,
                code: r.code,
                category: setup.category_name(r.category_id, english),
                unit: r.unit_name.unwrap_or_default(),
                agency: r
                    .agency_code
                    .and_then(|c| setup.agencies.iter().find(|a| a.code == c))
                    .map(|a| a.name(english).to_owned())
                    .unwrap_or_default(),
                state: ctx.t(&format!("feedback-state-{}", r.state)),
                due: format_datetime(r.due_at),
                extended: r.extended,
                summary: r.summary,
            }
        })
        .collect();
    let page = InboxPage {
        rows,
        states: FbState::ALL.iter().map(|s| (s.as_str(), ctx.t(&format!("feedback-state-{}", s.as_str())))).collect(),
        categories: setup.categories.iter().map(|c| (c.code.clone(), c.name(english).to_owned())).collect(),
        agencies: if !scope.any_agency {
            vec![]
        } else {
            setup.agencies.iter().map(|a| (a.code.clone(), a.name(english).to_owned())).collect()
        },
        agency_name: p.agency_id.and_then(|id| setup.agency(id)).map(|a| a.name(english).to_owned()),
        q_state: q.state.clone(),
        q_category: q.category.clone(),
        q_agency: q.agency.clone(),
        q_unit: q.unit.clone(),
        overdue: !q.overdue.is_empty(),
        overdue_label: if overdue_count >= OVERDUE_CAP {
            format!("{}+", ctx.tr.num(&OVERDUE_CAP))
        } else {
            ctx.tr.num(&overdue_count)
        },
        overdue_count,
        next: more.then(|| query_string(&q, q.page + 1)),
        prev: q.page.checked_sub(1).map(|pg| query_string(&q, pg)),
        can_setup: can_anywhere(&p, Action::ManageSystem),
        error: None,
        ctx,
    };
    render(&page)
}

pub struct HistoryView {
    pub at: String,
    pub who: String,
    pub action: String,
    pub states: String,
    pub agency: String,
    pub detail: String,
}

#[derive(Template)]
#[template(path = "feedback/staff_item.html")]
struct ItemPage {
    ctx: PageCtx,
    item: Item,
    category: String,
    answers: Vec<(String, String)>,
    state: String,
    received: String,
    due: String,
    overdue: bool,
    answered: Option<String>,
    moves: Vec<(&'static str, String)>,
    agencies: Vec<(i64, String)>,
    history: Vec<HistoryView>,
    can_draft: bool,
    can_publish: bool,
    drafted_by_me: bool,
    /// Fingerprint of the draft shown, sent back when publishing it.
    draft_hash: String,
    pending: bool,
    channel: String,
    agency: Option<String>,
    error: Option<String>,
    /// Photos given by address: (state, why it failed).
    media: Vec<(String, Option<String>)>,
}

async fn item_page(
    st: &AppState,
    ctx: PageCtx,
    p: &Principal,
    (h, item): (Handle, Item),
    error: Option<String>,
) -> Result<ItemPage, AppError> {
    let setup = st.feedback_setup().await?;
    let english = ctx.lang == Lang::En;
    let history = store::history(&st.db, &h)
        .await?
        .into_iter()
        .map(|h| HistoryView {
            at: format_datetime(h.at),
            who: h.username.unwrap_or_else(|| ctx.t("feedback-system")),
            action: ctx.t(&format!("feedback-action-{}", h.action)),
            states: match (h.from_state, h.to_state) {
                (Some(a), Some(b)) if a != b => {
                    format!("{} → {}", ctx.t(&format!("feedback-state-{a}")), ctx.t(&format!("feedback-state-{b}")))
                }
                (None, Some(b)) => ctx.t(&format!("feedback-state-{b}")),
                _ => String::new(),
            },
            agency: h
                .agency_code
                .and_then(|c| setup.agencies.iter().find(|a| a.code == c))
                .map(|a| a.name(english).to_owned())
                .unwrap_or_default(),
            detail: match (h.action.as_str(), h.detail.as_str()) {
                ("submitted", ch) => ctx.t(&format!("feedback-channel-{ch}")),
                ("forward", "route") => ctx.t("feedback-routed"),
                ("rate", r) => ctx.t(&format!("feedback-rating-{r}")),
                _ => h.detail,
            },
        })
        .collect();
    let cat = setup.category(item.category_id);
    let answers = item
        .answers()
        .into_iter()
        .map(|(code, vals)| {
            let field = cat.and_then(|c| c.fields.iter().find(|f| f.code == code));
            let name = field.map(|f| f.name(english).to_owned()).unwrap_or_else(|| code.clone());
            let shown: Vec<String> = vals
                .iter()
                .map(|v| {
                    field
                        .and_then(|f| f.values.iter().find(|x| &x.key == v))
                        .map(|x| if english { x.name_en.clone() } else { x.name_vi.clone() })
                        .unwrap_or_else(|| v.clone())
                })
                .collect();
            (name, shown.join(", "))
        })
        .collect();
    let state = item.state();
    let now = ngoso_store::now();
    let media = ngoso_store::feedback::media::of_item(&st.db, item.id)
        .await?
        .into_iter()
        .map(|m| (ctx.t(&format!("feedback-media-{}", m.state)), m.error))
        .collect();
    Ok(ItemPage {
        media,
        category: setup.category_name(item.category_id, english),
        answers,
        state: ctx.t(&format!("feedback-state-{}", item.state)),
        received: format_datetime(item.received_at),
        due: format_datetime(item.due_at),
        overdue: item.is_overdue(now),
        answered: item.answered_at.map(format_datetime),
        moves: Move::allowed_from(state)
            .into_iter()
            .filter(|m| *m != Move::Answer)
            .map(|m| (m.as_str(), ctx.t(&format!("feedback-move-{}", m.as_str()))))
            .collect(),
        agencies: setup.agencies.iter().filter(|a| a.active).map(|a| (a.id, a.name(english).to_owned())).collect(),
        history,
        can_draft: matches!(state, FbState::Forwarded | FbState::InProgress),
        can_publish: Move::Answer.apply(state).is_ok() && item.answer_draft.is_some(),
        drafted_by_me: item.drafted_by == Some(p.id),
        draft_hash: item.answer_draft.as_deref().map(store::draft_hash).unwrap_or_default(),
        pending: state.is_pending(),
        channel: ctx.t(&format!("feedback-channel-{}", item.channel)),
        agency: item.agency_id.and_then(|a| setup.agency(a)).map(|a| a.name(english).to_owned()),
        item,
        error,
        ctx,
    })
}

/// `GET /app/feedback/{id}`.
pub(crate) async fn show(
    State(st): State<AppState>,
    Ctx(ctx): Ctx,
    PageUser(p): PageUser,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    let opened = fb::open(&st.db, &p, id).await?;
    render(&item_page(&st, ctx, &p, opened, None).await?)
}

/// Runs an action on an item the user may handle; a refusal shows the page again with
/// the reason, and changes nothing.
async fn act(
    st: &AppState,
    ctx: PageCtx,
    p: &Principal,
    id: i64,
    run: impl AsyncFnOnce(&Handle) -> Result<(), AppError>,
) -> Result<Response, AppError> {
    let h = fb::handle(&st.db, p, id).await?;
    match run(&h).await {
        Ok(()) => Ok(Redirect::to(&format!("/app/feedback/{id}")).into_response()),
        Err(e) if e.info().status.is_client_error() && e.info().status != axum::http::StatusCode::NOT_FOUND => {
            let msg = message(ctx.lang, e.info());
            let opened = fb::open(&st.db, p, id).await?;
            render_status(e.info().status, &item_page(st, ctx, p, opened, Some(msg)).await?)
        }
        Err(e) => Err(e),
    }
}

/// The fields the forms of an item's page post (each form some of them).
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct ActionForm {
    #[serde(rename = "move")]
    mv: String,
    agency: String,
    reason: String,
    duplicate_of: String,
    answer: String,
    /// The draft the reviewer read, sent back when publishing it.
    draft: String,
    days: String,
    hide: String,
    note: String,
}

fn reason(text: &str, field: &'static str) -> Result<Option<String>, AppError> {
    match text.trim() {
        "" => Ok(None),
        r => Ok(Some(ngoso_core::text::parse_text(r, field, 2000)?)),
    }
}

/// A `POST` action on an item: checks the CSRF token and that the user may handle the item,
/// runs `body` (with the state, the form and core's proof), and shows the item again — with
/// the reason when the action was refused.
macro_rules! item_action {
    ($(#[$m:meta])* $name:ident, |$st:ident, $f:ident, $h:ident| $body:expr) => {
        $(#[$m])*
        #[allow(unused_variables)]
        pub(crate) async fn $name(
            State($st): State<AppState>,
            Ctx(ctx): Ctx,
            PageUser(p): PageUser,
            Path(id): Path<i64>,
            CsrfForm($f): CsrfForm<ActionForm>,
        ) -> Result<Response, AppError> {
            let shared = $st.clone();
            act(&shared, ctx, &p, id, async move |$h: &Handle| -> Result<(), AppError> { $body }).await
        }
    };
}

item_action!(
    /// `POST /app/feedback/{id}/move`.
    do_move, |st, f, h| {
    let mv = Move::parse(&f.mv)?;
    let input = MoveInput {
        agency_id: match f.agency.trim() {
            "" => None,
            a => Some(a.parse().map_err(|_| Invalid::field("agency-unknown", "agency").with_detail(a))?),
        },
        reason: reason(&f.reason, "reason")?,
        duplicate_of: match f.duplicate_of.trim() {
            "" => None,
            c => Some(TrackingCode::parse(c)?),
        },
        draft_seen: None,
    };
    store::apply(&st.db, h, mv, &input).await?;
    Ok(())
});

item_action!(
    /// `POST /app/feedback/{id}/draft`: write the answer to be reviewed.
    draft, |st, f, h| Ok(store::draft_answer(&st.db, h, &f.answer).await.map(|_| ())?));

item_action!(
    /// `POST /app/feedback/{id}/publish`: a second person publishes the reviewed answer.
    publish, |st, f, h| {
    // The draft the reviewer read: a draft changed since is not published unread.
    let input = MoveInput { draft_seen: Some(f.draft), ..Default::default() };
    store::apply(&st.db, h, Move::Answer, &input).await?;
    Ok(())
});

item_action!(
    /// `POST /app/feedback/{id}/extend`: move the deadline on, with a reason.
    extend, |st, f, h| {
    let setup = st.feedback_setup().await?;
    let days = ngoso_core::calendar::parse_days(&f.days, "days")?;
    let (category, channel) = store::deadline_basis(&st.db, h).await?;
    let kind = setup.day_kind_of(category, &channel);
    store::extend(&st.db, &setup.calendar, h, days, kind, &f.reason).await?;
    Ok(())
});

item_action!(
    /// `POST /app/feedback/{id}/hide`: hide from the public list with a reason (`hide=1`),
    /// or show it again.
    hide, |st, f, h| {
    // To hide, a reason is required: the store refuses a blank one.
    let hide = f.hide == "1";
    store::set_hidden(&st.db, h, hide.then_some(f.reason.as_str())).await?;
    Ok(())
});

item_action!(
    /// `POST /app/feedback/{id}/erase-contact`: the citizen asked for their contact to go.
    erase_contact, |st, f, h| Ok(store::erase_contact(&st.db, h).await?));

item_action!(
    /// `POST /app/feedback/{id}/note`: an internal note in the history.
    note, |st, f, h| Ok(store::note(&st.db, h, &f.note).await?));

/// `GET /app/feedback/{id}/photo`.
pub(crate) async fn photo(
    State(st): State<AppState>,
    PageUser(p): PageUser,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    let h = fb::handle(&st.db, &p, id).await?;
    // The store logs the read.
    let (mime, bytes) = store::photo(&st.db, &h).await?;
    Ok(crate::http::render::photo_response(mime, bytes))
}

/// `GET /app/feedback/new`: type in feedback for a citizen.
pub(crate) async fn new_form(
    State(st): State<AppState>,
    Ctx(ctx): Ctx,
    PageUser(p): PageUser,
) -> Result<Response, AppError> {
    ngoso_core::auth::submit_for_citizen(&p.actor())?;
    render(&super::public::form_page(&st, ctx, &Fields::default(), None, true).await?)
}

/// `POST /app/feedback/new`.
pub(crate) async fn create(
    State(st): State<AppState>,
    Ctx(ctx): Ctx,
    PageUser(p): PageUser,
    CsrfUpload(up): CsrfUpload,
) -> Result<Response, AppError> {
    ngoso_core::auth::submit_for_citizen(&p.actor())?;
    let channel = match super::public::SubmitForm::read(&up.fields)?.channel.as_str() {
        "hotline" => Channel::Hotline,
        _ => Channel::Team,
    };
    super::public::receive(&st, ctx, up, channel, Some(p.id)).await
}

#[derive(Deserialize)]
pub struct FiguresQuery {
    #[serde(default)]
    unit: Option<i64>,
    #[serde(default)]
    period: String,
}

#[derive(Template)]
#[template(path = "feedback/figures.html")]
struct FiguresPage {
    ctx: PageCtx,
    unit_name: String,
    unit_id: Option<i64>,
    period: String,
    f: fb::figures::FeedbackFigures,
}

impl FiguresPage {
    fn tables(&self) -> Vec<(String, &Vec<fb::figures::FeedbackFigureRow>)> {
        vec![
            (self.ctx.t("feedback-by-unit"), &self.f.by_unit),
            (self.ctx.t("feedback-by-category"), &self.f.by_category),
            (self.ctx.t("feedback-by-agency"), &self.f.by_agency),
        ]
    }
    fn pct(&self, r: &fb::figures::FeedbackFigureRow) -> String {
        r.on_time_pct().map(|p| self.ctx.tr.pct(p)).unwrap_or_else(|| "—".into())
    }
}

/// `GET /app/feedback/figures`: received, answered, on time and overdue, by category,
/// agency and child unit, over a period. Anyone signed in may read them for their scope.
pub(crate) async fn figures(
    State(st): State<AppState>,
    Ctx(ctx): Ctx,
    PageUser(p): PageUser,
    Query(q): Query<FiguresQuery>,
) -> Result<Response, AppError> {
    let setup = st.feedback_setup().await?;
    let unit = fb::figures::figures_unit(&st.db, &p, q.unit).await?;
    let months = fb::figures::months_of(&q.period)?;
    let f = fb::figures::figures(&st.db, &setup, unit.as_ref(), months, ctx.lang == Lang::En).await?;
    let period = if q.period.trim().is_empty() { f.from[..4].to_owned() } else { q.period.trim().to_owned() };
    render(&FiguresPage {
        unit_name: unit.as_ref().map(|u| u.name.clone()).unwrap_or_else(|| ctx.t("feedback-whole-tree")),
        unit_id: unit.as_ref().map(|u| u.id),
        period,
        f,
        ctx,
    })
}
