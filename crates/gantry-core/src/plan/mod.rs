//! Plan stage: issues (`issues`: create, change, close and reopen, delete, and the lists of a
//! project, a group and a user, with GitLab's filters), the system notes every change leaves
//! (`system_notes`: GitLab's wording), notes on issues (`notes`), labels of projects and
//! groups (`labels`), milestones of projects and groups (`milestones`) and an issue's
//! participants (`participants`).

pub mod issues;
pub mod labels;
pub mod milestones;
pub mod notes;
mod participants;
mod system_notes;

stage!(
    /// The Plan stage: issues, their notes, labels and milestones.
    Plan,
    plan
);
