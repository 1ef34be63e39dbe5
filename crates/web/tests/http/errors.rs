//! Bad input gets a clear 4xx in the request's language and format, never a 5xx.

use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use ngoso_core::auth::Role;

use crate::http_tests;
use crate::support::TestApp;

async fn api_errors_have_a_code_and_a_message_in_the_requested_language(app: &mut TestApp) {
    app.user("admin", Role::Admin, None).await;
    let tok = app.token("admin").await;
    let send = |body: &'static str, ct: &'static str, lang: &'static str| {
        Request::post("/api/v1/units")
            .header(header::AUTHORIZATION, format!("Bearer {tok}"))
            .header(header::CONTENT_TYPE, ct)
            .header(header::ACCEPT_LANGUAGE, lang)
            .body(Body::from(body))
            .unwrap()
    };
    let res = app.send(send("{not json", "application/json", "en-US,en;q=0.9")).await;
    assert_eq!(res.status, StatusCode::BAD_REQUEST);
    assert_eq!(res.header("content-type").as_deref(), Some("application/json"));
    assert_eq!(res.json()["error"]["code"], "invalid-json");
    assert!(res.json()["error"]["message"].as_str().unwrap().starts_with("The JSON is not well-formed"));
    let res = app.send(send("{not json", "application/json", "vi")).await;
    assert!(res.json()["error"]["message"].as_str().unwrap().starts_with("Dữ liệu JSON không đúng cú pháp"));
    let res = app.send(send("code=1", "application/x-www-form-urlencoded", "vi")).await;
    assert_eq!(res.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_eq!(res.json()["error"]["code"], "unsupported-media-type");
    let res = app.send(send("[1, 2]", "application/json", "vi")).await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(res.json()["error"]["code"], "invalid-json-data");

    // Invalid UTF-8 in a JSON body.
    let req = Request::post("/api/v1/units")
        .header(header::AUTHORIZATION, format!("Bearer {tok}"))
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(b"{\"code\":\"\xff\xfe\",\"name\":\"x\",\"kind\":\"y\"}".to_vec()))
        .unwrap();
    let res = app.send(req).await;
    res.assert_error(StatusCode::BAD_REQUEST, "invalid-json");

    // Unknown routes and ids, bad ids, wrong methods.
    let res = app.json(Method::GET, "/api/v1/nothing-here", None, Some(&tok)).await;
    assert_eq!(res.status, StatusCode::NOT_FOUND);
    assert_eq!(res.json()["error"]["code"], "not-found");
    let res = app.json(Method::GET, "/api/v1/units/999999", None, Some(&tok)).await;
    assert_eq!(res.json()["error"]["code"], "not-found");
    let res = app.json(Method::GET, "/api/v1/units/abc", None, Some(&tok)).await;
    res.assert_error(StatusCode::BAD_REQUEST, "bad-path");
    let res = app.json(Method::GET, "/api/v1/feedback?page=abc", None, Some(&tok)).await;
    res.assert_error(StatusCode::BAD_REQUEST, "bad-query");
    let res = app.json(Method::DELETE, "/api/v1/units", None, Some(&tok)).await;
    assert_eq!(res.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(res.json()["error"]["code"], "method-not-allowed");
}

async fn too_large_bodies_get_413(app: &mut TestApp) {
    app.user("admin", Role::Admin, None).await;
    let tok = app.token("admin").await;
    let big = format!("{{\"code\":\"1\",\"name\":\"{}\",\"kind\":\"x\"}}", "a".repeat(2 * 1024 * 1024));
    let req = Request::post("/api/v1/units")
        .header(header::AUTHORIZATION, format!("Bearer {tok}"))
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(big.clone()))
        .unwrap();
    let res = app.send(req).await;
    assert_eq!(res.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(res.json()["error"]["code"], "body-too-large");
    // A page form too.
    let req = Request::post("/login")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(big))
        .unwrap();
    let res = app.send(req).await;
    res.assert_error(StatusCode::PAYLOAD_TOO_LARGE, "body-too-large");
    assert!(res.header("content-type").unwrap().starts_with("text/html"));
}

