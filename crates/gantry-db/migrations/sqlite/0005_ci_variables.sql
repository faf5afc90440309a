-- CI/CD variables of the instance, groups and projects. Values are encrypted (AES-256-GCM) by
-- core before they reach the database.

CREATE TABLE ci_variables (
    id INTEGER PRIMARY KEY,
    -- instance, group or project.
    owner_kind TEXT NOT NULL,
    -- The group's namespace id or the project id; 0 for the instance (for the unique key).
    owner_id INTEGER NOT NULL,
    -- The same owner as foreign keys, so deleting a group or project deletes its variables.
    group_id INTEGER REFERENCES namespaces(id) ON DELETE CASCADE,
    project_id INTEGER REFERENCES projects(id) ON DELETE CASCADE,
    key TEXT NOT NULL,
    -- "v1:" + hex(nonce || ciphertext).
    value_sealed TEXT NOT NULL,
    -- env_var or file.
    variable_type TEXT NOT NULL DEFAULT 'env_var',
    masked INTEGER NOT NULL DEFAULT 0,
    protected INTEGER NOT NULL DEFAULT 0,
    -- Not expanded ($OTHER stays as written).
    raw INTEGER NOT NULL DEFAULT 0,
    -- Which environments get it: `*` (all), a name, or a wildcard.
    environment_scope TEXT NOT NULL DEFAULT '*',
    description TEXT NOT NULL DEFAULT '',
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    UNIQUE (owner_kind, owner_id, key, environment_scope)
);
CREATE INDEX ci_variables_owner ON ci_variables(owner_kind, owner_id);
