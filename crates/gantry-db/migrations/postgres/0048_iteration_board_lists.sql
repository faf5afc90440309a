-- Plan: a board list may be for an iteration (GitLab's iteration lists).

ALTER TABLE board_lists ADD COLUMN iteration_id BIGINT REFERENCES iterations(id) ON DELETE CASCADE;
ALTER TABLE board_lists DROP CONSTRAINT board_lists_check;
ALTER TABLE board_lists ADD CONSTRAINT board_lists_one_kind CHECK (
    (CASE WHEN label_id IS NULL THEN 0 ELSE 1 END) + (CASE WHEN milestone_id IS NULL THEN 0 ELSE 1 END)
    + (CASE WHEN user_id IS NULL THEN 0 ELSE 1 END) + (CASE WHEN iteration_id IS NULL THEN 0 ELSE 1 END) = 1);
-- A board has one list per label, milestone, person or iteration.
CREATE UNIQUE INDEX board_lists_iteration ON board_lists (board_id, iteration_id) WHERE iteration_id IS NOT NULL;
