//! The `uploads` table: files attached to a project's issues and comments (GitLab's project
//! uploads), each in the object store by digest and addressed by a random secret with its file
//! name.

use gantry_types::{ProjectId, UserId};
use sqlx::any::AnyRow;

use crate::row::{int, opt_int, text};
use crate::{Conn, DbResult, now_millis};

/// A stored upload.
#[derive(Debug, Clone)]
pub struct UploadRow {
    pub id: i64,
    pub project_id: ProjectId,
    pub secret: String,
    pub filename: String,
    pub blob_digest: String,
    pub size: i64,
    pub uploaded_by: Option<UserId>,
    pub created_at: i64,
}

fn map_upload(row: &AnyRow) -> DbResult<UploadRow> {
    Ok(UploadRow {
        id: int(row, "id")?,
        project_id: ProjectId(int(row, "project_id")?),
        secret: text(row, "secret")?,
        filename: text(row, "filename")?,
        blob_digest: text(row, "blob_digest")?,
        size: int(row, "size")?,
        uploaded_by: opt_int(row, "uploaded_by")?.map(UserId),
        created_at: int(row, "created_at")?,
    })
}

/// What an upload stores.
#[derive(Debug, Clone)]
pub struct UploadFields<'a> {
    pub project: ProjectId,
    pub secret: &'a str,
    pub filename: &'a str,
    pub blob_digest: &'a str,
    pub size: i64,
    pub uploaded_by: Option<UserId>,
}

/// Stores an upload; its id.
pub async fn insert_upload(conn: &mut Conn, fields: &UploadFields<'_>) -> DbResult<i64> {
    let row = sqlx::query(
        "INSERT INTO uploads (project_id, secret, filename, blob_digest, size, uploaded_by, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
    )
    .bind(fields.project.0)
    .bind(fields.secret)
    .bind(fields.filename)
    .bind(fields.blob_digest)
    .bind(fields.size)
    .bind(fields.uploaded_by.map(|u| u.0))
    .bind(now_millis())
    .fetch_one(conn)
    .await?;
    int(&row, "id")
}

/// The project's upload with this secret, if any.
pub async fn find_upload(conn: &mut Conn, project: ProjectId, secret: &str) -> DbResult<Option<UploadRow>> {
    let row = sqlx::query(
        "SELECT id, project_id, secret, filename, blob_digest, size, uploaded_by, created_at \
         FROM uploads WHERE project_id = $1 AND secret = $2",
    )
    .bind(project.0)
    .bind(secret)
    .fetch_optional(conn)
    .await?;
    row.as_ref().map(map_upload).transpose()
}
