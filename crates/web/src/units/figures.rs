//! The figures of a unit, read from the roll-ups and arranged for a page or the API.

use std::collections::HashMap;

use chrono::Datelike;

use ngoso_core::outreach::Barrier;
use ngoso_core::rollup::figure;
use ngoso_store::catalog::Catalog;
use ngoso_store::rollups;
use ngoso_store::units::UnitListItem;
use serde::Serialize;
use utoipa::ToSchema;

use crate::AppState;
use crate::http::error::AppError;

/// A unit's figures (its whole subtree).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct OutreachFigures {
    pub households: i64,
    pub households_visited: i64,
    pub residents: i64,
    pub youth_union: i64,
    /// Households with each barrier.
    pub barriers: Vec<BarrierCount>,
    pub services: Vec<ServiceFigures>,
    /// Visits per month (`YYYYMM`), oldest first.
    pub months: Vec<MonthFigures>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct BarrierCount {
    pub code: String,
    pub count: i64,
}

/// Subjects of a service by status.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ServiceFigures {
    pub code: String,
    pub name: String,
    /// `household` or `person`.
    pub subject: String,
    pub statuses: Vec<StatusFigures>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct StatusFigures {
    pub code: String,
    pub name: String,
    /// Subjects whose current status is this one.
    pub current: i64,
    /// Subjects at this status or further along.
    pub reached: i64,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MonthFigures {
    pub period: String,
    pub visits: i64,
    pub met: i64,
}

/// Arranges raw (figure, period) → value pairs.
pub fn arrange(map: &HashMap<(String, String), i64>, cat: &Catalog, english: bool) -> OutreachFigures {
    let get = |f: &str| map.get(&(f.to_owned(), String::new())).copied().unwrap_or(0);
    let services = cat
        .services
        .iter()
        .map(|s| {
            let currents: Vec<i64> = s.statuses.iter().map(|st| get(&figure::status(s.id, st.id))).collect();
            let statuses = s
                .statuses
                .iter()
                .enumerate()
                .map(|(i, st)| StatusFigures {
                    code: st.code.clone(),
                    name: st.name(english).to_owned(),
                    current: currents[i],
                    reached: currents[i..].iter().sum(),
                })
                .collect();
            ServiceFigures {
                code: s.code.clone(),
                name: s.name(english).to_owned(),
                subject: s.subject.clone(),
                statuses,
            }
        })
        .collect();
    let mut months: HashMap<&str, (i64, i64)> = HashMap::new();
    for ((f, p), v) in map {
        if p.is_empty() {
            continue;
        }
        if f == figure::VISITS {
            months.entry(p.as_str()).or_default().0 += v;
        } else if f == figure::VISITS_MET {
            months.entry(p.as_str()).or_default().1 += v;
        }
    }
    let mut months: Vec<MonthFigures> =
        months.into_iter().map(|(p, (visits, met))| MonthFigures { period: p.to_owned(), visits, met }).collect();
    months.sort_by(|a, b| a.period.cmp(&b.period));
    OutreachFigures {
        households: get(figure::HOUSEHOLDS),
        households_visited: get(figure::HOUSEHOLDS_VISITED),
        residents: get(figure::RESIDENTS),
        youth_union: get(figure::YOUTH_UNION),
        barriers: Barrier::ALL
            .iter()
            .map(|b| BarrierCount { code: b.as_str().to_owned(), count: get(&figure::barrier(b.as_str())) })
            .collect(),
        services,
        months,
    }
}

/// The figures of one unit.
pub async fn of_unit(st: &AppState, unit_id: i64, english: bool) -> Result<OutreachFigures, AppError> {
    let cat = st.catalog().await?;
    let map = rollups::of_unit(&st.db, unit_id).await?;
    Ok(arrange(&map, &cat, english))
}

/// A child unit's headline figures, for the side-by-side table.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ChildFigures {
    pub id: i64,
    pub code: String,
    pub name: String,
    pub households: i64,
    pub households_visited: i64,
    /// For each service of the catalogue, in order: subjects that reached its first status.
    pub reached: Vec<i64>,
    /// For each status of each service, in the catalogue's order: subjects at that status or
    /// further along (VNeID collected, then activated).
    pub statuses: Vec<i64>,
}

