-- Citizen feedback (phản ánh, kiến nghị): agencies, categories, routing, the working-day
-- calendar, the items with their append-only history, Open311 API keys and the outbox of
-- notifications written in the same transaction as each change.

CREATE TABLE agencies (
    id             BIGSERIAL PRIMARY KEY,
    code           TEXT    NOT NULL UNIQUE,
    name_vi        TEXT    NOT NULL,
    name_en        TEXT    NOT NULL,
    webhook_url    TEXT,
    webhook_secret TEXT,
    active         BOOLEAN NOT NULL DEFAULT TRUE,
    created_at     BIGINT NOT NULL
);

-- Agency staff answer for one agency.
ALTER TABLE users ADD COLUMN agency_id BIGINT REFERENCES agencies (id);

CREATE TABLE feedback_categories (
    id            BIGSERIAL PRIMARY KEY,
    code          TEXT    NOT NULL UNIQUE,
    name_vi       TEXT    NOT NULL,
    name_en       TEXT    NOT NULL,
    description_vi TEXT   NOT NULL DEFAULT '',
    description_en TEXT   NOT NULL DEFAULT '',
    deadline_days INTEGER NOT NULL,
    day_kind      TEXT    NOT NULL CHECK (day_kind IN ('working', 'calendar')),
    -- Extra fields asked of the citizen, as JSON (see ngoso_core::feedback::ExtraField).
    fields        TEXT    NOT NULL DEFAULT '[]',
    position      INTEGER NOT NULL,
    active        BOOLEAN NOT NULL DEFAULT TRUE,
    created_at    BIGINT NOT NULL
);

-- Category × unit subtree → agency. A NULL category is any category; a NULL unit the whole
-- tree. The most specific rule wins: the deepest unit, then a named category over any.
CREATE TABLE feedback_routes (
    id          BIGSERIAL PRIMARY KEY,
    category_id BIGINT REFERENCES feedback_categories (id),
    unit_id     BIGINT REFERENCES units (id),
    agency_id   BIGINT NOT NULL REFERENCES agencies (id),
    created_at  BIGINT NOT NULL
);
CREATE UNIQUE INDEX feedback_routes_key ON feedback_routes (COALESCE(category_id, 0), COALESCE(unit_id, 0));

-- Days that differ from the plain week: holidays, and weekend days declared working days.
CREATE TABLE calendar_days (
    day  TEXT PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('holiday', 'workday')),
    name TEXT NOT NULL DEFAULT ''
);

-- The last tracking number given out on each day (Vietnam time).
CREATE TABLE feedback_days (
    day  TEXT    PRIMARY KEY,
    last BIGINT  NOT NULL
);

CREATE TABLE feedback (
    id             BIGSERIAL PRIMARY KEY,
    code           TEXT    NOT NULL UNIQUE,
    category_id    BIGINT NOT NULL REFERENCES feedback_categories (id),
    unit_id        BIGINT REFERENCES units (id),
    address        TEXT,
    lat            DOUBLE PRECISION,
    lon            DOUBLE PRECISION,
    description    TEXT    NOT NULL,
    extra          TEXT    NOT NULL DEFAULT '{}',
    channel        TEXT    NOT NULL,
    -- Private contact: never shown publicly; removed on request.
    contact_name   TEXT,
    contact_phone  TEXT,
    contact_email  TEXT,
    consent_at     BIGINT,
    -- Hash of the key given to the citizen with the code, to rate the answer or add information.
    citizen_key_hash TEXT  NOT NULL,
    submitted_by   BIGINT REFERENCES users (id),
    api_key_id     BIGINT,
    agency_id      BIGINT REFERENCES agencies (id),
    state          TEXT    NOT NULL,
    pending        BOOLEAN NOT NULL,
    reason         TEXT,
    duplicate_of   BIGINT REFERENCES feedback (id),
    received_at    BIGINT NOT NULL,
    due_at         BIGINT NOT NULL,
    extended       BOOLEAN NOT NULL DEFAULT FALSE,
    updated_at     BIGINT NOT NULL,
    answered_at    BIGINT,
    closed_at      BIGINT,
    answer_draft   TEXT,
    drafted_by     BIGINT REFERENCES users (id),
    answer         TEXT,
    answered_by    BIGINT REFERENCES users (id),
    reviewed_by    BIGINT REFERENCES users (id),
    rating         TEXT,
    rated_at       BIGINT,
    hidden_reason  TEXT,
    has_photo      BOOLEAN NOT NULL DEFAULT FALSE
);
-- An agency's inbox, oldest deadline first, and the pending items of every agency.
CREATE INDEX feedback_agency_due ON feedback (agency_id, due_at) WHERE pending;
CREATE INDEX feedback_agency_recent ON feedback (agency_id, received_at);
CREATE INDEX feedback_unit ON feedback (unit_id);
CREATE INDEX feedback_received ON feedback (received_at);
-- The public list: answered items, newest first.
CREATE INDEX feedback_public ON feedback (answered_at) WHERE answer IS NOT NULL AND hidden_reason IS NULL;

CREATE TABLE feedback_photos (
    feedback_id BIGINT PRIMARY KEY REFERENCES feedback (id),
    mime        TEXT    NOT NULL,
    width       INTEGER NOT NULL,
    height      INTEGER NOT NULL,
    bytes       BYTEA    NOT NULL
);

-- Append-only: every change of an item, who made it and when.
CREATE TABLE feedback_history (
    id          BIGSERIAL PRIMARY KEY,
    feedback_id BIGINT NOT NULL REFERENCES feedback (id),
    at          BIGINT  NOT NULL,
    user_id     BIGINT REFERENCES users (id),
    action      TEXT    NOT NULL,
    from_state  TEXT,
    to_state    TEXT,
    agency_id   BIGINT REFERENCES agencies (id),
    detail      TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX feedback_history_item ON feedback_history (feedback_id, id);

-- Keys of Open311 clients; only a hash is kept.
CREATE TABLE api_keys (
    id           BIGSERIAL PRIMARY KEY,
    name         TEXT    NOT NULL,
    key_hash     TEXT    NOT NULL UNIQUE,
    prefix       TEXT    NOT NULL,
    created_by   BIGINT REFERENCES users (id),
    created_at   BIGINT NOT NULL,
    revoked_at   BIGINT,
    last_used_at BIGINT
);

-- Notifications to deliver (webhooks, messages to citizens), written in the same
-- transaction as the change they announce; a worker delivers them with retries.
CREATE TABLE outbox (
    id              BIGSERIAL PRIMARY KEY,
    kind            TEXT    NOT NULL,
    target          TEXT    NOT NULL,
    feedback_id     BIGINT REFERENCES feedback (id),
    payload         TEXT    NOT NULL,
    created_at      BIGINT NOT NULL,
    next_attempt_at BIGINT NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    delivered_at    BIGINT,
    gave_up_at      BIGINT,
    last_error      TEXT
);
CREATE INDEX outbox_due ON outbox (next_attempt_at) WHERE delivered_at IS NULL AND gave_up_at IS NULL;

CREATE TABLE outbox_attempts (
    id          BIGSERIAL PRIMARY KEY,
    outbox_id   BIGINT NOT NULL REFERENCES outbox (id),
    at          BIGINT  NOT NULL,
    status      INTEGER,
    error       TEXT,
    duration_ms BIGINT NOT NULL
);
CREATE INDEX outbox_attempts_item ON outbox_attempts (outbox_id);
