//! The outreach part of the demo: teams with members for every hamlet and commune,
//! households and residents, and three years of visits — generated from the same seed.

use std::collections::HashMap;
use std::time::Instant;

use ngoso_core::outreach::{AFFILIATIONS, Barrier, Barriers, VisitResult};
use ngoso_core::person::CitizenId;
use ngoso_store::households::{self, ImportedResident, NewHousehold, NewResident};
use ngoso_store::teams::{self, NewMember};
use ngoso_store::visits::{self, OutcomeInput, VisitInput};
use ngoso_store::{Db, catalog, users};

use crate::Failure;
use crate::demo::Rng;

const FAMILY: [&str; 16] = [
    "Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng", "Bùi", "Đỗ", "Hồ", "Ngô", "Dương",
    "Lý",
];
const MIDDLE_M: [&str; 6] = ["Văn", "Hữu", "Minh", "Đức", "Quốc", "Thanh"];
const MIDDLE_F: [&str; 6] = ["Thị", "Ngọc", "Thu", "Kim", "Thanh", "Hồng"];
const GIVEN_M: [&str; 14] =
    ["An", "Bình", "Cường", "Dũng", "Hải", "Hùng", "Long", "Minh", "Nam", "Phúc", "Quang", "Sơn", "Thắng", "Tuấn"];
const GIVEN_F: [&str; 14] =
    ["Hà", "Hạnh", "Hoa", "Hương", "Lan", "Linh", "Mai", "Nga", "Phương", "Tâm", "Thảo", "Trang", "Vân", "Yến"];
const STREETS: [&str; 6] = ["Lê Lợi", "Nguyễn Huệ", "Hùng Vương", "Trần Hưng Đạo", "Quốc lộ 50", "Tỉnh lộ 826"];

fn person(rng: &mut Rng) -> (String, &'static str) {
    let female = rng.range(0, 1) == 1;
    let family = rng.pick(&FAMILY);
    if female {
        (format!("{family} {} {}", rng.pick(&MIDDLE_F), rng.pick(&GIVEN_F)), "f")
    } else {
        (format!("{family} {} {}", rng.pick(&MIDDLE_M), rng.pick(&GIVEN_M)), "m")
    }
}

/// A plausible citizen ID for a person born in `year` with `sex`, registered in Long An (080).
fn cccd(rng: &mut Rng, year: i32, sex: &str) -> String {
    let century = if year >= 2000 { 2 } else { 0 } + u8::from(sex == "f");
    format!("080{century}{:02}{:06}", year % 100, rng.range(0, 999_999))
}

/// The first day of the three years of visits: 2023-12-01 00:00 in Vietnam.
/// 2022-01-01 in Vietnam: visits run from then to today.
const VISITS_FROM: i64 = 1_640_970_000;

