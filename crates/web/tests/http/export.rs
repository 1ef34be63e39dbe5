//! The raw export of visits: streamed CSV with a byte-order mark, the range and subtree
//! asked for, and no personal data for a caller who may not read it.

use axum::http::{Method, StatusCode};
use ngoso_core::auth::Role;
use ngoso_core::outreach::Barriers;
use ngoso_store::households::{self, NewHousehold};
use serde_json::json;

use crate::http_tests;
use crate::support::TestApp;

async fn visits_export_as_csv(app: &mut TestApp) {
    let t = app.tree().await;
    let leader = app.user("totruong", Role::TeamLeader, Some(&t.hamlet_a)).await;
    app.user("xem", Role::Viewer, Some(&t.province)).await;
    app.user("so.tt", Role::Officer, Some(&t.province)).await;
    let team = ngoso_store::teams::create(&app.db, t.hamlet_a.id, "Tổ CNSCĐ Ấp 1").await.unwrap();
    let member = ngoso_store::teams::NewMember {
        full_name: "Nguyễn Văn An",
        role: "leader",
        affiliation: "police",
        phone: None,
        joined_on: chrono::NaiveDate::from_ymd_opt(2024, 1, 1).unwrap(),
        user_id: Some(leader),
    };
    ngoso_store::teams::add_member(&app.db, team, &member).await.unwrap();
    let h = NewHousehold {
        unit_id: t.hamlet_a.id,
        code: "H-01".into(),
        address: None,
        head_name: Some("Trần Thị Bé".into()),
        size: 3,
        smartphones: 1,
        barriers: Barriers::default(),
        consent: Some(("Trần Thị Bé".into(), "outreach".into())),
    };
    let household = households::create(&app.db, &h, None).await.unwrap();
    let tok = app.token("totruong").await;
    let days = [
        "2024-09-30T23:30:00+07:00",
        "2024-10-01T00:10:00+07:00",
        "2024-10-31T23:59:00+07:00",
        "2024-11-01T00:00:00+07:00",
    ];
    let visits: Vec<serde_json::Value> = days
        .iter()
        .enumerate()
        .map(|(i, d)| {
            json!({"id": format!("00000000-0000-4000-8000-{i:012}"), "household_id": household, "team_id": team,
                "visited_at": d, "result": "met", "note": "Bà cụ hẹn, \"chiều\" quay lại"})
        })
        .collect();
    let res = app.json(Method::POST, "/api/v1/visits", Some(json!({"visits": visits})), Some(&tok)).await;
    assert_eq!(res.json()["accepted"], 4, "{}", res.body);

    let url = "/api/v1/export/visits?unit=80&from=2024-10-01&to=2024-10-31";
    let viewer = app.token("xem").await;
    let res = app.json(Method::GET, url, None, Some(&viewer)).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    assert!(res.header("content-type").unwrap().starts_with("text/csv"));
    assert!(res.body.starts_with('\u{feff}'));
    let lines: Vec<&str> = res.body.trim_start_matches('\u{feff}').lines().collect();
    assert_eq!(lines[0], "visit_id,unit_code,team_id,visited_at,month,result,barriers");
    assert_eq!(lines.len(), 3, "the two visits of October in Vietnam time: {lines:?}");
    assert!(
        lines[1].contains(",28414-01,") && lines[1].contains("2024-10-01T00:10:00+07:00,202410,met"),
        "{}",
        lines[1]
    );
    assert!(!res.body.contains("H-01") && !res.body.contains("Bà cụ"), "no personal data for a viewer");

    let officer = app.token("so.tt").await;
    let res = app.json(Method::GET, url, None, Some(&officer)).await;
    let lines: Vec<&str> = res.body.trim_start_matches('\u{feff}').lines().collect();
    assert_eq!(lines.len(), 3, "{lines:?}");
    assert_eq!(lines[0], "visit_id,unit_code,household_code,team_id,visited_at,month,result,barriers,note");
    assert!(lines[1].contains(",\"H-01\","), "{}", lines[1]);
    assert!(lines[1].ends_with("\"Bà cụ hẹn, \"\"chiều\"\" quay lại\""), "{}", lines[1]);
    let logged: i64 = ngoso_store::on_db!(&app.db, p => sqlx::query_scalar(
        "SELECT COUNT(*) FROM audit_log WHERE action = 'visits.export'").fetch_one(p).await)
    .unwrap();
    assert_eq!(logged, 1);

    // Elsewhere in the tree: none. Bad ranges: refused.
    let res = app
        .json(Method::GET, "/api/v1/export/visits?unit=27700&from=2024-01-01&to=2024-12-31", None, Some(&officer))
        .await;
    assert_eq!(res.body.trim_start_matches('\u{feff}').lines().count(), 1);
    let res = app
        .json(Method::GET, "/api/v1/export/visits?unit=80&from=2024-10-31&to=2024-10-01", None, Some(&officer))
        .await;
    res.assert_error(StatusCode::UNPROCESSABLE_ENTITY, "date-range-invalid");
    let res = app
        .json(Method::GET, "/api/v1/export/visits?unit=80&from=31/13/2024&to=2024-10-01", None, Some(&officer))
        .await;
    res.assert_error(StatusCode::UNPROCESSABLE_ENTITY, "date-invalid");
    let res = app
        .json(Method::GET, "/api/v1/export/visits?unit=nope&from=2024-01-01&to=2024-10-01", None, Some(&officer))
        .await;
    res.assert_error(StatusCode::NOT_FOUND, "not-found");
}

http_tests!(visits_export_as_csv);
