//! Feedback items: submission with routing, a tracking code and a deadline; reading an item,
//! its history and its photo.

use std::collections::{BTreeMap, HashMap};

use chrono::NaiveDate;
use ngoso_core::rollup::Deltas;

use ngoso_core::auth::FeedbackPlace;
use ngoso_core::calendar::{self, Calendar, DayKind};
use ngoso_core::feedback::{Channel, Point, State, TrackingCode};
use ngoso_core::photo::Photo;
use ngoso_core::unit::UnitPath;
use ngoso_core::{Invalid, text};
use serde::Serialize;

use super::actions::Handle;
use super::{Announced, announcements};
use crate::db::pg;
use crate::db::sqlite::feedback_submit::{self, Outcome};
use crate::{Db, Result, StoreError, now, on_db, rollups, secrets};

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
    /// The id the submitting account's phone made for the item (a UUID): a second send of
    /// it finds the first item instead of making another.
    pub client_id: Option<String>,
    /// The address of a photo to fetch in the background (Open311's `media_url`), checked
    /// as a URL already; see [`super::media`].
    pub media_url: Option<String>,
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
    /// Whether this answers a repeated send of the same client id: the item made the first
    /// time, whose citizen key (given then) is not given again (`citizen_key` is empty).
    #[serde(skip)]
    pub replayed: bool,
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

/// The columns of an [`Item`], for `WHERE` to follow.
pub(crate) const ITEM_SELECT: &str = "SELECT f.id, f.code, f.category_id, c.code AS category_code, f.unit_id, u.name AS unit_name, \
     u.path AS unit_path, f.address, f.lat, f.lon, f.description, f.extra, f.channel, f.contact_name, f.contact_phone, \
     f.contact_email, f.submitted_by, f.agency_id, a.code AS agency_code, f.state, f.reason, f.duplicate_of, \
     d.code AS duplicate_of_code, f.received_at, f.due_at, f.extended, f.updated_at, f.answered_at, f.closed_at, \
     f.answer_draft, f.drafted_by, f.answer, f.rating, f.hidden_reason, f.has_photo \
     FROM feedback f JOIN feedback_categories c ON c.id = f.category_id LEFT JOIN units u ON u.id = f.unit_id \
     LEFT JOIN agencies a ON a.id = f.agency_id LEFT JOIN feedback d ON d.id = f.duplicate_of";

/// The columns of an [`Item`] as the public may see it: no contact, no coordinates, no
/// address, no draft, no author (each `NULL`), for `WHERE` to follow.
pub(super) const PUBLIC_ITEM_SELECT: &str = "SELECT f.id, f.code, f.category_id, c.code AS category_code, f.unit_id, u.name AS unit_name, \
     u.path AS unit_path, NULL AS address, NULL AS lat, NULL AS lon, f.description, f.extra, f.channel, NULL AS contact_name, \
     NULL AS contact_phone, NULL AS contact_email, NULL AS submitted_by, f.agency_id, a.code AS agency_code, f.state, f.reason, \
     f.duplicate_of, d.code AS duplicate_of_code, f.received_at, f.due_at, f.extended, f.updated_at, f.answered_at, \
     f.closed_at, NULL AS answer_draft, NULL AS drafted_by, f.answer, f.rating, f.hidden_reason, f.has_photo \
     FROM feedback f JOIN feedback_categories c ON c.id = f.category_id LEFT JOIN units u ON u.id = f.unit_id \
     LEFT JOIN agencies a ON a.id = f.agency_id LEFT JOIN feedback d ON d.id = f.duplicate_of";

/// An item as the public may see it: an [`Item`] whose private fields (contact, coordinates,
/// address, draft, author) were never read.
#[derive(Debug, Clone, PartialEq)]
pub struct PublicItem(Item);

impl std::ops::Deref for PublicItem {
    type Target = Item;
    fn deref(&self) -> &Item {
        &self.0
    }
}

impl<'r, R: sqlx::Row> sqlx::FromRow<'r, R> for PublicItem
where
    Item: sqlx::FromRow<'r, R>,
{
    fn from_row(row: &'r R) -> std::result::Result<Self, sqlx::Error> {
        Item::from_row(row).map(PublicItem)
    }
}

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

/// Stores a new item: gives it the day's next tracking number, its deadline and its agency
/// (by the routing rules), writes the history and queues the notifications.
pub async fn submit(db: &Db, cal: &Calendar, days: u32, kind: DayKind, n: &NewItem) -> Result<Submitted> {
    if let Some(found) = replayed(db, n).await? {
        return Ok(found);
    }
    match submit_new(db, cal, days, kind, n).await {
        // Two sends of one client id at once: the second finds the first's item.
        Err(e) if e.is_unique_violation() && n.client_id.is_some() => replayed(db, n).await?.ok_or(e),
        other => other,
    }
}

