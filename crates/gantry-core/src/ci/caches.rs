//! Caches: zip archives a job saves under a key and later jobs of the project restore, kept in
//! the object store and shared by every runner and executor. Keys are resolved here, when a job
//! is handed out: `key:files` becomes a digest of those files at the commit, and every key gets
//! the project's cache index and a `protected`/`non_protected` suffix, so jobs of unprotected
//! branches can neither read nor poison the caches of protected ones.

use gantry_blob::{Digest, StoredBlob};
use gantry_ci::keywords::{CacheKey, When};
use gantry_ci::protocol::CacheSpec;
use gantry_db::Conn;
use gantry_db::ci::{artifacts, pipelines};
use gantry_types::JobId;
use gantry_types::ProjectId;
use sha2::Digest as _;

use super::JobRow;
use crate::policy::{ProjectAccess, ProjectAction, authorize_project};
use crate::{Actor, CoreError, CoreResult, ProjectRow};

pub use gantry_db::ci::artifacts::CacheRow;

/// The longest cache key.
const MAX_KEY: usize = 250;

/// The suffix every key of a job gets.
fn key_suffix(index: i64, protected: bool) -> String {
    let protection = if protected { "protected" } else { "non_protected" };
    if index > 0 { format!("-{index}-{protection}") } else { format!("-{protection}") }
}

/// A key as written in the CI file, made safe: no `/`, not `.` or `..`, not empty.
fn clean_key(key: &str) -> String {
    let key: String =
        key.trim().chars().map(|c| if c == '/' || c == '\\' || c.is_control() { '-' } else { c }).collect();
    match key.as_str() {
        "" | "." | ".." => "default".to_owned(),
        _ => key.chars().take(MAX_KEY - 40).collect(),
    }
}

/// A cache's key before the job's suffix; `files_digest` is [`files_digest`] of its
/// `key:files` at the commit.
pub fn cache_key(key: &CacheKey, files_digest: Option<String>) -> String {
    match key {
        CacheKey::Text(key) => clean_key(key),
        CacheKey::Files { prefix, .. } => match (prefix, files_digest) {
            (Some(prefix), Some(digest)) => format!("{}-{digest}", clean_key(prefix)),
            (None, Some(digest)) => digest,
            (Some(prefix), None) => format!("{}-default", clean_key(prefix)),
            (None, None) => "default".to_owned(),
        },
    }
}

/// A digest naming files by their paths and git blob ids, so it changes exactly when one of
/// them does; `None` when none of them exists.
pub fn files_digest<'a>(blobs: impl IntoIterator<Item = (&'a str, String)>) -> Option<String> {
    let mut hasher = sha2::Sha256::new();
    let mut found = false;
    for (file, blob_id) in blobs {
        hasher.update(format!("{file}\0{blob_id}\n"));
        found = true;
    }
    found.then(|| hex::encode(hasher.finalize())[..40].to_owned())
}

/// What the runner gets of `cache`, its key resolved to `key` and every key given `suffix`.
pub fn cache_spec(cache: &gantry_ci::keywords::Cache, key: &str, suffix: &str) -> CacheSpec {
    let when = match cache.when {
        When::OnFailure => "on_failure",
        When::Always => "always",
        _ => "on_success",
    };
    CacheSpec {
        key: format!("{key}{suffix}"),
        paths: cache.paths.clone(),
        untracked: cache.untracked,
        policy: cache.policy.clone(),
        when: when.to_owned(),
        fallback_keys: cache.fallback_keys.iter().map(|key| format!("{}{suffix}", clean_key(key))).collect(),
    }
}

