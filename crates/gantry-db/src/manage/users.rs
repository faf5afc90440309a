//! The `users` table, and which account holds an e-mail address (as its primary address or as
//! one of its secondary ones in `user_emails`).

use gantry_types::{NamespaceId, ProjectId, UserId};
use sqlx::any::AnyRow;

use crate::manage::avatars::{Avatar, map_avatar};
use crate::row::{flag, int, opt_int, parsed, text};
use crate::{Conn, DbError, DbResult, Page, now_millis};

/// A stored user account.
#[derive(Debug, Clone)]
pub struct UserRow {
    pub id: UserId,
    pub username: String,
    pub email: String,
    pub name: String,
    pub password_hash: String,
    pub is_admin: bool,
    /// GitLab's state of the account.
    pub state: UserState,
    /// Not active (read from `state`): blocked, banned or deactivated by an administrator, or
    /// still waiting for their approval. Such an account signs in to nothing, and its tokens,
    /// keys and sessions open nothing.
    pub blocked: bool,
    /// Signed up and waiting for an administrator's approval (read from `state`; also
    /// `blocked`).
    pub pending_approval: bool,
    pub created_at: i64,
    pub updated_at: i64,
    pub avatar: Option<Avatar>,
    /// A bot made for a project or group access token (GitLab's `project_bot`), a member of
    /// that project or group only.
    pub bot_of: Option<BotOf>,
}

/// What a bot user was made for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BotOf {
    Project(ProjectId),
    Group(NamespaceId),
}

macro_rules! select_user {
    () => {
        "SELECT id, username, email, name, password_hash, is_admin, state, created_at, updated_at, avatar_digest, avatar_name, \
         bot_project_id, bot_namespace_id FROM users"
    };
}

/// The state of an account, stored and sent under GitLab's names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UserState {
    Active,
    /// Blocked by an administrator.
    Blocked,
    /// Signed up and waiting for an administrator's approval.
    BlockedPendingApproval,
    /// Banned by an administrator (GitLab also hides what a banned user made).
    Banned,
    /// Deactivated by an administrator; signing in on the web makes the account active again.
    Deactivated,
}

impl UserState {
    /// The stored and wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            UserState::Active => "active",
            UserState::Blocked => "blocked",
            UserState::BlockedPendingApproval => "blocked_pending_approval",
            UserState::Banned => "banned",
            UserState::Deactivated => "deactivated",
        }
    }

    /// The state of a stored name.
    pub fn parse(text: &str) -> Option<UserState> {
        [
            UserState::Active,
            UserState::Blocked,
            UserState::BlockedPendingApproval,
            UserState::Banned,
            UserState::Deactivated,
        ]
        .into_iter()
        .find(|state| state.as_str() == text)
    }
}

pub(crate) fn map_user(row: &AnyRow) -> DbResult<UserRow> {
    let state = parsed(row, "state", UserState::parse)?;
    Ok(UserRow {
        id: UserId(int(row, "id")?),
        username: text(row, "username")?,
        email: text(row, "email")?,
        name: text(row, "name")?,
        password_hash: text(row, "password_hash")?,
        is_admin: flag(row, "is_admin")?,
        state,
        blocked: state != UserState::Active,
        pending_approval: state == UserState::BlockedPendingApproval,
        created_at: int(row, "created_at")?,
        updated_at: int(row, "updated_at")?,
        avatar: map_avatar(row, "avatar_digest", "avatar_name")?,
        bot_of: match (opt_int(row, "bot_project_id")?, opt_int(row, "bot_namespace_id")?) {
            (Some(project), _) => Some(BotOf::Project(ProjectId(project))),
            (None, Some(group)) => Some(BotOf::Group(NamespaceId(group))),
            (None, None) => None,
        },
    })
}

/// What a new account is made of (already validated by core).
#[derive(Debug, Clone)]
pub struct NewUser<'a> {
    pub username: &'a str,
    pub email: &'a str,
    pub name: &'a str,
    pub password_hash: &'a str,
    pub is_admin: bool,
    /// Held for an administrator's approval (a sign-up) rather than active.
    pub pending_approval: bool,
    /// A bot for a project or group access token.
    pub bot_of: Option<BotOf>,
}

