-- Commit statuses reported by systems outside Gantry (`POST /projects/:id/statuses/:sha`), one
-- per project, commit, ref and name; shown beside the commit's pipelines.

CREATE TABLE ci_commit_statuses (
    id INTEGER PRIMARY KEY,
    project_id INTEGER NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    sha TEXT NOT NULL,
    ref_name TEXT NOT NULL DEFAULT '',
    name TEXT NOT NULL,
    -- pending, running, success, failed, canceled, skipped.
    status TEXT NOT NULL,
    target_url TEXT,
    description TEXT,
    coverage REAL,
    author_id INTEGER REFERENCES users(id) ON DELETE SET NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    started_at INTEGER,
    finished_at INTEGER,
    UNIQUE (project_id, sha, ref_name, name)
);
CREATE INDEX ci_commit_statuses_sha ON ci_commit_statuses(project_id, sha);
