//! The `milestones` table (a project's or a group's; titles unique within their owner, numbered
//! per owner) and the column that puts an issue in one. A project uses its own milestones and
//! those of every group above it; a group those of itself and its ancestors.

use gantry_types::{IssueId, MilestoneId, NamespaceId, ProjectId};
use sqlx::any::AnyRow;

use crate::engine::{backend_of, by_engine, id_list, id_set};
use crate::internal_ids::{Numbered, next_group_internal_id, next_internal_id};
use crate::row::{int, opt_int, opt_text, text};
use crate::{Conn, DbError, DbResult, now_millis};

/// Whose a milestone is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MilestoneOwner {
    Project(ProjectId),
    Group(NamespaceId),
}

/// Open or closed (GitLab's `active` and `closed`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MilestoneState {
    Active,
    Closed,
}

impl MilestoneState {
    /// Reads GitLab's name.
    pub fn parse(value: &str) -> Option<MilestoneState> {
        match value {
            "active" => Some(MilestoneState::Active),
            "closed" => Some(MilestoneState::Closed),
            _ => None,
        }
    }

    /// GitLab's name.
    pub fn as_str(self) -> &'static str {
        match self {
            MilestoneState::Active => "active",
            MilestoneState::Closed => "closed",
        }
    }
}

/// A stored milestone, with the full path of its project or group.
#[derive(Debug, Clone)]
pub struct MilestoneRow {
    pub id: MilestoneId,
    pub owner: MilestoneOwner,
    /// `group/project` or `group`.
    pub owner_path: String,
    pub iid: i64,
    pub title: String,
    pub description: String,
    /// `YYYY-MM-DD`.
    pub start_date: Option<String>,
    /// `YYYY-MM-DD`.
    pub due_date: Option<String>,
    pub state: MilestoneState,
    pub created_at: i64,
    pub updated_at: i64,
}

fn map_milestone(row: &AnyRow) -> DbResult<MilestoneRow> {
    let owner = match (opt_int(row, "project_id")?, opt_int(row, "group_id")?) {
        (Some(project), _) => MilestoneOwner::Project(ProjectId(project)),
        (None, Some(group)) => MilestoneOwner::Group(NamespaceId(group)),
        (None, None) => return Err(DbError::Corrupt { column: "milestones.owner", value: String::new() }),
    };
    let state = text(row, "state")?;
    Ok(MilestoneRow {
        id: MilestoneId(int(row, "id")?),
        owner,
        owner_path: opt_text(row, "owner_path")?.unwrap_or_default(),
        iid: int(row, "iid")?,
        title: text(row, "title")?,
        description: text(row, "description")?,
        start_date: opt_text(row, "start_date")?,
        due_date: opt_text(row, "due_date")?,
        state: MilestoneState::parse(&state)
            .ok_or(DbError::Corrupt { column: "milestones.state", value: state.clone() })?,
        created_at: int(row, "created_at")?,
        updated_at: int(row, "updated_at")?,
    })
}

macro_rules! select_milestone {
    () => {
        "SELECT m.id, m.project_id, m.group_id, m.iid, m.title, m.description, m.start_date, m.due_date, m.state, \
         m.created_at, m.updated_at, \
         (SELECT r.path FROM routes r WHERE r.project_id = m.project_id OR r.namespace_id = m.group_id) AS owner_path \
         FROM milestones m"
    };
}

// The groups above a project (`$1`): its namespace and that namespace's ancestors.
macro_rules! project_chain {
    () => {
        "WITH RECURSIVE chain(id) AS ( \
             SELECT namespace_id FROM projects WHERE id = $1 \
             UNION SELECT n.parent_id FROM namespaces n JOIN chain c ON n.id = c.id WHERE n.parent_id IS NOT NULL) "
    };
}

// A group (`$1`) and, when `$2` is 1, its ancestors.
macro_rules! group_chain {
    () => {
        "WITH RECURSIVE chain(id) AS ( \
             SELECT CAST($1 AS BIGINT) \
             UNION SELECT n.parent_id FROM namespaces n JOIN chain c ON n.id = c.id \
             WHERE n.parent_id IS NOT NULL AND CAST($2 AS BIGINT) = 1) "
    };
}

/// A project's milestones and, with `with_ancestors`, its groups'; newest first.
pub async fn list_project_milestones(
    conn: &mut Conn,
    project: ProjectId,
    with_ancestors: bool,
) -> DbResult<Vec<MilestoneRow>> {
    let rows = sqlx::query(concat!(
        project_chain!(),
        select_milestone!(),
        " WHERE m.project_id = $1 OR (CAST($2 AS BIGINT) = 1 AND m.group_id IN (SELECT id FROM chain)) \
         ORDER BY m.created_at DESC, m.id DESC"
    ))
    .bind(project.0)
    .bind(i64::from(with_ancestors))
    .fetch_all(conn)
    .await?;
    rows.iter().map(map_milestone).collect()
}

/// A group's milestones and, with `with_ancestors`, its ancestors'; newest first.
pub async fn list_group_milestones(
    conn: &mut Conn,
    group: NamespaceId,
    with_ancestors: bool,
) -> DbResult<Vec<MilestoneRow>> {
    let rows = sqlx::query(concat!(
        group_chain!(),
        select_milestone!(),
        " WHERE m.group_id IN (SELECT id FROM chain) ORDER BY m.created_at DESC, m.id DESC"
    ))
    .bind(group.0)
    .bind(i64::from(with_ancestors))
    .fetch_all(conn)
    .await?;
    rows.iter().map(map_milestone).collect()
}

