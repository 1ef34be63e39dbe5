-- The administrative tree, accounts, sessions, API tokens, login throttling and the audit log.
-- Timestamps are Unix seconds (UTC); paths are '/id/id/…/' compared byte-wise (COLLATE "C").

CREATE TABLE units (
    id          BIGSERIAL PRIMARY KEY,
    code        TEXT    NOT NULL UNIQUE,
    name        TEXT    NOT NULL,
    name_key    TEXT    NOT NULL,
    name_sort   BYTEA   NOT NULL,
    kind        TEXT    NOT NULL,
    parent_id   BIGINT REFERENCES units (id),
    path        TEXT COLLATE "C" NOT NULL,
    depth       INTEGER NOT NULL,
    valid_from  DATE,
    valid_to    DATE,
    created_at  BIGINT  NOT NULL,
    updated_at  BIGINT  NOT NULL
);
CREATE INDEX units_parent ON units (parent_id, name_sort);
CREATE INDEX units_path ON units (path);

CREATE TABLE unit_successors (
    unit_id      BIGINT NOT NULL REFERENCES units (id),
    successor_id BIGINT NOT NULL REFERENCES units (id),
    PRIMARY KEY (unit_id, successor_id)
);

CREATE TABLE users (
    id            BIGSERIAL PRIMARY KEY,
    username      TEXT    NOT NULL UNIQUE,
    display_name  TEXT    NOT NULL,
    password_hash TEXT    NOT NULL,
    role          TEXT    NOT NULL,
    unit_id       BIGINT REFERENCES units (id),
    disabled      BOOLEAN NOT NULL DEFAULT FALSE,
    created_at    BIGINT  NOT NULL,
    updated_at    BIGINT  NOT NULL
);
CREATE INDEX users_unit ON users (unit_id);

CREATE TABLE sessions (
    token_hash   TEXT   PRIMARY KEY,
    user_id      BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at   BIGINT NOT NULL,
    expires_at   BIGINT NOT NULL,
    last_seen_at BIGINT NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id);
CREATE INDEX sessions_expiry ON sessions (expires_at);

CREATE TABLE api_tokens (
    id           BIGSERIAL PRIMARY KEY,
    user_id      BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name         TEXT   NOT NULL,
    token_hash   TEXT   NOT NULL UNIQUE,
    created_at   BIGINT NOT NULL,
    expires_at   BIGINT NOT NULL,
    revoked_at   BIGINT,
    last_used_at BIGINT
);
CREATE INDEX api_tokens_user ON api_tokens (user_id);

CREATE TABLE login_failures (
    id           BIGSERIAL PRIMARY KEY,
    username_key TEXT   NOT NULL,
    client       TEXT   NOT NULL,
    at           BIGINT NOT NULL
);
CREATE INDEX login_failures_user ON login_failures (username_key, at);
CREATE INDEX login_failures_client ON login_failures (client, at);

CREATE TABLE audit_log (
    id          BIGSERIAL PRIMARY KEY,
    at          BIGINT NOT NULL,
    user_id     BIGINT REFERENCES users (id),
    action      TEXT   NOT NULL,
    object_type TEXT   NOT NULL,
    object_id   TEXT   NOT NULL,
    detail      TEXT   NOT NULL DEFAULT ''
);
CREATE INDEX audit_log_object ON audit_log (object_type, object_id);
CREATE INDEX audit_log_user ON audit_log (user_id, at);

-- Instance-wide values shared by every process (the secret that signs CSRF tokens…).
CREATE TABLE settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
