-- Project topics (GitLab's topics, once "tags"): instance-wide labels that projects carry, made
-- by administrators or when a project names one that does not exist yet.

CREATE TABLE topics (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    title TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
-- Names are unique ignoring case.
CREATE UNIQUE INDEX topics_name_lower ON topics (lower(name));

CREATE TABLE project_topics (
    project_id INTEGER NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    topic_id INTEGER NOT NULL REFERENCES topics(id) ON DELETE CASCADE,
    PRIMARY KEY (project_id, topic_id)
);
CREATE INDEX project_topics_topic ON project_topics(topic_id);
