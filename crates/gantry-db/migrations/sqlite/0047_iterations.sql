-- Plan: iterations, GitLab's timeboxes of a group. A cadence (`iteration_cadences`) is a
-- series of iterations of a fixed length in weeks; an automatic one schedules its iterations
-- itself from its start date, a manual one holds those people add with their own dates. The
-- iterations of a cadence never overlap (their start dates are unique). A group's iterations
-- are numbered per group (`namespace_internal_ids`, usage 'iterations'). A project's issues go
-- in the iterations of the groups above it; an issue is in at most one.

CREATE TABLE iteration_cadences (
    id INTEGER PRIMARY KEY,
    group_id INTEGER NOT NULL REFERENCES namespaces(id) ON DELETE CASCADE,
    title TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    -- Calendar days, `YYYY-MM-DD` (sort as text): the first iteration's start.
    start_date TEXT NOT NULL,
    duration_in_weeks INTEGER NOT NULL,
    -- How many upcoming iterations an automatic cadence keeps scheduled.
    iterations_in_advance INTEGER NOT NULL,
    automatic INTEGER NOT NULL,
    -- An iteration that ends moves its open issues to the next one.
    roll_over INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE UNIQUE INDEX iteration_cadences_group_title ON iteration_cadences (group_id, title);

CREATE TABLE iterations (
    id INTEGER PRIMARY KEY,
    cadence_id INTEGER NOT NULL REFERENCES iteration_cadences(id) ON DELETE CASCADE,
    group_id INTEGER NOT NULL REFERENCES namespaces(id) ON DELETE CASCADE,
    iid INTEGER NOT NULL,
    -- Place in its cadence, from 1, by start date.
    sequence INTEGER NOT NULL,
    -- An automatic cadence's iterations have none (they are named by their dates).
    title TEXT,
    description TEXT NOT NULL DEFAULT '',
    start_date TEXT NOT NULL,
    due_date TEXT NOT NULL,
    -- 1 once its open issues moved to the next iteration (cadences that roll over).
    rolled_over INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    CHECK (start_date <= due_date)
);
CREATE UNIQUE INDEX iterations_cadence_start ON iterations (cadence_id, start_date);
CREATE UNIQUE INDEX iterations_group_iid ON iterations (group_id, iid);
CREATE INDEX iterations_group_dates ON iterations (group_id, due_date);

ALTER TABLE issues ADD COLUMN iteration_id INTEGER REFERENCES iterations(id) ON DELETE SET NULL;
CREATE INDEX issues_iteration ON issues (iteration_id);

-- GitLab's resource iteration events: kind 'iteration', action 'add' or 'remove'.
ALTER TABLE resource_events ADD COLUMN iteration_id INTEGER REFERENCES iterations(id) ON DELETE SET NULL;
