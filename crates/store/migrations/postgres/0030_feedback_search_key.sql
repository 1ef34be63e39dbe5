-- Lists of feedback search with folded keys, like households: `search_key` holds the item's
-- description folded (lower case, marks and đ removed, spaces collapsed; see
-- ngoso_core::text::fold). Folding is the program's, not the database's, so the rows already
-- there get theirs when the program next starts (`Db::migrate` fills the empty ones).
ALTER TABLE feedback ADD COLUMN search_key TEXT;
