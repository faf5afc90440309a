//! The `personal_access_tokens` table: users' own tokens, the impersonation tokens
//! administrators make for them, and the tokens of the bot users behind project and group
//! access tokens. Only the SHA-256 digest of a token is stored.

use gantry_types::{TokenId, UserId};
use sqlx::any::AnyRow;

use super::users::{BotOf, UserRow, map_user};
use crate::row::{flag, int, opt_int, text};
use crate::{Conn, DbResult, now_millis};

/// A stored token (never the token itself).
#[derive(Debug, Clone)]
pub struct TokenRow {
    pub id: TokenId,
    pub user_id: UserId,
    pub name: String,
    pub scopes: String,
    pub expires_at: Option<i64>,
    pub revoked: bool,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
    /// Made by an administrator to act as the user (GitLab's impersonation token); the user
    /// neither sees nor revokes it.
    pub impersonation: bool,
}

fn map_token(row: &AnyRow) -> DbResult<TokenRow> {
    Ok(TokenRow {
        id: TokenId(int(row, "t_id")?),
        user_id: UserId(int(row, "t_user_id")?),
        name: text(row, "t_name")?,
        scopes: text(row, "scopes")?,
        expires_at: opt_int(row, "expires_at")?,
        revoked: flag(row, "revoked")?,
        created_at: int(row, "t_created_at")?,
        last_used_at: opt_int(row, "last_used_at")?,
        impersonation: flag(row, "impersonation")?,
    })
}

macro_rules! token_columns {
    () => {
        "t.id AS t_id, t.user_id AS t_user_id, t.name AS t_name, t.scopes, t.expires_at, t.revoked, \
         t.created_at AS t_created_at, t.last_used_at, t.impersonation"
    };
}

/// A token to store (its digest, never the secret).
#[derive(Debug, Clone)]
pub struct NewToken<'a> {
    pub user: UserId,
    pub name: &'a str,
    pub digest: &'a str,
    pub scopes: &'a str,
    pub expires_at: Option<i64>,
    pub impersonation: bool,
}

/// Stores a new token's digest.
pub async fn insert_token(conn: &mut Conn, token: &NewToken<'_>) -> DbResult<TokenId> {
    let row = sqlx::query(
        "INSERT INTO personal_access_tokens \
             (user_id, name, token_digest, scopes, expires_at, revoked, created_at, impersonation) \
         VALUES ($1, $2, $3, $4, $5, 0, $6, $7) RETURNING id",
    )
    .bind(token.user.0)
    .bind(token.name)
    .bind(token.digest)
    .bind(token.scopes)
    .bind(token.expires_at)
    .bind(now_millis())
    .bind(i64::from(token.impersonation))
    .fetch_one(conn)
    .await?;
    Ok(TokenId(int(&row, "id")?))
}

/// Finds a token by digest together with its owner (the API's authentication lookup).
pub async fn find_token_by_digest(conn: &mut Conn, digest: &str) -> DbResult<Option<(TokenRow, UserRow)>> {
    let row = sqlx::query(concat!(
        "SELECT ",
        token_columns!(),
        ", u.id, u.username, u.email, u.name, u.password_hash, u.is_admin, u.state, u.created_at, u.updated_at, \
         u.avatar_digest, u.avatar_name, u.bot_project_id, u.bot_namespace_id FROM personal_access_tokens t JOIN users u ON u.id = t.user_id WHERE t.token_digest = $1"
    ))
    .bind(digest)
    .fetch_optional(conn)
    .await?;
    row.as_ref().map(|row| Ok((map_token(row)?, map_user(row)?))).transpose()
}

/// A user's own tokens (`impersonation` false) or the impersonation tokens made for them
/// (true), newest first.
pub async fn list_tokens(conn: &mut Conn, user: UserId, impersonation: bool) -> DbResult<Vec<TokenRow>> {
    let rows = sqlx::query(concat!(
        "SELECT ",
        token_columns!(),
        " FROM personal_access_tokens t WHERE t.user_id = $1 AND t.impersonation = $2 ORDER BY t.id DESC"
    ))
    .bind(user.0)
    .bind(i64::from(impersonation))
    .fetch_all(conn)
    .await?;
    rows.iter().map(map_token).collect()
}