impl super::Ci<'_> {
    /// The caches of a job's payload, their keys resolved.
    pub(crate) async fn cache_specs(
        &self,
        conn: &mut Conn,
        job: &JobRow,
        sha: &str,
        protected: bool,
        caches: &[gantry_ci::keywords::Cache],
    ) -> CoreResult<Vec<CacheSpec>> {
        if caches.is_empty() {
            return Ok(Vec::new());
        }
        let suffix = key_suffix(artifacts::cache_index(conn, job.project_id).await?, protected);
        let mut specs = Vec::new();
        for cache in caches {
            let digest = match &cache.key {
                CacheKey::Text(_) => None,
                CacheKey::Files { files, .. } => self.key_files_digest(job.project_id, sha, files).await?,
            };
            specs.push(cache_spec(cache, &cache_key(&cache.key, digest), &suffix));
        }
        Ok(specs)
    }

    /// [`files_digest`] of `files` at commit `sha` of the project's repository.
    async fn key_files_digest(&self, project: ProjectId, sha: &str, files: &[String]) -> CoreResult<Option<String>> {
        let (repos, sha, files) = (self.repos.clone(), sha.to_owned(), files.to_vec());
        tokio::task::spawn_blocking(move || {
            let reader = repos.reader(project)?;
            let mut blobs = Vec::new();
            for file in &files {
                if let Some(gantry_git::read::PathObject::Blob(blob)) = reader.object_at(&sha, file)? {
                    blobs.push((file.as_str(), blob.id));
                }
            }
            Ok(files_digest(blobs))
        })
        .await
        .map_err(|error| CoreError::Internal(Box::new(error)))?
    }

    /// The running job of this token, when `key` is one it may use: its protection suffix and
    /// the project's current cache index.
    pub async fn job_for_cache(&self, job_id: JobId, token: &str, key: &str) -> CoreResult<JobRow> {
        let job = self.job_for_runner(job_id, token).await?;
        let mut conn = self.db.conn().await?;
        let pipeline =
            pipelines::get_pipeline(&mut conn, job.pipeline_id).await?.ok_or(CoreError::NotFound("pipeline"))?;
        let protected = super::ref_is_protected(&mut conn, job.project_id, &pipeline.ref_name, pipeline.is_tag).await?;
        let suffix = key_suffix(artifacts::cache_index(&mut conn, job.project_id).await?, protected);
        if key.len() > MAX_KEY || !key.ends_with(&suffix) || key.len() == suffix.len() {
            return Err(CoreError::Forbidden(format!("this job may only use cache keys ending in {suffix}")));
        }
        Ok(job)
    }

    /// The cache saved under `key` for a running job, opened.
    pub async fn open_cache(&self, job: &JobRow, key: &str) -> CoreResult<Option<(tokio::fs::File, u64)>> {
        let mut conn = self.db.conn().await?;
        let Some(row) = artifacts::cache(&mut conn, job.project_id, key).await? else { return Ok(None) };
        drop(conn);
        let digest = Digest::parse(&row.blob_digest).map_err(|error| CoreError::Internal(Box::new(error)))?;
        match self.blobs.open(&digest).await {
            Ok(opened) => Ok(Some(opened)),
            Err(gantry_blob::BlobError::NotFound) => Ok(None),
            Err(error) => Err(CoreError::Internal(Box::new(error))),
        }
    }

    /// Saves a running job's cache under `key` (its archive already in the object store).
    pub async fn save_cache(&self, job: &JobRow, key: &str, blob: &StoredBlob) -> CoreResult<()> {
        self.read_blob_blocking(&blob.digest, super::artifacts::archive_entries).await?;
        let mut conn = self.db.conn().await?;
        let size = i64::try_from(blob.size).unwrap_or(i64::MAX);
        Ok(artifacts::put_cache(&mut conn, job.project_id, key, blob.digest.as_str(), size).await?)
    }

    /// A project's saved caches (Maintainers).
    pub async fn project_caches(&self, access: &ProjectAccess) -> CoreResult<Vec<CacheRow>> {
        access.require(ProjectAction::ManageCi)?;
        let mut conn = self.db.conn().await?;
        Ok(artifacts::project_caches(&mut conn, access.project().id).await?)
    }

    /// "Clear runner caches" (Maintainers): later jobs start without them.
    pub async fn clear_caches(&self, actor: &Actor, project: &ProjectRow) -> CoreResult<()> {
        let mut conn = self.db.conn().await?;
        authorize_project(&mut conn, actor, project, ProjectAction::ManageCi).await?;
        Ok(artifacts::clear_caches(&mut conn, project.id).await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_cleaned_and_suffixed_by_protection_and_index() {
        assert_eq!(clean_key("deps/linux"), "deps-linux");
        assert_eq!(clean_key(" .. "), "default");
        assert_eq!(clean_key(""), "default");
        assert_eq!(key_suffix(0, true), "-protected");
        assert_eq!(key_suffix(2, false), "-2-non_protected");
    }
}
