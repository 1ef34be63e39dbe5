-- The references of imported households and their consents are checked by ngoso itself,
-- instead of by foreign keys row by row.
--
-- `ngoso import households` resolves each row's unit from the units table and numbers the
-- households itself; a consent names a household made by the same import, or by
-- `households::create`, which checks its unit in the same transaction. ngoso deletes no
-- unit, household or consent. The two foreign keys repeated those checks, once for each row
-- of a COPY: an executor run and a share lock on a row, a million times each. In one COPY of
-- 1,000,000 households and their consents they took 7.4 s of 11.6 s.
--
-- In their place, as in 0007: a trigger refuses to delete a unit still named by a household,
-- and a household still named by a consent (the households' trigger is made again with the
-- consents added), and `ngoso check` lists any row that names a missing one. The residents
-- keep their foreign key to the households: residents are imported less often, in smaller
-- numbers.
ALTER TABLE households DROP CONSTRAINT households_unit_id_fkey;
ALTER TABLE consents DROP CONSTRAINT consents_household_id_fkey;

DROP TRIGGER households_still_named ON households;
CREATE TRIGGER households_still_named BEFORE DELETE ON households FOR EACH ROW
    EXECUTE FUNCTION refuse_delete_while_named('id', 'visits', 'household_id', 'subject_statuses', 'household_id',
        'consents', 'household_id');
CREATE TRIGGER units_still_named BEFORE DELETE ON units FOR EACH ROW
    EXECUTE FUNCTION refuse_delete_while_named('id', 'households', 'unit_id');
