//! The `deploy_tokens` table: a project's or a group's tokens for git over HTTP (and, later,
//! the registries). Only the SHA-256 digest of a token is stored.

use gantry_types::{DeployTokenId, NamespaceId, ProjectId, UserId};
use sqlx::any::AnyRow;

use crate::row::{flag, int, opt_int, opt_text, text};
use crate::{Conn, DbError, DbResult, now_millis};

/// What a deploy token belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeployTokenHolder {
    Project(ProjectId),
    /// A group: the token is valid for every project below it.
    Group(NamespaceId),
}

/// A stored deploy token (never the token itself).
#[derive(Debug, Clone)]
pub struct DeployTokenRow {
    pub id: DeployTokenId,
    pub holder: DeployTokenHolder,
    pub name: String,
    /// The user name given at creation; `None` for the default one.
    pub username: Option<String>,
    /// Comma-separated scopes.
    pub scopes: String,
    pub expires_at: Option<i64>,
    pub revoked: bool,
    pub creator_id: Option<UserId>,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
}

fn map_token(row: &AnyRow) -> DbResult<DeployTokenRow> {
    let holder = match (opt_int(row, "project_id")?, opt_int(row, "group_id")?) {
        (Some(project), _) => DeployTokenHolder::Project(ProjectId(project)),
        (None, Some(group)) => DeployTokenHolder::Group(NamespaceId(group)),
        (None, None) => return Err(DbError::Corrupt { column: "deploy_tokens.project_id", value: "NULL".into() }),
    };
    Ok(DeployTokenRow {
        id: DeployTokenId(int(row, "id")?),
        holder,
        name: text(row, "name")?,
        username: opt_text(row, "username")?,
        scopes: text(row, "scopes")?,
        expires_at: opt_int(row, "expires_at")?,
        revoked: flag(row, "revoked")?,
        creator_id: opt_int(row, "creator_id")?.map(UserId),
        created_at: int(row, "created_at")?,
        last_used_at: opt_int(row, "last_used_at")?,
    })
}

macro_rules! select_token {
    () => {
        "SELECT id, project_id, group_id, name, username, scopes, expires_at, revoked, creator_id, created_at, \
         last_used_at FROM deploy_tokens"
    };
}

/// A deploy token to store.
#[derive(Debug, Clone)]
pub struct NewDeployToken<'a> {
    pub holder: DeployTokenHolder,
    pub name: &'a str,
    pub username: Option<&'a str>,
    pub digest: &'a str,
    pub scopes: &'a str,
    pub expires_at: Option<i64>,
    pub creator: Option<UserId>,
}

/// Stores a new token's digest.
pub async fn insert_deploy_token(conn: &mut Conn, token: &NewDeployToken<'_>) -> DbResult<DeployTokenId> {
    let (project, group) = match token.holder {
        DeployTokenHolder::Project(id) => (Some(id.0), None),
        DeployTokenHolder::Group(id) => (None, Some(id.0)),
    };
    let row = sqlx::query(
        "INSERT INTO deploy_tokens (project_id, group_id, name, username, token_digest, scopes, expires_at, revoked, \
         creator_id, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, 0, $8, $9) RETURNING id",
    )
    .bind(project)
    .bind(group)
    .bind(token.name)
    .bind(token.username)
    .bind(token.digest)
    .bind(token.scopes)
    .bind(token.expires_at)
    .bind(token.creator.map(|id| id.0))
    .bind(now_millis())
    .fetch_one(conn)
    .await
    .map_err(DbError::classify)?;
    Ok(DeployTokenId(int(&row, "id")?))
}

/// The tokens of a project or a group (`None`: every token of the instance), oldest first.
pub async fn list_deploy_tokens(conn: &mut Conn, holder: Option<DeployTokenHolder>) -> DbResult<Vec<DeployTokenRow>> {
    let (all, project, group) = match holder {
        None => (1, None, None),
        Some(DeployTokenHolder::Project(id)) => (0, Some(id.0), None),
        Some(DeployTokenHolder::Group(id)) => (0, None, Some(id.0)),
    };
    let rows = sqlx::query(concat!(
        select_token!(),
        " WHERE CAST($1 AS BIGINT) = 1 OR project_id = $2 OR group_id = $3 ORDER BY id"
    ))
    .bind(all)
    .bind(project)
    .bind(group)
    .fetch_all(conn)
    .await?;
    rows.iter().map(map_token).collect()
}

/// One token by id.
pub async fn find_deploy_token(conn: &mut Conn, id: DeployTokenId) -> DbResult<Option<DeployTokenRow>> {
    let row = sqlx::query(concat!(select_token!(), " WHERE id = $1")).bind(id.0).fetch_optional(conn).await?;
    row.as_ref().map(map_token).transpose()
}

/// The token with this digest (git's authentication lookup).
pub async fn find_deploy_token_by_digest(conn: &mut Conn, digest: &str) -> DbResult<Option<DeployTokenRow>> {
    let row =
        sqlx::query(concat!(select_token!(), " WHERE token_digest = $1")).bind(digest).fetch_optional(conn).await?;
    row.as_ref().map(map_token).transpose()
}

/// Revokes a token: it stays listed, and stops working.
pub async fn revoke_deploy_token(conn: &mut Conn, id: DeployTokenId) -> DbResult<()> {
    sqlx::query("UPDATE deploy_tokens SET revoked = 1 WHERE id = $1").bind(id.0).execute(conn).await?;
    Ok(())
}

/// Deletes a token.
pub async fn delete_deploy_token(conn: &mut Conn, id: DeployTokenId) -> DbResult<()> {
    sqlx::query("DELETE FROM deploy_tokens WHERE id = $1").bind(id.0).execute(conn).await?;
    Ok(())
}

/// Notes that a token was used (at most once a minute, like personal access tokens).
pub async fn touch_deploy_token(conn: &mut Conn, id: DeployTokenId) -> DbResult<()> {
    sqlx::query("UPDATE deploy_tokens SET last_used_at = $1 WHERE id = $2")
        .bind(now_millis())
        .bind(id.0)
        .execute(conn)
        .await?;
    Ok(())
}
