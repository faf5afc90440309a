//! The `ci_job_artifacts` table (a job's archive and reports, by digest in the object store),
//! the parsed reports (`ci_job_test_reports`, `ci_job_dotenv_variables`) and `ci_caches`.

use gantry_types::{ArtifactId, JobId, PipelineId, ProjectId};
use sqlx::any::AnyRow;

use crate::row::{int, opt_int, opt_text, text};
use crate::{Conn, DbResult};

/// One stored artifact of a job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArtifactRow {
    pub id: ArtifactId,
    pub job_id: JobId,
    pub project_id: ProjectId,
    /// `archive`, `junit`, `dotenv`, `cobertura`, `jacoco`.
    pub file_type: String,
    pub file_format: String,
    pub file_name: String,
    pub blob_digest: String,
    pub size: i64,
    pub expire_at: Option<i64>,
    pub created_at: i64,
}

/// An artifact to record.
#[derive(Debug, Clone)]
pub struct NewArtifact<'a> {
    pub job_id: JobId,
    pub project_id: ProjectId,
    pub file_type: &'a str,
    pub file_format: &'a str,
    pub file_name: &'a str,
    pub blob_digest: &'a str,
    pub size: i64,
    pub expire_at: Option<i64>,
}

/// The artifact columns (prefixed with `a.`), then the rest of the query.
macro_rules! select_artifacts {
    ($rest:literal) => {
        concat!(
            "SELECT a.id, a.job_id, a.project_id, a.file_type, a.file_format, a.file_name, a.blob_digest, a.size, \
             a.expire_at, a.created_at FROM ci_job_artifacts a ",
            $rest
        )
    };
}

fn artifact(row: &AnyRow) -> DbResult<ArtifactRow> {
    Ok(ArtifactRow {
        id: ArtifactId(int(row, "id")?),
        job_id: JobId(int(row, "job_id")?),
        project_id: ProjectId(int(row, "project_id")?),
        file_type: text(row, "file_type")?,
        file_format: text(row, "file_format")?,
        file_name: text(row, "file_name")?,
        blob_digest: text(row, "blob_digest")?,
        size: int(row, "size")?,
        expire_at: opt_int(row, "expire_at")?,
        created_at: int(row, "created_at")?,
    })
}

/// Records an artifact; one the job uploaded before under the same type is replaced.
pub async fn put_artifact(conn: &mut Conn, new: &NewArtifact<'_>) -> DbResult<ArtifactRow> {
    let row = sqlx::query(
        "INSERT INTO ci_job_artifacts (job_id, project_id, file_type, file_format, file_name, blob_digest, size, \
         expire_at, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
         ON CONFLICT (job_id, file_type) DO UPDATE SET file_format = excluded.file_format, \
         file_name = excluded.file_name, blob_digest = excluded.blob_digest, size = excluded.size, \
         expire_at = excluded.expire_at, created_at = excluded.created_at \
         RETURNING id, job_id, project_id, file_type, file_format, file_name, blob_digest, size, expire_at, created_at",
    )
    .bind(new.job_id.0)
    .bind(new.project_id.0)
    .bind(new.file_type)
    .bind(new.file_format)
    .bind(new.file_name)
    .bind(new.blob_digest)
    .bind(new.size)
    .bind(new.expire_at)
    .bind(crate::now_millis())
    .fetch_one(conn)
    .await?;
    artifact(&row)
}

/// A job's artifacts, archive first.
pub async fn job_artifacts(conn: &mut Conn, job: JobId) -> DbResult<Vec<ArtifactRow>> {
    let rows = sqlx::query(select_artifacts!(
        "WHERE a.job_id = $1 ORDER BY CASE a.file_type WHEN 'archive' THEN 0 ELSE 1 END, a.file_type"
    ))
    .bind(job.0)
    .fetch_all(conn)
    .await?;
    rows.iter().map(artifact).collect()
}

