//! Evaluations of creative models against a set of criteria (data), the ranking they give a
//! unit's models for a year, and awards to a model, a team or a team member.

use chrono::NaiveDate;
use ngoso_core::Invalid;
use ngoso_core::auth::{Area, Granted, may};
use ngoso_core::programme::{AwardLevel, ModelStatus, parse_score};
use ngoso_core::unit::UnitPath;
use serde::Serialize;

use crate::{Db, Result, StoreError, now, on_db, on_tx};

/// A criterion of a set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Criterion {
    pub id: i64,
    #[serde(skip)]
    pub set_id: i64,
    pub code: String,
    pub name_vi: String,
    pub name_en: String,
    pub max_score: i32,
}

/// A set of criteria (data).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CriteriaSet {
    pub id: i64,
    pub code: String,
    pub name_vi: String,
    pub name_en: String,
    #[sqlx(skip)]
    pub criteria: Vec<Criterion>,
}

/// The sets of criteria with their criteria, in order.
pub async fn criteria_sets(db: &Db) -> Result<Vec<CriteriaSet>> {
    let mut sets = on_db!(db, p => sqlx::query_as::<_, CriteriaSet>(
        "SELECT id, code, name_vi, name_en FROM criteria_sets ORDER BY id").fetch_all(p).await)?;
    let all = on_db!(db, p => sqlx::query_as::<_, Criterion>(
        "SELECT id, set_id, code, name_vi, name_en, max_score FROM criteria ORDER BY set_id, position, id").fetch_all(p).await)?;
    for s in &mut sets {
        s.criteria = all.iter().filter(|c| c.set_id == s.id).cloned().collect();
    }
    Ok(sets)
}

/// An evaluation to record: a score (as typed) for every criterion of the set.
#[derive(Debug, Clone)]
pub struct NewEvaluation {
    pub model_id: i64,
    /// The set's code.
    pub set: String,
    pub reviewer_id: Option<i64>,
    pub reviewer: String,
    pub evaluated_on: NaiveDate,
    pub comment: String,
    /// (criterion code, score as typed).
    pub scores: Vec<(String, String)>,
}

/// Records an evaluation of a running (or already evaluated) model, every criterion of the
/// set scored from 0 to its maximum, all or none; a running model becomes evaluated.
pub async fn evaluate(db: &Db, n: &NewEvaluation) -> Result<i64> {
    let sets = criteria_sets(db).await?;
    let set = sets.iter().find(|s| s.code == n.set.trim()).ok_or_else(|| {
        Invalid::field("criteria-set-unknown", "set").with_detail(n.set.trim().chars().take(40).collect::<String>())
    })?;
    for (code, _) in &n.scores {
        if !set.criteria.iter().any(|c| c.code == code.trim()) {
            return Err(Invalid::field("evaluation-criterion-unknown", "scores").with_detail(code.trim()).into());
        }
    }
    let mut scores = Vec::with_capacity(set.criteria.len());
    for c in &set.criteria {
        let typed = n
            .scores
            .iter()
            .find(|(code, _)| code.trim() == c.code)
            .map(|(_, v)| v.as_str())
            .filter(|v| !v.trim().is_empty())
            .ok_or_else(|| Invalid::field("evaluation-score-missing", "scores").with_detail(c.code.clone()))?;
        scores.push((c.id, parse_score(&c.code, typed, c.max_score)?));
    }
    let total: i32 = scores.iter().map(|s| s.1).sum();
    let max_total: i32 = set.criteria.iter().map(|c| c.max_score).sum();
    let mut tx = db.begin().await?;
    let sql = crate::db::dialect::locking_read!(&tx, "SELECT status FROM models WHERE id = $1");
    let status: Option<String> =
        on_tx!(&mut tx, c => sqlx::query_scalar(sql).bind(n.model_id).fetch_optional(c).await)?;
    let status = ModelStatus::parse(&status.ok_or(StoreError::NotFound)?)?;
    if !matches!(status, ModelStatus::Running | ModelStatus::Evaluated) {
        return Err(Invalid::field("model-not-running", "status").with_detail(status.as_str()).into());
    }
    let t = now();
    let id: i64 = on_tx!(&mut tx, c => sqlx::query_scalar(
        "INSERT INTO evaluations (model_id, set_id, reviewer_id, reviewer, evaluated_on, comment, total, max_total, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id")
        .bind(n.model_id).bind(set.id).bind(n.reviewer_id).bind(&n.reviewer).bind(n.evaluated_on).bind(&n.comment)
        .bind(total).bind(max_total).bind(t).fetch_one(c).await)?;
    for (criterion, score) in scores {
        on_tx!(&mut tx, c => sqlx::query("INSERT INTO evaluation_scores (evaluation_id, criterion_id, score) VALUES ($1, $2, $3)")
            .bind(id).bind(criterion).bind(score).execute(c).await.map(|r| r.rows_affected()))?;
    }
    if status == ModelStatus::Running {
        on_tx!(&mut tx, c => sqlx::query("UPDATE models SET status = 'evaluated', updated_at = $1 WHERE id = $2")
            .bind(t).bind(n.model_id).execute(c).await.map(|r| r.rows_affected()))?;
    }
    tx.commit().await?;
    Ok(id)
}

