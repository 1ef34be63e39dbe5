//! Trainings and events: recorded with the members who attended and the citizens served,
//! attendance taken, the members with no training in twelve months listed (names only to
//! those who may see people), a team's share trained on its page; bad input refused whole.

use axum::http::{Method, StatusCode};
use ngoso_core::auth::Role;
use serde_json::json;

use crate::http_tests;
use crate::support::TestApp;

async fn trainings_attended_and_missed(app: &mut TestApp) {
    let t = app.tree().await;
    app.user("canbo.a", Role::Officer, Some(&t.commune_a)).await;
    app.user("canbo.b", Role::Officer, Some(&t.commune_b)).await;
    app.user("xem", Role::Viewer, Some(&t.province)).await;
    let leader = app.user("totruong", Role::TeamLeader, Some(&t.hamlet_a)).await;
    let team = app.team_led_by(&t.hamlet_a, leader).await;
    let hoa = app.second_member(team, None).await;
    let members = ngoso_store::testing::unaudited::members(&app.db, team).await.unwrap();
    let an = members.iter().find(|m| m.full_name == "Nguyễn Văn An").unwrap().id;
    let lead_b = app.user("totruong.b", Role::TeamLeader, Some(&t.hamlet_b)).await;
    let team_b = app.team_led_by(&t.hamlet_b, lead_b).await;
    let other = ngoso_store::testing::unaudited::members(&app.db, team_b).await.unwrap()[0].id;
    let a = app.token("canbo.a").await;
    let today = ngoso_core::calendar::local_day(ngoso_store::now());
    let day = today.format("%Y-%m-%d").to_string();
    let training = json!({"unit": "28414", "kind": "training", "title": "Tập huấn kỹ năng số cho tổ 📱", "topic": "VNeID mức 2",
        "place": "Nhà văn hoá ấp 1", "organiser": "Đoàn xã", "starts_on": day, "citizens_served": 40,
        "served_male": 15, "served_female": 25, "served_60_plus": 10, "attendees": [an]});
    let res = app.json(Method::POST, "/api/v1/events", Some(training.clone()), Some(&a)).await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.body);
    let id = res.json()["id"].as_i64().unwrap();
    // Two years ago: Hoa's only training.
    let old = json!({"unit": "28414-01", "kind": "training", "title": "Tập huấn cũ", "starts_on": "2023-05-01", "attendees": [hoa]});
    assert_eq!(app.json(Method::POST, "/api/v1/events", Some(old), Some(&a)).await.status, StatusCode::CREATED);
    let counter = json!({"unit": "28414", "kind": "help_counter", "title": "Quầy thanh niên", "starts_on": day, "opening_days": "sat, mon"});
    let res = app.json(Method::POST, "/api/v1/events", Some(counter), Some(&a)).await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.body);

    // Refused whole, nothing written.
    for (field, value, status, code) in [
        ("served_female", json!(30), StatusCode::UNPROCESSABLE_ENTITY, "event-served-parts"),
        ("attendees", json!([other]), StatusCode::UNPROCESSABLE_ENTITY, "model-member-unknown"),
        ("kind", json!("party"), StatusCode::UNPROCESSABLE_ENTITY, "event-kind-invalid"),
        ("ends_on", json!("2020-01-01"), StatusCode::UNPROCESSABLE_ENTITY, "event-dates-order"),
        ("unit", json!("27700"), StatusCode::UNPROCESSABLE_ENTITY, "unit-unknown"),
    ] {
        let mut bad = training.clone();
        bad[field] = value;
        app.json(Method::POST, "/api/v1/events", Some(bad), Some(&a)).await.assert_error(status, code);
    }
    let tl = app.token("totruong").await;
    let mut theirs = training.clone();
    theirs["unit"] = json!("28414-01");
    theirs["attendees"] = json!([]);
    assert_eq!(
        app.json(Method::POST, "/api/v1/events", Some(theirs), Some(&tl)).await.status,
        StatusCode::CREATED,
        "a team leader records their hamlet's"
    );
    let count: i64 =
        ngoso_store::on_db!(&app.db, p => sqlx::query_scalar("SELECT COUNT(*) FROM events").fetch_one(p).await)
            .unwrap();
    assert_eq!(count, 4);

    let list = app.json(Method::GET, "/api/v1/events?unit=28414", None, Some(&a)).await.json();
    assert_eq!(list.as_array().unwrap().len(), 3, "this year's: {list}");
    let csv = app.json(Method::GET, "/api/v1/events?unit=28414&kind=training&format=csv", None, Some(&a)).await;
    assert_eq!(csv.header("content-type").as_deref(), Some("text/csv; charset=utf-8"));
    assert!(
        csv.body.contains("Tập huấn kỹ năng số cho tổ 📱,VNeID mức 2,Nhà văn hoá ấp 1,Đoàn xã")
            && csv.body.contains(",40,15,25,,,10,1"),
        "{}",
        csv.body
    );
    let trainings =
        app.json(Method::GET, "/api/v1/events?unit=28414&kind=training&year=2023", None, Some(&a)).await.json();
    assert_eq!(trainings[0]["title"], "Tập huấn cũ");
    let e = app.json(Method::GET, &format!("/api/v1/events/{id}"), None, Some(&a)).await.json();
    assert_eq!(
        (e["attendees"].as_i64(), e["served_female"].as_i64(), e["served_under_18"].clone()),
        (Some(1), Some(25), json!(null))
    );
    let b = app.token("canbo.b").await;
    app.json(Method::GET, &format!("/api/v1/events/{id}"), None, Some(&b))
        .await
        .assert_error(StatusCode::NOT_FOUND, "not-found");
    app.json(Method::PUT, &format!("/api/v1/events/{id}/attendance"), Some(json!({"attendees": [an]})), Some(&b))
        .await
        .assert_error(StatusCode::NOT_FOUND, "not-found");

    // Who has had no training in twelve months: Hoa; An trained today.
    let list = app.json(Method::GET, "/api/v1/events/training?unit=28414", None, Some(&a)).await.json();
    let by_name = |n: &str| list.as_array().unwrap().iter().find(|m| m["full_name"] == n).unwrap().clone();
    assert_eq!(by_name("Nguyễn Văn An")["last_training"], day.as_str());
    assert_eq!(by_name("Lê Thị Hoa")["last_training"], "2023-05-01");
    let csv = app.json(Method::GET, "/api/v1/events/training?unit=28414&format=csv", None, Some(&a)).await;
    assert!(
        csv.body.contains("member_id,full_name") && csv.body.contains("Lê Thị Hoa,") && csv.body.contains("2023-05-01")
    );
    let viewer = app.token("xem").await;
    app.json(Method::GET, "/api/v1/events/training", None, Some(&viewer))
        .await
        .assert_error(StatusCode::FORBIDDEN, "forbidden");
    app.login("canbo.a").await;
    let page = app.get("/app/events/training?unit=28414").await;
    assert!(
        page.body.contains("Lê Thị Hoa") && !page.body.contains("Nguyễn Văn An") && page.body.contains("1 / 2"),
        "{}",
        page.body
    );
    let team_page = app.get(&format!("/app/teams/{team}")).await;
    assert!(team_page.body.contains("1 / 2"), "the team's share trained");

    // Attendance taken on the page (a phone): both ticked.
    let csrf = app.csrf(&format!("/app/events/{id}")).await;
    let res = app
        .post_form(
            &format!("/app/events/{id}/attendance"),
            &[("csrf", &csrf), ("member", &an.to_string()), ("member", &hoa.to_string())],
        )
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
    let e = app.json(Method::GET, &format!("/api/v1/events/{id}"), None, Some(&a)).await.json();
    assert_eq!(e["attendees"], 2);
    let page = app.get("/app/events/training?unit=28414").await;
    assert!(page.body.contains("2 / 2"), "{}", page.body);
    // A member's page: the trainings and events they attended.
    let page = app.get(&format!("/app/members/{hoa}")).await;
    assert!(page.body.contains("Tập huấn kỹ năng số cho tổ 📱") && page.body.contains("Tập huấn cũ"), "{}", page.body);
    assert!(page.body.contains("Đã được tập huấn trong 12 tháng qua"), "{}", page.body);
    let show = app.get(&format!("/app/events/{id}")).await;
    assert!(show.body.contains("Tập huấn kỹ năng số cho tổ 📱") && show.body.contains("checked"), "{}", show.body);

    // The form: a refusal shows it again with what was typed.
    let csrf = app.csrf("/app/events/new").await;
    let res = app
        .post_form(
            "/app/events",
            &[
                ("csrf", &csrf),
                ("unit", "28414"),
                ("kind", "seminar"),
                ("title", "Toạ đàm phụ nữ thời số"),
                ("starts_on", "01/08/2024"),
                ("citizens_served", "10"),
                ("served_male", "11"),
            ],
        )
        .await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(res.body.contains("Toạ đàm phụ nữ thời số"), "{}", res.body);
    let res = app
        .post_form(
            "/app/events",
            &[
                ("csrf", &csrf),
                ("unit", "28414"),
                ("kind", "seminar"),
                ("title", "Toạ đàm phụ nữ thời số"),
                ("starts_on", "01/08/2024"),
                ("citizens_served", "10"),
            ],
        )
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
    // The viewer sees no names: no member's page either.
    app.cookies.clear();
    app.login("xem").await;
    assert_eq!(app.get(&format!("/app/members/{hoa}")).await.status, StatusCode::FORBIDDEN);
}

