//! The `epics` table (a group's, numbered per group through `namespace_internal_ids`, usage
//! 'epics'; nested under a parent epic by `parent_id`) and `epic_issues`, which puts an issue in
//! at most one epic. An epic's dates are fixed ones it stores or, when not fixed, those its
//! issues' milestones give (the earliest start, the latest due date), read with the row.

use gantry_types::{EpicId, IssueId, IssueState, NamespaceId, UserId};
use sqlx::any::AnyRow;

use crate::engine::{backend_of, by_engine, id_list, id_set};
use crate::row::{flag, int, opt_int, opt_text, parsed, text};
use crate::search::TextSearch;
use crate::{Conn, DbError, DbResult, Page, now_millis};

/// A stored epic, with its group's path, its parent's number and the dates its issues'
/// milestones give.
#[derive(Debug, Clone)]
pub struct EpicRow {
    pub id: EpicId,
    pub group_id: NamespaceId,
    /// The group's full path.
    pub group_path: String,
    pub iid: i64,
    pub parent_id: Option<EpicId>,
    pub parent_iid: Option<i64>,
    pub title: String,
    pub description: String,
    pub author_id: Option<UserId>,
    /// Opened or closed, as issues.
    pub state: IssueState,
    pub closed_by_id: Option<UserId>,
    pub closed_at: Option<i64>,
    pub confidential: bool,
    pub start_date_is_fixed: bool,
    /// `YYYY-MM-DD`.
    pub start_date_fixed: Option<String>,
    pub due_date_is_fixed: bool,
    pub due_date_fixed: Option<String>,
    /// The earliest start date of its issues' milestones.
    pub start_date_inherited: Option<String>,
    /// The latest due date of its issues' milestones.
    pub due_date_inherited: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

impl EpicRow {
    /// The start date shown: the fixed one when fixed, else the inherited one.
    pub fn start_date(&self) -> Option<&str> {
        if self.start_date_is_fixed { self.start_date_fixed.as_deref() } else { self.start_date_inherited.as_deref() }
    }

