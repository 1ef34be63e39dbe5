//! Trainings and events of the units, the team members who attended, the share of a team
//! trained in the last twelve months and the members with no training in them.

use chrono::NaiveDate;
use ngoso_core::auth::{Area, Granted, may};
use ngoso_core::programme::EventFields;
use ngoso_core::unit::UnitPath;
use serde::Serialize;
use sqlx::QueryBuilder;

use crate::{Db, Result, StoreError, Tx, now, on_db, on_tx};

/// An event as lists and its page show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Event {
    pub id: i64,
    pub unit_id: i64,
    pub unit_code: String,
    pub unit_name: String,
    #[serde(skip)]
    pub unit_path: String,
    /// training, contest, seminar, help_counter or campaign.
    pub kind: String,
    pub title: String,
    pub topic: String,
    pub place: String,
    pub organiser: String,
    pub starts_on: NaiveDate,
    pub ends_on: Option<NaiveDate>,
    /// mon … sun, comma-separated.
    pub opening_days: String,
    pub citizens_served: i64,
    pub served_male: Option<i64>,
    pub served_female: Option<i64>,
    pub served_under_18: Option<i64>,
    pub served_18_59: Option<i64>,
    pub served_60_plus: Option<i64>,
    /// Team members who attended.
    pub attendees: i64,
}

impl Event {
    pub fn path(&self) -> UnitPath {
        UnitPath::from_stored(self.unit_path.clone())
    }
}

const EVENT_SELECT: &str = "SELECT e.id, e.unit_id, u.code AS unit_code, u.name AS unit_name, u.path AS unit_path, e.kind, e.title, \
     e.topic, e.place, e.organiser, e.starts_on, e.ends_on, e.opening_days, e.citizens_served, e.served_male, e.served_female, \
     e.served_under_18, e.served_18_59, e.served_60_plus, \
     (SELECT COUNT(*) FROM event_attendance a WHERE a.event_id = e.id) AS attendees \
     FROM events e JOIN units u ON u.id = e.unit_id";

/// Records an event of a unit with the members who attended, all or none.
pub async fn create(db: &Db, unit_id: i64, f: &EventFields, attendees: &[i64], by: Option<i64>) -> Result<i64> {
    let mut tx = db.begin().await?;
    let id = insert(&mut tx, unit_id, f, by).await?;
    write_attendance(&mut tx, id, attendees).await?;
    tx.commit().await?;
    Ok(id)
}

async fn insert(tx: &mut Tx, unit_id: i64, f: &EventFields, by: Option<i64>) -> Result<i64> {
    Ok(on_tx!(tx, c => sqlx::query_scalar(
        "INSERT INTO events (unit_id, kind, title, topic, place, organiser, starts_on, ends_on, opening_days, citizens_served, \
         served_male, served_female, served_under_18, served_18_59, served_60_plus, created_by, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $17) RETURNING id")
        .bind(unit_id).bind(f.kind.as_str()).bind(&f.title).bind(&f.topic).bind(&f.place).bind(&f.organiser)
        .bind(f.starts_on).bind(f.ends_on).bind(f.opening_days.join(",")).bind(f.citizens_served)
        .bind(f.by_sex[0]).bind(f.by_sex[1]).bind(f.by_age[0]).bind(f.by_age[1]).bind(f.by_age[2]).bind(by).bind(now())
        .fetch_one(c).await)?)
}

/// Records many events (a unit's id and its fields each, no attendance), all or none.
pub async fn create_many(db: &Db, rows: &[(i64, EventFields)], by: Option<i64>) -> Result<Vec<i64>> {
    let mut tx = db.begin().await?;
    let mut ids = Vec::with_capacity(rows.len());
    for (unit_id, f) in rows {
        ids.push(insert(&mut tx, *unit_id, f, by).await?);
    }
    tx.commit().await?;
    Ok(ids)
}

