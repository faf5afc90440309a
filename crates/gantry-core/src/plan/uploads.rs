//! Files attached to a project's issues and comments (GitLab's project uploads): kept in the
//! object store, recorded with a random secret, and linked from Markdown as
//! `/uploads/<secret>/<file name>`, which pages lead to the project's `/-/uploads/…`. Whoever
//! may comment on the project's issues uploads (anyone signed in who sees it, as in GitLab);
//! whoever sees its issues reads the files. What a file is, is told by its first bytes (an
//! image), not by its name.

pub use gantry_db::plan::uploads::UploadRow;
use gantry_db::plan::uploads::{self as db, UploadFields};

use super::wiki::{attachment_markdown, attachment_name};
use crate::policy::{ProjectAccess, ProjectAction};
use crate::{CoreError, CoreResult};

/// The largest upload (GitLab's default maximum attachment size is 100 MiB; ten is plenty for
/// screenshots and logs, and bounds what one request can make the server hold).
pub const MAX_UPLOAD_BYTES: usize = 10 << 20;

/// An upload as links name it.
#[derive(Debug, Clone)]
pub struct Upload {
    pub row: UploadRow,
}

impl Upload {
    /// `/uploads/<secret>/<file name>`, relative to the project (GitLab's `url`).
    pub fn url(&self) -> String {
        format!("/uploads/{}/{}", self.row.secret, self.row.filename)
    }

    /// The Markdown that shows it: an image inline, anything else as a link.
    pub fn markdown(&self) -> String {
        attachment_markdown(&self.row.filename, &self.url())
    }
}

fn random_secret() -> CoreResult<String> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).map_err(|error| CoreError::Internal(Box::new(std::io::Error::other(error))))?;
    Ok(hex::encode(bytes))
}

impl super::Plan<'_> {
    /// Stores a file for the project's issues and comments.
    pub async fn upload_file(&self, access: &ProjectAccess, file_name: &str, bytes: &[u8]) -> CoreResult<Upload> {
        access.require(ProjectAction::CreateIssue)?;
        let user = access.actor().require_user()?;
        let filename = attachment_name(file_name)?;
        if bytes.len() > MAX_UPLOAD_BYTES {
            return Err(CoreError::invalid("file", format!("is larger than {} MiB", MAX_UPLOAD_BYTES >> 20)));
        }
        let stored = self.blobs.put_bytes(bytes).await.map_err(|e| CoreError::Internal(Box::new(e)))?;
        let secret = random_secret()?;
        let fields = UploadFields {
            project: access.project().id,
            secret: &secret,
            filename: &filename,
            blob_digest: stored.digest.as_str(),
            size: bytes.len() as i64,
            uploaded_by: Some(user.id),
        };
        let mut conn = self.db.conn().await?;
        db::insert_upload(&mut conn, &fields).await?;
        let row =
            db::find_upload(&mut conn, access.project().id, &secret).await?.ok_or(CoreError::NotFound("upload"))?;
        tracing::info!(project.id = %access.project().id, size = bytes.len(), "file uploaded");
        Ok(Upload { row })
    }

    /// An uploaded file's record and bytes, by its secret and file name.
    pub async fn read_upload(
        &self,
        access: &ProjectAccess,
        secret: &str,
        filename: &str,
    ) -> CoreResult<(UploadRow, Vec<u8>)> {
        access.require(ProjectAction::ReadIssues)?;
        if secret.len() != 32 || !secret.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(CoreError::NotFound("upload"));
        }
        let mut conn = self.db.conn().await?;
        let row = db::find_upload(&mut conn, access.project().id, secret)
            .await?
            .filter(|row| row.filename == filename)
            .ok_or(CoreError::NotFound("upload"))?;
        drop(conn);
        let digest = gantry_blob::Digest::parse(&row.blob_digest).map_err(|e| CoreError::Internal(Box::new(e)))?;
        let bytes = self.blobs.read(&digest).await.map_err(|_| CoreError::NotFound("upload"))?;
        Ok((row, bytes))
    }
}
