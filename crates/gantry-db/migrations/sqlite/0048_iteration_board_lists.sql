-- Plan: a board list may be for an iteration (GitLab's iteration lists). SQLite cannot change
-- a table's CHECK, so `board_lists` is made again with the new column and the same rows.

CREATE TABLE board_lists_new (
    id INTEGER PRIMARY KEY,
    board_id INTEGER NOT NULL REFERENCES boards(id) ON DELETE CASCADE,
    -- 'label', 'milestone', 'assignee' or 'iteration': which of the next four columns the
    -- list is for.
    list_type TEXT NOT NULL,
    label_id INTEGER REFERENCES labels(id) ON DELETE CASCADE,
    milestone_id INTEGER REFERENCES milestones(id) ON DELETE CASCADE,
    user_id INTEGER REFERENCES users(id) ON DELETE CASCADE,
    iteration_id INTEGER REFERENCES iterations(id) ON DELETE CASCADE,
    -- 0, 1, 2… from the left.
    position INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    CHECK ((CASE WHEN label_id IS NULL THEN 0 ELSE 1 END) + (CASE WHEN milestone_id IS NULL THEN 0 ELSE 1 END)
        + (CASE WHEN user_id IS NULL THEN 0 ELSE 1 END) + (CASE WHEN iteration_id IS NULL THEN 0 ELSE 1 END) = 1)
);
INSERT INTO board_lists_new (id, board_id, list_type, label_id, milestone_id, user_id, position, created_at)
    SELECT id, board_id, list_type, label_id, milestone_id, user_id, position, created_at FROM board_lists;
DROP TABLE board_lists;
ALTER TABLE board_lists_new RENAME TO board_lists;
CREATE INDEX board_lists_board ON board_lists (board_id, position);
-- A board has one list per label, milestone, person or iteration.
CREATE UNIQUE INDEX board_lists_label ON board_lists (board_id, label_id) WHERE label_id IS NOT NULL;
CREATE UNIQUE INDEX board_lists_milestone ON board_lists (board_id, milestone_id) WHERE milestone_id IS NOT NULL;
CREATE UNIQUE INDEX board_lists_user ON board_lists (board_id, user_id) WHERE user_id IS NOT NULL;
CREATE UNIQUE INDEX board_lists_iteration ON board_lists (board_id, iteration_id) WHERE iteration_id IS NOT NULL;
