//! The set-up of citizen feedback, for administrators of the whole tree: categories with
//! their deadlines and extra fields, agencies and their webhooks, staff of agencies, routing
//! rules, holidays and declared working days, and the API keys of Open311 clients.

use askama::Template;
use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use ngoso_core::Invalid;
use ngoso_core::auth::Action;
use ngoso_core::calendar::DayOff;
use ngoso_core::feedback::ExtraField;
use ngoso_store::feedback_setup::{self as setup, ApiKey, CalendarDay, Category, NewCategory, Route};
use ngoso_store::users::Principal;

use crate::AppState;
use crate::auth::{PageUser, can_anywhere};
use crate::http::error::{AppError, message};
use crate::http::extract::{CsrfFields, Fields, Path};
use crate::http::i18n::{Lang, format_datetime};
use crate::http::render::{Ctx, PageCtx, render, render_status};

#[derive(Template)]
#[template(path = "feedback/setup.html")]
struct Page {
    ctx: PageCtx,
    categories: Vec<Category>,
    agencies: Vec<ngoso_store::feedback_setup::Agency>,
    routes: Vec<Route>,
    days: Vec<CalendarDay>,
    keys: Vec<(ApiKey, String)>,
    datatypes: Vec<&'static str>,
    channels: Vec<&'static str>,
    english: bool,
    error: Option<String>,
    /// A secret to show once (a new API key or webhook secret).
    secret: Option<(String, String)>,
    /// Notifications: (waiting, delivered, given up) and the newest undelivered.
    outbox: (i64, i64, i64),
    undelivered: Vec<(ngoso_store::outbox::Listed, String)>,
}

fn ensure_admin(p: &Principal) -> Result<(), AppError> {
    if can_anywhere(p, Action::ManageSystem) { Ok(()) } else { Err(AppError::forbidden()) }
}

async fn page(
    st: &AppState,
    ctx: PageCtx,
    error: Option<String>,
    secret: Option<(String, String)>,
) -> Result<Page, AppError> {
    Ok(Page {
        categories: setup::categories(&st.db).await?,
        agencies: setup::agencies(&st.db).await?,
        routes: setup::routes(&st.db).await?,
        days: setup::calendar_days(&st.db).await?,
        keys: setup::keys(&st.db)
            .await?
            .into_iter()
            .map(|k| {
                let used = k.last_used_at.map(format_datetime).unwrap_or_default();
                (k, used)
            })
            .collect(),
        datatypes: ngoso_core::feedback::Datatype::ALL.iter().map(|d| d.as_str()).collect(),
        channels: ngoso_core::feedback::Channel::ALL.iter().map(|c| c.as_str()).collect(),
        english: ctx.lang == Lang::En,
        error,
        secret,
        outbox: ngoso_store::outbox::counts(&st.db).await?,
        undelivered: ngoso_store::outbox::undelivered(&st.db, 20)
            .await?
            .into_iter()
            .map(|m| {
                let at = format_datetime(m.created_at);
                (m, at)
            })
            .collect(),
        ctx,
    })
}

/// `GET /app/feedback/setup`.
pub(crate) async fn show(
    State(st): State<AppState>,
    Ctx(ctx): Ctx,
    PageUser(p): PageUser,
) -> Result<Response, AppError> {
    ensure_admin(&p)?;
    render(&page(&st, ctx, None, None).await?)
}

/// Runs a change; on success forgets the cached set-up and shows the page (with a secret to
/// show once, if any); a refusal shows the page with the reason.
async fn change(
    st: &AppState,
    ctx: PageCtx,
    p: &Principal,
    f: &Fields,
    audit: Audited<'_>,
    run: impl AsyncFnOnce() -> Result<Option<(String, String)>, AppError>,
) -> Result<Response, AppError> {
    ensure_admin(p)?;
    match run().await {
        Ok(secret) => {
            st.feedback_setup_changed().await;
            // The object is the id in the path (0 for additions to a list, or a day).
            let object = audit.key.parse().unwrap_or(0);
            crate::auth::audit::log(&st.db, p, audit.action, "feedback_setup", object, &audit_detail(audit.key, f))
                .await;
            match secret {
                Some(s) => render(&page(st, ctx, None, Some(s)).await?),
                None => Ok(Redirect::to("/app/feedback/setup").into_response()),
            }
        }
        Err(e) if e.info().status.is_client_error() => {
            let msg = message(ctx.lang, e.info());
            render_status(e.info().status, &page(st, ctx, Some(msg), None).await?)
        }
        Err(e) => Err(e),
    }
}

