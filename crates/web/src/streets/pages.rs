//! The public pages of a place and of its route, the plaques, and the page where a model's
//! unit manages the route's places.

use askama::Template;
use axum::extract::State;
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Redirect, Response};
use ngoso_core::auth::Action;
use ngoso_core::programme::{PlaceKind, is_place_code};
use ngoso_store::programme::places::{self, PlaceRoute, RoutePlace};
use ngoso_store::users::Principal;
use serde::Deserialize;

use super::RoutePlaceInput;
use crate::AppState;
use crate::auth::{PageUser, can};
use crate::http::error::{AppError, message};
use crate::http::extract::{CsrfFields, CsrfUpload, Fields, Path, Query};
use crate::http::i18n::Lang;
use crate::http::render::{Ctx, PageCtx, base_url, render, render_status};

fn kind_label(ctx: &PageCtx, k: &str) -> String {
    ctx.t(&format!("place-kind-{k}"))
}

fn route_kind(ctx: &PageCtx, r: &PlaceRoute) -> String {
    if ctx.lang == Lang::En { r.kind_name_en.clone() } else { r.kind_name_vi.clone() }
}

/// A place by its code (404 for anything that is not one).
async fn by_code(st: &AppState, code: &str) -> Result<(RoutePlace, PlaceRoute), AppError> {
    if !is_place_code(code) {
        return Err(AppError::not_found());
    }
    Ok(places::by_code(&st.db, code).await?)
}

#[derive(Template)]
#[template(path = "streets/place.html")]
struct PlacePage {
    ctx: PageCtx,
    p: RoutePlace,
    route: PlaceRoute,
    kind: String,
    route_kind: String,
    /// The places before and after it on the route: (code, name).
    prev: Option<(String, String)>,
    next: Option<(String, String)>,
    /// The photos' size in all, in KB, for those who pay for their data.
    photos_kb: i64,
}

#[derive(Deserialize, Default)]
pub struct ScanQuery {
    /// `qr` when the page was opened from a plaque.
    #[serde(default)]
    s: String,
}

/// `GET /p/{code}`: a place's public page; opened from its plaque (`?s=qr`), the day's scan
/// count goes up by one (nothing about who scanned is kept).
pub(super) async fn place(
    State(st): State<AppState>,
    Ctx(ctx): Ctx,
    Path(code): Path<String>,
    Query(q): Query<ScanQuery>,
) -> Result<Response, AppError> {
    let (p, route) = by_code(&st, &code).await?;
    if q.s == "qr" {
        let day = ngoso_store::teams::today();
        if let Err(e) = places::count_scan(&st.db, p.id, day).await {
            tracing::warn!(place = p.id, error = %e, "a plaque's scan was not counted");
        }
    }
    let (prev, next) = places::neighbours(&st.db, p.model_id, p.position).await?;
    let photos_kb = (places::photo_sizes(&st.db, p.id).await? + 1023) / 1024;
    render(&PlacePage {
        kind: kind_label(&ctx, &p.kind),
        route_kind: route_kind(&ctx, &route),
        prev,
        next,
        photos_kb,
        ctx,
        p,
        route,
    })
}

/// `GET /p/{code}/photos/{photo}`: a place's photo, published with its page.
pub(super) async fn place_photo(
    State(st): State<AppState>,
    Path((code, photo)): Path<(String, i64)>,
) -> Result<Response, AppError> {
    if !is_place_code(&code) {
        return Err(AppError::not_found());
    }
    let ph = places::photo(&st.db, &code, photo).await?;
    Ok((
        [
            (header::CONTENT_TYPE, ph.mime),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff".to_owned()),
            (header::CACHE_CONTROL, "public, max-age=86400".to_owned()),
        ],
        ph.bytes,
    )
        .into_response())
}

fn file(mime: &'static str, name: String, bytes: Vec<u8>) -> Response {
    (
        [
            (header::CONTENT_TYPE, mime.to_owned()),
            (header::CONTENT_DISPOSITION, format!("inline; filename=\"{name}\"")),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff".to_owned()),
        ],
        bytes,
    )
        .into_response()
}

