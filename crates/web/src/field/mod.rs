//! The field app: an installable web app at `/app/field/` that keeps a team member's walk
//! list, the service catalogue and the forms on the phone (a service worker and IndexedDB),
//! records visits and feedback offline with ids the phone makes, and sends them when the
//! connection returns; and the sync that keeps the phone's copy (its API under
//! `/api/v1/field`), with the operations it goes through (authorise → store, which logs the
//! read).
//!
//! The app's own script is `assets/field.js` (no framework, nothing from another host); the
//! page, its manifest and its service worker are in [`pages`].

pub mod api;
mod pages;

use axum::routing::get;
use ngoso_core::auth::{self as access, may};
use ngoso_store::field::{FieldHousehold, FieldSync};
use ngoso_store::users::Principal;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::http::error::AppError;
use crate::http::i18n::Lang;

/// The field app's page, manifest, service worker and API.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .route("/app/field", get(pages::to_app))
        .route("/app/field/", get(pages::app))
        .route("/app/field/manifest.webmanifest", get(pages::manifest))
        .route("/app/field/sw.js", get(pages::service_worker))
        .route("/app/field/icon.svg", get(pages::icon))
        .routes(routes!(api::sync))
}

/// Who the phone belongs to.
#[derive(Debug, Serialize, ToSchema)]
pub struct FieldAccount {
    pub id: i64,
    pub username: String,
    pub display_name: String,
}

/// A team the member records for, with their own member id in it.
#[derive(Debug, Serialize, ToSchema)]
pub struct FieldTeam {
    pub id: i64,
    pub name: String,
    pub unit_id: i64,
    pub unit_code: String,
    pub unit_name: String,
    /// The caller's member row in the team: the visitor of their visits.
    pub member_id: Option<i64>,
}

/// A status of a service, in the answer's language.
#[derive(Debug, Serialize, ToSchema)]
pub struct FieldServiceStatus {
    pub id: i64,
    pub code: String,
    pub name: String,
    /// Statuses only move forward: to a higher rank.
    pub rank: i32,
}

/// A service of the catalogue, as the visit form offers it.
#[derive(Debug, Serialize, ToSchema)]
pub struct FieldService {
    pub id: i64,
    pub code: String,
    pub name: String,
    /// `household` or `person`.
    pub subject: String,
    pub statuses: Vec<FieldServiceStatus>,
}

/// A choice of a feedback category's list field.
#[derive(Debug, Serialize, ToSchema)]
pub struct FieldChoice {
    pub key: String,
    pub name: String,
}

/// An extra question of a feedback category.
#[derive(Debug, Serialize, ToSchema)]
pub struct FieldQuestion {
    pub code: String,
    pub name: String,
    /// string, number, datetime, text, singlevaluelist or multivaluelist.
    pub datatype: String,
    pub required: bool,
    pub values: Vec<FieldChoice>,
}

/// A feedback category the member may file under.
#[derive(Debug, Serialize, ToSchema)]
pub struct FieldCategory {
    pub code: String,
    pub name: String,
    pub fields: Vec<FieldQuestion>,
}

/// All a phone needs to work offline: who it is, the teams, the catalogue, the feedback
/// categories, and the walk list (changed households since the cursor, ids of all).
#[derive(Debug, Serialize, ToSchema)]
pub struct FieldBundle {
    pub account: FieldAccount,
    pub teams: Vec<FieldTeam>,
    pub services: Vec<FieldService>,
    pub categories: Vec<FieldCategory>,
    /// To send as `since` next time.
    pub cursor: i64,
    /// Every household of the area, by id: the phone drops the others.
    pub household_ids: Vec<i64>,
    /// The households changed since `since` (all of them without it), whole.
    pub households: Vec<FieldHousehold>,
}

/// The households of an area (a unit the member may see, else their whole scope) changed
/// since `since`, with the ids of all of them, and what the forms need.
pub async fn sync(
    st: &AppState,
    p: &Principal,
    lang: Lang,
    unit: Option<i64>,
    since: Option<i64>,
) -> Result<FieldBundle, AppError> {
    let within = match unit {
        Some(id) => Some(crate::units::visible(&st.db, p, id).await?.unit_path()),
        None => None,
    };
    let g = access::area::<may::ViewPersonalData>(&p.actor(), within.as_ref())?;
    if since.is_some_and(|t| t < 0) {
        return Err(ngoso_core::Invalid::field("since-invalid", "since").into());
    }
    let en = lang == Lang::En;
    let own = ngoso_store::teams::own_memberships(&st.db, p.id).await?;
    let teams = ngoso_store::teams::of_user(&st.db, p.id)
        .await?
        .into_iter()
        .map(|t| FieldTeam {
            member_id: own.iter().find(|(team, _)| *team == t.id).map(|(_, m)| *m),
            id: t.id,
            name: t.name,
            unit_id: t.unit_id,
            unit_code: t.unit_code,
            unit_name: t.unit_name,
        })
        .collect();
    let cat = st.catalog().await?;
    let services = cat
        .services
        .iter()
        .filter(|s| s.active)
        .map(|s| FieldService {
            id: s.id,
            code: s.code.clone(),
            name: s.name(en).to_owned(),
            subject: s.subject.clone(),
            statuses: s
                .statuses
                .iter()
                .map(|x| FieldServiceStatus {
                    id: x.id,
                    code: x.code.clone(),
                    name: x.name(en).to_owned(),
                    rank: x.rank,
                })
                .collect(),
        })
        .collect();
    let setup = st.feedback_setup().await?;
    let categories = setup
        .categories
        .iter()
        .filter(|c| c.active)
        .map(|c| FieldCategory {
            code: c.code.clone(),
            name: if en { c.name_en.clone() } else { c.name_vi.clone() },
            fields: c
                .asked_fields()
                .iter()
                .map(|f| FieldQuestion {
                    code: f.code.clone(),
                    name: f.name(en).to_owned(),
                    datatype: f.datatype.as_str().to_owned(),
                    required: f.required,
                    values: f
                        .values
                        .iter()
                        .map(|v| FieldChoice {
                            key: v.key.clone(),
                            name: if en { v.name_en.clone() } else { v.name_vi.clone() },
                        })
                        .collect(),
                })
                .collect(),
        })
        .collect();
    let FieldSync { cursor, household_ids, households } = ngoso_store::field::sync(&st.db, &g, since).await?;
    Ok(FieldBundle {
        account: FieldAccount { id: p.id, username: p.username.clone(), display_name: p.display_name.clone() },
        teams,
        services,
        categories,
        cursor,
        household_ids,
        households,
    })
}
