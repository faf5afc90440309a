-- Description history: each description an issue has had, with who wrote it and when, and the
-- "changed the description" system note that announced the change (GitLab's
-- description_versions). An issue's first version is its description before the first edit.
CREATE TABLE description_versions (
    id INTEGER PRIMARY KEY,
    issue_id INTEGER NOT NULL REFERENCES issues(id) ON DELETE CASCADE,
    note_id INTEGER REFERENCES notes(id) ON DELETE SET NULL,
    description TEXT NOT NULL,
    author_id INTEGER REFERENCES users(id) ON DELETE SET NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX description_versions_issue ON description_versions (issue_id, id);
