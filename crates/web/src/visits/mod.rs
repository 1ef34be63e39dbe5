//! Recording visits: parsing each visit of a batch on its own, checking who may record
//! where, and storing the batch through the group-commit writer. The visit form of a
//! household is a page (`/app/households/{id}/visit`); phones send batches to
//! `POST /api/v1/visits`.

pub mod api;
mod pages;

use ngoso_core::Invalid;
use ngoso_core::auth as access;
use ngoso_core::outreach::{Barriers, VisitResult, parse_visit_id};
use ngoso_core::text;
use ngoso_core::unit::UnitPath;
use ngoso_store::catalog::Catalog;
use ngoso_store::teams;
use ngoso_store::users::Principal;
use std::sync::Arc;

use ngoso_store::visits::{self, OutcomeInput, Stored, VisitInput};
use serde::Deserialize;

use axum::routing::get;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::http::error::AppError;

/// The visit form and the visits API.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .route("/app/households/{id}/visit", get(pages::visit_form).post(pages::visit))
        .routes(routes!(api::post_visits))
}

/// Most visits in one request.
pub const MAX_BATCH: usize = 1000;

/// A visit as a client sends it.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct VisitJson {
    /// A UUID made by the client, unique within the household: sending the same visit again
    /// changes nothing.
    pub id: String,
    pub household_id: i64,
    /// The team; may be left out by a member of exactly one team.
    #[serde(default)]
    pub team_id: Option<i64>,
    /// The team member who knocked, one of the team's members (past or present).
    #[serde(default)]
    pub member_id: Option<i64>,
    /// RFC 3339, e.g. `2024-10-15T08:30:00+07:00`; not in the future.
    pub visited_at: String,
    /// met, not_home, refused or moved.
    pub result: String,
    /// Barrier codes met at the door.
    #[serde(default)]
    pub barriers: Vec<String>,
    #[serde(default)]
    pub note: String,
    #[serde(default)]
    pub outcomes: Vec<OutcomeJson>,
}

/// A subject's new status, by the catalogue's codes.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct OutcomeJson {
    /// Service code, e.g. `vneid_l2`.
    pub service: String,
    /// Status code of that service, e.g. `activated`.
    pub status: String,
    /// The resident, for a service whose subject is a person.
    #[serde(default)]
    pub resident_id: Option<i64>,
}

/// Who records, and where they may, as decided by [`access::recording`]: inside their scope,
/// and — unless they are an officer — only for teams they are an active member of (checked
/// in the writer's transaction).
pub struct Recorder {
    pub rights: access::Recording,
}

impl Recorder {
    /// The recorder of a signed-in user; forbidden to those who never record visits.
    pub fn new(p: &Principal) -> Result<Self, AppError> {
        Ok(Self { rights: access::recording(&p.actor())? })
    }

    /// Whether only the caller's own teams count.
    pub fn members_only(&self) -> bool {
        self.rights.members_only()
    }

    /// The caller as the store's group-commit writers check each visit of theirs.
    pub fn caller(&self) -> visits::Caller {
        let rights = self.rights.clone();
        visits::Caller {
            user_id: Some(rights.user_id),
            members_only: rights.members_only(),
            may_record: Arc::new(move |_team: i64, path: &UnitPath| rights.may_record(path)),
        }
    }
}

fn parse_time(s: &str) -> Result<i64, Invalid> {
    chrono::DateTime::parse_from_rfc3339(s.trim())
        .map(|d| d.timestamp())
        .map_err(|_| Invalid::field("visit-time-invalid", "visited_at").with_detail(s.trim()))
}

/// Parses one visit against the catalogue.
pub fn parse(v: &VisitJson, cat: &Catalog, default_team: Option<i64>) -> Result<VisitInput, Invalid> {
    let id = parse_visit_id(&v.id)?;
    let team_id = v.team_id.or(default_team).ok_or(Invalid::field("required", "team_id"))?;
    let mut barriers = Barriers::default();
    for b in &v.barriers {
        barriers = Barriers(barriers.0 | Barriers::parse_list(b)?.0);
    }
    let note = if v.note.trim().is_empty() { String::new() } else { text::parse_text(&v.note, "note", 2000)? };
    let mut outcomes = Vec::with_capacity(v.outcomes.len());
    for o in &v.outcomes {
        let s = cat
            .service_by_code(o.service.trim())
            .filter(|s| s.active)
            .ok_or_else(|| Invalid::field("service-unknown", "service").with_detail(o.service.trim()))?;
        let st = cat.status(s, o.status.trim()).ok_or_else(|| {
            Invalid::field("status-unknown", "status").with_detail(format!("{}/{}", s.code, o.status.trim()))
        })?;
        let resident_id = if s.is_household() {
            if o.resident_id.is_some_and(|r| r != 0) {
                return Err(Invalid::field("outcome-subject-invalid", "resident_id").with_detail(s.code.clone()));
            }
            0
        } else {
            o.resident_id.ok_or_else(|| Invalid::field("required", "resident_id").with_detail(s.code.clone()))?
        };
        outcomes.push(OutcomeInput {
            service_id: s.id,
            resident_id,
            status_id: st.id,
            rank: st.rank,
            person: !s.is_household(),
        });
    }
    Ok(VisitInput {
        id,
        household_id: v.household_id,
        team_id,
        member_id: v.member_id,
        visited_at: parse_time(&v.visited_at)?,
        result: VisitResult::parse(&v.result)?,
        barriers,
        note,
        outcomes,
    })
}

/// What became of one visit of a request: its id (as sent) and either success or why not.
pub struct Answer {
    pub id: String,
    pub result: Result<(), Invalid>,
}

/// Parses and stores a batch. Each item is a visit or the reason it could not be read.
pub async fn record(
    st: &AppState,
    rec: &Arc<Recorder>,
    items: Vec<(String, Result<VisitJson, Invalid>)>,
) -> Result<Vec<Answer>, AppError> {
    let cat = st.catalog().await?;
    // A member of exactly one team may leave the team out.
    let default_team = if items.iter().any(|(_, v)| v.as_ref().is_ok_and(|v| v.team_id.is_none())) {
        let own = teams::of_user(&st.db, rec.rights.user_id).await?;
        if own.len() == 1 { Some(own[0].id) } else { None }
    } else {
        None
    };
    let mut answers: Vec<Option<Answer>> = Vec::with_capacity(items.len());
    let mut inputs = Vec::new();
    let mut slots = Vec::new();
    for (i, (id, item)) in items.into_iter().enumerate() {
        match item.and_then(|v| parse(&v, &cat, default_team)) {
            Ok(v) => {
                inputs.push(v);
                slots.push(i);
                answers.push(None);
            }
            Err(e) => answers.push(Some(Answer { id, result: Err(e) })),
        }
    }
    let ids: Vec<String> = inputs.iter().map(|v| v.id.clone()).collect();
    let stored = if inputs.is_empty() { Vec::new() } else { st.ingestor.ingest(rec.caller(), inputs).await? };
    for ((slot, id), s) in slots.into_iter().zip(ids).zip(stored) {
        let result = match s {
            Stored::New | Stored::Duplicate => Ok(()),
            Stored::Refused(e) => Err(e),
        };
        answers[slot] = Some(Answer { id, result });
    }
    Ok(answers.into_iter().map(|a| a.expect("every visit has an answer")).collect())
}
