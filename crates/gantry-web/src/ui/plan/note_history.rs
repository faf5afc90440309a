//! What an edited comment said before (`…/notes/{note_id}/history` on an issue and on an epic,
//! reached from the comment's "edited"): its texts newest first, each with who wrote it, when,
//! and a line diff against the text before it.

use askama::Template;
use axum::Extension;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use gantry_core::CoreError;
use gantry_core::Page;
use gantry_core::plan::note_versions::{MAX_NOTE_VERSIONS, NoteVersion};
use gantry_core::plan::notes::NoteRow;
use gantry_types::NoteId;

use super::description_versions::{DiffLine, diff_lines};
use super::epics::{Home, epic_iid};
use super::issue_iid;
use crate::AppState;
use crate::auth::PageActor;
use crate::error::PageError;
use crate::namespace_dispatch::{NamespaceTarget, ProjectTarget};
use crate::time_format::ago;
use crate::ui::project_frame::ProjectFrame;
use crate::ui::{Chrome, PageResult, render};

/// Lines one version's diff shows at most.
const MAX_DIFF_LINES: usize = 2_000;

/// One text the comment had, as the page shows it.
pub struct VersionEntry {
    pub author: String,
    pub when: String,
    /// The text before the comment's first edit (its diff is against nothing).
    pub original: bool,
    pub lines: Vec<DiffLine>,
    /// Lines left out past [`MAX_DIFF_LINES`].
    pub more: usize,
}

/// The comment, its versions and what the page says of them.
pub struct History {
    pub note_id: i64,
    pub author: String,
    pub entries: Vec<VersionEntry>,
    /// Older versions not shown.
    pub older: usize,
}

/// The diffs of the newest versions (those read: the newest [`MAX_NOTE_VERSIONS`]), each
/// against the one before; the oldest read is shown only when it is the first text (off the
/// async threads: a diff of two long texts takes a while).
async fn history(
    visitor: &PageActor,
    note: &NoteRow,
    versions: Vec<NoteVersion>,
    total: i64,
) -> Result<History, PageError> {
    let now = gantry_core::now_millis();
    let total = usize::try_from(total).unwrap_or(usize::MAX).max(versions.len());
    let shown = if total > versions.len() { versions.len().saturating_sub(1) } else { versions.len() };
    let entries = tokio::task::spawn_blocking(move || {
        (0..shown)
            .map(|at| {
                let version = &versions[at];
                let before = versions.get(at + 1).map_or("", |older| older.row.body.as_str());
                let mut lines = diff_lines(before, &version.row.body);
                let more = lines.len().saturating_sub(MAX_DIFF_LINES);
                lines.truncate(MAX_DIFF_LINES);
                VersionEntry {
                    author: version.author.as_ref().map_or_else(|| "a deleted user".to_owned(), |u| u.username.clone()),
                    when: ago(version.row.created_at, now),
                    original: at + 1 == total,
                    lines,
                    more,
                }
            })
            .collect::<Vec<_>>()
    })
    .await
    .map_err(|error| visitor.error(CoreError::Internal(Box::new(error))))?;
    Ok(History {
        note_id: note.id.0,
        author: note.author.as_ref().map_or_else(|| "a deleted user".to_owned(), |u| u.username.clone()),
        older: total - entries.len(),
        entries,
    })
}

/// The versions a page reads.
const NEWEST: Page = Page { limit: MAX_NOTE_VERSIONS, offset: 0 };

fn note_id(visitor: &PageActor, value: &str) -> Result<NoteId, PageError> {
    value.parse::<NoteId>().map_err(|_| visitor.error(CoreError::NotFound("note")))
}

#[derive(Template)]
#[template(path = "projects/issues/note_history.html")]
struct IssueNotePage {
    chrome: Chrome,
    frame: ProjectFrame,
    tab: &'static str,
    iid: i64,
    history: History,
}

/// `GET /{project}/-/issues/{iid}/notes/{note_id}/history`
pub async fn issue_note(
    State(state): State<AppState>,
    visitor: PageActor,
    Extension(target): Extension<ProjectTarget>,
    Path((iid, note)): Path<(String, String)>,
) -> PageResult {
    let frame = ProjectFrame::load(&state, &visitor, target).await?;
    let iid = issue_iid(&iid).map_err(|e| visitor.error(e))?;
    let note = note_id(&visitor, &note)?;
    let (note, versions, total) =
        state.core.plan().issue_note_versions(&frame.access, iid, note, NEWEST).await.map_err(|e| visitor.error(e))?;
    let history = history(&visitor, &note, versions, total).await?;
    let page = IssueNotePage { chrome: Chrome::new(&visitor), tab: "issues", iid, history, frame };
    render(StatusCode::OK, &page)
}

#[derive(Template)]
#[template(path = "epics/note_history.html")]
struct EpicNotePage {
    chrome: Chrome,
    home: Home,
    iid: i64,
    history: History,
}

/// `GET /{group}/-/epics/{iid}/notes/{note_id}/history`
pub async fn epic_note(
    State(state): State<AppState>,
    visitor: PageActor,
    Extension(target): Extension<NamespaceTarget>,
    Path((iid, note)): Path<(String, String)>,
) -> PageResult {
    let home = Home::load(&state, &visitor, target).await?;
    let iid = epic_iid(&visitor, &iid)?;
    let note = note_id(&visitor, &note)?;
    let (note, versions, total) =
        state.core.plan().epic_note_versions(&home.access, iid, note, NEWEST).await.map_err(|e| visitor.error(e))?;
    let history = history(&visitor, &note, versions, total).await?;
    let page = EpicNotePage { chrome: Chrome::new(&visitor), home, iid, history };
    render(StatusCode::OK, &page)
}
