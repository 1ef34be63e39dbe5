//! Fresh databases for tests, on both backends.
//!
//! SQLite tests get a new file in the temporary directory. PostgreSQL tests get a new
//! database on the server named by `NGOSO_TEST_DATABASE_URL`; without that variable they
//! are skipped, unless `NGOSO_REQUIRE_POSTGRES=1` makes the absence a failure (the test
//! script and CI set it).

use std::path::PathBuf;
use std::str::FromStr;

use sqlx::postgres::PgConnectOptions;
use sqlx::{Connection, PgConnection};

use crate::secrets::new_token;
use crate::{Backend, Db, PoolConfig};

/// A database made for one test.
pub struct TestDb {
    pub db: Db,
    /// The URL of the database, for a process started by the test.
    pub url: String,
    cleanup: Cleanup,
}

enum Cleanup {
    File(PathBuf),
    Database { admin: Box<PgConnectOptions>, name: String },
}

impl TestDb {
    /// A migrated database on `backend`, or `None` when PostgreSQL is not configured.
    pub async fn new(backend: Backend) -> Option<TestDb> {
        match backend {
            Backend::Sqlite => Some(Self::sqlite().await),
            Backend::Postgres => Self::postgres().await,
        }
    }

    pub async fn sqlite() -> TestDb {
        let path = std::env::temp_dir().join(format!("ngoso-test-{}.db", &new_token()[..16]));
        let url = format!("sqlite://{}", path.display());
        let db = Db::connect(&url, &PoolConfig::default()).await.expect("open a SQLite test database");
        db.migrate().await.expect("migrate the SQLite test database");
        TestDb { db, url, cleanup: Cleanup::File(path) }
    }

    pub async fn postgres() -> Option<TestDb> {
        let url = match std::env::var("NGOSO_TEST_DATABASE_URL") {
            Ok(u) if !u.trim().is_empty() => u,
            _ => {
                if std::env::var("NGOSO_REQUIRE_POSTGRES").is_ok_and(|v| v == "1") {
                    panic!("NGOSO_REQUIRE_POSTGRES=1 but NGOSO_TEST_DATABASE_URL is not set");
                }
                eprintln!("skipping the PostgreSQL run: NGOSO_TEST_DATABASE_URL is not set");
                return None;
            }
        };
        let admin = PgConnectOptions::from_str(&url).expect("NGOSO_TEST_DATABASE_URL is a PostgreSQL URL");
        let name = format!("ngoso_test_{}", &new_token()[..16]);
        let mut conn = PgConnection::connect_with(&admin).await.expect("connect to the PostgreSQL test server");
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&mut conn)
            .await
            .expect("create a PostgreSQL test database");
        conn.close().await.ok();
        let opts = admin.clone().database(&name);
        let cfg = PoolConfig { max_connections: 4, ..PoolConfig::default() };
        let db = Db::connect_pg(opts, &cfg).await.expect("connect to the PostgreSQL test database");
        db.migrate().await.expect("migrate the PostgreSQL test database");
        let url = with_database(&url, &name);
        Some(TestDb { db, url, cleanup: Cleanup::Database { admin: Box::new(admin), name } })
    }

    /// Closes the pool and removes the database.
    pub async fn cleanup(self) {
        self.db.close().await;
        match self.cleanup {
            Cleanup::File(path) => {
                for suffix in ["", "-wal", "-shm"] {
                    let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
                }
            }
            Cleanup::Database { admin, name } => {
                if let Ok(mut conn) = PgConnection::connect_with(&admin).await {
                    let _ = sqlx::query(sqlx::AssertSqlSafe(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")))
                        .execute(&mut conn)
                        .await;
                    conn.close().await.ok();
                }
            }
        }
    }
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
/// becomes a module `NAME` with a `sqlite` and a `postgres` test.
#[macro_export]
macro_rules! both_backends {
    ($($name:ident),* $(,)?) => {
        $(
            mod $name {
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() {
                    let t = $crate::testing::TestDb::new($crate::Backend::Sqlite).await.expect("sqlite");
                    super::$name(t.db.clone()).await;
                    t.cleanup().await;
                }
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn postgres() {
                    let Some(t) = $crate::testing::TestDb::new($crate::Backend::Postgres).await else { return };
                    super::$name(t.db.clone()).await;
                    t.cleanup().await;
                }
            }
        )*
    };
}
