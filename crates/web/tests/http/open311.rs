//! Open311 GeoReport v2: every endpoint in XML and JSON, parsed and checked against the
//! specification's element names, types, date format, content types and error shape.

use axum::body::Body;
use axum::http::{Request, StatusCode, header};

use crate::feedback::{app, setup};
use crate::support::{Res, TestApp, enc};
use crate::tests_with_app;

/// The children element names of a node, in order.
fn names<'a>(n: roxmltree::Node<'a, 'a>) -> Vec<&'a str> {
    n.children().filter(|c| c.is_element()).map(|c| c.tag_name().name()).collect()
}

fn child<'a>(n: roxmltree::Node<'a, 'a>, name: &str) -> roxmltree::Node<'a, 'a> {
    n.children()
        .find(|c| c.tag_name().name() == name)
        .unwrap_or_else(|| panic!("no <{name}> in <{}>", n.tag_name().name()))
}

fn text<'a>(n: roxmltree::Node<'a, 'a>, name: &str) -> &'a str {
    child(n, name).text().unwrap_or("")
}

fn xml(res: &Res) -> roxmltree::Document<'_> {
    assert_eq!(res.header("content-type").as_deref(), Some("text/xml; charset=utf-8"), "{}", res.body);
    assert!(res.body.starts_with("<?xml version=\"1.0\" encoding=\"utf-8\"?>"));
    roxmltree::Document::parse(&res.body).unwrap_or_else(|e| panic!("not XML ({e}): {}", res.body))
}

fn json(res: &Res) -> serde_json::Value {
    assert_eq!(res.header("content-type").as_deref(), Some("application/json; charset=utf-8"), "{}", res.body);
    res.json()
}

/// W3C date-time with seconds and a zone written `Z` or `±hh:mm`.
fn is_w3c(s: &str) -> bool {
    let b = s.as_bytes();
    s.len() == 25
        && chrono::DateTime::parse_from_rfc3339(s).is_ok()
        && b[10] == b'T'
        && (b[19] == b'+' || b[19] == b'-')
        && b[22] == b':'
}

/// Checks an error document: the status, and `<errors><error><code/><description/>` or
/// `[{"code":…,"description":…}]`.
fn assert_error(res: &Res, status: StatusCode, json_format: bool) {
    assert_eq!(res.status, status, "{}", res.body);
    if json_format {
        let v = json(res);
        let arr = v.as_array().expect("an array of errors");
        assert_eq!(arr[0]["code"], serde_json::json!(status.as_u16()));
        assert!(!arr[0]["description"].as_str().unwrap().is_empty());
    } else {
        let doc = xml(res);
        let root = doc.root_element();
        assert_eq!(root.tag_name().name(), "errors");
        let e = child(root, "error");
        assert_eq!(names(e), ["code", "description"]);
        assert_eq!(text(e, "code"), status.as_u16().to_string());
        assert!(!text(e, "description").is_empty());
    }
}

/// The status and error code of an Open311 error answer. Open311's error has only a numeric
/// code and a description, so the code is the one whose message the description is (the
/// message with the most fixed text, when several fit).
fn open311_error(res: &Res) -> (u16, String) {
    let description = open311_description(res);
    let code = include_str!("../../i18n/vi.ftl")
        .lines()
        .filter_map(|l| l.strip_prefix("err-")?.split_once(" = ").map(|(id, _)| id.trim()))
        .filter_map(|code| Some((fixed_text(&description, code)?, code)))
        .max()
        .map(|(_, code)| code)
        .unwrap_or("?");
    (res.status.as_u16(), code.to_owned())
}

fn open311_description(res: &Res) -> String {
    if res.body.starts_with('[') {
        json(res)[0]["description"].as_str().unwrap_or_default().to_owned()
    } else {
        let doc = xml(res);
        text(child(doc.root_element(), "error"), "description").to_owned()
    }
}

