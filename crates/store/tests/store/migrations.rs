//! The migrations themselves: the same names on both backends, and no applied one edited.

use ngoso_core::outreach::Barriers;
use ngoso_store::households;
use ngoso_store::testing::TestDb;
use ngoso_store::visits::{self, Stored};
use ngoso_store::{Db, catalog, check};
use sqlx::migrate::Migrator;

use super::outreach::{T0, household, outcome, visit, world};

static SQLITE: Migrator = sqlx::migrate!("migrations/sqlite");
static POSTGRES: Migrator = sqlx::migrate!("migrations/postgres");

/// sqlx's checksum (SHA-384 of the file) of every migration released: (version, SQLite's,
/// PostgreSQL's). sqlx keeps each applied migration's checksum and refuses to migrate a
/// database whose applied migration has changed since, so these files never change: a fix
/// is a new migration. Add a migration's checksums here when it is committed.
const RELEASED: [(i64, &str, &str); 32] = [
    (
        1,
        "ed62454ad54779c4936fe84138bd7705bfa774cea083c0165d3992f68a4ce9d2bd954d77262930fe8e4d9721765a6e24",
        "9b3c2d107e88b0e97cd2d497e497b9c0f247089a116c7295533dd8c59fd90d514c133392a53929d06b95406b5be28714",
    ),
    (
        2,
        "10638ca49f90c55619a71a30e39d1c287a204579f9566b136da5f836c9d3b24e2cf9ff0741bb7158882036082559e9b1",
        "259decd7e981e62a9a54199a52c11d90de657f11d45458b074d27d9be9af04e210d867452696b850927c59c2607dc665",
    ),
    (
        3,
        "a5614ac0a8f1bed27f05f7b8df300754b0a1b028272d27837af293bd089edc2deeb4ee71c29dcbe82b30de4ace49d6e1",
        "8faa05535f46abf58c2468d2d9125cfe9191ec7dd8a48acff8106d7763ad9a65aab30809cd3ee1e204dc7db80e2994a6",
    ),
    (
        4,
        "8d3f15b3b5813a3b4d987bca7bb22ae6c3e19b0d9aacffd4c849c6bfb223dfe98137af23d6c1e77225bb596740ba4b02",
        "630ce842fdc80b09e05b282f876e37eee721ddfc27d04c35e13bbd8a55fa94ef413e803372242d8471dfaad817d66aec",
    ),
    (
        5,
        "d0d18d4a2e6c1e6e033c9f0ba4be86d1cddd4d773c76b1406fe57d326cbe5517e8f3e06c6a897c9a2677f9c9714c54f5",
        "c8ab57c89b3f5abfe6ea6bcfbb2236645ded9490cc64d3f3d8260cb2478e4c55c8387aa0d41e64b969f395b6ebd17adf",
    ),
    (
        6,
        "1ff727ca8bf6fc6c557783476f80d4a3bc86edfb81fdeab9f2966cdd70cfa15954c301c76b9f43a38c30edadc52b90c7",
        "4cc7d61e46f3cc8dc50c0bd02f46e7fdb5d7051f010c34206fff684f758a84027bed91e1fbed6a6e4eba766378f64f93",
    ),
    (
        7,
        "1b0c821a34ca5e5dbc69091cafe884846f35aa774120768d069a04e7419ab73cb61d2a79540519d83ac021e1f93188fe",
        "58042aff48739a12bd1ec60a780fe3eec367e6339da8e037e353b34492061bec438796e1702978517621204588077baf",
    ),
    (
        8,
        "ec338eb4b3eaec1d614cde36b8ddcbb5b79120a9add13d2a3775465cc098ff373c07367470f0242565485c0fdd4a7155",
        "30d2397fe4e30196b8486ab0a07f6f999407e72f83b9960aeb7a14e28e72524c1d542ff4789ff5499a9d71e922b38805",
    ),
    (
        9,
        "0c12a24ec6203ac59cdb1497851a81a94818c11b22f8b6ac7888ab63382f4ec04d773b736c4e5410527d49b50bad6119",
        "0403058ac035f88cad858d14b1acfb0751e74bb0b96b8fa1368bfd47fe9e305c5a681a67f6be49d0403faafa73df63c9",
    ),
    (
        10,
        "e74308fa4c03ade4699a149d552655ba98773edc60807c5532455c0a8481ba170149382962c1460f1c7f96fbf5a5a0f5",
        "e74308fa4c03ade4699a149d552655ba98773edc60807c5532455c0a8481ba170149382962c1460f1c7f96fbf5a5a0f5",
    ),
    (
        11,
        "15b300c339a6a2cac100d04893706c7e70f309ed412cfd1900472a51862ccab1bcb38ae23917cbc581d0a5619ef73410",
        "b9d3efc610d272011f86ac16d03a2173b90588ba8fad7dfd2443a12a4c286980800ea30294009a8371ab5d29d11b7770",
    ),
    (
        12,
        "9e53f69d5695259f6b3708db942d808a767d605d7952c92c195883c670f221f7decc7a438faa729117cc3492ba8ae444",
        "c4f3e805e5b860043038454ad5f9b70622bac140572c9a7122bff0fff12c07d6202621255210b5e46a0252425b04f974",
    ),
    (
        13,
        "a7f9d3942cd5334d29c86b2efc3bb0465c0c9aae651c9d0b76fe15e09d59a1fb47b700b3b1896ba29574825b4da0b493",
        "9ce8cd675b4338a488c9f53dcab41796f4bedce4752d5cc0dc59e24bfb2e33d4625605bd72d67e1a1379d53add2fae90",
    ),
    (
        14,
        "93f924db87f33aa6d7035bd338da1ac7ea32e3364bdaf28cc64570002de88f4abed0c5b207f81bbafdc69344fe153f4e",
        "51f96a3e966af0ce700d2de0fe85d6e12318a98bdba4d680c2357bab09953aa1bf81978334a9999bf77f4c87a2698b34",
    ),
    (
        15,
        "17d4a133cc39ad491afe06314499c8846857e70fad69b95091fe1a95f2640153b85a80255f8d6c599aa5cfd837e6d07d",
        "59577fae1df7d6edcf569225cc69a83a5a8a2d87aebb68bd2493c14bc1c94cd78bea7d56623d373db59dd4fc25e17cc5",
    ),
    (
        16,
        "4bcae55ce2517dc0c46c1cddd267e67a590fa0db63ea4bbda9462893b4642c2170aadf6a19d56b3268fc13eb4ded1ed0",
        "1507f5f0aff3bb8b97e4f2af55bc166c4d442ac1a8bf7edd63d79b6f44605d88e9c6684b84ff842d1aa3d1e3fc17e8ba",
    ),
    (
        17,
        "5e98e8d99180999f364f870154f12d6cbe8deafb3d1841d8ff17d151cdd6c49bf68df696d2bd8d32412c0564bd81dd77",
        "5e98e8d99180999f364f870154f12d6cbe8deafb3d1841d8ff17d151cdd6c49bf68df696d2bd8d32412c0564bd81dd77",
    ),
    (
        18,
        "981d219a1bfae3502c4fe37de489d54c657c75bc5bcf2c0a883cb27e2ec7d5e4f3a67f3d22b1d5bf54b4fb360efc6459",
        "8d65ff724f376682351c8131dfac53ab8393301f695e7af250cd5eaa212d12132df5249f780a9d4733652316323fbf5d",
    ),
    (
        19,
        "26a714a79278cef731d3c6921d41e871656f959f650d867d8b7f0a57b0b4ea800abe054038ddd4afbcf70c9ef2b95454",
        "26a714a79278cef731d3c6921d41e871656f959f650d867d8b7f0a57b0b4ea800abe054038ddd4afbcf70c9ef2b95454",
    ),
    (
        20,
        "964f4406952fb6d0e59bab32af7548f753386fab8ff0fe509d709869ec19a9673862f11a520a61cd348991a6a4d2a49f",
        "964f4406952fb6d0e59bab32af7548f753386fab8ff0fe509d709869ec19a9673862f11a520a61cd348991a6a4d2a49f",
    ),
    (
        21,
        "59660a262df22028521a3ca92b01a1a983e7a93d74a738601b230f6d9db1e15172a3674a9ffb9e835b11cf024525c73f",
        "5909334009bfd3c3d854a04f74d8cb82160b68776891536ab733980b1329f9cbd9594af86da89d1df92c8bc3d869bbf8",
    ),
    (
        22,
        "273ca5e4bf9039df862032af265a5c1807cfa478f1c4c2b54b4468d67054c59408186752686c5255f351cf5a8fa58283",
        "36776df6b91a6d483f4c9bca980f074b4b99bb8981bbcdf8d793e6cbe07c2820c2154a32d351558426928ff6f932b295",
    ),
    (
        23,
        "a1ce5e4dbfe658179ab93b94efc1dc25c4d462aedf4ca6d46a86c9182cfc5c57754c4b283da0509affbf9767f5581755",
        "a1ce5e4dbfe658179ab93b94efc1dc25c4d462aedf4ca6d46a86c9182cfc5c57754c4b283da0509affbf9767f5581755",
    ),
    (
        24,
        "9e4f4a14f7685787d50ad671a0b1b119b7040d81a20f767938e84efa46012b04402037dd9e026abd742d76e39b60d0aa",
        "eea14c6c61763821169044188a963530bc76988b2a0aec742729fb0a8b4a2014364105e6bb9bdedb870f7716334c0e30",
    ),
    (
        25,
        "628db57a4d468b0efa5a13a7fb71d2b61a15eab71b8e19367759d14fc1968f92f8c04e6b626655e59732ec32418b6c34",
        "d716fdd5a378864a4a0f810aaeec4c5c7919c7a59ba06dfbb0ed038a64953509251e77b3a3d4d9faf41121a00a54d7f7",
    ),
    (
        26,
        "14d598741c00d0b4bc505f9392bcaca5f48d022fe71f5205770038f8eec2833aa153a632185722e063bbdd06a14b3d16",
        "9e858016700ab4622e53482d1b1f0a16026363a640546c4db89e129698a3693e01cbdd5d14bcc39297723fa2ec991a33",
    ),
    (
        27,
        "22b36696f6489b77fe141c224dffe9b598f46dfbbb59d5d8631b08107d266fd24c823e6e231abdb2cdb1e847400d396b",
        "46d4dae33f6f4d6d1280454afc672d639be98cf3d6ee290b6585bacc1655b7b3329623d097a2956330900c15e0c963a1",
    ),
    (
        28,
        "ff0076d60c6e112b92b907dfc03dc937fef3383b53e233325462d68a329da9455f61ff4111378018a02dfc5a0ca89fb5",
        "33dd6df93099ce5095d0f7e0b948ad21f95b52bc3a00a337880aadd97dc3809f5e36e00d2f9d32275ea2799b234eb4e1",
    ),
    (
        29,
        "ca22d79b3af52e7af5716f447822cea1940ecdce2906776c0e630750d18dfb63bf401ef2e7dbe40651f1b7688284e55b",
        "19855992432b710fda79deefb4e5c700008a1b9bd615750e9b705a9e6cd0992a12948320ff055b8b15e95dd5e7043455",
    ),
    (
        30,
        "51370e84b378721789663740a88b2f3cc904a4104c50abde44a9375d14856f5cad165138d53384cf0fd438e5e70f514a",
        "51370e84b378721789663740a88b2f3cc904a4104c50abde44a9375d14856f5cad165138d53384cf0fd438e5e70f514a",
    ),
    (
        31,
        "52089feaa087cf7c881a3d288b2951ba6fdd1c64dec3763e1947980f5b8cc2b5587d646c38d3c0bcf5fe52619ac3b668",
        "5103e165f028e8f8a3c0c76ab44690959ca5c638c13f412556ff03e5140e824dc7cfdaca3f774146e86f3435461ca352",
    ),
    (
        32,
        "f1d65c195c143d939828ce807e731906861e9588863d338cfd3127e488dbb2df18570f8c9dd124cd23cadfad0f88e5df",
        "f1d65c195c143d939828ce807e731906861e9588863d338cfd3127e488dbb2df18570f8c9dd124cd23cadfad0f88e5df",
    ),
];

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[test]
fn the_backends_have_the_same_migrations() {
    let names = |m: &Migrator| m.iter().map(|x| (x.version, x.description.to_string())).collect::<Vec<_>>();
    assert_eq!(names(&SQLITE), names(&POSTGRES));
}

