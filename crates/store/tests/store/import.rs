//! Bulk imports: written in chunks that leave room for other writers, yet all or nothing;
//! taken back by `undo` unless something has been built on them.

use std::time::Duration;

use ngoso_core::outreach::Barriers;
use ngoso_store::households::{self, Chunking, ImportRow, ImportedResident, NewResident};
use ngoso_store::visits;
use ngoso_store::{Db, both_backends, check, rollups, units};

use crate::outreach::{T0, household, outcome, visit, world};

/// Small chunks, so that a few thousand rows make several transactions.
fn small(rows: usize) -> Chunking {
    Chunking { rows, time: Duration::MAX, pause: Duration::ZERO }
}

fn rows(hamlets: &[i64], prefix: &str, n: usize) -> Vec<ImportRow> {
    (0..n).map(|i| household(hamlets[i % 4], &format!("{prefix}{i}"), Barriers::default()).into()).collect()
}

fn resident(name: &str, youth: bool) -> NewResident {
    NewResident {
        full_name: Some(name.into()),
        birth_year: Some(2000),
        sex: Some("f"),
        youth_union: youth,
        groups: 0,
        cccd: None,
        phone: None,
        consent: Some(("Chủ hộ".into(), "outreach".into())),
    }
}

/// Rows written in several chunks are all there, with their figures, consents and search
/// keys, and the journal says which; an import that fails in a later chunk takes back the
/// chunks it had committed, leaving rows, consents and figures as they were.
async fn chunked_import_is_all_or_nothing(db: Db) {
    let w = world(&db).await;
    let mut odd = household(w.hamlets[0], "ODD", Barriers::default());
    odd.address = Some("Hẻm 5\\7\tlô \\N 🏠".into());
    odd.head_name = None;
    let mut all = rows(&w.hamlets, "A", 3000);
    all.extend(rows(&w.hamlets, "B", 9));
    all.push(odd.into());
    let heard = std::sync::Mutex::new(Vec::new());
    let done =
        households::import(&db, &all, Some(w.officer), small(500), &|n| heard.lock().unwrap().push(n)).await.unwrap();
    assert_eq!(done.rows, 3010);
    assert_eq!(*heard.lock().unwrap(), vec![500, 1000, 1500, 2000, 2500, 3000, 3010]);
    let journal = households::imports(&db, 10).await.unwrap();
    assert_eq!((journal[0].id, journal[0].state.as_str(), journal[0].rows), (done.id, "done", 3010));
    let figures = rollups::all(&db).await.unwrap();
    assert_eq!(figures[&(w.province, "households".to_string(), String::new())], 3010);
    let h = ngoso_store::testing::unaudited::household_by_code(&db, "B8").await.unwrap();
    assert_eq!(h.head_name.as_deref(), Some("Nguyễn Văn A"));
    assert!(h.consent);
    let odd = ngoso_store::testing::unaudited::household_by_code(&db, "ODD").await.unwrap();
    assert_eq!((odd.address.as_deref(), odd.head_name.as_deref()), (Some("Hẻm 5\\7\tlô \\N 🏠"), None));
    let province = units::get(&db, w.province).await.unwrap().unit_path();
    let found =
        ngoso_store::testing::unaudited::household_search(&db, &province, "nguyen van a so b8", 10, 0).await.unwrap();
    assert_eq!(found.iter().map(|h| h.code.as_str()).collect::<Vec<_>>(), vec!["B8"]);

    // A code taken (by someone else, after the file was checked) in the fourth chunk: the
    // three chunks before it are taken back.
    let mut clash = rows(&w.hamlets, "D", 1000);
    clash.extend(rows(&w.hamlets, "B", 1));
    let e = households::import(&db, &clash, None, small(300), &|_| {}).await.unwrap_err();
    assert!(matches!(&e, ngoso_store::StoreError::Invalid(i) if i.code == "household-code-exists"), "{e:?}");
    assert_eq!(households::count(&db).await.unwrap(), 3010);
    assert_eq!(crate::refusal(ngoso_store::testing::unaudited::household_by_code(&db, "D0").await), "not-found");
    assert_eq!(rollups::all(&db).await.unwrap(), figures);
    assert!(check::run(&db).await.unwrap().is_empty());
    assert_eq!(households::imports(&db, 1).await.unwrap()[0].state, "undone");

    // Residents the same way: in chunks, and taken back whole by a failure.
    let codes = households::codes(&db).await.unwrap();
    let people: Vec<ImportedResident> = (0..50)
        .map(|i| {
            let (household_id, unit_id) = codes[&format!("A{i}")];
            ImportedResident { household_id, unit_id, resident: resident(&format!("Người {i}"), i % 2 == 0) }
        })
        .collect();
    let done = households::import_residents(&db, &people, None, small(7), &|_| {}).await.unwrap();
    assert_eq!(done.rows, 50);
    let after = rollups::all(&db).await.unwrap();
    assert_eq!(after[&(w.province, "residents".to_string(), String::new())], 50);
    assert_eq!(after[&(w.province, "youth_union".to_string(), String::new())], 25);
    let a0 = codes["A0"].0;
    assert_eq!(ngoso_store::testing::unaudited::residents(&db, a0).await.unwrap().len(), 1);
    assert_eq!(ngoso_store::testing::unaudited::consents(&db, a0).await.unwrap().len(), 2);
    let mut orphan: Vec<ImportedResident> = (0..20)
        .map(|i| {
            let (household_id, unit_id) = codes[&format!("A{i}")];
            ImportedResident { household_id, unit_id, resident: resident("Y", true) }
        })
        .collect();
    // The last one names a household that is not there (deleted since the file was checked).
    orphan.push(ImportedResident { household_id: 999_999, unit_id: w.hamlets[0], resident: resident("Z", false) });
    let e = households::import_residents(&db, &orphan, None, small(5), &|_| {}).await.unwrap_err();
    assert!(e.is_foreign_key_violation(), "{e:?}");
    assert_eq!(rollups::all(&db).await.unwrap(), after);
    assert_eq!(ngoso_store::testing::unaudited::residents(&db, a0).await.unwrap().len(), 1);
    assert!(check::run(&db).await.unwrap().is_empty());
}
both_backends!(chunked_import_is_all_or_nothing);

