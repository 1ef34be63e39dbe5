//! Login, logout, sessions, CSRF, login limits and API tokens.

use axum::http::{Method, StatusCode};
use ngoso_core::auth::Role;
use serde_json::json;

use crate::http_tests;
use crate::support::{PASSWORD, TestApp};

async fn login_session_and_logout(app: &mut TestApp) {
    app.user("admin", Role::Admin, None).await;
    // Anonymous: sent to the login page, and back after.
    let res = app.get("/app/units").await;
    assert_eq!(res.status, StatusCode::SEE_OTHER);
    assert_eq!(res.location(), "/login?next=/app/units");

    let csrf = app.csrf("/login?next=/app/units").await;
    let res = app
        .post_form(
            "/login",
            &[("csrf", &csrf), ("username", "admin"), ("password", "sai rồi sai rồi"), ("next", "/app/units")],
        )
        .await;
    assert_eq!(res.status, StatusCode::UNAUTHORIZED);
    assert!(res.body.contains("Sai tên đăng nhập hoặc mật khẩu"));
    assert!(!app.cookies.contains_key("ngoso_session"));

    let res = app
        .post_form(
            "/login",
            &[("csrf", &csrf), ("username", "ADMIN"), ("password", PASSWORD), ("next", "https://evil.example/")],
        )
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER);
    assert_eq!(res.location(), "/app/units", "no redirect off the site");
    let cookie = res.header("set-cookie").unwrap();
    assert!(cookie.contains("ngoso_session=") && cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"));
    assert_eq!(app.get("/app/units").await.status, StatusCode::OK);
    // The session cookie works for the API too.
    let res = app.json(Method::GET, "/api/v1/me", None, None).await;
    assert_eq!(res.json()["username"], "admin");

    // Logout needs the CSRF token, then ends the session.
    let res = app.post_form("/logout", &[("csrf", "forged")]).await;
    assert_eq!(res.status, StatusCode::FORBIDDEN);
    assert_eq!(app.get("/app/units").await.status, StatusCode::OK);
    let csrf = app.csrf("/app/units").await;
    let session = app.cookies["ngoso_session"].clone();
    let res = app.post_form("/logout", &[("csrf", &csrf)]).await;
    assert_eq!(res.status, StatusCode::SEE_OTHER);
    assert_eq!(app.get("/app/units").await.status, StatusCode::SEE_OTHER);
    // The old cookie is dead in the database, not only in this browser.
    app.cookies.insert("ngoso_session".into(), session);
    assert_eq!(app.get("/app/units").await.status, StatusCode::SEE_OTHER);
}

async fn forms_without_a_valid_csrf_token_change_nothing(app: &mut TestApp) {
    app.user("admin", Role::Admin, None).await;
    app.login("admin").await;
    let before = ngoso_store::units::count(&app.db).await.unwrap();
    for token in ["", "forged", &"0".repeat(64)] {
        let res = app
            .post_form("/app/units/new", &[("csrf", token), ("code", "80"), ("name", "Long An"), ("kind", "tỉnh")])
            .await;
        assert_eq!(res.status, StatusCode::FORBIDDEN);
        assert!(res.body.contains("Biểu mẫu đã hết hạn"));
    }
    // A token from another browser (another CSRF cookie) does not pass either.
    let mine = app.csrf("/app/units").await;
    app.cookies.insert("ngoso_csrf".into(), "a".repeat(64));
    let res = app
        .post_form("/app/units/new", &[("csrf", &mine), ("code", "80"), ("name", "Long An"), ("kind", "tỉnh")])
        .await;
    assert_eq!(res.status, StatusCode::FORBIDDEN);
    assert_eq!(ngoso_store::units::count(&app.db).await.unwrap(), before);
}

async fn failed_logins_are_limited(app: &mut TestApp) {
    app.user("admin", Role::Admin, None).await;
    let csrf = app.csrf("/login").await;
    for _ in 0..5 {
        let res =
            app.post_form("/login", &[("csrf", &csrf), ("username", "admin"), ("password", "wrong password")]).await;
        assert_eq!(res.status, StatusCode::UNAUTHORIZED);
    }
    // Even the right password is refused for a while now, with a clear message.
    let res = app.post_form("/login", &[("csrf", &csrf), ("username", "admin"), ("password", PASSWORD)]).await;
    assert_eq!(res.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(res.header("retry-after").is_some());
    assert!(res.body.contains("Đăng nhập sai quá nhiều lần"));
    // The API shares the same limit, since it counts in the database.
    let res = app
        .json(Method::POST, "/api/v1/auth/token", Some(json!({"username": "admin", "password": PASSWORD})), None)
        .await;
    assert_eq!(res.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(res.json()["error"]["code"], "too-many-requests");
}

async fn api_tokens_are_issued_used_and_revoked(app: &mut TestApp) {
    let t = app.tree().await;
    app.user("canbo", Role::Officer, Some(&t.commune_a)).await;
    let res =
        app.json(Method::POST, "/api/v1/auth/token", Some(json!({"username": "canbo", "password": "sai"})), None).await;
    assert_eq!(res.status, StatusCode::UNAUTHORIZED);
    assert_eq!(res.json()["error"]["code"], "login-failed");
    let res = app
        .json(
            Method::POST,
            "/api/v1/auth/token",
            Some(json!({"username": "canbo", "password": PASSWORD, "name": "điện thoại", "ttl_days": 7})),
            None,
        )
        .await;
    assert_eq!(res.status, StatusCode::CREATED);
    let body = res.json();
    let token = body["token"].as_str().unwrap().to_owned();
    assert_eq!(body["token_type"], "Bearer");

    let res = app.json(Method::GET, "/api/v1/me", None, Some(&token)).await;
    assert_eq!(res.json()["role"], "officer");
    assert_eq!(res.json()["unit_id"], t.commune_a.id);
    let res = app.json(Method::GET, "/api/v1/auth/tokens", None, Some(&token)).await;
    let list = res.json();
    assert_eq!(list[0]["name"], "điện thoại");
    assert!(!res.body.contains(&token), "the secret is never listed");

    let res = app
        .json(
            Method::POST,
            "/api/v1/auth/token",
            Some(json!({"username": "canbo", "password": PASSWORD, "ttl_days": 100000})),
            None,
        )
        .await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);

    let id = list[0]["id"].as_i64().unwrap();
    let res = app.json(Method::DELETE, &format!("/api/v1/auth/tokens/{id}"), None, Some(&token)).await;
    assert_eq!(res.status, StatusCode::NO_CONTENT);
    let res = app.json(Method::GET, "/api/v1/me", None, Some(&token)).await;
    assert_eq!(res.status, StatusCode::UNAUTHORIZED);
    assert_eq!(res.header("www-authenticate").as_deref(), Some("Bearer"));
    let res = app.json(Method::GET, "/api/v1/me", None, Some("ngoso_forged")).await;
    assert_eq!(res.status, StatusCode::UNAUTHORIZED);
}

http_tests!(
    login_session_and_logout,
    forms_without_a_valid_csrf_token_change_nothing,
    failed_logins_are_limited,
    api_tokens_are_issued_used_and_revoked
);
