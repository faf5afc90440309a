-- What needs a person (to-dos), how much mail they want (notification levels, and their own
-- choice on one item: subscriptions), and the mails sent (so a mail's unsubscribe link names the
-- item and the person without holding anything they could guess). Targets are GitLab's kinds
-- and ids, as notes name their noteable: 'Issue' now, 'MergeRequest' and 'Epic' later. And time
-- tracking: an issue's estimate, and the time people spent on it (`timelogs`, summed).

CREATE TABLE todos (
    id INTEGER PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    author_id INTEGER REFERENCES users(id) ON DELETE SET NULL,
    project_id INTEGER NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    target_type TEXT NOT NULL,
    target_id INTEGER NOT NULL,
    -- 'assigned', 'mentioned', 'directly_addressed' or 'marked' (added by the user).
    action TEXT NOT NULL,
    note_id INTEGER REFERENCES notes(id) ON DELETE SET NULL,
    -- The words that caused it (a comment's first characters, or the title).
    body TEXT NOT NULL DEFAULT '',
    -- 'pending' or 'done'.
    state TEXT NOT NULL DEFAULT 'pending',
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE INDEX todos_user_state ON todos (user_id, state, id);
CREATE INDEX todos_target ON todos (target_type, target_id, user_id);

-- A level for all of a user's mail (no project or group), a group's projects, or one project:
-- 'global' (take the wider one), 'watch', 'participating', 'mention' or 'disabled'.
CREATE TABLE notification_settings (
    id INTEGER PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    project_id INTEGER REFERENCES projects(id) ON DELETE CASCADE,
    namespace_id INTEGER REFERENCES namespaces(id) ON DELETE CASCADE,
    level TEXT NOT NULL,
    CHECK (project_id IS NULL OR namespace_id IS NULL)
);
CREATE UNIQUE INDEX notification_settings_global ON notification_settings (user_id)
    WHERE project_id IS NULL AND namespace_id IS NULL;
CREATE UNIQUE INDEX notification_settings_project ON notification_settings (user_id, project_id)
    WHERE project_id IS NOT NULL;
CREATE UNIQUE INDEX notification_settings_namespace ON notification_settings (user_id, namespace_id)
    WHERE namespace_id IS NOT NULL;

-- A user's own choice on one item: every mail about it (subscribed) or none (unsubscribed).
CREATE TABLE subscriptions (
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    project_id INTEGER NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    target_type TEXT NOT NULL,
    target_id INTEGER NOT NULL,
    subscribed INTEGER NOT NULL,
    PRIMARY KEY (target_type, target_id, user_id)
);

-- One row per mail sent about an item: its random key is the mail's unsubscribe link.
CREATE TABLE sent_notifications (
    reply_key TEXT PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    project_id INTEGER NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    target_type TEXT NOT NULL,
    target_id INTEGER NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX sent_notifications_target ON sent_notifications (target_type, target_id);

-- Seconds (GitLab's working time: a day is 8 hours); 0 when none.
ALTER TABLE issues ADD COLUMN time_estimate INTEGER NOT NULL DEFAULT 0;

CREATE TABLE timelogs (
    id INTEGER PRIMARY KEY,
    issue_id INTEGER NOT NULL REFERENCES issues(id) ON DELETE CASCADE,
    user_id INTEGER REFERENCES users(id) ON DELETE SET NULL,
    -- Seconds; negative takes time off.
    time_spent INTEGER NOT NULL,
    -- When it was spent (milliseconds, the start of the day named, or the time it was logged).
    spent_at INTEGER NOT NULL,
    note_id INTEGER REFERENCES notes(id) ON DELETE SET NULL,
    summary TEXT NOT NULL DEFAULT '',
    created_at INTEGER NOT NULL
);
CREATE INDEX timelogs_issue ON timelogs (issue_id);
