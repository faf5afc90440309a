-- Plan: what tells a remembered issue list (a board's column) it is out of date. Every write
-- to a project's issues, their labels or their assignees adds a row here, by trigger, so no
-- write is missed whichever server, path or cascade makes it. The sum of a project's weights
-- is its version: it grows with every committed change and with nothing else (rows are only
-- added, or folded into one row of the same sum), whatever order transactions commit in.

CREATE TABLE issue_changes (
    id INTEGER PRIMARY KEY,
    project_id INTEGER NOT NULL,
    weight INTEGER NOT NULL
);
CREATE INDEX issue_changes_project ON issue_changes (project_id, weight);

CREATE TRIGGER issues_changed_insert AFTER INSERT ON issues BEGIN
    INSERT INTO issue_changes (project_id, weight) VALUES (NEW.project_id, 1);
END;
CREATE TRIGGER issues_changed_delete AFTER DELETE ON issues BEGIN
    INSERT INTO issue_changes (project_id, weight) VALUES (OLD.project_id, 1);
END;
-- What a list selects or orders by (its time of last change aside: lists by it are not kept).
CREATE TRIGGER issues_changed_update AFTER UPDATE OF project_id, iid, title, author_id, state, confidential,
    due_date, weight, milestone_id, relative_position, iteration_id, created_at ON issues BEGIN
    INSERT INTO issue_changes (project_id, weight) VALUES (OLD.project_id, 1);
    INSERT INTO issue_changes (project_id, weight) SELECT NEW.project_id, 1 WHERE NEW.project_id <> OLD.project_id;
END;
CREATE TRIGGER label_links_changed_insert AFTER INSERT ON label_links WHEN NEW.issue_id IS NOT NULL BEGIN
    INSERT INTO issue_changes (project_id, weight) SELECT project_id, 1 FROM issues WHERE id = NEW.issue_id;
END;
CREATE TRIGGER label_links_changed_delete AFTER DELETE ON label_links WHEN OLD.issue_id IS NOT NULL BEGIN
    INSERT INTO issue_changes (project_id, weight) SELECT project_id, 1 FROM issues WHERE id = OLD.issue_id;
END;
CREATE TRIGGER label_links_changed_update AFTER UPDATE ON label_links BEGIN
    INSERT INTO issue_changes (project_id, weight) SELECT project_id, 1 FROM issues WHERE id IN (OLD.issue_id, NEW.issue_id);
END;
CREATE TRIGGER issue_assignees_changed_insert AFTER INSERT ON issue_assignees BEGIN
    INSERT INTO issue_changes (project_id, weight) SELECT project_id, 1 FROM issues WHERE id = NEW.issue_id;
END;
CREATE TRIGGER issue_assignees_changed_delete AFTER DELETE ON issue_assignees BEGIN
    INSERT INTO issue_changes (project_id, weight) SELECT project_id, 1 FROM issues WHERE id = OLD.issue_id;
END;
CREATE TRIGGER issue_assignees_changed_update AFTER UPDATE ON issue_assignees BEGIN
    INSERT INTO issue_changes (project_id, weight) SELECT project_id, 1 FROM issues WHERE id IN (OLD.issue_id, NEW.issue_id);
END;
