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

/// Most notes an issue's discussions are read from.
pub const MAX_DISCUSSION_NOTES: i64 = 5000;

/// Where a new note goes.
#[derive(Debug, Clone, Copy)]
enum Place<'a> {
    /// A comment of its own.
    Comment,
    /// The first note of a new thread.
    NewThread,
    /// A reply in the discussion with this id.
    Reply(&'a str),
}

/// A discussion: one comment (`individual_note`), or a thread of notes.
#[derive(Debug, Clone)]
pub struct Discussion {
    pub id: String,
    pub individual_note: bool,
    pub notes: Vec<NoteRow>,
}

impl Discussion {
    /// A thread whose notes are all resolved.
    pub fn resolved(&self) -> bool {
        !self.individual_note && self.notes.iter().filter(|note| !note.system).all(|note| note.resolved_at.is_some())
    }
}

/// Notes (oldest first) grouped in discussions, in the order the discussions started.
pub fn discussions(notes: Vec<NoteRow>) -> Vec<Discussion> {
    let mut found: Vec<Discussion> = Vec::new();
    let mut at: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    for note in notes {
        match at.get(&note.discussion_id) {
            Some(&index) => found[index].notes.push(note),
            None => {
                at.insert(note.discussion_id.clone(), found.len());
                found.push(Discussion {
                    id: note.discussion_id.clone(),
                    individual_note: !note.thread,
                    notes: vec![note],
                });
            }
        }
    }
    found
}

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
        self.add_issue_note(access, iid, body, Place::Comment).await
    }

    /// Starts a thread on an issue: a comment others reply to, which can be resolved.
    pub async fn start_issue_thread(&self, access: &ProjectAccess, iid: i64, body: &str) -> CoreResult<NoteRow> {
        self.add_issue_note(access, iid, body, Place::NewThread).await
    }

    /// Replies in a discussion of an issue (a comment replied to becomes a thread).
    pub async fn reply_to_issue_discussion(
        &self,
        access: &ProjectAccess,
        iid: i64,
        discussion: &str,
        body: &str,
    ) -> CoreResult<NoteRow> {
        self.add_issue_note(access, iid, body, Place::Reply(discussion)).await
    }

    async fn add_issue_note(
        &self,
        access: &ProjectAccess,
        iid: i64,
        body: &str,
        place: Place<'_>,
    ) -> CoreResult<NoteRow> {
        let body = check_note_body(body)?;
        let mut tx = self.db.begin().await?;
        let issue = load_issue(&mut tx, access, iid).await?;
        access.require_comment_on_issue(&issue.facts())?;
        let author = access.actor().require_user()?.id;
        let noteable = Noteable::issue(issue.issue.id);
        let discussion = match place {
            Place::Reply(discussion) => {
                let notes = db::discussion_notes(&mut tx, noteable, discussion).await?;
                let first = visible_notes(&mut tx, access, notes).await?.into_iter().next();
                let first = first.filter(|note| !note.system).ok_or(CoreError::NotFound("discussion"))?;
                db::make_thread(&mut tx, noteable, &first.discussion_id).await?;
                first.discussion_id
            }
            Place::Comment | Place::NewThread => crate::secret::random_hex(20),
        };
        let note = NewNote {
            project_id: Some(access.project().id),
            noteable,
            discussion_id: &discussion,
            author_id: Some(author),
            body: &body,
            system: false,
            thread: !matches!(place, Place::Comment),
        };
        let id = db::insert_note(&mut tx, &note).await?;
        if let Place::Reply(_) = place {
            // A reply reopens a resolved thread, as in GitLab.
            db::set_resolved(&mut tx, noteable, &discussion, None).await?;
        }
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

    /// An issue's discussions, in the order they started: each comment alone, each thread with
    /// its replies (at most [`MAX_DISCUSSION_NOTES`] notes are read).
    pub async fn list_issue_discussions(&self, access: &ProjectAccess, iid: i64) -> CoreResult<Vec<Discussion>> {
        let every = Page { offset: 0, limit: MAX_DISCUSSION_NOTES };
        let (notes, _) = self.list_issue_notes(access, iid, NoteOrder::default(), every).await?;
        Ok(discussions(notes))
    }

    /// One discussion of an issue.
    pub async fn find_issue_discussion(&self, access: &ProjectAccess, iid: i64, id: &str) -> CoreResult<Discussion> {
        let mut conn = self.db.conn().await?;
        let issue = load_issue(&mut conn, access, iid).await?;
        let notes = db::discussion_notes(&mut conn, Noteable::issue(issue.issue.id), id).await?;
        let notes = visible_notes(&mut conn, access, notes).await?;
        discussions(notes).pop().ok_or(CoreError::NotFound("discussion"))
    }

    /// Resolves a thread, or reopens it (those who may edit the issue, and the thread's author).
    pub async fn resolve_issue_discussion(
        &self,
        access: &ProjectAccess,
        iid: i64,
        id: &str,
        resolved: bool,
    ) -> CoreResult<Discussion> {
        let user = access.actor().require_user()?.id;
        let mut tx = self.db.begin().await?;
        let issue = load_issue(&mut tx, access, iid).await?;
        let noteable = Noteable::issue(issue.issue.id);
        let notes = db::discussion_notes(&mut tx, noteable, id).await?;
        let discussion =
            discussions(visible_notes(&mut tx, access, notes).await?).pop().ok_or(CoreError::NotFound("discussion"))?;
        let started_it = discussion.notes.first().is_some_and(|note| note.author_id == Some(user));
        if !started_it && !access.can_edit_issue(&issue.facts()) {
            return Err(CoreError::Forbidden(
                "only who may edit the issue, or started the thread, can resolve it".to_owned(),
            ));
        }
        if discussion.individual_note {
            return Err(CoreError::invalid("resolved", "applies to threads: this is a single comment".to_owned()));
        }
        db::set_resolved(&mut tx, noteable, id, resolved.then_some(user)).await?;
        let notes = db::discussion_notes(&mut tx, noteable, id).await?;
        tx.commit().await.map_err(gantry_db::DbError::from)?;
        discussions(notes).pop().ok_or(CoreError::NotFound("discussion"))
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
        super::note_versions::record_note_edit(&mut tx, &note, &body, access.actor().require_user()?.id).await?;
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
pub(crate) async fn visible_notes(
    conn: &mut Conn,
    access: &ProjectAccess,
    notes: Vec<NoteRow>,
) -> CoreResult<Vec<NoteRow>> {
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
