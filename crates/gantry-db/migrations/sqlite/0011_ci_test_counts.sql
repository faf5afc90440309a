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
    total_count = (SELECT COUNT(*) FROM json_each(report, '$.suites') s, json_each(s.value, '$.cases') c),
    success_count = (SELECT COUNT(*) FROM json_each(report, '$.suites') s, json_each(s.value, '$.cases') c
        WHERE json_extract(c.value, '$.status') = 'success'),
    failed_count = (SELECT COUNT(*) FROM json_each(report, '$.suites') s, json_each(s.value, '$.cases') c
        WHERE json_extract(c.value, '$.status') = 'failed'),
    error_count = (SELECT COUNT(*) FROM json_each(report, '$.suites') s, json_each(s.value, '$.cases') c
        WHERE json_extract(c.value, '$.status') = 'error'),
    skipped_count = (SELECT COUNT(*) FROM json_each(report, '$.suites') s, json_each(s.value, '$.cases') c
        WHERE json_extract(c.value, '$.status') = 'skipped'),
    total_time_us = (SELECT CAST(ROUND(COALESCE(SUM(json_extract(s.value, '$.total_time')), 0) * 1000000) AS INTEGER)
        FROM json_each(report, '$.suites') s),
    suite_error = (SELECT group_concat(e.value, '; ') FROM json_each(report, '$.errors') e);
