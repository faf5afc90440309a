//! Manage stage: accounts and sessions, users' secondary e-mail addresses, statuses and GPG
//! keys, CSRF tokens, personal access tokens (and impersonation tokens), project and group
//! access tokens (bot users), SSH keys, deploy keys and deploy tokens, groups, projects and
//! their topics, avatars, membership, sharing with groups and instance settings (GitLab's
//! application settings).

pub mod access_tokens;
pub mod accounts;
pub mod application_settings;
pub mod avatars;
pub mod csrf;
pub mod deploy_keys;
pub mod deploy_tokens;
pub mod emails;
pub mod flash;
pub mod gpg_keys;
pub mod groups;
pub mod members;
pub mod openpgp;
pub mod projects;
pub mod sharing;
pub mod ssh_keys;
pub mod tokens;
pub mod topics;
pub mod user_admin;
pub mod user_status;

stage!(
    /// The Manage stage: accounts, sessions, tokens, SSH keys, groups, projects and members.
    Manage,
    manage
);

use gantry_db::DbError;

use crate::CoreError;

/// Maps a unique-constraint failure to a `Conflict` with `message`, other failures unchanged.
pub(crate) fn conflict_as(message: &str) -> impl Fn(DbError) -> CoreError + '_ {
    move |error| match error {
        DbError::Conflict(_) => CoreError::Conflict(message.to_owned()),
        other => CoreError::from(other),
    }
}