/// The artifacts of every job of a pipeline.
pub async fn pipeline_artifacts(conn: &mut Conn, pipeline: PipelineId) -> DbResult<Vec<ArtifactRow>> {
    let rows = sqlx::query(select_artifacts!(
        "WHERE a.job_id IN (SELECT id FROM ci_jobs WHERE pipeline_id = $1) ORDER BY a.job_id, a.file_type"
    ))
    .bind(pipeline.0)
    .fetch_all(conn)
    .await?;
    rows.iter().map(artifact).collect()
}

/// Keeps a job's artifacts until they are deleted.
pub async fn keep_artifacts(conn: &mut Conn, job: JobId) -> DbResult<()> {
    sqlx::query("UPDATE ci_job_artifacts SET expire_at = NULL WHERE job_id = $1").bind(job.0).execute(conn).await?;
    Ok(())
}

/// Deletes one artifact record (its blob is collected once nothing refers to it).
pub async fn delete_artifact(conn: &mut Conn, id: ArtifactId) -> DbResult<()> {
    sqlx::query("DELETE FROM ci_job_artifacts WHERE id = $1").bind(id.0).execute(&mut *conn).await?;
    Ok(())
}

/// Deletes a job's artifacts and what was read from its reports.
pub async fn delete_job_artifacts(conn: &mut Conn, job: JobId) -> DbResult<()> {
    for statement in [
        "DELETE FROM ci_job_artifacts WHERE job_id = $1",
        "DELETE FROM ci_job_test_reports WHERE job_id = $1",
        "DELETE FROM ci_job_dotenv_variables WHERE job_id = $1",
    ] {
        sqlx::query(statement).bind(job.0).execute(&mut *conn).await?;
    }
    Ok(())
}

/// Up to `limit` artifacts expired at `now` — but for those of each ref's latest successful
/// pipeline in projects that keep them.
pub async fn expired_artifacts(conn: &mut Conn, now: i64, limit: i64) -> DbResult<Vec<ArtifactRow>> {
    let rows = sqlx::query(select_artifacts!(
        "JOIN ci_jobs j ON j.id = a.job_id JOIN ci_pipelines p ON p.id = j.pipeline_id \
         JOIN projects pr ON pr.id = a.project_id \
         WHERE a.expire_at IS NOT NULL AND a.expire_at <= $1 \
         AND NOT (pr.ci_keep_latest_artifact = 1 AND p.id = (SELECT MAX(latest.id) FROM ci_pipelines latest \
           WHERE latest.project_id = p.project_id AND latest.ref_name = p.ref_name AND latest.status = 'success')) \
         ORDER BY a.expire_at LIMIT $2"
    ))
    .bind(now)
    .bind(limit)
    .fetch_all(conn)
    .await?;
    rows.iter().map(artifact).collect()
}

/// Every blob digest a record refers to (artifacts, caches, archived logs, avatars).
pub async fn referenced_blobs(conn: &mut Conn) -> DbResult<std::collections::HashSet<String>> {
    let rows = sqlx::query(
        "SELECT blob_digest AS digest FROM ci_job_artifacts \
         UNION SELECT blob_digest FROM ci_caches \
         UNION SELECT trace_blob FROM ci_jobs WHERE trace_blob IS NOT NULL \
         UNION SELECT avatar_digest FROM users WHERE avatar_digest IS NOT NULL \
         UNION SELECT avatar_digest FROM namespaces WHERE avatar_digest IS NOT NULL \
         UNION SELECT avatar_digest FROM projects WHERE avatar_digest IS NOT NULL \
         UNION SELECT avatar_digest FROM topics WHERE avatar_digest IS NOT NULL \
         UNION SELECT blob_digest FROM uploads",
    )
    .fetch_all(conn)
    .await?;
    rows.iter().map(|row| text(row, "digest")).collect()
}

