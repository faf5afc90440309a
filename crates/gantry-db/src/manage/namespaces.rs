//! The `namespaces` table (users' personal namespaces and groups) and the `routes` table that
//! gives every namespace and project its unique full path.

use gantry_types::{NamespaceId, ProjectId, UserId, Visibility};
use sqlx::any::AnyRow;

use super::avatars::{Avatar, map_avatar};
use super::members::{reach_ctes, role_ctes, role_level};
use super::{SortDirection, Viewer, like_pattern};
use crate::row::{int, opt_int, parsed, text};
use crate::{Conn, DbError, DbResult, Page, now_millis};

/// Whether a namespace belongs to a user or is a group.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NamespaceKind {
    User,
    Group,
}

impl NamespaceKind {
    fn as_str(self) -> &'static str {
        match self {
            NamespaceKind::User => "user",
            NamespaceKind::Group => "group",
        }
    }
    fn parse(value: &str) -> Option<NamespaceKind> {
        match value {
            "user" => Some(NamespaceKind::User),
            "group" => Some(NamespaceKind::Group),
            _ => None,
        }
    }
}

/// A stored namespace with its full path.
#[derive(Debug, Clone)]
pub struct NamespaceRow {
    pub id: NamespaceId,
    pub kind: NamespaceKind,
    pub parent_id: Option<NamespaceId>,
    pub owner_id: Option<UserId>,
    pub path: String,
    pub full_path: String,
    pub name: String,
    pub description: String,
    pub visibility: Visibility,
    pub created_at: i64,
    pub updated_at: i64,
    pub avatar: Option<Avatar>,
}

macro_rules! select_namespace {
    () => {
        "SELECT n.id, n.kind, n.parent_id, n.owner_id, n.path, r.path AS full_path, n.name, n.description, \
         n.visibility, n.created_at, n.updated_at, n.avatar_digest, n.avatar_name \
         FROM namespaces n JOIN routes r ON r.namespace_id = n.id"
    };
}
pub(crate) use select_namespace;

/// The names of a namespace's columns in a result: plain, or prefixed with `ns_` when joined
/// to another table's row.
pub(crate) struct NamespaceColumns {
    id: &'static str,
    kind: &'static str,
    parent_id: &'static str,
    owner_id: &'static str,
    path: &'static str,
    full_path: &'static str,
    name: &'static str,
    description: &'static str,
    visibility: &'static str,
    created_at: &'static str,
    updated_at: &'static str,
    avatar_digest: &'static str,
    avatar_name: &'static str,
}

const PLAIN: NamespaceColumns = NamespaceColumns {
    id: "id",
    kind: "kind",
    parent_id: "parent_id",
    owner_id: "owner_id",
    path: "path",
    full_path: "full_path",
    name: "name",
    description: "description",
    visibility: "visibility",
    created_at: "created_at",
    updated_at: "updated_at",
    avatar_digest: "avatar_digest",
    avatar_name: "avatar_name",
};

/// Columns selected by `joined_namespace_columns!()`.
pub(crate) const JOINED: NamespaceColumns = NamespaceColumns {
    id: "ns_id",
    kind: "ns_kind",
    parent_id: "ns_parent_id",
    owner_id: "ns_owner_id",
    path: "ns_path",
    full_path: "ns_full_path",
    name: "ns_name",
    description: "ns_description",
    visibility: "ns_visibility",
    created_at: "ns_created_at",
    updated_at: "ns_updated_at",
    avatar_digest: "ns_avatar_digest",
    avatar_name: "ns_avatar_name",
};

pub(crate) fn map_namespace(row: &AnyRow) -> DbResult<NamespaceRow> {
    map_namespace_columns(row, &PLAIN)
}

pub(crate) fn map_namespace_columns(row: &AnyRow, c: &NamespaceColumns) -> DbResult<NamespaceRow> {
    Ok(NamespaceRow {
        id: NamespaceId(int(row, c.id)?),
        kind: parsed(row, c.kind, NamespaceKind::parse)?,
        parent_id: opt_int(row, c.parent_id)?.map(NamespaceId),
        owner_id: opt_int(row, c.owner_id)?.map(UserId),
        path: text(row, c.path)?,
        full_path: text(row, c.full_path)?,
        name: text(row, c.name)?,
        description: text(row, c.description)?,
        visibility: parsed(row, c.visibility, Visibility::parse)?,
        created_at: int(row, c.created_at)?,
        updated_at: int(row, c.updated_at)?,
        avatar: map_avatar(row, c.avatar_digest, c.avatar_name)?,
    })
}

