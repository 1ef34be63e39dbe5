//! Door-to-door outreach through the pages and the API: teams, households, visits, figures,
//! walk lists, corrections, consent — and who may see and do what.

use axum::http::{Method, StatusCode};
use ngoso_core::auth::Role;
use ngoso_store::Backend;
use ngoso_web::WebConfig;
use serde_json::json;

use crate::support::{TestApp, Tree};
use crate::tests_with_app;

const KEY: &str = "test-cccd-key-0123456789abcdef0123456789";

async fn app(backend: Backend) -> Option<TestApp> {
    TestApp::with_config(backend, WebConfig { cccd_key: ngoso_core::secret::Secret::new(KEY), ..WebConfig::default() })
        .await
}

/// A tree, a team in hamlet A with a leader account, an officer of commune A, a member of
/// commune B's team.
struct Setup {
    t: Tree,
    team_a: i64,
    team_b: i64,
}

async fn setup(app: &mut TestApp) -> Setup {
    let t = app.tree().await;
    app.user("canbo.xa", Role::Officer, Some(&t.commune_a)).await;
    let leader = app.user("totruong", Role::TeamLeader, Some(&t.hamlet_a)).await;
    let other = app.user("thanhvien.b", Role::Member, Some(&t.commune_b)).await;
    let team_a = ngoso_store::teams::create(&app.db, t.hamlet_a.id, "Tổ CNSCĐ Ấp 1").await.unwrap();
    let team_b = ngoso_store::teams::create(&app.db, t.commune_b.id, "Tổ CNSCĐ Vĩnh Lợi").await.unwrap();
    let day = chrono::NaiveDate::from_ymd_opt(2024, 1, 1).unwrap();
    for (team, user) in [(team_a, leader), (team_b, other)] {
        let m = ngoso_store::teams::NewMember {
            full_name: "Nguyễn Văn An",
            role: "leader",
            affiliation: "police",
            phone: None,
            joined_on: day,
            user_id: Some(user),
        };
        ngoso_store::teams::add_member(&app.db, team, &m).await.unwrap();
    }
    Setup { t, team_a, team_b }
}

async fn teams_are_managed_and_flagged(app: &mut TestApp) {
    let s = setup(app).await;
    app.login("canbo.xa").await;
    let csrf = app.csrf("/app/teams").await;
    let res = app
        .post_form(&format!("/app/teams/new?unit={}", s.t.commune_a.id), &[("csrf", &csrf), ("name", "Tổ CNSCĐ xã 🌾")])
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
    let team = res.location().trim_start_matches("/app/teams/").split('?').next().unwrap().parse::<i64>().unwrap();
    // Too small: flagged, not refused.
    let page = app.get(&format!("/app/teams/{team}")).await;
    assert!(page.body.contains("Ít thành viên hơn mức tối thiểu"));
    let list = app.get("/app/teams?attention=1").await;
    assert!(list.body.contains("Tổ CNSCĐ xã 🌾"));
    for (i, (name, phone)) in [
        ("Lê Thị Bích", "0912 345 678"),
        ("Trần Văn Cường", ""),
        ("Phạm Đức Dũng", "+84 987 654 321"),
        ("Võ Thị Em", ""),
    ]
    .iter()
    .enumerate()
    {
        let role = if i == 0 { "leader" } else { "member" };
        let res = app
            .post_form(
                &format!("/app/teams/{team}/members"),
                &[
                    ("csrf", &csrf),
                    ("full_name", name),
                    ("role", role),
                    ("affiliation", "youth_union"),
                    ("phone", phone),
                    ("joined_on", "2024-03-01"),
                ],
            )
            .await;
        assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
    }
    let page = app.get(&format!("/app/teams/{team}")).await;
    assert!(!page.body.contains("Ít thành viên hơn mức tối thiểu"));
    assert!(page.body.contains("091****678") && !page.body.contains("0912345678"), "phones are masked in the list");
    // Bad input keeps what was typed.
    let res = app
        .post_form(
            &format!("/app/teams/{team}/members"),
            &[("csrf", &csrf), ("full_name", "X Y"), ("role", "boss"), ("affiliation", "police")],
        )
        .await;
    res.assert_notice(StatusCode::UNPROCESSABLE_ENTITY, "Vai trò “boss” không có: dùng leader, deputy, member.");
    let res = app
        .post_form(
            &format!("/app/teams/{team}/members"),
            &[("csrf", &csrf), ("full_name", "X Y"), ("role", "member"), ("affiliation", "police"), ("phone", "12345")],
        )
        .await;
    assert!(res.body.contains("không hợp lệ") && res.body.contains("X Y"));
    // Another commune's team: not found.
    assert_eq!(app.get(&format!("/app/teams/{}", s.team_b)).await.status, StatusCode::NOT_FOUND);
    // The API agrees.
    let tok = app.token("canbo.xa").await;
    let res = app.json(Method::GET, "/api/v1/teams?attention=true", None, Some(&tok)).await;
    let flagged: Vec<String> =
        res.json().as_array().unwrap().iter().map(|t| t["name"].as_str().unwrap().to_owned()).collect();
    assert!(flagged.contains(&"Tổ CNSCĐ Ấp 1".to_string()) && !flagged.contains(&"Tổ CNSCĐ xã 🌾".to_string()));
    let res = app.json(Method::GET, &format!("/api/v1/teams/{team}"), None, Some(&tok)).await;
    assert_eq!(res.json()["members"].as_array().unwrap().len(), 4);
    assert_eq!(res.json()["members"][0]["phone_masked"], "091****678");
    // Reading who is in a team is logged.
    let log = ngoso_store::audit::list(&app.db, Some(("team", &team.to_string())), 20).await.unwrap();
    assert!(log.iter().any(|e| e.action == "team.members.read"), "{log:?}");
    // The province's viewer sees the team's size, not who is in it.
    app.user("xem.tinh", Role::Viewer, Some(&s.t.province)).await;
    let vtok = app.token("xem.tinh").await;
    let res = app.json(Method::GET, &format!("/api/v1/teams/{team}"), None, Some(&vtok)).await;
    assert_eq!(res.status, StatusCode::OK);
    assert!(res.json().get("members").is_none() && res.json()["team"]["active_members"] == 4, "{}", res.body);
    app.cookies.clear();
    app.login("xem.tinh").await;
    let page = app.get(&format!("/app/teams/{team}")).await;
    assert!(!page.body.contains("Lê Thị Bích") && !page.body.contains("091****678"), "{}", page.body);
    assert!(page.body.contains("chỉ cán bộ phụ trách"));
}

