//! A test client over the real router, with a cookie jar.

use std::collections::BTreeMap;

use axum::Router;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use http_body_util::BodyExt;
use ngoso_core::auth::Role;
use ngoso_core::unit::{UnitCode, UnitKind, UnitName, Validity};
use ngoso_core::user::Username;
use ngoso_store::testing::TestDb;
use ngoso_store::units::{self, NewUnit, Unit};
use ngoso_store::{Backend, Db, secrets, users};
use ngoso_web::{AppState, WebConfig, app};
use tower::ServiceExt;

pub const PASSWORD: &str = "mật khẩu thử 123";

pub struct TestApp {
    pub db: Db,
    /// The database's URL, for a second connection pool (as another process would have).
    pub url: String,
    router: Router,
    state: AppState,
    /// The app's database, removed when the app is dropped (also when its test panics).
    _test_db: TestDb,
    pub cookies: BTreeMap<String, String>,
}

/// A response, read whole.
pub struct Res {
    pub status: StatusCode,
    pub headers: axum::http::HeaderMap,
    pub body: String,
    /// The body as sent (a binary file's bytes).
    pub bytes: Vec<u8>,
}

impl Res {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }
    pub fn header(&self, name: &str) -> Option<String> {
        self.headers.get(name).and_then(|v| v.to_str().ok()).map(str::to_owned)
    }
    pub fn location(&self) -> String {
        self.header("location").unwrap_or_default()
    }
    /// The stable error code of an error answer: `error.code` of an API error, the
    /// `data-error-code` of an error page.
    pub fn error_code(&self) -> String {
        self.try_error_code().unwrap_or_else(|| panic!("no error code in a {} answer: {}", self.status, self.body))
    }
    fn try_error_code(&self) -> Option<String> {
        if let Ok(v) = serde_json::from_str::<serde_json::Value>(&self.body)
            && let Some(code) = v["error"]["code"].as_str()
        {
            return Some(code.to_owned());
        }
        let (_, rest) = self.body.split_once("data-error-code=\"")?;
        Some(rest.split('"').next().unwrap_or_default().to_owned())
    }
    /// Asserts the answer is the error `code` with `status`.
    #[track_caller]
    pub fn assert_error(&self, status: StatusCode, code: &str) {
        assert_eq!((self.status, self.error_code().as_str()), (status, code), "{}", self.body);
    }
    /// The error told on a page sent back with its form (its `role="alert"` notice).
    pub fn notice(&self) -> String {
        let (_, rest) = self
            .body
            .split_once("role=\"alert\">")
            .unwrap_or_else(|| panic!("no notice in a {} answer: {}", self.status, self.body));
        rest.split('<').next().unwrap_or_default().trim().to_owned()
    }
    /// Asserts the answer is the page sent back with its form and the notice `text`.
    #[track_caller]
    pub fn assert_notice(&self, status: StatusCode, text: &str) {
        assert_eq!((self.status, self.notice().as_str()), (status, text), "{}", self.body);
    }
}

/// A small administrative tree: a province with two districts, each with a commune, each
/// with a hamlet.
pub struct Tree {
    pub province: Unit,
    pub district_a: Unit,
    pub commune_a: Unit,
    pub hamlet_a: Unit,
    pub district_b: Unit,
    pub commune_b: Unit,
    pub hamlet_b: Unit,
}

fn nu(code: &str, name: &str, kind: &str, parent: Option<i64>) -> NewUnit {
    NewUnit {
        code: UnitCode::parse(code).unwrap(),
        name: UnitName::parse(name).unwrap(),
        kind: UnitKind::parse(kind).unwrap(),
        parent_id: parent,
        validity: Validity::default(),
    }
}

impl TestApp {
    /// An app on a fresh database. `None` only when `NGOSO_SKIP_POSTGRES=1` skips the
    /// PostgreSQL runs on purpose: without a PostgreSQL server the test fails.
    pub async fn new(backend: Backend) -> Option<TestApp> {
        Self::with_config(backend, WebConfig::default()).await
    }