/// What a new namespace is made of.
#[derive(Debug, Clone)]
pub struct NewNamespace<'a> {
    pub kind: NamespaceKind,
    pub parent_id: Option<NamespaceId>,
    pub owner_id: Option<UserId>,
    pub path: &'a str,
    pub full_path: &'a str,
    pub name: &'a str,
    pub description: &'a str,
    pub visibility: Visibility,
}

/// Inserts a namespace and its route; a taken full path is [`DbError::Conflict`].
pub async fn insert_namespace(conn: &mut Conn, ns: &NewNamespace<'_>) -> DbResult<NamespaceId> {
    let now = now_millis();
    let row = sqlx::query(
        "INSERT INTO namespaces (kind, parent_id, owner_id, path, name, description, visibility, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8) RETURNING id",
    )
    .bind(ns.kind.as_str())
    .bind(ns.parent_id.map(|id| id.0))
    .bind(ns.owner_id.map(|id| id.0))
    .bind(ns.path)
    .bind(ns.name)
    .bind(ns.description)
    .bind(ns.visibility.as_str())
    .bind(now)
    .fetch_one(&mut *conn)
    .await
    .map_err(DbError::classify)?;
    let id = NamespaceId(int(&row, "id")?);
    sqlx::query("INSERT INTO routes (path, path_lower, namespace_id) VALUES ($1, $2, $3)")
        .bind(ns.full_path)
        .bind(ns.full_path.to_ascii_lowercase())
        .bind(id.0)
        .execute(conn)
        .await
        .map_err(DbError::classify)?;
    Ok(id)
}

/// Finds a namespace by id.
pub async fn find_namespace_by_id(conn: &mut Conn, id: NamespaceId) -> DbResult<Option<NamespaceRow>> {
    sqlx::query(concat!(select_namespace!(), " WHERE n.id = $1"))
        .bind(id.0)
        .fetch_optional(conn)
        .await?
        .as_ref()
        .map(map_namespace)
        .transpose()
}

/// Finds a namespace by its full path, ignoring case.
pub async fn find_namespace_by_full_path(conn: &mut Conn, full_path: &str) -> DbResult<Option<NamespaceRow>> {
    sqlx::query(concat!(select_namespace!(), " WHERE r.path_lower = $1"))
        .bind(full_path.to_ascii_lowercase())
        .fetch_optional(conn)
        .await?
        .as_ref()
        .map(map_namespace)
        .transpose()
}

/// A namespace and the highest role a user holds on it.
#[derive(Debug, Clone)]
pub struct NamespaceAccessRow {
    pub namespace: NamespaceRow,
    /// The highest role of the user on the namespace or on any group above it (unexpired
    /// memberships, and those of groups it is shared with, capped); `None` without one (or
    /// without a user).
    pub access_level: Option<i64>,
}

/// Where [`find_namespace_access`] starts.
#[derive(Debug, Clone, Copy)]
pub enum NamespaceKey<'a> {
    Id(NamespaceId),
    /// A full path, matched ignoring case.
    FullPath(&'a str),
}

// The chain of namespaces from the one named up to the top, then that namespace with the
// user's highest role on any of them (`members::role_level!`: memberships and shares).
macro_rules! namespace_access_query {
    ($start:literal, $filter:literal) => {
        concat!(
            "WITH RECURSIVE chain(id) AS ( \
                 SELECT n0.id FROM namespaces n0 JOIN routes r0 ON r0.namespace_id = n0.id WHERE ",
            $start,
            " UNION ALL SELECT n2.parent_id FROM namespaces n2 JOIN chain c ON n2.id = c.id WHERE n2.parent_id IS NOT NULL), \
             target(id) AS (SELECT CAST(NULL AS BIGINT) WHERE 1 = 0)",
            role_ctes!(),
            "SELECT n.id, n.kind, n.parent_id, n.owner_id, n.path, r.path AS full_path, n.name, n.description, \
             n.visibility, n.created_at, n.updated_at, n.avatar_digest, n.avatar_name, ",
            role_level!(),
            " AS access_level FROM namespaces n JOIN routes r ON r.namespace_id = n.id WHERE ",
            $filter
        )
    };
}

