//! The `deploy_keys` table (SSH keys that give git access to projects, not to a person), the
//! projects each is enabled on (`deploy_keys_projects`), and `key_fingerprints`, which holds
//! every key the SSH server accepts, users' and deploy keys alike, so that one key is one
//! identity.

use gantry_types::{DeployKeyId, ProjectId, UserId};
use sqlx::any::AnyRow;

use crate::row::{flag, int, opt_int, text};
use crate::{Conn, DbError, DbResult, Page, now_millis};

/// A stored deploy key.
#[derive(Debug, Clone)]
pub struct DeployKeyRow {
    pub id: DeployKeyId,
    pub title: String,
    pub key_type: String,
    pub public_key: String,
    pub fingerprint: String,
    /// An administrator's instance key: any project's Maintainers may enable it.
    pub is_public: bool,
    /// Who added it (gone when that account was deleted).
    pub user_id: Option<UserId>,
    pub created_at: i64,
    pub updated_at: i64,
    pub expires_at: Option<i64>,
    pub last_used_at: Option<i64>,
}

/// A deploy key's place in one project.
#[derive(Debug, Clone)]
pub struct DeployKeyLinkRow {
    pub id: i64,
    pub deploy_key_id: DeployKeyId,
    pub project_id: ProjectId,
    pub can_push: bool,
    pub created_at: i64,
    pub updated_at: i64,
}

/// A project a deploy key is enabled on, with what listings show of the project.
#[derive(Debug, Clone)]
pub struct KeyProjectRow {
    pub link: DeployKeyLinkRow,
    pub name: String,
    pub path: String,
    pub full_path: String,
    pub description: String,
    pub created_at: i64,
}

/// Whose key a fingerprint is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyHolder {
    /// A user's SSH key (`ssh_keys.id`).
    SshKey(i64),
    DeployKey(DeployKeyId),
}

fn map_key(row: &AnyRow) -> DbResult<DeployKeyRow> {
    Ok(DeployKeyRow {
        id: DeployKeyId(int(row, "k_id")?),
        title: text(row, "k_title")?,
        key_type: text(row, "k_key_type")?,
        public_key: text(row, "k_public_key")?,
        fingerprint: text(row, "k_fingerprint")?,
        is_public: flag(row, "k_is_public")?,
        user_id: opt_int(row, "k_user_id")?.map(UserId),
        created_at: int(row, "k_created_at")?,
        updated_at: int(row, "k_updated_at")?,
        expires_at: opt_int(row, "k_expires_at")?,
        last_used_at: opt_int(row, "k_last_used_at")?,
    })
}

fn map_link(row: &AnyRow) -> DbResult<DeployKeyLinkRow> {
    Ok(DeployKeyLinkRow {
        id: int(row, "l_id")?,
        deploy_key_id: DeployKeyId(int(row, "l_deploy_key_id")?),
        project_id: ProjectId(int(row, "l_project_id")?),
        can_push: flag(row, "l_can_push")?,
        created_at: int(row, "l_created_at")?,
        updated_at: int(row, "l_updated_at")?,
    })
}

macro_rules! key_columns {
    () => {
        "k.id AS k_id, k.title AS k_title, k.key_type AS k_key_type, k.public_key AS k_public_key, \
         k.fingerprint AS k_fingerprint, k.is_public AS k_is_public, k.user_id AS k_user_id, \
         k.created_at AS k_created_at, k.updated_at AS k_updated_at, k.expires_at AS k_expires_at, \
         k.last_used_at AS k_last_used_at"
    };
}

macro_rules! link_columns {
    () => {
        "l.id AS l_id, l.deploy_key_id AS l_deploy_key_id, l.project_id AS l_project_id, l.can_push AS l_can_push, \
         l.created_at AS l_created_at, l.updated_at AS l_updated_at"
    };
}

/// A deploy key to store.
#[derive(Debug, Clone)]
pub struct NewDeployKey<'a> {
    pub title: &'a str,
    pub key_type: &'a str,
    pub public_key: &'a str,
    pub fingerprint: &'a str,
    pub is_public: bool,
    pub user: Option<UserId>,
    pub expires_at: Option<i64>,
}

