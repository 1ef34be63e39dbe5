-- A creative model's photos (JPEG or PNG, stripped of their metadata as feedback photos are)
-- and the team members who run it. Members' names are personal data: the model names them
-- by their id.
CREATE TABLE model_photos (
    id        BIGSERIAL PRIMARY KEY,
    model_id  BIGINT  NOT NULL REFERENCES models (id),
    caption   TEXT    NOT NULL DEFAULT '',
    mime      TEXT    NOT NULL,
    width     INTEGER NOT NULL,
    height    INTEGER NOT NULL,
    bytes     BYTEA   NOT NULL,
    added_at  BIGINT  NOT NULL
);
CREATE INDEX model_photos_model ON model_photos (model_id);

CREATE TABLE model_members (
    model_id   BIGINT NOT NULL REFERENCES models (id),
    member_id  BIGINT NOT NULL REFERENCES team_members (id),
    PRIMARY KEY (model_id, member_id)
);
CREATE INDEX model_members_member ON model_members (member_id);
