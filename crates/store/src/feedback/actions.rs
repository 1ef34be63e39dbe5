//! Staff and citizens acting on an item: the moves between states, drafts, deadlines,
//! hiding, the contact's removal, notes, the citizen's rating and added information. Each
//! locks the item first, in its transaction.

use ngoso_core::Invalid;
use ngoso_core::auth::{FeedbackPlace, Granted, may};
use ngoso_core::calendar::{self, Calendar, DayKind};
use ngoso_core::feedback::{Move, Rating, State, TrackingCode};

use super::{Arg, announce, count, execute, history_at, history_in};
use crate::db::dialect::locking_read;
use crate::{Db, Result, StoreError, Tx, now, on_tx, secrets};

#[derive(sqlx::FromRow)]
struct Locked {
    state: String,
    agency_id: Option<i64>,
    drafted_by: Option<i64>,
    has_draft: bool,
    due_at: i64,
    unit_id: Option<i64>,
    category_id: i64,
    received_at: i64,
    answered_at: Option<i64>,
    answer_draft: Option<String>,
    #[sqlx(skip)]
    draft_hash: Option<String>,
}

/// Core's proof that a user may handle an item, with the item's place (agency and unit) as
/// checked. Every staff action takes one: the action locks the item in its transaction, and
/// if its agency or unit has changed since the check (it was reassigned meanwhile), changes
/// nothing and answers not found, as the check would now.
pub type Handle = Granted<may::ProcessFeedback, FeedbackPlace>;

/// Locks an item; with the place a caller checked, refuses it if it moved since.
async fn lock(tx: &mut Tx, id: i64, checked: Option<&FeedbackPlace>) -> Result<(State, Locked)> {
    let sql = locking_read!(
        &*tx,
        "SELECT state, agency_id, drafted_by, answer_draft IS NOT NULL AS has_draft, due_at, unit_id, category_id, \
         received_at, answered_at, answer_draft FROM feedback WHERE id = $1"
    );
    let mut row: Locked = on_tx!(tx, c => sqlx::query_as::<_, Locked>(sql).bind(id).fetch_optional(c).await)?
        .ok_or(StoreError::NotFound)?;
    if checked.is_some_and(|c| c.agency_id != row.agency_id || c.unit_id != row.unit_id) {
        return Err(StoreError::NotFound);
    }
    row.draft_hash = row.answer_draft.as_deref().map(draft_hash);
    Ok((State::parse(&row.state).unwrap_or(State::Received), row))
}

/// What a move may need besides itself.
#[derive(Debug, Clone, Default)]
pub struct MoveInput {
    /// For [`Move::Forward`]: the agency.
    pub agency_id: Option<i64>,
    /// For [`Move::Reject`], [`Move::AskInfo`], [`Move::Reopen`]: why (required); for the
    /// others an optional note.
    pub reason: Option<String>,
    /// For [`Move::Duplicate`]: the original item.
    pub duplicate_of: Option<TrackingCode>,
    /// For [`Move::Answer`]: [`draft_hash`] of the draft the reviewer read; a draft changed
    /// since is refused.
    pub draft_seen: Option<String>,
}

/// A short fingerprint of an answer draft, so a reviewer publishes the text they read.
pub fn draft_hash(text: &str) -> String {
    secrets::hash_token(text)[..16].to_owned()
}

/// Moves an item to another state, as the checked user; writes the history and the outbox
/// rows. Refusals change nothing.
pub async fn apply(db: &Db, access: &Handle, mv: Move, input: &MoveInput) -> Result<State> {
    apply_in(db, access.on().id, Some(access.on()), access.user_id(), mv, input, now()).await
}

/// [`apply`] by a generator that acts as the system, with no user's check (the demo replays
/// months of work at given times). Not for requests: they hold a [`Handle`].
pub async fn apply_unchecked_at(db: &Db, id: i64, actor: i64, mv: Move, input: &MoveInput, t: i64) -> Result<State> {
    apply_in(db, id, None, actor, mv, input, t).await
}

