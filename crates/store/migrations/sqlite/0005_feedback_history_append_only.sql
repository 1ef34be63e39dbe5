-- The history of a feedback item is append-only: the database itself refuses to change or
-- remove a row of it.
CREATE TRIGGER feedback_history_no_update BEFORE UPDATE ON feedback_history
BEGIN
    SELECT RAISE(ABORT, 'feedback_history is append-only');
END;
CREATE TRIGGER feedback_history_no_delete BEFORE DELETE ON feedback_history
BEGIN
    SELECT RAISE(ABORT, 'feedback_history is append-only');
END;
