//! Public submissions of feedback on SQLite: a group commit on the writer's own handle.
//!
//! Through sqlx, each of a submission's dozen statements was a trip to the connection's worker
//! thread and back, and handing the one writer from one request to the next cost more again;
//! the writer stood idle between them while submissions queued for it. Here a submission joins
//! a queue; a task takes everything that has gathered and stores it in one transaction on the
//! writer's handle (one trip for the lot), each submission under a savepoint of its own, so
//! that one refused (its category withdrawn meanwhile) leaves the others stored. What is
//! written is worked out once for both databases (`feedback::items::Submission`); PostgreSQL
//! writes it in one statement instead (`db::pg::feedback_submit`).

use std::sync::{Arc, Mutex};

use ngoso_core::Invalid;
use ngoso_core::feedback::{State, TrackingCode};
use sqlx::sqlite::LockedSqliteHandle;
use tokio::sync::oneshot;

use super::{Locked, SqliteError, Stmt, Value, add_rollups};
use crate::db::SqlitePools;
use crate::feedback::items::{BY_CLIENT, INSERT_ITEM, INSERT_MEDIA, INSERT_PHOTO, NEXT_NUMBER, Submission};
use crate::feedback::{COUNT, ENQUEUE, HISTORY, Submitted};
use crate::{Result, StoreError};

/// Most submissions stored in one transaction.
const MAX_GROUP: usize = 256;

pub(crate) enum Outcome {
    Stored {
        id: i64,
        code: String,
    },
    /// The account sent this client id before: its item, as it was stored.
    Found(Submitted),
}

/// Submissions waiting to be stored, and whether a task is storing them.
#[derive(Default)]
pub(crate) struct Queue(Mutex<Waiting>);

#[derive(Default)]
struct Waiting {
    queued: Vec<Queued>,
    storing: bool,
}

struct Queued {
    submission: Submission,
    reply: oneshot::Sender<Result<Outcome>>,
}

impl std::fmt::Debug for Queue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Queue")
    }
}