/// `undo` deletes what an import wrote and its figures; it refuses, changing nothing, when a
/// visit names an imported household, and says so for an import unknown or already undone.
async fn undo_takes_an_import_back_unless_built_on(db: Db) {
    let w = world(&db).await;
    let before = rollups::all(&db).await.unwrap();
    let first = households::import(&db, &rows(&w.hamlets, "U", 100), None, small(30), &|_| {}).await.unwrap();
    let second = households::import(&db, &rows(&w.hamlets, "V", 100), None, small(30), &|_| {}).await.unwrap();
    let with_both = rollups::all(&db).await.unwrap();

    // A visit to a household of the second import's last chunk (in the team's commune).
    let visited = households::codes(&db).await.unwrap()["V96"].0;
    let anyone = |_: i64, _: &ngoso_core::unit::UnitPath| true;
    let stored = visits::ingest(&db, None, &[visit(1, visited, w.teams[0].0, T0, vec![])], &anyone).await.unwrap();
    assert_eq!(stored, vec![visits::Stored::New]);
    let visited_figures = rollups::all(&db).await.unwrap();
    let e = households::undo_import(&db, second.id).await;
    assert_eq!(crate::refusal(e), "import-in-use");
    assert_eq!(households::count(&db).await.unwrap(), 200);
    assert_eq!(rollups::all(&db).await.unwrap(), visited_figures);

    // The first has nothing built on it.
    assert_eq!(households::undo_import(&db, first.id).await.unwrap(), 100);
    assert_eq!(households::count(&db).await.unwrap(), 100);
    assert_eq!(crate::refusal(ngoso_store::testing::unaudited::household_by_code(&db, "U5").await), "not-found");
    let after = rollups::all(&db).await.unwrap();
    assert_eq!(after[&(w.province, "households".to_string(), String::new())], 100);
    assert_ne!(with_both, before);
    assert!(check::run(&db).await.unwrap().is_empty());
    let journal = households::imports(&db, 10).await.unwrap();
    assert_eq!(
        journal.iter().map(|i| (i.state.as_str(), i.rows)).collect::<Vec<_>>(),
        vec![("done", 100), ("undone", 0)]
    );
    assert_eq!(crate::refusal(households::undo_import(&db, first.id).await), "import-undone");
    assert_eq!(crate::refusal(households::undo_import(&db, 9_999).await), "not-found");

    // Residents named by a status (a service recorded for them) keep their import.
    let codes = households::codes(&db).await.unwrap();
    let people: Vec<ImportedResident> = ["V0", "V4"]
        .iter()
        .map(|c| {
            let (household_id, unit_id) = codes[*c];
            ImportedResident { household_id, unit_id, resident: resident("Lê Văn Cư", false) }
        })
        .collect();
    let third = households::import_residents(&db, &people, None, small(10), &|_| {}).await.unwrap();
    let v0 = codes["V0"].0;
    let r = ngoso_store::testing::unaudited::residents(&db, v0).await.unwrap()[0].id;
    let cat = ngoso_store::catalog::load(&db).await.unwrap();
    let served = vec![outcome(&cat, "vneid_l2", "activated", r)];
    let stored = visits::ingest(&db, None, &[visit(2, v0, w.teams[0].0, T0, served)], &anyone).await.unwrap();
    assert_eq!(stored, vec![visits::Stored::New]);
    let figures = rollups::all(&db).await.unwrap();
    assert_eq!(crate::refusal(households::undo_import(&db, third.id).await), "import-in-use");
    assert_eq!(ngoso_store::testing::unaudited::residents(&db, v0).await.unwrap().len(), 1);
    assert_eq!(rollups::all(&db).await.unwrap(), figures);
    assert!(check::run(&db).await.unwrap().is_empty());
}
both_backends!(undo_takes_an_import_back_unless_built_on);