#[test]
fn released_migrations_are_never_edited() {
    let mut changed = Vec::new();
    for (version, sqlite, pg) in RELEASED {
        for (backend, migrator, want) in [("sqlite", &SQLITE, sqlite), ("postgres", &POSTGRES, pg)] {
            let found = migrator.iter().find(|m| m.version == version).map(|m| hex(&m.checksum));
            if found.as_deref() != Some(want) {
                changed.push(format!("{backend} migration {version:04}: checksum {found:?}, released as {want}"));
            }
        }
    }
    assert!(
        changed.is_empty(),
        "released migrations changed; sqlx refuses every database they were applied to (restore them and write a \
         new migration, see migrations/README.md):\n{}",
        changed.join("\n")
    );
}

/// Every row of a table, each as one text (its columns quoted by SQLite, in order), by id.
async fn rows(db: &Db, table: &str) -> Vec<String> {
    let Db::Sqlite(p) = db else { panic!("a SQLite database") };
    let columns: Vec<String> =
        sqlx::query_scalar("SELECT 'quote(' || name || ')' FROM pragma_table_info($1) ORDER BY cid")
            .bind(table)
            .fetch_all(&p.read)
            .await
            .unwrap();
    let sql = format!("SELECT {} FROM {table} ORDER BY id", columns.join(" || '|' || "));
    sqlx::query_scalar(sqlx::AssertSqlSafe(sql)).fetch_all(&p.read).await.unwrap()
}

