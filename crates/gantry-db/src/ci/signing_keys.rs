//! The instance's keys for CI jobs' ID tokens (`ci_signing_keys`): one row per generation, the
//! newest signing, all published. The private key arrives sealed by core and is stored as is.

use crate::row::{int, text};
use crate::{Conn, DbResult, now_millis};

/// How many keys the key set publishes at most (newest first): rotation keeps a few.
const PUBLISHED_KEYS: i64 = 16;

/// A stored signing key.
#[derive(Debug, Clone)]
pub struct SigningKeyRow {
    pub generation: i64,
    /// Its RFC 7638 thumbprint.
    pub kid: String,
    /// The public modulus, big-endian, as hex.
    pub modulus: String,
    /// The public exponent, big-endian, as hex.
    pub exponent: String,
    /// The private key as core sealed it.
    pub sealed_private_key: String,
    pub created_at: i64,
}

/// A key to store.
#[derive(Debug, Clone, Copy)]
pub struct NewSigningKey<'a> {
    pub generation: i64,
    pub kid: &'a str,
    pub modulus: &'a str,
    pub exponent: &'a str,
    pub sealed_private_key: &'a str,
}

fn map_key(row: &sqlx::any::AnyRow) -> DbResult<SigningKeyRow> {
    Ok(SigningKeyRow {
        generation: int(row, "generation")?,
        kid: text(row, "kid")?,
        modulus: text(row, "modulus")?,
        exponent: text(row, "exponent")?,
        sealed_private_key: text(row, "private_key")?,
        created_at: int(row, "created_at")?,
    })
}

/// The key that signs: the newest generation's; None before the first is made.
pub async fn newest_signing_key(conn: &mut Conn) -> DbResult<Option<SigningKeyRow>> {
    let row = sqlx::query(
        "SELECT generation, kid, modulus, exponent, private_key, created_at FROM ci_signing_keys \
         ORDER BY generation DESC LIMIT 1",
    )
    .fetch_optional(conn)
    .await?;
    row.as_ref().map(map_key).transpose()
}

/// The keys the key set publishes, newest first.
pub async fn published_signing_keys(conn: &mut Conn) -> DbResult<Vec<SigningKeyRow>> {
    let rows = sqlx::query(
        "SELECT generation, kid, modulus, exponent, private_key, created_at FROM ci_signing_keys \
         ORDER BY generation DESC LIMIT $1",
    )
    .bind(PUBLISHED_KEYS)
    .fetch_all(conn)
    .await?;
    rows.iter().map(map_key).collect()
}

/// Stores a key as its generation; false when that generation exists already (another server
/// made it first: read that one instead).
pub async fn insert_signing_key(conn: &mut Conn, key: &NewSigningKey<'_>) -> DbResult<bool> {
    let done = sqlx::query(
        "INSERT INTO ci_signing_keys (generation, kid, modulus, exponent, private_key, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (generation) DO NOTHING",
    )
    .bind(key.generation)
    .bind(key.kid)
    .bind(key.modulus)
    .bind(key.exponent)
    .bind(key.sealed_private_key)
    .bind(now_millis())
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}
