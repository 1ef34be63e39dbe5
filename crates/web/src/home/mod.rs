//! The public home page.

use askama::Template;
use axum::response::Response;
use axum::routing::get;
use utoipa_axum::router::OpenApiRouter;

use crate::AppState;
use crate::http::error::AppError;
use crate::http::render::{Ctx, PageCtx, render};

#[derive(Template)]
#[template(path = "home/index.html")]
struct Home {
    ctx: PageCtx,
}

/// `GET /`.
async fn home(Ctx(ctx): Ctx) -> Result<Response, AppError> {
    render(&Home { ctx })
}

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().route("/", get(home))
}
