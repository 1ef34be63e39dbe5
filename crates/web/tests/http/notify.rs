//! Notifications: outbox rows written with each change, delivered to a real HTTP server
//! (signed webhooks, the citizen gateway), failures retried with every attempt recorded, and
//! leases that a crashed worker gives back.

use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use ngoso_store::{Db, on_db, on_write, outbox};
use ngoso_web::jobs::outbox::{self as notify, Notifier};

use crate::feedback::{app, code_of, send, setup};
use crate::support::TestApp;
use crate::tests_with_app;

/// What the receiving server saw: (path, signature header, body, timestamp header).
type Seen = Arc<Mutex<Vec<(String, String, String, String)>>>;

/// A server that records requests; the first `fail_first` webhook calls answer 500.
async fn receiver(fail_first: usize) -> (String, Seen) {
    let seen: Seen = Default::default();
    let fails = Arc::new(Mutex::new(fail_first));
    async fn hook(State((seen, fails)): State<(Seen, Arc<Mutex<usize>>)>, h: HeaderMap, body: Bytes) -> StatusCode {
        let header = |k: &str| h.get(k).and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
        let (sig, ts) = (header("x-ngoso-signature"), header("x-ngoso-timestamp"));
        seen.lock().unwrap().push(("/hook".into(), sig, String::from_utf8_lossy(&body).into_owned(), ts));
        let mut f = fails.lock().unwrap();
        if *f > 0 {
            *f -= 1;
            StatusCode::INTERNAL_SERVER_ERROR
        } else {
            StatusCode::NO_CONTENT
        }
    }
    async fn sms(State((seen, _)): State<(Seen, Arc<Mutex<usize>>)>, body: Bytes) -> StatusCode {
        seen.lock().unwrap().push((
            "/sms".into(),
            String::new(),
            String::from_utf8_lossy(&body).into_owned(),
            String::new(),
        ));
        StatusCode::OK
    }
    let router = Router::new().route("/hook", post(hook)).route("/sms", post(sms)).with_state((seen.clone(), fails));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    (format!("http://{addr}"), seen)
}

async fn states(db: &Db) -> Vec<(String, i32, bool, bool)> {
    on_db!(db, p => sqlx::query_as::<_, (String, i32, bool, bool)>(
        "SELECT kind, attempts, delivered_at IS NOT NULL, gave_up_at IS NOT NULL FROM outbox ORDER BY id").fetch_all(p).await).unwrap()
}

async fn make_due(db: &Db) {
    on_write!(db, p => sqlx::query("UPDATE outbox SET next_attempt_at = 0 WHERE delivered_at IS NULL AND gave_up_at IS NULL")
        .execute(p).await.map(|r| r.rows_affected())).unwrap();
}

