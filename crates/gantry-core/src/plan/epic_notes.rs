//! Comments on epics, in the discussion model of issues (`notes.rs`): Markdown comments by
//! anyone signed in who sees the epic, threads that are replied to and resolved (by Reporters
//! of the group and by whoever started them), edited and deleted by their author (and
//! administrators). The notes name their epic (`notes.epic_id`), so they go with it.

use gantry_db::plan::notes::{self as db, NewNote, Noteable};
use gantry_types::{EpicId, NoteId};

use super::epics::EpicView;
use super::notes::{Discussion, MAX_DISCUSSION_NOTES, NoteOrder, NoteRow, check_note_body, discussions};
use crate::policy::{GroupAccess, GroupAction};
use crate::{CoreError, CoreResult, Page};

/// Where a new comment on an epic goes.
#[derive(Debug, Clone, Copy)]
pub enum EpicNotePlace<'a> {
    /// A comment of its own.
    Comment,
    /// The first note of a new thread.
    NewThread,
    /// A reply in the discussion with this id.
    Reply(&'a str),
}

impl super::Plan<'_> {
    /// An epic of the group by its id (GitLab's notes API names epics by id, not number), when
    /// the viewer may see it.
    pub async fn find_epic_by_id(&self, access: &GroupAccess, id: EpicId) -> CoreResult<EpicView> {
        access.require(GroupAction::Read)?;
        let mut conn = self.db.conn().await?;
        let (_, row) = self.epic_by_id(&mut conn, access, id).await?;
        if row.group_id != access.group().id {
            return Err(CoreError::NotFound("epic"));
        }
        super::epics::view(&mut conn, row).await
    }

    /// One page of an epic's notes, and how many it has.
    pub async fn list_epic_notes(
        &self,
        access: &GroupAccess,
        iid: i64,
        order: NoteOrder,
        page: Page,
    ) -> CoreResult<(Vec<NoteRow>, i64)> {
        let epic = self.find_epic(access, iid).await?;
        let mut conn = self.db.conn().await?;
        let noteable = Noteable::epic(epic.epic.id);
        Ok(db::list_notes(&mut conn, noteable, order.by_update, order.newest_first, page).await?)
    }

    /// One note of an epic.
    pub async fn find_epic_note(&self, access: &GroupAccess, iid: i64, id: NoteId) -> CoreResult<NoteRow> {
        let epic = self.find_epic(access, iid).await?;
        let mut conn = self.db.conn().await?;
        db::find_note(&mut conn, Noteable::epic(epic.epic.id), id).await?.ok_or(CoreError::NotFound("note"))
    }

    /// An epic's discussions in the order they started (at most [`MAX_DISCUSSION_NOTES`]
    /// notes are read).
    pub async fn list_epic_discussions(&self, access: &GroupAccess, iid: i64) -> CoreResult<Vec<Discussion>> {
        let every = Page { offset: 0, limit: MAX_DISCUSSION_NOTES };
        let (notes, _) = self.list_epic_notes(access, iid, NoteOrder::default(), every).await?;
        Ok(discussions(notes))
    }

    /// One discussion of an epic.
    pub async fn find_epic_discussion(&self, access: &GroupAccess, iid: i64, id: &str) -> CoreResult<Discussion> {
        let epic = self.find_epic(access, iid).await?;
        let mut conn = self.db.conn().await?;
        let notes = db::discussion_notes(&mut conn, Noteable::epic(epic.epic.id), id).await?;
        discussions(notes).pop().ok_or(CoreError::NotFound("discussion"))
    }

    /// Comments on an epic: alone, as a new thread, or as a reply (a comment replied to becomes
    /// a thread, a resolved thread replied to opens again).
    pub async fn comment_on_epic(
        &self,
        access: &GroupAccess,
        iid: i64,
        body: &str,
        place: EpicNotePlace<'_>,
    ) -> CoreResult<NoteRow> {
        let author = access.actor().require_user()?.id;
        let body = check_note_body(body)?;
        let epic = self.find_epic(access, iid).await?;
        let noteable = Noteable::epic(epic.epic.id);
        let mut tx = self.db.begin().await?;
        let discussion = match place {
            EpicNotePlace::Reply(discussion) => {
                let first = db::discussion_notes(&mut tx, noteable, discussion).await?.into_iter().next();
                let first = first.filter(|note| !note.system).ok_or(CoreError::NotFound("discussion"))?;
                db::make_thread(&mut tx, noteable, &first.discussion_id).await?;
                first.discussion_id
            }
            EpicNotePlace::Comment | EpicNotePlace::NewThread => crate::secret::random_hex(20),
        };
        let note = NewNote {
            project_id: None,
            noteable,
            discussion_id: &discussion,
            author_id: Some(author),
            body: &body,
            system: false,
            thread: !matches!(place, EpicNotePlace::Comment),
        };
        let id = db::insert_note(&mut tx, &note).await?;
        if let EpicNotePlace::Reply(_) = place {
            db::set_resolved(&mut tx, noteable, &discussion, None).await?;
        }
        let row = db::find_note(&mut tx, noteable, id).await?.ok_or(CoreError::NotFound("note"))?;
        tx.commit().await.map_err(gantry_db::DbError::from)?;
        tracing::info!(group.id = %access.group().id, epic.iid = iid, note.id = %id, "comment on epic added");
        Ok(row)
    }

    /// Resolves a thread of an epic, or reopens it (Reporters of the group, and whoever
    /// started the thread).
    pub async fn resolve_epic_discussion(
        &self,
        access: &GroupAccess,
        iid: i64,
        id: &str,
        resolved: bool,
    ) -> CoreResult<Discussion> {
        let user = access.actor().require_user()?.id;
        let discussion = self.find_epic_discussion(access, iid, id).await?;
        let started_it = discussion.notes.first().is_some_and(|note| note.author_id == Some(user));
        if !started_it && !access.can(GroupAction::ManageEpics) {
            return Err(CoreError::Forbidden(
                "only who may edit the epic, or started the thread, can resolve it".to_owned(),
            ));
        }
        if discussion.individual_note {
            return Err(CoreError::invalid("resolved", "applies to threads: this is a single comment".to_owned()));
        }
        let epic = self.find_epic(access, iid).await?;
        let noteable = Noteable::epic(epic.epic.id);
        let mut tx = self.db.begin().await?;
        db::set_resolved(&mut tx, noteable, id, resolved.then_some(user)).await?;
        let notes = db::discussion_notes(&mut tx, noteable, id).await?;
        tx.commit().await.map_err(gantry_db::DbError::from)?;
        discussions(notes).pop().ok_or(CoreError::NotFound("discussion"))
    }

    /// Changes a comment on an epic (its author, and administrators).
    pub async fn update_epic_note(
        &self,
        access: &GroupAccess,
        iid: i64,
        id: NoteId,
        body: &str,
    ) -> CoreResult<NoteRow> {
        let note = self.changeable_epic_note(access, iid, id).await?;
        let body = check_note_body(body)?;
        let mut tx = self.db.begin().await?;
        super::note_versions::record_note_edit(&mut tx, &note, &body, access.actor().require_user()?.id).await?;
        db::update_note_body(&mut tx, note.id, &body).await?;
        let epic = Noteable { kind: "Epic", id: note.noteable_id };
        let row = db::find_note(&mut tx, epic, id).await?.ok_or(CoreError::NotFound("note"))?;
        tx.commit().await.map_err(gantry_db::DbError::from)?;
        Ok(row)
    }

    /// Deletes a comment on an epic (its author, and administrators).
    pub async fn delete_epic_note(&self, access: &GroupAccess, iid: i64, id: NoteId) -> CoreResult<()> {
        let note = self.changeable_epic_note(access, iid, id).await?;
        let mut conn = self.db.conn().await?;
        db::delete_note(&mut conn, note.id).await?;
        tracing::info!(group.id = %access.group().id, epic.iid = iid, note.id = %id, "comment on epic deleted");
        Ok(())
    }

    /// A note of the epic the actor may change: a comment (not a system note) they wrote.
    async fn changeable_epic_note(&self, access: &GroupAccess, iid: i64, id: NoteId) -> CoreResult<NoteRow> {
        let note = self.find_epic_note(access, iid, id).await?;
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
