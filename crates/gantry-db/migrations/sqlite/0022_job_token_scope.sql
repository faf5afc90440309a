-- The CI/CD job token scope (GitLab's "Limit access to this project" and its allowlists).
--
-- A running job's token reads its own project. It reaches another project only when that
-- project lets it in: the limit is off there (ci_inbound_job_token_scope_enabled = 0), or the
-- project's allowlist names the job's project, or a group holding it (directly or through
-- subgroups). The names follow GitLab's API: the project that owns an allowlist is the source,
-- the project or group it names is the target.

-- On by default, as in GitLab: a job token reaches only its own project until a Maintainer
-- opens the project up.
ALTER TABLE projects ADD COLUMN ci_inbound_job_token_scope_enabled INTEGER NOT NULL DEFAULT 1;

CREATE TABLE ci_job_token_project_links (
    id INTEGER PRIMARY KEY,
    -- The project whose allowlist this is (the one being reached).
    source_project_id INTEGER NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    -- The project whose jobs may reach it.
    target_project_id INTEGER NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    added_by INTEGER REFERENCES users(id) ON DELETE SET NULL,
    created_at INTEGER NOT NULL,
    UNIQUE (source_project_id, target_project_id)
);
CREATE INDEX ci_job_token_project_links_target ON ci_job_token_project_links(target_project_id);

CREATE TABLE ci_job_token_group_links (
    id INTEGER PRIMARY KEY,
    source_project_id INTEGER NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    -- The group whose projects' jobs (and its subgroups' projects' jobs) may reach the source.
    target_group_id INTEGER NOT NULL REFERENCES namespaces(id) ON DELETE CASCADE,
    added_by INTEGER REFERENCES users(id) ON DELETE SET NULL,
    created_at INTEGER NOT NULL,
    UNIQUE (source_project_id, target_group_id)
);
CREATE INDEX ci_job_token_group_links_target ON ci_job_token_group_links(target_group_id);
