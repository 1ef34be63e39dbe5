-- Evaluations of creative models against a set of criteria (the sets and their criteria are
-- data; the default one weighs what the report values), and awards to a model, a team or a
-- team member at a level.
CREATE TABLE criteria_sets (
    id       INTEGER PRIMARY KEY,
    code     TEXT NOT NULL UNIQUE,
    name_vi  TEXT NOT NULL,
    name_en  TEXT NOT NULL
);
CREATE TABLE criteria (
    id         INTEGER PRIMARY KEY,
    set_id     BIGINT  NOT NULL REFERENCES criteria_sets (id),
    code       TEXT    NOT NULL,
    name_vi    TEXT    NOT NULL,
    name_en    TEXT    NOT NULL,
    max_score  INTEGER NOT NULL CHECK (max_score > 0),
    position   INTEGER NOT NULL DEFAULT 0,
    UNIQUE (set_id, code)
);
INSERT INTO criteria_sets (code, name_vi, name_en) VALUES ('creative_model', 'Đánh giá mô hình sáng tạo', 'Creative model evaluation');
INSERT INTO criteria (set_id, code, name_vi, name_en, max_score, position) VALUES
    ((SELECT id FROM criteria_sets WHERE code = 'creative_model'), 'effectiveness', 'Hiệu quả đối với người dân', 'Effect on citizens', 30, 1),
    ((SELECT id FROM criteria_sets WHERE code = 'creative_model'), 'reach', 'Số người được phục vụ', 'People reached', 25, 2),
    ((SELECT id FROM criteria_sets WHERE code = 'creative_model'), 'replicability', 'Khả năng nhân rộng', 'Can be copied elsewhere', 25, 3),
    ((SELECT id FROM criteria_sets WHERE code = 'creative_model'), 'sustainability', 'Tính bền vững', 'Sustainability', 20, 4);

CREATE TABLE evaluations (
    id            INTEGER PRIMARY KEY,
    model_id      BIGINT  NOT NULL REFERENCES models (id),
    set_id        BIGINT  NOT NULL REFERENCES criteria_sets (id),
    reviewer_id   BIGINT  REFERENCES users (id),
    reviewer      TEXT    NOT NULL,
    evaluated_on  TEXT   NOT NULL,
    comment       TEXT    NOT NULL DEFAULT '',
    total         INTEGER NOT NULL,
    max_total     INTEGER NOT NULL,
    created_at    BIGINT  NOT NULL
);
CREATE INDEX evaluations_model ON evaluations (model_id, evaluated_on);
CREATE TABLE evaluation_scores (
    evaluation_id  BIGINT  NOT NULL REFERENCES evaluations (id),
    criterion_id   BIGINT  NOT NULL REFERENCES criteria (id),
    score          INTEGER NOT NULL CHECK (score >= 0),
    PRIMARY KEY (evaluation_id, criterion_id)
);

CREATE TABLE awards (
    id          INTEGER PRIMARY KEY,
    title       TEXT    NOT NULL,
    level       TEXT    NOT NULL CHECK (level IN ('commune', 'district', 'province', 'national')),
    awarded_on  TEXT   NOT NULL,
    unit_id     BIGINT  NOT NULL REFERENCES units (id),
    model_id    BIGINT  REFERENCES models (id),
    team_id     BIGINT  REFERENCES teams (id),
    member_id   BIGINT  REFERENCES team_members (id),
    created_by  BIGINT  REFERENCES users (id),
    -- Exactly one of the three names who is awarded (the store checks it).
    created_at  BIGINT  NOT NULL
);
CREATE INDEX awards_unit ON awards (unit_id, awarded_on);
