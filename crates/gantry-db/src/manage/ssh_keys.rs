//! The `ssh_keys` table: users' public keys for git over SSH, found by fingerprint when a
//! client authenticates. A key's fingerprint is also claimed in `key_fingerprints`
//! (`deploy_keys::claim_fingerprint`), which deploy keys share.

use gantry_types::UserId;
use sqlx::any::AnyRow;

use crate::row::{int, opt_int, text};
use crate::{Conn, DbError, DbResult, now_millis};

/// A stored public key.
#[derive(Debug, Clone)]
pub struct SshKeyRow {
    pub id: i64,
    pub user_id: UserId,
    pub title: String,
    pub key_type: String,
    pub public_key: String,
    pub fingerprint: String,
    pub created_at: i64,
    pub expires_at: Option<i64>,
    pub last_used_at: Option<i64>,
}

fn map_key(row: &AnyRow) -> DbResult<SshKeyRow> {
    Ok(SshKeyRow {
        id: int(row, "k_id")?,
        user_id: UserId(int(row, "k_user_id")?),
        title: text(row, "title")?,
        key_type: text(row, "key_type")?,
        public_key: text(row, "public_key")?,
        fingerprint: text(row, "fingerprint")?,
        created_at: int(row, "k_created_at")?,
        expires_at: opt_int(row, "k_expires_at")?,
        last_used_at: opt_int(row, "last_used_at")?,
    })
}

macro_rules! key_columns {
    () => {
        "k.id AS k_id, k.user_id AS k_user_id, k.title, k.key_type, k.public_key, k.fingerprint, \
         k.created_at AS k_created_at, k.expires_at AS k_expires_at, k.last_used_at"
    };
}

/// A key to store.
#[derive(Debug, Clone)]
pub struct NewSshKey<'a> {
    pub title: &'a str,
    pub key_type: &'a str,
    pub public_key: &'a str,
    pub fingerprint: &'a str,
    pub expires_at: Option<i64>,
}

/// Stores a key; a key already stored (by anyone) is a conflict.
pub async fn insert_ssh_key(conn: &mut Conn, user: UserId, key: &NewSshKey<'_>) -> DbResult<i64> {
    let row = sqlx::query(
        "INSERT INTO ssh_keys (user_id, title, key_type, public_key, fingerprint, created_at, expires_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
    )
    .bind(user.0)
    .bind(key.title)
    .bind(key.key_type)
    .bind(key.public_key)
    .bind(key.fingerprint)
    .bind(now_millis())
    .bind(key.expires_at)
    .fetch_one(conn)
    .await
    .map_err(DbError::classify)?;
    int(&row, "id")
}

/// A user's keys, oldest first.
pub async fn list_ssh_keys(conn: &mut Conn, user: UserId) -> DbResult<Vec<SshKeyRow>> {
    let rows = sqlx::query(concat!("SELECT ", key_columns!(), " FROM ssh_keys k WHERE k.user_id = $1 ORDER BY k.id"))
        .bind(user.0)
        .fetch_all(conn)
        .await?;
    rows.iter().map(map_key).collect()
}

/// One key by id.
pub async fn find_ssh_key(conn: &mut Conn, id: i64) -> DbResult<Option<SshKeyRow>> {
    let row = sqlx::query(concat!("SELECT ", key_columns!(), " FROM ssh_keys k WHERE k.id = $1"))
        .bind(id)
        .fetch_optional(conn)
        .await?;
    row.as_ref().map(map_key).transpose()
}

/// The key with this fingerprint (SSH authentication, the keys API).
pub async fn find_ssh_key_by_fingerprint(conn: &mut Conn, fingerprint: &str) -> DbResult<Option<SshKeyRow>> {
    let row = sqlx::query(concat!("SELECT ", key_columns!(), " FROM ssh_keys k WHERE k.fingerprint = $1"))
        .bind(fingerprint)
        .fetch_optional(conn)
        .await?;
    row.as_ref().map(map_key).transpose()
}

/// Notes that a key was used (at most once a minute, like tokens).
pub async fn touch_ssh_key(conn: &mut Conn, id: i64) -> DbResult<()> {
    sqlx::query("UPDATE ssh_keys SET last_used_at = $1 WHERE id = $2")
        .bind(now_millis())
        .bind(id)
        .execute(conn)
        .await?;
    Ok(())
}

/// Deletes a key.
pub async fn delete_ssh_key(conn: &mut Conn, id: i64) -> DbResult<()> {
    sqlx::query("DELETE FROM ssh_keys WHERE id = $1").bind(id).execute(conn).await?;
    Ok(())
}
