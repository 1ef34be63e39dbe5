//! The administrative tree through the pages and the API, as an administrator.

use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use ngoso_core::auth::Role;
use serde_json::json;

use crate::http_tests;
use crate::support::TestApp;

async fn admin_builds_a_tree_through_the_pages(app: &mut TestApp) {
    app.user("admin", Role::Admin, None).await;
    app.login("admin").await;
    let csrf = app.csrf("/app/units").await;

    let res = app
        .post_form("/app/units/new", &[("csrf", &csrf), ("code", "80"), ("name", "Long An"), ("kind", "tỉnh")])
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
    let province = res.location().trim_start_matches("/app/units/").split('?').next().unwrap().to_owned();

    // Children, typed with decomposed accents and an emoji, in an order that is not the
    // alphabet's.
    for (code, name) in [
        ("808", "Đức Hòa"),
        ("806", "Bến Lức"),
        ("807", "Ca\u{302}\u{300}n Giuo\u{323}\u{302}c 🌾"),
        ("805", "Zô"),
        ("804", "Ân Thi"),
    ] {
        let res = app
            .post_form(
                &format!("/app/units/new?parent={province}"),
                &[("csrf", &csrf), ("code", code), ("name", name), ("kind", "huyện")],
            )
            .await;
        assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
    }
    let page = app.get(&format!("/app/units/{province}")).await;
    assert_eq!(page.status, StatusCode::OK);
    let pos = |s: &str| page.body.find(s).unwrap_or_else(|| panic!("{s} missing: {}", page.body));
    assert!(pos("Ân Thi") < pos("Bến Lức"));
    assert!(pos("Bến Lức") < pos("Cần Giuộc 🌾"));
    assert!(pos("Cần Giuộc 🌾") < pos("Đức Hòa"));
    assert!(pos("Đức Hòa") < pos("Zô"));
    let stored = ngoso_store::units::by_code(&app.db, "807").await.unwrap();
    assert_eq!(stored.name, "Cần Giuộc 🌾", "stored NFC, emoji kept");

    // A bad form comes back with the values typed and a message; nothing is written.
    let before = ngoso_store::units::count(&app.db).await.unwrap();
    let res = app
        .post_form(
            &format!("/app/units/new?parent={province}"),
            &[("csrf", &csrf), ("code", "80"), ("name", "Trùng mã"), ("kind", "huyện")],
        )
        .await;
    assert_eq!(res.status, StatusCode::CONFLICT);
    assert!(res.body.contains("Mã đơn vị 80 đã có") && res.body.contains("Trùng mã"), "{}", res.body);
    let res = app
        .post_form(
            &format!("/app/units/new?parent={province}"),
            &[("csrf", &csrf), ("code", "bad code"), ("name", "X"), ("kind", "huyện")],
        )
        .await;
    res.assert_notice(
        StatusCode::UNPROCESSABLE_ENTITY,
        "Mã đơn vị “bad code” không hợp lệ: chỉ dùng chữ, số và dấu - _ . (tối đa 32 ký tự).",
    );
    let res = app
        .post_form(
            &format!("/app/units/new?parent={province}"),
            &[
                ("csrf", &csrf),
                ("code", "809"),
                ("name", "X"),
                ("kind", "huyện"),
                ("valid_from", "2025-07-01"),
                ("valid_to", "2020-01-01"),
            ],
        )
        .await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(res.body.contains("Ngày hết hiệu lực phải sau"));
    assert_eq!(ngoso_store::units::count(&app.db).await.unwrap(), before);

    // Rename, and move a district with its subtree.
    let duc_hoa = ngoso_store::units::by_code(&app.db, "808").await.unwrap();
    let can_giuoc = ngoso_store::units::by_code(&app.db, "807").await.unwrap();
    let res = app
        .post_form(
            &format!("/app/units/{}/edit", duc_hoa.id),
            &[("csrf", &csrf), ("name", "Huyện Đức Hòa"), ("kind", "huyện")],
        )
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER);
    let res =
        app.post_form(&format!("/app/units/{}/move", duc_hoa.id), &[("csrf", &csrf), ("parent_code", "807")]).await;
    assert_eq!(res.status, StatusCode::SEE_OTHER);
    let moved = ngoso_store::units::get(&app.db, duc_hoa.id).await.unwrap();
    assert_eq!(moved.parent_id, Some(can_giuoc.id));
    assert_eq!(moved.name, "Huyện Đức Hòa");
    // A move into its own subtree is refused on the form.
    let res =
        app.post_form(&format!("/app/units/{}/move", can_giuoc.id), &[("csrf", &csrf), ("parent_code", "808")]).await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(res.body.contains("808"));

    // The unit page shows breadcrumbs and the saved notice.
    let page = app.get(&format!("/app/units/{}?saved=1", duc_hoa.id)).await;
    assert!(page.body.contains("Đã lưu") && page.body.contains("Cần Giuộc 🌾") && page.body.contains("Long An"));
    // In English too.
    let page = app.get(&format!("/app/units/{}?lang=en", duc_hoa.id)).await;
    assert!(page.body.contains("Administrative units") && page.body.contains("<html lang=\"en\">"));

    // Every change is in the audit log.
    let log = ngoso_store::audit::list(&app.db, Some(("unit", &duc_hoa.id.to_string())), 10).await.unwrap();
    let actions: Vec<&str> = log.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(actions, vec!["unit.move", "unit.rename", "unit.create"]);
}

