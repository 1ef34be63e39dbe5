//! The catalogue's page.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use ngoso_core::auth::Action;

use super::{NewGroup, NewService, NewStatus, ServiceUpdate};
use crate::AppState;
use crate::auth::{PageUser, can_anywhere};
use crate::http::error::{AppError, message};
use crate::http::extract::{CsrfForm, Path};
use crate::http::render::{Ctx, PageCtx, render, render_status};

struct ServiceRow {
    id: i64,
    code: String,
    name: String,
    name_vi: String,
    name_en: String,
    active: bool,
    subject: String,
    statuses: Vec<(String, String)>,
}

#[derive(Template)]
#[template(path = "services/index.html")]
struct Page {
    ctx: PageCtx,
    services: Vec<ServiceRow>,
    /// Residents' groups: code and name.
    groups: Vec<(String, String)>,
    can_manage: bool,
    error: Option<String>,
}

async fn page(
    st: &AppState,
    ctx: PageCtx,
    p: &ngoso_store::users::Principal,
    error: Option<String>,
) -> Result<Page, AppError> {
    let english = ctx.lang == crate::http::i18n::Lang::En;
    let cat = st.catalog().await?;
    let services = cat
        .services
        .iter()
        .map(|s| ServiceRow {
            id: s.id,
            code: s.code.clone(),
            name: s.name(english).to_owned(),
            name_vi: s.name_vi.clone(),
            name_en: s.name_en.clone(),
            active: s.active,
            subject: ctx.t(&format!("services-subject-{}", s.subject)),
            statuses: s.statuses.iter().map(|x| (x.code.clone(), x.name(english).to_owned())).collect(),
        })
        .collect();
    let groups = ngoso_store::households::groups(&st.db)
        .await?
        .into_iter()
        .map(|g| (g.name(english).to_owned(), g.code))
        .map(|(name, code)| (code, name))
        .collect();
    Ok(Page { can_manage: can_anywhere(p, Action::ManageSystem), services, groups, error, ctx })
}

/// `GET /app/services`.
pub(super) async fn index(
    State(st): State<AppState>,
    Ctx(ctx): Ctx,
    PageUser(p): PageUser,
) -> Result<Response, AppError> {
    render(&page(&st, ctx, &p, None).await?)
}

/// The catalogue again after a change, or with the reason it was refused.
async fn done(
    st: &AppState,
    ctx: PageCtx,
    p: &ngoso_store::users::Principal,
    r: Result<i64, AppError>,
) -> Result<Response, AppError> {
    match r {
        Ok(_) => Ok(Redirect::to("/app/services").into_response()),
        Err(e) if e.info().status.is_client_error() && e.info().status != StatusCode::NOT_FOUND => {
            let msg = message(ctx.lang, e.info());
            render_status(e.info().status, &page(st, ctx, p, Some(msg)).await?)
        }
        Err(e) => Err(e),
    }
}

/// `POST /app/services`.
pub(super) async fn create(
    State(st): State<AppState>,
    Ctx(ctx): Ctx,
    PageUser(p): PageUser,
    CsrfForm(f): CsrfForm<NewService>,
) -> Result<Response, AppError> {
    let r = super::create_service(&st, &p, &f).await;
    done(&st, ctx, &p, r).await
}

/// `POST /app/services/{id}/statuses`.
pub(super) async fn add_status(
    State(st): State<AppState>,
    Ctx(ctx): Ctx,
    PageUser(p): PageUser,
    Path(id): Path<i64>,
    CsrfForm(f): CsrfForm<NewStatus>,
) -> Result<Response, AppError> {
    let r = super::add_status(&st, &p, id, &f).await;
    done(&st, ctx, &p, r).await
}

/// `POST /app/services/groups`.
pub(super) async fn add_group(
    State(st): State<AppState>,
    Ctx(ctx): Ctx,
    PageUser(p): PageUser,
    CsrfForm(f): CsrfForm<NewGroup>,
) -> Result<Response, AppError> {
    let r = super::add_group(&st, &p, &f).await;
    done(&st, ctx, &p, r).await
}

/// The service form: names, or the switch that offers or withdraws it.
#[derive(serde::Deserialize)]
pub(super) struct ServiceForm {
    name_vi: Option<String>,
    name_en: Option<String>,
    active: Option<String>,
}

/// `POST /app/services/{id}`: rename, withdraw or offer again.
pub(super) async fn update(
    State(st): State<AppState>,
    Ctx(ctx): Ctx,
    PageUser(p): PageUser,
    Path(id): Path<i64>,
    CsrfForm(f): CsrfForm<ServiceForm>,
) -> Result<Response, AppError> {
    let u = ServiceUpdate {
        name_vi: f.name_vi,
        name_en: f.name_en,
        active: f.active.map(|a| a == "1"),
        statuses: Vec::new(),
    };
    let r = super::update_service(&st, &p, id, &u).await.map(|_| id);
    done(&st, ctx, &p, r).await
}
