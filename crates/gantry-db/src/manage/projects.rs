//! The `projects` table (and their rows in `routes`).

use gantry_types::{NamespaceId, ProjectId, UserId, Visibility};
use sqlx::any::AnyRow;

use super::avatars::{Avatar, map_avatar};
use super::members::{reach_ctes, role_ctes, role_level};
use super::namespaces::{JOINED, NamespaceRow, map_namespace_columns};
use super::{SortDirection, Viewer, like_pattern};
use crate::row::{flag, int, opt_int, parsed, text};
use crate::{Conn, DbError, DbResult, Page, now_millis};

/// A stored project with its full path.
#[derive(Debug, Clone)]
pub struct ProjectRow {
    pub id: ProjectId,
    pub namespace_id: NamespaceId,
    pub path: String,
    pub full_path: String,
    pub name: String,
    pub description: String,
    pub visibility: Visibility,
    pub default_branch: String,
    pub archived: bool,
    pub creator_id: Option<UserId>,
    pub created_at: i64,
    pub updated_at: i64,
    /// Who may give variables to its pipelines (a CI setting kept on the row, which project
    /// pages and the API show beside the rest).
    pub pipeline_variables_minimum_role: String,
    pub avatar: Option<Avatar>,
}

macro_rules! select_project {
    () => {
        "SELECT p.id, p.namespace_id, p.path, r.path AS full_path, p.name, p.description, p.visibility, \
         p.default_branch, p.archived, p.creator_id, p.created_at, p.updated_at, p.ci_pipeline_variables_minimum_role, \
         p.avatar_digest, p.avatar_name \
         FROM projects p JOIN routes r ON r.project_id = p.id"
    };
}

fn map_project(row: &AnyRow) -> DbResult<ProjectRow> {
    Ok(ProjectRow {
        id: ProjectId(int(row, "id")?),
        namespace_id: NamespaceId(int(row, "namespace_id")?),
        path: text(row, "path")?,
        full_path: text(row, "full_path")?,
        name: text(row, "name")?,
        description: text(row, "description")?,
        visibility: parsed(row, "visibility", Visibility::parse)?,
        default_branch: text(row, "default_branch")?,
        archived: flag(row, "archived")?,
        creator_id: opt_int(row, "creator_id")?.map(UserId),
        created_at: int(row, "created_at")?,
        updated_at: int(row, "updated_at")?,
        pipeline_variables_minimum_role: text(row, "ci_pipeline_variables_minimum_role")?,
        avatar: map_avatar(row, "avatar_digest", "avatar_name")?,
    })
}

/// What a new project is made of.
#[derive(Debug, Clone)]
pub struct NewProject<'a> {
    pub namespace_id: NamespaceId,
    pub path: &'a str,
    pub full_path: &'a str,
    pub name: &'a str,
    pub description: &'a str,
    pub visibility: Visibility,
    pub default_branch: &'a str,
    pub creator_id: UserId,
}

/// Inserts a project and its route; a taken full path is [`DbError::Conflict`].
pub async fn insert_project(conn: &mut Conn, project: &NewProject<'_>) -> DbResult<ProjectId> {
    let now = now_millis();
    let row = sqlx::query(
        "INSERT INTO projects (namespace_id, path, name, description, visibility, default_branch, archived, creator_id, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, 0, $7, $8, $8) RETURNING id",
    )
    .bind(project.namespace_id.0)
    .bind(project.path)
    .bind(project.name)
    .bind(project.description)
    .bind(project.visibility.as_str())
    .bind(project.default_branch)
    .bind(project.creator_id.0)
    .bind(now)
    .fetch_one(&mut *conn)
    .await
    .map_err(DbError::classify)?;
    let id = ProjectId(int(&row, "id")?);
    sqlx::query("INSERT INTO routes (path, path_lower, project_id) VALUES ($1, $2, $3)")
        .bind(project.full_path)
        .bind(project.full_path.to_ascii_lowercase())
        .bind(id.0)
        .execute(conn)
        .await
        .map_err(DbError::classify)?;
    Ok(id)
}

/// Finds a project by id.
pub async fn find_project_by_id(conn: &mut Conn, id: ProjectId) -> DbResult<Option<ProjectRow>> {
    sqlx::query(concat!(select_project!(), " WHERE p.id = $1"))
        .bind(id.0)
        .fetch_optional(conn)
        .await?
        .as_ref()
        .map(map_project)
        .transpose()
}

