//! Notes on issues: comments in Markdown by anyone signed in who sees the issue (on a locked
//! discussion, Reporters and above), changed and deleted by their author (and administrators);
//! system notes, which Gantry writes, are never changed; a "mentioned in" note shows only to
//! those who may see the issue it names. Each comment starts a discussion of
//! its own (threads come later, in the same table).

use gantry_db::plan::issues as issues_db;
pub use gantry_db::plan::notes::NoteRow;
use gantry_db::plan::notes::{self as db, NewNote, Noteable};
use gantry_types::NoteId;

use super::issues::load_issue;
use super::notify::IssueEvent;
use super::references::{Resolver, cross_reference_source};
use crate::policy::ProjectAccess;
use crate::{CoreError, CoreResult, Page};
use gantry_db::Conn;

/// Longest note, in bytes (GitLab's limit of a million characters, counted in bytes here).
pub const MAX_NOTE: usize = 1_000_000;

/// How a list of notes is ordered (GitLab's `order_by` and `sort`).
#[derive(Debug, Clone, Copy, Default)]
pub struct NoteOrder {
    /// By last change rather than by creation.
    pub by_update: bool,
    pub newest_first: bool,
}

/// A note's text as stored: not blank, at most [`MAX_NOTE`] bytes.
pub fn check_note_body(body: &str) -> CoreResult<String> {
    if body.trim().is_empty() {
        return Err(CoreError::invalid("body", "can't be blank"));
    }
    if body.len() > MAX_NOTE {
        return Err(CoreError::invalid("body", "is too long (maximum is 1000000 characters)"));
    }
    Ok(body.replace("\r\n", "\n"))
}

impl super::Plan<'_> {
    /// One page of an issue's notes (comments and system notes), and how many it has.
    pub async fn list_issue_notes(
        &self,
        access: &ProjectAccess,
        iid: i64,
        order: NoteOrder,
        page: Page,
    ) -> CoreResult<(Vec<NoteRow>, i64)> {
        let mut conn = self.db.conn().await?;
        let issue = load_issue(&mut conn, access, iid).await?;
        let noteable = Noteable::issue(issue.issue.id);
        let (notes, total) = db::list_notes(&mut conn, noteable, order.by_update, order.newest_first, page).await?;
        Ok((visible_notes(&mut conn, access, notes).await?, total))
    }

    /// One note of an issue.
    pub async fn find_issue_note(&self, access: &ProjectAccess, iid: i64, id: NoteId) -> CoreResult<NoteRow> {
        let mut conn = self.db.conn().await?;
        let issue = load_issue(&mut conn, access, iid).await?;
        let note = db::find_note(&mut conn, Noteable::issue(issue.issue.id), id).await?;
        visible_notes(&mut conn, access, note.into_iter().collect()).await?.pop().ok_or(CoreError::NotFound("note"))
    }

    /// Comments on an issue.
    pub async fn create_issue_note(&self, access: &ProjectAccess, iid: i64, body: &str) -> CoreResult<NoteRow> {
        let body = check_note_body(body)?;
        let mut tx = self.db.begin().await?;
        let issue = load_issue(&mut tx, access, iid).await?;
        access.require_comment_on_issue(&issue.facts())?;
        let author = access.actor().require_user()?.id;
        let discussion = crate::secret::random_hex(20);
        let noteable = Noteable::issue(issue.issue.id);
        let note = NewNote {
            project_id: Some(access.project().id),
            noteable,
            discussion_id: &discussion,
            author_id: Some(author),
            body: &body,
            system: false,
        };
        let id = db::insert_note(&mut tx, &note).await?;
        issues_db::touch_issue(&mut tx, issue.issue.id).await?;
        let row = db::find_note(&mut tx, noteable, id).await?.ok_or(CoreError::NotFound("note"))?;
        let event = IssueEvent::Commented { note: id, body: &body };
        let mailed = self.after_issue_change(&mut tx, access, &issue, event).await?;
        tx.commit().await.map_err(gantry_db::DbError::from)?;
        if mailed {
            self.wake_background();
        }
        tracing::info!(project.id = %access.project().id, issue.iid = iid, note.id = %id, "comment added");
        Ok(row)
    }

    /// Changes a comment's text (its author, and administrators).
    pub async fn update_issue_note(
        &self,
        access: &ProjectAccess,
        iid: i64,
        id: NoteId,
        body: &str,
    ) -> CoreResult<NoteRow> {
        let note = self.changeable_note(access, iid, id).await?;
        let body = check_note_body(body)?;
        let mut tx = self.db.begin().await?;
        let issue = load_issue(&mut tx, access, iid).await?;
        db::update_note_body(&mut tx, note.id, &body).await?;
        let noteable = Noteable::issue(issue.issue.id);
        let row = db::find_note(&mut tx, noteable, id).await?.ok_or(CoreError::NotFound("note"))?;
        let event = IssueEvent::CommentEdited { note: id, body: &body, before: &note.body };
        let mailed = self.after_issue_change(&mut tx, access, &issue, event).await?;
        tx.commit().await.map_err(gantry_db::DbError::from)?;
        if mailed {
            self.wake_background();
        }
        Ok(row)
    }

    /// Deletes a comment (its author, and administrators).
    pub async fn delete_issue_note(&self, access: &ProjectAccess, iid: i64, id: NoteId) -> CoreResult<()> {
        let note = self.changeable_note(access, iid, id).await?;
        let mut conn = self.db.conn().await?;
        db::delete_note(&mut conn, note.id).await?;
        tracing::info!(project.id = %access.project().id, issue.iid = iid, note.id = %id, "comment deleted");
        Ok(())
    }

    /// A note the actor may change: a comment (not a system note) they wrote.
    async fn changeable_note(&self, access: &ProjectAccess, iid: i64, id: NoteId) -> CoreResult<NoteRow> {
        let note = self.find_issue_note(access, iid, id).await?;
        access.actor().require_user()?;
        if note.system {
            return Err(CoreError::Forbidden("system notes cannot be changed or deleted".to_owned()));
        }
        if !access.can_change_note(note.author_id) {
            return Err(CoreError::Forbidden("only the author of a comment can change or delete it".to_owned()));
        }
        Ok(note)
    }
}

/// `notes` without the "mentioned in" notes whose source the actor may not see (a confidential
/// issue, a private project): that another issue names this one is the source's to tell.
async fn visible_notes(conn: &mut Conn, access: &ProjectAccess, notes: Vec<NoteRow>) -> CoreResult<Vec<NoteRow>> {
    let mut resolver = Resolver::new(access.actor(), Some(access));
    let mut kept = Vec::with_capacity(notes.len());
    for note in notes {
        if note.system
            && let Some(source) = cross_reference_source(&note.body)
            && !resolver.sees_issue(conn, &source).await?
        {
            continue;
        }
        kept.push(note);
    }
    Ok(kept)
}
