//! Outreach in the store: households, visits, statuses and roll-ups, on both backends. The
//! property test drives random operations and asserts that every stored figure equals a
//! recount from the raw records.

use ngoso_core::outreach::{Barrier, Barriers, VisitResult};
use ngoso_core::unit::{UnitCode, UnitKind, UnitName, Validity};
use ngoso_store::households::{self, HouseholdUpdate, NewHousehold, NewResident};
use ngoso_store::units::{self, NewUnit};
use ngoso_store::visits::{self, OutcomeInput, Stored, VisitInput};
use ngoso_store::{Backend, Db, both_backends, catalog, check, rollups, teams};
use proptest::prelude::*;

fn nu(code: &str, kind: &str, parent: Option<i64>) -> NewUnit {
    NewUnit {
        code: UnitCode::parse(code).unwrap(),
        name: UnitName::parse(&format!("Đơn vị {code}")).unwrap(),
        kind: UnitKind::parse(kind).unwrap(),
        parent_id: parent,
        validity: Validity::default(),
    }
}

/// A province with two communes of two hamlets each; a team per commune.
pub(super) struct World {
    pub(super) officer: i64,
    pub(super) hamlets: Vec<i64>,
    pub(super) communes: Vec<i64>,
    pub(super) province: i64,
    pub(super) teams: Vec<(i64, i64)>,
}

pub(super) async fn world(db: &Db) -> World {
    let p = units::create(db, &nu("P", "tỉnh", None)).await.unwrap();
    let mut hamlets = vec![];
    let mut communes = vec![];
    let mut teams_ = vec![];
    for c in 0..2 {
        let cu = units::create(db, &nu(&format!("C{c}"), "xã", Some(p.id))).await.unwrap();
        communes.push(cu.id);
        teams_.push((teams::create(db, cu.id, &format!("Tổ {c}")).await.unwrap(), cu.id));
        for h in 0..2 {
            hamlets.push(units::create(db, &nu(&format!("C{c}H{h}"), "ấp", Some(cu.id))).await.unwrap().id);
        }
    }
    let name = ngoso_core::user::Username::parse("can.bo").unwrap();
    let officer = ngoso_store::users::create(
        db,
        &ngoso_store::users::NewUser {
            username: &name,
            display_name: "Cán bộ",
            password_hash: "x",
            role: ngoso_core::auth::Role::Officer,
            unit_id: Some(p.id),
        },
    )
    .await
    .unwrap();
    World { officer, hamlets, communes, province: p.id, teams: teams_ }
}

pub(super) fn household(unit_id: i64, code: &str, barriers: Barriers) -> NewHousehold {
    NewHousehold {
        unit_id,
        code: code.into(),
        address: Some(format!("Số {code}, đường Lê Lợi")),
        head_name: Some("Nguyễn Văn A".into()),
        size: 4,
        smartphones: 1,
        barriers,
        consent: Some(("Nguyễn Văn A".into(), "outreach,statistics".into())),
    }
}

fn uuid(n: u64) -> String {
    format!("00000000-0000-4000-8000-{n:012x}")
}

pub(super) const T0: i64 = 1_728_950_400; // 2024-10-15

pub(super) fn visit(id: u64, household_id: i64, team_id: i64, at: i64, outcomes: Vec<OutcomeInput>) -> VisitInput {
    VisitInput {
        id: uuid(id),
        household_id,
        team_id,
        member_id: None,
        visited_at: at,
        result: VisitResult::Met,
        barriers: Barriers::of(&[Barrier::NoSmartphone]),
        note: "Đã hướng dẫn cài ứng dụng 📱".into(),
        outcomes,
    }
}

pub(super) fn outcome(cat: &catalog::Catalog, service: &str, status: &str, resident_id: i64) -> OutcomeInput {
    let s = cat.service_by_code(service).unwrap();
    let st = cat.status(s, status).unwrap();
    OutcomeInput { service_id: s.id, resident_id, status_id: st.id, rank: st.rank, person: !s.is_household() }
}

fn anyone(_: i64, _: &ngoso_core::unit::UnitPath) -> bool {
    true
}

