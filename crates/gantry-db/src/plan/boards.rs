//! The `boards` table (a project's or a group's, several of each) and `board_lists`: a board's
//! columns, each for one label, milestone, person or iteration, numbered left to right from 0. The open
//! (backlog) and closed columns every board has are not rows. The order of cards is
//! `issues.relative_position` (new issues get theirs in `issues::insert_issue`); here are the
//! queries that find a neighbour's place, make room and set one.

use gantry_types::{BoardId, BoardListId, IssueId, IterationId, LabelId, MilestoneId, NamespaceId, ProjectId, UserId};
use sqlx::any::AnyRow;

use crate::engine::{backend_of, by_engine, id_list, id_set};
use crate::row::{flag, int, opt_int, text};
use crate::{Conn, DbError, DbResult, now_millis};

/// Whose a board is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BoardOwner {
    Project(ProjectId),
    Group(NamespaceId),
}

impl BoardOwner {
    fn ids(self) -> (Option<i64>, Option<i64>) {
        match self {
            BoardOwner::Project(id) => (Some(id.0), None),
            BoardOwner::Group(id) => (None, Some(id.0)),
        }
    }
}

/// A stored board.
#[derive(Debug, Clone)]
pub struct BoardRow {
    pub id: BoardId,
    pub owner: BoardOwner,
    pub name: String,
    pub hide_backlog_list: bool,
    pub hide_closed_list: bool,
    pub created_at: i64,
    pub updated_at: i64,
}

fn map_board(row: &AnyRow) -> DbResult<BoardRow> {
    let owner = match (opt_int(row, "project_id")?, opt_int(row, "group_id")?) {
        (Some(project), _) => BoardOwner::Project(ProjectId(project)),
        (None, Some(group)) => BoardOwner::Group(NamespaceId(group)),
        (None, None) => return Err(DbError::Corrupt { column: "boards.owner", value: String::new() }),
    };
    Ok(BoardRow {
        id: BoardId(int(row, "id")?),
        owner,
        name: text(row, "name")?,
        hide_backlog_list: flag(row, "hide_backlog_list")?,
        hide_closed_list: flag(row, "hide_closed_list")?,
        created_at: int(row, "created_at")?,
        updated_at: int(row, "updated_at")?,
    })
}

macro_rules! select_board {
    () => {
        "SELECT b.id, b.project_id, b.group_id, b.name, b.hide_backlog_list, b.hide_closed_list, b.created_at, \
         b.updated_at FROM boards b"
    };
}

/// What a list is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListFor {
    Label(LabelId),
    Milestone(MilestoneId),
    Assignee(UserId),
    Iteration(IterationId),
}

impl ListFor {
    /// GitLab's `list_type`.
    pub fn list_type(self) -> &'static str {
        match self {
            ListFor::Label(_) => "label",
            ListFor::Milestone(_) => "milestone",
            ListFor::Assignee(_) => "assignee",
            ListFor::Iteration(_) => "iteration",
        }
    }
}

/// A stored list of a board.
#[derive(Debug, Clone)]
pub struct BoardListRow {
    pub id: BoardListId,
    pub board_id: BoardId,
    pub list_for: ListFor,
    pub position: i64,
}

fn map_list(row: &AnyRow) -> DbResult<BoardListRow> {
    let kind = text(row, "list_type")?;
    let list_for = match kind.as_str() {
        "label" => opt_int(row, "label_id")?.map(|id| ListFor::Label(LabelId(id))),
        "milestone" => opt_int(row, "milestone_id")?.map(|id| ListFor::Milestone(MilestoneId(id))),
        "assignee" => opt_int(row, "user_id")?.map(|id| ListFor::Assignee(UserId(id))),
        "iteration" => opt_int(row, "iteration_id")?.map(|id| ListFor::Iteration(IterationId(id))),
        _ => None,
    };
    let list_for = list_for.ok_or(DbError::Corrupt { column: "board_lists.list_type", value: kind })?;
    Ok(BoardListRow {
        id: BoardListId(int(row, "id")?),
        board_id: BoardId(int(row, "board_id")?),
        list_for,
        position: int(row, "position")?,
    })
}

macro_rules! select_list {
    () => {
        "SELECT l.id, l.board_id, l.list_type, l.label_id, l.milestone_id, l.user_id, l.iteration_id, l.position \
         FROM board_lists l"
    };
}

