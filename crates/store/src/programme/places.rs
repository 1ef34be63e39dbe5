//! The places of a digital street or a heritage route: a shop, a market stall, a relic site,
//! in the route's order, each with a public page at a short code and a QR plaque leading to
//! it. A plaque's scan is counted a day a place: counts only, nothing about who scanned.
//! Places and their photos are published on purpose (a shop front, a relic), so they are read
//! without a proof; the model's unit manages them.

use argon2::password_hash::rand_core::{OsRng, RngCore};
use chrono::NaiveDate;
use ngoso_core::Invalid;
use ngoso_core::photo::Photo;
use ngoso_core::programme::{PLACE_CODE_LETTERS, PlaceFields};
use ngoso_core::unit::UnitPath;
use serde::Serialize;

use crate::programme::PhotoInfo;
use crate::{Db, Result, StoreError, Tx, now, on_db, on_tx, on_write};

/// Most places a route keeps.
pub const MAX_PLACES: i64 = 200;
/// Most photos a place keeps.
pub const MAX_PHOTOS: i64 = 6;

/// A place of a route.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RoutePlace {
    pub id: i64,
    pub model_id: i64,
    /// From 1, the route's order.
    pub position: i32,
    /// The short code of its public page (`/p/{code}`).
    pub code: String,
    /// shop, market_stall, eatery, relic, public_service or other.
    pub kind: String,
    pub name: String,
    pub address: String,
    pub description: String,
    pub history: String,
    pub opening_hours: String,
    pub cashless: bool,
    pub cashless_how: String,
    /// QR scans counted, all days.
    pub scans: i64,
    pub updated_at: i64,
    #[sqlx(skip)]
    pub photos: Vec<PhotoInfo>,
    /// The public page's address (filled in by the web layer, which knows its own).
    #[sqlx(skip)]
    pub url: String,
}

/// The route a place is on, as its public page names it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PlaceRoute {
    pub id: i64,
    pub name: String,
    pub description: String,
    /// The model's kind's code (digital_street, digital_heritage…).
    pub kind: String,
    pub kind_name_vi: String,
    pub kind_name_en: String,
    pub status: String,
    pub unit_code: String,
    pub unit_name: String,
    #[serde(skip)]
    pub unit_path: String,
}

impl PlaceRoute {
    pub fn path(&self) -> UnitPath {
        UnitPath::from_stored(self.unit_path.clone())
    }
}

const PLACE_SELECT: &str = "SELECT p.id, p.model_id, p.ordinal AS position, p.code, p.kind, p.name, p.address, p.description, p.history, \
     p.opening_hours, p.cashless, p.cashless_how, \
     CAST(COALESCE((SELECT SUM(s.scans) FROM route_place_scans s WHERE s.place_id = p.id), 0) AS BIGINT) AS scans, p.updated_at \
     FROM route_places p";

fn new_code() -> String {
    let mut bytes = [0u8; 6];
    OsRng.fill_bytes(&mut bytes);
    bytes.iter().map(|b| PLACE_CODE_LETTERS[usize::from(*b) % PLACE_CODE_LETTERS.len()] as char).collect()
}

async fn lock_model(tx: &mut Tx, model_id: i64) -> Result<()> {
    let sql = crate::db::dialect::locking_read!(&tx, "SELECT id FROM models WHERE id = $1");
    let found: Option<i64> = on_tx!(tx, c => sqlx::query_scalar(sql).bind(model_id).fetch_optional(c).await)?;
    found.map(|_| ()).ok_or(StoreError::NotFound)
}

/// Adds a place at the end of a model's route, with a fresh short code; its id and code.
pub async fn add(db: &Db, model_id: i64, f: &PlaceFields) -> Result<(i64, String)> {
    let mut tx = db.begin().await?;
    lock_model(&mut tx, model_id).await?;
    let (n, last): (i64, Option<i32>) = on_tx!(&mut tx, c => sqlx::query_as(
        "SELECT COUNT(*), MAX(ordinal) FROM route_places WHERE model_id = $1").bind(model_id).fetch_one(c).await)?;
    if n >= MAX_PLACES {
        return Err(Invalid::field("too-many-items", "places").with_detail(MAX_PLACES.to_string()).into());
    }
    let code = loop {
        let code = new_code();
        let taken: Option<i64> = on_tx!(&mut tx, c => sqlx::query_scalar("SELECT id FROM route_places WHERE code = $1")
            .bind(&code).fetch_optional(c).await)?;
        if taken.is_none() {
            break code;
        }
    };
    let t = now();
    let id: i64 = on_tx!(&mut tx, c => sqlx::query_scalar(
        "INSERT INTO route_places (model_id, ordinal, code, kind, name, address, description, history, opening_hours, cashless, \
         cashless_how, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12) RETURNING id")
        .bind(model_id).bind(last.unwrap_or(0) + 1).bind(&code).bind(f.kind.as_str()).bind(&f.name).bind(&f.address)
        .bind(&f.description).bind(&f.history).bind(&f.opening_hours).bind(f.cashless).bind(&f.cashless_how).bind(t)
        .fetch_one(c).await)?;
    tx.commit().await?;
    Ok((id, code))
}