/// A namespace with `user`'s role on it (inherited down the group tree), in one query: the
/// membership lookup behind every authorisation of a group.
pub async fn find_namespace_access(
    conn: &mut Conn,
    key: NamespaceKey<'_>,
    user: Option<UserId>,
) -> DbResult<Option<NamespaceAccessRow>> {
    crate::stats::authorisation_query();
    let query = match key {
        NamespaceKey::Id(id) => {
            sqlx::query(namespace_access_query!("n0.id = $1", "n.id = $1")).bind(id.0).bind(user.map(|u| u.0))
        }
        NamespaceKey::FullPath(path) => sqlx::query(namespace_access_query!("r0.path_lower = $1", "r.path_lower = $1"))
            .bind(path.to_ascii_lowercase())
            .bind(user.map(|u| u.0)),
    };
    let row = query.bind(now_millis()).fetch_optional(conn).await?;
    row.as_ref()
        .map(|row| {
            Ok(NamespaceAccessRow { namespace: map_namespace(row)?, access_level: opt_int(row, "access_level")? })
        })
        .transpose()
}

/// Finds a user's personal namespace.
pub async fn find_user_namespace(conn: &mut Conn, user: UserId) -> DbResult<Option<NamespaceRow>> {
    sqlx::query(concat!(select_namespace!(), " WHERE n.owner_id = $1"))
        .bind(user.0)
        .fetch_optional(conn)
        .await?
        .as_ref()
        .map(map_namespace)
        .transpose()
}

/// The namespace and all its ancestors, the top-level one first.
pub async fn namespace_with_ancestors(conn: &mut Conn, id: NamespaceId) -> DbResult<Vec<NamespaceRow>> {
    let rows = sqlx::query(
        "WITH RECURSIVE chain(id, depth) AS ( \
             SELECT CAST($1 AS BIGINT), 0 \
             UNION ALL SELECT n.parent_id, c.depth + 1 FROM namespaces n JOIN chain c ON n.id = c.id WHERE n.parent_id IS NOT NULL) \
         SELECT n.id, n.kind, n.parent_id, n.owner_id, n.path, r.path AS full_path, n.name, n.description, \
                n.visibility, n.created_at, n.updated_at, n.avatar_digest, n.avatar_name \
         FROM chain c JOIN namespaces n ON n.id = c.id JOIN routes r ON r.namespace_id = n.id ORDER BY c.depth DESC",
    )
    .bind(id.0)
    .fetch_all(conn)
    .await?;
    rows.iter().map(map_namespace).collect()
}

/// What a route (full path) points at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RouteTarget {
    Namespace(NamespaceId),
    Project(ProjectId),
}

/// Resolves a full path, ignoring case.
pub async fn resolve_route(conn: &mut Conn, full_path: &str) -> DbResult<Option<RouteTarget>> {
    let row = sqlx::query("SELECT namespace_id, project_id FROM routes WHERE path_lower = $1")
        .bind(full_path.to_ascii_lowercase())
        .fetch_optional(conn)
        .await?;
    let Some(row) = row else { return Ok(None) };
    Ok(match (opt_int(&row, "namespace_id")?, opt_int(&row, "project_id")?) {
        (Some(id), _) => Some(RouteTarget::Namespace(NamespaceId(id))),
        (None, Some(id)) => Some(RouteTarget::Project(ProjectId(id))),
        (None, None) => None,
    })
}

