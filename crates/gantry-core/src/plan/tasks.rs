//! Task lists in a description (`- [ ]`, `* [x]`, `1. [ ]`, outside code blocks), as the
//! Markdown renderer draws their checkboxes, in the same order: counted for the API's
//! `task_completion_status`, and ticked from the issue's page, which names the box by its
//! place and the description it saw (its digest), so a box is never ticked in a description
//! that changed meanwhile.

use sha2::{Digest, Sha256};

use super::issues::{IssueChanges, IssueView, load_issue};
use crate::policy::ProjectAccess;
use crate::{CoreError, CoreResult};

/// The task items of a text: for each, its line's index and whether it is ticked.
pub fn task_items(text: &str) -> Vec<(usize, bool)> {
    let mut items = Vec::new();
    let mut fence: Option<&str> = None;
    for (index, line) in text.lines().enumerate() {
        let trimmed = line.trim_start();
        if let Some(open) = fence {
            if trimmed.starts_with(open) {
                fence = None;
            }
            continue;
        }
        if trimmed.starts_with("```") || trimmed.starts_with("~~~") {
            fence = Some(&trimmed[..3]);
            continue;
        }
        if let Some(checked) = task_marker(trimmed).map(|(_, checked)| checked) {
            items.push((index, checked));
        }
    }
    items
}

/// A list item's task box: the byte offset of its `[` in the trimmed line and whether it is
/// ticked.
fn task_marker(line: &str) -> Option<(usize, bool)> {
    let bullet = if line.starts_with(['-', '*', '+']) {
        1
    } else {
        let digits = line.find(|c: char| !c.is_ascii_digit())?;
        (digits > 0 && line[digits..].starts_with(['.', ')'])).then_some(digits + 1)?
    };
    let rest = &line[bullet..];
    let spaces = rest.len() - rest.trim_start_matches(' ').len();
    if spaces == 0 {
        return None;
    }
    let at = bullet + spaces;
    let checked = match line.get(at..at + 3)? {
        "[ ]" => false,
        "[x]" | "[X]" => true,
        _ => return None,
    };
    // A box is followed by a space or ends the line.
    matches!(line[at + 3..].chars().next(), None | Some(' ') | Some('\t')).then_some((at, checked))
}

/// How many task items a text has, and how many are ticked.
pub fn task_counts(text: &str) -> (i64, i64) {
    let items = task_items(text);
    (items.len() as i64, items.iter().filter(|(_, checked)| *checked).count() as i64)
}

/// The digest of a description, as the page that ticks its boxes names it.
pub fn description_digest(text: &str) -> String {
    hex::encode(Sha256::digest(text.as_bytes()))[..16].to_owned()
}

/// The text with its `index`th task item ticked or not; `None` when there is no such item.
fn with_task(text: &str, index: usize, checked: bool) -> Option<String> {
    let (line_index, _) = *task_items(text).get(index)?;
    let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
    let line = &mut lines[line_index];
    let indent = line.len() - line.trim_start().len();
    let (at, _) = task_marker(line.trim_start())?;
    line.replace_range(indent + at..indent + at + 3, if checked { "[x]" } else { "[ ]" });
    let mut out = lines.join("\n");
    if text.ends_with('\n') {
        out.push('\n');
    }
    Some(out)
}

impl super::Plan<'_> {
    /// Ticks (or unticks) the `index`th task box (counting from 0, as the form sends it) of an
    /// issue's description, for those who may edit it; `digest` is the description's as the
    /// page showed it.
    pub async fn set_issue_task(
        &self,
        access: &ProjectAccess,
        iid: i64,
        index: &str,
        checked: bool,
        digest: &str,
    ) -> CoreResult<IssueView> {
        let mut conn = self.db.conn().await?;
        let issue = load_issue(&mut conn, access, iid).await?;
        drop(conn);
        access.require_edit_issue(&issue.facts())?;
        let index = index
            .trim()
            .parse::<usize>()
            .map_err(|_| CoreError::invalid("index", "should be the number of a task box, counting from 0"))?;
        if description_digest(&issue.issue.description) != digest {
            return Err(CoreError::Conflict(
                "the description changed since the page was opened: reload it and tick the box again".into(),
            ));
        }
        let description = with_task(&issue.issue.description, index, checked)
            .ok_or_else(|| CoreError::invalid("task", format!("the description has no task number {}", index + 1)))?;
        let changes = IssueChanges { description: Some(description), ..IssueChanges::default() };
        self.update_issue(access, iid, &changes).await
    }
}

#[cfg(test)]
mod tests {
    use super::{task_counts, task_items, with_task};

    #[test]
    fn task_items_are_found_outside_code_and_ticked_in_place() {
        assert_eq!(task_counts("- [ ] a\n- [x] b\n* [X] c\n1. [ ] d\ntext [ ]"), (4, 2));
        assert_eq!(task_counts(""), (0, 0));
        let text = "Plan:\n- [ ] write\n  * [x] review\n1. [ ] ship\n```\n- [ ] not a task\n```\n- [] no\n-[ ] no\n";
        assert_eq!(task_items(text), vec![(1, false), (2, true), (3, false)]);
        assert_eq!(task_counts(text), (3, 1));
        let ticked = with_task(text, 2, true).unwrap();
        assert!(ticked.contains("1. [x] ship") && ticked.ends_with("-[ ] no\n"), "{ticked}");
        let unticked = with_task(text, 1, false).unwrap();
        assert!(unticked.contains("  * [ ] review"), "{unticked}");
        assert_eq!(with_task(text, 3, true), None);
    }
}