/// Changes a place of a model's route (its code and position stay).
pub async fn update(db: &Db, model_id: i64, place_id: i64, f: &PlaceFields) -> Result<()> {
    let n = on_write!(db, p => sqlx::query(
        "UPDATE route_places SET kind = $1, name = $2, address = $3, description = $4, history = $5, opening_hours = $6, \
         cashless = $7, cashless_how = $8, updated_at = $9 WHERE id = $10 AND model_id = $11")
        .bind(f.kind.as_str()).bind(&f.name).bind(&f.address).bind(&f.description).bind(&f.history).bind(&f.opening_hours)
        .bind(f.cashless).bind(&f.cashless_how).bind(now()).bind(place_id).bind(model_id)
        .execute(p).await.map(|r| r.rows_affected()))?;
    if n == 0 { Err(StoreError::NotFound) } else { Ok(()) }
}

/// Moves a place to `position` (from 1; past the end: last) on its route, the others
/// keeping their order.
pub async fn move_to(db: &Db, model_id: i64, place_id: i64, position: i32) -> Result<()> {
    let mut tx = db.begin().await?;
    lock_model(&mut tx, model_id).await?;
    let mut ids: Vec<i64> = on_tx!(&mut tx, c => sqlx::query_scalar(
        "SELECT id FROM route_places WHERE model_id = $1 ORDER BY ordinal, id").bind(model_id).fetch_all(c).await)?;
    let from = ids.iter().position(|i| *i == place_id).ok_or(StoreError::NotFound)?;
    let id = ids.remove(from);
    let to = usize::try_from(position.max(1) - 1).unwrap_or(0).min(ids.len());
    ids.insert(to, id);
    renumber(&mut tx, &ids).await?;
    tx.commit().await?;
    Ok(())
}

async fn renumber(tx: &mut Tx, ids: &[i64]) -> Result<()> {
    for (i, id) in ids.iter().enumerate() {
        on_tx!(tx, c => sqlx::query("UPDATE route_places SET ordinal = $1 WHERE id = $2")
            .bind(i as i32 + 1).bind(id).execute(c).await.map(|r| r.rows_affected()))?;
    }
    Ok(())
}

/// Removes a place from its route, with its photos and scan counts (its plaque then leads
/// nowhere).
pub async fn delete(db: &Db, model_id: i64, place_id: i64) -> Result<()> {
    let mut tx = db.begin().await?;
    lock_model(&mut tx, model_id).await?;
    let found: Option<i64> = on_tx!(&mut tx, c => sqlx::query_scalar(
        "SELECT id FROM route_places WHERE id = $1 AND model_id = $2").bind(place_id).bind(model_id).fetch_optional(c).await)?;
    found.ok_or(StoreError::NotFound)?;
    for table in ["route_place_photos", "route_place_scans"] {
        let sql = format!("DELETE FROM {table} WHERE place_id = $1");
        on_tx!(&mut tx, c => sqlx::query(sqlx::AssertSqlSafe(sql.clone())).bind(place_id).execute(c).await.map(|r| r.rows_affected()))?;
    }
    on_tx!(&mut tx, c => sqlx::query("DELETE FROM route_places WHERE id = $1").bind(place_id)
        .execute(c).await.map(|r| r.rows_affected()))?;
    let ids: Vec<i64> = on_tx!(&mut tx, c => sqlx::query_scalar(
        "SELECT id FROM route_places WHERE model_id = $1 ORDER BY ordinal, id").bind(model_id).fetch_all(c).await)?;
    renumber(&mut tx, &ids).await?;
    tx.commit().await?;
    Ok(())
}

/// The places (all of one model's route) with their photos, read in one query.
async fn with_photos(db: &Db, model_id: i64, mut places: Vec<RoutePlace>) -> Result<Vec<RoutePlace>> {
    let rows: Vec<(i64, i64, String, i32, i32)> = on_db!(db, c => sqlx::query_as(
        "SELECT f.place_id, f.id, f.caption, f.width, f.height FROM route_place_photos f \
         JOIN route_places p ON p.id = f.place_id WHERE p.model_id = $1 ORDER BY f.id")
        .bind(model_id).fetch_all(c).await)?;
    for (place_id, id, caption, width, height) in rows {
        if let Some(p) = places.iter_mut().find(|p| p.id == place_id) {
            p.photos.push(PhotoInfo { id, caption, width, height });
        }
    }
    Ok(places)
}

