//! Fresh databases for tests, on both backends (the `testing` feature: never in the binary).
//!
//! SQLite tests get a new file in the temporary directory. PostgreSQL tests get a new
//! database on the server named by `NGOSO_TEST_DATABASE_URL`. A PostgreSQL test that has no
//! server to talk to fails: a suite that passed without running half its tests would say
//! nothing true. `NGOSO_SKIP_POSTGRES=1` skips the PostgreSQL runs on purpose, and says so.
//!
//! A test's database is removed when its [`TestDb`] is dropped, so also when the test
//! panics.

use std::io::Write;
use std::path::PathBuf;
use std::str::FromStr;
use std::sync::Once;
use std::time::Duration;

use sqlx::postgres::PgConnectOptions;
use sqlx::{Connection, PgConnection};

use crate::secrets::new_token;
use crate::{Backend, Db, PoolConfig};

/// The variable that names the PostgreSQL server of the tests.
pub const DATABASE_URL_VAR: &str = "NGOSO_TEST_DATABASE_URL";
/// The variable that skips the PostgreSQL runs when it is `1`.
pub const SKIP_POSTGRES_VAR: &str = "NGOSO_SKIP_POSTGRES";

/// How long a test waits for the PostgreSQL server before failing.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// A database made for one test, removed when this value is dropped.
pub struct TestDb {
    pub db: Db,
    /// The URL of the database, for a process started by the test.
    pub url: String,
    remove: Remove,
}

/// What dropping a [`TestDb`] removes.
enum Remove {
    File(PathBuf),
    Database { admin: Box<PgConnectOptions>, name: String },
}

impl TestDb {
    /// A migrated database on `backend`. `None` only when the PostgreSQL runs are skipped
    /// on purpose (`NGOSO_SKIP_POSTGRES=1`); a PostgreSQL that is not configured or cannot be
    /// reached is a failure (a panic that says what to set).
    pub async fn new(backend: Backend) -> Option<TestDb> {
        match backend {
            Backend::Sqlite => Some(Self::sqlite().await),
            Backend::Postgres => Self::postgres().await,
        }
    }

    /// A migrated SQLite database in a new file.
    pub async fn sqlite() -> TestDb {
        let t = Self::sqlite_unmigrated().await;
        t.db.migrate().await.expect("migrate the SQLite test database");
        t
    }

    /// An empty SQLite database in a new file, with no migration applied: for the tests of
    /// the migrations themselves.
    pub async fn sqlite_unmigrated() -> TestDb {
        let path = std::env::temp_dir().join(format!("ngoso-test-{}.db", &new_token()[..16]));
        let url = format!("sqlite://{}", path.display());
        // Made before the database, so that a failure from here on still removes the file.
        let remove = Remove::File(path);
        let db = Db::connect(&url, &PoolConfig::default()).await.expect("open a SQLite test database");
        TestDb { db, url, remove }
    }

    /// A migrated database on the PostgreSQL test server (see the module's notes).
    pub async fn postgres() -> Option<TestDb> {
        if skip_postgres() {
            return None;
        }
        let url = match std::env::var(DATABASE_URL_VAR) {
            Ok(u) if !u.trim().is_empty() => u,
            _ => panic!(
                "no PostgreSQL server for the tests: set {DATABASE_URL_VAR}=postgres://USER@HOST:PORT/postgres \
                 (scripts/test starts a throwaway one), or {SKIP_POSTGRES_VAR}=1 to skip the PostgreSQL runs on purpose"
            ),
        };
        let admin = PgConnectOptions::from_str(&url)
            .unwrap_or_else(|e| panic!("{DATABASE_URL_VAR} is not a PostgreSQL URL: {e}"));
        let name = format!("ngoso_test_{}", &new_token()[..16]);
        let mut conn = match tokio::time::timeout(CONNECT_TIMEOUT, PgConnection::connect_with(&admin)).await {
            Ok(Ok(c)) => c,
            Ok(Err(e)) => panic!("cannot reach the PostgreSQL test server ({DATABASE_URL_VAR}): {e}"),
            Err(_) => panic!("the PostgreSQL test server ({DATABASE_URL_VAR}) did not answer in {CONNECT_TIMEOUT:?}"),
        };
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&mut conn)
            .await
            .expect("create a PostgreSQL test database");
        conn.close().await.ok();
        let remove = Remove::Database { admin: Box::new(admin.clone()), name: name.clone() };
        let cfg = PoolConfig { max_connections: 4, ..PoolConfig::default() };
        let db = match Db::connect_pg(admin.database(&name), &cfg).await {
            Ok(db) => db,
            Err(e) => {
                remove.run();
                panic!("connect to the PostgreSQL test database: {e}");
            }
        };
        let t = TestDb { db, url: with_database(&url, &name), remove };
        t.db.migrate().await.expect("migrate the PostgreSQL test database");
        Some(t)
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        self.remove.run();
    }
}

