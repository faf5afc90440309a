//! The error every core operation returns.

use gantry_db::DbError;

/// Why an operation did not happen. Each kind maps to one HTTP status at the web edge; the
/// messages are meant for the person who asked (lowercase, no trailing period).
#[derive(Debug, thiserror::Error)]
pub enum CoreError {
    /// The resource does not exist, or the actor may not know it exists.
    #[error("{0} not found")]
    NotFound(&'static str),
    /// The operation needs a signed-in user.
    #[error("you must sign in first")]
    Unauthorized,
    /// The actor can see the resource but may not do this to it.
    #[error("{0}")]
    Forbidden(String),
    /// A value was refused; `field` names the input.
    #[error("{field} {message}")]
    Invalid { field: &'static str, message: String },
    /// The request was refused for a reason GitLab words as a whole sentence (a stale
    /// `last_commit_id`, a file that already exists): a 400 with the message as it is.
    #[error("{0}")]
    Refused(String),
    /// The change conflicts with existing data (a taken name, the last owner).
    #[error("{0}")]
    Conflict(String),
    /// Too many failed attempts; try again later.
    #[error("too many attempts, try again in a few minutes")]
    RateLimited,
    /// The server is doing as much of this as it allows at once; try again shortly.
    #[error("{0}")]
    Busy(&'static str),
    /// A failure of the platform (database, repository storage), not of the request.
    #[error(transparent)]
    Internal(Box<dyn std::error::Error + Send + Sync>),
}

impl From<DbError> for CoreError {
    fn from(error: DbError) -> CoreError {
        CoreError::Internal(Box::new(error))
    }
}

impl From<gantry_git::GitError> for CoreError {
    fn from(error: gantry_git::GitError) -> CoreError {
        CoreError::Internal(Box::new(error))
    }
}

impl CoreError {
    /// A refused input value.
    pub fn invalid_input(field: &'static str, message: impl Into<String>) -> CoreError {
        CoreError::Invalid { field, message: message.into() }
    }

    pub(crate) fn invalid(field: &'static str, message: impl Into<String>) -> CoreError {
        CoreError::Invalid { field, message: message.into() }
    }
}

/// Results of core operations.
pub type CoreResult<T> = Result<T, CoreError>;