fn owner_ids(owner: MilestoneOwner) -> (Option<i64>, Option<i64>) {
    match owner {
        MilestoneOwner::Project(id) => (Some(id.0), None),
        MilestoneOwner::Group(id) => (None, Some(id.0)),
    }
}

/// One milestone of exactly this owner, by id.
pub async fn find_milestone(conn: &mut Conn, owner: MilestoneOwner, id: MilestoneId) -> DbResult<Option<MilestoneRow>> {
    let (project, group) = owner_ids(owner);
    sqlx::query(concat!(select_milestone!(), " WHERE m.id = $1 AND (m.project_id = $2 OR m.group_id = $3)"))
        .bind(id.0)
        .bind(project)
        .bind(group)
        .fetch_optional(conn)
        .await?
        .as_ref()
        .map(map_milestone)
        .transpose()
}

/// The milestones with these ids (issues' milestones), in no particular order.
pub async fn milestones_by_ids(conn: &mut Conn, ids: &[MilestoneId]) -> DbResult<Vec<MilestoneRow>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    macro_rules! milestones_sql {
        ($engine:tt) => {
            concat!(select_milestone!(), " WHERE m.id IN ", id_set!($engine, "$1"))
        };
    }
    let rows = sqlx::query(by_engine!(backend_of(conn), milestones_sql))
        .bind(id_list(ids.iter().map(|id| id.0)))
        .fetch_all(conn)
        .await?;
    rows.iter().map(map_milestone).collect()
}

/// A milestone's columns (validated by core).
#[derive(Debug, Clone)]
pub struct MilestoneFields<'a> {
    pub title: &'a str,
    pub description: &'a str,
    pub start_date: Option<&'a str>,
    pub due_date: Option<&'a str>,
}

/// Stores a milestone with its owner's next number; call inside a transaction. A title its
/// owner already has is [`DbError::Conflict`].
pub async fn insert_milestone(
    conn: &mut Conn,
    owner: MilestoneOwner,
    fields: &MilestoneFields<'_>,
) -> DbResult<MilestoneId> {
    let iid = match owner {
        MilestoneOwner::Project(project) => next_internal_id(&mut *conn, project, Numbered::Milestones).await?,
        MilestoneOwner::Group(group) => next_group_internal_id(&mut *conn, group, Numbered::Milestones).await?,
    };
    let (project, group) = owner_ids(owner);
    let row = sqlx::query(
        "INSERT INTO milestones (project_id, group_id, iid, title, description, start_date, due_date, state, \
         created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, 'active', $8, $8) RETURNING id",
    )
    .bind(project)
    .bind(group)
    .bind(iid)
    .bind(fields.title)
    .bind(fields.description)
    .bind(fields.start_date)
    .bind(fields.due_date)
    .bind(now_millis())
    .fetch_one(conn)
    .await
    .map_err(DbError::classify)?;
    Ok(MilestoneId(int(&row, "id")?))
}

/// Writes a milestone's columns and state; a title taken by another milestone of the owner is
/// a conflict.
pub async fn update_milestone(
    conn: &mut Conn,
    id: MilestoneId,
    fields: &MilestoneFields<'_>,
    state: MilestoneState,
) -> DbResult<()> {
    sqlx::query(
        "UPDATE milestones SET title = $1, description = $2, start_date = $3, due_date = $4, state = $5, \
         updated_at = $6 WHERE id = $7",
    )
    .bind(fields.title)
    .bind(fields.description)
    .bind(fields.start_date)
    .bind(fields.due_date)
    .bind(state.as_str())
    .bind(now_millis())
    .bind(id.0)
    .execute(conn)
    .await
    .map_err(DbError::classify)?;
    Ok(())
}

/// Makes a project's milestone a group's, numbered in the group; call inside a transaction. A
/// title the group has already is [`DbError::Conflict`]. Issues in it stay in it.
pub async fn move_milestone_to_group(conn: &mut Conn, id: MilestoneId, group: NamespaceId) -> DbResult<()> {
    let iid = next_group_internal_id(&mut *conn, group, Numbered::Milestones).await?;
    sqlx::query("UPDATE milestones SET project_id = NULL, group_id = $1, iid = $2, updated_at = $3 WHERE id = $4")
        .bind(group.0)
        .bind(iid)
        .bind(now_millis())
        .bind(id.0)
        .execute(conn)
        .await
        .map_err(DbError::classify)?;
    Ok(())
}

/// Deletes a milestone; its issues are in no milestone after.
pub async fn delete_milestone(conn: &mut Conn, id: MilestoneId) -> DbResult<()> {
    sqlx::query("UPDATE issues SET milestone_id = NULL WHERE milestone_id = $1").bind(id.0).execute(&mut *conn).await?;
    sqlx::query("DELETE FROM milestones WHERE id = $1").bind(id.0).execute(conn).await?;
    Ok(())
}

/// Puts an issue in a milestone, or in none.
pub async fn set_issue_milestone(conn: &mut Conn, issue: IssueId, milestone: Option<MilestoneId>) -> DbResult<()> {
    sqlx::query("UPDATE issues SET milestone_id = $1, updated_at = $2 WHERE id = $3")
        .bind(milestone.map(|m| m.0))
        .bind(now_millis())
        .bind(issue.0)
        .execute(conn)
        .await?;
    Ok(())
}
