-- A photo given by its address (Open311's `media_url`) is fetched once, in the background,
-- and kept like an uploaded one. Each address waits here with its state: `waiting`, `done`
-- (the photo is in feedback_photos) or `failed` with the reason (a private address, a
-- redirect to one, too large, not an image, no answer): a failure is recorded, never fatal.
CREATE TABLE feedback_media (
    id          BIGSERIAL PRIMARY KEY,
    feedback_id BIGINT  NOT NULL REFERENCES feedback (id),
    url         TEXT    NOT NULL,
    state       TEXT    NOT NULL DEFAULT 'waiting' CHECK (state IN ('waiting', 'done', 'failed')),
    error       TEXT,
    attempts    INTEGER NOT NULL DEFAULT 0,
    created_at  BIGINT  NOT NULL,
    done_at     BIGINT
);
CREATE INDEX feedback_media_waiting ON feedback_media (id) WHERE state = 'waiting';
CREATE INDEX feedback_media_item ON feedback_media (feedback_id);
