//! The `settings` table: instance-wide key/value settings chosen by administrators. A key that
//! is absent holds its default, which only the code reading it knows.

use std::collections::HashMap;

use crate::row::text;
use crate::{Conn, DbResult};

/// Reads a setting.
pub async fn get_setting(conn: &mut Conn, key: &str) -> DbResult<Option<String>> {
    let row = sqlx::query("SELECT value FROM settings WHERE key = $1").bind(key).fetch_optional(conn).await?;
    row.as_ref().map(|row| text(row, "value")).transpose()
}

/// Reads every setting that has been set, by key.
pub async fn all_settings(conn: &mut Conn) -> DbResult<HashMap<String, String>> {
    let rows = sqlx::query("SELECT key, value FROM settings").fetch_all(conn).await?;
    rows.iter().map(|row| Ok((text(row, "key")?, text(row, "value")?))).collect()
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

/// Forgets a setting: it holds its default again.
pub async fn delete_setting(conn: &mut Conn, key: &str) -> DbResult<()> {
    sqlx::query("DELETE FROM settings WHERE key = $1").bind(key).execute(conn).await?;
    Ok(())
}
