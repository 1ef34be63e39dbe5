-- The tree across restructurings (Vietnam's of 2025-07-01 first). A code is unique among the
-- units that exist on the same day, not for ever: the General Statistics Office gave the new
-- units codes of units they replaced (the new Tây Ninh is 80, Long An's code). So the
-- UNIQUE on units.code goes; a partial unique index keeps one open unit per code, and ngoso
-- refuses two units of one code whose validity overlaps (units::create, import, restructure).
--
-- A restructuring is recorded (restructurings), and so is each household it moved
-- (household_moves: where the household was on the eve of the day), so that its visits stay
-- counted where they were reported and also where the household lives now, and `ngoso
-- check` can count both again. A successor may take a share of a split unit's figures
-- entered as aggregates (unit_successors.share, in hundredths of a percent).
ALTER TABLE units DROP CONSTRAINT units_code_key;
CREATE INDEX units_code ON units (code);
CREATE UNIQUE INDEX units_code_open ON units (code) WHERE valid_to IS NULL;

ALTER TABLE unit_successors ADD COLUMN share INTEGER;

CREATE TABLE restructurings (
    id         BIGSERIAL PRIMARY KEY,
    effective  DATE    NOT NULL,
    digest     TEXT    NOT NULL,
    summary    TEXT    NOT NULL,
    user_id    BIGINT REFERENCES users (id),
    created_at BIGINT  NOT NULL
);
CREATE INDEX restructurings_effective ON restructurings (effective);

CREATE TABLE household_moves (
    household_id BIGINT NOT NULL,
    effective    DATE   NOT NULL,
    from_unit_id BIGINT NOT NULL REFERENCES units (id),
    to_unit_id   BIGINT NOT NULL REFERENCES units (id),
    PRIMARY KEY (household_id, effective)
);
CREATE INDEX household_moves_from ON household_moves (from_unit_id);
DROP TRIGGER households_still_named ON households;
CREATE TRIGGER households_still_named BEFORE DELETE ON households FOR EACH ROW
    EXECUTE FUNCTION refuse_delete_while_named('id', 'visits', 'household_id', 'subject_statuses', 'household_id',
        'consents', 'household_id', 'household_moves', 'household_id');
