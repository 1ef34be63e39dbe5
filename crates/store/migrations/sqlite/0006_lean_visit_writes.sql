-- Fewer pages written per visit. At a million households every visit of a batch lands on a
-- different page of each tree it touches, and every such page is a WAL frame at commit.
--
-- 1. A household's visit count and last visit are read from the visits themselves (the
--    index visits_household answers both), no longer copied into the household's row,
--    which every visit rewrote.
ALTER TABLE households DROP COLUMN visit_count;
ALTER TABLE households DROP COLUMN last_visit_at;

-- 2. Current statuses in one tree keyed by household (it served three: the table, its
--    primary key and an index by household).
CREATE TABLE subject_statuses_new (
    household_id INTEGER NOT NULL REFERENCES households (id),
    service_id   INTEGER NOT NULL REFERENCES services (id),
    resident_id  INTEGER NOT NULL DEFAULT 0,
    status_id    INTEGER NOT NULL REFERENCES service_statuses (id),
    rank         INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL,
    PRIMARY KEY (household_id, service_id, resident_id)
) WITHOUT ROWID;
INSERT INTO subject_statuses_new (household_id, service_id, resident_id, status_id, rank, updated_at)
    SELECT household_id, service_id, resident_id, status_id, rank, updated_at FROM subject_statuses;
DROP TABLE subject_statuses;
ALTER TABLE subject_statuses_new RENAME TO subject_statuses;

-- 3. Roll-ups and visit outcomes: the primary key is the table (one tree, not two).
CREATE TABLE rollups_new (
    unit_id INTEGER NOT NULL REFERENCES units (id),
    figure  TEXT    NOT NULL,
    period  TEXT    NOT NULL DEFAULT '',
    shard   INTEGER NOT NULL DEFAULT 0,
    value   INTEGER NOT NULL,
    PRIMARY KEY (unit_id, figure, period, shard)
) WITHOUT ROWID;
INSERT INTO rollups_new (unit_id, figure, period, shard, value) SELECT unit_id, figure, period, shard, value FROM rollups;
DROP TABLE rollups;
ALTER TABLE rollups_new RENAME TO rollups;

CREATE TABLE visit_outcomes_new (
    visit_seq   INTEGER NOT NULL REFERENCES visits (seq),
    service_id  INTEGER NOT NULL REFERENCES services (id),
    resident_id INTEGER NOT NULL DEFAULT 0,
    status_id   INTEGER NOT NULL REFERENCES service_statuses (id),
    PRIMARY KEY (visit_seq, service_id, resident_id)
) WITHOUT ROWID;
INSERT INTO visit_outcomes_new (visit_seq, service_id, resident_id, status_id)
    SELECT visit_seq, service_id, resident_id, status_id FROM visit_outcomes;
DROP TABLE visit_outcomes;
ALTER TABLE visit_outcomes_new RENAME TO visit_outcomes;