/// When `description` is the Vietnamese message of error `code` (its fixed parts, in order),
/// how much fixed text the message has.
fn fixed_text(description: &str, code: &str) -> Option<usize> {
    let id = format!("err-{code}");
    let pattern =
        ngoso_web::http::i18n::msg(ngoso_web::http::i18n::Lang::Vi, &id, &[("field", "\u{0}"), ("detail", "\u{0}")]);
    let mut rest = description;
    let mut fixed = 0;
    for part in pattern.split(['\u{0}', '\u{2068}', '\u{2069}']).filter(|p| !p.is_empty()) {
        let i = rest.find(part)?;
        rest = &rest[i + part.len()..];
        fixed += part.len();
    }
    (pattern != id && fixed > 0).then_some(fixed)
}

/// The answer's description is the message of `code`.
fn told(res: &Res, code: &str) -> bool {
    open311_error(res).1 == code
}

async fn post(app: &mut TestApp, path: &str, fields: &[(&str, &str)]) -> Res {
    app.post_form(path, fields).await
}

async fn key(app: &TestApp) -> String {
    ngoso_store::feedback_setup::create_key(&app.db, "FixMyStreet", Some(1)).await.unwrap().1
}

async fn discovery_services_and_definitions(app: &mut TestApp) {
    setup(app).await;
    // Discovery, both formats.
    let d = app.get("/open311/v2/discovery.xml").await;
    assert_eq!(d.status, StatusCode::OK);
    let doc = xml(&d);
    let root = doc.root_element();
    assert_eq!(root.tag_name().name(), "discovery");
    assert_eq!(names(root), ["changeset", "contact", "key_service", "endpoints"]);
    let ep = child(child(root, "endpoints"), "endpoint");
    assert_eq!(names(ep), ["specification", "url", "changeset", "type", "formats"]);
    assert_eq!(text(ep, "specification"), "http://wiki.open311.org/GeoReport_v2");
    assert_eq!(names(child(ep, "formats")), ["format", "format"]);
    let j = json(&app.get("/open311/discovery.json").await);
    assert!(j["endpoints"].is_array() && j["endpoints"][0]["formats"][1] == "application/json");
    // The endpoint's address comes from the Host header only when that is a plain host (no
    // public_url is configured here): anything else would be echoed to the client.
    for (host, url) in [
        ("ngoso.tinh.vn:8080", "http://ngoso.tinh.vn:8080/open311/v2"),
        ("evil.example/phish?", "http://localhost/open311/v2"),
        ("a\"><script>", "http://localhost/open311/v2"),
    ] {
        let req = Request::get("/open311/v2/discovery.json").header(header::HOST, host).body(Body::empty()).unwrap();
        let res = app.send(req).await;
        assert!(varies_by_host(&res));
        let j = json(&res);
        assert_eq!(j["endpoints"][0]["url"], url, "Host: {host}");
    }

    // Service list.
    let doc_res = app.get("/open311/v2/services.xml").await;
    let doc = xml(&doc_res);
    let root = doc.root_element();
    assert_eq!(root.tag_name().name(), "services");
    let svc = child(root, "service");
    assert_eq!(names(svc), ["service_code", "service_name", "description", "metadata", "type", "keywords", "group"]);
    assert_eq!(text(svc, "service_code"), "roads");
    assert_eq!(text(svc, "service_name"), "Giao thông, đường sá");
    assert_eq!(text(svc, "metadata"), "true");
    assert_eq!(text(svc, "type"), "realtime");
    let en = app
        .send(
            Request::get("/open311/v2/services.json")
                .header(header::ACCEPT_LANGUAGE, "en")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    let j = json(&en);
    let first = &j.as_array().expect("a top-level array")[0];
    assert_eq!(first["service_code"], "roads");
    assert_eq!(first["service_name"], "Roads");
    assert_eq!(first["metadata"], true);
    assert!(first["keywords"].is_null());

    // Service definition.
    let r = app.get("/open311/v2/services/roads.xml").await;
    let doc = xml(&r);
    let root = doc.root_element();
    assert_eq!(root.tag_name().name(), "service_definition");
    assert_eq!(names(root), ["service_code", "attributes"]);
    let a = child(child(root, "attributes"), "attribute");
    assert_eq!(
        names(a),
        ["variable", "code", "datatype", "required", "datatype_description", "order", "description", "values"]
    );
    assert_eq!(
        (text(a, "variable"), text(a, "code"), text(a, "datatype"), text(a, "required"), text(a, "order")),
        ("true", "kind", "singlevaluelist", "true", "1")
    );
    let v = child(child(a, "values"), "value");
    assert_eq!(names(v), ["key", "name"]);
    assert_eq!((text(v, "key"), text(v, "name")), ("pothole", "Ổ gà"));
    let j = json(&app.get("/open311/v2/services/roads.json").await);
    assert!(j.is_object());
    assert_eq!(j["attributes"][0]["values"][1]["key"], "light");
    assert_eq!(j["attributes"][0]["order"], 1);
    assert_eq!(j["attributes"][0]["required"], true);

    // Unknown things: 404 in the format asked for.
    assert_error(&app.get("/open311/v2/services/nope.xml").await, StatusCode::NOT_FOUND, false);
    assert_error(&app.get("/open311/v2/services/nope.json").await, StatusCode::NOT_FOUND, true);
    assert_error(&app.get("/open311/v2/tokens/123.xml").await, StatusCode::NOT_FOUND, false);
    assert_error(&app.get("/open311/v2/requests/PAKN.20200101.0001.json").await, StatusCode::NOT_FOUND, true);
    assert_error(&app.get("/open311/v2/requests/garbage.xml").await, StatusCode::NOT_FOUND, false);
    assert_error(&app.get("/open311/v2/services.html").await, StatusCode::NOT_FOUND, false);
    assert_error(&app.get("/open311/v2/whatever.json").await, StatusCode::NOT_FOUND, true);
    assert_error(&app.get("/open311/v2/a/b/c.json").await, StatusCode::NOT_FOUND, true);
}

async fn post_and_read_requests(app: &mut TestApp) {
    let s = setup(app).await;
    let k = key(app).await;
    let hb = s.t.hamlet_b.code.clone();
    // Missing or wrong key: 403, nothing stored.
    let base = [
        ("service_code", "roads"),
        ("attribute[kind]", "pothole"),
        ("description", "Ổ gà 🕳️ <b>to</b>"),
        ("address_string", "12 Nguyễn Huệ"),
    ];
    assert_error(&post(app, "/open311/v2/requests.xml", &base).await, StatusCode::FORBIDDEN, false);
    let mut wrong = base.to_vec();
    wrong.push(("api_key", "nope"));
    assert_error(&post(app, "/open311/v2/requests.json", &wrong).await, StatusCode::FORBIDDEN, true);
    // Unknown service: 404; missing location, missing required attribute, bad values: 400.
    let with = |extra: &[(&'static str, &'static str)], drop: &[&str]| {
        let mut v: Vec<(&str, String)> =
            base.iter().filter(|(n, _)| !drop.contains(n)).map(|(n, v)| (*n, v.to_string())).collect();
        v.extend(extra.iter().map(|(n, x)| (*n, x.to_string())));
        v
    };
    fn send<'a>(mut f: Vec<(&'a str, String)>, k: &str) -> Vec<(&'a str, String)> {
        f.push(("api_key", k.to_owned()));
        f
    }
    let cases: Vec<(Vec<(&str, String)>, StatusCode)> = vec![
        (with(&[("service_code", "nope")], &["service_code"]), StatusCode::NOT_FOUND),
        (with(&[], &["address_string"]), StatusCode::BAD_REQUEST),
        (with(&[("lat", "10.5")], &["address_string"]), StatusCode::BAD_REQUEST),
        (with(&[], &["attribute[kind]"]), StatusCode::BAD_REQUEST),
        (with(&[("lat", "abc"), ("long", "1")], &[]), StatusCode::BAD_REQUEST),
        (with(&[("email", "not-an-email")], &[]), StatusCode::BAD_REQUEST),
        (with(&[], &["description"]), StatusCode::BAD_REQUEST),
    ];
    for (fields, status) in cases {
        let f = send(fields, &k);
        let refs: Vec<(&str, &str)> = f.iter().map(|(a, b)| (*a, b.as_str())).collect();
        assert_error(&post(app, "/open311/v2/requests.xml", &refs).await, status, false);
    }
    // A good request, key in the body: 200, a one-element list with the id.
    let mut good = base.to_vec();
    good.extend([
        ("api_key", k.as_str()),
        ("jurisdiction_id", "longan.gov.vn"),
        ("first_name", "Lê"),
        ("last_name", "Văn Cường"),
        ("email", "cuong@example.vn"),
        ("address_id", hb.as_str()),
    ]);
    let r = post(app, "/open311/v2/requests.xml", &good).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let doc = xml(&r);
    let root = doc.root_element();
    assert_eq!(root.tag_name().name(), "service_requests");
    let req = child(root, "request");
    assert_eq!(names(req), ["service_request_id", "service_notice", "account_id"]);
    let id = text(req, "service_request_id").to_owned();
    assert!(id.starts_with("PAKN."));
    // Key in the query, JSON, a list answered as repeated attribute[x][] — the extra field is
    // single-valued, so a second value is refused.
    let path = format!("/open311/v2/requests.json?api_key={}&jurisdiction_id=x", enc(&k));
    let r = post(
        app,
        &path,
        &[
            ("service_code", "roads"),
            ("attribute[kind][]", "light"),
            ("description", "Đèn tắt"),
            ("lat", "10.53"),
            ("long", "106.41"),
        ],
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let j = json(&r);
    let id2 = j[0]["service_request_id"].as_str().unwrap().to_owned();
    assert!(j[0]["account_id"].is_null());
    let r = post(
        app,
        &path,
        &[
            ("service_code", "roads"),
            ("attribute[kind]", "light"),
            ("attribute[kind]", "pothole"),
            ("description", "x"),
            ("lat", "1"),
            ("long", "1"),
        ],
    )
    .await;
    assert_error(&r, StatusCode::BAD_REQUEST, true);
    // The item is stored with its channel, contact and place.
    let it = ngoso_store::testing::unaudited::feedback_by_code(&app.db, &id).await.unwrap();
    assert_eq!(
        (it.channel.as_str(), it.contact_name.as_deref(), it.unit_id),
        ("open311", Some("Lê Văn Cường"), Some(s.t.hamlet_b.id))
    );
    assert_eq!(it.description, "Ổ gà 🕳️ <b>to</b>");

    // GET one: a one-element list with every field of the spec, in order; no contact, no
    // coordinates.
    let r = app.get(&format!("/open311/v2/requests/{id}.xml")).await;
    let doc = xml(&r);
    let req = child(doc.root_element(), "request");
    assert_eq!(
        names(req),
        [
            "service_request_id",
            "status",
            "status_notes",
            "service_name",
            "service_code",
            "description",
            "agency_responsible",
            "service_notice",
            "requested_datetime",
            "updated_datetime",
            "expected_datetime",
            "address",
            "address_id",
            "zipcode",
            "lat",
            "long",
            "media_url"
        ]
    );
    assert_eq!(text(req, "status"), "open");
    // The citizen's text is public only with its answer.
    assert_eq!(text(req, "description"), "");
    assert_eq!(text(req, "agency_responsible"), "Sở Giao thông");
    assert_eq!(text(req, "address"), s.t.hamlet_b.name);
    for f in ["requested_datetime", "updated_datetime", "expected_datetime"] {
        assert!(is_w3c(text(req, f)), "{f}: {}", text(req, f));
    }
    assert!(!r.body.contains("cuong@example.vn") && !r.body.contains("Cường"));
    let j = json(&app.get(&format!("/open311/v2/requests/{id2}.json")).await);
    assert_eq!(j.as_array().unwrap().len(), 1);
    assert!(j[0]["lat"].is_null() && j[0]["status"] == "open");

    // Answer one; GET requests lists both with their status and notes.
    let item2 = ngoso_store::testing::unaudited::feedback_by_code(&app.db, &id2).await.unwrap();
    let staff = app.user("nv1", ngoso_core::auth::Role::AgencyStaff, None).await;
    let boss = app.user("nv2", ngoso_core::auth::Role::AgencyStaff, None).await;
    let h = ngoso_store::testing::unaudited::handle(&app.db, staff, item2.id).await.unwrap();
    ngoso_store::feedback::draft_answer(&app.db, &h, "Đã thay bóng đèn.").await.unwrap();
    let h = ngoso_store::testing::unaudited::handle(&app.db, boss, item2.id).await.unwrap();
    ngoso_store::feedback::apply(&app.db, &h, ngoso_core::feedback::Move::Answer, &Default::default()).await.unwrap();
    let r = app.get("/open311/v2/requests.xml").await;
    let doc = xml(&r);
    let reqs: Vec<_> = doc.root_element().children().filter(|c| c.is_element()).collect();
    assert_eq!(reqs.len(), 2);
    let answered = reqs.iter().find(|r| text(**r, "service_request_id") == id2).unwrap();
    assert_eq!((text(*answered, "status"), text(*answered, "status_notes")), ("closed", "Đã thay bóng đèn."));
    assert_eq!(text(*answered, "description"), "Đèn tắt");
    let closed = json(&app.get("/open311/v2/requests.json?status=closed").await);
    assert_eq!(closed.as_array().unwrap().len(), 1);
    let open = json(&app.get("/open311/v2/requests.json?status=open&service_code=roads").await);
    assert_eq!(open.as_array().unwrap().len(), 1);
    let both =
        json(&app.get(&format!("/open311/v2/requests.json?service_request_id={id},{id2},PAKN.20000101.0001")).await);
    assert_eq!(both.as_array().unwrap().len(), 2);
    let empty =
        json(&app.get("/open311/v2/requests.json?start_date=2020-01-01T00:00:00Z&end_date=2020-01-31T00:00:00Z").await);
    assert_eq!(empty, serde_json::json!([]));
    // Empty parameters are absent ones.
    assert_eq!(json(&app.get("/open311/v2/requests.json?status=&service_code=").await).as_array().unwrap().len(), 2);
    // Bad filters: 400 with an errors document.
    assert_error(&app.get("/open311/v2/requests.xml?status=pending").await, StatusCode::BAD_REQUEST, false);
    assert_error(&app.get("/open311/v2/requests.json?start_date=yesterday").await, StatusCode::BAD_REQUEST, true);
    assert_error(&app.get("/open311/v2/requests.json?service_code=nope").await, StatusCode::BAD_REQUEST, true);
    assert_error(
        &app.get("/open311/v2/requests.xml?start_date=2024-01-01T00:00:00Z&end_date=2024-06-01T00:00:00Z").await,
        StatusCode::BAD_REQUEST,
        false,
    );
    assert_error(
        &app.get("/open311/v2/requests.xml?start_date=2024-06-01T00:00:00Z&end_date=2024-01-01T00:00:00Z").await,
        StatusCode::BAD_REQUEST,
        false,
    );
    // A hidden item leaves the list.
    let h = ngoso_store::testing::unaudited::handle(&app.db, boss, item2.id).await.unwrap();
    ngoso_store::feedback::set_hidden(&app.db, &h, Some("riêng tư")).await.unwrap();
    assert_eq!(json(&app.get("/open311/v2/requests.json").await).as_array().unwrap().len(), 1);
    // Wrong methods and bodies never give a 5xx.
    let r = app.send(Request::delete("/open311/v2/requests.xml").body(Body::empty()).unwrap()).await;
    assert_error(&r, StatusCode::METHOD_NOT_ALLOWED, false);
    let r = app
        .send(
            Request::post("/open311/v2/requests.json")
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(Body::from(vec![0xFFu8, 0xFE, b'=', 0x80]))
                .unwrap(),
        )
        .await;
    assert_error(&r, StatusCode::BAD_REQUEST, true);
    assert!(told(&r, "form-not-utf8"), "{}", r.body);
}

