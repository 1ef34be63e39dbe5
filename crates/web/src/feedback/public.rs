//! The public side of citizen feedback: the form (no account needed), the receipt with the
//! tracking code, the page of an item by its code (rating and added information with the
//! citizen's key) and the list of answered items. Contact details never appear here.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use ngoso_core::Invalid;
use ngoso_core::feedback::{Channel, Rating, State as FbState, item_code};
use ngoso_store::feedback::{self as store, Item, PublicRow};
use serde::Deserialize;

use crate::AppState;
use crate::feedback::{self as fb, Setup, SubmitFields};
use crate::http::error::{AppError, message};
use crate::http::extract::{Client, CsrfForm, CsrfUpload, Fields, Path, Query, Upload};
use crate::http::i18n::Lang;
use crate::http::render::{Ctx, PageCtx, render, render_status};

/// A category as the form shows it.
pub struct CategoryView {
    pub code: String,
    pub name: String,
    pub description: String,
    pub fields: Vec<FieldView>,
}

pub struct FieldView {
    pub name: String,
    pub input: String,
    pub datatype: &'static str,
    pub required: bool,
    /// (key, name, chosen)
    pub values: Vec<(String, String, bool)>,
    pub value: String,
}

pub fn category_views(setup: &Setup, english: bool, answers: &[(String, String)]) -> Vec<CategoryView> {
    setup
        .categories
        .iter()
        .filter(|c| c.active)
        .map(|c| CategoryView {
            code: c.code.clone(),
            name: c.name(english).to_owned(),
            description: c.description(english).to_owned(),
            fields: c
                .asked_fields()
                .iter()
                .map(|f| {
                    let input = format!("attribute[{}]", f.code);
                    let given: Vec<&str> =
                        answers.iter().filter(|(k, _)| *k == f.code).map(|(_, v)| v.as_str()).collect();
                    FieldView {
                        name: f.name(english).to_owned(),
                        datatype: f.datatype.as_str(),
                        required: f.required,
                        values: f
                            .values
                            .iter()
                            .map(|v| {
                                let n = if english { &v.name_en } else { &v.name_vi };
                                (v.key.clone(), n.clone(), given.contains(&v.key.as_str()))
                            })
                            .collect(),
                        value: given.first().map(|s| s.to_string()).unwrap_or_default(),
                        input,
                    }
                })
                .collect(),
        })
        .collect()
}

/// The places of the picker: (code, indented name).
pub fn place_views(setup: &Setup) -> Vec<(String, String)> {
    setup
        .places
        .iter()
        .map(|(_, code, name, depth)| (code.clone(), format!("{}{name}", "— ".repeat(*depth as usize))))
        .collect()
}

#[derive(Template)]
#[template(path = "feedback/form.html")]
pub struct FormPage {
    pub ctx: PageCtx,
    pub categories: Vec<CategoryView>,
    pub places: Vec<(String, String)>,
    /// What the form was filled with, to show it again after an error.
    pub form: SubmitFields,
    /// The channel chosen by staff typing in for a citizen.
    pub channel: String,
    pub error: Option<String>,
    /// Staff typing in a citizen's feedback: the form posts to the staff route and asks the channel.
    pub on_behalf: bool,
    pub photo_max_mb: usize,
}

/// The named fields of the feedback form; the category's extra fields come beside them as
/// `attribute[CODE]` (and `attribute[CODE][]`, as Open311 sends lists).
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct SubmitForm {
    category: String,
    description: String,
    unit: String,
    address: String,
    lat: String,
    #[serde(rename = "long")]
    lon: String,
    contact_name: String,
    contact_phone: String,
    contact_email: String,
    /// The consent check box: present when ticked.
    consent: Option<String>,
    /// Staff typing in a citizen's feedback: how it reached them (`team`, `hotline`).
    pub channel: String,
    /// A field people do not see: a robot fills it in.
    pub website: String,
}

impl SubmitForm {
    /// Reads a posted form (a name sent twice is refused).
    pub fn read(f: &Fields) -> Result<Self, AppError> {
        f.parse()
    }