/// `GET /p/{code}/plaque.svg`.
pub(super) async fn plaque_svg(
    State(st): State<AppState>,
    Ctx(ctx): Ctx,
    headers: HeaderMap,
    Path(code): Path<String>,
) -> Result<Response, AppError> {
    let (p, route) = by_code(&st, &code).await?;
    let plaque = super::plaque(&base_url(&st, &headers), &p, &route, &ctx.tr);
    Ok(file("image/svg+xml", format!("plaque-{code}.svg"), plaque.svg().into_bytes()))
}

/// `GET /p/{code}/plaque.pdf`.
pub(super) async fn plaque_pdf(
    State(st): State<AppState>,
    Ctx(ctx): Ctx,
    headers: HeaderMap,
    Path(code): Path<String>,
) -> Result<Response, AppError> {
    let (p, route) = by_code(&st, &code).await?;
    let plaque = super::plaque(&base_url(&st, &headers), &p, &route, &ctx.tr);
    Ok(file("application/pdf", format!("plaque-{code}.pdf"), super::plaque::pdf(&[plaque])))
}

#[derive(Template)]
#[template(path = "streets/routes.html")]
struct RoutesPage {
    ctx: PageCtx,
    /// (id, name, kind, unit, places).
    routes: Vec<(i64, String, String, String, i64)>,
}

/// `GET /r`: the digital streets and heritage routes, for anyone.
pub(super) async fn routes(State(st): State<AppState>, Ctx(ctx): Ctx) -> Result<Response, AppError> {
    let routes = places::routes(&st.db)
        .await?
        .into_iter()
        .map(|r| {
            let kind = if ctx.lang == Lang::En { r.kind_name_en } else { r.kind_name_vi };
            (r.id, r.name, kind, r.unit_name, r.places)
        })
        .collect();
    render(&RoutesPage { routes, ctx })
}

#[derive(Template)]
#[template(path = "streets/route.html")]
struct RoutePage {
    ctx: PageCtx,
    route: PlaceRoute,
    route_kind: String,
    /// (code, position, name, kind, opening hours, cashless).
    places: Vec<(String, i32, String, String, String, bool)>,
}

/// `GET /r/{id}`: a route's public page, its places in order.
pub(super) async fn route(
    State(st): State<AppState>,
    Ctx(ctx): Ctx,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    let route = places::route(&st.db, id).await?;
    let list = places::of_model(&st.db, id).await?;
    if list.is_empty() {
        return Err(AppError::not_found());
    }
    let places = list
        .into_iter()
        .map(|p| (p.code, p.position, p.name, kind_label(&ctx, &p.kind), p.opening_hours, p.cashless))
        .collect();
    render(&RoutePage { route_kind: route_kind(&ctx, &route), places, route, ctx })
}

/// `GET /r/{id}/plaques.pdf`: every place's plaque, one A6 page each, in the route's order.
pub(super) async fn route_plaques(
    State(st): State<AppState>,
    Ctx(ctx): Ctx,
    headers: HeaderMap,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    let route = places::route(&st.db, id).await?;
    let list = places::of_model(&st.db, id).await?;
    if list.is_empty() {
        return Err(AppError::not_found());
    }
    let base = base_url(&st, &headers);
    let plaques: Vec<_> = list.iter().map(|p| super::plaque(&base, p, &route, &ctx.tr)).collect();
    Ok(file("application/pdf", format!("plaques-{id}.pdf"), super::plaque::pdf(&plaques)))
}

#[derive(Template)]
#[template(path = "streets/manage.html")]
struct Manage {
    ctx: PageCtx,
    m: ngoso_store::programme::Model,
    /// Each place with its kind's name.
    places: Vec<(RoutePlace, String)>,
    kinds: Vec<(String, String)>,
    can_manage: bool,
    /// What was typed, when the form was refused.
    typed: RoutePlaceInput,
    error: Option<String>,
}

fn kinds(ctx: &PageCtx) -> Vec<(String, String)> {
    PlaceKind::ALL.iter().map(|k| (k.as_str().to_owned(), kind_label(ctx, k.as_str()))).collect()
}

