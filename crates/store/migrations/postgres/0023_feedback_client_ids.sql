-- Feedback typed in on a phone offline carries the id the phone made for it, so that a send
-- repeated after a lost answer finds the item it made the first time instead of making a
-- second one. Unique per account: another account's id says nothing of this one's items.
ALTER TABLE feedback ADD COLUMN client_id TEXT;
CREATE UNIQUE INDEX feedback_client ON feedback (submitted_by, client_id) WHERE client_id IS NOT NULL;
