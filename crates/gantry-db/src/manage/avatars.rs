//! Avatars: which blob in the object store is the image of a user, a namespace (a group's or a
//! user's), a project or a topic, and the file name its URL ends in. The image itself lives in
//! the blob store; these columns are the records that keep it from garbage collection.

use gantry_types::{NamespaceId, ProjectId, TopicId, UserId};
use sqlx::any::AnyRow;

use crate::row::opt_text;
use crate::{Conn, DbResult, now_millis};

/// An uploaded avatar image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Avatar {
    /// The image's SHA-256 in the blob store.
    pub digest: String,
    /// The uploaded file's name (a safe one: core checks it).
    pub filename: String,
}

/// Whose avatar.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AvatarOwner {
    User(UserId),
    Namespace(NamespaceId),
    Project(ProjectId),
    Topic(TopicId),
}

/// Reads the avatar columns named `digest` and `name` of a row.
pub(crate) fn map_avatar(row: &AnyRow, digest: &'static str, name: &'static str) -> DbResult<Option<Avatar>> {
    Ok(match (opt_text(row, digest)?, opt_text(row, name)?) {
        (Some(digest), Some(filename)) => Some(Avatar { digest, filename }),
        _ => None,
    })
}

/// Sets (or with `None` removes) an avatar; false when the owner does not exist.
pub async fn set_avatar(conn: &mut Conn, owner: AvatarOwner, avatar: Option<&Avatar>) -> DbResult<bool> {
    let (sql, id) = match owner {
        AvatarOwner::User(id) => {
            ("UPDATE users SET avatar_digest = $1, avatar_name = $2, updated_at = $3 WHERE id = $4", id.0)
        }
        AvatarOwner::Namespace(id) => {
            ("UPDATE namespaces SET avatar_digest = $1, avatar_name = $2, updated_at = $3 WHERE id = $4", id.0)
        }
        AvatarOwner::Project(id) => {
            ("UPDATE projects SET avatar_digest = $1, avatar_name = $2, updated_at = $3 WHERE id = $4", id.0)
        }
        AvatarOwner::Topic(id) => {
            ("UPDATE topics SET avatar_digest = $1, avatar_name = $2, updated_at = $3 WHERE id = $4", id.0)
        }
    };
    let result = sqlx::query(sql)
        .bind(avatar.map(|a| a.digest.clone()))
        .bind(avatar.map(|a| a.filename.clone()))
        .bind(now_millis())
        .bind(id)
        .execute(conn)
        .await?;
    Ok(result.rows_affected() > 0)
}
