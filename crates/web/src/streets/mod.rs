//! Digital streets and digitised heritage, the two creative models of the report that are
//! software: a route's places (a shop, a market stall, a relic site) in order, each with a
//! public page at a short address (`/p/{code}`: description, opening hours, whether and how it
//! takes cashless payment, history, photos), a public page of the route (`/r/{id}`) and of all
//! routes (`/r`), and a
//! printable QR plaque (SVG and PDF, A6) that leads to the place's page; a scan through the
//! plaque is counted a day a place, nothing about who scanned.
//!
//! Those who run the model's unit's programmes manage its places (`/app/models/{id}/places`,
//! `/api/v1/models/{id}/places`); places are published on purpose, so the public reads them.

pub mod api;
mod pages;
pub mod plaque;

use axum::http::HeaderMap;
use axum::routing::{get, post};
use ngoso_core::Invalid;
use ngoso_core::programme::{PlaceFields, PlaceForm};
use ngoso_store::programme::places::{self, PlaceRoute, RoutePlace};
use ngoso_store::users::Principal;
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::auth::audit;
use crate::http::error::AppError;
use crate::http::i18n::Lang;

/// The pages and API of routes and their places.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .route("/p/{code}", get(pages::place))
        .route("/p/{code}/photos/{photo}", get(pages::place_photo))
        .route("/p/{code}/plaque.svg", get(pages::plaque_svg))
        .route("/p/{code}/plaque.pdf", get(pages::plaque_pdf))
        .route("/r", get(pages::routes))
        .route("/r/{id}", get(pages::route))
        .route("/r/{id}/plaques.pdf", get(pages::route_plaques))
        .route("/app/models/{id}/places", get(pages::manage).post(pages::add))
        .route("/app/models/{id}/places/export.csv", get(pages::export))
        .route("/app/models/{id}/places/{place}", get(pages::edit).post(pages::update))
        .route("/app/models/{id}/places/{place}/move", post(pages::move_place))
        .route("/app/models/{id}/places/{place}/delete", post(pages::delete))
        .route("/app/models/{id}/places/{place}/photos/{photo}/delete", post(pages::delete_photo))
        .routes(routes!(api::list, api::add))
        .routes(routes!(api::get_one, api::update, api::delete))
        .routes(routes!(api::move_place))
        .routes(routes!(api::plaque))
        .routes(routes!(api::delete_photo))
}

/// The forms and requests that carry a place's photo.
pub fn uploads() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .route("/app/models/{id}/places/{place}/photos", post(pages::add_photo))
        .routes(routes!(api::add_photo))
}

/// A place as sent or typed.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct RoutePlaceInput {
    /// shop, market_stall, eatery, relic, public_service or other.
    #[serde(default)]
    pub kind: String,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub address: String,
    #[serde(default)]
    pub description: String,
    /// The place's history (a relic's, an old shop's).
    #[serde(default)]
    pub history: String,
    /// As people say it: "7:00–21:00 hằng ngày".
    #[serde(default)]
    pub opening_hours: String,
    /// Whether it takes cashless payment (saying how implies it).
    #[serde(default)]
    pub cashless: bool,
    /// How: "VietQR, thẻ ngân hàng, ví điện tử".
    #[serde(default)]
    pub cashless_how: String,
}

impl RoutePlaceInput {
    fn fields(&self) -> Result<PlaceFields, Invalid> {
        PlaceFields::parse(&PlaceForm {
            kind: &self.kind,
            name: &self.name,
            address: &self.address,
            description: &self.description,
            history: &self.history,
            opening_hours: &self.opening_hours,
            cashless: self.cashless,
            cashless_how: &self.cashless_how,
        })
    }
}

/// Adds a place at the end of a model's route, by those who run its unit's programmes; its
/// id and short code.
pub async fn add(
    st: &AppState,
    p: &Principal,
    model_id: i64,
    input: &RoutePlaceInput,
) -> Result<(i64, String), AppError> {
    crate::models::managed(st, p, model_id).await?;
    let f = input.fields()?;
    let (id, code) = places::add(&st.db, model_id, &f).await?;
    audit::log(&st.db, p, "place.add", "model", model_id, &format!("{id} {code}")).await;
    Ok((id, code))
}

/// Changes a place of a model's route.
pub async fn update(
    st: &AppState,
    p: &Principal,
    model_id: i64,
    place_id: i64,
    input: &RoutePlaceInput,
) -> Result<(), AppError> {
    crate::models::managed(st, p, model_id).await?;
    let f = input.fields()?;
    places::update(&st.db, model_id, place_id, &f).await?;
    audit::log(&st.db, p, "place.update", "model", model_id, &place_id.to_string()).await;
    Ok(())
}

