-- Creative models (mô hình sáng tạo) of the units: a digital street, digitised relics, a
-- contest, a seminar, a help counter… Their kinds and the figures they report are data, so a
-- province adds its own. A model moves proposed → running → evaluated, or stops; one copied
-- from another unit's names it.
CREATE TABLE model_kinds (
    id         BIGSERIAL PRIMARY KEY,
    code       TEXT    NOT NULL UNIQUE,
    name_vi    TEXT    NOT NULL,
    name_en    TEXT    NOT NULL,
    position   INTEGER NOT NULL DEFAULT 0,
    active     BOOLEAN NOT NULL DEFAULT TRUE
);
INSERT INTO model_kinds (code, name_vi, name_en, position) VALUES
    ('digital_street', 'Tuyến phố số', 'Digital street', 1),
    ('digital_heritage', 'Số hoá di tích', 'Digitised heritage', 2),
    ('contest', 'Cuộc thi', 'Contest', 3),
    ('seminar', 'Toạ đàm, hội thảo', 'Seminar', 4),
    ('help_counter', 'Quầy hỗ trợ người dân', 'Help counter', 5),
    ('other', 'Mô hình khác', 'Other', 6);

CREATE TABLE model_measures (
    id         BIGSERIAL PRIMARY KEY,
    code       TEXT    NOT NULL UNIQUE,
    name_vi    TEXT    NOT NULL,
    name_en    TEXT    NOT NULL,
    position   INTEGER NOT NULL DEFAULT 0
);
INSERT INTO model_measures (code, name_vi, name_en, position) VALUES
    ('people_served', 'Lượt người dân được phục vụ', 'People served', 1),
    ('qr_plaques', 'Biển mã QR đã gắn', 'QR plaques placed', 2),
    ('relics_digitised', 'Di tích đã số hoá', 'Relics digitised', 3),
    ('entries_received', 'Tác phẩm dự thi nhận được', 'Entries received', 4),
    ('participants', 'Người tham dự', 'Participants', 5);

CREATE TABLE models (
    id           BIGSERIAL PRIMARY KEY,
    unit_id      BIGINT  NOT NULL REFERENCES units (id),
    kind_id      BIGINT  NOT NULL REFERENCES model_kinds (id),
    name         TEXT    NOT NULL,
    name_key     TEXT    NOT NULL,
    description  TEXT    NOT NULL DEFAULT '',
    started_on   DATE,
    status       TEXT    NOT NULL CHECK (status IN ('proposed', 'running', 'evaluated', 'stopped')),
    -- Partners named, one a line (organisations, businesses, schools).
    partners     TEXT    NOT NULL DEFAULT '',
    copied_from  BIGINT  REFERENCES models (id),
    created_by   BIGINT  REFERENCES users (id),
    created_at   BIGINT  NOT NULL,
    updated_at   BIGINT  NOT NULL
);
CREATE INDEX models_unit ON models (unit_id, status);
CREATE INDEX models_kind ON models (kind_id, status);

-- A model's figures: one value a measure.
CREATE TABLE model_outcomes (
    model_id    BIGINT  NOT NULL REFERENCES models (id),
    measure_id  BIGINT  NOT NULL REFERENCES model_measures (id),
    value       BIGINT  NOT NULL CHECK (value >= 0),
    PRIMARY KEY (model_id, measure_id)
);

-- Links: a page, a video, a map.
CREATE TABLE model_links (
    model_id  BIGINT  NOT NULL REFERENCES models (id),
    position  INTEGER NOT NULL,
    url       TEXT    NOT NULL,
    title     TEXT    NOT NULL DEFAULT '',
    PRIMARY KEY (model_id, position)
);
