//! The `issues` table (numbered per project through `internal_ids`) and `issue_assignees`; the
//! filtered listing every issue list uses is `issue_filter.rs` (re-exported here).

use gantry_types::{IssueId, IssueState, IterationId, MilestoneId, ProjectId, UserId};
use sqlx::any::AnyRow;

use crate::engine::{backend_of, by_engine, id_list, id_set};
use crate::internal_ids::{Numbered, next_internal_id};
use crate::manage::users::{UserRow, map_user};
use crate::row::{flag, int, opt_int, opt_text, parsed, text};
use crate::{Conn, DbError, DbResult, now_millis};

pub use super::issue_filter::{
    AssigneeFilter, IssueFilter, IssueOrder, IssueProjects, IterationFilter, MilestoneFilter, WeightFilter,
    count_issues_by_state, list_issues,
};

/// An issue as stored, with the number of people's (not system) notes on it.
#[derive(Debug, Clone)]
pub struct IssueRow {
    pub id: IssueId,
    pub project_id: ProjectId,
    pub iid: i64,
    pub title: String,
    pub description: String,
    pub author_id: Option<UserId>,
    pub state: IssueState,
    pub closed_by_id: Option<UserId>,
    pub closed_at: Option<i64>,
    pub confidential: bool,
    /// `YYYY-MM-DD`.
    pub due_date: Option<String>,
    pub weight: Option<i64>,
    pub discussion_locked: bool,
    pub milestone_id: Option<MilestoneId>,
    pub iteration_id: Option<IterationId>,
    pub created_at: i64,
    pub updated_at: i64,
    pub user_notes_count: i64,
    /// Seconds estimated (0: none).
    pub time_estimate: i64,
    /// Seconds spent, summed over its time logs.
    pub total_time_spent: i64,
    /// Its place in boards and lists sorted by hand (GitLab's `relative_position`): lower
    /// comes first.
    pub relative_position: Option<i64>,
}

pub(super) fn map_issue(row: &AnyRow) -> DbResult<IssueRow> {
    Ok(IssueRow {
        id: IssueId(int(row, "id")?),
        project_id: ProjectId(int(row, "project_id")?),
        iid: int(row, "iid")?,
        title: text(row, "title")?,
        description: text(row, "description")?,
        author_id: opt_int(row, "author_id")?.map(UserId),
        state: parsed(row, "state", IssueState::parse)?,
        closed_by_id: opt_int(row, "closed_by_id")?.map(UserId),
        closed_at: opt_int(row, "closed_at")?,
        confidential: flag(row, "confidential")?,
        due_date: opt_text(row, "due_date")?,
        weight: opt_int(row, "weight")?,
        discussion_locked: flag(row, "discussion_locked")?,
        milestone_id: opt_int(row, "milestone_id")?.map(MilestoneId),
        iteration_id: opt_int(row, "iteration_id")?.map(IterationId),
        created_at: int(row, "created_at")?,
        updated_at: int(row, "updated_at")?,
        user_notes_count: int(row, "user_notes_count")?,
        time_estimate: int(row, "time_estimate")?,
        total_time_spent: int(row, "total_time_spent")?,
        relative_position: opt_int(row, "relative_position")?,
    })
}

macro_rules! select_issue {
    () => {
        concat!(issue_columns!(), " FROM issues i")
    };
}

// The columns of an issue `i` (`map_issue`).
macro_rules! issue_columns {
    () => {
        "SELECT i.id, i.project_id, i.iid, i.title, i.description, i.author_id, i.state, i.closed_by_id, i.closed_at, \
         i.confidential, i.due_date, i.weight, i.discussion_locked, i.milestone_id, i.iteration_id, i.created_at, i.updated_at, \
         (SELECT COUNT(*) FROM notes n WHERE n.noteable_type = 'Issue' AND n.noteable_id = i.id AND n.system = 0) \
         AS user_notes_count, i.time_estimate, \
         (SELECT CAST(COALESCE(SUM(t.time_spent), 0) AS BIGINT) FROM timelogs t WHERE t.issue_id = i.id) AS total_time_spent, \
         i.relative_position"
    };
}
pub(super) use issue_columns;

/// What an issue is made of, on create and on update (validated by core).
#[derive(Debug, Clone)]
pub struct IssueFields<'a> {
    pub title: &'a str,
    pub description: &'a str,
    pub confidential: bool,
    pub due_date: Option<&'a str>,
    pub weight: Option<i64>,
    pub discussion_locked: bool,
}

