//! Creative models: recorded in a unit by those who run its programmes, read by everyone in
//! the catalogue (filtered by unit, kind, status, year and name, and as CSV), moved forward
//! or stopped, copied into another unit; bad input refused whole.

use axum::http::{Method, StatusCode};
use ngoso_core::auth::Role;
use serde_json::{Value, json};

use crate::http_tests;
use crate::support::TestApp;

fn street() -> Value {
    json!({"unit": "28414", "kind": "digital_street", "name": "Tuyến phố số chợ Phước Lý 🏮",
        "description": "Mỗi cửa hàng một mã QR,\nthanh toán không tiền mặt.", "started_on": "2024-03-15",
        "partners": "Viettel Long An\nĐoàn xã", "outcomes": {"qr_plaques": "120", "people_served": "3.400"},
        "links": [{"url": "https://example.org/pho-so", "title": "Bài báo"}]})
}

async fn count(app: &TestApp) -> i64 {
    ngoso_store::on_db!(&app.db, p => sqlx::query_scalar("SELECT COUNT(*) FROM models").fetch_one(p).await).unwrap()
}

async fn models_recorded_found_moved_and_copied(app: &mut TestApp) {
    let t = app.tree().await;
    app.user("canbo.a", Role::Officer, Some(&t.commune_a)).await;
    app.user("canbo.b", Role::Officer, Some(&t.commune_b)).await;
    let leader = app.user("totruong", Role::TeamLeader, Some(&t.hamlet_a)).await;
    app.user("thanhvien", Role::Member, Some(&t.hamlet_a)).await;
    app.user("xem", Role::Viewer, Some(&t.district_b)).await;
    let a = app.token("canbo.a").await;
    let b = app.token("canbo.b").await;

    // Recorded by the commune's officer, with its figures and links.
    let res = app.json(Method::POST, "/api/v1/models", Some(street()), Some(&a)).await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.body);
    let id = res.json()["id"].as_i64().unwrap();
    let m = app.json(Method::GET, &format!("/api/v1/models/{id}"), None, Some(&b)).await.json();
    assert_eq!(m["name"], "Tuyến phố số chợ Phước Lý 🏮");
    assert_eq!(m["status"], "proposed");
    assert_eq!(m["unit_code"], "28414");
    assert_eq!(m["partners"], "Viettel Long An\nĐoàn xã");
    assert_eq!(m["outcomes"][0]["measure"], "people_served");
    assert_eq!(m["outcomes"][0]["value"], 3400);
    assert_eq!(m["outcomes"][1]["value"], 120);
    assert_eq!(m["links"][0]["url"], "https://example.org/pho-so");
    // A team leader records one of their hamlet's, already running (after the fact).
    let tl = app.token("totruong").await;
    let counter = json!({"unit": "28414-01", "kind": "help_counter", "name": "Quầy thanh niên hỗ trợ người dân", "status": "running"});
    let res = app.json(Method::POST, "/api/v1/models", Some(counter), Some(&tl)).await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.body);
    let counter = res.json()["id"].as_i64().unwrap();

    // Refused whole, nothing written: a member, a unit not theirs, bad kinds and figures.
    let member = app.token("thanhvien").await;
    let mut own = street();
    own["unit"] = json!("28414-01");
    app.json(Method::POST, "/api/v1/models", Some(own), Some(&member))
        .await
        .assert_error(StatusCode::FORBIDDEN, "forbidden");
    let mut other = street();
    other["unit"] = json!("27700");
    app.json(Method::POST, "/api/v1/models", Some(other), Some(&a))
        .await
        .assert_error(StatusCode::UNPROCESSABLE_ENTITY, "unit-unknown");
    for (field, value, code) in [
        ("kind", json!("parade"), "model-kind-unknown"),
        ("outcomes", json!({"qr_plaques": "-1"}), "model-outcome-invalid"),
        ("outcomes", json!({"smiles": "3"}), "model-measure-unknown"),
        ("links", json!([{"url": "javascript:alert(1)"}]), "url-invalid"),
        ("name", json!("  "), "required"),
        ("started_on", json!("31/02/2024"), "date-invalid"),
        ("status", json!("done"), "model-status-invalid"),
    ] {
        let mut bad = street();
        bad[field] = value;
        app.json(Method::POST, "/api/v1/models", Some(bad), Some(&a))
            .await
            .assert_error(StatusCode::UNPROCESSABLE_ENTITY, code);
    }
    assert_eq!(count(app).await, 2);

    // The catalogue: everyone reads it all, filtered.
    let viewer = app.token("xem").await;
    let all = app.json(Method::GET, "/api/v1/models", None, Some(&viewer)).await.json();
    assert_eq!(all["models"].as_array().unwrap().len(), 2, "{all}");
    let names =
        |v: &Value| v["models"].as_array().unwrap().iter().map(|m| m["id"].as_i64().unwrap()).collect::<Vec<_>>();
    for (q, want) in [
        ("kind=digital_street", vec![id]),
        ("status=running", vec![counter]),
        ("unit=28414-01", vec![counter]),
        ("unit=27700", vec![]),
        ("year=2024", vec![id]),
        ("q=pho so", vec![id]),
        ("q=QUẦY", vec![counter]),
    ] {
        let got = app
            .json(
                Method::GET,
                &format!("/api/v1/models?{}", q.replace(' ', "%20").replace("QUẦY", "QU%E1%BA%A6Y")),
                None,
                Some(&viewer),
            )
            .await;
        assert_eq!(names(&got.json()), want, "{q}: {}", got.body);
    }
    let this_year = chrono::Utc::now().format("%Y").to_string();
    let got = app.json(Method::GET, &format!("/api/v1/models?year={this_year}"), None, Some(&viewer)).await.json();
    assert_eq!(names(&got), [counter], "a model with no start day counts in the year it was recorded");
    app.json(Method::GET, "/api/v1/models?status=done", None, Some(&viewer))
        .await
        .assert_error(StatusCode::UNPROCESSABLE_ENTITY, "model-status-invalid");
    let csv = app.json(Method::GET, "/api/v1/models?format=csv&kind=digital_street", None, Some(&viewer)).await;
    assert_eq!(csv.header("content-type").as_deref(), Some("text/csv; charset=utf-8"));
    let mut lines = csv.body.trim_start_matches('\u{feff}').lines();
    let head = lines.next().unwrap();
    assert!(head.starts_with("id,unit_code,unit,kind,name,status") && head.contains("qr_plaques"), "{head}");
    let row = lines.next().unwrap();
    assert!(
        row.contains("Tuyến phố số chợ Phước Lý 🏮")
            && row.contains(",120,")
            && row.contains("Viettel Long An; Đoàn xã"),
        "{row}"
    );
    assert!(lines.next().is_none());

    // Moves: forward, or stopped; never back, nothing after evaluation.
    let mv = |to: &str| json!({"status": to});
    let url = format!("/api/v1/models/{id}/status");
    app.json(Method::POST, &url, Some(mv("evaluated")), Some(&a))
        .await
        .assert_error(StatusCode::UNPROCESSABLE_ENTITY, "model-status-move");
    assert_eq!(app.json(Method::POST, &url, Some(mv("running")), Some(&a)).await.status, StatusCode::NO_CONTENT);
    app.json(Method::POST, &url, Some(mv("proposed")), Some(&a))
        .await
        .assert_error(StatusCode::UNPROCESSABLE_ENTITY, "model-status-move");
    app.json(Method::POST, &url, Some(mv("running")), Some(&b)).await.assert_error(StatusCode::FORBIDDEN, "forbidden");
    assert_eq!(app.json(Method::POST, &url, Some(mv("evaluated")), Some(&a)).await.status, StatusCode::NO_CONTENT);
    app.json(Method::POST, &url, Some(mv("stopped")), Some(&a))
        .await
        .assert_error(StatusCode::UNPROCESSABLE_ENTITY, "model-status-move");

    // Edited whole by its unit's officer; not by another commune's.
    let mut edit = street();
    edit["name"] = json!("Tuyến phố số Phước Lý");
    edit["outcomes"] = json!({"qr_plaques": "150"});
    app.json(Method::PUT, &format!("/api/v1/models/{id}"), Some(edit.clone()), Some(&b))
        .await
        .assert_error(StatusCode::FORBIDDEN, "forbidden");
    assert_eq!(
        app.json(Method::PUT, &format!("/api/v1/models/{id}"), Some(edit), Some(&a)).await.status,
        StatusCode::NO_CONTENT
    );
    let m = app.json(Method::GET, &format!("/api/v1/models/{id}"), None, Some(&b)).await.json();
    assert_eq!(
        (m["name"].as_str(), m["outcomes"].as_array().unwrap().len(), m["status"].as_str()),
        (Some("Tuyến phố số Phước Lý"), 1, Some("evaluated"))
    );

    // Copied by another commune: proposed in its unit, naming the original, its own figures to come.
    let res = app.json(Method::POST, &format!("/api/v1/models/{id}/copy"), Some(json!({})), Some(&b)).await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.body);
    let copy = app.json(Method::GET, &format!("/api/v1/models/{}", res.json()["id"]), None, Some(&b)).await.json();
    assert_eq!(
        (copy["unit_code"].as_str(), copy["status"].as_str(), copy["kind"].as_str()),
        (Some("27700"), Some("proposed"), Some("digital_street"))
    );
    assert_eq!(copy["copied_from"], id);
    assert_eq!(copy["copied_from_name"], "Tuyến phố số Phước Lý");
    assert_eq!(copy["outcomes"], json!([]));
    assert_eq!(copy["links"][0]["url"], "https://example.org/pho-so");
    app.json(Method::POST, &format!("/api/v1/models/{id}/copy"), Some(json!({})), Some(&member))
        .await
        .assert_error(StatusCode::FORBIDDEN, "forbidden");
    app.json(Method::GET, "/api/v1/models/999999", None, Some(&b))
        .await
        .assert_error(StatusCode::NOT_FOUND, "not-found");

    // The members who run it: of the model's unit's teams only; their names only to those
    // who may see people (logged).
    let team_a = app.team_led_by(&t.hamlet_a, leader).await;
    let member_a = ngoso_store::testing::unaudited::members(&app.db, team_a).await.unwrap()[0].id;
    let lead_b = app.user("totruong.b", Role::TeamLeader, Some(&t.hamlet_b)).await;
    let team_b = app.team_led_by(&t.hamlet_b, lead_b).await;
    let member_b = ngoso_store::testing::unaudited::members(&app.db, team_b).await.unwrap()[0].id;
    let mut with = street();
    with["members"] = json!([member_b]);
    app.json(Method::PUT, &format!("/api/v1/models/{id}"), Some(with.clone()), Some(&a))
        .await
        .assert_error(StatusCode::UNPROCESSABLE_ENTITY, "model-member-unknown");
    assert_eq!(
        app.json(Method::GET, &format!("/api/v1/models/{id}"), None, Some(&a)).await.json()["name"],
        "Tuyến phố số Phước Lý"
    );
    with["members"] = json!([member_a]);
    assert_eq!(
        app.json(Method::PUT, &format!("/api/v1/models/{id}"), Some(with), Some(&a)).await.status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        app.json(Method::GET, &format!("/api/v1/models/{id}"), None, Some(&b)).await.json()["member_ids"],
        json!([member_a])
    );

    // Photos: checked and stripped (no GPS kept), at most 12, removed by the unit's officer.
    let jpeg = crate::support::jpeg_with_gps();
    let req = axum::http::Request::post(format!("/api/v1/models/{id}/photos?caption=Ch%E1%BB%A3%20%F0%9F%93%B7"))
        .header("authorization", format!("Bearer {a}"))
        .header("content-type", "image/jpeg")
        .body(axum::body::Body::from(jpeg.clone()))
        .unwrap();
    let res = app.send(req).await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.body);
    let pid = res.json()["id"].as_i64().unwrap();
    let got = app.json(Method::GET, &format!("/api/v1/models/{id}/photos/{pid}"), None, Some(&viewer)).await;
    assert_eq!(got.header("content-type").as_deref(), Some("image/jpeg"));
    assert!(!String::from_utf8_lossy(&got.bytes).contains("GPSLatitude") && got.bytes.len() < jpeg.len(), "stripped");
    let m = app.json(Method::GET, &format!("/api/v1/models/{id}"), None, Some(&b)).await.json();
    assert_eq!(m["photos"][0]["caption"], "Chợ 📷");
    let svg = axum::http::Request::post(format!("/api/v1/models/{id}/photos"))
        .header("authorization", format!("Bearer {a}"))
        .body(axum::body::Body::from("<svg onload=alert(1)>"))
        .unwrap();
    app.send(svg).await.assert_error(StatusCode::UNPROCESSABLE_ENTITY, "photo-type");
    let other = axum::http::Request::post(format!("/api/v1/models/{id}/photos"))
        .header("authorization", format!("Bearer {b}"))
        .body(axum::body::Body::from(jpeg.clone()))
        .unwrap();
    app.send(other).await.assert_error(StatusCode::FORBIDDEN, "forbidden");
    let res = app.json(Method::DELETE, &format!("/api/v1/models/{id}/photos/{pid}"), None, Some(&a)).await;
    assert_eq!(res.status, StatusCode::NO_CONTENT);
    app.json(Method::GET, &format!("/api/v1/models/{id}/photos/{pid}"), None, Some(&a))
        .await
        .assert_error(StatusCode::NOT_FOUND, "not-found");

    let kinds = app.json(Method::GET, "/api/v1/modelKinds", None, Some(&viewer)).await.json();
    let codes: Vec<&str> = kinds["kinds"].as_array().unwrap().iter().map(|k| k["code"].as_str().unwrap()).collect();
    assert_eq!(codes, ["digital_street", "digital_heritage", "contest", "seminar", "help_counter", "other"]);
    let logged: i64 = ngoso_store::on_db!(&app.db, p => sqlx::query_scalar(
        "SELECT COUNT(*) FROM audit_log WHERE object_type = 'model' AND action NOT LIKE '%.read'").fetch_one(p).await)
    .unwrap();
    let photo_reads: i64 = ngoso_store::on_db!(&app.db, p => sqlx::query_scalar(
        "SELECT COUNT(*) FROM audit_log WHERE action = 'model.photo.read'").fetch_one(p).await)
    .unwrap();
    assert_eq!(photo_reads, 1, "a photo read is logged");
    assert_eq!(logged, 9, "created twice, moved twice, edited twice, copied, a photo added and deleted");
}