async fn visits_are_idempotent_and_statuses_only_move_forward(db: Db) {
    let w = world(&db).await;
    let cat = catalog::load(&db).await.unwrap();
    assert_eq!(cat.services.len(), 7);
    let h1 = households::create(&db, &household(w.hamlets[0], "H1", Barriers::of(&[Barrier::ElderlyAlone])), None)
        .await
        .unwrap();
    let r1 = households::add_resident(
        &db,
        h1,
        &NewResident {
            full_name: Some("Trần Thị Bé".into()),
            birth_year: Some(1950),
            sex: Some("f"),
            youth_union: false,
            groups: 0,
            cccd: None,
            phone: None,
            consent: None,
        },
        None,
    )
    .await
    .unwrap();
    let team = w.teams[0].0;

    // A batch of 10,000 visits over 100 households, posted twice.
    let mut hs = vec![h1];
    for i in 0..99 {
        hs.push(
            households::create(&db, &household(w.hamlets[i % 2], &format!("B{i}"), Barriers::default()), None)
                .await
                .unwrap(),
        );
    }
    let batch: Vec<VisitInput> = (0..10_000u64)
        .map(|i| {
            let h = hs[(i % 100) as usize];
            let o = if i % 7 == 0 { vec![outcome(&cat, "citizen_app", "installed", 0)] } else { vec![] };
            visit(i + 1, h, team, T0 + i as i64, o)
        })
        .collect();
    let first = visits::ingest(&db, None, &batch, &anyone).await.unwrap();
    assert!(first.iter().all(|s| *s == Stored::New));
    let figures = rollups::of_unit(&db, w.province).await.unwrap();
    let again = visits::ingest(&db, None, &batch, &anyone).await.unwrap();
    assert!(again.iter().all(|s| *s == Stored::Duplicate));
    assert_eq!(visits::count(&db).await.unwrap(), 10_000);
    assert_eq!(rollups::of_unit(&db, w.province).await.unwrap(), figures, "a replay changes no figure");
    assert_eq!(figures[&("visits".to_string(), "202410".to_string())], 10_000);
    assert_eq!(figures[&("households_visited".to_string(), String::new())], 100);
    assert_eq!(figures[&("households".to_string(), String::new())], 100);

    // Two offline phones: activated arrives before collected; the status stays activated.
    let activated = outcome(&cat, "vneid_l2", "activated", r1);
    let collected = outcome(&cat, "vneid_l2", "collected", r1);
    visits::ingest(&db, None, &[visit(20_001, h1, team, T0 + 50, vec![activated.clone()])], &anyone).await.unwrap();
    visits::ingest(&db, None, &[visit(20_002, h1, team, T0 + 10, vec![collected.clone()])], &anyone).await.unwrap();
    let st = visits::statuses_of_household(&db, h1).await.unwrap();
    let vneid = st.iter().find(|s| s.resident_id == r1).unwrap();
    assert_eq!(vneid.status_id, activated.status_id);

    // A visit's id is unique within its household: a phone that made the same id for visits
    // to two households (in one batch or in two) loses neither, and a replay of either is
    // still a duplicate.
    let before = visits::count(&db).await.unwrap();
    let (a, b) = (visit(30_001, hs[1], team, T0, vec![]), visit(30_001, hs[2], team, T0, vec![]));
    let both = visits::ingest(&db, None, &[a.clone(), b.clone()], &anyone).await.unwrap();
    assert_eq!(both, vec![Stored::New, Stored::New]);
    let c = visit(30_001, hs[3], team, T0, vec![outcome(&cat, "citizen_app", "installed", 0)]);
    let res = visits::ingest(&db, None, &[b, c.clone(), a, c], &anyone).await.unwrap();
    assert_eq!(res, vec![Stored::Duplicate, Stored::New, Stored::Duplicate, Stored::Duplicate]);
    assert_eq!(visits::count(&db).await.unwrap(), before + 3);
    let sql = "SELECT v.household_id FROM visit_outcomes o JOIN visits v ON v.seq = o.visit_seq WHERE v.id = $1";
    let owners: Vec<i64> =
        ngoso_store::on_db!(&db, p => sqlx::query_scalar(sql).bind(uuid(30_001)).fetch_all(p).await).unwrap();
    assert_eq!(owners, vec![hs[3]], "the outcome belongs to its own household's visit");

    // Every pooled connection open, so that the batches below do run at the same time.
    let mut warm = tokio::task::JoinSet::new();
    for _ in 0..8 {
        let db = db.clone();
        warm.spawn(async move { db.ping().await.unwrap() });
    }
    warm.join_all().await;

    // A phone that sends the same visit again while the first copy is still being stored:
    // concurrent batches, each with its own visit and the shared one; nothing fails, the
    // shared visit is stored once.
    let before = visits::count(&db).await.unwrap();
    let mut set = tokio::task::JoinSet::new();
    for k in 0..8u64 {
        let db = db.clone();
        let batch = vec![visit(21_000 + k, hs[k as usize], team, T0, vec![]), visit(21_100, hs[50], team, T0, vec![])];
        set.spawn(async move { visits::ingest(&db, None, &batch, &anyone).await.unwrap() });
    }
    let mut shared = Vec::new();
    while let Some(r) = set.join_next().await {
        let r = r.unwrap();
        assert_eq!(r[0], Stored::New);
        shared.push(r[1].clone());
    }
    assert_eq!(shared.iter().filter(|s| **s == Stored::New).count(), 1, "{shared:?}");
    assert_eq!(visits::count(&db).await.unwrap(), before + 9);

    // Concurrent batches visiting the same new households: each batch reads what those
    // before it stored, so the households are reached once and their status moves once.
    // The first batch is long, so that the others start while it holds the households.
    let mut fresh = Vec::new();
    for i in 0..40 {
        let h = household(w.hamlets[0], &format!("F{i}"), Barriers::default());
        fresh.push(households::create(&db, &h, None).await.unwrap());
    }
    let mut set = tokio::task::JoinSet::new();
    for k in 0..8u64 {
        let (db, cat, fresh, hs) = (db.clone(), cat.clone(), fresh.clone(), hs.clone());
        set.spawn(async move {
            let installed = || vec![outcome(&cat, "citizen_app", "installed", 0)];
            let mut batch: Vec<VisitInput> = fresh
                .iter()
                .enumerate()
                .map(|(i, h)| visit(22_000 + k * 100 + i as u64, *h, team, T0, installed()))
                .collect();
            if k == 0 {
                batch.extend((0..3000).map(|i| visit(30_000_000 + i, hs[(i % 100) as usize], team, T0, vec![])));
            } else {
                tokio::time::sleep(std::time::Duration::from_millis(2 * k)).await;
            }
            visits::ingest(&db, None, &batch, &anyone).await.unwrap()
        });
    }
    for r in set.join_all().await {
        assert!(r.iter().all(|s| *s == Stored::New));
    }
    assert!(check::run(&db).await.unwrap().is_empty(), "{:?}", check::run(&db).await.unwrap());

    // Refusals, one per visit, with the good ones of the batch stored.
    let other_team = w.teams[1].0;
    let mixed = vec![
        visit(30_001, h1, team, T0, vec![]),
        visit(30_002, 999_999, team, T0, vec![]),
        visit(30_003, h1, other_team, T0, vec![]),
        visit(30_004, h1, team, ngoso_store::now() + 86_400, vec![]),
        visit(30_005, h1, 424_242, T0, vec![]),
        visit(30_006, h1, team, T0, vec![outcome(&cat, "vssid", "installed", 0)]),
        visit(
            30_007,
            h1,
            team,
            T0,
            vec![outcome(&cat, "citizen_app", "installed", 0), outcome(&cat, "citizen_app", "installed", 0)],
        ),
    ];
    let res = visits::ingest(&db, None, &mixed, &anyone).await.unwrap();
    let codes: Vec<&str> = res
        .iter()
        .map(|r| match r {
            Stored::New => "new",
            Stored::Duplicate => "dup",
            Stored::Refused(i) => i.code,
        })
        .collect();
    assert_eq!(
        codes,
        vec![
            "new",
            "household-unknown",
            "visit-outside-team-area",
            "visit-time-future",
            "team-unknown",
            "resident-unknown",
            "outcome-duplicate"
        ]
    );
    let only_own = |team_id: i64, _: &ngoso_core::unit::UnitPath| team_id == other_team;
    let res = visits::ingest(&db, None, &[visit(30_008, h1, team, T0, vec![])], &only_own).await.unwrap();
    assert!(matches!(&res[0], Stored::Refused(i) if i.code == "visit-team-not-yours"));

    // An officer's correction moves a status back, and is recorded.
    let app = cat.service_by_code("citizen_app").unwrap();
    let was = visits::correct_status(&db, w.officer, app.id, hs[0], 0, None, "nhập nhầm").await.unwrap();
    assert!(was.is_some());
    let st = visits::statuses_of_household(&db, hs[0]).await.unwrap();
    assert!(st.iter().all(|s| s.service_id != app.id));
    let log = ngoso_store::audit::list(&db, Some(("household", &hs[0].to_string())), 5).await.unwrap();
    assert_eq!(log[0].action, "status.correct");
    assert!(check::run(&db).await.unwrap().is_empty(), "{:?}", check::run(&db).await.unwrap());

    // Anonymising keeps the counts.
    let before = rollups::of_unit(&db, w.province).await.unwrap();
    households::anonymize_household(&db, h1).await.unwrap();
    let h = ngoso_store::testing::unaudited::household(&db, h1).await.unwrap();
    assert!(h.address.is_none() && h.head_name.is_none() && h.anonymized_at.is_some());
    let r = ngoso_store::testing::unaudited::resident(&db, r1).await.unwrap();
    assert!(r.full_name.is_none() && r.birth_year.is_none());
    assert_eq!(rollups::of_unit(&db, w.province).await.unwrap(), before);
    assert!(check::run(&db).await.unwrap().is_empty());
    let _ = w.communes;
}

