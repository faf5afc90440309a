-- Labels: a project's priorities among the labels it uses (its own and its groups'; a lower
-- number comes first, GitLab's "prioritized labels"), and people's subscriptions to a label
-- (mail when it is put on an issue): in one project's issues (`project_id`, for a group label
-- subscribed from a project) or everywhere the label is used (`project_id` empty).
CREATE TABLE label_priorities (
    project_id BIGINT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    label_id BIGINT NOT NULL REFERENCES labels(id) ON DELETE CASCADE,
    priority BIGINT NOT NULL,
    PRIMARY KEY (project_id, label_id)
);
CREATE INDEX label_priorities_label ON label_priorities (label_id);

CREATE TABLE label_subscriptions (
    label_id BIGINT NOT NULL REFERENCES labels(id) ON DELETE CASCADE,
    user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    project_id BIGINT REFERENCES projects(id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX label_subscriptions_one ON label_subscriptions (label_id, user_id, COALESCE(project_id, 0));
CREATE INDEX label_subscriptions_user ON label_subscriptions (user_id);
