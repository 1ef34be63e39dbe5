//! The data values of the demo: three years of monthly figures for every commune, of the
//! size the seed report gives for a year of Long An (about 12 billion đồng of health fees
//! paid cashless, 14 billion of school fees online, 406,800 app installs, 13,000 digital
//! signatures…), spread over its communes and growing month by month.

use std::time::Instant;

use ngoso_core::period::Period;
use ngoso_store::values::{self, Source, Write};
use ngoso_store::{Db, units};

use crate::Failure;
use crate::demo::Rng;
use crate::t;

/// The months of values: those of the visits, December 2023 to November 2026.
pub const FIRST_MONTH: Period = Period::Month(2023, 12);
pub const MONTHS: usize = 36;

/// A commune's fixed traits: its schools, social-security beneficiaries, hamlets, places.
struct Commune {
    id: i64,
    hamlets: i64,
    schools: i64,
    beneficiaries: i64,
    households: i64,
    shopping_centres: i64,
    supermarkets: i64,
    markets: i64,
    shops: i64,
}

/// Grows from `from` to `to` over the months, as a share of a whole.
fn growing(from: f64, to: f64, month: usize) -> f64 {
    from + (to - from) * month as f64 / (MONTHS - 1) as f64
}

fn noisy(rng: &mut Rng, v: f64) -> i64 {
    (v * (0.8 + rng.range(0, 40) as f64 / 100.0)).round().max(0.0) as i64
}

/// An exact share of a total over `parts`: the remainder goes to the first ones.
fn share(total: i64, parts: usize, i: usize) -> i64 {
    let parts = parts.max(1) as i64;
    total / parts + i64::from((i as i64) < total % parts)
}

/// The seed report's yearly figure of a flow (summed over 2024), or its stock at the end of
/// 2024, for the demo as reported.
fn reported(code: &str) -> Option<(i64, bool)> {
    use crate::demo::reported as r;
    Some(match code {
        "HEALTH_FEES_CASHLESS" => (r::HEALTH_FEES_CASHLESS, true),
        "HEALTH_FEES_TOTAL" => (r::HEALTH_FEES_TOTAL, true),
        "SCHOOL_FEES_ONLINE" => (r::SCHOOL_FEES_ONLINE, true),
        "DIGITAL_SIGNATURES" => (r::DIGITAL_SIGNATURES, true),
        "APP_INSTALLS" => (r::APP_INSTALLS, true),
        "YOUTH_UNION_GUIDED" => (r::YOUTH_UNION_GUIDED, true),
        "SOCIAL_SECURITY_TO_ACCOUNT" => (r::SOCIAL_SECURITY_TO_ACCOUNT, false),
        "SOCIAL_SECURITY_TOTAL" => (r::SOCIAL_SECURITY_TOTAL, false),
        _ => return None,
    })
}