both_backends!(visits_are_idempotent_and_statuses_only_move_forward);

/// A server's writer stores batch after batch on a connection of its own (PostgreSQL). When
/// that connection breaks, the batch in hand is retried on a new one: nothing is lost, and
/// a visit stored before is still a duplicate.
async fn a_writer_outlives_its_connection(db: Db) {
    let w = world(&db).await;
    let h = households::create(&db, &household(w.hamlets[0], "W-1", Barriers::default()), None).await.unwrap();
    let team = w.teams[0].0;
    let job = |v| visits::Job { user_id: None, visits: v, may_record: &anyone, members_only: false };
    let mut writer = visits::Writer::new(db.clone());
    let a = [visit(1, h, team, T0, vec![])];
    assert_eq!(writer.ingest_jobs(&[job(&a)]).await.unwrap(), vec![vec![Stored::New]]);
    if let Db::Pg(pool) = &db {
        // The writer's session ends (waiting until it has).
        let ended: Vec<bool> = sqlx::query_scalar(
            "SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity \
             WHERE datname = current_database() AND application_name = 'ngoso visit writer'",
        )
        .fetch_all(pool)
        .await
        .unwrap();
        assert_eq!(ended, [true]);
    }
    let b = [visit(2, h, team, T0 + 60, vec![])];
    let answers = writer.ingest_jobs(&[job(&b), job(&a)]).await.unwrap();
    assert_eq!(answers, vec![vec![Stored::New], vec![Stored::Duplicate]]);
    assert_eq!(visits::count(&db).await.unwrap(), 2);
    assert_eq!(rollups::of_unit(&db, w.province).await.unwrap()[&("households_visited".into(), String::new())], 1);
    assert!(check::run(&db).await.unwrap().is_empty());
}

