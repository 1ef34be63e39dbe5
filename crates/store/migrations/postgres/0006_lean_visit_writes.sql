-- Fewer writes per visit (see the SQLite migration of the same name).
--
-- 1. A household's visit count and last visit are read from the visits themselves (the
--    index visits_household answers both), no longer copied into the household's row,
--    which every visit rewrote.
ALTER TABLE households DROP COLUMN visit_count, DROP COLUMN last_visit_at;

-- 2. Current statuses keyed by household first: the primary key serves the lookups by
--    household, and the separate index on household goes.
ALTER TABLE subject_statuses DROP CONSTRAINT subject_statuses_pkey;
ALTER TABLE subject_statuses ADD PRIMARY KEY (household_id, service_id, resident_id);
DROP INDEX subject_statuses_household;