/// The places before and after a position on a model's route: (code, name) each.
pub async fn neighbours(
    db: &Db,
    model_id: i64,
    position: i32,
) -> Result<(Option<(String, String)>, Option<(String, String)>)> {
    let prev = on_db!(db, c => sqlx::query_as(
        "SELECT code, name FROM route_places WHERE model_id = $1 AND ordinal < $2 ORDER BY ordinal DESC LIMIT 1")
        .bind(model_id).bind(position).fetch_optional(c).await)?;
    let next = on_db!(db, c => sqlx::query_as(
        "SELECT code, name FROM route_places WHERE model_id = $1 AND ordinal > $2 ORDER BY ordinal LIMIT 1")
        .bind(model_id).bind(position).fetch_optional(c).await)?;
    Ok((prev, next))
}

/// A model's route: its places in order, with their photos and scan counts.
pub async fn of_model(db: &Db, model_id: i64) -> Result<Vec<RoutePlace>> {
    let rows = on_db!(db, p => sqlx::query_as::<_, RoutePlace>(sqlx::AssertSqlSafe(format!(
        "{PLACE_SELECT} WHERE p.model_id = $1 ORDER BY p.ordinal, p.id"))).bind(model_id).fetch_all(p).await)?;
    with_photos(db, model_id, rows).await
}

/// A place of a model's route.
pub async fn get(db: &Db, model_id: i64, place_id: i64) -> Result<RoutePlace> {
    let row = on_db!(db, p => sqlx::query_as::<_, RoutePlace>(sqlx::AssertSqlSafe(format!(
        "{PLACE_SELECT} WHERE p.id = $1 AND p.model_id = $2"))).bind(place_id).bind(model_id).fetch_optional(p).await)?
    .ok_or(StoreError::NotFound)?;
    Ok(with_photos(db, model_id, vec![row]).await?.remove(0))
}

/// A route as its public pages name it.
pub async fn route(db: &Db, model_id: i64) -> Result<PlaceRoute> {
    on_db!(db, p => sqlx::query_as::<_, PlaceRoute>(
        "SELECT m.id, m.name, m.description, k.code AS kind, k.name_vi AS kind_name_vi, k.name_en AS kind_name_en, m.status, \
         u.code AS unit_code, u.name AS unit_name, u.path AS unit_path \
         FROM models m JOIN model_kinds k ON k.id = m.kind_id JOIN units u ON u.id = m.unit_id WHERE m.id = $1")
        .bind(model_id).fetch_optional(p).await)?
    .ok_or(StoreError::NotFound)
}

/// A place by its short code, with its route.
pub async fn by_code(db: &Db, code: &str) -> Result<(RoutePlace, PlaceRoute)> {
    let place = on_db!(db, p => sqlx::query_as::<_, RoutePlace>(sqlx::AssertSqlSafe(format!(
        "{PLACE_SELECT} WHERE p.code = $1"))).bind(code).fetch_optional(p).await)?
    .ok_or(StoreError::NotFound)?;
    let model_id = place.model_id;
    let place = with_photos(db, model_id, vec![place]).await?.remove(0);
    let route = route(db, place.model_id).await?;
    Ok((place, route))
}

/// Counts a scan of a place's plaque on `day`.
pub async fn count_scan(db: &Db, place_id: i64, day: NaiveDate) -> Result<()> {
    record_scans(db, place_id, day, 1).await
}

/// Adds `n` scans of a place's plaque on `day` (a count carried over from elsewhere, the demo's).
pub async fn record_scans(db: &Db, place_id: i64, day: NaiveDate, n: i64) -> Result<()> {
    on_write!(db, p => sqlx::query(
        "INSERT INTO route_place_scans (place_id, day, scans) VALUES ($1, $2, $3) \
         ON CONFLICT (place_id, day) DO UPDATE SET scans = route_place_scans.scans + $3")
        .bind(place_id).bind(day).bind(n).execute(p).await.map(|r| r.rows_affected()))?;
    Ok(())
}

/// The plaques' scans of a subtree's routes between two days, both included.
pub async fn scans(db: &Db, within: &UnitPath, from: NaiveDate, to: NaiveDate) -> Result<i64> {
    Ok(on_db!(db, p => sqlx::query_scalar(
        "SELECT CAST(COALESCE(SUM(s.scans), 0) AS BIGINT) FROM route_place_scans s JOIN route_places rp ON rp.id = s.place_id \
         JOIN models m ON m.id = rp.model_id JOIN units u ON u.id = m.unit_id \
         WHERE u.path >= $1 AND u.path < $2 AND s.day >= $3 AND s.day <= $4")
        .bind(within.as_str()).bind(within.upper_bound()).bind(from).bind(to).fetch_one(p).await)?)
}