/// A server on 127.0.0.1 serving a photo, a redirect to a private address, a file too large
/// and a page that is not a picture; its address.
async fn photo_server() -> String {
    use axum::response::IntoResponse;
    let jpeg = crate::support::jpeg_with_gps();
    let app = axum::Router::new()
        .route(
            "/photo.jpg",
            axum::routing::get(move || async move {
                ([(header::CONTENT_TYPE, "image/jpeg")], jpeg.clone()).into_response()
            }),
        )
        .route("/moved", axum::routing::get(|| async { axum::response::Redirect::temporary("/photo.jpg") }))
        .route(
            "/inside",
            axum::routing::get(|| async { axum::response::Redirect::temporary("http://10.1.2.3/photo.jpg") }),
        )
        .route("/big.jpg", axum::routing::get(|| async { vec![0xFFu8; 3 * 1024 * 1024].into_response() }))
        .route("/page.html", axum::routing::get(|| async { axum::response::Html("<p>not a photo</p>") }))
        .route("/gone.jpg", axum::routing::get(|| async { StatusCode::NOT_FOUND }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.ok() });
    format!("http://{addr}")
}

/// Only the test server's address: it stands for the public Internet here.
fn test_server_only(ip: std::net::IpAddr) -> bool {
    ip == std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST)
}