/// A job's test counts, stored next to its report.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TestCountsRow {
    pub total: i64,
    pub success: i64,
    pub failed: i64,
    pub error: i64,
    pub skipped: i64,
    pub time_us: i64,
    /// The report's files that could not be read, with why.
    pub suite_error: Option<String>,
}

/// Stores a job's parsed JUnit reports (JSON) and their counts, replacing earlier ones.
pub async fn put_test_report(conn: &mut Conn, job: JobId, report_json: &str, counts: &TestCountsRow) -> DbResult<()> {
    sqlx::query(
        "INSERT INTO ci_job_test_reports (job_id, report, total_count, success_count, failed_count, error_count, \
         skipped_count, total_time_us, suite_error) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
         ON CONFLICT (job_id) DO UPDATE SET report = excluded.report, total_count = excluded.total_count, \
         success_count = excluded.success_count, failed_count = excluded.failed_count, \
         error_count = excluded.error_count, skipped_count = excluded.skipped_count, \
         total_time_us = excluded.total_time_us, suite_error = excluded.suite_error",
    )
    .bind(job.0)
    .bind(report_json)
    .bind(counts.total)
    .bind(counts.success)
    .bind(counts.failed)
    .bind(counts.error)
    .bind(counts.skipped)
    .bind(counts.time_us)
    .bind(counts.suite_error.as_deref())
    .execute(conn)
    .await?;
    Ok(())
}

/// The parsed JUnit reports of a pipeline's current jobs (retried attempts left out), as
/// `(job id, job name, JSON)`.
pub async fn pipeline_test_reports(conn: &mut Conn, pipeline: PipelineId) -> DbResult<Vec<(JobId, String, String)>> {
    let rows = sqlx::query(
        "SELECT r.job_id, j.name, r.report FROM ci_job_test_reports r JOIN ci_jobs j ON j.id = r.job_id \
         WHERE j.pipeline_id = $1 AND j.retried = 0 ORDER BY r.job_id",
    )
    .bind(pipeline.0)
    .fetch_all(conn)
    .await?;
    rows.iter().map(|row| Ok((JobId(int(row, "job_id")?), text(row, "name")?, text(row, "report")?))).collect()
}

/// The test counts of a pipeline's current jobs, as `(job id, job name, counts)`, without
/// reading the reports.
pub async fn pipeline_test_counts(
    conn: &mut Conn,
    pipeline: PipelineId,
) -> DbResult<Vec<(JobId, String, TestCountsRow)>> {
    let rows = sqlx::query(
        "SELECT r.job_id, j.name, r.total_count, r.success_count, r.failed_count, r.error_count, r.skipped_count, \
         r.total_time_us, r.suite_error FROM ci_job_test_reports r JOIN ci_jobs j ON j.id = r.job_id \
         WHERE j.pipeline_id = $1 AND j.retried = 0 ORDER BY r.job_id",
    )
    .bind(pipeline.0)
    .fetch_all(conn)
    .await?;
    rows.iter()
        .map(|row| {
            let counts = TestCountsRow {
                total: int(row, "total_count")?,
                success: int(row, "success_count")?,
                failed: int(row, "failed_count")?,
                error: int(row, "error_count")?,
                skipped: int(row, "skipped_count")?,
                time_us: int(row, "total_time_us")?,
                suite_error: opt_text(row, "suite_error")?,
            };
            Ok((JobId(int(row, "job_id")?), text(row, "name")?, counts))
        })
        .collect()
}

