//! The `events` table: what people did, as GitLab's events — an issue opened, closed or
//! reopened, a comment, a push. The writes that are events record theirs in the same
//! transaction (`plan::issues::insert_issue` and `set_issue_state`, `plan::notes::insert_note`,
//! `code::push_events::insert_push_event`), so none is forgotten. Readers see an event about an
//! issue or a comment only when they see the issue (the issue lists' confidential rule), and a
//! push only where they read the code.

use gantry_types::{ProjectId, UserId};
use sqlx::any::AnyRow;

use crate::engine::{backend_of, by_engine, id_list, id_set};
use crate::manage::users::{UserRow, map_user};
use crate::plan::issue_filter::seen_confidential;
use crate::row::{int, opt_int, opt_text, text};
use crate::{Conn, DbResult, Page};

/// A recorded event, with its author, its push's ref change or its comment's text.
#[derive(Debug, Clone)]
pub struct ActivityRow {
    pub id: i64,
    pub project_id: ProjectId,
    pub author_id: Option<UserId>,
    pub author: Option<UserRow>,
    /// GitLab's action: `created`, `closed`, `reopened`, `commented`, `pushed`.
    pub action: String,
    /// `Issue`, `Note`, or `None` for a push.
    pub target_type: Option<String>,
    pub target_id: Option<i64>,
    pub target_iid: Option<i64>,
    pub target_title: Option<String>,
    /// A push's ref and its old and new commits.
    pub push: Option<(String, String, String)>,
    /// A comment's text (when it still exists).
    pub note_body: Option<String>,
    pub created_at: i64,
}

fn map_activity(row: &AnyRow) -> DbResult<ActivityRow> {
    let author = match opt_int(row, "id")? {
        Some(_) => Some(map_user(row)?),
        None => None,
    };
    let push = match opt_text(row, "ref_name")? {
        Some(name) => Some((name, text(row, "old_sha")?, text(row, "new_sha")?)),
        None => None,
    };
    Ok(ActivityRow {
        id: int(row, "event_id")?,
        project_id: ProjectId(int(row, "event_project_id")?),
        author_id: opt_int(row, "event_author_id")?.map(UserId),
        author,
        action: text(row, "action")?,
        target_type: opt_text(row, "target_type")?,
        target_id: opt_int(row, "target_id")?,
        target_iid: opt_int(row, "target_iid")?,
        target_title: opt_text(row, "target_title")?,
        push,
        note_body: opt_text(row, "note_body")?,
        created_at: int(row, "event_created_at")?,
    })
}

/// Which events a listing wants. Core fills in what the viewer may see.
#[derive(Debug, Clone, Default)]
pub struct ActivityFilter {
    /// The projects whose events are listed.
    pub projects: Vec<ProjectId>,
    /// Of those, the ones whose pushes the viewer may see (they read the code).
    pub code_projects: Vec<ProjectId>,
    /// The projects whose confidential issues the viewer sees, or all of them (administrators).
    pub confidential_projects: Vec<ProjectId>,
    pub all_confidential: bool,
    /// Who looks (their own and assigned confidential issues show).
    pub viewer: Option<UserId>,
    /// Only what this person did.
    pub author: Option<UserId>,
    /// GitLab's `action` filter (`created`, `closed`, `reopened`, `commented`, `pushed`).
    pub action: Option<String>,
    /// GitLab's `target_type` filter (`issue`, `note`), lower case.
    pub target_type: Option<String>,
    /// Only before (Unix ms, excluded) and on or after (included) these times.
    pub before: Option<i64>,
    pub after: Option<i64>,
    /// Oldest first (GitLab's `sort=asc`).
    pub ascending: bool,
}

// The events of the projects `$1` (pushes only of `$2`) the viewer may see (`$3`…`$5`, the
// issues' confidential rule), and the request's filters, `$6`…`$10`.
macro_rules! activity_filter {
    ($engine:tt) => {
        concat!(
            " WHERE e.project_id IN ",
            id_set!($engine, "$1"),
            " AND (e.push_event_id IS NULL OR e.project_id IN ",
            id_set!($engine, "$2"),
            ") AND (e.issue_id IS NULL OR ",
            seen_confidential!($engine),
            ") AND (CAST($6 AS BIGINT) IS NULL OR e.author_id = $6) \
           AND (CAST($7 AS TEXT) IS NULL OR e.action = $7) \
           AND (CAST($8 AS TEXT) IS NULL OR lower(e.target_type) = $8) \
           AND (CAST($9 AS BIGINT) IS NULL OR e.created_at < $9) \
           AND (CAST($10 AS BIGINT) IS NULL OR e.created_at >= $10)"
        )
    };
}

