//! Comments on an epic's page (`/{group}/-/epics/{iid}`): its discussions with their notes in
//! Markdown (references as links, as the epic's description has them), a comment form that may
//! start a thread, replies and the button that resolves or reopens a thread, and each author's
//! edit and delete. Core decides who may.

use axum::Extension;
use axum::extract::{Path, State};
use gantry_core::plan::epic_notes::EpicNotePlace;
use gantry_core::plan::notes::{Discussion, NoteRow};
use gantry_core::plan::references::Resolutions;
use gantry_core::policy::{GroupAccess, GroupAction};
use gantry_core::{CoreError, now_millis};
use gantry_types::NoteId;

use super::epics::{Home, epic_iid, epic_page};
use super::issue::ThreadEnd;
use super::issues::Fields;
use crate::AppState;
use crate::auth::{CsrfForm, PageActor};
use crate::markup::render_markdown_with;
use crate::namespace_dispatch::NamespaceTarget;
use crate::time_format::ago;
use crate::ui::flash::{Flash, see_other_with};
use crate::ui::{PageResult, form_error};

/// One note of an epic's discussions as the page shows it.
pub struct EpicNoteLine {
    pub id: i64,
    pub author: String,
    pub body: String,
    pub html: String,
    pub when: String,
    pub edited: bool,
    /// The visitor may edit and delete it (its author, administrators).
    pub can_change: bool,
    /// A reply in a thread (shown under its first note).
    pub reply: bool,
    /// The last note of a thread: the reply form and the resolve button follow it.
    pub thread_end: Option<ThreadEnd>,
}

/// The lines of an epic's discussions, in order.
pub(super) fn note_lines(
    visitor: &PageActor,
    access: &GroupAccess,
    discussions: &[Discussion],
    references: &Resolutions,
) -> Vec<EpicNoteLine> {
    let me = visitor.actor.user();
    let now = now_millis();
    let line = |note: &NoteRow| EpicNoteLine {
        id: note.id.0,
        author: note.author.as_ref().map_or_else(|| "a deleted user".to_owned(), |user| user.username.clone()),
        body: note.body.clone(),
        html: render_markdown_with(&note.body, None, references),
        when: ago(note.created_at, now),
        edited: note.updated_at > note.created_at + 1000,
        can_change: !note.system && access.can_change_note(note.author_id),
        reply: false,
        thread_end: None,
    };
    let mut lines = Vec::new();
    for discussion in discussions {
        let last = discussion.notes.len().saturating_sub(1);
        for (at, note) in discussion.notes.iter().enumerate() {
            let mut shown = line(note);
            shown.reply = at > 0;
            if at == last && !discussion.individual_note {
                let started_it = me.is_some_and(|user| discussion.notes[0].author_id == Some(user.id));
                shown.thread_end = Some(ThreadEnd {
                    discussion_id: discussion.id.clone(),
                    resolved: discussion.resolved(),
                    can_resolve: started_it || access.can(GroupAction::ManageEpics),
                });
            }
            lines.push(shown);
        }
    }
    lines
}

/// Back to the epic with a notice, or the epic again with the refusal.
async fn after(
    state: &AppState,
    visitor: &PageActor,
    home: Home,
    iid: i64,
    outcome: Result<&str, CoreError>,
) -> PageResult {
    match outcome {
        Ok(notice) => see_other_with(state, visitor, &format!("{}/{iid}", home.base), &Flash::notice(notice)),
        Err(error @ CoreError::Invalid { .. }) => epic_page(state, visitor, home, iid, Some(form_error(error))).await,
        Err(error) => Err(visitor.error(error)),
    }
}

fn note_id(visitor: &PageActor, value: &str) -> Result<NoteId, crate::error::PageError> {
    value.parse::<NoteId>().map_err(|_| visitor.error(CoreError::NotFound("note")))
}