/// Records that `fingerprint` belongs to `holder`; a key some user or deploy key holds already
/// is a [`DbError::Conflict`]. Run in the transaction that stores the key.
pub async fn claim_fingerprint(conn: &mut Conn, fingerprint: &str, holder: KeyHolder) -> DbResult<()> {
    let (ssh_key, deploy_key) = match holder {
        KeyHolder::SshKey(id) => (Some(id), None),
        KeyHolder::DeployKey(id) => (None, Some(id.0)),
    };
    sqlx::query("INSERT INTO key_fingerprints (fingerprint, ssh_key_id, deploy_key_id) VALUES ($1, $2, $3)")
        .bind(fingerprint)
        .bind(ssh_key)
        .bind(deploy_key)
        .execute(conn)
        .await
        .map_err(DbError::classify)?;
    Ok(())
}

/// Whose key `fingerprint` is, if anyone's.
pub async fn find_key_holder(conn: &mut Conn, fingerprint: &str) -> DbResult<Option<KeyHolder>> {
    let row = sqlx::query("SELECT ssh_key_id, deploy_key_id FROM key_fingerprints WHERE fingerprint = $1")
        .bind(fingerprint)
        .fetch_optional(conn)
        .await?;
    let Some(row) = row else { return Ok(None) };
    Ok(match (opt_int(&row, "ssh_key_id")?, opt_int(&row, "deploy_key_id")?) {
        (Some(id), _) => Some(KeyHolder::SshKey(id)),
        (None, Some(id)) => Some(KeyHolder::DeployKey(DeployKeyId(id))),
        (None, None) => None,
    })
}

/// Stores a deploy key (its fingerprint is claimed separately, in the same transaction).
pub async fn insert_deploy_key(conn: &mut Conn, key: &NewDeployKey<'_>) -> DbResult<DeployKeyId> {
    let now = now_millis();
    let row = sqlx::query(
        "INSERT INTO deploy_keys (title, key_type, public_key, fingerprint, is_public, user_id, created_at, updated_at, expires_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $7, $8) RETURNING id",
    )
    .bind(key.title)
    .bind(key.key_type)
    .bind(key.public_key)
    .bind(key.fingerprint)
    .bind(i64::from(key.is_public))
    .bind(key.user.map(|id| id.0))
    .bind(now)
    .bind(key.expires_at)
    .fetch_one(conn)
    .await
    .map_err(DbError::classify)?;
    Ok(DeployKeyId(int(&row, "id")?))
}

/// One deploy key by id.
pub async fn find_deploy_key(conn: &mut Conn, id: DeployKeyId) -> DbResult<Option<DeployKeyRow>> {
    let row = sqlx::query(concat!("SELECT ", key_columns!(), " FROM deploy_keys k WHERE k.id = $1"))
        .bind(id.0)
        .fetch_optional(conn)
        .await?;
    row.as_ref().map(map_key).transpose()
}

/// The deploy key with this fingerprint.
pub async fn find_deploy_key_by_fingerprint(conn: &mut Conn, fingerprint: &str) -> DbResult<Option<DeployKeyRow>> {
    let row = sqlx::query(concat!("SELECT ", key_columns!(), " FROM deploy_keys k WHERE k.fingerprint = $1"))
        .bind(fingerprint)
        .fetch_optional(conn)
        .await?;
    row.as_ref().map(map_key).transpose()
}

