//! What one edit of an issue's description changed (`/-/issues/{iid}/descriptions/{version}/diff`,
//! reached from the "changed the description" note by "Compare with previous version"): the
//! Markdown as a line diff against the version before, with who wrote each and when, and the
//! whole text of the version.

use askama::Template;
use axum::Extension;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use gantry_core::CoreError;
use gantry_core::plan::description_versions::DescriptionVersion;
use similar::{ChangeTag, TextDiff};

use super::issue_iid;
use crate::AppState;
use crate::auth::PageActor;
use crate::namespace_dispatch::ProjectTarget;
use crate::time_format::ago;
use crate::ui::project_frame::ProjectFrame;
use crate::ui::{Chrome, PageResult, render};

/// Lines a diff shows at most; the rest is summed up.
const MAX_DIFF_LINES: usize = 5_000;
/// How long the diff looks for the smallest one: two long, wholly different texts then get a
/// coarser diff instead of keeping a core busy.
const DIFF_DEADLINE: std::time::Duration = std::time::Duration::from_millis(200);

/// One line of the diff.
pub struct DiffLine {
    /// `+`, `-` or a space.
    pub kind: char,
    pub old_number: Option<usize>,
    pub new_number: Option<usize>,
    pub text: String,
}

/// Who wrote a version, and when.
pub struct VersionLine {
    pub author: String,
    pub when: String,
    /// The description as it was before its first edit (history is kept from that edit on:
    /// it may have changed before, unrecorded).
    pub original: bool,
}

impl VersionLine {
    fn new(version: &DescriptionVersion, now: i64) -> VersionLine {
        VersionLine {
            author: version.author.as_ref().map_or_else(|| "a deleted user".to_owned(), |u| u.username.clone()),
            when: ago(version.row.created_at, now),
            original: version.row.note_id.is_none(),
        }
    }
}

#[derive(Template)]
#[template(path = "projects/issues/description_diff.html")]
struct DiffPage {
    chrome: Chrome,
    frame: ProjectFrame,
    tab: &'static str,
    iid: i64,
    title: String,
    version: VersionLine,
    previous: Option<VersionLine>,
    lines: Vec<DiffLine>,
    /// Lines left out past [`MAX_DIFF_LINES`].
    more: usize,
    text: String,
}

/// The line diff of two texts (the smallest found within [`DIFF_DEADLINE`]).
pub fn diff_lines(old: &str, new: &str) -> Vec<DiffLine> {
    TextDiff::configure()
        .timeout(DIFF_DEADLINE)
        .diff_lines(old, new)
        .iter_all_changes()
        .map(|change| DiffLine {
            kind: match change.tag() {
                ChangeTag::Delete => '-',
                ChangeTag::Insert => '+',
                ChangeTag::Equal => ' ',
            },
            old_number: change.old_index().map(|i| i + 1),
            new_number: change.new_index().map(|i| i + 1),
            text: change.value().trim_end_matches(['\n', '\r']).to_owned(),
        })
        .collect()
}

/// `GET /{project}/-/issues/{iid}/descriptions/{version}/diff`
pub async fn diff(
    State(state): State<AppState>,
    visitor: PageActor,
    Extension(target): Extension<ProjectTarget>,
    Path((iid, version)): Path<(String, String)>,
) -> PageResult {
    let frame = ProjectFrame::load(&state, &visitor, target).await?;
    let iid = issue_iid(&iid).map_err(|e| visitor.error(e))?;
    let version = version.parse::<i64>().map_err(|_| visitor.error(CoreError::NotFound("description version")))?;
    let plan = state.core.plan();
    let change = plan.description_change(&frame.access, iid, version).await.map_err(|e| visitor.error(e))?;
    let now = gantry_core::now_millis();
    let old = change.previous.as_ref().map_or_else(String::new, |previous| previous.row.description.clone());
    let new = change.version.row.description.clone();
    let mut lines = tokio::task::spawn_blocking(move || diff_lines(&old, &new))
        .await
        .map_err(|error| visitor.error(CoreError::Internal(Box::new(error))))?;
    let more = lines.len().saturating_sub(MAX_DIFF_LINES);
    lines.truncate(MAX_DIFF_LINES);
    let page = DiffPage {
        chrome: Chrome::new(&visitor),
        tab: "issues",
        iid,
        title: change.issue.issue.title,
        version: VersionLine::new(&change.version, now),
        previous: change.previous.as_ref().map(|previous| VersionLine::new(previous, now)),
        lines,
        more,
        text: change.version.row.description,
        frame,
    };
    render(StatusCode::OK, &page)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_long_wholly_different_texts_still_get_a_diff() {
        let old: String = (0..20_000).map(|i| format!("old {i}\n")).collect();
        let new: String = (0..20_000).map(|i| format!("new {i}\n")).collect();
        let lines = diff_lines(&old, &new);
        assert_eq!(lines.iter().filter(|l| l.kind == '-').count(), 20_000);
        assert_eq!(lines.iter().filter(|l| l.kind == '+').count(), 20_000);
    }

    #[test]
    fn lines_are_diffed_with_their_numbers() {
        let lines = diff_lines("a\nb\nc\n", "a\nB\nc\nd");
        let shown: Vec<(char, Option<usize>, Option<usize>, &str)> =
            lines.iter().map(|l| (l.kind, l.old_number, l.new_number, l.text.as_str())).collect();
        assert_eq!(
            shown,
            [
                (' ', Some(1), Some(1), "a"),
                ('-', Some(2), None, "b"),
                ('+', None, Some(2), "B"),
                (' ', Some(3), Some(3), "c"),
                ('+', None, Some(4), "d"),
            ]
        );
    }
}
