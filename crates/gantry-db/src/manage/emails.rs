//! The `user_emails` table: users' secondary e-mail addresses. An address belongs to one
//! account, as its primary address (`users.email`) or as a secondary one here; the unique
//! `email_lower` keeps two secondary ones apart, core checks the primary ones.

use gantry_types::{EmailId, UserId};
use sqlx::any::AnyRow;

use crate::row::{int, opt_int, text};
use crate::{Conn, DbError, DbResult, now_millis};

/// A stored secondary address.
#[derive(Debug, Clone)]
pub struct EmailRow {
    pub id: EmailId,
    pub user_id: UserId,
    pub email: String,
    /// When the address was confirmed (administrators may add confirmed ones); `None` until
    /// then.
    pub confirmed_at: Option<i64>,
    pub created_at: i64,
}

fn map_email(row: &AnyRow) -> DbResult<EmailRow> {
    Ok(EmailRow {
        id: EmailId(int(row, "id")?),
        user_id: UserId(int(row, "user_id")?),
        email: text(row, "email")?,
        confirmed_at: opt_int(row, "confirmed_at")?,
        created_at: int(row, "created_at")?,
    })
}

macro_rules! select_email {
    () => {
        "SELECT id, user_id, email, confirmed_at, created_at FROM user_emails"
    };
}

/// Stores a secondary address; one already stored (any case) is [`DbError::Conflict`].
pub async fn insert_email(conn: &mut Conn, user: UserId, email: &str, confirmed_at: Option<i64>) -> DbResult<EmailId> {
    let row = sqlx::query(
        "INSERT INTO user_emails (user_id, email, email_lower, confirmed_at, created_at) \
         VALUES ($1, $2, $3, $4, $5) RETURNING id",
    )
    .bind(user.0)
    .bind(email)
    .bind(email.to_lowercase())
    .bind(confirmed_at)
    .bind(now_millis())
    .fetch_one(conn)
    .await
    .map_err(DbError::classify)?;
    Ok(EmailId(int(&row, "id")?))
}

/// A user's secondary addresses, oldest first.
pub async fn list_emails(conn: &mut Conn, user: UserId) -> DbResult<Vec<EmailRow>> {
    let rows =
        sqlx::query(concat!(select_email!(), " WHERE user_id = $1 ORDER BY id")).bind(user.0).fetch_all(conn).await?;
    rows.iter().map(map_email).collect()
}

/// One secondary address by id.
pub async fn find_email(conn: &mut Conn, id: EmailId) -> DbResult<Option<EmailRow>> {
    sqlx::query(concat!(select_email!(), " WHERE id = $1"))
        .bind(id.0)
        .fetch_optional(conn)
        .await?
        .as_ref()
        .map(map_email)
        .transpose()
}

/// Removes a secondary address; false when it was not there.
pub async fn delete_email(conn: &mut Conn, id: EmailId) -> DbResult<bool> {
    let done = sqlx::query("DELETE FROM user_emails WHERE id = $1").bind(id.0).execute(conn).await?;
    Ok(done.rows_affected() == 1)
}

/// Removes `user`'s secondary address `email` (any case), if they have it: it is becoming
/// their primary one.
pub async fn delete_user_email_address(conn: &mut Conn, user: UserId, email: &str) -> DbResult<()> {
    sqlx::query("DELETE FROM user_emails WHERE user_id = $1 AND email_lower = $2")
        .bind(user.0)
        .bind(email.to_lowercase())
        .execute(conn)
        .await?;
    Ok(())
}