both_backends!(a_writer_outlives_its_connection);

/// The rows a visit names cannot be deleted while it names them (triggers stand for the
/// foreign keys: the ingest checks the references itself), and `ngoso check` reports a row
/// that names a missing one.
async fn visit_references_hold(db: Db) {
    let w = world(&db).await;
    let cat = catalog::load(&db).await.unwrap();
    let (team, _) = w.teams[0];
    let h = households::create(&db, &household(w.hamlets[0], "TC-1", Barriers::default()), None).await.unwrap();
    let app = cat.service_by_code("citizen_app").unwrap();
    let member = teams::add_member(
        &db,
        team,
        &teams::NewMember {
            full_name: "Trần Thị B",
            role: "member",
            affiliation: "volunteer",
            phone: None,
            joined_on: chrono::NaiveDate::from_ymd_opt(2024, 1, 1).unwrap(),
            user_id: None,
        },
    )
    .await
    .unwrap();
    let mut v = visit(40_001, h, team, T0, vec![outcome(&cat, "citizen_app", &app.statuses[0].code, 0)]);
    v.member_id = Some(member);
    // A status of another service is refused, and nothing of that visit is stored.
    let other = cat.services.iter().find(|s| s.id != app.id).unwrap();
    let mut wrong = visit(40_002, h, team, T0, vec![outcome(&cat, "citizen_app", &app.statuses[0].code, 0)]);
    wrong.outcomes[0].status_id = other.statuses[0].id;
    let res = visits::ingest(&db, Some(w.officer), &[v, wrong], &anyone).await.unwrap();
    assert!(matches!(res[0], Stored::New));
    assert!(matches!(&res[1], Stored::Refused(i) if i.code == "status-unknown"), "{:?}", res[1]);
    assert_eq!(visits::count(&db).await.unwrap(), 1);
    let seq: i64 =
        ngoso_store::on_db!(&db, p => sqlx::query_scalar("SELECT MAX(seq) FROM visits").fetch_one(p).await).unwrap();
    for (sql, id) in [
        ("DELETE FROM households WHERE id = $1", h),
        ("DELETE FROM teams WHERE id = $1", team),
        ("DELETE FROM team_members WHERE id = $1", member),
        ("DELETE FROM users WHERE id = $1", w.officer),
        ("DELETE FROM services WHERE id = $1", app.id),
        ("DELETE FROM service_statuses WHERE id = $1", app.statuses[0].id),
        ("DELETE FROM visits WHERE seq = $1", seq),
    ] {
        let del =
            ngoso_store::on_write!(&db, p => sqlx::query(sql).bind(id).execute(p).await.map(|r| r.rows_affected()));
        let err = del.expect_err(&format!("{sql} with {id} should be refused")).to_string();
        // Refused by the triggers that stand for the foreign keys, not merely by another
        // table's key.
        assert!(err.contains("still named by"), "{sql}: {err}");
    }
    if matches!(db.backend(), Backend::Postgres) {
        let t = ngoso_store::on_write!(&db, p => sqlx::query("TRUNCATE team_members CASCADE").execute(p).await.map(|r| r.rows_affected()));
        assert!(t.expect_err("TRUNCATE should be refused").to_string().contains("cannot truncate"));
    }
    assert!(check::run(&db).await.unwrap().is_empty(), "{:?}", check::run(&db).await.unwrap());

    // A visit naming a team that does not exist, written by hand past the checks.
    let orphan = "INSERT INTO visits (id, household_id, team_id, visited_at, month, result, barriers, note, received_at) \
                  VALUES ('orphan', $1, 999999, $2, '202601', 'met', 0, '', $2)";
    ngoso_store::on_write!(&db, p => sqlx::query(orphan).bind(h).bind(T0).execute(p).await.map(|r| r.rows_affected()))
        .unwrap();
    let found = check::run(&db).await.unwrap();
    let want = format!("visits orphan of household {h}: team_id 999999 does not exist in teams (1 such rows)");
    assert!(found.contains(&want), "{found:?}");
}

