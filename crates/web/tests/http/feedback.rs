//! Citizen feedback through the pages: the public form with its guards, the receipt, the
//! public page and list, the staff inbox by agency and scope, every action, the second-person
//! review, the citizen's rating, on-behalf submission and the audit of contact reads.

use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use ngoso_core::auth::Role;
use ngoso_store::feedback_setup::{self as setup, NewCategory};
use ngoso_store::{Backend, on_db};
use ngoso_web::WebConfig;
use serde_json::json;

use crate::support::{TestApp, Tree, enc};
use crate::tests_with_app;

pub async fn app(backend: Backend) -> Option<TestApp> {
    TestApp::with_config(backend, WebConfig { feedback_per_client_per_hour: 3, ..WebConfig::default() }).await
}

pub struct Setup {
    pub t: Tree,
    pub roads: i64,
    pub transport: i64,
    pub commune_office: i64,
}

/// Categories, two agencies, routing (roads anywhere → transport; anything in commune A →
/// its office) and staff: an agency account for each, an officer of commune B.
pub async fn setup(app: &mut TestApp) -> Setup {
    let t = app.tree().await;
    let db = &app.db;
    let roads = setup::create_category(
        db,
        &NewCategory {
            code: "roads",
            name_vi: "Giao thông, đường sá",
            name_en: "Roads",
            description_vi: "Ổ gà, đèn đường, ngập",
            description_en: "Potholes, street lights, flooding",
            deadline_days: "10",
            day_kind: "working",
        },
    )
    .await
    .unwrap();
    let kind = ngoso_core::feedback::ExtraField::parse(
        "kind",
        "Loại",
        "Kind",
        "singlevaluelist",
        true,
        "pothole = Ổ gà / Pothole\nlight = Đèn / Light",
    )
    .unwrap();
    setup::add_field(db, roads, kind).await.unwrap();
    let (transport, _) = setup::create_agency(db, "transport", "Sở Giao thông", "Transport", "").await.unwrap();
    let (commune_office, _) =
        setup::create_agency(db, "ubnd_phuoc_ly", "UBND xã Phước Lý", "Phuoc Ly commune", "").await.unwrap();
    setup::set_route(db, Some(roads), None, transport).await.unwrap();
    setup::set_route(db, None, Some(t.commune_a.id), commune_office).await.unwrap();
    let s1 = app.user("sogtvt", Role::AgencyStaff, None).await;
    let s2 = app.user("sogtvt2", Role::AgencyStaff, None).await;
    let s3 = app.user("ubndxa", Role::AgencyStaff, Some(&t.commune_a)).await;
    setup::set_user_agency(db, s1, Some(transport)).await.unwrap();
    setup::set_user_agency(db, s2, Some(transport)).await.unwrap();
    setup::set_user_agency(db, s3, Some(commune_office)).await.unwrap();
    app.user("canbo.b", Role::Officer, Some(&t.commune_b)).await;
    app.user("quantri", Role::Admin, None).await;
    Setup { t, roads, transport, commune_office }
}

/// Sends the public form, with the CSRF token of the form's page; returns the response.
pub async fn send(app: &mut TestApp, fields: &[(&str, &str)]) -> crate::support::Res {
    let csrf = app.csrf("/feedback").await;
    let mut all = vec![("csrf", csrf.as_str())];
    all.extend_from_slice(fields);
    app.post_form("/feedback", &all).await
}

/// The text between two markers of a page.
pub fn between<'a>(body: &'a str, start: &str, end: &str) -> &'a str {
    let i = body.find(start).unwrap_or_else(|| panic!("{start:?} not in {body}")) + start.len();
    let j = body[i..].find(end).unwrap() + i;
    &body[i..j]
}

pub fn code_of(res: &crate::support::Res) -> (String, String) {
    let code = between(&res.body, "id=\"code\">", "<").to_owned();
    let key = between(&res.body, "class=\"key\">", "<").to_owned();
    (code, key)
}

async fn public_form_and_guards(app: &mut TestApp) {
    let s = setup(app).await;
    let form = app.get("/feedback").await;
    assert_eq!(form.status, StatusCode::OK);
    assert!(form.body.contains("Giao thông, đường sá") && form.body.contains("attribute[kind]"));
    let hamlet = s.t.hamlet_b.code.clone();
    let good = [
        ("category", "roads"),
        ("attribute[kind]", "pothole"),
        ("description", "Ổ gà lớn 🕳️ trước <script>alert(1)</script> nhà văn hóa"),
        ("unit", hamlet.as_str()),
        ("contact_phone", "+84 912 345 678"),
        ("consent", "yes"),
    ];
    let res = send(app, &good).await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.body);
    let (code, key) = code_of(&res);
    assert!(code.starts_with("PAKN.") && code.len() == 18, "{code}");
    assert_eq!(key.len(), 12);
    // The public page shows the state, not the text (public only with its answer), never
    // the contact; staff see the text, escaped.
    let page = app.get(&format!("/feedback/{code}")).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(!page.body.contains("Ổ gà lớn") && page.body.contains("chỉ được công khai"), "{}", page.body);
    assert!(!page.body.contains("0912345678") && !page.body.contains("912 345"));
    assert!(page.body.contains("Đã chuyển cơ quan xử lý"));
    let stored = ngoso_store::testing::unaudited::feedback_by_code(&app.db, &code).await.unwrap();
    app.login("sogtvt").await;
    let staff_page = app.get(&format!("/app/feedback/{}", stored.id)).await;
    assert!(
        staff_page.body.contains("&#60;script&#62;alert(1)&#60;/script&#62;")
            && !staff_page.body.contains("<script>alert"),
        "{}",
        staff_page.body
    );
    app.cookies.clear();
    assert_eq!(stored.contact_phone.as_deref(), Some("0912345678"));
    assert_eq!(stored.agency_id, Some(s.transport));
    assert_eq!(stored.answers().get("kind").unwrap(), &vec!["pothole".to_owned()]);
    // Lookup by code; a malformed or unknown code is a clear 4xx.
    let res = app.get(&format!("/feedback/track?code={}", code.to_lowercase())).await;
    assert_eq!((res.status, res.location()), (StatusCode::SEE_OTHER, format!("/feedback/{code}")));
    // Not of our form, but it could be an earlier system's code: looked for, and not found.
    assert_eq!(app.get("/feedback/track?code=abc").await.status, StatusCode::NOT_FOUND);
    assert_eq!(app.get("/feedback/track?code=PAKN.2024.1").await.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(app.get("/feedback/PAKN.20200101.0001").await.status, StatusCode::NOT_FOUND);
    app.get("/feedback/%FF%FE").await.assert_error(StatusCode::BAD_REQUEST, "bad-path");

    let count = |app: &TestApp| {
        let db = app.db.clone();
        async move {
            on_db!(&db, p => sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM feedback").fetch_one(p).await).unwrap()
        }
    };
    // Refusals change nothing and say why, with the form filled in again.
    let cases: Vec<(Vec<(&str, &str)>, &str)> = vec![
        (
            vec![
                ("category", "roads"),
                ("attribute[kind]", "pothole"),
                ("description", "x"),
                ("unit", &hamlet),
                ("contact_phone", "0912345678"),
            ],
            "đánh dấu đồng ý",
        ),
        (vec![("category", "roads"), ("description", "x"), ("unit", &hamlet)], "Loại"),
        (vec![("category", "nope"), ("description", "x"), ("unit", &hamlet)], "nope"),
        (
            vec![("category", "roads"), ("attribute[kind]", "pothole"), ("description", " "), ("unit", &hamlet)],
            "Cần nhập",
        ),
        (vec![("category", "roads"), ("attribute[kind]", "pothole"), ("description", "x")], "địa bàn"),
        (
            vec![("category", "roads"), ("attribute[kind]", "pothole"), ("description", "a\u{0}b"), ("unit", &hamlet)],
            "ký tự điều khiển",
        ),
        (
            vec![
                ("category", "roads"),
                ("attribute[kind]", "pothole"),
                ("description", "x"),
                ("unit", &hamlet),
                ("website", "http://spam"),
            ],
            "Website",
        ),
    ];
    let before = count(app).await;
    for (fields, want) in cases {
        let res = send(app, &fields).await;
        assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{fields:?}");
        assert!(res.notice().contains(want), "{want}: {}", res.body);
        // The form comes back filled in.
        assert!(res.body.contains("name=\"description\""), "{}", res.body);
    }
    // A field sent twice is refused whole.
    let twice = [("category", "roads"), ("category", "lights"), ("description", "x"), ("unit", &hamlet)];
    send(app, &twice).await.assert_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid-form-data");
    let long = "ă".repeat(4001);
    let res =
        send(app, &[("category", "roads"), ("attribute[kind]", "light"), ("description", &long), ("unit", &hamlet)])
            .await;
    res.assert_notice(StatusCode::UNPROCESSABLE_ENTITY, "Quá dài: tối đa 4000 ký tự.");
    assert_eq!(count(app).await, before);
    // Three items an hour per client: the fourth is refused (one was stored above, and the
    // honeypot counted one).
    for _ in 0..1 {
        assert_eq!(send(app, &good).await.status, StatusCode::CREATED);
    }
    let res = send(app, &good).await;
    res.assert_error(StatusCode::TOO_MANY_REQUESTS, "too-many-requests");
    assert!(res.header("retry-after").is_some());
}

/// A multipart form with a JPEG carrying a GPS position and a phone's orientation: stored
/// without the position, with the orientation (written back alone, so it shows upright).
async fn photo_is_stripped(app: &mut TestApp) {
    let s = setup(app).await;
    let jpeg = crate::support::jpeg_with_gps();
    let boundary = "XyZ";
    let csrf = app.csrf("/feedback").await;
    let mut body = Vec::new();
    for (k, v) in [
        ("csrf", csrf.as_str()),
        ("category", "roads"),
        ("attribute[kind]", "light"),
        ("description", "Đèn hỏng"),
        ("unit", s.t.hamlet_b.code.as_str()),
    ] {
        body.extend(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n").into_bytes(),
        );
    }
    body.extend(format!("--{boundary}\r\nContent-Disposition: form-data; name=\"photo\"; filename=\"a.jpg\"\r\nContent-Type: image/jpeg\r\n\r\n").into_bytes());
    body.extend(&jpeg);
    body.extend(format!("\r\n--{boundary}--\r\n").into_bytes());
    let req = Request::post("/feedback")
        .header(header::CONTENT_TYPE, format!("multipart/form-data; boundary={boundary}"))
        .body(Body::from(body))
        .unwrap();
    let res = app.send(req).await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.body);
    let (code, _) = code_of(&res);
    let it = ngoso_store::testing::unaudited::feedback_by_code(&app.db, &code).await.unwrap();
    assert!(it.has_photo);
    let (mime, bytes) = ngoso_store::testing::unaudited::feedback_photo(&app.db, it.id).await.unwrap();
    assert_eq!(mime, "image/jpeg");
    assert!(!bytes.windows(3).any(|w| w == b"GPS"));
    let upright = b"\xFF\xE1\0\x22Exif\0\0MM\0*\0\0\0\x08\0\x01\x01\x12\0\x03\0\0\0\x01\0\x06\0\0\0\0\0\0";
    assert_eq!(&bytes[2..2 + upright.len()], upright);
    // Staff of the agency see it (and the read is logged); the public has no photo URL.
    app.login("sogtvt").await;
    let res = app.get(&format!("/app/feedback/{}/photo", it.id)).await;
    assert_eq!(res.status, StatusCode::OK);
    assert_eq!(res.header("content-type").as_deref(), Some("image/jpeg"));
    assert_eq!(res.header("x-content-type-options").as_deref(), Some("nosniff"));
    let log = ngoso_store::audit::list(&app.db, Some(("feedback", &it.id.to_string())), 10).await.unwrap();
    assert!(log.iter().any(|e| e.action == "feedback.read_photo"));
    // A file that is not a JPEG or PNG is refused (the form's token, now that a session is
    // open, is the one its page gives in this session).
    let csrf = app.csrf("/feedback").await;
    let bad = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\n{csrf}\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"category\"\r\n\r\nroads\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"photo\"; filename=\"x.svg\"\r\n\r\n<svg onload=alert(1)>\r\n--{boundary}--\r\n"
    );
    let req = Request::post("/feedback")
        .header(header::CONTENT_TYPE, format!("multipart/form-data; boundary={boundary}"))
        .body(Body::from(bad))
        .unwrap();
    let res = app.send(req).await;
    res.assert_notice(StatusCode::UNPROCESSABLE_ENTITY, "Chỉ nhận ảnh JPEG hoặc PNG.");
}

