-- A schedule's pipelines are the ones whose `schedule_id` names it, written with the pipeline
-- in one transaction; the copy of the newest one on the schedule row goes.
CREATE INDEX ci_pipelines_schedule ON ci_pipelines(schedule_id, id);
ALTER TABLE ci_pipeline_schedules DROP COLUMN last_pipeline_id;