async fn households_visits_and_figures(app: &mut TestApp) {
    let s = setup(app).await;
    app.login("totruong").await;
    let csrf = app.csrf("/app/units").await;
    // Register a household with barriers and consent.
    let res = app
        .post_form(
            &format!("/app/households/new?unit={}", s.t.hamlet_a.id),
            &[
                ("csrf", &csrf),
                ("code", "H-001"),
                ("head_name", "Trần Thị Bé 👵"),
                ("address", "Số 7, Ấp 1"),
                ("size", "2"),
                ("smartphones", "0"),
                ("barrier", "no_smartphone"),
                ("barrier", "elderly_alone"),
                ("consent_by", "Trần Thị Bé"),
                ("purpose", "outreach"),
                ("purpose", "statistics"),
            ],
        )
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
    let h = ngoso_store::testing::unaudited::household_by_code(&app.db, "H-001").await.unwrap();
    assert_eq!(h.head_name.as_deref(), Some("Trần Thị Bé 👵"));
    assert!(h.consent);
    // A resident with a citizen ID: only a keyed hash and the last four digits are kept.
    let res = app
        .post_form(
            &format!("/app/households/{}/residents", h.id),
            &[
                ("csrf", &csrf),
                ("full_name", "Trần Thị Bé"),
                ("birth_year", "1948"),
                ("sex", "f"),
                ("cccd", "080148123456"),
                ("phone", "0912345678"),
            ],
        )
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
    let r = &ngoso_store::testing::unaudited::residents(&app.db, h.id).await.unwrap()[0];
    assert_eq!(r.cccd_last4.as_deref(), Some("3456"));
    let stored: String = sqlx_string(&app.db, "SELECT cccd_hash FROM residents").await;
    assert!(!stored.contains("080148") && stored.len() == 64);
    // The same ID again: refused.
    let res = app
        .post_form(
            &format!("/app/households/{}/residents", h.id),
            &[("csrf", &csrf), ("full_name", "Ai đó"), ("cccd", "080148123456")],
        )
        .await;
    res.assert_notice(StatusCode::CONFLICT, "Số CCCD này đã có trong hệ thống.");

    // The visit form: the status moves, a double submit of the same form stores one visit.
    let page = app.get(&format!("/app/households/{}/visit", h.id)).await;
    let marker = "name=\"id\" value=\"";
    let start = page.body.find(marker).unwrap() + marker.len();
    let visit_id = page.body[start..start + 36].to_owned();
    let form = [
        ("csrf", csrf.as_str()),
        ("id", visit_id.as_str()),
        ("team_id", &s.team_a.to_string()),
        ("result", "met"),
        ("o:citizen_app:0", "installed"),
        (&format!("o:vneid_l2:{}", r.id), "collected"),
        ("barrier", "no_smartphone"),
        ("note", "Đã hướng dẫn <b>cài</b>"),
    ];
    let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, *v)).collect();
    let res = app.post_form(&format!("/app/households/{}/visit", h.id), &form).await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
    let res = app.post_form(&format!("/app/households/{}/visit", h.id), &form).await;
    assert_eq!(res.status, StatusCode::SEE_OTHER);
    assert_eq!(ngoso_store::visits::count(&app.db).await.unwrap(), 1);
    let page = app.get(&format!("/app/households/{}?saved=visit", h.id)).await;
    assert!(
        page.body.contains("Đã ghi nhận lần đến nhà")
            && page.body.contains("Đã cài đặt")
            && page.body.contains("&#60;b&#62;cài")
    );

    // The API: a batch with good and bad visits; a replay answers the same and changes nothing.
    let tok = app.token("totruong").await;
    let batch = json!({"visits": [
        {"id": "11111111-1111-4111-8111-111111111111", "household_id": h.id, "team_id": s.team_a, "visited_at": "2024-10-15T08:30:00+07:00",
         "result": "met", "outcomes": [{"service": "vneid_l2", "status": "activated", "resident_id": r.id}]},
        {"id": "22222222-2222-4222-8222-222222222222", "household_id": 999999, "team_id": s.team_a, "visited_at": "2024-10-15T08:30:00+07:00", "result": "met"},
        {"id": "33333333-3333-4333-8333-333333333333", "household_id": h.id, "team_id": s.team_a, "visited_at": "2099-01-01T00:00:00Z", "result": "met"},
        {"id": "44444444-4444-4444-8444-444444444444", "household_id": h.id, "team_id": s.team_a, "visited_at": "2024-10-15T08:30:00+07:00", "result": "met",
         "outcomes": [{"service": "citizen_app", "status": "uninstalled"}]},
        {"id": "55555555-5555-4555-8555-555555555555", "household_id": h.id, "team_id": s.team_b, "visited_at": "2024-10-15T08:30:00+07:00", "result": "met"},
        {"id": "not-a-uuid", "household_id": h.id, "visited_at": "2024-10-15T08:30:00+07:00", "result": "met"},
        {"id": "66666666-6666-4666-8666-666666666666", "household_id": "seven", "visited_at": 5},
        {"id": "77777777-7777-4777-8777-777777777777", "household_id": h.id, "team_id": s.team_a, "member_id": 999999,
         "visited_at": "2024-10-15T08:30:00+07:00", "result": "met"}
    ]});
    let first = app.json(Method::POST, "/api/v1/visits", Some(batch.clone()), Some(&tok)).await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.body);
    let body = first.json();
    assert_eq!(body["accepted"], 1);
    assert_eq!(body["refused"], 7);
    let codes: Vec<&str> =
        body["results"].as_array().unwrap().iter().map(|r| r["error"]["code"].as_str().unwrap_or("ok")).collect();
    assert_eq!(
        codes,
        vec![
            "ok",
            "household-unknown",
            "visit-time-future",
            "status-unknown",
            "visit-team-not-yours",
            "visit-id-invalid",
            "invalid-json-data",
            "visit-member-not-in-team"
        ]
    );
    assert!(body["results"][1]["error"]["message"].as_str().unwrap().contains("999999"));
    let figures_before =
        app.json(Method::GET, &format!("/api/v1/units/{}/figures", s.t.province.id), None, Some(&tok)).await;
    assert_eq!(figures_before.status, StatusCode::NOT_FOUND, "the province is outside a hamlet leader's scope");
    let figures_before =
        app.json(Method::GET, &format!("/api/v1/units/{}/figures", s.t.hamlet_a.id), None, Some(&tok)).await.json();
    let again = app.json(Method::POST, "/api/v1/visits", Some(batch), Some(&tok)).await;
    assert_eq!(again.json(), body, "a replay answers the same");
    assert_eq!(ngoso_store::visits::count(&app.db).await.unwrap(), 2);
    let figures_after =
        app.json(Method::GET, &format!("/api/v1/units/{}/figures", s.t.hamlet_a.id), None, Some(&tok)).await.json();
    assert_eq!(figures_before, figures_after);
    // A bare array is a batch too; a body that is neither is refused whole.
    let bare = json!([{"id": "11111111-1111-4111-8111-111111111111", "household_id": h.id, "team_id": s.team_a,
        "visited_at": "2024-10-15T08:30:00+07:00", "result": "met"}]);
    let res = app.json(Method::POST, "/api/v1/visits", Some(bare), Some(&tok)).await;
    assert_eq!((res.status, res.json()["accepted"].clone()), (StatusCode::OK, json!(1)), "{}", res.body);
    for body in [json!({"visitz": []}), json!({"visits": 5}), json!("visits")] {
        let res = app.json(Method::POST, "/api/v1/visits", Some(body.clone()), Some(&tok)).await;
        assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{body}: {}", res.body);
        assert_eq!(res.json()["error"]["code"], "invalid-json-data");
    }
    assert_eq!(ngoso_store::visits::count(&app.db).await.unwrap(), 2);

    // The figures roll up to the province at once, for an officer of the whole tree.
    app.user("so.tinh", Role::Viewer, Some(&s.t.province)).await;
    let vtok = app.token("so.tinh").await;
    let f =
        app.json(Method::GET, &format!("/api/v1/units/{}/figures", s.t.province.id), None, Some(&vtok)).await.json();
    assert_eq!(f["figures"]["households"], 1);
    assert_eq!(f["figures"]["households_visited"], 1);
    let vneid = f["figures"]["services"].as_array().unwrap().iter().find(|x| x["code"] == "vneid_l2").unwrap();
    assert_eq!(vneid["statuses"][0]["reached"], 1, "collected or further");
    assert_eq!(vneid["statuses"][1]["current"], 1, "activated");
    let children = f["children"].as_array().unwrap();
    let child = children.iter().find(|c| c["id"] == s.t.district_a.id).unwrap();
    assert_eq!(child["households"], 1);
    // Every status of a service has its column: VNeID collected (or further) and activated.
    assert_eq!((child["statuses"][1].as_i64(), child["statuses"][2].as_i64()), (Some(1), Some(1)), "{child}");
    app.login("so.tinh").await;
    let page = app.get(&format!("/app/units/{}?sort=status:vneid_l2:activated", s.t.province.id)).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("Định danh điện tử VNeID mức 2 · Đã kích hoạt"), "{}", page.body);
    assert!(page.body.contains("sort=status:vneid_l2:activated#children-table\" aria-current=\"true\""));
    app.cookies.clear();
    assert!(ngoso_store::check::run(&app.db).await.unwrap().is_empty());
    // The viewer records no visits: the whole upload is refused, nothing stored.
    let v = json!([{"id": "99999999-9999-4999-8999-999999999999", "household_id": h.id, "team_id": s.team_a,
                    "visited_at": "2025-01-10T09:00:00+07:00", "result": "met"}]);
    let res = app.json(Method::POST, "/api/v1/visits", Some(v), Some(&vtok)).await;
    assert_eq!((res.status, res.json()["error"]["code"].as_str()), (StatusCode::FORBIDDEN, Some("forbidden")));
    assert_eq!(ngoso_store::visits::count(&app.db).await.unwrap(), 2);
    // The viewer sees figures, never personal data.
    let res = app.json(Method::GET, &format!("/api/v1/households/{}", h.id), None, Some(&vtok)).await;
    res.assert_error(StatusCode::FORBIDDEN, "forbidden");
    let res = app.json(Method::GET, &format!("/api/v1/households?unit={}", s.t.province.id), None, Some(&vtok)).await;
    res.assert_error(StatusCode::FORBIDDEN, "forbidden");
}

async fn sqlx_string(db: &ngoso_store::Db, sql: &'static str) -> String {
    ngoso_store::on_db!(db, p => sqlx::query_scalar::<_, String>(sql).fetch_one(p).await).unwrap()
}

async fn personal_data_reads_are_scoped_and_logged(app: &mut TestApp) {
    let s = setup(app).await;
    let hid = create_household(app, s.t.hamlet_a.id, "H-A").await;
    let hb = create_household(app, s.t.hamlet_b.id, "H-B").await;
    let tok = app.token("canbo.xa").await;
    let res = app.json(Method::GET, &format!("/api/v1/households/{hid}"), None, Some(&tok)).await;
    assert_eq!(res.status, StatusCode::OK);
    assert_eq!(res.json()["household"]["head_name"], "Lê Văn Tám");
    let res = app.json(Method::GET, &format!("/api/v1/households/{hb}"), None, Some(&tok)).await;
    assert_eq!(res.status, StatusCode::NOT_FOUND);
    // By the code it was recorded with: the same record, the same scope, the read logged.
    let res = app.json(Method::GET, "/api/v1/households/by-code/H-A", None, Some(&tok)).await;
    assert_eq!((res.status, res.json()["household"]["id"].as_i64()), (StatusCode::OK, Some(hid)));
    for code in ["H-B", "NO-SUCH"] {
        let res = app.json(Method::GET, &format!("/api/v1/households/by-code/{code}"), None, Some(&tok)).await;
        res.assert_error(StatusCode::NOT_FOUND, "not-found");
    }
    let res = app.json(Method::GET, "/api/v1/households?q=le%20van", None, Some(&tok)).await;
    let codes: Vec<String> =
        res.json().as_array().unwrap().iter().map(|h| h["code"].as_str().unwrap().to_owned()).collect();
    assert_eq!(codes, vec!["H-A"], "search folds accents and stays in scope");
    app.login("canbo.xa").await;
    assert_eq!(app.get(&format!("/app/households/{hb}")).await.status, StatusCode::NOT_FOUND);
    assert_eq!(app.get(&format!("/app/households/{hid}")).await.status, StatusCode::OK);
    let log = ngoso_store::audit::list(&app.db, Some(("household", &hid.to_string())), 20).await.unwrap();
    let reads = log.iter().filter(|e| e.action == "household.read").count();
    assert_eq!(reads, 3, "each read of the record is logged: {log:?}");
    let lists = ngoso_store::audit::list(&app.db, None, 50).await.unwrap();
    assert!(lists.iter().any(|e| e.action == "household.list" && e.username.as_deref() == Some("canbo.xa")));
}

