//! The `issue_changes` table: a row for every write to a project's issues, their labels or
//! their assignees, added by triggers (migration 0049), so a list remembered in memory (a
//! board's column) can tell it is out of date. A project's version is the sum of its rows'
//! weights; it grows with every committed change, whatever order transactions commit in, and
//! folding a project's rows into one keeps it. Also the issues of a remembered list, by id.

use gantry_types::{IssueId, ProjectId};

use super::issue_filter::IssueProjects;
use super::issues::{IssueRow, issue_columns, map_issue};
use crate::engine::{backend_of, by_engine, id_list, id_set};
use crate::row::int;
use crate::{Conn, DbResult};

/// A list's projects' rows are best folded once they have this many more than one each.
pub const FOLD_AFTER: i64 = 64;

macro_rules! version_sql {
    ($engine:tt) => {
        concat!(
            "SELECT CAST(COALESCE(SUM(c.weight), 0) AS BIGINT) AS version, COUNT(*) AS n FROM issue_changes c \
             WHERE c.project_id IN ",
            id_set!($engine, "$1")
        )
    };
}

/// The version of the issues of `projects` (for several, the sum of theirs), which changes
/// when and only when a write to them commits; and how many rows it is the sum of.
pub async fn issue_list_version(conn: &mut Conn, projects: &IssueProjects) -> DbResult<(i64, i64)> {
    let ids: &[ProjectId] = match projects {
        IssueProjects::One(project) => std::slice::from_ref(project),
        IssueProjects::Many(projects) => projects,
    };
    let row = sqlx::query(by_engine!(backend_of(conn), version_sql))
        .bind(id_list(ids.iter().map(|id| id.0)))
        .fetch_one(&mut *conn)
        .await?;
    Ok((int(&row, "version")?, int(&row, "n")?))
}

/// Folds a project's rows into one of the same sum (in the caller's transaction). The rows
/// summed are exactly those deleted, so a change committed meanwhile is neither lost nor
/// counted twice.
pub async fn fold_issue_changes(conn: &mut Conn, project: ProjectId) -> DbResult<()> {
    let deleted = sqlx::query("DELETE FROM issue_changes WHERE project_id = $1 RETURNING weight")
        .bind(project.0)
        .fetch_all(&mut *conn)
        .await?;
    let sum = deleted.iter().map(|row| int(row, "weight")).sum::<DbResult<i64>>()?;
    if sum > 0 {
        sqlx::query("INSERT INTO issue_changes (project_id, weight) VALUES ($1, $2)")
            .bind(project.0)
            .bind(sum)
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

macro_rules! to_fold_sql {
    ($engine:tt) => {
        concat!(
            "SELECT c.project_id FROM issue_changes c WHERE c.project_id IN ",
            id_set!($engine, "$1"),
            " GROUP BY c.project_id HAVING COUNT(*) > 1"
        )
    };
}

/// Those of `projects` with more than one row, whose rows [`fold_issue_changes`] would fold.
pub async fn projects_to_fold(conn: &mut Conn, projects: &[ProjectId]) -> DbResult<Vec<ProjectId>> {
    let rows = sqlx::query(by_engine!(backend_of(conn), to_fold_sql))
        .bind(id_list(projects.iter().map(|id| id.0)))
        .fetch_all(&mut *conn)
        .await?;
    rows.iter().map(|row| Ok(ProjectId(int(row, "project_id")?))).collect()
}

macro_rules! issues_by_ids_sql {
    ($engine:tt) => {
        concat!(issue_columns!(), " FROM issues i WHERE i.id IN ", id_set!($engine, "$1"))
    };
}

/// The issues with these ids, in the order of `ids`; ids of deleted issues are left out.
pub async fn issues_by_ids(conn: &mut Conn, ids: &[IssueId]) -> DbResult<Vec<IssueRow>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let rows = sqlx::query(by_engine!(backend_of(conn), issues_by_ids_sql))
        .bind(id_list(ids.iter().map(|id| id.0)))
        .fetch_all(&mut *conn)
        .await?;
    let mut issues = rows.iter().map(map_issue).collect::<DbResult<Vec<IssueRow>>>()?;
    issues.sort_by_key(|issue| ids.iter().position(|id| *id == issue.id));
    Ok(issues)
}
