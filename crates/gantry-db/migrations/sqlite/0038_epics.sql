-- Plan: epics of a group, numbered per group (`namespace_internal_ids`, usage 'epics'), nested
-- under a parent epic of the group or of a group above it, the issues each holds (an issue is
-- in at most one epic) and the group labels they carry (`label_links.epic_id`).

CREATE TABLE epics (
    id INTEGER PRIMARY KEY,
    group_id INTEGER NOT NULL REFERENCES namespaces(id) ON DELETE CASCADE,
    iid INTEGER NOT NULL,
    parent_id INTEGER REFERENCES epics(id) ON DELETE SET NULL,
    title TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    author_id INTEGER REFERENCES users(id) ON DELETE SET NULL,
    -- 'opened' or 'closed'.
    state TEXT NOT NULL DEFAULT 'opened',
    closed_by_id INTEGER REFERENCES users(id) ON DELETE SET NULL,
    closed_at INTEGER,
    confidential INTEGER NOT NULL DEFAULT 0,
    -- Each date is the fixed one when `*_is_fixed`, otherwise the one its issues' milestones
    -- give (worked out when read). Calendar days, `YYYY-MM-DD`.
    start_date_is_fixed INTEGER NOT NULL DEFAULT 0,
    start_date_fixed TEXT,
    due_date_is_fixed INTEGER NOT NULL DEFAULT 0,
    due_date_fixed TEXT,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    UNIQUE (group_id, iid)
);
CREATE INDEX epics_group_state ON epics (group_id, state);
CREATE INDEX epics_parent ON epics (parent_id);

CREATE TABLE epic_issues (
    id INTEGER PRIMARY KEY,
    epic_id INTEGER NOT NULL REFERENCES epics(id) ON DELETE CASCADE,
    issue_id INTEGER NOT NULL REFERENCES issues(id) ON DELETE CASCADE,
    created_at INTEGER NOT NULL,
    UNIQUE (issue_id)
);
CREATE INDEX epic_issues_epic ON epic_issues (epic_id);

ALTER TABLE label_links ADD COLUMN epic_id INTEGER REFERENCES epics(id) ON DELETE CASCADE;
CREATE UNIQUE INDEX label_links_epic_label ON label_links (epic_id, label_id);
