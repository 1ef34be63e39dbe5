//! A unit's places: counts by kind today, the list, a form to add one and a CSV import.

use askama::Template;
use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use ngoso_core::auth::Action;
use ngoso_core::place::PlaceKind;
use ngoso_store::places;
use ngoso_store::units::Unit;
use ngoso_store::users::Principal;

use super::PlaceInput;
use crate::AppState;
use crate::auth::{PageUser, can};
use crate::http::error::{AppError, message};
use crate::http::extract::{CsrfForm, CsrfUpload, Path};
use crate::http::i18n::format_date;
use crate::http::render::{Ctx, PageCtx, render, render_status};

struct Row {
    name: String,
    code: String,
    kind: String,
    unit_code: String,
    since: String,
}

#[derive(Template)]
#[template(path = "places/index.html")]
struct Index {
    ctx: PageCtx,
    unit: Unit,
    counts: Vec<(String, i64, i64, i64)>,
    rows: Vec<Row>,
    can_add: bool,
    notice: Option<String>,
    error: Option<String>,
}

async fn page(
    st: &AppState,
    ctx: PageCtx,
    p: &Principal,
    unit: Unit,
    notice: Option<String>,
    error: Option<String>,
) -> Result<Index, AppError> {
    let path = unit.unit_path();
    let today = ngoso_core::calendar::local_day(ngoso_store::now());
    let c = places::counts(&st.db, &path, today).await?;
    let counts = PlaceKind::ALL
        .into_iter()
        .map(|k| {
            let n = c.get(&k).copied().unwrap_or_default();
            (ctx.t(&format!("place-{}", k.as_str())), n.total, n.cashless, n.online)
        })
        .collect();
    let rows = places::list(&st.db, &path, 2_000)
        .await?
        .into_iter()
        .map(|x| Row {
            kind: ctx.t(&format!("place-{}", x.kind)),
            since: x.cashless_since.as_ref().map(format_date).unwrap_or_else(|| "—".into()),
            name: x.name,
            code: x.code,
            unit_code: x.unit_code,
        })
        .collect();
    Ok(Index { can_add: can(p, Action::EnterData, &path), counts, rows, notice, error, unit, ctx })
}

/// `GET /app/units/{id}/places`.
pub(super) async fn index(
    State(st): State<AppState>,
    Ctx(ctx): Ctx,
    PageUser(p): PageUser,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    let unit = crate::units::visible(&st.db, &p, id).await?;
    render(&page(&st, ctx, &p, unit, None, None).await?)
}

async fn done(
    st: &AppState,
    ctx: PageCtx,
    p: &Principal,
    unit: Unit,
    r: Result<Vec<i64>, AppError>,
) -> Result<Response, AppError> {
    match r {
        Ok(ids) if ids.len() == 1 => Ok(Redirect::to(&format!("/app/units/{}/places", unit.id)).into_response()),
        Ok(ids) => {
            let notice = ctx.tr.t1("places-imported", "count", ctx.tr.num(&(ids.len() as i64)));
            render(&page(st, ctx, p, unit, Some(notice), None).await?)
        }
        Err(e) if e.is_refusal() => {
            let msg = message(ctx.lang, e.info());
            render_status(e.info().status, &page(st, ctx, p, unit, None, Some(msg)).await?)
        }
        Err(e) => Err(e),
    }
}

/// `POST /app/units/{id}/places`: one place in this unit.
pub(super) async fn create(
    State(st): State<AppState>,
    Ctx(ctx): Ctx,
    PageUser(p): PageUser,
    Path(id): Path<i64>,
    CsrfForm(mut f): CsrfForm<PlaceInput>,
) -> Result<Response, AppError> {
    let unit = crate::units::visible(&st.db, &p, id).await?;
    f.unit_code = unit.code.clone();
    let r = super::create(&st, &p, vec![f]).await.map_err(|mut e| {
        e.0.row = None;
        e
    });
    done(&st, ctx, &p, unit, r).await
}

/// `POST /app/units/{id}/places/import`: a CSV file, all or none.
pub(super) async fn import(
    State(st): State<AppState>,
    Ctx(ctx): Ctx,
    PageUser(p): PageUser,
    Path(id): Path<i64>,
    CsrfUpload(up): CsrfUpload,
) -> Result<Response, AppError> {
    let unit = crate::units::visible(&st.db, &p, id).await?;
    let r = match super::parse_csv(up.fields.get("file")) {
        Ok(rows) => super::create(&st, &p, rows).await,
        Err(e) => Err(e),
    };
    done(&st, ctx, &p, unit, r).await
}
