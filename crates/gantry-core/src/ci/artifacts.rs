//! Job artifacts: the zip archives and reports a runner uploads after a job (content in the
//! object store, a row per job and type), their download by later jobs (`dependencies`,
//! `needs`), browsing and single files for people, keeping and deleting, and the sweeper that
//! removes expired artifacts (but for each ref's latest successful pipeline) and unused blobs.

use gantry_types::{JobId, PipelineId};
use std::io::Read;
use std::time::Duration;

use gantry_blob::{BlobError, Digest, StoredBlob};
use gantry_db::ci::artifacts::{self, ArtifactRow, NewArtifact};
use gantry_db::ci::jobs;

use super::JobRow;
use crate::policy::{ProjectAccess, ProjectAction, authorize_project};
use crate::{Actor, CoreError, CoreResult, ProjectRow};

/// The artifact types a runner may upload (GitLab's names).
pub const ARTIFACT_TYPES: &[&str] = &["archive", "junit", "dotenv", "cobertura", "jacoco"];
/// The most entries an archive may have to be browsed.
const MAX_ENTRIES: usize = 200_000;
/// Blobs are collected only when untouched this long: an upload in progress is never lost.
const BLOB_GRACE: Duration = Duration::from_secs(3600);

/// What a runner says about an artifact it uploads.
#[derive(Debug, Clone, Default)]
pub struct ArtifactUpload {
    /// `archive` when not given.
    pub artifact_type: Option<String>,
    /// `zip` when not given (the only format stored).
    pub artifact_format: Option<String>,
    /// Seconds, or a duration as the CI file writes it (`1 week`, `never`).
    pub expire_in: Option<String>,
}

/// One entry of an archive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArchiveEntry {
    /// Relative, `/`-separated, without a trailing `/`.
    pub path: String,
    pub size: u64,
    pub is_dir: bool,
}

impl ArtifactUpload {
    fn file_type(&self) -> &str {
        self.artifact_type.as_deref().unwrap_or("archive")
    }

    /// Checks the parameters; the expiry (Unix milliseconds, `None` for never) when they hold.
    /// Without `expire_in`, artifacts are kept `default_lifetime` seconds (the instance's
    /// setting; `None` for ever).
    fn check(&self, now: i64, default_lifetime: Option<u64>) -> CoreResult<Option<i64>> {
        let file_type = self.file_type();
        if !ARTIFACT_TYPES.contains(&file_type) && !gantry_ci::keywords::KEPT_REPORT_TYPES.contains(&file_type) {
            return Err(CoreError::invalid(
                "artifact_type",
                format!(
                    "must be one of {}, or a report type GitLab documents ({})",
                    ARTIFACT_TYPES.join(", "),
                    gantry_ci::keywords::KEPT_REPORT_TYPES.join(", ")
                ),
            ));
        }
        if !matches!(self.artifact_format.as_deref(), None | Some("zip")) {
            return Err(CoreError::invalid("artifact_format", "must be zip"));
        }
        let seconds = match self.expire_in.as_deref().map(str::trim) {
            None | Some("") => match default_lifetime {
                Some(seconds) => seconds,
                None => return Ok(None),
            },
            Some("never") => return Ok(None),
            Some(text) => match text.parse::<u64>() {
                Ok(seconds) => seconds,
                Err(_) => gantry_ci::vars::parse_duration(text).ok_or_else(|| {
                    CoreError::invalid("expire_in", "must be a duration such as 3600, 1 week or never")
                })?,
            },
        };
        let millis = i64::try_from(seconds.saturating_mul(1000)).unwrap_or(i64::MAX);
        Ok(Some(now.saturating_add(millis)))
    }
}

fn blob_error(error: BlobError) -> CoreError {
    match error {
        BlobError::NotFound => CoreError::NotFound("artifact file"),
        BlobError::TooLarge { limit } => CoreError::invalid("body", format!("is larger than {limit} bytes")),
        other => CoreError::Internal(Box::new(other)),
    }
}

fn zip_error(error: zip::result::ZipError) -> CoreError {
    CoreError::invalid("file", format!("is not a readable zip archive: {error}"))
}

