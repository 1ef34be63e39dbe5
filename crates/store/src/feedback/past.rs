//! Feedback received before ngoso: a year's items from the province's earlier system, as a
//! CSV file or an Open311 export, recorded with their own codes and dates so the figures of
//! past months and the public list of answered items hold them. The whole file in one
//! transaction; the first bad line refuses it ([`StoreError::AtRow`]). No notification goes
//! out for them: they happened already.

use std::collections::{HashMap, HashSet};

use ngoso_core::Invalid;
use ngoso_core::calendar::{Calendar, DayKind};
use ngoso_core::feedback::{Channel, State, TrackingCode};

use super::{count, history_at};
use crate::csvrows::{Row, get};
use crate::{Db, Result, StoreError, now, on_tx, secrets};

/// A past item, as read from a file.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PastRow {
    pub line: u64,
    pub code: String,
    pub category: String,
    pub unit_code: String,
    pub address: String,
    pub description: String,
    pub channel: String,
    pub received_at: String,
    pub state: String,
    pub agency: String,
    pub answered_at: String,
    pub answer: String,
}

/// The first of several columns a file may name a field by (ngoso's, then Open311's).
fn any(row: &Row, names: &[&str]) -> String {
    names.iter().map(|n| get(row, n)).find(|v| !v.trim().is_empty()).unwrap_or_default()
}

/// Reads a CSV of past items: `code` (or Open311's `service_request_id`), `category`
/// (`service_code`), `description`, `received_at` (`requested_datetime`), and where known
/// `unit_code` (`address_id`), `address` (`address_string`), `channel`, `state` (or
/// Open311's `status`: open, closed), `agency_code`, `answered_at` (`updated_datetime`),
/// `answer` (`status_notes`).
pub fn read_csv(text: &str) -> Result<Vec<PastRow>> {
    let rows = crate::csvrows::read(text, &[])?;
    Ok(rows
        .iter()
        .map(|r| PastRow {
            line: r.0,
            code: any(r, &["code", "servicerequestid"]),
            category: any(r, &["category", "servicecode"]),
            unit_code: any(r, &["unitcode", "addressid"]),
            address: any(r, &["address", "addressstring"]),
            description: any(r, &["description"]),
            channel: any(r, &["channel"]),
            received_at: any(r, &["receivedat", "requesteddatetime"]),
            state: any(r, &["state", "status"]),
            agency: any(r, &["agencycode", "agency"]),
            answered_at: any(r, &["answeredat", "updateddatetime"]),
            answer: any(r, &["answer", "statusnotes"]),
        })
        .collect())
}

/// Reads an Open311 GeoReport v2 export (the JSON list `GET requests.json` answers) as past
/// items; entries are numbered from 1.
pub fn read_open311(json: &str) -> Result<Vec<PastRow>> {
    let list: Vec<serde_json::Map<String, serde_json::Value>> =
        serde_json::from_str(json).map_err(|e| StoreError::AtRow {
            row: 1,
            section: None,
            invalid: Invalid::field("csv-invalid", "file").with_detail(e.to_string()),
        })?;
    let s = |m: &serde_json::Map<String, serde_json::Value>, k: &str| match m.get(k) {
        Some(serde_json::Value::String(v)) => v.clone(),
        Some(serde_json::Value::Number(n)) => n.to_string(),
        _ => String::new(),
    };
    Ok(list
        .iter()
        .enumerate()
        .map(|(i, m)| PastRow {
            line: i as u64 + 1,
            code: s(m, "service_request_id"),
            category: s(m, "service_code"),
            unit_code: s(m, "address_id"),
            address: s(m, "address"),
            description: s(m, "description"),
            channel: "open311".into(),
            received_at: s(m, "requested_datetime"),
            state: s(m, "status"),
            agency: s(m, "agency_responsible"),
            answered_at: s(m, "updated_datetime"),
            answer: s(m, "status_notes"),
        })
        .collect())
}

