//! The field app in a real browser (Debian's headless Chromium, driven by
//! `tests/browser/field_app.py` through Playwright) against the server on a fresh database:
//! records made offline survive a reload and a lost session and reach the server exactly once
//! however often they are sent; a visit the server refuses stays on the phone with the reason;
//! two phones' conflicting visits end in the same state whichever syncs first; signing out
//! takes the area's personal data off the phone and keeps what was not yet sent.
//!
//! Needs python3 with PyPI's `playwright` and Debian's `chromium` (`.ci/run` installs them);
//! without them the tests fail. `NGOSO_SKIP_BROWSER=1` skips them on purpose, saying so;
//! `NGOSO_BROWSER_SHOTS=DIR` keeps the screenshots they take.

use std::path::{Path, PathBuf};

use ngoso_core::auth::Role;
use ngoso_core::outreach::Barriers;
use ngoso_core::user::Username;
use ngoso_store::households::{self, NewHousehold, NewResident};
use ngoso_store::{Db, on_db, on_write, secrets, users};
use serde_json::{Value, json};

use crate::http_tests;
use crate::support::{PASSWORD, TestApp};

/// Whether the browser tests were skipped on purpose.
fn skipped() -> bool {
    if std::env::var("NGOSO_SKIP_BROWSER").is_ok_and(|v| v == "1") {
        eprintln!("NGOSO_SKIP_BROWSER=1: the field app's browser tests were skipped");
        return true;
    }
    false
}

/// Runs one mode of the browser script; its last line of output, as JSON.
async fn browser(scenario: &Path, mode: &str) -> Value {
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/browser/field_app.py");
    let (scenario, mode2) = (scenario.to_owned(), mode.to_owned());
    let out = tokio::task::spawn_blocking(move || {
        std::process::Command::new("python3").arg(&script).arg(&scenario).arg(&mode2).output()
    })
    .await
    .unwrap()
    .unwrap_or_else(|e| panic!("python3 is needed for the browser tests: {e}"));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "the browser script ({mode}) failed; it needs PyPI's playwright and Debian's chromium (.ci/run installs them; \
         NGOSO_SKIP_BROWSER=1 skips these tests on purpose):\n{stdout}\n{stderr}"
    );
    let last = stdout.lines().last().unwrap_or_default();
    serde_json::from_str(last).unwrap_or_else(|e| panic!("{e}: {stdout}\n{stderr}"))
}

struct Area {
    households: Vec<(i64, String, i64)>,
    other_hamlet: i64,
}

fn household(unit_id: i64, code: &str) -> NewHousehold {
    NewHousehold {
        unit_id,
        code: code.into(),
        address: Some(format!("Số {code}, Ấp 1")),
        head_name: Some("Trần Thị Bé".into()),
        size: 2,
        smartphones: 1,
        barriers: Barriers::default(),
        consent: Some(("Trần Thị Bé".into(), "outreach".into())),
    }
}

/// A hamlet's team of two members with accounts (`totruong`, `thanhvien`), four households
/// with a resident each, and the feedback set-up of the feedback tests.
async fn area(app: &mut TestApp) -> Area {
    let s = crate::feedback::setup(app).await;
    let leader = app.user("totruong", Role::TeamLeader, Some(&s.t.hamlet_a)).await;
    let member = app.user("thanhvien", Role::Member, Some(&s.t.hamlet_a)).await;
    let team = app.team_led_by(&s.t.hamlet_a, leader).await;
    app.second_member(team, Some(member)).await;
    let mut list = Vec::new();
    for i in 0..4 {
        let code = format!("28414-01-H{i:03}");
        let id = households::create(&app.db, &household(s.t.hamlet_a.id, &code), None).await.unwrap();
        let r = NewResident {
            full_name: Some(format!("Nguyễn Văn {}", ["An", "Bình", "Cường", "Dũng"][i])),
            birth_year: Some(1960 + i as i32),
            sex: Some("m"),
            youth_union: false,
            groups: 0,
            cccd: None,
            phone: None,
            consent: None,
        };
        let rid = households::add_resident(&app.db, id, &r, None).await.unwrap();
        list.push((id, code, rid));
    }
    Area { households: list, other_hamlet: s.t.hamlet_b.id }
}

fn scenario(dir: &Path, addr: std::net::SocketAddr, a: &Area, recorded: &Value) -> PathBuf {
    // Screenshots to look at: NGOSO_BROWSER_SHOTS names a directory to keep them in.
    let shots = std::env::var("NGOSO_BROWSER_SHOTS").map(PathBuf::from).unwrap_or_else(|_| dir.join("shots"));
    std::fs::create_dir_all(&shots).unwrap();
    let sc = json!({
        "base": format!("http://{addr}"),
        "users": ["totruong", "thanhvien"],
        "password": PASSWORD,
        "category": "roads",
        "profile": dir.join("profile"),
        "shots": shots,
        "households": a.households.iter().map(|(id, code, rid)| json!({"id": id, "code": code, "resident": rid})).collect::<Vec<_>>(),
        "recorded": recorded,
    });
    let path = dir.join("scenario.json");
    std::fs::write(&path, sc.to_string()).unwrap();
    path
}