/// The entries of a zip archive, directories included (also those only implied by paths).
pub(crate) fn archive_entries(file: std::fs::File) -> CoreResult<Vec<ArchiveEntry>> {
    let mut archive = zip::ZipArchive::new(file).map_err(zip_error)?;
    if archive.len() > MAX_ENTRIES {
        return Err(CoreError::invalid("file", format!("has more than {MAX_ENTRIES} entries")));
    }
    let mut entries = Vec::with_capacity(archive.len());
    let mut dirs = std::collections::BTreeSet::new();
    for index in 0..archive.len() {
        let entry = archive.by_index_raw(index).map_err(zip_error)?;
        let Some(path) = entry.enclosed_name() else { continue };
        let Some(path) = path.to_str().map(|p| p.trim_end_matches('/').to_owned()) else { continue };
        if path.is_empty() {
            continue;
        }
        let mut parent = path.as_str();
        while let Some((up, _)) = parent.rsplit_once('/') {
            dirs.insert(up.to_owned());
            parent = up;
        }
        if entry.is_dir() {
            dirs.insert(path);
        } else {
            entries.push(ArchiveEntry { path, size: entry.size(), is_dir: false });
        }
    }
    entries.extend(dirs.into_iter().map(|path| ArchiveEntry { path, size: 0, is_dir: true }));
    entries.sort_by(|a, b| a.path.cmp(&b.path));
    entries.dedup_by(|a, b| a.path == b.path);
    Ok(entries)
}