macro_rules! project_with_namespace_columns {
    () => {
        "SELECT p.id, p.namespace_id, p.path, r.path AS full_path, p.name, p.description, p.visibility, \
         p.default_branch, p.archived, p.creator_id, p.created_at, p.updated_at, p.ci_pipeline_variables_minimum_role, \
         p.avatar_digest, p.avatar_name, \
         n.id AS ns_id, n.kind AS ns_kind, n.parent_id AS ns_parent_id, n.owner_id AS ns_owner_id, \
         n.path AS ns_path, nr.path AS ns_full_path, n.name AS ns_name, n.description AS ns_description, \
         n.visibility AS ns_visibility, n.created_at AS ns_created_at, n.updated_at AS ns_updated_at, \
         n.avatar_digest AS ns_avatar_digest, n.avatar_name AS ns_avatar_name"
    };
}

macro_rules! project_with_namespace_tables {
    () => {
        " FROM projects p JOIN routes r ON r.project_id = p.id \
         JOIN namespaces n ON n.id = p.namespace_id JOIN routes nr ON nr.namespace_id = n.id"
    };
}

macro_rules! select_project_with_namespace {
    () => {
        concat!(project_with_namespace_columns!(), project_with_namespace_tables!())
    };
}

/// Finds a project by id together with the namespace holding it, in one query.
pub async fn find_project_with_namespace_by_id(
    conn: &mut Conn,
    id: ProjectId,
) -> DbResult<Option<(ProjectRow, NamespaceRow)>> {
    let row = sqlx::query(concat!(select_project_with_namespace!(), " WHERE p.id = $1"))
        .bind(id.0)
        .fetch_optional(conn)
        .await?;
    row.as_ref().map(|row| Ok((map_project(row)?, map_namespace_columns(row, &JOINED)?))).transpose()
}

/// Finds a project by full path (ignoring case) together with its namespace, in one query.
pub async fn find_project_with_namespace_by_full_path(
    conn: &mut Conn,
    full_path: &str,
) -> DbResult<Option<(ProjectRow, NamespaceRow)>> {
    let row = sqlx::query(concat!(select_project_with_namespace!(), " WHERE r.path_lower = $1"))
        .bind(full_path.to_ascii_lowercase())
        .fetch_optional(conn)
        .await?;
    row.as_ref().map(|row| Ok((map_project(row)?, map_namespace_columns(row, &JOINED)?))).transpose()
}

/// A project, its namespace and the highest role a user holds on it.
#[derive(Debug, Clone)]
pub struct ProjectAccessRow {
    pub project: ProjectRow,
    pub namespace: NamespaceRow,
    /// The highest role of the user on the project or on any group above it (unexpired
    /// memberships, and those of groups they are shared with, capped); `None` without one (or
    /// without a user).
    pub access_level: Option<i64>,
}

/// Where [`find_project_access`] starts.
#[derive(Debug, Clone, Copy)]
pub enum ProjectKey<'a> {
    Id(ProjectId),
    /// A full path, matched ignoring case.
    FullPath(&'a str),
}

// The chain of namespaces above the project (its own first) and the project, then the project
// with its namespace and the user's highest role on any of them (`members::role_level!`:
// memberships and shares).
macro_rules! project_access_query {
    ($start:literal, $filter:literal) => {
        concat!(
            "WITH RECURSIVE chain(id) AS ( \
                 SELECT p0.namespace_id FROM projects p0 JOIN routes r0 ON r0.project_id = p0.id WHERE ",
            $start,
            " UNION ALL SELECT n2.parent_id FROM namespaces n2 JOIN chain c ON n2.id = c.id WHERE n2.parent_id IS NOT NULL), \
             target(id) AS (SELECT p0.id FROM projects p0 JOIN routes r0 ON r0.project_id = p0.id WHERE ",
            $start,
            ")",
            role_ctes!(),
            project_with_namespace_columns!(),
            ", ",
            role_level!(),
            " AS access_level",
            project_with_namespace_tables!(),
            " WHERE ",
            $filter
        )
    };
}

/// A project with its namespace and `user`'s role on it, in one query: the membership lookup
/// behind every authorisation of a project.
pub async fn find_project_access(
    conn: &mut Conn,
    key: ProjectKey<'_>,
    user: Option<UserId>,
) -> DbResult<Option<ProjectAccessRow>> {
    crate::stats::authorisation_query();
    let query = match key {
        ProjectKey::Id(id) => {
            sqlx::query(project_access_query!("p0.id = $1", "p.id = $1")).bind(id.0).bind(user.map(|u| u.0))
        }
        ProjectKey::FullPath(path) => sqlx::query(project_access_query!("r0.path_lower = $1", "r.path_lower = $1"))
            .bind(path.to_ascii_lowercase())
            .bind(user.map(|u| u.0)),
    };
    let row = query.bind(now_millis()).fetch_optional(conn).await?;
    row.as_ref()
        .map(|row| {
            Ok(ProjectAccessRow {
                project: map_project(row)?,
                namespace: map_namespace_columns(row, &JOINED)?,
                access_level: opt_int(row, "access_level")?,
            })
        })
        .transpose()
}

