//! Indicators and targets, and the measure of an indicator for a unit and period, read from
//! the roll-ups (data values, door-to-door figures, statuses) and the feedback counters.

use std::collections::HashMap;

use ngoso_core::Invalid;
use ngoso_core::indicator::{Expr, Indicator, IndicatorKind, Measured, Part, Section, Term};
use ngoso_core::period::{Period, PeriodKind};
use ngoso_core::unit::UnitPath;
use sqlx::QueryBuilder;

use crate::{Db, Result, StoreError, now, on_db, on_tx};

#[derive(sqlx::FromRow)]
struct Row {
    id: i64,
    code: String,
    name_vi: String,
    name_en: String,
    kind: String,
    numerator: String,
    denominator: Option<String>,
    section: String,
    active: bool,
}

impl Row {
    fn into_indicator(self) -> Result<Indicator> {
        Ok(Indicator {
            id: self.id,
            code: self.code,
            name_vi: self.name_vi,
            name_en: self.name_en,
            kind: IndicatorKind::parse(&self.kind)?,
            numerator: Expr::parse(&self.numerator, "numerator")?,
            denominator: self.denominator.as_deref().map(|d| Expr::parse(d, "denominator")).transpose()?,
            section: Section::parse(&self.section)?,
            active: self.active,
        })
    }
}

/// Every indicator, in order.
pub async fn list(db: &Db) -> Result<Vec<Indicator>> {
    let rows: Vec<Row> = on_db!(db, p => sqlx::query_as(
        "SELECT id, code, name_vi, name_en, kind, numerator, denominator, section, active FROM indicators ORDER BY position, id")
        .fetch_all(p).await)?;
    rows.into_iter().map(Row::into_indicator).collect()
}

/// A new indicator, as typed.
#[derive(Debug, Clone, Default)]
pub struct NewIndicator {
    pub code: String,
    pub name_vi: String,
    pub name_en: String,
    pub kind: String,
    pub numerator: String,
    pub denominator: Option<String>,
    /// `outreach` (when empty), `identity`, `cashless` or `feedback`.
    pub section: String,
}

/// Checks that every term names something that exists.
async fn check_terms(db: &Db, expr: &Expr, field: &'static str) -> Result<()> {
    let elements = crate::values::elements(db).await?;
    let catalog = crate::catalog::load(db).await?;
    let groups = crate::households::groups(db).await?;
    let part_known = |p: &Part| match p {
        Part::Group(code) => groups.iter().any(|g| &g.code == code),
        Part::Sex(_) | Part::Age(..) => true,
    };
    for t in &expr.0 {
        let known = match t {
            Term::Value(code) => elements.iter().any(|e| &e.code == code),
            Term::Reached(service, status) => {
                catalog.service_by_code(service).is_some_and(|s| catalog.status(s, status).is_some())
            }
            Term::ReachedBy(service, status, part) => {
                part_known(part)
                    && catalog
                        .service_by_code(service)
                        .is_some_and(|s| s.subject == "person" && catalog.status(s, status).is_some())
            }
            Term::ResidentsBy(part) => part_known(part),
            Term::Figure(_) | Term::Feedback(_) | Term::Places(_) | Term::Online(_) | Term::Programme(_) => true,
        };
        if !known {
            return Err(Invalid::field("indicator-term-unknown", field).with_detail(t.to_string()).into());
        }
    }
    Ok(())
}

/// Adds an indicator at the end of the list; returns its id.
pub async fn create(db: &Db, n: &NewIndicator) -> Result<i64> {
    let code = ngoso_core::values::parse_code(&n.code)?;
    let name_vi = crate::catalog::parse_name(&n.name_vi, "name_vi")?;
    let name_en = crate::catalog::parse_name(&n.name_en, "name_en")?;
    let kind = IndicatorKind::parse(&n.kind)?;
    let section = Section::parse(&n.section)?;
    let numerator = Expr::parse(&n.numerator, "numerator")?;
    let denominator = match n.denominator.as_deref().map(str::trim).filter(|d| !d.is_empty()) {
        Some(d) => Some(Expr::parse(d, "denominator")?),
        None => None,
    };
    Indicator::check_shape(kind, denominator.as_ref())?;
    check_terms(db, &numerator, "numerator").await?;
    if let Some(d) = &denominator {
        check_terms(db, d, "denominator").await?;
    }
    let mut tx = db.begin().await?;
    let pos: i32 = on_tx!(&mut tx, c => sqlx::query_scalar("SELECT COALESCE(MAX(position), 0) + 1 FROM indicators").fetch_one(c).await)?;
    let res: std::result::Result<i64, sqlx::Error> = on_tx!(&mut tx, c => sqlx::query_scalar(
        "INSERT INTO indicators (code, name_vi, name_en, kind, numerator, denominator, position, active, created_at, section) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, TRUE, $8, $9) RETURNING id")
        .bind(&code).bind(&name_vi).bind(&name_en).bind(kind.as_str()).bind(numerator.to_string())
        .bind(denominator.as_ref().map(Expr::to_string)).bind(pos).bind(now()).bind(section.as_str()).fetch_one(c).await);
    let id = res.map_err(|err| {
        let err = StoreError::from(err);
        if err.is_unique_violation() {
            Invalid::field("indicator-code-exists", "code").with_detail(&code).into()
        } else {
            err
        }
    })?;
    tx.commit().await?;
    Ok(id)
}

