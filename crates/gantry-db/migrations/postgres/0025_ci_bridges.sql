-- Trigger jobs (bridges, in GitLab's words) start a downstream pipeline instead of going to a
-- runner: the queue, the watchdog and the job lists leave them out.
ALTER TABLE ci_jobs ADD COLUMN bridge BIGINT NOT NULL DEFAULT 0;
-- A downstream pipeline (a child pipeline or another project's) names the trigger job that
-- started it; one per trigger job attempt.
ALTER TABLE ci_pipelines ADD COLUMN upstream_job_id BIGINT REFERENCES ci_jobs(id) ON DELETE SET NULL;
CREATE UNIQUE INDEX ci_pipelines_upstream_job ON ci_pipelines(upstream_job_id);