/// `POST /{group}/-/epics/{iid}/notes` (`body`; `thread=yes` starts a thread)
pub async fn comment(
    State(state): State<AppState>,
    visitor: PageActor,
    Extension(target): Extension<NamespaceTarget>,
    Path(iid): Path<String>,
    CsrfForm(form): CsrfForm<Vec<(String, String)>>,
) -> PageResult {
    let home = Home::load(&state, &visitor, target).await?;
    let iid = epic_iid(&visitor, &iid)?;
    let form = Fields(form);
    let place = if form.get("thread") == "yes" { EpicNotePlace::NewThread } else { EpicNotePlace::Comment };
    let done = state.core.plan().comment_on_epic(&home.access, iid, form.get("body"), place).await;
    after(&state, &visitor, home, iid, done.map(|_| "Your comment was added.")).await
}

/// `POST /{group}/-/epics/{iid}/notes/{note_id}/edit` (`body`; its author)
pub async fn edit_note(
    State(state): State<AppState>,
    visitor: PageActor,
    Extension(target): Extension<NamespaceTarget>,
    Path((iid, note)): Path<(String, String)>,
    CsrfForm(form): CsrfForm<Vec<(String, String)>>,
) -> PageResult {
    let home = Home::load(&state, &visitor, target).await?;
    let iid = epic_iid(&visitor, &iid)?;
    let note = note_id(&visitor, &note)?;
    let done = state.core.plan().update_epic_note(&home.access, iid, note, Fields(form).get("body")).await;
    after(&state, &visitor, home, iid, done.map(|_| "Your comment was saved.")).await
}

/// `POST /{group}/-/epics/{iid}/notes/{note_id}/delete` (its author)
pub async fn delete_note(
    State(state): State<AppState>,
    visitor: PageActor,
    Extension(target): Extension<NamespaceTarget>,
    Path((iid, note)): Path<(String, String)>,
    CsrfForm(_form): CsrfForm<Vec<(String, String)>>,
) -> PageResult {
    let home = Home::load(&state, &visitor, target).await?;
    let iid = epic_iid(&visitor, &iid)?;
    let note = note_id(&visitor, &note)?;
    let done = state.core.plan().delete_epic_note(&home.access, iid, note).await;
    after(&state, &visitor, home, iid, done.map(|()| "The comment was deleted.")).await
}

/// `POST /{group}/-/epics/{iid}/discussions/{discussion_id}/reply` (`body`)
pub async fn reply(
    State(state): State<AppState>,
    visitor: PageActor,
    Extension(target): Extension<NamespaceTarget>,
    Path((iid, discussion)): Path<(String, String)>,
    CsrfForm(form): CsrfForm<Vec<(String, String)>>,
) -> PageResult {
    let home = Home::load(&state, &visitor, target).await?;
    let iid = epic_iid(&visitor, &iid)?;
    let place = EpicNotePlace::Reply(&discussion);
    let done = state.core.plan().comment_on_epic(&home.access, iid, Fields(form).get("body"), place).await;
    after(&state, &visitor, home, iid, done.map(|_| "Your reply was added.")).await
}

/// `POST /{group}/-/epics/{iid}/discussions/{discussion_id}/resolve` (`resolved=yes|no`)
pub async fn resolve(
    State(state): State<AppState>,
    visitor: PageActor,
    Extension(target): Extension<NamespaceTarget>,
    Path((iid, discussion)): Path<(String, String)>,
    CsrfForm(form): CsrfForm<Vec<(String, String)>>,
) -> PageResult {
    let home = Home::load(&state, &visitor, target).await?;
    let iid = epic_iid(&visitor, &iid)?;
    let resolved = Fields(form).get("resolved") != "no";
    let done = state.core.plan().resolve_epic_discussion(&home.access, iid, &discussion, resolved).await;
    let notice = if resolved { "The thread was resolved." } else { "The thread was reopened." };
    after(&state, &visitor, home, iid, done.map(|_| notice)).await
}