async fn apply_in(
    db: &Db,
    id: i64,
    checked: Option<&FeedbackPlace>,
    actor: i64,
    mv: Move,
    input: &MoveInput,
    t: i64,
) -> Result<State> {
    if mv.needs_reason() && input.reason.is_none() {
        return Err(Invalid::field("required", "reason").into());
    }
    let mut tx = db.begin().await?;
    let (from, row) = lock(&mut tx, id, checked).await?;
    let to = mv.apply(from)?;
    let mut agency = row.agency_id;
    let mut duplicate_of: Option<i64> = None;
    match mv {
        Move::Forward => {
            let a = input.agency_id.ok_or(Invalid::field("required", "agency"))?;
            let ok: Option<bool> = on_tx!(&mut tx, c => sqlx::query_scalar("SELECT active FROM agencies WHERE id = $1")
                .bind(a).fetch_optional(c).await)?;
            if ok != Some(true) {
                return Err(Invalid::field("agency-unknown", "agency").with_detail(a.to_string()).into());
            }
            if from == State::Forwarded && row.agency_id == Some(a) {
                return Err(Invalid::field("feedback-same-agency", "agency").into());
            }
            agency = Some(a);
        }
        Move::Duplicate => {
            let code = input.duplicate_of.ok_or(Invalid::field("required", "duplicate_of"))?;
            let orig: Option<(i64, Option<i64>)> = on_tx!(&mut tx, c => sqlx::query_as(
                "SELECT id, duplicate_of FROM feedback WHERE code = $1").bind(code.to_string()).fetch_optional(c).await)?;
            let (oid, its_orig) =
                orig.ok_or_else(|| Invalid::field("feedback-unknown", "duplicate_of").with_detail(code.to_string()))?;
            // Link to the first item of the chain, so duplicates never point at duplicates;
            // an item can be the duplicate neither of itself nor of its own duplicates.
            let first = its_orig.unwrap_or(oid);
            if oid == id || first == id {
                return Err(Invalid::field("feedback-duplicate-self", "duplicate_of").into());
            }
            duplicate_of = Some(first);
        }
        Move::Answer => {
            if !row.has_draft {
                return Err(Invalid::field("feedback-no-draft", "answer").into());
            }
            if row.drafted_by == Some(actor) {
                return Err(Invalid::field("feedback-review-self", "answer").into());
            }
            if let Some(seen) = &input.draft_seen
                && Some(seen.as_str()) != row.draft_hash.as_deref()
            {
                return Err(Invalid::field("feedback-draft-changed", "answer").into());
            }
        }
        _ => {}
    }
    use Arg::*;
    let head = "UPDATE feedback SET state = $1, pending = $2, agency_id = $3, updated_at = $4";
    let mut args = vec![S(to.as_str().into()), B(to.is_pending()), OI(agency), I(t), I(id)];
    let tail = match mv {
        Move::Answer => {
            args.push(I(actor));
            ", answer = answer_draft, answered_at = $4, answered_by = drafted_by, reviewed_by = $6, reason = NULL, \
             answer_draft = NULL, drafted_by = NULL"
        }
        Move::Close => ", closed_at = $4",
        Move::Duplicate => {
            args.push(OI(duplicate_of));
            ", duplicate_of = $6, closed_at = $4"
        }
        Move::Reject => {
            args.push(OS(input.reason.clone()));
            ", reason = $6, closed_at = $4"
        }
        Move::Reopen => {
            args.push(OS(input.reason.clone()));
            ", reason = $6, answered_at = NULL, answer = NULL, answered_by = NULL, reviewed_by = NULL, answer_draft = NULL, \
             drafted_by = NULL, rating = NULL, rated_at = NULL"
        }
        // A draft written for one agency is not another's to publish.
        Move::Forward => {
            args.push(OS(input.reason.clone()));
            ", reason = $6, answer_draft = NULL, drafted_by = NULL"
        }
        _ => {
            args.push(OS(input.reason.clone()));
            ", reason = $6"
        }
    };
    execute(&mut tx, &format!("{head}{tail} WHERE id = $5"), &args).await?;
    let leaf = |a: Option<i64>| (row.unit_id, row.category_id, a);
    match mv {
        Move::Forward if row.agency_id != agency => {
            // Rows in key order, so two opposite reassignments cannot deadlock.
            let mut moves = [(row.agency_id, -1), (agency, 1)];
            moves.sort_by_key(|(a, _)| a.unwrap_or(0));
            for (a, d) in moves {
                count(&mut tx, leaf(a), row.received_at, (d, 0, 0)).await?;
            }
        }
        Move::Answer => count(&mut tx, leaf(agency), t, (0, 1, i64::from(t <= row.due_at))).await?,
        Move::Reopen => {
            if let Some(at) = row.answered_at {
                count(&mut tx, leaf(agency), at, (0, -1, -i64::from(at <= row.due_at))).await?;
            }
        }
        _ => {}
    }
    let detail = match (mv, &input.reason, input.duplicate_of) {
        (Move::Duplicate, _, Some(code)) => code.to_string(),
        (_, Some(r), _) => r.clone(),
        _ => String::new(),
    };
    history_at(&mut tx, t, id, Some(actor), mv.as_str(), (Some(from), Some(to)), agency, &detail).await?;
    let event = match to {
        State::NeedsInfo => "needs_info",
        State::Answered => "answered",
        _ => to.as_str(),
    };
    announce(&mut tx, id, event).await?;
    tx.commit().await?;
    Ok(to)
}

