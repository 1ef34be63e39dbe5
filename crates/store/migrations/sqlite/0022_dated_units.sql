-- no-transaction
-- The tree across restructurings (Vietnam's of 2025-07-01 first). A code is unique among the
-- units that exist on the same day, not for ever: the General Statistics Office gave the new
-- units codes of units they replaced (the new Tây Ninh is 80, Long An's code). So the
-- UNIQUE on units.code goes; a partial unique index keeps one open unit per code, and ngoso
-- refuses two units of one code whose validity overlaps (units::create, import, restructure).
--
-- A restructuring is recorded (restructurings), and so is each household it moved
-- (household_moves: where the household was on the eve of the day), so that its visits stay
-- counted where they were reported and also where the household lives now, and `ngoso
-- check` can count both again. A successor may take a share of a split unit's figures
-- entered as aggregates (unit_successors.share, in hundredths of a percent).
--
-- SQLite cannot drop a UNIQUE constraint, so units is rebuilt. The table is named by foreign
-- keys of a dozen tables; a rebuild with those keys enforced would refuse to drop it, and
-- PRAGMA foreign_keys has no effect inside a transaction, so this migration runs outside
-- sqlx's transaction (the first line) and opens its own with the keys off, as SQLite's
-- documentation describes for changes ALTER TABLE cannot make. Every row is copied as it
-- was, so every key that named a unit still holds (the store's schema test reads them back).
PRAGMA foreign_keys = OFF;
BEGIN;
CREATE TABLE units_new (
    id          INTEGER PRIMARY KEY,
    code        TEXT    NOT NULL,
    name        TEXT    NOT NULL,
    name_key    TEXT    NOT NULL,
    name_sort   BLOB    NOT NULL,
    kind        TEXT    NOT NULL,
    parent_id   INTEGER REFERENCES units (id),
    path        TEXT    NOT NULL,
    depth       INTEGER NOT NULL,
    valid_from  TEXT,
    valid_to    TEXT,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
);
INSERT INTO units_new (id, code, name, name_key, name_sort, kind, parent_id, path, depth, valid_from, valid_to,
        created_at, updated_at)
    SELECT id, code, name, name_key, name_sort, kind, parent_id, path, depth, valid_from, valid_to, created_at,
        updated_at
    FROM units;
DROP TABLE units;
ALTER TABLE units_new RENAME TO units;
CREATE INDEX units_parent ON units (parent_id, name_sort);
CREATE INDEX units_path ON units (path);
CREATE INDEX units_code ON units (code);
CREATE UNIQUE INDEX units_code_open ON units (code) WHERE valid_to IS NULL;
CREATE TRIGGER units_named_by_households BEFORE DELETE ON units
    WHEN EXISTS (SELECT 1 FROM households WHERE unit_id = OLD.id)
    BEGIN SELECT RAISE(ABORT, 'cannot delete from units: the row is still named by households.unit_id'); END;

ALTER TABLE unit_successors ADD COLUMN share INTEGER;

CREATE TABLE restructurings (
    id         INTEGER PRIMARY KEY,
    effective  TEXT    NOT NULL,
    digest     TEXT    NOT NULL,
    summary    TEXT    NOT NULL,
    user_id    INTEGER REFERENCES users (id),
    created_at INTEGER NOT NULL
);
CREATE INDEX restructurings_effective ON restructurings (effective);

CREATE TABLE household_moves (
    household_id INTEGER NOT NULL,
    effective    TEXT    NOT NULL,
    from_unit_id INTEGER NOT NULL REFERENCES units (id),
    to_unit_id   INTEGER NOT NULL REFERENCES units (id),
    PRIMARY KEY (household_id, effective)
);
CREATE INDEX household_moves_from ON household_moves (from_unit_id);
CREATE TRIGGER households_named_by_household_moves BEFORE DELETE ON households
    WHEN EXISTS (SELECT 1 FROM household_moves WHERE household_id = OLD.id)
    BEGIN SELECT RAISE(ABORT, 'cannot delete from households: the row is still named by household_moves.household_id'); END;

COMMIT;
PRAGMA foreign_keys = ON;
