//! Bulk work on SQLite through the connection's own handle: prepared single-row statements,
//! bound and stepped once per row, as `sqlite3 .import` does; and single-key reads.
//!
//! sqlx hands every statement to a worker thread and copies each bound value on the way;
//! for a million-row import, or a visit batch's thousands of lookups and writes, that
//! traffic cost more than SQLite's own work. Here the
//! connection is locked away from its worker (`lock_handle`) for the duration, and rows go
//! straight from the caller's thread into SQLite. This is the only place the store calls
//! SQLite's C API; every call is checked, and a statement never outlives the lock.

use std::ffi::{CStr, c_int};
use std::marker::PhantomData;
use std::ptr::{self, NonNull};

use libsqlite3_sys as ffi;
use sqlx::sqlite::LockedSqliteHandle;

/// A value to bind.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Value<'a> {
    Int(i64),
    Real(f64),
    Text(&'a str),
    Blob(&'a [u8]),
    Null,
}

impl<'a> From<Option<&'a str>> for Value<'a> {
    fn from(v: Option<&'a str>) -> Self {
        v.map_or(Value::Null, Value::Text)
    }
}

impl From<Option<i64>> for Value<'_> {
    fn from(v: Option<i64>) -> Self {
        v.map_or(Value::Null, Value::Int)
    }
}

/// An error of SQLite's C API: its extended result code and message.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct SqliteError {
    pub code: c_int,
    pub message: String,
}

impl SqliteError {
    /// A UNIQUE or PRIMARY KEY constraint failed.
    pub fn is_unique_violation(&self) -> bool {
        self.code == ffi::SQLITE_CONSTRAINT_UNIQUE || self.code == ffi::SQLITE_CONSTRAINT_PRIMARYKEY
    }
}

impl std::fmt::Display for SqliteError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SQLite error {}: {}", self.code, self.message)
    }
}

impl std::error::Error for SqliteError {}

/// A connection locked away from sqlx's worker thread, for the statements below.
pub(crate) struct Locked<'h> {
    db: NonNull<ffi::sqlite3>,
    _lock: PhantomData<&'h mut ()>,
}

impl<'h> Locked<'h> {
    pub fn new(handle: &'h mut LockedSqliteHandle<'_>) -> Self {
        Locked { db: handle.as_raw_handle(), _lock: PhantomData }
    }

    /// Prepares `sql` (one statement, `?` or `$n` parameters).
    pub fn prepare(&self, sql: &str) -> Result<Stmt<'_>, SqliteError> {
        Stmt::prepare(self.db, sql)
    }

    /// Runs `f` in a write transaction (BEGIN IMMEDIATE), committed when `f` succeeds and
    /// rolled back when it fails or panics: the connection goes back to its pool with no
    /// transaction open either way. `f`'s own errors come back as they are.
    pub fn transaction<R, E: From<SqliteError>>(&self, f: impl FnOnce(&Self) -> Result<R, E>) -> Result<R, E> {
        struct Open<'a, 'h>(&'a Locked<'h>);
        impl Drop for Open<'_, '_> {
            fn drop(&mut self) {
                // SAFETY: the handle is live under the lock this value borrows.
                if unsafe { ffi::sqlite3_get_autocommit(self.0.db.as_ptr()) } == 0 {
                    // Nothing to do with a failed rollback: SQLite has then ended the
                    // transaction itself.
                    let _ = self.0.exec(c"ROLLBACK");
                }
            }
        }
        self.exec(c"BEGIN IMMEDIATE")?;
        let open = Open(self);
        let out = f(self)?;
        self.exec(c"COMMIT")?;
        drop(open);
        Ok(out)
    }

    /// Runs statements that take no parameters and return no rows.
    fn exec(&self, sql: &CStr) -> Result<(), SqliteError> {
        // SAFETY: the handle is live under the caller's lock; `sql` is NUL-terminated and no
        // callback is passed.
        let rc = unsafe { ffi::sqlite3_exec(self.db.as_ptr(), sql.as_ptr(), None, ptr::null_mut(), ptr::null_mut()) };
        if rc == ffi::SQLITE_OK { Ok(()) } else { Err(error(self.db, rc)) }
    }
}

