-- CI: pipeline schedules (cron in a time zone, an owner whose rights the pipelines run with,
-- variables sealed as CI variables are) and pipeline trigger tokens.

CREATE TABLE ci_pipeline_schedules (
    id INTEGER PRIMARY KEY,
    project_id INTEGER NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    description TEXT NOT NULL,
    -- A branch or tag name.
    ref_name TEXT NOT NULL,
    -- Five fields: minute hour day-of-month month day-of-week.
    cron TEXT NOT NULL,
    -- An IANA time zone name (Europe/Berlin) or UTC.
    cron_timezone TEXT NOT NULL DEFAULT 'UTC',
    -- Unix milliseconds of the next run.
    next_run_at INTEGER NOT NULL,
    active INTEGER NOT NULL DEFAULT 1,
    owner_id INTEGER REFERENCES users(id) ON DELETE SET NULL,
    last_pipeline_id INTEGER REFERENCES ci_pipelines(id) ON DELETE SET NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE INDEX ci_pipeline_schedules_due ON ci_pipeline_schedules(active, next_run_at);
CREATE INDEX ci_pipeline_schedules_project ON ci_pipeline_schedules(project_id);

CREATE TABLE ci_pipeline_schedule_variables (
    schedule_id INTEGER NOT NULL REFERENCES ci_pipeline_schedules(id) ON DELETE CASCADE,
    key TEXT NOT NULL,
    value_sealed TEXT NOT NULL,
    -- env_var or file.
    variable_type TEXT NOT NULL DEFAULT 'env_var',
    PRIMARY KEY (schedule_id, key)
);

-- Which schedule made a pipeline.
ALTER TABLE ci_pipelines ADD COLUMN schedule_id INTEGER REFERENCES ci_pipeline_schedules(id) ON DELETE SET NULL;

CREATE TABLE ci_triggers (
    id INTEGER PRIMARY KEY,
    project_id INTEGER NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    description TEXT NOT NULL DEFAULT '',
    -- SHA-256 of the token; the token itself is shown once.
    token_digest TEXT NOT NULL UNIQUE,
    -- The token's first characters, to tell tokens apart in lists.
    token_start TEXT NOT NULL,
    owner_id INTEGER REFERENCES users(id) ON DELETE SET NULL,
    last_used_at INTEGER,
    created_at INTEGER NOT NULL
);
CREATE INDEX ci_triggers_project ON ci_triggers(project_id);
