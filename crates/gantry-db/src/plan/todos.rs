//! The `todos` table: what needs a user — an item assigned to them, a mention, a direct
//! address, or one they added themselves — pending until they mark it done or act on the item.
//! A target is named as notes name their noteable (`Issue` and its row id).

use gantry_types::{NoteId, ProjectId, TodoId, UserId};
use sqlx::any::AnyRow;

use super::notes::Noteable;
use crate::manage::users::{UserRow, map_user};
use crate::row::{int, opt_int, text};
use crate::{Conn, DbResult, Page, now_millis};

/// A stored to-do with the account of whoever caused it.
#[derive(Debug, Clone)]
pub struct TodoRow {
    pub id: TodoId,
    pub user_id: UserId,
    pub author: Option<UserRow>,
    pub project_id: ProjectId,
    pub target_type: String,
    pub target_id: i64,
    /// `assigned`, `mentioned`, `directly_addressed` or `marked`.
    pub action: String,
    pub note_id: Option<NoteId>,
    pub body: String,
    /// `pending` or `done`.
    pub state: String,
    pub created_at: i64,
    pub updated_at: i64,
}

fn map_todo(row: &AnyRow) -> DbResult<TodoRow> {
    let author = match opt_int(row, "id")? {
        Some(_) => Some(map_user(row)?),
        None => None,
    };
    Ok(TodoRow {
        id: TodoId(int(row, "todo_id")?),
        user_id: UserId(int(row, "todo_user_id")?),
        author,
        project_id: ProjectId(int(row, "todo_project_id")?),
        target_type: text(row, "target_type")?,
        target_id: int(row, "target_id")?,
        action: text(row, "action")?,
        note_id: opt_int(row, "note_id")?.map(NoteId),
        body: text(row, "body")?,
        state: text(row, "todo_state")?,
        created_at: int(row, "todo_created_at")?,
        updated_at: int(row, "todo_updated_at")?,
    })
}

macro_rules! select_todo {
    () => {
        "SELECT t.id AS todo_id, t.user_id AS todo_user_id, t.project_id AS todo_project_id, t.target_type, \
         t.target_id, t.action, t.note_id, t.body, t.state AS todo_state, t.created_at AS todo_created_at, \
         t.updated_at AS todo_updated_at, u.id, u.username, u.email, u.name, u.password_hash, u.is_admin, u.state, \
         u.created_at, u.updated_at, u.avatar_digest, u.avatar_name, u.bot_project_id, u.bot_namespace_id \
         FROM todos t LEFT JOIN users u ON u.id = t.author_id"
    };
}

/// A to-do to add.
#[derive(Debug, Clone)]
pub struct NewTodo<'a> {
    pub user_id: UserId,
    pub author_id: Option<UserId>,
    pub project_id: ProjectId,
    pub target: Noteable,
    pub action: &'a str,
    pub note_id: Option<NoteId>,
    pub body: &'a str,
}

/// Adds a to-do, unless the user already has a pending one for the same reason on the same
/// item (then that one is brought up to date): one line per reason, however often it recurs.
/// Returns whether a new one was added.
pub async fn add_todo(conn: &mut Conn, todo: &NewTodo<'_>) -> DbResult<bool> {
    let now = now_millis();
    let refreshed = sqlx::query(
        "UPDATE todos SET author_id = $1, note_id = $2, body = $3, updated_at = $4 \
         WHERE user_id = $5 AND target_type = $6 AND target_id = $7 AND action = $8 AND state = 'pending'",
    )
    .bind(todo.author_id.map(|u| u.0))
    .bind(todo.note_id.map(|n| n.0))
    .bind(todo.body)
    .bind(now)
    .bind(todo.user_id.0)
    .bind(todo.target.kind)
    .bind(todo.target.id)
    .bind(todo.action)
    .execute(&mut *conn)
    .await?;
    if refreshed.rows_affected() > 0 {
        return Ok(false);
    }
    sqlx::query(
        "INSERT INTO todos (user_id, author_id, project_id, target_type, target_id, action, note_id, body, state, \
         created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'pending', $9, $9)",
    )
    .bind(todo.user_id.0)
    .bind(todo.author_id.map(|u| u.0))
    .bind(todo.project_id.0)
    .bind(todo.target.kind)
    .bind(todo.target.id)
    .bind(todo.action)
    .bind(todo.note_id.map(|n| n.0))
    .bind(todo.body)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(true)
}

/// Which of a user's to-dos a list shows.
#[derive(Debug, Clone, Default)]
pub struct TodoFilter {
    /// `pending` or `done`; both when `None`.
    pub state: Option<String>,
    pub action: Option<String>,
    pub project_id: Option<ProjectId>,
    pub author_id: Option<UserId>,
    pub target_type: Option<String>,
}

