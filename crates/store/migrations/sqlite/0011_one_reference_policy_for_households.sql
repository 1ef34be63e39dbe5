-- One policy for the references of households and consents on both backends: SQLite now
-- does what PostgreSQL has done since 0009. A household's unit and a consent's household are
-- checked by ngoso itself (the import resolves each row's unit and numbers the households it
-- writes; households::create and households::record_consent look the row up in their
-- transaction), not by a foreign key looked up again for every row written: a trigger
-- refuses to delete a unit still named by a household and a household still named by a
-- consent, and `ngoso check` lists any row that names a missing one. The figures of the
-- household import with and without the two keys are in migrations/README.md.
--
-- Corrections to earlier comments, which cannot be edited (sqlx keeps each applied
-- migration's checksum and refuses a database whose applied migration changed): 0007 (both
-- files) says SQLite keeps the foreign keys of visits, visit_outcomes and subject_statuses,
-- but SQLite's 0008 dropped them; SQLite's 0009 says SQLite keeps the keys of households and
-- consents, which this migration drops.
--
-- SQLite cannot drop a foreign key, so households and consents are rebuilt. The tables that
-- name households by a key of their own (residents, status_corrections, and the consents)
-- are set aside first, since DROP TABLE households would refuse while they name its rows;
-- residents and status_corrections come back exactly as they were, with their keys.
CREATE TEMP TABLE consents_kept AS
    SELECT id, household_id, resident_id, given_by, purposes, given_at, recorded_by, withdrawn_at FROM consents;
DROP TABLE consents;
CREATE TEMP TABLE status_corrections_kept AS
    SELECT id, service_id, household_id, resident_id, from_status_id, to_status_id, reason, user_id, at
    FROM status_corrections;
DROP TABLE status_corrections;
CREATE TEMP TABLE residents_kept AS
    SELECT id, household_id, full_name, name_sort, search_key, birth_year, sex, youth_union, cccd_hash, cccd_last4,
        phone, anonymized_at, created_at, updated_at
    FROM residents;
DROP TABLE residents;

CREATE TABLE households_new (
    id             INTEGER PRIMARY KEY,
    unit_id        INTEGER NOT NULL,
    code           TEXT    NOT NULL UNIQUE,
    address        TEXT,
    head_name      TEXT,
    search_key     TEXT    NOT NULL DEFAULT '',
    size           INTEGER NOT NULL,
    smartphones    INTEGER NOT NULL,
    barriers       INTEGER NOT NULL DEFAULT 0,
    anonymized_at  INTEGER,
    created_at     INTEGER NOT NULL,
    updated_at     INTEGER NOT NULL
);
INSERT INTO households_new (id, unit_id, code, address, head_name, search_key, size, smartphones, barriers,
        anonymized_at, created_at, updated_at)
    SELECT id, unit_id, code, address, head_name, search_key, size, smartphones, barriers, anonymized_at, created_at,
        updated_at
    FROM households;
DROP TABLE households;
ALTER TABLE households_new RENAME TO households;
CREATE INDEX households_unit ON households (unit_id);

CREATE TABLE residents (
    id            INTEGER PRIMARY KEY,
    household_id  INTEGER NOT NULL REFERENCES households (id),
    full_name     TEXT,
    name_sort     BLOB,
    search_key    TEXT    NOT NULL DEFAULT '',
    birth_year    INTEGER,
    sex           TEXT,
    youth_union   BOOLEAN NOT NULL DEFAULT FALSE,
    cccd_hash     TEXT,
    cccd_last4    TEXT,
    phone         TEXT,
    anonymized_at INTEGER,
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL
);
INSERT INTO residents (id, household_id, full_name, name_sort, search_key, birth_year, sex, youth_union, cccd_hash,
        cccd_last4, phone, anonymized_at, created_at, updated_at)
    SELECT id, household_id, full_name, name_sort, search_key, birth_year, sex, youth_union, cccd_hash, cccd_last4,
        phone, anonymized_at, created_at, updated_at
    FROM temp.residents_kept;
DROP TABLE temp.residents_kept;
CREATE INDEX residents_household ON residents (household_id);
CREATE UNIQUE INDEX residents_cccd ON residents (cccd_hash);

CREATE TABLE status_corrections (
    id             INTEGER PRIMARY KEY,
    service_id     INTEGER NOT NULL REFERENCES services (id),
    household_id   INTEGER NOT NULL REFERENCES households (id),
    resident_id    INTEGER NOT NULL DEFAULT 0,
    from_status_id INTEGER,
    to_status_id   INTEGER,
    reason         TEXT    NOT NULL,
    user_id        INTEGER REFERENCES users (id),
    at             INTEGER NOT NULL
);
INSERT INTO status_corrections (id, service_id, household_id, resident_id, from_status_id, to_status_id, reason,
        user_id, at)
    SELECT id, service_id, household_id, resident_id, from_status_id, to_status_id, reason, user_id, at
    FROM temp.status_corrections_kept;
DROP TABLE temp.status_corrections_kept;

CREATE TABLE consents (
    id           INTEGER PRIMARY KEY,
    household_id INTEGER NOT NULL,
    resident_id  INTEGER REFERENCES residents (id),
    given_by     TEXT    NOT NULL,
    purposes     TEXT    NOT NULL,
    given_at     INTEGER NOT NULL,
    recorded_by  INTEGER REFERENCES users (id),
    withdrawn_at INTEGER
);
INSERT INTO consents (id, household_id, resident_id, given_by, purposes, given_at, recorded_by, withdrawn_at)
    SELECT id, household_id, resident_id, given_by, purposes, given_at, recorded_by, withdrawn_at
    FROM temp.consents_kept;
DROP TABLE temp.consents_kept;
CREATE INDEX consents_household ON consents (household_id);

-- The triggers of 0008 on households went with the old table; with them, one trigger for
-- each foreign key that went here, named after the parent and the child table. SQLite's
-- writers take turns, so no row can be written between a trigger's look and the delete.
CREATE TRIGGER households_named_by_visits BEFORE DELETE ON households
    WHEN EXISTS (SELECT 1 FROM visits WHERE household_id = OLD.id)
    BEGIN SELECT RAISE(ABORT, 'cannot delete from households: the row is still named by visits.household_id'); END;
CREATE TRIGGER households_named_by_subject_statuses BEFORE DELETE ON households
    WHEN EXISTS (SELECT 1 FROM subject_statuses WHERE household_id = OLD.id)
    BEGIN SELECT RAISE(ABORT, 'cannot delete from households: the row is still named by subject_statuses.household_id'); END;
CREATE TRIGGER households_named_by_consents BEFORE DELETE ON households
    WHEN EXISTS (SELECT 1 FROM consents WHERE household_id = OLD.id)
    BEGIN SELECT RAISE(ABORT, 'cannot delete from households: the row is still named by consents.household_id'); END;
CREATE TRIGGER units_named_by_households BEFORE DELETE ON units
    WHEN EXISTS (SELECT 1 FROM households WHERE unit_id = OLD.id)
    BEGIN SELECT RAISE(ABORT, 'cannot delete from units: the row is still named by households.unit_id'); END;
