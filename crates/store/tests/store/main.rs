//! The store's integration tests, in one binary: every test runs on SQLite and on
//! PostgreSQL (see `ngoso_store::testing` for the databases they get).

mod feedback;
mod import;
mod ingestor;
mod migrations;
mod outreach;
mod restructure;
mod schema;
mod testing;
mod units_users;
mod values;
mod writers;

/// What a store call refused with: `not-found`, or the code of the rule it broke. Panics on
/// success and on any other error (a database error is not a refusal).
#[track_caller]
pub fn refusal<T: std::fmt::Debug>(r: Result<T, ngoso_store::StoreError>) -> String {
    match r {
        Err(ngoso_store::StoreError::NotFound) => "not-found".to_owned(),
        Err(ngoso_store::StoreError::Invalid(i)) => i.code.to_owned(),
        other => panic!("expected a refusal, got {other:?}"),
    }
}
