//! Teams (tổ công nghệ số cộng đồng) and their members.

use chrono::NaiveDate;
use ngoso_core::auth::{Granted, TeamPlace, may};
use ngoso_core::text;
use ngoso_core::unit::UnitPath;
use serde::Serialize;

use crate::{Db, Result, StoreError, now, on_db, on_tx, on_write};

/// A team as listed, with its number of active members.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct Team {
    pub id: i64,
    pub unit_id: i64,
    pub unit_name: String,
    /// The name of the unit above the team's (a hamlet's commune): hamlets' names repeat from
    /// one commune to the next ("Ấp 1"), so a list of a province's teams shows both.
    pub parent_name: Option<String>,
    pub unit_code: String,
    pub unit_path: String,
    pub name: String,
    pub active_members: i64,
    pub created_at: i64,
}

impl Team {
    pub fn path(&self) -> UnitPath {
        UnitPath::from_stored(self.unit_path.clone())
    }
}

/// A member of a team.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct Member {
    pub id: i64,
    pub team_id: i64,
    pub full_name: String,
    pub role: String,
    pub affiliation: String,
    pub phone: Option<String>,
    pub joined_on: NaiveDate,
    pub left_on: Option<NaiveDate>,
    pub user_id: Option<i64>,
    pub username: Option<String>,
}

impl Member {
    /// Whether the member is in the team on `day`.
    pub fn active_on(&self, day: NaiveDate) -> bool {
        self.joined_on <= day && self.left_on.is_none_or(|l| l > day)
    }
}

/// A member to add.
pub struct NewMember<'a> {
    pub full_name: &'a str,
    pub role: &'a str,
    pub affiliation: &'a str,
    pub phone: Option<&'a str>,
    pub joined_on: NaiveDate,
    pub user_id: Option<i64>,
}

const TEAM_SELECT: &str = "SELECT t.id, t.unit_id, u.name AS unit_name, pu.name AS parent_name, u.code AS unit_code, \
     u.path AS unit_path, t.name, \
     (SELECT COUNT(*) FROM team_members m WHERE m.team_id = t.id AND m.joined_on <= $1 AND (m.left_on IS NULL OR m.left_on > $1)) AS active_members, \
     t.created_at FROM teams t JOIN units u ON u.id = t.unit_id LEFT JOIN units pu ON pu.id = u.parent_id";

/// Today in Vietnam.
pub fn today() -> NaiveDate {
    chrono::Utc::now().with_timezone(&ngoso_core::calendar::tz()).date_naive()
}

pub async fn create(db: &Db, unit_id: i64, name: &str) -> Result<i64> {
    let t = now();
    let sql = "INSERT INTO teams (unit_id, name, name_key, name_sort, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $5) RETURNING id";
    Ok(on_write!(db, p => sqlx::query_scalar(sql)
        .bind(unit_id).bind(name).bind(text::fold(name)).bind(text::sort_key(name)).bind(t).fetch_one(p).await)?)
}

pub async fn rename(db: &Db, id: i64, name: &str) -> Result<()> {
    let sql = "UPDATE teams SET name = $1, name_key = $2, name_sort = $3, updated_at = $4 WHERE id = $5";
    let n = on_write!(db, p => sqlx::query(sql).bind(name).bind(text::fold(name)).bind(text::sort_key(name)).bind(now()).bind(id)
        .execute(p).await.map(|r| r.rows_affected()))?;
    if n == 0 { Err(StoreError::NotFound) } else { Ok(()) }
}

pub async fn get(db: &Db, id: i64) -> Result<Team> {
    let sql = format!("{TEAM_SELECT} WHERE t.id = $2");
    on_db!(db, p => sqlx::query_as::<_, Team>(sqlx::AssertSqlSafe(sql)).bind(today()).bind(id).fetch_optional(p).await)?
        .ok_or(StoreError::NotFound)
}

/// Teams attached to units inside `within` (all teams when `None`), by unit then name.
pub async fn list(db: &Db, within: Option<&UnitPath>) -> Result<Vec<Team>> {
    let (lo, hi) = match within {
        Some(p) => (p.as_str().to_owned(), p.upper_bound()),
        None => ("/".to_owned(), "0".to_owned()),
    };
    let sql = format!("{TEAM_SELECT} WHERE u.path >= $2 AND u.path < $3 ORDER BY u.name_sort, t.name_sort, t.id");
    Ok(
        on_db!(db, p => sqlx::query_as::<_, Team>(sqlx::AssertSqlSafe(sql)).bind(today()).bind(lo).bind(hi).fetch_all(p).await)?,
    )
}