async fn media_urls_are_fetched_in_the_background(app: &mut TestApp) {
    let s = setup(app).await;
    let k = key(app).await;
    let server = photo_server().await;
    let base = [("service_code", "roads"), ("attribute[kind]", "pothole"), ("address_id", s.t.hamlet_b.code.as_str())];
    // A malformed address is refused with the request (400), nothing stored.
    let mut bad = base.to_vec();
    bad.extend([("api_key", k.as_str()), ("description", "x"), ("media_url", "ftp://x/y.jpg")]);
    let r = post(app, "/open311/v2/requests.json", &bad).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
    let mut codes = Vec::new();
    let cases = [
        (format!("{server}/photo.jpg"), "done", ""),
        (format!("{server}/moved"), "done", ""),
        ("http://10.0.0.7/photo.jpg".to_owned(), "failed", "not public"),
        (format!("{server}/inside"), "failed", "not public"),
        (format!("{server}/big.jpg"), "failed", "larger than 2 MB"),
        (format!("{server}/page.html"), "failed", "not a JPEG or PNG"),
        (format!("{server}/gone.jpg"), "failed", "answered 404"),
    ];
    for (i, (url, _, _)) in cases.iter().enumerate() {
        let description = format!("Ổ gà số {i}");
        let mut f = base.to_vec();
        f.extend([("api_key", k.as_str()), ("description", description.as_str()), ("media_url", url.as_str())]);
        let r = post(app, "/open311/v2/requests.json", &f).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        codes.push(json(&r)[0]["service_request_id"].as_str().unwrap().to_owned());
    }
    // Accepted at once; fetched later, once each.
    let fetcher = ngoso_web::jobs::media::Fetcher::with_policy(test_server_only, 2 * 1024 * 1024);
    assert_eq!(ngoso_web::jobs::media::fetch_due(&app.db, &fetcher).await.unwrap(), cases.len());
    assert_eq!(ngoso_web::jobs::media::fetch_due(&app.db, &fetcher).await.unwrap(), 0);
    for ((url, state, why), code) in cases.iter().zip(&codes) {
        let item = ngoso_store::testing::unaudited::feedback_by_code(&app.db, code).await.unwrap();
        let fetches = ngoso_store::feedback::media::of_item(&app.db, item.id).await.unwrap();
        assert_eq!(fetches.len(), 1);
        assert_eq!(fetches[0].state, *state, "{url}: {:?}", fetches[0].error);
        assert!(fetches[0].error.as_deref().unwrap_or_default().contains(why), "{url}: {:?}", fetches[0].error);
        assert_eq!(item.has_photo, *state == "done", "{url}");
        if *state == "done" {
            // Kept like an uploaded photo: no GPS position left.
            let (mime, bytes) = ngoso_store::testing::unaudited::feedback_photo(&app.db, item.id).await.unwrap();
            assert_eq!(mime, "image/jpeg");
            assert!(!bytes.windows(3).any(|w| w == b"GPS"), "{url}");
        }
    }
    // The staff page says what became of it.
    app.login("sogtvt").await;
    let item = ngoso_store::testing::unaudited::feedback_by_code(&app.db, &codes[4]).await.unwrap();
    let page = app.get(&format!("/app/feedback/{}", item.id)).await;
    assert!(page.body.contains("Ảnh gửi theo địa chỉ: không tải được (larger than 2 MB)"), "{}", page.body);
}