    /// The submission, with the answers to the category's extra fields.
    pub fn submission(self, f: &Fields) -> SubmitFields {
        let answers =
            f.0.iter()
                .filter_map(|(k, v)| {
                    let code = k.strip_prefix("attribute[")?;
                    let code = code.strip_suffix("][]").or_else(|| code.strip_suffix(']'))?;
                    Some((code.to_owned(), v.clone()))
                })
                .collect();
        SubmitFields {
            category: self.category,
            description: self.description,
            unit: self.unit,
            address: self.address,
            lat: self.lat,
            lon: self.lon,
            contact_name: self.contact_name,
            contact_phone: self.contact_phone,
            contact_email: self.contact_email,
            consent: self.consent.is_some_and(|c| !c.is_empty()),
            answers,
        }
    }
}

pub(crate) async fn form_page(
    st: &AppState,
    ctx: PageCtx,
    f: &Fields,
    error: Option<String>,
    on_behalf: bool,
) -> Result<FormPage, AppError> {
    let setup = st.feedback_setup().await?;
    let english = ctx.lang == Lang::En;
    // A form sent back is filled in again with what could be read of it.
    let typed = SubmitForm::read(f).unwrap_or_default();
    let channel = typed.channel.clone();
    let form = typed.submission(f);
    Ok(FormPage {
        categories: category_views(&setup, english, &form.answers),
        places: place_views(&setup),
        channel,
        form,
        error,
        on_behalf,
        photo_max_mb: (st.cfg.feedback_photo_max_bytes / 1024 / 1024).max(1),
        ctx,
    })
}

#[derive(Deserialize)]
pub struct FormQuery {
    #[serde(default)]
    category: String,
}

/// `GET /feedback`.
pub(crate) async fn form(
    State(st): State<AppState>,
    Ctx(ctx): Ctx,
    Query(q): Query<FormQuery>,
) -> Result<Response, AppError> {
    let f = Fields(vec![("category".into(), q.category)]);
    render(&form_page(&st, ctx, &f, None, false).await?)
}

#[derive(Template)]
#[template(path = "feedback/sent.html")]
pub struct SentPage {
    pub ctx: PageCtx,
    pub code: String,
    pub key: String,
    pub due: String,
    pub contact_given: bool,
}

/// Parses, cleans the photo, stores; an error sends the form back filled in.
pub(crate) async fn receive(
    st: &AppState,
    ctx: PageCtx,
    up: Upload,
    channel: Channel,
    by: Option<i64>,
) -> Result<Response, AppError> {
    let setup = st.feedback_setup().await?;
    let result = async {
        let photo =
            up.photo.as_deref().map(|b| ngoso_core::photo::clean(b, st.cfg.feedback_photo_max_bytes)).transpose()?;
        let form = SubmitForm::read(&up.fields)?.submission(&up.fields);
        let item = fb::parse_submission(&st.db, &setup, &form, channel, by, photo).await?;
        let s = fb::submit(st, &setup, &item).await?;
        let contact = item.contact_phone.is_some() || item.contact_email.is_some();
        Ok::<_, AppError>((s, contact))
    }
    .await;
    match result {
        Ok((s, contact_given)) => {
            let page = SentPage {
                due: crate::http::i18n::format_datetime(s.due_at),
                code: s.code,
                key: s.citizen_key,
                // Say it was sent only when there is a gateway to send it.
                contact_given: contact_given && st.cfg.citizen_notify_url().is_some(),
                ctx,
            };
            render_status(StatusCode::CREATED, &page)
        }
        Err(e) if e.info().status.is_client_error() => {
            let mut info = e.info().clone();
            // An extra field is named by its label in the reader's language, not by its code.
            if info.code.starts_with("attribute-")
                && let Some(code) = info.detail.as_deref()
                && let Some(field) = setup
                    .category_by_code(up.fields.get("category"))
                    .and_then(|c| c.fields.iter().find(|f| f.code == code))
            {
                let label = if ctx.lang == Lang::En { &field.name_en } else { &field.name_vi };
                info.detail = Some(label.clone());
            }
            let msg = message(ctx.lang, &info);
            render_status(info.status, &form_page(st, ctx, &up.fields, Some(msg), by.is_some()).await?)
        }
        Err(e) => Err(e),
    }
}