/// Adds a photo (already checked and stripped) to a place; refused past [`MAX_PHOTOS`].
pub async fn add_photo(db: &Db, model_id: i64, place_id: i64, caption: &str, photo: &Photo) -> Result<i64> {
    let mut tx = db.begin().await?;
    lock_model(&mut tx, model_id).await?;
    let found: Option<i64> = on_tx!(&mut tx, c => sqlx::query_scalar(
        "SELECT id FROM route_places WHERE id = $1 AND model_id = $2").bind(place_id).bind(model_id).fetch_optional(c).await)?;
    found.ok_or(StoreError::NotFound)?;
    let n: i64 = on_tx!(&mut tx, c => sqlx::query_scalar("SELECT COUNT(*) FROM route_place_photos WHERE place_id = $1")
        .bind(place_id).fetch_one(c).await)?;
    if n >= MAX_PHOTOS {
        return Err(Invalid::field("too-many-items", "photo").with_detail(MAX_PHOTOS.to_string()).into());
    }
    let id: i64 = on_tx!(&mut tx, c => sqlx::query_scalar(
        "INSERT INTO route_place_photos (place_id, caption, mime, width, height, bytes, added_at) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id")
        .bind(place_id).bind(caption).bind(photo.mime).bind(photo.width as i64).bind(photo.height as i64).bind(&photo.bytes).bind(now())
        .fetch_one(c).await)?;
    tx.commit().await?;
    Ok(id)
}

/// A published photo: its type and bytes.
#[derive(Debug, Clone)]
pub struct PublishedPhoto {
    pub mime: String,
    pub bytes: Vec<u8>,
}

/// A place's photo, published with its page (a shop front, a relic: no one's personal data).
pub async fn photo(db: &Db, code: &str, photo_id: i64) -> Result<PublishedPhoto> {
    let (mime, bytes): (String, Vec<u8>) = on_db!(db, p => sqlx::query_as(
        "SELECT f.mime, f.bytes FROM route_place_photos f JOIN route_places p ON p.id = f.place_id WHERE f.id = $1 AND p.code = $2")
        .bind(photo_id).bind(code).fetch_optional(p).await)?
    .ok_or(StoreError::NotFound)?;
    Ok(PublishedPhoto { mime, bytes })
}

/// Removes a place's photo.
pub async fn delete_photo(db: &Db, model_id: i64, place_id: i64, photo_id: i64) -> Result<()> {
    let n = on_write!(db, p => sqlx::query(
        "DELETE FROM route_place_photos WHERE id = $1 AND place_id IN (SELECT id FROM route_places WHERE id = $2 AND model_id = $3)")
        .bind(photo_id).bind(place_id).bind(model_id).execute(p).await.map(|r| r.rows_affected()))?;
    if n == 0 { Err(StoreError::NotFound) } else { Ok(()) }
}

/// The bytes of a place's photos in all.
pub async fn photo_sizes(db: &Db, place_id: i64) -> Result<i64> {
    Ok(on_db!(db, p => sqlx::query_scalar(
        "SELECT CAST(COALESCE(SUM(LENGTH(bytes)), 0) AS BIGINT) FROM route_place_photos WHERE place_id = $1")
        .bind(place_id).fetch_one(p).await)?)
}

/// A route as the public list of routes shows it.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct RouteItem {
    pub id: i64,
    pub name: String,
    pub kind_name_vi: String,
    pub kind_name_en: String,
    pub unit_name: String,
    pub places: i64,
}

/// The routes with places, of models not stopped, by unit and name.
pub async fn routes(db: &Db) -> Result<Vec<RouteItem>> {
    Ok(on_db!(db, p => sqlx::query_as::<_, RouteItem>(
        "SELECT m.id, m.name, k.name_vi AS kind_name_vi, k.name_en AS kind_name_en, u.name AS unit_name, \
         (SELECT COUNT(*) FROM route_places rp WHERE rp.model_id = m.id) AS places \
         FROM models m JOIN model_kinds k ON k.id = m.kind_id JOIN units u ON u.id = m.unit_id \
         WHERE m.status <> 'stopped' AND EXISTS (SELECT 1 FROM route_places rp WHERE rp.model_id = m.id) \
         ORDER BY u.path, m.name_key, m.id").fetch_all(p).await)?)
}
