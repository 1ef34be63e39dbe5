//! What only PostgreSQL runs: the visit ingest's array statements and the household and unit
//! imports' `COPY`, each the PostgreSQL engine of a path that SQLite runs on its own handle (see
//! [`super::sqlite`]).

pub(crate) mod export;
pub(crate) mod feedback_submit;
pub(crate) mod household_import;
pub(crate) mod unit_import;
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

/// Appends a row in COPY's text format: tab-separated, `\N` for NULL, with backslash, tab,
/// newline and carriage return escaped.
pub(crate) fn copy_row(out: &mut Vec<u8>, fields: &[Option<&String>]) {
    for (i, f) in fields.iter().enumerate() {
        if i > 0 {
            out.push(b'\t');
        }
        match f {
            None => out.extend_from_slice(b"\\N"),
            Some(v) => {
                for &b in v.as_bytes() {
                    match b {
                        b'\\' => out.extend_from_slice(b"\\\\"),
                        b'\t' => out.extend_from_slice(b"\\t"),
                        b'\n' => out.extend_from_slice(b"\\n"),
                        b'\r' => out.extend_from_slice(b"\\r"),
                        _ => out.push(b),
                    }
                }
            }
        }
    }
    out.push(b'\n');
}
