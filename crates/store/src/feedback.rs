//! Feedback items: submission with routing and a tracking code, the moves between states,
//! the append-only history, the staff inbox, the public side and the outbox rows that
//! announce each change — all written in one transaction per change.

use std::collections::BTreeMap;

use ngoso_core::Invalid;
use ngoso_core::calendar::{self, Calendar, DayKind};
use ngoso_core::feedback::{Channel, Move, Point, Rating, State, TrackingCode};
use ngoso_core::photo::Photo;
use ngoso_core::unit::UnitPath;
use serde::Serialize;

use crate::{Db, Result, StoreError, Tx, now, on_db, on_tx, secrets};

/// A new item, checked by the caller.
#[derive(Debug, Clone)]
pub struct NewItem {
    pub category_id: i64,
    pub unit_id: Option<i64>,
    pub address: Option<String>,
    pub point: Option<Point>,
    pub description: String,
    pub extra: BTreeMap<String, Vec<String>>,
    pub channel: Channel,
    pub contact_name: Option<String>,
    pub contact_phone: Option<String>,
    pub contact_email: Option<String>,
    /// The citizen agreed to the consent text (required when a contact is given).
    pub consent: bool,
    pub submitted_by: Option<i64>,
    pub api_key_id: Option<i64>,
    pub photo: Option<Photo>,
    pub received_at: i64,
}

/// What the citizen gets back.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Submitted {
    pub id: i64,
    /// `PAKN.YYYYMMDD.NNNN`.
    pub code: String,
    /// A secret for the citizen to rate the answer or add information; shown once.
    pub citizen_key: String,
    pub state: String,
    pub agency_id: Option<i64>,
    pub due_at: i64,
}

/// An item as staff see it.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Item {
    pub id: i64,
    pub code: String,
    pub category_id: i64,
    pub category_code: String,
    pub unit_id: Option<i64>,
    pub unit_name: Option<String>,
    pub unit_path: Option<String>,
    pub address: Option<String>,
    pub lat: Option<f64>,
    pub lon: Option<f64>,
    pub description: String,
    pub extra: String,
    pub channel: String,
    pub contact_name: Option<String>,
    pub contact_phone: Option<String>,
    pub contact_email: Option<String>,
    pub submitted_by: Option<i64>,
    pub agency_id: Option<i64>,
    pub agency_code: Option<String>,
    pub state: String,
    pub reason: Option<String>,
    pub duplicate_of: Option<i64>,
    pub duplicate_of_code: Option<String>,
    pub received_at: i64,
    pub due_at: i64,
    pub extended: bool,
    pub updated_at: i64,
    pub answered_at: Option<i64>,
    pub closed_at: Option<i64>,
    pub answer_draft: Option<String>,
    pub drafted_by: Option<i64>,
    pub answer: Option<String>,
    pub rating: Option<String>,
    pub hidden_reason: Option<String>,
    pub has_photo: bool,
}

impl Item {
    pub fn state(&self) -> State {
        State::parse(&self.state).unwrap_or(State::Received)
    }
    pub fn path(&self) -> Option<UnitPath> {
        self.unit_path.clone().map(UnitPath::from_stored)
    }
    pub fn is_overdue(&self, at: i64) -> bool {
        self.state().is_pending() && self.due_at < at
    }
    /// Whether the answer came by the deadline.
    pub fn on_time(&self) -> Option<bool> {
        self.answered_at.map(|a| a <= self.due_at)
    }
    pub fn answers(&self) -> BTreeMap<String, Vec<String>> {
        serde_json::from_str(&self.extra).unwrap_or_default()
    }
}

const ITEM_SELECT: &str = "SELECT f.id, f.code, f.category_id, c.code AS category_code, f.unit_id, u.name AS unit_name, \
     u.path AS unit_path, f.address, f.lat, f.lon, f.description, f.extra, f.channel, f.contact_name, f.contact_phone, \
     f.contact_email, f.submitted_by, f.agency_id, a.code AS agency_code, f.state, f.reason, f.duplicate_of, \
     d.code AS duplicate_of_code, f.received_at, f.due_at, f.extended, f.updated_at, f.answered_at, f.closed_at, \
     f.answer_draft, f.drafted_by, f.answer, f.rating, f.hidden_reason, f.has_photo \
     FROM feedback f JOIN feedback_categories c ON c.id = f.category_id LEFT JOIN units u ON u.id = f.unit_id \
     LEFT JOIN agencies a ON a.id = f.agency_id LEFT JOIN feedback d ON d.id = f.duplicate_of";

