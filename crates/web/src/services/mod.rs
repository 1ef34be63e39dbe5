//! The service catalogue and the groups residents may belong to: everyone signed in reads
//! them; administrators of the whole tree add services, statuses and groups. Its page is `/app/services`, its API `/api/v1/services`.

pub mod api;
mod pages;

use axum::routing::{get, post};
use ngoso_core::auth::Action;
use ngoso_store::catalog;
use ngoso_store::users::Principal;
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::auth::{audit, can_anywhere};
use crate::http::error::AppError;

/// The pages and API of the catalogue.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .route("/app/services", get(pages::index).post(pages::create))
        .route("/app/services/{id}/statuses", post(pages::add_status))
        .route("/app/services/groups", post(pages::add_group))
        .routes(routes!(api::list, api::create))
        .routes(routes!(api::add_status))
        .routes(routes!(api::update))
        .route("/app/services/{id}", post(pages::update))
}

/// A change of a service: fields left out stay. Codes never change (visits, imports and
/// indicators name them).
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct ServiceUpdate {
    pub name_vi: Option<String>,
    pub name_en: Option<String>,
    /// `false` withdraws the service: no longer offered on forms, its history kept.
    pub active: Option<bool>,
    /// Statuses renamed, by code.
    #[serde(default)]
    pub statuses: Vec<StatusName>,
}

/// A status's new names.
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct StatusName {
    pub code: String,
    pub name_vi: String,
    pub name_en: String,
}

/// Renames a service (and statuses) and offers or withdraws it, all or nothing; logged.
pub async fn update_service(st: &AppState, p: &Principal, id: i64, u: &ServiceUpdate) -> Result<(), AppError> {
    ensure_manager(p)?;
    let now = st.catalog().await?.services.iter().find(|s| s.id == id).cloned().ok_or_else(AppError::not_found)?;
    let names = (u.name_vi.is_some() || u.name_en.is_some())
        .then(|| (u.name_vi.clone().unwrap_or(now.name_vi.clone()), u.name_en.clone().unwrap_or(now.name_en.clone())));
    let change = catalog::ServiceChange {
        names,
        active: u.active,
        statuses: u.statuses.iter().map(|s| (s.code.clone(), s.name_vi.clone(), s.name_en.clone())).collect(),
    };
    catalog::update_service(&st.db, id, &change).await?;
    st.catalog_changed().await;
    let what = format!(
        "{}{}{}",
        change.names.as_ref().map(|(vi, _)| format!("name={vi}; ")).unwrap_or_default(),
        change.active.map(|a| format!("active={a}; ")).unwrap_or_default(),
        change.statuses.iter().map(|s| s.0.as_str()).collect::<Vec<_>>().join(",")
    );
    audit::log(&st.db, p, "service.update", "service", id, &what).await;
    Ok(())
}

/// A new service, as typed on the page or sent to the API.
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct NewService {
    #[serde(default)]
    pub code: String,
    #[serde(default)]
    pub name_vi: String,
    #[serde(default)]
    pub name_en: String,
    /// `household` or `person`.
    #[serde(default)]
    pub subject: String,
}

/// A new status, added after the service's last one.
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct NewStatus {
    #[serde(default)]
    pub code: String,
    #[serde(default)]
    pub name_vi: String,
    #[serde(default)]
    pub name_en: String,
}

/// A new group of residents (youth-union member, person with a disability…).
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct NewGroup {
    /// Lower-case letters, digits and `_`: indicators name it as `group:CODE`.
    #[serde(default)]
    pub code: String,
    #[serde(default)]
    pub name_vi: String,
    #[serde(default)]
    pub name_en: String,
}

fn ensure_manager(p: &Principal) -> Result<(), AppError> {
    if can_anywhere(p, Action::ManageSystem) { Ok(()) } else { Err(AppError::forbidden()) }
}

/// Adds a service to the catalogue; returns its id.
pub async fn create_service(st: &AppState, p: &Principal, s: &NewService) -> Result<i64, AppError> {
    ensure_manager(p)?;
    let id = catalog::create_service(&st.db, &s.code, &s.name_vi, &s.name_en, s.subject.trim()).await?;
    st.catalog_changed().await;
    audit::log(&st.db, p, "service.create", "service", id, s.code.trim()).await;
    Ok(id)
}

/// Adds a group residents may belong to; returns its number.
pub async fn add_group(st: &AppState, p: &Principal, g: &NewGroup) -> Result<i64, AppError> {
    ensure_manager(p)?;
    let id = catalog::create_group(&st.db, &g.code, &g.name_vi, &g.name_en).await?;
    audit::log(&st.db, p, "group.create", "resident_group", id, g.code.trim()).await;
    Ok(id)
}

/// Adds a status at the end of a service's statuses; returns its id.
pub async fn add_status(st: &AppState, p: &Principal, service_id: i64, s: &NewStatus) -> Result<i64, AppError> {
    ensure_manager(p)?;
    let id = catalog::add_status(&st.db, service_id, &s.code, &s.name_vi, &s.name_en).await?;
    st.catalog_changed().await;
    audit::log(&st.db, p, "status.create", "service", service_id, s.code.trim()).await;
    Ok(id)
}
