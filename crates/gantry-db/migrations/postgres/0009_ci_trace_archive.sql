-- A finished job's log, archived into the object store: its digest, and where each piece the
-- runner sent starts in it (JSON [[runner offset, byte position], …]) so live viewers resume.
ALTER TABLE ci_jobs ADD COLUMN trace_blob TEXT;
ALTER TABLE ci_jobs ADD COLUMN trace_index TEXT;
CREATE INDEX ci_jobs_trace_blob ON ci_jobs(trace_blob);
