-- Protected tags: tags whose names match a rule are created only by the chosen role, and no
-- push moves or deletes them (GitLab's protected tags).

CREATE TABLE protected_tags (
    id INTEGER PRIMARY KEY,
    project_id INTEGER NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    -- A tag name or a pattern with * wildcards (v*, release-*).
    name TEXT NOT NULL,
    -- Lowest role that may create matching tags (30 Developer, 40 Maintainer, 0 no one).
    create_access_level INTEGER NOT NULL DEFAULT 40,
    created_at INTEGER NOT NULL,
    UNIQUE (project_id, name)
);
