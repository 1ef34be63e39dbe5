-- A category's deadline may differ by the channel an item came in by (VIETNAM.md: deadlines
-- per category and channel, in working or calendar days). A row here overrides the
-- category's own deadline for one channel; without one, the category's applies.
CREATE TABLE feedback_channel_deadlines (
    category_id   BIGINT  NOT NULL REFERENCES feedback_categories (id),
    channel       TEXT    NOT NULL CHECK (channel IN ('web', 'open311', 'team', 'hotline')),
    deadline_days INTEGER NOT NULL CHECK (deadline_days >= 1),
    day_kind      TEXT    NOT NULL CHECK (day_kind IN ('working', 'calendar')),
    PRIMARY KEY (category_id, channel)
);