async fn webhooks_and_citizen_messages(app: &mut TestApp) {
    let s = setup(app).await;
    let (base, seen) = receiver(1).await;
    let secret =
        ngoso_store::feedback_setup::set_webhook(&app.db, s.transport, &format!("{base}/hook")).await.unwrap().unwrap();
    let hb = s.t.hamlet_b.code.clone();
    let res = send(
        app,
        &[
            ("category", "roads"),
            ("attribute[kind]", "pothole"),
            ("description", "Ổ gà"),
            ("unit", &hb),
            ("contact_phone", "0912345678"),
            ("consent", "yes"),
        ],
    )
    .await;
    let (code, _) = code_of(&res);
    // The submission wrote both rows in its transaction.
    assert_eq!(states(&app.db).await, [("webhook".into(), 0, false, false), ("citizen".into(), 0, false, false)]);
    // The receiver is on this machine: private addresses allowed.
    let n = Notifier::new(Some(format!("{base}/sms")), true);
    assert_eq!(notify::deliver_due(&app.db, &n).await.unwrap(), 2);
    // The webhook failed once (500) and waits for its retry; the message went out.
    assert_eq!(states(&app.db).await, [("webhook".into(), 1, false, false), ("citizen".into(), 1, true, false)]);
    assert_eq!(notify::deliver_due(&app.db, &n).await.unwrap(), 0, "the retry is not due yet");
    make_due(&app.db).await;
    assert_eq!(notify::deliver_due(&app.db, &n).await.unwrap(), 1);
    assert_eq!(states(&app.db).await[0], ("webhook".into(), 2, true, false));
    let attempts: i64 =
        on_db!(&app.db, p => sqlx::query_scalar("SELECT COUNT(*) FROM outbox_attempts").fetch_one(p).await).unwrap();
    assert_eq!(attempts, 3);
    // What arrived: signed JSON without personal data; the SMS with the code and the number.
    let seen = seen.lock().unwrap().clone();
    let hooks: Vec<_> = seen.iter().filter(|s| s.0 == "/hook").collect();
    assert_eq!(hooks.len(), 2);
    let (_, sig, body, ts) = hooks[1];
    // The time of sending is signed with the body: the same body at another time (a replay
    // with the time changed) has another signature.
    let ts: i64 = ts.parse().unwrap();
    assert!((ngoso_store::now() - ts).abs() < 60, "{ts}");
    assert_eq!(sig, &notify::signature(&secret, ts, body.as_bytes()));
    assert_ne!(sig, &notify::signature(&secret, ts + 1, body.as_bytes()));
    let v: serde_json::Value = serde_json::from_str(body).unwrap();
    assert_eq!(
        (v["event"].as_str(), v["code"].as_str(), v["state"].as_str()),
        (Some("submitted"), Some(code.as_str()), Some("forwarded"))
    );
    assert!(!body.contains("0912345678"));
    let sms = seen.iter().find(|s| s.0 == "/sms").unwrap();
    let v: serde_json::Value = serde_json::from_str(&sms.2).unwrap();
    assert_eq!((v["channel"].as_str(), v["to"].as_str()), (Some("phone"), Some("0912345678")));
    assert!(v["text"].as_str().unwrap().contains(&code));
    // Without a gateway, citizen messages are given up at once, with the reason kept.
    let res = send(
        app,
        &[
            ("category", "roads"),
            ("attribute[kind]", "light"),
            ("description", "Đèn"),
            ("unit", &hb),
            ("contact_email", "a@b.vn"),
            ("consent", "yes"),
        ],
    )
    .await;
    assert_eq!(res.status, StatusCode::CREATED);
    notify::deliver_due(&app.db, &Notifier::new(None, true)).await.unwrap();
    let listed = outbox::undelivered(&app.db, 10).await.unwrap();
    assert!(listed.iter().any(|m| m.kind == "citizen"
        && m.gave_up_at.is_some()
        && m.last_error.as_deref().unwrap().contains("gateway")));
    // A gateway that cannot be reached: the error kept (and logged) names its host, not its
    // password or token.
    let res = send(
        app,
        &[
            ("category", "roads"),
            ("attribute[kind]", "light"),
            ("description", "Đèn"),
            ("unit", &hb),
            ("contact_phone", "0912345678"),
            ("consent", "yes"),
        ],
    )
    .await;
    assert_eq!(res.status, StatusCode::CREATED);
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let secret_url = format!("http://ngoso:s3cret-pass@127.0.0.1:{closed}/send?token=t0ken-value");
    notify::deliver_due(&app.db, &Notifier::new(Some(secret_url), true)).await.unwrap();
    let listed = outbox::undelivered(&app.db, 10).await.unwrap();
    let failed = listed
        .iter()
        .find(|m| m.kind == "citizen" && m.gave_up_at.is_none() && m.attempts == 1)
        .expect("a failed attempt");
    let why = failed.last_error.clone().unwrap();
    assert!(why.contains(&format!("127.0.0.1:{closed}")), "{why}");
    assert!(!why.contains("s3cret") && !why.contains("t0ken") && !why.contains("ngoso:"), "{why}");
    // A given-up message can be put back in the queue.
    let id = listed.iter().find(|m| m.gave_up_at.is_some()).unwrap().id;
    outbox::retry(&app.db, id).await.unwrap();
    assert_eq!(outbox::claim(&app.db, 10).await.unwrap().len(), 1);
    // Once the citizen's contact is removed, no message of theirs keeps it or can be re-sent.
    let item = ngoso_store::testing::unaudited::feedback_by_code(&app.db, &code).await.unwrap();
    let h = ngoso_store::testing::unaudited::handle(&app.db, 1, item.id).await.unwrap();
    ngoso_store::feedback::erase_contact(&app.db, &h).await.unwrap();
    let kept: i64 = on_db!(&app.db, p => sqlx::query_scalar(
        "SELECT COUNT(*) FROM outbox WHERE feedback_id = $1 AND kind = 'citizen' AND target <> 'erased'")
        .bind(item.id).fetch_one(p).await)
    .unwrap();
    assert_eq!(kept, 0);
    let erased: i64 = on_db!(&app.db, p => sqlx::query_scalar(
        "SELECT id FROM outbox WHERE feedback_id = $1 AND kind = 'citizen'").bind(item.id).fetch_one(p).await)
    .unwrap();
    assert!(matches!(outbox::retry(&app.db, erased).await, Err(ngoso_store::StoreError::NotFound)));
}