/// A target to set (`None`: remove it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TargetWrite {
    pub indicator_id: i64,
    pub unit_id: i64,
    pub period: Period,
    pub target: Option<i64>,
}

/// Sets targets, all or none.
pub async fn set_targets(db: &Db, user_id: Option<i64>, writes: &[TargetWrite]) -> Result<()> {
    let at = now();
    let mut tx = db.begin().await?;
    for w in writes {
        match w.target {
            Some(t) => on_tx!(&mut tx, c => sqlx::query(
                "INSERT INTO targets (indicator_id, unit_id, period, target, set_by, set_at) VALUES ($1, $2, $3, $4, $5, $6) \
                 ON CONFLICT (indicator_id, unit_id, period) DO UPDATE SET target = excluded.target, set_by = excluded.set_by, set_at = excluded.set_at")
                .bind(w.indicator_id).bind(w.unit_id).bind(w.period.id()).bind(t).bind(user_id).bind(at)
                .execute(c).await.map(|r| r.rows_affected()))?,
            None => on_tx!(&mut tx, c => sqlx::query(
                "DELETE FROM targets WHERE indicator_id = $1 AND unit_id = $2 AND period = $3")
                .bind(w.indicator_id).bind(w.unit_id).bind(w.period.id()).execute(c).await.map(|r| r.rows_affected()))?,
        };
    }
    tx.commit().await?;
    Ok(())
}

/// A unit's targets for a period: indicator → target.
pub async fn targets(db: &Db, unit_id: i64, period: &Period) -> Result<HashMap<i64, i64>> {
    let rows: Vec<(i64, i64)> = on_db!(db, p => sqlx::query_as(
        "SELECT indicator_id, target FROM targets WHERE unit_id = $1 AND period = $2")
        .bind(unit_id).bind(period.id()).fetch_all(p).await)?;
    Ok(rows.into_iter().collect())
}

/// What measuring needs besides the roll-ups, read once for many units.
pub struct Lookups {
    pub catalog: std::sync::Arc<crate::catalog::Catalog>,
    pub elements: Vec<ngoso_core::values::Element>,
    pub groups: Vec<crate::households::ResidentGroup>,
}

impl Lookups {
    /// Reads them; a caller that keeps the catalogue passes it.
    pub async fn load(db: &Db, catalog: Option<std::sync::Arc<crate::catalog::Catalog>>) -> Result<Lookups> {
        let catalog = match catalog {
            Some(c) => c,
            None => std::sync::Arc::new(crate::catalog::load(db).await?),
        };
        Ok(Lookups {
            catalog,
            elements: crate::values::elements(db).await?,
            groups: crate::households::groups(db).await?,
        })
    }
}

/// Each indicator's measure for a unit's subtree and a period: indicator → measure.
pub async fn measure(
    db: &Db,
    unit_id: i64,
    path: &UnitPath,
    period: &Period,
    indicators: &[Indicator],
) -> Result<HashMap<i64, Measured>> {
    let l = Lookups::load(db, None).await?;
    let units = [(unit_id, path.clone())];
    Ok(measure_many(db, &l, &units, period, indicators).await?.remove(&unit_id).unwrap_or_default())
}

