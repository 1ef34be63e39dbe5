//! HTTP tests: the real router, in process, on a fresh database per test, on SQLite and on
//! PostgreSQL.

mod contract;
mod support;

mod api;
mod architecture;
mod auth;
mod errors;
mod events;
mod export;
mod feedback;
mod field;
mod field_app;
mod imports;
mod indicators;
mod models;
mod notify;
mod open311;
mod outreach;
mod places;
mod report;
mod scope;
mod server;
mod stats;
mod streets;
mod units;
mod users;
mod values;
