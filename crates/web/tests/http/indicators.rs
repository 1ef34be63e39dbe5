//! Indicators on the unit's page and through the API: shares summed from their parts,
//! targets set all or none, the same period a year before.

use axum::http::{Method, StatusCode};
use ngoso_core::auth::Role;
use serde_json::json;

use crate::http_tests;
use crate::support::TestApp;

fn find<'a>(list: &'a serde_json::Value, code: &str) -> &'a serde_json::Value {
    list["indicators"].as_array().unwrap().iter().find(|i| i["code"] == code).unwrap()
}

/// Two communes whose shares of health fees paid cashless differ (10 % and 90 %): the
/// province's share is 910 ÷ 1,100, not the mean 50 %.
async fn shares_are_summed_from_parts(app: &mut TestApp) {
    let t = app.tree().await;
    app.user("so.tt", Role::Officer, Some(&t.province)).await;
    let token = app.token("so.tt").await;
    let set = json!({"dataValues": [
        {"dataElement": "HEALTH_FEES_CASHLESS", "period": "202410", "orgUnit": "28414", "value": "10000000"},
        {"dataElement": "HEALTH_FEES_TOTAL", "period": "202410", "orgUnit": "28414", "value": "100000000"},
        {"dataElement": "HEALTH_FEES_CASHLESS", "period": "202411", "orgUnit": "27700", "value": "900000000"},
        {"dataElement": "HEALTH_FEES_TOTAL", "period": "202411", "orgUnit": "27700", "value": "1000000000"},
        {"dataElement": "HEALTH_FEES_CASHLESS", "period": "202310", "orgUnit": "27700", "value": "5000000"},
        {"dataElement": "HEALTH_FEES_TOTAL", "period": "202310", "orgUnit": "27700", "value": "50000000"},
    ]});
    let res = app.json(Method::POST, "/api/v1/dataValueSets", Some(set), Some(&token)).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    let path = |id: i64| format!("/api/v1/units/{id}/indicators?period=2024Q4");
    let prov = app.json(Method::GET, &path(t.province.id), None, Some(&token)).await.json();
    let share = find(&prov, "HEALTH_FEES_CASHLESS_SHARE");
    assert_eq!((share["numerator"].clone(), share["denominator"].clone()), (json!(910_000_000), json!(1_100_000_000)));
    assert!((share["value"].as_f64().unwrap() - 82.727).abs() < 0.01, "{share}");
    assert!((share["year_before"].as_f64().unwrap() - 10.0).abs() < 1e-9, "2023Q4 is the year before: {share}");
    let a = app.json(Method::GET, &path(t.commune_a.id), None, Some(&token)).await.json();
    assert_eq!(find(&a, "HEALTH_FEES_CASHLESS_SHARE")["value"], 10.0);
    assert_eq!(find(&a, "HEALTH_FEES_CASHLESS_SHARE")["year_before"], json!(null));
    assert_eq!(find(&prov, "HOUSEHOLDS_GUIDED_APP")["current_state"], true);

    // Targets: all or none, in the indicator's unit.
    let put = |targets: serde_json::Value| json!({"targets": targets});
    let res = app
        .json(
            Method::PUT,
            "/api/v1/targets",
            Some(put(json!([
                {"indicator": "HEALTH_FEES_CASHLESS_SHARE", "orgUnit": "80", "period": "2024Q4", "target": "80"},
                {"indicator": "HEALTH_FEES_CASHLESS", "orgUnit": "80", "period": "2024Q4", "target": "x"},
            ]))),
            Some(&token),
        )
        .await;
    res.assert_error(StatusCode::UNPROCESSABLE_ENTITY, "value-invalid");
    assert_eq!(res.json()["error"]["row"], 2);
    let res = app
        .json(
            Method::PUT,
            "/api/v1/targets",
            Some(put(json!([
                {"indicator": "HEALTH_FEES_CASHLESS_SHARE", "orgUnit": "80", "period": "2024Q4", "target": "80"},
                {"indicator": "HEALTH_FEES_CASHLESS", "orgUnit": "80", "period": "2024Q4", "target": 1_000_000_000},
            ]))),
            Some(&token),
        )
        .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    let prov = app.json(Method::GET, &path(t.province.id), None, Some(&token)).await.json();
    let share = find(&prov, "HEALTH_FEES_CASHLESS_SHARE");
    assert_eq!(share["target"], 8_000);
    assert!((share["achievement"].as_f64().unwrap() - 103.409).abs() < 0.01, "{share}");
    assert_eq!(find(&prov, "HEALTH_FEES_CASHLESS")["achievement"], 91.0);

    // The page: the figures the Vietnamese way, beside their targets.
    app.login("so.tt").await;
    let res = app.get(&format!("/app/units/{}?period=2024Q4", t.province.id)).await;
    assert_eq!(res.status, StatusCode::OK);
    assert!(res.body.contains("Quý 4/2024"), "{}", res.body);
    assert!(
        res.body.contains("82,7 %") && res.body.contains("80,0 %") && res.body.contains("910 triệu đồng"),
        "{}",
        res.body
    );
    let res = app.get(&format!("/app/units/{}?period=2024Q5", t.province.id)).await;
    res.assert_error(StatusCode::UNPROCESSABLE_ENTITY, "period-invalid");
    // The targets form: a bad box saves nothing.
    let form = format!("/app/units/{}/targets?period=2024Q4", t.province.id);
    let csrf = app.csrf(&form).await;
    let post = format!("/app/units/{}/targets", t.province.id);
    let res = app
        .post_form(
            &post,
            &[
                ("csrf", &csrf),
                ("period", "2024Q4"),
                ("t_HEALTH_FEES_CASHLESS_SHARE", "85,5"),
                ("t_DIGITAL_SIGNATURES", "nhiều"),
            ],
        )
        .await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(res.notice().starts_with("DIGITAL_SIGNATURES: "), "{}", res.notice());
    let res = app
        .post_form(
            &post,
            &[
                ("csrf", &csrf),
                ("period", "2024Q4"),
                ("t_HEALTH_FEES_CASHLESS_SHARE", "85,5"),
                ("t_HEALTH_FEES_CASHLESS", ""),
            ],
        )
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
    let prov = app.json(Method::GET, &path(t.province.id), None, Some(&token)).await.json();
    assert_eq!(find(&prov, "HEALTH_FEES_CASHLESS_SHARE")["target"], 8_550);
    assert_eq!(find(&prov, "HEALTH_FEES_CASHLESS")["target"], json!(null));

    // A viewer sees the figures but sets no target.
    app.user("xem", Role::Viewer, Some(&t.province)).await;
    let viewer = app.token("xem").await;
    let res = app.json(Method::GET, &path(t.province.id), None, Some(&viewer)).await;
    assert_eq!(res.status, StatusCode::OK);
    let res = app
        .json(
            Method::PUT,
            "/api/v1/targets",
            Some(put(json!([{"indicator": "DIGITAL_SIGNATURES", "orgUnit": "80", "period": "2024", "target": "1"}]))),
            Some(&viewer),
        )
        .await;
    res.assert_error(StatusCode::FORBIDDEN, "forbidden");
}

