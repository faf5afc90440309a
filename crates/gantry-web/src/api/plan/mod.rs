//! The Plan stage's API, shaped like GitLab's: issues (`issues.rs`: a project's, a group's and
//! the caller's, with GitLab's filters; create, edit, close and reopen with `state_event`,
//! delete), their notes (`notes.rs`) and discussions, threads that can be resolved
//! (`discussions.rs`), emoji reactions on both (`award_emoji.rs`), linked issues (`links.rs`),
//! the descriptions an issue has had (`description_versions.rs`),
//! their resource events and the merge requests that close them (`events.rs`), labels of
//! projects and groups (`labels.rs`) and their milestones (`milestones.rs`), groups' iteration
//! cadences and iterations (`iterations.rs`), issue boards of
//! projects and groups with their lists (`boards.rs`), epics of groups with their issues and
//! child epics (`epics.rs`) and their comments and threads (`epic_notes.rs`), the caller's to-dos, notification settings and issue
//! subscriptions (`todos.rs`), files for issues and comments (`uploads.rs`), project and group
//! wikis with their attachments (`wikis.rs`) and the Markdown preview (`markdown.rs`); the wire types
//! in `types.rs`.

pub mod award_emoji;
pub mod boards;
pub mod description_versions;
pub mod discussions;
pub mod epic_notes;
pub mod epics;
pub mod events;
pub mod issues;
pub mod iterations;
pub mod labels;
pub mod links;
pub mod markdown;
pub mod milestones;
pub mod notes;
pub mod todos;
pub(crate) mod types;
pub mod uploads;
pub mod wikis;

use gantry_core::CoreError;

/// The body an issue's or a comment's writes may send (the API's and the pages'): a description
/// of 1 MiB fits even percent-encoded, so a longer one is refused by core with a sentence rather
/// than cut off at the server's usual limit.
pub const TEXT_BODY_LIMIT: usize = 4 * 1024 * 1024;

use super::ApiResult;

/// An issue's number from the path; anything else names no issue.
fn issue_iid(value: &str) -> ApiResult<i64> {
    value.parse::<i64>().ok().filter(|iid| *iid > 0).ok_or_else(|| CoreError::NotFound("issue").into())
}