/// Replaces a job's dotenv variables (values sealed by the caller), in the report's order.
pub async fn put_dotenv(conn: &mut Conn, job: JobId, variables: &[(String, String)]) -> DbResult<()> {
    sqlx::query("DELETE FROM ci_job_dotenv_variables WHERE job_id = $1").bind(job.0).execute(&mut *conn).await?;
    for (position, (key, sealed)) in variables.iter().enumerate() {
        sqlx::query(
            "INSERT INTO ci_job_dotenv_variables (job_id, position, key, value_sealed) VALUES ($1, $2, $3, $4)",
        )
        .bind(job.0)
        .bind(position as i64)
        .bind(key)
        .bind(sealed)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

/// The dotenv variables of every job of a pipeline, as `(job, key, sealed value)` in each
/// job's order.
pub async fn pipeline_dotenv(conn: &mut Conn, pipeline: PipelineId) -> DbResult<Vec<(JobId, String, String)>> {
    let rows = sqlx::query(
        "SELECT job_id, key, value_sealed FROM ci_job_dotenv_variables \
         WHERE job_id IN (SELECT id FROM ci_jobs WHERE pipeline_id = $1) ORDER BY job_id, position",
    )
    .bind(pipeline.0)
    .fetch_all(conn)
    .await?;
    rows.iter().map(|row| Ok((JobId(int(row, "job_id")?), text(row, "key")?, text(row, "value_sealed")?))).collect()
}

/// One saved cache of a project.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CacheRow {
    pub key: String,
    pub blob_digest: String,
    pub size: i64,
    pub updated_at: i64,
}

fn cache_row(row: &AnyRow) -> DbResult<CacheRow> {
    Ok(CacheRow {
        key: text(row, "cache_key")?,
        blob_digest: text(row, "blob_digest")?,
        size: int(row, "size")?,
        updated_at: int(row, "updated_at")?,
    })
}

/// The cache saved under `key`.
pub async fn cache(conn: &mut Conn, project: ProjectId, key: &str) -> DbResult<Option<CacheRow>> {
    let row = sqlx::query(
        "SELECT cache_key, blob_digest, size, updated_at FROM ci_caches WHERE project_id = $1 AND cache_key = $2",
    )
    .bind(project.0)
    .bind(key)
    .fetch_optional(conn)
    .await?;
    row.as_ref().map(cache_row).transpose()
}

/// Saves a cache under `key`, replacing the one before.
pub async fn put_cache(conn: &mut Conn, project: ProjectId, key: &str, digest: &str, size: i64) -> DbResult<()> {
    sqlx::query(
        "INSERT INTO ci_caches (project_id, cache_key, blob_digest, size, updated_at) VALUES ($1, $2, $3, $4, $5) \
         ON CONFLICT (project_id, cache_key) DO UPDATE SET blob_digest = excluded.blob_digest, \
         size = excluded.size, updated_at = excluded.updated_at",
    )
    .bind(project.0)
    .bind(key)
    .bind(digest)
    .bind(size)
    .bind(crate::now_millis())
    .execute(conn)
    .await?;
    Ok(())
}

/// The project's saved caches, newest first.
pub async fn project_caches(conn: &mut Conn, project: ProjectId) -> DbResult<Vec<CacheRow>> {
    let rows = sqlx::query(
        "SELECT cache_key, blob_digest, size, updated_at FROM ci_caches WHERE project_id = $1 \
         ORDER BY updated_at DESC, cache_key",
    )
    .bind(project.0)
    .fetch_all(conn)
    .await?;
    rows.iter().map(cache_row).collect()
}

/// The number every cache key of the project ends with; raised by [`clear_caches`].
pub async fn cache_index(conn: &mut Conn, project: ProjectId) -> DbResult<i64> {
    let row = sqlx::query("SELECT ci_cache_index FROM projects WHERE id = $1").bind(project.0).fetch_one(conn).await?;
    int(&row, "ci_cache_index")
}

/// "Clear runner caches": forgets the project's caches and moves its keys to a new index, so
/// a job running now cannot save under the old keys either.
pub async fn clear_caches(conn: &mut Conn, project: ProjectId) -> DbResult<()> {
    sqlx::query("DELETE FROM ci_caches WHERE project_id = $1").bind(project.0).execute(&mut *conn).await?;
    sqlx::query("UPDATE projects SET ci_cache_index = ci_cache_index + 1 WHERE id = $1")
        .bind(project.0)
        .execute(conn)
        .await?;
    Ok(())
}
