//! The `protected_tags` table: per project, tag names or `*` patterns with the lowest role
//! allowed to create matching tags.

use gantry_types::ProjectId;
use sqlx::any::AnyRow;

use crate::row::{int, text};
use crate::{Conn, DbError, DbResult, now_millis};

/// One protection rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProtectedTagRow {
    pub id: i64,
    pub project_id: ProjectId,
    /// A tag name, or a pattern where `*` stands for any text (`v*`).
    pub name: String,
    /// Lowest role that may create matching tags (0: no one).
    pub create_access_level: i64,
    pub created_at: i64,
}

fn map_rule(row: &AnyRow) -> DbResult<ProtectedTagRow> {
    Ok(ProtectedTagRow {
        id: int(row, "id")?,
        project_id: ProjectId(int(row, "project_id")?),
        name: text(row, "name")?,
        create_access_level: int(row, "create_access_level")?,
        created_at: int(row, "created_at")?,
    })
}

macro_rules! select_rules {
    ($rest:literal) => {
        concat!("SELECT id, project_id, name, create_access_level, created_at FROM protected_tags ", $rest)
    };
}

/// Stores a rule; a second rule with the same name is a conflict.
pub async fn insert_protected_tag(
    conn: &mut Conn,
    project: ProjectId,
    name: &str,
    create_access_level: i64,
) -> DbResult<ProtectedTagRow> {
    let row = sqlx::query(
        "INSERT INTO protected_tags (project_id, name, create_access_level, created_at) VALUES ($1, $2, $3, $4) \
         RETURNING id, project_id, name, create_access_level, created_at",
    )
    .bind(project.0)
    .bind(name)
    .bind(create_access_level)
    .bind(now_millis())
    .fetch_one(conn)
    .await
    .map_err(DbError::classify)?;
    map_rule(&row)
}

/// A project's rules, by name.
pub async fn list_protected_tags(conn: &mut Conn, project: ProjectId) -> DbResult<Vec<ProtectedTagRow>> {
    let rows =
        sqlx::query(select_rules!("WHERE project_id = $1 ORDER BY name")).bind(project.0).fetch_all(conn).await?;
    rows.iter().map(map_rule).collect()
}

/// One rule of a project, by its exact name.
pub async fn find_protected_tag(conn: &mut Conn, project: ProjectId, name: &str) -> DbResult<Option<ProtectedTagRow>> {
    let row = sqlx::query(select_rules!("WHERE project_id = $1 AND name = $2"))
        .bind(project.0)
        .bind(name)
        .fetch_optional(conn)
        .await?;
    row.as_ref().map(map_rule).transpose()
}

/// Removes a rule.
pub async fn delete_protected_tag(conn: &mut Conn, id: i64) -> DbResult<()> {
    sqlx::query("DELETE FROM protected_tags WHERE id = $1").bind(id).execute(conn).await?;
    Ok(())
}
