//! The history of a comment: an edit stores the new text as a version (the first edit stores
//! the text before it too), so a comment marked "edited" shows what it said before, who changed
//! it and when. Whoever may see the comment reads its history.

use gantry_db::Conn;
use gantry_db::plan::note_versions::{self as db, NoteVersionRow};
use gantry_db::plan::notes::NoteRow;
use gantry_types::{NoteId, UserId};

use crate::policy::{GroupAccess, ProjectAccess};
use crate::{CoreResult, Page, UserRow, now_millis};

/// Most versions one listing reads (each may be as long as a comment).
pub const MAX_NOTE_VERSIONS: i64 = 20;

/// One text a comment had, with who wrote it.
#[derive(Debug, Clone)]
pub struct NoteVersion {
    pub row: NoteVersionRow,
    /// `None` when the account is gone.
    pub author: Option<UserRow>,
}

/// Stores the text an edit of `before` writes; on the first edit, the text it replaces first.
/// An edit that keeps the text stores nothing.
pub(crate) async fn record_note_edit(conn: &mut Conn, before: &NoteRow, body: &str, editor: UserId) -> CoreResult<()> {
    if before.body == body {
        return Ok(());
    }
    if !db::has_note_versions(conn, before.id).await? {
        db::insert_note_version(conn, before.id, &before.body, before.author_id, before.created_at).await?;
    }
    db::insert_note_version(conn, before.id, body, Some(editor), now_millis()).await?;
    Ok(())
}

/// A page of the note's versions, newest first (at most [`MAX_NOTE_VERSIONS`]), and how many
/// it has.
async fn versions_of(conn: &mut Conn, note: NoteId, page: Page) -> CoreResult<(Vec<NoteVersion>, i64)> {
    let (rows, total) =
        db::note_versions(conn, note, page.limit.clamp(0, MAX_NOTE_VERSIONS), page.offset.max(0)).await?;
    let versions = super::description_versions::paired_with_authors(
        conn,
        rows,
        |row| row.author_id,
        |row, author| NoteVersion { row, author },
    )
    .await?;
    Ok((versions, total))
}

impl super::Plan<'_> {
    /// A comment on an issue the actor sees, a page of its versions, newest first (none when
    /// it was never edited), and how many it has.
    pub async fn issue_note_versions(
        &self,
        access: &ProjectAccess,
        iid: i64,
        id: NoteId,
        page: Page,
    ) -> CoreResult<(NoteRow, Vec<NoteVersion>, i64)> {
        let note = self.find_issue_note(access, iid, id).await?;
        let mut conn = self.db.conn().await?;
        let (versions, total) = versions_of(&mut conn, note.id, page).await?;
        Ok((note, versions, total))
    }

    /// A comment on an epic the actor sees, a page of its versions, newest first, and how many
    /// it has.
    pub async fn epic_note_versions(
        &self,
        access: &GroupAccess,
        iid: i64,
        id: NoteId,
        page: Page,
    ) -> CoreResult<(NoteRow, Vec<NoteVersion>, i64)> {
        let note = self.find_epic_note(access, iid, id).await?;
        let mut conn = self.db.conn().await?;
        let (versions, total) = versions_of(&mut conn, note.id, page).await?;
        Ok((note, versions, total))
    }
}
