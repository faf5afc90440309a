//! Manage stage: accounts and sessions, CSRF tokens, personal access tokens, SSH keys, groups,
//! projects and their topics, membership and instance settings.

pub mod accounts;
pub mod csrf;
pub mod groups;
pub mod members;
pub mod projects;
pub mod ssh_keys;
pub mod tokens;
pub mod topics;
pub mod user_admin;

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
