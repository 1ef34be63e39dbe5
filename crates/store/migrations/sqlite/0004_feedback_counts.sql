-- Feedback figures kept in step with the items, per leaf of the breakdown: unit (0: none),
-- category, agency (0: none) and month (Vietnam time). `received` counts items by the month
-- they came in, under their current agency; `answered` and `on_time` count answers by the
-- month they were published. `ngoso check` recounts them from the items.
CREATE TABLE feedback_counts (
    unit_id     INTEGER NOT NULL,
    category_id INTEGER NOT NULL,
    agency_id   INTEGER NOT NULL,
    month       TEXT    NOT NULL,
    received    INTEGER NOT NULL DEFAULT 0,
    answered    INTEGER NOT NULL DEFAULT 0,
    on_time     INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (unit_id, category_id, agency_id, month)
);