/// A prepared statement on a locked connection; it cannot outlive the lock.
pub(crate) struct Stmt<'c> {
    db: NonNull<ffi::sqlite3>,
    stmt: NonNull<ffi::sqlite3_stmt>,
    params: usize,
    _conn: PhantomData<&'c ()>,
}

fn error(db: NonNull<ffi::sqlite3>, rc: c_int) -> SqliteError {
    // SAFETY: `db` is a live connection handle held under the caller's lock; sqlite3_errmsg
    // returns a NUL-terminated string owned by SQLite, copied before any other call.
    let message = unsafe {
        let m = ffi::sqlite3_errmsg(db.as_ptr());
        if m.is_null() { String::new() } else { CStr::from_ptr(m).to_string_lossy().into_owned() }
    };
    // SAFETY: as above.
    let code = unsafe { ffi::sqlite3_extended_errcode(db.as_ptr()) };
    SqliteError { code: if code == 0 { rc } else { code }, message }
}

/// The current row of a statement being stepped.
pub(crate) struct Row<'s> {
    stmt: NonNull<ffi::sqlite3_stmt>,
    _stmt: PhantomData<&'s ()>,
}

impl Row<'_> {
    /// Column `i` as an integer (0 for NULL).
    pub fn int(&self, i: usize) -> i64 {
        // SAFETY: the statement is live and positioned on a row (only built after
        // sqlite3_step returned SQLITE_ROW, and borrowed no longer than that step).
        unsafe { ffi::sqlite3_column_int64(self.stmt.as_ptr(), i as c_int) }
    }

    /// Column `i` as an integer, `None` for NULL.
    pub fn int_or_null(&self, i: usize) -> Option<i64> {
        // SAFETY: as for `int`.
        unsafe {
            let s = self.stmt.as_ptr();
            if ffi::sqlite3_column_type(s, i as c_int) == ffi::SQLITE_NULL {
                return None;
            }
            Some(ffi::sqlite3_column_int64(s, i as c_int))
        }
    }

    /// Column `i` as text borrowed from SQLite until the next step, `None` for NULL (and for
    /// text that is not UTF-8, which the store never writes).
    pub fn str(&self, i: usize) -> Option<&str> {
        // SAFETY: as for `text`; the slice borrows `self`, which lives no longer than the
        // step that made it.
        unsafe {
            let s = self.stmt.as_ptr();
            if ffi::sqlite3_column_type(s, i as c_int) == ffi::SQLITE_NULL {
                return None;
            }
            let p = ffi::sqlite3_column_text(s, i as c_int);
            let n = ffi::sqlite3_column_bytes(s, i as c_int);
            if p.is_null() || n <= 0 {
                return Some("");
            }
            std::str::from_utf8(std::slice::from_raw_parts(p, n as usize)).ok()
        }
    }

    /// Column `i` as text (empty for NULL).
    pub fn text(&self, i: usize) -> String {
        // SAFETY: as above; the pointer and length returned for the same column describe
        // SQLite's copy of the value, valid until the next step, and are copied at once.
        unsafe {
            let s = self.stmt.as_ptr();
            let p = ffi::sqlite3_column_text(s, i as c_int);
            let n = ffi::sqlite3_column_bytes(s, i as c_int);
            if p.is_null() || n <= 0 {
                return String::new();
            }
            String::from_utf8_lossy(std::slice::from_raw_parts(p, n as usize)).into_owned()
        }
    }
}