    /// The due date shown: the fixed one when fixed, else the inherited one.
    pub fn due_date(&self) -> Option<&str> {
        if self.due_date_is_fixed { self.due_date_fixed.as_deref() } else { self.due_date_inherited.as_deref() }
    }
}

fn map_epic(row: &AnyRow) -> DbResult<EpicRow> {
    Ok(EpicRow {
        id: EpicId(int(row, "id")?),
        group_id: NamespaceId(int(row, "group_id")?),
        group_path: opt_text(row, "group_path")?.unwrap_or_default(),
        iid: int(row, "iid")?,
        parent_id: opt_int(row, "parent_id")?.map(EpicId),
        parent_iid: opt_int(row, "parent_iid")?,
        title: text(row, "title")?,
        description: text(row, "description")?,
        author_id: opt_int(row, "author_id")?.map(UserId),
        state: parsed(row, "state", IssueState::parse)?,
        closed_by_id: opt_int(row, "closed_by_id")?.map(UserId),
        closed_at: opt_int(row, "closed_at")?,
        confidential: flag(row, "confidential")?,
        start_date_is_fixed: flag(row, "start_date_is_fixed")?,
        start_date_fixed: opt_text(row, "start_date_fixed")?,
        due_date_is_fixed: flag(row, "due_date_is_fixed")?,
        due_date_fixed: opt_text(row, "due_date_fixed")?,
        start_date_inherited: opt_text(row, "start_date_inherited")?,
        due_date_inherited: opt_text(row, "due_date_inherited")?,
        created_at: int(row, "created_at")?,
        updated_at: int(row, "updated_at")?,
    })
}

macro_rules! select_epic {
    () => {
        "SELECT e.id, e.group_id, e.iid, e.parent_id, e.title, e.description, e.author_id, e.state, e.closed_by_id, \
         e.closed_at, e.confidential, e.start_date_is_fixed, e.start_date_fixed, e.due_date_is_fixed, \
         e.due_date_fixed, e.created_at, e.updated_at, \
         (SELECT r.path FROM routes r WHERE r.namespace_id = e.group_id) AS group_path, \
         (SELECT p.iid FROM epics p WHERE p.id = e.parent_id) AS parent_iid, \
         (SELECT MIN(m.start_date) FROM epic_issues ei JOIN issues i ON i.id = ei.issue_id \
          JOIN milestones m ON m.id = i.milestone_id WHERE ei.epic_id = e.id) AS start_date_inherited, \
         (SELECT MAX(m.due_date) FROM epic_issues ei JOIN issues i ON i.id = ei.issue_id \
          JOIN milestones m ON m.id = i.milestone_id WHERE ei.epic_id = e.id) AS due_date_inherited \
         FROM epics e"
    };
}

/// The epics of these groups, newest first.
pub async fn list_epics(conn: &mut Conn, groups: &[NamespaceId]) -> DbResult<Vec<EpicRow>> {
    if groups.is_empty() {
        return Ok(Vec::new());
    }
    macro_rules! epics_sql {
        ($engine:tt) => {
            concat!(
                select_epic!(),
                " WHERE e.group_id IN ",
                id_set!($engine, "$1"),
                " ORDER BY e.created_at DESC, e.id DESC"
            )
        };
    }
    let rows = sqlx::query(by_engine!(backend_of(conn), epics_sql))
        .bind(id_list(groups.iter().map(|g| g.0)))
        .fetch_all(conn)
        .await?;
    rows.iter().map(map_epic).collect()
}

// The epics of the groups `$1` (confidential ones only in the groups `$2`) whose words `$3`
// finds, newest first; `$4`, `$5` the page.
macro_rules! search_epics_sql {
    ($text:tt) => {
        concat!(
            select_epic!(),
            epics_of_groups!($text),
            epic_text!($text),
            " ORDER BY e.created_at DESC, e.id DESC LIMIT $4 OFFSET $5"
        )
    };
}

macro_rules! count_epics_sql {
    ($text:tt) => {
        concat!(
            "SELECT COUNT(*) AS n FROM (SELECT 1 AS one FROM epics e",
            epics_of_groups!($text),
            epic_text!($text),
            " LIMIT $4) counted"
        )
    };
}

// The epics of the groups `$1`, confidential ones only of the groups `$2`.
macro_rules! epics_of_groups {
    ($engine:tt) => {
        concat!(
            " WHERE e.group_id IN ",
            id_set!($engine, "$1"),
            " AND (e.confidential = 0 OR e.group_id IN ",
            id_set!($engine, "$2"),
            ")"
        )
    };
}

macro_rules! epic_text {
    (sqlite) => {
        " AND e.id IN (SELECT rowid FROM epics_search WHERE epics_search MATCH $3)"
    };
    (postgres) => {
        " AND e.search_vector @@ to_tsquery('simple', $3)"
    };
}

/// One page of the epics of `groups` whose title or description holds the words, newest
/// first (confidential ones only of `confidential_groups`); and how many there are.
pub async fn search_epics(
    conn: &mut Conn,
    groups: &[NamespaceId],
    confidential_groups: &[NamespaceId],
    words: &TextSearch,
    page: Page,
) -> DbResult<(Vec<EpicRow>, i64)> {
    if groups.is_empty() {
        return Ok((Vec::new(), 0));
    }
    let backend = crate::engine::backend_of(conn);
    let (groups, confidential_groups) =
        (id_list(groups.iter().map(|g| g.0)), id_list(confidential_groups.iter().map(|g| g.0)));
    let rows = sqlx::query(by_engine!(backend, search_epics_sql))
        .bind(groups.clone())
        .bind(confidential_groups.clone())
        .bind(words.query(backend))
        .bind(page.limit)
        .bind(page.offset)
        .fetch_all(&mut *conn)
        .await?;
    let total = sqlx::query(by_engine!(backend, count_epics_sql))
        .bind(groups)
        .bind(confidential_groups)
        .bind(words.query(backend))
        .bind(crate::COUNT_LIMIT + 1)
        .fetch_one(&mut *conn)
        .await?;
    Ok((rows.iter().map(map_epic).collect::<DbResult<_>>()?, int(&total, "n")?))
}

/// One epic of a group by its number.
pub async fn find_epic(conn: &mut Conn, group: NamespaceId, iid: i64) -> DbResult<Option<EpicRow>> {
    sqlx::query(concat!(select_epic!(), " WHERE e.group_id = $1 AND e.iid = $2"))
        .bind(group.0)
        .bind(iid)
        .fetch_optional(conn)
        .await?
        .as_ref()
        .map(map_epic)
        .transpose()
}

/// One epic by its row id.
pub async fn find_epic_by_id(conn: &mut Conn, id: EpicId) -> DbResult<Option<EpicRow>> {
    sqlx::query(concat!(select_epic!(), " WHERE e.id = $1"))
        .bind(id.0)
        .fetch_optional(conn)
        .await?
        .as_ref()
        .map(map_epic)
        .transpose()
}

/// The epics right below one, oldest first.
pub async fn child_epics(conn: &mut Conn, parent: EpicId) -> DbResult<Vec<EpicRow>> {
    let rows = sqlx::query(concat!(select_epic!(), " WHERE e.parent_id = $1 ORDER BY e.created_at, e.id"))
        .bind(parent.0)
        .fetch_all(conn)
        .await?;
    rows.iter().map(map_epic).collect()
}

/// An epic's columns (validated by core).
#[derive(Debug, Clone)]
pub struct EpicFields<'a> {
    pub title: &'a str,
    pub description: &'a str,
    pub confidential: bool,
    pub start_date_is_fixed: bool,
    pub start_date_fixed: Option<&'a str>,
    pub due_date_is_fixed: bool,
    pub due_date_fixed: Option<&'a str>,
}

