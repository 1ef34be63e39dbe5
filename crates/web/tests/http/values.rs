//! Data values through the API (DHIS2's `dataValueSets`, JSON and CSV), the entry grid and
//! the history: all or none, refused rows named by number, and the same values back.

use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use ngoso_core::auth::Role;
use ngoso_store::check;
use serde_json::json;

use crate::http_tests;
use crate::support::TestApp;

async fn get_set(app: &mut TestApp, token: &str, query: &str) -> serde_json::Value {
    let res = app.json(Method::GET, &format!("/api/v1/dataValueSets?{query}"), None, Some(token)).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    res.json()
}

async fn post_csv(app: &mut TestApp, token: &str, csv: &str) -> crate::support::Res {
    let req = Request::post("/api/v1/dataValueSets")
        .header(header::CONTENT_TYPE, "text/csv; charset=utf-8")
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .body(Body::from(csv.to_owned()))
        .unwrap();
    app.send(req).await
}

/// A set posted as JSON comes back from `GET` the same; posting that back changes nothing;
/// a set with one bad row writes nothing and names the row.
async fn data_value_sets_round_trip(app: &mut TestApp) {
    let t = app.tree().await;
    app.user("so.tt", Role::Officer, Some(&t.province)).await;
    let token = app.token("so.tt").await;
    let set = json!({"dataValues": [
        {"dataElement": "HEALTH_FEES_CASHLESS", "period": "202410", "orgUnit": "28414", "value": "1200000000"},
        {"dataElement": "HEALTH_FEES_TOTAL", "period": "202410", "orgUnit": "28414", "value": 6000000000i64},
        {"dataElement": "HEALTH_FEES_CASHLESS", "period": "202410", "orgUnit": "27700", "value": "300.000.000", "comment": "Trạm y tế 🏥"},
        {"dataElement": "APP_INSTALLS", "period": "202409", "orgUnit": "27700", "value": "41"},
    ]});
    let res = app.json(Method::POST, "/api/v1/dataValueSets", Some(set), Some(&token)).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    assert_eq!(res.json()["importCount"], json!({"imported": 4, "updated": 0, "deleted": 0, "ignored": 0}));

    let back = get_set(app, &token, "orgUnit=80&children=true&period=202410,202409").await;
    let vals = back["dataValues"].as_array().unwrap();
    assert_eq!(vals.len(), 4);
    let find = |e: &str, u: &str| vals.iter().find(|v| v["dataElement"] == e && v["orgUnit"] == u).unwrap().clone();
    assert_eq!(find("HEALTH_FEES_CASHLESS", "27700")["value"], "300000000");
    assert_eq!(find("HEALTH_FEES_CASHLESS", "27700")["comment"], "Trạm y tế 🏥");
    assert_eq!(find("HEALTH_FEES_TOTAL", "28414")["value"], "6000000000");
    assert_eq!(find("APP_INSTALLS", "27700")["storedBy"], "so.tt");
    assert!(find("APP_INSTALLS", "27700")["lastUpdated"].as_str().unwrap().ends_with("+07:00"));
    let own = get_set(app, &token, "orgUnit=80&period=202410").await;
    assert_eq!(own["dataValues"].as_array().unwrap().len(), 0, "the province entered none itself");
    let by_days = get_set(app, &token, "orgUnit=28414,27700&startDate=2024-10-01&endDate=2024-12-31").await;
    assert_eq!(by_days["dataValues"].as_array().unwrap().len(), 3);

    let res = app.json(Method::POST, "/api/v1/dataValueSets", Some(back.clone()), Some(&token)).await;
    assert_eq!(res.json()["importCount"], json!({"imported": 0, "updated": 0, "deleted": 0, "ignored": 4}));

    // One bad row among good ones: nothing is written, and the row is named.
    for (bad, code, row) in [
        (
            json!({"dataElement": "APP_INSTALLS", "period": "202410", "orgUnit": "28414", "value": "-3"}),
            "value-invalid",
            2,
        ),
        (json!({"dataElement": "NO_SUCH", "period": "202410", "orgUnit": "28414", "value": "3"}), "element-unknown", 2),
        (
            json!({"dataElement": "APP_INSTALLS", "period": "2024Q4", "orgUnit": "28414", "value": "3"}),
            "value-period-kind",
            2,
        ),
        (json!({"dataElement": "APP_INSTALLS", "period": "202410", "orgUnit": "80", "value": "3"}), "value-level", 2),
        (
            json!({"dataElement": "APP_INSTALLS", "period": "202410", "orgUnit": "99999", "value": "3"}),
            "unit-unknown",
            2,
        ),
        (
            json!({"dataElement": "APP_INSTALLS", "period": "202413", "orgUnit": "28414", "value": "3"}),
            "period-invalid",
            2,
        ),
        (
            json!({"dataElement": "APP_INSTALLS", "period": "202409", "orgUnit": "27700", "value": "9"}),
            "value-repeated",
            3,
        ),
    ] {
        let set = json!({"dataValues": [
            {"dataElement": "SMARTPHONES_GIVEN", "period": "202410", "orgUnit": "28414", "value": "7"},
            bad,
            {"dataElement": "APP_INSTALLS", "period": "202409", "orgUnit": "27700", "value": "50"},
        ]});
        let res = app.json(Method::POST, "/api/v1/dataValueSets?lang=en", Some(set), Some(&token)).await;
        res.assert_error(StatusCode::UNPROCESSABLE_ENTITY, code);
        assert_eq!(res.json()["error"]["row"], row, "{}", res.body);
        assert!(res.json()["error"]["message"].as_str().unwrap().starts_with(&format!("Row {row}: ")), "{}", res.body);
    }
    let after = get_set(app, &token, "orgUnit=80&children=true&period=202410,202409").await;
    assert_eq!(after, back, "a refused set wrote nothing");

    // An empty value removes one; `deleted` too.
    let set = json!({"dataValues": [
        {"dataElement": "APP_INSTALLS", "period": "202409", "orgUnit": "27700", "value": ""},
        {"dataElement": "HEALTH_FEES_TOTAL", "period": "202410", "orgUnit": "28414", "value": "1", "deleted": true},
    ]});
    let res = app.json(Method::POST, "/api/v1/dataValueSets", Some(set), Some(&token)).await;
    assert_eq!(res.json()["importCount"]["deleted"], 2, "{}", res.body);

    let res = app
        .json(
            Method::GET,
            "/api/v1/dataValues/history?orgUnit=27700&period=202409&dataElement=APP_INSTALLS",
            None,
            Some(&token),
        )
        .await;
    let h = res.json();
    assert_eq!(h.as_array().unwrap().len(), 2, "{}", res.body);
    assert_eq!((h[0]["before"].clone(), h[0]["after"].clone()), (json!(41), json!(null)));
    assert_eq!(h[1]["source"], "api");
    assert_eq!(check::run(&app.db).await.unwrap(), Vec::<String>::new());
}

