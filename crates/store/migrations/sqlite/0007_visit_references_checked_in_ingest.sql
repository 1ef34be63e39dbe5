-- On PostgreSQL this migration replaces the foreign keys from visits, visit_outcomes and
-- subject_statuses with the ingest's own checks (see the PostgreSQL migration of the same
-- name). SQLite keeps them: each check is a direct lookup in the parent's B-tree, with no
-- lock to take. Nothing changes here; the file keeps the two lists of migrations in step.
SELECT 1;