    /// Like [`TestApp::new`] with a configuration of the test's own.
    pub async fn with_config(backend: Backend, cfg: WebConfig) -> Option<TestApp> {
        let t = TestDb::new(backend).await?;
        let state = AppState::new(t.db.clone(), cfg).await.expect("state");
        Some(TestApp {
            db: t.db.clone(),
            url: t.url.clone(),
            router: app(state.clone()),
            state,
            _test_db: t,
            cookies: BTreeMap::new(),
        })
    }

    /// The app served over TCP on a free port of 127.0.0.1, as a browser reaches it: its
    /// address and the server's task (aborted when dropped by the caller's guard).
    pub async fn serve_tcp(&self) -> (std::net::SocketAddr, tokio::task::JoinHandle<()>) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let state = self.state.clone();
        let task = tokio::spawn(async move {
            ngoso_web::serve(listener, state).await.unwrap();
        });
        (addr, task)
    }

    /// Ends a test: the app and its database go (dropping the app does the same).
    pub async fn cleanup(self) {
        drop(self);
    }

    pub async fn tree(&self) -> Tree {
        let db = &self.db;
        let province = units::create(db, &nu("80", "Long An", "tỉnh", None)).await.unwrap();
        let district_a = units::create(db, &nu("807", "Cần Giuộc", "huyện", Some(province.id))).await.unwrap();
        let commune_a = units::create(db, &nu("28414", "Xã Phước Lý", "xã", Some(district_a.id))).await.unwrap();
        let hamlet_a = units::create(db, &nu("28414-01", "Ấp 1", "ấp", Some(commune_a.id))).await.unwrap();
        let district_b = units::create(db, &nu("794", "Tân Hưng", "huyện", Some(province.id))).await.unwrap();
        let commune_b = units::create(db, &nu("27700", "Xã Vĩnh Lợi", "xã", Some(district_b.id))).await.unwrap();
        let hamlet_b = units::create(db, &nu("27700-01", "Ấp Bình Hòa", "ấp", Some(commune_b.id))).await.unwrap();
        Tree { province, district_a, commune_a, hamlet_a, district_b, commune_b, hamlet_b }
    }

    pub async fn user(&self, username: &str, role: Role, unit: Option<&Unit>) -> i64 {
        let name = Username::parse(username).unwrap();
        let hash = secrets::hash_password(PASSWORD);
        users::create(
            &self.db,
            &users::NewUser {
                username: &name,
                display_name: username,
                password_hash: &hash,
                role,
                unit_id: unit.map(|u| u.id),
            },
        )
        .await
        .unwrap()
    }

    /// A team of a unit (named as the tests of a hamlet's team name it) whose leader is the
    /// account `leader`, a member since 2024.
    pub async fn team_led_by(&self, unit: &Unit, leader: i64) -> i64 {
        let team = ngoso_store::teams::create(&self.db, unit.id, "Tổ CNSCĐ Ấp 1").await.unwrap();
        let member = ngoso_store::teams::NewMember {
            full_name: "Nguyễn Văn An",
            role: "leader",
            affiliation: "police",
            phone: None,
            joined_on: chrono::NaiveDate::from_ymd_opt(2024, 1, 1).unwrap(),
            user_id: Some(leader),
        };
        ngoso_store::teams::add_member(&self.db, team, &member).await.unwrap();
        team
    }

    /// Adds "Lê Thị Hoa", a youth-union member since 2024 (with the account `user`, if
    /// any), to a team; her member id.
    pub async fn second_member(&self, team: i64, user: Option<i64>) -> i64 {
        let m = ngoso_store::teams::NewMember {
            full_name: "Lê Thị Hoa",
            role: "member",
            affiliation: "youth_union",
            phone: None,
            joined_on: chrono::NaiveDate::from_ymd_opt(2024, 1, 1).unwrap(),
            user_id: user,
        };
        ngoso_store::teams::add_member(&self.db, team, &m).await.unwrap()
    }

    /// Sends a request with the jar's cookies; stores the cookies it sets.
    pub async fn send(&mut self, mut req: Request<Body>) -> Res {
        if !self.cookies.is_empty() {
            let c: Vec<String> = self.cookies.iter().map(|(k, v)| format!("{k}={v}")).collect();
            req.headers_mut().insert(header::COOKIE, c.join("; ").parse().unwrap());
        }
        let (method, uri) = (req.method().clone(), req.uri().to_string());
        let res = self.router.clone().oneshot(req).await.expect("the router answers");
        let status = res.status();
        let headers = res.headers().clone();
        for sc in headers.get_all(header::SET_COOKIE) {
            let sc = sc.to_str().unwrap();
            let (kv, attrs) = sc.split_once(';').unwrap_or((sc, ""));
            let (k, v) = kv.split_once('=').unwrap();
            if attrs.contains("Max-Age=0") {
                self.cookies.remove(k);
            } else {
                self.cookies.insert(k.to_owned(), v.to_owned());
            }
        }
        let bytes = res.into_body().collect().await.expect("a body").to_bytes();
        let body = String::from_utf8_lossy(&bytes).into_owned();
        assert!(
            !status.is_server_error() || status == StatusCode::SERVICE_UNAVAILABLE,
            "a 5xx is a bug: {status} {body}"
        );
        let ct = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok());
        crate::contract::check(&method, &uri, status, ct, &body);
        // Pages hold no inline script or style: the Content-Security-Policy would block them.
        let html =
            headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).is_some_and(|c| c.starts_with("text/html"));
        if html {
            assert!(
                !body.contains(" style=") && !body.contains("<style") && !body.contains("<script>"),
                "inline style or script: {body}"
            );
            assert!(!body.contains(" onclick=") && !body.contains(" onsubmit="), "an inline handler: {body}");
        }
        // Every page's title is plain text (a template that leaves markup in its title
        // block shows it in the browser's tab).
        if let Some((_, rest)) = body.split_once("<title>") {
            let title = rest.split_once("</title>").map_or(rest, |(t, _)| t);
            assert!(!title.contains('<'), "markup in the page title: {title}");
        }
        Res { status, headers, body, bytes: bytes.to_vec() }
    }

    /// Sends requests all at once (without the jar's cookies); the answers in order.
    pub async fn send_all(&self, reqs: Vec<Request<Body>>) -> Vec<Res> {
        let tasks: Vec<_> = reqs
            .into_iter()
            .map(|req| {
                let router = self.router.clone();
                tokio::spawn(async move {
                    let (method, uri) = (req.method().clone(), req.uri().to_string());
                    let res = router.oneshot(req).await.expect("the router answers");
                    let (status, headers) = (res.status(), res.headers().clone());
                    let bytes = res.into_body().collect().await.expect("a body").to_bytes();
                    let body = String::from_utf8_lossy(&bytes).into_owned();
                    let ct = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok());
                    crate::contract::check(&method, &uri, status, ct, &body);
                    Res { status, headers, body, bytes: bytes.to_vec() }
                })
            })
            .collect();
        let mut out = Vec::new();
        for t in tasks {
            let res = t.await.expect("a request task");
            assert!(!res.status.is_server_error(), "a 5xx is a bug: {} {}", res.status, res.body);
            out.push(res);
        }
        out
    }

    pub async fn get(&mut self, path: &str) -> Res {
        self.send(Request::get(path).body(Body::empty()).unwrap()).await
    }

    /// The CSRF token of the forms of a page.
    pub async fn csrf(&mut self, page: &str) -> String {
        let res = self.get(page).await;
        let marker = "name=\"csrf\" value=\"";
        let start =
            res.body.find(marker).unwrap_or_else(|| panic!("no CSRF field on {page}: {}", res.body)) + marker.len();
        res.body[start..start + 64].to_owned()
    }

    pub async fn post_form(&mut self, path: &str, fields: &[(&str, &str)]) -> Res {
        let body: Vec<String> = fields.iter().map(|(k, v)| format!("{}={}", enc(k), enc(v))).collect();
        let req = Request::post(path)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(body.join("&")))
            .unwrap();
        self.send(req).await
    }

    /// Logs in through the login page.
    pub async fn login(&mut self, username: &str) -> Res {
        let csrf = self.csrf("/login").await;
        self.post_form(
            "/login",
            &[("csrf", &csrf), ("username", username), ("password", PASSWORD), ("next", "/app/units")],
        )
        .await
    }

    /// A JSON request, with a bearer token if given.
    pub async fn json(
        &mut self,
        method: Method,
        path: &str,
        body: Option<serde_json::Value>,
        token: Option<&str>,
    ) -> Res {
        let mut b = Request::builder().method(method).uri(path);
        if let Some(t) = token {
            b = b.header(header::AUTHORIZATION, format!("Bearer {t}"));
        }
        let req = match body {
            Some(v) => b.header(header::CONTENT_TYPE, "application/json").body(Body::from(v.to_string())).unwrap(),
            None => b.body(Body::empty()).unwrap(),
        };
        self.send(req).await
    }

    /// An API token for a user.
    pub async fn token(&mut self, username: &str) -> String {
        let res = self
            .json(
                Method::POST,
                "/api/v1/auth/token",
                Some(serde_json::json!({"username": username, "password": PASSWORD})),
                None,
            )
            .await;
        assert_eq!(res.status, StatusCode::CREATED, "{}", res.body);
        res.json()["token"].as_str().unwrap().to_owned()
    }
}