tests_with_app!(discovery_services_and_definitions, post_and_read_requests, media_urls_are_fetched_in_the_background);

fn varies_by_host(res: &Res) -> bool {
    res.headers.get_all("vary").iter().any(|v| v.to_str().unwrap_or("").to_ascii_lowercase().contains("host"))
}

/// With `public_url` configured, the discovery document gives it, whatever the Host header.
async fn discovery_gives_the_public_url(backend: ngoso_store::Backend) {
    let cfg = ngoso_web::WebConfig { public_url: "https://ngoso.tinh.gov.vn/pakn".into(), ..Default::default() };
    let Some(mut app) = TestApp::with_config(backend, cfg).await else { return };
    let req =
        Request::get("/open311/v2/discovery.json").header(header::HOST, "10.0.0.7:8080").body(Body::empty()).unwrap();
    let res = app.send(req).await;
    assert!(!varies_by_host(&res));
    let j = json(&res);
    assert_eq!(j["endpoints"][0]["url"], "https://ngoso.tinh.gov.vn/pakn/open311/v2");
    app.cleanup().await;
}

mod discovery_gives_the_public_url {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sqlite() {
        super::discovery_gives_the_public_url(ngoso_store::Backend::Sqlite).await;
    }
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn postgres() {
        super::discovery_gives_the_public_url(ngoso_store::Backend::Postgres).await;
    }
}

