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

use ngoso_store::Db;
use ngoso_store::visits::{self, OutcomeInput, Stored, VisitInput};
use serde::Deserialize;
use tokio::sync::{Mutex, mpsc, oneshot};

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

    /// Whether the caller may record a visit for a team whose unit is at `path` (membership
    /// aside).
    pub fn may_record(&self, _team_id: i64, path: &UnitPath) -> bool {
        self.rights.may_record(path)
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

/// Most visits stored in one group commit.
const MAX_GROUP: usize = 2000;

/// A caller's batch waiting for the writer.
struct Job {
    recorder: Arc<Recorder>,
    visits: Vec<VisitInput>,
    reply: oneshot::Sender<Result<Vec<Stored>, String>>,
}

/// Group commit of visit batches: requests hand their visits to writer tasks, which store
/// whatever has gathered in one transaction. A lone request is stored at once; under load,
/// many small uploads (one visit from each phone) share a transaction instead of queueing
/// for the write lock one by one.
pub struct Ingestor {
    tx: mpsc::Sender<Job>,
}

impl Ingestor {
    /// Starts the writers: one on SQLite (one writer is all it has), four on PostgreSQL, each
    /// on a connection of its own, opened at its first batch (see `visits::Writer`).
    pub fn start(db: Db) -> Self {
        let (tx, rx) = mpsc::channel::<Job>(4096);
        let rx = Arc::new(Mutex::new(rx));
        let writers = match db.backend() {
            ngoso_store::Backend::Sqlite => 1,
            ngoso_store::Backend::Postgres => 4,
        };
        for _ in 0..writers {
            tokio::spawn(writer(db.clone(), rx.clone()));
        }
        Self { tx }
    }

    /// Stores a batch and waits for its answers.
    pub async fn ingest(&self, recorder: Arc<Recorder>, visits: Vec<VisitInput>) -> Result<Vec<Stored>, AppError> {
        let (reply, answer) = oneshot::channel();
        let stopped = || AppError::internal("the visit writer has stopped");
        self.tx.send(Job { recorder, visits, reply }).await.map_err(|_| stopped())?;
        answer.await.map_err(|_| stopped())?.map_err(AppError::internal)
    }
}

async fn writer(db: Db, rx: Arc<Mutex<mpsc::Receiver<Job>>>) {
    let mut store = visits::Writer::new(db);
    loop {
        let jobs = {
            let mut rx = rx.lock().await;
            let Some(first) = rx.recv().await else { return };
            let mut n = first.visits.len();
            let mut jobs = vec![first];
            while n < MAX_GROUP {
                match rx.try_recv() {
                    Ok(j) => {
                        n += j.visits.len();
                        jobs.push(j);
                    }
                    Err(_) => break,
                }
            }
            jobs
        };
        let rights: Vec<_> = jobs
            .iter()
            .map(|j| {
                let r = j.recorder.clone();
                move |team: i64, path: &UnitPath| r.may_record(team, path)
            })
            .collect();
        let store_jobs: Vec<visits::Job<'_>> = jobs
            .iter()
            .zip(&rights)
            .map(|(j, may)| visits::Job {
                user_id: Some(j.recorder.rights.user_id),
                visits: &j.visits,
                may_record: may,
                members_only: j.recorder.members_only(),
            })
            .collect();
        let result = store.ingest_jobs(&store_jobs).await;
        drop(store_jobs);
        match result {
            Ok(answers) => {
                for (j, a) in jobs.into_iter().zip(answers) {
                    let _ = j.reply.send(Ok(a));
                }
            }
            Err(e) => {
                let msg = e.to_string();
                for j in jobs {
                    let _ = j.reply.send(Err(msg.clone()));
                }
            }
        }
    }
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
    let stored = if inputs.is_empty() { Vec::new() } else { st.ingestor.ingest(rec.clone(), inputs).await? };
    for ((slot, id), s) in slots.into_iter().zip(ids).zip(stored) {
        let result = match s {
            Stored::New | Stored::Duplicate => Ok(()),
            Stored::Refused(e) => Err(e),
        };
        answers[slot] = Some(Answer { id, result });
    }
    Ok(answers.into_iter().map(|a| a.expect("every visit has an answer")).collect())
}