/// Moves a place to a position (from 1) on its route.
pub async fn move_place(
    st: &AppState,
    p: &Principal,
    model_id: i64,
    place_id: i64,
    position: &str,
) -> Result<(), AppError> {
    crate::models::managed(st, p, model_id).await?;
    let to: i32 = position.trim().parse().ok().filter(|n| (1..=10_000).contains(n)).ok_or_else(|| {
        Invalid::field("position-invalid", "position").with_detail(position.chars().take(10).collect::<String>())
    })?;
    places::move_to(&st.db, model_id, place_id, to).await?;
    audit::log(&st.db, p, "place.move", "model", model_id, &format!("{place_id} → {to}")).await;
    Ok(())
}

/// Removes a place from its route (with its photos and scan counts).
pub async fn delete(st: &AppState, p: &Principal, model_id: i64, place_id: i64) -> Result<(), AppError> {
    crate::models::managed(st, p, model_id).await?;
    places::delete(&st.db, model_id, place_id).await?;
    audit::log(&st.db, p, "place.delete", "model", model_id, &place_id.to_string()).await;
    Ok(())
}

/// Adds a photo to a place: JPEG or PNG, checked and stripped of its metadata (as feedback
/// photos are), with a caption.
pub async fn add_photo(
    st: &AppState,
    p: &Principal,
    model_id: i64,
    place_id: i64,
    bytes: &[u8],
    caption: &str,
) -> Result<i64, AppError> {
    crate::models::managed(st, p, model_id).await?;
    let photo = ngoso_core::photo::clean(bytes, st.cfg.feedback_photo_max_bytes)?;
    let caption = ngoso_core::text::parse_line(caption, "caption", 200)?.unwrap_or_default();
    let id = places::add_photo(&st.db, model_id, place_id, &caption, &photo).await?;
    audit::log(&st.db, p, "place.photo.add", "model", model_id, &format!("{place_id} {id}")).await;
    Ok(id)
}

/// Removes a place's photo.
pub async fn delete_photo(
    st: &AppState,
    p: &Principal,
    model_id: i64,
    place_id: i64,
    photo: i64,
) -> Result<(), AppError> {
    crate::models::managed(st, p, model_id).await?;
    places::delete_photo(&st.db, model_id, place_id, photo).await?;
    audit::log(&st.db, p, "place.photo.delete", "model", model_id, &format!("{place_id} {photo}")).await;
    Ok(())
}

/// A place's public page, as a plaque's QR code holds it (the marker counts the scan).
pub fn scan_url(base: &str, code: &str) -> String {
    format!("{base}/p/{code}?s=qr")
}

/// A place's public page.
pub fn page_url(base: &str, code: &str) -> String {
    format!("{base}/p/{code}")
}

/// The places of a model's route with their public addresses.
pub async fn of_model(st: &AppState, headers: &HeaderMap, model_id: i64) -> Result<Vec<RoutePlace>, AppError> {
    let base = crate::http::render::base_url(st, headers);
    let mut list = places::of_model(&st.db, model_id).await?;
    for p in &mut list {
        p.url = page_url(&base, &p.code);
    }
    Ok(list)
}

/// The plaque of a place, in the page's language first.
pub fn plaque(base: &str, place: &RoutePlace, route: &PlaceRoute, tr: &crate::http::i18n::Tr) -> plaque::Plaque {
    let short = page_url(base, &place.code);
    let short = short.trim_start_matches("https://").trim_start_matches("http://").to_owned();
    plaque::Plaque {
        route: route.name.clone(),
        name: place.name.clone(),
        url: scan_url(base, &place.code),
        short,
        cashless: place.cashless.then(|| tr.t("place-plaque-cashless")),
        scan_vi: crate::http::i18n::Tr(Lang::Vi).t("place-plaque-scan"),
        scan_en: crate::http::i18n::Tr(Lang::En).t("place-plaque-scan"),
    }
}

/// A route's places as CSV (UTF-8 with a byte-order mark).
pub fn csv(list: &[RoutePlace], english: bool) -> axum::response::Response {
    let header: Vec<String> = [
        "position",
        "code",
        "url",
        "kind",
        "name",
        "address",
        "opening_hours",
        "cashless",
        "cashless_how",
        "description",
        "history",
        "scans",
    ]
    .map(String::from)
    .into();
    let yes = |b: bool| {
        if b {
            if english { "yes" } else { "có" }
        } else if english {
            "no"
        } else {
            "không"
        }
    };
    let rows: Vec<Vec<String>> = list
        .iter()
        .map(|p| {
            vec![
                p.position.to_string(),
                p.code.clone(),
                p.url.clone(),
                p.kind.clone(),
                p.name.clone(),
                p.address.clone(),
                p.opening_hours.clone(),
                yes(p.cashless).to_owned(),
                p.cashless_how.clone(),
                p.description.clone(),
                p.history.clone(),
                p.scans.to_string(),
            ]
        })
        .collect();
    crate::http::csvfile::download("places.csv", &header, &rows)
}