/// A time as an RFC 3339 date and time, or `YYYY-MM-DD HH:MM[:SS]` / `YYYY-MM-DD` in
/// Vietnam's time.
fn parse_time(s: &str, field: &'static str) -> std::result::Result<i64, Invalid> {
    let t = s.trim();
    if let Ok(d) = chrono::DateTime::parse_from_rfc3339(t) {
        return Ok(d.timestamp());
    }
    let local = ["%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M"]
        .iter()
        .find_map(|f| chrono::NaiveDateTime::parse_from_str(t, f).ok())
        .or_else(|| chrono::NaiveDate::parse_from_str(t, "%Y-%m-%d").ok().and_then(|d| d.and_hms_opt(8, 0, 0)));
    local
        .and_then(|n| n.and_local_timezone(ngoso_core::calendar::tz()).earliest())
        .map(|d| d.timestamp())
        .ok_or_else(|| Invalid::field("datetime-invalid", field).with_detail(t))
}

/// A past item checked, ready to write.
struct Checked {
    code: String,
    category_id: i64,
    unit_id: Option<i64>,
    address: Option<String>,
    description: String,
    channel: Channel,
    received_at: i64,
    due_at: i64,
    state: State,
    agency_id: Option<i64>,
    answered_at: Option<i64>,
    answer: Option<String>,
}

/// What a file of past items did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PastImported {
    pub items: usize,
    pub answered: usize,
}

