//! The ngoso web application: public pages, staff pages, the JSON API and Open311.
//!
//! One folder per feature (`units/`, `teams/`, `households/`, `visits/`, `services/`,
//! `accounts/`, `feedback/`, …) owns its routes, handlers, views and operations; `http/`
//! holds what every feature shares (errors, extractors, rendering, languages, assets,
//! metrics), `auth/` who is asking, `jobs/` the background work. `app.rs` merges the
//! features' routers and nothing else.
//!
//! Data flows one way: request → extractor (who, which unit scope) → the feature's
//! operation (authorise → parse into core types → store call, audited where it reads
//! personal data) → render (HTML or JSON).

pub mod accounts;
mod app;
pub mod auth;
pub mod events;
pub mod export;
pub mod feedback;
pub mod field;
pub mod home;
pub mod households;
pub mod http;
pub mod indicators;
pub mod jobs;
pub mod models;
pub mod places;
pub mod report;
pub mod services;
mod state;
pub mod stats;
pub mod streets;
pub mod teams;
pub mod units;
pub mod values;
pub mod visits;

pub use app::{app, openapi_doc, serve};
pub use state::{AppState, Inner, WebConfig};
