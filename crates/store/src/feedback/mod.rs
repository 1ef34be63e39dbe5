//! Citizen feedback: submission with routing and a tracking code ([`items`]), the moves
//! between states ([`actions`]), the staff inbox and the public side ([`inbox`]), their
//! set-up ([`setup`]) and figures ([`figures`]). Every change writes its history row, its
//! figures and the outbox rows that announce it in one transaction, through the helpers here.

use ngoso_core::calendar;
use ngoso_core::feedback::State;

use crate::{Result, Tx, now, on_tx};

pub mod actions;
pub mod document;
pub mod figures;
pub mod inbox;
pub mod items;
pub mod media;
pub mod past;
pub mod setup;

pub use actions::{
    Handle, MoveInput, add_info, apply, apply_unchecked_at, draft_answer, draft_answer_unchecked_at, draft_hash,
    erase_contact, extend, extend_unchecked, note, rate, set_hidden,
};
pub use inbox::{
    InboxFilter, InboxRow, PAGE, PUBLIC_PAGE, PublicFilter, PublicRow, Search, fill_search_keys, inbox, inbox_count,
    public_list, public_units, search,
};
pub use items::{
    HistoryRow, Item, NewItem, PublicItem, Submitted, by_client, deadline_basis, history, id_by_code, photo, place,
    public_by_code, read, submit,
};

/// Writes a history row of the item, now.
pub(super) async fn history_in(
    tx: &mut Tx,
    id: i64,
    user: Option<i64>,
    action: &str,
    states: (Option<State>, Option<State>),
    agency: Option<i64>,
    detail: &str,
) -> Result<()> {
    history_at(tx, now(), id, user, action, states, agency, detail).await
}

/// A history row (bound: item, time, user, action, from and to state, agency, detail).
pub(crate) const HISTORY: &str = "INSERT INTO feedback_history (feedback_id, at, user_id, action, from_state, to_state, agency_id, detail) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)";

/// Adds to the counters of a leaf (bound: unit or 0, category, agency or 0, month,
/// received, answered, on time).
pub(crate) const COUNT: &str = "INSERT INTO feedback_counts (unit_id, category_id, agency_id, month, received, answered, on_time) \
     VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (unit_id, category_id, agency_id, month) DO UPDATE SET \
     received = feedback_counts.received + $5, answered = feedback_counts.answered + $6, on_time = feedback_counts.on_time + $7";

/// Writes a history row of the item at a given time.
#[allow(clippy::too_many_arguments)]
pub(super) async fn history_at(
    tx: &mut Tx,
    at: i64,
    id: i64,
    user: Option<i64>,
    action: &str,
    states: (Option<State>, Option<State>),
    agency: Option<i64>,
    detail: &str,
) -> Result<()> {
    on_tx!(tx, t => sqlx::query(HISTORY)
        .bind(id).bind(at).bind(user).bind(action).bind(states.0.map(State::as_str)).bind(states.1.map(State::as_str))
        .bind(agency).bind(detail).execute(t).await.map(|r| r.rows_affected()))?;
    Ok(())
}

/// Adds to the figures of one leaf (unit, category, agency, month) in the transaction of the
/// change.
pub(super) async fn count(
    tx: &mut Tx,
    leaf: (Option<i64>, i64, Option<i64>),
    at: i64,
    d: (i64, i64, i64),
) -> Result<()> {
    let month = ngoso_core::outreach::month_of(at);
    on_tx!(tx, c => sqlx::query(COUNT)
        .bind(leaf.0.unwrap_or(0)).bind(leaf.1).bind(leaf.2.unwrap_or(0)).bind(&month).bind(d.0).bind(d.1).bind(d.2)
        .execute(c).await.map(|r| r.rows_affected()))?;
    // The same counts up the tree, so that a province's figures are a few roll-up rows.
    if let Some(unit) = leaf.0 {
        let mut deltas = ngoso_core::rollup::Deltas::default();
        deltas.feedback(unit, &month, d);
        crate::rollups::apply(tx, deltas.into_vec()).await?;
    }
    Ok(())
}

