-- A hidden CI/CD variable (GitLab's `masked_and_hidden`): masked in logs, and its value is
-- never shown again, in the API or on a page, after it was set.
ALTER TABLE ci_variables ADD COLUMN hidden INTEGER NOT NULL DEFAULT 0;