/// New indicators are checked against what exists.
async fn indicators_are_defined_in_data(app: &mut TestApp) {
    app.user("quan.tri", Role::Admin, None).await;
    let admin = app.token("quan.tri").await;
    let new = json!({"code": "VISITS_MET_SHARE", "name_vi": "Tỷ lệ gặp được", "name_en": "Share met", "kind": "percent",
        "numerator": "figure:visits_met", "denominator": "figure:visits"});
    let res = app.json(Method::POST, "/api/v1/indicators", Some(new), Some(&admin)).await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.body);
    let bad = json!({"code": "X1", "name_vi": "x", "name_en": "x", "kind": "count", "numerator": "figure:nope"});
    let res = app.json(Method::POST, "/api/v1/indicators", Some(bad), Some(&admin)).await;
    res.assert_error(StatusCode::UNPROCESSABLE_ENTITY, "indicator-term-invalid");
    for (term, code) in [
        ("reached:vneid_l2:activated@group:astronaut", "indicator-term-unknown"),
        ("reached:citizen_app:installed@sex:f", "indicator-term-unknown"),
        ("reached:vneid_l2:activated@age:99-1", "indicator-term-invalid"),
    ] {
        let bad = json!({"code": "X2", "name_vi": "x", "name_en": "x", "kind": "count", "numerator": term});
        let res = app.json(Method::POST, "/api/v1/indicators", Some(bad), Some(&admin)).await;
        res.assert_error(StatusCode::UNPROCESSABLE_ENTITY, code);
    }
    let list = app.json(Method::GET, "/api/v1/indicators", None, Some(&admin)).await.json();
    assert_eq!(list.as_array().unwrap().len(), 25, "the defaults, the programme's among them");
    app.login("quan.tri").await;
    let res = app.get("/app/indicators").await;
    assert!(res.body.contains("(figure:visits_met) ÷ (figure:visits)"), "{}", res.body);
}

