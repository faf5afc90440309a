//! The `push_events` table: one row per ref a push changed (who, which ref, old → new), for
//! the project's activity feed and, later, the subscribers of pushes.

use gantry_types::{ProjectId, UserId};
use sqlx::any::AnyRow;

use crate::row::{int, opt_int, opt_text, text};
use crate::{Conn, DbResult, Page, now_millis};

/// One ref change of a push, with the pusher's username when they still exist.
#[derive(Debug, Clone)]
pub struct PushEventRow {
    pub id: i64,
    pub project_id: ProjectId,
    pub user_id: Option<UserId>,
    pub username: Option<String>,
    pub ref_name: String,
    pub old_sha: String,
    pub new_sha: String,
    pub created_at: i64,
}

fn map_event(row: &AnyRow) -> DbResult<PushEventRow> {
    Ok(PushEventRow {
        id: int(row, "id")?,
        project_id: ProjectId(int(row, "project_id")?),
        user_id: opt_int(row, "user_id")?.map(UserId),
        username: opt_text(row, "username")?,
        ref_name: text(row, "ref_name")?,
        old_sha: text(row, "old_sha")?,
        new_sha: text(row, "new_sha")?,
        created_at: int(row, "created_at")?,
    })
}

/// Records one ref change, and its `pushed` event; its id.
pub async fn insert_push_event(
    conn: &mut Conn,
    project: ProjectId,
    user: Option<UserId>,
    ref_name: &str,
    old_sha: &str,
    new_sha: &str,
) -> DbResult<i64> {
    let now = now_millis();
    let row = sqlx::query(
        "INSERT INTO push_events (project_id, user_id, ref_name, old_sha, new_sha, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
    )
    .bind(project.0)
    .bind(user.map(|u| u.0))
    .bind(ref_name)
    .bind(old_sha)
    .bind(new_sha)
    .bind(now)
    .fetch_one(&mut *conn)
    .await?;
    let id = int(&row, "id")?;
    crate::activity::record_push(conn, project, user, id, now).await?;
    Ok(id)
}

/// A project's push events, newest first, and their total.
pub async fn list_push_events(conn: &mut Conn, project: ProjectId, page: Page) -> DbResult<(Vec<PushEventRow>, i64)> {
    let rows = sqlx::query(
        "SELECT e.id, e.project_id, e.user_id, u.username, e.ref_name, e.old_sha, e.new_sha, e.created_at \
         FROM push_events e LEFT JOIN users u ON u.id = e.user_id \
         WHERE e.project_id = $1 ORDER BY e.id DESC LIMIT $2 OFFSET $3",
    )
    .bind(project.0)
    .bind(page.limit)
    .bind(page.offset)
    .fetch_all(&mut *conn)
    .await?;
    let total = sqlx::query("SELECT COUNT(*) AS n FROM push_events WHERE project_id = $1")
        .bind(project.0)
        .fetch_one(conn)
        .await?;
    Ok((rows.iter().map(map_event).collect::<DbResult<_>>()?, int(&total, "n")?))
}
