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
    /// Whether this error is a foreign-key violation (a reference to a row that is not there).
    pub fn is_foreign_key_violation(&self) -> bool {
        matches!(self, StoreError::Db(sqlx::Error::Database(e)) if e.is_foreign_key_violation())
    }
}
