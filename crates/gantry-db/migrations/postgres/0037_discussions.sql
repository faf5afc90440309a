-- Plan: threads. A note started as a thread, or replied to, is a thread's (`thread` = 1, GitLab's
-- DiscussionNote); a thread is resolved when its notes carry who resolved it and when.
ALTER TABLE notes ADD COLUMN thread BIGINT NOT NULL DEFAULT 0;
ALTER TABLE notes ADD COLUMN resolved_at BIGINT;
ALTER TABLE notes ADD COLUMN resolved_by_id BIGINT REFERENCES users(id) ON DELETE SET NULL;