/// Stores an epic with its group's next number; call inside a transaction.
pub async fn insert_epic(
    conn: &mut Conn,
    group: NamespaceId,
    author: UserId,
    fields: &EpicFields<'_>,
) -> DbResult<EpicId> {
    let iid = crate::internal_ids::next_group_number(&mut *conn, group, "epics").await?;
    let row = sqlx::query(
        "INSERT INTO epics (group_id, iid, title, description, author_id, state, confidential, start_date_is_fixed, \
         start_date_fixed, due_date_is_fixed, due_date_fixed, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, 'opened', $6, $7, $8, $9, $10, $11, $11) RETURNING id",
    )
    .bind(group.0)
    .bind(iid)
    .bind(fields.title)
    .bind(fields.description)
    .bind(author.0)
    .bind(i64::from(fields.confidential))
    .bind(i64::from(fields.start_date_is_fixed))
    .bind(fields.start_date_fixed)
    .bind(i64::from(fields.due_date_is_fixed))
    .bind(fields.due_date_fixed)
    .bind(now_millis())
    .fetch_one(conn)
    .await
    .map_err(DbError::classify)?;
    Ok(EpicId(int(&row, "id")?))
}

/// Writes an epic's columns.
pub async fn update_epic(conn: &mut Conn, id: EpicId, fields: &EpicFields<'_>) -> DbResult<()> {
    sqlx::query(
        "UPDATE epics SET title = $1, description = $2, confidential = $3, start_date_is_fixed = $4, \
         start_date_fixed = $5, due_date_is_fixed = $6, due_date_fixed = $7, updated_at = $8 WHERE id = $9",
    )
    .bind(fields.title)
    .bind(fields.description)
    .bind(i64::from(fields.confidential))
    .bind(i64::from(fields.start_date_is_fixed))
    .bind(fields.start_date_fixed)
    .bind(i64::from(fields.due_date_is_fixed))
    .bind(fields.due_date_fixed)
    .bind(now_millis())
    .bind(id.0)
    .execute(conn)
    .await?;
    Ok(())
}

/// Closes (by `by`) or reopens an epic.
pub async fn set_epic_state(conn: &mut Conn, id: EpicId, state: IssueState, by: Option<UserId>) -> DbResult<()> {
    let now = now_millis();
    let closed = state == IssueState::Closed;
    sqlx::query("UPDATE epics SET state = $1, closed_by_id = $2, closed_at = $3, updated_at = $4 WHERE id = $5")
        .bind(state.as_str())
        .bind(if closed { by.map(|u| u.0) } else { None })
        .bind(closed.then_some(now))
        .bind(now)
        .bind(id.0)
        .execute(conn)
        .await?;
    Ok(())
}

/// Puts an epic under another, or at the top.
pub async fn set_epic_parent(conn: &mut Conn, id: EpicId, parent: Option<EpicId>) -> DbResult<()> {
    sqlx::query("UPDATE epics SET parent_id = $1, updated_at = $2 WHERE id = $3")
        .bind(parent.map(|p| p.0))
        .bind(now_millis())
        .bind(id.0)
        .execute(conn)
        .await?;
    Ok(())
}

