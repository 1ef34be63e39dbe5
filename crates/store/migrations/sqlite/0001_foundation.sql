-- The administrative tree, accounts, sessions, API tokens, login throttling and the audit log.
-- Timestamps are Unix seconds (UTC); dates are ISO text; paths are '/id/id/…/'.

CREATE TABLE units (
    id          INTEGER PRIMARY KEY,
    code        TEXT    NOT NULL UNIQUE,
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
CREATE INDEX units_parent ON units (parent_id, name_sort);
CREATE INDEX units_path ON units (path);

CREATE TABLE unit_successors (
    unit_id      INTEGER NOT NULL REFERENCES units (id),
    successor_id INTEGER NOT NULL REFERENCES units (id),
    PRIMARY KEY (unit_id, successor_id)
);

CREATE TABLE users (
    id            INTEGER PRIMARY KEY,
    username      TEXT    NOT NULL UNIQUE,
    display_name  TEXT    NOT NULL,
    password_hash TEXT    NOT NULL,
    role          TEXT    NOT NULL,
    unit_id       INTEGER REFERENCES units (id),
    disabled      BOOLEAN NOT NULL DEFAULT FALSE,
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL
);
CREATE INDEX users_unit ON users (unit_id);

CREATE TABLE sessions (
    token_hash   TEXT    PRIMARY KEY,
    user_id      INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at   INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL,
    last_seen_at INTEGER NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id);
CREATE INDEX sessions_expiry ON sessions (expires_at);

CREATE TABLE api_tokens (
    id           INTEGER PRIMARY KEY,
    user_id      INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name         TEXT    NOT NULL,
    token_hash   TEXT    NOT NULL UNIQUE,
    created_at   INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL,
    revoked_at   INTEGER,
    last_used_at INTEGER
);
CREATE INDEX api_tokens_user ON api_tokens (user_id);

CREATE TABLE login_failures (
    id           INTEGER PRIMARY KEY,
    username_key TEXT    NOT NULL,
    client       TEXT    NOT NULL,
    at           INTEGER NOT NULL
);
CREATE INDEX login_failures_user ON login_failures (username_key, at);
CREATE INDEX login_failures_client ON login_failures (client, at);

CREATE TABLE audit_log (
    id          INTEGER PRIMARY KEY,
    at          INTEGER NOT NULL,
    user_id     INTEGER REFERENCES users (id),
    action      TEXT    NOT NULL,
    object_type TEXT    NOT NULL,
    object_id   TEXT    NOT NULL,
    detail      TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX audit_log_object ON audit_log (object_type, object_id);
CREATE INDEX audit_log_user ON audit_log (user_id, at);

-- Instance-wide values shared by every process (the secret that signs CSRF tokens…).
CREATE TABLE settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