impl Remove {
    /// Removes the test's database; never panics (it may run while a failed test unwinds).
    fn run(&self) {
        match self {
            Remove::File(path) => {
                for suffix in ["", "-wal", "-shm"] {
                    let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
                }
            }
            Remove::Database { admin, name } => {
                // Drop cannot await, and the test's runtime may be the one unwinding: a
                // thread of its own with a runtime of its own. WITH (FORCE) ends the
                // sessions the test's pools still hold.
                let (admin, sql) = ((**admin).clone(), format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
                let dropped = std::thread::spawn(move || {
                    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().ok()?;
                    rt.block_on(async {
                        let mut conn = tokio::time::timeout(CONNECT_TIMEOUT, PgConnection::connect_with(&admin))
                            .await
                            .ok()?
                            .ok()?;
                        let done = sqlx::query(sqlx::AssertSqlSafe(sql)).execute(&mut conn).await.is_ok();
                        conn.close().await.ok();
                        Some(done)
                    })
                })
                .join();
                if !matches!(dropped, Ok(Some(true))) {
                    let _ = writeln!(std::io::stderr(), "could not drop the PostgreSQL test database {name}");
                }
            }
        }
    }
}

/// Whether the PostgreSQL runs are skipped on purpose. Says so once per test binary, on the
/// process's stderr itself: the test harness would hide a skipped test's own output.
fn skip_postgres() -> bool {
    static SAID: Once = Once::new();
    let skip = std::env::var(SKIP_POSTGRES_VAR).is_ok_and(|v| v.trim() == "1");
    if skip {
        SAID.call_once(|| {
            let _ = writeln!(
                std::io::stderr(),
                "{SKIP_POSTGRES_VAR}=1: the PostgreSQL runs of these tests are skipped (they pass without running)"
            );
        });
    }
    skip
}

/// `url` with its database name replaced by `name`.
fn with_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let scheme_end = base.find("://").map(|i| i + 3).unwrap_or(0);
    let base = match base[scheme_end..].find('/') {
        Some(i) => &base[..scheme_end + i],
        None => base,
    };
    match query {
        Some(q) => format!("{base}/{name}?{q}"),
        None => format!("{base}/{name}"),
    }
}

/// Declares tests that run on both backends. Each named `async fn NAME(db: Db)` in scope
/// becomes a module `NAME` with a `sqlite` and a `postgres` test. The PostgreSQL one fails
/// without a server, unless `NGOSO_SKIP_POSTGRES=1` (see the module's notes).
#[macro_export]
macro_rules! both_backends {
    ($($name:ident),* $(,)?) => {
        $(
            mod $name {
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() {
                    let t = $crate::testing::TestDb::sqlite().await;
                    super::$name(t.db.clone()).await;
                }
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn postgres() {
                    let Some(t) = $crate::testing::TestDb::postgres().await else { return };
                    super::$name(t.db.clone()).await;
                }
            }
        )*
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_name_the_test_database() {
        assert_eq!(with_database("postgres://u@h:5432/postgres", "t1"), "postgres://u@h:5432/t1");
        assert_eq!(with_database("postgres://u@h/postgres?sslmode=disable", "t1"), "postgres://u@h/t1?sslmode=disable");
        assert_eq!(with_database("postgres://u@h", "t1"), "postgres://u@h/t1");
    }

    /// A panicking test leaves no database file behind.
    #[test]
    fn a_failed_test_removes_its_sqlite_file() {
        let path = std::sync::Arc::new(std::sync::Mutex::new(None));
        let seen = path.clone();
        let failed = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
            rt.block_on(async {
                let t = TestDb::sqlite().await;
                let p = t.url.trim_start_matches("sqlite://").to_owned();
                assert!(std::path::Path::new(&p).exists());
                *seen.lock().unwrap() = Some(p);
                panic!("a failing test");
            })
        })
        .join();
        assert!(failed.is_err());
        let p = path.lock().unwrap().clone().expect("the test made its file");
        assert!(!std::path::Path::new(&p).exists(), "{p} is left behind");
    }
}

