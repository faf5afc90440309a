-- What masking held back of a running job's log (a possible start of a secret, sealed), kept
-- with the job instead of in one server's memory: the next piece may reach another server.
ALTER TABLE ci_jobs ADD COLUMN trace_held TEXT;
