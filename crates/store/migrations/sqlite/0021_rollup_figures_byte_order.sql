-- PostgreSQL's roll-up figures compare byte by byte from here, as SQLite's always have:
-- nothing to do here.
SELECT 1;