/// Checks every row against the set-up, the tree and the items already recorded, then writes
/// them all in one transaction with their history and their part of the figures.
pub async fn import(db: &Db, cal: &Calendar, rows: &[PastRow]) -> Result<PastImported> {
    let categories = super::setup::categories(db).await?;
    let agencies = super::setup::agencies(db).await?;
    let mut units: HashMap<String, i64> = HashMap::new();
    let mut seen: HashSet<String> = HashSet::new();
    let mut checked = Vec::with_capacity(rows.len());
    let current = now();
    for r in rows {
        let at = |invalid: Invalid| StoreError::AtRow { row: r.line, section: None, invalid };
        // Ours in our form, or the earlier system's as it was (see `item_code`).
        let Ok(code) = ngoso_core::feedback::item_code(&r.code) else {
            return Err(at(Invalid::field("feedback-past-code-invalid", "code").with_detail(r.code.trim())));
        };
        if !seen.insert(code.clone()) {
            return Err(at(Invalid::field("feedback-code-exists", "code").with_detail(&code)));
        }
        let cat = categories
            .iter()
            .find(|c| c.code == r.category.trim())
            .ok_or_else(|| at(Invalid::field("category-unknown", "category").with_detail(r.category.trim())))?;
        let unit_id = match r.unit_code.trim() {
            "" => None,
            c => Some(match units.get(c) {
                Some(id) => *id,
                None => {
                    let u = crate::units::by_code(db, c)
                        .await
                        .map_err(|_| at(Invalid::field("unit-unknown", "unit").with_detail(c)))?;
                    units.insert(c.to_owned(), u.id);
                    u.id
                }
            }),
        };
        let address = ngoso_core::text::parse_line(&r.address, "address", 300).map_err(at)?;
        if unit_id.is_none() && address.is_none() {
            return Err(at(Invalid::field("required", "unit")));
        }
        let description =
            ngoso_core::text::parse_text(&r.description, "description", ngoso_core::feedback::DESCRIPTION_MAX)
                .map_err(at)?;
        let channel = match r.channel.trim() {
            "" => Channel::Web,
            c => Channel::parse(c).map_err(at)?,
        };
        let received_at = parse_time(&r.received_at, "received_at").map_err(at)?;
        if received_at > current {
            return Err(at(Invalid::field("datetime-future", "received_at").with_detail(r.received_at.trim())));
        }
        let state = match r.state.trim() {
            "" | "open" => State::Received,
            "closed" if !r.answer.trim().is_empty() => State::Closed,
            "closed" => State::Rejected,
            s => State::parse(s).map_err(at)?,
        };
        if matches!(state, State::NeedsInfo | State::Duplicate) {
            return Err(at(Invalid::field("feedback-state-invalid", "state").with_detail(state.as_str())));
        }
        let agency_id = match r.agency.trim() {
            "" => None,
            a => Some(
                agencies
                    .iter()
                    .find(|x| x.code == a)
                    .ok_or_else(|| at(Invalid::field("agency-unknown", "agency").with_detail(a)))?
                    .id,
            ),
        };
        let answered = matches!(state, State::Answered | State::Closed);
        let (answered_at, answer) = if answered {
            let when = parse_time(&r.answered_at, "answered_at").map_err(at)?;
            if when < received_at || when > current {
                return Err(at(Invalid::field("datetime-invalid", "answered_at").with_detail(r.answered_at.trim())));
            }
            let text = ngoso_core::text::parse_text(&r.answer, "answer", 8000).map_err(at)?;
            (Some(when), Some(text))
        } else {
            (None, None)
        };
        let (days, kind): (u32, DayKind) = cat.deadline_for(channel);
        checked.push(Checked {
            due_at: cal.deadline(received_at, days, kind),
            code,
            category_id: cat.id,
            unit_id,
            address,
            description,
            channel,
            received_at,
            state,
            agency_id,
            answered_at,
            answer,
        });
    }
    let mut tx = db.begin().await?;
    let mut done = PastImported::default();
    for (c, r) in checked.iter().zip(rows) {
        let taken: Option<i64> = on_tx!(&mut tx, t => sqlx::query_scalar("SELECT id FROM feedback WHERE code = $1")
            .bind(&c.code).fetch_optional(t).await)?;
        if taken.is_some() {
            let invalid = Invalid::field("feedback-code-exists", "code").with_detail(&c.code);
            return Err(StoreError::AtRow { row: r.line, section: None, invalid });
        }
        let id: i64 = on_tx!(&mut tx, t => sqlx::query_scalar(
            "INSERT INTO feedback (code, category_id, unit_id, address, description, extra, channel, citizen_key_hash, agency_id, \
             state, pending, received_at, due_at, updated_at, answered_at, closed_at, answer, search_key) \
             VALUES ($1, $2, $3, $4, $5, '{}', $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17) RETURNING id")
            .bind(&c.code).bind(c.category_id).bind(c.unit_id).bind(&c.address).bind(&c.description).bind(c.channel.as_str())
            .bind(secrets::hash_token(&secrets::new_token())).bind(c.agency_id).bind(c.state.as_str()).bind(c.state.is_pending())
            .bind(c.received_at).bind(c.due_at).bind(current).bind(c.answered_at)
            .bind(if c.state == State::Closed { c.answered_at } else { None }).bind(&c.answer)
            .bind(ngoso_core::text::fold(&c.description)).fetch_one(t).await)?;
        history_at(&mut tx, c.received_at, id, None, "submitted", (None, Some(State::Received)), None, "import")
            .await?;
        if c.state != State::Received {
            let at = c.answered_at.unwrap_or(c.received_at);
            history_at(&mut tx, at, id, None, "import", (Some(State::Received), Some(c.state)), c.agency_id, "import")
                .await?;
        }
        count(&mut tx, (c.unit_id, c.category_id, c.agency_id), c.received_at, (1, 0, 0)).await?;
        if let Some(at) = c.answered_at {
            count(&mut tx, (c.unit_id, c.category_id, c.agency_id), at, (0, 1, i64::from(at <= c.due_at))).await?;
            done.answered += 1;
        }
        // A code of ours keeps its day's numbering ahead of it.
        if let Ok(tc) = TrackingCode::parse(&c.code) {
            on_tx!(&mut tx, t => sqlx::query(
                "INSERT INTO feedback_days (day, last) VALUES ($1, $2) ON CONFLICT (day) DO UPDATE SET \
                 last = CASE WHEN feedback_days.last < excluded.last THEN excluded.last ELSE feedback_days.last END")
                .bind(tc.day.format("%Y%m%d").to_string()).bind(i64::from(tc.seq)).execute(t).await.map(|r| r.rows_affected()))?;
        }
        done.items += 1;
    }
    tx.commit().await?;
    Ok(done)
}