async fn the_pages_record_and_copy(app: &mut TestApp) {
    let t = app.tree().await;
    app.user("canbo.a", Role::Officer, Some(&t.commune_a)).await;
    app.user("canbo.b", Role::Officer, Some(&t.commune_b)).await;
    app.login("canbo.a").await;
    let form = app.get("/app/models/new").await;
    assert_eq!(form.status, StatusCode::OK);
    assert!(form.body.contains("value=\"28414\""), "the officer's own unit is offered");
    let csrf = app.csrf("/app/models/new").await;
    let fields = [
        ("csrf", csrf.as_str()),
        ("unit", "28414"),
        ("status", "proposed"),
        ("kind", "contest"),
        ("name", "Cuộc thi ảnh “Phụ nữ nông thôn thời số” 📷"),
        ("description", "Ảnh và video"),
        ("started_on", "2024-08-01"),
        ("partners", "Hội Phụ nữ"),
        ("outcome-entries_received", "86"),
        ("link_url_0", "https://example.org/cuoc-thi"),
        ("link_title_0", "Thể lệ"),
        ("link_url_1", ""),
    ];
    let res = app.post_form("/app/models", &fields).await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
    let page = app.get(&res.location()).await;
    assert!(
        page.body.contains("Phụ nữ nông thôn thời số") && page.body.contains("86") && page.body.contains("Thể lệ"),
        "{}",
        page.body
    );
    let id: i64 = res.location().rsplit('/').next().unwrap().parse().unwrap();
    // A bad figure shows the form again, with what was typed and the reason.
    let mut bad = fields.to_vec();
    bad[8] = ("outcome-entries_received", "nhiều");
    let res = app.post_form("/app/models", &bad).await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(res.body.contains("nhiều") && res.body.contains("Phụ nữ nông thôn thời số"), "{}", res.body);
    // A photo from the page (multipart), shown on it; the edit form offers the unit's team
    // members to name.
    let lead = app.user("totruong", Role::TeamLeader, Some(&t.hamlet_a)).await;
    app.team_led_by(&t.hamlet_a, lead).await;
    let csrf = app.csrf(&format!("/app/models/{id}")).await;
    let boundary = "XyZ";
    let mut body = format!("--{boundary}\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\n{csrf}\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"caption\"\r\n\r\nGiải nhất\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"photo\"; filename=\"a.jpg\"\r\nContent-Type: image/jpeg\r\n\r\n").into_bytes();
    body.extend(crate::support::jpeg_with_gps());
    body.extend(format!("\r\n--{boundary}--\r\n").into_bytes());
    let req = axum::http::Request::post(format!("/app/models/{id}/photos"))
        .header("content-type", format!("multipart/form-data; boundary={boundary}"))
        .body(axum::body::Body::from(body))
        .unwrap();
    let res = app.send(req).await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
    let page = app.get(&format!("/app/models/{id}")).await;
    assert!(
        page.body.contains("Giải nhất") && page.body.contains(&format!("/app/models/{id}/photos/")),
        "{}",
        page.body
    );
    let edit = app.get(&format!("/app/models/{id}/edit")).await;
    assert!(edit.body.contains("name=\"member\"") && edit.body.contains("Nguyễn Văn An"), "{}", edit.body);
    // Moved from the page.
    let csrf = app.csrf(&format!("/app/models/{id}")).await;
    let res = app.post_form(&format!("/app/models/{id}/status"), &[("csrf", &csrf), ("status", "running")]).await;
    assert_eq!(res.status, StatusCode::SEE_OTHER);
    let res = app.post_form(&format!("/app/models/{id}/status"), &[("csrf", &csrf), ("status", "proposed")]).await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(res.body.contains("notice error"), "{}", res.body);
    // The catalogue lists it, and the other commune copies it.
    let list = app.get("/app/models?kind=contest").await;
    assert!(list.body.contains(&format!("/app/models/{id}")));
    app.cookies.clear();
    app.login("canbo.b").await;
    let page = app.get(&format!("/app/models/{id}")).await;
    assert!(page.body.contains(&format!("/app/models/{id}/copy")) && !page.body.contains("/edit\""), "{}", page.body);
    let csrf = app.csrf(&format!("/app/models/{id}")).await;
    let res = app.post_form(&format!("/app/models/{id}/copy"), &[("csrf", &csrf)]).await;
    assert_eq!(res.status, StatusCode::SEE_OTHER);
    assert!(res.location().ends_with("/edit"));
    let edit = app.get(&res.location()).await;
    assert!(edit.body.contains("Phụ nữ nông thôn thời số"), "{}", edit.body);
    let csv = app.get("/app/models/export.csv?unit=27700").await;
    assert!(csv.body.contains("Phụ nữ nông thôn thời số") && csv.body.contains(",proposed,"), "{}", csv.body);
}