pub async fn generate(
    db: &Db,
    seed: u64,
    n_households: usize,
    cccd_key: &str,
    demo_hamlet: &str,
    as_reported: bool,
) -> Result<(), Failure> {
    let started = Instant::now();
    let mut rng = Rng::new(seed ^ 0x6E67_6F73_6F00);
    // Hamlets and communes, from the tree.
    let mut hamlets: Vec<(i64, String, String, i64)> = Vec::new(); // id, code, name, commune id
    let mut communes: Vec<(i64, String)> = Vec::new();
    let province = ngoso_store::units::by_code(db, "80").await?;
    for d in ngoso_store::units::children(db, Some(province.id)).await? {
        for c in ngoso_store::units::children(db, Some(d.id)).await? {
            communes.push((c.id, c.name.clone()));
            for h in ngoso_store::units::children(db, Some(c.id)).await? {
                hamlets.push((h.id, h.code, h.name, c.id));
            }
        }
    }

    // Teams: one per commune and one per hamlet, 4–12 members (a few outside, to be flagged).
    let accounts: HashMap<String, i64> = users::list(db, None).await?.into_iter().map(|u| (u.username, u.id)).collect();
    let mut hamlet_team: HashMap<i64, i64> = HashMap::new();
    let mut n_teams = 0;
    let units: Vec<(i64, String, bool)> = communes
        .iter()
        .map(|(id, name)| (*id, name.clone(), false))
        .chain(hamlets.iter().map(|(id, _, name, _)| (*id, name.clone(), true)))
        .collect();
    for (unit_id, name, is_hamlet) in units {
        let team = teams::create(db, unit_id, &format!("Tổ CNSCĐ {name}")).await?;
        n_teams += 1;
        if is_hamlet {
            hamlet_team.insert(unit_id, team);
        }
        let size = match rng.range(0, 60) {
            0 => 3,
            1 => 13,
            _ => rng.range(4, 9),
        };
        for i in 0..size {
            let (full_name, _) = person(&mut rng);
            let role = match i {
                0 => "leader",
                1 => "deputy",
                _ => "member",
            };
            let affiliation = match i {
                0 => "commune_official",
                1 => "police",
                2 => "youth_union",
                3 => "womens_union",
                _ => rng.pick(&AFFILIATIONS),
            };
            let phone = format!("09{:08}", rng.range(0, 99_999_999));
            let joined = chrono::NaiveDate::from_ymd_opt(2022, 3 + rng.range(0, 8) as u32, 1 + rng.range(0, 27) as u32)
                .expect("a valid date");
            teams::add_member(
                db,
                team,
                &NewMember {
                    full_name: &full_name,
                    role,
                    affiliation,
                    phone: Some(&phone),
                    joined_on: joined,
                    user_id: None,
                },
            )
            .await?;
        }
    }
    // The demo's team accounts belong to their hamlet's team.
    if let Ok(h) = ngoso_store::units::by_code(db, demo_hamlet).await
        && let Some(&team) = hamlet_team.get(&h.id)
    {
        for (username, role) in [("totruong", "leader"), ("thanhvien", "member")] {
            if let Some(&uid) = accounts.get(username) {
                let name = if role == "leader" {
                    "Tổ trưởng (tài khoản mẫu)"
                } else {
                    "Thành viên (tài khoản mẫu)"
                };
                let joined = chrono::NaiveDate::from_ymd_opt(2022, 3, 1).expect("a valid date");
                teams::add_member(
                    db,
                    team,
                    &NewMember {
                        full_name: name,
                        role,
                        affiliation: "volunteer",
                        phone: None,
                        joined_on: joined,
                        user_id: Some(uid),
                    },
                )
                .await?;
            }
        }
    }

    // Households, spread over the hamlets.
    let mut plan = Vec::with_capacity(n_households);
    for i in 0..n_households {
        let (hid, hcode, hname, _) = &hamlets[rng.next_u64() as usize % hamlets.len()];
        let (head, _) = person(&mut rng);
        let size = rng.range(1, 7) as i32;
        let smartphones = (rng.range(0, 3) as i32).min(size);
        let mut barriers = Vec::new();
        if smartphones == 0 {
            barriers.push(Barrier::NoSmartphone);
        }
        for (b, chance) in [
            (Barrier::ElderlyAlone, 12),
            (Barrier::NoIdCard, 20),
            (Barrier::NoInternet, 10),
            (Barrier::Disability, 30),
            (Barrier::Language, 60),
        ] {
            if rng.range(0, chance) == 0 {
                barriers.push(b);
            }
        }
        let address = if rng.range(0, 2) == 0 {
            format!("Số {}, {hname}", rng.range(1, 400))
        } else {
            format!("{} {}, {hname}", rng.range(1, 900), rng.pick(&STREETS))
        };
        plan.push(NewHousehold {
            unit_id: *hid,
            code: format!("{hcode}-H{i:06}"),
            address: Some(address),
            head_name: Some(head.clone()),
            size,
            smartphones,
            barriers: Barriers::of(&barriers),
            consent: Some((head, "outreach,statistics".into())),
        });
    }
    // Nothing else writes while the demo is made: one transaction, no pause.
    let rows: Vec<households::ImportRow> = plan.iter().cloned().map(Into::into).collect();
    households::import(db, &rows, None, households::Chunking::ALONE, &|_| {}).await?;
    let codes = households::codes(db).await?;

    // Residents: most of each household, a few with phones and citizen IDs.
    let mut residents = Vec::new();
    let mut seen_ids = std::collections::HashSet::new();
    for h in &plan {
        let &(household_id, unit_id) = &codes[&h.code];
        for k in 0..(h.size as u64).min(4) {
            let (name, sex) = if k == 0 { (h.head_name.clone().unwrap_or_default(), "m") } else { person(&mut rng) };
            let birth_year = if k == 0 { 1940 + rng.range(0, 50) as i32 } else { 1950 + rng.range(0, 70) as i32 };
            let youth = (2026 - birth_year) <= 30 && rng.range(0, 2) == 0;
            let cccd_pair = if rng.range(0, 3) == 0 {
                let raw = cccd(&mut rng, birth_year, sex);
                CitizenId::parse(&raw, 2026)
                    .ok()
                    .filter(|id| seen_ids.insert(id.expose().to_owned()))
                    .map(|id| (ngoso_core::household::cccd_hash(cccd_key, &id), id.last4().to_owned()))
            } else {
                None
            };
            let phone = (rng.range(0, 2) == 0)
                .then(|| format!("0{}{:08}", rng.pick(&["3", "7", "8", "9"]), rng.range(0, 99_999_999)));
            residents.push(ImportedResident {
                household_id,
                unit_id,
                resident: NewResident {
                    full_name: Some(name),
                    birth_year: Some(birth_year),
                    sex: Some(sex),
                    youth_union: youth,
                    groups: demo_groups(household_id, k, birth_year),
                    cccd: cccd_pair,
                    phone,
                    consent: None,
                },
            });
        }
    }
    households::import_residents(db, &residents, None, households::Chunking::ALONE, &|_| {}).await?;
    let mut by_household: HashMap<i64, Vec<i64>> = HashMap::new();
    for (rid, hid) in households::resident_ids(db).await? {
        by_household.entry(hid).or_default().push(rid);
    }

    // Three years of visits: most households once or more; statuses only move forward.
    let cat = catalog::load(db).await?;
    let status = |svc: &str, st: &str| {
        let s = cat.service_by_code(svc).expect("a seeded service");
        let x = cat.status(s, st).expect("a seeded status");
        OutcomeInput { service_id: s.id, resident_id: 0, status_id: x.id, rank: x.rank, person: !s.is_household() }
    };
    let mut batch = Vec::with_capacity(1000);
    let mut n_visits = 0u64;
    if as_reported {
        let mut q = Quotas {
            app: crate::demo::reported::HOUSEHOLDS_GUIDED_APP,
            activated: crate::demo::reported::VNEID_ACTIVATED,
            collected: crate::demo::reported::VNEID_COLLECTED - crate::demo::reported::VNEID_ACTIVATED,
        };
        for h in &plan {
            let &(household_id, unit_id) = &codes[&h.code];
            let Some(&team) = hamlet_team.get(&unit_id) else { continue };
            // Nine in ten households visited once in 2024, and met.
            if rng.range(0, 100) >= 92 {
                continue;
            }
            let mut outcomes = Vec::new();
            if q.app > 0 {
                q.app -= 1;
                outcomes.push(status("citizen_app", "installed"));
            }
            for &rid in by_household.get(&household_id).map(Vec::as_slice).unwrap_or(&[]) {
                let mut add = |svc: &str, st: &str| {
                    let mut o = status(svc, st);
                    o.resident_id = rid;
                    outcomes.push(o);
                };
                if q.activated > 0 {
                    q.activated -= 1;
                    add("vneid_l2", "activated");
                } else if q.collected > 0 {
                    q.collected -= 1;
                    add("vneid_l2", "collected");
                }
                if rng.range(0, 3) == 0 {
                    add("vssid", "installed");
                }
                if rng.range(0, 4) == 0 {
                    add("cashless", "opened");
                }
                if rng.range(0, 5) == 0 {
                    add("online_public_service", "used");
                }
            }
            batch.push(VisitInput {
                id: uuid_like(&mut rng),
                household_id,
                team_id: team,
                member_id: None,
                visited_at: YEAR_2024 + rng.range(0, 364 * 86_400) as i64,
                result: VisitResult::Met,
                barriers: h.barriers,
                note: String::new(),
                outcomes,
            });
            if batch.len() >= 500 {
                n_visits += ingest(db, &mut batch).await?;
            }
        }
        if q.app > 0 || q.activated > 0 || q.collected > 0 {
            println!(
                "{}",
                crate::t(
                    "cli-demo-as-reported-short",
                    &[
                        ("households", &plan.len().to_string()),
                        ("wanted", &crate::demo::AS_REPORTED_HOUSEHOLDS.to_string())
                    ]
                )
            );
        }
    }
    // Until yesterday: a visit is never in the future.
    let visits_to = ngoso_store::now() - 86_400;
    for h in plan.iter().filter(|_| !as_reported) {
        let &(household_id, unit_id) = &codes[&h.code];
        let Some(&team) = hamlet_team.get(&unit_id) else { continue };
        let visits_here = match rng.range(0, 9) {
            0 | 1 => 0,
            2..=5 => 1,
            6 | 7 => 2,
            _ => 3,
        };
        let mut t = VISITS_FROM + rng.range(0, (visits_to - VISITS_FROM - 60 * 86_400).max(1) as u64) as i64;
        for v in 0..visits_here {
            let result = match rng.range(0, 9) {
                0 => VisitResult::NotHome,
                1 if v > 0 => VisitResult::Refused,
                _ => VisitResult::Met,
            };
            let mut outcomes = Vec::new();
            if result == VisitResult::Met {
                if rng.range(0, 3) != 0 {
                    outcomes.push(status("citizen_app", "installed"));
                }
                for &rid in by_household.get(&household_id).map(Vec::as_slice).unwrap_or(&[]) {
                    let mut add = |svc: &str, st: &str| {
                        let mut o = status(svc, st);
                        o.resident_id = rid;
                        outcomes.push(o);
                    };
                    match rng.range(0, 5) {
                        0 => add("vneid_l2", "collected"),
                        1 | 2 => add("vneid_l2", "activated"),
                        _ => {}
                    }
                    if rng.range(0, 3) == 0 {
                        add("vssid", "installed");
                    }
                    if rng.range(0, 4) == 0 {
                        add("cashless", "opened");
                    }
                    if rng.range(0, 12) == 0 {
                        add("digital_signature", "issued");
                    }
                    if rng.range(0, 5) == 0 {
                        add("online_public_service", "used");
                    }
                    if rng.range(0, 3) == 0 {
                        add("digital_skills", "trained");
                    }
                }
            }
            let barriers = if result == VisitResult::Met { h.barriers } else { Barriers::default() };
            batch.push(VisitInput {
                id: uuid_like(&mut rng),
                household_id,
                team_id: team,
                member_id: None,
                visited_at: t,
                result,
                barriers,
                note: String::new(),
                outcomes,
            });
            t += rng.range(30, 300) as i64 * 86_400;
            if t > visits_to {
                break;
            }
        }
        if batch.len() >= 500 {
            n_visits += ingest(db, &mut batch).await?;
        }
    }
    n_visits += ingest(db, &mut batch).await?;
    println!(
        "{}",
        crate::t(
            "cli-demo-outreach",
            &[
                ("teams", &n_teams.to_string()),
                ("households", &plan.len().to_string()),
                ("residents", &residents.len().to_string()),
                ("visits", &n_visits.to_string()),
                ("seconds", &format!("{:.1}", started.elapsed().as_secs_f64())),
            ]
        )
    );
    Ok(())
}

