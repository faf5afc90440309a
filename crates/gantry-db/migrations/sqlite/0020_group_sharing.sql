-- Sharing (GitLab's group links) and group-level protected branches.
--
-- A group or a project shared with another group (the invited group) gives the invited
-- group's members, direct or inherited from its ancestors, a role on it and everything below
-- it: the lower of their own role on the invited group and the link's `group_access`.

CREATE TABLE group_group_links (
    id INTEGER PRIMARY KEY,
    -- The group that is shared (its members page lists the invited group).
    shared_group_id INTEGER NOT NULL REFERENCES namespaces(id) ON DELETE CASCADE,
    -- The invited group, whose members get access.
    shared_with_group_id INTEGER NOT NULL REFERENCES namespaces(id) ON DELETE CASCADE,
    -- The highest role the link gives (10 Guest … 50 Owner).
    group_access INTEGER NOT NULL,
    expires_at INTEGER,
    created_by INTEGER REFERENCES users(id) ON DELETE SET NULL,
    created_at INTEGER NOT NULL,
    UNIQUE (shared_group_id, shared_with_group_id)
);
CREATE INDEX group_group_links_invited ON group_group_links(shared_with_group_id);

CREATE TABLE project_group_links (
    id INTEGER PRIMARY KEY,
    project_id INTEGER NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    -- The invited group, whose members get access.
    group_id INTEGER NOT NULL REFERENCES namespaces(id) ON DELETE CASCADE,
    group_access INTEGER NOT NULL,
    expires_at INTEGER,
    created_by INTEGER REFERENCES users(id) ON DELETE SET NULL,
    created_at INTEGER NOT NULL,
    UNIQUE (project_id, group_id)
);
CREATE INDEX project_group_links_group ON project_group_links(group_id);

-- Protected branches of a group: they apply to every project in the group and its subgroups,
-- on top of each project's own rules (the stricter wins).
CREATE TABLE group_protected_branches (
    id INTEGER PRIMARY KEY,
    namespace_id INTEGER NOT NULL REFERENCES namespaces(id) ON DELETE CASCADE,
    -- A branch name or a pattern with * wildcards.
    name TEXT NOT NULL,
    -- Lowest role that may push / merge (30 Developer, 40 Maintainer, 0 no one).
    push_access_level INTEGER NOT NULL,
    merge_access_level INTEGER NOT NULL,
    allow_force_push INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL,
    UNIQUE (namespace_id, name)
);