/// Every token, newest first (for administrators).
pub async fn list_all_tokens(conn: &mut Conn) -> DbResult<Vec<TokenRow>> {
    let rows = sqlx::query(concat!("SELECT ", token_columns!(), " FROM personal_access_tokens t ORDER BY t.id DESC"))
        .fetch_all(conn)
        .await?;
    rows.iter().map(map_token).collect()
}

/// Finds one token by id.
pub async fn find_token(conn: &mut Conn, id: TokenId) -> DbResult<Option<TokenRow>> {
    sqlx::query(concat!("SELECT ", token_columns!(), " FROM personal_access_tokens t WHERE t.id = $1"))
        .bind(id.0)
        .fetch_optional(conn)
        .await?
        .as_ref()
        .map(map_token)
        .transpose()
}

/// Marks a token revoked.
pub async fn revoke_token(conn: &mut Conn, id: TokenId) -> DbResult<()> {
    sqlx::query("UPDATE personal_access_tokens SET revoked = 1 WHERE id = $1").bind(id.0).execute(conn).await?;
    Ok(())
}

/// Marks a token revoked unless it already is; whether this call revoked it.
pub async fn revoke_active_token(conn: &mut Conn, id: TokenId) -> DbResult<bool> {
    let done = sqlx::query("UPDATE personal_access_tokens SET revoked = 1 WHERE id = $1 AND revoked = 0")
        .bind(id.0)
        .execute(conn)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// Records when a token was last used (at most once a minute per token, to spare writes).
pub async fn touch_token(conn: &mut Conn, id: TokenId) -> DbResult<()> {
    let now = now_millis();
    sqlx::query(
        "UPDATE personal_access_tokens SET last_used_at = $1 WHERE id = $2 AND (last_used_at IS NULL OR last_used_at < $3)",
    )
    .bind(now)
    .bind(id.0)
    .bind(now - 60_000)
    .execute(conn)
    .await?;
    Ok(())
}

/// A project or group access token: the token of a bot user made for it, and the bot's role
/// there (none once its membership is gone).
#[derive(Debug, Clone)]
pub struct ResourceTokenRow {
    pub token: TokenRow,
    pub access_level: Option<i64>,
}

fn bot_ids(of: BotOf) -> (Option<i64>, Option<i64>) {
    match of {
        BotOf::Project(project) => (Some(project.0), None),
        BotOf::Group(group) => (None, Some(group.0)),
    }
}

macro_rules! select_resource_token {
    () => {
        concat!(
            "SELECT ",
            token_columns!(),
            ", m.access_level FROM personal_access_tokens t JOIN users u ON u.id = t.user_id \
             LEFT JOIN members m ON m.user_id = u.id \
                 AND (m.project_id = u.bot_project_id OR m.namespace_id = u.bot_namespace_id) \
             WHERE (u.bot_project_id = $1 OR u.bot_namespace_id = $2)"
        )
    };
}

fn map_resource_token(row: &AnyRow) -> DbResult<ResourceTokenRow> {
    Ok(ResourceTokenRow { token: map_token(row)?, access_level: opt_int(row, "access_level")? })
}

/// The access tokens of a project or group (its bots' tokens), newest first.
pub async fn list_resource_tokens(conn: &mut Conn, of: BotOf) -> DbResult<Vec<ResourceTokenRow>> {
    let (project, group) = bot_ids(of);
    let rows = sqlx::query(concat!(select_resource_token!(), " ORDER BY t.id DESC"))
        .bind(project)
        .bind(group)
        .fetch_all(conn)
        .await?;
    rows.iter().map(map_resource_token).collect()
}

/// One access token of a project or group.
pub async fn find_resource_token(conn: &mut Conn, of: BotOf, id: TokenId) -> DbResult<Option<ResourceTokenRow>> {
    let (project, group) = bot_ids(of);
    sqlx::query(concat!(select_resource_token!(), " AND t.id = $3"))
        .bind(project)
        .bind(group)
        .bind(id.0)
        .fetch_optional(conn)
        .await?
        .as_ref()
        .map(map_resource_token)
        .transpose()
}