/// Moves a full path and everything below it (subgroups, projects) to a new prefix, in the
/// caller's transaction; a taken path is [`DbError::Conflict`].
pub async fn move_routes(conn: &mut Conn, old_full_path: &str, new_full_path: &str) -> DbResult<()> {
    let old_lower = old_full_path.to_ascii_lowercase();
    let prefix_len = i64::try_from(old_lower.len() + 1).unwrap_or(i64::MAX);
    sqlx::query(
        "UPDATE routes SET path = CAST($1 AS TEXT) || substr(path, CAST(CAST($3 AS BIGINT) AS INTEGER)), \
             path_lower = lower(CAST($1 AS TEXT) || substr(path, CAST(CAST($3 AS BIGINT) AS INTEGER))) \
         WHERE path_lower = CAST($2 AS TEXT) OR substr(path_lower, 1, CAST(CAST($3 AS BIGINT) AS INTEGER)) = CAST($2 AS TEXT) || '/'",
    )
    .bind(new_full_path)
    .bind(&old_lower)
    .bind(prefix_len)
    .execute(conn)
    .await
    .map_err(DbError::classify)?;
    Ok(())
}

/// Updates a namespace's own columns (its route is moved by [`move_routes`]).
#[derive(Debug, Clone)]
pub struct NamespaceUpdate<'a> {
    pub parent_id: Option<NamespaceId>,
    pub path: &'a str,
    pub name: &'a str,
    pub description: &'a str,
    pub visibility: Visibility,
}

/// Writes a namespace's columns.
pub async fn update_namespace(conn: &mut Conn, id: NamespaceId, update: &NamespaceUpdate<'_>) -> DbResult<()> {
    sqlx::query(
        "UPDATE namespaces SET parent_id = $1, path = $2, name = $3, description = $4, visibility = $5, updated_at = $6 WHERE id = $7",
    )
    .bind(update.parent_id.map(|id| id.0))
    .bind(update.path)
    .bind(update.name)
    .bind(update.description)
    .bind(update.visibility.as_str())
    .bind(now_millis())
    .bind(id.0)
    .execute(conn)
    .await
    .map_err(DbError::classify)?;
    Ok(())
}

/// The visibilities in use by a group's direct subgroups and projects (each listed once).
pub async fn child_visibilities(conn: &mut Conn, id: NamespaceId) -> DbResult<Vec<Visibility>> {
    let rows = sqlx::query(
        "SELECT visibility FROM namespaces WHERE parent_id = $1 \
         UNION SELECT visibility FROM projects WHERE namespace_id = $1",
    )
    .bind(id.0)
    .fetch_all(conn)
    .await?;
    rows.iter().map(|row| parsed(row, "visibility", Visibility::parse)).collect()
}

/// Deletes a namespace; subgroups, projects, routes and memberships go with it.
pub async fn delete_namespace(conn: &mut Conn, id: NamespaceId) -> DbResult<()> {
    sqlx::query("DELETE FROM namespaces WHERE id = $1").bind(id.0).execute(conn).await?;
    Ok(())
}

/// Filters of the group list.
#[derive(Debug, Clone)]
pub struct GroupFilter {
    pub viewer: Viewer,
    /// Only groups the viewer has a role in (a membership of it or an ancestor, or a share).
    pub membership: bool,
    /// `Some(None)`: top-level groups only; `Some(Some(id))`: direct children of `id` (every
    /// group below it with `subtree`).
    pub parent: Option<Option<NamespaceId>>,
    pub subtree: bool,
    pub search: Option<String>,
    /// Groups left out (GitLab's `skip_groups`).
    pub skip: Vec<NamespaceId>,
    pub visibility: Option<Visibility>,
    /// `name`, `path` or `id`.
    pub order_by: &'static str,
    pub sort: SortDirection,
}