/// Headline figures of several units.
pub async fn of_children(st: &AppState, children: &[UnitListItem]) -> Result<Vec<ChildFigures>, AppError> {
    let cat = st.catalog().await?;
    let ids: Vec<i64> = children.iter().map(|c| c.id).collect();
    let map = rollups::current_of_units(&st.db, &ids).await?;
    let empty = HashMap::new();
    Ok(children
        .iter()
        .map(|c| {
            let m = map.get(&c.id).unwrap_or(&empty);
            let get = |f: &str| m.get(f).copied().unwrap_or(0);
            ChildFigures {
                id: c.id,
                code: c.code.clone(),
                name: c.name.clone(),
                households: get(figure::HOUSEHOLDS),
                households_visited: get(figure::HOUSEHOLDS_VISITED),
                reached: cat
                    .services
                    .iter()
                    .map(|s| s.statuses.iter().map(|st| get(&figure::status(s.id, st.id))).sum())
                    .collect(),
                statuses: cat
                    .services
                    .iter()
                    .flat_map(|s| {
                        (0..s.statuses.len())
                            .map(|i| s.statuses[i..].iter().map(|st| get(&figure::status(s.id, st.id))).sum::<i64>())
                            .collect::<Vec<_>>()
                    })
                    .collect(),
            }
        })
        .collect())
}

/// A person figure counted by sex, age band and group: the residents, or the people at a
/// service's status or further along (today's state).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Breakdown {
    /// `residents`, or `SERVICE:STATUS`.
    pub code: String,
    pub name: String,
    pub total: i64,
    /// `sex:f`, `sex:m`, `age:0-14`, `age:15-59`, `age:60+`, `group:CODE`, each with its
    /// count (sex or year of birth unknown: counted in the total only).
    pub parts: Vec<BreakdownPart>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct BreakdownPart {
    pub code: String,
    pub name: String,
    pub count: i64,
}

/// The age bands of the report, by age reached this year: under 15, 15 to 59, 60 and over
/// (the report's elderly).
pub const AGE_BANDS: [(&str, i32, i32); 3] = [("0-14", 0, 14), ("15-59", 15, 59), ("60+", 60, i32::MAX)];

/// The breakdowns of a unit's residents and of every person service's statuses, read from
/// the roll-ups counted by trait (never from the residents).
/// The totals are the unit's figures, as [`of_unit`] read them.
pub async fn breakdowns(
    st: &AppState,
    unit_id: i64,
    figures: &OutreachFigures,
    english: bool,
) -> Result<Vec<Breakdown>, AppError> {
    let cat = st.catalog().await?;
    let slices = rollups::slices_of_unit(&st.db, unit_id).await?;
    let groups = ngoso_store::households::groups(&st.db).await?;
    let year = ngoso_store::teams::today().year();
    let tr = crate::http::i18n::Tr(if english { crate::http::i18n::Lang::En } else { crate::http::i18n::Lang::Vi });
    // Parts of several base figures summed: a status "or further along".
    let parts_of = |bases: &[String]| -> Vec<BreakdownPart> {
        let sum = |pred: &dyn Fn(&str) -> bool| -> i64 {
            bases
                .iter()
                .filter_map(|b| slices.get(b))
                .flat_map(|m| m.iter())
                .filter(|(p, _)| pred(p))
                .map(|(_, v)| *v)
                .sum()
        };
        let mut out = Vec::new();
        for s in ["f", "m"] {
            let code = format!("sex:{s}");
            out.push(BreakdownPart { name: tr.t(&format!("sex-{s}")), count: sum(&|p| p == code), code });
        }
        for (band, lo, hi) in AGE_BANDS {
            let count = sum(&|p| {
                p.strip_prefix("born:").and_then(|y| y.parse::<i32>().ok()).is_some_and(|born| {
                    let age = year - born;
                    age >= lo && age <= hi
                })
            });
            out.push(BreakdownPart {
                code: format!("age:{band}"),
                name: tr.t1("figures-age-band", "band", band),
                count,
            });
        }
        for g in &groups {
            let code = format!("group:{}", g.id);
            out.push(BreakdownPart {
                code: format!("group:{}", g.code),
                name: g.name(english).to_owned(),
                count: sum(&|p| p == code),
            });
        }
        out
    };
    let mut out = vec![Breakdown {
        code: figure::RESIDENTS.to_owned(),
        name: tr.t("figures-residents"),
        total: figures.residents,
        parts: parts_of(&[figure::RESIDENTS.to_owned()]),
    }];
    for s in cat.services.iter().filter(|s| s.subject == "person") {
        for (i, stt) in s.statuses.iter().enumerate() {
            let bases: Vec<String> = s.statuses[i..].iter().map(|x| figure::status(s.id, x.id)).collect();
            out.push(Breakdown {
                code: format!("{}:{}", s.code, stt.code),
                name: format!("{} — {}", s.name(english), stt.name(english)),
                total: figures
                    .services
                    .iter()
                    .find(|f| f.code == s.code)
                    .and_then(|f| f.statuses.get(i))
                    .map_or(0, |f| f.reached),
                parts: parts_of(&bases),
            });
        }
    }
    Ok(out)
}