async fn staff_handle_and_citizen_rates(app: &mut TestApp) {
    let s = setup(app).await;
    let hb = s.t.hamlet_b.code.clone();
    let res = send(
        app,
        &[
            ("category", "roads"),
            ("attribute[kind]", "pothole"),
            ("description", "Ổ gà"),
            ("unit", &hb),
            ("contact_name", "Trần Thị Bình"),
            ("consent", "yes"),
        ],
    )
    .await;
    let (code, key) = code_of(&res);
    let it = ngoso_store::testing::unaudited::feedback_by_code(&app.db, &code).await.unwrap();
    let id = it.id;
    let url = format!("/app/feedback/{id}");

    // The commune office's staff do not see the transport agency's item.
    app.login("ubndxa").await;
    assert_eq!(app.get(&url).await.status, StatusCode::NOT_FOUND);
    let inbox = app.get("/app/feedback").await;
    assert!(!inbox.body.contains(&code));
    // The officer of commune B sees it (their area); an officer elsewhere would not.
    app.login("canbo.b").await;
    assert_eq!(app.get(&url).await.status, StatusCode::OK);

    // The agency's staff: inbox, start, draft; the author cannot publish.
    app.login("sogtvt").await;
    let inbox = app.get("/app/feedback").await;
    assert!(inbox.body.contains(&code), "{}", inbox.body);
    let page = app.get(&url).await;
    assert!(page.body.contains("Trần Thị Bình"));
    let log = ngoso_store::audit::list(&app.db, Some(("feedback", &id.to_string())), 10).await.unwrap();
    assert!(log.iter().any(|e| e.action == "feedback.read_contact"));
    let csrf = app.csrf(&url).await;
    let res = app.post_form(&format!("{url}/move"), &[("csrf", &csrf), ("move", "start")]).await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
    // A refused move: a page with the reason, nothing changed.
    let res = app.post_form(&format!("{url}/move"), &[("csrf", &csrf), ("move", "close")]).await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(res.body.contains("in_progress → close"), "{}", res.body);
    let res = app.post_form(&format!("{url}/move"), &[("csrf", &csrf), ("move", "teleport")]).await;
    res.assert_notice(StatusCode::UNPROCESSABLE_ENTITY, "Thao tác “teleport” không có.");
    let res =
        app.post_form(&format!("{url}/extend"), &[("csrf", &csrf), ("days", "5"), ("reason", "Chờ vật tư")]).await;
    assert_eq!(res.status, StatusCode::SEE_OTHER);
    let res = app.post_form(&format!("{url}/extend"), &[("csrf", &csrf), ("days", "0"), ("reason", "x")]).await;
    res.assert_notice(StatusCode::UNPROCESSABLE_ENTITY, "Số ngày phải từ 1 đến 365.");
    let res = app.post_form(&format!("{url}/draft"), &[("csrf", &csrf), ("answer", "Đã vá ổ gà ngày 20/10.")]).await;
    assert_eq!(res.status, StatusCode::SEE_OTHER);
    let res = app.post_form(&format!("{url}/publish"), &[("csrf", &csrf)]).await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(!app.get("/feedback/answered").await.body.contains(&code));
    // A colleague reviews and publishes the draft they read; one changed since is refused.
    app.login("sogtvt2").await;
    let csrf = app.csrf(&url).await;
    let read = between(&app.get(&url).await.body, "name=\"draft\" value=\"", "\"").to_owned();
    let res = app.post_form(&format!("{url}/publish"), &[("csrf", &csrf), ("draft", "0123456789abcdef")]).await;
    res.assert_notice(
        StatusCode::UNPROCESSABLE_ENTITY,
        "Bản nháp đã được sửa sau khi bạn đọc; hãy đọc lại rồi công bố.",
    );
    let res = app.post_form(&format!("{url}/publish"), &[("csrf", &csrf), ("draft", &read)]).await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
    let list = app.get("/feedback/answered").await;
    assert!(list.body.contains(&code) && list.body.contains("Đã vá ổ gà"));
    assert!(!list.body.contains("Trần Thị Bình"));
    // The list searches folded ("o ga" finds "Ổ gà"), by code too, and inside a unit.
    for (query, found) in [
        ("?q=o+ga".to_owned(), true),
        (format!("?q={}", code.to_lowercase()), true),
        ("?q=%C4%91%C3%A8n".to_owned(), false),
        (format!("?unit={}", s.t.commune_b.id), true),
        (format!("?unit={}&q=GA", s.t.hamlet_b.id), true),
        (format!("?unit={}", s.t.commune_a.id), false),
    ] {
        let list = app.get(&format!("/feedback/answered{query}")).await;
        assert_eq!(list.status, StatusCode::OK);
        assert_eq!(list.body.contains(&code), found, "{query}: {}", list.body);
    }
    // Hiding takes it off the public list and hides its text on its page.
    let res =
        app.post_form(&format!("{url}/hide"), &[("csrf", &csrf), ("hide", "1"), ("reason", "Có tên người")]).await;
    assert_eq!(res.status, StatusCode::SEE_OTHER);
    assert!(!app.get("/feedback/answered").await.body.contains(&code));
    let public = app.get(&format!("/feedback/{code}")).await;
    assert!(!public.body.contains("Ổ gà</p>") && public.body.contains("không được công khai"), "{}", public.body);
    // Nor its answer, nor through Open311.
    assert!(!public.body.contains("Đã vá ổ gà"), "{}", public.body);
    assert_eq!(app.get(&format!("/open311/v2/requests/{code}.json")).await.status, StatusCode::NOT_FOUND);
    // The citizen asks for their contact to be removed.
    let res = app.post_form(&format!("{url}/erase-contact"), &[("csrf", &csrf)]).await;
    assert_eq!(res.status, StatusCode::SEE_OTHER);
    assert!(!app.get(&url).await.body.contains("Trần Thị Bình"));
    // History: every step, in order.
    let h = ngoso_store::testing::unaudited::feedback_history(&app.db, id).await.unwrap();
    let actions: Vec<&str> = h.iter().map(|r| r.action.as_str()).collect();
    assert_eq!(actions, ["submitted", "forward", "start", "extend", "draft", "answer", "hide", "erase_contact"]);
    assert!(app.get("/app/feedback").await.body.contains("Quá hạn: 0"));

    // The citizen rates with the key; without it, or with a wrong one, nothing changes.
    app.cookies.clear();
    let rate = format!("/feedback/{code}/rating");
    let csrf = app.csrf(&format!("/feedback/{code}")).await;
    // Without the page's token (a form posted from another site), nothing changes.
    let res = app.post_form(&rate, &[("rating", "not_satisfied"), ("key", &key)]).await;
    res.assert_error(StatusCode::FORBIDDEN, "csrf-invalid");
    let res = app.post_form(&rate, &[("csrf", &csrf), ("rating", "satisfied"), ("key", "sai")]).await;
    res.assert_notice(StatusCode::UNPROCESSABLE_ENTITY, "Mã bí mật không đúng.");
    let res = app.post_form(&rate, &[("csrf", &csrf), ("rating", "excellent"), ("key", &key)]).await;
    res.assert_notice(StatusCode::UNPROCESSABLE_ENTITY, "Đánh giá “excellent” không có.");
    let res = app.post_form(&rate, &[("csrf", &csrf), ("rating", "not_satisfied"), ("key", &key)]).await;
    assert_eq!(res.status, StatusCode::SEE_OTHER);
    assert!(app.get(&res.location()).await.body.contains("Không hài lòng"));
    // One rating per answer.
    let res = app.post_form(&rate, &[("csrf", &csrf), ("rating", "satisfied"), ("key", &key)]).await;
    res.assert_notice(StatusCode::UNPROCESSABLE_ENTITY, "Câu trả lời này đã được đánh giá.");
    // Staff pages need an account.
    assert_eq!(app.get("/app/feedback").await.status, StatusCode::SEE_OTHER);
}