impl Stmt<'_> {
    fn prepare(db: NonNull<ffi::sqlite3>, sql: &str) -> Result<Self, SqliteError> {
        let mut stmt: *mut ffi::sqlite3_stmt = ptr::null_mut();
        let len = c_int::try_from(sql.len())
            .map_err(|_| SqliteError { code: ffi::SQLITE_TOOBIG, message: "statement too long".into() })?;
        // SAFETY: `db` is live and not used by sqlx's worker while the handle is locked; the
        // SQL pointer and length describe a valid UTF-8 buffer that outlives the call.
        let rc = unsafe { ffi::sqlite3_prepare_v2(db.as_ptr(), sql.as_ptr().cast(), len, &mut stmt, ptr::null_mut()) };
        if rc != ffi::SQLITE_OK {
            return Err(error(db, rc));
        }
        let stmt = NonNull::new(stmt)
            .ok_or_else(|| SqliteError { code: ffi::SQLITE_MISUSE, message: "empty statement".into() })?;
        // SAFETY: `stmt` was just prepared on this connection.
        let params = unsafe { ffi::sqlite3_bind_parameter_count(stmt.as_ptr()) } as usize;
        Ok(Stmt { db, stmt, params, _conn: PhantomData })
    }

    /// Binds `values` (exactly one per parameter) and runs the statement once.
    pub fn run(&mut self, values: &[Value<'_>]) -> Result<(), SqliteError> {
        self.each(values, |_| {})
    }

    /// Binds `values` and collects what `f` makes of each row of the result.
    pub fn rows<T>(&mut self, values: &[Value<'_>], mut f: impl FnMut(&Row<'_>) -> T) -> Result<Vec<T>, SqliteError> {
        let mut out = Vec::new();
        self.each(values, |r| out.push(f(r)))?;
        Ok(out)
    }

    /// Binds `values`, steps the statement to its end and hands each row to `f`.
    pub fn each(&mut self, values: &[Value<'_>], mut f: impl FnMut(&Row<'_>)) -> Result<(), SqliteError> {
        assert_eq!(values.len(), self.params, "one value per parameter");
        let s = self.stmt.as_ptr();
        let mut rc = ffi::SQLITE_OK;
        for (i, v) in values.iter().enumerate() {
            let at = (i + 1) as c_int;
            // SAFETY: `s` is a live statement of this connection; text and blobs are bound with
            // SQLITE_STATIC, which is sound because the borrowed `values` outlive this call
            // and the bindings are cleared below before it returns.
            rc = unsafe {
                match *v {
                    Value::Int(n) => ffi::sqlite3_bind_int64(s, at, n),
                    Value::Real(x) => ffi::sqlite3_bind_double(s, at, x),
                    Value::Blob(b) => {
                        ffi::sqlite3_bind_blob64(s, at, b.as_ptr().cast(), b.len() as u64, ffi::SQLITE_STATIC())
                    }
                    Value::Null => ffi::sqlite3_bind_null(s, at),
                    Value::Text(t) => ffi::sqlite3_bind_text64(
                        s,
                        at,
                        t.as_ptr().cast(),
                        t.len() as u64,
                        ffi::SQLITE_STATIC(),
                        ffi::SQLITE_UTF8 as u8,
                    ),
                }
            };
            if rc != ffi::SQLITE_OK {
                break;
            }
        }
        if rc == ffi::SQLITE_OK {
            loop {
                // SAFETY: as above; every parameter is bound.
                rc = unsafe { ffi::sqlite3_step(s) };
                if rc != ffi::SQLITE_ROW {
                    break;
                }
                f(&Row { stmt: self.stmt, _stmt: PhantomData });
            }
        }
        let result = if rc == ffi::SQLITE_DONE { Ok(()) } else { Err(error(self.db, rc)) };
        // SAFETY: resetting and clearing a live statement; after this SQLite holds no pointer
        // into `values`.
        unsafe {
            ffi::sqlite3_reset(s);
            ffi::sqlite3_clear_bindings(s);
        }
        result
    }
}

