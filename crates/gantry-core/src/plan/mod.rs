//! Plan stage: issues (`issues`: create, change, close and reopen, delete, and the lists of a
//! project, a group and a user, with GitLab's filters), epics of groups with their dates and
//! nesting (`epics`) and what they hold — issues, child epics, progress (`epic_tree`) —, what
//! changed on them as records (`events`: GitLab's resource events), emoji reactions on issues
//! and comments (`award_emoji`), linked issues (`links`), issue boards of projects and groups
//! with their lists (`boards`) and the columns and moves of cards (`board_cards`; columns
//! remembered between changes, `remembered_lists`), the system notes every change leaves
//! (`system_notes`: GitLab's wording), notes on issues (`notes`; the texts an edited one had, `note_versions`), labels of projects and
//! groups (`labels`), milestones of projects and groups (`milestones`), iteration cadences of
//! groups (`cadences`: their schedules and roll-overs) with their iterations (`iterations`), the
//! burnup and burndown of a milestone or an iteration (`burnup`), an
//! issue's participants
//! (`participants`), `@mentions` (`mentions`), references in Markdown and the "mentioned in"
//! notes they leave (`references`; `reference_scan` finds them in text), who hears of a change
//! — to-dos and mail by notification level (`notify`) — a user's to-dos, levels and
//! subscriptions (`todos`), time tracking with the quick actions of comments (`quick_actions`,
//! `time_tracking`), the task lists of descriptions, ticked from the page (`tasks`), files
//! attached to issues and comments (`uploads`), issues named in pushed commits
//! (`commit_references`: mentioned, and closed by `Closes #12` on the default branch), a project's wiki (`wiki`: pages in the
//! wiki's git repository) with its search index (`wiki_index`), and the full-text search of
//! issues, comments, epics and wiki pages (`search`).

pub mod award_emoji;
mod board_cards;
pub mod boards;
pub mod burnup;
pub mod cadences;
pub mod commit_references;
pub mod description_versions;
pub mod epic_notes;
mod epic_tree;
pub mod epics;
pub mod events;
pub mod issue_templates;
pub mod issues;
pub mod iterations;
pub mod labels;
pub mod links;
mod mentions;
pub mod milestones;
pub mod note_versions;
pub mod notes;
pub mod notify;
mod participants;
pub mod quick_actions;
mod reference_scan;
pub mod references;
pub(crate) mod remembered_lists;
pub mod search;
mod system_notes;
pub mod tasks;
pub mod time_tracking;
pub mod todos;
pub mod uploads;
pub mod wiki;
mod wiki_access;
mod wiki_index;

stage!(
    /// The Plan stage: issues, their notes, labels, milestones and epics.
    Plan,
    plan
);
