-- Plan: what changed on an issue, as records — a label added or removed, the milestone set or
-- removed, the weight, the state — for GitLab's resource events API (the system notes say the
-- same in words). A deleted label or milestone leaves its events without it.
CREATE TABLE resource_events (
    id INTEGER PRIMARY KEY,
    issue_id INTEGER NOT NULL REFERENCES issues(id) ON DELETE CASCADE,
    user_id INTEGER REFERENCES users(id) ON DELETE SET NULL,
    -- 'label', 'milestone', 'weight' or 'state'.
    kind TEXT NOT NULL,
    -- 'add' or 'remove' (labels and milestones).
    action TEXT,
    label_id INTEGER REFERENCES labels(id) ON DELETE SET NULL,
    milestone_id INTEGER REFERENCES milestones(id) ON DELETE SET NULL,
    -- The weight set (none when removed).
    weight INTEGER,
    -- 'closed' or 'reopened'.
    state TEXT,
    created_at INTEGER NOT NULL
);
CREATE INDEX resource_events_issue ON resource_events (issue_id, kind, id);
