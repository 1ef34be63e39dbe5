-- A visit's client-made id is unique within its household, no longer across every visit (see
-- the SQLite migration of the same name for why). The ingest locks a batch's households
-- before it reads, so two writers storing the same visit still take turns, and the second
-- finds the first's copy. (The SQLite migration also drops the foreign keys that 0007 dropped
-- here.)
ALTER TABLE visits DROP CONSTRAINT visits_id_key;
CREATE UNIQUE INDEX visits_household_client_id ON visits (household_id, id);
