//! The JSON API under `/api/v1`, described by the OpenAPI document at
//! `/api/v1/openapi.json`.

pub mod auth;
pub mod feedback;
pub mod outreach;
pub mod units;
pub mod visits;

use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, Request};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::AppState;
use crate::error::AppError;

/// A JSON body; a body that is not JSON, or not of the expected shape, is refused with a
/// clear error in our format.
pub struct ApiJson<T>(pub T);

impl<S, T> FromRequest<S> for ApiJson<T>
where
    Json<T>: FromRequest<S, Rejection = JsonRejection>,
    S: Send + Sync,
{
    type Rejection = AppError;
    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match Json::<T>::from_request(req, state).await {
            Ok(Json(v)) => Ok(ApiJson(v)),
            Err(rej) => Err(match rej {
                JsonRejection::JsonDataError(e) => {
                    AppError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid-json-data").with_detail(e.body_text())
                }
                JsonRejection::JsonSyntaxError(e) => {
                    AppError::new(StatusCode::BAD_REQUEST, "invalid-json").with_detail(e.body_text())
                }
                JsonRejection::MissingJsonContentType(_) => {
                    AppError::new(StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported-media-type")
                }
                other if other.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                    AppError::new(StatusCode::PAYLOAD_TOO_LARGE, "body-too-large")
                }
                other => AppError::new(other.status(), "bad-request").with_detail(other.body_text()),
            }),
        }
    }
}

/// A JSON response with a status.
pub fn json_status<T: serde::Serialize>(status: StatusCode, body: &T) -> Response {
    (status, Json(body)).into_response()
}

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "ngoso API",
        description = "The JSON API of ngoso (Ngõ Số). Authenticate with a session cookie or `Authorization: Bearer TOKEN` \
                       from `POST /api/v1/auth/token`. Errors carry a stable `code` and a `message` in the request's \
                       language (`Accept-Language: vi` or `en`; Vietnamese by default)."
    ),
    paths(
        auth::issue_token, auth::list_tokens, auth::revoke_token, auth::me,
        units::list, units::get_one, units::get_by_code, units::create, units::update,
        visits::post_visits,
        outreach::list_services, outreach::create_service, outreach::add_status, outreach::unit_figures,
        outreach::list_teams, outreach::create_team, outreach::get_team, outreach::add_member,
        outreach::list_households, outreach::create_household, outreach::get_household, outreach::add_resident,
        outreach::correct_status, outreach::walklist,
        feedback::submit, feedback::inbox, feedback::get_one, feedback::do_move, feedback::draft, feedback::extend,
        feedback::note, feedback::visibility, feedback::erase_contact, feedback::figures,
    ),
    components(schemas(crate::error::ApiErrorBody, crate::error::ApiErrorDetail)),
    modifiers(&BearerAuth),
    security(("bearer" = [])),
)]
pub struct ApiDoc;

async fn openapi() -> Response {
    Json(ApiDoc::openapi()).into_response()
}

/// The API routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/openapi.json", get(openapi))
        .merge(auth::router())
        .merge(units::router())
        .merge(outreach::router())
        .merge(visits::router())
        .merge(feedback::router())
}
