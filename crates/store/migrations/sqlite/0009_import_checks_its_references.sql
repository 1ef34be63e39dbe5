-- On PostgreSQL this migration replaces the foreign keys from households to units and from
-- consents to households with ngoso's own checks (see the PostgreSQL migration of the same
-- name). SQLite keeps them: each check is a direct lookup in the parent's B-tree, and its
-- import is within 2.5× of `sqlite3 .import` with them. Nothing changes here; the file keeps
-- the two lists of migrations in step.
SELECT 1;