/// The boards of a project or a group, oldest first.
pub async fn list_boards(conn: &mut Conn, owner: BoardOwner) -> DbResult<Vec<BoardRow>> {
    let (project, group) = owner.ids();
    let rows = sqlx::query(concat!(select_board!(), " WHERE b.project_id = $1 OR b.group_id = $2 ORDER BY b.id"))
        .bind(project)
        .bind(group)
        .fetch_all(conn)
        .await?;
    rows.iter().map(map_board).collect()
}

/// One board of exactly this owner.
pub async fn find_board(conn: &mut Conn, owner: BoardOwner, id: BoardId) -> DbResult<Option<BoardRow>> {
    let (project, group) = owner.ids();
    sqlx::query(concat!(select_board!(), " WHERE b.id = $1 AND (b.project_id = $2 OR b.group_id = $3)"))
        .bind(id.0)
        .bind(project)
        .bind(group)
        .fetch_optional(conn)
        .await?
        .as_ref()
        .map(map_board)
        .transpose()
}

/// A board's columns (validated by core).
#[derive(Debug, Clone)]
pub struct BoardFields<'a> {
    pub name: &'a str,
    pub hide_backlog_list: bool,
    pub hide_closed_list: bool,
}

/// Stores a board.
pub async fn insert_board(conn: &mut Conn, owner: BoardOwner, fields: &BoardFields<'_>) -> DbResult<BoardId> {
    let (project, group) = owner.ids();
    let row = sqlx::query(
        "INSERT INTO boards (project_id, group_id, name, hide_backlog_list, hide_closed_list, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $6) RETURNING id",
    )
    .bind(project)
    .bind(group)
    .bind(fields.name)
    .bind(i64::from(fields.hide_backlog_list))
    .bind(i64::from(fields.hide_closed_list))
    .bind(now_millis())
    .fetch_one(conn)
    .await?;
    Ok(BoardId(int(&row, "id")?))
}

/// Stores a board named `name` when the owner has none (the first visit of a boards page);
/// true when it did.
pub async fn insert_first_board(conn: &mut Conn, owner: BoardOwner, name: &str) -> DbResult<bool> {
    let (project, group) = owner.ids();
    let done = sqlx::query(
        "INSERT INTO boards (project_id, group_id, name, hide_backlog_list, hide_closed_list, created_at, updated_at) \
         SELECT $1, $2, $3, 0, 0, $4, $4 \
         WHERE NOT EXISTS (SELECT 1 FROM boards WHERE project_id = $1 OR group_id = $2)",
    )
    .bind(project)
    .bind(group)
    .bind(name)
    .bind(now_millis())
    .execute(conn)
    .await?;
    Ok(done.rows_affected() > 0)
}

/// Writes a board's columns.
pub async fn update_board(conn: &mut Conn, id: BoardId, fields: &BoardFields<'_>) -> DbResult<()> {
    sqlx::query(
        "UPDATE boards SET name = $1, hide_backlog_list = $2, hide_closed_list = $3, updated_at = $4 WHERE id = $5",
    )
    .bind(fields.name)
    .bind(i64::from(fields.hide_backlog_list))
    .bind(i64::from(fields.hide_closed_list))
    .bind(now_millis())
    .bind(id.0)
    .execute(conn)
    .await?;
    Ok(())
}

/// Deletes a board with its lists.
pub async fn delete_board(conn: &mut Conn, id: BoardId) -> DbResult<()> {
    sqlx::query("DELETE FROM board_lists WHERE board_id = $1").bind(id.0).execute(&mut *conn).await?;
    sqlx::query("DELETE FROM boards WHERE id = $1").bind(id.0).execute(conn).await?;
    Ok(())
}

/// A board's lists, left to right.
pub async fn lists_of(conn: &mut Conn, board: BoardId) -> DbResult<Vec<BoardListRow>> {
    let rows = sqlx::query(concat!(select_list!(), " WHERE l.board_id = $1 ORDER BY l.position, l.id"))
        .bind(board.0)
        .fetch_all(conn)
        .await?;
    rows.iter().map(map_list).collect()
}

