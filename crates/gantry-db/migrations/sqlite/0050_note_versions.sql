-- Comment history: each text a comment has had, with who wrote it and when. A comment's first
-- version is its text before the first edit; its current text is its last version.
CREATE TABLE note_versions (
    id INTEGER PRIMARY KEY,
    note_id INTEGER NOT NULL REFERENCES notes(id) ON DELETE CASCADE,
    body TEXT NOT NULL,
    author_id INTEGER REFERENCES users(id) ON DELETE SET NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX note_versions_note ON note_versions (note_id, id);
