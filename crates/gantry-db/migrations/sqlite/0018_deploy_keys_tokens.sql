-- Deploy keys (SSH keys that give git access to projects rather than to a person) and deploy
-- tokens (a project's or a group's credentials for git over HTTP and, later, the registries).

CREATE TABLE deploy_keys (
    id INTEGER PRIMARY KEY,
    title TEXT NOT NULL,
    -- The algorithm (ssh-ed25519, ssh-rsa, ecdsa-sha2-nistp256, ...).
    key_type TEXT NOT NULL,
    -- "<algorithm> <base64>", without the comment.
    public_key TEXT NOT NULL,
    -- SHA256:<base64>, as `ssh-keygen -l` prints it.
    fingerprint TEXT NOT NULL UNIQUE,
    -- An administrator's instance key: any project's Maintainers may enable it, and it stays
    -- when no project uses it.
    is_public INTEGER NOT NULL DEFAULT 0,
    -- Who added it.
    user_id INTEGER REFERENCES users(id) ON DELETE SET NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    expires_at INTEGER,
    last_used_at INTEGER
);

-- The projects a deploy key is enabled on, and whether it may push to each.
CREATE TABLE deploy_keys_projects (
    id INTEGER PRIMARY KEY,
    deploy_key_id INTEGER NOT NULL REFERENCES deploy_keys(id) ON DELETE CASCADE,
    project_id INTEGER NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    can_push INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    UNIQUE (deploy_key_id, project_id)
);
CREATE INDEX deploy_keys_projects_project ON deploy_keys_projects(project_id);

-- Every public key the SSH server accepts, users' keys and deploy keys alike, by fingerprint:
-- one key is one identity, so a user's key cannot also be a deploy key.
CREATE TABLE key_fingerprints (
    fingerprint TEXT PRIMARY KEY,
    ssh_key_id INTEGER UNIQUE REFERENCES ssh_keys(id) ON DELETE CASCADE,
    deploy_key_id INTEGER UNIQUE REFERENCES deploy_keys(id) ON DELETE CASCADE,
    CHECK ((ssh_key_id IS NULL) <> (deploy_key_id IS NULL))
);
INSERT INTO key_fingerprints (fingerprint, ssh_key_id) SELECT fingerprint, id FROM ssh_keys;

-- Deploy tokens, of one project or of one group (then valid for every project below it).
CREATE TABLE deploy_tokens (
    id INTEGER PRIMARY KEY,
    project_id INTEGER REFERENCES projects(id) ON DELETE CASCADE,
    group_id INTEGER REFERENCES namespaces(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    -- The user name git sends with the token; NULL means gitlab+deploy-token-<id>.
    username TEXT,
    -- SHA-256 of the token: the token itself is shown once and never stored.
    token_digest TEXT NOT NULL UNIQUE,
    -- Comma-separated scopes (read_repository, read_registry, ...).
    scopes TEXT NOT NULL,
    expires_at INTEGER,
    revoked INTEGER NOT NULL DEFAULT 0,
    creator_id INTEGER REFERENCES users(id) ON DELETE SET NULL,
    created_at INTEGER NOT NULL,
    last_used_at INTEGER,
    CHECK ((project_id IS NULL) <> (group_id IS NULL))
);
CREATE INDEX deploy_tokens_project ON deploy_tokens(project_id);
CREATE INDEX deploy_tokens_group ON deploy_tokens(group_id);
