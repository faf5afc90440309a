-- The last number given within a project for each kind of thing numbered per project
-- (pipelines now; issues and merge requests next). Taking the next number updates one row,
-- which the database serialises, so two pipelines created at once never get the same number.
CREATE TABLE internal_ids (
    project_id INTEGER NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    usage TEXT NOT NULL,
    last_value INTEGER NOT NULL,
    PRIMARY KEY (project_id, usage)
);
