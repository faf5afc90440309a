-- Accounts, namespaces (users and groups), projects, membership, tokens, sessions, settings.
CREATE TABLE users (
    id INTEGER PRIMARY KEY,
    username TEXT NOT NULL,
    username_lower TEXT NOT NULL UNIQUE,
    email TEXT NOT NULL,
    email_lower TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    is_admin INTEGER NOT NULL DEFAULT 0,
    state TEXT NOT NULL DEFAULT 'active',
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);

CREATE TABLE namespaces (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,
    parent_id INTEGER REFERENCES namespaces(id) ON DELETE CASCADE,
    owner_id INTEGER UNIQUE REFERENCES users(id) ON DELETE CASCADE,
    path TEXT NOT NULL,
    name TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    visibility TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE INDEX namespaces_parent ON namespaces(parent_id);

CREATE TABLE projects (
    id INTEGER PRIMARY KEY,
    namespace_id INTEGER NOT NULL REFERENCES namespaces(id) ON DELETE CASCADE,
    path TEXT NOT NULL,
    name TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    visibility TEXT NOT NULL,
    default_branch TEXT NOT NULL DEFAULT 'main',
    archived INTEGER NOT NULL DEFAULT 0,
    creator_id INTEGER REFERENCES users(id) ON DELETE SET NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE INDEX projects_namespace ON projects(namespace_id);

-- One path space for users, groups and projects: a unique row per full path.
CREATE TABLE routes (
    id INTEGER PRIMARY KEY,
    path TEXT NOT NULL,
    path_lower TEXT NOT NULL UNIQUE,
    namespace_id INTEGER UNIQUE REFERENCES namespaces(id) ON DELETE CASCADE,
    project_id INTEGER UNIQUE REFERENCES projects(id) ON DELETE CASCADE
);

CREATE TABLE members (
    id INTEGER PRIMARY KEY,
    namespace_id INTEGER REFERENCES namespaces(id) ON DELETE CASCADE,
    project_id INTEGER REFERENCES projects(id) ON DELETE CASCADE,
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    access_level INTEGER NOT NULL,
    created_by INTEGER REFERENCES users(id) ON DELETE SET NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER,
    UNIQUE (namespace_id, user_id),
    UNIQUE (project_id, user_id)
);
CREATE INDEX members_user ON members(user_id);

CREATE TABLE personal_access_tokens (
    id INTEGER PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    token_digest TEXT NOT NULL UNIQUE,
    scopes TEXT NOT NULL,
    expires_at INTEGER,
    revoked INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL,
    last_used_at INTEGER
);
CREATE INDEX personal_access_tokens_user ON personal_access_tokens(user_id);

CREATE TABLE sessions (
    id INTEGER PRIMARY KEY,
    session_digest TEXT NOT NULL UNIQUE,
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
);

CREATE TABLE settings (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
