//! Every writer at once: visit batches, feedback (with the outbox rows it writes), the outbox
//! worker, sessions and the audit log, households one by one, and a bulk import from another
//! pool (as the `ngoso import` process has), all on one database. On SQLite every write of a
//! process queues behind its one writer connection, and an import leaves room between its
//! chunks, so none of them meets "database is locked"; on PostgreSQL none waits past a
//! timeout.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use ngoso_core::calendar::{Calendar, DayKind};
use ngoso_core::feedback::Channel;
use ngoso_core::outreach::Barriers;
use ngoso_store::feedback::{self, NewItem};
use ngoso_store::feedback_setup::{self as setup, NewCategory};
use ngoso_store::households::{self, Chunking, ImportRow};
use ngoso_store::testing::TestDb;
use ngoso_store::{Backend, Db, PoolConfig, StoreError, audit, on_db, outbox, sessions, visits};

use crate::outreach::{T0, household, visit, world};

/// On SQLite the readers are opened read-only: a write sent to them by mistake fails at
/// once (in every test that reaches it) instead of contending with the writer under load.
#[tokio::test]
async fn sqlite_writes_go_through_the_one_writer() {
    let t = TestDb::sqlite().await;
    let e = on_db!(&t.db, p => sqlx::query("INSERT INTO settings (key, value) VALUES ('x', 'y')").execute(p).await.map(|_| ()))
        .map_err(StoreError::from)
        .unwrap_err();
    assert!(e.to_string().contains("readonly"), "{e}");
}

/// Households of the bulk import: more than one transaction writes within the busy timeout.
const IMPORTED: usize = 80_000;

