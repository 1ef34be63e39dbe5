//! The registry of places: `/app/places` (a unit's places, added one by one or from a CSV
//! file) and `/api/v1/places`. Counts by kind for a unit and day come from it ("1 shopping
//! centre, 7 supermarkets, 41 markets").

mod pages;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use chrono::NaiveDate;
use ngoso_core::Invalid;
use ngoso_core::calendar::parse_day;
use ngoso_core::place::PlaceKind;
use ngoso_core::text;
use ngoso_store::places::{self, Counts, NewPlace, Place};
use ngoso_store::users::Principal;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::auth::{ApiUser, audit};
use crate::http::error::{ApiErrorBody, AppError};
use crate::http::extract::{ApiJson, Query};

/// The pages and API of places.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .route("/app/units/{id}/places", get(pages::index).post(pages::create))
        .route("/app/units/{id}/places/import", post(pages::import))
        .routes(routes!(list, create_api))
        .routes(routes!(counts))
}

/// A place as sent or typed: its unit by code, its kind by code or Vietnamese name, days as
/// `YYYY-MM-DD` or `DD/MM/YYYY` (empty: not yet).
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct PlaceInput {
    /// The row of the file it came from (errors name it; otherwise its place in the list).
    #[serde(skip)]
    pub row: Option<u64>,
    #[serde(default)]
    pub unit_code: String,
    #[serde(default)]
    pub kind: String,
    #[serde(default)]
    pub code: String,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub cashless_since: Option<String>,
    #[serde(default)]
    pub online_fees_since: Option<String>,
}

fn day(s: Option<&str>, field: &'static str) -> Result<Option<NaiveDate>, Invalid> {
    match s.map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(s) => parse_day(s, field).map(Some),
    }
}

/// Registers places, all or none: each in a unit the principal may enter data for.
pub async fn create(st: &AppState, p: &Principal, inputs: Vec<PlaceInput>) -> Result<Vec<i64>, AppError> {
    let mut news = Vec::with_capacity(inputs.len());
    let mut units = std::collections::HashMap::new();
    for (n, i) in inputs.iter().enumerate() {
        let at = |e: AppError| e.at_row(i.row.unwrap_or(n as u64 + 1));
        let unit_id = match units.get(i.unit_code.trim()) {
            Some(id) => *id,
            None => {
                let u = crate::units::for_entry(&st.db, p, &i.unit_code, "unit_code").await.map_err(at)?.id;
                units.insert(i.unit_code.trim().to_owned(), u);
                u
            }
        };
        let kind = PlaceKind::parse(&i.kind).map_err(|e| at(e.into()))?;
        let code = ngoso_core::unit::UnitCode::parse(&i.code)
            .map_err(|e| at(Invalid { code: "place-code-invalid", field: Some("code"), ..e }.into()))?;
        let name = text::parse_line(&i.name, "name", 200)
            .map_err(|e| at(e.into()))?
            .ok_or_else(|| at(Invalid::field("required", "name").into()))?;
        news.push(NewPlace {
            unit_id,
            kind,
            code: code.as_str().to_owned(),
            name,
            cashless_since: day(i.cashless_since.as_deref(), "cashless_since").map_err(|e| at(e.into()))?,
            online_fees_since: day(i.online_fees_since.as_deref(), "online_fees_since").map_err(|e| at(e.into()))?,
        });
    }
    let ids = places::create(&st.db, &news).await?;
    for u in units.values() {
        audit::log(&st.db, p, "places.create", "unit", *u, &format!("{} places", ids.len())).await;
    }
    Ok(ids)
}