/// How a change of the set-up is audit-logged: its action, and the path's key of the object
/// changed (an id or a day; empty for additions to a list).
struct Audited<'a> {
    action: &'a str,
    key: &'a str,
}

/// What an administrator sent, for the audit log: the object's key from the path (an id or a
/// day), then every field but the CSRF token, cut short.
fn audit_detail(key: &str, f: &Fields) -> String {
    let path = (!key.is_empty()).then(|| format!("path={key}"));
    let fields = f.0.iter().filter(|(k, _)| k != "csrf").map(|(k, v)| match k.as_str() {
        // A webhook's path or query may carry a token of the receiver's: only its host is kept.
        "webhook_url" => format!(
            "{k}={}",
            reqwest::Url::parse(v.trim()).ok().and_then(|u| u.host_str().map(str::to_owned)).unwrap_or_default()
        ),
        _ => format!("{k}={}", v.trim()),
    });
    let all: Vec<String> = path.into_iter().chain(fields).collect();
    all.join("; ").chars().take(500).collect()
}

macro_rules! handler {
    ($(#[$m:meta])* $name:ident, $what:literal, |$st:ident, $f:ident, $p:ident $(, $id:ident)?| $body:expr) => {
        $(#[$m])*
        pub async fn $name(
            State($st): State<AppState>,
            Ctx(ctx): Ctx,
            PageUser($p): PageUser,
                    $(Path($id): Path<String>,)?
            CsrfFields(fields): CsrfFields,
        ) -> Result<Response, AppError> {
            #[allow(unused_variables)]
            let $f: SetupForm = fields.parse()?;
            let (st2, f2, p2) = ($st.clone(), fields.clone(), $p.clone());
            let key: String = String::new() $(+ $id.as_str())?;
            let audit = Audited { action: $what, key: &key };
            change(&st2, ctx, &p2, &f2, audit, async move || {
                let _ = &$p;
                $body
            })
            .await
        }
    };
}

/// The fields the set-up page's forms post (each form some of them).
#[derive(Debug, Default, Clone, serde::Deserialize)]
#[serde(default)]
pub(crate) struct SetupForm {
    active: String,
    agency: String,
    category: String,
    channel: String,
    code: String,
    datatype: String,
    day: String,
    day_kind: String,
    deadline_days: String,
    description_en: String,
    description_vi: String,
    kind: String,
    name: String,
    name_en: String,
    name_vi: String,
    required: String,
    unit: String,
    username: String,
    values: String,
    webhook_url: String,
}

/// A webhook at a private or local address is refused when it is saved, unless such addresses
/// are allowed (`webhook_private_addresses`): it would never be sent.
fn webhook_allowed(st: &AppState, url: &str) -> Result<(), AppError> {
    match crate::jobs::outbox::private_host(url).filter(|_| !st.cfg.webhook_private_addresses) {
        Some(host) => Err(Invalid::field("webhook-address-private", "webhook_url").with_detail(host).into()),
        None => Ok(()),
    }
}

fn id_of(s: &str) -> Result<i64, AppError> {
    s.parse().map_err(|_| AppError::not_found())
}

fn opt_id(s: &str, field: &'static str) -> Result<Option<i64>, AppError> {
    match s.trim() {
        "" => Ok(None),
        v => Ok(Some(v.parse().map_err(|_| Invalid::field("required", field))?)),
    }
}

handler!(
    /// `POST /app/feedback/setup/categories`.
    add_category, "feedback.category.create", |st, f, p| {
    setup::create_category(&st.db, &NewCategory {
        code: &f.code,
        name_vi: &f.name_vi,
        name_en: &f.name_en,
        description_vi: &f.description_vi,
        description_en: &f.description_en,
        deadline_days: &f.deadline_days,
        day_kind: &f.day_kind,
    }).await?;
    Ok(None)
});

handler!(
    /// `POST /app/feedback/setup/categories/{id}/fields`.
    add_field, "feedback.category.field", |st, f, p, id| {
    let field = ExtraField::parse(&f.code, &f.name_vi, &f.name_en, &f.datatype,
        f.required == "1", &f.values)?;
    setup::add_field(&st.db, id_of(&id)?, field).await?;
    Ok(None)
});

handler!(
    /// `POST /app/feedback/setup/categories/{id}/names`: rename, rewrite the descriptions.
    rename_category, "feedback.category.rename", |st, f, p, id| {
    setup::rename_category(&st.db, id_of(&id)?, &f.name_vi, &f.name_en, &f.description_vi,
        &f.description_en).await?;
    Ok(None)
});

handler!(
    /// `POST /app/feedback/setup/categories/{id}/fields/names`: rename an extra field.
    rename_field, "feedback.category.field_rename", |st, f, p, id| {
    setup::rename_field(&st.db, id_of(&id)?, &f.code, &f.name_vi, &f.name_en).await?;
    Ok(None)
});

handler!(
    /// `POST /app/feedback/setup/categories/{id}/deadline`.
    set_deadline, "feedback.category.deadline", |st, f, p, id| {
    setup::set_deadline(&st.db, id_of(&id)?, &f.deadline_days, &f.day_kind).await?;
    Ok(None)
});

handler!(
    /// `POST /app/feedback/setup/categories/{id}/channel-deadlines`: a deadline for one channel.
    set_channel_deadline, "feedback.category.channel_deadline", |st, f, p, id| {
    setup::set_channel_deadline(&st.db, id_of(&id)?, &f.channel, &f.deadline_days, &f.day_kind).await?;
    Ok(None)
});

handler!(
    /// `POST /app/feedback/setup/categories/{id}/channel-deadlines/delete`: the category's own
    /// deadline applies to the channel again.
    remove_channel_deadline, "feedback.category.channel_deadline_removed", |st, f, p, id| {
    setup::remove_channel_deadline(&st.db, id_of(&id)?, &f.channel).await?;
    Ok(None)
});

handler!(
    /// `POST /app/feedback/setup/categories/{id}/active`.
    set_active, "feedback.category.active", |st, f, p, id| {
    setup::set_category_active(&st.db, id_of(&id)?, f.active == "1").await?;
    Ok(None)
});

handler!(
    /// `POST /app/feedback/setup/categories/{id}/fields/withdrawn`: withdraw a field or ask it again.
    set_field_withdrawn, "feedback.category.field_withdrawn", |st, f, p, id| {
    setup::set_field_withdrawn(&st.db, id_of(&id)?, &f.code, f.active == "1").await?;
    Ok(None)
});

handler!(
    /// `POST /app/feedback/setup/categories/{id}/fields/delete`: a field never answered.
    delete_field, "feedback.category.field_delete", |st, f, p, id| {
    setup::delete_field(&st.db, id_of(&id)?, &f.code).await?;
    Ok(None)
});

handler!(
    /// `POST /app/feedback/setup/categories/{id}/delete`: a category never used.
    delete_category, "feedback.category.delete", |st, f, p, id| {
    setup::delete_category(&st.db, id_of(&id)?).await?;
    Ok(None)
});

handler!(
    /// `POST /app/feedback/setup/agencies/{id}/active`: withdraw an agency or offer it again.
    set_agency_active, "feedback.agency.active", |st, f, p, id| {
    setup::set_agency_active(&st.db, id_of(&id)?, f.active == "1").await?;
    Ok(None)
});

handler!(
    /// `POST /app/feedback/setup/agencies/{id}/delete`: an agency never used.
    delete_agency, "feedback.agency.delete", |st, f, p, id| {
    setup::delete_agency(&st.db, id_of(&id)?).await?;
    Ok(None)
});

handler!(
    /// `POST /app/feedback/setup/agencies`.
    add_agency, "feedback.agency.create", |st, f, p| {
    webhook_allowed(&st, &f.webhook_url)?;
    let (_, secret) = setup::create_agency(&st.db, &f.code, &f.name_vi, &f.name_en, &f.webhook_url).await?;
    Ok(secret.map(|s| ("webhook".to_owned(), s)))
});

handler!(
    /// `POST /app/feedback/setup/agencies/{id}/names`.
    rename_agency, "feedback.agency.rename", |st, f, p, id| {
    setup::rename_agency(&st.db, id_of(&id)?, &f.name_vi, &f.name_en).await?;
    Ok(None)
});

handler!(
    /// `POST /app/feedback/setup/agencies/{id}/webhook`.
    set_webhook, "feedback.agency.webhook", |st, f, p, id| {
    webhook_allowed(&st, &f.webhook_url)?;
    let secret = setup::set_webhook(&st.db, id_of(&id)?, &f.webhook_url).await?;
    Ok(secret.map(|s| ("webhook".to_owned(), s)))
});

handler!(
    /// `POST /app/feedback/setup/staff`: attach an account to an agency.
    set_staff, "feedback.agency.staff", |st, f, p| {
    let name = ngoso_core::user::Username::parse(&f.username)?;
    let user = ngoso_store::users::by_username(&st.db, &name).await?.ok_or_else(|| Invalid::field("user-unknown", "username").with_detail(name.as_str()))?;
    let agency = opt_id(&f.agency, "agency")?;
    setup::set_user_agency(&st.db, user.id, agency).await?;
    Ok(None)
});

handler!(
    /// `POST /app/feedback/setup/routes`.
    add_route, "feedback.route.set", |st, f, p| {
    let unit = match f.unit.trim() {
        "" => None,
        code => Some(ngoso_store::units::by_code(&st.db, code).await
            .map_err(|_| Invalid::field("unit-unknown", "unit").with_detail(code))?.id),
    };
    let agency = opt_id(&f.agency, "agency")?.ok_or(Invalid::field("required", "agency"))?;
    setup::set_route(&st.db, opt_id(&f.category, "category")?, unit, agency).await
        .map_err(|e| match e { ngoso_store::StoreError::NotFound => AppError::from(Invalid::field("agency-unknown", "agency")), e => e.into() })?;
    Ok(None)
});

handler!(
    /// `POST /app/feedback/setup/routes/{id}/delete`.
    delete_route, "feedback.route.delete", |st, f, p, id| {
    setup::delete_route(&st.db, id_of(&id)?).await?;
    Ok(None)
});

handler!(
    /// `POST /app/feedback/setup/days`.
    set_day, "feedback.calendar.set", |st, f, p| {
    let day = ngoso_core::calendar::parse_day(&f.day, "day")?;
    setup::set_day(&st.db, day, DayOff::parse(&f.kind)?, &f.name).await?;
    Ok(None)
});

handler!(
    /// `POST /app/feedback/setup/days/{day}/delete`.
    delete_day, "feedback.calendar.delete", |st, f, p, day| {
    let day = ngoso_core::calendar::parse_day(&day, "day").map_err(|_| AppError::not_found())?;
    setup::remove_day(&st.db, day).await?;
    Ok(None)
});

handler!(
    /// `POST /app/feedback/setup/keys`: a new Open311 API key, shown once.
    add_key, "feedback.api_key.create", |st, f, p| {
    let (_, key) = setup::create_key(&st.db, &f.name, Some(p.id)).await?;
    Ok(Some(("api_key".to_owned(), key)))
});

handler!(
    /// `POST /app/feedback/setup/keys/{id}/revoke`.
    revoke_key, "feedback.api_key.revoke", |st, f, p, id| {
    setup::revoke_key(&st.db, id_of(&id)?).await?;
    Ok(None)
});

handler!(
    /// `POST /app/feedback/setup/outbox/{id}/retry`: send a given-up notification again.
    retry_message, "feedback.outbox.retry", |st, f, p, id| {
    ngoso_store::outbox::retry(&st.db, id_of(&id)?).await?;
    Ok(None)
});
