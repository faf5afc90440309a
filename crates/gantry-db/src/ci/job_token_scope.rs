//! The CI/CD job token scope of a project: its "limit access to this project" switch (a
//! column of `projects`) and its allowlists of projects (`ci_job_token_project_links`) and of
//! groups (`ci_job_token_group_links`), with the one query that says whether a job of one
//! project may reach another. As in GitLab's API, the project owning an allowlist is the
//! source and the project or group it names is the target.

use gantry_types::{NamespaceId, ProjectId, UserId};

use crate::manage::namespaces::{NamespaceRow, map_namespace, select_namespace};
use crate::row::{flag, int};
use crate::{Conn, DbError, DbResult, Page, now_millis};

/// Whether the project limits which jobs' tokens reach it (on unless a Maintainer turned it
/// off); false for a project that does not exist.
pub async fn inbound_scope_enabled(conn: &mut Conn, project: ProjectId) -> DbResult<bool> {
    let row = sqlx::query("SELECT ci_inbound_job_token_scope_enabled AS enabled FROM projects WHERE id = $1")
        .bind(project.0)
        .fetch_optional(conn)
        .await?;
    row.as_ref().map_or(Ok(false), |row| flag(row, "enabled"))
}

/// Turns the project's limit on or off.
pub async fn set_inbound_scope_enabled(conn: &mut Conn, project: ProjectId, enabled: bool) -> DbResult<()> {
    sqlx::query("UPDATE projects SET ci_inbound_job_token_scope_enabled = $1 WHERE id = $2")
        .bind(i64::from(enabled))
        .bind(project.0)
        .execute(conn)
        .await?;
    Ok(())
}

/// Whether a job of `job_project` may reach `project` by the scope alone (the job's user is
/// the caller's business): `project`'s limit is off, or its allowlist names `job_project` or a
/// group holding it, directly or through subgroups. A project is not in its own allowlist:
/// callers decide about a job's own project.
pub async fn job_token_reaches(conn: &mut Conn, project: ProjectId, job_project: ProjectId) -> DbResult<bool> {
    let row = sqlx::query(
        "WITH RECURSIVE chain(id) AS ( \
             SELECT namespace_id FROM projects WHERE id = $2 \
             UNION ALL SELECT n.parent_id FROM namespaces n JOIN chain c ON n.id = c.id WHERE n.parent_id IS NOT NULL) \
         SELECT p.ci_inbound_job_token_scope_enabled AS limited, \
                (SELECT COUNT(*) FROM ci_job_token_project_links l \
                 WHERE l.source_project_id = p.id AND l.target_project_id = $2) AS by_project, \
                (SELECT COUNT(*) FROM ci_job_token_group_links g JOIN chain c ON c.id = g.target_group_id \
                 WHERE g.source_project_id = p.id) AS by_group \
         FROM projects p WHERE p.id = $1",
    )
    .bind(project.0)
    .bind(job_project.0)
    .fetch_optional(conn)
    .await?;
    let Some(row) = row else { return Ok(false) };
    Ok(!flag(&row, "limited")? || int(&row, "by_project")? > 0 || int(&row, "by_group")? > 0)
}

/// Adds `target` to `source`'s allowlist; one already there is [`DbError::Conflict`].
pub async fn insert_project_link(
    conn: &mut Conn,
    source: ProjectId,
    target: ProjectId,
    added_by: Option<UserId>,
) -> DbResult<()> {
    sqlx::query(
        "INSERT INTO ci_job_token_project_links (source_project_id, target_project_id, added_by, created_at) \
         VALUES ($1, $2, $3, $4)",
    )
    .bind(source.0)
    .bind(target.0)
    .bind(added_by.map(|id| id.0))
    .bind(now_millis())
    .execute(conn)
    .await
    .map_err(DbError::classify)?;
    Ok(())
}

/// Removes `target` from `source`'s allowlist; false when it was not there.
pub async fn delete_project_link(conn: &mut Conn, source: ProjectId, target: ProjectId) -> DbResult<bool> {
    let done =
        sqlx::query("DELETE FROM ci_job_token_project_links WHERE source_project_id = $1 AND target_project_id = $2")
            .bind(source.0)
            .bind(target.0)
            .execute(conn)
            .await?;
    Ok(done.rows_affected() > 0)
}

/// A page of the projects in `source`'s allowlist, in the order they were added, and how many
/// there are.
pub async fn list_project_links(conn: &mut Conn, source: ProjectId, page: Page) -> DbResult<(Vec<ProjectId>, i64)> {
    let rows = sqlx::query(
        "SELECT target_project_id FROM ci_job_token_project_links WHERE source_project_id = $1 \
         ORDER BY id LIMIT $2 OFFSET $3",
    )
    .bind(source.0)
    .bind(page.limit)
    .bind(page.offset)
    .fetch_all(&mut *conn)
    .await?;
    let total = sqlx::query("SELECT COUNT(*) AS n FROM ci_job_token_project_links WHERE source_project_id = $1")
        .bind(source.0)
        .fetch_one(conn)
        .await?;
    let ids = rows.iter().map(|row| int(row, "target_project_id").map(ProjectId)).collect::<DbResult<_>>()?;
    Ok((ids, int(&total, "n")?))
}

/// Adds the group `target` to `source`'s allowlist; one already there is
/// [`DbError::Conflict`].
pub async fn insert_group_link(
    conn: &mut Conn,
    source: ProjectId,
    target: NamespaceId,
    added_by: Option<UserId>,
) -> DbResult<()> {
    sqlx::query(
        "INSERT INTO ci_job_token_group_links (source_project_id, target_group_id, added_by, created_at) \
         VALUES ($1, $2, $3, $4)",
    )
    .bind(source.0)
    .bind(target.0)
    .bind(added_by.map(|id| id.0))
    .bind(now_millis())
    .execute(conn)
    .await
    .map_err(DbError::classify)?;
    Ok(())
}

/// Removes the group `target` from `source`'s allowlist; false when it was not there.
pub async fn delete_group_link(conn: &mut Conn, source: ProjectId, target: NamespaceId) -> DbResult<bool> {
    let done =
        sqlx::query("DELETE FROM ci_job_token_group_links WHERE source_project_id = $1 AND target_group_id = $2")
            .bind(source.0)
            .bind(target.0)
            .execute(conn)
            .await?;
    Ok(done.rows_affected() > 0)
}

/// A page of the groups in `source`'s allowlist, in the order they were added, and how many
/// there are.
pub async fn list_group_links(conn: &mut Conn, source: ProjectId, page: Page) -> DbResult<(Vec<NamespaceRow>, i64)> {
    let rows = sqlx::query(concat!(
        select_namespace!(),
        " JOIN ci_job_token_group_links l ON l.target_group_id = n.id WHERE l.source_project_id = $1 \
         ORDER BY l.id LIMIT $2 OFFSET $3"
    ))
    .bind(source.0)
    .bind(page.limit)
    .bind(page.offset)
    .fetch_all(&mut *conn)
    .await?;
    let total = sqlx::query("SELECT COUNT(*) AS n FROM ci_job_token_group_links WHERE source_project_id = $1")
        .bind(source.0)
        .fetch_one(conn)
        .await?;
    Ok((rows.iter().map(map_namespace).collect::<DbResult<_>>()?, int(&total, "n")?))
}