async fn evaluated_ranked_and_awarded(app: &mut TestApp) {
    let t = app.tree().await;
    app.user("canbo.a", Role::Officer, Some(&t.commune_a)).await;
    app.user("canbo.b", Role::Officer, Some(&t.commune_b)).await;
    let a = app.token("canbo.a").await;
    let b = app.token("canbo.b").await;
    let mut ids = Vec::new();
    for (unit, name) in [("28414", "Tuyến phố số"), ("28414-01", "Quầy hỗ trợ"), ("27700", "Toạ đàm phụ nữ")]
    {
        let tok = if unit == "27700" { &b } else { &a };
        let body = json!({"unit": unit, "kind": "other", "name": name, "status": "running"});
        let res = app.json(Method::POST, "/api/v1/models", Some(body), Some(tok)).await;
        ids.push(res.json()["id"].as_i64().unwrap());
    }
    let proposed = app
        .json(
            Method::POST,
            "/api/v1/models",
            Some(json!({"unit": "28414", "kind": "other", "name": "Ý tưởng"})),
            Some(&a),
        )
        .await;
    let proposed = proposed.json()["id"].as_i64().unwrap();
    let sets = app.json(Method::GET, "/api/v1/criteriaSets", None, Some(&a)).await.json();
    assert_eq!(sets[0]["criteria"].as_array().unwrap().len(), 4);
    let scores = |e: i64, r: i64, p: i64, s: i64| json!({"effectiveness": e.to_string(), "reach": r.to_string(), "replicability": p.to_string(), "sustainability": s.to_string()});
    let eval = |sc: Value, day: &str| json!({"evaluated_on": day, "comment": "Tốt 👍", "scores": sc});
    let post = |id: i64| format!("/api/v1/models/{id}/evaluations");
    // Every criterion scored, within its maximum; only running or evaluated models.
    let mut missing = scores(30, 25, 25, 20);
    missing.as_object_mut().unwrap().remove("reach");
    for (body, code) in [
        (eval(missing, "2024-06-01"), "evaluation-score-missing"),
        (eval(scores(31, 25, 25, 20), "2024-06-01"), "evaluation-score-invalid"),
        (
            eval(
                json!({"effectiveness": "1", "reach": "1", "replicability": "1", "sustainability": "1", "beauty": "9"}),
                "2024-06-01",
            ),
            "evaluation-criterion-unknown",
        ),
    ] {
        app.json(Method::POST, &post(ids[0]), Some(body), Some(&a))
            .await
            .assert_error(StatusCode::UNPROCESSABLE_ENTITY, code);
    }
    app.json(Method::POST, &post(proposed), Some(eval(scores(1, 1, 1, 1), "2024-06-01")), Some(&a))
        .await
        .assert_error(StatusCode::UNPROCESSABLE_ENTITY, "model-not-running");
    app.json(Method::POST, &post(ids[0]), Some(eval(scores(1, 1, 1, 1), "2024-06-01")), Some(&b))
        .await
        .assert_error(StatusCode::FORBIDDEN, "forbidden");
    // 90, then 70: a mean of 80 %; the second model 85 %; the third in another commune 60 %.
    for (id, sc, tok) in [
        (ids[0], scores(30, 20, 25, 15), &a),
        (ids[0], scores(20, 20, 20, 10), &a),
        (ids[1], scores(25, 25, 20, 15), &a),
        (ids[2], scores(20, 15, 15, 10), &b),
    ] {
        let res = app.json(Method::POST, &post(id), Some(eval(sc, "2024-06-01")), Some(tok)).await;
        assert_eq!(res.status, StatusCode::CREATED, "{}", res.body);
    }
    // A 2023 evaluation does not count in 2024.
    app.json(Method::POST, &post(ids[1]), Some(eval(scores(0, 0, 0, 0), "2023-12-31")), Some(&a)).await;
    let m = app.json(Method::GET, &format!("/api/v1/models/{}", ids[0]), None, Some(&a)).await.json();
    assert_eq!(m["status"], "evaluated", "an evaluation marks a running model evaluated");
    let list = app.json(Method::GET, &format!("/api/v1/models/{}/evaluations", ids[0]), None, Some(&b)).await.json();
    assert_eq!((list[0]["total"].as_i64(), list[0]["max_total"].as_i64()), (Some(70), Some(100)));
    assert_eq!(list[0]["scores"][0]["criterion"], "effectiveness");
    let csv = app.json(Method::GET, &format!("/api/v1/models/{}/evaluations?format=csv", ids[0]), None, Some(&b)).await;
    assert!(csv.body.contains("reviewer,evaluated_on,total") && csv.body.contains("effectiveness="), "{}", csv.body);
    let rank = app.json(Method::GET, "/api/v1/models/ranking?unit=28414&year=2024", None, Some(&b)).await.json();
    let got: Vec<(i64, f64)> = rank
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["model_id"].as_i64().unwrap(), r["score"].as_f64().unwrap()))
        .collect();
    assert_eq!(got, [(ids[1], 85.0), (ids[0], 80.0)]);
    let all = app.json(Method::GET, "/api/v1/models/ranking?year=2024", None, Some(&b)).await.json();
    assert_eq!(all.as_array().unwrap().len(), 3);
    let page = app.login("canbo.b").await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    let ranking = app.get("/app/models/ranking?unit=28414&year=2024").await;
    assert!(ranking.body.contains("85 %") && ranking.body.contains("80 %"), "{}", ranking.body);

    // Awards: to exactly one recipient, by the recipient's unit; a certificate that prints.
    let award = |body: Value| body;
    for (body, status, code) in [
        (
            award(json!({"title": "Mô hình tiêu biểu", "level": "province", "awarded_on": "2024-12-20"})),
            StatusCode::UNPROCESSABLE_ENTITY,
            "award-recipient-required",
        ),
        (
            award(json!({"title": "Mô hình tiêu biểu", "level": "galaxy", "model_id": ids[2]})),
            StatusCode::UNPROCESSABLE_ENTITY,
            "award-level-invalid",
        ),
        (
            award(json!({"title": "Mô hình tiêu biểu", "level": "province", "model_id": 999999})),
            StatusCode::UNPROCESSABLE_ENTITY,
            "award-recipient-unknown",
        ),
        (
            award(json!({"title": "Mô hình tiêu biểu", "level": "province", "model_id": ids[1]})),
            StatusCode::FORBIDDEN,
            "forbidden",
        ),
    ] {
        app.json(Method::POST, "/api/v1/awards", Some(body), Some(&b)).await.assert_error(status, code);
    }
    let res = app.json(Method::POST, "/api/v1/awards", Some(json!({"title": "Mô hình tiêu biểu năm 2024 🏆", "level": "province", "awarded_on": "2024-12-20", "model_id": ids[1]})), Some(&a)).await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.body);
    let cert = app.get(&res.location()).await;
    assert_eq!(cert.status, StatusCode::OK);
    assert!(
        cert.body.contains("Mô hình tiêu biểu năm 2024 🏆")
            && cert.body.contains("Quầy hỗ trợ")
            && cert.body.contains("20/12/2024"),
        "{}",
        cert.body
    );
    let awards = app.json(Method::GET, "/api/v1/awards?unit=80&year=2024", None, Some(&b)).await.json();
    assert_eq!(awards[0]["recipient"], "Quầy hỗ trợ");
    let none = app.json(Method::GET, "/api/v1/awards?unit=80&year=2023", None, Some(&b)).await.json();
    assert_eq!(none, json!([]));
    let csv = app.json(Method::GET, "/api/v1/awards?unit=80&year=2024&format=csv", None, Some(&b)).await;
    assert!(csv.body.contains("Mô hình tiêu biểu năm 2024 🏆,province,2024-12-20"), "{}", csv.body);
    let csv = app.json(Method::GET, "/api/v1/models/ranking?unit=28414&year=2024&format=csv", None, Some(&b)).await;
    let lines: Vec<&str> = csv.body.trim_start_matches('\u{feff}').lines().collect();
    assert_eq!(lines[0], "rank,model_id,name,unit_code,unit,kind,evaluations,score");
    assert!(lines[1].starts_with(&format!("1,{},Quầy hỗ trợ,", ids[1])) && lines[1].ends_with(",85"), "{}", csv.body);
    app.json(Method::GET, "/api/v1/awards?format=pdf", None, Some(&b))
        .await
        .assert_error(StatusCode::UNPROCESSABLE_ENTITY, "format-invalid");
}