async fn create_household(app: &mut TestApp, unit: i64, code: &str) -> i64 {
    let h = ngoso_store::households::NewHousehold {
        unit_id: unit,
        code: code.into(),
        address: Some("Số 1".into()),
        head_name: Some("Lê Văn Tám".into()),
        size: 3,
        smartphones: 1,
        barriers: Default::default(),
        consent: Some(("Lê Văn Tám".into(), "outreach".into())),
    };
    ngoso_store::households::create(&app.db, &h, None).await.unwrap()
}

async fn corrections_consent_and_deletion(app: &mut TestApp) {
    let s = setup(app).await;
    let hid = create_household(app, s.t.hamlet_a.id, "H-A").await;
    let tok = app.token("totruong").await;
    let v = json!([{"id": "77777777-7777-4777-8777-777777777777", "household_id": hid, "team_id": s.team_a,
                    "visited_at": "2025-01-10T09:00:00+07:00", "result": "met", "outcomes": [{"service": "citizen_app", "status": "installed"}]}]);
    assert_eq!(app.json(Method::POST, "/api/v1/visits", Some(v), Some(&tok)).await.json()["accepted"], 1);
    // A team leader cannot correct; an officer can, with a reason, and it is logged.
    let c = json!({"household_id": hid, "service": "citizen_app", "status": null, "reason": "nhập nhầm hộ"});
    assert_eq!(
        app.json(Method::POST, "/api/v1/statuses/corrections", Some(c.clone()), Some(&tok)).await.status,
        StatusCode::FORBIDDEN
    );
    let otok = app.token("canbo.xa").await;
    let res = app.json(Method::POST, "/api/v1/statuses/corrections", Some(c), Some(&otok)).await;
    assert_eq!(res.status, StatusCode::NO_CONTENT, "{}", res.body);
    assert!(ngoso_store::visits::statuses_of_household(&app.db, hid).await.unwrap().is_empty());
    let bad = json!({"household_id": hid, "service": "citizen_app", "status": "installed", "reason": " "});
    assert_eq!(
        app.json(Method::POST, "/api/v1/statuses/corrections", Some(bad), Some(&otok)).await.status,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    assert!(ngoso_store::check::run(&app.db).await.unwrap().is_empty());

    // Withdrawing the household's consent removes its personal data; the counts stay.
    let before = ngoso_store::rollups::of_unit(&app.db, s.t.province.id).await.unwrap();
    app.login("canbo.xa").await;
    let csrf = app.csrf("/app/units").await;
    let consent = ngoso_store::testing::unaudited::consents(&app.db, hid).await.unwrap()[0].id;
    let res = app.post_form(&format!("/app/consents/{consent}/withdraw"), &[("csrf", &csrf)]).await;
    assert_eq!(res.status, StatusCode::SEE_OTHER);
    let h = ngoso_store::testing::unaudited::household(&app.db, hid).await.unwrap();
    assert!(h.head_name.is_none() && h.address.is_none());
    assert_eq!(ngoso_store::rollups::of_unit(&app.db, s.t.province.id).await.unwrap(), before);
    let page = app.get(&format!("/app/households/{hid}")).await;
    assert!(page.body.contains("Thông tin cá nhân đã được xóa") && !page.body.contains("Lê Văn Tám"));
    // A deletion request on another household, through the page.
    let h2 = create_household(app, s.t.hamlet_a.id, "H-A2").await;
    let res = app.post_form(&format!("/app/households/{h2}/anonymize"), &[("csrf", &csrf)]).await;
    assert_eq!(res.status, StatusCode::SEE_OTHER);
    assert!(ngoso_store::testing::unaudited::household(&app.db, h2).await.unwrap().anonymized_at.is_some());
    // Its personal data does not come back through an edit, nor a new person through a resident.
    let csrf = app.csrf(&format!("/app/households/{h2}")).await;
    let edit = [("csrf", csrf.as_str()), ("size", "2"), ("smartphones", "0"), ("head_name", "Lại Có Tên")];
    let res = app.post_form(&format!("/app/households/{h2}/edit"), &edit).await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", res.body);
    let res =
        app.post_form(&format!("/app/households/{h2}/residents"), &[("csrf", &csrf), ("full_name", "Người Mới")]).await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", res.body);
    let h = ngoso_store::testing::unaudited::household(&app.db, h2).await.unwrap();
    assert_eq!(h.head_name, None);
    assert!(
        ngoso_store::testing::unaudited::residents(&app.db, h2).await.unwrap().iter().all(|r| r.full_name.is_none())
    );
    // An edit cannot bring personal data back, and a consent cannot be slipped in by it.
    let res = app
        .post_form(
            &format!("/app/households/{h2}/edit"),
            &[
                ("csrf", &csrf),
                ("head_name", "Lê Văn Tám"),
                ("size", "3"),
                ("smartphones", "1"),
                ("consent_by", "Lê Văn Tám"),
                ("purpose", "outreach"),
            ],
        )
        .await;
    res.assert_notice(StatusCode::UNPROCESSABLE_ENTITY, "Hộ này đã bị xóa thông tin cá nhân.");
    assert!(ngoso_store::testing::unaudited::household(&app.db, h2).await.unwrap().head_name.is_none());
    assert_eq!(
        ngoso_store::testing::unaudited::consents(&app.db, h2)
            .await
            .unwrap()
            .iter()
            .filter(|c| !c.given_by.is_empty())
            .count(),
        0
    );
    assert!(ngoso_store::check::run(&app.db).await.unwrap().is_empty());
}

async fn walk_lists(app: &mut TestApp) {
    let s = setup(app).await;
    let visited = create_household(app, s.t.hamlet_a.id, "H-VISITED").await;
    let _plain = create_household(app, s.t.hamlet_a.id, "H-PLAIN").await;
    let barred = ngoso_store::households::NewHousehold {
        unit_id: s.t.hamlet_a.id,
        code: "H-BARRIER".into(),
        address: Some("=HYPERLINK(\"x\")".into()),
        head_name: Some("Bà Năm, \"Út\"".into()),
        size: 1,
        smartphones: 0,
        barriers: ngoso_core::outreach::Barriers::parse_list("no_smartphone").unwrap(),
        consent: None,
    };
    ngoso_store::households::create(&app.db, &barred, None).await.unwrap();
    let tok = app.token("totruong").await;
    let v = json!([{"id": "88888888-8888-4888-8888-888888888888", "household_id": visited, "team_id": s.team_a,
                    "visited_at": "2025-01-10T09:00:00+07:00", "result": "not_home"}]);
    app.json(Method::POST, "/api/v1/visits", Some(v), Some(&tok)).await;
    let res = app
        .json(Method::GET, &format!("/api/v1/walklist?unit={}&services=citizen_app", s.t.hamlet_a.id), None, Some(&tok))
        .await;
    let order: Vec<String> =
        res.json().as_array().unwrap().iter().map(|h| h["code"].as_str().unwrap().to_owned()).collect();
    assert_eq!(order, vec!["H-BARRIER", "H-PLAIN", "H-VISITED"], "never visited first, barriers first among them");
    let res = app
        .json(Method::GET, &format!("/api/v1/walklist?unit={}&services=nope", s.t.hamlet_a.id), None, Some(&tok))
        .await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(res.json()["error"]["code"], "service-unknown");
    // A code repeated 4,000 times is one service (it was 4,000 conditions of the query).
    let many = vec!["citizen_app"; 4_000].join(",");
    let res = app
        .json(Method::GET, &format!("/api/v1/walklist?unit={}&services={many}", s.t.hamlet_a.id), None, Some(&tok))
        .await;
    assert_eq!(res.json().as_array().unwrap().len(), 3);
    let page_many = vec!["service=citizen_app"; 3_000].join("&");

    app.login("totruong").await;
    let page = app.get(&format!("/app/walk?unit={}&{page_many}", s.t.hamlet_a.id)).await;
    assert_eq!(page.status, StatusCode::OK);
    assert_eq!(page.body.matches("service=citizen_app").count(), 2, "the print and CSV links name it once each");
    let page = app.get(&format!("/app/walk?unit={}&service=citizen_app", s.t.hamlet_a.id)).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("3 hộ") && page.body.contains("Chưa đến lần nào"));
    let print = app.get(&format!("/app/walk?unit={}&service=citizen_app&format=print", s.t.hamlet_a.id)).await;
    assert!(print.body.contains("<table>") && print.body.contains("Bà Năm"));
    let csv = app.get(&format!("/app/walk?unit={}&service=citizen_app&format=csv", s.t.hamlet_a.id)).await;
    assert!(csv.header("content-type").unwrap().starts_with("text/csv"));
    assert!(csv.body.starts_with('\u{feff}'));
    assert!(csv.body.contains("\"Bà Năm, \"\"Út\"\"\"") && csv.body.contains("'=HYPERLINK"));
    // Another hamlet's walk list is out of sight.
    assert_eq!(app.get(&format!("/app/walk?unit={}", s.t.hamlet_b.id)).await.status, StatusCode::NOT_FOUND);
}