/// One row of the history.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct HistoryRow {
    pub id: i64,
    pub at: i64,
    pub user_id: Option<i64>,
    pub username: Option<String>,
    pub action: String,
    pub from_state: Option<String>,
    pub to_state: Option<String>,
    pub agency_code: Option<String>,
    pub detail: String,
}

async fn history_in(
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

#[allow(clippy::too_many_arguments)]
async fn history_at(
    tx: &mut Tx,
    at: i64,
    id: i64,
    user: Option<i64>,
    action: &str,
    states: (Option<State>, Option<State>),
    agency: Option<i64>,
    detail: &str,
) -> Result<()> {
    on_tx!(tx, t => sqlx::query(
        "INSERT INTO feedback_history (feedback_id, at, user_id, action, from_state, to_state, agency_id, detail) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)")
        .bind(id).bind(at).bind(user).bind(action).bind(states.0.map(State::as_str)).bind(states.1.map(State::as_str))
        .bind(agency).bind(detail).execute(t).await.map(|r| r.rows_affected()))?;
    Ok(())
}

/// Adds to the figures of one leaf (unit, category, agency, month) in the transaction of the
/// change.
async fn count(tx: &mut Tx, leaf: (Option<i64>, i64, Option<i64>), at: i64, d: (i64, i64, i64)) -> Result<()> {
    let month = ngoso_core::outreach::month_of(at);
    on_tx!(tx, c => sqlx::query(
        "INSERT INTO feedback_counts (unit_id, category_id, agency_id, month, received, answered, on_time) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (unit_id, category_id, agency_id, month) DO UPDATE SET \
         received = feedback_counts.received + $5, answered = feedback_counts.answered + $6, on_time = feedback_counts.on_time + $7")
        .bind(leaf.0.unwrap_or(0)).bind(leaf.1).bind(leaf.2.unwrap_or(0)).bind(&month).bind(d.0).bind(d.1).bind(d.2)
        .execute(c).await.map(|r| r.rows_affected()))?;
    Ok(())
}

/// Queues a notification in the same transaction as the change it announces.
pub async fn enqueue(
    tx: &mut Tx,
    kind: &str,
    target: &str,
    feedback_id: i64,
    payload: &serde_json::Value,
) -> Result<()> {
    let t = now();
    on_tx!(tx, c => sqlx::query(
        "INSERT INTO outbox (kind, target, feedback_id, payload, created_at, next_attempt_at) VALUES ($1, $2, $3, $4, $5, $5)")
        .bind(kind).bind(target).bind(feedback_id).bind(payload.to_string()).bind(t).execute(c).await.map(|r| r.rows_affected()))?;
    Ok(())
}

/// Queues the webhook of an agency (if it has one) and a message to the citizen (if they
/// left a contact and the event concerns them).
async fn announce(tx: &mut Tx, id: i64, event: &str) -> Result<()> {
    #[derive(sqlx::FromRow)]
    struct Row {
        code: String,
        state: String,
        agency_id: Option<i64>,
        webhook_url: Option<String>,
        due_at: i64,
        category_code: String,
        unit_code: Option<String>,
        contact_phone: Option<String>,
        contact_email: Option<String>,
    }
    let r: Row = on_tx!(tx, c => sqlx::query_as(
        "SELECT f.code, f.state, f.agency_id, a.webhook_url, f.due_at, c.code AS category_code, u.code AS unit_code, \
         f.contact_phone, f.contact_email FROM feedback f JOIN feedback_categories c ON c.id = f.category_id \
         LEFT JOIN agencies a ON a.id = f.agency_id AND a.active LEFT JOIN units u ON u.id = f.unit_id WHERE f.id = $1")
        .bind(id).fetch_one(c).await)?;
    let body = serde_json::json!({
        "event": event,
        "code": r.code,
        "state": r.state,
        "category": r.category_code,
        "unit": r.unit_code,
        "due": calendar::w3c(r.due_at),
        "at": calendar::w3c(now()),
    });
    if let (Some(agency), Some(_)) = (r.agency_id, &r.webhook_url) {
        enqueue(tx, "webhook", &agency.to_string(), id, &body).await?;
    }
    if matches!(event, "submitted" | "needs_info" | "answered") {
        for target in [r.contact_phone.map(|p| format!("phone:{p}")), r.contact_email.map(|e| format!("email:{e}"))]
            .into_iter()
            .flatten()
        {
            enqueue(tx, "citizen", &target, id, &body).await?;
        }
    }
    Ok(())
}

/// Stores a new item: gives it the day's next tracking number, its deadline and its agency
/// (by the routing rules), writes the history and queues the notifications.
pub async fn submit(db: &Db, cal: &Calendar, days: u32, kind: DayKind, n: &NewItem) -> Result<Submitted> {
    let day = calendar::local_day(n.received_at);
    let due_at = cal.deadline(n.received_at, days, kind);
    let key = secrets::new_token()[..12].to_owned();
    let mut tx = db.begin().await?;
    // The item goes in under a provisional code; the day's number is taken last (below), so
    // that on PostgreSQL the one row every submission of the day updates stays locked only
    // for the end of the transaction.
    let provisional = format!("new-{key}");
    let path: Option<String> = match n.unit_id {
        Some(u) => Some(
            on_tx!(&mut tx, c => sqlx::query_scalar("SELECT path FROM units WHERE id = $1").bind(u).fetch_optional(c).await)?
                .ok_or_else(|| Invalid::field("unit-unknown", "unit").with_detail(u.to_string()))?,
        ),
        None => None,
    };
    let path = path.map(UnitPath::from_stored);
    let agency = crate::feedback_setup::route_in(&mut tx, n.category_id, path.as_ref()).await?;
    let state = if agency.is_some() { State::Forwarded } else { State::Received };
    let extra = serde_json::to_string(&n.extra).unwrap_or_else(|_| "{}".into());
    let t = now();
    let res: std::result::Result<i64, sqlx::Error> = on_tx!(&mut tx, c => sqlx::query_scalar(
        "INSERT INTO feedback (code, category_id, unit_id, address, lat, lon, description, extra, channel, contact_name, \
         contact_phone, contact_email, consent_at, citizen_key_hash, submitted_by, api_key_id, agency_id, state, pending, \
         received_at, due_at, updated_at, has_photo) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, TRUE, $19, $20, $21, $22) RETURNING id")
        .bind(&provisional).bind(n.category_id).bind(n.unit_id).bind(&n.address).bind(n.point.map(|p| p.lat)).bind(n.point.map(|p| p.lon))
        .bind(&n.description).bind(&extra).bind(n.channel.as_str()).bind(&n.contact_name).bind(&n.contact_phone)
        .bind(&n.contact_email).bind(n.consent.then_some(n.received_at)).bind(secrets::hash_token(&key))
        .bind(n.submitted_by).bind(n.api_key_id).bind(agency).bind(state.as_str()).bind(n.received_at).bind(due_at).bind(t)
        .bind(n.photo.is_some()).fetch_one(c).await);
    let id = res.map_err(|e| {
        let e = StoreError::from(e);
        if e.is_foreign_key_violation() { Invalid::field("category-unknown", "category").into() } else { e }
    })?;
    if let Some(p) = &n.photo {
        on_tx!(&mut tx, c => sqlx::query("INSERT INTO feedback_photos (feedback_id, mime, width, height, bytes) VALUES ($1, $2, $3, $4, $5)")
            .bind(id).bind(p.mime).bind(p.width as i64).bind(p.height as i64).bind(&p.bytes).execute(c).await.map(|r| r.rows_affected()))?;
    }
    history_at(
        &mut tx,
        n.received_at,
        id,
        n.submitted_by,
        "submitted",
        (None, Some(State::Received)),
        None,
        n.channel.as_str(),
    )
    .await?;
    if let Some(a) = agency {
        let states = (Some(State::Received), Some(State::Forwarded));
        history_at(&mut tx, n.received_at, id, None, "forward", states, Some(a), "route").await?;
    }
    count(&mut tx, (n.unit_id, n.category_id, agency), n.received_at, (1, 0, 0)).await?;
    let seq: i64 = on_tx!(&mut tx, c => sqlx::query_scalar(
        "INSERT INTO feedback_days (day, last) VALUES ($1, 1) ON CONFLICT (day) DO UPDATE SET last = feedback_days.last + 1 RETURNING last")
        .bind(day.format("%Y%m%d").to_string()).fetch_one(c).await)?;
    let code = TrackingCode { day, seq: seq as u32 }.to_string();
    on_tx!(&mut tx, c => sqlx::query("UPDATE feedback SET code = $1 WHERE id = $2").bind(&code).bind(id)
        .execute(c).await.map(|r| r.rows_affected()))?;
    announce(&mut tx, id, "submitted").await?;
    tx.commit().await?;
    Ok(Submitted { id, code, citizen_key: key, state: state.as_str().into(), agency_id: agency, due_at })
}

pub async fn get(db: &Db, id: i64) -> Result<Item> {
    on_db!(db, p => sqlx::query_as::<_, Item>(sqlx::AssertSqlSafe(format!("{ITEM_SELECT} WHERE f.id = $1"))).bind(id).fetch_optional(p).await)?
        .ok_or(StoreError::NotFound)
}

pub async fn by_code(db: &Db, code: &TrackingCode) -> Result<Item> {
    on_db!(db, p => sqlx::query_as::<_, Item>(sqlx::AssertSqlSafe(format!("{ITEM_SELECT} WHERE f.code = $1"))).bind(code.to_string()).fetch_optional(p).await)?
        .ok_or(StoreError::NotFound)
}

pub async fn history(db: &Db, id: i64) -> Result<Vec<HistoryRow>> {
    Ok(on_db!(db, p => sqlx::query_as::<_, HistoryRow>(
        "SELECT h.id, h.at, h.user_id, us.username, h.action, h.from_state, h.to_state, a.code AS agency_code, h.detail \
         FROM feedback_history h LEFT JOIN users us ON us.id = h.user_id LEFT JOIN agencies a ON a.id = h.agency_id \
         WHERE h.feedback_id = $1 ORDER BY h.id").bind(id).fetch_all(p).await)?)
}

/// The photo of an item: (mime, bytes).
pub async fn photo(db: &Db, id: i64) -> Result<(String, Vec<u8>)> {
    on_db!(db, p => sqlx::query_as::<_, (String, Vec<u8>)>("SELECT mime, bytes FROM feedback_photos WHERE feedback_id = $1")
        .bind(id).fetch_optional(p).await)?.ok_or(StoreError::NotFound)
}

/// A value bound to a statement built at run time.
enum Arg {
    I(i64),
    S(String),
    B(bool),
    OI(Option<i64>),
    OS(Option<String>),
}

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

async fn execute(tx: &mut Tx, sql: &str, args: &[Arg]) -> Result<u64> {
    Ok(
        on_tx!(tx, c => bind_all!(sqlx::query(sqlx::AssertSqlSafe(sql.to_owned())), args).execute(c).await.map(|r| r.rows_affected()))?,
    )
}

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

/// An item's place as a caller checked it before acting: its agency and unit then.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Checked {
    pub agency_id: Option<i64>,
    pub unit_id: Option<i64>,
}