/// The item a send of the same client id by the same account made before, if any.
async fn replayed(db: &Db, n: &NewItem) -> Result<Option<Submitted>> {
    let (Some(client), Some(by)) = (&n.client_id, n.submitted_by) else { return Ok(None) };
    by_client(db, by, client).await
}

/// The item an account sent with a client id (bound: the account, the client id).
pub(crate) const BY_CLIENT: &str =
    "SELECT id, code, state, agency_id, due_at FROM feedback WHERE submitted_by = $1 AND client_id = $2";

/// The item an account sent with a client id, if it did: a repeated send answers with it
/// (even after its category was withdrawn), without the citizen key given the first time.
pub async fn by_client(db: &Db, by: i64, client: &str) -> Result<Option<Submitted>> {
    let row: Option<(i64, String, String, Option<i64>, i64)> = on_db!(db, p => sqlx::query_as(BY_CLIENT)
        .bind(by).bind(client).fetch_optional(p).await)?;
    Ok(row.map(|(id, code, state, agency_id, due_at)| Submitted {
        id,
        code,
        citizen_key: String::new(),
        state,
        agency_id,
        due_at,
        replayed: true,
    }))
}

/// What a submission is stored with, worked out before its transaction.
pub(crate) struct Submission {
    pub item: NewItem,
    pub day: NaiveDate,
    /// The day as YYYYMMDD, the key of its numbering.
    pub day_key: String,
    pub key_hash: String,
    pub agency: Option<i64>,
    pub state: State,
    /// The extra fields as JSON.
    pub extra: String,
    /// The description's folded search key.
    pub search_key: String,
    pub due_at: i64,
    pub t: i64,
    /// The ids from the root to the item's unit (empty without a unit).
    pub ancestry: Vec<i64>,
    /// What its announcements name, read with the rest before the write: its category's
    /// code, its unit's code, its agency's webhook (if the agency is active).
    pub category_code: String,
    pub unit_code: Option<String>,
    pub webhook_url: Option<String>,
}

/// A history row of a new item: user, action, from and to state, agency, detail.
pub(crate) type NewHistory = (Option<i64>, &'static str, Option<State>, State, Option<i64>, &'static str);

impl Submission {
    /// The item's first history rows: received, and forwarded when a rule routed it.
    pub(crate) fn history(&self) -> Vec<NewHistory> {
        let mut rows =
            vec![(self.item.submitted_by, "submitted", None, State::Received, None, self.item.channel.as_str())];
        if let Some(a) = self.agency {
            rows.push((None, "forward", Some(State::Received), State::Forwarded, Some(a), "route"));
        }
        rows
    }

    /// The outbox rows (kind, target, payload) announcing the item stored under `code`.
    pub(crate) fn announcements(&self, code: &str) -> Vec<(&'static str, String, serde_json::Value)> {
        let announced = Announced {
            code: code.to_owned(),
            state: self.state.as_str().into(),
            agency_id: self.agency,
            webhook_url: self.webhook_url.clone(),
            due_at: self.due_at,
            category_code: self.category_code.clone(),
            unit_code: self.unit_code.clone(),
            contact_phone: self.item.contact_phone.clone(),
            contact_email: self.item.contact_email.clone(),
        };
        announcements(announced, "submitted", self.t)
    }

    /// The month the item counts in.
    pub(crate) fn month(&self) -> String {
        ngoso_core::outreach::month_of(self.item.received_at)
    }

    /// What the item adds to the roll-ups of its unit and every ancestor (none without a unit).
    pub(crate) fn rollups(&self) -> BTreeMap<rollups::Key, i64> {
        let Some(unit) = self.item.unit_id else { return BTreeMap::new() };
        let mut deltas = Deltas::default();
        deltas.feedback(unit, &self.month(), (1, 0, 0));
        rollups::fold(deltas.into_vec(), &HashMap::from([(unit, self.ancestry.clone())]))
    }
}

/// What a submission needs read before it is stored, in one statement (bound: category,
/// unit or NULL): the category's code (no row: no such category), the unit's path and code
/// (NULL: no such unit), and each routing rule that names the category or any, with its
/// active agency, the agency's webhook and the path of the rule's unit.
const CONTEXT: &str = "SELECT c.code, u.path, u.code, x.agency_id, x.category_id, x.path, x.webhook_url \
     FROM feedback_categories c LEFT JOIN units u ON u.id = $2 \
     LEFT JOIN (SELECT r.agency_id, r.category_id, ru.path, a.webhook_url FROM feedback_routes r \
       JOIN agencies a ON a.id = r.agency_id AND a.active LEFT JOIN units ru ON ru.id = r.unit_id) x \
       ON x.category_id = c.id OR x.category_id IS NULL \
     WHERE c.id = $1";

