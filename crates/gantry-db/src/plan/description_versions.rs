//! The `description_versions` table: each description an issue has had, oldest first, with
//! who wrote it, when, and the system note that announced it. Core keeps it; nothing here
//! decides who may read it.

use gantry_types::{IssueId, NoteId, UserId};
use sqlx::any::AnyRow;

use crate::row::{int, opt_int, text};
use crate::{Conn, DbResult};

/// One version of an issue's description.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DescriptionVersionRow {
    pub id: i64,
    pub issue_id: IssueId,
    /// The "changed the description" note; `None` for the description before the first edit.
    pub note_id: Option<NoteId>,
    pub description: String,
    pub author_id: Option<UserId>,
    pub created_at: i64,
}

macro_rules! columns {
    () => {
        "id, issue_id, note_id, description, author_id, created_at"
    };
}

fn map_version(row: &AnyRow) -> DbResult<DescriptionVersionRow> {
    Ok(DescriptionVersionRow {
        id: int(row, "id")?,
        issue_id: IssueId(int(row, "issue_id")?),
        note_id: opt_int(row, "note_id")?.map(NoteId),
        description: text(row, "description")?,
        author_id: opt_int(row, "author_id")?.map(UserId),
        created_at: int(row, "created_at")?,
    })
}

/// A version to store.
#[derive(Debug, Clone)]
pub struct NewDescriptionVersion<'a> {
    pub issue_id: IssueId,
    pub note_id: Option<NoteId>,
    pub description: &'a str,
    pub author_id: Option<UserId>,
    pub created_at: i64,
}

/// Stores a version.
pub async fn insert_description_version(conn: &mut Conn, version: &NewDescriptionVersion<'_>) -> DbResult<i64> {
    let row = sqlx::query(
        "INSERT INTO description_versions (issue_id, note_id, description, author_id, created_at) \
         VALUES ($1, $2, $3, $4, $5) RETURNING id",
    )
    .bind(version.issue_id.0)
    .bind(version.note_id.map(|n| n.0))
    .bind(version.description)
    .bind(version.author_id.map(|u| u.0))
    .bind(version.created_at)
    .fetch_one(conn)
    .await?;
    int(&row, "id")
}

/// Whether the issue has any version stored (its description was edited before).
pub async fn has_description_versions(conn: &mut Conn, issue: IssueId) -> DbResult<bool> {
    let row = sqlx::query(
        "SELECT COUNT(*) AS n FROM (SELECT 1 AS one FROM description_versions WHERE issue_id = $1 LIMIT 1) v",
    )
    .bind(issue.0)
    .fetch_one(conn)
    .await?;
    Ok(int(&row, "n")? > 0)
}

/// The issue's versions, oldest first: at most `limit`, after `skip`.
pub async fn description_versions(
    conn: &mut Conn,
    issue: IssueId,
    skip: i64,
    limit: i64,
) -> DbResult<Vec<DescriptionVersionRow>> {
    let rows = sqlx::query(concat!(
        "SELECT ",
        columns!(),
        " FROM description_versions WHERE issue_id = $1 ORDER BY id LIMIT $2 OFFSET $3"
    ))
    .bind(issue.0)
    .bind(limit)
    .bind(skip)
    .fetch_all(conn)
    .await?;
    rows.iter().map(map_version).collect()
}

/// A version of the issue and the one before it, if any.
pub async fn description_version_with_previous(
    conn: &mut Conn,
    issue: IssueId,
    id: i64,
) -> DbResult<Option<(DescriptionVersionRow, Option<DescriptionVersionRow>)>> {
    let rows = sqlx::query(concat!(
        "SELECT ",
        columns!(),
        " FROM description_versions WHERE issue_id = $1 AND id <= $2 ORDER BY id DESC LIMIT 2"
    ))
    .bind(issue.0)
    .bind(id)
    .fetch_all(conn)
    .await?;
    let mut versions = rows.iter().map(map_version).collect::<DbResult<Vec<_>>>()?.into_iter();
    match versions.next() {
        Some(version) if version.id == id => Ok(Some((version, versions.next()))),
        _ => Ok(None),
    }
}

/// The versions the issue's system notes announced, as `(note, version)`.
pub async fn description_versions_by_note(conn: &mut Conn, issue: IssueId) -> DbResult<Vec<(NoteId, i64)>> {
    let rows = sqlx::query("SELECT note_id, id FROM description_versions WHERE issue_id = $1 AND note_id IS NOT NULL")
        .bind(issue.0)
        .fetch_all(conn)
        .await?;
    rows.iter().map(|row| Ok((NoteId(int(row, "note_id")?), int(row, "id")?))).collect()
}