/// A directory of the test's own under the system's temporary one.
fn workdir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("ngoso-field-{name}-{}-{}", std::process::id(), secrets::new_token()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

async fn visits_of(db: &Db, households: &[i64]) -> Vec<(String, i64)> {
    let mut out = Vec::new();
    for h in households {
        let rows: Vec<(String, i64)> = on_db!(db, p => sqlx::query_as(
            "SELECT id, household_id FROM visits WHERE household_id = $1 ORDER BY id").bind(h).fetch_all(p).await)
        .unwrap();
        out.extend(rows);
    }
    out.sort();
    out
}

async fn recorded_offline_sent_once(app: &mut TestApp) {
    if skipped() {
        return;
    }
    let a = area(app).await;
    let (addr, server) = app.serve_tcp().await;
    let dir = workdir("offline");
    let sc = scenario(&dir, addr, &a, &Value::Null);
    let rec = browser(&sc, "record").await;
    assert_eq!(rec["installability"], json!([]), "the app is installable: {rec}");
    assert_eq!(rec["width"], 360, "no horizontal scrolling at 360 px");
    let visits = rec["visits"].as_array().unwrap().clone();
    let feedback = rec["feedback"].as_array().unwrap().clone();
    assert_eq!((visits.len(), feedback.len()), (4, 1), "{rec}");
    let ids: Vec<i64> = a.households.iter().map(|h| h.0).collect();
    assert!(visits_of(&app.db, &ids).await.is_empty(), "nothing left the phone offline");

    // While the phone was away the fourth household moved to another hamlet (out of the
    // team's area), and the account's sessions ended (a new password ends them).
    let moved = a.households[3].0;
    on_write!(&app.db, p => sqlx::query("UPDATE households SET unit_id = $1 WHERE id = $2")
        .bind(a.other_hamlet).bind(moved).execute(p).await.map(|r| r.rows_affected()))
    .unwrap();
    users::set_password_hash(&app.db, &Username::parse("totruong").unwrap(), &secrets::hash_password(PASSWORD))
        .await
        .unwrap();

    let sc = scenario(&dir, addr, &a, &json!({"visits": visits, "feedback": feedback}));
    let out = browser(&sc, "sync").await;
    assert_eq!(out["refused"]["code"], "visit-outside-team-area", "{out}");
    assert!(out["reason"].as_str().is_some_and(|r| r.contains(out["refused"]["message"].as_str().unwrap())), "{out}");
    assert_eq!(out["queue_after"], 0, "the refused visit was discarded: {out}");

    // The server has exactly the three visits the phone made to households of the area, by
    // the phone's ids, and one feedback item; sending them all again changed nothing.
    let mut want: Vec<(String, i64)> = visits
        .iter()
        .filter(|v| v["household_id"] != moved)
        .map(|v| (v["id"].as_str().unwrap().to_owned(), v["household_id"].as_i64().unwrap()))
        .collect();
    want.sort();
    assert_eq!(visits_of(&app.db, &ids).await, want);
    let replay = &out["replay"];
    assert_eq!(
        (replay["visits"]["status"].as_i64(), replay["visits"]["body"]["accepted"].as_i64()),
        (Some(200), Some(3))
    );
    assert_eq!(replay["visits"]["body"]["refused"], 1);
    assert_eq!(replay["feedback"][0]["status"], 200, "a repeated feedback send finds the first item: {replay}");
    let items: Vec<(String, Option<String>, String, Option<String>)> = on_db!(&app.db, p => sqlx::query_as(
        "SELECT code, client_id, description, contact_phone FROM feedback ORDER BY id").fetch_all(p).await)
    .unwrap();
    assert_eq!(items.len(), 1, "{items:?}");
    assert_eq!(items[0].1.as_deref(), feedback[0]["client_id"].as_str());
    assert_eq!(items[0].2, "Ổ gà trước nhà văn hoá ấp 🕳️ — xin sửa trước mùa mưa");
    assert_eq!(items[0].3.as_deref(), Some("0901234567"));
    assert_eq!(replay["feedback"][0]["body"]["code"], items[0].0.as_str());
    assert_eq!(out["sent"][0]["code"], items[0].0.as_str(), "the phone shows the tracking code");
    // The statuses the visits set.
    let statuses: i64 =
        on_db!(&app.db, p => sqlx::query_scalar("SELECT COUNT(*) FROM subject_statuses").fetch_one(p).await).unwrap();
    assert_eq!(statuses, 2, "citizen_app of the first household, vneid_l2 of the third's resident");
    server.abort();
    let _ = std::fs::remove_dir_all(&dir);
}

/// What the server holds of the household after a conflict run.
async fn server_state(db: &Db, household: i64) -> (Vec<Value>, i64, Vec<(i64, String, String, i64)>) {
    let rows: Vec<(i64, i64, i64)> = on_db!(db, p => sqlx::query_as(
        "SELECT service_id, resident_id, status_id FROM subject_statuses WHERE household_id = $1 ORDER BY service_id, resident_id")
        .bind(household).fetch_all(p).await)
    .unwrap();
    let statuses = rows.iter().map(|(s, r, st)| json!({"service_id": s, "resident_id": r, "status_id": st})).collect();
    let visits: i64 = on_db!(db, p => sqlx::query_scalar("SELECT COUNT(*) FROM visits WHERE household_id = $1")
        .bind(household).fetch_one(p).await)
    .unwrap();
    let rollups: Vec<(i64, String, String, i64)> = on_db!(db, p => sqlx::query_as(
        "SELECT unit_id, figure, period, CAST(SUM(value) AS BIGINT) FROM rollups GROUP BY unit_id, figure, period \
         HAVING SUM(value) <> 0 ORDER BY unit_id, figure, period")
        .fetch_all(p).await)
    .unwrap();
    (statuses, visits, rollups)
}

async fn conflicting_phones_merge_alike(app: &mut TestApp) {
    if skipped() {
        return;
    }
    let backend = app.db.backend();
    let mut states = Vec::new();
    let mut second = None;
    for order in ["ab", "ba"] {
        // Each order on a database of its own, made the same way.
        let run = if order == "ab" {
            &mut *app
        } else {
            second.insert(TestApp::new(backend).await.expect("a second database"))
        };
        let a = area(run).await;
        let (addr, server) = run.serve_tcp().await;
        let dir = workdir(&format!("conflict-{order}"));
        let sc = scenario(&dir, addr, &a, &Value::Null);
        let phones = browser(&sc, &format!("conflict-{order}")).await;
        let target = a.households[0].0;
        let (statuses, visits, rollups) = server_state(&run.db, target).await;
        assert_eq!(visits, 2, "both phones' visits count");
        // Statuses merge forward: the e-identity activated (rank 2 over collected), and each
        // phone's other service kept.
        assert_eq!(statuses.len(), 3, "{statuses:?}");
        for phone in ["a", "b"] {
            assert_eq!(phones[phone]["statuses"], json!(statuses), "phone {phone} shows the merged result ({order})");
            assert_eq!(phones[phone]["visit_count"], 2);
        }
        server.abort();
        let _ = std::fs::remove_dir_all(&dir);
        states.push((statuses, visits, rollups));
    }
    assert_eq!(states[0], states[1], "the same server state whichever phone synced first");
}

/// A phone may pass to someone else: signing out takes the area (households, their heads'
/// names and addresses, the account) off it, and keeps the visit not yet sent, which goes
/// once its author signs in again.
async fn signing_out_forgets_the_area(app: &mut TestApp) {
    if skipped() {
        return;
    }
    let a = area(app).await;
    let (addr, server) = app.serve_tcp().await;
    let dir = workdir("logout");
    let sc = scenario(&dir, addr, &a, &Value::Null);
    let out = browser(&sc, "logout").await;
    assert_eq!(out["before"], json!({"households": 4, "queue": 1}), "{out}");
    let visit = out["visit"].as_str().unwrap();
    let after = &out["after"];
    assert_eq!(after["households"], 0, "no household stays on the phone: {out}");
    assert_eq!(after["account"], Value::Null, "{out}");
    assert_eq!(after["shown"], json!([]), "nothing of the area is shown: {out}");
    assert_eq!(after["need_login"], true, "{out}");
    assert!(after["banner"].as_str().unwrap().starts_with("Đã đăng xuất"), "says the member logged out: {out}");
    assert_eq!(after["queue"], json!([visit]), "the visit not yet sent stays: {out}");
    assert_eq!(out["again"], json!({"households": 4, "queue": 0}), "{out}");
    let ids: Vec<i64> = a.households.iter().map(|h| h.0).collect();
    assert_eq!(
        visits_of(&app.db, &ids).await,
        vec![(visit.to_owned(), a.households[0].0)],
        "sent once signed in again"
    );
    server.abort();
    let _ = std::fs::remove_dir_all(&dir);
}

http_tests!(recorded_offline_sent_once, conflicting_phones_merge_alike, signing_out_forgets_the_area);
