//! A public submission on PostgreSQL in one statement: the item, its photo or photo address,
//! its history, its announcements, its counters and its roll-ups, each a data-modifying part
//! of one `WITH`, so that it takes one round trip and holds its row locks (the counters and
//! roll-ups every submission of the province shares) only while the statement runs. The day's
//! tracking number is taken before, in a statement of its own (see `feedback::items`).

use std::sync::LazyLock;

use ngoso_core::feedback::State;
use sqlx::PgPool;

use crate::feedback::items::{INSERT_ITEM, Submission};
use crate::rollups::{self, upsert};
use crate::{Result, StoreError};

/// The statement; the item's columns are bound as [`INSERT_ITEM`]'s ($1–$24), the rest after.
static SUBMIT: LazyLock<String> = LazyLock::new(|| {
    format!(
        "WITH f AS ({INSERT_ITEM}), \
         photo AS (INSERT INTO feedback_photos (feedback_id, mime, width, height, bytes) \
           SELECT id, $25, $26, $27, $28 FROM f WHERE $28::bytea IS NOT NULL), \
         media AS (INSERT INTO feedback_media (feedback_id, url, created_at) \
           SELECT id, $29, $21 FROM f WHERE $29::text IS NOT NULL), \
         h AS (INSERT INTO feedback_history (feedback_id, at, user_id, action, from_state, to_state, agency_id, detail) \
           SELECT f.id, $19, x.user_id, x.action, x.from_state, x.to_state, x.agency_id, x.detail \
           FROM f, UNNEST($30::bigint[], $31::text[], $32::text[], $33::text[], $34::bigint[], $35::text[]) \
             WITH ORDINALITY AS x(user_id, action, from_state, to_state, agency_id, detail, n) ORDER BY x.n), \
         o AS (INSERT INTO outbox (kind, target, feedback_id, payload, created_at, next_attempt_at) \
           SELECT x.kind, x.target, f.id, x.payload, $21, $21 \
           FROM f, UNNEST($36::text[], $37::text[], $38::text[]) WITH ORDINALITY AS x(kind, target, payload, n) ORDER BY x.n), \
         c AS (INSERT INTO feedback_counts (unit_id, category_id, agency_id, month, received, answered, on_time) \
           SELECT $39, $2, $40, $41, 1, 0, 0 FROM f \
           ON CONFLICT (unit_id, category_id, agency_id, month) DO UPDATE SET received = feedback_counts.received + 1), \
         r AS ({} SELECT x.unit, x.figure, x.period, $42, x.value FROM f, \
           UNNEST($43::bigint[], $44::text[], $45::text[], $46::bigint[]) AS x(unit, figure, period, value) {}) \
         SELECT id FROM f",
        upsert!(into),
        upsert!(add)
    )
});

/// Stores a submission under the tracking code given; returns the item's id.
pub(crate) async fn submit(p: &PgPool, s: &Submission, code: &str) -> Result<i64> {
    let n = &s.item;
    let history = s.history();
    let (mut kinds, mut targets, mut payloads) = (Vec::new(), Vec::new(), Vec::new());
    for (kind, target, body) in s.announcements(code) {
        kinds.push(kind);
        targets.push(target);
        payloads.push(body.to_string());
    }
    let figures: Vec<_> = s.rollups().into_iter().filter(|(_, v)| *v != 0).collect();
    let res: std::result::Result<i64, sqlx::Error> = sqlx::query_scalar(SUBMIT.as_str())
        .bind(code)
        .bind(n.category_id)
        .bind(n.unit_id)
        .bind(&n.address)
        .bind(n.point.map(|p| p.lat))
        .bind(n.point.map(|p| p.lon))
        .bind(&n.description)
        .bind(&s.extra)
        .bind(n.channel.as_str())
        .bind(&n.contact_name)
        .bind(&n.contact_phone)
        .bind(&n.contact_email)
        .bind(n.consent.then_some(n.received_at))
        .bind(&s.key_hash)
        .bind(n.submitted_by)
        .bind(n.api_key_id)
        .bind(s.agency)
        .bind(s.state.as_str())
        .bind(n.received_at)
        .bind(s.due_at)
        .bind(s.t)
        .bind(n.photo.is_some())
        .bind(&n.client_id)
        .bind(&s.search_key)
        // $25–$29: the photo, the photo's address.
        .bind(n.photo.as_ref().map(|p| p.mime))
        .bind(n.photo.as_ref().map(|p| p.width as i64))
        .bind(n.photo.as_ref().map(|p| p.height as i64))
        .bind(n.photo.as_ref().map(|p| p.bytes.as_slice()))
        .bind(&n.media_url)
        // $30–$35: the history.
        .bind(history.iter().map(|h| h.0).collect::<Vec<_>>())
        .bind(history.iter().map(|h| h.1).collect::<Vec<_>>())
        .bind(history.iter().map(|h| h.2.map(State::as_str)).collect::<Vec<_>>())
        .bind(history.iter().map(|h| h.3.as_str()).collect::<Vec<_>>())
        .bind(history.iter().map(|h| h.4).collect::<Vec<_>>())
        .bind(history.iter().map(|h| h.5).collect::<Vec<_>>())
        // $36–$38: the outbox.
        .bind(kinds)
        .bind(targets)
        .bind(payloads)
        // $39–$46: the counters and the roll-ups.
        .bind(n.unit_id.unwrap_or(0))
        .bind(s.agency.unwrap_or(0))
        .bind(s.month())
        .bind(rollups::pg_shard())
        .bind(figures.iter().map(|((u, ..), _)| *u).collect::<Vec<_>>())
        .bind(figures.iter().map(|((_, f, _), _)| f.as_str()).collect::<Vec<_>>())
        .bind(figures.iter().map(|((.., p), _)| p.as_str()).collect::<Vec<_>>())
        .bind(figures.iter().map(|(_, v)| *v).collect::<Vec<_>>())
        .fetch_one(p)
        .await;
    res.map_err(|e| {
        let e = StoreError::from(e);
        // The category removed since it was read.
        if e.is_foreign_key_violation() { ngoso_core::Invalid::field("category-unknown", "category").into() } else { e }
    })
}
