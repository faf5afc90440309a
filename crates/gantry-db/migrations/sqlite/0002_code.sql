-- Git hosting: protected branches and the record of pushes.

CREATE TABLE protected_branches (
    id INTEGER PRIMARY KEY,
    project_id INTEGER NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    -- A branch name or a pattern with * wildcards.
    name TEXT NOT NULL,
    -- Lowest role that may push / merge (30 Developer, 40 Maintainer, 0 no one).
    push_access_level INTEGER NOT NULL,
    merge_access_level INTEGER NOT NULL,
    allow_force_push INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL,
    UNIQUE (project_id, name)
);

-- One row per ref a push changed.
CREATE TABLE push_events (
    id INTEGER PRIMARY KEY,
    project_id INTEGER NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    user_id INTEGER REFERENCES users(id) ON DELETE SET NULL,
    ref_name TEXT NOT NULL,
    old_sha TEXT NOT NULL,
    new_sha TEXT NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX push_events_project ON push_events(project_id, id);