pub fn enc(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => out.push(b as char),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// Like [`http_tests!`] with an app made by `app(backend)` of the calling module (a
/// configuration of its own): `tests_with_app!(name, …)`.
#[macro_export]
macro_rules! tests_with_app {
    ($($name:ident),* $(,)?) => {
        $(
            mod $name {
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() {
                    let mut app = super::app(ngoso_store::Backend::Sqlite).await.expect("sqlite");
                    super::$name(&mut app).await;
                }
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn postgres() {
                    // None: skipped on purpose (NGOSO_SKIP_POSTGRES=1); no server fails.
                    let Some(mut app) = super::app(ngoso_store::Backend::Postgres).await else { return };
                    super::$name(&mut app).await;
                }
            }
        )*
    };
}

/// Declares HTTP tests that run on both backends: each `async fn NAME(app: &mut TestApp)`
/// becomes a module with a `sqlite` and a `postgres` test. The PostgreSQL test fails without
/// a server, unless `NGOSO_SKIP_POSTGRES=1` skips it on purpose.
#[macro_export]
macro_rules! http_tests {
    ($($name:ident),* $(,)?) => {
        $(
            mod $name {
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() {
                    let mut app = $crate::support::TestApp::new(ngoso_store::Backend::Sqlite).await.expect("sqlite");
                    super::$name(&mut app).await;
                }
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn postgres() {
                    // None: skipped on purpose (NGOSO_SKIP_POSTGRES=1); no server fails.
                    let Some(mut app) = $crate::support::TestApp::new(ngoso_store::Backend::Postgres).await else { return };
                    super::$name(&mut app).await;
                }
            }
        )*
    };
}

/// A small JPEG a phone might send: its EXIF holds the orientation (a quarter turn) and,
/// after it, a GPS position (`GPSLatitude=10.53`) that a stored copy must not keep.
pub fn jpeg_with_gps() -> Vec<u8> {
    let mut jpeg = vec![0xFF, 0xD8];
    let seg = |m: u8, body: &[u8]| {
        let mut v = vec![0xFF, m];
        v.extend_from_slice(&((body.len() + 2) as u16).to_be_bytes());
        v.extend_from_slice(body);
        v
    };
    let mut exif = b"Exif\0\0II*\0\x08\0\0\0\x01\0\x12\x01\x03\0\x01\0\0\0\x06\0\0\0\0\0\0\0".to_vec();
    exif.extend_from_slice(b"GPSLatitude=10.53");
    jpeg.extend(seg(0xE1, &exif));
    jpeg.extend(seg(0xDB, &[0u8; 65]));
    jpeg.extend(seg(0xC0, &[8, 0, 4, 0, 4, 1, 1, 0x11, 0]));
    jpeg.extend(seg(0xDA, &[1, 1, 0, 0, 63, 0]));
    jpeg.extend_from_slice(&[1, 2, 3, 0xFF, 0xD9]);
    jpeg
}
