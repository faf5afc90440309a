//! The `gpg_keys` table: users' OpenPGP public keys, as they were given, with the primary
//! key's fingerprint (unique: a key belongs to one account) and key id.

use gantry_types::{GpgKeyId, UserId};
use sqlx::any::AnyRow;

use crate::row::{int, text};
use crate::{Conn, DbError, DbResult, now_millis};

/// A stored GPG key.
#[derive(Debug, Clone)]
pub struct GpgKeyRow {
    pub id: GpgKeyId,
    pub user_id: UserId,
    /// The ASCII-armored key as it was given (trimmed).
    pub public_key: String,
    /// 40 hex digits, upper case.
    pub fingerprint: String,
    /// The fingerprint's last 16 hex digits.
    pub primary_keyid: String,
    pub created_at: i64,
}

fn map_gpg_key(row: &AnyRow) -> DbResult<GpgKeyRow> {
    Ok(GpgKeyRow {
        id: GpgKeyId(int(row, "id")?),
        user_id: UserId(int(row, "user_id")?),
        public_key: text(row, "public_key")?,
        fingerprint: text(row, "fingerprint")?,
        primary_keyid: text(row, "primary_keyid")?,
        created_at: int(row, "created_at")?,
    })
}

macro_rules! select_gpg_key {
    () => {
        "SELECT id, user_id, public_key, fingerprint, primary_keyid, created_at FROM gpg_keys"
    };
}

/// A key to store.
#[derive(Debug, Clone)]
pub struct NewGpgKey<'a> {
    pub public_key: &'a str,
    pub fingerprint: &'a str,
    pub primary_keyid: &'a str,
}

/// Stores a key; one already stored (by anyone) is [`DbError::Conflict`].
pub async fn insert_gpg_key(conn: &mut Conn, user: UserId, key: &NewGpgKey<'_>) -> DbResult<GpgKeyId> {
    let row = sqlx::query(
        "INSERT INTO gpg_keys (user_id, public_key, fingerprint, primary_keyid, created_at) \
         VALUES ($1, $2, $3, $4, $5) RETURNING id",
    )
    .bind(user.0)
    .bind(key.public_key)
    .bind(key.fingerprint)
    .bind(key.primary_keyid)
    .bind(now_millis())
    .fetch_one(conn)
    .await
    .map_err(DbError::classify)?;
    Ok(GpgKeyId(int(&row, "id")?))
}

/// A user's keys, oldest first.
pub async fn list_gpg_keys(conn: &mut Conn, user: UserId) -> DbResult<Vec<GpgKeyRow>> {
    let rows =
        sqlx::query(concat!(select_gpg_key!(), " WHERE user_id = $1 ORDER BY id")).bind(user.0).fetch_all(conn).await?;
    rows.iter().map(map_gpg_key).collect()
}

/// One key by id.
pub async fn find_gpg_key(conn: &mut Conn, id: GpgKeyId) -> DbResult<Option<GpgKeyRow>> {
    sqlx::query(concat!(select_gpg_key!(), " WHERE id = $1"))
        .bind(id.0)
        .fetch_optional(conn)
        .await?
        .as_ref()
        .map(map_gpg_key)
        .transpose()
}

/// Removes a key; false when it was not there.
pub async fn delete_gpg_key(conn: &mut Conn, id: GpgKeyId) -> DbResult<bool> {
    let done = sqlx::query("DELETE FROM gpg_keys WHERE id = $1").bind(id.0).execute(conn).await?;
    Ok(done.rows_affected() == 1)
}