async fn api_creates_reads_and_updates_units(app: &mut TestApp) {
    app.user("admin", Role::Admin, None).await;
    let tok = app.token("admin").await;
    let tok = Some(tok.as_str());
    let res = app
        .json(Method::POST, "/api/v1/units", Some(json!({"code": "80", "name": "Long An", "kind": "tỉnh"})), tok)
        .await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.body);
    let province = res.json()["id"].as_i64().unwrap();
    let res = app
        .json(
            Method::POST,
            "/api/v1/units",
            Some(json!({"code": "807", "name": "Cần Giuộc", "kind": "huyện", "parent_id": province, "valid_from": "2004-01-01", "valid_to": "2025-07-01"})),
            tok,
        )
        .await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.body);
    let d = res.json();
    assert_eq!(d["valid_to"], "2025-07-01");
    assert_eq!(d["path"], format!("/{province}/{}/", d["id"]));

    let res = app.json(Method::GET, &format!("/api/v1/units/{province}"), None, tok).await;
    let body = res.json();
    assert_eq!(body["unit"]["code"], "80");
    assert_eq!(body["children"].as_array().unwrap().len(), 0, "Cần Giuộc closed on 2025-07-01: no child today");
    assert_eq!(body["subtree_size"], 2);
    let district = d["id"].as_i64().unwrap();

    let res = app.json(Method::GET, "/api/v1/units?q=CAN%20GIUOC", None, tok).await;
    assert_eq!(res.json()["units"][0]["code"], "807");
    let res = app.json(Method::GET, "/api/v1/units/by-code/807", None, tok).await;
    assert_eq!(res.status, StatusCode::OK);

    // Bad input: 4xx with a stable code, and nothing changes.
    let res =
        app.json(Method::POST, "/api/v1/units", Some(json!({"code": "80", "name": "Dup", "kind": "tỉnh"})), tok).await;
    assert_eq!(res.status, StatusCode::CONFLICT);
    assert_eq!(res.json()["error"]["code"], "unit-code-exists");
    let res =
        app.json(Method::POST, "/api/v1/units", Some(json!({"code": "81", "name": "   ", "kind": "tỉnh"})), tok).await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(res.json()["error"]["code"], "required");
    assert_eq!(res.json()["error"]["field"], "name");
    let res = app
        .json(
            Method::POST,
            "/api/v1/units",
            Some(json!({"code": "82", "name": "x", "kind": "xã", "parent_code": "nope"})),
            tok,
        )
        .await;
    assert_eq!(res.json()["error"]["code"], "unit-parent-unknown");
    let res = app.json(Method::POST, "/api/v1/units", Some(json!({"code": 5, "name": "x"})), tok).await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(res.json()["error"]["code"], "invalid-json-data");
    let res = app
        .json(
            Method::PATCH,
            &format!("/api/v1/units/{province}"),
            Some(json!({"name": "Tây Ninh", "parent_code": "807"})),
            tok,
        )
        .await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(res.json()["error"]["code"], "unit-move-cycle");
    assert_eq!(
        ngoso_store::units::get(&app.db, province).await.unwrap().name,
        "Long An",
        "a refused PATCH changes nothing"
    );
    assert_eq!(ngoso_store::units::count(&app.db).await.unwrap(), 2);

    let res =
        app.json(Method::PATCH, &format!("/api/v1/units/{province}"), Some(json!({"name": "Tây Ninh ✨"})), tok).await;
    assert_eq!(res.status, StatusCode::OK);
    assert_eq!(res.json()["name"], "Tây Ninh ✨");

    // The tree as it stood on a day; a successor recorded once, shown both ways.
    let on = |day: &str| format!("/api/v1/units?parent={province}&on={day}");
    let res = app.json(Method::GET, &on("2025-06-30"), None, tok).await;
    assert_eq!(res.json()["units"][0]["code"], "807", "{}", res.body);
    let res = app.json(Method::GET, &on("2025-07-01"), None, tok).await;
    assert_eq!(res.json()["units"].as_array().unwrap().len(), 0);
    app.json(Method::GET, &on("2025-13-40"), None, tok)
        .await
        .assert_error(StatusCode::UNPROCESSABLE_ENTITY, "date-invalid");
    let new =
        json!({"code": "27700", "name": "Phước Lý", "kind": "xã", "parent_id": province, "valid_from": "2025-07-01"});
    let res = app.json(Method::POST, "/api/v1/units", Some(new), tok).await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.body);
    let commune = res.json()["id"].as_i64().unwrap();
    let link = |id: i64| json!({"successor_id": id});
    let url = format!("/api/v1/units/{district}/successors");
    for _ in 0..2 {
        let res = app.json(Method::POST, &url, Some(link(commune)), tok).await;
        assert_eq!(res.status, StatusCode::NO_CONTENT, "{}", res.body);
    }
    app.json(Method::POST, &url, Some(link(district)), tok)
        .await
        .assert_error(StatusCode::UNPROCESSABLE_ENTITY, "unit-successor-self");
    let early =
        json!({"code": "27701", "name": "Sớm", "kind": "xã", "parent_id": province, "valid_from": "2025-01-01"});
    let early = app.json(Method::POST, "/api/v1/units", Some(early), tok).await.json()["id"].as_i64().unwrap();
    app.json(Method::POST, &url, Some(link(early)), tok)
        .await
        .assert_error(StatusCode::UNPROCESSABLE_ENTITY, "unit-successor-overlap");
    let old = app.json(Method::GET, &format!("/api/v1/units/{district}"), None, tok).await.json();
    assert_eq!((old["closed"].as_bool(), old["successors"][0]["code"].as_str()), (Some(true), Some("27700")));
    assert_eq!(old["successors"].as_array().unwrap().len(), 1, "recorded once");
    let new = app.json(Method::GET, &format!("/api/v1/units/{commune}"), None, tok).await.json();
    assert_eq!((new["closed"].as_bool(), new["predecessors"][0]["code"].as_str()), (Some(false), Some("807")));

    // The pages: the closed unit says so and links on; the province's units below are those
    // of the period's tree (2024: Cần Giuộc; this year: Phước Lý).
    app.login("admin").await;
    let page = app.get(&format!("/app/units/{district}")).await;
    assert!(page.body.contains("Đơn vị này đã giải thể từ ngày"), "{}", page.body);
    assert!(page.body.contains(&format!("<a href=\"/app/units/{commune}\">Phước Lý</a>")));
    let page = app.get(&format!("/app/units/{commune}")).await;
    assert!(
        page.body.contains("Hình thành từ")
            && page.body.contains(&format!("<a href=\"/app/units/{district}\">Cần Giuộc</a>"))
    );
    let page = app.get(&format!("/app/units/{province}?period=2024")).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("Các đơn vị trực thuộc như ngày") && page.body.contains(">Cần Giuộc<"), "{}", page.body);
    assert!(!page.body.contains(">Phước Lý<"));
    let page = app.get(&format!("/app/units/{province}")).await;
    assert!(page.body.contains(">Phước Lý<") && !page.body.contains(">Cần Giuộc<"));
}