/// Finds a project by full path, ignoring case.
pub async fn find_project_by_full_path(conn: &mut Conn, full_path: &str) -> DbResult<Option<ProjectRow>> {
    sqlx::query(concat!(select_project!(), " WHERE r.path_lower = $1"))
        .bind(full_path.to_ascii_lowercase())
        .fetch_optional(conn)
        .await?
        .as_ref()
        .map(map_project)
        .transpose()
}

/// The columns a project update writes (its route is moved by `namespaces::move_routes`).
#[derive(Debug, Clone)]
pub struct ProjectUpdate<'a> {
    pub namespace_id: NamespaceId,
    pub path: &'a str,
    pub name: &'a str,
    pub description: &'a str,
    pub visibility: Visibility,
    pub default_branch: &'a str,
    pub archived: bool,
}

/// Writes a project's columns.
pub async fn update_project(conn: &mut Conn, id: ProjectId, update: &ProjectUpdate<'_>) -> DbResult<()> {
    sqlx::query(
        "UPDATE projects SET namespace_id = $1, path = $2, name = $3, description = $4, visibility = $5, \
         default_branch = $6, archived = $7, updated_at = $8 WHERE id = $9",
    )
    .bind(update.namespace_id.0)
    .bind(update.path)
    .bind(update.name)
    .bind(update.description)
    .bind(update.visibility.as_str())
    .bind(update.default_branch)
    .bind(i64::from(update.archived))
    .bind(now_millis())
    .bind(id.0)
    .execute(conn)
    .await
    .map_err(DbError::classify)?;
    Ok(())
}

/// Deletes a project; its route and memberships go with it.
pub async fn delete_project(conn: &mut Conn, id: ProjectId) -> DbResult<()> {
    sqlx::query("DELETE FROM projects WHERE id = $1").bind(id.0).execute(conn).await?;
    Ok(())
}

/// The ids of the projects in a namespace and all its subgroups (whose repositories go when
/// the namespace is deleted).
pub async fn project_ids_in_subtree(conn: &mut Conn, namespace: NamespaceId) -> DbResult<Vec<ProjectId>> {
    let rows = sqlx::query(
        "WITH RECURSIVE subtree(id) AS ( \
             SELECT CAST($1 AS BIGINT) UNION SELECT n.id FROM namespaces n JOIN subtree s ON n.parent_id = s.id) \
         SELECT id FROM projects WHERE namespace_id IN (SELECT id FROM subtree)",
    )
    .bind(namespace.0)
    .fetch_all(conn)
    .await?;
    rows.iter().map(|row| Ok(ProjectId(int(row, "id")?))).collect()
}

/// Filters of the project list (GitLab's `GET /projects` parameters).
#[derive(Debug, Clone)]
pub struct ProjectFilter {
    pub viewer: Viewer,
    /// Only projects the viewer has a role in (a membership, directly or through a group, a
    /// share, or their own namespace).
    pub membership: bool,
    /// Only projects in the viewer's personal namespace.
    pub owned: bool,
    /// Only projects of this namespace (and, with `include_subgroups`, of its descendants).
    pub namespace: Option<NamespaceId>,
    pub include_subgroups: bool,
    pub search: Option<String>,
    pub visibility: Option<Visibility>,
    pub archived: Option<bool>,
    /// Only projects carrying every one of these topics (names, matched ignoring case; names
    /// hold no commas).
    pub topics: Vec<String>,
    /// `id`, `name`, `path`, `created_at` or `updated_at`.
    pub order_by: &'static str,
    pub sort: SortDirection,
}

