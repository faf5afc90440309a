//! The `sessions` table: signed-in browsers. Only the digest of the cookie value is stored.

use gantry_types::UserId;

use super::users::{UserRow, map_user};
use crate::{Conn, DbResult, now_millis};

/// Stores a new session.
pub async fn insert_session(conn: &mut Conn, digest: &str, user: UserId, expires_at: i64) -> DbResult<()> {
    sqlx::query("INSERT INTO sessions (session_digest, user_id, created_at, expires_at) VALUES ($1, $2, $3, $4)")
        .bind(digest)
        .bind(user.0)
        .bind(now_millis())
        .bind(expires_at)
        .execute(conn)
        .await?;
    Ok(())
}

/// The user of an unexpired session.
pub async fn find_session_user(conn: &mut Conn, digest: &str) -> DbResult<Option<UserRow>> {
    sqlx::query(
        "SELECT u.id, u.username, u.email, u.name, u.password_hash, u.is_admin, u.state, u.created_at, u.updated_at, \
         u.avatar_digest, u.avatar_name, u.bot_project_id, u.bot_namespace_id FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.session_digest = $1 AND s.expires_at > $2",
    )
    .bind(digest)
    .bind(now_millis())
    .fetch_optional(conn)
    .await?
    .as_ref()
    .map(map_user)
    .transpose()
}

/// Ends one session (sign out).
pub async fn delete_session(conn: &mut Conn, digest: &str) -> DbResult<()> {
    sqlx::query("DELETE FROM sessions WHERE session_digest = $1").bind(digest).execute(conn).await?;
    Ok(())
}

/// Ends every session of a user but the one with digest `keep` (a password change keeps the
/// browser it was made in signed in).
pub async fn delete_other_user_sessions(conn: &mut Conn, user: UserId, keep: &str) -> DbResult<()> {
    sqlx::query("DELETE FROM sessions WHERE user_id = $1 AND session_digest <> $2")
        .bind(user.0)
        .bind(keep)
        .execute(conn)
        .await?;
    Ok(())
}

/// Ends every session of a user (password reset, blocking, signing out everywhere).
pub async fn delete_user_sessions(conn: &mut Conn, user: UserId) -> DbResult<()> {
    sqlx::query("DELETE FROM sessions WHERE user_id = $1").bind(user.0).execute(conn).await?;
    Ok(())
}
