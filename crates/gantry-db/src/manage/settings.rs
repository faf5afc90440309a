//! The `settings` table: instance-wide key/value settings chosen by administrators.

use crate::row::text;
use crate::{Conn, DbResult};

/// Reads a setting.
pub async fn get_setting(conn: &mut Conn, key: &str) -> DbResult<Option<String>> {
    let row = sqlx::query("SELECT value FROM settings WHERE key = $1").bind(key).fetch_optional(conn).await?;
    row.as_ref().map(|row| text(row, "value")).transpose()
}

/// Writes a setting.
pub async fn set_setting(conn: &mut Conn, key: &str, value: &str) -> DbResult<()> {
    sqlx::query(
        "INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
    )
    .bind(key)
    .bind(value)
    .execute(conn)
    .await?;
    Ok(())
}
