//! The `protected_branches` table: per project, branch names or `*` patterns with the lowest
//! role allowed to push and to merge, and whether force-pushes are allowed; and
//! `group_protected_branches`, the same rules set on a group for every project below it.

use gantry_types::{NamespaceId, ProjectId};
use sqlx::any::AnyRow;

use crate::row::{flag, int, opt_int, text};
use crate::{Conn, DbError, DbResult, now_millis};

/// One protection rule of a project: its own, or one of a group above it that applies to it
/// (`group_id` set; `id` is then the group rule's).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProtectedBranchRow {
    pub id: i64,
    pub project_id: ProjectId,
    /// The group whose rule this is; `None` for the project's own rules.
    pub group_id: Option<NamespaceId>,
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
        group_id: opt_int(row, "group_id")?.map(NamespaceId),
        name: text(row, "name")?,
        push_access_level: int(row, "push_access_level")?,
        merge_access_level: int(row, "merge_access_level")?,
        allow_force_push: flag(row, "allow_force_push")?,
        created_at: int(row, "created_at")?,
    })
}

macro_rules! rule_columns {
    () => {
        "id, project_id, CAST(NULL AS BIGINT) AS group_id, name, push_access_level, merge_access_level, \
         allow_force_push, created_at"
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

/// Every rule a push to the project must satisfy: its own, by name, then those of the groups
/// above it (`group_id` set), the closest group first. Callers that show or change the
/// project's own rules keep those without a `group_id`.
pub async fn list_protected_branches(conn: &mut Conn, project: ProjectId) -> DbResult<Vec<ProtectedBranchRow>> {
    let rows = sqlx::query(concat!(
        "WITH RECURSIVE chain(id, depth) AS ( \
             SELECT namespace_id, 1 FROM projects WHERE id = $1 \
             UNION ALL SELECT n.parent_id, c.depth + 1 FROM namespaces n JOIN chain c ON n.id = c.id \
             WHERE n.parent_id IS NOT NULL) \
         SELECT * FROM ( \
             SELECT ",
        rule_columns!(),
        ", 0 AS depth FROM protected_branches WHERE project_id = $1 \
             UNION ALL SELECT g.id, CAST($1 AS BIGINT) AS project_id, g.namespace_id AS group_id, g.name, \
                 g.push_access_level, g.merge_access_level, g.allow_force_push, g.created_at, c.depth \
             FROM group_protected_branches g JOIN chain c ON c.id = g.namespace_id) x \
         ORDER BY x.depth, x.name"
    ))
    .bind(project.0)
    .fetch_all(conn)
    .await?;
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

/// One protection rule of a group (`group_protected_branches`): it applies to every project
/// in the group and its subgroups.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupProtectedBranchRow {
    pub id: i64,
    pub namespace_id: NamespaceId,
    pub name: String,
    /// Lowest role that may push (0: no one).
    pub push_access_level: i64,
    /// Lowest role that may merge (0: no one).
    pub merge_access_level: i64,
    pub allow_force_push: bool,
    pub created_at: i64,
}

fn map_group_rule(row: &AnyRow) -> DbResult<GroupProtectedBranchRow> {
    Ok(GroupProtectedBranchRow {
        id: int(row, "id")?,
        namespace_id: NamespaceId(int(row, "namespace_id")?),
        name: text(row, "name")?,
        push_access_level: int(row, "push_access_level")?,
        merge_access_level: int(row, "merge_access_level")?,
        allow_force_push: flag(row, "allow_force_push")?,
        created_at: int(row, "created_at")?,
    })
}

macro_rules! group_rule_columns {
    () => {
        "g.id, g.namespace_id, g.name, g.push_access_level, g.merge_access_level, g.allow_force_push, g.created_at"
    };
}

/// Stores a group's rule; a second rule with the same name in the group is a conflict.
pub async fn insert_group_protected_branch(
    conn: &mut Conn,
    group: NamespaceId,
    rule: &NewProtectedBranch<'_>,
) -> DbResult<GroupProtectedBranchRow> {
    let row = sqlx::query(
        "INSERT INTO group_protected_branches \
             (namespace_id, name, push_access_level, merge_access_level, allow_force_push, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6) \
         RETURNING id, namespace_id, name, push_access_level, merge_access_level, allow_force_push, created_at",
    )
    .bind(group.0)
    .bind(rule.name)
    .bind(rule.push_access_level)
    .bind(rule.merge_access_level)
    .bind(i64::from(rule.allow_force_push))
    .bind(now_millis())
    .fetch_one(conn)
    .await
    .map_err(DbError::classify)?;
    map_group_rule(&row)
}

/// A group's own rules, by name.
pub async fn list_group_protected_branches(
    conn: &mut Conn,
    group: NamespaceId,
) -> DbResult<Vec<GroupProtectedBranchRow>> {
    let rows = sqlx::query(concat!(
        "SELECT ",
        group_rule_columns!(),
        " FROM group_protected_branches g WHERE g.namespace_id = $1 ORDER BY g.name"
    ))
    .bind(group.0)
    .fetch_all(conn)
    .await?;
    rows.iter().map(map_group_rule).collect()
}

/// One rule of a group, by its exact name.
pub async fn find_group_protected_branch(
    conn: &mut Conn,
    group: NamespaceId,
    name: &str,
) -> DbResult<Option<GroupProtectedBranchRow>> {
    let row = sqlx::query(concat!(
        "SELECT ",
        group_rule_columns!(),
        " FROM group_protected_branches g WHERE g.namespace_id = $1 AND g.name = $2"
    ))
    .bind(group.0)
    .bind(name)
    .fetch_optional(conn)
    .await?;
    row.as_ref().map(map_group_rule).transpose()
}

/// Changes a group rule's levels and force-push setting.
pub async fn update_group_protected_branch(conn: &mut Conn, id: i64, rule: &NewProtectedBranch<'_>) -> DbResult<()> {
    sqlx::query(
        "UPDATE group_protected_branches SET name = $1, push_access_level = $2, merge_access_level = $3, \
         allow_force_push = $4 WHERE id = $5",
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

/// Removes a group rule.
pub async fn delete_group_protected_branch(conn: &mut Conn, id: i64) -> DbResult<()> {
    sqlx::query("DELETE FROM group_protected_branches WHERE id = $1").bind(id).execute(conn).await?;
    Ok(())
}