async fn on_behalf_and_setup_pages(app: &mut TestApp) {
    let s = setup(app).await;
    // A team member types in a citizen's feedback (channel recorded, author recorded).
    app.user("thanhvien", Role::Member, Some(&s.t.hamlet_a)).await;
    app.login("thanhvien").await;
    let csrf = app.csrf("/app/feedback/new").await;
    let ha = s.t.hamlet_a.code.clone();
    let res = app
        .post_form(
            "/app/feedback/new",
            &[
                ("csrf", &csrf),
                ("channel", "team"),
                ("category", "roads"),
                ("attribute[kind]", "light"),
                ("description", "Bà Tư nhờ báo: đèn hỏng"),
                ("unit", &ha),
            ],
        )
        .await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.body);
    let (code, _) = code_of(&res);
    let it = ngoso_store::testing::unaudited::feedback_by_code(&app.db, &code).await.unwrap();
    assert_eq!(it.channel, "team");
    assert!(it.submitted_by.is_some());
    // In commune A everything goes to the commune office (the unit rule is deeper).
    assert_eq!(it.agency_id, Some(s.commune_office));
    // Members are not staff: no inbox.
    assert_eq!(app.get("/app/feedback").await.status, StatusCode::FORBIDDEN);
    assert_eq!(app.get("/app/feedback/setup").await.status, StatusCode::FORBIDDEN);
    // The administrator sets up a holiday, a key and a category through the page.
    app.login("quantri").await;
    let csrf = app.csrf("/app/feedback/setup").await;
    let res = app
        .post_form(
            "/app/feedback/setup/days",
            &[("csrf", &csrf), ("day", "2025-01-29"), ("kind", "holiday"), ("name", "Tết Ất Tỵ")],
        )
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER);
    let res =
        app.post_form("/app/feedback/setup/days", &[("csrf", &csrf), ("day", "29/02/2025"), ("kind", "holiday")]).await;
    res.assert_notice(
        StatusCode::UNPROCESSABLE_ENTITY,
        "Ngày “29/02/2025” không hợp lệ: dùng dạng NĂM-THÁNG-NGÀY, ví dụ 2025-07-01.",
    );
    let res = app.post_form("/app/feedback/setup/keys", &[("csrf", &csrf), ("name", "FixMyStreet")]).await;
    assert_eq!(res.status, StatusCode::OK);
    let key = between(&res.body, "class=\"key\">", "<").to_owned();
    assert_eq!(key.len(), 64);
    assert!(setup::check_key(&app.db, &key).await.unwrap().is_some());
    let res = app
        .post_form(
            "/app/feedback/setup/categories",
            &[
                ("csrf", &csrf),
                ("code", "env"),
                ("name_vi", "Môi trường"),
                ("name_en", "Environment"),
                ("deadline_days", "15"),
                ("day_kind", "calendar"),
            ],
        )
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER);
    let res = app
        .post_form(
            "/app/feedback/setup/categories",
            &[
                ("csrf", &csrf),
                ("code", "env"),
                ("name_vi", "x"),
                ("name_en", "x"),
                ("deadline_days", "15"),
                ("day_kind", "calendar"),
            ],
        )
        .await;
    res.assert_notice(StatusCode::CONFLICT, "Mã env đã có.");
    let res = app
        .post_form(
            "/app/feedback/setup/routes",
            &[("csrf", &csrf), ("agency", &s.transport.to_string()), ("unit", "no-such-unit")],
        )
        .await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    let page = app.get("/app/feedback/setup").await;
    assert!(page.body.contains("Tết Ất Tỵ") && page.body.contains("Môi trường") && page.body.contains("FixMyStreet"));
    // Renaming a category and an agency keeps their codes; an empty name changes nothing.
    let names = |vi: &'static str, en: &'static str| [("name_vi", vi), ("name_en", en)];
    let url = format!("/app/feedback/setup/categories/{}/names", s.roads);
    let mut form = vec![("csrf", csrf.as_str()), ("description_vi", "Ổ gà, đèn đường 🚧"), ("description_en", "")];
    form.extend(names("Giao thông, cầu đường", "Roads and bridges"));
    assert_eq!(app.post_form(&url, &form).await.status, StatusCode::SEE_OTHER);
    let c = setup::category(&app.db, s.roads).await.unwrap();
    assert_eq!(
        (c.code.as_str(), c.name_vi.as_str(), c.description_vi.as_str()),
        ("roads", "Giao thông, cầu đường", "Ổ gà, đèn đường 🚧")
    );
    let url = format!("/app/feedback/setup/agencies/{}/names", s.transport);
    let before = setup::agency(&app.db, s.transport).await.unwrap();
    let res = app.post_form(&url, &[("csrf", csrf.as_str()), ("name_vi", " "), ("name_en", "Transport")]).await;
    res.assert_notice(StatusCode::UNPROCESSABLE_ENTITY, "Cần nhập Tên tiếng Việt.");
    assert_eq!(setup::agency(&app.db, s.transport).await.unwrap(), before, "a refused rename changes nothing");
    let mut form = vec![("csrf", csrf.as_str())];
    form.extend(names("Sở Xây dựng", "Department of Construction"));
    assert_eq!(app.post_form(&url, &form).await.status, StatusCode::SEE_OTHER);
    let a = setup::agency(&app.db, s.transport).await.unwrap();
    assert_eq!(
        (a.code, a.name_vi.as_str(), a.name_en.as_str()),
        (before.code, "Sở Xây dựng", "Department of Construction")
    );
    assert!(app.get("/app/feedback/setup").await.body.contains("Sở Xây dựng"));
    // The audit log names the agency and what was sent (never the CSRF token).
    let log = ngoso_store::audit::list(&app.db, Some(("feedback_setup", &s.transport.to_string())), 10).await.unwrap();
    let rename = log.iter().find(|e| e.action == "feedback.agency.rename").expect("the rename is in the audit log");
    assert!(rename.detail.contains("name_vi=Sở Xây dựng") && !rename.detail.contains("csrf"), "{}", rename.detail);
    let url_w = format!("/app/feedback/setup/agencies/{}/webhook", s.transport);
    let hook = "https://hooks.so-xd.example.vn/ngoso?token=bi-mat";
    assert_eq!(app.post_form(&url_w, &[("csrf", csrf.as_str()), ("webhook_url", hook)]).await.status, StatusCode::OK);
    let log = ngoso_store::audit::list(&app.db, Some(("feedback_setup", &s.transport.to_string())), 10).await.unwrap();
    let set =
        log.iter().find(|e| e.action == "feedback.agency.webhook").expect("the webhook change is in the audit log");
    assert!(
        set.detail.contains("webhook_url=hooks.so-xd.example.vn") && !set.detail.contains("bi-mat"),
        "{}",
        set.detail
    );
    // A private address is refused when saved (it would never be sent), and the webhook stays.
    let res = app.post_form(&url_w, &[("csrf", csrf.as_str()), ("webhook_url", "http://10.0.0.7/hook")]).await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(res.body.contains("10.0.0.7"), "the page says which address");
    assert_eq!(setup::agency(&app.db, s.transport).await.unwrap().webhook_url.as_deref(), Some(hook));
    // A field of a category: renamed by its code; an unknown code is not found.
    let url_f = format!("/app/feedback/setup/categories/{}/fields/names", s.roads);
    let res = app
        .post_form(
            &url_f,
            &[("csrf", csrf.as_str()), ("code", "kind"), ("name_vi", "Loại hư hỏng"), ("name_en", "Damage")],
        )
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER);
    let c = setup::category(&app.db, s.roads).await.unwrap();
    let kind = c.fields.iter().find(|f| f.code == "kind").unwrap();
    assert_eq!((kind.name_vi.as_str(), kind.name_en.as_str()), ("Loại hư hỏng", "Damage"));
    let res =
        app.post_form(&url_f, &[("csrf", csrf.as_str()), ("code", "nope"), ("name_vi", "x"), ("name_en", "x")]).await;
    res.assert_notice(StatusCode::NOT_FOUND, "Không tìm thấy trang hoặc dữ liệu này.");
    // A field withdrawn is no longer asked; an agency that received items cannot be deleted,
    // only withdrawn.
    let url = format!("/app/feedback/setup/categories/{}/fields/withdrawn", s.roads);
    let res = app.post_form(&url, &[("csrf", csrf.as_str()), ("code", "kind"), ("active", "1")]).await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
    assert!(setup::category(&app.db, s.roads).await.unwrap().fields[0].withdrawn);
    assert!(!app.get("/feedback").await.body.contains("attribute[kind]"));
    let url = format!("/app/feedback/setup/agencies/{}/delete", s.commune_office);
    let res = app.post_form(&url, &[("csrf", csrf.as_str())]).await;
    res.assert_notice(
        StatusCode::UNPROCESSABLE_ENTITY,
        "Cơ quan “ubnd_phuoc_ly” đã nhận phản ánh nên không xoá được: hãy ngừng chuyển cho cơ quan này.",
    );
    let url = format!("/app/feedback/setup/agencies/{}/active", s.commune_office);
    assert_eq!(app.post_form(&url, &[("csrf", csrf.as_str()), ("active", "0")]).await.status, StatusCode::SEE_OTHER);
    assert!(!setup::agency(&app.db, s.commune_office).await.unwrap().active);
    // Only an administrator may.
    app.login("sogtvt").await;
    let csrf = app.csrf("/app/feedback").await;
    let mut form = vec![("csrf", csrf.as_str())];
    form.extend(names("Đổi tên", "Renamed"));
    assert_eq!(app.post_form(&url, &form).await.status, StatusCode::FORBIDDEN);
    assert_eq!(setup::agency(&app.db, s.transport).await.unwrap().name_vi, "Sở Xây dựng");
}