tokio::task_local! {
    static CHECKED: Checked;
}

/// Runs `action` (a staff action on one item: [`apply`], [`draft_answer`], [`extend`],
/// [`set_hidden`], [`erase_contact`], [`note`]) as one whose access was checked on the item
/// at `checked`. The action locks the item in its transaction; if the item's agency or unit
/// has changed since the check (it was reassigned meanwhile), the action changes nothing and
/// answers not found, as the caller's check would now.
pub async fn as_checked<F: std::future::Future>(checked: Checked, action: F) -> F::Output {
    CHECKED.scope(checked, action).await
}

async fn lock(tx: &mut Tx, id: i64) -> Result<(State, Locked)> {
    let sql = match tx {
        Tx::Sqlite(_) => {
            "SELECT state, agency_id, drafted_by, answer_draft IS NOT NULL AS has_draft, due_at, unit_id, category_id, \
             received_at, answered_at, answer_draft FROM feedback WHERE id = $1"
        }
        Tx::Pg(_) => {
            "SELECT state, agency_id, drafted_by, answer_draft IS NOT NULL AS has_draft, due_at, unit_id, category_id, \
             received_at, answered_at, answer_draft FROM feedback WHERE id = $1 FOR UPDATE"
        }
    };
    let mut row: Locked = on_tx!(tx, c => sqlx::query_as::<_, Locked>(sql).bind(id).fetch_optional(c).await)?
        .ok_or(StoreError::NotFound)?;
    if CHECKED.try_with(|c| c.agency_id != row.agency_id || c.unit_id != row.unit_id).unwrap_or(false) {
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

/// Moves an item to another state, as `actor`; writes the history and the outbox rows.
/// Refusals change nothing.
pub async fn apply(db: &Db, id: i64, actor: i64, mv: Move, input: &MoveInput) -> Result<State> {
    apply_at(db, id, actor, mv, input, now()).await
}

/// [`apply`] at a given time (the demo replays months of work).
pub async fn apply_at(db: &Db, id: i64, actor: i64, mv: Move, input: &MoveInput, t: i64) -> Result<State> {
    if mv.needs_reason() && input.reason.is_none() {
        return Err(Invalid::field("required", "reason").into());
    }
    let mut tx = db.begin().await?;
    let (from, row) = lock(&mut tx, id).await?;
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
pub async fn draft_answer(db: &Db, id: i64, actor: i64, text: &str) -> Result<()> {
    draft_answer_at(db, id, actor, text, now()).await
}

/// [`draft_answer`] at a given time.
pub async fn draft_answer_at(db: &Db, id: i64, actor: i64, text: &str, t: i64) -> Result<()> {
    let text = ngoso_core::text::parse_text(text, "answer", 8000)?;
    let mut tx = db.begin().await?;
    let (from, _) = lock(&mut tx, id).await?;
    if !matches!(from, State::Forwarded | State::InProgress) {
        return Err(Invalid::field("feedback-move-refused", "answer").with_detail(from.as_str()).into());
    }
    on_tx!(&mut tx, c => sqlx::query("UPDATE feedback SET answer_draft = $1, drafted_by = $2, updated_at = $3 WHERE id = $4")
        .bind(&text).bind(actor).bind(t).bind(id).execute(c).await.map(|r| r.rows_affected()))?;
    history_at(&mut tx, t, id, Some(actor), "draft", (Some(from), Some(from)), None, &text).await?;
    tx.commit().await?;
    Ok(())
}

/// Moves the deadline on by `days`, with a reason.
pub async fn extend(
    db: &Db,
    cal: &Calendar,
    id: i64,
    actor: i64,
    days: u32,
    kind: DayKind,
    reason: &str,
) -> Result<i64> {
    let reason = ngoso_core::text::parse_text(reason, "reason", 1000)?;
    let mut tx = db.begin().await?;
    let (from, row) = lock(&mut tx, id).await?;
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
pub async fn set_hidden(db: &Db, id: i64, actor: i64, reason: Option<&str>) -> Result<()> {
    let reason = reason.map(|r| ngoso_core::text::parse_text(r, "reason", 1000)).transpose()?;
    let mut tx = db.begin().await?;
    let (from, _) = lock(&mut tx, id).await?;
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
pub async fn erase_contact(db: &Db, id: i64, actor: i64) -> Result<()> {
    let mut tx = db.begin().await?;
    let (from, _) = lock(&mut tx, id).await?;
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
pub async fn note(db: &Db, id: i64, actor: i64, text: &str) -> Result<()> {
    let text = ngoso_core::text::parse_text(text, "note", 2000)?;
    let mut tx = db.begin().await?;
    let (from, _) = lock(&mut tx, id).await?;
    history_in(&mut tx, id, Some(actor), "note", (Some(from), Some(from)), None, &text).await?;
    tx.commit().await?;
    Ok(())
}

/// Checks the citizen's key of an item; a wrong key is indistinguishable from no item.
async fn citizen_item(tx: &mut Tx, code: &TrackingCode, key: &str) -> Result<(i64, State, Option<String>)> {
    let sql = match tx {
        Tx::Sqlite(_) => "SELECT id, state, citizen_key_hash, rating FROM feedback WHERE code = $1",
        Tx::Pg(_) => "SELECT id, state, citizen_key_hash, rating FROM feedback WHERE code = $1 FOR UPDATE",
    };
    let row: Option<(i64, String, String, Option<String>)> =
        on_tx!(tx, c => sqlx::query_as(sql).bind(code.to_string()).fetch_optional(c).await)?;
    match row {
        Some((id, state, hash, rating)) if secrets::hash_token(key.trim()) == hash => {
            Ok((id, State::parse(&state).unwrap_or(State::Received), rating))
        }
        _ => Err(Invalid::field("feedback-key-wrong", "key").into()),
    }
}

/// The citizen rates the published answer.
pub async fn rate(db: &Db, code: &TrackingCode, key: &str, rating: Rating) -> Result<()> {
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
pub async fn add_info(db: &Db, code: &TrackingCode, key: &str, text: &str) -> Result<()> {
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

/// A row of the inbox.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct InboxRow {
    pub id: i64,
    pub code: String,
    pub category_id: i64,
    pub unit_name: Option<String>,
    pub agency_code: Option<String>,
    pub state: String,
    pub received_at: i64,
    pub due_at: i64,
    pub extended: bool,
    /// The first 140 characters of the description.
    pub summary: String,
}

/// Which items an inbox lists.
#[derive(Debug, Clone, Default)]
pub struct InboxFilter {
    /// Only this agency's items (always set for agency staff).
    pub agency_id: Option<i64>,
    /// Only items with no agency yet.
    pub unassigned: bool,
    /// Only items in this subtree (the viewer's scope); items with no unit are shown only
    /// when `unitless` is set.
    pub within: Option<UnitPath>,
    pub unitless: bool,
    pub state: Option<State>,
    pub category_id: Option<i64>,
    /// Only pending items past their deadline at this time.
    pub overdue_at: Option<i64>,
    pub page: u32,
}

/// Items per inbox page.
pub const PAGE: i64 = 50;

/// An inbox page: pending items by deadline, the others newest first. One more row than
/// [`PAGE`] tells the caller there is a next page.
pub async fn inbox(db: &Db, f: &InboxFilter) -> Result<Vec<InboxRow>> {
    let (conds, args) = inbox_where(f);
    let pending_only = f.overdue_at.is_some() || f.state.is_some_and(State::is_pending);
    let sql = format!(
        "SELECT f.id, f.code, f.category_id, u.name AS unit_name, a.code AS agency_code, f.state, f.received_at, f.due_at, \
         f.extended, SUBSTR(f.description, 1, 140) AS summary FROM feedback f LEFT JOIN units u ON u.id = f.unit_id \
         LEFT JOIN agencies a ON a.id = f.agency_id WHERE TRUE{conds} {} LIMIT {} OFFSET {}",
        if pending_only { "ORDER BY f.due_at, f.id" } else { "ORDER BY f.received_at DESC, f.id DESC" },
        PAGE + 1,
        i64::from(f.page.min(10_000)) * PAGE
    );
    let rows = on_db!(db, p => bind_all!(sqlx::query_as::<_, InboxRow>(sqlx::AssertSqlSafe(sql.as_str())), &args).fetch_all(p).await)?;
    Ok(rows)
}

/// How many items an inbox filter matches, counting no further than `cap` (a page shows
/// "1.000+" rather than paying for a count of every overdue item).
pub async fn inbox_count(db: &Db, f: &InboxFilter, cap: i64) -> Result<i64> {
    let (conds, args) = inbox_where(f);
    let sql = format!(
        "SELECT COUNT(*) FROM (SELECT f.id FROM feedback f LEFT JOIN units u ON u.id = f.unit_id WHERE TRUE{conds} LIMIT {}) x",
        cap.max(1)
    );
    Ok(
        on_db!(db, p => bind_all!(sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(sql.as_str())), &args).fetch_one(p).await)?,
    )
}

/// The conditions of an inbox filter (to follow `WHERE TRUE`) and their values.
fn inbox_where(f: &InboxFilter) -> (String, Vec<Arg>) {
    let mut sql = String::new();
    let mut args = Vec::new();
    let mut push = |sql: &mut String, cond: &str, a: Arg| {
        args.push(a);
        sql.push_str(&cond.replace('?', &format!("${}", args.len())));
    };
    if let Some(a) = f.agency_id {
        push(&mut sql, " AND f.agency_id = ?", Arg::I(a));
    }
    if f.unassigned {
        sql.push_str(" AND f.agency_id IS NULL");
    }
    if let Some(at) = f.overdue_at {
        push(&mut sql, " AND f.pending AND f.due_at < ?", Arg::I(at));
    }
    if let Some(s) = f.state {
        push(&mut sql, " AND f.state = ?", Arg::S(s.as_str().into()));
    }
    if let Some(c) = f.category_id {
        push(&mut sql, " AND f.category_id = ?", Arg::I(c));
    }
    if let Some(w) = &f.within {
        push(&mut sql, " AND ((u.path >= ?", Arg::S(w.as_str().into()));
        push(&mut sql, " AND u.path < ?)", Arg::S(w.upper_bound()));
        sql.push_str(if f.unitless { " OR f.unit_id IS NULL)" } else { ")" });
    }
    (sql, args)
}

/// An answered item as anyone may see it: no contact, no address, no coordinates.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PublicRow {
    pub code: String,
    pub category_id: i64,
    pub unit_name: Option<String>,
    pub description: String,
    pub state: String,
    pub received_at: i64,
    pub answered_at: Option<i64>,
    pub answer: Option<String>,
    pub rating: Option<String>,
}

/// The public list: answered items not hidden, newest answer first.
pub async fn public_list(db: &Db, page: u32) -> Result<Vec<PublicRow>> {
    let sql = format!(
        "SELECT f.code, f.category_id, u.name AS unit_name, f.description, f.state, f.received_at, f.answered_at, f.answer, \
         f.rating FROM feedback f LEFT JOIN units u ON u.id = f.unit_id \
         WHERE f.answer IS NOT NULL AND f.hidden_reason IS NULL ORDER BY f.answered_at DESC, f.id DESC LIMIT {} OFFSET {}",
        PAGE + 1,
        i64::from(page.min(10_000)) * PAGE
    );
    Ok(on_db!(db, p => sqlx::query_as::<_, PublicRow>(sqlx::AssertSqlSafe(sql)).fetch_all(p).await)?)
}

/// Which items an Open311 `GET requests` lists: by codes (which overrides the rest), or by
/// category, open/closed and a window on the time of receipt. Hidden items are left out.
#[derive(Debug, Clone, Default)]
pub struct Search {
    pub codes: Vec<String>,
    pub category_ids: Vec<i64>,
    /// `Some(true)`: pending only; `Some(false)`: finished only.
    pub pending: Option<bool>,
    pub from: i64,
    pub to: i64,
    pub limit: i64,
}

/// Items for Open311 (and other public lists), newest first.
pub async fn search(db: &Db, s: &Search) -> Result<Vec<Item>> {
    let mut sql = format!("{ITEM_SELECT} WHERE f.hidden_reason IS NULL");
    let mut args = Vec::new();
    let mut list = |sql: &mut String, col: &str, vals: Vec<Arg>| {
        sql.push_str(&format!(" AND {col} IN ("));
        for (i, v) in vals.into_iter().enumerate() {
            args.push(v);
            sql.push_str(&format!("{}${}", if i > 0 { ", " } else { "" }, args.len()));
        }
        sql.push(')');
    };
    if !s.codes.is_empty() {
        list(&mut sql, "f.code", s.codes.iter().take(200).map(|c| Arg::S(c.clone())).collect());
    } else {
        if !s.category_ids.is_empty() {
            list(&mut sql, "f.category_id", s.category_ids.iter().map(|c| Arg::I(*c)).collect());
        }
        if let Some(p) = s.pending {
            sql.push_str(if p { " AND f.pending" } else { " AND NOT f.pending" });
        }
        args.push(Arg::I(s.from));
        sql.push_str(&format!(" AND f.received_at >= ${}", args.len()));
        args.push(Arg::I(s.to));
        sql.push_str(&format!(" AND f.received_at <= ${}", args.len()));
    }
    sql.push_str(&format!(" ORDER BY f.received_at DESC, f.id DESC LIMIT {}", s.limit.clamp(1, 1000)));
    Ok(
        on_db!(db, p => bind_all!(sqlx::query_as::<_, Item>(sqlx::AssertSqlSafe(sql.as_str())), &args).fetch_all(p).await)?,
    )
}
