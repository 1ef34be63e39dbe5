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

    // A status corrected back to none leaves no status row behind: the household says it
    // changed, and the phone gets it without the status.
    tokio::time::sleep(std::time::Duration::from_secs(ngoso_store::field::OVERLAP as u64 + 1)).await;
    let quiet = app.json(Method::GET, &format!("/api/v1/field/sync?since={cursor}"), None, Some(&tok)).await.json();
    let cursor = quiet["cursor"].as_i64().unwrap();
    let quiet = app.json(Method::GET, &format!("/api/v1/field/sync?since={cursor}"), None, Some(&tok)).await.json();
    assert_eq!(quiet["households"].as_array().unwrap().len(), 0, "{quiet}");
    app.user("canbo.xa", Role::Officer, Some(&t.commune_a)).await;
    let officer = app.token("canbo.xa").await;
    let undo = json!({"household_id": ids[1], "service": "citizen_app", "status": null, "reason": "nhập nhầm"});
    let res = app.json(Method::POST, "/api/v1/statuses/corrections", Some(undo), Some(&officer)).await;
    assert_eq!(res.status, StatusCode::NO_CONTENT, "{}", res.body);
    let after = app.json(Method::GET, &format!("/api/v1/field/sync?since={cursor}"), None, Some(&tok)).await.json();
    assert_eq!(after["households"].as_array().unwrap().len(), 1, "{after}");
    assert_eq!(after["households"][0]["id"], ids[1]);
    assert_eq!(after["households"][0]["statuses"], json!([]));

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
    assert_eq!(reads, 6, "every sync is logged");
    // The forms' needs come with the walk list: the member's team with their member id, the
    // catalogue and the feedback categories, in the language asked for.
    let en = app.json(Method::GET, "/api/v1/field/sync?lang=en", None, Some(&tok)).await.json();
    assert_eq!(en["account"]["username"], "totruong");
    assert_eq!(en["teams"][0]["id"], team);
    assert!(en["teams"][0]["member_id"].as_i64().is_some(), "{}", en["teams"]);
    let app_service = en["services"].as_array().unwrap().iter().find(|s| s["code"] == "citizen_app").unwrap().clone();
    assert_eq!(app_service["name"], "Provincial citizen app");
    assert_eq!(app_service["statuses"][0]["code"], "installed");
}

/// A request with gzip accepted; the bytes as sent.
async fn gzipped(app: &mut TestApp, path: &str) -> crate::support::Res {
    let req = axum::http::Request::get(path)
        .header(axum::http::header::ACCEPT_ENCODING, "gzip")
        .body(axum::body::Body::empty())
        .unwrap();
    let res = app.send(req).await;
    assert_eq!(res.status, StatusCode::OK, "{path}");
    res
}

/// The app's page, the worker and everything the worker keeps, as a phone first downloads
/// them (compressed): under the 150 KB the issue allows.
async fn the_app_is_light_and_kept_whole(app: &mut TestApp) {
    let page = gzipped(app, "/app/field/").await;
    assert_eq!(page.header("cache-control").as_deref(), Some("no-cache"));
    assert_eq!(page.header("content-encoding").as_deref(), Some("gzip"));
    let sw = gzipped(app, "/app/field/sw.js").await;
    let plain = app.get("/app/field/sw.js").await.body;
    let kept = plain.lines().find_map(|l| l.strip_prefix("const KEPT = ")).expect("the worker lists what it keeps");
    let kept: Vec<String> = serde_json::from_str(kept.trim_end_matches(';')).unwrap();
    assert!(kept.contains(&"/app/field/".to_owned()) && kept.iter().any(|k| k.ends_with(".js")), "{kept:?}");
    let mut total = sw.bytes.len();
    for k in &kept {
        let res = gzipped(app, k).await;
        // Everything the page loads is kept, so that it opens with no connection.
        total += res.bytes.len();
    }
    let html = app.get("/app/field/").await.body;
    for linked in ["/app/field/manifest.webmanifest", "/app/field/icon.svg"] {
        assert!(html.contains(linked) && kept.iter().any(|k| k == linked), "{linked}");
    }
    for asset in html.split('"').filter(|s| s.starts_with("/assets/")) {
        assert!(kept.iter().any(|k| k == asset), "{asset} is kept by the worker");
    }
    println!("field app first load: {total} bytes compressed");
    assert!(total < 150_000, "the first load is {total} bytes");
    let manifest = app.get("/app/field/manifest.webmanifest").await;
    assert_eq!(manifest.header("content-type").as_deref(), Some("application/manifest+json"));
    assert_eq!(manifest.json()["start_url"], "/app/field/");
    // The page is the same for everyone (it is kept for offline use): no one's data in it.
    app.login("totruong").await;
    let signed_in = app.get("/app/field/").await.body;
    assert!(!signed_in.contains("totruong"), "the page holds no account's data");
}

/// Feedback typed in offline carries the phone's id: a second send answers 200 with the
/// item made the first time, without its key; a bad id is refused.
async fn feedback_sent_twice_is_one_item(app: &mut TestApp) {
    let s = crate::feedback::setup(app).await;
    let leader = app.user("totruong", Role::TeamLeader, Some(&s.t.hamlet_a)).await;
    app.team_led_by(&s.t.hamlet_a, leader).await;
    let tok = app.token("totruong").await;
    let body = json!({"client_id": "22222222-2222-4222-8222-222222222222", "category": "roads", "description": "Đèn đường hỏng 💡",
        "unit": "28414-01", "attributes": {"kind": ["light"]}});
    let first = app.json(Method::POST, "/api/v1/feedback", Some(body.clone()), Some(&tok)).await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.body);
    let again = app.json(Method::POST, "/api/v1/feedback", Some(body.clone()), Some(&tok)).await;
    assert_eq!(again.status, StatusCode::OK, "{}", again.body);
    assert_eq!(
        (again.json()["id"].clone(), again.json()["code"].clone()),
        (first.json()["id"].clone(), first.json()["code"].clone())
    );
    assert_eq!(again.json()["citizen_key"], "", "the key is given once");
    // Another account's same id is another item: ids are the account's own.
    app.user("thanhvien", Role::Member, Some(&s.t.hamlet_a)).await;
    let other = app.token("thanhvien").await;
    let theirs = app.json(Method::POST, "/api/v1/feedback", Some(body.clone()), Some(&other)).await;
    assert_eq!(theirs.status, StatusCode::CREATED, "{}", theirs.body);
    assert_ne!(theirs.json()["id"], first.json()["id"]);
    let mut bad = body.clone();
    bad["client_id"] = json!("not-a-uuid");
    app.json(Method::POST, "/api/v1/feedback", Some(bad), Some(&tok))
        .await
        .assert_error(StatusCode::UNPROCESSABLE_ENTITY, "client-id-invalid");
    let n: i64 =
        ngoso_store::on_db!(&app.db, p => sqlx::query_scalar("SELECT COUNT(*) FROM feedback").fetch_one(p).await)
            .unwrap();
    assert_eq!(n, 2);
}

http_tests!(a_phone_syncs_what_changed, the_app_is_light_and_kept_whole, feedback_sent_twice_is_one_item);