/// SQLite's 0011 rebuilds households and consents, and sets aside and rebuilds the residents
/// and status corrections that name households: a database with rows in all of them comes
/// out with every row as it was, the keys it keeps, and triggers for the keys it drops.
#[tokio::test]
async fn sqlite_0011_keeps_every_row() {
    let t = TestDb::sqlite_unmigrated().await;
    let Db::Sqlite(p) = &t.db else { unreachable!() };
    SQLITE.run_to(10, &p.write).await.unwrap();
    let db = &t.db;
    let w = world(db).await;
    let cat = catalog::load(db).await.unwrap();
    let h = households::create(db, &household(w.hamlets[0], "U-1", Barriers::default()), None).await.unwrap();
    let h2 = households::create(db, &household(w.hamlets[1], "U-2", Barriers::default()), None).await.unwrap();
    // The resident and their consent as the code of migration 10's day wrote them (today's
    // code writes columns added since).
    let r: i64 = sqlx::query_scalar(
        "INSERT INTO residents (household_id, full_name, birth_year, sex, youth_union, cccd_hash, cccd_last4, created_at, updated_at) \
         VALUES (?, 'Lê Thị Hoa', 1990, 'f', TRUE, 'hash-of-a-cccd', '6789', 1, 1) RETURNING id",
    )
    .bind(h)
    .fetch_one(&p.write)
    .await
    .unwrap();
    sqlx::query(
        "INSERT INTO rollups (unit_id, figure, period, shard, value) SELECT a.id, f.f, '', 0, 1 FROM units a \
         CROSS JOIN (SELECT 'residents' AS f UNION ALL SELECT 'youth_union') f \
         WHERE (SELECT path FROM units WHERE id = ?) LIKE a.path || '%'",
    )
    .bind(w.hamlets[0])
    .execute(&p.write)
    .await
    .unwrap();
    sqlx::query("INSERT INTO consents (household_id, resident_id, given_by, purposes, given_at, recorded_by) VALUES (?, ?, 'Lê Thị Hoa', 'outreach', 1, ?)")
        .bind(h)
        .bind(r)
        .bind(w.officer)
        .execute(&p.write)
        .await
        .unwrap();
    households::record_consent(db, h, None, "Nguyễn Văn A", "contact", Some(w.officer)).await.unwrap();
    let app = cat.service_by_code("citizen_app").unwrap();
    let v = visit(1, h, w.teams[0].0, T0, vec![outcome(&cat, "citizen_app", &app.statuses[0].code, 0)]);
    assert_eq!(visits::ingest(db, Some(w.officer), &[v], &|_, _| true).await.unwrap(), [Stored::New]);
    visits::correct_status(db, w.officer, app.id, h, 0, None, "nhập nhầm").await.unwrap();
    let tables = ["households", "residents", "consents", "status_corrections"];
    let mut before = Vec::new();
    for table in tables {
        before.push(rows(db, table).await);
    }
    assert!(before.iter().all(|r| !r.is_empty()), "{before:?}");

    // To 0011, the migration under test (later ones add columns).
    SQLITE.run_to(11, &p.write).await.unwrap();
    for (table, rows_before) in tables.iter().zip(&before) {
        assert_eq!(&rows(db, table).await, rows_before, "{table}");
    }
    let keys = |table: &'static str| async move {
        sqlx::query_scalar::<_, String>(
            "SELECT \"from\" || ' → ' || \"table\" FROM pragma_foreign_key_list($1) ORDER BY 1",
        )
        .bind(table)
        .fetch_all(&p.read)
        .await
        .unwrap()
    };
    assert_eq!(keys("households").await, Vec::<String>::new());
    assert_eq!(keys("consents").await, ["recorded_by → users", "resident_id → residents"]);
    assert_eq!(keys("residents").await, ["household_id → households"]);
    assert_eq!(
        keys("status_corrections").await,
        ["household_id → households", "service_id → services", "user_id → users"]
    );
    for (sql, id, named_by) in [
        ("DELETE FROM households WHERE id = $1", h2, "consents.household_id"),
        ("DELETE FROM units WHERE id = $1", w.hamlets[0], "households.unit_id"),
    ] {
        let e = sqlx::query(sql).bind(id).execute(&p.write).await.expect_err(sql).to_string();
        assert!(e.contains(&format!("still named by {named_by}")), "{sql}: {e}");
    }
    // The resident's key to its household holds still.
    let e = sqlx::query("UPDATE residents SET household_id = 999999 WHERE id = $1").bind(r).execute(&p.write).await;
    assert!(e.expect_err("a resident of no household").to_string().contains("FOREIGN KEY"));
    // And the check of today's code is clean once the rest of the migrations ran (0018
    // counts the residents by trait).
    db.migrate().await.unwrap();
    assert!(check::run(db).await.unwrap().is_empty(), "{:?}", check::run(db).await.unwrap());
}
