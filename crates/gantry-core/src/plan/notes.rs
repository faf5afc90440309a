//! Notes on issues: comments in Markdown by anyone signed in who sees the issue (on a locked
//! discussion, Reporters and above), changed and deleted by their author (and administrators);
//! system notes, which Gantry writes, are never changed. Each comment starts a discussion of
//! its own (threads come later, in the same table).

use gantry_db::plan::issues as issues_db;
pub use gantry_db::plan::notes::NoteRow;
use gantry_db::plan::notes::{self as db, NewNote, Noteable};
use gantry_types::NoteId;

use super::issues::load_issue;
use super::notify::IssueEvent;
use crate::policy::ProjectAccess;
use crate::{CoreError, CoreResult, Page};

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
        Ok(db::list_notes(&mut conn, noteable, order.by_update, order.newest_first, page).await?)
    }

    /// One note of an issue.
    pub async fn find_issue_note(&self, access: &ProjectAccess, iid: i64, id: NoteId) -> CoreResult<NoteRow> {
        let mut conn = self.db.conn().await?;
        let issue = load_issue(&mut conn, access, iid).await?;
        db::find_note(&mut conn, Noteable::issue(issue.issue.id), id).await?.ok_or(CoreError::NotFound("note"))
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
        let mut conn = self.db.conn().await?;
        db::update_note_body(&mut conn, note.id, &body).await?;
        let noteable = Noteable { kind: "Issue", id: note.noteable_id };
        db::find_note(&mut conn, noteable, id).await?.ok_or(CoreError::NotFound("note"))
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