type ContextRow = (String, Option<String>, Option<String>, Option<i64>, Option<i64>, Option<String>, Option<String>);

async fn submit_new(db: &Db, cal: &Calendar, days: u32, kind: DayKind, n: &NewItem) -> Result<Submitted> {
    let day = calendar::local_day(n.received_at);
    let due_at = cal.deadline(n.received_at, days, kind);
    let key = secrets::new_token()[..12].to_owned();
    let day_key = day.format("%Y%m%d").to_string();
    // What the item needs looked up is read before the transaction, off SQLite's one writer:
    // its category, its unit's place in the tree and the agency the routing rules give it.
    let rows: Vec<ContextRow> =
        on_db!(db, p => sqlx::query_as(CONTEXT).bind(n.category_id).bind(n.unit_id).fetch_all(p).await)?;
    let Some((category_code, path, unit_code, ..)) = rows.first().cloned() else {
        return Err(Invalid::field("category-unknown", "category").into());
    };
    let path = match (n.unit_id, path) {
        (Some(u), None) => return Err(Invalid::field("unit-unknown", "unit").with_detail(u.to_string()).into()),
        (_, path) => path.map(UnitPath::from_stored),
    };
    let rules = rows.into_iter().filter_map(|(.., agency, cat, rule_path, hook)| Some((agency?, cat, rule_path, hook)));
    let (agency, webhook_url) = match super::setup::pick_route(rules, path.as_ref()) {
        Some((a, hook)) => (Some(a), hook),
        None => (None, None),
    };
    let state = if agency.is_some() { State::Forwarded } else { State::Received };
    let s = Submission {
        item: n.clone(),
        day,
        day_key,
        key_hash: secrets::hash_token(&key),
        agency,
        state,
        extra: serde_json::to_string(&n.extra).unwrap_or_else(|_| "{}".into()),
        search_key: text::fold(&n.description),
        due_at,
        t: now(),
        ancestry: path.as_ref().map(UnitPath::ids).unwrap_or_default(),
        category_code,
        unit_code,
        webhook_url,
    };
    let stored = |id, code| Submitted {
        id,
        code,
        citizen_key: key.clone(),
        state: state.as_str().into(),
        agency_id: agency,
        due_at,
        replayed: false,
    };
    Ok(match db {
        // SQLite: handed to the submissions' group commit, which stores it with whatever
        // others have gathered, in one transaction on the writer's own handle. The day's
        // number is taken inside, so its numbering has no gaps.
        Db::Sqlite(pools) => match feedback_submit::submit(pools, s).await? {
            Outcome::Found(found) => found,
            Outcome::Stored { id, code } => stored(id, code),
        },
        // PostgreSQL: the day's number on its own, then everything else in one statement.
        Db::Pg(p) => {
            let seq: i64 = sqlx::query_scalar(NEXT_NUMBER).bind(&s.day_key).fetch_one(p).await?;
            let code = TrackingCode { day, seq: seq as u32 }.to_string();
            let id = pg::feedback_submit::submit(p, &s, &code).await?;
            stored(id, code)
        }
    })
}

/// Takes the day's next tracking number (bound: the day as YYYYMMDD).
pub(crate) const NEXT_NUMBER: &str = "INSERT INTO feedback_days (day, last) VALUES ($1, 1) ON CONFLICT (day) DO UPDATE SET last = feedback_days.last + 1 RETURNING last";

/// A new item (bound: its columns in the order listed, `pending` aside).
pub(crate) const INSERT_ITEM: &str = "INSERT INTO feedback (code, category_id, unit_id, address, lat, lon, description, extra, \
     channel, contact_name, contact_phone, contact_email, consent_at, citizen_key_hash, submitted_by, api_key_id, agency_id, \
     state, pending, received_at, due_at, updated_at, has_photo, client_id, search_key) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, TRUE, $19, $20, $21, $22, $23, $24) \
     RETURNING id";

/// A new item's photo (bound: item, type, width, height, bytes).
pub(crate) const INSERT_PHOTO: &str =
    "INSERT INTO feedback_photos (feedback_id, mime, width, height, bytes) VALUES ($1, $2, $3, $4, $5)";

/// A photo address to fetch (bound: item, URL, time).
pub(crate) const INSERT_MEDIA: &str = "INSERT INTO feedback_media (feedback_id, url, created_at) VALUES ($1, $2, $3)";

/// An item with its private fields, unlogged: for the store's own calls (see [`read`]).
pub(crate) async fn get(db: &Db, id: i64) -> Result<Item> {
    on_db!(db, p => sqlx::query_as::<_, Item>(sqlx::AssertSqlSafe(format!("{ITEM_SELECT} WHERE f.id = $1"))).bind(id).fetch_optional(p).await)?
        .ok_or(StoreError::NotFound)
}