/// Programme figures as indicator terms: the trainings of a period and the citizens they
/// served, the share of members trained in the twelve months to its end.
async fn programme_figures_in_indicators(app: &mut TestApp) {
    let t = app.tree().await;
    app.user("quan.tri", Role::Admin, None).await;
    let admin = app.token("quan.tri").await;
    let leader = app.user("totruong", Role::TeamLeader, Some(&t.hamlet_a)).await;
    let team = app.team_led_by(&t.hamlet_a, leader).await;
    app.second_member(team, None).await;
    let an = ngoso_store::testing::unaudited::members(&app.db, team)
        .await
        .unwrap()
        .iter()
        .find(|m| m.full_name == "Nguyễn Văn An")
        .unwrap()
        .id;
    for (day, kind, served, who) in [
        ("2024-11-05", "training", 30, vec![an]),
        ("2024-12-01", "seminar", 50, vec![]),
        ("2023-03-01", "training", 7, vec![]),
    ] {
        let e = json!({"unit": "28414-01", "kind": kind, "title": "x", "starts_on": day, "citizens_served": served, "attendees": who});
        assert_eq!(app.json(Method::POST, "/api/v1/events", Some(e), Some(&admin)).await.status, StatusCode::CREATED);
    }
    app.json(
        Method::POST,
        "/api/v1/models",
        Some(json!({"unit": "28414", "kind": "other", "name": "m", "status": "running"})),
        Some(&admin),
    )
    .await;
    // The programme's default indicators, and one of the administrator's own.
    let new = json!({"code": "MODELS_RUNNING", "name_vi": "m", "name_en": "m", "kind": "count", "numerator": "programme:models_running"});
    let res = app.json(Method::POST, "/api/v1/indicators", Some(new), Some(&admin)).await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.body);
    let bad = json!({"code": "X9", "name_vi": "x", "name_en": "x", "kind": "count", "numerator": "programme:parades"});
    app.json(Method::POST, "/api/v1/indicators", Some(bad), Some(&admin))
        .await
        .assert_error(StatusCode::UNPROCESSABLE_ENTITY, "indicator-term-invalid");
    let got = app
        .json(Method::GET, &format!("/api/v1/units/{}/indicators?period=2024Q4", t.province.id), None, Some(&admin))
        .await
        .json();
    let find = |code: &str| got["indicators"].as_array().unwrap().iter().find(|i| i["code"] == code).unwrap().clone();
    assert_eq!(find("TRAININGS_HELD")["value"], 1.0, "{got}");
    assert_eq!(find("EVENTS_CITIZENS_SERVED")["value"], 80.0);
    assert_eq!(
        (find("MEMBERS_TRAINED_SHARE")["numerator"].clone(), find("MEMBERS_TRAINED_SHARE")["denominator"].clone()),
        (json!(1), json!(2))
    );
    assert_eq!(find("MODELS_RUNNING")["value"], 1.0);
    assert_eq!(find("MODELS_ACTIVE")["value"], 1.0);
    let other = app
        .json(Method::GET, &format!("/api/v1/units/{}/indicators?period=2024Q4", t.commune_b.id), None, Some(&admin))
        .await
        .json();
    let b = other["indicators"].as_array().unwrap().iter().find(|i| i["code"] == "TRAININGS_HELD").unwrap().clone();
    assert_eq!(b["value"], 0.0, "another commune's: none");
}