// The listing, newest (`desc`) or oldest (`asc`) first; `$11`, `$12` the page.
macro_rules! activity_sql {
    ($engine:tt, $direction:tt) => {
        concat!(
            "SELECT e.id AS event_id, e.project_id AS event_project_id, e.author_id AS event_author_id, e.action, \
             e.target_type, e.target_id, e.target_iid, e.target_title, e.created_at AS event_created_at, \
             p.ref_name, p.old_sha, p.new_sha, n.body AS note_body, \
             u.id, u.username, u.email, u.name, u.password_hash, u.is_admin, u.state, u.created_at, u.updated_at, \
             u.avatar_digest, u.avatar_name, u.bot_project_id, u.bot_namespace_id \
             FROM events e LEFT JOIN users u ON u.id = e.author_id \
             LEFT JOIN push_events p ON p.id = e.push_event_id \
             LEFT JOIN notes n ON e.target_type = 'Note' AND n.id = e.target_id \
             LEFT JOIN issues i ON i.id = e.issue_id",
            activity_filter!($engine),
            " ORDER BY e.id ",
            stringify!($direction),
            " LIMIT $11 OFFSET $12"
        )
    };
}

// How many events the filter selects, up to `COUNT_LIMIT + 1` (`$11`).
macro_rules! count_activity_sql {
    ($engine:tt) => {
        concat!(
            "SELECT COUNT(*) AS n FROM (SELECT 1 AS one FROM events e LEFT JOIN issues i ON i.id = e.issue_id",
            activity_filter!($engine),
            " LIMIT $11) counted"
        )
    };
}

/// One page of the events a filter selects, newest first unless asked, and how many it selects.
pub async fn list_activity(conn: &mut Conn, filter: &ActivityFilter, page: Page) -> DbResult<(Vec<ActivityRow>, i64)> {
    let ids = |projects: &[ProjectId]| id_list(projects.iter().map(|p| p.0));
    let bind = |sql: &'static str| {
        sqlx::query(sql)
            .bind(ids(&filter.projects))
            .bind(ids(&filter.code_projects))
            .bind(ids(&filter.confidential_projects))
            .bind(i64::from(filter.all_confidential))
            .bind(filter.viewer.map_or(-1, |u| u.0))
            .bind(filter.author.map(|u| u.0))
            .bind(filter.action.clone())
            .bind(filter.target_type.clone())
            .bind(filter.before)
            .bind(filter.after)
    };
    let backend = backend_of(conn);
    let sql =
        if filter.ascending { by_engine!(backend, activity_sql, ASC) } else { by_engine!(backend, activity_sql, DESC) };
    let rows = bind(sql).bind(page.limit).bind(page.offset).fetch_all(&mut *conn).await?;
    let total =
        bind(by_engine!(backend, count_activity_sql)).bind(crate::COUNT_LIMIT + 1).fetch_one(&mut *conn).await?;
    Ok((rows.iter().map(map_activity).collect::<DbResult<_>>()?, int(&total, "n")?))
}

/// Records a push's ref change (its `push_events` row) as an event.
pub(crate) async fn record_push(
    conn: &mut Conn,
    project: ProjectId,
    author: Option<UserId>,
    push_event: i64,
    at: i64,
) -> DbResult<()> {
    sqlx::query(
        "INSERT INTO events (project_id, author_id, action, push_event_id, created_at) VALUES ($1, $2, 'pushed', $3, $4)",
    )
    .bind(project.0)
    .bind(author.map(|u| u.0))
    .bind(push_event)
    .bind(at)
    .execute(conn)
    .await?;
    Ok(())
}

/// Records something done to an issue (`created`, `closed`, `reopened`) as an event.
pub(crate) async fn record_issue(
    conn: &mut Conn,
    issue: i64,
    author: Option<UserId>,
    action: &'static str,
    at: i64,
) -> DbResult<()> {
    sqlx::query(
        "INSERT INTO events (project_id, author_id, action, target_type, target_id, target_iid, target_title, \
         issue_id, created_at) SELECT project_id, $1, $2, 'Issue', id, iid, title, id, $3 FROM issues WHERE id = $4",
    )
    .bind(author.map(|u| u.0))
    .bind(action)
    .bind(at)
    .bind(issue)
    .execute(conn)
    .await?;
    Ok(())
}

/// Records a comment on an issue as an event.
pub(crate) async fn record_comment(
    conn: &mut Conn,
    note: i64,
    issue: i64,
    author: Option<UserId>,
    at: i64,
) -> DbResult<()> {
    sqlx::query(
        "INSERT INTO events (project_id, author_id, action, target_type, target_id, target_iid, target_title, \
         issue_id, created_at) SELECT project_id, $1, 'commented', 'Note', $2, iid, title, id, $3 FROM issues WHERE id = $4",
    )
    .bind(author.map(|u| u.0))
    .bind(note)
    .bind(at)
    .bind(issue)
    .execute(conn)
    .await?;
    Ok(())
}