/// Throws malformed input at every public feedback endpoint: the answer is always a 4xx or a
/// success, never a 5xx (the test client fails on any 5xx), and nothing is stored.
async fn never_a_server_error(app: &mut TestApp) {
    setup(app).await;
    let k = key(app).await;
    let count = |app: &TestApp| {
        let db = app.db.clone();
        async move {
            ngoso_store::on_db!(&db, p => sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM feedback").fetch_one(p).await).unwrap()
        }
    };
    let before = count(app).await;
    let big = vec![b'a'; 6 * 1024 * 1024];
    let bodies: Vec<(&str, Vec<u8>)> = vec![
        ("application/x-www-form-urlencoded", b"category=roads&description=%FF%FE&unit=%00".to_vec()),
        ("application/x-www-form-urlencoded", vec![0xFF, 0xFE, 0x00, b'=', b'&', b'&', b'=']),
        (
            "application/x-www-form-urlencoded",
            b"category[]=1&description[x]=2&lat=1e999&long=-1e999&address=x".to_vec(),
        ),
        (
            "application/x-www-form-urlencoded",
            b"category=roads&attribute[kind]=<script>&description=<img src=x onerror=alert(1)>&address=a".to_vec(),
        ),
        ("application/json", br#"{"category": ["roads"], "description": 5}"#.to_vec()),
        (
            "multipart/form-data; boundary=x",
            b"--x\r\nContent-Disposition: form-data; name=\"photo\"\r\n\r\n\xFF\xD8\xFF\r\n--x--\r\n".to_vec(),
        ),
        ("multipart/form-data; boundary=x", b"--x\r\ngarbage without headers".to_vec()),
        ("multipart/form-data", b"no boundary".to_vec()),
        ("text/plain", b"hello".to_vec()),
        ("application/x-www-form-urlencoded", big.clone()),
        ("multipart/form-data; boundary=x", big),
    ];
    let key_path = format!("/open311/v2/requests.xml?api_key={k}");
    // What each path answers to each body above, in order: the pages read a form, check its
    // token, and read a multipart body only where a photo may come (`/feedback`); Open311
    // reads the body, then wants its key, then the service; a list that only answers GET says so.
    const UTF8: (u16, &str) = (400, "form-not-utf8");
    const CSRF: (u16, &str) = (403, "csrf-invalid");
    const MP: (u16, &str) = (400, "multipart-invalid");
    const BIG: (u16, &str) = (413, "body-too-large");
    const NOKEY: (u16, &str) = (403, "open311-key-missing");
    const SERVICE: (u16, &str) = (400, "required");
    const GET_ONLY: (u16, &str) = (405, "method-not-allowed");
    let page_form = [UTF8, UTF8, CSRF, CSRF, CSRF, UTF8, CSRF, CSRF, CSRF, BIG, BIG];
    let page_upload = [UTF8, UTF8, CSRF, CSRF, CSRF, CSRF, MP, MP, CSRF, BIG, MP];
    let open311_no_key = [UTF8, UTF8, NOKEY, NOKEY, NOKEY, NOKEY, MP, MP, NOKEY, BIG, MP];
    let open311_key = [UTF8, UTF8, SERVICE, SERVICE, SERVICE, SERVICE, MP, MP, SERVICE, BIG, MP];
    let posts = [
        ("/feedback", page_upload),
        ("/feedback/PAKN.20240101.0001/rating", page_form),
        ("/feedback/PAKN.20240101.0001/info", page_form),
        ("/feedback/garbage/rating", page_form),
        ("/open311/v2/requests.xml", open311_no_key),
        ("/open311/v2/requests.json", open311_no_key),
        (key_path.as_str(), open311_key),
        ("/open311/v2/services.xml", [GET_ONLY; 11]),
    ];
    for (path, expected) in posts {
        assert_eq!(expected.len(), bodies.len());
        for ((ct, body), (status, code)) in bodies.iter().zip(expected) {
            let req = Request::post(path).header(header::CONTENT_TYPE, *ct).body(Body::from(body.clone())).unwrap();
            let r = app.send(req).await;
            let seen =
                if path.starts_with("/open311") { open311_error(&r) } else { (r.status.as_u16(), r.error_code()) };
            assert_eq!(
                seen,
                (status, code.to_owned()),
                "{path} {ct}: {}",
                r.body.chars().take(300).collect::<String>()
            );
        }
    }
    // Each odd address gets its own answer: a page, a specific error, never a 5xx.
    let gets = [
        ("/feedback?category=%FF", 200, ""),
        ("/feedback?category=%3Cscript%3E", 200, ""),
        ("/feedback/track?code=%00%FF", 422, "feedback-code-invalid"),
        ("/feedback/track?code=PAKN.99999999.9999", 422, "feedback-code-invalid"),
        ("/feedback/answered?page=-1", 400, "bad-query"),
        ("/feedback/answered?page=99999999999999", 400, "bad-query"),
        ("/feedback/answered?page=4294967295", 200, ""),
        ("/feedback/PAKN.20241301.0001", 404, "not-found"),
        ("/feedback/%3Cscript%3E", 404, "not-found"),
        ("/open311/v2/requests.json?start_date=%FF", 400, "date-invalid"),
        ("/open311/v2/requests.json?service_request_id=%00,,,", 200, ""),
        ("/open311/v2/requests.xml?end_date=9999-12-31T23:59:59Z", 200, ""),
        ("/open311/v2/requests.xml?start_date=-9999-01-01T00:00:00Z", 400, "date-invalid"),
        ("/open311/v2/services/%FF.xml", 400, "bad-path"),
        ("/open311/v2/services/roads", 404, "not-found"),
        ("/open311/v2/requests/PAKN.20240101.0001", 404, "not-found"),
        ("/open311/discovery.yaml", 404, "not-found"),
    ];
    for (path, status, code) in gets {
        let r = app.get(path).await;
        let seen = if r.status.is_success() {
            (r.status.as_u16(), String::new())
        } else if path.starts_with("/open311") {
            open311_error(&r)
        } else if r.body.contains("data-error-code") {
            (r.status.as_u16(), r.error_code())
        } else {
            // The tracking form, sent back with its notice.
            let notice = r.notice();
            let code = if fixed_text(&notice, code).is_some() { code } else { "?" };
            (r.status.as_u16(), code.to_owned())
        };
        assert_eq!(seen, (status, code.to_owned()), "{path}: {}", r.body.chars().take(300).collect::<String>());
        if path.contains("script") {
            assert!(!r.body.contains("<script>"), "{path}: {}", r.body);
        }
    }
    assert_eq!(count(app).await, before);
}

tests_with_app!(never_a_server_error);
