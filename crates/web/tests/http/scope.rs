//! A scoped officer cannot read or change a unit outside their subtree, through pages and
//! the API alike; inside it, they can do what their role allows.

use axum::http::{Method, StatusCode};
use ngoso_core::auth::Role;
use serde_json::json;

use crate::http_tests;
use crate::support::TestApp;

async fn officer_pages_stay_inside_the_commune(app: &mut TestApp) {
    let t = app.tree().await;
    app.user("canbo.xa", Role::Officer, Some(&t.commune_a)).await;
    assert_eq!(app.login("canbo.xa").await.status, StatusCode::SEE_OTHER);

    // The top of their tree is their commune; nothing of the other district shows.
    let top = app.get("/app/units").await;
    assert_eq!(top.status, StatusCode::OK);
    assert!(top.body.contains("Xã Phước Lý"));
    assert!(!top.body.contains("Long An") && !top.body.contains("Tân Hưng") && !top.body.contains("Vĩnh Lợi"));
    let search = app.get("/app/units?q=ap").await;
    assert!(search.body.contains("Ấp 1") && !search.body.contains("Bình Hòa"), "{}", search.body);

    // Inside: readable; the breadcrumbs stop at their scope.
    let own = app.get(&format!("/app/units/{}", t.hamlet_a.id)).await;
    assert_eq!(own.status, StatusCode::OK);
    assert!(own.body.contains("Xã Phước Lý") && !own.body.contains("Cần Giuộc"));

    // Outside, and above: not found, for every page.
    for u in [&t.province, &t.district_a, &t.district_b, &t.commune_b, &t.hamlet_b] {
        for page in ["", "/edit", "/move"] {
            let res = app.get(&format!("/app/units/{}{page}", u.id)).await;
            assert_eq!(res.status, StatusCode::NOT_FOUND, "GET /app/units/{}{page}", u.id);
            assert!(!res.body.contains(&u.name), "the name of an outside unit leaks: {}", u.name);
        }
        let res = app.get(&format!("/app/units/new?parent={}", u.id)).await;
        res.assert_error(StatusCode::NOT_FOUND, "not-found");
    }

    // Changing an outside unit through the forms fails and changes nothing.
    let csrf = app.csrf("/app/units").await;
    let res = app
        .post_form(
            &format!("/app/units/{}/edit", t.hamlet_b.id),
            &[("csrf", &csrf), ("name", "Hacked"), ("kind", "ấp")],
        )
        .await;
    assert_eq!(res.status, StatusCode::NOT_FOUND);
    let res = app
        .post_form(&format!("/app/units/{}/move", t.hamlet_b.id), &[("csrf", &csrf), ("parent_code", "28414")])
        .await;
    res.assert_error(StatusCode::NOT_FOUND, "not-found");
    let res = app
        .post_form(
            &format!("/app/units/new?parent={}", t.commune_b.id),
            &[("csrf", &csrf), ("code", "X1"), ("name", "x"), ("kind", "ấp")],
        )
        .await;
    res.assert_error(StatusCode::NOT_FOUND, "not-found");
    // Moving their own hamlet into another commune: that commune does not exist for them.
    let res = app
        .post_form(&format!("/app/units/{}/move", t.hamlet_a.id), &[("csrf", &csrf), ("parent_code", "27700")])
        .await;
    res.assert_notice(StatusCode::UNPROCESSABLE_ENTITY, "Không tìm thấy đơn vị cấp trên “27700”.");
    let hb = ngoso_store::units::get(&app.db, t.hamlet_b.id).await.unwrap();
    assert_eq!(hb, t.hamlet_b);
    let ha = ngoso_store::units::get(&app.db, t.hamlet_a.id).await.unwrap();
    assert_eq!(ha.parent_id, Some(t.commune_a.id));

    // Their own commune: visible but not theirs to rename.
    let res = app.get(&format!("/app/units/{}/edit", t.commune_a.id)).await;
    res.assert_error(StatusCode::FORBIDDEN, "forbidden");
    // Below it: they add and rename hamlets.
    let res = app
        .post_form(
            &format!("/app/units/new?parent={}", t.commune_a.id),
            &[("csrf", &csrf), ("code", "28414-02"), ("name", "Ấp 2"), ("kind", "ấp")],
        )
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
    let res = app
        .post_form(
            &format!("/app/units/{}/edit", t.hamlet_a.id),
            &[("csrf", &csrf), ("name", "Ấp Một"), ("kind", "ấp")],
        )
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER);
    assert_eq!(ngoso_store::units::get(&app.db, t.hamlet_a.id).await.unwrap().name, "Ấp Một");
}

