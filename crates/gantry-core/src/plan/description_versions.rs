//! The history of an issue's description, as GitLab keeps it: each edit stores the new text as
//! a version tied to its "changed the description" system note (the first edit stores the
//! text before it too), so the issue page offers "Compare with previous version" on that note
//! and the API lists the versions. Whoever may see the issue reads its history.

use std::collections::HashMap;

use gantry_db::Conn;
use gantry_db::plan::description_versions::{self as db, DescriptionVersionRow, NewDescriptionVersion};
use gantry_db::plan::issues::IssueRow;
use gantry_db::plan::users_by_ids;
use gantry_types::{NoteId, UserId};

use super::issues::{IssueView, load_issue};
use crate::policy::ProjectAccess;
use crate::{CoreError, CoreResult, UserRow, now_millis};

/// The system note a description change leaves.
pub(crate) const DESCRIPTION_CHANGED: &str = "changed the description";
/// Most versions one listing reads.
pub const MAX_VERSIONS: i64 = 100;

/// One version of a description, with who wrote it.
#[derive(Debug, Clone)]
pub struct DescriptionVersion {
    pub row: DescriptionVersionRow,
    /// `None` when the account is gone.
    pub author: Option<UserRow>,
}

/// A version and the one it replaced (`None` for the first), with its issue.
#[derive(Debug, Clone)]
pub struct DescriptionChange {
    pub issue: IssueView,
    pub version: DescriptionVersion,
    pub previous: Option<DescriptionVersion>,
}

/// Stores the description an edit wrote, tied to the note that announced it; on the first
/// edit, the description it replaced first.
pub(crate) async fn record_description_change(
    conn: &mut Conn,
    before: &IssueRow,
    description: &str,
    actor: UserId,
    note: NoteId,
) -> CoreResult<()> {
    if !db::has_description_versions(conn, before.id).await? {
        let original = NewDescriptionVersion {
            issue_id: before.id,
            note_id: None,
            description: &before.description,
            author_id: before.author_id,
            created_at: before.created_at,
        };
        db::insert_description_version(conn, &original).await?;
    }
    let version = NewDescriptionVersion {
        issue_id: before.id,
        note_id: Some(note),
        description,
        author_id: Some(actor),
        created_at: now_millis(),
    };
    db::insert_description_version(conn, &version).await?;
    Ok(())
}

async fn with_authors(conn: &mut Conn, rows: Vec<DescriptionVersionRow>) -> CoreResult<Vec<DescriptionVersion>> {
    paired_with_authors(conn, rows, |row| row.author_id, |row, author| DescriptionVersion { row, author }).await
}

/// Each of `rows` made into an item with its author's account (`None` when it is gone), the
/// accounts read at once.
pub(super) async fn paired_with_authors<R, T>(
    conn: &mut Conn,
    rows: Vec<R>,
    author_of: impl Fn(&R) -> Option<UserId>,
    pair: impl Fn(R, Option<UserRow>) -> T,
) -> CoreResult<Vec<T>> {
    let mut ids: Vec<UserId> = rows.iter().filter_map(&author_of).collect();
    ids.sort_unstable_by_key(|id| id.0);
    ids.dedup();
    let users = users_by_ids(conn, &ids).await?;
    Ok(rows
        .into_iter()
        .map(|row| {
            let author = author_of(&row).and_then(|id| users.iter().find(|user| user.id == id).cloned());
            pair(row, author)
        })
        .collect())
}

impl super::Plan<'_> {
    /// The issue's description versions, oldest first (at most [`MAX_VERSIONS`] after `skip`);
    /// none when it was never edited.
    pub async fn description_versions(
        &self,
        access: &ProjectAccess,
        iid: i64,
        skip: i64,
    ) -> CoreResult<Vec<DescriptionVersion>> {
        let mut conn = self.db.conn().await?;
        let issue = load_issue(&mut conn, access, iid).await?;
        let rows = db::description_versions(&mut conn, issue.issue.id, skip.max(0), MAX_VERSIONS).await?;
        with_authors(&mut conn, rows).await
    }

    /// One version of the issue's description and the one before it.
    pub async fn description_change(
        &self,
        access: &ProjectAccess,
        iid: i64,
        version: i64,
    ) -> CoreResult<DescriptionChange> {
        let mut conn = self.db.conn().await?;
        let issue = load_issue(&mut conn, access, iid).await?;
        let (version, previous) = db::description_version_with_previous(&mut conn, issue.issue.id, version)
            .await?
            .ok_or(CoreError::NotFound("description version"))?;
        let mut both = with_authors(&mut conn, [Some(version), previous].into_iter().flatten().collect()).await?;
        let previous = (both.len() > 1).then(|| both.pop()).flatten();
        let version = both.pop().ok_or(CoreError::NotFound("description version"))?;
        Ok(DescriptionChange { issue, version, previous })
    }

    /// The versions the "changed the description" notes of an issue the actor sees (as read
    /// through `access`) announced, by note.
    pub async fn description_versions_by_note(
        &self,
        access: &ProjectAccess,
        issue: &IssueView,
    ) -> CoreResult<HashMap<NoteId, i64>> {
        access.require(crate::policy::ProjectAction::ReadIssues)?;
        if issue.issue.project_id != access.project().id {
            return Err(CoreError::NotFound("issue"));
        }
        let mut conn = self.db.conn().await?;
        Ok(db::description_versions_by_note(&mut conn, issue.issue.id).await?.into_iter().collect())
    }
}
