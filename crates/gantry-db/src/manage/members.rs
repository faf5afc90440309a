//! The `members` table: a user's role on a group (namespace) or a project.

use gantry_types::{NamespaceId, ProjectId, UserId};
use sqlx::any::AnyRow;

use super::users::{UserRow, map_user};
use crate::row::{int, opt_int};
use crate::{Conn, DbError, DbResult, now_millis};

/// What a membership is attached to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MemberSource {
    Namespace(NamespaceId),
    Project(ProjectId),
}

impl MemberSource {
    fn ids(self) -> (Option<i64>, Option<i64>) {
        match self {
            MemberSource::Namespace(id) => (Some(id.0), None),
            MemberSource::Project(id) => (None, Some(id.0)),
        }
    }
}

/// A membership together with the member's account.
#[derive(Debug, Clone)]
pub struct MemberRow {
    pub user: UserRow,
    pub access_level: i64,
    pub source: MemberSource,
    pub created_at: i64,
    pub expires_at: Option<i64>,
}

fn map_member(row: &AnyRow) -> DbResult<MemberRow> {
    let source = match (opt_int(row, "m_namespace_id")?, opt_int(row, "m_project_id")?) {
        (Some(id), _) => MemberSource::Namespace(NamespaceId(id)),
        (None, Some(id)) => MemberSource::Project(ProjectId(id)),
        (None, None) => return Err(DbError::Corrupt { column: "members.source", value: String::new() }),
    };
    Ok(MemberRow {
        user: map_user(row)?,
        access_level: int(row, "access_level")?,
        source,
        created_at: int(row, "m_created_at")?,
        expires_at: opt_int(row, "expires_at")?,
    })
}

macro_rules! select_member {
    () => {
        "SELECT u.id, u.username, u.email, u.name, u.password_hash, u.is_admin, u.state, u.created_at, u.updated_at, \
         m.access_level, m.namespace_id AS m_namespace_id, m.project_id AS m_project_id, m.created_at AS m_created_at, m.expires_at \
         FROM members m JOIN users u ON u.id = m.user_id"
    };
}

/// Adds a membership; an existing one for the same user and source is [`DbError::Conflict`].
pub async fn insert_member(
    conn: &mut Conn,
    source: MemberSource,
    user: UserId,
    access_level: i64,
    created_by: Option<UserId>,
    expires_at: Option<i64>,
) -> DbResult<()> {
    let (namespace_id, project_id) = source.ids();
    sqlx::query(
        "INSERT INTO members (namespace_id, project_id, user_id, access_level, created_by, created_at, expires_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(namespace_id)
    .bind(project_id)
    .bind(user.0)
    .bind(access_level)
    .bind(created_by.map(|id| id.0))
    .bind(now_millis())
    .bind(expires_at)
    .execute(conn)
    .await
    .map_err(DbError::classify)?;
    Ok(())
}

/// Changes a member's role and expiry; false when there was no such membership.
pub async fn update_member(
    conn: &mut Conn,
    source: MemberSource,
    user: UserId,
    access_level: i64,
    expires_at: Option<i64>,
) -> DbResult<bool> {
    let (namespace_id, project_id) = source.ids();
    let result = sqlx::query(
        "UPDATE members SET access_level = $1, expires_at = $2 \
         WHERE user_id = $3 AND (namespace_id = $4 OR project_id = $5)",
    )
    .bind(access_level)
    .bind(expires_at)
    .bind(user.0)
    .bind(namespace_id)
    .bind(project_id)
    .execute(conn)
    .await?;
    Ok(result.rows_affected() > 0)
}

/// Removes a membership; false when there was none.
pub async fn delete_member(conn: &mut Conn, source: MemberSource, user: UserId) -> DbResult<bool> {
    let (namespace_id, project_id) = source.ids();
    let result = sqlx::query("DELETE FROM members WHERE user_id = $1 AND (namespace_id = $2 OR project_id = $3)")
        .bind(user.0)
        .bind(namespace_id)
        .bind(project_id)
        .execute(conn)
        .await?;
    Ok(result.rows_affected() > 0)
}

/// The direct members of a group or project, by username.
pub async fn list_direct_members(conn: &mut Conn, source: MemberSource) -> DbResult<Vec<MemberRow>> {
    let (namespace_id, project_id) = source.ids();
    let rows = sqlx::query(concat!(
        select_member!(),
        " WHERE (m.namespace_id = $1 OR m.project_id = $2) ORDER BY u.username_lower"
    ))
    .bind(namespace_id)
    .bind(project_id)
    .fetch_all(conn)
    .await?;
    rows.iter().map(map_member).collect()
}

/// Direct and inherited memberships that apply to a group (`namespace`) or to a project in
/// `namespace` (`project`): the memberships of the project itself and of every ancestor group.
/// One user may appear several times; callers keep the highest role.
pub async fn list_applicable_members(
    conn: &mut Conn,
    namespace: NamespaceId,
    project: Option<ProjectId>,
) -> DbResult<Vec<MemberRow>> {
    let rows = sqlx::query(concat!(
        "WITH RECURSIVE chain(id) AS ( \
             SELECT CAST($1 AS BIGINT) \
             UNION ALL SELECT n.parent_id FROM namespaces n JOIN chain c ON n.id = c.id WHERE n.parent_id IS NOT NULL) ",
        select_member!(),
        " WHERE m.namespace_id IN (SELECT id FROM chain) OR m.project_id = $2 ORDER BY u.username_lower, m.access_level DESC"
    ))
    .bind(namespace.0)
    .bind(project.map(|id| id.0))
    .fetch_all(conn)
    .await?;
    rows.iter().map(map_member).collect()
}

/// The highest role `user` holds on the project (directly or through any ancestor group of
/// `namespace`), ignoring expired memberships; `None` when they hold none.
pub async fn effective_access_level(
    conn: &mut Conn,
    user: UserId,
    namespace: NamespaceId,
    project: Option<ProjectId>,
) -> DbResult<Option<i64>> {
    crate::stats::authorisation_query();
    let row = sqlx::query(
        "WITH RECURSIVE chain(id) AS ( \
             SELECT CAST($2 AS BIGINT) \
             UNION ALL SELECT n.parent_id FROM namespaces n JOIN chain c ON n.id = c.id WHERE n.parent_id IS NOT NULL) \
         SELECT MAX(access_level) AS level FROM members \
         WHERE user_id = $1 AND (namespace_id IN (SELECT id FROM chain) OR project_id = $3) \
           AND (expires_at IS NULL OR expires_at > $4)",
    )
    .bind(user.0)
    .bind(namespace.0)
    .bind(project.map(|id| id.0))
    .bind(now_millis())
    .fetch_one(conn)
    .await?;
    opt_int(&row, "level")
}

/// How many members of a group hold the Owner role (a group must keep one).
pub async fn count_owners(conn: &mut Conn, namespace: NamespaceId, owner_level: i64) -> DbResult<i64> {
    let row = sqlx::query("SELECT COUNT(*) AS n FROM members WHERE namespace_id = $1 AND access_level >= $2")
        .bind(namespace.0)
        .bind(owner_level)
        .fetch_one(conn)
        .await?;
    int(&row, "n")
}
