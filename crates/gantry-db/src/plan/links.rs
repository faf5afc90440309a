//! The `issue_links` table: linked issues in any projects (GitLab's issue links), `relates_to`
//! or `blocks` from the source to the target; one link per pair of issues.

use gantry_types::IssueId;
use sqlx::any::AnyRow;

use crate::row::{int, text};
use crate::{Conn, DbError, DbResult, now_millis};

/// A stored link.
#[derive(Debug, Clone)]
pub struct IssueLinkRow {
    pub id: i64,
    pub source_id: IssueId,
    pub target_id: IssueId,
    /// `relates_to` or `blocks`.
    pub link_type: String,
    pub created_at: i64,
    pub updated_at: i64,
}

fn map_link(row: &AnyRow) -> DbResult<IssueLinkRow> {
    Ok(IssueLinkRow {
        id: int(row, "id")?,
        source_id: IssueId(int(row, "source_id")?),
        target_id: IssueId(int(row, "target_id")?),
        link_type: text(row, "link_type")?,
        created_at: int(row, "created_at")?,
        updated_at: int(row, "updated_at")?,
    })
}

macro_rules! select_link {
    () => {
        "SELECT id, source_id, target_id, link_type, created_at, updated_at FROM issue_links"
    };
}

/// Stores a link; `None` when the pair is linked already (either way).
pub async fn insert_link(conn: &mut Conn, source: IssueId, target: IssueId, link_type: &str) -> DbResult<Option<i64>> {
    let existing = sqlx::query(
        "SELECT id FROM issue_links WHERE (source_id = $1 AND target_id = $2) OR (source_id = $2 AND target_id = $1)",
    )
    .bind(source.0)
    .bind(target.0)
    .fetch_optional(&mut *conn)
    .await?;
    if existing.is_some() {
        return Ok(None);
    }
    let row = sqlx::query(
        "INSERT INTO issue_links (source_id, target_id, link_type, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $4) RETURNING id",
    )
    .bind(source.0)
    .bind(target.0)
    .bind(link_type)
    .bind(now_millis())
    .fetch_one(conn)
    .await
    .map_err(DbError::classify)?;
    Ok(Some(int(&row, "id")?))
}

/// The links of an issue, either way, oldest first.
pub async fn links_of(conn: &mut Conn, issue: IssueId) -> DbResult<Vec<IssueLinkRow>> {
    let rows = sqlx::query(concat!(select_link!(), " WHERE source_id = $1 OR target_id = $1 ORDER BY id"))
        .bind(issue.0)
        .fetch_all(conn)
        .await?;
    rows.iter().map(map_link).collect()
}

/// One link of an issue (either way).
pub async fn find_link(conn: &mut Conn, issue: IssueId, id: i64) -> DbResult<Option<IssueLinkRow>> {
    sqlx::query(concat!(select_link!(), " WHERE id = $1 AND (source_id = $2 OR target_id = $2)"))
        .bind(id)
        .bind(issue.0)
        .fetch_optional(conn)
        .await?
        .as_ref()
        .map(map_link)
        .transpose()
}

/// Removes a link.
pub async fn delete_link(conn: &mut Conn, id: i64) -> DbResult<()> {
    sqlx::query("DELETE FROM issue_links WHERE id = $1").bind(id).execute(conn).await?;
    Ok(())
}