/// A worker that dies after taking messages loses none: they come due when its lease ends.
async fn leases_survive_a_crash(app: &mut TestApp) {
    let s = setup(app).await;
    let hb = s.t.hamlet_b.code.clone();
    for _ in 0..3 {
        let res = send(
            app,
            &[
                ("category", "roads"),
                ("attribute[kind]", "light"),
                ("description", "Đèn"),
                ("unit", &hb),
                ("contact_phone", "0912345678"),
                ("consent", "yes"),
            ],
        )
        .await;
        assert_eq!(res.status, StatusCode::CREATED);
    }
    let taken = outbox::claim(&app.db, 10).await.unwrap();
    assert_eq!(taken.len(), 3);
    // The worker "crashes" here. Another finds nothing while the lease holds…
    assert!(outbox::claim(&app.db, 10).await.unwrap().is_empty());
    // …and everything once it has run out.
    make_due(&app.db).await;
    assert_eq!(outbox::claim(&app.db, 10).await.unwrap().len(), 3);
    let (waiting, delivered, given_up) = outbox::counts(&app.db).await.unwrap();
    assert_eq!((waiting, delivered, given_up), (3, 0, 0));
}

/// Unless private addresses are allowed, a webhook set to a loopback address (here, the
/// receiver on this machine) is not sent: it is given up at once, with the reason kept.
async fn webhooks_to_private_addresses_are_not_sent(app: &mut TestApp) {
    let s = setup(app).await;
    let (base, seen) = receiver(0).await;
    ngoso_store::feedback_setup::set_webhook(&app.db, s.transport, &format!("{base}/hook")).await.unwrap();
    let hb = s.t.hamlet_b.code.clone();
    let res =
        send(app, &[("category", "roads"), ("attribute[kind]", "pothole"), ("description", "Ổ gà"), ("unit", &hb)])
            .await;
    assert_eq!(res.status, StatusCode::CREATED);
    assert_eq!(notify::deliver_due(&app.db, &Notifier::new(None, false)).await.unwrap(), 1);
    assert!(seen.lock().unwrap().is_empty());
    assert_eq!(states(&app.db).await, [("webhook".into(), 1, false, true)]);
    let listed = outbox::undelivered(&app.db, 10).await.unwrap();
    let why = listed[0].last_error.clone().unwrap_or_default();
    assert!(why.contains("127.0.0.1") && why.contains("not public"), "{why}");
}

tests_with_app!(webhooks_and_citizen_messages, leases_survive_a_crash, webhooks_to_private_addresses_are_not_sent);