impl Queue {
    fn lock(&self) -> std::sync::MutexGuard<'_, Waiting> {
        // The lock guards a list and a flag, left whole by every holder: a holder that
        // panicked left nothing half-done.
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Stores a submission, perhaps in one transaction with others, and waits for it.
///
/// The task that stores is started by the submission that finds none running, and runs until
/// the queue is empty; it is not the caller's, so a caller that goes away (its client hung
/// up) neither stops it nor loses the others' submissions.
pub(crate) async fn submit(pools: &SqlitePools, submission: Submission) -> Result<Outcome> {
    let (reply, answer) = oneshot::channel();
    let start = {
        let mut w = pools.submissions.lock();
        w.queued.push(Queued { submission, reply });
        !std::mem::replace(&mut w.storing, true)
    };
    if start {
        tokio::spawn(store_queued(pools.clone()));
    }
    answer.await.map_err(|_| StoreError::Sqlite("the submission was not stored: its writer stopped".into()))?
}

/// Stores what is queued, group after group, until nothing is left.
async fn store_queued(pools: SqlitePools) {
    // Should this task end early (a panic), the queue is not left to wait for it: the
    // submissions waiting are answered with an error (their senders dropped) and the next one
    // starts a new task.
    struct Storing(Arc<Queue>, bool);
    impl Drop for Storing {
        fn drop(&mut self) {
            if self.1 {
                let mut w = self.0.lock();
                w.queued.clear();
                w.storing = false;
            }
        }
    }
    let mut storing = Storing(pools.submissions.clone(), true);
    loop {
        // The writer is kept from one group to the next while submissions keep coming (taking
        // it again for each cost as much as storing the group), and handed back at least every
        // HOLD so that the other writes (visits, staff's work) get their turn.
        let mut conn = match pools.write.acquire().await {
            Ok(c) => c,
            Err(e) => {
                answer_all(&pools, &e.to_string());
                storing.1 = false;
                return;
            }
        };
        let mut handle = match conn.lock_handle().await {
            Ok(h) => h,
            Err(e) => {
                answer_all(&pools, &e.to_string());
                storing.1 = false;
                return;
            }
        };
        let held = std::time::Instant::now();
        while held.elapsed() < HOLD {
            let group: Vec<Queued> = {
                let mut w = pools.submissions.lock();
                if w.queued.is_empty() {
                    w.storing = false;
                    storing.1 = false;
                    return;
                }
                let n = w.queued.len().min(MAX_GROUP);
                w.queued.drain(..n).collect()
            };
            let (subs, replies): (Vec<Submission>, Vec<_>) = group.into_iter().map(|q| (q.submission, q.reply)).unzip();
            match crate::db::blocking(|| store_group(&mut handle, &subs)) {
                Ok(outcomes) => {
                    for (reply, outcome) in replies.into_iter().zip(outcomes) {
                        let _ = reply.send(outcome);
                    }
                }
                // The transaction failed as a whole: none of the group was stored.
                Err(e) => {
                    let msg = e.to_string();
                    for reply in replies {
                        let _ = reply.send(Err(StoreError::Sqlite(msg.clone())));
                    }
                }
            }
        }
    }
}

/// Longest the submissions keep the writer at a time.
const HOLD: std::time::Duration = std::time::Duration::from_millis(50);

/// Answers every queued submission with an error (the writer could not be had) and lets the
/// next one start a new task.
fn answer_all(pools: &SqlitePools, error: &str) {
    let queued = {
        let mut w = pools.submissions.lock();
        w.storing = false;
        std::mem::take(&mut w.queued)
    };
    for q in queued {
        let _ = q.reply.send(Err(StoreError::Sqlite(format!("the submission was not stored: {error}"))));
    }
}

/// One transaction for the group, each submission under its own savepoint.
fn store_group(handle: &mut LockedSqliteHandle<'_>, subs: &[Submission]) -> Result<Vec<Result<Outcome>>> {
    Locked::new(handle)
        .transaction(|conn| {
            let mut st = Statements::prepare(conn)?;
            let mut out = Vec::with_capacity(subs.len());
            for s in subs {
                st.savepoint.run(&[])?;
                match write(&mut st, s) {
                    Ok(o) => {
                        st.release.run(&[])?;
                        out.push(Ok(o));
                    }
                    Err(stop) => {
                        st.rollback.run(&[])?;
                        st.release.run(&[])?;
                        out.push(Err(match stop {
                            Stop::Invalid(i) => StoreError::Invalid(i),
                            Stop::Db(e) => StoreError::Sqlite(e.to_string()),
                        }));
                    }
                }
            }
            Ok::<_, SqliteError>(out)
        })
        .map_err(|e| StoreError::Sqlite(e.to_string()))
}

/// The statements of a submission, prepared once for the group.
struct Statements<'c> {
    savepoint: Stmt<'c>,
    release: Stmt<'c>,
    rollback: Stmt<'c>,
    by_client: Stmt<'c>,
    next_number: Stmt<'c>,
    item: Stmt<'c>,
    photo: Stmt<'c>,
    media: Stmt<'c>,
    history: Stmt<'c>,
    enqueue: Stmt<'c>,
    count: Stmt<'c>,
    rollup: Stmt<'c>,
}

impl<'c> Statements<'c> {
    fn prepare(conn: &'c Locked<'_>) -> std::result::Result<Self, SqliteError> {
        Ok(Statements {
            savepoint: conn.prepare("SAVEPOINT submission")?,
            release: conn.prepare("RELEASE submission")?,
            rollback: conn.prepare("ROLLBACK TO submission")?,
            by_client: conn.prepare(BY_CLIENT)?,
            next_number: conn.prepare(NEXT_NUMBER)?,
            item: conn.prepare(INSERT_ITEM)?,
            photo: conn.prepare(INSERT_PHOTO)?,
            media: conn.prepare(INSERT_MEDIA)?,
            history: conn.prepare(HISTORY)?,
            enqueue: conn.prepare(ENQUEUE)?,
            count: conn.prepare(COUNT)?,
            rollup: super::rollup_statement(conn)?,
        })
    }
}

/// Why a submission stopped: SQLite's error, or the input (rolled back to its savepoint).
enum Stop {
    Db(SqliteError),
    Invalid(Invalid),
}