impl<'a> NewUser<'a> {
    /// The bot of a project or group access token: active, no password (it signs in to
    /// nothing but with its token), never an administrator.
    pub fn bot(username: &'a str, email: &'a str, name: &'a str, of: BotOf) -> NewUser<'a> {
        NewUser { username, email, name, password_hash: "", is_admin: false, pending_approval: false, bot_of: Some(of) }
    }
}

/// Inserts a user; a taken username or e-mail is [`DbError::Conflict`].
pub async fn insert_user(conn: &mut Conn, user: &NewUser<'_>) -> DbResult<UserId> {
    let now = now_millis();
    let row = sqlx::query(
        "INSERT INTO users (username, username_lower, email, email_lower, name, password_hash, is_admin, state, created_at, updated_at, \
             bot_project_id, bot_namespace_id) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9, $10, $11) RETURNING id",
    )
    .bind(user.username)
    .bind(user.username.to_ascii_lowercase())
    .bind(user.email)
    .bind(user.email.to_lowercase())
    .bind(user.name)
    .bind(user.password_hash)
    .bind(i64::from(user.is_admin))
    .bind(if user.pending_approval { UserState::BlockedPendingApproval } else { UserState::Active }.as_str())
    .bind(now)
    .bind(match user.bot_of {
        Some(BotOf::Project(project)) => Some(project.0),
        _ => None,
    })
    .bind(match user.bot_of {
        Some(BotOf::Group(group)) => Some(group.0),
        _ => None,
    })
    .fetch_one(conn)
    .await
    .map_err(DbError::classify)?;
    Ok(UserId(int(&row, "id")?))
}

/// Finds a user by id.
pub async fn find_user_by_id(conn: &mut Conn, id: UserId) -> DbResult<Option<UserRow>> {
    sqlx::query(concat!(select_user!(), " WHERE id = $1"))
        .bind(id.0)
        .fetch_optional(conn)
        .await?
        .as_ref()
        .map(map_user)
        .transpose()
}

/// Finds a user by username, ignoring case.
pub async fn find_user_by_username(conn: &mut Conn, username: &str) -> DbResult<Option<UserRow>> {
    sqlx::query(concat!(select_user!(), " WHERE username_lower = $1"))
        .bind(username.to_ascii_lowercase())
        .fetch_optional(conn)
        .await?
        .as_ref()
        .map(map_user)
        .transpose()
}

/// Finds a user by username or e-mail (what a person types on the sign-in form).
pub async fn find_user_by_login(conn: &mut Conn, login: &str) -> DbResult<Option<UserRow>> {
    sqlx::query(concat!(select_user!(), " WHERE username_lower = $1 OR email_lower = $2"))
        .bind(login.to_ascii_lowercase())
        .bind(login.to_lowercase())
        .fetch_optional(conn)
        .await?
        .as_ref()
        .map(map_user)
        .transpose()
}

/// Filters of the user list; `search` matches username, name or e-mail.
#[derive(Debug, Clone, Default)]
pub struct UserFilter {
    pub username: Option<String>,
    pub search: Option<String>,
    pub blocked: Option<bool>,
}

/// One page of users, ordered by id, and the total count.
pub async fn list_users(conn: &mut Conn, filter: &UserFilter, page: Page) -> DbResult<(Vec<UserRow>, i64)> {
    let username = filter.username.as_ref().map(|u| u.to_ascii_lowercase());
    let search = filter.search.as_ref().map(|s| crate::manage::like_pattern(s));
    let state = filter.blocked.map(|b| if b { "blocked" } else { "active" });
    let rows = sqlx::query(
        "SELECT id, username, email, name, password_hash, is_admin, state, created_at, updated_at, avatar_digest, avatar_name, \
         bot_project_id, bot_namespace_id FROM users \
         WHERE (CAST($1 AS TEXT) IS NULL OR username_lower = $1) \
           AND (CAST($2 AS TEXT) IS NULL OR username_lower LIKE $2 ESCAPE '\\' OR lower(name) LIKE $2 ESCAPE '\\' OR email_lower LIKE $2 ESCAPE '\\') \
           AND (CAST($3 AS TEXT) IS NULL OR state = $3) \
         ORDER BY id LIMIT $4 OFFSET $5",
    )
    .bind(username.clone())
    .bind(search.clone())
    .bind(state)
    .bind(page.limit)
    .bind(page.offset)
    .fetch_all(&mut *conn)
    .await?;
    let total = sqlx::query(
        "SELECT COUNT(*) AS n FROM users \
         WHERE (CAST($1 AS TEXT) IS NULL OR username_lower = $1) \
           AND (CAST($2 AS TEXT) IS NULL OR username_lower LIKE $2 ESCAPE '\\' OR lower(name) LIKE $2 ESCAPE '\\' OR email_lower LIKE $2 ESCAPE '\\') \
           AND (CAST($3 AS TEXT) IS NULL OR state = $3)",
    )
    .bind(username)
    .bind(search)
    .bind(state)
    .fetch_one(&mut *conn)
    .await?;
    Ok((rows.iter().map(map_user).collect::<DbResult<_>>()?, int(&total, "n")?))
}

/// How many accounts exist (the first one becomes the admin).
pub async fn count_users(conn: &mut Conn) -> DbResult<i64> {
    let row = sqlx::query("SELECT COUNT(*) AS n FROM users").fetch_one(conn).await?;
    int(&row, "n")
}

/// Replaces the password hash.
pub async fn update_password(conn: &mut Conn, id: UserId, password_hash: &str) -> DbResult<()> {
    sqlx::query("UPDATE users SET password_hash = $1, updated_at = $2 WHERE id = $3")
        .bind(password_hash)
        .bind(now_millis())
        .bind(id.0)
        .execute(conn)
        .await?;
    Ok(())
}

/// Updates name and e-mail; a taken e-mail is [`DbError::Conflict`].
pub async fn update_profile(conn: &mut Conn, id: UserId, name: &str, email: &str) -> DbResult<()> {
    sqlx::query("UPDATE users SET name = $1, email = $2, email_lower = $3, updated_at = $4 WHERE id = $5")
        .bind(name)
        .bind(email)
        .bind(email.to_lowercase())
        .bind(now_millis())
        .bind(id.0)
        .execute(conn)
        .await
        .map_err(DbError::classify)?;
    Ok(())
}

/// Moves a user from state `from` to `to`; false when the user was not in `from` (someone
/// else changed it first).
pub async fn change_state(conn: &mut Conn, id: UserId, from: UserState, to: UserState) -> DbResult<bool> {
    let done = sqlx::query("UPDATE users SET state = $1, updated_at = $2 WHERE id = $3 AND state = $4")
        .bind(to.as_str())
        .bind(now_millis())
        .bind(id.0)
        .bind(from.as_str())
        .execute(conn)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// The account whose primary or secondary address `email` is (any case), if any.
pub async fn find_email_holder(conn: &mut Conn, email: &str) -> DbResult<Option<UserId>> {
    let row = sqlx::query(
        "SELECT id FROM users WHERE email_lower = $1 \
         UNION SELECT user_id AS id FROM user_emails WHERE email_lower = $1",
    )
    .bind(email.to_lowercase())
    .fetch_optional(conn)
    .await?;
    row.map(|row| int(&row, "id").map(UserId)).transpose()
}

/// Grants or takes away instance administration.
pub async fn set_admin(conn: &mut Conn, id: UserId, is_admin: bool) -> DbResult<()> {
    sqlx::query("UPDATE users SET is_admin = $1, updated_at = $2 WHERE id = $3")
        .bind(i64::from(is_admin))
        .bind(now_millis())
        .bind(id.0)
        .execute(conn)
        .await?;
    Ok(())
}

/// Makes an account waiting for approval active; false when it was not waiting.
pub async fn approve_user(conn: &mut Conn, id: UserId) -> DbResult<bool> {
    change_state(conn, id, UserState::BlockedPendingApproval, UserState::Active).await
}

/// Deletes an account; its personal namespace and projects, memberships, tokens, keys and
/// sessions go with it, and what it did elsewhere (pipelines, pushes) loses its author.
pub async fn delete_user(conn: &mut Conn, id: UserId) -> DbResult<bool> {
    let done = sqlx::query("DELETE FROM users WHERE id = $1").bind(id.0).execute(conn).await?;
    Ok(done.rows_affected() == 1)
}

/// The groups (their names, at most ten) whose only Owner is `user`: deleting the user would
/// leave them without one.
pub async fn groups_solely_owned_by(conn: &mut Conn, user: UserId) -> DbResult<Vec<String>> {
    let rows = sqlx::query(
        "SELECT n.name FROM namespaces n JOIN members m ON m.namespace_id = n.id \
         WHERE m.user_id = $1 AND m.access_level >= 50 AND NOT EXISTS ( \
             SELECT 1 FROM members o WHERE o.namespace_id = n.id AND o.access_level >= 50 AND o.user_id <> $1) \
         ORDER BY n.name LIMIT 10",
    )
    .bind(user.0)
    .fetch_all(conn)
    .await?;
    rows.iter().map(|row| text(row, "name")).collect()
}

/// Deletes an account waiting for approval (its personal namespace goes with it); false when
/// it was not waiting.
pub async fn delete_pending_user(conn: &mut Conn, id: UserId) -> DbResult<bool> {
    let done = sqlx::query("DELETE FROM users WHERE id = $1 AND state = $2")
        .bind(id.0)
        .bind(UserState::BlockedPendingApproval.as_str())
        .execute(conn)
        .await?;
    Ok(done.rows_affected() == 1)
}