async fn officer_api_stays_inside_the_commune(app: &mut TestApp) {
    let t = app.tree().await;
    app.user("canbo.xa", Role::Officer, Some(&t.commune_a)).await;
    let tok = app.token("canbo.xa").await;
    let tok = Some(tok.as_str());

    let res = app.json(Method::GET, "/api/v1/units", None, tok).await;
    let codes: Vec<String> =
        res.json()["units"].as_array().unwrap().iter().map(|u| u["code"].as_str().unwrap().to_owned()).collect();
    assert_eq!(codes, vec!["28414"]);
    let res = app.json(Method::GET, "/api/v1/units?q=ap", None, tok).await;
    assert_eq!(res.json()["units"].as_array().unwrap().len(), 1);

    for u in [&t.province, &t.district_a, &t.district_b, &t.commune_b, &t.hamlet_b] {
        let res = app.json(Method::GET, &format!("/api/v1/units/{}", u.id), None, tok).await;
        assert_eq!(res.status, StatusCode::NOT_FOUND);
        assert_eq!(res.json()["error"]["code"], "not-found");
        let res = app.json(Method::GET, &format!("/api/v1/units/by-code/{}", u.code), None, tok).await;
        res.assert_error(StatusCode::NOT_FOUND, "not-found");
        let res = app.json(Method::GET, &format!("/api/v1/units?parent={}", u.id), None, tok).await;
        res.assert_error(StatusCode::NOT_FOUND, "not-found");
        let res =
            app.json(Method::PATCH, &format!("/api/v1/units/{}", u.id), Some(json!({"name": "Hacked"})), tok).await;
        res.assert_error(StatusCode::NOT_FOUND, "not-found");
        let res = app
            .json(
                Method::POST,
                "/api/v1/units",
                Some(json!({"code": "Z9", "name": "z", "kind": "ấp", "parent_id": u.id})),
                tok,
            )
            .await;
        assert!(matches!(res.status, StatusCode::NOT_FOUND | StatusCode::UNPROCESSABLE_ENTITY), "{}", res.status);
    }
    // A new root is not theirs to make.
    let res =
        app.json(Method::POST, "/api/v1/units", Some(json!({"code": "Z8", "name": "z", "kind": "tỉnh"})), tok).await;
    res.assert_error(StatusCode::FORBIDDEN, "forbidden");
    // Moving their hamlet out of their commune, or their commune anywhere: refused.
    let res = app
        .json(Method::PATCH, &format!("/api/v1/units/{}", t.hamlet_a.id), Some(json!({"parent_code": "27700"})), tok)
        .await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    let res = app
        .json(Method::PATCH, &format!("/api/v1/units/{}", t.hamlet_a.id), Some(json!({"parent_code": ""})), tok)
        .await;
    res.assert_error(StatusCode::FORBIDDEN, "forbidden");
    let res =
        app.json(Method::PATCH, &format!("/api/v1/units/{}", t.commune_a.id), Some(json!({"name": "X"})), tok).await;
    res.assert_error(StatusCode::FORBIDDEN, "forbidden");
    assert_eq!(ngoso_store::units::count(&app.db).await.unwrap(), 7);
    assert_eq!(ngoso_store::units::get(&app.db, t.hamlet_b.id).await.unwrap(), t.hamlet_b);

    // Inside, below their commune: allowed.
    let res = app
        .json(
            Method::POST,
            "/api/v1/units",
            Some(json!({"code": "28414-02", "name": "Ấp 2", "kind": "ấp", "parent_code": "28414"})),
            tok,
        )
        .await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.body);
    let new_id = res.json()["id"].as_i64().unwrap();
    assert_eq!(res.location(), format!("/api/v1/units/{new_id}"));
    let res = app
        .json(Method::PATCH, &format!("/api/v1/units/{}", t.hamlet_a.id), Some(json!({"parent_code": "28414-02"})), tok)
        .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    assert_eq!(res.json()["depth"], 4);
}

async fn viewers_and_members_cannot_change_units(app: &mut TestApp) {
    let t = app.tree().await;
    app.user("xem", Role::Viewer, Some(&t.province)).await;
    app.user("thanhvien", Role::Member, Some(&t.commune_a)).await;
    for who in ["xem", "thanhvien"] {
        let tok = app.token(who).await;
        let res = app
            .json(Method::PATCH, &format!("/api/v1/units/{}", t.hamlet_a.id), Some(json!({"name": "X"})), Some(&tok))
            .await;
        assert_eq!(res.status, StatusCode::FORBIDDEN, "{who}");
        let res = app
            .json(
                Method::POST,
                "/api/v1/units",
                Some(json!({"code": "Q1", "name": "q", "kind": "ấp", "parent_id": t.hamlet_a.id})),
                Some(&tok),
            )
            .await;
        assert_eq!(res.status, StatusCode::FORBIDDEN, "{who}");
        let res = app.json(Method::GET, &format!("/api/v1/units/{}", t.hamlet_a.id), None, Some(&tok)).await;
        assert_eq!(res.status, StatusCode::OK, "{who}");
    }
    // The province viewer sees everything below the province.
    let tok = app.token("xem").await;
    let res = app.json(Method::GET, &format!("/api/v1/units/{}", t.hamlet_b.id), None, Some(&tok)).await;
    assert_eq!(res.status, StatusCode::OK);
    let ancestors: Vec<String> =
        res.json()["ancestors"].as_array().unwrap().iter().map(|a| a["code"].as_str().unwrap().to_owned()).collect();
    assert_eq!(ancestors, vec!["80", "794", "27700"]);
}

http_tests!(
    officer_pages_stay_inside_the_commune,
    officer_api_stays_inside_the_commune,
    viewers_and_members_cannot_change_units
);