/// An outbox row (bound: kind, target, item, payload, time).
pub(crate) const ENQUEUE: &str = "INSERT INTO outbox (kind, target, feedback_id, payload, created_at, next_attempt_at) VALUES ($1, $2, $3, $4, $5, $5)";

/// Queues a notification in the same transaction as the change it announces.
pub async fn enqueue(
    tx: &mut Tx,
    kind: &str,
    target: &str,
    feedback_id: i64,
    payload: &serde_json::Value,
) -> Result<()> {
    let t = now();
    on_tx!(tx, c => sqlx::query(ENQUEUE)
        .bind(kind).bind(target).bind(feedback_id).bind(payload.to_string()).bind(t).execute(c).await.map(|r| r.rows_affected()))?;
    Ok(())
}

/// What an announcement of an item is made from (bound: the item).
pub(crate) const ANNOUNCED: &str = "SELECT f.code, f.state, f.agency_id, a.webhook_url, f.due_at, c.code AS category_code, \
     u.code AS unit_code, f.contact_phone, f.contact_email FROM feedback f JOIN feedback_categories c ON c.id = f.category_id \
     LEFT JOIN agencies a ON a.id = f.agency_id AND a.active LEFT JOIN units u ON u.id = f.unit_id WHERE f.id = $1";

/// A row of [`ANNOUNCED`].
#[derive(sqlx::FromRow)]
pub(crate) struct Announced {
    pub code: String,
    pub state: String,
    pub agency_id: Option<i64>,
    pub webhook_url: Option<String>,
    pub due_at: i64,
    pub category_code: String,
    pub unit_code: Option<String>,
    pub contact_phone: Option<String>,
    pub contact_email: Option<String>,
}

/// The outbox rows (kind, target, payload) announcing an event of an item: the webhook of
/// its agency (if it has one) and a message to the citizen (if they left a contact and the
/// event concerns them).
pub(crate) fn announcements(r: Announced, event: &str, at: i64) -> Vec<(&'static str, String, serde_json::Value)> {
    let body = serde_json::json!({
        "event": event,
        "code": r.code,
        "state": r.state,
        "category": r.category_code,
        "unit": r.unit_code,
        "due": calendar::w3c(r.due_at),
        "at": calendar::w3c(at),
    });
    let mut out = Vec::new();
    if let (Some(agency), Some(_)) = (r.agency_id, &r.webhook_url) {
        out.push(("webhook", agency.to_string(), body.clone()));
    }
    if matches!(event, "submitted" | "needs_info" | "answered") {
        for target in [r.contact_phone.map(|p| format!("phone:{p}")), r.contact_email.map(|e| format!("email:{e}"))]
            .into_iter()
            .flatten()
        {
            out.push(("citizen", target, body.clone()));
        }
    }
    out
}

/// Queues the announcements of an event of an item (see [`announcements`]).
pub(super) async fn announce(tx: &mut Tx, id: i64, event: &str) -> Result<()> {
    let r: Announced = on_tx!(tx, c => sqlx::query_as(ANNOUNCED).bind(id).fetch_one(c).await)?;
    for (kind, target, body) in announcements(r, event, now()) {
        enqueue(tx, kind, &target, id, &body).await?;
    }
    Ok(())
}

/// A value bound to a statement built at run time.
pub(super) enum Arg {
    I(i64),
    S(String),
    B(bool),
    OI(Option<i64>),
    OS(Option<String>),
}

/// Binds [`Arg`]s to a query in order.
macro_rules! bind_all {
    ($q:expr, $args:expr) => {{
        let mut q = $q;
        for a in $args {
            q = match a {
                Arg::I(v) => q.bind(*v),
                Arg::S(v) => q.bind(v.as_str()),
                Arg::B(v) => q.bind(*v),
                Arg::OI(v) => q.bind(*v),
                Arg::OS(v) => q.bind(v.as_deref()),
            };
        }
        q
    }};
}
pub(crate) use bind_all;

pub(super) async fn execute(tx: &mut Tx, sql: &str, args: &[Arg]) -> Result<u64> {
    Ok(
        on_tx!(tx, c => bind_all!(sqlx::query(sqlx::AssertSqlSafe(sql.to_owned())), args).execute(c).await.map(|r| r.rows_affected()))?,
    )
}
