//! The field app: what a team member's phone keeps of their area and the sync that keeps it
//! (its API under `/api/v1/field`), and the operations it goes through (authorise → store,
//! which logs the read).

pub mod api;

use ngoso_core::auth::{self as access, may};
use ngoso_store::field::FieldSync;
use ngoso_store::users::Principal;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::http::error::AppError;

/// The field app's routes.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(api::sync))
}

/// The households of an area (a unit the member may see, else their whole scope) changed
/// since `since`, with the ids of all of them.
pub async fn sync(st: &AppState, p: &Principal, unit: Option<i64>, since: Option<i64>) -> Result<FieldSync, AppError> {
    let within = match unit {
        Some(id) => Some(crate::units::visible(&st.db, p, id).await?.unit_path()),
        None => None,
    };
    let g = access::area::<may::ViewPersonalData>(&p.actor(), within.as_ref())?;
    if since.is_some_and(|t| t < 0) {
        return Err(ngoso_core::Invalid::field("since-invalid", "since").into());
    }
    Ok(ngoso_store::field::sync(&st.db, &g, since).await?)
}