/// Who may enter what, where.
async fn entry_is_checked_by_role_and_unit(app: &mut TestApp) {
    let t = app.tree().await;
    app.user("xa.a", Role::Officer, Some(&t.commune_a)).await;
    app.user("xem", Role::Viewer, Some(&t.province)).await;
    app.user("doi", Role::TeamLeader, Some(&t.commune_a)).await;
    let row = |unit: &str| json!({"dataValues": [{"dataElement": "APP_INSTALLS", "period": "202410", "orgUnit": unit, "value": "5"}]});
    let officer = app.token("xa.a").await;
    let res = app.json(Method::POST, "/api/v1/dataValueSets", Some(row("28414")), Some(&officer)).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    let res = app.json(Method::POST, "/api/v1/dataValueSets", Some(row("27700")), Some(&officer)).await;
    res.assert_error(StatusCode::UNPROCESSABLE_ENTITY, "unit-unknown");
    for who in ["xem", "doi"] {
        let token = app.token(who).await;
        let res = app.json(Method::POST, "/api/v1/dataValueSets", Some(row("28414")), Some(&token)).await;
        res.assert_error(StatusCode::FORBIDDEN, "forbidden");
    }
    // A viewer reads them.
    let token = app.token("xem").await;
    let set = get_set(app, &token, "orgUnit=28414&period=202410").await;
    assert_eq!(set["dataValues"][0]["value"], "5");
    let res = app.json(Method::GET, "/api/v1/dataValueSets?orgUnit=80", None, Some(&token)).await;
    res.assert_error(StatusCode::UNPROCESSABLE_ENTITY, "required");
    let res = app.json(Method::GET, "/api/v1/dataValueSets?orgUnit=nope&period=2024", None, Some(&token)).await;
    res.assert_error(StatusCode::NOT_FOUND, "not-found");
    // Elements: anyone reads them; only administrators of the whole tree add one.
    let res = app.json(Method::GET, "/api/v1/dataElements", None, Some(&token)).await;
    assert_eq!(res.json().as_array().unwrap().len(), 17);
    let new = json!({"code": "WIFI_SPOTS", "name_vi": "Điểm wifi công cộng", "name_en": "Public wifi spots",
        "value_type": "count", "aggregation": "last", "level": "commune", "period_type": "Quarterly"});
    let res = app.json(Method::POST, "/api/v1/dataElements", Some(new.clone()), Some(&officer)).await;
    res.assert_error(StatusCode::FORBIDDEN, "forbidden");
    app.user("quan.tri", Role::Admin, None).await;
    let admin = app.token("quan.tri").await;
    let res = app.json(Method::POST, "/api/v1/dataElements", Some(new.clone()), Some(&admin)).await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.body);
    let res = app.json(Method::POST, "/api/v1/dataElements", Some(new), Some(&admin)).await;
    res.assert_error(StatusCode::CONFLICT, "element-code-exists");
    let res = app.json(Method::POST, "/api/v1/dataElements", Some(json!({"code": "x"})), Some(&admin)).await;
    res.assert_error(StatusCode::UNPROCESSABLE_ENTITY, "value-type-invalid");
    let q =
        json!({"dataValues": [{"dataElement": "WIFI_SPOTS", "period": "2024Q4", "orgUnit": "27700", "value": "12"}]});
    let res = app.json(Method::POST, "/api/v1/dataValueSets", Some(q), Some(&admin)).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
}

