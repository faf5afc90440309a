//! The `events` table: what people did, as GitLab's events — an issue opened, closed or
//! reopened, a comment, a push. The writes that are events record theirs in the same
//! transaction (`plan::issues::insert_issue` and `set_issue_state`, `plan::notes::insert_note`,
//! `code::push_events::insert_push_event`), so none is forgotten. Readers see an event about an
//! issue or a comment only when they see the issue (the issue lists' confidential rule), and a
//! push only where they read the code.

use gantry_types::{ProjectId, UserId};
use sqlx::any::AnyRow;

use crate::manage::users::{UserRow, map_user};
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
    /// The projects whose events are listed (`plan::id_list`).
    pub projects: String,
    /// Of those, the ones whose pushes the viewer may see (they read the code).
    pub code_projects: String,
    /// The projects whose confidential issues the viewer sees, or all of them (administrators).
    pub confidential_projects: String,
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

macro_rules! activity_filter {
    () => {
        " WHERE CAST($1 AS TEXT) LIKE ('%,' || CAST(e.project_id AS TEXT) || ',%') \
           AND (e.push_event_id IS NULL OR CAST($2 AS TEXT) LIKE ('%,' || CAST(e.project_id AS TEXT) || ',%')) \
           AND (e.issue_id IS NULL OR i.confidential = 0 OR CAST($4 AS BIGINT) = 1 \
                OR CAST($3 AS TEXT) LIKE ('%,' || CAST(i.project_id AS TEXT) || ',%') \
                OR i.author_id = $5 \
                OR EXISTS (SELECT 1 FROM issue_assignees va WHERE va.issue_id = i.id AND va.user_id = $5)) \
           AND (CAST($6 AS BIGINT) IS NULL OR e.author_id = $6) \
           AND (CAST($7 AS TEXT) IS NULL OR e.action = $7) \
           AND (CAST($8 AS TEXT) IS NULL OR lower(e.target_type) = $8) \
           AND (CAST($9 AS BIGINT) IS NULL OR e.created_at < $9) \
           AND (CAST($10 AS BIGINT) IS NULL OR e.created_at >= $10)"
    };
}

/// One page of the events a filter selects, newest first unless asked, and how many it selects.
pub async fn list_activity(conn: &mut Conn, filter: &ActivityFilter, page: Page) -> DbResult<(Vec<ActivityRow>, i64)> {
    let bind = |sql: &'static str| {
        sqlx::query(sql)
            .bind(filter.projects.clone())
            .bind(filter.code_projects.clone())
            .bind(filter.confidential_projects.clone())
            .bind(i64::from(filter.all_confidential))
            .bind(filter.viewer.map_or(-1, |u| u.0))
            .bind(filter.author.map(|u| u.0))
            .bind(filter.action.clone())
            .bind(filter.target_type.clone())
            .bind(filter.before)
            .bind(filter.after)
    };
    let rows = bind(concat!(
        "SELECT e.id AS event_id, e.project_id AS event_project_id, e.author_id AS event_author_id, e.action, \
         e.target_type, e.target_id, e.target_iid, e.target_title, e.created_at AS event_created_at, \
         p.ref_name, p.old_sha, p.new_sha, n.body AS note_body, \
         u.id, u.username, u.email, u.name, u.password_hash, u.is_admin, u.state, u.created_at, u.updated_at, \
         u.avatar_digest, u.avatar_name, u.bot_project_id, u.bot_namespace_id \
         FROM events e LEFT JOIN users u ON u.id = e.author_id \
         LEFT JOIN push_events p ON p.id = e.push_event_id \
         LEFT JOIN notes n ON e.target_type = 'Note' AND n.id = e.target_id \
         LEFT JOIN issues i ON i.id = e.issue_id",
        activity_filter!(),
        " ORDER BY CASE WHEN $11 = 1 THEN e.id END ASC, e.id DESC LIMIT $12 OFFSET $13"
    ))
    .bind(i64::from(filter.ascending))
    .bind(page.limit)
    .bind(page.offset)
    .fetch_all(&mut *conn)
    .await?;
    let total =
        bind(concat!("SELECT COUNT(*) AS n FROM events e LEFT JOIN issues i ON i.id = e.issue_id", activity_filter!()))
            .fetch_one(&mut *conn)
            .await?;
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
