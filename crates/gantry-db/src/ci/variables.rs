//! The `ci_variables` table: CI/CD variables of the instance, a group or a project. The value
//! column holds what core sealed; this module never sees a plain value.

use gantry_types::{NamespaceId, ProjectId, VariableId};
use sqlx::any::AnyRow;

use crate::row::{flag, int, text};
use crate::{Conn, DbError, DbResult, now_millis};

/// Whose variable it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VariableOwner {
    Instance,
    Group(NamespaceId),
    Project(ProjectId),
}

impl VariableOwner {
    fn parts(self) -> (&'static str, i64) {
        match self {
            VariableOwner::Instance => ("instance", 0),
            VariableOwner::Group(id) => ("group", id.0),
            VariableOwner::Project(id) => ("project", id.0),
        }
    }
}

/// A variable as stored (its value sealed).
#[derive(Debug, Clone)]
pub struct VariableRow {
    pub id: VariableId,
    pub owner_kind: String,
    pub owner_id: i64,
    pub key: String,
    pub value_sealed: String,
    pub variable_type: String,
    pub masked: bool,
    /// Masked, and its value never shown again (GitLab's `masked_and_hidden`).
    pub hidden: bool,
    pub protected: bool,
    pub raw: bool,
    pub environment_scope: String,
    pub description: String,
    pub created_at: i64,
    pub updated_at: i64,
}

fn map_variable(row: &AnyRow) -> DbResult<VariableRow> {
    Ok(VariableRow {
        id: VariableId(int(row, "id")?),
        owner_kind: text(row, "owner_kind")?,
        owner_id: int(row, "owner_id")?,
        key: text(row, "key")?,
        value_sealed: text(row, "value_sealed")?,
        variable_type: text(row, "variable_type")?,
        masked: flag(row, "masked")?,
        hidden: flag(row, "hidden")?,
        protected: flag(row, "protected")?,
        raw: flag(row, "raw")?,
        environment_scope: text(row, "environment_scope")?,
        description: text(row, "description")?,
        created_at: int(row, "created_at")?,
        updated_at: int(row, "updated_at")?,
    })
}

macro_rules! select_variables {
    ($rest:literal) => {
        concat!(
            "SELECT id, owner_kind, owner_id, key, value_sealed, variable_type, masked, hidden, protected, raw, \
             environment_scope, description, created_at, updated_at FROM ci_variables ",
            $rest
        )
    };
}

/// A variable's settings and sealed value, to store.
#[derive(Debug, Clone)]
pub struct VariableFields<'a> {
    pub key: &'a str,
    pub value_sealed: &'a str,
    pub variable_type: &'a str,
    pub masked: bool,
    pub hidden: bool,
    pub protected: bool,
    pub raw: bool,
    pub environment_scope: &'a str,
    pub description: &'a str,
}

/// An owner's variables, by key then scope.
pub async fn list_variables(conn: &mut Conn, owner: VariableOwner) -> DbResult<Vec<VariableRow>> {
    let (kind, id) = owner.parts();
    let rows =
        sqlx::query(select_variables!("WHERE owner_kind = $1 AND owner_id = $2 ORDER BY key, environment_scope"))
            .bind(kind)
            .bind(id)
            .fetch_all(conn)
            .await?;
    rows.iter().map(map_variable).collect()
}

/// The variables of several owners at once (the instance, a project's groups, the project).
pub async fn variables_for_job(
    conn: &mut Conn,
    groups: &[NamespaceId],
    project: ProjectId,
) -> DbResult<Vec<VariableRow>> {
    let groups = groups.iter().map(NamespaceId::to_string).collect::<Vec<_>>().join(",");
    let rows = sqlx::query(select_variables!(
        "WHERE owner_kind = 'instance' OR (owner_kind = 'project' AND owner_id = $1) \
         OR (owner_kind = 'group' AND (',' || $2 || ',') LIKE ('%,' || CAST(owner_id AS TEXT) || ',%')) ORDER BY id"
    ))
    .bind(project.0)
    .bind(groups)
    .fetch_all(conn)
    .await?;
    rows.iter().map(map_variable).collect()
}

/// Stores a new variable; a second one with the same key and scope is a conflict.
pub async fn insert_variable(
    conn: &mut Conn,
    owner: VariableOwner,
    fields: &VariableFields<'_>,
) -> DbResult<VariableId> {
    let (kind, id) = owner.parts();
    let now = now_millis();
    let row = sqlx::query(
        "INSERT INTO ci_variables (owner_kind, owner_id, group_id, project_id, key, value_sealed, variable_type, masked, \
         protected, raw, environment_scope, description, created_at, updated_at, hidden) \
         VALUES ($1, $2, $12, $13, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11, $14) RETURNING id",
    )
    .bind(kind)
    .bind(id)
    .bind(fields.key)
    .bind(fields.value_sealed)
    .bind(fields.variable_type)
    .bind(i64::from(fields.masked))
    .bind(i64::from(fields.protected))
    .bind(i64::from(fields.raw))
    .bind(fields.environment_scope)
    .bind(fields.description)
    .bind(now)
    .bind((kind == "group").then_some(id))
    .bind((kind == "project").then_some(id))
    .bind(i64::from(fields.hidden))
    .fetch_one(conn)
    .await
    .map_err(DbError::classify)?;
    Ok(VariableId(int(&row, "id")?))
}

/// Replaces a variable's fields; false when it does not exist.
pub async fn update_variable(conn: &mut Conn, id: VariableId, fields: &VariableFields<'_>) -> DbResult<bool> {
    let done = sqlx::query(
        "UPDATE ci_variables SET key = $1, value_sealed = $2, variable_type = $3, masked = $4, protected = $5, raw = $6, \
         environment_scope = $7, description = $8, updated_at = $9, hidden = $11 WHERE id = $10",
    )
    .bind(fields.key)
    .bind(fields.value_sealed)
    .bind(fields.variable_type)
    .bind(i64::from(fields.masked))
    .bind(i64::from(fields.protected))
    .bind(i64::from(fields.raw))
    .bind(fields.environment_scope)
    .bind(fields.description)
    .bind(now_millis())
    .bind(id.0)
    .bind(i64::from(fields.hidden))
    .execute(conn)
    .await
    .map_err(DbError::classify)?;
    Ok(done.rows_affected() > 0)
}

/// Deletes a variable.
pub async fn delete_variable(conn: &mut Conn, id: VariableId) -> DbResult<bool> {
    let done = sqlx::query("DELETE FROM ci_variables WHERE id = $1").bind(id.0).execute(conn).await?;
    Ok(done.rows_affected() > 0)
}