impl From<SqliteError> for Stop {
    fn from(e: SqliteError) -> Self {
        Stop::Db(e)
    }
}

fn write(st: &mut Statements<'_>, s: &Submission) -> std::result::Result<Outcome, Stop> {
    let n = &s.item;
    // A second send of a client id: under the one writer nothing can come between this
    // look and the insert, so no send is stored twice.
    if let (Some(client), Some(by)) = (&n.client_id, n.submitted_by) {
        let found = st.by_client.rows(&[Value::Int(by), Value::Text(client)], |r| Submitted {
            id: r.int(0),
            code: r.text(1),
            citizen_key: String::new(),
            state: r.text(2),
            agency_id: r.int_or_null(3),
            due_at: r.int(4),
            replayed: true,
        })?;
        if let Some(found) = found.into_iter().next() {
            return Ok(Outcome::Found(found));
        }
    }
    let seq = st.next_number.rows(&[Value::Text(&s.day_key)], |r| r.int(0))?;
    let code = TrackingCode { day: s.day, seq: seq.first().copied().unwrap_or(1) as u32 }.to_string();
    let consent_at = n.consent.then_some(n.received_at);
    let real = |v: Option<f64>| v.map_or(Value::Null, Value::Real);
    let inserted = st.item.rows(
        &[
            Value::Text(&code),
            Value::Int(n.category_id),
            n.unit_id.into(),
            n.address.as_deref().into(),
            real(n.point.map(|p| p.lat)),
            real(n.point.map(|p| p.lon)),
            Value::Text(&n.description),
            Value::Text(&s.extra),
            Value::Text(n.channel.as_str()),
            n.contact_name.as_deref().into(),
            n.contact_phone.as_deref().into(),
            n.contact_email.as_deref().into(),
            consent_at.into(),
            Value::Text(&s.key_hash),
            n.submitted_by.into(),
            n.api_key_id.into(),
            s.agency.into(),
            Value::Text(s.state.as_str()),
            Value::Int(n.received_at),
            Value::Int(s.due_at),
            Value::Int(s.t),
            Value::Int(n.photo.is_some() as i64),
            n.client_id.as_deref().into(),
            Value::Text(&s.search_key),
        ],
        |r| r.int(0),
    );
    let id = match inserted {
        Ok(ids) => ids.first().copied().unwrap_or_default(),
        // The category went away since it was checked.
        Err(e) if e.code == libsqlite3_sys::SQLITE_CONSTRAINT_FOREIGNKEY => {
            return Err(Stop::Invalid(Invalid::field("category-unknown", "category")));
        }
        Err(e) => return Err(e.into()),
    };
    if let Some(p) = &n.photo {
        st.photo.run(&[
            Value::Int(id),
            Value::Text(p.mime),
            Value::Int(p.width as i64),
            Value::Int(p.height as i64),
            Value::Blob(&p.bytes),
        ])?;
    }
    if let Some(url) = &n.media_url {
        st.media.run(&[Value::Int(id), Value::Text(url), Value::Int(s.t)])?;
    }
    for (user, action, from, to, agency, detail) in s.history() {
        st.history.run(&[
            Value::Int(id),
            Value::Int(n.received_at),
            user.into(),
            Value::Text(action),
            from.map(State::as_str).into(),
            Value::Text(to.as_str()),
            agency.into(),
            Value::Text(detail),
        ])?;
    }
    for (kind, target, body) in s.announcements(&code) {
        let body = body.to_string();
        st.enqueue.run(&[
            Value::Text(kind),
            Value::Text(&target),
            Value::Int(id),
            Value::Text(&body),
            Value::Int(s.t),
        ])?;
    }
    // The figures: the leaf's counters, and the same counts up the tree.
    let month = s.month();
    st.count.run(&[
        Value::Int(n.unit_id.unwrap_or(0)),
        Value::Int(n.category_id),
        Value::Int(s.agency.unwrap_or(0)),
        Value::Text(&month),
        Value::Int(1),
        Value::Int(0),
        Value::Int(0),
    ])?;
    add_rollups(&mut st.rollup, s.rollups())?;
    Ok(Outcome::Stored { id, code })
}
