-- The history of data values is append-only, as feedback's is: the database itself refuses
-- to change or remove a row of it.
CREATE FUNCTION data_value_history_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'data_value_history is append-only';
END;
$$;
CREATE TRIGGER data_value_history_no_change BEFORE UPDATE OR DELETE ON data_value_history
    FOR EACH ROW EXECUTE FUNCTION data_value_history_append_only();
