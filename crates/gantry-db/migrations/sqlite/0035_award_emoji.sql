-- Plan: emoji reactions on issues and notes (GitLab's award emoji): one per person, name and
-- item. `awardable_type` is GitLab's name of the kind (`Issue`, `Note`); the item's own
-- deletion removes its reactions (core deletes them with it).
CREATE TABLE award_emoji (
    id INTEGER PRIMARY KEY,
    awardable_type TEXT NOT NULL,
    awardable_id INTEGER NOT NULL,
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    -- A gemoji short name: `thumbsup`, `tada`.
    name TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE UNIQUE INDEX award_emoji_once ON award_emoji (awardable_type, awardable_id, user_id, name);
CREATE INDEX award_emoji_awardable ON award_emoji (awardable_type, awardable_id, id);
