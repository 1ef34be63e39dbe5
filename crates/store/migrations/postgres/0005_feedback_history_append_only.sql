-- The history of a feedback item is append-only: the database itself refuses to change or
-- remove a row of it.
CREATE FUNCTION feedback_history_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'feedback_history is append-only';
END;
$$;
CREATE TRIGGER feedback_history_no_change BEFORE UPDATE OR DELETE ON feedback_history
    FOR EACH ROW EXECUTE FUNCTION feedback_history_append_only();
