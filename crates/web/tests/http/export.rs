//! The raw export of visits, service statuses and feedback items: streamed CSV with a
//! byte-order mark or an XLSX sheet, the range and subtree asked for, and no personal data
//! for a caller who may not read it.

use std::io::Cursor;

use axum::http::{Method, StatusCode};
use calamine::{Data, Reader, Xlsx, open_workbook_from_rs};
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
    let team = app.team_led_by(&t.hamlet_a, leader).await;
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

    // The same as a workbook: one sheet, times as times, the same rows.
    let res = app.json(Method::GET, &format!("{url}&format=xlsx"), None, Some(&officer)).await;
    assert_eq!(res.status, StatusCode::OK);
    assert!(res.header("content-type").unwrap().starts_with("application/vnd.openxmlformats"));
    assert!(res.header("content-disposition").unwrap().contains("visits-80-20241001-20241031.xlsx"));
    let rows = sheet(&res.bytes, "visits");
    assert_eq!(rows.len(), 3);
    assert_eq!(rows[0][2], Data::String("household_code".into()));
    assert_eq!(rows[1][2], Data::String("H-01".into()));
    assert_eq!(rows[1][8], Data::String("Bà cụ hẹn, \"chiều\" quay lại".into()));
    assert!(matches!(rows[1][3], Data::Float(_)), "team_id is a number: {:?}", rows[1][3]);
    match &rows[1][4] {
        // 2024-10-01 00:10 as a spreadsheet serial: days since 1899-12-30.
        Data::DateTime(d) => assert!((d.as_f64() - (45_566.0 + 10.0 / 1440.0)).abs() < 1e-6, "{d:?}"),
        other => panic!("visited_at is a time: {other:?}"),
    }
    let res = app.json(Method::GET, &format!("{url}&format=pdf"), None, Some(&officer)).await;
    res.assert_error(StatusCode::UNPROCESSABLE_ENTITY, "export-format-invalid");

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

/// The rows of a workbook's sheet.
fn sheet(bytes: &[u8], name: &str) -> Vec<Vec<Data>> {
    let mut wb: Xlsx<_> = open_workbook_from_rs(Cursor::new(bytes.to_vec())).unwrap();
    assert_eq!(wb.sheet_names(), vec![name.to_owned()]);
    let range = wb.worksheet_range(name).unwrap();
    range.rows().map(|r| r.to_vec()).collect()
}