// The group list from `$select` on: $1 user, $2 signed in, $3 admin, $4 membership only, $5 the
// parent filter (0 none, 1 top level, 2 children of $6, 3 everything below $6), $6 parent id,
// $7 search, $8 now, $9 skipped ids as `,1,2,`, $10 visibility. The viewer's roles come from
// `members::reach_ctes!`, the same roles their authorisation counts.
macro_rules! group_list {
    ($($select:tt)+) => {
        concat!(
            "WITH RECURSIVE ",
            reach_ctes!("$1", "$8"),
            ", subtree(id) AS ( \
                 SELECT id FROM namespaces WHERE parent_id = $6 AND CAST($5 AS BIGINT) = 3 \
                 UNION SELECT n.id FROM namespaces n JOIN subtree s ON n.parent_id = s.id) ",
            $($select)+,
            " WHERE n.kind = 'group' \
               AND ((CAST($4 AS BIGINT) = 0 AND (CAST($3 AS BIGINT) = 1 OR n.visibility = 'public' OR (n.visibility = 'internal' AND CAST($2 AS BIGINT) = 1))) \
                    OR n.id IN (SELECT id FROM reach)) \
               AND (CAST($5 AS BIGINT) = 0 OR (CAST($5 AS BIGINT) = 1 AND n.parent_id IS NULL) \
                    OR (CAST($5 AS BIGINT) = 2 AND n.parent_id = $6) OR (CAST($5 AS BIGINT) = 3 AND n.id IN (SELECT id FROM subtree))) \
               AND (CAST($7 AS TEXT) IS NULL OR lower(n.name) LIKE $7 ESCAPE '\\' OR r.path_lower LIKE $7 ESCAPE '\\') \
               AND (CAST($9 AS TEXT) IS NULL OR CAST($9 AS TEXT) NOT LIKE ('%,' || CAST(n.id AS TEXT) || ',%')) \
               AND (CAST($10 AS TEXT) IS NULL OR n.visibility = $10)"
        )
    };
}

/// One page of the groups the viewer may see, and the total count.
pub async fn list_groups(conn: &mut Conn, filter: &GroupFilter, page: Page) -> DbResult<(Vec<NamespaceRow>, i64)> {
    let search = filter.search.as_deref().map(like_pattern);
    let (parent_filter, parent_id) = match filter.parent {
        None => (0_i64, None),
        Some(None) => (1, None),
        Some(Some(id)) if filter.subtree => (3, Some(id.0)),
        Some(Some(id)) => (2, Some(id.0)),
    };
    let skip = (!filter.skip.is_empty())
        .then(|| format!(",{},", filter.skip.iter().map(|id| id.0.to_string()).collect::<Vec<_>>().join(",")));
    let visibility = filter.visibility.map(Visibility::as_str);
    let now = now_millis();
    macro_rules! bind_filter {
        ($query:expr) => {
            $query
                .bind(filter.viewer.user())
                .bind(filter.viewer.signed_in())
                .bind(filter.viewer.admin())
                .bind(i64::from(filter.membership))
                .bind(parent_filter)
                .bind(parent_id)
                .bind(search.clone())
                .bind(now)
                .bind(skip.clone())
                .bind(visibility)
        };
    }
    let rows = bind_filter!(sqlx::query(concat!(
        group_list!(select_namespace!()),
        " ORDER BY CASE WHEN $12 = 'asc' THEN (CASE $11 WHEN 'path' THEN r.path_lower WHEN 'name' THEN lower(n.name) ELSE NULL END) END ASC, \
                   CASE WHEN $12 = 'desc' THEN (CASE $11 WHEN 'path' THEN r.path_lower WHEN 'name' THEN lower(n.name) ELSE NULL END) END DESC, \
                   CASE WHEN $12 = 'asc' THEN n.id END ASC, CASE WHEN $12 = 'desc' THEN n.id END DESC \
         LIMIT $13 OFFSET $14"
    )))
    .bind(filter.order_by)
    .bind(filter.sort.as_str())
    .bind(page.limit)
    .bind(page.offset)
    .fetch_all(&mut *conn)
    .await?;
    let total = bind_filter!(sqlx::query(group_list!(
        "SELECT COUNT(*) AS n FROM namespaces n JOIN routes r ON r.namespace_id = n.id"
    )))
    .fetch_one(&mut *conn)
    .await?;
    Ok((rows.iter().map(map_namespace).collect::<DbResult<_>>()?, int(&total, "n")?))
}