/// Teams of a subtree whose active members are fewer than `min` or more than `max`, in the
/// order of [`list`]: the teams needing attention, counted in one pass.
pub async fn outside_bounds(db: &Db, within: &UnitPath, min: i64, max: i64) -> Result<Vec<Team>> {
    // Members counted once per team first, then joined: a third of the time of counting
    // them team by team in the join (measured on SQLite with 1,241 teams).
    let sql = "SELECT t.id, t.unit_id, u.name AS unit_name, pu.name AS parent_name, u.code AS unit_code, \
               u.path AS unit_path, t.name, COALESCE(c.n, 0) AS active_members, t.created_at \
               FROM teams t JOIN units u ON u.id = t.unit_id LEFT JOIN units pu ON pu.id = u.parent_id \
               LEFT JOIN (SELECT team_id, COUNT(*) AS n FROM team_members \
                 WHERE joined_on <= $1 AND (left_on IS NULL OR left_on > $1) GROUP BY team_id) c ON c.team_id = t.id \
               WHERE u.path >= $2 AND u.path < $3 AND (COALESCE(c.n, 0) < $4 OR COALESCE(c.n, 0) > $5) \
               ORDER BY u.name_sort, t.name_sort, t.id";
    Ok(on_db!(db, p => sqlx::query_as::<_, Team>(sql).bind(today()).bind(within.as_str()).bind(within.upper_bound())
        .bind(min).bind(max).fetch_all(p).await)?)
}

/// Teams attached exactly to one unit.
pub async fn of_unit(db: &Db, unit_id: i64) -> Result<Vec<Team>> {
    let sql = format!("{TEAM_SELECT} WHERE t.unit_id = $2 ORDER BY t.name_sort, t.id");
    Ok(
        on_db!(db, p => sqlx::query_as::<_, Team>(sqlx::AssertSqlSafe(sql)).bind(today()).bind(unit_id).fetch_all(p).await)?,
    )
}

/// The teams in which a user account is an active member.
pub async fn of_user(db: &Db, user_id: i64) -> Result<Vec<Team>> {
    let sql = format!(
        "{TEAM_SELECT} WHERE t.id IN (SELECT m.team_id FROM team_members m WHERE m.user_id = $2 \
         AND m.joined_on <= $1 AND (m.left_on IS NULL OR m.left_on > $1)) ORDER BY t.name_sort, t.id"
    );
    Ok(
        on_db!(db, p => sqlx::query_as::<_, Team>(sqlx::AssertSqlSafe(sql)).bind(today()).bind(user_id).fetch_all(p).await)?,
    )
}

/// The caller's own member rows in their active teams: (team, member id). Their own, so
/// nothing of anyone else's.
pub async fn own_memberships(db: &Db, user_id: i64) -> Result<Vec<(i64, i64)>> {
    Ok(on_db!(db, p => sqlx::query_as(
        "SELECT team_id, id FROM team_members WHERE user_id = $2 AND joined_on <= $1 AND (left_on IS NULL OR left_on > $1) \
         ORDER BY team_id, id")
        .bind(today()).bind(user_id).fetch_all(p).await)?)
}

const MEMBER_SELECT: &str = "SELECT m.id, m.team_id, m.full_name, m.role, m.affiliation, m.phone, m.joined_on, m.left_on, \
     m.user_id, us.username FROM team_members m LEFT JOIN users us ON us.id = m.user_id";

/// A team's members, leaders first, then by given name: names and phones of people, so only
/// with core's proof (the viewer and agency staff see a team's size, not who is in it);
/// logged as `team.members.read`.
pub async fn members(db: &Db, access: &Granted<may::ViewPersonalData, TeamPlace>) -> Result<Vec<Member>> {
    let team_id = access.on().id;
    let rows = members_of(db, team_id).await?;
    crate::audit::read(db, access.user_id(), "team.members.read", "team", team_id, &format!("{} rows", rows.len()))
        .await?;
    Ok(rows)
}

/// What the access checks see of a team: its id and its unit's place. No personal data.
pub async fn place(db: &Db, id: i64) -> Result<TeamPlace> {
    let t = get(db, id).await?;
    Ok(TeamPlace { id, path: t.path() })
}

/// A membership, without the member's name or phone: which team, since when, until when.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Membership {
    pub id: i64,
    pub team_id: i64,
    pub joined_on: NaiveDate,
    pub left_on: Option<NaiveDate>,
}

/// A membership by id.
pub async fn membership(db: &Db, id: i64) -> Result<Membership> {
    let row: Option<(i64, NaiveDate, Option<NaiveDate>)> = on_db!(db, p => sqlx::query_as(
        "SELECT team_id, joined_on, left_on FROM team_members WHERE id = $1").bind(id).fetch_optional(p).await)?;
    let (team_id, joined_on, left_on) = row.ok_or(StoreError::NotFound)?;
    Ok(Membership { id, team_id, joined_on, left_on })
}

