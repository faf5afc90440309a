//! Gantry's database layer: pool, migrations, queries (see the README below).
#![doc = include_str!("../README.md")]

pub mod activity;
pub mod background;
pub mod ci;
pub mod cluster;
pub mod code;
mod engine;
pub mod internal_ids;
pub mod manage;
mod migrate;
pub mod plan;
mod pool;
mod row;
pub mod search;
pub mod stats;

pub use pool::{Backend, Conn, Db, Tx};
pub use row::{COUNT_LIMIT, Page};

/// A database failure, classified for the callers that handle some kinds on purpose.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    /// A unique constraint refused the write (a duplicate name, path or e-mail).
    #[error("a row with the same unique value exists")]
    Conflict(#[source] sqlx::Error),
    /// Anything else: connection loss, a bug in a query, a full disk.
    #[error("database error: {0}")]
    Other(#[from] sqlx::Error),
    /// A stored value could not be read back (a bug or manual tampering).
    #[error("database holds an invalid value in {column}: {value}")]
    Corrupt { column: &'static str, value: String },
}

impl DbError {
    /// Classifies an sqlx error, turning unique violations into [`DbError::Conflict`].
    pub(crate) fn classify(error: sqlx::Error) -> DbError {
        match error.as_database_error() {
            Some(db) if db.is_unique_violation() => DbError::Conflict(error),
            _ => DbError::Other(error),
        }
    }
}

/// Results of this crate.
pub type DbResult<T> = Result<T, DbError>;

/// Now, as Unix milliseconds in UTC: the only time representation stored.
pub fn now_millis() -> i64 {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    i64::try_from(now.as_millis()).unwrap_or(i64::MAX)
}
