-- Plan: issue boards of a project or of a group (several of each), their lists (one per label,
-- milestone or assignee, in order), and the order of cards: `issues.relative_position`, GitLab's
-- column, a number with gaps between neighbours so a card moved between two takes a number
-- between theirs (the numbers are spread again when no gap is left).

CREATE TABLE boards (
    id INTEGER PRIMARY KEY,
    project_id INTEGER REFERENCES projects(id) ON DELETE CASCADE,
    group_id INTEGER REFERENCES namespaces(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    hide_backlog_list INTEGER NOT NULL DEFAULT 0,
    hide_closed_list INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    CHECK ((project_id IS NULL) <> (group_id IS NULL))
);
CREATE INDEX boards_project ON boards (project_id) WHERE project_id IS NOT NULL;
CREATE INDEX boards_group ON boards (group_id) WHERE group_id IS NOT NULL;

CREATE TABLE board_lists (
    id INTEGER PRIMARY KEY,
    board_id INTEGER NOT NULL REFERENCES boards(id) ON DELETE CASCADE,
    -- 'label', 'milestone' or 'assignee': which of the next three columns the list is for.
    list_type TEXT NOT NULL,
    label_id INTEGER REFERENCES labels(id) ON DELETE CASCADE,
    milestone_id INTEGER REFERENCES milestones(id) ON DELETE CASCADE,
    user_id INTEGER REFERENCES users(id) ON DELETE CASCADE,
    -- 0, 1, 2… from the left.
    position INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    CHECK ((CASE WHEN label_id IS NULL THEN 0 ELSE 1 END) + (CASE WHEN milestone_id IS NULL THEN 0 ELSE 1 END) + (CASE WHEN user_id IS NULL THEN 0 ELSE 1 END) = 1)
);
CREATE INDEX board_lists_board ON board_lists (board_id, position);
-- A board has one list per label, milestone or person.
CREATE UNIQUE INDEX board_lists_label ON board_lists (board_id, label_id) WHERE label_id IS NOT NULL;
CREATE UNIQUE INDEX board_lists_milestone ON board_lists (board_id, milestone_id) WHERE milestone_id IS NOT NULL;
CREATE UNIQUE INDEX board_lists_user ON board_lists (board_id, user_id) WHERE user_id IS NOT NULL;

ALTER TABLE issues ADD COLUMN relative_position INTEGER;
-- Existing issues keep the order of their numbers, 512 apart.
UPDATE issues SET relative_position = iid * 512;
CREATE INDEX issues_project_position ON issues (project_id, relative_position);