/// A team's members, unlogged (see [`members`]).
pub(crate) async fn members_of(db: &Db, team_id: i64) -> Result<Vec<Member>> {
    let sql = format!(
        "{MEMBER_SELECT} WHERE m.team_id = $1 ORDER BY CASE m.role WHEN 'leader' THEN 0 WHEN 'deputy' THEN 1 ELSE 2 END, m.name_sort, m.id"
    );
    Ok(on_db!(db, p => sqlx::query_as::<_, Member>(sqlx::AssertSqlSafe(sql)).bind(team_id).fetch_all(p).await)?)
}

#[cfg(feature = "testing")]
pub(crate) async fn member(db: &Db, id: i64) -> Result<Member> {
    let sql = format!("{MEMBER_SELECT} WHERE m.id = $1");
    on_db!(db, p => sqlx::query_as::<_, Member>(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(p).await)?
        .ok_or(StoreError::NotFound)
}

pub async fn add_member(db: &Db, team_id: i64, m: &NewMember<'_>) -> Result<i64> {
    let t = now();
    let sql = "INSERT INTO team_members (team_id, full_name, name_sort, role, affiliation, phone, joined_on, user_id, created_at, updated_at) \
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9) RETURNING id";
    Ok(on_write!(db, p => sqlx::query_scalar(sql)
        .bind(team_id).bind(m.full_name).bind(text::sort_key(&given_name_first(m.full_name))).bind(m.role).bind(m.affiliation)
        .bind(m.phone).bind(m.joined_on).bind(m.user_id).bind(t).fetch_one(p).await)?)
}

/// Rewrites a member's fields: name, role, affiliation, phone, the days they joined and
/// left (`None`: still in the team) and their account.
pub async fn update_member(db: &Db, member_id: i64, m: &NewMember<'_>, left_on: Option<NaiveDate>) -> Result<()> {
    let sql = "UPDATE team_members SET full_name = $1, name_sort = $2, role = $3, affiliation = $4, phone = $5, \
               joined_on = $6, left_on = $7, user_id = $8, updated_at = $9 WHERE id = $10";
    let n = on_write!(db, p => sqlx::query(sql)
        .bind(m.full_name).bind(text::sort_key(&given_name_first(m.full_name))).bind(m.role).bind(m.affiliation)
        .bind(m.phone).bind(m.joined_on).bind(left_on).bind(m.user_id).bind(now()).bind(member_id)
        .execute(p).await.map(|r| r.rows_affected()))?;
    if n == 0 { Err(StoreError::NotFound) } else { Ok(()) }
}

/// Records that a member left the team on a day.
pub async fn member_left(db: &Db, member_id: i64, day: NaiveDate) -> Result<()> {
    let n = on_write!(db, p => sqlx::query("UPDATE team_members SET left_on = $1, updated_at = $2 WHERE id = $3")
        .bind(day).bind(now()).bind(member_id).execute(p).await.map(|r| r.rows_affected()))?;
    if n == 0 { Err(StoreError::NotFound) } else { Ok(()) }
}

/// A member of a file of teams, checked: the unit and team they belong to, and their fields.
#[derive(Debug, Clone)]
pub struct MemberImport {
    pub line: u64,
    pub unit_id: i64,
    pub team_name: String,
    pub full_name: String,
    pub role: &'static str,
    pub affiliation: &'static str,
    pub phone: Option<String>,
    pub joined_on: NaiveDate,
    pub user_id: Option<i64>,
}

/// Reads and checks a file of teams' members — `unit_code`, `team`, `full_name`, `role`,
/// `affiliation`, and `phone`, `joined_on` (`YYYY-MM-DD`, today when empty), `username`
/// where known — against the units and accounts inside `within` (the whole tree when
/// `None`). The first bad line refuses the file ([`StoreError::AtRow`]).
pub async fn read_members_csv(db: &Db, text: &str, within: Option<&UnitPath>) -> Result<Vec<MemberImport>> {
    use crate::csvrows::get;
    let rows = crate::csvrows::read(text, &["unit_code", "team", "full_name", "role", "affiliation"])?;
    let mut units: std::collections::HashMap<String, i64> = std::collections::HashMap::new();
    let accounts = crate::users::list(db, within).await?;
    let mut out = Vec::with_capacity(rows.len());
    for row in &rows {
        let at = |invalid: ngoso_core::Invalid| StoreError::AtRow { row: row.0, section: None, invalid };
        let code = get(row, "unitcode").trim().to_owned();
        let unit_id = match units.get(&code) {
            Some(id) => *id,
            None => {
                let unknown = || at(ngoso_core::Invalid::field("unit-unknown", "unit_code").with_detail(&code));
                let u = crate::units::by_code(db, &code).await.map_err(|_| unknown())?;
                if within.is_some_and(|w| !w.contains(&u.unit_path())) {
                    return Err(unknown());
                }
                units.insert(code.clone(), u.id);
                u.id
            }
        };
        let team_name = text::parse_line(&get(row, "team"), "name", 120)
            .map_err(at)?
            .ok_or_else(|| at(ngoso_core::Invalid::field("required", "name")))?;
        let full_name = text::parse_line(&get(row, "fullname"), "full_name", 120)
            .map_err(at)?
            .ok_or_else(|| at(ngoso_core::Invalid::field("required", "full_name")))?;
        let role = ngoso_core::outreach::MemberRole::parse(&get(row, "role")).map_err(at)?.as_str();
        let affiliation = ngoso_core::outreach::parse_affiliation(&get(row, "affiliation")).map_err(at)?;
        let phone = match get(row, "phone").trim() {
            "" => None,
            p => Some(ngoso_core::person::PhoneNumber::parse(p).map_err(at)?.as_str().to_owned()),
        };
        let joined_on = match get(row, "joinedon").trim() {
            "" => today(),
            d => NaiveDate::parse_from_str(d, "%Y-%m-%d")
                .map_err(|_| at(ngoso_core::Invalid::field("date-invalid", "joined_on").with_detail(d)))?,
        };
        let user_id = match get(row, "username").trim() {
            "" => None,
            u => Some(
                accounts
                    .iter()
                    .find(|a| a.username == u.to_lowercase())
                    .ok_or_else(|| at(ngoso_core::Invalid::field("user-unknown", "username").with_detail(u)))?
                    .id,
            ),
        };
        out.push(MemberImport {
            line: row.0,
            unit_id,
            team_name,
            full_name,
            role,
            affiliation,
            phone,
            joined_on,
            user_id,
        });
    }
    Ok(out)
}

/// What a file of teams did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TeamsImported {
    pub teams_added: usize,
    pub members_added: usize,
}

