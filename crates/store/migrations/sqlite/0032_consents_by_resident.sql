-- The rows that name a resident or a household through a foreign key, found by it. Each
-- resident or household deleted makes the database check that no row still names it, and
-- two such columns had no index, so each check read the whole table:
--
-- - `consents.resident_id`: taking back an import of 20,000 residents (`ngoso import undo`,
--   or an import that failed half way) on a province of a million households with their
--   consents had not finished after five minutes on PostgreSQL, nor after two on SQLite.
--   Partial: household consents (the million, with no resident) stay out of the index, so
--   importing households costs what it did; a look-up by resident (`resident_id = ?`,
--   which rules out NULL) can use it.
-- - `status_corrections.household_id`: with 2,000 corrections, deleting 20,000 households
--   (taking back their import) took 4.7 s instead of 2.4 s, and the more corrections, the
--   longer.
CREATE INDEX consents_resident ON consents (resident_id) WHERE resident_id IS NOT NULL;
CREATE INDEX status_corrections_household ON status_corrections (household_id);