async fn teams_and_members_awarded_from_their_pages(app: &mut TestApp) {
    let t = app.tree().await;
    app.user("canbo.a", Role::Officer, Some(&t.commune_a)).await;
    app.user("canbo.b", Role::Officer, Some(&t.commune_b)).await;
    let leader = app.user("totruong", Role::TeamLeader, Some(&t.hamlet_a)).await;
    let team = app.team_led_by(&t.hamlet_a, leader).await;
    let member = ngoso_store::testing::unaudited::members(&app.db, team).await.unwrap()[0].id;
    app.login("canbo.a").await;
    let page = app.get(&format!("/app/teams/{team}")).await;
    assert!(page.body.contains("action=\"/app/awards\"") && page.body.contains("name=\"team_id\""), "{}", page.body);
    let csrf = app.csrf(&format!("/app/teams/{team}")).await;
    let res = app
        .post_form(
            "/app/awards",
            &[("csrf", &csrf), ("team_id", &team.to_string()), ("title", "Tổ tiêu biểu 🏆"), ("level", "commune")],
        )
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
    assert!(res.location().ends_with("/certificate"));
    assert!(app.get(&format!("/app/teams/{team}")).await.body.contains("Tổ tiêu biểu 🏆"));
    let member_page = format!("/app/members/{member}");
    assert!(app.get(&member_page).await.body.contains("name=\"member_id\""));
    let res = app
        .post_form(
            "/app/awards",
            &[
                ("csrf", &csrf),
                ("member_id", &member.to_string()),
                ("title", "Thành viên tiêu biểu"),
                ("level", "province"),
            ],
        )
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
    let cert = app.get(&res.location()).await;
    assert!(cert.body.contains("Nguyễn Văn An") && cert.body.contains("Thành viên tiêu biểu"), "{}", cert.body);
    assert!(app.get(&member_page).await.body.contains("Thành viên tiêu biểu"));
    // Refused: a bad level, no recipient, another commune's officer; nothing given.
    let res = app
        .post_form(
            "/app/awards",
            &[("csrf", &csrf), ("team_id", &team.to_string()), ("title", "x"), ("level", "galactic")],
        )
        .await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    let res = app.post_form("/app/awards", &[("csrf", &csrf), ("title", "x"), ("level", "commune")]).await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    app.cookies.clear();
    app.login("canbo.b").await;
    let csrf = app.csrf("/app/models").await;
    let res = app
        .post_form(
            "/app/awards",
            &[("csrf", &csrf), ("team_id", &team.to_string()), ("title", "x"), ("level", "commune")],
        )
        .await;
    assert_eq!(res.status, StatusCode::FORBIDDEN);
    let given: i64 =
        ngoso_store::on_db!(&app.db, p => sqlx::query_scalar("SELECT COUNT(*) FROM awards").fetch_one(p).await)
            .unwrap();
    assert_eq!(given, 2);
}

http_tests!(
    models_recorded_found_moved_and_copied,
    the_pages_record_and_copy,
    evaluated_ranked_and_awarded,
    teams_and_members_awarded_from_their_pages
);
