-- Roll-up figures compare byte by byte (as SQLite's do), so that the figures counted by
-- trait (`~…`, after every plain figure) are one index range away from the plain ones: a
-- read of a unit's plain figures no longer filters out its traits' rows one by one (16
-- shards of each on PostgreSQL). The key's index is rebuilt.
ALTER TABLE rollups ALTER COLUMN figure TYPE TEXT COLLATE "C";
