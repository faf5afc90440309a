//! The `protected_branches` table: per project, branch names or `*` patterns with the lowest
//! role allowed to push and to merge, and whether force-pushes are allowed.

use gantry_types::ProjectId;
use sqlx::any::AnyRow;

use crate::row::{flag, int, text};
use crate::{Conn, DbError, DbResult, now_millis};

/// One protection rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProtectedBranchRow {
    pub id: i64,
    pub project_id: ProjectId,
    pub name: String,
    /// Lowest role that may push (0: no one).
    pub push_access_level: i64,
    /// Lowest role that may merge (0: no one).
    pub merge_access_level: i64,
    pub allow_force_push: bool,
    pub created_at: i64,
}

fn map_rule(row: &AnyRow) -> DbResult<ProtectedBranchRow> {
    Ok(ProtectedBranchRow {
        id: int(row, "id")?,
        project_id: ProjectId(int(row, "project_id")?),
        name: text(row, "name")?,
        push_access_level: int(row, "push_access_level")?,
        merge_access_level: int(row, "merge_access_level")?,
        allow_force_push: flag(row, "allow_force_push")?,
        created_at: int(row, "created_at")?,
    })
}

macro_rules! rule_columns {
    () => {
        "id, project_id, name, push_access_level, merge_access_level, allow_force_push, created_at"
    };
}

macro_rules! select_rules {
    ($rest:literal) => {
        concat!("SELECT ", rule_columns!(), " FROM protected_branches ", $rest)
    };
}

/// A rule to store.
#[derive(Debug, Clone)]
pub struct NewProtectedBranch<'a> {
    pub name: &'a str,
    pub push_access_level: i64,
    pub merge_access_level: i64,
    pub allow_force_push: bool,
}

/// Stores a rule; a second rule with the same name is a conflict.
pub async fn insert_protected_branch(
    conn: &mut Conn,
    project: ProjectId,
    rule: &NewProtectedBranch<'_>,
) -> DbResult<ProtectedBranchRow> {
    let row = sqlx::query(concat!(
        "INSERT INTO protected_branches (project_id, name, push_access_level, merge_access_level, allow_force_push, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING ",
        rule_columns!()
    ))
    .bind(project.0)
    .bind(rule.name)
    .bind(rule.push_access_level)
    .bind(rule.merge_access_level)
    .bind(i64::from(rule.allow_force_push))
    .bind(now_millis())
    .fetch_one(conn)
    .await
    .map_err(DbError::classify)?;
    map_rule(&row)
}

/// A project's rules, by name.
pub async fn list_protected_branches(conn: &mut Conn, project: ProjectId) -> DbResult<Vec<ProtectedBranchRow>> {
    let rows =
        sqlx::query(select_rules!("WHERE project_id = $1 ORDER BY name")).bind(project.0).fetch_all(conn).await?;
    rows.iter().map(map_rule).collect()
}

/// One rule of a project, by its exact name.
pub async fn find_protected_branch(
    conn: &mut Conn,
    project: ProjectId,
    name: &str,
) -> DbResult<Option<ProtectedBranchRow>> {
    let row = sqlx::query(select_rules!("WHERE project_id = $1 AND name = $2"))
        .bind(project.0)
        .bind(name)
        .fetch_optional(conn)
        .await?;
    row.as_ref().map(map_rule).transpose()
}

/// Changes a rule's levels and force-push setting.
pub async fn update_protected_branch(conn: &mut Conn, id: i64, rule: &NewProtectedBranch<'_>) -> DbResult<()> {
    sqlx::query(
        "UPDATE protected_branches SET name = $1, push_access_level = $2, merge_access_level = $3, allow_force_push = $4 \
         WHERE id = $5",
    )
    .bind(rule.name)
    .bind(rule.push_access_level)
    .bind(rule.merge_access_level)
    .bind(i64::from(rule.allow_force_push))
    .bind(id)
    .execute(conn)
    .await
    .map_err(DbError::classify)?;
    Ok(())
}

/// Removes a rule.
pub async fn delete_protected_branch(conn: &mut Conn, id: i64) -> DbResult<()> {
    sqlx::query("DELETE FROM protected_branches WHERE id = $1").bind(id).execute(conn).await?;
    Ok(())
}
