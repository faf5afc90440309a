-- CI: job artifacts and reports (their content in the object store, by digest), the parsed
-- reports, dotenv variables handed to later jobs, and caches.

CREATE TABLE ci_job_artifacts (
    id INTEGER PRIMARY KEY,
    job_id INTEGER NOT NULL REFERENCES ci_jobs(id) ON DELETE CASCADE,
    project_id INTEGER NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    -- archive, junit, dotenv, cobertura, jacoco (GitLab's file types).
    file_type TEXT NOT NULL,
    -- zip.
    file_format TEXT NOT NULL,
    file_name TEXT NOT NULL,
    -- SHA-256 of the content in the object store.
    blob_digest TEXT NOT NULL,
    size INTEGER NOT NULL,
    -- Unix milliseconds; NULL keeps it until deleted.
    expire_at INTEGER,
    created_at INTEGER NOT NULL,
    UNIQUE (job_id, file_type)
);
CREATE INDEX ci_job_artifacts_expire ON ci_job_artifacts(expire_at);
CREATE INDEX ci_job_artifacts_blob ON ci_job_artifacts(blob_digest);
CREATE INDEX ci_job_artifacts_project ON ci_job_artifacts(project_id);

-- A job's JUnit reports, parsed when uploaded (JSON: the suites and the files that could not be read).
CREATE TABLE ci_job_test_reports (
    job_id INTEGER PRIMARY KEY REFERENCES ci_jobs(id) ON DELETE CASCADE,
    report TEXT NOT NULL
);

-- Variables from a job's dotenv report, for the jobs that depend on it; values sealed as CI
-- variables are.
CREATE TABLE ci_job_dotenv_variables (
    job_id INTEGER NOT NULL REFERENCES ci_jobs(id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    key TEXT NOT NULL,
    value_sealed TEXT NOT NULL,
    PRIMARY KEY (job_id, key)
);

CREATE TABLE ci_caches (
    project_id INTEGER NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    -- The resolved key, with its protected/non_protected suffix and the project's cache index.
    cache_key TEXT NOT NULL,
    blob_digest TEXT NOT NULL,
    size INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (project_id, cache_key)
);
CREATE INDEX ci_caches_blob ON ci_caches(blob_digest);

-- Keep the artifacts of each ref's latest successful pipeline past their expiry.
ALTER TABLE projects ADD COLUMN ci_keep_latest_artifact INTEGER NOT NULL DEFAULT 1;
-- Bumped by "Clear runner caches": every cache key gets a new suffix.
ALTER TABLE projects ADD COLUMN ci_cache_index INTEGER NOT NULL DEFAULT 0;
