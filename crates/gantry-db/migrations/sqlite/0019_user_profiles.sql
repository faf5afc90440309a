-- What people add to their accounts beyond the foundation: avatars (of users, groups and user
-- namespaces, projects and topics), secondary e-mail addresses, a status, GPG keys, and
-- impersonation tokens (personal access tokens an administrator makes to act as a user).

-- An avatar is the image's blob in the object store (its SHA-256) and the file name it was
-- uploaded with, which its URL ends in.
ALTER TABLE users ADD COLUMN avatar_digest TEXT;
ALTER TABLE users ADD COLUMN avatar_name TEXT;
ALTER TABLE namespaces ADD COLUMN avatar_digest TEXT;
ALTER TABLE namespaces ADD COLUMN avatar_name TEXT;
ALTER TABLE projects ADD COLUMN avatar_digest TEXT;
ALTER TABLE projects ADD COLUMN avatar_name TEXT;
ALTER TABLE topics ADD COLUMN avatar_digest TEXT;
ALTER TABLE topics ADD COLUMN avatar_name TEXT;

-- Secondary addresses; an address belongs to one account, as a primary or a secondary one.
CREATE TABLE user_emails (
    id INTEGER PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    email TEXT NOT NULL,
    email_lower TEXT NOT NULL UNIQUE,
    confirmed_at INTEGER,
    created_at INTEGER NOT NULL
);
CREATE INDEX user_emails_user ON user_emails(user_id);

CREATE TABLE user_statuses (
    user_id INTEGER PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
    emoji TEXT NOT NULL DEFAULT '',
    message TEXT NOT NULL DEFAULT '',
    availability TEXT NOT NULL DEFAULT 'not_set',
    -- When the status clears itself (milliseconds), if it does.
    clear_at INTEGER
);

CREATE TABLE gpg_keys (
    id INTEGER PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    -- The armored public key as it was given.
    public_key TEXT NOT NULL,
    -- The primary key's fingerprint (40 hex digits, upper case) and key id (its last 16).
    fingerprint TEXT NOT NULL UNIQUE,
    primary_keyid TEXT NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX gpg_keys_user ON gpg_keys(user_id);

ALTER TABLE personal_access_tokens ADD COLUMN impersonation INTEGER NOT NULL DEFAULT 0;