/// Deletes an epic: its child epics go to the top, its issues are in no epic after.
pub async fn delete_epic(conn: &mut Conn, id: EpicId) -> DbResult<()> {
    sqlx::query("UPDATE epics SET parent_id = NULL WHERE parent_id = $1").bind(id.0).execute(&mut *conn).await?;
    sqlx::query("DELETE FROM epic_issues WHERE epic_id = $1").bind(id.0).execute(&mut *conn).await?;
    sqlx::query("DELETE FROM label_links WHERE epic_id = $1").bind(id.0).execute(&mut *conn).await?;
    sqlx::query("DELETE FROM epics WHERE id = $1").bind(id.0).execute(conn).await?;
    Ok(())
}

/// An issue's place in an epic (GitLab's `epic_issue_id` is its id).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EpicIssueRow {
    pub id: i64,
    pub epic_id: EpicId,
    pub issue_id: IssueId,
}

fn map_epic_issue(row: &AnyRow) -> DbResult<EpicIssueRow> {
    Ok(EpicIssueRow {
        id: int(row, "id")?,
        epic_id: EpicId(int(row, "epic_id")?),
        issue_id: IssueId(int(row, "issue_id")?),
    })
}

/// Puts an issue in an epic, taking it out of any other; call inside a transaction.
pub async fn add_epic_issue(conn: &mut Conn, epic: EpicId, issue: IssueId) -> DbResult<EpicIssueRow> {
    sqlx::query("DELETE FROM epic_issues WHERE issue_id = $1").bind(issue.0).execute(&mut *conn).await?;
    let row = sqlx::query(
        "INSERT INTO epic_issues (epic_id, issue_id, created_at) VALUES ($1, $2, $3) RETURNING id, epic_id, issue_id",
    )
    .bind(epic.0)
    .bind(issue.0)
    .bind(now_millis())
    .fetch_one(conn)
    .await
    .map_err(DbError::classify)?;
    map_epic_issue(&row)
}

/// Takes an issue out of its epic.
pub async fn remove_epic_issue(conn: &mut Conn, id: i64) -> DbResult<()> {
    sqlx::query("DELETE FROM epic_issues WHERE id = $1").bind(id).execute(conn).await?;
    Ok(())
}

/// One issue's place in an epic by its id.
pub async fn find_epic_issue(conn: &mut Conn, id: i64) -> DbResult<Option<EpicIssueRow>> {
    sqlx::query("SELECT id, epic_id, issue_id FROM epic_issues WHERE id = $1")
        .bind(id)
        .fetch_optional(conn)
        .await?
        .as_ref()
        .map(map_epic_issue)
        .transpose()
}

/// The places of these issues in epics (the issues in none are left out).
pub async fn epic_issues_of_issues(conn: &mut Conn, issues: &[IssueId]) -> DbResult<Vec<EpicIssueRow>> {
    if issues.is_empty() {
        return Ok(Vec::new());
    }
    macro_rules! places_sql {
        ($engine:tt) => {
            concat!("SELECT id, epic_id, issue_id FROM epic_issues WHERE issue_id IN ", id_set!($engine, "$1"))
        };
    }
    let rows = sqlx::query(by_engine!(backend_of(conn), places_sql))
        .bind(id_list(issues.iter().map(|id| id.0)))
        .fetch_all(conn)
        .await?;
    rows.iter().map(map_epic_issue).collect()
}

/// Whether an epic holds an issue, or has a child epic, that is not confidential (which a
/// confidential epic may not).
pub async fn holds_public_items(conn: &mut Conn, epic: EpicId) -> DbResult<(bool, bool)> {
    let row = sqlx::query(
        "SELECT \
         (SELECT COUNT(*) FROM epic_issues ei JOIN issues i ON i.id = ei.issue_id \
          WHERE ei.epic_id = $1 AND i.confidential = 0) AS issues, \
         (SELECT COUNT(*) FROM epics c WHERE c.parent_id = $1 AND c.confidential = 0) AS children",
    )
    .bind(epic.0)
    .fetch_one(conn)
    .await?;
    Ok((int(&row, "issues")? > 0, int(&row, "children")? > 0))
}
