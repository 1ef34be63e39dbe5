use ngoso_core::Invalid;

/// Why a store call failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The record asked for does not exist (or is outside what the caller may see).
    #[error("not found")]
    NotFound,
    /// The input breaks a rule of the domain or a constraint (a duplicate code, a cycle).
    #[error("{0}")]
    Invalid(#[from] Invalid),
    /// One row of a file, or one entry of a list of a document (`section`), was refused;
    /// nothing of the file or document was written. Rows count from 1 (a file's header).
    #[error("row {row}: {invalid}")]
    AtRow { row: u64, section: Option<&'static str>, invalid: Invalid },
    /// The database could not be reached or opened.
    #[error("{0}")]
    Connect(String),
    #[error("database error: {0}")]
    Db(#[from] sqlx::Error),
    /// An error of SQLite's C API, in the bulk paths that call it directly.
    #[error("database error: {0}")]
    Sqlite(String),
    /// Too much work waiting already (the password pool is full): try again shortly.
    #[error("busy")]
    Busy,
    /// A batch of visits handed to the group-commit writers was not stored: the group's
    /// transaction failed (as the message says) or the writers have stopped.
    #[error("visits not stored: {0}")]
    Ingest(String),
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
}

impl StoreError {
    /// Whether this error is a unique-constraint violation.
    pub fn is_unique_violation(&self) -> bool {
        matches!(self, StoreError::Db(sqlx::Error::Database(e)) if e.is_unique_violation())
    }
    /// Whether the database could not be had in time: every connection busy (the pool's
    /// wait ran out), SQLite's write lock held past the busy timeout (`SQLITE_BUSY`,
    /// `SQLITE_LOCKED`), or PostgreSQL cancelling a statement that waited too long for a lock
    /// (`55P03`) or was cancelled (`57014`). The same request a moment later may succeed.
    pub fn is_busy(&self) -> bool {
        match self {
            StoreError::Db(sqlx::Error::PoolTimedOut) => true,
            StoreError::Db(sqlx::Error::Database(e)) => {
                matches!(e.code().as_deref(), Some("5" | "6" | "261" | "517" | "55P03" | "57014"))
                    || e.message().contains("database is locked")
            }
            StoreError::Sqlite(m) => m.contains("database is locked") || m.contains("(code 5)"),
            _ => false,
        }
    }
    /// Whether this error is a foreign-key violation (a reference to a row that is not there).
    pub fn is_foreign_key_violation(&self) -> bool {
        matches!(self, StoreError::Db(sqlx::Error::Database(e)) if e.is_foreign_key_violation())
    }
}