/// Stores a batch of demo visits (anyone may record them) and empties it; how many.
async fn ingest(db: &Db, batch: &mut Vec<VisitInput>) -> Result<u64, Failure> {
    if batch.is_empty() {
        return Ok(0);
    }
    visits::ingest(db, None, batch, &|_: i64, _: &ngoso_core::unit::UnitPath| true).await?;
    let n = batch.len() as u64;
    batch.clear();
    Ok(n)
}

/// 2024-01-01 00:00 in Vietnam.
const YEAR_2024: i64 = 1_704_042_000;

/// What is left to record for the demo as reported.
struct Quotas {
    app: u64,
    activated: u64,
    collected: u64,
}

/// A version-4 UUID from the generator.
fn uuid_like(rng: &mut Rng) -> String {
    format!(
        "{:08x}-{:04x}-4{:03x}-8{:03x}-{:012x}",
        rng.next_u64() as u32,
        rng.range(0, 0xffff),
        rng.range(0, 0xfff),
        rng.range(0, 0xfff),
        rng.next_u64() & 0xffff_ffff_ffff
    )
}

/// Groups of a demo resident, without drawing from the generator (so the rest of the demo is
/// what it was): about one in nine a social-security beneficiary (one in three past 60),
/// one in a hundred a person with a disability.
fn demo_groups(household_id: i64, k: u64, birth_year: i32) -> i64 {
    let h = (household_id as u64).wrapping_mul(2_654_435_761).wrapping_add(k * 97) % 100;
    let elderly = 2026 - birth_year >= 60;
    let mut bits = 0;
    if h < 11 || (elderly && h.is_multiple_of(3)) {
        bits |= 1 << 1;
    }
    if h == 42 {
        bits |= 1 << 2;
    }
    bits
}