/// Writes checked members in one transaction: each team is found by its unit and name, or
/// made; each member added to it.
pub async fn import_members(db: &Db, rows: &[MemberImport]) -> Result<TeamsImported> {
    let mut tx = db.begin().await?;
    let t = now();
    let mut teams: std::collections::HashMap<(i64, String), i64> = std::collections::HashMap::new();
    let mut done = TeamsImported::default();
    for r in rows {
        let key = (r.unit_id, r.team_name.clone());
        let team = match teams.get(&key) {
            Some(id) => *id,
            None => {
                // The same team however its name's accents or spaces were typed.
                let found: Option<i64> = on_tx!(&mut tx, c => sqlx::query_scalar(
                    "SELECT id FROM teams WHERE unit_id = $1 AND name_key = $2 ORDER BY id LIMIT 1")
                    .bind(r.unit_id).bind(text::fold(&r.team_name)).fetch_optional(c).await)?;
                let id = match found {
                    Some(id) => id,
                    None => {
                        done.teams_added += 1;
                        on_tx!(&mut tx, c => sqlx::query_scalar(
                            "INSERT INTO teams (unit_id, name, name_key, name_sort, created_at, updated_at) \
                             VALUES ($1, $2, $3, $4, $5, $5) RETURNING id")
                            .bind(r.unit_id).bind(&r.team_name).bind(text::fold(&r.team_name)).bind(text::sort_key(&r.team_name))
                            .bind(t).fetch_one(c).await)?
                    }
                };
                teams.insert(key, id);
                id
            }
        };
        on_tx!(&mut tx, c => sqlx::query(
            "INSERT INTO team_members (team_id, full_name, name_sort, role, affiliation, phone, joined_on, user_id, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9)")
            .bind(team).bind(&r.full_name).bind(text::sort_key(&given_name_first(&r.full_name))).bind(r.role).bind(r.affiliation)
            .bind(&r.phone).bind(r.joined_on).bind(r.user_id).bind(t).execute(c).await.map(|r| r.rows_affected()))?;
        done.members_added += 1;
    }
    tx.commit().await?;
    Ok(done)
}

/// Vietnamese names sort by the given name (the last word), then the rest.
pub fn given_name_first(full_name: &str) -> String {
    let words: Vec<&str> = full_name.split_whitespace().collect();
    match words.split_last() {
        Some((given, rest)) if !rest.is_empty() => format!("{given} {}", rest.join(" ")),
        _ => full_name.trim().to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn given_name_first_order() {
        assert_eq!(given_name_first("Nguyễn Văn An"), "An Nguyễn Văn");
        assert_eq!(given_name_first("Bình"), "Bình");
        let mut names = vec!["Trần Thị Bích", "Nguyễn Văn An", "Lê Đức"];
        names.sort_by_key(|n| text::sort_key(&given_name_first(n)));
        assert_eq!(names, vec!["Nguyễn Văn An", "Trần Thị Bích", "Lê Đức"]);
    }
}