/// A citizen ID already recorded is refused (409) wherever it was recorded, which tells the
/// caller it exists: every such answer is in the audit log, and an account that runs into
/// ten within the hour is stopped (429), nothing stored.
async fn citizen_id_duplicates_are_logged_and_limited(app: &mut TestApp) {
    let s = setup(app).await;
    app.user("canbo.b", Role::Officer, Some(&s.t.commune_b)).await;
    let (a, b) = (app.token("canbo.xa").await, app.token("canbo.b").await);
    let ha = create_household(app, s.t.hamlet_a.id, "H-A").await;
    let hb = create_household(app, s.t.hamlet_b.id, "H-B").await;
    let ids: Vec<String> = (0..12).map(|i| format!("0801480000{i:02}")).collect();
    for id in &ids {
        let r = app
            .json(Method::POST, &format!("/api/v1/households/{hb}/residents"), Some(json!({"cccd": id})), Some(&b))
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    }
    let db = app.db.clone();
    let count = || async { sqlx_string(&db, "SELECT CAST(COUNT(*) AS TEXT) FROM residents").await };
    let before = count().await;
    for id in &ids[..10] {
        let r = app
            .json(Method::POST, &format!("/api/v1/households/{ha}/residents"), Some(json!({"cccd": id})), Some(&a))
            .await;
        assert_eq!((r.status, r.json()["error"]["code"].as_str()), (StatusCode::CONFLICT, Some("cccd-duplicate")));
    }
    let log = ngoso_store::audit::list(&app.db, Some(("household", &ha.to_string())), 50).await.unwrap();
    assert_eq!(log.iter().filter(|e| e.action == "resident.cccd_duplicate").count(), 10);
    // The eleventh: stopped before the check, whatever the ID.
    let r = app
        .json(Method::POST, &format!("/api/v1/households/{ha}/residents"), Some(json!({"cccd": ids[10]})), Some(&a))
        .await;
    r.assert_error(StatusCode::TOO_MANY_REQUESTS, "too-many-requests");
    let r = app
        .json(
            Method::POST,
            &format!("/api/v1/households/{ha}/residents"),
            Some(json!({"cccd": "080148999999"})),
            Some(&a),
        )
        .await;
    r.assert_error(StatusCode::TOO_MANY_REQUESTS, "too-many-requests");
    assert_eq!(count().await, before, "nothing stored");
    // A resident without an ID is still recorded.
    let r = app
        .json(
            Method::POST,
            &format!("/api/v1/households/{ha}/residents"),
            Some(json!({"full_name": "Bé Ba"})),
            Some(&a),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED);
}

/// A walk list names at most 50 distinct services.
async fn walk_lists_name_few_services(app: &mut TestApp) {
    let s = setup(app).await;
    let mut codes = Vec::new();
    for i in 0..51 {
        let code = format!("dich_vu_{i}");
        ngoso_store::catalog::create_service(&app.db, &code, "Dịch vụ", "Service", "household").await.unwrap();
        codes.push(code);
    }
    let tok = app.token("totruong").await;
    let url = |n: usize| format!("/api/v1/walklist?unit={}&services={}", s.t.hamlet_a.id, codes[..n].join(","));
    assert_eq!(app.json(Method::GET, &url(50), None, Some(&tok)).await.status, StatusCode::OK);
    let res = app.json(Method::GET, &url(51), None, Some(&tok)).await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        (res.json()["error"]["code"].as_str(), res.json()["error"]["detail"].as_str()),
        (Some("walk-too-many-services"), Some("50"))
    );
}

async fn the_catalogue_is_configurable(app: &mut TestApp) {
    let s = setup(app).await;
    app.user("admin", Role::Admin, None).await;
    let otok = app.token("canbo.xa").await;
    let svc = json!({"code": "e_health_book", "name_vi": "Sổ sức khỏe điện tử", "name_en": "Electronic health book", "subject": "person"});
    assert_eq!(
        app.json(Method::POST, "/api/v1/services", Some(svc.clone()), Some(&otok)).await.status,
        StatusCode::FORBIDDEN
    );
    let atok = app.token("admin").await;
    let res = app.json(Method::POST, "/api/v1/services", Some(svc.clone()), Some(&atok)).await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.body);
    let id = res.json()["id"].as_i64().unwrap();
    assert_eq!(app.json(Method::POST, "/api/v1/services", Some(svc), Some(&atok)).await.status, StatusCode::CONFLICT);
    let st = json!({"code": "created", "name_vi": "Đã tạo", "name_en": "Created"});
    assert_eq!(
        app.json(Method::POST, &format!("/api/v1/services/{id}/statuses"), Some(st), Some(&atok)).await.status,
        StatusCode::CREATED
    );
    let list = app.json(Method::GET, "/api/v1/services", None, Some(&otok)).await.json();
    let new = list.as_array().unwrap().iter().find(|s| s["code"] == "e_health_book").unwrap();
    assert_eq!(new["statuses"][0]["rank"], 1);
    // Pages too.
    app.login("admin").await;
    let csrf = app.csrf("/app/services").await;
    let res = app
        .post_form(
            "/app/services",
            &[("csrf", &csrf), ("code", "Bad Code"), ("name_vi", "x"), ("name_en", "x"), ("subject", "person")],
        )
        .await;
    res.assert_notice(StatusCode::UNPROCESSABLE_ENTITY, "Mã “Bad Code” không hợp lệ: 2–40 ký tự a-z, 0-9, _.");
    let res = app
        .post_form(
            "/app/services",
            &[
                ("csrf", &csrf),
                ("code", "wifi_point"),
                ("name_vi", "Điểm wifi"),
                ("name_en", "Wi-Fi point"),
                ("subject", "household"),
            ],
        )
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER);
    assert!(app.get("/app/services").await.body.contains("Điểm wifi"));
    // Renamed and withdrawn by the API, all or nothing; codes stay.
    let path = format!("/api/v1/services/{id}");
    let list = app.json(Method::GET, "/api/v1/services", None, Some(&otok)).await.json();
    let bad = json!({"name_vi": "Sổ sức khỏe", "statuses": [{"code": "nope", "name_vi": "x", "name_en": "x"}]});
    app.json(Method::PATCH, &path, Some(bad), Some(&atok))
        .await
        .assert_error(StatusCode::UNPROCESSABLE_ENTITY, "status-unknown");
    let bad = json!({"name_en": " "});
    app.json(Method::PATCH, &path, Some(bad), Some(&atok))
        .await
        .assert_error(StatusCode::UNPROCESSABLE_ENTITY, "required");
    let res = app.json(Method::PATCH, &path, Some(json!({"active": false})), Some(&otok)).await;
    assert_eq!(res.status, StatusCode::FORBIDDEN);
    let res = app.json(Method::PATCH, "/api/v1/services/99999", Some(json!({"active": false})), Some(&atok)).await;
    res.assert_error(StatusCode::NOT_FOUND, "not-found");
    let unchanged = app.json(Method::GET, "/api/v1/services", None, Some(&otok)).await.json();
    assert_eq!(unchanged, list, "refused changes change nothing");
    let change = json!({"name_vi": "Sổ sức khỏe điện tử 🩺", "active": false,
                        "statuses": [{"code": "created", "name_vi": "Đã lập sổ", "name_en": "Book created"}]});
    let res = app.json(Method::PATCH, &path, Some(change), Some(&atok)).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    let svc = res.json();
    assert_eq!(
        (
            svc["code"].as_str(),
            svc["name_vi"].as_str(),
            svc["name_en"].as_str(),
            svc["active"].as_bool(),
            svc["statuses"][0]["name_vi"].as_str()
        ),
        (
            Some("e_health_book"),
            Some("Sổ sức khỏe điện tử 🩺"),
            Some("Electronic health book"),
            Some(false),
            Some("Đã lập sổ")
        )
    );
    // The page offers it again.
    let res = app.post_form(&format!("/app/services/{id}"), &[("csrf", &csrf), ("active", "1")]).await;
    assert_eq!(res.status, StatusCode::SEE_OTHER);
    let list = app.json(Method::GET, "/api/v1/services", None, Some(&otok)).await.json();
    assert_eq!(list.as_array().unwrap().iter().find(|s| s["code"] == "e_health_book").unwrap()["active"], true);
    let _ = s;
}