async fn manage_page(
    st: &AppState,
    ctx: PageCtx,
    p: &Principal,
    headers: &HeaderMap,
    id: i64,
    typed: RoutePlaceInput,
    error: Option<String>,
) -> Result<Manage, AppError> {
    let m = ngoso_store::programme::get(&st.db, id).await?;
    let places = super::of_model(st, headers, id)
        .await?
        .into_iter()
        .map(|p| {
            let k = kind_label(&ctx, &p.kind);
            (p, k)
        })
        .collect();
    Ok(Manage {
        can_manage: can(p, Action::ManageProgrammes, &m.path()),
        kinds: kinds(&ctx),
        m,
        places,
        typed,
        error,
        ctx,
    })
}

/// `GET /app/models/{id}/places`: a route's places in order, with their plaques and scans,
/// and the form to add one.
pub(super) async fn manage(
    State(st): State<AppState>,
    Ctx(ctx): Ctx,
    PageUser(p): PageUser,
    headers: HeaderMap,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    let typed = RoutePlaceInput { kind: "shop".into(), ..Default::default() };
    render(&manage_page(&st, ctx, &p, &headers, id, typed, None).await?)
}

fn input(f: &Fields) -> RoutePlaceInput {
    RoutePlaceInput {
        kind: f.get("kind").to_owned(),
        name: f.get("name").to_owned(),
        address: f.get("address").to_owned(),
        description: f.get("description").to_owned(),
        history: f.get("history").to_owned(),
        opening_hours: f.get("opening_hours").to_owned(),
        cashless: matches!(f.get("cashless"), "on" | "1" | "true"),
        cashless_how: f.get("cashless_how").to_owned(),
    }
}

/// A refusal shown on the route's page with what was typed; anything else is the error it is.
async fn on_manage(
    st: &AppState,
    ctx: PageCtx,
    p: &Principal,
    headers: &HeaderMap,
    id: i64,
    typed: RoutePlaceInput,
    r: Result<Response, AppError>,
) -> Result<Response, AppError> {
    match r {
        Err(e) if e.is_refusal() && e.info().status != axum::http::StatusCode::NOT_FOUND => {
            let msg = message(ctx.lang, e.info());
            render_status(e.info().status, &manage_page(st, ctx, p, headers, id, typed, Some(msg)).await?)
        }
        other => other,
    }
}

/// `POST /app/models/{id}/places`.
pub(super) async fn add(
    State(st): State<AppState>,
    Ctx(ctx): Ctx,
    PageUser(p): PageUser,
    headers: HeaderMap,
    Path(id): Path<i64>,
    CsrfFields(f): CsrfFields,
) -> Result<Response, AppError> {
    let typed = input(&f);
    let r = super::add(&st, &p, id, &typed)
        .await
        .map(|(pid, _)| Redirect::to(&format!("/app/models/{id}/places#place-{pid}")).into_response());
    on_manage(&st, ctx, &p, &headers, id, typed, r).await
}

/// `POST /app/models/{id}/places/{place}/move`: to the position typed.
pub(super) async fn move_place(
    State(st): State<AppState>,
    Ctx(ctx): Ctx,
    PageUser(p): PageUser,
    headers: HeaderMap,
    Path((id, place)): Path<(i64, i64)>,
    CsrfFields(f): CsrfFields,
) -> Result<Response, AppError> {
    let r = super::move_place(&st, &p, id, place, f.get("position"))
        .await
        .map(|()| Redirect::to(&format!("/app/models/{id}/places#place-{place}")).into_response());
    on_manage(&st, ctx, &p, &headers, id, RoutePlaceInput { kind: "shop".into(), ..Default::default() }, r).await
}

/// `POST /app/models/{id}/places/{place}/delete`.
pub(super) async fn delete(
    State(st): State<AppState>,
    Ctx(ctx): Ctx,
    PageUser(p): PageUser,
    headers: HeaderMap,
    Path((id, place)): Path<(i64, i64)>,
    CsrfFields(_f): CsrfFields,
) -> Result<Response, AppError> {
    let r = super::delete(&st, &p, id, place)
        .await
        .map(|()| Redirect::to(&format!("/app/models/{id}/places")).into_response());
    on_manage(&st, ctx, &p, &headers, id, RoutePlaceInput { kind: "shop".into(), ..Default::default() }, r).await
}

/// `GET /app/models/{id}/places/export.csv`.
pub(super) async fn export(
    State(st): State<AppState>,
    Ctx(ctx): Ctx,
    PageUser(_p): PageUser,
    headers: HeaderMap,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    ngoso_store::programme::get(&st.db, id).await?;
    let list = super::of_model(&st, &headers, id).await?;
    Ok(super::csv(&list, ctx.lang == Lang::En))
}