/// One page of a user's to-dos, newest first, and how many match.
pub async fn list_todos(
    conn: &mut Conn,
    user: UserId,
    filter: &TodoFilter,
    page: Page,
) -> DbResult<(Vec<TodoRow>, i64)> {
    macro_rules! filtered {
        () => {
            " WHERE t.user_id = $1 AND (CAST($2 AS TEXT) IS NULL OR t.state = $2) \
         AND (CAST($3 AS TEXT) IS NULL OR t.action = $3) AND (CAST($4 AS BIGINT) IS NULL OR t.project_id = $4) \
         AND (CAST($5 AS BIGINT) IS NULL OR t.author_id = $5) AND (CAST($6 AS TEXT) IS NULL OR t.target_type = $6)"
        };
    }
    let total = sqlx::query(concat!("SELECT COUNT(*) AS n FROM todos t", filtered!()))
        .bind(user.0)
        .bind(filter.state.as_deref())
        .bind(filter.action.as_deref())
        .bind(filter.project_id.map(|p| p.0))
        .bind(filter.author_id.map(|u| u.0))
        .bind(filter.target_type.as_deref())
        .fetch_one(&mut *conn)
        .await?;
    let rows = sqlx::query(concat!(select_todo!(), filtered!(), " ORDER BY t.id DESC LIMIT $7 OFFSET $8"))
        .bind(user.0)
        .bind(filter.state.as_deref())
        .bind(filter.action.as_deref())
        .bind(filter.project_id.map(|p| p.0))
        .bind(filter.author_id.map(|u| u.0))
        .bind(filter.target_type.as_deref())
        .bind(page.limit)
        .bind(page.offset)
        .fetch_all(conn)
        .await?;
    Ok((rows.iter().map(map_todo).collect::<DbResult<_>>()?, int(&total, "n")?))
}

/// One of a user's to-dos.
pub async fn find_todo(conn: &mut Conn, user: UserId, id: TodoId) -> DbResult<Option<TodoRow>> {
    sqlx::query(concat!(select_todo!(), " WHERE t.user_id = $1 AND t.id = $2"))
        .bind(user.0)
        .bind(id.0)
        .fetch_optional(conn)
        .await?
        .as_ref()
        .map(map_todo)
        .transpose()
}

/// A user's pending to-dos on one item, oldest first.
pub async fn pending_todos_on(conn: &mut Conn, user: UserId, target: Noteable) -> DbResult<Vec<TodoRow>> {
    let rows = sqlx::query(concat!(
        select_todo!(),
        " WHERE t.user_id = $1 AND t.target_type = $2 AND t.target_id = $3 AND t.state = 'pending' ORDER BY t.id"
    ))
    .bind(user.0)
    .bind(target.kind)
    .bind(target.id)
    .fetch_all(conn)
    .await?;
    rows.iter().map(map_todo).collect()
}

/// Marks one of a user's to-dos done; whether it was pending.
pub async fn mark_todo_done(conn: &mut Conn, user: UserId, id: TodoId) -> DbResult<bool> {
    let done = sqlx::query(
        "UPDATE todos SET state = 'done', updated_at = $1 WHERE user_id = $2 AND id = $3 AND state = 'pending'",
    )
    .bind(now_millis())
    .bind(user.0)
    .bind(id.0)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() > 0)
}

/// Marks every pending to-do of a user done (or, with `target`, those on one item); how many.
pub async fn mark_todos_done(conn: &mut Conn, user: UserId, target: Option<Noteable>) -> DbResult<u64> {
    let done = sqlx::query(
        "UPDATE todos SET state = 'done', updated_at = $1 WHERE user_id = $2 AND state = 'pending' \
         AND (CAST($3 AS TEXT) IS NULL OR (target_type = $3 AND target_id = $4))",
    )
    .bind(now_millis())
    .bind(user.0)
    .bind(target.map(|t| t.kind))
    .bind(target.map(|t| t.id))
    .execute(conn)
    .await?;
    Ok(done.rows_affected())
}

/// How many pending to-dos a user has (the count in the top bar).
pub async fn count_pending_todos(conn: &mut Conn, user: UserId) -> DbResult<i64> {
    let row = sqlx::query("SELECT COUNT(*) AS n FROM todos WHERE user_id = $1 AND state = 'pending'")
        .bind(user.0)
        .fetch_one(conn)
        .await?;
    int(&row, "n")
}

/// Removes what refers to an item being deleted: its to-dos, subscriptions and sent mails.
pub async fn forget_target(conn: &mut Conn, target: Noteable) -> DbResult<()> {
    for table in [
        "DELETE FROM todos WHERE target_type = $1 AND target_id = $2",
        "DELETE FROM subscriptions WHERE target_type = $1 AND target_id = $2",
        "DELETE FROM sent_notifications WHERE target_type = $1 AND target_id = $2",
    ] {
        sqlx::query(table).bind(target.kind).bind(target.id).execute(&mut *conn).await?;
    }
    Ok(())
}
