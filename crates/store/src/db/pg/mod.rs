//! What only PostgreSQL runs: the visit ingest's array statements and the household import's
//! `COPY`, each the PostgreSQL engine of a path that SQLite runs on its own handle (see
//! [`super::sqlite`]).

pub(crate) mod export;
pub(crate) mod household_import;
pub(crate) mod visit_ingest;

/// How the visit ingest begins its PostgreSQL transactions, whose statements run over and
/// over with arrays of keys of any size. (SQLite's ingest opens its transaction on the
/// connection's own handle.) The transaction uses generic plans, with sequential scans ruled
/// out (both set with BEGIN, in the same round trip):
/// - PostgreSQL chose custom plans for these statements, and planning them anew at every
///   group commit cost more than running them;
/// - a connection makes its generic plan once, perhaps while the tables are nearly empty.
///   With sequential scans allowed, such a plan scanned the visits and stayed in use at a
///   million rows (batches fell from 22,000 visits/s to 4,500). Every read of the ingest is a
///   lookup by key through an index, which is right at any size.
pub(crate) const BATCH_BEGIN: &str =
    "BEGIN; SET LOCAL plan_cache_mode = force_generic_plan; SET LOCAL enable_seqscan = off";