#[derive(Template)]
#[template(path = "streets/edit.html")]
struct Edit {
    ctx: PageCtx,
    m: ngoso_store::programme::Model,
    place: RoutePlace,
    typed: RoutePlaceInput,
    kinds: Vec<(String, String)>,
    error: Option<String>,
}

async fn edit_page(
    st: &AppState,
    ctx: PageCtx,
    p: &Principal,
    id: i64,
    place: i64,
    typed: Option<RoutePlaceInput>,
    error: Option<String>,
) -> Result<Edit, AppError> {
    let m = crate::models::managed(st, p, id).await?;
    let place = places::get(&st.db, id, place).await?;
    let typed = typed.unwrap_or_else(|| RoutePlaceInput {
        kind: place.kind.clone(),
        name: place.name.clone(),
        address: place.address.clone(),
        description: place.description.clone(),
        history: place.history.clone(),
        opening_hours: place.opening_hours.clone(),
        cashless: place.cashless,
        cashless_how: place.cashless_how.clone(),
    });
    Ok(Edit { kinds: kinds(&ctx), m, place, typed, error, ctx })
}

/// `GET /app/models/{id}/places/{place}`: a place's form and photos.
pub(super) async fn edit(
    State(st): State<AppState>,
    Ctx(ctx): Ctx,
    PageUser(p): PageUser,
    Path((id, place)): Path<(i64, i64)>,
) -> Result<Response, AppError> {
    render(&edit_page(&st, ctx, &p, id, place, None, None).await?)
}

async fn on_edit(
    st: &AppState,
    ctx: PageCtx,
    p: &Principal,
    (id, place): (i64, i64),
    typed: Option<RoutePlaceInput>,
    r: Result<Response, AppError>,
) -> Result<Response, AppError> {
    match r {
        Err(e) if e.is_refusal() && e.info().status != axum::http::StatusCode::NOT_FOUND => {
            let msg = message(ctx.lang, e.info());
            render_status(e.info().status, &edit_page(st, ctx, p, id, place, typed, Some(msg)).await?)
        }
        other => other,
    }
}

/// `POST /app/models/{id}/places/{place}`.
pub(super) async fn update(
    State(st): State<AppState>,
    Ctx(ctx): Ctx,
    PageUser(p): PageUser,
    Path((id, place)): Path<(i64, i64)>,
    CsrfFields(f): CsrfFields,
) -> Result<Response, AppError> {
    let typed = input(&f);
    let r = super::update(&st, &p, id, place, &typed)
        .await
        .map(|()| Redirect::to(&format!("/app/models/{id}/places#place-{place}")).into_response());
    on_edit(&st, ctx, &p, (id, place), Some(typed), r).await
}

/// `POST /app/models/{id}/places/{place}/photos`.
pub(super) async fn add_photo(
    State(st): State<AppState>,
    Ctx(ctx): Ctx,
    PageUser(p): PageUser,
    Path((id, place)): Path<(i64, i64)>,
    CsrfUpload(up): CsrfUpload,
) -> Result<Response, AppError> {
    let r = match up.photo.as_deref() {
        Some(bytes) => super::add_photo(&st, &p, id, place, bytes, up.fields.get("caption")).await,
        None => Err(ngoso_core::Invalid::field("required", "photo").into()),
    };
    let r = r.map(|_| Redirect::to(&format!("/app/models/{id}/places/{place}#photos")).into_response());
    on_edit(&st, ctx, &p, (id, place), None, r).await
}

/// `POST /app/models/{id}/places/{place}/photos/{photo}/delete`.
pub(super) async fn delete_photo(
    State(st): State<AppState>,
    Ctx(ctx): Ctx,
    PageUser(p): PageUser,
    Path((id, place, photo)): Path<(i64, i64, i64)>,
    CsrfFields(_f): CsrfFields,
) -> Result<Response, AppError> {
    let r = super::delete_photo(&st, &p, id, place, photo)
        .await
        .map(|()| Redirect::to(&format!("/app/models/{id}/places/{place}#photos")).into_response());
    on_edit(&st, ctx, &p, (id, place), None, r).await
}