/// A criterion's score in an evaluation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Score {
    #[serde(skip)]
    pub evaluation_id: i64,
    pub criterion: String,
    pub name_vi: String,
    pub name_en: String,
    pub score: i32,
    pub max_score: i32,
}

/// An evaluation with its scores.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Evaluation {
    pub id: i64,
    pub model_id: i64,
    /// The criteria set's code.
    pub criteria_set: String,
    pub reviewer: String,
    pub evaluated_on: NaiveDate,
    pub comment: String,
    pub total: i32,
    pub max_total: i32,
    #[sqlx(skip)]
    pub scores: Vec<Score>,
}

/// A model's evaluations, newest first.
pub async fn evaluations(db: &Db, model_id: i64) -> Result<Vec<Evaluation>> {
    let mut list = on_db!(db, p => sqlx::query_as::<_, Evaluation>(
        "SELECT e.id, e.model_id, s.code AS criteria_set, e.reviewer, e.evaluated_on, e.comment, e.total, e.max_total \
         FROM evaluations e JOIN criteria_sets s ON s.id = e.set_id WHERE e.model_id = $1 ORDER BY e.evaluated_on DESC, e.id DESC")
        .bind(model_id).fetch_all(p).await)?;
    let scores = on_db!(db, p => sqlx::query_as::<_, Score>(
        "SELECT x.evaluation_id, c.code AS criterion, c.name_vi, c.name_en, x.score, c.max_score FROM evaluation_scores x \
         JOIN criteria c ON c.id = x.criterion_id JOIN evaluations e ON e.id = x.evaluation_id \
         WHERE e.model_id = $1 ORDER BY x.evaluation_id, c.position, c.id")
        .bind(model_id).fetch_all(p).await)?;
    for e in &mut list {
        e.scores = scores.iter().filter(|s| s.evaluation_id == e.id).cloned().collect();
    }
    Ok(list)
}

/// A model's place in the ranking.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Ranked {
    pub model_id: i64,
    pub name: String,
    pub unit_code: String,
    pub unit_name: String,
    pub kind_name_vi: String,
    pub kind_name_en: String,
    /// Evaluations dated in the year.
    pub evaluations: i64,
    /// Their mean, as a share of the full score, in per cent (one decimal).
    pub score: f64,
}

/// The models of a subtree evaluated in a year, best first: each by the mean of its
/// evaluations of the year, as a share of the full score (ties by name).
pub async fn ranking(db: &Db, within: &UnitPath, year: i32) -> Result<Vec<Ranked>> {
    let (a, b) = (NaiveDate::from_ymd_opt(year, 1, 1), NaiveDate::from_ymd_opt(year, 12, 31));
    /// (model, name, unit code, unit name, kind vi, kind en, evaluations, total, full score).
    type Row = (i64, String, String, String, String, String, i64, i64, i64);
    let rows: Vec<Row> = on_db!(db, p => sqlx::query_as(
        "SELECT m.id, m.name, u.code, u.name, k.name_vi, k.name_en, COUNT(*), CAST(SUM(e.total) AS BIGINT), CAST(SUM(e.max_total) AS BIGINT) \
         FROM evaluations e JOIN models m ON m.id = e.model_id JOIN units u ON u.id = m.unit_id JOIN model_kinds k ON k.id = m.kind_id \
         WHERE u.path >= $1 AND u.path < $2 AND e.evaluated_on >= $3 AND e.evaluated_on <= $4 \
         GROUP BY m.id, m.name, u.code, u.name, k.name_vi, k.name_en")
        .bind(within.as_str()).bind(within.upper_bound()).bind(a).bind(b).fetch_all(p).await)?;
    let mut out: Vec<Ranked> = rows
        .into_iter()
        .map(|(model_id, name, unit_code, unit_name, kind_name_vi, kind_name_en, n, total, max)| Ranked {
            model_id,
            name,
            unit_code,
            unit_name,
            kind_name_vi,
            kind_name_en,
            evaluations: n,
            score: if max > 0 { (total as f64 * 1000.0 / max as f64).round() / 10.0 } else { 0.0 },
        })
        .collect();
    out.sort_by(|x, y| y.score.total_cmp(&x.score).then_with(|| ngoso_core::text::compare(&x.name, &y.name)));
    Ok(out)
}

/// Who an award goes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recipient {
    Model(i64),
    Team(i64),
    Member(i64),
}

/// An award to give.
#[derive(Debug, Clone)]
pub struct NewAward {
    pub title: String,
    pub level: AwardLevel,
    pub awarded_on: NaiveDate,
    pub to: Recipient,
    pub created_by: Option<i64>,
}

