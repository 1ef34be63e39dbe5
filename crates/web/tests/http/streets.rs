//! Digital streets and heritage routes: a route's places managed by the model's unit, their
//! public pages (light, no login), the scans of their QR plaques counted, and the plaques
//! themselves (SVG and PDF, A6) read back with a QR reader to the page's address.

use axum::http::{Method, StatusCode};
use ngoso_core::auth::Role;
use serde_json::{Value, json};

use crate::http_tests;
use crate::support::TestApp;

fn place(name: &str, kind: &str) -> Value {
    json!({"kind": kind, "name": name, "address": "Chợ Cần Giuộc, ấp Chợ", "opening_hours": "6:00–18:00 hằng ngày",
        "cashless_how": "VietQR, thẻ ngân hàng", "description": "Bán rau, cá tươi.\nCó mã QR ở quầy.",
        "history": "Sạp của gia đình từ 1985."})
}

async fn places_count(app: &TestApp) -> i64 {
    ngoso_store::on_db!(&app.db, p => sqlx::query_scalar("SELECT COUNT(*) FROM route_places").fetch_one(p).await)
        .unwrap()
}

/// Reads the QR code drawn by dark rectangles (x, y, w, h in a page's units, y down) on a
/// white page `w` × `h` units, rasterised at `scale` pixels a unit.
fn read_qr(rects: &[(f32, f32, f32, f32)], w: f32, h: f32, scale: f32) -> String {
    let (pw, ph) = ((w * scale) as usize, (h * scale) as usize);
    let mut img = vec![255u8; pw * ph];
    for (x, y, rw, rh) in rects {
        let (x0, y0) = ((x * scale).round() as usize, (y * scale).round() as usize);
        let (x1, y1) = (((x + rw) * scale).round() as usize, ((y + rh) * scale).round() as usize);
        for yy in y0..y1.min(ph) {
            for xx in x0..x1.min(pw) {
                img[yy * pw + xx] = 0;
            }
        }
    }
    let mut prepared = rqrr::PreparedImage::prepare_from_greyscale(pw, ph, |x, y| img[y * pw + x]);
    let grids = prepared.detect_grids();
    assert_eq!(grids.len(), 1, "one QR code on the plaque");
    grids[0].decode().expect("the QR code reads").1
}

/// The QR code of an SVG plaque: its `qr` path of `M x y h w v h h-w z` squares, in mm.
fn svg_qr(svg: &str) -> String {
    let doc = roxmltree::Document::parse(svg).expect("the plaque is well-formed SVG");
    let root = doc.root_element();
    assert_eq!(root.attribute("width"), Some("105mm"));
    assert_eq!(root.attribute("height"), Some("148mm"));
    let d = doc.descendants().find(|n| n.attribute("id") == Some("qr")).unwrap().attribute("d").unwrap();
    let mut rects = Vec::new();
    for part in d.split('M').filter(|s| !s.is_empty()) {
        let nums: Vec<f32> = part
            .split(|c: char| c == ' ' || c.is_ascii_alphabetic())
            .filter(|s| !s.is_empty())
            .map(|s| s.parse().unwrap())
            .collect();
        rects.push((nums[0], nums[1], nums[2], nums[3]));
    }
    read_qr(&rects, 105.0, 148.0, 6.0)
}

/// The QR code of a PDF plaque's first page: its `x y w h re` rectangles after `% qr`, in
/// points with the y axis up.
fn pdf_qr(pdf: &[u8]) -> String {
    let text = String::from_utf8_lossy(pdf);
    assert!(text.starts_with("%PDF-1.4"));
    assert!(text.contains("/MediaBox [0 0 297.64 419.53]"), "A6");
    let (w, h) = (297.64, 419.53);
    let qr = text.split("% qr\n").nth(1).expect("a QR code on the page");
    let mut rects = Vec::new();
    for line in qr.lines().take_while(|l| l.ends_with(" re")) {
        let n: Vec<f32> = line.split_whitespace().take(4).map(|s| s.parse().unwrap()).collect();
        rects.push((n[0], h - n[1] - n[3], n[2], n[3]));
    }
    read_qr(&rects, w, h, 2.2)
}