/// Reads a CSV of places: a header naming `unit_code, kind, code, name, cashless_since,
/// online_fees_since` (the last two may be missing), UTF-8 with or without a BOM.
pub fn parse_csv(text: &str) -> Result<Vec<PlaceInput>, AppError> {
    let t = crate::http::csvfile::Table::read(text)?;
    let (cu, ck) = (t.need("unit_code", "file")?, t.need("kind", "file")?);
    let (cc, cn) = (t.need("code", "file")?, t.need("name", "file")?);
    let (cs, co) = (t.column("cashless_since"), t.column("online_fees_since"));
    Ok(t.rows()
        .map(|(row, r)| PlaceInput {
            row: Some(row),
            unit_code: r.get(cu),
            kind: r.get(ck),
            code: r.get(cc),
            name: r.get(cn),
            cashless_since: cs.map(|c| r.get(c)),
            online_fees_since: co.map(|c| r.get(c)),
        })
        .collect())
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UnitQuery {
    /// The unit's code (its whole subtree).
    #[serde(default)]
    pub unit: String,
    /// The day to count on, `YYYY-MM-DD`; today when absent.
    #[serde(default)]
    pub on: Option<String>,
}

impl UnitQuery {
    /// The unit asked for, which the principal may see (none named: a refused field).
    async fn unit(&self, st: &AppState, p: &Principal) -> Result<ngoso_store::units::Unit, AppError> {
        if self.unit.trim().is_empty() {
            return Err(Invalid::field("required", "unit").into());
        }
        crate::units::visible_by_code(&st.db, p, &self.unit).await
    }
}

/// The places of a unit's subtree (at most 10,000).
#[utoipa::path(get, path = "/api/v1/places", tag = "places", params(UnitQuery),
    responses((status = 200, body = Vec<Place>), (status = 404, body = ApiErrorBody), (status = 422, body = ApiErrorBody)))]
pub async fn list(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    Query(q): Query<UnitQuery>,
) -> Result<Json<Vec<Place>>, AppError> {
    let u = q.unit(&st, &p).await?;
    Ok(Json(places::list(&st.db, &u.unit_path(), 10_000).await?))
}

/// Places to register.
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct NewPlaces {
    pub places: Vec<PlaceInput>,
}

/// Register places, all or none (officers and administrators in their scope). One bad entry
/// refuses them all, named by its number (`error.row`).
#[utoipa::path(post, path = "/api/v1/places", tag = "places", request_body = NewPlaces,
    responses((status = 201, body = Vec<i64>), (status = 403, body = ApiErrorBody), (status = 409, body = ApiErrorBody), (status = 422, body = ApiErrorBody)))]
pub async fn create_api(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    ApiJson(n): ApiJson<NewPlaces>,
) -> Result<Response, AppError> {
    let ids = create(&st, &p, n.places).await?;
    Ok((StatusCode::CREATED, Json(ids)).into_response())
}

/// A kind's counts.
#[derive(Debug, Serialize, ToSchema)]
pub struct KindCounts {
    pub kind: &'static str,
    /// Registered.
    pub total: i64,
    /// Accepting cashless payment on the day.
    pub cashless: i64,
    /// Collecting fees online on the day.
    pub online: i64,
}

/// How many places of each kind a unit's subtree has on a day, accepting cashless payment
/// and collecting fees online.
#[utoipa::path(get, path = "/api/v1/places/counts", tag = "places", params(UnitQuery),
    responses((status = 200, body = Vec<KindCounts>), (status = 404, body = ApiErrorBody), (status = 422, body = ApiErrorBody)))]
pub async fn counts(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    Query(q): Query<UnitQuery>,
) -> Result<Json<Vec<KindCounts>>, AppError> {
    let u = q.unit(&st, &p).await?;
    let on = day(q.on.as_deref(), "on")?.unwrap_or_else(|| ngoso_core::calendar::local_day(ngoso_store::now()));
    let c = places::counts(&st.db, &u.unit_path(), on).await?;
    Ok(Json(
        PlaceKind::ALL
            .into_iter()
            .map(|k| {
                let n: Counts = c.get(&k).copied().unwrap_or_default();
                KindCounts { kind: k.as_str(), total: n.total, cashless: n.cashless, online: n.online }
            })
            .collect(),
    ))
}