/// The unit page as a dashboard: the units below compared on an indicator and ranked, the
/// table of units below sorted, the visits of recent months as a chart with words, the teams
/// needing attention; bad choices refused with their field.
async fn the_dashboard_compares_sorts_and_flags(app: &mut TestApp) {
    let t = app.tree().await;
    app.user("so.tt", Role::Officer, Some(&t.province)).await;
    let token = app.token("so.tt").await;
    let set = json!({"dataValues": [
        {"dataElement": "HEALTH_FEES_CASHLESS", "period": "202410", "orgUnit": "28414", "value": "10"},
        {"dataElement": "HEALTH_FEES_TOTAL", "period": "202410", "orgUnit": "28414", "value": "100"},
        {"dataElement": "HEALTH_FEES_CASHLESS", "period": "202410", "orgUnit": "27700", "value": "90"},
        {"dataElement": "HEALTH_FEES_TOTAL", "period": "202410", "orgUnit": "27700", "value": "100"},
    ]});
    let res = app.json(Method::POST, "/api/v1/dataValueSets", Some(set), Some(&token)).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    // A team of one in hamlet A: too small.
    let team = ngoso_store::teams::create(&app.db, t.hamlet_a.id, "Tổ CNSCĐ Ấp 1").await.unwrap();
    let m = ngoso_store::teams::NewMember {
        full_name: "Nguyễn Văn An",
        role: "leader",
        affiliation: "police",
        phone: None,
        joined_on: chrono::NaiveDate::from_ymd_opt(2024, 1, 1).unwrap(),
        user_id: None,
    };
    ngoso_store::teams::add_member(&app.db, team, &m).await.unwrap();
    for i in 0..3 {
        let h = ngoso_store::households::NewHousehold {
            unit_id: t.hamlet_b.id,
            code: format!("B-{i}"),
            address: None,
            head_name: None,
            size: 2,
            smartphones: 1,
            barriers: Default::default(),
            consent: None,
        };
        ngoso_store::households::create(&app.db, &h, None).await.unwrap();
    }
    app.login("so.tt").await;
    let page = |q: &str| format!("/app/units/{}?period=2024Q4{q}", t.province.id);
    let res = app.get(&page("&compare=HEALTH_FEES_CASHLESS_SHARE")).await;
    assert_eq!(res.status, StatusCode::OK);
    let bars = res.body.split("<ul class=\"bars\"").nth(1).unwrap().split("</ul>").next().unwrap();
    let (a, b) = (bars.find("Cần Giuộc").unwrap(), bars.find("Tân Hưng").unwrap());
    assert!(b < a, "Tân Hưng (90 %) before Cần Giuộc (10 %): {bars}");
    assert!(bars.contains("90,0 %") && bars.contains("width=\"90\""), "{bars}");
    let res = app.get(&page("&compare=HEALTH_FEES_CASHLESS_SHARE&rank=name")).await;
    let bars = res.body.split("<ul class=\"bars\"").nth(1).unwrap().split("</ul>").next().unwrap();
    assert!(bars.find("Cần Giuộc").unwrap() < bars.find("Tân Hưng").unwrap(), "by name: {bars}");
    // The table of units below, sorted by households (Tân Hưng has them all).
    let res = app.get(&page("&sort=households")).await;
    let table = res.body.split("id=\"children-table\"").nth(1).unwrap();
    assert!(table.find("Tân Hưng").unwrap() < table.find("Cần Giuộc").unwrap(), "{table}");
    assert!(table.contains("sort=households#children-table\" aria-current=\"true\""));
    // The teams needing attention.
    assert!(res.body.contains("Tổ CNSCĐ Ấp 1") && res.body.contains("Ít thành viên hơn mức tối thiểu"), "{}", res.body);
    // Bad choices: refused, naming the field.
    let res = app.get(&page("&sort=password")).await;
    res.assert_error(StatusCode::UNPROCESSABLE_ENTITY, "sort-invalid");
    let res = app.get(&page("&compare=NOPE")).await;
    res.assert_error(StatusCode::UNPROCESSABLE_ENTITY, "indicator-unknown");
    let res = app.get(&page("&rank=up")).await;
    res.assert_error(StatusCode::UNPROCESSABLE_ENTITY, "sort-invalid");
}

http_tests!(shares_are_summed_from_parts, indicators_are_defined_in_data, the_dashboard_compares_sorts_and_flags);