/// `POST /feedback`: anyone may send; a filled honeypot and too many sends are refused.
pub(crate) async fn create(
    State(st): State<AppState>,
    Ctx(ctx): Ctx,
    Client(client): Client,
    CsrfUpload(up): CsrfUpload,
) -> Result<Response, AppError> {
    let per_hour = st.cfg.feedback_per_client_per_hour;
    if !SubmitForm::read(&up.fields)?.website.is_empty() {
        st.feedback_limiter.record(&client, per_hour);
        let e = AppError::from(Invalid::new("feedback-spam"));
        let msg = message(ctx.lang, e.info());
        return render_status(e.info().status, &form_page(&st, ctx, &up.fields, Some(msg), false).await?);
    }
    if let Err(wait) = st.feedback_limiter.check(&client, per_hour) {
        return Err(AppError::too_many(wait));
    }
    let res = receive(&st, ctx, up, Channel::Web, None).await;
    if res.as_ref().is_ok_and(|r| r.status() == StatusCode::CREATED) {
        st.feedback_limiter.record(&client, per_hour);
    }
    res
}

/// An item as the public sees it.
pub struct PublicView {
    /// Staff hid the item from the public.
    pub hidden: bool,
    pub code: String,
    pub category: String,
    pub unit: String,
    /// `None` when staff hid the item from the public.
    pub description: Option<String>,
    pub state: String,
    pub state_code: String,
    pub received: String,
    pub due: String,
    pub answered: Option<String>,
    pub answer: Option<String>,
    pub rating: Option<String>,
    pub can_rate: bool,
    pub needs_info: bool,
    pub reason: Option<String>,
}

fn state_name(ctx: &PageCtx, s: &str) -> String {
    ctx.t(&format!("feedback-state-{s}"))
}

fn view(ctx: &PageCtx, setup: &Setup, it: &Item) -> PublicView {
    let english = ctx.lang == Lang::En;
    let state = it.state();
    // Hidden by staff (it holds a name, a number…): what the public lists leave out, its page
    // leaves out too: the text, the reasons and the answer. The state and dates stay, for the
    // citizen following it.
    let hidden = it.hidden_reason.is_some();
    PublicView {
        hidden,
        code: it.code.clone(),
        category: setup.category_name(it.category_id, english),
        unit: it.unit_name.clone().unwrap_or_default(),
        // Citizens' text goes public only with its published answer (and unless staff hid
        // it): before anyone has read it, it may hold names or numbers.
        description: (it.answer.is_some() && it.hidden_reason.is_none()).then(|| it.description.clone()),
        state: state_name(ctx, &it.state),
        state_code: it.state.clone(),
        received: crate::http::i18n::format_datetime(it.received_at),
        due: crate::http::i18n::format_datetime(it.due_at),
        answered: it.answered_at.map(crate::http::i18n::format_datetime),
        answer: it.answer.clone().filter(|_| !hidden),
        rating: it.rating.as_deref().map(|r| ctx.t(&format!("feedback-rating-{r}"))),
        can_rate: matches!(state, FbState::Answered | FbState::Closed),
        needs_info: state == FbState::NeedsInfo,
        // Only the reasons the citizen must read: what is asked of them, why it was refused.
        reason: matches!(state, FbState::NeedsInfo | FbState::Rejected)
            .then(|| it.reason.clone())
            .flatten()
            .filter(|_| !hidden),
    }
}

