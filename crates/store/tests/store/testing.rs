//! The test databases themselves: a PostgreSQL test without a server fails unless skipped on
//! purpose, and a failed test leaves no database behind.

use std::process::Command;

use ngoso_store::testing::{DATABASE_URL_VAR, SKIP_POSTGRES_VAR, TestDb};
use ngoso_store::{Db, both_backends, on_db};

/// The smallest test on both backends, run again as a child process by the tests below.
async fn probe(db: Db) {
    db.ping().await.unwrap();
}

both_backends!(probe);

/// Runs `probe`'s PostgreSQL test in a child process of this test binary, with `env` set.
fn probe_postgres(env: &[(&str, &str)]) -> (bool, String) {
    let mut cmd = Command::new(std::env::current_exe().unwrap());
    cmd.args(["--exact", "testing::probe::postgres", "--test-threads=1", "--nocapture"])
        .env_remove(DATABASE_URL_VAR)
        .env_remove(SKIP_POSTGRES_VAR);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("run the test binary");
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    (out.status.success(), text)
}

#[test]
fn postgres_tests_fail_without_a_server() {
    let (ok, text) = probe_postgres(&[]);
    assert!(!ok, "passed with no PostgreSQL configured:\n{text}");
    assert!(text.contains("no PostgreSQL server for the tests") && text.contains(SKIP_POSTGRES_VAR), "{text}");
    assert!(text.contains("1 failed"), "{text}");

    let (ok, text) = probe_postgres(&[(DATABASE_URL_VAR, "")]);
    assert!(!ok, "passed with an empty {DATABASE_URL_VAR}:\n{text}");

    // Port 1 of the loopback: nothing listens there.
    let (ok, text) = probe_postgres(&[(DATABASE_URL_VAR, "postgres://postgres@127.0.0.1:1/postgres")]);
    assert!(!ok, "passed with an unreachable server:\n{text}");
    assert!(text.contains("cannot reach the PostgreSQL test server"), "{text}");
}

#[test]
fn postgres_tests_skip_only_on_purpose() {
    let (ok, text) = probe_postgres(&[(SKIP_POSTGRES_VAR, "1")]);
    assert!(ok, "{text}");
    assert!(text.contains("PostgreSQL runs of these tests are skipped"), "{text}");
    // Any other value is no skip.
    let (ok, text) = probe_postgres(&[(SKIP_POSTGRES_VAR, "0")]);
    assert!(!ok, "{text}");
}

/// A test that panics still drops its PostgreSQL database.
#[tokio::test]
async fn a_failed_test_drops_its_postgres_database() {
    let Some(server) = TestDb::postgres().await else { return };
    let failed = std::thread::spawn(|| {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        rt.block_on(async {
            let t = TestDb::postgres().await.expect("the server answered the test above");
            let name = t.url.rsplit('/').next().unwrap().split('?').next().unwrap().to_owned();
            std::panic::panic_any(name);
        })
    })
    .join();
    let name = failed.expect_err("the test panicked").downcast::<String>().expect("the database's name");
    let left: i64 = on_db!(&server.db, p => sqlx::query_scalar("SELECT COUNT(*) FROM pg_database WHERE datname = $1")
        .bind(name.as_str()).fetch_one(p).await)
    .unwrap();
    assert_eq!(left, 0, "{name} is left behind");
}
