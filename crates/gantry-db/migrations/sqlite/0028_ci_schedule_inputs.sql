-- A schedule's values for its CI file's spec:inputs: a JSON object (name → value).
ALTER TABLE ci_pipeline_schedules ADD COLUMN inputs TEXT NOT NULL DEFAULT '{}';