async fn events_edited_and_removed(app: &mut TestApp) {
    let t = app.tree().await;
    app.user("canbo.a", Role::Officer, Some(&t.commune_a)).await;
    app.user("canbo.b", Role::Officer, Some(&t.commune_b)).await;
    let leader = app.user("totruong", Role::TeamLeader, Some(&t.hamlet_a)).await;
    let team = app.team_led_by(&t.hamlet_a, leader).await;
    let an = ngoso_store::testing::unaudited::members(&app.db, team).await.unwrap()[0].id;
    let a = app.token("canbo.a").await;
    let b = app.token("canbo.b").await;
    let e = json!({"unit": "28414", "kind": "campaign", "title": "Ngày chủ nhật số", "starts_on": "2026-03-01",
        "citizens_served": 120, "attendees": [an]});
    let id = app.json(Method::POST, "/api/v1/events", Some(e.clone()), Some(&a)).await.json()["id"].as_i64().unwrap();
    let path = format!("/api/v1/events/{id}");

    // Edited by the commune: the fields change, its unit and attendance stay.
    let mut changed = e.clone();
    changed["title"] = json!("Ngày chủ nhật số 🌟");
    changed["citizens_served"] = json!(150);
    changed["unit"] = json!("27700");
    let res = app.json(Method::PUT, &path, Some(changed.clone()), Some(&a)).await;
    assert_eq!(res.status, StatusCode::NO_CONTENT, "{}", res.body);
    let got = app.json(Method::GET, &path, None, Some(&a)).await.json();
    assert_eq!((got["title"].as_str(), got["citizens_served"].as_i64()), (Some("Ngày chủ nhật số 🌟"), Some(150)));
    assert_eq!((got["unit_code"].as_str(), got["attendees"].as_i64()), (Some("28414"), Some(1)));
    // Refused whole: bad input, another commune's officer; nothing changed.
    let mut bad = changed.clone();
    bad["starts_on"] = json!("31/02/2026");
    bad["title"] = json!("đổi");
    app.json(Method::PUT, &path, Some(bad), Some(&a))
        .await
        .assert_error(StatusCode::UNPROCESSABLE_ENTITY, "date-invalid");
    app.json(Method::PUT, &path, Some(changed.clone()), Some(&b))
        .await
        .assert_error(StatusCode::NOT_FOUND, "not-found");
    app.json(Method::DELETE, &path, None, Some(&b)).await.assert_error(StatusCode::NOT_FOUND, "not-found");
    assert_eq!(app.json(Method::GET, &path, None, Some(&a)).await.json()["title"], "Ngày chủ nhật số 🌟");

    // From the pages: the form filled with what was recorded, sent back, then removed.
    app.login("canbo.a").await;
    let form = app.get(&format!("/app/events/{id}/edit")).await;
    assert!(form.body.contains("Ngày chủ nhật số 🌟") && form.body.contains("01/03/2026"), "{}", form.body);
    let csrf = app.csrf(&format!("/app/events/{id}")).await;
    let res = app
        .post_form(
            &format!("/app/events/{id}"),
            &[("csrf", &csrf), ("kind", "campaign"), ("title", ""), ("starts_on", "01/03/2026")],
        )
        .await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(res.body.contains("notice error"), "{}", res.body);
    let res = app
        .post_form(
            &format!("/app/events/{id}"),
            &[("csrf", &csrf), ("kind", "seminar"), ("title", "Toạ đàm"), ("starts_on", "02/03/2026")],
        )
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
    assert_eq!(app.json(Method::GET, &path, None, Some(&a)).await.json()["kind"], "seminar");
    let res = app.post_form(&format!("/app/events/{id}/delete"), &[("csrf", &csrf)]).await;
    assert_eq!(res.status, StatusCode::SEE_OTHER);
    app.json(Method::GET, &path, None, Some(&a)).await.assert_error(StatusCode::NOT_FOUND, "not-found");
    let attendance: i64 = ngoso_store::on_db!(&app.db, p => sqlx::query_scalar("SELECT COUNT(*) FROM event_attendance")
        .fetch_one(p).await)
    .unwrap();
    assert_eq!(attendance, 0, "its attendance went with it");
    let logged: i64 = ngoso_store::on_db!(&app.db, p => sqlx::query_scalar(
        "SELECT COUNT(*) FROM audit_log WHERE action IN ('event.update', 'event.delete')").fetch_one(p).await)
    .unwrap();
    assert_eq!(logged, 3);
}