/// Statuses and feedback: personal columns by the right permission (a team leader reads the
/// area's people but not its feedback), the citizen's contact never.
async fn statuses_and_feedback_exports(app: &mut TestApp) {
    let s = crate::feedback::setup(app).await;
    let t = &s.t;
    app.user("xem", Role::Viewer, Some(&t.province)).await;
    app.user("so.tt", Role::Officer, Some(&t.province)).await;
    app.user("totruong", Role::TeamLeader, Some(&t.commune_b)).await;
    let member_user = app.user("thanhvien", Role::Member, Some(&t.hamlet_b)).await;
    let team = ngoso_store::teams::create(&app.db, t.hamlet_b.id, "Tổ Ấp 2").await.unwrap();
    let h = NewHousehold {
        unit_id: t.hamlet_b.id,
        code: "HB-7".into(),
        address: None,
        head_name: Some("Lê Văn Tám".into()),
        size: 2,
        smartphones: 1,
        barriers: Barriers::default(),
        consent: Some(("Lê Văn Tám".into(), "outreach".into())),
    };
    let household = households::create(&app.db, &h, None).await.unwrap();
    let member = ngoso_store::teams::NewMember {
        full_name: "Phạm Văn Mười",
        role: "member",
        affiliation: "youth_union",
        phone: None,
        joined_on: chrono::NaiveDate::from_ymd_opt(2024, 1, 1).unwrap(),
        user_id: Some(member_user),
    };
    ngoso_store::teams::add_member(&app.db, team, &member).await.unwrap();
    let resident = ngoso_core::household::NewResident {
        full_name: Some("Lê Thị Chín".into()),
        birth_year: Some(2001),
        sex: Some("f"),
        youth_union: true,
        groups: 0,
        cccd: None,
        phone: Some("0987654321".into()),
        consent: None,
    };
    let rid = households::add_resident(&app.db, household, &resident, None).await.unwrap();
    let member = app.token("thanhvien").await;
    let visit = json!({"visits": [{"id": "00000000-0000-4000-8000-000000000077", "household_id": household, "team_id": team,
        "visited_at": "2024-10-15T08:30:00+07:00", "result": "met",
        "outcomes": [{"service": "citizen_app", "status": "installed"}, {"service": "vneid_l2", "status": "collected", "resident_id": rid}]}]});
    let res = app.json(Method::POST, "/api/v1/visits", Some(visit), Some(&member)).await;
    assert_eq!(res.json()["accepted"], 1, "{}", res.body);
    for d in ["Cống nghẹt 🌧️", "Đèn đường hỏng, \"tối\" cả xóm"] {
        let body = json!({"category": "roads", "description": d, "unit": t.hamlet_b.code, "attributes": {"kind": ["pothole"]}});
        let r = app.json(Method::POST, "/api/v1/feedback", Some(body), Some(&member)).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    }
    let today = chrono::Utc::now().with_timezone(&chrono::FixedOffset::east_opt(7 * 3600).unwrap()).date_naive();
    let range = format!("unit=80&from={}&to={}", today.pred_opt().unwrap(), today.succ_opt().unwrap());
    let csv_lines = |body: &str| body.trim_start_matches('\u{feff}').lines().map(str::to_owned).collect::<Vec<_>>();

    // Statuses: a viewer gets sex and age band; a team leader the household and resident too.
    let viewer = app.token("xem").await;
    let res = app.json(Method::GET, &format!("/api/v1/export/statuses?{range}"), None, Some(&viewer)).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    let lines = csv_lines(&res.body);
    assert_eq!(lines[0], "unit_code,subject,service,status,rank,sex,age_band,updated_at");
    assert_eq!(lines.len(), 3, "{lines:?}");
    assert!(
        lines[2].starts_with(&format!("{},person,\"vneid_l2\",\"collected\",1,f,15-59,", t.hamlet_b.code)),
        "{}",
        lines[2]
    );
    assert!(!res.body.contains("HB-7") && !res.body.contains("2001"));
    let leader = app.token("totruong").await;
    let res = app
        .json(
            Method::GET,
            &format!("/api/v1/export/statuses?unit={}&{}", t.commune_b.code, &range[8..]),
            None,
            Some(&leader),
        )
        .await;
    let lines = csv_lines(&res.body);
    assert_eq!(
        lines[0],
        "unit_code,household_code,resident_id,subject,service,status,rank,sex,birth_year,age_band,updated_at"
    );
    assert!(
        lines[2].contains(&format!(",\"HB-7\",{rid},person,")) && lines[2].contains(",f,2001,15-59,"),
        "{}",
        lines[2]
    );
    assert!(!res.body.contains("Chín") && !res.body.contains("0987654321"), "names and phones never");

    // Feedback: the leader gets no citizen's words; an officer does, never the contact.
    let res = app
        .json(
            Method::GET,
            &format!("/api/v1/export/feedback?unit={}&{}", t.commune_b.code, &range[8..]),
            None,
            Some(&leader),
        )
        .await;
    let lines = csv_lines(&res.body);
    assert_eq!(
        lines[0],
        "code,unit_code,category,channel,state,agency,received_at,due_at,answered_at,on_time,closed_at,rating"
    );
    assert_eq!(lines.len(), 3);
    assert!(
        lines[1].contains(&format!(",{},\"roads\",", t.hamlet_b.code)) && lines[1].contains(",\"transport\","),
        "{}",
        lines[1]
    );
    assert!(!res.body.contains("Cống"));
    let officer = app.token("so.tt").await;
    let url = format!("/api/v1/export/feedback?{range}");
    let res = app.json(Method::GET, &url, None, Some(&officer)).await;
    let lines = csv_lines(&res.body);
    assert!(lines[0].ends_with(",rating,description,address,answer"));
    assert!(lines[2].contains(",\"Đèn đường hỏng, \"\"tối\"\" cả xóm\","), "{}", lines[2]);
    let res = app.json(Method::GET, &format!("{url}&format=xlsx"), None, Some(&officer)).await;
    let rows = sheet(&res.bytes, "feedback");
    assert_eq!(rows.len(), 3);
    assert_eq!(rows[1][12], Data::String("Cống nghẹt 🌧️".into()));
    let logged: i64 = ngoso_store::on_db!(&app.db, p => sqlx::query_scalar(
        "SELECT COUNT(*) FROM audit_log WHERE action IN ('statuses.export', 'feedback.export')").fetch_one(p).await)
    .unwrap();
    assert_eq!(logged, 3, "the leader's statuses, the officer's two feedback exports");
    // Agency staff export the area's items without the citizens' words of other agencies.
    let agency = app.token("sogtvt").await;
    let res = app.json(Method::GET, &url, None, Some(&agency)).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    assert!(csv_lines(&res.body)[0].ends_with(",rating") && !res.body.contains("Cống"), "{}", res.body);
    // Outside the caller's area: not found.
    let res = app
        .json(
            Method::GET,
            &format!("/api/v1/export/feedback?unit={}&{}", t.commune_a.code, &range[8..]),
            None,
            Some(&leader),
        )
        .await;
    res.assert_error(StatusCode::NOT_FOUND, "not-found");
}

http_tests!(visits_export_as_csv, statuses_and_feedback_exports);