async fn a_member_who_left_cannot_record(app: &mut TestApp) {
    let s = setup(app).await;
    let hid = create_household(app, s.t.hamlet_a.id, "H-A").await;
    let tok = app.token("totruong").await;
    let visit =
        |id: &str| json!([{"id": id, "household_id": hid, "visited_at": "2025-01-10T09:00:00+07:00", "result": "met"}]);
    // The team may be left out by a member of exactly one team.
    let res =
        app.json(Method::POST, "/api/v1/visits", Some(visit("99999999-9999-4999-8999-999999999991")), Some(&tok)).await;
    assert_eq!(res.json()["accepted"], 1, "{}", res.body);
    let member = ngoso_store::testing::unaudited::members(&app.db, s.team_a).await.unwrap()[0].id;
    ngoso_store::teams::member_left(&app.db, member, chrono::NaiveDate::from_ymd_opt(2025, 1, 1).unwrap())
        .await
        .unwrap();
    let v = json!([{"id": "99999999-9999-4999-8999-999999999992", "household_id": hid, "team_id": s.team_a,
                    "visited_at": "2025-01-10T09:00:00+07:00", "result": "met"}]);
    let res = app.json(Method::POST, "/api/v1/visits", Some(v), Some(&tok)).await;
    assert_eq!(res.json()["results"][0]["error"]["code"], "visit-team-not-yours");
    // Without a team, there is none to default to any more.
    let res =
        app.json(Method::POST, "/api/v1/visits", Some(visit("99999999-9999-4999-8999-999999999993")), Some(&tok)).await;
    assert_eq!(res.json()["results"][0]["error"]["code"], "required");
    assert_eq!(ngoso_store::visits::count(&app.db).await.unwrap(), 1);
}

/// A control character (NUL above all: PostgreSQL cannot store it) in a visit note, a team
/// name, a service name or a correction reason is a clear 4xx, and nothing is stored; the
/// other visits of the same upload are.
async fn control_characters_are_refused(app: &mut TestApp) {
    let s = setup(app).await;
    let hid = create_household(app, s.t.hamlet_a.id, "H-NUL").await;
    let tok = app.token("totruong").await;
    let v = json!([
        {"id": "88888888-8888-4888-8888-888888888888", "household_id": hid, "team_id": s.team_a,
         "visited_at": "2025-01-10T09:00:00+07:00", "result": "met", "note": "nhà\u{0}vắng"},
        {"id": "99999999-9999-4999-8999-999999999999", "household_id": hid, "team_id": s.team_a,
         "visited_at": "2025-01-11T09:00:00+07:00", "result": "met", "note": "đã gặp\nchủ hộ 👍"}
    ]);
    let res = app.json(Method::POST, "/api/v1/visits", Some(v), Some(&tok)).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    let body = res.json();
    assert_eq!((body["accepted"].as_i64(), body["refused"].as_i64()), (Some(1), Some(1)));
    assert_eq!(body["results"][0]["error"]["code"], "text-control-chars");
    assert_eq!(ngoso_store::visits::count(&app.db).await.unwrap(), 1);
    let otok = app.token("canbo.xa").await;
    let teams_before = ngoso_store::teams::list(&app.db, None).await.unwrap().len();
    let r = app
        .json(Method::POST, "/api/v1/teams", Some(json!({"unit_id": s.t.hamlet_a.id, "name": "Tổ\u{0}A"})), Some(&otok))
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert_eq!(ngoso_store::teams::list(&app.db, None).await.unwrap().len(), teams_before);
    let c = json!({"household_id": hid, "service": "citizen_app", "status": null, "reason": "nhầm\u{7}"});
    let r = app.json(Method::POST, "/api/v1/statuses/corrections", Some(c), Some(&otok)).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    app.user("quantri", Role::Admin, None).await;
    let atok = app.token("quantri").await;
    let svc = json!({"code": "nul_test", "name_vi": "Dịch\u{0}vụ", "name_en": "Service", "subject": "person"});
    let r = app.json(Method::POST, "/api/v1/services", Some(svc), Some(&atok)).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert!(ngoso_store::catalog::load(&app.db).await.unwrap().service_by_code("nul_test").is_none());
}

/// A unit's breakdowns, as `code` and `code|part` → count.
async fn breakdown(app: &mut TestApp, tok: &str, unit: i64) -> std::collections::BTreeMap<String, i64> {
    let f = app.json(Method::GET, &format!("/api/v1/units/{unit}/figures"), None, Some(tok)).await.json();
    let mut out = std::collections::BTreeMap::new();
    for b in f["breakdowns"].as_array().unwrap() {
        let code = b["code"].as_str().unwrap();
        out.insert(code.to_owned(), b["total"].as_i64().unwrap());
        for p in b["parts"].as_array().unwrap() {
            out.insert(format!("{code}|{}", p["code"].as_str().unwrap()), p["count"].as_i64().unwrap());
        }
    }
    out
}

