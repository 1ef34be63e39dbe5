//! The public statistics page: the province's live figures in the words of its report, for
//! the province and each unit down to the commune, with no login and no personal data (only
//! sums over a whole unit; hamlets, small enough to point at a family, are not shown).

use askama::Template;
use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use ngoso_core::unit::AdminLevel;
use ngoso_store::units::{self, Unit};
use serde::Deserialize;
use utoipa_axum::router::OpenApiRouter;

use crate::AppState;
use crate::http::error::AppError;
use crate::http::extract::{Path, Query};
use crate::http::i18n::Lang;
use crate::http::render::{Ctx, PageCtx, render};
use crate::indicators::Headline;

/// The figures the public page shows, in the report's order.
pub const PUBLIC: [&str; 12] = [
    "HOUSEHOLDS_GUIDED_APP",
    "APP_INSTALLS",
    "VNEID_L2_ACTIVATED",
    "CASHLESS_PLACES",
    "HEALTH_FEES_CASHLESS_SHARE",
    "SOCIAL_SECURITY_ACCOUNT_SHARE",
    "FEEDBACK_RECEIVED",
    "FEEDBACK_ANSWERED_SHARE",
    "FEEDBACK_ON_TIME_SHARE",
    "MODELS_ACTIVE",
    "TRAININGS_HELD",
    "MEMBERS_TRAINED_SHARE",
];

/// The figure the children are compared by.
const COMPARED: &str = "HOUSEHOLDS_GUIDED_APP";

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().route("/stats", get(index)).route("/stats/{code}", get(show))
}

/// Whether a unit's figures are public: provinces, districts and communes.
fn public_level(level: Option<AdminLevel>) -> bool {
    matches!(level, Some(AdminLevel::Province | AdminLevel::District | AdminLevel::Commune))
}

/// The public unit of a code during a period (a code reused after a restructuring names the
/// unit of its time).
async fn public_unit(
    st: &AppState,
    code: &str,
    period: &ngoso_core::period::Period,
) -> Result<(Unit, AdminLevel), AppError> {
    let u = units::by_code_for(&st.db, code, period.end()).await?;
    let level = units::level(&st.db, &u).await?;
    match level {
        Some(l) if public_level(Some(l)) => Ok((u, l)),
        _ => Err(AppError::not_found()),
    }
}

/// `GET /stats`: the top of the tree (the province, when there is one).
async fn index(State(st): State<AppState>) -> Result<Response, AppError> {
    let roots = units::children_on(&st.db, None, ngoso_store::teams::today()).await?;
    match roots.first() {
        Some(r) => Ok(Redirect::to(&format!("/stats/{}", r.code)).into_response()),
        None => Err(AppError::not_found()),
    }
}

struct Child {
    code: String,
    name: String,
    value: String,
    /// 0–100, relative to the largest child.
    bar: i64,
}

#[derive(Template)]
#[template(path = "stats/show.html")]
struct Show {
    ctx: PageCtx,
    unit: Unit,
    ancestors: Vec<Unit>,
    period: String,
    period_name: String,
    figures: Vec<Headline>,
    compared: String,
    children: Vec<Child>,
}

#[derive(Deserialize, Default)]
pub struct PeriodQuery {
    #[serde(default)]
    period: Option<String>,
}

/// `GET /stats/{code}?period=2024`.
async fn show(
    State(st): State<AppState>,
    Ctx(ctx): Ctx,
    Path(code): Path<String>,
    Query(q): Query<PeriodQuery>,
) -> Result<Response, AppError> {
    let english = ctx.lang == Lang::En;
    let period = crate::indicators::period_or_this_year(q.period.as_deref())?;
    let (unit, level) = public_unit(&st, &code, &period).await?;
    let keep = |h: &Headline| PUBLIC.contains(&h.code.as_str());
    let mut figures: Vec<Headline> = crate::indicators::headline(&st, &unit, &period, english).await?;
    figures.retain(keep);
    figures.sort_by_key(|h| PUBLIC.iter().position(|c| *c == h.code));
    let compared = figures.iter().find(|h| h.code == COMPARED).map(|h| h.name.clone()).unwrap_or_default();
    let mut children: Vec<Child> = Vec::new();
    if level != AdminLevel::Commune {
        let day = crate::units::period_tree_day(&unit, &period, ngoso_store::teams::today());
        let below = units::children_on(&st.db, Some(unit.id), day).await?;
        if let Some((_, values)) = crate::indicators::for_children(&st, &below, &period, COMPARED, &ctx.tr).await? {
            children =
                values.into_iter().map(|v| Child { code: v.code, name: v.name, value: v.shown, bar: v.bar }).collect();
        }
    }
    children.sort_by_key(|c| std::cmp::Reverse(c.bar));
    let ancestors = units::ancestors(&st.db, &unit).await?;
    render(&Show {
        period: period.id(),
        period_name: period.name(english),
        figures,
        compared,
        children,
        ancestors,
        unit,
        ctx,
    })
}