/// The distance between neighbours' `relative_position` that new issues and spread-out lists
/// leave.
pub const POSITION_GAP: i64 = 512;

/// Stores an issue with the project's next number, after the project's other issues in the
/// order of boards, and its `created` event; call inside a transaction. Returns its id and
/// number.
pub async fn insert_issue(
    conn: &mut Conn,
    project: ProjectId,
    author: UserId,
    fields: &IssueFields<'_>,
) -> DbResult<(IssueId, i64)> {
    let iid = next_internal_id(&mut *conn, project, Numbered::Issues).await?;
    let row = sqlx::query(
        "INSERT INTO issues (project_id, iid, title, description, author_id, state, confidential, due_date, weight, \
         discussion_locked, created_at, updated_at, relative_position) \
         VALUES ($1, $2, $3, $4, $5, 'opened', $6, $7, $8, $9, $10, $10, \
                 (SELECT COALESCE(MAX(p.relative_position), 0) + $11 FROM issues p WHERE p.project_id = $1)) \
         RETURNING id",
    )
    .bind(project.0)
    .bind(iid)
    .bind(fields.title)
    .bind(fields.description)
    .bind(author.0)
    .bind(i64::from(fields.confidential))
    .bind(fields.due_date)
    .bind(fields.weight)
    .bind(i64::from(fields.discussion_locked))
    .bind(now_millis())
    .bind(POSITION_GAP)
    .fetch_one(&mut *conn)
    .await
    .map_err(DbError::classify)?;
    let id = int(&row, "id")?;
    crate::activity::record_issue(conn, id, Some(author), "created", now_millis()).await?;
    Ok((IssueId(id), iid))
}

/// Writes an issue's fields and its time of change.
pub async fn update_issue(conn: &mut Conn, id: IssueId, fields: &IssueFields<'_>) -> DbResult<()> {
    sqlx::query(
        "UPDATE issues SET title = $1, description = $2, confidential = $3, due_date = $4, weight = $5, \
         discussion_locked = $6, updated_at = $7 WHERE id = $8",
    )
    .bind(fields.title)
    .bind(fields.description)
    .bind(i64::from(fields.confidential))
    .bind(fields.due_date)
    .bind(fields.weight)
    .bind(i64::from(fields.discussion_locked))
    .bind(now_millis())
    .bind(id.0)
    .execute(conn)
    .await?;
    Ok(())
}

/// Opens or closes an issue as `by` (kept as who closed it, with the time, when closing), with
/// its `closed` or `reopened` event; false when it was already in that state.
pub async fn set_issue_state(conn: &mut Conn, id: IssueId, state: IssueState, by: Option<UserId>) -> DbResult<bool> {
    let now = now_millis();
    let closed = state == IssueState::Closed;
    let done = sqlx::query(
        "UPDATE issues SET state = $1, closed_by_id = $2, closed_at = $3, updated_at = $4 WHERE id = $5 AND state <> $1",
    )
    .bind(state.as_str())
    .bind(if closed { by.map(|u| u.0) } else { None })
    .bind(closed.then_some(now))
    .bind(now)
    .bind(id.0)
    .execute(&mut *conn)
    .await?;
    if done.rows_affected() == 0 {
        return Ok(false);
    }
    let action = if closed { "closed" } else { "reopened" };
    crate::activity::record_issue(conn, id.0, by, action, now).await?;
    Ok(true)
}

/// Marks an issue changed now (a label or assignee came or went).
pub async fn touch_issue(conn: &mut Conn, id: IssueId) -> DbResult<()> {
    sqlx::query("UPDATE issues SET updated_at = $1 WHERE id = $2").bind(now_millis()).bind(id.0).execute(conn).await?;
    Ok(())
}

/// Deletes an issue with its notes (its assignees and label links go with it).
pub async fn delete_issue(conn: &mut Conn, id: IssueId) -> DbResult<()> {
    super::todos::forget_target(conn, super::notes::Noteable::issue(id)).await?;
    super::award_emoji::forget_awards(conn, super::award_emoji::Awardable { kind: "Issue", id: id.0 }).await?;
    sqlx::query(
        "DELETE FROM award_emoji WHERE awardable_type = 'Note' AND awardable_id IN \
         (SELECT id FROM notes WHERE noteable_type = 'Issue' AND noteable_id = $1)",
    )
    .bind(id.0)
    .execute(&mut *conn)
    .await?;
    sqlx::query("DELETE FROM notes WHERE noteable_type = 'Issue' AND noteable_id = $1")
        .bind(id.0)
        .execute(&mut *conn)
        .await?;
    sqlx::query("DELETE FROM issues WHERE id = $1").bind(id.0).execute(conn).await?;
    Ok(())
}

