-- Durable background work: what must happen after a change (pipelines for a push, archiving
-- a finished job's log, repository maintenance) is queued in the change's own transaction,
-- claimed by one server at a time, retried with backoff, and kept as failed when it gives up.

CREATE TABLE background_jobs (
    id INTEGER PRIMARY KEY,
    -- What to do (pipelines_for_push, archive_job_log, maintain_repository) and its arguments
    -- as JSON.
    kind TEXT NOT NULL,
    payload TEXT NOT NULL,
    -- queued, running or failed (done jobs are deleted).
    status TEXT NOT NULL DEFAULT 'queued',
    -- Queued jobs with the same key are one job (a burst of pushes maintains a repository once).
    dedupe_key TEXT,
    attempts INTEGER NOT NULL DEFAULT 0,
    max_attempts INTEGER NOT NULL,
    -- Not before (Unix ms): the first run, or the next try after a failure.
    run_at INTEGER NOT NULL,
    -- A running job belongs to `locked_by` until `locked_until`; after that (its server died)
    -- another server takes it again.
    locked_by TEXT,
    locked_until INTEGER,
    last_error TEXT,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE INDEX background_jobs_due ON background_jobs (status, run_at);
CREATE UNIQUE INDEX background_jobs_queued_once ON background_jobs (dedupe_key) WHERE status = 'queued';

-- The push event a pipeline was created for: a push's pipelines are created exactly once even
-- when the job creating them runs again after a crash.
ALTER TABLE ci_pipelines ADD COLUMN push_event_id INTEGER REFERENCES push_events(id) ON DELETE SET NULL;
CREATE UNIQUE INDEX ci_pipelines_push_event ON ci_pipelines (push_event_id);
