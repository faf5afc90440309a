-- Comments on epics: notes with noteable_type 'Epic' also name their epic here, so that
-- deleting an epic (or its group) deletes its discussions with it.
ALTER TABLE notes ADD COLUMN epic_id BIGINT REFERENCES epics(id) ON DELETE CASCADE;
CREATE INDEX notes_epic ON notes (epic_id) WHERE epic_id IS NOT NULL;
