//! The field app's sync: everything the first time, then only what changed; the ids of the
//! whole area every time; only what the visit form needs; the read logged; the member's area
//! only.

use axum::http::{Method, StatusCode};
use ngoso_core::auth::Role;
use ngoso_core::outreach::Barriers;
use ngoso_store::households::{self, NewHousehold, NewResident};
use serde_json::json;

use crate::http_tests;
use crate::support::TestApp;

fn household(unit_id: i64, code: &str) -> NewHousehold {
    NewHousehold {
        unit_id,
        code: code.into(),
        address: Some("Số 7, Ấp 1 🌾".into()),
        head_name: Some("Trần Thị Bé".into()),
        size: 3,
        smartphones: 1,
        barriers: Barriers::default(),
        consent: Some(("Trần Thị Bé".into(), "outreach".into())),
    }
}

async fn a_phone_syncs_what_changed(app: &mut TestApp) {
    let t = app.tree().await;
    let leader = app.user("totruong", Role::TeamLeader, Some(&t.hamlet_a)).await;
    let team = app.team_led_by(&t.hamlet_a, leader).await;
    let mut ids = Vec::new();
    for i in 0..3 {
        ids.push(households::create(&app.db, &household(t.hamlet_a.id, &format!("H-{i}")), None).await.unwrap());
    }
    let resident = NewResident {
        full_name: Some("Lê Văn Cường".into()),
        birth_year: Some(1950),
        sex: Some("m"),
        youth_union: false,
        groups: 0,
        cccd: Some(("hash-of-the-number".into(), "1234".into())),
        phone: Some("0901234567".into()),
        consent: None,
    };
    households::add_resident(&app.db, ids[0], &resident, None).await.unwrap();
    // A household of another hamlet: not the member's.
    households::create(&app.db, &household(t.hamlet_b.id, "B-0"), None).await.unwrap();
    let tok = app.token("totruong").await;
    // A sync's cursor looks a few seconds back (writes committed while it read are sent
    // again): let the records above age past it.
    tokio::time::sleep(std::time::Duration::from_secs(ngoso_store::field::OVERLAP as u64 + 1)).await;

    let first = app.json(Method::GET, "/api/v1/field/sync", None, Some(&tok)).await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.body);
    let f = first.json();
    assert_eq!(f["household_ids"], json!(ids));
    assert_eq!(f["households"].as_array().unwrap().len(), 3);
    let h0 = &f["households"][0];
    assert_eq!((h0["code"].as_str(), h0["address"].as_str()), (Some("H-0"), Some("Số 7, Ấp 1 🌾")));
    assert_eq!(h0["residents"][0]["full_name"], "Lê Văn Cường");
    assert!(!first.body.contains("0901234567") && !first.body.contains("1234\""), "no phone, no card digits");

    // Nothing changed: ids only.
    let cursor = f["cursor"].as_i64().unwrap();
    let again = app.json(Method::GET, &format!("/api/v1/field/sync?since={cursor}"), None, Some(&tok)).await.json();
    assert_eq!(again["household_ids"], json!(ids));
    assert_eq!(again["households"].as_array().unwrap().len(), 0, "{again}");

    // A visit to one household: that household comes back, with its new status.
    let cursor = again["cursor"].as_i64().unwrap();
    let visit = json!({"visits": [{"id": "11111111-1111-4111-8111-111111111111", "household_id": ids[1], "team_id": team,
        "visited_at": "2024-10-15T08:30:00+07:00", "result": "met",
        "outcomes": [{"service": "citizen_app", "status": "installed"}]}]});
    let res = app.json(Method::POST, "/api/v1/visits", Some(visit), Some(&tok)).await;
    assert_eq!(res.json()["accepted"], 1, "{}", res.body);
    let delta = app.json(Method::GET, &format!("/api/v1/field/sync?since={cursor}"), None, Some(&tok)).await.json();
    let changed: Vec<i64> = delta["households"].as_array().unwrap().iter().map(|h| h["id"].as_i64().unwrap()).collect();
    assert_eq!(changed, [ids[1]], "{delta}");
    assert_eq!(delta["households"][0]["visit_count"], 1);
    assert_eq!(delta["households"][0]["statuses"].as_array().unwrap().len(), 1);

    // Another area, or a bad cursor, is refused.
    app.json(Method::GET, &format!("/api/v1/field/sync?unit={}", t.hamlet_b.id), None, Some(&tok))
        .await
        .assert_error(StatusCode::NOT_FOUND, "not-found");
    app.json(Method::GET, "/api/v1/field/sync?since=-5", None, Some(&tok))
        .await
        .assert_error(StatusCode::UNPROCESSABLE_ENTITY, "since-invalid");
    let reads: i64 = ngoso_store::on_db!(&app.db, p => sqlx::query_scalar(
        "SELECT COUNT(*) FROM audit_log WHERE action = 'field.sync'").fetch_one(p).await)
    .unwrap();
    assert_eq!(reads, 3, "every sync is logged");
}

http_tests!(a_phone_syncs_what_changed);