/// A person's figures are counted by sex, age band and group from the roll-ups: a visit, a
/// group set afterwards and a deletion request each move them, and the check agrees.
async fn figures_by_sex_age_and_group(app: &mut TestApp) {
    let s = setup(app).await;
    let h = create_household(app, s.t.hamlet_a.id, "H-NHOM").await;
    let tok = app.token("canbo.xa").await;
    app.user("so.tt", Role::Officer, Some(&s.t.province)).await;
    let ptok = app.token("so.tt").await;
    let groups = app.json(Method::GET, "/api/v1/residentGroups", None, Some(&tok)).await.json();
    let codes: Vec<&str> = groups.as_array().unwrap().iter().map(|g| g["code"].as_str().unwrap()).collect();
    assert_eq!(codes, ["youth_union", "social_security", "disability", "ethnic_minority"]);
    let year = chrono::Datelike::year(&ngoso_store::teams::today());
    let elder = json!({"full_name": "Trần Thị Lan", "birth_year": (year - 70).to_string(), "sex": "f", "groups": ["social_security"]});
    let young =
        json!({"full_name": "Lê Văn Nam", "birth_year": (year - 20).to_string(), "sex": "m", "youth_union": "1"});
    let mut ids = Vec::new();
    for r in [elder, young] {
        let res = app.json(Method::POST, &format!("/api/v1/households/{h}/residents"), Some(r), Some(&tok)).await;
        assert_eq!(res.status, StatusCode::CREATED, "{}", res.body);
        ids.push(res.json()["id"].as_i64().unwrap());
    }
    let bad = json!({"full_name": "X", "groups": ["astronaut"]});
    let res = app.json(Method::POST, &format!("/api/v1/households/{h}/residents"), Some(bad), Some(&tok)).await;
    res.assert_error(StatusCode::UNPROCESSABLE_ENTITY, "group-unknown");
    let leader = app.token("totruong").await;
    let batch = json!({"visits": [{"id": "12121212-1212-4121-8121-121212121212", "household_id": h, "team_id": s.team_a,
        "visited_at": "2024-10-15T08:30:00+07:00", "result": "met", "outcomes": [
            {"service": "vneid_l2", "status": "activated", "resident_id": ids[0]},
            {"service": "cashless", "status": "opened", "resident_id": ids[0]},
            {"service": "vneid_l2", "status": "collected", "resident_id": ids[1]}]}]});
    let res = app.json(Method::POST, "/api/v1/visits", Some(batch), Some(&leader)).await;
    assert_eq!(res.json()["accepted"], 1, "{}", res.body);

    // At the commune (read from its roll-ups, the hamlet's people added up).
    let b = breakdown(app, &tok, s.t.commune_a.id).await;
    assert_eq!(b["residents"], 2);
    assert_eq!((b["residents|sex:f"], b["residents|sex:m"]), (1, 1));
    assert_eq!((b["residents|age:60+"], b["residents|age:15-59"], b["residents|age:0-14"]), (1, 1, 0));
    assert_eq!((b["residents|group:social_security"], b["residents|group:youth_union"]), (1, 1));
    assert_eq!(b["vneid_l2:collected"], 2, "collected or further along");
    assert_eq!(b["vneid_l2:activated"], 1);
    assert_eq!((b["vneid_l2:activated|age:60+"], b["vneid_l2:activated|group:social_security"]), (1, 1));
    assert_eq!((b["vneid_l2:collected|sex:m"], b["vneid_l2:collected|group:youth_union"]), (1, 1));
    assert_eq!(b["vneid_l2:activated|group:youth_union"], 0);
    // Indicators read the same counts: the elderly activated, and the share of
    // social-security beneficiaries with an account.
    let ind =
        app.json(Method::GET, &format!("/api/v1/units/{}/indicators", s.t.commune_a.id), None, Some(&tok)).await.json();
    let find = |code: &str| ind["indicators"].as_array().unwrap().iter().find(|i| i["code"] == code).unwrap().clone();
    assert_eq!(find("ELDERLY_VNEID_ACTIVATED")["value"], 1.0);
    let share = find("SOCIAL_SECURITY_WITH_ACCOUNT_SHARE");
    assert_eq!((share["numerator"].as_i64(), share["denominator"].as_i64()), (Some(1), Some(1)), "{share}");

    // A group set afterwards moves the person's figures; so does a deletion request.
    let put = |g: serde_json::Value| json!({"groups": g});
    let url = format!("/api/v1/residents/{}/groups", ids[1]);
    let res = app.json(Method::PUT, &url, Some(put(json!(["disability", "nope"]))), Some(&tok)).await;
    res.assert_error(StatusCode::UNPROCESSABLE_ENTITY, "group-unknown");
    let res = app.json(Method::PUT, &url, Some(put(json!(["disability"]))), Some(&tok)).await;
    assert_eq!(res.status, StatusCode::NO_CONTENT, "{}", res.body);
    let b = breakdown(app, &ptok, s.t.province.id).await;
    assert_eq!((b["vneid_l2:collected|group:disability"], b["vneid_l2:collected|group:youth_union"]), (1, 0));
    assert_eq!((b["residents|group:youth_union"], b["residents|group:disability"]), (0, 1));
    let other = app.token("thanhvien.b").await;
    let res = app.json(Method::PUT, &url, Some(put(json!([]))), Some(&other)).await;
    assert!(res.status == StatusCode::FORBIDDEN || res.status == StatusCode::NOT_FOUND, "{}", res.status);
    ngoso_store::households::anonymize_resident(&app.db, ids[0]).await.unwrap();
    let b = breakdown(app, &ptok, s.t.province.id).await;
    assert_eq!(b["vneid_l2:activated"], 1, "the total stays");
    assert_eq!((b["vneid_l2:activated|sex:f"], b["vneid_l2:activated|age:60+"]), (0, 0), "the traits go");
    assert_eq!(b["residents|group:social_security"], 0);
    let ind =
        app.json(Method::GET, &format!("/api/v1/units/{}/indicators", s.t.province.id), None, Some(&ptok)).await.json();
    let share = ind["indicators"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["code"] == "SOCIAL_SECURITY_WITH_ACCOUNT_SHARE")
        .unwrap()
        .clone();
    assert_eq!((share["denominator"].as_i64(), share["value"].as_f64()), (Some(0), None), "{share}");
    assert!(ngoso_store::check::run(&app.db).await.unwrap().is_empty());

    // The unit page shows them.
    app.login("canbo.xa").await;
    let page = app.get(&format!("/app/units/{}", s.t.commune_a.id)).await;
    assert!(page.body.contains("data-part=\"group:disability\">Người khuyết tật 1<"), "{}", page.body);
    let page = app.get(&format!("/app/households/{h}")).await;
    assert!(page.body.contains("name=\"group\" value=\"social_security\""));

    // Groups are data: an administrator adds one (API or page), and it counts at once.
    app.user("quantri", Role::Admin, None).await;
    let admin = app.token("quantri").await;
    let g =
        json!({"code": "elderly_alone", "name_vi": "Người cao tuổi sống một mình", "name_en": "Elderly living alone"});
    let res = app.json(Method::POST, "/api/v1/residentGroups", Some(g.clone()), Some(&tok)).await;
    res.assert_error(StatusCode::FORBIDDEN, "forbidden");
    let res = app.json(Method::POST, "/api/v1/residentGroups", Some(g.clone()), Some(&admin)).await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.body);
    assert_eq!(res.json()["id"], 5);
    let res = app.json(Method::POST, "/api/v1/residentGroups", Some(g), Some(&admin)).await;
    res.assert_error(StatusCode::CONFLICT, "catalog-code-exists");
    let bad = json!({"code": "Người già", "name_vi": "x", "name_en": "x"});
    let res = app.json(Method::POST, "/api/v1/residentGroups", Some(bad), Some(&admin)).await;
    res.assert_error(StatusCode::UNPROCESSABLE_ENTITY, "catalog-code-invalid");
    let res = app.json(Method::PUT, &url, Some(put(json!(["disability", "elderly_alone"]))), Some(&tok)).await;
    assert_eq!(res.status, StatusCode::NO_CONTENT, "{}", res.body);
    let b = breakdown(app, &ptok, s.t.province.id).await;
    assert_eq!((b["residents|group:elderly_alone"], b["vneid_l2:collected|group:elderly_alone"]), (1, 1));
    assert!(ngoso_store::check::run(&app.db).await.unwrap().is_empty());
    app.login("quantri").await;
    let csrf = app.csrf("/app/services").await;
    let form = [
        ("csrf", csrf.as_str()),
        ("code", "migrant"),
        ("name_vi", "Lao động ngoại tỉnh 🧳"),
        ("name_en", "Migrant worker"),
    ];
    let res = app.post_form("/app/services/groups", &form).await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
    let page = app.get("/app/services").await;
    assert!(page.body.contains("Lao động ngoại tỉnh 🧳 <span class=\"muted\">(migrant)</span>"), "{}", page.body);
}

async fn a_resident_is_deleted_on_request(app: &mut TestApp) {
    let s = setup(app).await;
    let hid = create_household(app, s.t.hamlet_a.id, "H-A").await;
    let officer = app.token("canbo.xa").await;
    let mut ids = Vec::new();
    for (name, year) in [("Trần Thị Bé 🌸", "1950"), ("Trần Văn Út", "1990")] {
        let r = json!({"full_name": name, "birth_year": year, "sex": "f"});
        let res = app.json(Method::POST, &format!("/api/v1/households/{hid}/residents"), Some(r), Some(&officer)).await;
        assert_eq!(res.status, StatusCode::CREATED, "{}", res.body);
        ids.push(res.json()["id"].as_i64().unwrap());
    }
    // Not by a team leader (they do not correct records), nor for one out of sight.
    let leader = app.token("totruong").await;
    app.json(Method::DELETE, &format!("/api/v1/residents/{}", ids[0]), None, Some(&leader))
        .await
        .assert_error(StatusCode::FORBIDDEN, "forbidden");
    app.json(Method::DELETE, "/api/v1/residents/999999", None, Some(&officer))
        .await
        .assert_error(StatusCode::NOT_FOUND, "not-found");
    // By the officer: the name, year and sex go, the resident is still counted.
    let res = app.json(Method::DELETE, &format!("/api/v1/residents/{}", ids[0]), None, Some(&officer)).await;
    assert_eq!(res.status, StatusCode::NO_CONTENT, "{}", res.body);
    let h = app.json(Method::GET, &format!("/api/v1/households/{hid}"), None, Some(&officer)).await.json();
    let gone = h["residents"].as_array().unwrap().iter().find(|r| r["id"] == ids[0]).unwrap().clone();
    assert!(gone["full_name"].is_null() && gone["birth_year"].is_null(), "{gone}");
    assert!(!h.to_string().contains("Trần Thị Bé"), "{h}");
    assert_eq!(h["residents"].as_array().unwrap().len(), 2, "still counted");
    // From the household's page, the other one; a resident of another household is refused.
    app.login("canbo.xa").await;
    let page = app.get(&format!("/app/households/{hid}")).await;
    assert!(page.body.contains("residents/anonymize") && page.body.contains("Trần Văn Út"), "{}", page.body);
    let csrf = app.csrf(&format!("/app/households/{hid}")).await;
    let other = create_household(app, s.t.hamlet_a.id, "H-A2").await;
    let res = app
        .post_form(
            &format!("/app/households/{other}/residents/anonymize"),
            &[("csrf", &csrf), ("resident_id", &ids[1].to_string())],
        )
        .await;
    assert_eq!(res.status, StatusCode::NOT_FOUND);
    let res = app
        .post_form(
            &format!("/app/households/{hid}/residents/anonymize"),
            &[("csrf", &csrf), ("resident_id", &ids[1].to_string())],
        )
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
    assert!(!app.get(&format!("/app/households/{hid}")).await.body.contains("Trần Văn Út"));
    let logged: i64 = ngoso_store::on_db!(&app.db, p => sqlx::query_scalar(
        "SELECT COUNT(*) FROM audit_log WHERE action = 'resident.anonymize'").fetch_one(p).await)
    .unwrap();
    assert_eq!(logged, 2);
}

