-- CI: runners, pipelines, their jobs and the jobs' logs.

CREATE TABLE ci_runners (
    id INTEGER PRIMARY KEY,
    -- instance_type, group_type or project_type (GitLab's names).
    runner_type TEXT NOT NULL,
    group_id INTEGER REFERENCES namespaces(id) ON DELETE CASCADE,
    project_id INTEGER REFERENCES projects(id) ON DELETE CASCADE,
    description TEXT NOT NULL DEFAULT '',
    -- SHA-256 of the runner's token; the token itself is shown once.
    token_digest TEXT NOT NULL UNIQUE,
    -- Comma-separated, sorted.
    tags TEXT NOT NULL DEFAULT '',
    run_untagged INTEGER NOT NULL DEFAULT 1,
    paused INTEGER NOT NULL DEFAULT 0,
    -- Most jobs at once; 0 means no limit.
    max_concurrent INTEGER NOT NULL DEFAULT 0,
    -- The runner inside `gantry serve`.
    builtin INTEGER NOT NULL DEFAULT 0,
    contacted_at INTEGER,
    version TEXT,
    executor TEXT,
    platform TEXT,
    architecture TEXT,
    ip_address TEXT,
    creator_id INTEGER REFERENCES users(id) ON DELETE SET NULL,
    created_at INTEGER NOT NULL
);

CREATE TABLE ci_pipelines (
    id INTEGER PRIMARY KEY,
    project_id INTEGER NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    -- The number within the project (#1, #2, ...).
    iid INTEGER NOT NULL,
    -- Branch or tag name.
    ref_name TEXT NOT NULL,
    is_tag INTEGER NOT NULL DEFAULT 0,
    sha TEXT NOT NULL,
    before_sha TEXT NOT NULL,
    -- push, web, api, schedule, trigger, merge_request_event.
    source TEXT NOT NULL,
    status TEXT NOT NULL,
    name TEXT,
    user_id INTEGER REFERENCES users(id) ON DELETE SET NULL,
    -- Variables given when the pipeline was created: JSON [{"key": .., "value": ..}].
    variables TEXT NOT NULL DEFAULT '[]',
    -- Why the CI file could not be planned (the pipeline is then failed with no jobs).
    yaml_errors TEXT,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    started_at INTEGER,
    finished_at INTEGER,
    UNIQUE (project_id, iid)
);
CREATE INDEX ci_pipelines_project_ref ON ci_pipelines(project_id, ref_name, id);
CREATE INDEX ci_pipelines_project_sha ON ci_pipelines(project_id, sha);

CREATE TABLE ci_jobs (
    id INTEGER PRIMARY KEY,
    pipeline_id INTEGER NOT NULL REFERENCES ci_pipelines(id) ON DELETE CASCADE,
    project_id INTEGER NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    stage TEXT NOT NULL,
    stage_idx INTEGER NOT NULL,
    -- created, pending, running, success, failed, canceled, skipped, manual, scheduled.
    status TEXT NOT NULL,
    -- on_success, on_failure, always, manual, delayed.
    run_when TEXT NOT NULL,
    -- JSON of the job's allow_failure ("no", "yes" or {"exit_codes": [..]}).
    allow_failure TEXT NOT NULL,
    start_in INTEGER,
    scheduled_at INTEGER,
    -- JSON list of the job names this job needs, or NULL to wait for the earlier stages.
    needs TEXT,
    -- JSON: what the runner gets (scripts, image, variables, artifacts, ...).
    definition TEXT NOT NULL,
    -- Comma-separated, sorted: runners must have all of them.
    tags TEXT NOT NULL DEFAULT '',
    interruptible INTEGER NOT NULL DEFAULT 0,
    resource_group TEXT,
    runner_id INTEGER REFERENCES ci_runners(id) ON DELETE SET NULL,
    -- SHA-256 of the job token, set while the job runs.
    token_digest TEXT UNIQUE,
    attempt INTEGER NOT NULL DEFAULT 1,
    -- A newer attempt of this job replaced it.
    retried INTEGER NOT NULL DEFAULT 0,
    failure_reason TEXT,
    exit_code INTEGER,
    -- Bytes of log accepted from the runner (the Content-Range offset).
    trace_size INTEGER NOT NULL DEFAULT 0,
    coverage REAL,
    user_id INTEGER REFERENCES users(id) ON DELETE SET NULL,
    created_at INTEGER NOT NULL,
    queued_at INTEGER,
    started_at INTEGER,
    finished_at INTEGER,
    -- Last sign of life from the runner while running.
    heartbeat_at INTEGER
);
CREATE INDEX ci_jobs_pipeline ON ci_jobs(pipeline_id, id);
CREATE INDEX ci_jobs_status ON ci_jobs(status, id);
CREATE INDEX ci_jobs_runner ON ci_jobs(runner_id, status);

-- A job's log as it arrives, after masking; read back in order.
CREATE TABLE ci_trace_chunks (
    job_id INTEGER NOT NULL REFERENCES ci_jobs(id) ON DELETE CASCADE,
    seq INTEGER NOT NULL,
    data BLOB NOT NULL,
    PRIMARY KEY (job_id, seq)
);

-- Per-project CI settings.
ALTER TABLE projects ADD COLUMN ci_config_path TEXT NOT NULL DEFAULT '';
ALTER TABLE projects ADD COLUMN ci_auto_cancel INTEGER NOT NULL DEFAULT 1;
ALTER TABLE projects ADD COLUMN ci_timeout INTEGER NOT NULL DEFAULT 3600;