/// Runs `read` on the file at `path` in a zip archive.
fn with_archive_file<T>(
    file: std::fs::File,
    path: &str,
    read: impl FnOnce(usize, zip::read::ZipFile<'_, std::fs::File>) -> CoreResult<T>,
) -> CoreResult<T> {
    let mut archive = zip::ZipArchive::new(file).map_err(zip_error)?;
    for index in 0..archive.len() {
        let entry = archive.by_index(index).map_err(zip_error)?;
        let matches = entry.enclosed_name().and_then(|p| p.to_str().map(|p| p == path)).unwrap_or(false);
        if matches && !entry.is_dir() {
            return read(index, entry);
        }
    }
    Err(CoreError::NotFound("file in the artifacts"))
}

/// The size and index of the file at `path` in a zip archive.
fn archive_file_index(file: std::fs::File, path: &str) -> CoreResult<(u64, usize)> {
    with_archive_file(file, path, |index, entry| Ok((entry.size(), index)))
}

/// The first `wanted` bytes of the file at `path` in a zip archive, and its whole size.
pub(crate) fn archive_file_start(file: std::fs::File, path: &str, wanted: u64) -> CoreResult<(Vec<u8>, u64)> {
    with_archive_file(file, path, |_, entry| {
        let size = entry.size();
        let mut start = Vec::with_capacity(usize::try_from(size.min(wanted)).unwrap_or(0));
        entry.take(wanted).read_to_end(&mut start).map_err(|error| CoreError::invalid("file", error.to_string()))?;
        Ok((start, size))
    })
}

/// The files of a report archive as `(name, content)`, at most `limit` bytes in all once
/// unpacked (a small archive may unpack into gigabytes).
pub fn archive_files(file: std::fs::File, limit: u64) -> CoreResult<Vec<(String, Vec<u8>)>> {
    let mut archive = zip::ZipArchive::new(file).map_err(zip_error)?;
    let mut files = Vec::new();
    let mut left = limit;
    for index in 0..archive.len().min(MAX_ENTRIES) {
        let entry = archive.by_index(index).map_err(zip_error)?;
        if entry.is_dir() {
            continue;
        }
        let name = entry.enclosed_name().map(|p| p.display().to_string()).unwrap_or_default();
        let mut content = Vec::new();
        entry
            .take(left + 1)
            .read_to_end(&mut content)
            .map_err(|error| CoreError::invalid("file", error.to_string()))?;
        if content.len() as u64 > left {
            return Err(CoreError::invalid("file", format!("the report unpacks to more than {limit} bytes")));
        }
        left -= content.len() as u64;
        files.push((name, content));
    }
    Ok(files)
}

/// The file at `path` in an opened archive, unpacked a piece at a time as the client reads it.
async fn stream_archive_file(file: tokio::fs::File, path: &str) -> CoreResult<crate::ContentStream> {
    let file = file.into_std().await;
    let path = path.trim_matches('/').to_owned();
    let (size, index) = tokio::task::spawn_blocking({
        let file = file.try_clone().map_err(|error| CoreError::Internal(Box::new(error)))?;
        move || archive_file_index(file, &path)
    })
    .await
    .map_err(|error| CoreError::Internal(Box::new(error)))??;
    crate::ContentStream::from_blocking(size, move |out| {
        let mut archive = zip::ZipArchive::new(file).map_err(std::io::Error::other)?;
        let mut entry = archive.by_index(index).map_err(std::io::Error::other)?;
        std::io::copy(&mut entry, out).map(|_| ())
    })
    .await
}

impl super::Ci<'_> {
    /// The object store.
    pub fn blobs(&self) -> &gantry_blob::BlobStore {
        &self.blobs
    }

    /// Runs `read` on a blocking thread with the stored blob `digest` opened (zip archives are
    /// read by seeking, synchronously).
    pub(crate) async fn read_blob_blocking<T: Send + 'static>(
        &self,
        digest: &Digest,
        read: impl FnOnce(std::fs::File) -> CoreResult<T> + Send + 'static,
    ) -> CoreResult<T> {
        let path = self.blobs.path(digest);
        tokio::task::spawn_blocking(move || {
            let file = std::fs::File::open(path).map_err(|error| CoreError::Internal(Box::new(error)))?;
            read(file)
        })
        .await
        .map_err(|error| CoreError::Internal(Box::new(error)))?
    }

    /// The largest artifact or cache archive a runner may upload (bytes): the instance's
    /// `max_artifacts_size` setting, the server's configuration until an administrator sets it.
    pub async fn max_artifact_size(&self) -> CoreResult<u64> {
        Ok(self.manage().current_application_settings().await?.max_artifacts_bytes())
    }

    /// How long artifacts are kept when their job does not say (seconds; `None` for ever).
    async fn default_artifacts_lifetime(&self) -> CoreResult<Option<u64>> {
        Ok(self.manage().current_application_settings().await?.default_artifacts_lifetime())
    }

    /// Checks a runner's artifact upload before its body is read: the job token is the running
    /// job's, and the parameters are valid.
    pub async fn begin_artifact_upload(
        &self,
        job_id: JobId,
        token: &str,
        upload: &ArtifactUpload,
    ) -> CoreResult<JobRow> {
        let job = self.job_for_runner(job_id, token).await?;
        upload.check(gantry_db::now_millis(), self.default_artifacts_lifetime().await?)?;
        Ok(job)
    }

    /// Records an uploaded artifact of a running job (its content already in the object store):
    /// checks it is a zip archive and reads the reports in it (JUnit, dotenv).
    pub async fn record_artifact(
        &self,
        job: &JobRow,
        upload: &ArtifactUpload,
        blob: StoredBlob,
    ) -> CoreResult<ArtifactRow> {
        let expire_at = upload.check(gantry_db::now_millis(), self.default_artifacts_lifetime().await?)?;
        self.read_blob_blocking(&blob.digest, archive_entries).await?;
        let file_type = upload.file_type();
        match file_type {
            "junit" => self.read_junit_report(job, &blob.digest).await?,
            "dotenv" => self.read_dotenv_report(job, &blob.digest).await?,
            _ => {}
        }
        let file_name = match file_type {
            "archive" => "artifacts.zip".to_owned(),
            other => format!("{other}.zip"),
        };
        let mut conn = self.db.conn().await?;
        let row = artifacts::put_artifact(
            &mut conn,
            &NewArtifact {
                job_id: job.id,
                project_id: job.project_id,
                file_type,
                file_format: "zip",
                file_name: &file_name,
                blob_digest: blob.digest.as_str(),
                size: i64::try_from(blob.size).unwrap_or(i64::MAX),
                expire_at,
            },
        )
        .await?;
        Ok(row)
    }

    /// The archive of job `job_id` for the running job whose token this is (its dependency):
    /// a job of its own project, or of another project its token may read pipelines of
    /// (`policy::authorize_job_token`).
    pub async fn artifact_for_dependency(
        &self,
        token: &str,
        job_id: JobId,
    ) -> CoreResult<(ArtifactRow, tokio::fs::File, u64)> {
        let asking = self.authenticate_job_token(token).await?;
        let mut conn = self.db.conn().await?;
        let job = jobs::get_job(&mut conn, job_id).await?.ok_or(CoreError::NotFound("job"))?;
        let project = gantry_db::manage::projects::find_project_by_id(&mut conn, job.project_id)
            .await?
            .ok_or(CoreError::NotFound("job"))?;
        crate::policy::authorize_job_token(
            &mut conn,
            asking.project_id,
            asking.user_id,
            &project,
            ProjectAction::ReadPipelines,
        )
        .await
        .map_err(|error| match error {
            CoreError::NotFound(_) => CoreError::NotFound("job"),
            other => other,
        })?;
        self.open_archive(&mut conn, job.id, "archive").await
    }

    pub(super) async fn open_archive(
        &self,
        conn: &mut gantry_db::Conn,
        job_id: JobId,
        file_type: &str,
    ) -> CoreResult<(ArtifactRow, tokio::fs::File, u64)> {
        let row = artifacts::job_artifacts(conn, job_id)
            .await?
            .into_iter()
            .find(|row| row.file_type == file_type)
            .ok_or(CoreError::NotFound("artifacts"))?;
        let digest = Digest::parse(&row.blob_digest).map_err(blob_error)?;
        let (file, size) = self.blobs.open(&digest).await.map_err(blob_error)?;
        Ok((row, file, size))
    }

    /// A job's artifacts (archive first, then reports).
    pub async fn job_artifacts(&self, access: &ProjectAccess, job_id: JobId) -> CoreResult<Vec<ArtifactRow>> {
        access.require(ProjectAction::ReadPipelines)?;
        let mut conn = self.db.conn().await?;
        let job = self.project_job(&mut conn, access.project(), job_id).await?;
        Ok(artifacts::job_artifacts(&mut conn, job.id).await?)
    }

    /// The artifacts of every job of a pipeline.
    pub async fn pipeline_artifacts(
        &self,
        actor: &Actor,
        project: &ProjectRow,
        pipeline_id: PipelineId,
    ) -> CoreResult<Vec<ArtifactRow>> {
        let mut conn = self.db.conn().await?;
        authorize_project(&mut conn, actor, project, ProjectAction::ReadPipelines).await?;
        let pipeline = self.project_pipeline(&mut conn, project, pipeline_id).await?;
        Ok(artifacts::pipeline_artifacts(&mut conn, pipeline.id).await?)
    }

    /// Opens one artifact of a job (`archive` or a report type) for download.
    pub async fn open_job_artifact(
        &self,
        actor: &Actor,
        project: &ProjectRow,
        job_id: JobId,
        file_type: &str,
    ) -> CoreResult<(ArtifactRow, tokio::fs::File, u64)> {
        let mut conn = self.db.conn().await?;
        authorize_project(&mut conn, actor, project, ProjectAction::ReadPipelines).await?;
        let job = self.project_job(&mut conn, project, job_id).await?;
        self.open_archive(&mut conn, job.id, file_type).await
    }

    /// The archive of the latest successful job named `job_name` on `ref_name` (GitLab's
    /// "download the latest artifacts of a branch"): the branch's pipelines when there is such
    /// a branch, a tag's only when there is no branch of that name.
    pub async fn latest_artifact_of_ref(
        &self,
        actor: &Actor,
        project: &ProjectRow,
        ref_name: &str,
        job_name: &str,
    ) -> CoreResult<(JobRow, ArtifactRow, tokio::fs::File, u64)> {
        let mut conn = self.db.conn().await?;
        authorize_project(&mut conn, actor, project, ProjectAction::ReadPipelines).await?;
        // A ref that is gone now still names its branch's pipelines.
        let is_tag = self.branch_or_tag(project, ref_name).await.is_ok_and(|(is_tag, _)| is_tag);
        let job = jobs::latest_successful_job(&mut conn, project.id, ref_name, is_tag, job_name)
            .await?
            .ok_or(CoreError::NotFound("job"))?;
        let (row, file, size) = self.open_archive(&mut conn, job.id, "archive").await?;
        Ok((job, row, file, size))
    }

    /// The entries of a job's archive, for browsing.
    pub async fn artifact_entries(
        &self,
        actor: &Actor,
        project: &ProjectRow,
        job_id: JobId,
    ) -> CoreResult<(ArtifactRow, Vec<ArchiveEntry>)> {
        let (row, file, _) = self.open_job_artifact(actor, project, job_id, "archive").await?;
        let file = file.into_std().await;
        let entries = tokio::task::spawn_blocking(move || archive_entries(file))
            .await
            .map_err(|error| CoreError::Internal(Box::new(error)))??;
        Ok((row, entries))
    }

    /// One file of a job's archive, unpacked a piece at a time as the client reads it.
    pub async fn artifact_file(
        &self,
        actor: &Actor,
        project: &ProjectRow,
        job_id: JobId,
        path: &str,
    ) -> CoreResult<crate::ContentStream> {
        let (_, file, _) = self.open_job_artifact(actor, project, job_id, "archive").await?;
        stream_archive_file(file, path).await
    }

    /// One file of the archive of the latest successful job named `job_name` on `ref_name`
    /// (GitLab's `jobs/artifacts/:ref_name/raw/*artifact_path`), found as
    /// [`Self::latest_artifact_of_ref`] finds the archive.
    pub async fn latest_artifact_file_of_ref(
        &self,
        actor: &Actor,
        project: &ProjectRow,
        ref_name: &str,
        job_name: &str,
        path: &str,
    ) -> CoreResult<crate::ContentStream> {
        let (_, _, file, _) = self.latest_artifact_of_ref(actor, project, ref_name, job_name).await?;
        stream_archive_file(file, path).await
    }

    /// The first `wanted` bytes of one file of a job's archive, and the file's size (for pages
    /// that show only the start of a file).
    pub async fn artifact_file_start(
        &self,
        actor: &Actor,
        project: &ProjectRow,
        job_id: JobId,
        path: &str,
        wanted: u64,
    ) -> CoreResult<(Vec<u8>, u64)> {
        let (_, file, _) = self.open_job_artifact(actor, project, job_id, "archive").await?;
        let file = file.into_std().await;
        let path = path.trim_matches('/').to_owned();
        tokio::task::spawn_blocking(move || archive_file_start(file, &path, wanted))
            .await
            .map_err(|error| CoreError::Internal(Box::new(error)))?
    }

    /// Keeps a job's artifacts past their expiry (Developers).
    pub async fn keep_job_artifacts(&self, actor: &Actor, project: &ProjectRow, job_id: JobId) -> CoreResult<()> {
        let mut conn = self.db.conn().await?;
        authorize_project(&mut conn, actor, project, ProjectAction::RunPipelines).await?;
        let job = self.project_job(&mut conn, project, job_id).await?;
        if artifacts::job_artifacts(&mut conn, job.id).await?.is_empty() {
            return Err(CoreError::NotFound("artifacts"));
        }
        Ok(artifacts::keep_artifacts(&mut conn, job.id).await?)
    }

    /// Deletes a job's artifacts and what was read from its reports (Maintainers).
    pub async fn delete_job_artifacts(&self, actor: &Actor, project: &ProjectRow, job_id: JobId) -> CoreResult<()> {
        let mut conn = self.db.conn().await?;
        authorize_project(&mut conn, actor, project, ProjectAction::ManageCi).await?;
        let job = self.project_job(&mut conn, project, job_id).await?;
        Ok(artifacts::delete_job_artifacts(&mut conn, job.id).await?)
    }

    /// Removes expired artifacts (keeping each ref's latest successful pipeline's in projects
    /// that ask for it), then blobs nothing refers to. Returns how many artifacts went.
    pub async fn sweep_artifacts(&self) -> CoreResult<usize> {
        let mut removed = 0;
        loop {
            let mut conn = self.db.conn().await?;
            let expired = artifacts::expired_artifacts(&mut conn, gantry_db::now_millis(), 500).await?;
            for row in &expired {
                artifacts::delete_artifact(&mut conn, row.id).await?;
            }
            removed += expired.len();
            if expired.len() < 500 {
                break;
            }
        }
        self.archive_leftover_traces().await?;
        self.collect_blobs(BLOB_GRACE).await?;
        Ok(removed)
    }

    /// Deletes the blobs untouched for `grace` that no record refers to.
    pub async fn collect_blobs(&self, grace: Duration) -> CoreResult<usize> {
        let cutoff = std::time::SystemTime::now().checked_sub(grace).unwrap_or(std::time::UNIX_EPOCH);
        let candidates = self.blobs.written_before(grace).await.map_err(blob_error)?;
        if candidates.is_empty() {
            return Ok(0);
        }
        // Read after the candidates were listed: a record written since belongs to an upload
        // that refreshed its blob's time first, which the check before deleting sees.
        let mut conn = self.db.conn().await?;
        let referenced = artifacts::referenced_blobs(&mut conn).await?;
        drop(conn);
        let mut deleted = 0;
        for digest in candidates {
            if !referenced.contains(digest.as_str())
                && self.blobs.delete_if_written_before(&digest, cutoff).await.map_err(blob_error)?
            {
                deleted += 1;
            }
        }
        Ok(deleted)
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    fn zip_of(files: &[(&str, &[u8])]) -> std::fs::File {
        let mut file = tempfile::tempfile().unwrap();
        let mut writer = zip::ZipWriter::new(&mut file);
        for (name, content) in files {
            if name.ends_with('/') {
                writer.add_directory(*name, zip::write::SimpleFileOptions::default()).unwrap();
            } else {
                writer.start_file(*name, zip::write::SimpleFileOptions::default()).unwrap();
                writer.write_all(content).unwrap();
            }
        }
        writer.finish().unwrap();
        file
    }

    #[test]
    fn entries_include_implied_directories_and_skip_escaping_names() {
        let file = zip_of(&[("bin/app", b"binary"), ("docs/", b""), ("../evil", b"x"), ("/abs", b"y")]);
        let entries = archive_entries(file).unwrap();
        let paths: Vec<(&str, bool)> = entries.iter().map(|e| (e.path.as_str(), e.is_dir)).collect();
        assert_eq!(paths, [("abs", false), ("bin", true), ("bin/app", false), ("docs", true)]);
        assert_eq!(entries[2].size, 6);
    }

    #[test]
    fn single_files_are_found_by_their_path() {
        let zip = || zip_of(&[("a/", b""), ("a/b.txt", b"hello")]);
        assert_eq!(archive_file_index(zip(), "a/b.txt").unwrap(), (5, 1));
        assert!(matches!(archive_file_index(zip(), "a/c.txt"), Err(CoreError::NotFound(_))));
        assert!(matches!(archive_file_index(zip(), "a"), Err(CoreError::NotFound(_))), "a directory is not a file");
    }

    #[test]
    fn the_start_of_a_file_comes_with_its_whole_size() {
        let (start, size) = archive_file_start(zip_of(&[("big.log", &[b'x'; 100])]), "big.log", 10).unwrap();
        assert_eq!((start.len(), size), (10, 100));
        let (start, size) = archive_file_start(zip_of(&[("small", b"abc")]), "small", 10).unwrap();
        assert_eq!((start, size), (b"abc".to_vec(), 3));
        assert!(matches!(archive_file_start(zip_of(&[("a", b"")]), "b", 10), Err(CoreError::NotFound(_))));
    }

    #[test]
    fn report_files_are_capped_in_all() {
        let zip = || zip_of(&[("a.xml", &[b'a'; 60]), ("b.xml", &[b'b'; 60])]);
        assert_eq!(archive_files(zip(), 120).unwrap().len(), 2);
        let error = archive_files(zip(), 100).unwrap_err();
        assert!(error.to_string().contains("more than 100 bytes"), "{error}");
    }

    #[test]
    fn a_file_that_is_not_a_zip_archive_is_refused() {
        let mut file = tempfile::tempfile().unwrap();
        file.write_all(b"<html>not a zip</html>").unwrap();
        assert!(archive_entries(file).unwrap_err().to_string().contains("zip"));
    }

    #[test]
    fn upload_parameters_are_checked_and_expiry_read() {
        let upload = |kind: &str, format: &str, expire: Option<&str>| ArtifactUpload {
            artifact_type: Some(kind.to_owned()),
            artifact_format: Some(format.to_owned()),
            expire_in: expire.map(str::to_owned),
        };
        let month = Some(30 * 24 * 3600);
        assert_eq!(upload("archive", "zip", Some("3600")).check(0, month).unwrap(), Some(3_600_000));
        assert_eq!(upload("junit", "zip", Some("1 week")).check(0, month).unwrap(), Some(7 * 24 * 3_600_000));
        assert_eq!(upload("archive", "zip", Some("never")).check(0, month).unwrap(), None);
        assert_eq!(upload("archive", "zip", None).check(0, month).unwrap(), Some(30 * 24 * 3_600_000));
        assert_eq!(upload("archive", "zip", None).check(0, None).unwrap(), None, "the instance keeps them for ever");
        assert!(upload("horoscope", "zip", None).check(0, month).is_err());
        assert!(upload("sast", "zip", None).check(0, month).is_ok(), "a report type kept unread");
        assert!(upload("archive", "gzip", None).check(0, month).is_err());
        assert!(upload("archive", "zip", Some("soon")).check(0, month).is_err());
    }
}
