-- Activity: what people did, as GitLab's events — issues opened, closed and reopened, comments,
-- pushes (each push event's ref change) — for a project's activity, a user's and `/events`. An
-- event about an issue or a comment names the issue (`issue_id`), so readers see it only when
-- they see the issue; a push event names its `push_events` row.

CREATE TABLE events (
    id INTEGER PRIMARY KEY,
    project_id INTEGER NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    author_id INTEGER REFERENCES users(id) ON DELETE SET NULL,
    -- GitLab's action: created, closed, reopened, commented, pushed.
    action TEXT NOT NULL,
    -- 'Issue', 'Note' or NULL (a push), with the row's id, number and title when it was done.
    target_type TEXT,
    target_id INTEGER,
    target_iid INTEGER,
    target_title TEXT,
    issue_id INTEGER REFERENCES issues(id) ON DELETE CASCADE,
    push_event_id INTEGER REFERENCES push_events(id) ON DELETE CASCADE,
    created_at INTEGER NOT NULL
);
CREATE INDEX events_project ON events (project_id, id);
CREATE INDEX events_author ON events (author_id, id);
CREATE INDEX events_issue ON events (issue_id);

-- What happened before this table, in the order it happened: pushes, issues opened (and
-- closed), comments.
INSERT INTO events (project_id, author_id, action, target_type, target_id, target_iid, target_title, issue_id,
                    push_event_id, created_at)
    SELECT project_id, author_id, action, target_type, target_id, target_iid, target_title, issue_id, push_event_id,
           created_at
    FROM (
        SELECT project_id, user_id AS author_id, 'pushed' AS action, NULL AS target_type, CAST(NULL AS INTEGER) AS target_id,
               CAST(NULL AS INTEGER) AS target_iid, NULL AS target_title, CAST(NULL AS INTEGER) AS issue_id, id AS push_event_id,
               created_at
        FROM push_events
        UNION ALL
        SELECT project_id, author_id, 'created', 'Issue', id, iid, title, id, NULL, created_at FROM issues
        UNION ALL
        SELECT project_id, closed_by_id, 'closed', 'Issue', id, iid, title, id, NULL, closed_at FROM issues
        WHERE state = 'closed' AND closed_at IS NOT NULL
        UNION ALL
        SELECT n.project_id, n.author_id, 'commented', 'Note', n.id, i.iid, i.title, i.id, NULL, n.created_at
        FROM notes n JOIN issues i ON n.noteable_type = 'Issue' AND i.id = n.noteable_id
        WHERE n.system = 0 AND n.project_id IS NOT NULL
    ) AS happened
    ORDER BY created_at, push_event_id, target_id;