macro_rules! project_list {
    ($select:literal) => {
        concat!("WITH RECURSIVE ", reach_ctes!("$1", "$13"), ", \
         scope(id) AS ( \
             SELECT CAST($6 AS BIGINT) WHERE CAST($6 AS BIGINT) IS NOT NULL \
             UNION SELECT n.id FROM namespaces n JOIN scope s ON n.parent_id = s.id WHERE CAST($7 AS BIGINT) = 1) \
         ", $select, " FROM projects p JOIN routes r ON r.project_id = p.id \
         WHERE (((CAST($4 AS BIGINT) = 0 AND (CAST($3 AS BIGINT) = 1 OR p.visibility = 'public' OR (p.visibility = 'internal' AND CAST($2 AS BIGINT) = 1))) \
                 OR p.namespace_id IN (SELECT id FROM reach) \
                 OR p.id IN (SELECT project_id FROM members WHERE user_id = $1 AND project_id IS NOT NULL \
                     AND (expires_at IS NULL OR expires_at > $13)) \
                 OR p.id IN (SELECT id FROM shared_projects) \
                 OR p.namespace_id IN (SELECT id FROM namespaces WHERE owner_id = $1))) \
           AND (CAST($5 AS BIGINT) = 0 OR p.namespace_id IN (SELECT id FROM namespaces WHERE owner_id = $1)) \
           AND (CAST($6 AS BIGINT) IS NULL OR p.namespace_id IN (SELECT id FROM scope)) \
           AND (CAST($8 AS TEXT) IS NULL OR lower(p.name) LIKE $8 ESCAPE '\\' OR r.path_lower LIKE $8 ESCAPE '\\' OR lower(p.description) LIKE $8 ESCAPE '\\') \
           AND (CAST($9 AS TEXT) IS NULL OR p.visibility = $9) \
           AND (CAST($10 AS BIGINT) < 0 OR p.archived = $10) \
           AND (CAST($11 AS TEXT) IS NULL OR CAST($12 AS BIGINT) = ( \
                SELECT COUNT(*) FROM project_topics pt JOIN topics t ON t.id = pt.topic_id \
                WHERE pt.project_id = p.id \
                  AND lower(CAST($11 AS TEXT)) LIKE ('%,' || replace(replace(replace(lower(t.name), '\\', '\\\\'), '%', '\\%'), '_', '\\_') || ',%') ESCAPE '\\'))")
    };
}

/// One page of the projects the viewer may see, and the total count.
pub async fn list_projects(conn: &mut Conn, filter: &ProjectFilter, page: Page) -> DbResult<(Vec<ProjectRow>, i64)> {
    let search = filter.search.as_deref().map(like_pattern);
    let archived = filter.archived.map_or(-1, i64::from);
    let visibility = filter.visibility.map(|v| v.as_str());
    // The wanted topics as `,a,b,`: a project matches when as many of its topics appear in it
    // (between commas) as distinct topics are wanted.
    let mut wanted: Vec<String> = filter.topics.iter().map(|name| name.trim().to_lowercase()).collect();
    wanted.retain(|name| !name.is_empty());
    wanted.sort();
    wanted.dedup();
    let wanted_count = i64::try_from(wanted.len()).unwrap_or(i64::MAX);
    let wanted_topics = (!wanted.is_empty()).then(|| format!(",{},", wanted.join(",")));
    let now = now_millis();
    macro_rules! bind_filter {
        ($query:expr) => {
            $query
                .bind(filter.viewer.user())
                .bind(filter.viewer.signed_in())
                .bind(filter.viewer.admin())
                .bind(i64::from(filter.membership))
                .bind(i64::from(filter.owned))
                .bind(filter.namespace.map(|id| id.0))
                .bind(i64::from(filter.include_subgroups))
                .bind(search.clone())
                .bind(visibility)
                .bind(archived)
                .bind(wanted_topics.clone())
                .bind(wanted_count)
                .bind(now)
        };
    }
    let rows = bind_filter!(sqlx::query(concat!(
        project_list!("SELECT p.id, p.namespace_id, p.path, r.path AS full_path, p.name, p.description, p.visibility, p.default_branch, p.archived, p.creator_id, p.created_at, p.updated_at, p.ci_pipeline_variables_minimum_role, \
         p.avatar_digest, p.avatar_name"),
        " ORDER BY CASE WHEN $15 = 'asc' THEN (CASE $14 WHEN 'path' THEN r.path_lower WHEN 'name' THEN lower(p.name) ELSE NULL END) END ASC, \
                   CASE WHEN $15 = 'desc' THEN (CASE $14 WHEN 'path' THEN r.path_lower WHEN 'name' THEN lower(p.name) ELSE NULL END) END DESC, \
                   CASE WHEN $15 = 'asc' THEN (CASE $14 WHEN 'created_at' THEN p.created_at WHEN 'updated_at' THEN p.updated_at ELSE p.id END) END ASC, \
                   CASE WHEN $15 = 'desc' THEN (CASE $14 WHEN 'created_at' THEN p.created_at WHEN 'updated_at' THEN p.updated_at ELSE p.id END) END DESC, \
                   p.id DESC LIMIT $16 OFFSET $17"
    )))
    .bind(filter.order_by)
    .bind(filter.sort.as_str())
    .bind(page.limit)
    .bind(page.offset)
    .fetch_all(&mut *conn)
    .await?;
    let total = bind_filter!(sqlx::query(project_list!("SELECT COUNT(*) AS n"))).fetch_one(&mut *conn).await?;
    Ok((rows.iter().map(map_project).collect::<DbResult<_>>()?, int(&total, "n")?))
}
