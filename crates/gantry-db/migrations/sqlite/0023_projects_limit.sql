-- How many personal projects each user may have (GitLab's `projects_limit`). A new account
-- gets the instance's `default_projects_limit` setting; accounts made before this migration
-- get GitLab's default, 100000.
ALTER TABLE users ADD COLUMN projects_limit INTEGER NOT NULL DEFAULT 100000;
