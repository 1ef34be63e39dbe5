//! The ngoso domain: pure types and rules, no I/O.

pub mod auth;
pub mod calendar;
pub mod error;
pub mod feedback;
pub mod household;
pub mod import;
pub mod indicator;
pub mod outreach;
pub mod period;
pub mod person;
pub mod photo;
pub mod place;
pub mod programme;
pub mod rollup;
pub mod secret;
pub mod text;
pub mod unit;
pub mod user;
pub mod values;

pub use error::Invalid;