/// The JSON API and the figures, page and API: submit for a citizen, inbox, item, moves,
/// then received/answered/on-time/overdue by category, agency and unit.
async fn api_and_figures(app: &mut TestApp) {
    let s = setup(app).await;
    app.user("thanhvien", Role::Member, Some(&s.t.hamlet_b)).await;
    let member = app.token("thanhvien").await;
    let body = json!({"category": "roads", "description": "Cống nghẹt 🌧️", "unit": s.t.hamlet_b.code, "attributes": {"kind": ["pothole"]}});
    let r = app.json(Method::POST, "/api/v1/feedback", Some(body.clone()), Some(&member)).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let code = r.json()["code"].as_str().unwrap().to_owned();
    let r = app
        .json(
            Method::POST,
            "/api/v1/feedback",
            Some(json!({"category": "roads", "description": "x", "unit": s.t.hamlet_b.code})),
            Some(&member),
        )
        .await;
    assert_eq!(
        (r.status, r.json()["error"]["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("attribute-required"))
    );
    let r = app.json(Method::POST, "/api/v1/feedback", Some(json!({"category": 5})), Some(&member)).await;
    r.assert_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid-json-data");
    assert_eq!(app.json(Method::GET, "/api/v1/feedback", None, Some(&member)).await.status, StatusCode::FORBIDDEN);
    // The agency's staff: inbox, item with history, moves (refused ones say why).
    let staff = app.token("sogtvt").await;
    let r = app.json(Method::GET, "/api/v1/feedback?state=forwarded", None, Some(&staff)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let items = r.json()["items"].as_array().unwrap().clone();
    assert_eq!(items.len(), 1);
    let id = items[0]["id"].as_i64().unwrap();
    assert_eq!(items[0]["code"], code.as_str());
    let r = app.json(Method::GET, &format!("/api/v1/feedback/{id}"), None, Some(&staff)).await;
    assert_eq!(r.json()["history"].as_array().unwrap().len(), 2);
    // Found by the tracking code the citizen and Open311 were given, as by its id.
    let r = app.json(Method::GET, &format!("/api/v1/feedback/by-code/{code}"), None, Some(&staff)).await;
    assert_eq!((r.status, r.json()["item"]["id"].as_i64()), (StatusCode::OK, Some(id)), "{}", r.body);
    for c in ["PAKN.20000101.0001", "not-a-code"] {
        let r = app.json(Method::GET, &format!("/api/v1/feedback/by-code/{c}"), None, Some(&staff)).await;
        r.assert_error(StatusCode::NOT_FOUND, "not-found");
    }
    let office = app.token("ubndxa").await;
    let r = app.json(Method::GET, &format!("/api/v1/feedback/by-code/{code}"), None, Some(&office)).await;
    r.assert_error(StatusCode::NOT_FOUND, "not-found");
    // The unit filter: commune B's subtree has it, commune A's does not; an unknown unit is a 422.
    let by_unit = |c: &str| format!("/api/v1/feedback?unit={c}");
    let r = app.json(Method::GET, &by_unit(&s.t.commune_b.code), None, Some(&staff)).await;
    assert_eq!(r.json()["items"].as_array().unwrap().len(), 1);
    let r = app.json(Method::GET, &by_unit(&s.t.commune_a.code), None, Some(&staff)).await;
    assert_eq!(r.json()["items"].as_array().unwrap().len(), 0);
    let r = app.json(Method::GET, &by_unit("nowhere"), None, Some(&staff)).await;
    r.assert_error(StatusCode::UNPROCESSABLE_ENTITY, "unit-unknown");
    let mv = |m: &str| json!({"move": m});
    let r = app.json(Method::POST, &format!("/api/v1/feedback/{id}/moves"), Some(mv("close")), Some(&staff)).await;
    assert_eq!(
        (r.status, r.json()["error"]["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("feedback-move-refused"))
    );
    let r = app.json(Method::POST, &format!("/api/v1/feedback/{id}/moves"), Some(mv("start")), Some(&staff)).await;
    assert_eq!(r.json()["state"], "in_progress");
    let other = app.token("ubndxa").await;
    assert_eq!(
        app.json(Method::GET, &format!("/api/v1/feedback/{id}"), None, Some(&other)).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.json(Method::POST, &format!("/api/v1/feedback/{id}/moves"), Some(mv("reject")), Some(&other)).await.status,
        StatusCode::NOT_FOUND
    );
    // Answer it (draft by one, publish by another), and leave a second item overdue.
    let staff2 = app.token("sogtvt2").await;
    let r = app
        .json(Method::POST, &format!("/api/v1/feedback/{id}/draft"), Some(json!({"answer": " "})), Some(&staff2))
        .await;
    r.assert_error(StatusCode::UNPROCESSABLE_ENTITY, "required");
    let r = app
        .json(
            Method::POST,
            &format!("/api/v1/feedback/{id}/draft"),
            Some(json!({"answer": "Đã nạo vét"})),
            Some(&staff2),
        )
        .await;
    // The draft's answer carries what publishing it needs.
    assert_eq!((r.status, r.json()["state"].as_str()), (StatusCode::OK, Some("in_progress")), "{}", r.body);
    let seen = r.json()["draft_hash"].as_str().unwrap().to_owned();
    let read = app.json(Method::GET, &format!("/api/v1/feedback/{id}"), None, Some(&staff)).await;
    assert_eq!(read.json()["draft_hash"].as_str(), Some(seen.as_str()));
    let r = app
        .json(
            Method::POST,
            &format!("/api/v1/feedback/{id}/extension"),
            Some(json!({"days": 0, "reason": "x"})),
            Some(&staff2),
        )
        .await;
    r.assert_error(StatusCode::UNPROCESSABLE_ENTITY, "days-invalid");
    let r = app
        .json(
            Method::POST,
            &format!("/api/v1/feedback/{id}/extension"),
            Some(json!({"days": 2, "reason": "Chờ máy bơm"})),
            Some(&staff2),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(r.json()["due"].as_str().unwrap().ends_with("23:59:59+07:00"));
    assert_eq!(
        app.json(Method::POST, &format!("/api/v1/feedback/{id}/draft"), Some(json!({"answer": "x"})), Some(&other))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    let answer = json!({"move": "answer", "draft_seen": seen});
    let r = app.json(Method::POST, &format!("/api/v1/feedback/{id}/moves"), Some(answer), Some(&staff)).await;
    assert_eq!(r.json()["state"], "answered", "{}", r.body);
    let r = app.json(Method::POST, "/api/v1/feedback", Some(body), Some(&member)).await;
    let late = r.json()["id"].as_i64().unwrap();
    ngoso_store::on_write!(&app.db, p => sqlx::query("UPDATE feedback SET due_at = 0 WHERE id = $1").bind(late).execute(p).await.map(|r| r.rows_affected())).unwrap();
    // Figures, whole tree (administrator): 2 received, 1 answered on time, 1 overdue.
    let admin = app.token("quantri").await;
    let r = app.json(Method::GET, "/api/v1/feedback/figures", None, Some(&admin)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let f = r.json();
    assert_eq!(
        (
            f["total"]["received"].as_i64(),
            f["total"]["answered"].as_i64(),
            f["total"]["on_time"].as_i64(),
            f["total"]["overdue"].as_i64()
        ),
        (Some(2), Some(1), Some(1), Some(1))
    );
    assert_eq!(f["by_category"][0]["code"], "roads");
    assert_eq!(f["by_agency"][0]["code"], "transport");
    let province = f["by_unit"].as_array().unwrap().iter().find(|u| u["code"] == s.t.province.code.as_str()).unwrap();
    assert_eq!(province["received"], 2);
    // The officer of commune B sees the same two in their area; of commune A, none.
    let canbo = app.token("canbo.b").await;
    let f = app.json(Method::GET, "/api/v1/feedback/figures?period=2020", None, Some(&canbo)).await.json();
    assert_eq!(f["total"]["received"], 0);
    let this_year = ngoso_core::calendar::local_day(ngoso_store::now()).format("%Y").to_string();
    let f =
        app.json(Method::GET, &format!("/api/v1/feedback/figures?period={this_year}"), None, Some(&canbo)).await.json();
    assert_eq!(f["total"]["received"], 2);
    let r = app.json(Method::GET, "/api/v1/feedback/figures?period=2024Q9", None, Some(&canbo)).await;
    r.assert_error(StatusCode::UNPROCESSABLE_ENTITY, "period-invalid");
    let r =
        app.json(Method::GET, &format!("/api/v1/feedback/figures?unit={}", s.t.commune_a.id), None, Some(&canbo)).await;
    r.assert_error(StatusCode::NOT_FOUND, "not-found");
    // The page.
    app.login("canbo.b").await;
    let page = app.get("/app/feedback/figures").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("100,0 %") && page.body.contains("Sở Giao thông"), "{}", page.body);
    assert_eq!(ngoso_store::check::run(&app.db).await.unwrap(), Vec::<String>::new());
}

/// The API's notes, hiding and removal of the citizen's contact: the agency's staff may, others
/// get "not found", bad input is a 422 that changes nothing.
async fn api_notes_hiding_and_contact_removal(app: &mut TestApp) {
    use axum::http::Method;
    use serde_json::json;
    let s = setup(app).await;
    app.user("thanhvien", Role::Member, Some(&s.t.hamlet_b)).await;
    let member = app.token("thanhvien").await;
    let body = json!({"category": "roads", "description": "Đèn đường tắt 💡", "unit": s.t.hamlet_b.code,
        "attributes": {"kind": ["light"]}, "contact_phone": "0912345678", "consent": true});
    let r = app.json(Method::POST, "/api/v1/feedback", Some(body), Some(&member)).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let id = r.json()["id"].as_i64().unwrap();
    let staff = app.token("sogtvt").await;
    let other = app.token("ubndxa").await;
    let url = |what: &str| format!("/api/v1/feedback/{id}/{what}");
    let history = |app: &TestApp| {
        let db = app.db.clone();
        async move { ngoso_store::testing::unaudited::feedback_history(&db, id).await.unwrap().len() }
    };
    let before = history(app).await;
    // Refused: someone else's item, an empty note, hiding without a reason.
    for (what, b) in [
        ("notes", json!({"note": "Đã gọi điện"})),
        ("visibility", json!({"hidden": true, "reason": "Trùng"})),
        ("contact-removal", json!({})),
    ] {
        assert_eq!(app.json(Method::POST, &url(what), Some(b), Some(&other)).await.status, StatusCode::NOT_FOUND);
    }
    let r = app.json(Method::POST, &url("notes"), Some(json!({"note": "  "})), Some(&staff)).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let r = app.json(Method::POST, &url("visibility"), Some(json!({"hidden": true})), Some(&staff)).await;
    assert_eq!((r.status, r.json()["error"]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("reason")));
    assert_eq!(history(app).await, before);
    // Done by the agency's staff, each in the history.
    let r = app
        .json(Method::POST, &url("notes"), Some(json!({"note": "Đã gọi điện cho người dân ☎️"})), Some(&staff))
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);
    let hide = json!({"hidden": true, "reason": "Có số điện thoại trong nội dung"});
    assert_eq!(
        app.json(Method::POST, &url("visibility"), Some(hide), Some(&staff)).await.status,
        StatusCode::NO_CONTENT
    );
    let it = ngoso_store::testing::unaudited::feedback_item(&app.db, id).await.unwrap();
    assert_eq!(it.hidden_reason.as_deref(), Some("Có số điện thoại trong nội dung"));
    let show = json!({"hidden": false});
    assert_eq!(
        app.json(Method::POST, &url("visibility"), Some(show), Some(&staff)).await.status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(ngoso_store::testing::unaudited::feedback_item(&app.db, id).await.unwrap().hidden_reason, None);
    // Signed in with the session cookie, a request without a JSON body or the page's token
    // (a form another site could post) is refused and changes nothing.
    app.login("sogtvt").await;
    let r = app.send(axum::http::Request::post(url("contact-removal")).body(axum::body::Body::empty()).unwrap()).await;
    assert_eq!((r.status, r.json()["error"]["code"].as_str()), (StatusCode::FORBIDDEN, Some("csrf-invalid")));
    let forged = axum::http::Request::post(url("contact-removal"))
        .header("content-type", "text/plain")
        .header("x-csrf-token", "0".repeat(64))
        .body(axum::body::Body::from("{}"))
        .unwrap();
    assert_eq!(app.send(forged).await.status, StatusCode::FORBIDDEN);
    assert!(
        ngoso_store::testing::unaudited::feedback_item(&app.db, id).await.unwrap().contact_phone.is_some(),
        "nothing changed"
    );
    // With the page's token, it is done.
    let csrf = app.csrf("/app/feedback").await;
    let r = app
        .send(
            axum::http::Request::post(url("contact-removal"))
                .header("x-csrf-token", csrf)
                .body(axum::body::Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);
    app.cookies.clear();
    let it = ngoso_store::testing::unaudited::feedback_item(&app.db, id).await.unwrap();
    assert_eq!((it.contact_phone, it.contact_name, it.contact_email), (None, None, None));
    let actions: Vec<String> = ngoso_store::testing::unaudited::feedback_history(&app.db, id)
        .await
        .unwrap()
        .into_iter()
        .map(|h| h.action)
        .collect();
    assert_eq!(actions[actions.len() - 4..], ["note", "hide", "unhide", "erase_contact"]);
}

/// A deadline set for the hotline on the set-up page applies to items that come in by the
/// hotline; items of other channels keep the category's.
async fn deadlines_per_channel(app: &mut TestApp) {
    use axum::http::Method;
    use serde_json::json;
    let s = setup(app).await;
    app.login("quantri").await;
    let csrf = app.csrf("/app/feedback/setup").await;
    let url = format!("/app/feedback/setup/categories/{}/channel-deadlines", s.roads);
    let form = |ch: &'static str, days: &'static str| {
        [
            ("csrf", csrf.clone()),
            ("channel", ch.into()),
            ("deadline_days", days.into()),
            ("day_kind", "calendar".into()),
        ]
    };
    let post = async |app: &mut TestApp, f: [(&'static str, String); 4]| {
        let f: Vec<(&str, &str)> = f.iter().map(|(k, v)| (*k, v.as_str())).collect();
        app.post_form(&url, &f).await.status
    };
    assert_eq!(post(app, form("fax", "1")).await, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(post(app, form("hotline", "1")).await, StatusCode::SEE_OTHER);
    let page = app.get("/app/feedback/setup").await;
    assert!(page.body.contains("Đường dây nóng: 1"), "the override is listed");
    app.user("thanhvien", Role::Member, Some(&s.t.hamlet_b)).await;
    let member = app.token("thanhvien").await;
    let (mut due, mut ids) = (Vec::new(), Vec::new());
    for channel in ["hotline", "team"] {
        let body = json!({"category": "roads", "description": "Cây đổ chắn đường 🌳", "unit": s.t.hamlet_b.code,
            "attributes": {"kind": ["pothole"]}, "channel": channel});
        let r = app.json(Method::POST, "/api/v1/feedback", Some(body), Some(&member)).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        let it =
            ngoso_store::testing::unaudited::feedback_item(&app.db, r.json()["id"].as_i64().unwrap()).await.unwrap();
        due.push(it.due_at - it.received_at);
        ids.push(it.id);
    }
    // One calendar day (to the end of tomorrow, Vietnam time) against the category's working days.
    assert!(due[0] <= 2 * 86_400, "{due:?}");
    assert!(due[1] > due[0] + 86_400, "{due:?}");
    // An extension counts days as the item's channel does: seven calendar days for the
    // hotline item (seven working days would span a weekend, nine days or more).
    let staff = app.token("sogtvt").await;
    let hotline = ids[0];
    let before = ngoso_store::testing::unaudited::feedback_item(&app.db, hotline).await.unwrap().due_at;
    let r = app
        .json(
            Method::POST,
            &format!("/api/v1/feedback/{hotline}/extension"),
            Some(json!({"days": 7, "reason": "Chờ vật tư"})),
            Some(&staff),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(
        ngoso_store::testing::unaudited::feedback_item(&app.db, hotline).await.unwrap().due_at - before,
        7 * 86_400
    );
    // Removed, the hotline takes the category's deadline again.
    let del = format!("{url}/delete");
    let res = app.post_form(&del, &[("csrf", csrf.as_str()), ("channel", "hotline")]).await;
    assert_eq!(res.status, StatusCode::SEE_OTHER);
    let c = setup::category(&app.db, s.roads).await.unwrap();
    assert!(c.channel_deadlines.is_empty());
}

/// Bytes that are not UTF-8 in a form are refused with 400 and the field's name, and
/// nothing is stored: on the public form (urlencoded and multipart), through Open311 and on a
/// staff page. A U+FFFD typed by a person is data, kept as typed.
async fn bytes_that_are_not_utf8_are_refused(app: &mut TestApp) {
    let s = setup(app).await;
    let hb = s.t.hamlet_b.code.clone();
    let stored = |app: &TestApp| {
        let db = app.db.clone();
        async move {
            let n: i64 =
                on_db!(&db, p => sqlx::query_scalar("SELECT COUNT(*) FROM feedback").fetch_one(p).await).unwrap();
            n
        }
    };
    let before = stored(app).await;
    let csrf = app.csrf("/feedback").await;
    let raw = format!("csrf={csrf}&category=roads&attribute%5Bkind%5D=pothole&unit={hb}&description=abc%FF%FEdef");
    let req = Request::post("/feedback")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(raw))
        .unwrap();
    let res = app.send(req).await;
    assert_eq!(res.status, StatusCode::BAD_REQUEST, "{}", res.body);
    assert!(res.body.contains("“description”") && res.body.contains("UTF-8"), "{}", res.body);
    let mut multipart = Vec::new();
    for (k, v) in [("csrf", csrf.as_bytes()), ("category", b"roads"), ("unit", hb.as_bytes())] {
        multipart.extend(format!("--b\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n").into_bytes());
        multipart.extend(v);
        multipart.extend(b"\r\n");
    }
    multipart.extend(b"--b\r\nContent-Disposition: form-data; name=\"description\"\r\n\r\nabc\xFF\xFEdef\r\n--b--\r\n");
    let req = Request::post("/feedback")
        .header(header::CONTENT_TYPE, "multipart/form-data; boundary=b")
        .body(Body::from(multipart))
        .unwrap();
    let res = app.send(req).await;
    assert_eq!(res.status, StatusCode::BAD_REQUEST, "{}", res.body);
    assert!(res.body.contains("“description”"), "{}", res.body);
    let key = ngoso_store::feedback_setup::create_key(&app.db, "client", Some(1)).await.unwrap().1;
    let raw = format!(
        "api_key={}&service_code=roads&attribute%5Bkind%5D=pothole&address_id={hb}&description=x%C3",
        enc(&key)
    );
    let req = Request::post("/open311/v2/requests.json")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(raw))
        .unwrap();
    let res = app.send(req).await;
    assert_eq!(res.status, StatusCode::BAD_REQUEST, "{}", res.body);
    assert!(res.json()[0]["description"].as_str().unwrap().contains("description"), "{}", res.body);
    assert_eq!(stored(app).await, before, "nothing was stored");
    // A staff form: the team's name.
    app.user("canbo.a", Role::Officer, Some(&s.t.commune_a)).await;
    app.login("canbo.a").await;
    let page = format!("/app/teams/new?unit={}", s.t.commune_a.id);
    let csrf = app.csrf(&page).await;
    let req = Request::post(page.as_str())
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(format!("csrf={csrf}&name=T%E1%BB%95%FF")))
        .unwrap();
    let res = app.send(req).await;
    assert_eq!(res.status, StatusCode::BAD_REQUEST, "{}", res.body);
    assert!(ngoso_store::teams::list(&app.db, None).await.unwrap().is_empty());
    // U+FFFD typed by a person is kept.
    app.cookies.clear();
    let res = send(
        app,
        &[("category", "roads"), ("attribute[kind]", "pothole"), ("unit", &hb), ("description", "Ổ gà \u{FFFD} ở đây")],
    )
    .await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.body);
    let (code, _) = code_of(&res);
    let it = ngoso_store::testing::unaudited::feedback_by_code(&app.db, &code).await.unwrap();
    assert_eq!(it.description, "Ổ gà \u{FFFD} ở đây");
}

async fn setup_by_api_is_all_or_nothing(app: &mut TestApp) {
    let s = setup(app).await;
    let tok = app.token("quantri").await;
    let before = app.json(Method::GET, "/api/v1/feedback/setup", None, Some(&tok)).await;
    assert_eq!(before.status, StatusCode::OK, "{}", before.body);
    let before = before.json();
    assert_eq!(before["categories"][0]["code"], "roads");
    assert_eq!(before["categories"][0]["fields"][0]["values"][0]["key"], "pothole");
    assert_eq!(before["routes"].as_array().unwrap().len(), 2);
    assert!(
        before["staff"]
            .as_array()
            .unwrap()
            .iter()
            .any(|x| x["username"] == "ubndxa" && x["agency_code"] == "ubnd_phuoc_ly")
    );
    // Only administrators of the whole tree.
    let staff = app.token("sogtvt").await;
    let res = app.json(Method::GET, "/api/v1/feedback/setup", None, Some(&staff)).await;
    assert_eq!(res.status, StatusCode::FORBIDDEN);
    let doc = json!({
        "agencies": [{"code": "electricity", "name_vi": "Điện lực ⚡", "name_en": "Electricity", "webhook_url": "https://hooks.example.vn/ngoso"}],
        "categories": [
            {"code": "power", "name_vi": "Mất điện", "name_en": "Power cut", "deadline_days": 3, "day_kind": "calendar",
             "fields": [{"code": "since", "name_vi": "Từ lúc", "name_en": "Since", "datatype": "datetime"}],
             "channel_deadlines": [{"channel": "hotline", "deadline_days": 1, "day_kind": "calendar"}]},
            {"code": "roads", "name_vi": "Đường sá", "name_en": "Roads", "deadline_days": 7, "day_kind": "working",
             "fields": [{"code": "kind", "name_vi": "Loại", "name_en": "Kind", "datatype": "singlevaluelist", "required": true,
                         "values": [{"key": "pothole", "name_vi": "Ổ gà", "name_en": "Pothole"},
                                    {"key": "light", "name_vi": "Đèn", "name_en": "Light"},
                                    {"key": "flood", "name_vi": "Ngập", "name_en": "Flood"}]}]}
        ],
        "staff": [{"username": "sogtvt2", "agency_code": "electricity"}],
        "routes": [{"category_code": "power", "agency_code": "electricity"}],
        "days": [{"day": "2027-04-16", "kind": "holiday", "name": "Giỗ Tổ Hùng Vương"}]
    });
    // Each bad entry refuses the whole document, named by its list and place.
    let bad = |path: &str, value: serde_json::Value| {
        let mut d = doc.clone();
        let mut at = &mut d;
        let parts: Vec<&str> = path.split('.').collect();
        for (i, part) in parts.iter().enumerate() {
            let next = match part.parse::<usize>() {
                Ok(n) => &mut at[n],
                Err(_) => &mut at[*part],
            };
            if i == parts.len() - 1 {
                *next = value.clone();
                break;
            }
            at = next;
        }
        d
    };
    for (d, code, section, row) in [
        (bad("agencies.0.code", json!("Điện")), "catalog-code-invalid", "agencies", 1),
        (bad("agencies.0.webhook_url", json!("http://127.0.0.1/hook")), "webhook-address-private", "agencies", 1),
        (bad("categories.1.deadline_days", json!(0)), "days-invalid", "categories", 2),
        (bad("categories.1.fields.0.datatype", json!("multivaluelist")), "field-datatype-fixed", "categories", 2),
        (
            bad("categories.1.fields.0.values", json!([{"key": "pothole", "name_vi": "Ổ gà", "name_en": "Pothole"}])),
            "field-value-kept",
            "categories",
            2,
        ),
        (bad("categories.0.channel_deadlines.0.channel", json!("fax")), "feedback-channel-invalid", "categories", 1),
        (bad("staff.0.username", json!("khong.co")), "user-unknown", "staff", 1),
        (bad("routes.0.agency_code", json!("nowhere")), "agency-unknown", "routes", 1),
        (bad("routes.0.unit_code", json!("99999")), "unit-unknown", "routes", 1),
        (bad("days.0.kind", json!("party")), "day-off-kind-invalid", "days", 1),
    ] {
        let res = app.json(Method::POST, "/api/v1/feedback/setup", Some(d), Some(&tok)).await;
        assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{code}: {}", res.body);
        let e = &res.json()["error"];
        assert_eq!(
            (e["code"].as_str(), e["section"].as_str(), e["row"].as_u64()),
            (Some(code), Some(section), Some(row)),
            "{}",
            res.body
        );
    }
    let res =
        app.json(Method::POST, "/api/v1/feedback/setup", Some(json!({"agencies": [], "colour": 1})), Some(&tok)).await;
    assert!(res.status.is_client_error(), "{}", res.body);
    let same = app.json(Method::GET, "/api/v1/feedback/setup", None, Some(&tok)).await;
    assert_eq!(same.json(), before, "a refused document changed nothing");
    // A dry run says what a run does, and does nothing.
    let res = app.json(Method::POST, "/api/v1/feedback/setup?dry_run=true", Some(doc.clone()), Some(&tok)).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    let a = res.json();
    assert_eq!(
        (
            a["agencies_added"].as_u64(),
            a["categories_added"].as_u64(),
            a["categories_changed"].as_u64(),
            a["dry_run"].as_bool()
        ),
        (Some(1), Some(1), Some(1), Some(true))
    );
    assert!(a["webhook_secrets"].as_array().unwrap().is_empty());
    assert_eq!(app.json(Method::GET, "/api/v1/feedback/setup", None, Some(&tok)).await.json(), before);
    // The run: the secret of the new webhook shown once.
    let res = app.json(Method::POST, "/api/v1/feedback/setup", Some(doc.clone()), Some(&tok)).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    assert_eq!(res.json()["webhook_secrets"][0]["agency_code"], "electricity");
    let after = app.json(Method::GET, "/api/v1/feedback/setup", None, Some(&tok)).await.json();
    let roads = after["categories"].as_array().unwrap().iter().find(|c| c["code"] == "roads").unwrap().clone();
    assert_eq!((roads["name_vi"].as_str(), roads["deadline_days"].as_u64()), (Some("Đường sá"), Some(7)));
    assert_eq!(roads["fields"][0]["values"].as_array().unwrap().len(), 3);
    assert!(
        after["staff"]
            .as_array()
            .unwrap()
            .iter()
            .any(|x| x["username"] == "sogtvt2" && x["agency_code"] == "electricity")
    );
    assert_eq!(after["days"][0]["name"], "Giỗ Tổ Hùng Vương");
    // Applying what was read back changes nothing and keeps the webhook's secret.
    let res = app.json(Method::POST, "/api/v1/feedback/setup", Some(after.clone()), Some(&tok)).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    assert!(res.json()["webhook_secrets"].as_array().unwrap().is_empty());
    assert_eq!(app.json(Method::GET, "/api/v1/feedback/setup", None, Some(&tok)).await.json(), after);
    // The new category takes feedback and routes it.
    let power = ngoso_store::feedback_setup::categories(&app.db)
        .await
        .unwrap()
        .into_iter()
        .find(|c| c.code == "power")
        .unwrap();
    assert_eq!(power.deadline_for(ngoso_core::feedback::Channel::Hotline).0, 1);
    // A year's days and the routing rules from CSV files; a bad line is named, nothing kept.
    let csv = |path: &str, body: &str| {
        axum::http::Request::post(path)
            .header("authorization", format!("Bearer {tok}"))
            .header("content-type", "text/csv")
            .body(axum::body::Body::from(body.to_owned()))
            .unwrap()
    };
    let res = app
        .send(csv(
            "/api/v1/feedback/setup/days",
            "day;kind;name\n2027-01-01;holiday;Tết Dương lịch\n2027-02-30;holiday;?\n",
        ))
        .await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", res.body);
    assert_eq!(
        (res.json()["error"]["row"].as_u64(), res.json()["error"]["section"].as_str()),
        (Some(3), None),
        "{}",
        res.body
    );
    assert!(res.json()["error"]["message"].as_str().unwrap().starts_with("Dòng 3:"), "{}", res.body);
    let res = app.send(csv("/api/v1/feedback/setup/days", "name,day\nx,2027-01-01\n")).await;
    res.assert_error(StatusCode::UNPROCESSABLE_ENTITY, "csv-column-missing");
    let res = app
        .send(csv(
            "/api/v1/feedback/setup/days",
            "\u{feff}day,kind,name\n2027-01-01,holiday,Tết Dương lịch\n\n2027-02-06,workday,Làm bù 🧧\n",
        ))
        .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    assert_eq!(res.json()["days"], 2);
    let days = ngoso_store::feedback_setup::calendar_days(&app.db).await.unwrap();
    assert_eq!(days.len(), 3);
    assert!(days.iter().any(|d| d.name == "Làm bù 🧧" && d.kind == "workday"));
    let hb = s.t.hamlet_b.code.clone();
    let res = app
        .send(csv(
            "/api/v1/feedback/setup/routes",
            &format!("category_code,unit_code,agency_code\npower,{hb},electricity\nroads,{hb},nowhere\n"),
        ))
        .await;
    assert_eq!(
        (res.status, res.json()["error"]["row"].as_u64()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some(3)),
        "{}",
        res.body
    );
    assert_eq!(ngoso_store::feedback_setup::routes(&app.db).await.unwrap().len(), 3);
    let res = app
        .send(csv(
            "/api/v1/feedback/setup/routes",
            &format!("category_code,unit_code,agency_code\npower,{hb},electricity\n,{hb},transport\n"),
        ))
        .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    assert_eq!(ngoso_store::feedback_setup::routes(&app.db).await.unwrap().len(), 5);
    // Open311 keys: made (shown once), listed, revoked.
    let res =
        app.json(Method::POST, "/api/v1/feedback/setup/keys", Some(json!({"name": "Ứng dụng tỉnh"})), Some(&tok)).await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.body);
    let (id, key) = (res.json()["id"].as_i64().unwrap(), res.json()["key"].as_str().unwrap().to_owned());
    assert_eq!(ngoso_store::feedback_setup::check_key(&app.db, &key).await.unwrap(), Some(id));
    let res = app.json(Method::GET, "/api/v1/feedback/setup/keys", None, Some(&tok)).await;
    assert_eq!(res.json()[0]["prefix"], &key[..8]);
    assert!(!res.body.contains(&key));
    let res = app.json(Method::DELETE, &format!("/api/v1/feedback/setup/keys/{id}"), None, Some(&tok)).await;
    assert_eq!(res.status, StatusCode::NO_CONTENT);
    assert_eq!(ngoso_store::feedback_setup::check_key(&app.db, &key).await.unwrap(), None);
    let res = app.json(Method::DELETE, &format!("/api/v1/feedback/setup/keys/{id}"), None, Some(&tok)).await;
    assert_eq!(res.status, StatusCode::NOT_FOUND);
    // What was never used is deleted; what was used is refused, and withdrawn instead.
    let hb = s.t.hamlet_b.code.clone();
    let res =
        send(app, &[("category", "roads"), ("attribute[kind]", "flood"), ("description", "Ngập"), ("unit", &hb)]).await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.body);
    for (path, status, code) in [
        ("/api/v1/feedback/setup/categories/roads/fields/kind", StatusCode::UNPROCESSABLE_ENTITY, "field-used"),
        ("/api/v1/feedback/setup/categories/roads", StatusCode::UNPROCESSABLE_ENTITY, "category-used"),
        ("/api/v1/feedback/setup/agencies/transport", StatusCode::UNPROCESSABLE_ENTITY, "agency-used"),
        ("/api/v1/feedback/setup/agencies/nowhere", StatusCode::NOT_FOUND, "not-found"),
        ("/api/v1/feedback/setup/categories/power/fields/nothing", StatusCode::NOT_FOUND, "not-found"),
    ] {
        let res = app.json(Method::DELETE, path, None, Some(&tok)).await;
        res.assert_error(status, code);
    }
    for path in [
        "/api/v1/feedback/setup/categories/power/fields/since",
        "/api/v1/feedback/setup/categories/power",
        "/api/v1/feedback/setup/agencies/electricity",
    ] {
        let res = app.json(Method::DELETE, path, None, Some(&tok)).await;
        assert_eq!(res.status, StatusCode::NO_CONTENT, "{path}: {}", res.body);
    }
    let now = app.json(Method::GET, "/api/v1/feedback/setup", None, Some(&tok)).await.json();
    assert!(!now.to_string().contains("electricity") && !now.to_string().contains("\"power\""), "{now}");
    assert!(!now["staff"].as_array().unwrap().iter().any(|x| x["username"] == "sogtvt2"));
    // Withdrawn: the field is no longer asked (form, Open311), its answers stay.
    let mut doc = now.clone();
    let roads = doc["categories"].as_array_mut().unwrap().iter_mut().find(|c| c["code"] == "roads").unwrap();
    roads["fields"][0]["withdrawn"] = json!(true);
    let res = app
        .json(Method::POST, "/api/v1/feedback/setup", Some(json!({"categories": [roads.clone()]})), Some(&tok))
        .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    assert!(!app.get("/feedback").await.body.contains("attribute[kind]"));
    assert!(!app.get("/open311/v2/services/roads.json").await.body.contains("pothole"));
    let res = send(app, &[("category", "roads"), ("description", "Ổ gà lớn"), ("unit", &hb)]).await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.body);
    let log = ngoso_store::audit::list(&app.db, None, 80).await.unwrap();
    assert_eq!(log.iter().filter(|e| e.action == "feedback.setup.apply").count(), 5, "{log:?}");
    assert_eq!(log.iter().filter(|e| e.action.ends_with("delete")).count(), 3, "{log:?}");
    let _ = (s.roads, s.transport, s.commune_office);
}

async fn past_feedback_is_imported_with_its_codes_and_dates(app: &mut TestApp) {
    let s = setup(app).await;
    let tok = app.token("quantri").await;
    let hb = s.t.hamlet_b.code.clone();
    let post = |ct: &'static str, body: String| {
        Request::post("/api/v1/feedback/import")
            .header("authorization", format!("Bearer {tok}"))
            .header("content-type", ct)
            .body(Body::from(body))
            .unwrap()
    };
    let header = "code,category,unit_code,description,received_at,state,agency_code,answered_at,answer\n";
    let good = format!(
        "{header}PAKN.20240105.0007,roads,{hb},Ổ gà trước chợ 🕳️,2024-01-05 08:30,answered,transport,2024-01-10 16:00,Đã vá.\n\
         HCC-2024-001,roads,{hb},Đèn đường tắt,2024-02-01,forwarded,transport,,\n"
    );
    // Each bad line refuses the whole file, named by its number.
    for (line, code) in [
        (format!("PAKN.20240105.0007,roads,{hb},Lại,2024-01-06,received,,,\n"), "feedback-code-exists"),
        (format!("X1,parks,{hb},Cây đổ,2024-01-06,received,,,\n"), "category-unknown"),
        ("X2,roads,99999,Cây đổ,2024-01-06,received,,,\n".to_owned(), "unit-unknown"),
        (format!("X3,roads,{hb},Cây đổ,06/01/2024,received,,,\n"), "datetime-invalid"),
        (format!("X4,roads,{hb},Cây đổ,2024-01-06,answered,transport,2024-01-01,Sớm quá\n"), "datetime-invalid"),
        (format!("X5,roads,{hb},Cây đổ,2024-01-06,lost,,,\n"), "feedback-state-invalid"),
        (format!("X6,roads,{hb},Cây đổ,2024-01-06,received,nowhere,,\n"), "agency-unknown"),
        (format!("X7,roads,{hb},Cây đổ,2099-01-06,received,,,\n"), "datetime-future"),
        (format!("mã/8,roads,{hb},Cây đổ,2024-01-06,received,,,\n"), "feedback-past-code-invalid"),
    ] {
        let res = app.send(post("text/csv", format!("{good}{line}"))).await;
        let e = &res.json()["error"];
        let status = if code.ends_with("-exists") { StatusCode::CONFLICT } else { StatusCode::UNPROCESSABLE_ENTITY };
        assert_eq!((res.status, e["code"].as_str(), e["row"].as_u64()), (status, Some(code), Some(4)), "{}", res.body);
    }
    let count = |db: ngoso_store::Db| async move {
        ngoso_store::on_db!(&db, p => sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM feedback").fetch_one(p).await)
            .unwrap()
    };
    assert_eq!(count(app.db.clone()).await, 0);
    let res = app.send(post("text/csv", good)).await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.body);
    assert_eq!((res.json()["items"].as_u64(), res.json()["answered"].as_u64()), (Some(2), Some(1)));
    // Kept with their codes and dates; the answered one is public and counted on time.
    let it = ngoso_store::testing::unaudited::feedback_by_code(&app.db, "PAKN.20240105.0007").await.unwrap();
    assert_eq!((it.state.as_str(), it.agency_id), ("answered", Some(s.transport)));
    assert_eq!(it.received_at, chrono::DateTime::parse_from_rfc3339("2024-01-05T08:30:00+07:00").unwrap().timestamp());
    assert!(app.get("/feedback/answered").await.body.contains("PAKN.20240105.0007"));
    let f = app.json(Method::GET, "/api/v1/feedback/figures?period=2024", None, Some(&tok)).await.json();
    assert_eq!(
        (f["total"]["received"].as_i64(), f["total"]["answered"].as_i64(), f["total"]["on_time"].as_i64()),
        (Some(2), Some(1), Some(1)),
        "{f}"
    );
    let staff = app.token("sogtvt").await;
    app.login("sogtvt").await;
    let page = app.get(&format!("/app/feedback/{}", it.id)).await;
    assert!(page.body.contains("Nhập từ hệ thống cũ") && page.body.contains("Đã vá."), "{}", page.body);
    let r = app.json(Method::GET, "/api/v1/feedback/by-code/HCC-2024-001", None, Some(&staff)).await;
    assert_eq!((r.status, r.json()["item"]["state"].as_str()), (StatusCode::OK, Some("forwarded")), "{}", r.body);
    // The citizen who holds the earlier system's code finds the item in public too: by the
    // look-up form, on its page and through Open311.
    let found = app.get("/feedback/track?code=+HCC-2024-001+").await;
    assert_eq!((found.status, found.location()), (StatusCode::SEE_OTHER, "/feedback/HCC-2024-001".to_owned()));
    let page = app.get("/feedback/HCC-2024-001").await;
    // Its state, not yet its description: that is public only with the answer.
    assert!(page.status == StatusCode::OK && page.body.contains("<h1>HCC-2024-001</h1>"), "{}", page.body);
    assert!(page.body.contains("state-forwarded") && !page.body.contains("Đèn đường tắt"), "{}", page.body);
    let o = app.get("/open311/v2/requests/HCC-2024-001.json").await;
    assert_eq!(
        (o.status, o.json()[0]["service_request_id"].as_str()),
        (StatusCode::OK, Some("HCC-2024-001")),
        "{}",
        o.body
    );
    let o = app.get("/open311/v2/requests.json?service_request_id=HCC-2024-001,PAKN.20240105.0007").await;
    assert_eq!(o.json().as_array().map(Vec::len), Some(2), "{}", o.body);
    // A code no item has, and one that cannot be a code, say so on the look-up page.
    let none = app.get("/feedback/track?code=HCC-2024-999").await;
    assert!(none.status == StatusCode::NOT_FOUND && none.body.contains("HCC-2024-999"), "{}", none.body);
    let bad = app.get("/feedback/track?code=m%C3%A3%2F8").await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", bad.body);
    assert_eq!(app.get("/feedback/HCC-2024-999").await.status, StatusCode::NOT_FOUND);
    // An Open311 export: the JSON list, statuses open and closed.
    let export = json!([
        {"service_request_id": "PAKN.20240301.0002", "service_code": "roads", "description": "Ngập sau mưa", "address_id": hb,
         "requested_datetime": "2024-03-01T07:00:00+07:00", "status": "closed", "status_notes": "Đã nạo vét cống.",
         "updated_datetime": "2024-03-04T10:00:00+07:00", "agency_responsible": "transport"},
        {"service_request_id": "PAKN.20240301.0003", "service_code": "roads", "description": "Ổ gà", "address_id": hb,
         "requested_datetime": "2024-03-01T09:00:00+07:00", "status": "open"}
    ]);
    let res = app.send(post("application/json", export.to_string())).await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.body);
    let closed = ngoso_store::testing::unaudited::feedback_by_code(&app.db, "PAKN.20240301.0002").await.unwrap();
    assert_eq!(closed.state, "closed");
    // Not an administrator: refused.
    let res = app
        .send(
            Request::post("/api/v1/feedback/import")
                .header("authorization", format!("Bearer {staff}"))
                .header("content-type", "text/csv")
                .body(Body::from(header.to_owned()))
                .unwrap(),
        )
        .await;
    assert_eq!(res.status, StatusCode::FORBIDDEN);
}

tests_with_app!(
    past_feedback_is_imported_with_its_codes_and_dates,
    setup_by_api_is_all_or_nothing,
    bytes_that_are_not_utf8_are_refused,
    deadlines_per_channel,
    api_notes_hiding_and_contact_removal,
    public_form_and_guards,
    photo_is_stripped,
    staff_handle_and_citizen_rates,
    on_behalf_and_setup_pages,
    api_and_figures,
    a_closed_units_items_go_to_its_successors_staff
);

/// An item filed against a unit that a restructuring closed keeps that unit, and is handled by
/// the staff of the unit carrying on from it: in their inbox and item by item; not by the
/// staff of another commune.
async fn a_closed_units_items_go_to_its_successors_staff(app: &mut TestApp) {
    use axum::http::Method;
    use serde_json::json;
    let s = setup(app).await;
    app.user("thanhvien", Role::Member, Some(&s.t.hamlet_b)).await;
    let member = app.token("thanhvien").await;
    let body = json!({"category": "roads", "description": "Cống nghẹt", "unit": s.t.hamlet_b.code, "attributes": {"kind": ["pothole"]}});
    let r = app.json(Method::POST, "/api/v1/feedback", Some(body), Some(&member)).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let mapping = "old_code,new_code,new_name,new_kind,new_parent_code\n27700,27703,Xã Vĩnh Lợi,xã,80\n";
    let rows = ngoso_store::restructure::read_mapping(mapping.as_bytes()).unwrap();
    let day = chrono::NaiveDate::from_ymd_opt(2025, 7, 1).unwrap();
    let done = ngoso_store::restructure::restructure(&app.db, &rows, day, false, None).await.unwrap();
    assert!(matches!(done, ngoso_store::restructure::Outcome::Done(_)), "{done:?}");
    let new = ngoso_store::units::by_code(&app.db, "27703").await.unwrap();
    app.user("canbo.moi", Role::Officer, Some(&new)).await;
    app.user("canbo.a", Role::Officer, Some(&s.t.commune_a)).await;
    let (successor, other) = (app.token("canbo.moi").await, app.token("canbo.a").await);
    let r = app.json(Method::GET, "/api/v1/feedback", None, Some(&successor)).await;
    let items = r.json()["items"].as_array().unwrap().clone();
    assert_eq!(items.len(), 1, "{}", r.body);
    let id = items[0]["id"].as_i64().unwrap();
    assert_eq!(
        app.json(Method::GET, &format!("/api/v1/feedback/{id}"), None, Some(&successor)).await.status,
        StatusCode::OK
    );
    let r = app.json(Method::GET, "/api/v1/feedback", None, Some(&other)).await;
    assert_eq!(r.json()["items"].as_array().unwrap().len(), 0);
    assert_eq!(
        app.json(Method::GET, &format!("/api/v1/feedback/{id}"), None, Some(&other)).await.status,
        StatusCode::NOT_FOUND
    );
}