pub async fn generate(db: &Db, seed: u64, as_reported: bool) -> Result<(), Failure> {
    let started = Instant::now();
    let mut rng = Rng::new(seed ^ 0x7661_6C75_6573);
    let province = units::by_code(db, "80").await?;
    let mut communes = Vec::new();
    let mut places = [1i64, 7, 41]; // shopping centres, supermarkets, markets left to place
    for d in units::children(db, Some(province.id)).await? {
        for c in units::children(db, Some(d.id)).await? {
            let hamlets = units::children(db, Some(c.id)).await?.len() as i64;
            let urban = c.kind != "xã";
            let mut take = |i: usize, chance: u64| {
                if places[i] > 0 && rng.range(0, 99) < chance {
                    places[i] -= 1;
                    1
                } else {
                    0
                }
            };
            let shopping_centres = if urban { take(0, 20) } else { 0 };
            let supermarkets = if urban { take(1, 40) } else { 0 };
            let markets = take(2, if urban { 60 } else { 20 });
            communes.push(Commune {
                id: c.id,
                hamlets,
                schools: rng.range(3, 7) as i64,
                beneficiaries: rng.range(300, 600) as i64,
                households: rng.range(1_500, 4_000) as i64,
                shopping_centres,
                supermarkets,
                markets,
                shops: rng.range(5, 60) as i64,
            });
        }
    }
    if as_reported {
        // Exactly the report's places, in the first communes of the tree: the shopping
        // centre in the first, a supermarket in each of the first seven, a market in each
        // of the first 41.
        for c in communes.iter_mut() {
            (c.shopping_centres, c.supermarkets, c.markets) = (0, 0, 0);
        }
        let n = communes.len().max(1);
        let [sc, sm, mk] = crate::demo::reported::PLACES;
        for k in 0..sc as usize {
            communes[k % n].shopping_centres += 1;
        }
        for k in 0..sm as usize {
            communes[k % n].supermarkets += 1;
        }
        for k in 0..mk as usize {
            communes[k % n].markets += 1;
        }
    }
    // The month (from the first) a commune's supermarkets and markets begin to pay cashless:
    // by the end of 2024 for the demo as reported.
    let opens = |c: &Commune, every: i64| {
        let m = (c.id % every) as usize;
        if as_reported { m.min(12) } else { m }
    };
    let ids: std::collections::HashMap<String, i64> =
        values::elements(db).await?.into_iter().map(|e| (e.code, e.id)).collect();
    let id = |code: &str| ids.get(code).copied().ok_or_else(|| Failure::Other(format!("no element {code}")));
    let mut month = FIRST_MONTH;
    let mut written = 0u64;
    for m in 0..MONTHS {
        let mut writes = Vec::with_capacity(communes.len() * 17);
        let in_2024 = matches!(month, Period::Month(2024, _));
        let n = communes.len();
        for (ci, c) in communes.iter().enumerate() {
            let mut put = |code: &str, v: i64| -> Result<(), Failure> {
                // As reported, 2024's figures are the report's, shared exactly: a flow over
                // the communes and months, a stock over the communes each month.
                let v = match reported(code) {
                    Some((total, true)) if as_reported && in_2024 => share(total, n * 12, (m - 1) * n + ci),
                    Some((total, false)) if as_reported && in_2024 => share(total, n, ci),
                    _ => v,
                };
                writes.push(Write {
                    element_id: id(code)?,
                    unit_id: c.id,
                    period: month,
                    value: Some(v),
                    comment: None,
                });
                Ok(())
            };
            let cashless_started = |n: i64, from_month: usize| if m >= from_month { n } else { 0 };
            put("CASHLESS_SHOPPING_CENTRES", cashless_started(c.shopping_centres, 6))?;
            put("CASHLESS_SUPERMARKETS", cashless_started(c.supermarkets, opens(c, 12)))?;
            put("CASHLESS_MARKETS", cashless_started(c.markets, opens(c, 20)))?;
            put("CASHLESS_SHOPS", (c.shops as f64 * growing(0.3, 0.9, m)).round() as i64)?;
            let fees = noisy(&mut rng, 26_000_000.0);
            put("HEALTH_FEES_TOTAL", fees)?;
            put("HEALTH_FEES_CASHLESS", (fees as f64 * growing(0.12, 0.3, m)).round() as i64)?;
            put("SCHOOL_FEES_ONLINE", noisy(&mut rng, 6_100_000.0 * growing(0.7, 1.1, m)))?;
            put("SCHOOLS_TOTAL", c.schools)?;
            put("SCHOOLS_COLLECTING_ONLINE", ((c.schools as f64) * growing(0.6, 1.0, m)).round() as i64)?;
            put("SOCIAL_SECURITY_TOTAL", c.beneficiaries)?;
            put("SOCIAL_SECURITY_TO_ACCOUNT", (c.beneficiaries as f64 * growing(0.6, 0.88, m)).round() as i64)?;
            put("DIGITAL_SIGNATURES", noisy(&mut rng, 5.7))?;
            put("APP_INSTALLS", noisy(&mut rng, 178.0))?;
            put("YOUTH_UNION_GUIDED", noisy(&mut rng, 10.0))?;
            put("HAMLETS_MOBILE_BROADBAND", (c.hamlets as f64 * growing(0.8, 1.0, m)).round() as i64)?;
            put("HOUSEHOLDS_FIXED_BROADBAND", (c.households as f64 * growing(0.35, 0.6, m)).round() as i64)?;
            put("SMARTPHONES_GIVEN", rng.range(0, 5) as i64)?;
        }
        written += values::write(db, None, Source::Demo, writes).await?.imported;
        month = month.next();
    }
    // The registry of places, in step with the values: each place pays cashless from the
    // month its commune's figure counts it; schools collect fees online as their share grows.
    let mut places = Vec::new();
    for (i, c) in communes.iter().enumerate() {
        let month_start = |m: usize| {
            let mut p = FIRST_MONTH;
            for _ in 0..m {
                p = p.next();
            }
            p.start()
        };
        let code = units::get(db, c.id).await?.code;
        let mut add = |kind: ngoso_core::place::PlaceKind,
                       n: usize,
                       name: &str,
                       since: Option<chrono::NaiveDate>,
                       online: Option<chrono::NaiveDate>| {
            places.push(ngoso_store::places::NewPlace {
                unit_id: c.id,
                kind,
                code: format!(
                    "{code}-{}{}",
                    match kind {
                        ngoso_core::place::PlaceKind::ShoppingCentre => "TTTM",
                        ngoso_core::place::PlaceKind::Supermarket => "ST",
                        ngoso_core::place::PlaceKind::Market => "CHO",
                        ngoso_core::place::PlaceKind::Shop => "CH",
                        ngoso_core::place::PlaceKind::HealthFacility => "YT",
                        ngoso_core::place::PlaceKind::School => "TH",
                    },
                    n + 1
                ),
                name: format!("{name} {}", n + 1),
                cashless_since: since,
                online_fees_since: online,
            });
        };
        use ngoso_core::place::PlaceKind as K;
        for n in 0..c.shopping_centres as usize {
            add(K::ShoppingCentre, n, "Trung tâm thương mại", Some(month_start(6)), None);
        }
        for n in 0..c.supermarkets as usize {
            add(K::Supermarket, n, "Siêu thị", Some(month_start(opens(c, 12))), None);
        }
        for n in 0..c.markets as usize {
            add(K::Market, n, "Chợ", Some(month_start(opens(c, 20))), None);
        }
        add(K::HealthFacility, 0, "Trạm y tế", Some(month_start(i % 24)), None);
        for n in 0..c.schools as usize {
            // The share online grows from 60 % to all over the three years.
            let from = ((n as f64 / c.schools as f64 - 0.6).max(0.0) / 0.4 * (MONTHS - 1) as f64) as usize;
            add(K::School, n, "Trường", None, Some(month_start(from)));
        }
    }
    ngoso_store::places::create(db, &places).await?;

    // The province's yearly targets, as the seed report sets them.
    let indicators = ngoso_store::indicators::list(db).await?;
    let mut targets = Vec::new();
    for year in [2024, 2025, 2026] {
        for (code, target) in [
            ("HOUSEHOLDS_VISITED_SHARE", 9_000),
            ("APP_INSTALLS", 400_000),
            ("YOUTH_UNION_GUIDED", 25_000),
            ("FEEDBACK_ANSWERED_SHARE", 9_500),
            ("FEEDBACK_ON_TIME_SHARE", 9_000),
            ("HEALTH_FEES_CASHLESS_SHARE", 2_000),
            ("SCHOOLS_ONLINE_SHARE", 10_000),
            ("SOCIAL_SECURITY_ACCOUNT_SHARE", 8_000),
            ("DIGITAL_SIGNATURES", 13_000),
            ("CASHLESS_PLACES", 49),
        ] {
            if let Some(i) = indicators.iter().find(|i| i.code == code) {
                targets.push(ngoso_store::indicators::TargetWrite {
                    indicator_id: i.id,
                    unit_id: province.id,
                    period: Period::Year(year),
                    target: Some(target),
                });
            }
        }
    }
    ngoso_store::indicators::set_targets(db, None, &targets).await?;
    println!(
        "{}",
        t(
            "cli-demo-values",
            &[("count", &written.to_string()), ("seconds", &format!("{:.1}", started.elapsed().as_secs_f64()))]
        )
    );
    Ok(())
}
