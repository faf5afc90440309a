-- Plan: files attached to a project's issues and comments (GitLab's project uploads), kept in
-- the object store by digest and addressed by a random secret and their file name.
CREATE TABLE uploads (
    id INTEGER PRIMARY KEY,
    project_id INTEGER NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    secret TEXT NOT NULL,
    filename TEXT NOT NULL,
    blob_digest TEXT NOT NULL,
    size INTEGER NOT NULL,
    uploaded_by INTEGER REFERENCES users(id) ON DELETE SET NULL,
    created_at INTEGER NOT NULL
);
CREATE UNIQUE INDEX uploads_secret ON uploads (project_id, secret);
