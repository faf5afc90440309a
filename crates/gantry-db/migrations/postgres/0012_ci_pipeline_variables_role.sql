-- Who may give variables to a project's pipelines (GitLab's
-- ci_pipeline_variables_minimum_override_role): no_one_allowed, developer, maintainer or owner.
-- Maintainer by default, as in GitLab: pipeline variables run code before a job's script
-- (BASH_ENV and the like), so Developers may not set them unless a Maintainer allows it.
ALTER TABLE projects ADD COLUMN ci_pipeline_variables_minimum_role TEXT NOT NULL DEFAULT 'maintainer';