/// Taking back an import deletes residents or households, and each deletion checks that no
/// row still names them through a foreign key: through an index, not by reading the table
/// whole (on a province's million household consents, undoing 20,000 residents had not
/// finished in five minutes).
async fn deleting_a_resident_or_household_checks_through_indexes(db: Db) {
    for (table, column, index) in [
        ("consents", "resident_id", "consents_resident"),
        ("status_corrections", "household_id", "status_corrections_household"),
    ] {
        let sql = format!("EXPLAIN QUERY PLAN SELECT 1 FROM {table} WHERE {column} = $1");
        let plan: Vec<String> = match &db {
            Db::Sqlite(pools) => {
                let rows: Vec<(i64, i64, i64, String)> =
                    sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(1_i64).fetch_all(&pools.read).await.unwrap();
                rows.into_iter().map(|r| r.3).collect()
            }
            Db::Pg(pool) => {
                let mut c = pool.acquire().await.unwrap();
                // A plan that may not read the table whole when an index can answer: the
                // table is nearly empty here, where a scan would be cheaper.
                sqlx::query("SET enable_seqscan = off").execute(&mut *c).await.unwrap();
                let plan = sqlx::query_scalar(sqlx::AssertSqlSafe(sql.replace(" QUERY PLAN", "")))
                    .bind(1_i64)
                    .fetch_all(&mut *c)
                    .await
                    .unwrap();
                sqlx::query("RESET enable_seqscan").execute(&mut *c).await.unwrap();
                plan
            }
        };
        assert!(plan.iter().any(|l| l.contains(index)), "{table}: {plan:?}");
    }
}
both_backends!(deleting_a_resident_or_household_checks_through_indexes);
