-- A job's test counts, stored with its report so that tabs and summaries read six numbers
-- instead of decoding every case; `suite_error` joins the report's read errors.
ALTER TABLE ci_job_test_reports ADD COLUMN total_count BIGINT NOT NULL DEFAULT 0;
ALTER TABLE ci_job_test_reports ADD COLUMN success_count BIGINT NOT NULL DEFAULT 0;
ALTER TABLE ci_job_test_reports ADD COLUMN failed_count BIGINT NOT NULL DEFAULT 0;
ALTER TABLE ci_job_test_reports ADD COLUMN error_count BIGINT NOT NULL DEFAULT 0;
ALTER TABLE ci_job_test_reports ADD COLUMN skipped_count BIGINT NOT NULL DEFAULT 0;
ALTER TABLE ci_job_test_reports ADD COLUMN total_time_us BIGINT NOT NULL DEFAULT 0;
ALTER TABLE ci_job_test_reports ADD COLUMN suite_error TEXT;

UPDATE ci_job_test_reports SET
    total_count = (SELECT COUNT(*) FROM jsonb_array_elements(report::jsonb -> 'suites') s,
        jsonb_array_elements(s -> 'cases') c),
    success_count = (SELECT COUNT(*) FROM jsonb_array_elements(report::jsonb -> 'suites') s,
        jsonb_array_elements(s -> 'cases') c WHERE c ->> 'status' = 'success'),
    failed_count = (SELECT COUNT(*) FROM jsonb_array_elements(report::jsonb -> 'suites') s,
        jsonb_array_elements(s -> 'cases') c WHERE c ->> 'status' = 'failed'),
    error_count = (SELECT COUNT(*) FROM jsonb_array_elements(report::jsonb -> 'suites') s,
        jsonb_array_elements(s -> 'cases') c WHERE c ->> 'status' = 'error'),
    skipped_count = (SELECT COUNT(*) FROM jsonb_array_elements(report::jsonb -> 'suites') s,
        jsonb_array_elements(s -> 'cases') c WHERE c ->> 'status' = 'skipped'),
    total_time_us = (SELECT CAST(ROUND(COALESCE(SUM((s ->> 'total_time')::float8), 0) * 1000000) AS BIGINT)
        FROM jsonb_array_elements(report::jsonb -> 'suites') s),
    suite_error = (SELECT string_agg(e, '; ') FROM jsonb_array_elements_text(report::jsonb -> 'errors') e);