/// One page of every deploy key (only the instance's public ones with `public_only`), oldest
/// first, and the total count.
pub async fn list_deploy_keys(conn: &mut Conn, public_only: bool, page: Page) -> DbResult<(Vec<DeployKeyRow>, i64)> {
    let rows = sqlx::query(concat!(
        "SELECT ",
        key_columns!(),
        " FROM deploy_keys k WHERE (CAST($1 AS BIGINT) = 0 OR k.is_public = 1) ORDER BY k.id LIMIT $2 OFFSET $3"
    ))
    .bind(i64::from(public_only))
    .bind(page.limit)
    .bind(page.offset)
    .fetch_all(&mut *conn)
    .await?;
    let total = sqlx::query("SELECT COUNT(*) AS n FROM deploy_keys WHERE (CAST($1 AS BIGINT) = 0 OR is_public = 1)")
        .bind(i64::from(public_only))
        .fetch_one(&mut *conn)
        .await?;
    Ok((rows.iter().map(map_key).collect::<DbResult<_>>()?, int(&total, "n")?))
}

/// The deploy keys enabled on a project, in the order they were enabled.
pub async fn list_project_deploy_keys(
    conn: &mut Conn,
    project: ProjectId,
) -> DbResult<Vec<(DeployKeyRow, DeployKeyLinkRow)>> {
    let rows = sqlx::query(concat!(
        "SELECT ",
        key_columns!(),
        ", ",
        link_columns!(),
        " FROM deploy_keys_projects l JOIN deploy_keys k ON k.id = l.deploy_key_id WHERE l.project_id = $1 ORDER BY l.id"
    ))
    .bind(project.0)
    .fetch_all(conn)
    .await?;
    rows.iter().map(|row| Ok((map_key(row)?, map_link(row)?))).collect()
}

/// A deploy key as enabled on a project; `None` when it is not.
pub async fn find_project_deploy_key(
    conn: &mut Conn,
    project: ProjectId,
    key: DeployKeyId,
) -> DbResult<Option<(DeployKeyRow, DeployKeyLinkRow)>> {
    let row = sqlx::query(concat!(
        "SELECT ",
        key_columns!(),
        ", ",
        link_columns!(),
        " FROM deploy_keys_projects l JOIN deploy_keys k ON k.id = l.deploy_key_id \
         WHERE l.project_id = $1 AND l.deploy_key_id = $2"
    ))
    .bind(project.0)
    .bind(key.0)
    .fetch_optional(conn)
    .await?;
    row.as_ref().map(|row| Ok((map_key(row)?, map_link(row)?))).transpose()
}

/// The projects a deploy key is enabled on, in the order it was enabled.
pub async fn list_deploy_key_projects(conn: &mut Conn, key: DeployKeyId) -> DbResult<Vec<KeyProjectRow>> {
    let rows = sqlx::query(concat!(
        "SELECT ",
        link_columns!(),
        ", p.name, p.path, r.path AS full_path, p.description, p.created_at \
         FROM deploy_keys_projects l JOIN projects p ON p.id = l.project_id JOIN routes r ON r.project_id = p.id \
         WHERE l.deploy_key_id = $1 ORDER BY l.id"
    ))
    .bind(key.0)
    .fetch_all(conn)
    .await?;
    rows.iter()
        .map(|row| {
            Ok(KeyProjectRow {
                link: map_link(row)?,
                name: text(row, "name")?,
                path: text(row, "path")?,
                full_path: text(row, "full_path")?,
                description: text(row, "description")?,
                created_at: int(row, "created_at")?,
            })
        })
        .collect()
}

/// The deploy keys `user` may enable on projects they hold `min_level` on: the instance's
/// public keys and those enabled on a project where they hold that role (directly, through a
/// group above it, or as the owner of its personal namespace). With `only`, that key or none.
pub async fn list_usable_deploy_keys(
    conn: &mut Conn,
    user: UserId,
    min_level: i64,
    only: Option<DeployKeyId>,
) -> DbResult<Vec<DeployKeyRow>> {
    let rows = sqlx::query(concat!(
        "WITH RECURSIVE held(id) AS ( \
             SELECT namespace_id FROM members WHERE user_id = $1 AND namespace_id IS NOT NULL \
                 AND access_level >= $2 AND (expires_at IS NULL OR expires_at > $3) \
             UNION SELECT n.id FROM namespaces n JOIN held h ON n.parent_id = h.id) \
         SELECT ",
        key_columns!(),
        " FROM deploy_keys k \
         WHERE (CAST($4 AS BIGINT) IS NULL OR k.id = $4) \
           AND (k.is_public = 1 OR k.id IN ( \
               SELECT l.deploy_key_id FROM deploy_keys_projects l JOIN projects p ON p.id = l.project_id \
               WHERE p.namespace_id IN (SELECT id FROM held) \
                  OR p.namespace_id IN (SELECT id FROM namespaces WHERE owner_id = $1) \
                  OR p.id IN (SELECT project_id FROM members WHERE user_id = $1 AND project_id IS NOT NULL \
                              AND access_level >= $2 AND (expires_at IS NULL OR expires_at > $3)))) \
         ORDER BY k.id"
    ))
    .bind(user.0)
    .bind(min_level)
    .bind(now_millis())
    .bind(only.map(|id| id.0))
    .fetch_all(conn)
    .await?;
    rows.iter().map(map_key).collect()
}