/// Forgets the feedback items' search keys, as a database from before migration 0030 has
/// none; returns how many items there are.
pub async fn forget_feedback_search_keys(db: &Db) -> crate::Result<u64> {
    Ok(
        crate::on_write!(db, p => sqlx::query("UPDATE feedback SET search_key = NULL").execute(p).await.map(|r| r.rows_affected()))?,
    )
}

/// Reads of personal data without a proof of access or an audit row, for tests' assertions
/// only (the `testing` feature is never in the binary).
pub mod unaudited {
    use crate::Result;
    use crate::{Db, feedback, households, teams, visits};

    pub async fn household(db: &Db, id: i64) -> Result<households::Household> {
        households::get(db, id).await
    }
    pub async fn household_by_code(db: &Db, code: &str) -> Result<households::Household> {
        households::by_code(db, code).await
    }
    pub async fn household_search(
        db: &Db,
        within: &ngoso_core::unit::UnitPath,
        query: &str,
        limit: i64,
        offset: i64,
    ) -> Result<Vec<households::Household>> {
        households::search(db, within, query, limit, offset).await
    }
    pub async fn residents(db: &Db, household_id: i64) -> Result<Vec<households::Resident>> {
        households::residents(db, household_id).await
    }
    pub async fn resident(db: &Db, id: i64) -> Result<households::Resident> {
        households::resident(db, id).await
    }
    pub async fn consents(db: &Db, household_id: i64) -> Result<Vec<households::Consent>> {
        households::consents(db, household_id).await
    }
    pub async fn consent(db: &Db, id: i64) -> Result<households::Consent> {
        households::consent(db, id).await
    }
    pub async fn visits_of_household(db: &Db, household_id: i64, limit: i64) -> Result<Vec<visits::VisitRow>> {
        visits::of_household(db, household_id, limit).await
    }
    pub async fn members(db: &Db, team_id: i64) -> Result<Vec<teams::Member>> {
        teams::members_of(db, team_id).await
    }
    pub async fn member(db: &Db, id: i64) -> Result<teams::Member> {
        teams::member(db, id).await
    }
    pub async fn feedback_item(db: &Db, id: i64) -> Result<feedback::Item> {
        feedback::items::get(db, id).await
    }
    pub async fn feedback_by_code(db: &Db, code: &str) -> Result<feedback::Item> {
        let code = ngoso_core::feedback::item_code(code)?;
        let sql = format!("{} WHERE f.code = $1", feedback::items::ITEM_SELECT);
        crate::on_db!(db, p => sqlx::query_as::<_, feedback::Item>(sqlx::AssertSqlSafe(sql)).bind(code).fetch_optional(p).await)?
            .ok_or(crate::StoreError::NotFound)
    }
    pub async fn feedback_history(db: &Db, id: i64) -> Result<Vec<feedback::HistoryRow>> {
        feedback::items::history_of(db, id).await
    }
    pub async fn feedback_photo(db: &Db, id: i64) -> Result<(String, Vec<u8>)> {
        feedback::items::photo_of(db, id).await
    }

    /// Core's proof that user `user_id`, an administrator of the whole tree, may handle item
    /// `id`: for tests that act on items directly.
    pub async fn handle(db: &Db, user_id: i64, id: i64) -> Result<feedback::Handle> {
        let actor = ngoso_core::auth::Actor {
            user_id,
            role: ngoso_core::auth::Role::Admin,
            scope: ngoso_core::auth::Scope::All,
            agency_id: None,
        };
        let place = feedback::place(db, id).await?;
        ngoso_core::auth::feedback_item(&actor, place).map_err(|_| crate::StoreError::NotFound)
    }
}