/// Adds a list at the right end of a board; one the board has already is
/// [`DbError::Conflict`].
pub async fn insert_list(conn: &mut Conn, board: BoardId, list_for: ListFor) -> DbResult<BoardListId> {
    let (mut label, mut milestone, mut user, mut iteration) = (None, None, None, None);
    match list_for {
        ListFor::Label(id) => label = Some(id.0),
        ListFor::Milestone(id) => milestone = Some(id.0),
        ListFor::Assignee(id) => user = Some(id.0),
        ListFor::Iteration(id) => iteration = Some(id.0),
    }
    let row = sqlx::query(
        "INSERT INTO board_lists (board_id, list_type, label_id, milestone_id, user_id, iteration_id, position, \
                                  created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, \
                 (SELECT COALESCE(MAX(p.position) + 1, 0) FROM board_lists p WHERE p.board_id = $1), $7) RETURNING id",
    )
    .bind(board.0)
    .bind(list_for.list_type())
    .bind(label)
    .bind(milestone)
    .bind(user)
    .bind(iteration)
    .bind(now_millis())
    .fetch_one(conn)
    .await
    .map_err(DbError::classify)?;
    Ok(BoardListId(int(&row, "id")?))
}

/// Sets one list's position (core renumbers the whole board in one transaction).
pub async fn set_list_position(conn: &mut Conn, id: BoardListId, position: i64) -> DbResult<()> {
    sqlx::query("UPDATE board_lists SET position = $1 WHERE id = $2").bind(position).bind(id.0).execute(conn).await?;
    Ok(())
}

/// Deletes a list.
pub async fn delete_list(conn: &mut Conn, id: BoardListId) -> DbResult<()> {
    sqlx::query("DELETE FROM board_lists WHERE id = $1").bind(id.0).execute(conn).await?;
    Ok(())
}

/// The `relative_position` of the issue just before (`before` true: the highest below
/// `position`) or just after `position` among the issues of these projects, the
/// issue `except` aside.
pub async fn neighbour_position(
    conn: &mut Conn,
    projects: &[ProjectId],
    position: i64,
    before: bool,
    except: IssueId,
) -> DbResult<Option<i64>> {
    macro_rules! neighbour_sql {
        ($engine:tt) => {
            concat!(
                "SELECT CASE WHEN $3 = 1 \
                  THEN (SELECT MAX(i.relative_position) FROM issues i WHERE i.relative_position < $2 AND i.id <> $4 \
                        AND i.project_id IN ",
                id_set!($engine, "$1"),
                ") ELSE (SELECT MIN(i.relative_position) FROM issues i WHERE i.relative_position > $2 AND i.id <> $4 \
                        AND i.project_id IN ",
                id_set!($engine, "$1"),
                ") END AS p"
            )
        };
    }
    let row = sqlx::query(by_engine!(backend_of(conn), neighbour_sql))
        .bind(id_list(projects.iter().map(|id| id.0)))
        .bind(position)
        .bind(i64::from(before))
        .bind(except.0)
        .fetch_one(conn)
        .await?;
    opt_int(&row, "p")
}

/// Makes room: moves the issues of these projects at `from` or later `by` further on (the
/// issue `except` aside), so a card fits where neighbours had no gap between them.
pub async fn shift_positions(
    conn: &mut Conn,
    projects: &[ProjectId],
    from: i64,
    by: i64,
    except: IssueId,
) -> DbResult<()> {
    macro_rules! shift_sql {
        ($engine:tt) => {
            concat!(
                "UPDATE issues SET relative_position = relative_position + $3 \
                 WHERE relative_position >= $2 AND id <> $4 AND project_id IN ",
                id_set!($engine, "$1")
            )
        };
    }
    sqlx::query(by_engine!(backend_of(conn), shift_sql))
        .bind(id_list(projects.iter().map(|id| id.0)))
        .bind(from)
        .bind(by)
        .bind(except.0)
        .execute(conn)
        .await?;
    Ok(())
}

/// Sets an issue's place in boards (no change of `updated_at`: moving a card is no edit).
pub async fn set_relative_position(conn: &mut Conn, id: IssueId, position: i64) -> DbResult<()> {
    sqlx::query("UPDATE issues SET relative_position = $1 WHERE id = $2")
        .bind(position)
        .bind(id.0)
        .execute(conn)
        .await?;
    Ok(())
}