/// One issue by its row id.
pub async fn find_issue_by_id(conn: &mut Conn, id: IssueId) -> DbResult<Option<IssueRow>> {
    sqlx::query(concat!(select_issue!(), " WHERE i.id = $1"))
        .bind(id.0)
        .fetch_optional(conn)
        .await?
        .as_ref()
        .map(map_issue)
        .transpose()
}

/// One issue of a project by its number.
pub async fn find_issue(conn: &mut Conn, project: ProjectId, iid: i64) -> DbResult<Option<IssueRow>> {
    sqlx::query(concat!(select_issue!(), " WHERE i.project_id = $1 AND i.iid = $2"))
        .bind(project.0)
        .bind(iid)
        .fetch_optional(conn)
        .await?
        .as_ref()
        .map(map_issue)
        .transpose()
}

/// Replaces an issue's assignees.
pub async fn set_issue_assignees(conn: &mut Conn, id: IssueId, users: &[UserId]) -> DbResult<()> {
    sqlx::query("DELETE FROM issue_assignees WHERE issue_id = $1").bind(id.0).execute(&mut *conn).await?;
    for user in users {
        sqlx::query("INSERT INTO issue_assignees (issue_id, user_id) VALUES ($1, $2) ON CONFLICT DO NOTHING")
            .bind(id.0)
            .bind(user.0)
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

/// The assignees of these issues, as `(issue, user)` pairs ordered by username.
pub async fn assignees_of(conn: &mut Conn, issues: &[IssueId]) -> DbResult<Vec<(IssueId, UserRow)>> {
    if issues.is_empty() {
        return Ok(Vec::new());
    }
    macro_rules! assignees_sql {
        ($engine:tt) => {
            concat!(
                "SELECT a.issue_id, u.id, u.username, u.email, u.name, u.password_hash, u.is_admin, u.state, \
                 u.created_at, u.updated_at, u.avatar_digest, u.avatar_name, u.bot_project_id, u.bot_namespace_id \
                 FROM issue_assignees a JOIN users u ON u.id = a.user_id WHERE a.issue_id IN ",
                id_set!($engine, "$1"),
                " ORDER BY u.username"
            )
        };
    }
    let rows = sqlx::query(by_engine!(backend_of(conn), assignees_sql))
        .bind(id_list(issues.iter().map(|id| id.0)))
        .fetch_all(conn)
        .await?;
    rows.iter().map(|row| Ok((IssueId(int(row, "issue_id")?), map_user(row)?))).collect()
}

/// Sets an issue's time estimate, in seconds (0 removes it).
pub async fn set_time_estimate(conn: &mut Conn, id: IssueId, seconds: i64) -> DbResult<()> {
    sqlx::query("UPDATE issues SET time_estimate = $1, updated_at = $2 WHERE id = $3")
        .bind(seconds)
        .bind(now_millis())
        .bind(id.0)
        .execute(conn)
        .await?;
    Ok(())
}

/// Time spent on an issue, to log.
#[derive(Debug, Clone)]
pub struct NewTimelog<'a> {
    pub issue_id: IssueId,
    pub user_id: UserId,
    /// Seconds; negative takes time off.
    pub time_spent: i64,
    pub spent_at: i64,
    pub summary: &'a str,
}

/// Logs time spent on an issue.
pub async fn add_timelog(conn: &mut Conn, log: &NewTimelog<'_>) -> DbResult<()> {
    sqlx::query(
        "INSERT INTO timelogs (issue_id, user_id, time_spent, spent_at, summary, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(log.issue_id.0)
    .bind(log.user_id.0)
    .bind(log.time_spent)
    .bind(log.spent_at)
    .bind(log.summary)
    .bind(now_millis())
    .execute(conn)
    .await?;
    Ok(())
}

/// Removes every time log of an issue.
pub async fn remove_timelogs(conn: &mut Conn, id: IssueId) -> DbResult<()> {
    sqlx::query("DELETE FROM timelogs WHERE issue_id = $1").bind(id.0).execute(conn).await?;
    Ok(())
}
