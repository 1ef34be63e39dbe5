-- The references of the rows a visit writes are checked by the ingest itself, in the same
-- transaction, instead of by foreign keys row by row.
--
-- The ingest locks each visit's household (SELECT ... FOR UPDATE), reads its team, the member
-- named and the residents named, and takes services and statuses from the catalogue; an
-- outcome's visit is the row inserted by the same statement. ngoso deletes no household,
-- team, member, user, service, status or visit. The foreign keys from visits, visit_outcomes
-- and subject_statuses repeated those checks: ten lookups for each visit, each through the
-- executor and each taking a share lock on a row that every writer shares (the same few
-- services, statuses, teams and accounts). With one visit per request that was a fifth of
-- PostgreSQL's work. (resident_id has never had a foreign key: 0 stands for the household.)
--
-- In their place: a trigger on each parent table refuses to delete a row that is still named
-- (what the foreign keys' NO ACTION did) and to truncate the table, and `ngoso check` lists
-- any row that names a missing one. Unlike a foreign key, the delete trigger takes no lock on
-- the rows it finds: a delete made by hand while a visit naming the same row is being stored
-- could pass it. ngoso makes no such delete; `ngoso check` would report the result. SQLite keeps its foreign keys: there each check is a direct lookup in the
-- parent's B-tree, with no lock to take.
ALTER TABLE visits
    DROP CONSTRAINT visits_household_id_fkey,
    DROP CONSTRAINT visits_team_id_fkey,
    DROP CONSTRAINT visits_member_id_fkey,
    DROP CONSTRAINT visits_user_id_fkey;
ALTER TABLE visit_outcomes
    DROP CONSTRAINT visit_outcomes_visit_seq_fkey,
    DROP CONSTRAINT visit_outcomes_service_id_fkey,
    DROP CONSTRAINT visit_outcomes_status_id_fkey;
ALTER TABLE subject_statuses
    DROP CONSTRAINT subject_statuses_household_id_fkey,
    DROP CONSTRAINT subject_statuses_service_id_fkey,
    DROP CONSTRAINT subject_statuses_status_id_fkey;

-- Arguments: the parent's key column, then pairs of (table, column) that name it.
CREATE FUNCTION refuse_delete_while_named() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    i int := 1;
    named boolean;
BEGIN
    WHILE i < TG_NARGS LOOP
        EXECUTE format('SELECT EXISTS (SELECT 1 FROM %I WHERE %I = ($1).%I)', TG_ARGV[i], TG_ARGV[i + 1], TG_ARGV[0])
            INTO named USING OLD;
        IF named THEN
            RAISE EXCEPTION 'cannot delete from %: the row is still named by %.%', TG_TABLE_NAME, TG_ARGV[i], TG_ARGV[i + 1]
                USING ERRCODE = 'foreign_key_violation';
        END IF;
        i := i + 2;
    END LOOP;
    RETURN OLD;
END;
$$;

CREATE TRIGGER households_still_named BEFORE DELETE ON households FOR EACH ROW
    EXECUTE FUNCTION refuse_delete_while_named('id', 'visits', 'household_id', 'subject_statuses', 'household_id');
CREATE TRIGGER teams_still_named BEFORE DELETE ON teams FOR EACH ROW
    EXECUTE FUNCTION refuse_delete_while_named('id', 'visits', 'team_id');
CREATE TRIGGER team_members_still_named BEFORE DELETE ON team_members FOR EACH ROW
    EXECUTE FUNCTION refuse_delete_while_named('id', 'visits', 'member_id');
CREATE TRIGGER users_still_named BEFORE DELETE ON users FOR EACH ROW
    EXECUTE FUNCTION refuse_delete_while_named('id', 'visits', 'user_id');
CREATE TRIGGER services_still_named BEFORE DELETE ON services FOR EACH ROW
    EXECUTE FUNCTION refuse_delete_while_named('id', 'visit_outcomes', 'service_id', 'subject_statuses', 'service_id');
CREATE TRIGGER service_statuses_still_named BEFORE DELETE ON service_statuses FOR EACH ROW
    EXECUTE FUNCTION refuse_delete_while_named('id', 'visit_outcomes', 'status_id', 'subject_statuses', 'status_id');
CREATE TRIGGER visits_still_named BEFORE DELETE ON visits FOR EACH ROW
    EXECUTE FUNCTION refuse_delete_while_named('seq', 'visit_outcomes', 'visit_seq');

-- TRUNCATE fires no row trigger; the foreign keys refused it too.
CREATE FUNCTION refuse_truncate_while_named() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'cannot truncate %: its rows may be named by visits, outcomes or statuses', TG_TABLE_NAME
        USING ERRCODE = 'foreign_key_violation';
END;
$$;

CREATE TRIGGER households_not_truncated BEFORE TRUNCATE ON households
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_truncate_while_named();
CREATE TRIGGER teams_not_truncated BEFORE TRUNCATE ON teams
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_truncate_while_named();
CREATE TRIGGER team_members_not_truncated BEFORE TRUNCATE ON team_members
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_truncate_while_named();
CREATE TRIGGER users_not_truncated BEFORE TRUNCATE ON users
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_truncate_while_named();
CREATE TRIGGER services_not_truncated BEFORE TRUNCATE ON services
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_truncate_while_named();
CREATE TRIGGER service_statuses_not_truncated BEFORE TRUNCATE ON service_statuses
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_truncate_while_named();
CREATE TRIGGER visits_not_truncated BEFORE TRUNCATE ON visits
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_truncate_while_named();