async fn every_writer_at_once(backend: Backend) {
    let Some(t) = TestDb::new(backend).await else { return };
    // The server's side, with a busy timeout far shorter than the default 10 s: shorter than
    // the import would hold SQLite in one transaction, longer than one of its chunks.
    let db = Db::connect(&t.url, &PoolConfig { busy_timeout: Duration::from_secs(1), ..PoolConfig::default() })
        .await
        .unwrap();
    let w = world(&db).await;
    let mut homes = Vec::new();
    for i in 0..20 {
        homes.push(
            households::create(&db, &household(w.hamlets[0], &format!("H{i}"), Barriers::default()), None)
                .await
                .unwrap(),
        );
    }
    let category = setup::create_category(
        &db,
        &NewCategory {
            code: "roads",
            name_vi: "Giao thông",
            name_en: "Roads",
            description_vi: "",
            description_en: "",
            deadline_days: "10",
            day_kind: "working",
        },
    )
    .await
    .unwrap();
    let (agency, _) =
        setup::create_agency(&db, "district", "UBND huyện", "District", "https://example.org/hook").await.unwrap();
    setup::set_route(&db, None, None, agency).await.unwrap();

    // Each writer goes on until the import has ended (and for a few rounds at least).
    let importing = Arc::new(AtomicBool::new(true));
    fn more(i: u64, flag: &AtomicBool) -> bool {
        i < 5 || flag.load(Ordering::Relaxed)
    }
    let mut tasks: Vec<tokio::task::JoinHandle<Result<(&'static str, u64), StoreError>>> = Vec::new();
    // Visit batches of a team.
    let (team, db_, homes_, flag) = (w.teams[0].0, db.clone(), homes.clone(), importing.clone());
    tasks.push(tokio::spawn(async move {
        let anyone = |_: i64, _: &ngoso_core::unit::UnitPath| true;
        let mut b = 0;
        while more(b, &flag) {
            let batch: Vec<_> = (0..50u64)
                .map(|i| visit(b * 50 + i + 1, homes_[(i % 20) as usize], team, T0 + i as i64, vec![]))
                .collect();
            visits::ingest(&db_, None, &batch, &anyone).await?;
            b += 1;
        }
        Ok(("visits", b * 50))
    }));
    // Feedback, each item with its outbox row for the agency's webhook.
    let (db_, unit, flag) = (db.clone(), w.hamlets[1], importing.clone());
    tasks.push(tokio::spawn(async move {
        let cal = Calendar::new([]);
        let mut i = 0;
        while more(i, &flag) {
            let item = NewItem {
                category_id: category,
                unit_id: Some(unit),
                address: None,
                point: None,
                description: format!("Đèn đường hỏng số {i} 💡"),
                extra: Default::default(),
                channel: Channel::Web,
                contact_name: None,
                contact_phone: None,
                contact_email: None,
                consent: false,
                submitted_by: None,
                api_key_id: None,
                photo: None,
                received_at: T0,
                client_id: None,
                media_url: None,
            };
            feedback::submit(&db_, &cal, 10, DayKind::Working, &item).await?;
            i += 1;
        }
        Ok(("feedback", i))
    }));
    // The outbox worker, delivering what comes due.
    let (db_, flag) = (db.clone(), importing.clone());
    tasks.push(tokio::spawn(async move {
        let (mut delivered, mut round) = (0, 0);
        while more(round, &flag) {
            for m in outbox::claim(&db_, 10).await? {
                let a =
                    outbox::Attempt { status: Some(200), error: None, duration_ms: 1, delivered: true, give_up: false };
                outbox::record(&db_, &m, &a).await?;
                delivered += 1;
            }
            round += 1;
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        Ok(("outbox", delivered))
    }));
    // Sign-ins and audited reads.
    let (db_, user, flag) = (db.clone(), w.officer, importing.clone());
    tasks.push(tokio::spawn(async move {
        let mut i = 0;
        while more(i, &flag) {
            sessions::create(&db_, user, 3600).await?;
            let id = i.to_string();
            let e = audit::Event {
                user_id: Some(user),
                action: "household.read",
                object_type: "household",
                object_id: &id,
                detail: "",
            };
            audit::record(&db_, e).await?;
            i += 1;
        }
        Ok(("sessions", i))
    }));
    // Households one by one, as the pages add them.
    let (db_, hamlet, flag) = (db.clone(), w.hamlets[2], importing.clone());
    tasks.push(tokio::spawn(async move {
        let mut i = 0;
        while more(i, &flag) {
            households::create(&db_, &household(hamlet, &format!("ONE{i}"), Barriers::default()), None).await?;
            i += 1;
        }
        Ok(("households", i))
    }));
    // A bulk import from another pool, as the `ngoso import` process has.
    let (url, hamlet, flag) = (t.url.clone(), w.hamlets[3], importing.clone());
    let rows: Vec<ImportRow> =
        (0..IMPORTED).map(|i| household(hamlet, &format!("IMP{i}"), Barriers::default()).into()).collect();
    tasks.push(tokio::spawn(async move {
        let other = Db::connect(&url, &PoolConfig::default()).await?;
        let chunking = Chunking { time: Duration::from_millis(300), ..Chunking::default() };
        let done = households::import(&other, &rows, None, chunking, &|_| {}).await;
        flag.store(false, Ordering::Relaxed);
        other.close().await;
        done.map(|d| ("import", d.rows))
    }));

    let mut done = std::collections::HashMap::new();
    for task in tasks {
        let (name, n) = task.await.unwrap().unwrap_or_else(|e| panic!("a writer failed under load: {e:?}"));
        done.insert(name, n as i64);
    }
    assert_eq!(visits::count(&db).await.unwrap(), done["visits"]);
    assert_eq!(households::count(&db).await.unwrap(), 20 + done["households"] + IMPORTED as i64);
    let (_, delivered, _) = outbox::counts(&db).await.unwrap();
    assert_eq!(delivered, done["outbox"]);
    assert!(done["outbox"] > 0 && done["feedback"] >= 5, "{done:?}");
    assert!(ngoso_store::check::run(&db).await.unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_writer_at_once_sqlite() {
    every_writer_at_once(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_writer_at_once_postgres() {
    every_writer_at_once(Backend::Postgres).await;
}