both_backends!(visit_references_hold);

/// A household's unit and a consent's household hold as the foreign keys held them (triggers
/// and the store's own checks stand for the keys: migration 0009 on PostgreSQL, 0011 on
/// SQLite): a household for a missing unit is refused with a clear error, a unit or household
/// still named cannot be deleted, and `ngoso check` reports a row that names a missing one.
async fn household_references_hold(db: Db) {
    let w = world(&db).await;
    let missing = household(999_999, "NO-UNIT", Barriers::default());
    let e = households::create(&db, &missing, None).await.expect_err("a missing unit is refused");
    assert!(matches!(&e, ngoso_store::StoreError::Invalid(i) if i.code == "unit-unknown"), "{e:?}");
    let h = households::create(&db, &household(w.hamlets[1], "HR-1", Barriers::default()), None).await.unwrap();
    let count = || async {
        ngoso_store::on_db!(&db, p => sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM households").fetch_one(p).await)
            .unwrap()
    };
    assert_eq!(count().await, 1);
    let e = households::record_consent(&db, 777_777, None, "X", "outreach", None).await.expect_err("no such household");
    assert!(matches!(e, ngoso_store::StoreError::NotFound), "{e:?}");
    for (sql, id, named_by) in [
        ("DELETE FROM households WHERE id = $1", h, "consents.household_id"),
        ("DELETE FROM units WHERE id = $1", w.hamlets[1], "households.unit_id"),
    ] {
        let del =
            ngoso_store::on_write!(&db, p => sqlx::query(sql).bind(id).execute(p).await.map(|r| r.rows_affected()));
        let err = del.expect_err(&format!("{sql} with {id} should be refused")).to_string();
        assert!(err.contains(&format!("still named by {named_by}")), "{sql}: {err}");
    }
    assert_eq!(count().await, 1);
    assert!(check::run(&db).await.unwrap().is_empty(), "{:?}", check::run(&db).await.unwrap());

    // Rows naming what is not there, written by hand past the checks (no foreign key refuses
    // them on either backend).
    let orphan = "INSERT INTO households (unit_id, code, size, smartphones, created_at, updated_at) \
                  VALUES (999999, 'ORPHAN', 1, 0, 0, 0) RETURNING id";
    let o: i64 = ngoso_store::on_write!(&db, p => sqlx::query_scalar(orphan).fetch_one(p).await).unwrap();
    let consent = "INSERT INTO consents (household_id, given_by, purposes, given_at) VALUES (888888, 'X', 'outreach', 0) \
                   RETURNING id";
    let c: i64 = ngoso_store::on_write!(&db, p => sqlx::query_scalar(consent).fetch_one(p).await).unwrap();
    let found = check::run(&db).await.unwrap();
    for want in [
        format!("households {o}: unit_id 999999 does not exist in units (1 such rows)"),
        format!("consents {c}: household_id 888888 does not exist in households (1 such rows)"),
    ] {
        assert!(found.contains(&want), "{want} not in {found:?}");
    }
}

both_backends!(household_references_hold);

/// One step of the property test.
#[derive(Debug, Clone)]
enum Op {
    Household { hamlet: usize, barriers: i32 },
    Resident { household: usize, youth: bool },
    Visit { household: usize, team: usize, service: usize, status: usize, day: i64, replay: bool },
    Correct { household: usize, service: usize, status: Option<usize> },
    Barriers { household: usize, barriers: i32 },
    MoveHamlet { hamlet: usize, commune: usize },
    Anonymize { household: usize },
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => (0..4usize, 0..64i32).prop_map(|(hamlet, barriers)| Op::Household { hamlet, barriers }),
        2 => (0..20usize, any::<bool>()).prop_map(|(household, youth)| Op::Resident { household, youth }),
        6 => (0..20usize, 0..2usize, 0..7usize, 0..3usize, 0..90i64, any::<bool>())
            .prop_map(|(household, team, service, status, day, replay)| Op::Visit { household, team, service, status, day, replay }),
        1 => (0..20usize, 0..7usize, proptest::option::of(0..3usize)).prop_map(|(household, service, status)| Op::Correct { household, service, status }),
        1 => (0..20usize, 0..64i32).prop_map(|(household, barriers)| Op::Barriers { household, barriers }),
        1 => (0..4usize, 0..2usize).prop_map(|(hamlet, commune)| Op::MoveHamlet { hamlet, commune }),
        1 => (0..20usize).prop_map(|household| Op::Anonymize { household }),
    ]
}