/// Changes an event's fields (its unit and attendance stay).
pub async fn update(db: &Db, id: i64, f: &EventFields) -> Result<()> {
    let n = crate::on_write!(db, p => sqlx::query(
        "UPDATE events SET kind = $1, title = $2, topic = $3, place = $4, organiser = $5, starts_on = $6, ends_on = $7, \
         opening_days = $8, citizens_served = $9, served_male = $10, served_female = $11, served_under_18 = $12, \
         served_18_59 = $13, served_60_plus = $14, updated_at = $15 WHERE id = $16")
        .bind(f.kind.as_str()).bind(&f.title).bind(&f.topic).bind(&f.place).bind(&f.organiser)
        .bind(f.starts_on).bind(f.ends_on).bind(f.opening_days.join(",")).bind(f.citizens_served)
        .bind(f.by_sex[0]).bind(f.by_sex[1]).bind(f.by_age[0]).bind(f.by_age[1]).bind(f.by_age[2]).bind(now()).bind(id)
        .execute(p).await.map(|r| r.rows_affected()))?;
    if n == 0 { Err(StoreError::NotFound) } else { Ok(()) }
}

/// Removes an event recorded by mistake, with its attendance.
pub async fn delete(db: &Db, id: i64) -> Result<()> {
    let mut tx = db.begin().await?;
    on_tx!(&mut tx, c => sqlx::query("DELETE FROM event_attendance WHERE event_id = $1").bind(id)
        .execute(c).await.map(|r| r.rows_affected()))?;
    let n = on_tx!(&mut tx, c => sqlx::query("DELETE FROM events WHERE id = $1").bind(id)
        .execute(c).await.map(|r| r.rows_affected()))?;
    if n == 0 {
        return Err(StoreError::NotFound);
    }
    tx.commit().await?;
    Ok(())
}

async fn write_attendance(tx: &mut Tx, event_id: i64, members: &[i64]) -> Result<()> {
    let path: Option<String> = on_tx!(tx, c => sqlx::query_scalar(
        "SELECT u.path FROM events e JOIN units u ON u.id = e.unit_id WHERE e.id = $1").bind(event_id).fetch_optional(c).await)?;
    let path = UnitPath::from_stored(path.ok_or(StoreError::NotFound)?);
    on_tx!(tx, c => sqlx::query("DELETE FROM event_attendance WHERE event_id = $1").bind(event_id)
        .execute(c).await.map(|r| r.rows_affected()))?;
    let mut seen = std::collections::HashSet::new();
    for &m in members {
        if seen.insert(m) {
            super::member_within(tx, m, &path, "attendees").await?;
            on_tx!(tx, c => sqlx::query("INSERT INTO event_attendance (event_id, member_id) VALUES ($1, $2)")
                .bind(event_id).bind(m).execute(c).await.map(|r| r.rows_affected()))?;
        }
    }
    Ok(())
}

/// Takes the attendance of an event (on a phone): the members ticked, in place of those before.
pub async fn set_attendance(db: &Db, event_id: i64, members: &[i64]) -> Result<()> {
    let mut tx = db.begin().await?;
    write_attendance(&mut tx, event_id, members).await?;
    on_tx!(&mut tx, c => sqlx::query("UPDATE events SET updated_at = $1 WHERE id = $2").bind(now()).bind(event_id)
        .execute(c).await.map(|r| r.rows_affected()))?;
    tx.commit().await?;
    Ok(())
}

/// An event.
pub async fn get(db: &Db, id: i64) -> Result<Event> {
    on_db!(db, p => sqlx::query_as::<_, Event>(sqlx::AssertSqlSafe(format!("{EVENT_SELECT} WHERE e.id = $1")))
        .bind(id).fetch_optional(p).await)?
    .ok_or(StoreError::NotFound)
}

/// The events of a subtree starting between two days (a kind's only, if given), newest first.
pub async fn list(
    db: &Db,
    within: &UnitPath,
    from: NaiveDate,
    to: NaiveDate,
    kind: Option<&str>,
) -> Result<Vec<Event>> {
    Ok(on_db!(db, p => {
        let mut qb = QueryBuilder::new(EVENT_SELECT);
        qb.push(" WHERE u.path >= ").push_bind(within.as_str().to_owned()).push(" AND u.path < ").push_bind(within.upper_bound());
        qb.push(" AND e.starts_on >= ").push_bind(from).push(" AND e.starts_on <= ").push_bind(to);
        if let Some(k) = kind {
            qb.push(" AND e.kind = ").push_bind(k.to_owned());
        }
        qb.push(" ORDER BY e.starts_on DESC, e.id DESC LIMIT 5000");
        qb.build_query_as::<Event>().fetch_all(p).await
    })?)
}