async fn members_are_edited_and_leave_by_api(app: &mut TestApp) {
    let s = setup(app).await;
    let member = ngoso_store::testing::unaudited::members(&app.db, s.team_a).await.unwrap()[0].id;
    let tok = app.token("canbo.xa").await;
    // Bad input is refused whole: nothing changes.
    for (body, code) in [
        (json!({"full_name": "Nguyễn Văn Bình", "role": "boss"}), "member-role-invalid"),
        (json!({"full_name": "Nguyễn Văn Bình", "phone": "12"}), "phone-invalid"),
        (json!({"full_name": "Nguyễn Văn Bình", "left_on": "2023-12-31"}), "member-left-before-joining"),
        (json!({"full_name": "Nguyễn Văn Bình", "joined_on": "1 tháng 3"}), "date-invalid"),
        (json!({"full_name": "Nguyễn Văn Bình", "username": "khong.co"}), "user-unknown"),
        (json!({"full_name": " "}), "required"),
    ] {
        let res = app.json(Method::PATCH, &format!("/api/v1/members/{member}"), Some(body), Some(&tok)).await;
        res.assert_error(StatusCode::UNPROCESSABLE_ENTITY, code);
    }
    let res = app.json(Method::GET, &format!("/api/v1/members/{member}"), None, Some(&tok)).await;
    assert_eq!(res.json()["full_name"], "Nguyễn Văn An", "{}", res.body);
    // Fields given change; absent ones keep their value.
    let res = app
        .json(
            Method::PATCH,
            &format!("/api/v1/members/{member}"),
            Some(json!({"full_name": "Nguyễn Văn Ân 🌾", "role": "deputy", "phone": "0912 345 678", "joined_on": "2024-02-01"})),
            Some(&tok),
        )
        .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    let m = res.json();
    assert_eq!(
        (&m["full_name"], &m["role"], &m["affiliation"], &m["phone_masked"], &m["joined_on"], &m["username"]),
        (
            &json!("Nguyễn Văn Ân 🌾"),
            &json!("deputy"),
            &json!("police"),
            &json!("091****678"),
            &json!("2024-02-01"),
            &json!("totruong")
        )
    );
    // Marked as left by the API, on a day or today; not before joining.
    let res = app
        .json(
            Method::POST,
            &format!("/api/v1/members/{member}/left"),
            Some(json!({"left_on": "2024-01-15"})),
            Some(&tok),
        )
        .await;
    res.assert_error(StatusCode::UNPROCESSABLE_ENTITY, "member-left-before-joining");
    let res = app
        .json(
            Method::POST,
            &format!("/api/v1/members/{member}/left"),
            Some(json!({"left_on": "2024-06-30"})),
            Some(&tok),
        )
        .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    assert_eq!(res.json()["left_on"], "2024-06-30");
    let team = app.json(Method::GET, &format!("/api/v1/teams/{}", s.team_a), None, Some(&tok)).await;
    assert_eq!(team.json()["team"]["active_members"], 0);
    // Another commune's member: not found; a member of the team may not edit.
    let other = ngoso_store::testing::unaudited::members(&app.db, s.team_b).await.unwrap()[0].id;
    let res =
        app.json(Method::PATCH, &format!("/api/v1/members/{other}"), Some(json!({"role": "member"})), Some(&tok)).await;
    res.assert_error(StatusCode::NOT_FOUND, "not-found");
    let btok = app.token("thanhvien.b").await;
    let res = app
        .json(Method::PATCH, &format!("/api/v1/members/{other}"), Some(json!({"role": "member"})), Some(&btok))
        .await;
    assert_eq!(res.status, StatusCode::FORBIDDEN, "{}", res.body);
    // The page: the form shows the fields; an empty leaving day puts the member back, an
    // empty phone clears it; bad input keeps what was typed.
    app.login("canbo.xa").await;
    let page = app.get(&format!("/app/members/{member}")).await;
    assert!(page.body.contains("value=\"2024-06-30\"") && page.body.contains("value=\"0912345678\""), "{}", page.body);
    let csrf = app.csrf(&format!("/app/members/{member}")).await;
    let form = |phone: &'static str, left: &'static str| {
        vec![
            ("full_name", "Trần Thị Cúc"),
            ("role", "leader"),
            ("affiliation", "womens_union"),
            ("phone", phone),
            ("joined_on", "2024-02-01"),
            ("left_on", left),
            ("username", ""),
        ]
    };
    let mut bad = form("", "2020-01-01");
    bad.push(("csrf", &csrf));
    let res = app.post_form(&format!("/app/members/{member}"), &bad).await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(res.body.contains("Trần Thị Cúc") && res.body.contains("role=\"alert\""), "{}", res.body);
    let mut good = form("", "");
    good.push(("csrf", &csrf));
    let res = app.post_form(&format!("/app/members/{member}"), &good).await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
    let m = &ngoso_store::testing::unaudited::members(&app.db, s.team_a).await.unwrap()[0];
    assert_eq!(
        (m.full_name.as_str(), m.role.as_str(), m.affiliation.as_str(), m.phone.as_deref(), m.left_on, m.user_id),
        ("Trần Thị Cúc", "leader", "womens_union", None, None, None)
    );
    let log = ngoso_store::audit::list(&app.db, Some(("team", &s.team_a.to_string())), 50).await.unwrap();
    assert_eq!(log.iter().filter(|e| e.action == "member.edit").count(), 2, "{log:?}");
    assert!(log.iter().any(|e| e.action == "member.left"), "{log:?}");
}