async fn pages_render_errors_as_pages(app: &mut TestApp) {
    let res = app.get("/no/such/page").await;
    assert_eq!(res.status, StatusCode::NOT_FOUND);
    assert!(res.body.contains("Lỗi 404") && res.body.contains("Về trang chủ"));
    let res = app.get("/no/such/page?lang=en").await;
    assert!(res.body.contains("Error 404"));
    // Odd form bodies on the login form: a clear page, not a crash.
    // Without the form's token, a post is refused before its body is read further.
    let res = app.post_form("/login", &[("username", "a"), ("password", "b")]).await;
    res.assert_error(StatusCode::FORBIDDEN, "csrf-invalid");
    let csrf = app.csrf("/login").await;
    for (body, status, code) in [
        // Missing or stray fields are a failed sign-in, told on the form itself.
        (format!("csrf={csrf}&%%%"), StatusCode::UNAUTHORIZED, "wrong-credentials"),
        (format!("csrf={csrf}&a=1&a=2&a=3"), StatusCode::UNAUTHORIZED, "wrong-credentials"),
        (format!("csrf={csrf}"), StatusCode::UNAUTHORIZED, "wrong-credentials"),
        (
            format!("csrf={csrf}&username=a&username=b&password=c"),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid-form-data",
        ),
        (format!("csrf={csrf}&username=%ff%fe&password=a"), StatusCode::BAD_REQUEST, "form-not-utf8"),
        ("".to_owned(), StatusCode::FORBIDDEN, "csrf-invalid"),
    ] {
        let req = Request::post("/login")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(body.clone()))
            .unwrap();
        let res = app.send(req).await;
        if code == "wrong-credentials" {
            assert_eq!(res.status, status, "{body}");
            assert!(res.body.contains("Sai tên đăng nhập hoặc mật khẩu."), "{body}: {}", res.body);
        } else {
            res.assert_error(status, code);
        }
    }
    // Markup typed into a form comes back escaped.
    app.user("admin", Role::Admin, None).await;
    app.login("admin").await;
    let csrf = app.csrf("/app/units").await;
    let res = app
        .post_form(
            "/app/units/new",
            &[("csrf", &csrf), ("code", "<b>"), ("name", "<script>alert(1)</script>"), ("kind", "x")],
        )
        .await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(!res.body.contains("<script>alert(1)</script>") && res.body.contains("&#60;script&#62;"), "{}", res.body);
}

/// Control characters (NUL above all: PostgreSQL cannot store it) are refused with a 4xx in
/// every form and JSON body, and nothing is stored.
async fn control_characters_are_refused_everywhere(app: &mut TestApp) {
    app.user("admin", Role::Admin, None).await;
    let tok = app.token("admin").await;
    let body = serde_json::json!({"code": "80", "name": "Long\u{0}An", "kind": "tỉnh"});
    let res = app.json(Method::POST, "/api/v1/units", Some(body), Some(&tok)).await;
    res.assert_error(StatusCode::UNPROCESSABLE_ENTITY, "text-control-chars");
    app.login("admin").await;
    let csrf = app.csrf("/app/units/new").await;
    let res = app
        .post_form("/app/units/new", &[("csrf", &csrf), ("code", "80"), ("name", "Long\u{0}An"), ("kind", "tỉnh")])
        .await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(res.body.contains("Tên chứa ký tự điều khiển không hợp lệ."), "{}", res.body);
    let res = app
        .post_form("/app/units/new", &[("csrf", &csrf), ("code", "80"), ("name", "Long An"), ("kind", "t\u{1}nh")])
        .await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(res.body.contains("Cấp chứa ký tự điều khiển không hợp lệ."), "{}", res.body);
    assert_eq!(ngoso_store::units::count(&app.db).await.unwrap(), 0);
}

http_tests!(
    control_characters_are_refused_everywhere,
    api_errors_have_a_code_and_a_message_in_the_requested_language,
    too_large_bodies_get_413,
    pages_render_errors_as_pages
);