async fn routes_places_pages_and_plaques(app: &mut TestApp) {
    let t = app.tree().await;
    app.user("canbo.a", Role::Officer, Some(&t.commune_a)).await;
    app.user("canbo.b", Role::Officer, Some(&t.commune_b)).await;
    let a = app.token("canbo.a").await;
    let b = app.token("canbo.b").await;
    let street =
        json!({"unit": "28414", "kind": "digital_street", "name": "Tuyến phố số chợ Cần Giuộc", "status": "running"});
    let res = app.json(Method::POST, "/api/v1/models", Some(street), Some(&a)).await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.body);
    let id = res.json()["id"].as_i64().unwrap();

    // Three places, in the order added; bad input refused whole, by anyone not of the unit too.
    let mut ids = Vec::new();
    for (name, kind) in
        [("Sạp cá cô Ba 🐟", "market_stall"), ("Tiệm tạp hoá Hai Lúa", "shop"), ("Đình Long Hựu", "relic")]
    {
        let res =
            app.json(Method::POST, &format!("/api/v1/models/{id}/places"), Some(place(name, kind)), Some(&a)).await;
        assert_eq!(res.status, StatusCode::CREATED, "{}", res.body);
        ids.push(res.json()["id"].as_i64().unwrap());
    }
    for (field, value, code) in [
        ("kind", json!("castle"), "route-place-kind-invalid"),
        ("name", json!("  "), "required"),
        ("opening_hours", json!("a\u{7}b"), "text-control-chars"),
    ] {
        let mut bad = place("x", "shop");
        bad[field] = value;
        app.json(Method::POST, &format!("/api/v1/models/{id}/places"), Some(bad), Some(&a))
            .await
            .assert_error(StatusCode::UNPROCESSABLE_ENTITY, code);
    }
    app.json(Method::POST, &format!("/api/v1/models/{id}/places"), Some(place("x", "shop")), Some(&b))
        .await
        .assert_error(StatusCode::FORBIDDEN, "forbidden");
    app.json(Method::POST, "/api/v1/models/999999/places", Some(place("x", "shop")), Some(&a))
        .await
        .assert_error(StatusCode::NOT_FOUND, "not-found");
    assert_eq!(places_count(app).await, 3);

    // Listed in order with their public addresses; the relic moved first.
    let res = app
        .json(
            Method::POST,
            &format!("/api/v1/models/{id}/places/{}/move", ids[2]),
            Some(json!({"position": 1})),
            Some(&a),
        )
        .await;
    assert_eq!(res.status, StatusCode::NO_CONTENT, "{}", res.body);
    app.json(
        Method::POST,
        &format!("/api/v1/models/{id}/places/{}/move", ids[2]),
        Some(json!({"position": 0})),
        Some(&a),
    )
    .await
    .assert_error(StatusCode::UNPROCESSABLE_ENTITY, "position-invalid");
    let list = app.json(Method::GET, &format!("/api/v1/models/{id}/places"), None, Some(&b)).await.json();
    let names: Vec<&str> = list.as_array().unwrap().iter().map(|p| p["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["Đình Long Hựu", "Sạp cá cô Ba 🐟", "Tiệm tạp hoá Hai Lúa"]);
    let positions: Vec<i64> = list.as_array().unwrap().iter().map(|p| p["position"].as_i64().unwrap()).collect();
    assert_eq!(positions, [1, 2, 3]);
    let stall = &list[1];
    let code = stall["code"].as_str().unwrap().to_owned();
    assert!(ngoso_core::programme::is_place_code(&code), "{code}");
    assert_eq!(stall["url"], format!("http://localhost/p/{code}"));
    assert_eq!(stall["cashless"], true, "saying how one pays means it is accepted");

    // Edited: the code stays.
    let mut changed = place("Sạp cá cô Ba 🐟", "market_stall");
    changed["opening_hours"] = json!("5:30–12:00");
    let res = app.json(Method::PUT, &format!("/api/v1/models/{id}/places/{}", ids[0]), Some(changed), Some(&a)).await;
    assert_eq!(res.status, StatusCode::NO_CONTENT, "{}", res.body);
    let one = app.json(Method::GET, &format!("/api/v1/models/{id}/places/{}", ids[0]), None, Some(&b)).await.json();
    assert_eq!((one["opening_hours"].as_str(), one["code"].as_str()), (Some("5:30–12:00"), Some(code.as_str())));

    // The public page, with no login: a plaque's scan counted, a plain visit not.
    app.cookies.clear();
    for path in [format!("/p/{code}?s=qr"), format!("/p/{code}?s=qr"), format!("/p/{code}")] {
        let page = app.get(&path).await;
        assert_eq!(page.status, StatusCode::OK);
        assert!(page.body.contains("Sạp cá cô Ba 🐟") && page.body.contains("5:30–12:00"), "{}", page.body);
        assert!(page.body.contains("VietQR, thẻ ngân hàng") && page.body.contains("Sạp của gia đình từ 1985."));
        assert!(page.body.contains("Đình Long Hựu") && page.body.contains("Tiệm tạp hoá Hai Lúa"), "its neighbours");
    }
    let scans: Vec<(i64,)> = ngoso_store::on_db!(&app.db, p => sqlx::query_as("SELECT scans FROM route_place_scans")
        .fetch_all(p).await)
    .unwrap();
    assert_eq!(scans, [(2,)], "one count a day a place, nothing else");
    app.get("/p/nocode").await.assert_error(StatusCode::NOT_FOUND, "not-found");
    app.get("/p/zzzzzz").await.assert_error(StatusCode::NOT_FOUND, "not-found");

    // Light: the page and everything it loads within 50 KB (the photos wait to be asked for).
    let page = app.get(&format!("/p/{code}")).await;
    let mut weight = page.bytes.len();
    for marker in ["<link rel=\"stylesheet\" href=\"", "<script src=\""] {
        for part in page.body.split(marker).skip(1) {
            let url = &part[..part.find('"').unwrap()];
            let res = app.get(url).await;
            assert_eq!(res.status, StatusCode::OK, "{url}");
            weight += res.bytes.len();
        }
    }
    assert!(weight <= 50 * 1024, "the place's page weighs {weight} bytes");

    // The plaques read back to the page's address, which is the place's page.
    let svg = app.get(&format!("/p/{code}/plaque.svg")).await;
    assert_eq!(svg.header("content-type").as_deref(), Some("image/svg+xml"));
    let read = svg_qr(&svg.body);
    assert_eq!(read, format!("http://localhost/p/{code}?s=qr"));
    let path = read.trim_start_matches("http://localhost");
    assert!(app.get(path).await.body.contains("Sạp cá cô Ba 🐟"));
    let a = app.token("canbo.a").await;
    let pdf = app.json(Method::GET, &format!("/api/v1/models/{id}/places/{}/plaque", ids[0]), None, Some(&a)).await;
    assert_eq!(pdf.header("content-type").as_deref(), Some("application/pdf"));
    assert_eq!(pdf_qr(&pdf.bytes), format!("http://localhost/p/{code}?s=qr"));
    let svg = app
        .json(Method::GET, &format!("/api/v1/models/{id}/places/{}/plaque?format=svg", ids[2]), None, Some(&a))
        .await;
    let relic = list[0]["code"].as_str().unwrap();
    assert_eq!(svg_qr(&svg.body), format!("http://localhost/p/{relic}?s=qr"));
    app.json(Method::GET, &format!("/api/v1/models/{id}/places/{}/plaque?format=png", ids[2]), None, Some(&a))
        .await
        .assert_error(StatusCode::UNPROCESSABLE_ENTITY, "format-invalid");
    let all = app.get(&format!("/r/{id}/plaques.pdf")).await;
    assert_eq!(all.status, StatusCode::OK);
    assert!(String::from_utf8_lossy(&all.bytes).contains("/Count 3"), "a page a place");
    assert_eq!(pdf_qr(&all.bytes), format!("http://localhost/p/{relic}?s=qr"), "in the route's order");

    // The route's public page lists its places in order.
    let route = app.get(&format!("/r/{id}")).await;
    let at = |s: &str| route.body.find(s).unwrap_or_else(|| panic!("{s} on {}", route.body));
    assert!(at("Đình Long Hựu") < at("Sạp cá cô Ba 🐟") && at("Sạp cá cô Ba 🐟") < at("Tiệm tạp hoá Hai Lúa"));
    let routes = app.get("/r").await;
    assert!(routes.body.contains(&format!("/r/{id}")) && routes.body.contains("Tuyến phố số chợ Cần Giuộc"));

    // Photos: checked and stripped, published on the page; a bad file refused.
    let jpeg = crate::support::jpeg_with_gps();
    let req = axum::http::Request::post(format!(
        "/api/v1/models/{id}/places/{}/photos?caption=M%E1%BA%B7t%20ti%E1%BB%81n",
        ids[0]
    ))
    .header("authorization", format!("Bearer {a}"))
    .header("content-type", "image/jpeg")
    .body(axum::body::Body::from(jpeg.clone()))
    .unwrap();
    let res = app.send(req).await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.body);
    let photo = res.location();
    app.cookies.clear();
    let got = app.get(&photo).await;
    assert_eq!(got.header("content-type").as_deref(), Some("image/jpeg"));
    assert!(!String::from_utf8_lossy(&got.bytes).contains("GPSLatitude") && got.bytes.len() < jpeg.len(), "stripped");
    assert!(app.get(&format!("/p/{code}")).await.body.contains("Mặt tiền"));
    let bad = axum::http::Request::post(format!("/api/v1/models/{id}/places/{}/photos", ids[0]))
        .header("authorization", format!("Bearer {a}"))
        .body(axum::body::Body::from("GIF89a not a photo"))
        .unwrap();
    app.send(bad).await.assert_error(StatusCode::UNPROCESSABLE_ENTITY, "photo-type");

    // CSV, and the programme's figures: places on routes, scans in the period.
    let csv = app.json(Method::GET, &format!("/api/v1/models/{id}/places?format=csv"), None, Some(&a)).await;
    assert!(csv.body.contains("position,code,url,kind,name") && csv.body.contains("Sạp cá cô Ba 🐟"), "{}", csv.body);
    let today = ngoso_store::teams::today();
    let within = t.province.unit_path();
    let figures = ngoso_store::programme::figures(&app.db, &within, today, today).await.unwrap();
    assert_eq!((figures["places_on_routes"], figures["qr_scans"]), (3, 3), "two scans and the decoded plaque's");
    let public = app.get("/stats/80").await;
    assert!(public.body.contains("Mô hình sáng tạo đang triển khai hoặc đã đánh giá"), "{}", public.body);

    // Removed: its page is gone, the others renumbered; the changes are logged.
    let res = app.json(Method::DELETE, &format!("/api/v1/models/{id}/places/{}", ids[2]), None, Some(&a)).await;
    assert_eq!(res.status, StatusCode::NO_CONTENT);
    app.get(&format!("/p/{relic}")).await.assert_error(StatusCode::NOT_FOUND, "not-found");
    let list = app.json(Method::GET, &format!("/api/v1/models/{id}/places"), None, Some(&a)).await.json();
    assert_eq!(list[0]["position"], 1);
    assert_eq!(list[0]["name"], "Sạp cá cô Ba 🐟");
    let logged: i64 = ngoso_store::on_db!(&app.db, p => sqlx::query_scalar(
        "SELECT COUNT(*) FROM audit_log WHERE action LIKE 'place.%'").fetch_one(p).await)
    .unwrap();
    assert_eq!(logged, 7, "three added, moved, edited, a photo added, one removed");
}