/// Each indicator's measure for several units' subtrees and a period: unit → indicator →
/// measure. Reads a handful of roll-up rows per unit, in a few statements for all the units
/// together (places, and people by trait, unit by unit); door-to-door figures of state
/// (households, statuses) are today's.
pub async fn measure_many(
    db: &Db,
    l: &Lookups,
    units: &[(i64, UnitPath)],
    period: &Period,
    indicators: &[Indicator],
) -> Result<HashMap<i64, HashMap<i64, Measured>>> {
    use ngoso_core::rollup::figure::{FEEDBACK_ANSWERED, FEEDBACK_ON_TIME, FEEDBACK_RECEIVED, VISITS, VISITS_MET};
    let terms: Vec<&Term> = indicators.iter().flat_map(Indicator::terms).collect();
    let ids: Vec<i64> = units.iter().map(|u| u.0).collect();
    let has = |f: &dyn Fn(&Term) -> bool| terms.iter().any(|t| f(t));
    // Values entered, for every unit at once.
    let values = if has(&|t| matches!(t, Term::Value(_))) {
        crate::values::figures_of_units(db, &ids, period, &l.elements).await?
    } else {
        HashMap::new()
    };
    // Today's state, for every unit at once.
    let current = if has(&|t| matches!(t, Term::Reached(..)) || (matches!(t, Term::Figure(_)) && t.is_current_state()))
    {
        crate::rollups::current_of_units(db, &ids).await?
    } else {
        HashMap::new()
    };
    // Visits and feedback of the period's months, for every unit at once.
    let months: Vec<String> = period.within(PeriodKind::Monthly).iter().map(Period::id).collect();
    let mut figures: Vec<&str> = Vec::new();
    if has(&|t| matches!(t, Term::Figure(_)) && !t.is_current_state()) {
        figures.extend([VISITS, VISITS_MET]);
    }
    if has(&|t| matches!(t, Term::Feedback(_))) {
        figures.extend([FEEDBACK_RECEIVED, FEEDBACK_ANSWERED, FEEDBACK_ON_TIME]);
    }
    let mut in_period: HashMap<(i64, String), i64> = HashMap::new();
    if !figures.is_empty() && !months.is_empty() {
        for chunk in ids.chunks(128) {
            let rows: Vec<(i64, String, i64)> = on_db!(db, p => {
                let mut qb = QueryBuilder::new("SELECT unit_id, figure, CAST(SUM(value) AS BIGINT) FROM rollups WHERE unit_id IN (");
                let mut sep = qb.separated(", ");
                for id in chunk {
                    sep.push_bind(*id);
                }
                qb.push(") AND figure IN (");
                let mut sep = qb.separated(", ");
                for f in &figures {
                    sep.push_bind(*f);
                }
                qb.push(") AND period IN (");
                let mut sep = qb.separated(", ");
                for m in &months {
                    sep.push_bind(m.as_str());
                }
                qb.push(") GROUP BY unit_id, figure");
                qb.build_query_as::<(i64, String, i64)>().fetch_all(p).await
            })?;
            in_period.extend(rows.into_iter().map(|(u, f, v)| ((u, f), v)));
        }
    }
    let year = chrono::Datelike::year(&crate::teams::today());
    let catalog = &l.catalog;
    let mut out = HashMap::with_capacity(units.len());
    for (unit_id, path) in units {
        let mut known: HashMap<Term, Option<i64>> = HashMap::new();
        if let Some(v) = values.get(unit_id) {
            for e in &l.elements {
                known.insert(Term::Value(e.code.clone()), v.get(&e.id).and_then(|f| f.value));
            }
        }
        let empty = HashMap::new();
        let now = current.get(unit_id).unwrap_or(&empty);
        let counted =
            |f: &str| (!months.is_empty()).then(|| in_period.get(&(*unit_id, f.to_owned())).copied().unwrap_or(0));
        let slices = if has(&|t| matches!(t, Term::ReachedBy(..) | Term::ResidentsBy(_))) {
            crate::rollups::slices_of_unit(db, *unit_id).await?
        } else {
            HashMap::new()
        };
        let by_part = |bases: &[String], part: &Part| -> i64 {
            let group_id = match part {
                Part::Group(code) => l.groups.iter().find(|g| &g.code == code).map(|g| g.id),
                _ => None,
            };
            bases
                .iter()
                .filter_map(|b| slices.get(b))
                .flat_map(|m| m.iter())
                .filter(|(c, _)| part.holds(c, year, group_id))
                .map(|(_, v)| *v)
                .sum()
        };
        // Statuses at or past one of a service, as roll-up figures.
        let reached = |service: &str, status: &str| -> Option<Vec<String>> {
            let s = catalog.service_by_code(service)?;
            let rank = catalog.status(s, status)?.rank;
            Some(
                s.statuses
                    .iter()
                    .filter(|st| st.rank >= rank)
                    .map(|st| ngoso_core::rollup::figure::status(s.id, st.id))
                    .collect(),
            )
        };
        let places = if has(&|t| matches!(t, Term::Places(_) | Term::Online(_))) {
            Some(crate::places::counts(db, path, period.end()).await?)
        } else {
            None
        };
        let programme = if has(&|t| matches!(t, Term::Programme(_))) {
            Some(crate::programme::figures(db, path, period.start(), period.end()).await?)
        } else {
            None
        };
        for t in &terms {
            let v = match t {
                Term::Value(_) => continue,
                Term::Figure(f) if t.is_current_state() => Some(now.get(f.as_str()).copied().unwrap_or(0)),
                Term::Figure(f) => counted(f),
                Term::Reached(service, status) => {
                    reached(service, status).map(|bases| bases.iter().map(|b| now.get(b).copied().unwrap_or(0)).sum())
                }
                Term::ReachedBy(service, status, part) => reached(service, status).map(|bases| by_part(&bases, part)),
                Term::ResidentsBy(part) => Some(by_part(&[ngoso_core::rollup::figure::RESIDENTS.to_owned()], part)),
                Term::Feedback(f) => counted(match f.as_str() {
                    "received" => FEEDBACK_RECEIVED,
                    "answered" => FEEDBACK_ANSWERED,
                    _ => FEEDBACK_ON_TIME,
                }),
                Term::Places(k) => places.as_ref().map(|c| c.get(k).copied().unwrap_or_default().cashless),
                Term::Online(k) => places.as_ref().map(|c| c.get(k).copied().unwrap_or_default().online),
                Term::Programme(f) => programme.as_ref().map(|c| c.get(f.as_str()).copied().unwrap_or(0)),
            };
            known.insert((*t).clone(), v);
        }
        let lookup = |t: &Term| known.get(t).copied().flatten();
        out.insert(*unit_id, indicators.iter().map(|i| (i.id, i.measure(&lookup))).collect());
    }
    Ok(out)
}
