-- Feedback figures kept in step with the items, per leaf of the breakdown: unit (0: none),
-- category, agency (0: none) and month (Vietnam time). `received` counts items by the month
-- they came in, under their current agency; `answered` and `on_time` count answers by the
-- month they were published. `ngoso check` recounts them from the items.
CREATE TABLE feedback_counts (
    unit_id     BIGINT  NOT NULL,
    category_id BIGINT  NOT NULL,
    agency_id   BIGINT  NOT NULL,
    month       TEXT    NOT NULL,
    received    BIGINT  NOT NULL DEFAULT 0,
    answered    BIGINT  NOT NULL DEFAULT 0,
    on_time     BIGINT  NOT NULL DEFAULT 0,
    PRIMARY KEY (unit_id, category_id, agency_id, month)
);
