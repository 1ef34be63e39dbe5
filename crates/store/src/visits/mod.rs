//! Visits: a batch of door knocks stored at once, idempotently, with the subjects' statuses
//! moving forward and the roll-ups updated in the same transaction.
//!
//! A batch is read (`plan::Keys` names what it needs), decided visit by visit against what
//! was read (`plan`, `check`) and written, in one transaction; each backend reads and writes
//! it its own way (`db::sqlite::visit_ingest`, `db::pg::visit_ingest`). A server stores its
//! callers' batches through group-commit writers ([`Writer`], [`Ingestor`]).

use ngoso_core::Invalid;
use ngoso_core::outreach::{Barriers, VisitResult};
use ngoso_core::unit::UnitPath;

use crate::{Db, Result};

mod check;
mod corrections;
mod ingestor;
pub(crate) mod plan;
mod reads;
mod writer;

pub use corrections::correct_status;
pub use ingestor::{Caller, Ingestor, SharedMayRecord};
pub(crate) use reads::of_household;
pub use reads::{SubjectStatus, VisitRow, count, statuses_of_household};
pub use writer::Writer;

/// One outcome of a visit: a subject's new status for a service.
#[derive(Debug, Clone, PartialEq)]
pub struct OutcomeInput {
    pub service_id: i64,
    /// 0 when the service's subject is the household.
    pub resident_id: i64,
    pub status_id: i64,
    /// The status's rank within its service.
    pub rank: i32,
    /// Whether the service's subject is a person.
    pub person: bool,
}

/// A visit to store; the catalogue part is already checked by the caller.
#[derive(Debug, Clone)]
pub struct VisitInput {
    pub id: String,
    pub household_id: i64,
    pub team_id: i64,
    pub member_id: Option<i64>,
    pub visited_at: i64,
    pub result: VisitResult,
    pub barriers: Barriers,
    pub note: String,
    pub outcomes: Vec<OutcomeInput>,
}

/// What became of one visit of a batch.
#[derive(Debug, Clone, PartialEq)]
pub enum Stored {
    /// Stored now.
    New,
    /// Stored before (same id): nothing changed.
    Duplicate,
    /// Refused; nothing of it was stored.
    Refused(Invalid),
}

/// What the caller lets this user do: whether they may record visits for a team whose unit
/// is at `team_path`.
pub type MayRecord<'a> = &'a (dyn Fn(i64, &UnitPath) -> bool + Sync);

/// A batch of visits from one caller: who records them and what they may record.
pub struct Job<'a> {
    pub user_id: Option<i64>,
    pub visits: &'a [VisitInput],
    pub may_record: MayRecord<'a>,
    /// The caller may record only for teams they are an active member of (checked in the
    /// same transaction, so a member who just left cannot record).
    pub members_only: bool,
}

/// Stores a batch of visits in one transaction. Each visit is checked on its own: the good
/// ones are stored even when others are refused.
pub async fn ingest(
    db: &Db,
    user_id: Option<i64>,
    visits: &[VisitInput],
    may_record: MayRecord<'_>,
) -> Result<Vec<Stored>> {
    let mut out = ingest_jobs(db, &[Job { user_id, visits, may_record, members_only: false }]).await?;
    Ok(out.pop().unwrap_or_default())
}

/// Stores the batches of several callers in one transaction (group commit): each visit is
/// checked with its own caller's rights; the answers come back per batch, in order.
pub async fn ingest_jobs(db: &Db, jobs: &[Job<'_>]) -> Result<Vec<Vec<Stored>>> {
    Ok(answers_per_job(jobs, writer::ingest_retrying(db, None, &items_of(jobs)).await?))
}

/// The visits of every job, each with its caller's rights.
pub(crate) fn items_of<'a>(jobs: &[Job<'a>]) -> Vec<Item<'a>> {
    let mut all: Vec<Item<'_>> = Vec::new();
    for j in jobs {
        let member = if j.members_only { j.user_id } else { None };
        all.extend(j.visits.iter().map(|v| (v, j.user_id, j.may_record, member)));
    }
    all
}

/// The flat answers cut back into one list per job, in order.
pub(crate) fn answers_per_job(jobs: &[Job<'_>], flat: Vec<Stored>) -> Vec<Vec<Stored>> {
    let mut it = flat.into_iter();
    jobs.iter().map(|j| it.by_ref().take(j.visits.len()).collect()).collect()
}

/// A visit with its caller, their rights, and the user whose team membership it needs.
pub(crate) type Item<'a> = (&'a VisitInput, Option<i64>, MayRecord<'a>, Option<i64>);
