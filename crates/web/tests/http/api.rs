//! The service endpoints: OpenAPI, health, metrics, assets, language switch.

use axum::http::{Method, StatusCode};

use crate::http_tests;
use crate::support::TestApp;

async fn openapi_health_and_metrics(app: &mut TestApp) {
    let res = app.get("/api/v1/openapi.json").await;
    assert_eq!(res.status, StatusCode::OK);
    let doc = res.json();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    for path in ["/api/v1/units", "/api/v1/units/{id}", "/api/v1/auth/token", "/api/v1/me"] {
        assert!(doc["paths"][path].is_object(), "{path} is documented");
    }
    assert!(doc["components"]["schemas"]["ApiErrorBody"].is_object());

    let res = app.get("/healthz").await;
    assert_eq!(res.json()["status"], "ok");

    app.get("/").await;
    app.json(Method::GET, "/api/v1/units/1", None, None).await;
    let res = app.get("/metrics").await;
    assert_eq!(res.status, StatusCode::OK);
    assert!(res.header("content-type").unwrap().starts_with("text/plain"));
    assert!(
        res.body.contains("ngoso_http_requests_total{method=\"GET\",route=\"/\",status=\"200\"} 1"),
        "{}",
        res.body
    );
    assert!(res.body.contains("route=\"/api/v1/units/{id}\",status=\"401\""));
    assert!(res.body.contains("ngoso_http_request_duration_seconds_bucket"));
}

async fn assets_are_hashed_and_cached(app: &mut TestApp) {
    let home = app.get("/").await;
    let start = home.body.find("/assets/app.").unwrap();
    let end = start + home.body[start..].find('"').unwrap();
    let css = &home.body[start..end];
    assert!(css.ends_with(".css"));
    let res = app.get(css).await;
    assert_eq!(res.status, StatusCode::OK);
    assert!(res.header("cache-control").unwrap().contains("immutable"));
    assert!(res.header("content-type").unwrap().starts_with("text/css"));
    assert_eq!(app.get("/assets/app.0000.css").await.status, StatusCode::NOT_FOUND);
    // Everything a page loads comes from this host.
    assert!(!home.body.contains("http://") && !home.body.contains("https://"));
}

async fn language_switch(app: &mut TestApp) {
    let res = app.get("/lang/en?next=/login").await;
    assert_eq!(res.status, StatusCode::SEE_OTHER);
    assert_eq!(res.location(), "/login");
    let page = app.get("/login").await;
    assert!(page.body.contains("Log in") && page.body.contains("Tiếng Việt"));
    let res = app.get("/lang/vi?next=//evil.example").await;
    assert_eq!(res.location(), "/");
    // A browser drops the tab and goes to //evil.example: not followed.
    for next in ["/%09/evil.example", "/%0A/evil.example", "/%5C%5Cevil.example", "%2F%2Fevil.example"] {
        let res = app.get(&format!("/lang/vi?next={next}")).await;
        assert_eq!((res.status, res.location()), (StatusCode::SEE_OTHER, "/".to_owned()), "{next}");
    }
    let page = app.get("/login").await;
    assert!(page.body.contains("Đăng nhập"));
}

/// Every answer says what the browser may run and frame, and how much of our addresses it
/// passes on.
async fn security_headers(app: &mut TestApp) {
    for path in ["/", "/login", "/feedback", "/api/v1/me", "/nope", "/open311/v2/services.xml"] {
        let res = app.get(path).await;
        let csp = res.header("content-security-policy").unwrap_or_else(|| panic!("no CSP on {path}"));
        assert!(csp.contains("script-src 'self'") && csp.contains("frame-ancestors 'none'"), "{path}: {csp}");
        assert!(!csp.contains("unsafe-inline"), "{path}: {csp}");
        assert_eq!(res.header("x-frame-options").as_deref(), Some("DENY"), "{path}");
        assert_eq!(res.header("referrer-policy").as_deref(), Some("same-origin"), "{path}");
        assert_eq!(res.header("x-content-type-options").as_deref(), Some("nosniff"), "{path}");
    }
}

/// Cookies are `Secure` when ngoso's public address is `https://`, even without
/// `cookie_secure`; not otherwise.
async fn cookies_are_secure_behind_https(backend: ngoso_store::Backend) {
    for (public_url, secure) in
        [(Some("https://ngoso.tinh.gov.vn"), true), (Some("http://10.0.0.5:8080"), false), (None, false)]
    {
        let cfg = ngoso_web::WebConfig { public_url: public_url.unwrap_or_default().to_owned(), ..Default::default() };
        let Some(mut app) = TestApp::with_config(backend, cfg).await else { return };
        let res = app.get("/login").await;
        let cookie = res.header("set-cookie").expect("a CSRF cookie");
        assert_eq!(cookie.contains("; Secure"), secure, "{public_url:?}: {cookie}");
        let res = app.get("/lang/en?next=/").await;
        assert_eq!(res.header("set-cookie").unwrap().contains("; Secure"), secure);
        app.cleanup().await;
    }
}

mod cookies_are_secure_behind_https {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sqlite() {
        super::cookies_are_secure_behind_https(ngoso_store::Backend::Sqlite).await;
    }
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn postgres() {
        super::cookies_are_secure_behind_https(ngoso_store::Backend::Postgres).await;
    }
}

http_tests!(openapi_health_and_metrics, assets_are_hashed_and_cached, language_switch, security_headers);
