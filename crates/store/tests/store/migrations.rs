//! The migrations themselves: the same names on both backends, and no applied one edited.

use sqlx::migrate::Migrator;

static SQLITE: Migrator = sqlx::migrate!("migrations/sqlite");
static POSTGRES: Migrator = sqlx::migrate!("migrations/postgres");

/// sqlx's checksum (SHA-384 of the file) of every migration released: (version, SQLite's,
/// PostgreSQL's). sqlx keeps each applied migration's checksum and refuses to migrate a
/// database whose applied migration has changed since, so these files never change: a fix
/// is a new migration. Add a migration's checksums here when it is committed.
const RELEASED: [(i64, &str, &str); 10] = [
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