async fn run_ops(db: &Db, ops: &[Op]) {
    let w = world(db).await;
    let cat = catalog::load(db).await.unwrap();
    let mut hs: Vec<i64> = vec![];
    let mut residents: Vec<(usize, i64)> = vec![];
    let mut sent: Vec<VisitInput> = vec![];
    let mut next_id = 1u64;
    for op in ops {
        match op.clone() {
            Op::Household { hamlet, barriers } => {
                let code = format!("H{}", hs.len());
                hs.push(
                    households::create(db, &household(w.hamlets[hamlet], &code, Barriers::from_bits(barriers)), None)
                        .await
                        .unwrap(),
                );
            }
            Op::Resident { household, youth } if !hs.is_empty() => {
                let h = hs[household % hs.len()];
                let r = NewResident {
                    full_name: Some("Lê Văn Tèo".into()),
                    birth_year: None,
                    sex: None,
                    youth_union: youth,
                    groups: 0,
                    cccd: None,
                    phone: None,
                    consent: None,
                };
                // An anonymised household takes no new person: refused, nothing changes.
                match households::add_resident(db, h, &r, None).await {
                    Ok(id) => residents.push((household % hs.len(), id)),
                    Err(ngoso_store::StoreError::Invalid(i)) if i.code == "household-anonymized" => {}
                    Err(e) => panic!("{e:?}"),
                }
            }
            Op::Visit { household, team, service, status, day, replay } if !hs.is_empty() => {
                if replay && !sent.is_empty() {
                    let v = sent[(day as usize) % sent.len()].clone();
                    assert_eq!(visits::ingest(db, None, &[v], &anyone).await.unwrap()[0], Stored::Duplicate);
                    continue;
                }
                let hi = household % hs.len();
                let s = &cat.services[service];
                let st = &s.statuses[status % s.statuses.len()];
                let resident =
                    if s.is_household() { Some(0) } else { residents.iter().find(|(h, _)| *h == hi).map(|r| r.1) };
                let outcomes = match resident {
                    Some(r) => vec![OutcomeInput {
                        service_id: s.id,
                        resident_id: r,
                        status_id: st.id,
                        rank: st.rank,
                        person: !s.is_household(),
                    }],
                    None => vec![],
                };
                let v = visit(next_id, hs[hi], w.teams[team].0, T0 + day * 86_400, outcomes);
                next_id += 1;
                let res = visits::ingest(db, None, std::slice::from_ref(&v), &anyone).await.unwrap();
                if res[0] == Stored::New {
                    sent.push(v);
                }
            }
            Op::Correct { household, service, status } if !hs.is_empty() => {
                let hi = household % hs.len();
                let s = &cat.services[service];
                let resident =
                    if s.is_household() { Some(0) } else { residents.iter().find(|(h, _)| *h == hi).map(|r| r.1) };
                if let Some(r) = resident {
                    let to = status.map(|x| {
                        let st = &s.statuses[x % s.statuses.len()];
                        (st.id, st.rank)
                    });
                    visits::correct_status(db, w.officer, s.id, hs[hi], r, to, "sửa").await.unwrap();
                }
            }
            Op::Barriers { household, barriers } if !hs.is_empty() => {
                let h = hs[household % hs.len()];
                let u = HouseholdUpdate {
                    address: None,
                    head_name: None,
                    size: 3,
                    smartphones: 0,
                    barriers: Barriers::from_bits(barriers),
                };
                households::update(db, h, &u).await.unwrap();
            }
            Op::MoveHamlet { hamlet, commune } => {
                let code = units::get(db, w.communes[commune]).await.unwrap().code;
                let _ = code;
                units::move_to(db, w.hamlets[hamlet], Some(w.communes[commune])).await.unwrap();
            }
            Op::Anonymize { household } if !hs.is_empty() => {
                households::anonymize_household(db, hs[household % hs.len()]).await.unwrap();
            }
            _ => {}
        }
    }
    let diff = check::run(db).await.unwrap();
    assert!(diff.is_empty(), "after {} ops: {diff:#?}", ops.len());
}

