//! Each user's limit on personal projects (GitLab's `projects_limit`, a column of `users`) and
//! how many they have: the projects in their own namespace.

use gantry_types::UserId;

use crate::row::int;
use crate::{Conn, DbResult};

/// A user's limit and how many personal projects they have; `None` for no such user.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PersonalProjects {
    pub limit: i64,
    pub count: i64,
}

/// The user's limit on personal projects and how many they have.
pub async fn personal_projects(conn: &mut Conn, user: UserId) -> DbResult<Option<PersonalProjects>> {
    let row = sqlx::query(
        "SELECT u.projects_limit, \
         (SELECT COUNT(*) FROM projects p JOIN namespaces n ON n.id = p.namespace_id \
          WHERE n.kind = 'user' AND n.owner_id = u.id) AS personal \
         FROM users u WHERE u.id = $1",
    )
    .bind(user.0)
    .fetch_optional(conn)
    .await?;
    row.map(|row| Ok(PersonalProjects { limit: int(&row, "projects_limit")?, count: int(&row, "personal")? }))
        .transpose()
}

/// Sets the user's limit on personal projects.
pub async fn set_projects_limit(conn: &mut Conn, user: UserId, limit: i64) -> DbResult<()> {
    sqlx::query("UPDATE users SET projects_limit = $1 WHERE id = $2").bind(limit).bind(user.0).execute(conn).await?;
    Ok(())
}