/// The ids of the members who attended an event.
pub async fn attendee_ids(db: &Db, event_id: i64) -> Result<Vec<i64>> {
    Ok(
        on_db!(db, p => sqlx::query_scalar("SELECT member_id FROM event_attendance WHERE event_id = $1 ORDER BY member_id")
        .bind(event_id).fetch_all(p).await)?,
    )
}

/// A team member with their latest training.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MemberTraining {
    pub member_id: i64,
    pub full_name: String,
    pub team_id: i64,
    pub team_name: String,
    /// The first day of their latest training, if any.
    pub last_training: Option<NaiveDate>,
}

/// The active members of an area's teams with the day of their latest training: names, so
/// only with core's proof; logged as `event.members.read`.
pub async fn members_training(db: &Db, access: &Granted<may::ViewPersonalData, Area>) -> Result<Vec<MemberTraining>> {
    let root = UnitPath::from_stored("/".into());
    let within = access.on().0.as_ref().unwrap_or(&root);
    let today = crate::teams::today();
    let rows: Vec<MemberTraining> = on_db!(db, p => sqlx::query_as::<_, MemberTraining>(
        "SELECT tm.id AS member_id, tm.full_name, t.id AS team_id, t.name AS team_name, \
         (SELECT MAX(e.starts_on) FROM event_attendance a JOIN events e ON e.id = a.event_id \
          WHERE a.member_id = tm.id AND e.kind = 'training') AS last_training \
         FROM team_members tm JOIN teams t ON t.id = tm.team_id JOIN units u ON u.id = t.unit_id \
         WHERE u.path >= $1 AND u.path < $2 AND tm.joined_on <= $3 AND (tm.left_on IS NULL OR tm.left_on > $3) \
         ORDER BY t.name_sort, tm.full_name, tm.id")
        .bind(within.as_str()).bind(within.upper_bound()).bind(today).fetch_all(p).await)?;
    let unit = within.ids().last().copied().unwrap_or(0);
    crate::audit::read(db, access.user_id(), "event.members.read", "unit", unit, &format!("{} rows", rows.len()))
        .await?;
    Ok(rows)
}

/// A team's active members, and how many of them attended a training since `since`: counts
/// only.
pub async fn trained_share(db: &Db, team_id: i64, since: NaiveDate) -> Result<(i64, i64)> {
    let today = crate::teams::today();
    let row: (i64, i64) = on_db!(db, p => sqlx::query_as(
        "SELECT COUNT(*), CAST(COALESCE(SUM(CASE WHEN EXISTS (SELECT 1 FROM event_attendance a JOIN events e ON e.id = a.event_id \
           WHERE a.member_id = tm.id AND e.kind = 'training' AND e.starts_on >= $3) THEN 1 ELSE 0 END), 0) AS BIGINT) \
         FROM team_members tm WHERE tm.team_id = $1 AND tm.joined_on <= $2 AND (tm.left_on IS NULL OR tm.left_on > $2)")
        .bind(team_id).bind(today).bind(since).fetch_one(p).await)?;
    Ok((row.1, row.0))
}

/// The events a team member attended, newest first (at most 500).
pub async fn attended_by(db: &Db, member_id: i64) -> Result<Vec<Event>> {
    Ok(on_db!(db, p => sqlx::query_as::<_, Event>(sqlx::AssertSqlSafe(format!(
        "{EVENT_SELECT} WHERE e.id IN (SELECT event_id FROM event_attendance WHERE member_id = $1) \
         ORDER BY e.starts_on DESC, e.id DESC LIMIT 500")))
        .bind(member_id).fetch_all(p).await)?)
}

/// The ids of the team members of a subtree active on `day` (ids only: no one's name).
pub async fn member_ids_within(db: &Db, within: &UnitPath, day: NaiveDate) -> Result<Vec<i64>> {
    Ok(on_db!(db, p => sqlx::query_scalar(
        "SELECT tm.id FROM team_members tm JOIN teams t ON t.id = tm.team_id JOIN units u ON u.id = t.unit_id \
         WHERE u.path >= $1 AND u.path < $2 AND tm.joined_on <= $3 AND (tm.left_on IS NULL OR tm.left_on > $3) ORDER BY tm.id")
        .bind(within.as_str()).bind(within.upper_bound()).bind(day).fetch_all(p).await)?)
}