impl Drop for Stmt<'_> {
    fn drop(&mut self) {
        // SAFETY: the statement is live and finalised exactly once, under the same lock.
        unsafe {
            ffi::sqlite3_finalize(self.stmt.as_ptr());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sqlx::Connection;

    #[tokio::test]
    async fn inserts_rows_and_reports_constraint_errors() {
        let mut c = sqlx::SqliteConnection::connect("sqlite::memory:").await.unwrap();
        sqlx::query("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT UNIQUE, note TEXT)")
            .execute(&mut c)
            .await
            .unwrap();
        {
            let mut h = c.lock_handle().await.unwrap();
            let conn = Locked::new(&mut h);
            let mut ins = conn.prepare("INSERT INTO t (id, name, note) VALUES (?, ?, ?)").unwrap();
            let name = String::from("Nguyễn Văn A 🙂");
            ins.run(&[Value::Int(1), Value::Text(&name), Value::Null]).unwrap();
            ins.run(&[Value::Int(2), Value::Text("b"), Value::Text("")]).unwrap();
            let e = ins.run(&[Value::Int(3), Value::Text("b"), Value::Null]).unwrap_err();
            assert!(e.is_unique_violation(), "{e}");
            // The statement is usable after an error.
            ins.run(&[Value::Int(4), Value::Text("c"), Value::Null]).unwrap();
            assert!(conn.prepare("INSERT INTO nowhere VALUES (1)").is_err());
            let mut read = conn.prepare("SELECT id, name, note FROM t WHERE id >= ? ORDER BY id").unwrap();
            let rows = read.rows(&[Value::Int(2)], |r| (r.int(0), r.text(1), r.text(2))).unwrap();
            assert_eq!(rows, vec![(2, "b".into(), String::new()), (4, "c".into(), String::new())]);
            let all = read.rows(&[Value::Int(0)], |r| r.text(1)).unwrap();
            assert_eq!(all, vec!["Nguyễn Văn A 🙂", "b", "c"]);
        }
        let rows: Vec<(i64, String, Option<String>)> =
            sqlx::query_as("SELECT id, name, note FROM t ORDER BY id").fetch_all(&mut c).await.unwrap();
        assert_eq!(
            rows,
            vec![(1, "Nguyễn Văn A 🙂".into(), None), (2, "b".into(), Some(String::new())), (4, "c".into(), None)]
        );
    }

    /// A transaction commits what `f` wrote when it succeeds, and leaves nothing of it, and
    /// no transaction open, when it fails or panics.
    #[tokio::test]
    async fn transactions_commit_or_leave_nothing() {
        let mut c = sqlx::SqliteConnection::connect("sqlite::memory:").await.unwrap();
        sqlx::query("CREATE TABLE t (id INTEGER PRIMARY KEY)").execute(&mut c).await.unwrap();
        {
            let mut h = c.lock_handle().await.unwrap();
            let conn = Locked::new(&mut h);
            let insert =
                |conn: &Locked<'_>, id: i64| conn.prepare("INSERT INTO t (id) VALUES (?)")?.run(&[Value::Int(id)]);
            // SAFETY: the handle is live under the lock held by `h`.
            let open = |conn: &Locked<'_>| unsafe { ffi::sqlite3_get_autocommit(conn.db.as_ptr()) } == 0;
            conn.transaction(|conn| insert(conn, 1)).unwrap();
            let failed = conn.transaction(|conn| {
                insert(conn, 2)?;
                insert(conn, 1)
            });
            assert!(failed.unwrap_err().is_unique_violation());
            assert!(!open(&conn));
            let panicked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                conn.transaction(|conn| -> Result<(), SqliteError> {
                    insert(conn, 3)?;
                    panic!("a bug in the batch");
                })
            }));
            assert!(panicked.is_err());
            assert!(!open(&conn));
            conn.transaction(|conn| insert(conn, 4)).unwrap();
        }
        let ids: Vec<i64> = sqlx::query_scalar("SELECT id FROM t ORDER BY id").fetch_all(&mut c).await.unwrap();
        assert_eq!(ids, vec![1, 4]);
    }
}
