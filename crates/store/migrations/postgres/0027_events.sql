-- Trainings and events of the units: training sessions, contests, seminars, help counters
-- (with their opening days) and campaigns, with the team members who attended and the
-- citizens served, by sex and age band where known (NULL: not known).
CREATE TABLE events (
    id               BIGSERIAL PRIMARY KEY,
    unit_id          BIGINT  NOT NULL REFERENCES units (id),
    kind             TEXT    NOT NULL CHECK (kind IN ('training', 'contest', 'seminar', 'help_counter', 'campaign')),
    title            TEXT    NOT NULL,
    topic            TEXT    NOT NULL DEFAULT '',
    place            TEXT    NOT NULL DEFAULT '',
    organiser        TEXT    NOT NULL DEFAULT '',
    starts_on        DATE   NOT NULL,
    ends_on          DATE,
    -- Help counters: the days they open (mon … sun, comma-separated).
    opening_days     TEXT    NOT NULL DEFAULT '',
    citizens_served  BIGINT  NOT NULL DEFAULT 0 CHECK (citizens_served >= 0),
    served_male      BIGINT,
    served_female    BIGINT,
    served_under_18  BIGINT,
    served_18_59     BIGINT,
    served_60_plus   BIGINT,
    created_by       BIGINT  REFERENCES users (id),
    created_at       BIGINT  NOT NULL,
    updated_at       BIGINT  NOT NULL
);
CREATE INDEX events_unit ON events (unit_id, starts_on);

CREATE TABLE event_attendance (
    event_id   BIGINT NOT NULL REFERENCES events (id),
    member_id  BIGINT NOT NULL REFERENCES team_members (id),
    PRIMARY KEY (event_id, member_id)
);
CREATE INDEX event_attendance_member ON event_attendance (member_id);
