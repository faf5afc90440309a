//! The CI/CD Catalog: which projects are catalog resources (`ci_catalog_resources`, one row a
//! project), and the page of them a viewer may see, found by name.

use gantry_types::{ProjectId, Visibility};

use crate::manage::Viewer;
use crate::manage::like_pattern;
use crate::manage::members::reach_ctes;
use crate::row::{int, parsed, text};
use crate::{Conn, DbResult, Page, now_millis};

/// A catalog resource as the catalog lists it: its project's name, path and description.
#[derive(Debug, Clone)]
pub struct CatalogResourceRow {
    pub project_id: ProjectId,
    pub full_path: String,
    pub name: String,
    pub description: String,
    pub visibility: Visibility,
    /// When the project was marked (Unix milliseconds).
    pub created_at: i64,
}

/// Whether the project is a catalog resource.
pub async fn is_catalog_resource(conn: &mut Conn, project: ProjectId) -> DbResult<bool> {
    let row = sqlx::query("SELECT COUNT(*) AS n FROM ci_catalog_resources WHERE project_id = $1")
        .bind(project.0)
        .fetch_one(conn)
        .await?;
    Ok(int(&row, "n")? > 0)
}

/// Marks the project as a catalog resource, or removes the mark; either is a no-op when the
/// project already is as asked.
pub async fn set_catalog_resource(conn: &mut Conn, project: ProjectId, resource: bool) -> DbResult<()> {
    if resource {
        sqlx::query(
            "INSERT INTO ci_catalog_resources (project_id, created_at) VALUES ($1, $2) \
             ON CONFLICT (project_id) DO NOTHING",
        )
        .bind(project.0)
        .bind(now_millis())
        .execute(conn)
        .await?;
    } else {
        sqlx::query("DELETE FROM ci_catalog_resources WHERE project_id = $1").bind(project.0).execute(conn).await?;
    }
    Ok(())
}

// The catalog resources viewer `$1` (signed in: `$2`, an administrator: `$3`) may see at
// moment `$4`, whose name or path holds `$5` (a `LIKE` pattern) when it is given: public
// projects, internal ones for signed-in viewers, and those the viewer holds a role in (directly,
// through a group, a share, or their own namespace), as the project list decides.
macro_rules! catalog_list {
    ($select:literal) => {
        concat!(
            "WITH RECURSIVE ",
            reach_ctes!("$1", "$4"),
            " ",
            $select,
            " FROM ci_catalog_resources c JOIN projects p ON p.id = c.project_id \
             JOIN routes r ON r.project_id = p.id \
             WHERE (CAST($3 AS BIGINT) = 1 OR p.visibility = 'public' \
                    OR (p.visibility = 'internal' AND CAST($2 AS BIGINT) = 1) \
                    OR p.namespace_id IN (SELECT id FROM reach) \
                    OR p.id IN (SELECT project_id FROM members WHERE user_id = $1 AND project_id IS NOT NULL \
                        AND (expires_at IS NULL OR expires_at > $4)) \
                    OR p.id IN (SELECT id FROM shared_projects) \
                    OR p.namespace_id IN (SELECT id FROM namespaces WHERE owner_id = $1)) \
               AND (CAST($5 AS TEXT) IS NULL OR lower(p.name) LIKE $5 ESCAPE '\\' OR r.path_lower LIKE $5 ESCAPE '\\')"
        )
    };
}

/// One page of the catalog resources `viewer` may see, by name, with how many there are;
/// `search` (when given) is matched anywhere in the name or path, ignoring case.
pub async fn list_catalog_resources(
    conn: &mut Conn,
    viewer: &Viewer,
    search: Option<&str>,
    page: Page,
) -> DbResult<(Vec<CatalogResourceRow>, i64)> {
    let pattern = search.map(like_pattern);
    let now = now_millis();
    let rows = sqlx::query(concat!(
        catalog_list!("SELECT p.id, r.path AS full_path, p.name, p.description, p.visibility, c.created_at"),
        " ORDER BY lower(p.name), r.path_lower LIMIT $6 OFFSET $7"
    ))
    .bind(viewer.user())
    .bind(viewer.signed_in())
    .bind(viewer.admin())
    .bind(now)
    .bind(pattern.clone())
    .bind(page.limit)
    .bind(page.offset)
    .fetch_all(&mut *conn)
    .await?;
    let total = sqlx::query(catalog_list!("SELECT COUNT(*) AS n"))
        .bind(viewer.user())
        .bind(viewer.signed_in())
        .bind(viewer.admin())
        .bind(now)
        .bind(pattern)
        .fetch_one(&mut *conn)
        .await?;
    let resources = rows
        .iter()
        .map(|row| {
            Ok(CatalogResourceRow {
                project_id: ProjectId(int(row, "id")?),
                full_path: text(row, "full_path")?,
                name: text(row, "name")?,
                description: text(row, "description")?,
                visibility: parsed(row, "visibility", Visibility::parse)?,
                created_at: int(row, "created_at")?,
            })
        })
        .collect::<DbResult<_>>()?;
    Ok((resources, int(&total, "n")?))
}
