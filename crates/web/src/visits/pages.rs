//! The visit form of a household: a door knock recorded from a page.

use askama::Template;
use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use ngoso_core::auth::Action;
use ngoso_core::outreach::{Barrier, VisitResult};
use ngoso_store::households::Household;
use ngoso_store::users::Principal;

use super::{OutcomeJson, Recorder, VisitJson};
use crate::AppState;
use crate::auth::{PageUser, ensure};
use crate::households as ops;
use crate::http::error::{AppError, message};
use crate::http::extract::{CsrfFields, Path};
use crate::http::render::{Ctx, PageCtx, render, render_status};

struct OutcomeRow {
    label: String,
    field: String,
    options: Vec<(String, String)>,
}

/// A person service on the form: one choice for everyone in the household, and the
/// residents one by one for the exceptions (a household of eight in two taps).
struct PersonService {
    name: String,
    code: String,
    options: Vec<(String, String)>,
    residents: Vec<OutcomeRow>,
}

#[derive(Template)]
#[template(path = "visits/visit.html")]
struct VisitPage {
    ctx: PageCtx,
    h: Household,
    visit_id: String,
    teams: Vec<(i64, String)>,
    results: Vec<(&'static str, String)>,
    outcome_rows: Vec<OutcomeRow>,
    person_services: Vec<PersonService>,
    barriers: Vec<(&'static str, String)>,
    error: Option<String>,
}

/// The teams the principal may record for at this household.
async fn recording_teams(st: &AppState, p: &Principal, h: &Household) -> Result<Vec<(i64, String)>, AppError> {
    let teams = if Recorder::new(p)?.members_only() {
        ngoso_store::teams::of_user(&st.db, p.id).await?
    } else {
        ngoso_store::teams::list(&st.db, crate::auth::scope_path(p)).await?
    };
    Ok(teams.into_iter().filter(|t| t.path().contains(&h.path())).map(|t| (t.id, t.name)).collect())
}

async fn visit_page(
    st: &AppState,
    ctx: PageCtx,
    p: &Principal,
    id: i64,
    error: Option<String>,
) -> Result<VisitPage, AppError> {
    // The store logs the read (the form names the residents).
    let record = ops::open(&st.db, p, id, 0).await?;
    let (h, residents) = (record.household, record.residents);
    ensure(p, Action::RecordVisit, &h.path())?;
    let teams = recording_teams(st, p, &h).await?;
    if teams.is_empty() {
        return Err(AppError::forbidden());
    }
    let english = ctx.lang == crate::http::i18n::Lang::En;
    let cat = st.catalog().await?;
    let mut outcome_rows = Vec::new();
    let mut person_services = Vec::new();
    for s in cat.services.iter().filter(|s| s.active) {
        let options: Vec<(String, String)> =
            s.statuses.iter().map(|x| (x.code.clone(), x.name(english).to_owned())).collect();
        if s.is_household() {
            outcome_rows.push(OutcomeRow {
                label: s.name(english).to_owned(),
                field: format!("o:{}:0", s.code),
                options,
            });
        } else if !residents.is_empty() {
            let rows = residents
                .iter()
                .map(|r| OutcomeRow {
                    label: r.full_name.clone().unwrap_or_else(|| format!("#{}", r.id)),
                    field: format!("o:{}:{}", s.code, r.id),
                    options: options.clone(),
                })
                .collect();
            person_services.push(PersonService {
                name: s.name(english).to_owned(),
                code: s.code.clone(),
                options,
                residents: rows,
            });
        }
    }
    Ok(VisitPage {
        // Time-ordered (version 7): new visits then land at the end of the index of visit
        // ids instead of on a random page of it.
        visit_id: uuid::Uuid::now_v7().to_string(),
        teams,
        results: VisitResult::ALL.iter().map(|r| (r.as_str(), ctx.t(&format!("result-{}", r.as_str())))).collect(),
        outcome_rows,
        person_services,
        barriers: Barrier::ALL.iter().map(|b| (b.as_str(), ctx.t(&format!("barrier-{}", b.as_str())))).collect(),
        h,
        error,
        ctx,
    })
}

/// `GET /app/households/{id}/visit`: the visit form (a fresh visit id makes a double submit harmless).
pub(crate) async fn visit_form(
    State(st): State<AppState>,
    Ctx(ctx): Ctx,
    PageUser(p): PageUser,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    render(&visit_page(&st, ctx, &p, id, None).await?)
}

/// The named fields of the visit form; each outcome comes beside them as
/// `o:{service}:{resident id, 0 for the household}`.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(default)]
struct VisitForm {
    /// The visit's id, made when the form was drawn, so a form sent twice records one visit.
    id: String,
    team_id: String,
    result: String,
    barrier: Vec<String>,
    note: String,
}

/// `POST /app/households/{id}/visit`.
pub(crate) async fn visit(
    State(st): State<AppState>,
    Ctx(ctx): Ctx,
    PageUser(p): PageUser,
    Path(id): Path<i64>,
    CsrfFields(f): CsrfFields,
) -> Result<Response, AppError> {
    let mut outcomes: Vec<OutcomeJson> =
        f.0.iter()
            .filter(|(k, v)| k.starts_with("o:") && !v.is_empty())
            .filter_map(|(k, v)| {
                let mut parts = k.splitn(3, ':').skip(1);
                let service = parts.next()?.to_owned();
                let resident = parts.next()?.parse::<i64>().ok()?;
                Some(OutcomeJson { service, status: v.clone(), resident_id: Some(resident).filter(|r| *r != 0) })
            })
            .collect();
    // `o:{service}:all`: the status for every resident not given one of their own.
    let everyone: Vec<(String, String)> =
        f.0.iter()
            .filter(|(_, v)| !v.is_empty())
            .filter_map(|(k, v)| Some((k.strip_prefix("o:")?.strip_suffix(":all")?.to_owned(), v.clone())))
            .collect();
    if !everyone.is_empty() {
        let ids = ngoso_store::households::ids_in_household(&st.db, id).await?;
        for (service, status) in everyone {
            for r in &ids {
                if !outcomes.iter().any(|o| o.service == service && o.resident_id == Some(*r)) {
                    outcomes.push(OutcomeJson {
                        service: service.clone(),
                        status: status.clone(),
                        resident_id: Some(*r),
                    });
                }
            }
        }
    }
    let form: VisitForm = f.parse()?;
    let now = chrono::Utc::now().to_rfc3339();
    let v = VisitJson {
        id: form.id,
        household_id: id,
        team_id: form.team_id.parse().ok(),
        member_id: None,
        visited_at: now,
        result: form.result,
        barriers: form.barrier,
        note: form.note,
        outcomes,
    };
    let rec = std::sync::Arc::new(Recorder::new(&p)?);
    let answer = crate::visits::record(&st, &rec, vec![(v.id.clone(), Ok(v))]).await?.remove(0);
    match answer.result {
        Ok(()) => Ok(Redirect::to(&format!("/app/households/{id}?saved=visit")).into_response()),
        Err(e) => {
            let e = AppError::from(e);
            let msg = message(ctx.lang, e.info());
            render_status(e.info().status, &visit_page(&st, ctx, &p, id, Some(msg)).await?)
        }
    }
}