async fn the_teams_list_pages_and_searches(app: &mut TestApp) {
    let s = setup(app).await;
    for i in 0..60 {
        ngoso_store::teams::create(&app.db, s.t.hamlet_a.id, &format!("Tổ số {i:02}")).await.unwrap();
    }
    app.user("qtv", Role::Admin, None).await;
    app.login("qtv").await;
    // Fifty a page; the next page has the rest.
    let first = app.get("/app/teams").await;
    assert_eq!(first.status, StatusCode::OK);
    assert_eq!(first.body.matches("<li><a href=\"/app/teams/").count(), 50, "{}", first.body);
    assert!(first.body.contains("62 kết quả") && first.body.contains("page=1"), "{}", first.body);
    let second = app.get("/app/teams?q=&page=1").await;
    assert_eq!(second.body.matches("<li><a href=\"/app/teams/").count(), 12);
    // Folded search in the team's and the unit's names; inside a unit.
    let found = app.get("/app/teams?q=vinh+loi").await;
    assert!(found.body.contains("Tổ CNSCĐ Vĩnh Lợi") && found.body.contains("1 kết quả"), "{}", found.body);
    let found = app.get(&format!("/app/teams?unit={}&q=TO+SO+0", s.t.hamlet_a.id)).await;
    assert_eq!(found.body.matches("<li><a href=\"/app/teams/").count(), 10, "{}", found.body);
    assert!(found.body.contains(&format!("unit={}", s.t.hamlet_a.id)));
    let none = app.get(&format!("/app/teams?unit={}&q=vinh", s.t.hamlet_a.id)).await;
    assert!(none.body.contains("0 kết quả") || !none.body.contains("<li><a href=\"/app/teams/"), "{}", none.body);
    // A hamlet's name repeats from commune to commune: the list names the commune too, and
    // finds the teams by it.
    assert!(first.body.contains("· Ấp 1, Xã Phước Lý</span>"), "{}", first.body);
    let by_commune = app.get("/app/teams?q=phuoc+ly").await;
    assert!(by_commune.body.contains("61 kết quả"), "{}", by_commune.body);
    // A page past the end shows the last.
    let last = app.get("/app/teams?page=99").await;
    assert_eq!(last.body.matches("<li><a href=\"/app/teams/").count(), 12);
    // The API searches the same way.
    let tok = app.token("qtv").await;
    let res = app.json(Method::GET, "/api/v1/teams?q=vinh%20loi", None, Some(&tok)).await;
    let body = res.json();
    let names: Vec<&str> = body.as_array().unwrap().iter().map(|t| t["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["Tổ CNSCĐ Vĩnh Lợi"], "{}", res.body);
    assert_eq!(body[0]["parent_name"], "Tân Hưng", "a commune's team: the district above it; {}", res.body);
    let _ = s.team_a;
}

async fn the_register_is_read_in_pages_with_residents(app: &mut TestApp) {
    let s = setup(app).await;
    let mut ids = Vec::new();
    for i in 0..7 {
        let unit = if i % 2 == 0 { s.t.hamlet_a.id } else { s.t.hamlet_b.id };
        let id = create_household(app, unit, &format!("H-{i}")).await;
        for name in ["Nguyễn Thị Hoa 🌸", "Trần Văn Bình"].iter().take(i % 3) {
            let r = ngoso_store::households::NewResident {
                full_name: Some((*name).into()),
                birth_year: Some(1990),
                sex: Some("f"),
                youth_union: false,
                groups: 0,
                cccd: None,
                phone: None,
                consent: None,
            };
            ngoso_store::households::add_resident(&app.db, id, &r, None).await.unwrap();
        }
        ids.push((id, unit, i % 3));
    }
    // The officer of commune A reads hamlet A's four households, two a page, with residents.
    let tok = app.token("canbo.xa").await;
    let mut after: Option<i64> = None;
    let mut seen = Vec::new();
    let mut pages = 0;
    loop {
        let path = match after {
            Some(a) => format!("/api/v1/households/export?limit=2&after={a}"),
            None => "/api/v1/households/export?limit=2".to_owned(),
        };
        let res = app.json(Method::GET, &path, None, Some(&tok)).await;
        assert_eq!(res.status, StatusCode::OK, "{}", res.body);
        pages += 1;
        let page = res.json();
        for h in page["households"].as_array().unwrap() {
            seen.push((h["household"]["id"].as_i64().unwrap(), h["residents"].as_array().unwrap().len()));
            assert!(h["residents"].as_array().unwrap().iter().all(|r| r["household_id"] == h["household"]["id"]));
        }
        match page["next"].as_i64() {
            Some(n) => after = Some(n),
            None => break,
        }
    }
    let want: Vec<(i64, usize)> =
        ids.iter().filter(|(_, unit, _)| *unit == s.t.hamlet_a.id).map(|(id, _, n)| (*id, *n)).collect();
    assert_eq!(seen, want);
    assert_eq!(pages, 2);
    // The list pages with a cursor too (searched, in id order).
    let first = app.json(Method::GET, "/api/v1/households?limit=3&after=0", None, Some(&tok)).await.json();
    let ids_first: Vec<i64> = first.as_array().unwrap().iter().map(|h| h["id"].as_i64().unwrap()).collect();
    let last = ids_first[2];
    let next =
        app.json(Method::GET, &format!("/api/v1/households?limit=3&after={last}"), None, Some(&tok)).await.json();
    let ids_next: Vec<i64> = next.as_array().unwrap().iter().map(|h| h["id"].as_i64().unwrap()).collect();
    let all: Vec<i64> = ids_first.into_iter().chain(ids_next).collect();
    assert_eq!(all, want.iter().map(|w| w.0).collect::<Vec<_>>());
    // Inside a unit out of sight: not found; the viewer: no personal data.
    let res =
        app.json(Method::GET, &format!("/api/v1/households/export?unit={}", s.t.commune_b.id), None, Some(&tok)).await;
    res.assert_error(StatusCode::NOT_FOUND, "not-found");
    app.user("xem.tinh", Role::Viewer, Some(&s.t.province)).await;
    let vtok = app.token("xem.tinh").await;
    let res = app.json(Method::GET, "/api/v1/households/export", None, Some(&vtok)).await;
    res.assert_error(StatusCode::FORBIDDEN, "forbidden");
    // Every page is logged.
    let log = ngoso_store::audit::list(&app.db, None, 50).await.unwrap();
    assert_eq!(log.iter().filter(|e| e.action == "household.export").count(), 2, "{log:?}");
    let _ = s.team_a;
}

async fn teams_and_members_are_imported_from_a_file(app: &mut TestApp) {
    let s = setup(app).await;
    let tok = app.token("canbo.xa").await;
    let (ha, hb) = (s.t.hamlet_a.code.clone(), s.t.hamlet_b.code.clone());
    let csv = |body: String| {
        axum::http::Request::post("/api/v1/teams/import")
            .header("authorization", format!("Bearer {tok}"))
            .header("content-type", "text/csv")
            .body(axum::body::Body::from(body))
            .unwrap()
    };
    let count = |app: &TestApp| {
        let db = app.db.clone();
        async move { ngoso_store::teams::list(&db, None).await.unwrap().iter().map(|t| t.active_members).sum::<i64>() }
    };
    let before = count(app).await;
    let header = "unit_code,team,full_name,role,affiliation,phone,joined_on,username\n";
    // Each bad line refuses the whole file, named by its number; nothing is written.
    for (line, code) in [
        (format!("{hb},Tổ B,Lê Văn C,member,police,,,\n"), "unit-unknown"),
        (format!("{ha},Tổ CNSCĐ Ấp 1,Lê Văn C,boss,police,,,\n"), "member-role-invalid"),
        (format!("{ha},Tổ CNSCĐ Ấp 1,Lê Văn C,member,army,,,\n"), "affiliation-invalid"),
        (format!("{ha},Tổ CNSCĐ Ấp 1,Lê Văn C,member,police,123,,\n"), "phone-invalid"),
        (format!("{ha},Tổ CNSCĐ Ấp 1,Lê Văn C,member,police,,31/12/2024,\n"), "date-invalid"),
        (format!("{ha},Tổ CNSCĐ Ấp 1,Lê Văn C,member,police,,,thanhvien.b\n"), "user-unknown"),
    ] {
        let body = format!("{header}{ha},Tổ mới 🌱,Trần Thị D,leader,youth_union,0912345678,2025-03-01,\n{line}");
        let res = app.send(csv(body)).await;
        assert_eq!(
            (res.status, res.json()["error"]["code"].as_str(), res.json()["error"]["row"].as_u64()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some(code), Some(3)),
            "{}",
            res.body
        );
    }
    assert_eq!(count(app).await, before);
    assert_eq!(ngoso_store::teams::list(&app.db, None).await.unwrap().len(), 2);
    // A good file: a new team made, an existing one found by its name however typed.
    let body = format!(
        "{header}{ha},Tổ mới 🌱,Trần Thị D,leader,youth_union,0912 345 678,2025-03-01,totruong\n{ha},Tổ mới 🌱,Phạm Văn E,member,volunteer,,,\n{ha},to cnscd ap 1,Võ Thị G,member,teacher,,2024-06-01,\n"
    );
    let res = app.send(csv(body)).await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.body);
    assert_eq!((res.json()["teams_added"].as_u64(), res.json()["members_added"].as_u64()), (Some(1), Some(3)));
    let teams = ngoso_store::teams::list(&app.db, None).await.unwrap();
    assert_eq!(teams.len(), 3);
    let new = teams.iter().find(|t| t.name == "Tổ mới 🌱").unwrap();
    let members = ngoso_store::testing::unaudited::members(&app.db, new.id).await.unwrap();
    assert_eq!(members[0].phone.as_deref(), Some("0912345678"));
    assert_eq!(members[0].username.as_deref(), Some("totruong"));
    assert_eq!(ngoso_store::testing::unaudited::members(&app.db, s.team_a).await.unwrap().len(), 2);
    // A member may not; the page takes the same file.
    let member = app.token("thanhvien.b").await;
    let res = app
        .send(
            axum::http::Request::post("/api/v1/teams/import")
                .header("authorization", format!("Bearer {member}"))
                .header("content-type", "text/csv")
                .body(axum::body::Body::from(format!("{header}{hb},X,Y Z,member,police,,,\n")))
                .unwrap(),
        )
        .await;
    assert_eq!(res.status, StatusCode::FORBIDDEN);
    app.login("canbo.xa").await;
    let page = app.get("/app/teams").await;
    assert!(page.body.contains("action=\"/app/teams/import\""));
    let csrf = app.csrf("/app/teams").await;
    let boundary = "XyZ";
    let body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\n{csrf}\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"teams.csv\"\r\nContent-Type: text/csv\r\n\r\n{header}{ha},Tổ mới 🌱,Ngô Văn H,member,health,,,\r\n--{boundary}--\r\n"
    );
    let req = axum::http::Request::post("/app/teams/import")
        .header("content-type", format!("multipart/form-data; boundary={boundary}"))
        .body(axum::body::Body::from(body))
        .unwrap();
    let res = app.send(req).await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
    assert!(app.get(&res.location()).await.body.contains("Đã thêm 1 thành viên."));
    let log = ngoso_store::audit::list(&app.db, None, 50).await.unwrap();
    assert_eq!(log.iter().filter(|e| e.action == "team.import").count(), 2, "{log:?}");
}

async fn a_household_of_eight_in_a_few_taps(app: &mut TestApp) {
    let s = setup(app).await;
    let hid = create_household(app, s.t.hamlet_a.id, "H-8").await;
    let mut rids = Vec::new();
    for i in 0..8 {
        let r = ngoso_store::households::NewResident {
            full_name: Some(format!("Người số {i}")),
            birth_year: Some(1980 + i),
            sex: Some(if i % 2 == 0 { "f" } else { "m" }),
            youth_union: false,
            groups: 0,
            cccd: None,
            phone: None,
            consent: None,
        };
        rids.push(ngoso_store::households::add_resident(&app.db, hid, &r, None).await.unwrap());
    }
    app.login("totruong").await;
    let page = app.get(&format!("/app/households/{hid}/visit")).await;
    assert_eq!(page.status, StatusCode::OK);
    // One choice a person service for everyone, the people one by one folded away.
    assert!(page.body.contains("name=\"o:vneid_l2:all\"") && page.body.contains("Từng người (8)"), "{}", page.body);
    let marker = "name=\"id\" value=\"";
    let start = page.body.find(marker).unwrap() + marker.len();
    let visit_id = page.body[start..start + 36].to_owned();
    let csrf = app.csrf(&format!("/app/households/{hid}/visit")).await;
    let one = format!("o:vneid_l2:{}", rids[3]);
    let form = [
        ("csrf", csrf.as_str()),
        ("id", visit_id.as_str()),
        ("team_id", &s.team_a.to_string()),
        ("result", "met"),
        ("o:vneid_l2:all", "collected"),
        (one.as_str(), "activated"),
        ("o:vssid:all", ""),
    ];
    let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, *v)).collect();
    let res = app.post_form(&format!("/app/households/{hid}/visit"), &form).await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
    let statuses = ngoso_store::visits::statuses_of_household(&app.db, hid).await.unwrap();
    let vneid: Vec<(i64, i32)> =
        statuses.iter().filter(|x| x.resident_id != 0).map(|x| (x.resident_id, x.rank)).collect();
    assert_eq!(vneid.len(), 8, "{statuses:?}");
    for (r, rank) in vneid {
        assert_eq!(rank, if r == rids[3] { 2 } else { 1 }, "resident {r}");
    }
}

tests_with_app!(
    a_household_of_eight_in_a_few_taps,
    teams_and_members_are_imported_from_a_file,
    the_register_is_read_in_pages_with_residents,
    the_teams_list_pages_and_searches,
    members_are_edited_and_leave_by_api,
    a_resident_is_deleted_on_request,
    figures_by_sex_age_and_group,
    citizen_id_duplicates_are_logged_and_limited,
    walk_lists_name_few_services,
    control_characters_are_refused,
    a_member_who_left_cannot_record,
    teams_are_managed_and_flagged,
    households_visits_and_figures,
    personal_data_reads_are_scoped_and_logged,
    corrections_consent_and_deletion,
    walk_lists,
    the_catalogue_is_configurable
);