/// The unit and path of a recipient (an award is counted, and managed, in it).
pub async fn recipient_unit(db: &Db, to: Recipient) -> Result<(i64, UnitPath)> {
    let (sql, id, field) = match to {
        Recipient::Model(id) => {
            ("SELECT u.id, u.path FROM models x JOIN units u ON u.id = x.unit_id WHERE x.id = $1", id, "model_id")
        }
        Recipient::Team(id) => {
            ("SELECT u.id, u.path FROM teams x JOIN units u ON u.id = x.unit_id WHERE x.id = $1", id, "team_id")
        }
        Recipient::Member(id) => (
            "SELECT u.id, u.path FROM team_members x JOIN teams t ON t.id = x.team_id JOIN units u ON u.id = t.unit_id WHERE x.id = $1",
            id,
            "member_id",
        ),
    };
    let row: Option<(i64, String)> = on_db!(db, p => sqlx::query_as(sql).bind(id).fetch_optional(p).await)?;
    let (unit, path) =
        row.ok_or_else(|| Invalid::field("award-recipient-unknown", field).with_detail(id.to_string()))?;
    Ok((unit, UnitPath::from_stored(path)))
}

/// Gives an award; its unit is its recipient's.
pub async fn give(db: &Db, n: &NewAward) -> Result<i64> {
    let (unit, _) = recipient_unit(db, n.to).await?;
    let (model, team, member) = match n.to {
        Recipient::Model(id) => (Some(id), None, None),
        Recipient::Team(id) => (None, Some(id), None),
        Recipient::Member(id) => (None, None, Some(id)),
    };
    let mut tx = db.begin().await?;
    let id: i64 = on_tx!(&mut tx, c => sqlx::query_scalar(
        "INSERT INTO awards (title, level, awarded_on, unit_id, model_id, team_id, member_id, created_by, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id")
        .bind(&n.title).bind(n.level.as_str()).bind(n.awarded_on).bind(unit).bind(model).bind(team).bind(member)
        .bind(n.created_by).bind(now()).fetch_one(c).await)?;
    tx.commit().await?;
    Ok(id)
}

/// An award as a list or a certificate shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Award {
    pub id: i64,
    pub title: String,
    /// commune, district, province or national.
    pub level: String,
    pub awarded_on: NaiveDate,
    pub unit_id: i64,
    pub unit_name: String,
    #[serde(skip)]
    pub unit_path: String,
    pub model_id: Option<i64>,
    pub team_id: Option<i64>,
    pub member_id: Option<i64>,
    /// The model's or the team's name; a member's only to those who may see people.
    pub recipient: Option<String>,
}

const AWARD_SELECT: &str = "SELECT a.id, a.title, a.level, a.awarded_on, a.unit_id, u.name AS unit_name, u.path AS unit_path, \
     a.model_id, a.team_id, a.member_id, COALESCE(m.name, t.name) AS recipient \
     FROM awards a JOIN units u ON u.id = a.unit_id LEFT JOIN models m ON m.id = a.model_id LEFT JOIN teams t ON t.id = a.team_id";

/// The awards of a subtree in a year (all years: `None`), newest first. Members' names are
/// not read here.
pub async fn awards(db: &Db, within: &UnitPath, year: Option<i32>, model: Option<i64>) -> Result<Vec<Award>> {
    let (a, b) = match year {
        Some(y) => (NaiveDate::from_ymd_opt(y, 1, 1), NaiveDate::from_ymd_opt(y, 12, 31)),
        None => (NaiveDate::from_ymd_opt(1900, 1, 1), NaiveDate::from_ymd_opt(2999, 12, 31)),
    };
    Ok(on_db!(db, p => sqlx::query_as::<_, Award>(sqlx::AssertSqlSafe(format!(
        "{AWARD_SELECT} WHERE u.path >= $1 AND u.path < $2 AND a.awarded_on >= $3 AND a.awarded_on <= $4 \
         AND ($5 = 0 OR a.model_id = $5) ORDER BY a.awarded_on DESC, a.id DESC")))
        .bind(within.as_str()).bind(within.upper_bound()).bind(a).bind(b).bind(model.unwrap_or(0)).fetch_all(p).await)?)
}

/// One award, for its certificate; a member's name with core's proof of access to people
/// there (logged as `award.member.read`), else none.
pub async fn award(db: &Db, id: i64, people: Option<&Granted<may::ViewPersonalData, Area>>) -> Result<Award> {
    let mut a =
        on_db!(db, p => sqlx::query_as::<_, Award>(sqlx::AssertSqlSafe(format!("{AWARD_SELECT} WHERE a.id = $1")))
        .bind(id).fetch_optional(p).await)?
        .ok_or(StoreError::NotFound)?;
    if let (Some(member), Some(g)) = (a.member_id, people) {
        let name: Option<String> = on_db!(db, p => sqlx::query_scalar("SELECT full_name FROM team_members WHERE id = $1")
            .bind(member).fetch_optional(p).await)?;
        crate::audit::read(db, g.user_id(), "award.member.read", "award", id, &member.to_string()).await?;
        a.recipient = name;
    }
    Ok(a)
}
