//! The registry of places: added through the API, a page or a CSV file (all or none),
//! counted by kind for a unit and day, and read by the cashless-places indicator.

use axum::http::{Method, StatusCode};
use ngoso_core::auth::Role;
use serde_json::json;

use crate::http_tests;
use crate::support::TestApp;

async fn places_are_registered_and_counted(app: &mut TestApp) {
    let t = app.tree().await;
    app.user("so.tt", Role::Officer, Some(&t.province)).await;
    app.user("xa.b", Role::Officer, Some(&t.commune_b)).await;
    let token = app.token("so.tt").await;
    let places = json!({"places": [
        {"unit_code": "28414", "kind": "market", "code": "CHO-PL", "name": "Chợ Phước Lý", "cashless_since": "2024-03-15"},
        {"unit_code": "28414-01", "kind": "Siêu thị", "code": "ST-1", "name": "Siêu thị Co.op 🛒", "cashless_since": "15/10/2024"},
        {"unit_code": "27700", "kind": "trung tâm thương mại", "code": "TTTM-1", "name": "TTTM Vĩnh Lợi", "cashless_since": "2025-01-02"},
        {"unit_code": "27700", "kind": "school", "code": "TH-VL", "name": "Trường Tiểu học Vĩnh Lợi", "online_fees_since": "2024-09-01"},
        {"unit_code": "27700", "kind": "market", "code": "CHO-VL", "name": "Chợ Vĩnh Lợi"},
    ]});
    let res = app.json(Method::POST, "/api/v1/places", Some(places), Some(&token)).await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.body);

    let counts = |on: &str| format!("/api/v1/places/counts?unit=80&on={on}");
    let res = app.json(Method::GET, &counts("2024-12-31"), None, Some(&token)).await.json();
    let of = |v: &serde_json::Value, k: &str| v.as_array().unwrap().iter().find(|c| c["kind"] == k).unwrap().clone();
    assert_eq!(of(&res, "market"), json!({"kind": "market", "total": 2, "cashless": 1, "online": 0}));
    assert_eq!(of(&res, "supermarket")["cashless"], 1);
    assert_eq!(of(&res, "shopping_centre")["cashless"], 0, "from 2025 only");
    assert_eq!(of(&res, "school")["online"], 1);
    let res = app.json(Method::GET, &counts("2024-10-14"), None, Some(&token)).await.json();
    assert_eq!(of(&res, "supermarket")["cashless"], 0, "the day before it began");

    // The indicator reads the registry on the period's last day.
    let ind = app
        .json(Method::GET, &format!("/api/v1/units/{}/indicators?period=2025", t.province.id), None, Some(&token))
        .await
        .json();
    let cashless = ind["indicators"].as_array().unwrap().iter().find(|i| i["code"] == "CASHLESS_PLACES").unwrap();
    assert_eq!(cashless["value"], 3.0);
    assert_eq!(cashless["year_before"], 2.0);

    // One bad entry refuses them all; a commune officer registers only in their commune.
    let bad = json!({"places": [
        {"unit_code": "27700", "kind": "market", "code": "CHO-2", "name": "Chợ 2"},
        {"unit_code": "27700", "kind": "quán", "code": "Q-1", "name": "Quán"},
    ]});
    let res = app.json(Method::POST, "/api/v1/places", Some(bad), Some(&token)).await;
    res.assert_error(StatusCode::UNPROCESSABLE_ENTITY, "place-kind-invalid");
    assert_eq!(res.json()["error"]["row"], 2);
    let dup = json!({"places": [{"unit_code": "27700", "kind": "market", "code": "CHO-VL", "name": "Chợ"}]});
    let res = app.json(Method::POST, "/api/v1/places", Some(dup), Some(&token)).await;
    res.assert_error(StatusCode::CONFLICT, "place-code-exists");
    let xa = app.token("xa.b").await;
    let other = json!({"places": [{"unit_code": "28414", "kind": "market", "code": "CHO-X", "name": "Chợ X"}]});
    let res = app.json(Method::POST, "/api/v1/places", Some(other), Some(&xa)).await;
    res.assert_error(StatusCode::UNPROCESSABLE_ENTITY, "unit-unknown");
    let list = app.json(Method::GET, "/api/v1/places?unit=27700", None, Some(&xa)).await.json();
    assert_eq!(list.as_array().unwrap().len(), 3);
    let res = app.json(Method::GET, "/api/v1/places/counts?on=2024-01-01", None, Some(&xa)).await;
    res.assert_error(StatusCode::UNPROCESSABLE_ENTITY, "required");
    let res = app.json(Method::GET, "/api/v1/places/counts?unit=27700&on=hôm-nay", None, Some(&xa)).await;
    res.assert_error(StatusCode::UNPROCESSABLE_ENTITY, "date-invalid");

    // The page: counts and list; one place by the form; a CSV file with a bad row saves none.
    app.login("xa.b").await;
    let page = format!("/app/units/{}/places", t.commune_b.id);
    let res = app.get(&page).await;
    assert!(res.body.contains("TTTM Vĩnh Lợi"), "{}", res.body);
    let csrf = app.csrf(&page).await;
    let res = app
        .post_form(
            &page,
            &[
                ("csrf", &csrf),
                ("kind", "shop"),
                ("code", "CH-1"),
                ("name", "Tạp hóa Ba Lan"),
                ("cashless_since", "2024-05-01"),
            ],
        )
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
    let res = app
        .post_form(&page, &[("csrf", &csrf), ("kind", "shop"), ("code", "CH-2"), ("name", ""), ("cashless_since", "")])
        .await;
    res.assert_notice(StatusCode::UNPROCESSABLE_ENTITY, "Cần nhập Tên.");
    let list = app.json(Method::GET, "/api/v1/places?unit=27700", None, Some(&xa)).await.json();
    assert_eq!(list.as_array().unwrap().len(), 4);
}

http_tests!(places_are_registered_and_counted);