#[derive(Template)]
#[template(path = "feedback/item.html")]
pub struct ItemPage {
    pub ctx: PageCtx,
    pub item: PublicView,
    pub notice: Option<String>,
    pub error: Option<String>,
    pub ratings: Vec<(&'static str, String)>,
}

async fn item_page(
    st: &AppState,
    ctx: PageCtx,
    code: &str,
    notice: Option<String>,
    error: Option<String>,
) -> Result<ItemPage, AppError> {
    let setup = st.feedback_setup().await?;
    let it = store::public_by_code(&st.db, code).await?;
    let ratings = Rating::ALL.iter().map(|r| (r.as_str(), ctx.t(&format!("feedback-rating-{}", r.as_str())))).collect();
    Ok(ItemPage { item: view(&ctx, &setup, &it), notice, error, ratings, ctx })
}

#[derive(Deserialize)]
pub struct ShowQuery {
    #[serde(default)]
    done: String,
}

/// `GET /feedback/{code}`: the public page of an item.
pub(crate) async fn show(
    State(st): State<AppState>,
    Ctx(ctx): Ctx,
    Path(code): Path<String>,
    Query(q): Query<ShowQuery>,
) -> Result<Response, AppError> {
    let code = item_code(&code).map_err(|_| AppError::not_found())?;
    let notice = match q.done.as_str() {
        "rated" => Some(ctx.t("feedback-rated")),
        "info" => Some(ctx.t("feedback-info-sent")),
        _ => None,
    };
    render(&item_page(&st, ctx, &code, notice, None).await?)
}

#[derive(Template)]
#[template(path = "feedback/track.html")]
pub struct TrackPage {
    pub ctx: PageCtx,
    pub code: String,
    pub error: Option<String>,
}

#[derive(Deserialize)]
pub struct TrackQuery {
    #[serde(default)]
    code: String,
}

/// `GET /feedback/track?code=…`: look an item up by its code, ours or the one an earlier
/// system gave an item imported with it.
pub(crate) async fn track(
    State(st): State<AppState>,
    Ctx(ctx): Ctx,
    Query(q): Query<TrackQuery>,
) -> Result<Response, AppError> {
    if q.code.trim().is_empty() {
        return render(&TrackPage { ctx, code: String::new(), error: None });
    }
    let code: String = q.code.chars().take(40).collect();
    let c = match item_code(&q.code) {
        Ok(c) => c,
        Err(e) => {
            let e = AppError::from(e);
            let msg = message(ctx.lang, e.info());
            return render_status(e.info().status, &TrackPage { ctx, code, error: Some(msg) });
        }
    };
    match store::id_by_code(&st.db, &c).await {
        Ok(_) => Ok(Redirect::to(&format!("/feedback/{c}")).into_response()),
        Err(ngoso_store::StoreError::NotFound) => {
            let error = Some(ctx.tr.t1("feedback-track-unknown", "code", &c));
            render_status(StatusCode::NOT_FOUND, &TrackPage { ctx, code, error })
        }
        Err(e) => Err(e.into()),
    }
}

async fn citizen_action(
    st: &AppState,
    ctx: PageCtx,
    code: &str,
    done: &str,
    act: impl AsyncFnOnce(&str) -> Result<(), ngoso_store::StoreError>,
) -> Result<Response, AppError> {
    let code = item_code(code).map_err(|_| AppError::not_found())?;
    match act(&code).await {
        Ok(()) => Ok(Redirect::to(&format!("/feedback/{code}?done={done}")).into_response()),
        Err(e) => {
            let e = AppError::from(e);
            if !e.info().status.is_client_error() || e.info().status == StatusCode::NOT_FOUND {
                return Err(e);
            }
            let msg = message(ctx.lang, e.info());
            render_status(e.info().status, &item_page(st, ctx, &code, None, Some(msg)).await?)
        }
    }
}

/// What a citizen sends about their item, with the secret key they were given.
#[derive(Deserialize)]
#[serde(default)]
#[derive(Default)]
pub(crate) struct CitizenForm {
    key: String,
    rating: String,
    info: String,
}

/// `POST /feedback/{code}/rating`: the citizen rates the answer, with their key.
pub(crate) async fn rate(
    State(st): State<AppState>,
    Ctx(ctx): Ctx,
    Path(code): Path<String>,
    CsrfForm(f): CsrfForm<CitizenForm>,
) -> Result<Response, AppError> {
    let CitizenForm { key, rating, .. } = f;
    let db = st.db.clone();
    citizen_action(&st, ctx, &code, "rated", async move |c| {
        let r = Rating::parse(&rating)?;
        store::rate(&db, c, &key, r).await
    })
    .await
}

/// `POST /feedback/{code}/info`: the citizen sends the information asked for.
pub(crate) async fn add_info(
    State(st): State<AppState>,
    Ctx(ctx): Ctx,
    Path(code): Path<String>,
    CsrfForm(f): CsrfForm<CitizenForm>,
) -> Result<Response, AppError> {
    let CitizenForm { key, info, .. } = f;
    let db = st.db.clone();
    citizen_action(&st, ctx, &code, "info", async move |c| store::add_info(&db, c, &key, &info).await).await
}

#[derive(Template)]
#[template(path = "feedback/list.html")]
pub struct ListPage {
    pub ctx: PageCtx,
    pub items: Vec<PublicView>,
    pub next_page: Option<u32>,
    pub prev_page: Option<u32>,
    /// The filter: the query typed, the unit chosen, the units to choose from, and both as
    /// a query string for the page links.
    pub q: String,
    pub unit: Option<i64>,
    /// (id, name indented by depth).
    pub units: Vec<(i64, String)>,
    pub filter_qs: String,
}

/// The last page a list goes to (a deeper offset only costs the database).
pub const MAX_PAGE: u32 = 10_000;

#[derive(Deserialize)]
pub struct PageQuery {
    #[serde(default)]
    page: u32,
    /// Folded search in the code and description.
    #[serde(default)]
    q: String,
    /// Inside this unit (an id; empty: everywhere).
    #[serde(default)]
    unit: String,
}

fn public_view(ctx: &PageCtx, setup: &Setup, r: &PublicRow) -> PublicView {
    let english = ctx.lang == Lang::En;
    PublicView {
        hidden: false,
        code: r.code.clone(),
        category: setup.category_name(r.category_id, english),
        unit: r.unit_name.clone().unwrap_or_default(),
        description: Some(r.description.clone()),
        state: state_name(ctx, &r.state),
        state_code: r.state.clone(),
        received: crate::http::i18n::format_datetime(r.received_at),
        due: String::new(),
        answered: r.answered_at.map(crate::http::i18n::format_datetime),
        answer: r.answer.clone(),
        rating: r.rating.as_deref().map(|x| ctx.t(&format!("feedback-rating-{x}"))),
        can_rate: false,
        needs_info: false,
        reason: None,
    }
}

/// `GET /feedback/answered?unit=&q=&page=`: answered items, newest answer first, inside a
/// unit and searched (folded) in their code and description.
pub(crate) async fn answered(
    State(st): State<AppState>,
    Ctx(ctx): Ctx,
    Query(q): Query<PageQuery>,
) -> Result<Response, AppError> {
    let setup = st.feedback_setup().await?;
    let page = q.page.min(MAX_PAGE);
    let units = store::public_units(&st.db).await?;
    let top = units.iter().map(|u| u.2).min().unwrap_or(0);
    let units =
        units.into_iter().map(|(id, name, d)| (id, format!("{}{name}", "\u{a0}\u{a0}".repeat(d - top)))).collect();
    // Any unit (an unknown one is not found); not a number: everywhere.
    let unit = q.unit.trim().parse::<i64>().ok();
    let within = match unit {
        Some(id) => Some(ngoso_store::units::get(&st.db, id).await?.unit_path()),
        None => None,
    };
    let filter = store::PublicFilter { within, query: q.q.trim().to_owned(), page };
    let mut rows = store::public_list(&st.db, &filter).await?;
    let more = rows.len() as i64 > store::PUBLIC_PAGE;
    rows.truncate(store::PUBLIC_PAGE as usize);
    let items = rows.iter().map(|r| public_view(&ctx, &setup, r)).collect();
    let filter_qs = format!(
        "q={}&unit={}",
        crate::http::render::urlencode(&filter.query),
        unit.map(|u| u.to_string()).unwrap_or_default()
    );
    render(&ListPage {
        items,
        next_page: more.then_some(page + 1),
        prev_page: page.checked_sub(1),
        q: filter.query,
        unit,
        units,
        filter_qs,
        ctx,
    })
}
