//! The `group_group_links` and `project_group_links` tables: a group or a project shared with
//! another group (GitLab's "invite a group"). The roles these links give are counted by every
//! role lookup (`members::role_ctes!`, `members::reach_ctes!`); this module stores and lists
//! the links themselves.

use gantry_types::{NamespaceId, ProjectId, UserId};
use sqlx::any::AnyRow;

use super::namespaces::{NamespaceRow, map_namespace, select_namespace};
use crate::row::{int, opt_int, text};
use crate::{Conn, DbError, DbResult, now_millis};

/// What is shared.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SharedSource {
    Group(NamespaceId),
    Project(ProjectId),
}

/// One link, with the invited group's names.
#[derive(Debug, Clone)]
pub struct GroupLinkRow {
    pub id: i64,
    pub shared: SharedSource,
    /// The invited group, whose members get access.
    pub group_id: NamespaceId,
    pub group_name: String,
    pub group_full_path: String,
    /// The highest role the link gives.
    pub group_access: i64,
    pub expires_at: Option<i64>,
    pub created_at: i64,
}

fn map_group_link(row: &AnyRow, shared: SharedSource) -> DbResult<GroupLinkRow> {
    Ok(GroupLinkRow {
        id: int(row, "id")?,
        shared,
        group_id: NamespaceId(int(row, "group_id")?),
        group_name: text(row, "group_name")?,
        group_full_path: text(row, "group_full_path")?,
        group_access: int(row, "group_access")?,
        expires_at: opt_int(row, "expires_at")?,
        created_at: int(row, "created_at")?,
    })
}

/// What a new link is made of.
#[derive(Debug, Clone, Copy)]
pub struct NewGroupLink {
    pub shared: SharedSource,
    pub group_id: NamespaceId,
    pub group_access: i64,
    pub expires_at: Option<i64>,
    pub created_by: Option<UserId>,
}

/// Stores a link; a second link between the same two is [`DbError::Conflict`].
pub async fn insert_group_link(conn: &mut Conn, link: &NewGroupLink) -> DbResult<()> {
    let query = match link.shared {
        SharedSource::Group(group) => sqlx::query(
            "INSERT INTO group_group_links \
                 (shared_group_id, shared_with_group_id, group_access, expires_at, created_by, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(group.0),
        SharedSource::Project(project) => sqlx::query(
            "INSERT INTO project_group_links (project_id, group_id, group_access, expires_at, created_by, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(project.0),
    };
    query
        .bind(link.group_id.0)
        .bind(link.group_access)
        .bind(link.expires_at)
        .bind(link.created_by.map(|id| id.0))
        .bind(now_millis())
        .execute(conn)
        .await
        .map_err(DbError::classify)?;
    Ok(())
}

/// Removes the link sharing `shared` with `group`; false when there was none.
pub async fn delete_group_link(conn: &mut Conn, shared: SharedSource, group: NamespaceId) -> DbResult<bool> {
    let query = match shared {
        SharedSource::Group(id) => {
            sqlx::query("DELETE FROM group_group_links WHERE shared_group_id = $1 AND shared_with_group_id = $2")
                .bind(id.0)
        }
        SharedSource::Project(id) => {
            sqlx::query("DELETE FROM project_group_links WHERE project_id = $1 AND group_id = $2").bind(id.0)
        }
    };
    Ok(query.bind(group.0).execute(conn).await?.rows_affected() > 0)
}

/// The groups `shared` is shared with, by the invited group's full path.
pub async fn list_group_links(conn: &mut Conn, shared: SharedSource) -> DbResult<Vec<GroupLinkRow>> {
    let query = match shared {
        SharedSource::Group(id) => sqlx::query(
            "SELECT l.id, l.shared_with_group_id AS group_id, n.name AS group_name, r.path AS group_full_path, \
                    l.group_access, l.expires_at, l.created_at \
             FROM group_group_links l JOIN namespaces n ON n.id = l.shared_with_group_id \
             JOIN routes r ON r.namespace_id = n.id \
             WHERE l.shared_group_id = $1 ORDER BY r.path_lower",
        )
        .bind(id.0),
        SharedSource::Project(id) => sqlx::query(
            "SELECT l.id, l.group_id, n.name AS group_name, r.path AS group_full_path, \
                    l.group_access, l.expires_at, l.created_at \
             FROM project_group_links l JOIN namespaces n ON n.id = l.group_id \
             JOIN routes r ON r.namespace_id = n.id \
             WHERE l.project_id = $1 ORDER BY r.path_lower",
        )
        .bind(id.0),
    };
    let rows = query.fetch_all(conn).await?;
    rows.iter().map(|row| map_group_link(row, shared)).collect()
}

/// The groups a project is shared with (the link's role at least `min_access`), as namespace
/// rows with the link's role, newest group first.
pub async fn groups_shared_with_project(
    conn: &mut Conn,
    project: ProjectId,
    min_access: i64,
) -> DbResult<Vec<(NamespaceRow, i64)>> {
    let rows = sqlx::query(concat!(
        "SELECT x.*, l.group_access AS link_access FROM (",
        select_namespace!(),
        ") x JOIN project_group_links l ON l.group_id = x.id \
         WHERE l.project_id = $1 AND l.group_access >= $2 ORDER BY x.id DESC"
    ))
    .bind(project.0)
    .bind(min_access)
    .fetch_all(conn)
    .await?;
    rows.iter().map(|row| Ok((map_namespace(row)?, int(row, "link_access")?))).collect()
}