/// Writes (or rewrites) the draft of the public answer; it is published by someone else.
/// Returns the draft's fingerprint (what the `answer` move's `draft_seen` names) and the
/// item's state.
pub async fn draft_answer(db: &Db, access: &Handle, text: &str) -> Result<(String, State)> {
    draft_in(db, access.on().id, Some(access.on()), access.user_id(), text, now()).await
}

/// [`draft_answer`] by a generator, at a given time, with no user's check.
pub async fn draft_answer_unchecked_at(db: &Db, id: i64, actor: i64, text: &str, t: i64) -> Result<()> {
    draft_in(db, id, None, actor, text, t).await.map(|_| ())
}

async fn draft_in(
    db: &Db,
    id: i64,
    checked: Option<&FeedbackPlace>,
    actor: i64,
    text: &str,
    t: i64,
) -> Result<(String, State)> {
    let text = ngoso_core::text::parse_text(text, "answer", 8000)?;
    let mut tx = db.begin().await?;
    let (from, _) = lock(&mut tx, id, checked).await?;
    if !matches!(from, State::Forwarded | State::InProgress) {
        return Err(Invalid::field("feedback-move-refused", "answer").with_detail(from.as_str()).into());
    }
    on_tx!(&mut tx, c => sqlx::query("UPDATE feedback SET answer_draft = $1, drafted_by = $2, updated_at = $3 WHERE id = $4")
        .bind(&text).bind(actor).bind(t).bind(id).execute(c).await.map(|r| r.rows_affected()))?;
    history_at(&mut tx, t, id, Some(actor), "draft", (Some(from), Some(from)), None, &text).await?;
    tx.commit().await?;
    Ok((draft_hash(&text), from))
}

/// Moves the deadline on by `days`, with a reason.
pub async fn extend(db: &Db, cal: &Calendar, access: &Handle, days: u32, kind: DayKind, reason: &str) -> Result<i64> {
    extend_in(db, cal, access.on().id, Some(access.on()), access.user_id(), (days, kind), reason).await
}

/// [`extend`] by a generator, with no user's check.
pub async fn extend_unchecked(
    db: &Db,
    cal: &Calendar,
    id: i64,
    actor: i64,
    days: u32,
    kind: DayKind,
    reason: &str,
) -> Result<i64> {
    extend_in(db, cal, id, None, actor, (days, kind), reason).await
}

async fn extend_in(
    db: &Db,
    cal: &Calendar,
    id: i64,
    checked: Option<&FeedbackPlace>,
    actor: i64,
    (days, kind): (u32, DayKind),
    reason: &str,
) -> Result<i64> {
    let reason = ngoso_core::text::parse_text(reason, "reason", 1000)?;
    let mut tx = db.begin().await?;
    let (from, row) = lock(&mut tx, id, checked).await?;
    if !from.is_pending() {
        return Err(Invalid::field("feedback-move-refused", "days").with_detail(from.as_str()).into());
    }
    let due = cal.extend(row.due_at, days, kind);
    on_tx!(&mut tx, c => sqlx::query("UPDATE feedback SET due_at = $1, extended = TRUE, updated_at = $2 WHERE id = $3")
        .bind(due).bind(now()).bind(id).execute(c).await.map(|r| r.rows_affected()))?;
    let detail = format!("{} → {}: {reason}", calendar::w3c(row.due_at), calendar::w3c(due));
    history_in(&mut tx, id, Some(actor), "extend", (Some(from), Some(from)), None, &detail).await?;
    announce(&mut tx, id, "extended").await?;
    tx.commit().await?;
    Ok(due)
}

/// Hides an item from the public list (with a reason, required) or shows it again (`reason`
/// None).
pub async fn set_hidden(db: &Db, access: &Handle, reason: Option<&str>) -> Result<()> {
    let (id, actor) = (access.on().id, access.user_id());
    let reason = reason.map(|r| ngoso_core::text::parse_text(r, "reason", 1000)).transpose()?;
    let mut tx = db.begin().await?;
    let (from, _) = lock(&mut tx, id, Some(access.on())).await?;
    on_tx!(&mut tx, c => sqlx::query("UPDATE feedback SET hidden_reason = $1, updated_at = $2 WHERE id = $3")
        .bind(&reason).bind(now()).bind(id).execute(c).await.map(|r| r.rows_affected()))?;
    let action = if reason.is_some() { "hide" } else { "unhide" };
    history_in(&mut tx, id, Some(actor), action, (Some(from), Some(from)), None, reason.as_deref().unwrap_or(""))
        .await?;
    tx.commit().await?;
    Ok(())
}

