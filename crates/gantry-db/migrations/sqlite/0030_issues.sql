-- Plan: issues numbered per project (`internal_ids`, usage 'issues'), their assignees, labels of
-- projects and groups with the links that put them on issues, and notes: one table for the
-- comments and system notes of every kind of noteable (issues now; merge requests and epics
-- later), each in a discussion (`discussion_id`: a note alone starts its own; threads share one).

CREATE TABLE issues (
    id INTEGER PRIMARY KEY,
    project_id INTEGER NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    iid INTEGER NOT NULL,
    title TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    author_id INTEGER REFERENCES users(id) ON DELETE SET NULL,
    -- 'opened' or 'closed'.
    state TEXT NOT NULL DEFAULT 'opened',
    closed_by_id INTEGER REFERENCES users(id) ON DELETE SET NULL,
    closed_at INTEGER,
    confidential INTEGER NOT NULL DEFAULT 0,
    -- A calendar day, `YYYY-MM-DD` (sorts as text).
    due_date TEXT,
    weight INTEGER,
    discussion_locked INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    UNIQUE (project_id, iid)
);
CREATE INDEX issues_project_state_created ON issues (project_id, state, created_at);
CREATE INDEX issues_project_updated ON issues (project_id, updated_at);
CREATE INDEX issues_author ON issues (author_id);

CREATE TABLE issue_assignees (
    issue_id INTEGER NOT NULL REFERENCES issues(id) ON DELETE CASCADE,
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    PRIMARY KEY (issue_id, user_id)
);
CREATE INDEX issue_assignees_user ON issue_assignees (user_id);

-- A label belongs to a project or to a group (whose projects and subgroups' projects use it).
CREATE TABLE labels (
    id INTEGER PRIMARY KEY,
    project_id INTEGER REFERENCES projects(id) ON DELETE CASCADE,
    namespace_id INTEGER REFERENCES namespaces(id) ON DELETE CASCADE,
    title TEXT NOT NULL,
    -- `#rrggbb`.
    color TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    CHECK ((project_id IS NULL) <> (namespace_id IS NULL))
);
-- Names are unique within their owner, ignoring case.
CREATE UNIQUE INDEX labels_project_title ON labels (project_id, lower(title)) WHERE project_id IS NOT NULL;
CREATE UNIQUE INDEX labels_namespace_title ON labels (namespace_id, lower(title)) WHERE namespace_id IS NOT NULL;

-- Which labels an issue carries (a merge request's column comes with merge requests).
CREATE TABLE label_links (
    id INTEGER PRIMARY KEY,
    label_id INTEGER NOT NULL REFERENCES labels(id) ON DELETE CASCADE,
    issue_id INTEGER REFERENCES issues(id) ON DELETE CASCADE,
    created_at INTEGER NOT NULL
);
CREATE UNIQUE INDEX label_links_issue_label ON label_links (issue_id, label_id);
CREATE INDEX label_links_label ON label_links (label_id);

CREATE TABLE notes (
    id INTEGER PRIMARY KEY,
    project_id INTEGER REFERENCES projects(id) ON DELETE CASCADE,
    -- 'Issue' (GitLab's names: 'MergeRequest' and 'Epic' later), and that row's id.
    noteable_type TEXT NOT NULL,
    noteable_id INTEGER NOT NULL,
    -- 40 hex characters; the notes of one thread share it.
    discussion_id TEXT NOT NULL,
    author_id INTEGER REFERENCES users(id) ON DELETE SET NULL,
    body TEXT NOT NULL,
    -- A note Gantry wrote about a change ("closed", "added ~bug label").
    system INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE INDEX notes_noteable ON notes (noteable_type, noteable_id, created_at);
CREATE INDEX notes_discussion ON notes (discussion_id);
