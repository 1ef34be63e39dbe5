//! The public statistics page: no login, the report's figures for the province and each
//! unit down to the commune, and nothing about any household or person.

use axum::http::{Method, StatusCode};
use ngoso_core::auth::Role;
use ngoso_core::outreach::Barriers;
use serde_json::json;

use crate::http_tests;
use crate::support::TestApp;

async fn the_public_page_shows_figures_and_no_one(app: &mut TestApp) {
    let t = app.tree().await;
    app.user("so.tt", Role::Officer, Some(&t.province)).await;
    let token = app.token("so.tt").await;
    // A household with a named head and a resident, a feedback item with a contact.
    let h = ngoso_store::households::NewHousehold {
        unit_id: t.hamlet_a.id,
        code: "HH-BE-01".into(),
        address: Some("Số 9, hẻm Lê Lợi".into()),
        head_name: Some("Trần Thị Bé".into()),
        size: 2,
        smartphones: 0,
        barriers: Barriers::default(),
        consent: Some(("Trần Thị Bé".into(), "outreach".into())),
    };
    ngoso_store::households::create(&app.db, &h, None).await.unwrap();
    let set = json!({"dataValues": [
        {"dataElement": "HEALTH_FEES_CASHLESS", "period": "202410", "orgUnit": "28414", "value": "200000000"},
        {"dataElement": "HEALTH_FEES_TOTAL", "period": "202410", "orgUnit": "28414", "value": "1000000000"},
        {"dataElement": "APP_INSTALLS", "period": "202410", "orgUnit": "27700", "value": "1234"},
    ]});
    let res = app.json(Method::POST, "/api/v1/dataValueSets", Some(set), Some(&token)).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);

    // No session: the page is public.
    app.cookies.clear();
    let public = app;
    let res = public.get("/stats").await;
    assert_eq!((res.status, res.location()), (StatusCode::SEE_OTHER, "/stats/80".to_owned()));
    let res = public.get("/stats/80?period=2024").await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    assert!(res.body.contains("20,0 %") && res.body.contains("1.234"), "{}", res.body);
    assert!(res.body.contains("/stats/807?period=2024"), "the districts are linked");
    for private in ["Trần Thị Bé", "HH-BE-01", "hẻm Lê Lợi", "so.tt"] {
        assert!(!res.body.contains(private), "{private} on the public page");
    }
    let res = public.get("/stats/28414?period=2024").await;
    assert_eq!(res.status, StatusCode::OK);
    assert!(!res.body.contains("Trần Thị Bé") && !res.body.contains("HH-BE-01"));
    // A hamlet is small enough to point at a family: not public.
    let res = public.get("/stats/28414-01").await;
    assert_eq!(res.status, StatusCode::NOT_FOUND);
    let res = public.get("/stats/nope").await;
    assert_eq!(res.status, StatusCode::NOT_FOUND);
    let res = public.get("/stats/80?period=2024Q9").await;
    res.assert_error(StatusCode::UNPROCESSABLE_ENTITY, "period-invalid");
    let res = public.get("/stats/80?period=2024&lang=en").await;
    assert_eq!(res.status, StatusCode::OK);
}

http_tests!(the_public_page_shows_figures_and_no_one);