fn run_case(backend: Backend, ops: Vec<Op>) {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    rt.block_on(async {
        let Some(t) = ngoso_store::testing::TestDb::new(backend).await else { return };
        run_ops(&t.db, &ops).await;
    });
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 12, max_shrink_iters: 64, ..ProptestConfig::default() })]

    #[test]
    fn rollups_always_equal_a_recount_sqlite(ops in proptest::collection::vec(op(), 1..60)) {
        run_case(Backend::Sqlite, ops);
    }

    #[test]
    fn rollups_always_equal_a_recount_postgres(ops in proptest::collection::vec(op(), 1..60)) {
        run_case(Backend::Postgres, ops);
    }
}

/// Groups of residents are data: added after the four shipped, up to 62 (the bits of one
/// integer); a refused one changes nothing.
async fn groups_are_added_up_to_62(db: Db) {
    let add = |i: usize| format!("group_{i}");
    assert_eq!(crate::refusal(catalog::create_group(&db, "youth_union", "Lại", "Again").await), "catalog-code-exists");
    for i in 5..=62 {
        let id = catalog::create_group(&db, &add(i), &format!("Nhóm {i}"), &format!("Group {i}")).await.unwrap();
        assert_eq!(id, i as i64);
    }
    assert_eq!(crate::refusal(catalog::create_group(&db, "one_more", "Thêm", "More").await), "group-limit");
    assert_eq!(crate::refusal(catalog::create_group(&db, "Nhóm", "x", "x").await), "catalog-code-invalid");
    assert_eq!(crate::refusal(catalog::create_group(&db, "blank", " ", "x").await), "required");
    let all = households::groups(&db).await.unwrap();
    assert_eq!(all.len(), 62);
    assert_eq!((all[61].id, all[61].code.as_str()), (62, "group_62"));
    assert_eq!(households::group_bits(&db, &["group_62".into()]).await.unwrap(), 1 << 61);
}

both_backends!(groups_are_added_up_to_62);