/// Removes the citizen's contact on their request (or when consent is withdrawn); the item,
/// its text and the figures stay. Recorded in the history without the removed values.
pub async fn erase_contact(db: &Db, access: &Handle) -> Result<()> {
    let (id, actor) = (access.on().id, access.user_id());
    let mut tx = db.begin().await?;
    let (from, _) = lock(&mut tx, id, Some(access.on())).await?;
    on_tx!(&mut tx, c => sqlx::query(
        "UPDATE feedback SET contact_name = NULL, contact_phone = NULL, contact_email = NULL, consent_at = NULL, updated_at = $1 \
         WHERE id = $2").bind(now()).bind(id).execute(c).await.map(|r| r.rows_affected()))?;
    // Messages not yet sent to the citizen go too.
    on_tx!(&mut tx, c => sqlx::query(
        "UPDATE outbox SET target = 'erased', gave_up_at = COALESCE(gave_up_at, CASE WHEN delivered_at IS NULL THEN $1 END), \
         last_error = CASE WHEN delivered_at IS NULL THEN 'contact removed' ELSE last_error END \
         WHERE feedback_id = $2 AND kind = 'citizen'").bind(now()).bind(id).execute(c).await.map(|r| r.rows_affected()))?;
    history_in(&mut tx, id, Some(actor), "erase_contact", (Some(from), Some(from)), None, "").await?;
    tx.commit().await?;
    Ok(())
}

/// An internal note of staff; changes nothing else.
pub async fn note(db: &Db, access: &Handle, text: &str) -> Result<()> {
    let (id, actor) = (access.on().id, access.user_id());
    let text = ngoso_core::text::parse_text(text, "note", 2000)?;
    let mut tx = db.begin().await?;
    let (from, _) = lock(&mut tx, id, Some(access.on())).await?;
    history_in(&mut tx, id, Some(actor), "note", (Some(from), Some(from)), None, &text).await?;
    tx.commit().await?;
    Ok(())
}

/// Checks the citizen's key of an item (by its code as stored: ours, or an imported item's
/// own, which has no key a citizen was given); a wrong key is indistinguishable from no item.
async fn citizen_item(tx: &mut Tx, code: &str, key: &str) -> Result<(i64, State, Option<String>)> {
    let sql = locking_read!(&*tx, "SELECT id, state, citizen_key_hash, rating FROM feedback WHERE code = $1");
    let row: Option<(i64, String, String, Option<String>)> =
        on_tx!(tx, c => sqlx::query_as(sql).bind(code).fetch_optional(c).await)?;
    match row {
        Some((id, state, hash, rating)) if secrets::hash_token(key.trim()) == hash => {
            Ok((id, State::parse(&state).unwrap_or(State::Received), rating))
        }
        _ => Err(Invalid::field("feedback-key-wrong", "key").into()),
    }
}

/// The citizen rates the published answer.
pub async fn rate(db: &Db, code: &str, key: &str, rating: Rating) -> Result<()> {
    let mut tx = db.begin().await?;
    let (id, state, rated) = citizen_item(&mut tx, code, key).await?;
    if !matches!(state, State::Answered | State::Closed) {
        return Err(Invalid::field("feedback-not-answered", "rating").into());
    }
    // One rating per answer (a reopened and answered again item may be rated again).
    if rated.is_some() {
        return Err(Invalid::field("feedback-already-rated", "rating").into());
    }
    on_tx!(&mut tx, c => sqlx::query("UPDATE feedback SET rating = $1, rated_at = $2, updated_at = $2 WHERE id = $3")
        .bind(rating.as_str()).bind(now()).bind(id).execute(c).await.map(|r| r.rows_affected()))?;
    history_in(&mut tx, id, None, "rate", (Some(state), Some(state)), None, rating.as_str()).await?;
    announce(&mut tx, id, "rated").await?;
    tx.commit().await?;
    Ok(())
}

/// The citizen sends the information asked for; the item goes back to the agency.
pub async fn add_info(db: &Db, code: &str, key: &str, text: &str) -> Result<()> {
    let text = ngoso_core::text::parse_text(text, "info", ngoso_core::feedback::DESCRIPTION_MAX)?;
    let mut tx = db.begin().await?;
    let (id, state, _) = citizen_item(&mut tx, code, key).await?;
    let to = Move::InfoReceived.apply(state).map_err(|_| Invalid::field("feedback-no-info-asked", "info"))?;
    on_tx!(&mut tx, c => sqlx::query("UPDATE feedback SET state = $1, pending = TRUE, updated_at = $2 WHERE id = $3")
        .bind(to.as_str()).bind(now()).bind(id).execute(c).await.map(|r| r.rows_affected()))?;
    history_in(&mut tx, id, None, "info_received", (Some(state), Some(to)), None, &text).await?;
    announce(&mut tx, id, "info_received").await?;
    tx.commit().await?;
    Ok(())
}
