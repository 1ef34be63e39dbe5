//! Bulk imports of households and residents: all or nothing, with their consents and their
//! part of the roll-ups. Each backend writes households its own way (`db::sqlite` on the
//! connection's handle, `db::pg` with `COPY`).

use std::collections::HashMap;

use ngoso_core::Invalid;
use ngoso_core::outreach::Barriers;
use ngoso_core::rollup::{Deltas, figure};
use ngoso_core::text;
use sqlx::QueryBuilder;

use super::consents::{ConsentRow, insert_consents};
use super::{NewHousehold, NewResident, household_key};
use crate::db::dialect::{self, Table};
use crate::db::{pg, sqlite};
use crate::{Db, Result, StoreError, Tx, now, on_tx, rollups};

/// Rows per INSERT of a bulk import of residents.
const IMPORT_CHUNK: usize = 1000;

/// A household of a bulk import, with its search key already computed (by whichever
/// thread checks the rows, so that the writer only writes).
#[derive(Debug, Clone)]
pub struct ImportRow {
    pub(crate) household: NewHousehold,
    pub(crate) key: String,
}

impl From<NewHousehold> for ImportRow {
    fn from(household: NewHousehold) -> Self {
        let h = &household;
        let key = household_key(h.address.as_deref(), h.head_name.as_deref(), &h.code);
        ImportRow { household, key }
    }
}

/// A part of a bulk import of households, in the file's order.
#[derive(Debug)]
pub enum ImportPart {
    /// Checked households to write.
    Rows(Vec<ImportRow>),
    /// The whole file was read and every row passed its checks: the import may commit.
    Done,
}

/// Writes checked households in one transaction, all or nothing, with their consents and
/// their part of the roll-ups, as the parts arrive: the caller can check the next rows while
/// these are written. Commits only when the parts end with [`ImportPart::Done`]; a source
/// that ends without it (a bad row was found) leaves nothing written and gives `None`.
/// Waiting for the next part blocks the thread (the source is typically a channel from the
/// checking thread), so call this from a command, not from a request handler.
pub async fn import<I>(db: &Db, parts: I, actor: Option<i64>) -> Result<Option<u64>>
where
    I: IntoIterator<Item = ImportPart>,
{
    let mut tx = db.begin().await?;
    let t = now();
    let mut per_unit: HashMap<(i64, i32), i64> = HashMap::new();
    let written = match &mut tx {
        Tx::Sqlite(c) => {
            // BEGIN IMMEDIATE holds the write lock: the ids after the largest are free.
            let max: i64 = sqlx::query_scalar(Table::Households.sqlite_max_id()).fetch_one(&mut **c).await?;
            let mut handle = c.lock_handle().await?;
            sqlite::household_import::write(&mut handle, parts, max, t, actor, &mut per_unit)?
        }
        Tx::Pg(c) => pg::household_import::write(c, parts, t, actor, &mut per_unit).await?,
    };
    let Some(written) = written else { return Ok(None) };
    let mut deltas = Deltas::default();
    for ((unit, barriers), n) in per_unit {
        deltas.household(unit, Barriers::from_bits(barriers), n);
    }
    rollups::apply(&mut tx, deltas.into_vec()).await?;
    tx.commit().await?;
    Ok(Some(written))
}

/// A resident of an import, attached to a household id.
pub struct ImportedResident {
    pub household_id: i64,
    pub unit_id: i64,
    pub resident: NewResident,
}

/// Writes checked residents in one transaction, all or nothing.
pub async fn import_residents(
    db: &Db,
    rows: &[ImportedResident],
    actor: Option<i64>,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<u64> {
    let mut tx = db.begin().await?;
    let ids = dialect::reserve_ids(&mut tx, Table::Residents, rows.len()).await?;
    let t = now();
    let mut deltas = Deltas::default();
    let mut written = 0u64;
    for (chunk_no, chunk) in rows.chunks(IMPORT_CHUNK).enumerate() {
        let base = chunk_no * IMPORT_CHUNK;
        let res = on_tx!(&mut tx, c => {
            let mut qb = QueryBuilder::new(
                "INSERT INTO residents (id, household_id, full_name, name_sort, search_key, birth_year, sex, youth_union, cccd_hash, cccd_last4, phone, created_at, updated_at) ");
            qb.push_values(chunk.iter().enumerate(), |mut b, (k, ir)| {
                let r = &ir.resident;
                b.push_bind(ids[base + k]).push_bind(ir.household_id).push_bind(r.full_name.as_deref())
                    .push_bind(r.full_name.as_deref().map(|n| text::sort_key(&crate::teams::given_name_first(n))))
                    .push_bind(r.full_name.as_deref().map(text::fold).unwrap_or_default())
                    .push_bind(r.birth_year).push_bind(r.sex).push_bind(r.youth_union)
                    .push_bind(r.cccd.as_ref().map(|c| c.0.clone())).push_bind(r.cccd.as_ref().map(|c| c.1.clone()))
                    .push_bind(r.phone.as_deref()).push_bind(t).push_bind(t);
            });
            qb.build().execute(c).await.map(|r| r.rows_affected())
        });
        if let Err(e) = res {
            let e = StoreError::from(e);
            return Err(if e.is_unique_violation() { Invalid::new("cccd-duplicate").into() } else { e });
        }
        let consents: Vec<ConsentRow<'_>> = chunk
            .iter()
            .enumerate()
            .filter_map(|(k, ir)| {
                ir.resident
                    .consent
                    .as_ref()
                    .map(|(by, p)| (ir.household_id, Some(ids[base + k]), by.as_str(), p.as_str()))
            })
            .collect();
        insert_consents(&mut tx, &consents, t, actor).await?;
        for ir in chunk {
            deltas.add(ir.unit_id, figure::RESIDENTS, "", 1);
            if ir.resident.youth_union {
                deltas.add(ir.unit_id, figure::YOUTH_UNION, "", 1);
            }
        }
        written += chunk.len() as u64;
        progress(written);
    }
    rollups::apply(&mut tx, deltas.into_vec()).await?;
    tx.commit().await?;
    Ok(written)
}
