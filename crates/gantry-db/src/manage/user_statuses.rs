//! The `user_statuses` table: what a user tells others about themselves (an emoji, a short
//! message, whether they are busy), optionally until a moment when it clears itself.

use gantry_types::UserId;
use sqlx::any::AnyRow;

use crate::row::{int, opt_int, parsed, text};
use crate::{Conn, DbResult};

/// Whether a user says they are busy (GitLab's `availability`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Availability {
    NotSet,
    Busy,
}

impl Availability {
    /// The stored and wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Availability::NotSet => "not_set",
            Availability::Busy => "busy",
        }
    }

    /// The availability of a stored or wire name.
    pub fn parse(text: &str) -> Option<Availability> {
        [Availability::NotSet, Availability::Busy].into_iter().find(|a| a.as_str() == text)
    }
}

/// A user's status.
#[derive(Debug, Clone)]
pub struct UserStatusRow {
    pub user_id: UserId,
    /// An emoji's name (`thumbsup`), without colons.
    pub emoji: String,
    pub message: String,
    pub availability: Availability,
    /// When the status clears itself, if it does.
    pub clear_at: Option<i64>,
}

fn map_status(row: &AnyRow) -> DbResult<UserStatusRow> {
    Ok(UserStatusRow {
        user_id: UserId(int(row, "user_id")?),
        emoji: text(row, "emoji")?,
        message: text(row, "message")?,
        availability: parsed(row, "availability", Availability::parse)?,
        clear_at: opt_int(row, "clear_at")?,
    })
}

/// A user's status, unless they have none or it cleared itself before `now`.
pub async fn find_status(conn: &mut Conn, user: UserId, now: i64) -> DbResult<Option<UserStatusRow>> {
    sqlx::query(
        "SELECT user_id, emoji, message, availability, clear_at FROM user_statuses \
         WHERE user_id = $1 AND (clear_at IS NULL OR clear_at > $2)",
    )
    .bind(user.0)
    .bind(now)
    .fetch_optional(conn)
    .await?
    .as_ref()
    .map(map_status)
    .transpose()
}

/// Sets a user's status, replacing the one they had.
pub async fn set_status(conn: &mut Conn, status: &UserStatusRow) -> DbResult<()> {
    sqlx::query(
        "INSERT INTO user_statuses (user_id, emoji, message, availability, clear_at) VALUES ($1, $2, $3, $4, $5) \
         ON CONFLICT (user_id) DO UPDATE SET emoji = excluded.emoji, message = excluded.message, \
         availability = excluded.availability, clear_at = excluded.clear_at",
    )
    .bind(status.user_id.0)
    .bind(status.emoji.as_str())
    .bind(status.message.as_str())
    .bind(status.availability.as_str())
    .bind(status.clear_at)
    .execute(conn)
    .await?;
    Ok(())
}

/// Clears a user's status.
pub async fn delete_status(conn: &mut Conn, user: UserId) -> DbResult<()> {
    sqlx::query("DELETE FROM user_statuses WHERE user_id = $1").bind(user.0).execute(conn).await?;
    Ok(())
}
