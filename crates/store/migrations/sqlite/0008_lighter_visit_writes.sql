-- Fewer pages and fewer lookups for each visit stored. SQLite has one writer: every page a
-- batch dirties and every lookup it makes is time no other batch can use.
--
-- 1. A visit's client-made id is unique within its household, no longer across every visit.
--    The ingest looks a visit up by (household, id), through an index ordered by household
--    like the one the household's visits are listed by. A team's upload names the households
--    of one hamlet, which have neighbouring ids, so its visits land on a few pages of each
--    index. A global index of random (v4) UUIDs put each visit of a batch on a page of its
--    own: at a million households, one more WAL frame per visit at every commit.
--    It also serves the users better. A replay is the same visit to the same household and
--    still changes nothing. A phone that made the same id for visits to two households (a
--    broken generator, say) no longer loses the second visit as a "duplicate" of the first.
--
-- 2. The references of the rows a visit writes are checked by the ingest, as on PostgreSQL
--    since 0007, instead of by foreign keys. The ingest runs under SQLite's write lock and
--    reads each visit's household, team, member and residents, and the statuses of its
--    services, before it writes; an outcome's visit is the row it has just inserted. The ten
--    foreign keys from visits, visit_outcomes and subject_statuses looked all of them up
--    again, row by row: a quarter of the writer's time in batches of visits. In their place a
--    trigger on each parent table refuses to delete a row that is still named, as the
--    foreign keys did. SQLite's writers take turns, so no visit can be stored between the
--    trigger's look and the delete.
--
-- SQLite can drop neither a UNIQUE nor a foreign key, so the three tables are rebuilt. The
-- outcomes, which refer to visits, are set aside first and put back last.
CREATE TEMP TABLE visit_outcomes_kept AS
    SELECT visit_seq, service_id, resident_id, status_id FROM visit_outcomes;
DROP TABLE visit_outcomes;

CREATE TABLE visits_new (
    seq          INTEGER PRIMARY KEY,
    id           TEXT    NOT NULL,
    household_id INTEGER NOT NULL,
    team_id      INTEGER NOT NULL,
    member_id    INTEGER,
    user_id      INTEGER,
    visited_at   INTEGER NOT NULL,
    month        TEXT    NOT NULL,
    result       TEXT    NOT NULL,
    barriers     INTEGER NOT NULL DEFAULT 0,
    note         TEXT    NOT NULL DEFAULT '',
    received_at  INTEGER NOT NULL
);
INSERT INTO visits_new (seq, id, household_id, team_id, member_id, user_id, visited_at, month, result, barriers, note, received_at)
    SELECT seq, id, household_id, team_id, member_id, user_id, visited_at, month, result, barriers, note, received_at FROM visits;
DROP TABLE visits;
ALTER TABLE visits_new RENAME TO visits;
CREATE UNIQUE INDEX visits_household_client_id ON visits (household_id, id);
CREATE INDEX visits_household ON visits (household_id, visited_at);

-- resident_id is 0 for a service whose subject is the household.
CREATE TABLE visit_outcomes (
    visit_seq   INTEGER NOT NULL,
    service_id  INTEGER NOT NULL,
    resident_id INTEGER NOT NULL DEFAULT 0,
    status_id   INTEGER NOT NULL,
    PRIMARY KEY (visit_seq, service_id, resident_id)
) WITHOUT ROWID;
INSERT INTO visit_outcomes (visit_seq, service_id, resident_id, status_id)
    SELECT visit_seq, service_id, resident_id, status_id FROM temp.visit_outcomes_kept;
DROP TABLE temp.visit_outcomes_kept;

CREATE TABLE subject_statuses_new (
    household_id INTEGER NOT NULL,
    service_id   INTEGER NOT NULL,
    resident_id  INTEGER NOT NULL DEFAULT 0,
    status_id    INTEGER NOT NULL,
    rank         INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL,
    PRIMARY KEY (household_id, service_id, resident_id)
) WITHOUT ROWID;
INSERT INTO subject_statuses_new (household_id, service_id, resident_id, status_id, rank, updated_at)
    SELECT household_id, service_id, resident_id, status_id, rank, updated_at FROM subject_statuses;
DROP TABLE subject_statuses;
ALTER TABLE subject_statuses_new RENAME TO subject_statuses;

-- One trigger for each foreign key that went, named after the parent and the child table.
CREATE TRIGGER households_named_by_visits BEFORE DELETE ON households
    WHEN EXISTS (SELECT 1 FROM visits WHERE household_id = OLD.id)
    BEGIN SELECT RAISE(ABORT, 'cannot delete from households: the row is still named by visits.household_id'); END;
CREATE TRIGGER households_named_by_subject_statuses BEFORE DELETE ON households
    WHEN EXISTS (SELECT 1 FROM subject_statuses WHERE household_id = OLD.id)
    BEGIN SELECT RAISE(ABORT, 'cannot delete from households: the row is still named by subject_statuses.household_id'); END;
CREATE TRIGGER teams_named_by_visits BEFORE DELETE ON teams
    WHEN EXISTS (SELECT 1 FROM visits WHERE team_id = OLD.id)
    BEGIN SELECT RAISE(ABORT, 'cannot delete from teams: the row is still named by visits.team_id'); END;
CREATE TRIGGER team_members_named_by_visits BEFORE DELETE ON team_members
    WHEN EXISTS (SELECT 1 FROM visits WHERE member_id = OLD.id)
    BEGIN SELECT RAISE(ABORT, 'cannot delete from team_members: the row is still named by visits.member_id'); END;
CREATE TRIGGER users_named_by_visits BEFORE DELETE ON users
    WHEN EXISTS (SELECT 1 FROM visits WHERE user_id = OLD.id)
    BEGIN SELECT RAISE(ABORT, 'cannot delete from users: the row is still named by visits.user_id'); END;
CREATE TRIGGER services_named_by_visit_outcomes BEFORE DELETE ON services
    WHEN EXISTS (SELECT 1 FROM visit_outcomes WHERE service_id = OLD.id)
    BEGIN SELECT RAISE(ABORT, 'cannot delete from services: the row is still named by visit_outcomes.service_id'); END;
CREATE TRIGGER services_named_by_subject_statuses BEFORE DELETE ON services
    WHEN EXISTS (SELECT 1 FROM subject_statuses WHERE service_id = OLD.id)
    BEGIN SELECT RAISE(ABORT, 'cannot delete from services: the row is still named by subject_statuses.service_id'); END;
CREATE TRIGGER service_statuses_named_by_visit_outcomes BEFORE DELETE ON service_statuses
    WHEN EXISTS (SELECT 1 FROM visit_outcomes WHERE status_id = OLD.id)
    BEGIN SELECT RAISE(ABORT, 'cannot delete from service_statuses: the row is still named by visit_outcomes.status_id'); END;
CREATE TRIGGER service_statuses_named_by_subject_statuses BEFORE DELETE ON service_statuses
    WHEN EXISTS (SELECT 1 FROM subject_statuses WHERE status_id = OLD.id)
    BEGIN SELECT RAISE(ABORT, 'cannot delete from service_statuses: the row is still named by subject_statuses.status_id'); END;
CREATE TRIGGER visits_named_by_visit_outcomes BEFORE DELETE ON visits
    WHEN EXISTS (SELECT 1 FROM visit_outcomes WHERE visit_seq = OLD.seq)
    BEGIN SELECT RAISE(ABORT, 'cannot delete from visits: the row is still named by visit_outcomes.visit_seq'); END;
