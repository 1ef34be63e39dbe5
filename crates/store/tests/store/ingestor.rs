//! The store's group-commit ingestor: batches of several callers stored in one transaction,
//! each visit checked with its own caller's rights, the answers back to each caller in order.

use std::sync::Arc;

use ngoso_core::outreach::Barriers;
use ngoso_store::testing::TestDb;
use ngoso_store::visits::{Caller, Ingestor, Stored};
use ngoso_store::{Backend, Db, check, households, on_db, rollups, visits};

use super::outreach::{T0, household, visit, world};

async fn group_commit(backend: Backend) {
    let Some(t) = TestDb::new(backend).await else { return };
    let db = &t.db;
    let w = world(db).await;
    let team = w.teams[0].0;
    let h1 = households::create(db, &household(w.hamlets[0], "G-1", Barriers::default()), None).await.unwrap();
    let h2 = households::create(db, &household(w.hamlets[1], "G-2", Barriers::default()), None).await.unwrap();
    let caller = |user_id: i64, may: bool| Caller {
        user_id: Some(user_id),
        members_only: false,
        may_record: Arc::new(move |_, _: &ngoso_core::unit::UnitPath| may),
    };
    let ingestor = Ingestor::start(db.clone());

    // The test runs on one thread: the writers cannot take a batch before all three are
    // queued, so the first writer to wake takes them all, in one transaction.
    let a = vec![visit(1, h1, team, T0, vec![]), visit(2, h1, team, T0 + 60, vec![]), visit(1, h1, team, T0, vec![])];
    let b = vec![visit(3, h2, team, T0, vec![])];
    let c = vec![visit(4, h2, team, T0 + 120, vec![]), visit(2, h1, team, T0 + 60, vec![])];
    let (ra, rb, rc) = tokio::join!(
        ingestor.ingest(caller(w.officer, true), a),
        ingestor.ingest(caller(w.officer, false), b),
        ingestor.ingest(caller(w.officer, true), c),
    );
    assert_eq!(ra.unwrap(), [Stored::New, Stored::New, Stored::Duplicate]);
    // The second caller's rights refuse its visit, not the others'.
    let rb = rb.unwrap();
    assert!(matches!(&rb[..], [Stored::Refused(i)] if i.code == "visit-team-not-yours"), "{rb:?}");
    // A visit stored by the first caller earlier in the same group is a duplicate.
    assert_eq!(rc.unwrap(), [Stored::New, Stored::Duplicate]);
    assert_eq!(visits::count(db).await.unwrap(), 3);
    if let Db::Pg(_) = db {
        // Rows written by one transaction share its id.
        let transactions: i64 =
            on_db!(db, p => sqlx::query_scalar("SELECT COUNT(DISTINCT xmin::text) FROM visits").fetch_one(p).await)
                .unwrap();
        assert_eq!(transactions, 1, "the three batches were stored in separate transactions");
    }

    // A later batch, alone: its answers, and the figures of everything stored.
    let d = vec![visit(5, h2, team, T0 + 180, vec![]), visit(4, h2, team, T0 + 120, vec![])];
    assert_eq!(ingestor.ingest(caller(w.officer, true), d).await.unwrap(), [Stored::New, Stored::Duplicate]);
    let figures = rollups::of_unit(db, w.province).await.unwrap();
    assert_eq!(figures[&("households_visited".into(), String::new())], 2);
    assert!(check::run(db).await.unwrap().is_empty(), "{:?}", check::run(db).await.unwrap());
}

/// Every caller of a group gets the error of a transaction that failed.
async fn a_failed_group_fails_every_caller(backend: Backend) {
    let Some(t) = TestDb::new(backend).await else { return };
    let db = &t.db;
    let w = world(db).await;
    let team = w.teams[0].0;
    let h = households::create(db, &household(w.hamlets[0], "F-1", Barriers::default()), None).await.unwrap();
    let caller = Caller { user_id: Some(w.officer), members_only: false, may_record: Arc::new(|_, _| true) };
    // The visits table gone: the group's transaction fails whatever the visits are.
    ngoso_store::on_write!(db, p => sqlx::query("ALTER TABLE visits RENAME TO visits_gone").execute(p).await.map(|_| ()))
        .unwrap();
    let ingestor = Ingestor::start(db.clone());
    let (a, b) = tokio::join!(
        ingestor.ingest(caller.clone(), vec![visit(1, h, team, T0, vec![])]),
        ingestor.ingest(caller.clone(), vec![visit(2, h, team, T0, vec![])]),
    );
    for r in [a, b] {
        let e = r.expect_err("the group failed");
        assert!(matches!(e, ngoso_store::StoreError::Ingest(_)), "{e:?}");
    }
}

mod group_commit {
    #[tokio::test]
    async fn sqlite() {
        super::group_commit(ngoso_store::Backend::Sqlite).await;
    }
    #[tokio::test]
    async fn postgres() {
        super::group_commit(ngoso_store::Backend::Postgres).await;
    }
}

mod a_failed_group_fails_every_caller {
    #[tokio::test]
    async fn sqlite() {
        super::a_failed_group_fails_every_caller(ngoso_store::Backend::Sqlite).await;
    }
    #[tokio::test]
    async fn postgres() {
        super::a_failed_group_fails_every_caller(ngoso_store::Backend::Postgres).await;
    }
}
