-- The history of data values is append-only, as feedback's is: the database itself refuses
-- to change or remove a row of it.
CREATE TRIGGER data_value_history_no_update BEFORE UPDATE ON data_value_history
BEGIN
    SELECT RAISE(ABORT, 'data_value_history is append-only');
END;
CREATE TRIGGER data_value_history_no_delete BEFORE DELETE ON data_value_history
BEGIN
    SELECT RAISE(ABORT, 'data_value_history is append-only');
END;
