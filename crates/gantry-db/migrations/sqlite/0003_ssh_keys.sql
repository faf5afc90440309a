-- Users' SSH public keys for git over SSH. A key belongs to one user only.

CREATE TABLE ssh_keys (
    id INTEGER PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    title TEXT NOT NULL,
    -- The algorithm (ssh-ed25519, ssh-rsa, ecdsa-sha2-nistp256, ...).
    key_type TEXT NOT NULL,
    -- "<algorithm> <base64>", without the comment.
    public_key TEXT NOT NULL,
    -- SHA256:<base64>, as `ssh-keygen -l` prints it.
    fingerprint TEXT NOT NULL UNIQUE,
    created_at INTEGER NOT NULL,
    expires_at INTEGER,
    last_used_at INTEGER
);
CREATE INDEX ssh_keys_user ON ssh_keys(user_id);