/// A CSV file in DHIS2's columns, with a byte-order mark: all or none.
async fn csv_import_is_all_or_nothing(app: &mut TestApp) {
    let t = app.tree().await;
    app.user("so.tt", Role::Officer, Some(&t.province)).await;
    let token = app.token("so.tt").await;
    let good = "\u{feff}dataelement,period,orgunit,categoryoptioncombo,value,comment\n\
                DIGITAL_SIGNATURES,202410,28414,,120,\n\
                DIGITAL_SIGNATURES,202410,27700,,\"1.300\",\"ghi chú, có dấu phẩy\"\n";
    let res = post_csv(app, &token, good).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    assert_eq!(res.json()["importCount"]["imported"], 2);
    let bad =
        "dataElement;period;orgUnit;value\nDIGITAL_SIGNATURES;202411;28414;5\nDIGITAL_SIGNATURES;202411;27700;năm\n";
    let res = post_csv(app, &token, bad).await;
    res.assert_error(StatusCode::UNPROCESSABLE_ENTITY, "value-invalid");
    assert_eq!(res.json()["error"]["row"], 3);
    let res = post_csv(app, &token, "dataelement,period,value\nX,202410,1\n").await;
    res.assert_error(StatusCode::UNPROCESSABLE_ENTITY, "csv-column-missing");
    let res = post_csv(app, &token, "dataelement,period,orgunit,value\n").await;
    res.assert_error(StatusCode::UNPROCESSABLE_ENTITY, "csv-empty");
    let set = get_set(app, &token, "orgUnit=80&children=true&period=202410,202411").await;
    let vals = set["dataValues"].as_array().unwrap();
    assert_eq!(vals.len(), 2, "the refused file wrote nothing");
    assert!(vals.iter().any(|v| v["value"] == "1300" && v["comment"] == "ghi chú, có dấu phẩy"));
    let req = Request::post("/api/v1/dataValueSets")
        .header(header::CONTENT_TYPE, "application/xml")
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .body(Body::from("<dataValueSet/>"))
        .unwrap();
    app.send(req).await.assert_error(StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported-media-type");
}

/// The entry grid: a commune's elements for a month, saved all or none; the history page.
async fn the_grid_enters_values(app: &mut TestApp) {
    let t = app.tree().await;
    app.user("xa.a", Role::Officer, Some(&t.commune_a)).await;
    app.login("xa.a").await;
    let page = format!("/app/units/{}/values?period=202410", t.commune_a.id);
    let res = app.get(&page).await;
    assert_eq!(res.status, StatusCode::OK);
    assert!(res.body.contains("Tháng 10/2024") && res.body.contains("Viện phí thanh toán không dùng tiền mặt"));
    let csrf = app.csrf(&page).await;
    let path = format!("/app/units/{}/values", t.commune_a.id);
    let res = app
        .post_form(&path, &[("csrf", &csrf), ("period", "202410"), ("v5", "1.200.000"), ("v6", ""), ("v13", "17")])
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
    let res = app.get(&res.location()).await;
    assert!(res.body.contains("value=\"1200000\""), "{}", res.body);
    assert!(res.body.contains("1.200.000"));
    // A bad box: nothing saved, the page comes back with what was typed and the reason.
    let res = app.post_form(&path, &[("csrf", &csrf), ("period", "202410"), ("v5", "7"), ("v13", "mười")]).await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(res.notice().starts_with("Lượt cài đặt ứng dụng công dân của tỉnh: "), "{}", res.notice());
    assert!(res.body.contains("value=\"mười\""));
    let res = app.get(&page).await;
    assert!(res.body.contains("value=\"1200000\""), "the refused grid saved nothing");
    // Emptying a box removes the value; the history says who did what.
    let res = app.post_form(&path, &[("csrf", &csrf), ("period", "202410"), ("v5", "1200000"), ("v13", "")]).await;
    assert_eq!(res.status, StatusCode::SEE_OTHER);
    let res = app.get(&format!("/app/units/{}/values/history?period=202410", t.commune_a.id)).await;
    assert_eq!(res.status, StatusCode::OK);
    assert!(res.body.contains("Lượt cài đặt ứng dụng công dân của tỉnh") && res.body.contains("xa.a"), "{}", res.body);
    assert_eq!(res.body.matches("<tr>").count(), 1 + 3, "{}", res.body);
    // The province has no element entered at its level; a hamlet neither.
    let res = app.get(&format!("/app/units/{}/values?period=202410", t.hamlet_a.id)).await;
    assert!(res.body.contains("notice warn"));
    assert_eq!(check::run(&app.db).await.unwrap(), Vec::<String>::new());
}

http_tests!(
    data_value_sets_round_trip,
    entry_is_checked_by_role_and_unit,
    csv_import_is_all_or_nothing,
    the_grid_enters_values
);