/// Every group in which `user` holds a role, with the role that applies (the highest,
/// inherited down the tree, shares counted), for the "new project" form.
pub async fn groups_with_access(conn: &mut Conn, user: UserId) -> DbResult<Vec<(NamespaceRow, i64)>> {
    let rows = sqlx::query(concat!(
        "WITH RECURSIVE ",
        reach_ctes!("$1", "$2"),
        "SELECT x.*, lv.level FROM (",
        select_namespace!(),
        ") x JOIN (SELECT id, MAX(level) AS level FROM reach GROUP BY id) lv ON lv.id = x.id ORDER BY x.full_path"
    ))
    .bind(user.0)
    .bind(now_millis())
    .fetch_all(conn)
    .await?;
    rows.iter().map(|row| Ok((map_namespace(row)?, int(row, "level")?))).collect()
}

/// The namespace and every group below it, at any depth.
pub async fn namespace_ids_in_subtree(conn: &mut Conn, root: NamespaceId) -> DbResult<Vec<NamespaceId>> {
    let rows = sqlx::query(
        "WITH RECURSIVE subtree(id) AS ( \
             SELECT CAST($1 AS BIGINT) UNION SELECT n.id FROM namespaces n JOIN subtree s ON n.parent_id = s.id) \
         SELECT id FROM subtree",
    )
    .bind(root.0)
    .fetch_all(conn)
    .await?;
    rows.iter().map(|row| Ok(NamespaceId(int(row, "id")?))).collect()
}

/// Whether `candidate` is `root` or a group below it.
pub async fn namespace_in_subtree(conn: &mut Conn, root: NamespaceId, candidate: NamespaceId) -> DbResult<bool> {
    let row = sqlx::query(
        "WITH RECURSIVE subtree(id) AS ( \
             SELECT CAST($1 AS BIGINT) UNION SELECT n.id FROM namespaces n JOIN subtree s ON n.parent_id = s.id) \
         SELECT COUNT(*) AS n FROM subtree WHERE id = $2",
    )
    .bind(root.0)
    .bind(candidate.0)
    .fetch_one(conn)
    .await?;
    Ok(int(&row, "n")? > 0)
}

/// Moves a namespace under `parent` (`None`: to the top level) with `visibility`; its route and
/// those below it are moved by [`move_routes`].
pub async fn set_namespace_parent(
    conn: &mut Conn,
    id: NamespaceId,
    parent: Option<NamespaceId>,
    visibility: Visibility,
) -> DbResult<()> {
    sqlx::query("UPDATE namespaces SET parent_id = $1, visibility = $2, updated_at = $3 WHERE id = $4")
        .bind(parent.map(|id| id.0))
        .bind(visibility.as_str())
        .bind(now_millis())
        .bind(id.0)
        .execute(conn)
        .await?;
    Ok(())
}

/// Lowers to `most` the visibility of every group below `root` and every project in `root` or
/// below it that is more visible (a group moved under a less visible parent).
pub async fn cap_subtree_visibility(conn: &mut Conn, root: NamespaceId, most: Visibility) -> DbResult<()> {
    let rank = match most {
        Visibility::Private => 0_i64,
        Visibility::Internal => 1,
        Visibility::Public => 2,
    };
    sqlx::query(
        "WITH RECURSIVE subtree(id) AS ( \
             SELECT CAST($1 AS BIGINT) UNION SELECT n.id FROM namespaces n JOIN subtree s ON n.parent_id = s.id) \
         UPDATE namespaces SET visibility = $2 \
         WHERE id IN (SELECT id FROM subtree) AND id <> $1 \
           AND (CASE visibility WHEN 'public' THEN 2 WHEN 'internal' THEN 1 ELSE 0 END) > $3",
    )
    .bind(root.0)
    .bind(most.as_str())
    .bind(rank)
    .execute(&mut *conn)
    .await?;
    sqlx::query(
        "WITH RECURSIVE subtree(id) AS ( \
             SELECT CAST($1 AS BIGINT) UNION SELECT n.id FROM namespaces n JOIN subtree s ON n.parent_id = s.id) \
         UPDATE projects SET visibility = $2 \
         WHERE namespace_id IN (SELECT id FROM subtree) \
           AND (CASE visibility WHEN 'public' THEN 2 WHEN 'internal' THEN 1 ELSE 0 END) > $3",
    )
    .bind(root.0)
    .bind(most.as_str())
    .bind(rank)
    .execute(conn)
    .await?;
    Ok(())
}
