-- A bulk import commits in chunks, so that the server's writes (visit uploads, feedback)
-- get the database between them, instead of waiting behind one transaction as long as the
-- whole file. The journal below says which rows each import wrote, so that an import that
-- fails half way (a code taken meanwhile, a lost connection, a killed process) can be taken
-- back whole: by the import itself when it fails, by `ngoso import undo ID` after a crash.
CREATE TABLE imports (
    id          BIGSERIAL PRIMARY KEY,
    kind        TEXT    NOT NULL CHECK (kind IN ('households', 'residents')),
    state       TEXT    NOT NULL CHECK (state IN ('running', 'done', 'undone')),
    rows        BIGINT  NOT NULL DEFAULT 0,
    actor       BIGINT  REFERENCES users (id),
    started_at  BIGINT  NOT NULL,
    finished_at BIGINT
);

-- The ids an import wrote, as runs of consecutive ids of its kind's table (one run per
-- chunk, or more where PostgreSQL's sequence handed ids out of order).
CREATE TABLE import_ranges (
    import_id BIGINT  NOT NULL REFERENCES imports (id),
    first_id  BIGINT  NOT NULL,
    last_id   BIGINT  NOT NULL CHECK (last_id >= first_id),
    PRIMARY KEY (import_id, first_id)
);
