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

    // The login page keeps only a local path to return to.
    let page = app.get("/login?next=/%09/evil.example").await;
    assert!(page.body.contains("name=\"next\" value=\"/app/units\""), "{}", page.body);
    let res = app
        .post_form(
            "/login",
            &[("csrf", &csrf), ("username", "ADMIN"), ("password", PASSWORD), ("next", "/\t/evil.example")],
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
    res.assert_error(StatusCode::FORBIDDEN, "csrf-invalid");
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
    res.assert_error(StatusCode::FORBIDDEN, "csrf-invalid");
    assert_eq!(ngoso_store::units::count(&app.db).await.unwrap(), before);
}

async fn failed_logins_are_limited(app: &mut TestApp) {
    app.user("admin", Role::Admin, None).await;
    let csrf = app.csrf("/login").await;
    for _ in 0..5 {
        let res =
            app.post_form("/login", &[("csrf", &csrf), ("username", "admin"), ("password", "wrong password")]).await;
        res.assert_notice(StatusCode::UNAUTHORIZED, "Sai tên đăng nhập hoặc mật khẩu.");
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
    res.assert_error(StatusCode::UNPROCESSABLE_ENTITY, "token-ttl-invalid");

    let id = list[0]["id"].as_i64().unwrap();
    let res = app.json(Method::DELETE, &format!("/api/v1/auth/tokens/{id}"), None, Some(&token)).await;
    assert_eq!(res.status, StatusCode::NO_CONTENT);
    let res = app.json(Method::GET, "/api/v1/me", None, Some(&token)).await;
    res.assert_error(StatusCode::UNAUTHORIZED, "unauthorized");
    assert_eq!(res.header("www-authenticate").as_deref(), Some("Bearer"));
    let res = app.json(Method::GET, "/api/v1/me", None, Some("ngoso_forged")).await;
    res.assert_error(StatusCode::UNAUTHORIZED, "unauthorized");

    // Answers for tokens are cached for a few seconds, but a change made through the store
    // (here: the account disabled) takes effect at the next request.
    let res = app
        .json(Method::POST, "/api/v1/auth/token", Some(json!({"username": "canbo", "password": PASSWORD})), None)
        .await;
    let token = res.json()["token"].as_str().unwrap().to_owned();
    for _ in 0..3 {
        assert_eq!(app.json(Method::GET, "/api/v1/me", None, Some(&token)).await.status, StatusCode::OK);
    }
    let name = ngoso_core::user::Username::parse("canbo").unwrap();
    ngoso_store::users::set_disabled(&app.db, &name, true).await.unwrap();
    assert_eq!(app.json(Method::GET, "/api/v1/me", None, Some(&token)).await.status, StatusCode::UNAUTHORIZED);
}

async fn account_page_changes_password_and_revokes_tokens(app: &mut TestApp) {
    let t = app.tree().await;
    app.user("canbo", Role::Officer, Some(&t.commune_a)).await;
    let token = app.token("canbo").await;
    app.login("canbo").await;
    let page = app.get("/app/account").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("Xã Phước Lý") && page.body.contains("Cán bộ") && page.body.contains("Thu hồi"));

    let csrf = app.csrf("/app/account").await;
    let res = app
        .post_form(
            "/app/account/password",
            &[("csrf", &csrf), ("current", "wrong one!!"), ("new", "mật khẩu mới 456"), ("repeat", "mật khẩu mới 456")],
        )
        .await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(res.body.contains("Mật khẩu hiện tại không đúng"));
    let res = app
        .post_form(
            "/app/account/password",
            &[("csrf", &csrf), ("current", PASSWORD), ("new", "mật khẩu mới 456"), ("repeat", "khác hẳn rồi 789")],
        )
        .await;
    assert!(res.body.contains("không khớp"));
    let res = app
        .post_form(
            "/app/account/password",
            &[("csrf", &csrf), ("current", PASSWORD), ("new", "ngắn"), ("repeat", "ngắn")],
        )
        .await;
    assert!(res.body.contains("ít nhất 10"));
    assert!(
        ngoso_store::users::authenticate(&app.db, &ngoso_store::secrets::PasswordPool::new(1, 8), "canbo", PASSWORD)
            .await
            .unwrap()
            .is_some(),
        "nothing changed yet"
    );

    let old_session = app.cookies["ngoso_session"].clone();
    let res = app
        .post_form(
            "/app/account/password",
            &[("csrf", &csrf), ("current", PASSWORD), ("new", "mật khẩu mới 456"), ("repeat", "mật khẩu mới 456")],
        )
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER);
    assert_ne!(app.cookies["ngoso_session"], old_session, "a fresh session here");
    assert!(app.get("/app/account?done=password").await.body.contains("Đã đổi mật khẩu"));
    assert!(
        ngoso_store::users::authenticate(
            &app.db,
            &ngoso_store::secrets::PasswordPool::new(1, 8),
            "canbo",
            "mật khẩu mới 456"
        )
        .await
        .unwrap()
        .is_some()
    );
    // The old session is over.
    let mine = app.cookies.insert("ngoso_session".into(), old_session).unwrap();
    assert_eq!(app.get("/app/account").await.status, StatusCode::SEE_OTHER);
    app.cookies.insert("ngoso_session".into(), mine);

    // The API token made before is revoked: whoever knew the old password may have made it.
    assert_eq!(app.json(Method::GET, "/api/v1/me", None, Some(&token)).await.status, StatusCode::UNAUTHORIZED);
    // A new one, revoked from the page.
    let res = app
        .json(
            Method::POST,
            "/api/v1/auth/token",
            Some(json!({"username": "canbo", "password": "mật khẩu mới 456"})),
            None,
        )
        .await;
    let token = res.json()["token"].as_str().unwrap().to_owned();
    let id = res.json()["id"].as_i64().unwrap();
    assert_eq!(app.json(Method::GET, "/api/v1/me", None, Some(&token)).await.status, StatusCode::OK);
    // The page's token is bound to the session: the one from before the change is no good.
    let res = app.post_form(&format!("/app/account/tokens/{id}/revoke"), &[("csrf", &csrf)]).await;
    res.assert_error(StatusCode::FORBIDDEN, "csrf-invalid");
    let csrf = app.csrf("/app/account").await;
    let res = app.post_form(&format!("/app/account/tokens/{id}/revoke"), &[("csrf", &csrf)]).await;
    assert_eq!(res.status, StatusCode::SEE_OTHER);
    assert_eq!(app.json(Method::GET, "/api/v1/me", None, Some(&token)).await.status, StatusCode::UNAUTHORIZED);
    // Someone else's token id: not found.
    let res = app.post_form("/app/account/tokens/999999/revoke", &[("csrf", &csrf)]).await;
    res.assert_error(StatusCode::NOT_FOUND, "not-found");
}

