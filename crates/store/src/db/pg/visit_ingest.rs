//! The visit ingest on PostgreSQL, in five round trips whatever the batch's size: the
//! transaction begun (with [`BATCH_BEGIN`](super::BATCH_BEGIN), which says why its plans
//! matter); the households read and locked; every other read in one statement; every write in
//! one statement; the commit. Every read is a lookup by key through an index.

use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};

use ngoso_core::outreach::month_of;
use ngoso_core::unit::UnitPath;
use sqlx::PgConnection;

use crate::Result;
use crate::rollups::{self, upsert};
use crate::visits::plan::{HouseholdRow, Keys, Loaded, Plan, plan};
use crate::visits::{Item, OutcomeInput, Stored, VisitInput};

pub(crate) async fn ingest(c: &mut PgConnection, items: &[Item<'_>], keys: &Keys, t: i64) -> Result<Vec<Stored>> {
    let loaded = load(c, items, keys).await?;
    let mut plan = plan(items, t, loaded);
    if !plan.to_insert.is_empty() {
        write(c, &mut plan, t).await?;
    }
    Ok(plan.out)
}

async fn load(c: &mut PgConnection, items: &[Item<'_>], keys: &Keys) -> Result<Loaded> {
    // The households first, locked in id order so that concurrent writers lock them in
    // the same order. In a statement of their own: each statement reads the database as
    // it was when the statement began, so the reads below, made once the locks are held,
    // see whatever a writer that held them before has stored.
    let households: Vec<(i64, i64, String)> = sqlx::query_as(
        "SELECT id, unit_id, (SELECT path FROM units WHERE units.id = households.unit_id) FROM households \
         WHERE id = ANY($1) ORDER BY id FOR UPDATE",
    )
    .bind(&keys.households)
    .fetch_all(&mut *c)
    .await?;
    let ids: Vec<&str> = items.iter().map(|i| i.0.id.as_str()).collect();
    let of: Vec<i64> = items.iter().map(|i| i.0.household_id).collect();
    // One row shape for every other read: (kind, five numbers, one text). The lookups in
    // visits are LATERAL with LIMIT 1, which the planner cannot flatten into a join: a
    // generic plan made while visits is nearly empty would otherwise be free to scan it.
    let sql = "\
        SELECT 1 AS kind, k.h AS a, 0::bigint AS b, 0::bigint AS c, 0::bigint AS d, 0::bigint AS e, k.id AS s \
          FROM UNNEST($9::bigint[], $2::text[]) AS k(h, id) \
          CROSS JOIN LATERAL (SELECT 1 FROM visits WHERE household_id = k.h AND visits.id = k.id LIMIT 1) AS stored \
        UNION ALL SELECT 2, h, 0, 0, 0, 0, '' FROM UNNEST($1::bigint[]) AS h \
          CROSS JOIN LATERAL (SELECT 1 FROM visits WHERE household_id = h LIMIT 1) AS seen \
        UNION ALL SELECT 3, id, 0, 0, 0, 0, (SELECT path FROM units WHERE units.id = teams.unit_id) FROM teams \
          WHERE id = ANY($3) \
        UNION ALL SELECT 4, user_id, team_id, 0, 0, 0, '' FROM team_members \
          WHERE user_id = ANY($4) AND joined_on <= $5 AND (left_on IS NULL OR left_on > $5) \
        UNION ALL SELECT 5, id, household_id, COALESCE(birth_year, 0)::bigint, groups, 0, COALESCE(sex, '') \
          FROM residents WHERE id = ANY($6) \
        UNION ALL SELECT 6, id, team_id, 0, 0, 0, '' FROM team_members WHERE id = ANY($8) \
        UNION ALL SELECT 7, service_id, household_id, resident_id, status_id, rank::bigint, '' FROM subject_statuses \
          WHERE household_id = ANY($1) AND service_id = ANY($7) \
        UNION ALL SELECT 8, s.id, s.service_id, s.rank::bigint, CASE WHEN v.subject = 'person' THEN 1 ELSE 0 END, 0, '' \
          FROM service_statuses s JOIN services v ON v.id = s.service_id WHERE s.service_id = ANY($7)";
    type Row = (i32, i64, i64, i64, i64, i64, String);
    let rows: Vec<Row> = sqlx::query_as(sql)
        .bind(&keys.households)
        .bind(&ids)
        .bind(&keys.teams)
        .bind(&keys.members)
        .bind(crate::teams::today())
        .bind(&keys.residents)
        .bind(&keys.services)
        .bind(&keys.visitors)
        .bind(&of)
        .fetch_all(&mut *c)
        .await?;
    let mut l = Loaded {
        households: households
            .into_iter()
            .map(|(id, unit_id, path)| (id, HouseholdRow { unit_id, path: UnitPath::from_stored(path) }))
            .collect(),
        existing: HashSet::default(),
        visited: HashSet::default(),
        teams: HashMap::default(),
        memberships: HashSet::default(),
        visitors: HashMap::default(),
        residents: HashMap::default(),
        statuses: HashMap::default(),
        steps: HashMap::default(),
    };
    for (kind, a, b, c, d, e, s) in rows {
        match kind {
            1 => {
                l.existing.insert((a, s));
            }
            2 => {
                l.visited.insert(a);
            }
            3 => {
                l.teams.insert(a, UnitPath::from_stored(s));
            }
            4 => {
                l.memberships.insert((a, b));
            }
            5 => {
                let born = (c != 0).then_some(c as i32);
                let sex = (!s.is_empty()).then_some(s.as_str());
                l.residents.insert(a, (b, ngoso_core::rollup::Traits::new(sex, born, d)));
            }
            6 => {
                l.visitors.insert(a, b);
            }
            7 => {
                l.statuses.insert((a, b, c), (d, e as i32));
            }
            8 => {
                l.steps.insert(a, (b, c as i32, d != 0));
            }
            _ => {}
        }
    }
    Ok(l)
}

/// The visits, their outcomes, the statuses that moved and the roll-ups, in one
/// statement (the outcomes take their visits' numbers from the insert before them).
async fn write(c: &mut PgConnection, plan: &mut Plan<'_>, t: i64) -> Result<()> {
    let v = &plan.to_insert;
    let col = |f: fn(&VisitInput) -> i64| v.iter().map(|(x, _)| f(x)).collect::<Vec<i64>>();
    let ids: Vec<&str> = v.iter().map(|(x, _)| x.id.as_str()).collect();
    let members: Vec<Option<i64>> = v.iter().map(|(x, _)| x.member_id).collect();
    let users: Vec<Option<i64>> = v.iter().map(|(_, u)| *u).collect();
    let months: Vec<String> = v.iter().map(|(x, _)| month_of(x.visited_at)).collect();
    let results: Vec<&str> = v.iter().map(|(x, _)| x.result.as_str()).collect();
    let barriers: Vec<i32> = v.iter().map(|(x, _)| x.barriers.0).collect();
    let notes: Vec<&str> = v.iter().map(|(x, _)| x.note.as_str()).collect();
    let outcomes: Vec<(&VisitInput, &OutcomeInput)> =
        v.iter().flat_map(|(x, _)| x.outcomes.iter().map(move |o| (*x, o))).collect();
    let statuses = &plan.changed;
    let folded = rollups::fold(std::mem::take(&mut plan.deltas).into_vec(), &plan.ancestry);
    let figures: Vec<_> = folded.iter().filter(|r| *r.1 != 0).collect();
    // The roll-ups' part is the statement every path that adds to figures shares.
    let sql = concat!(
        "\
        WITH v AS ( \
          INSERT INTO visits (id, household_id, team_id, member_id, user_id, visited_at, month, result, barriers, note, received_at) \
          SELECT id, h, team, member, usr, at, month, result, barriers, note, $11 \
            FROM UNNEST($1::text[], $2::bigint[], $3::bigint[], $4::bigint[], $5::bigint[], $6::bigint[], $7::text[], $8::text[], $9::int[], $10::text[]) \
              AS x(id, h, team, member, usr, at, month, result, barriers, note) \
          RETURNING seq, id, household_id), \
        o AS ( \
          INSERT INTO visit_outcomes (visit_seq, service_id, resident_id, status_id) \
          SELECT v.seq, x.service, x.resident, x.status \
            FROM UNNEST($12::text[], $13::bigint[], $14::bigint[], $15::bigint[], $26::bigint[]) \
              AS x(visit, service, resident, status, h) \
            JOIN v ON v.id = x.visit AND v.household_id = x.h), \
        s AS ( \
          INSERT INTO subject_statuses (service_id, household_id, resident_id, status_id, rank, updated_at) \
          SELECT service, h, resident, status, rank, $11 \
            FROM UNNEST($16::bigint[], $17::bigint[], $18::bigint[], $19::bigint[], $20::int[]) AS x(service, h, resident, status, rank) \
          ON CONFLICT (household_id, service_id, resident_id) DO UPDATE SET status_id = excluded.status_id, \
            rank = excluded.rank, updated_at = excluded.updated_at), \
        r AS ( ",
        upsert!(into),
        "SELECT unit, figure, period, $21, value \
            FROM UNNEST($22::bigint[], $23::text[], $24::text[], $25::bigint[]) AS x(unit, figure, period, value)",
        upsert!(add),
        ") SELECT COUNT(*) FROM v"
    );
    let stored: i64 = sqlx::query_scalar(sql)
        .bind(&ids)
        .bind(col(|x| x.household_id))
        .bind(col(|x| x.team_id))
        .bind(&members)
        .bind(&users)
        .bind(col(|x| x.visited_at))
        .bind(&months)
        .bind(&results)
        .bind(&barriers)
        .bind(&notes)
        .bind(t)
        .bind(outcomes.iter().map(|o| o.0.id.as_str()).collect::<Vec<_>>())
        .bind(outcomes.iter().map(|o| o.1.service_id).collect::<Vec<_>>())
        .bind(outcomes.iter().map(|o| o.1.resident_id).collect::<Vec<_>>())
        .bind(outcomes.iter().map(|o| o.1.status_id).collect::<Vec<_>>())
        .bind(statuses.iter().map(|r| r.0.0).collect::<Vec<_>>())
        .bind(statuses.iter().map(|r| r.0.1).collect::<Vec<_>>())
        .bind(statuses.iter().map(|r| r.0.2).collect::<Vec<_>>())
        .bind(statuses.iter().map(|r| r.1.0).collect::<Vec<_>>())
        .bind(statuses.iter().map(|r| r.1.1).collect::<Vec<_>>())
        .bind(rollups::pg_shard())
        .bind(figures.iter().map(|r| r.0.0).collect::<Vec<_>>())
        .bind(figures.iter().map(|r| r.0.1.as_str()).collect::<Vec<_>>())
        .bind(figures.iter().map(|r| r.0.2.as_str()).collect::<Vec<_>>())
        .bind(figures.iter().map(|r| *r.1).collect::<Vec<_>>())
        .bind(outcomes.iter().map(|o| o.0.household_id).collect::<Vec<_>>())
        .fetch_one(&mut *c)
        .await?;
    debug_assert_eq!(stored as usize, v.len());
    Ok(())
}
