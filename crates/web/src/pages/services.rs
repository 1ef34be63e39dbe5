//! The service catalogue: everyone signed in reads it; administrators of the whole tree add
//! services and statuses.

use askama::Template;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use ngoso_core::auth::Action;
use ngoso_store::catalog;

use super::fields::Fields;
use crate::AppState;
use crate::auth::csrf::Csrf;
use crate::auth::{PageUser, can_anywhere};
use crate::error::{AppError, message};
use crate::pages::{Ctx, PageCtx, render, render_status};

struct ServiceRow {
    id: i64,
    code: String,
    name: String,
    subject: String,
    statuses: Vec<(String, String)>,
}

#[derive(Template)]
#[template(path = "services.html")]
struct Page {
    ctx: PageCtx,
    services: Vec<ServiceRow>,
    can_manage: bool,
    error: Option<String>,
}

async fn page(
    st: &AppState,
    ctx: PageCtx,
    p: &ngoso_store::users::Principal,
    error: Option<String>,
) -> Result<Page, AppError> {
    let english = ctx.lang == crate::i18n::Lang::En;
    let cat = st.catalog().await?;
    let services = cat
        .services
        .iter()
        .map(|s| ServiceRow {
            id: s.id,
            code: s.code.clone(),
            name: s.name(english).to_owned(),
            subject: ctx.t(&format!("services-subject-{}", s.subject)),
            statuses: s.statuses.iter().map(|x| (x.code.clone(), x.name(english).to_owned())).collect(),
        })
        .collect();
    Ok(Page { can_manage: can_anywhere(p, Action::ManageSystem), services, error, ctx })
}

/// `GET /app/services`.
pub async fn index(State(st): State<AppState>, Ctx(ctx): Ctx, PageUser(p): PageUser) -> Result<Response, AppError> {
    render(&page(&st, ctx, &p, None).await?)
}

async fn done(
    st: &AppState,
    ctx: PageCtx,
    p: &ngoso_store::users::Principal,
    r: Result<i64, ngoso_store::StoreError>,
) -> Result<Response, AppError> {
    match r {
        Ok(_) => {
            st.catalog_changed().await;
            Ok(Redirect::to("/app/services").into_response())
        }
        Err(e) => {
            let e = AppError::from(e);
            if e.info().status.is_server_error() || e.info().status == axum::http::StatusCode::NOT_FOUND {
                return Err(e);
            }
            let msg = message(ctx.lang, e.info());
            render_status(e.info().status, &page(st, ctx, p, Some(msg)).await?)
        }
    }
}

/// `POST /app/services`.
pub async fn create(
    State(st): State<AppState>,
    Ctx(ctx): Ctx,
    PageUser(p): PageUser,
    csrf: Csrf,
    f: Fields,
) -> Result<Response, AppError> {
    csrf.verify(f.get("csrf"))?;
    if !can_anywhere(&p, Action::ManageSystem) {
        return Err(AppError::forbidden());
    }
    let r = catalog::create_service(&st.db, f.get("code"), f.get("name_vi"), f.get("name_en"), f.get("subject")).await;
    if let Ok(id) = &r {
        crate::teams::log(&st.db, &p, "service.create", "service", *id, f.get("code")).await;
    }
    done(&st, ctx, &p, r).await
}

/// `POST /app/services/{id}/statuses`.
pub async fn add_status(
    State(st): State<AppState>,
    Ctx(ctx): Ctx,
    PageUser(p): PageUser,
    csrf: Csrf,
    Path(id): Path<i64>,
    f: Fields,
) -> Result<Response, AppError> {
    csrf.verify(f.get("csrf"))?;
    if !can_anywhere(&p, Action::ManageSystem) {
        return Err(AppError::forbidden());
    }
    let r = catalog::add_status(&st.db, id, f.get("code"), f.get("name_vi"), f.get("name_en")).await;
    if r.is_ok() {
        crate::teams::log(&st.db, &p, "status.create", "service", id, f.get("code")).await;
    }
    done(&st, ctx, &p, r).await
}