/// An administrator's reset of a password ends the account's sessions and revokes its
/// tokens, as a change does.
async fn a_reset_password_revokes_tokens_and_sessions(app: &mut TestApp) {
    let t = app.tree().await;
    app.user("canbo", Role::Officer, Some(&t.commune_a)).await;
    app.user("quantri", Role::Admin, None).await;
    let token = app.token("canbo").await;
    app.login("canbo").await;
    let session = app.cookies["ngoso_session"].clone();
    app.cookies.clear();
    app.login("quantri").await;
    let user = ngoso_store::users::by_username(&app.db, &ngoso_core::user::Username::parse("canbo").unwrap())
        .await
        .unwrap()
        .unwrap();
    let csrf = app.csrf("/app/users").await;
    let res = app.post_form(&format!("/app/users/{}/reset-password", user.id), &[("csrf", &csrf)]).await;
    assert_eq!(res.status, StatusCode::OK);
    assert_eq!(app.json(Method::GET, "/api/v1/me", None, Some(&token)).await.status, StatusCode::UNAUTHORIZED);
    app.cookies.insert("ngoso_session".into(), session);
    assert_eq!(app.get("/app/account").await.status, StatusCode::SEE_OTHER, "the old session is over");
}

/// Guesses sent all at once are counted one by one: no more than the limit are checked.
async fn parallel_guesses_are_counted_before_they_are_checked(app: &mut TestApp) {
    let t = app.tree().await;
    app.user("canbo", Role::Officer, Some(&t.commune_a)).await;
    let reqs: Vec<_> = (0..20)
        .map(|i| {
            axum::http::Request::post("/api/v1/auth/token")
                .header("content-type", "application/json")
                .body(axum::body::Body::from(
                    json!({"username": "canbo", "password": format!("đoán sai {i}")}).to_string(),
                ))
                .unwrap()
        })
        .collect();
    let answers = app.send_all(reqs).await;
    let wrong = answers.iter().filter(|r| r.status == StatusCode::UNAUTHORIZED).count();
    let refused = answers.iter().filter(|r| r.status == StatusCode::TOO_MANY_REQUESTS).count();
    // The default limit: 5 failures per user name.
    assert_eq!((wrong, refused), (5, 15), "{:?}", answers.iter().map(|r| r.status).collect::<Vec<_>>());
}

/// With every password worker busy and the queue full, a login is answered 429 at once
/// instead of waiting (or taking memory) without bound.
async fn a_full_password_pool_answers_429(backend: ngoso_store::Backend) {
    let cfg = ngoso_web::WebConfig {
        password_workers: 1,
        password_queue: 0,
        login_max_failures_per_client: 1000,
        ..Default::default()
    };
    let Some(app) = TestApp::with_config(backend, cfg).await else { return };
    let reqs: Vec<_> = (0..12)
        .map(|i| {
            axum::http::Request::post("/api/v1/auth/token")
                .header("content-type", "application/json")
                .body(axum::body::Body::from(
                    json!({"username": format!("ai.do.{i}"), "password": "một mật khẩu"}).to_string(),
                ))
                .unwrap()
        })
        .collect();
    let answers = app.send_all(reqs).await;
    let busy: Vec<_> = answers.iter().filter(|r| r.status == StatusCode::TOO_MANY_REQUESTS).collect();
    assert!(!busy.is_empty(), "{:?}", answers.iter().map(|r| r.status).collect::<Vec<_>>());
    assert!(busy.iter().all(|r| r.header("retry-after").as_deref() == Some("2")));
    assert!(answers.iter().all(|r| matches!(r.status, StatusCode::UNAUTHORIZED | StatusCode::TOO_MANY_REQUESTS)));
    app.cleanup().await;
}

mod a_full_password_pool_answers_429 {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sqlite() {
        super::a_full_password_pool_answers_429(ngoso_store::Backend::Sqlite).await;
    }
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn postgres() {
        super::a_full_password_pool_answers_429(ngoso_store::Backend::Postgres).await;
    }
}

http_tests!(
    a_reset_password_revokes_tokens_and_sessions,
    parallel_guesses_are_counted_before_they_are_checked,
    account_page_changes_password_and_revokes_tokens,
    login_session_and_logout,
    forms_without_a_valid_csrf_token_change_nothing,
    failed_logins_are_limited,
    api_tokens_are_issued_used_and_revoked
);
