-- Door-to-door outreach: the service catalogue, teams, households and residents, consent,
-- visits, subjects' statuses and the roll-ups kept in step with them.

CREATE TABLE services (
    id         INTEGER PRIMARY KEY,
    code       TEXT    NOT NULL UNIQUE,
    name_vi    TEXT    NOT NULL,
    name_en    TEXT    NOT NULL,
    subject    TEXT    NOT NULL CHECK (subject IN ('household', 'person')),
    position   INTEGER NOT NULL,
    active     BOOLEAN NOT NULL DEFAULT TRUE,
    created_at INTEGER NOT NULL
);

-- Ordered statuses of a service; rank 1 is the first step (no row: not started).
CREATE TABLE service_statuses (
    id         INTEGER PRIMARY KEY,
    service_id INTEGER NOT NULL REFERENCES services (id),
    code       TEXT    NOT NULL,
    name_vi    TEXT    NOT NULL,
    name_en    TEXT    NOT NULL,
    rank       INTEGER NOT NULL,
    UNIQUE (service_id, code),
    UNIQUE (service_id, rank)
);

CREATE TABLE teams (
    id         INTEGER PRIMARY KEY,
    unit_id    INTEGER NOT NULL REFERENCES units (id),
    name       TEXT    NOT NULL,
    name_key   TEXT    NOT NULL,
    name_sort  BLOB    NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE INDEX teams_unit ON teams (unit_id);

CREATE TABLE team_members (
    id          INTEGER PRIMARY KEY,
    team_id     INTEGER NOT NULL REFERENCES teams (id),
    full_name   TEXT    NOT NULL,
    name_sort   BLOB    NOT NULL,
    role        TEXT    NOT NULL,
    affiliation TEXT    NOT NULL,
    phone       TEXT,
    joined_on   TEXT    NOT NULL,
    left_on     TEXT,
    user_id     INTEGER REFERENCES users (id),
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
);
CREATE INDEX team_members_team ON team_members (team_id);
CREATE INDEX team_members_user ON team_members (user_id);

-- Personal fields (address, head_name) are NULL once anonymised; the counts stay.
CREATE TABLE households (
    id             INTEGER PRIMARY KEY,
    unit_id        INTEGER NOT NULL REFERENCES units (id),
    code           TEXT    NOT NULL UNIQUE,
    address        TEXT,
    head_name      TEXT,
    search_key     TEXT    NOT NULL DEFAULT '',
    size           INTEGER NOT NULL,
    smartphones    INTEGER NOT NULL,
    barriers       INTEGER NOT NULL DEFAULT 0,
    visit_count    INTEGER NOT NULL DEFAULT 0,
    last_visit_at  INTEGER,
    anonymized_at  INTEGER,
    created_at     INTEGER NOT NULL,
    updated_at     INTEGER NOT NULL
);
-- Only unit_id is indexed: visit counts and times change at every visit, and an unindexed
-- change lets PostgreSQL update the row in place (a HOT update) and SQLite skip index work.
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
CREATE INDEX residents_household ON residents (household_id);
CREATE UNIQUE INDEX residents_cccd ON residents (cccd_hash);

-- Who agreed to what, when; withdrawal is a date, the record stays (without the name once
-- the person's data is removed).
CREATE TABLE consents (
    id           INTEGER PRIMARY KEY,
    household_id INTEGER NOT NULL REFERENCES households (id),
    resident_id  INTEGER REFERENCES residents (id),
    given_by     TEXT    NOT NULL,
    purposes     TEXT    NOT NULL,
    given_at     INTEGER NOT NULL,
    recorded_by  INTEGER REFERENCES users (id),
    withdrawn_at INTEGER
);
CREATE INDEX consents_household ON consents (household_id);

-- `seq` orders visits as they arrive; `id` is the client's UUID. Outcomes refer to `seq`, so
-- that a batch's outcomes land on neighbouring pages whatever the UUIDs look like.
CREATE TABLE visits (
    seq          INTEGER PRIMARY KEY,
    id           TEXT    NOT NULL UNIQUE,
    household_id INTEGER NOT NULL REFERENCES households (id),
    team_id      INTEGER NOT NULL REFERENCES teams (id),
    member_id    INTEGER REFERENCES team_members (id),
    user_id      INTEGER REFERENCES users (id),
    visited_at   INTEGER NOT NULL,
    month        TEXT    NOT NULL,
    result       TEXT    NOT NULL,
    barriers     INTEGER NOT NULL DEFAULT 0,
    note         TEXT    NOT NULL DEFAULT '',
    received_at  INTEGER NOT NULL
);
CREATE INDEX visits_household ON visits (household_id, visited_at);

-- resident_id is 0 for a service whose subject is the household.
CREATE TABLE visit_outcomes (
    visit_seq   INTEGER NOT NULL REFERENCES visits (seq),
    service_id  INTEGER NOT NULL REFERENCES services (id),
    resident_id INTEGER NOT NULL DEFAULT 0,
    status_id   INTEGER NOT NULL REFERENCES service_statuses (id),
    PRIMARY KEY (visit_seq, service_id, resident_id)
);

-- The current status of each subject for each service: only moves forward, except by an
-- officer's correction.
CREATE TABLE subject_statuses (
    service_id   INTEGER NOT NULL REFERENCES services (id),
    household_id INTEGER NOT NULL REFERENCES households (id),
    resident_id  INTEGER NOT NULL DEFAULT 0,
    status_id    INTEGER NOT NULL REFERENCES service_statuses (id),
    rank         INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL,
    PRIMARY KEY (service_id, household_id, resident_id)
);
CREATE INDEX subject_statuses_household ON subject_statuses (household_id);

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

-- Figures of every unit, each ancestor included, kept in the same transaction as the
-- records they count. A figure is split over shards so that concurrent writers do not all
-- wait on one row; a read sums the shards.
CREATE TABLE rollups (
    unit_id INTEGER NOT NULL REFERENCES units (id),
    figure  TEXT    NOT NULL,
    period  TEXT    NOT NULL DEFAULT '',
    shard   INTEGER NOT NULL DEFAULT 0,
    value   INTEGER NOT NULL,
    PRIMARY KEY (unit_id, figure, period, shard)
);

INSERT INTO services (id, code, name_vi, name_en, subject, position, created_at) VALUES
    (1, 'citizen_app', 'Ứng dụng công dân của tỉnh', 'Provincial citizen app', 'household', 1, 0),
    (2, 'vneid_l2', 'Định danh điện tử VNeID mức 2', 'VNeID level-2 electronic identity', 'person', 2, 0),
    (3, 'vssid', 'Ứng dụng VssID (bảo hiểm xã hội)', 'VssID (social insurance app)', 'person', 3, 0),
    (4, 'cashless', 'Tài khoản thanh toán không tiền mặt', 'Cashless payment account', 'person', 4, 0),
    (5, 'digital_signature', 'Chữ ký số', 'Digital signature', 'person', 5, 0),
    (6, 'online_public_service', 'Dịch vụ công trực tuyến', 'Online public services', 'person', 6, 0),
    (7, 'digital_skills', 'Năm kỹ năng số cơ bản', 'The five basic digital skills', 'person', 7, 0);
INSERT INTO service_statuses (id, service_id, code, name_vi, name_en, rank) VALUES
    (1, 1, 'installed', 'Đã cài đặt', 'Installed', 1),
    (2, 2, 'collected', 'Đã thu nhận hồ sơ', 'Collected', 1),
    (3, 2, 'activated', 'Đã kích hoạt', 'Activated', 2),
    (4, 3, 'installed', 'Đã cài đặt', 'Installed', 1),
    (5, 4, 'opened', 'Đã mở tài khoản', 'Opened', 1),
    (6, 5, 'issued', 'Đã cấp', 'Issued', 1),
    (7, 6, 'used', 'Đã dùng ít nhất một lần', 'Used at least once', 1),
    (8, 7, 'trained', 'Đã được hướng dẫn', 'Trained', 1);