/// Enables a deploy key on a project (nothing changes when it is already).
pub async fn enable_deploy_key(conn: &mut Conn, key: DeployKeyId, project: ProjectId, can_push: bool) -> DbResult<()> {
    let now = now_millis();
    sqlx::query(
        "INSERT INTO deploy_keys_projects (deploy_key_id, project_id, can_push, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $4) ON CONFLICT (deploy_key_id, project_id) DO NOTHING",
    )
    .bind(key.0)
    .bind(project.0)
    .bind(i64::from(can_push))
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}

/// Sets whether a deploy key may push to a project.
pub async fn update_deploy_key_access(
    conn: &mut Conn,
    key: DeployKeyId,
    project: ProjectId,
    can_push: bool,
) -> DbResult<()> {
    sqlx::query(
        "UPDATE deploy_keys_projects SET can_push = $1, updated_at = $2 WHERE deploy_key_id = $3 AND project_id = $4",
    )
    .bind(i64::from(can_push))
    .bind(now_millis())
    .bind(key.0)
    .bind(project.0)
    .execute(conn)
    .await?;
    Ok(())
}

/// Renames a deploy key.
pub async fn update_deploy_key_title(conn: &mut Conn, key: DeployKeyId, title: &str) -> DbResult<()> {
    sqlx::query("UPDATE deploy_keys SET title = $1, updated_at = $2 WHERE id = $3")
        .bind(title)
        .bind(now_millis())
        .bind(key.0)
        .execute(conn)
        .await?;
    Ok(())
}

/// Disables a deploy key on a project; whether it was enabled there.
pub async fn disable_deploy_key(conn: &mut Conn, key: DeployKeyId, project: ProjectId) -> DbResult<bool> {
    let done = sqlx::query("DELETE FROM deploy_keys_projects WHERE deploy_key_id = $1 AND project_id = $2")
        .bind(key.0)
        .bind(project.0)
        .execute(conn)
        .await?;
    Ok(done.rows_affected() > 0)
}

/// How many projects a deploy key is enabled on.
pub async fn count_deploy_key_projects(conn: &mut Conn, key: DeployKeyId) -> DbResult<i64> {
    let row = sqlx::query("SELECT COUNT(*) AS n FROM deploy_keys_projects WHERE deploy_key_id = $1")
        .bind(key.0)
        .fetch_one(conn)
        .await?;
    int(&row, "n")
}

/// Deletes a deploy key (its fingerprint and project links go with it).
pub async fn delete_deploy_key(conn: &mut Conn, key: DeployKeyId) -> DbResult<()> {
    sqlx::query("DELETE FROM deploy_keys WHERE id = $1").bind(key.0).execute(conn).await?;
    Ok(())
}

/// Notes that a deploy key was used (at most once a minute, like tokens).
pub async fn touch_deploy_key(conn: &mut Conn, key: DeployKeyId) -> DbResult<()> {
    sqlx::query("UPDATE deploy_keys SET last_used_at = $1 WHERE id = $2")
        .bind(now_millis())
        .bind(key.0)
        .execute(conn)
        .await?;
    Ok(())
}