async fn places_managed_from_the_pages(app: &mut TestApp) {
    let t = app.tree().await;
    app.user("canbo.a", Role::Officer, Some(&t.commune_a)).await;
    let a = app.token("canbo.a").await;
    let route = json!({"unit": "28414", "kind": "digital_heritage", "name": "Tuyến di tích Cần Giuộc"});
    let id = app.json(Method::POST, "/api/v1/models", Some(route), Some(&a)).await.json()["id"].as_i64().unwrap();
    app.login("canbo.a").await;
    let model = app.get(&format!("/app/models/{id}")).await;
    assert!(model.body.contains(&format!("/app/models/{id}/places")), "the model's page leads to its places");
    let csrf = app.csrf(&format!("/app/models/{id}/places")).await;
    let res = app
        .post_form(
            &format!("/app/models/{id}/places"),
            &[("csrf", &csrf), ("kind", "relic"), ("name", "Đình Long Hựu"), ("opening_hours", "7:00–17:00")],
        )
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
    // Refused with what was typed and the reason.
    let res = app
        .post_form(
            &format!("/app/models/{id}/places"),
            &[("csrf", &csrf), ("kind", "relic"), ("name", ""), ("address", "Ấp Chợ")],
        )
        .await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(res.body.contains("notice error") && res.body.contains("Ấp Chợ"), "{}", res.body);
    let page = app.get(&format!("/app/models/{id}/places")).await;
    assert!(page.body.contains("Đình Long Hựu") && page.body.contains("plaque.pdf"), "{}", page.body);
    let pid: i64 =
        ngoso_store::on_db!(&app.db, p => sqlx::query_scalar("SELECT id FROM route_places").fetch_one(p).await)
            .unwrap();
    let res = app
        .post_form(
            &format!("/app/models/{id}/places/{pid}"),
            &[("csrf", &csrf), ("kind", "relic"), ("name", "Đình Long Hựu Đông"), ("cashless", "on")],
        )
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
    let edit = app.get(&format!("/app/models/{id}/places/{pid}")).await;
    assert!(edit.body.contains("Đình Long Hựu Đông") && edit.body.contains("checked"), "{}", edit.body);
    let res = app.post_form(&format!("/app/models/{id}/places/{pid}/delete"), &[("csrf", &csrf)]).await;
    assert_eq!(res.status, StatusCode::SEE_OTHER);
    assert_eq!(places_count(app).await, 0);
}

http_tests!(routes_places_pages_and_plaques, places_managed_from_the_pages);
