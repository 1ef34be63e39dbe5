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

http_tests!(openapi_health_and_metrics, assets_are_hashed_and_cached, language_switch);
