-- Project and group access tokens (GitLab's): each token belongs to a bot user made for it, a
-- member of one project or one group with the token's role. Deleting the project or group
-- deletes its bots, and with them their tokens and memberships.
ALTER TABLE users ADD COLUMN bot_project_id INTEGER REFERENCES projects(id) ON DELETE CASCADE;
ALTER TABLE users ADD COLUMN bot_namespace_id INTEGER REFERENCES namespaces(id) ON DELETE CASCADE;
CREATE INDEX users_bot_project ON users(bot_project_id);
CREATE INDEX users_bot_namespace ON users(bot_namespace_id);
