-- Plan: linked issues, in any projects (GitLab's issue links): 'relates_to' or 'blocks' from
-- the source to the target ("is blocked by" is a 'blocks' read from its target). One link per
-- pair, whichever its direction.
CREATE TABLE issue_links (
    id INTEGER PRIMARY KEY,
    source_id INTEGER NOT NULL REFERENCES issues(id) ON DELETE CASCADE,
    target_id INTEGER NOT NULL REFERENCES issues(id) ON DELETE CASCADE,
    link_type TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    CHECK (source_id <> target_id)
);
CREATE UNIQUE INDEX issue_links_pair ON issue_links (source_id, target_id);
CREATE INDEX issue_links_target ON issue_links (target_id);