/// Where an item is and who answers it, for the access checks. No personal data.
pub async fn place(db: &Db, id: i64) -> Result<FeedbackPlace> {
    type Row = (Option<i64>, Option<String>, Option<chrono::NaiveDate>, Option<i64>);
    let row: Option<Row> = on_db!(db, p => sqlx::query_as(
        "SELECT f.unit_id, u.path, u.valid_to, f.agency_id FROM feedback f LEFT JOIN units u ON u.id = f.unit_id WHERE f.id = $1")
        .bind(id).fetch_optional(p).await)?;
    let (unit_id, path, valid_to, agency_id) = row.ok_or(StoreError::NotFound)?;
    let path = path.map(UnitPath::from_stored);
    // An item keeps the unit it was filed against; once that unit has closed, the staff of
    // the units carrying on from it handle it.
    let path = match (unit_id, path) {
        (Some(u), Some(own)) if valid_to.is_some_and(|t| t <= crate::teams::today()) => {
            crate::restructure::handling_path(db, u, own).await?
        }
        (_, path) => path,
    };
    Ok(FeedbackPlace { id, unit_id, path, agency_id })
}

/// An item as staff see it, with the citizen's contact, for one whose access core checked; a
/// read of a contact is logged as `feedback.read_contact` (the read fails if it cannot be).
pub async fn read(db: &Db, access: &Handle) -> Result<Item> {
    let item = get(db, access.on().id).await?;
    if item.contact_name.is_some() || item.contact_phone.is_some() || item.contact_email.is_some() {
        crate::audit::read(db, access.user_id(), "feedback.read_contact", "feedback", item.id, &item.code).await?;
    }
    Ok(item)
}

/// What an item's deadline is counted by: its category and channel.
pub async fn deadline_basis(db: &Db, access: &Handle) -> Result<(i64, String)> {
    let row: Option<(i64, String)> = on_db!(db, p => sqlx::query_as(
        "SELECT category_id, channel FROM feedback WHERE id = $1").bind(access.on().id).fetch_optional(p).await)?;
    row.ok_or(StoreError::NotFound)
}

/// The id of the item with a tracking code: no personal data, so unlogged; reading the
/// item itself takes a handle (who may handle it).
/// Codes are ours (`PAKN.…`) or those of an earlier system's items imported with them
/// ([`ngoso_core::feedback::item_code`]); one that can be neither is no item's.
pub async fn id_by_code(db: &Db, code: &str) -> Result<i64> {
    let code = ngoso_core::feedback::item_code(code).map_err(|_| StoreError::NotFound)?;
    on_db!(db, p => sqlx::query_scalar("SELECT id FROM feedback WHERE code = $1").bind(&code).fetch_optional(p).await)?
        .ok_or(StoreError::NotFound)
}

/// An item by its code as stored ([`ngoso_core::feedback::item_code`]: ours, or an imported
/// item's own), as the public may see it.
pub async fn public_by_code(db: &Db, code: &str) -> Result<PublicItem> {
    on_db!(db, p => sqlx::query_as::<_, PublicItem>(sqlx::AssertSqlSafe(format!("{PUBLIC_ITEM_SELECT} WHERE f.code = $1"))).bind(code).fetch_optional(p).await)?
        .ok_or(StoreError::NotFound)
}

/// An item's history (with staff's notes), for one who may handle it.
pub async fn history(db: &Db, access: &Handle) -> Result<Vec<HistoryRow>> {
    history_of(db, access.on().id).await
}

pub(crate) async fn history_of(db: &Db, id: i64) -> Result<Vec<HistoryRow>> {
    Ok(on_db!(db, p => sqlx::query_as::<_, HistoryRow>(
        "SELECT h.id, h.at, h.user_id, us.username, h.action, h.from_state, h.to_state, a.code AS agency_code, h.detail \
         FROM feedback_history h LEFT JOIN users us ON us.id = h.user_id LEFT JOIN agencies a ON a.id = h.agency_id \
         WHERE h.feedback_id = $1 ORDER BY h.id").bind(id).fetch_all(p).await)?)
}

/// The photo of an item, (mime, bytes), for one who may handle it: a photo may show people,
/// so its read is logged as `feedback.read_photo`.
pub async fn photo(db: &Db, access: &Handle) -> Result<(String, Vec<u8>)> {
    let photo = photo_of(db, access.on().id).await?;
    crate::audit::read(db, access.user_id(), "feedback.read_photo", "feedback", access.on().id, "").await?;
    Ok(photo)
}

pub(crate) async fn photo_of(db: &Db, id: i64) -> Result<(String, Vec<u8>)> {
    on_db!(db, p => sqlx::query_as::<_, (String, Vec<u8>)>("SELECT mime, bytes FROM feedback_photos WHERE feedback_id = $1")
        .bind(id).fetch_optional(p).await)?.ok_or(StoreError::NotFound)
}
