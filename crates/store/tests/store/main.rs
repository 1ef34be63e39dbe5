//! The store's integration tests, in one binary: every test runs on SQLite and on
//! PostgreSQL (see `ngoso_store::testing` for the databases they get).

mod feedback;
mod ingestor;
mod migrations;
mod outreach;
mod schema;
mod testing;
mod units_users;