async fn events_imported_from_a_file(app: &mut TestApp) {
    let t = app.tree().await;
    app.user("canbo.a", Role::Officer, Some(&t.commune_a)).await;
    let a = app.token("canbo.a").await;
    let csv = |body: &str| {
        axum::http::Request::post("/api/v1/events/import")
            .header("authorization", format!("Bearer {a}"))
            .header("content-type", "text/csv")
            .body(axum::body::Body::from(body.to_owned()))
            .unwrap()
    };
    let count = |app: &TestApp| {
        let db = app.db.clone();
        async move {
            ngoso_store::on_db!(&db, p => sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM events").fetch_one(p).await)
                .unwrap()
        }
    };
    let header = "unit_code,kind,title,starts_on,citizens_served,served_male,served_female,opening_days\n";
    // One bad line refuses the file, named; another commune's unit too.
    for (rows, code, row) in [
        ("28414,training,Tập huấn 1,2025-03-01,,,,\n28414,training,Tập huấn 2,31/02/2025,,,,\n", "date-invalid", 3),
        ("28414,training,Tập huấn 1,2025-03-01,,,,\n27700,campaign,Ra quân,2025-04-01,50,20,30,\n", "unit-unknown", 3),
        ("28414,parade,Diễu hành,2025-03-01,,,,\n", "event-kind-invalid", 2),
    ] {
        let res = app.send(csv(&format!("{header}{rows}"))).await;
        res.assert_error(StatusCode::UNPROCESSABLE_ENTITY, code);
        assert_eq!(res.json()["error"]["row"], row, "{}", res.body);
    }
    assert_eq!(count(app).await, 0, "nothing recorded");
    let good = format!(
        "{header}28414,training,Tập huấn kỹ năng số 📱,2025-03-01,,,,\n28414-01,help_counter,Quầy hỗ trợ,01/04/2025,300,140,160,\"mon, fri\"\n"
    );
    let res = app.send(csv(&good)).await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.body);
    let ids = res.json();
    let counter = app.json(Method::GET, &format!("/api/v1/events/{}", ids[1]), None, Some(&a)).await.json();
    assert_eq!((counter["opening_days"].as_str(), counter["citizens_served"].as_i64()), (Some("mon,fri"), Some(300)));
    assert_eq!(counter["unit_code"], "28414-01");

    // From the events page: a file uploaded, the list says how many.
    app.login("canbo.a").await;
    let page = app.get("/app/events?year=2025").await;
    assert!(page.body.contains("Tập huấn kỹ năng số 📱") && page.body.contains("action=\"/app/events/import\""));
    let csrf = app.csrf("/app/events").await;
    let boundary = "XyZ";
    let body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\n{csrf}\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"events.csv\"\r\nContent-Type: text/csv\r\n\r\n{header}28414,seminar,Toạ đàm,2025-05-01,,,,\r\n--{boundary}--\r\n"
    );
    let req = axum::http::Request::post("/app/events/import")
        .header("content-type", format!("multipart/form-data; boundary={boundary}"))
        .body(axum::body::Body::from(body))
        .unwrap();
    let res = app.send(req).await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
    let list = app.get(&res.location()).await;
    assert!(list.body.contains("notice ok"), "{}", list.body);
    assert_eq!(count(app).await, 3);
}

http_tests!(
    trainings_attended_and_missed,
    programme_figures_in_indicators,
    events_edited_and_removed,
    events_imported_from_a_file
);
