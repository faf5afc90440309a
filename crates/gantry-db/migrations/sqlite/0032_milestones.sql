-- Plan: milestones of a project or of a group (whose projects and subgroups' projects use
-- them), numbered per owner (a project's through `internal_ids`, usage 'milestones'; a group's
-- through `namespace_internal_ids`), and the milestone an issue is in.

-- The last number given within a group for each kind of thing numbered per group.
CREATE TABLE namespace_internal_ids (
    namespace_id INTEGER NOT NULL REFERENCES namespaces(id) ON DELETE CASCADE,
    usage TEXT NOT NULL,
    last_value INTEGER NOT NULL,
    PRIMARY KEY (namespace_id, usage)
);

CREATE TABLE milestones (
    id INTEGER PRIMARY KEY,
    project_id INTEGER REFERENCES projects(id) ON DELETE CASCADE,
    group_id INTEGER REFERENCES namespaces(id) ON DELETE CASCADE,
    iid INTEGER NOT NULL,
    title TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    -- Calendar days, `YYYY-MM-DD` (sort as text).
    start_date TEXT,
    due_date TEXT,
    -- 'active' or 'closed'.
    state TEXT NOT NULL DEFAULT 'active',
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    CHECK ((project_id IS NULL) <> (group_id IS NULL))
);
CREATE UNIQUE INDEX milestones_project_iid ON milestones (project_id, iid) WHERE project_id IS NOT NULL;
CREATE UNIQUE INDEX milestones_group_iid ON milestones (group_id, iid) WHERE group_id IS NOT NULL;
-- Titles are unique within their owner.
CREATE UNIQUE INDEX milestones_project_title ON milestones (project_id, title) WHERE project_id IS NOT NULL;
CREATE UNIQUE INDEX milestones_group_title ON milestones (group_id, title) WHERE group_id IS NOT NULL;

ALTER TABLE issues ADD COLUMN milestone_id INTEGER REFERENCES milestones(id) ON DELETE SET NULL;
CREATE INDEX issues_milestone ON issues (milestone_id);
