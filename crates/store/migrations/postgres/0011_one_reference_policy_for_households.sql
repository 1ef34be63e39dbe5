-- One policy for the references of households and consents on both backends: the SQLite
-- migration of the same name makes SQLite do what PostgreSQL has done since 0009 (no foreign
-- key from households to units nor from consents to households; triggers refuse deleting a
-- row still named; `ngoso check` lists a row that names a missing one). Nothing changes
-- here; the file keeps the two lists of migrations in step.
--
-- Corrections to earlier comments, which cannot be edited (sqlx keeps each applied
-- migration's checksum): 0007 says SQLite keeps the foreign keys of the visit tables, but
-- SQLite's 0008 dropped them. See migrations/README.md.
SELECT 1;
