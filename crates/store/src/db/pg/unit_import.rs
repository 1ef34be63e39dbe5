//! The unit import on PostgreSQL: `COPY … FROM STDIN` of the planned rows, a step at a time.
//! (SQLite writes them with multi-row `INSERT`s, which on PostgreSQL took several times longer
//! than the table's own indexes cost.)

use sqlx::PgConnection;

use super::copy_row;
use crate::Result;

/// Rows per `COPY`, between two calls of the progress.
const STEP: usize = 10_000;

/// Copies `rows` (each the text of the columns below, `None` for NULL) into `units`; calls
/// `progress` with the rows written so far after each step.
pub(crate) async fn write(
    c: &mut PgConnection,
    rows: &[[Option<String>; 13]],
    progress: &(dyn Fn(u64) + Sync),
) -> Result<u64> {
    let mut written = 0u64;
    let mut buf = Vec::new();
    for step in rows.chunks(STEP) {
        buf.clear();
        for r in step {
            let fields: Vec<Option<&String>> = r.iter().map(Option::as_ref).collect();
            copy_row(&mut buf, &fields);
        }
        let mut copy = c
            .copy_in_raw(
                "COPY units (id, code, name, name_key, name_sort, kind, parent_id, path, depth, valid_from, valid_to, \
                 created_at, updated_at) FROM STDIN",
            )
            .await?;
        copy.send(buf.as_slice()).await?;
        copy.finish().await?;
        written += step.len() as u64;
        progress(written);
    }
    Ok(written)
}
