//! Plan stage: issues (`issues`: create, change, close and reopen, delete, and the lists of a
//! project, a group and a user, with GitLab's filters), the system notes every change leaves
//! (`system_notes`: GitLab's wording), notes on issues (`notes`) and labels of projects and
//! groups (`labels`).

pub mod issues;
pub mod labels;
pub mod notes;
mod system_notes;

stage!(
    /// The Plan stage: issues, their notes and labels.
    Plan,
    plan
);
