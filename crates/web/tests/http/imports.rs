//! A bulk import beside the running server: another process (here, a second connection
//! pool on the same database, as `ngoso import` has) writes a big file while phones upload
//! visits. The import commits in chunks, so every upload is answered in time, and none with
//! a 5xx; in one long transaction they waited behind it past the request timeout (and, on
//! SQLite, past the busy timeout: `database is locked`, 500).

use std::time::{Duration, Instant};

use axum::http::{Method, StatusCode};
use ngoso_core::auth::Role;
use ngoso_core::outreach::Barriers;
use ngoso_store::households::{self, Chunking, ImportRow, NewHousehold};
use ngoso_store::{Backend, Db, PoolConfig};
use ngoso_web::WebConfig;
use serde_json::json;

use crate::support::TestApp;
use crate::tests_with_app;

/// The request timeout of the app under test: shorter than the import, longer than a chunk.
const REQUEST_TIMEOUT_SECS: u64 = 2;

async fn app(backend: Backend) -> Option<TestApp> {
    TestApp::with_config(backend, WebConfig { request_timeout_secs: REQUEST_TIMEOUT_SECS, ..WebConfig::default() })
        .await
}

/// Households enough that writing them takes longer than the request timeout.
const ROWS: usize = 150_000;

async fn uploads_are_answered_while_an_import_runs(app: &mut TestApp) {
    let t = app.tree().await;
    let leader = app.user("totruong", Role::TeamLeader, Some(&t.hamlet_a)).await;
    let team = app.team_led_by(&t.hamlet_a, leader).await;
    let visited = |code: &str| NewHousehold {
        unit_id: t.hamlet_a.id,
        code: code.into(),
        address: Some("Số 1, ấp 1".into()),
        head_name: Some("Trần Thị Bé".into()),
        size: 3,
        smartphones: 1,
        barriers: Barriers::default(),
        consent: Some(("Trần Thị Bé".into(), "outreach".into())),
    };
    let household = households::create(&app.db, &visited("VISITED"), None).await.unwrap();
    let tok = app.token("totruong").await;

    // The import, on a pool of its own, as the `ngoso import` process would.
    let importer = Db::connect(&app.url, &PoolConfig::default()).await.unwrap();
    let rows: Vec<ImportRow> = (0..ROWS).map(|i| visited(&format!("IMP{i:06}")).into()).collect();
    let import = tokio::spawn(async move {
        let chunking = Chunking { time: Duration::from_millis(300), ..Chunking::default() };
        let done = households::import(&importer, &rows, None, chunking, &|_| {}).await;
        importer.close().await;
        done
    });

    let mut answered = Vec::new();
    let mut n = 0u32;
    while !import.is_finished() {
        n += 1;
        let visit = json!({"visits": [{"id": format!("00000000-0000-4000-8000-{n:012}"), "household_id": household,
            "team_id": team, "visited_at": "2024-10-15T08:30:00+07:00", "result": "met"}]});
        let started = Instant::now();
        let res = app.json(Method::POST, "/api/v1/visits", Some(visit), Some(&tok)).await;
        assert_eq!(res.status, StatusCode::OK, "upload {n} during the import: {}", res.body);
        assert_eq!(res.json()["accepted"], 1, "{}", res.body);
        answered.push(started.elapsed());
    }
    let done = import.await.unwrap().unwrap();
    assert_eq!(done.rows, ROWS as u64);
    assert_eq!(households::count(&app.db).await.unwrap(), ROWS as i64 + 1);
    assert_eq!(ngoso_store::visits::count(&app.db).await.unwrap(), i64::from(n));
    assert!(n > 1, "the uploads ran beside the import ({n} of them)");
    let slowest = answered.iter().max().unwrap();
    eprintln!("{n} uploads during the import; the slowest answered in {slowest:?}");
}

tests_with_app!(uploads_are_answered_while_an_import_runs);
