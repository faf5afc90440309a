//! The Plan stage's pages of a project: the issue list and the new issue form (`issues.rs`),
//! an issue's page with its comments, sidebar and actions (`issue.rs`), its linked issues
//! (`issue_links.rs`), emoji reactions (`reactions.rs`) and threads (`threads.rs`), what an edit
//! of its description changed (`description_versions.rs`), the labels page
//! (`labels.rs`), the milestones pages of a project and of a group (`milestones.rs`,
//! `group_milestones.rs`), the issue boards of a project and of a group (`boards.rs`, with
//! their handlers in `board_pages.rs`), a group's epics pages (`epics.rs`) and roadmap
//! (`roadmap.rs`), a person's own pages — to-dos, notification levels, subscriptions and a
//! mail's unsubscribe link (`todos.rs`) —, files attached to issues and comments
//! (`uploads.rs`), and a project's wiki (`wiki.rs`). Plain forms with CSRF tokens that
//! answer 303 with a notice; core decides.

pub mod board_pages;
pub mod boards;
pub mod bulk_edit;
pub mod burnup_chart;
pub mod cadence_pages;
pub mod description_versions;
pub mod epic_notes;
pub mod epics;
pub mod group_milestones;
pub mod issue;
pub mod issue_links;
pub mod issue_sidebar;
pub mod issues;
pub mod iterations;
pub mod labels;
pub mod milestones;
pub mod note_history;
pub mod reactions;
pub mod roadmap;
pub mod threads;
pub mod todos;
pub mod uploads;
pub mod wiki;

use gantry_core::CoreError;
use gantry_core::plan::labels::LabelRow;

use crate::markup::label_text_color;

/// A label as a coloured chip, its text black or white, whichever reads better on it.
#[derive(Debug, Clone)]
pub struct LabelChip {
    pub id: i64,
    pub name: String,
    pub background: String,
    pub text: &'static str,
    pub description: String,
}

impl LabelChip {
    pub fn new(label: &LabelRow) -> LabelChip {
        LabelChip {
            id: label.id.0,
            name: label.title.clone(),
            background: label.color.clone(),
            text: label_text_color(&label.color),
            description: label.description.clone(),
        }
    }
}

/// A label offered by a form, and whether it is chosen.
pub struct LabelChoice {
    pub chip: LabelChip,
    pub chosen: bool,
}

/// An issue's number from the path; anything else names no issue.
fn issue_iid(value: &str) -> Result<i64, CoreError> {
    value.parse::<i64>().ok().filter(|iid| *iid > 0).ok_or(CoreError::NotFound("issue"))
}

/// Usernames typed into a form (`ada, @bo`), one each.
fn usernames(text: &str) -> Vec<String> {
    text.split([',', ' '])
        .map(|name| name.trim().trim_start_matches('@').to_owned())
        .filter(|n| !n.is_empty())
        .collect()
}