http_tests!(admin_builds_a_tree_through_the_pages, api_creates_reads_and_updates_units);

async fn post_mapping(app: &mut TestApp, tok: &str, query: &str, csv: &str) -> crate::support::Res {
    let req = Request::post(format!("/api/v1/units/restructure?{query}"))
        .header(header::CONTENT_TYPE, "text/csv; charset=utf-8")
        .header(header::AUTHORIZATION, format!("Bearer {tok}"))
        .body(Body::from(csv.to_owned()))
        .unwrap();
    app.send(req).await
}

/// A restructuring through the API and the page: a dry run changes nothing, a bad mapping is
/// refused with its row, the run closes and opens units and moves households, a hamlet of a
/// split commune waits until an officer places it; only those who manage the units may.
async fn restructuring_by_api_and_page(app: &mut TestApp) {
    use ngoso_core::outreach::Barriers;
    use ngoso_store::households::{self, NewHousehold};
    let t = app.tree().await;
    app.user("admin", Role::Admin, None).await;
    app.user("xa.phuoc.ly", Role::Admin, Some(&t.commune_a)).await;
    let tok = app.token("admin").await;
    for (i, h) in [&t.hamlet_a, &t.hamlet_b].iter().enumerate() {
        let nh = NewHousehold {
            unit_id: h.id,
            code: format!("H-{i}"),
            address: None,
            head_name: None,
            size: 3,
            smartphones: 1,
            barriers: Barriers::default(),
            consent: None,
        };
        households::create(&app.db, &nh, None).await.unwrap();
    }
    let mapping = "old_code,new_code,new_name,new_kind,new_parent_code\n\
                   ,80,Tây Ninh,tỉnh,\n\
                   28414,27715,Xã Cần Giuộc,xã,80\n\
                   27700,27703,Xã Vĩnh Lợi,xã,80\n\
                   27700,27706,Xã Hưng Điền,xã,80\n";
    let before = ngoso_store::units::count(&app.db).await.unwrap();
    let res = post_mapping(app, &tok, "on=2025-07-01&dryRun=true", mapping).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    let s = res.json();
    assert_eq!((s["closed"].as_array().unwrap().len(), s["opened"].as_array().unwrap().len()), (7, 4), "{s}");
    assert_eq!(s["households_moved"], 1);
    assert_eq!(ngoso_store::units::count(&app.db).await.unwrap(), before, "a dry run writes nothing");

    // Refused whole, the row named.
    let bad = format!("{mapping}99999,27703\n");
    let res = post_mapping(app, &tok, "on=2025-07-01", &bad).await;
    res.assert_error(StatusCode::UNPROCESSABLE_ENTITY, "restructure-old-unknown");
    assert_eq!(res.json()["error"]["row"], 6);
    post_mapping(app, &tok, "on=2025-07-15", mapping)
        .await
        .assert_error(StatusCode::UNPROCESSABLE_ENTITY, "restructure-day-not-first");
    assert_eq!(ngoso_store::units::count(&app.db).await.unwrap(), before);
    // A commune's administrator cannot restructure the province.
    let small = app.token("xa.phuoc.ly").await;
    post_mapping(app, &small, "on=2025-07-01", mapping).await.assert_error(StatusCode::FORBIDDEN, "forbidden");

    let res = post_mapping(app, &tok, "on=2025-07-01", mapping).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    assert_eq!(ngoso_store::units::count(&app.db).await.unwrap(), before + 5, "4 opened, 1 hamlet made again");
    let waiting = app.json(Method::GET, "/api/v1/units/toPlace", None, Some(&tok)).await.json();
    assert_eq!(waiting[0]["unit"]["code"], "27700-01", "{waiting}");
    assert_eq!(waiting[0]["households"], 1);
    let to = waiting[0]["candidates"][1]["id"].as_i64().unwrap();
    assert_eq!(waiting[0]["candidates"][1]["code"], "27706");

    // The page lists it; placing it there empties the list.
    app.login("admin").await;
    let page = app.get("/app/units/restructure").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("Hộ chờ xếp: 1") && page.body.contains("Ấp Bình Hòa"), "{}", page.body);
    let csrf = app.csrf("/app/units/restructure").await;
    let res = app
        .post_form(&format!("/app/units/{}/place", t.hamlet_b.id), &[("csrf", &csrf), ("parent_id", &to.to_string())])
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
    let waiting = app.json(Method::GET, "/api/v1/units/toPlace", None, Some(&tok)).await.json();
    assert_eq!(waiting.as_array().unwrap().len(), 0);
    let res = app
        .json(
            Method::POST,
            &format!("/api/v1/units/{}/place", t.hamlet_b.id),
            Some(json!({"parent_id": to})),
            Some(&tok),
        )
        .await;
    res.assert_error(StatusCode::UNPROCESSABLE_ENTITY, "restructure-place-placed");
    // Applied again from the page: nothing changes.
    let res =
        app.post_form("/app/units/restructure", &[("csrf", &csrf), ("on", "2025-07-01"), ("mapping", mapping)]).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    assert!(res.body.contains("đã được áp dụng"), "{}", res.body);
    let list = app.json(Method::GET, "/api/v1/units/restructurings", None, Some(&tok)).await.json();
    assert_eq!(list.as_array().unwrap().len(), 2, "the restructuring and the placement");
    assert_eq!(ngoso_store::check::run(&app.db).await.unwrap(), Vec::<String>::new());
}

http_tests!(restructuring_by_api_and_page);
