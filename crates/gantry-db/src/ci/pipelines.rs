//! The `ci_pipelines` table: one row per pipeline, numbered per project, with its status.

use gantry_types::{CiStatus, JobId, PipelineId, ProjectId, ScheduleId, UserId};
use sqlx::any::AnyRow;

use crate::internal_ids::{Numbered, next_internal_id};
use crate::row::{flag, int, opt_int, opt_text, parsed, text};
use crate::{Conn, DbError, DbResult, Page, now_millis};

/// A pipeline as stored, with its creator's username.
#[derive(Debug, Clone)]
pub struct PipelineRow {
    pub id: PipelineId,
    pub project_id: ProjectId,
    pub iid: i64,
    pub ref_name: String,
    pub is_tag: bool,
    pub sha: String,
    pub before_sha: String,
    pub source: String,
    pub status: CiStatus,
    pub name: Option<String>,
    pub user_id: Option<UserId>,
    pub username: Option<String>,
    /// JSON `[{"key": .., "value": ..}]`.
    pub variables: String,
    /// The schedule that started it, while the schedule exists.
    pub schedule_id: Option<ScheduleId>,
    pub yaml_errors: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
    pub started_at: Option<i64>,
    pub finished_at: Option<i64>,
    /// A downstream pipeline: the trigger job that started it.
    pub upstream_job_id: Option<JobId>,
}

fn map_pipeline(row: &AnyRow) -> DbResult<PipelineRow> {
    Ok(PipelineRow {
        id: PipelineId(int(row, "id")?),
        project_id: ProjectId(int(row, "project_id")?),
        iid: int(row, "iid")?,
        ref_name: text(row, "ref_name")?,
        is_tag: flag(row, "is_tag")?,
        sha: text(row, "sha")?,
        before_sha: text(row, "before_sha")?,
        source: text(row, "source")?,
        status: parsed(row, "status", CiStatus::parse)?,
        name: opt_text(row, "name")?,
        user_id: opt_int(row, "user_id")?.map(UserId),
        username: opt_text(row, "username")?,
        variables: text(row, "variables")?,
        schedule_id: opt_int(row, "schedule_id")?.map(ScheduleId),
        yaml_errors: opt_text(row, "yaml_errors")?,
        created_at: int(row, "created_at")?,
        updated_at: int(row, "updated_at")?,
        started_at: opt_int(row, "started_at")?,
        finished_at: opt_int(row, "finished_at")?,
        upstream_job_id: opt_int(row, "upstream_job_id")?.map(JobId),
    })
}

macro_rules! select_pipelines {
    ($rest:literal) => {
        concat!(
            "SELECT p.id, p.project_id, p.iid, p.ref_name, p.is_tag, p.sha, p.before_sha, p.source, p.status, \
             p.name, p.user_id, u.username, p.variables, p.schedule_id, p.yaml_errors, p.created_at, p.updated_at, \
             p.started_at, p.finished_at, p.upstream_job_id FROM ci_pipelines p LEFT JOIN users u ON u.id = p.user_id ",
            $rest
        )
    };
}

/// A pipeline to store.
#[derive(Debug, Clone)]
pub struct NewPipeline<'a> {
    pub project_id: ProjectId,
    pub ref_name: &'a str,
    pub is_tag: bool,
    pub sha: &'a str,
    pub before_sha: &'a str,
    pub source: &'a str,
    pub status: CiStatus,
    pub name: Option<&'a str>,
    pub user_id: Option<UserId>,
    pub variables: &'a str,
    pub yaml_errors: Option<&'a str>,
    /// The pipeline schedule that started it.
    pub schedule_id: Option<ScheduleId>,
    /// The push event (one ref of a push) it was created for: at most one pipeline each.
    pub push_event_id: Option<i64>,
    /// The trigger job that starts it (a downstream pipeline): at most one pipeline each.
    pub upstream_job_id: Option<JobId>,
}

/// Stores a pipeline with the project's next number; call inside a transaction.
pub async fn insert_pipeline(conn: &mut Conn, new: &NewPipeline<'_>) -> DbResult<PipelineId> {
    let iid = next_internal_id(&mut *conn, new.project_id, Numbered::Pipelines).await?;
    let now = now_millis();
    let row = sqlx::query(
        "INSERT INTO ci_pipelines (project_id, iid, ref_name, is_tag, sha, before_sha, source, status, name, user_id, \
         variables, yaml_errors, created_at, updated_at, finished_at, schedule_id, push_event_id, upstream_job_id) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $13, $14, $15, $16, $17) RETURNING id",
    )
    .bind(new.project_id.0)
    .bind(iid)
    .bind(new.ref_name)
    .bind(i64::from(new.is_tag))
    .bind(new.sha)
    .bind(new.before_sha)
    .bind(new.source)
    .bind(new.status.as_str())
    .bind(new.name)
    .bind(new.user_id.map(|u| u.0))
    .bind(new.variables)
    .bind(new.yaml_errors)
    .bind(now)
    .bind(new.yaml_errors.map(|_| now))
    .bind(new.schedule_id.map(|s| s.0))
    .bind(new.push_event_id)
    .bind(new.upstream_job_id.map(|j| j.0))
    .fetch_one(conn)
    .await
    .map_err(DbError::classify)?;
    Ok(PipelineId(int(&row, "id")?))
}

/// The pipeline created for a push event, if one was.
pub async fn pipeline_for_push_event(conn: &mut Conn, push_event: i64) -> DbResult<Option<PipelineId>> {
    let row = sqlx::query("SELECT id FROM ci_pipelines WHERE push_event_id = $1")
        .bind(push_event)
        .fetch_optional(conn)
        .await?;
    row.as_ref().map(|row| int(row, "id").map(PipelineId)).transpose()
}

/// The downstream pipeline a trigger job started, if it has.
pub async fn downstream_of(conn: &mut Conn, job: JobId) -> DbResult<Option<PipelineRow>> {
    let row = sqlx::query(select_pipelines!("WHERE p.upstream_job_id = $1")).bind(job.0).fetch_optional(conn).await?;
    row.as_ref().map(map_pipeline).transpose()
}

/// The downstream pipelines the trigger jobs of a pipeline started (every attempt's), oldest
/// first.
pub async fn downstream_pipelines(conn: &mut Conn, pipeline: PipelineId) -> DbResult<Vec<PipelineRow>> {
    let rows = sqlx::query(select_pipelines!(
        "WHERE p.upstream_job_id IN (SELECT id FROM ci_jobs WHERE pipeline_id = $1 AND bridge = 1) ORDER BY p.id"
    ))
    .bind(pipeline.0)
    .fetch_all(conn)
    .await?;
    rows.iter().map(map_pipeline).collect()
}

/// One pipeline by id.
pub async fn get_pipeline(conn: &mut Conn, id: PipelineId) -> DbResult<Option<PipelineRow>> {
    let row = sqlx::query(select_pipelines!("WHERE p.id = $1")).bind(id.0).fetch_optional(conn).await?;
    row.as_ref().map(map_pipeline).transpose()
}

/// The latest 100 pipelines a schedule started, newest first.
pub async fn schedule_pipelines(conn: &mut Conn, schedule: ScheduleId) -> DbResult<Vec<PipelineRow>> {
    let rows = sqlx::query(select_pipelines!("WHERE p.schedule_id = $1 ORDER BY p.id DESC LIMIT 100"))
        .bind(schedule.0)
        .fetch_all(conn)
        .await?;
    rows.iter().map(map_pipeline).collect()
}

/// Which pipelines a list shows.
#[derive(Debug, Clone, Default)]
pub struct PipelineFilter<'a> {
    /// One status, or `None` for all.
    pub status: Option<CiStatus>,
    pub ref_name: Option<&'a str>,
    pub sha: Option<&'a str>,
    pub source: Option<&'a str>,
    pub username: Option<&'a str>,
}

/// A project's pipelines, newest first, with their total.
pub async fn list_pipelines(
    conn: &mut Conn,
    project: ProjectId,
    filter: &PipelineFilter<'_>,
    page: Page,
) -> DbResult<(Vec<PipelineRow>, i64)> {
    // NULL parameters switch a condition off, so the statement stays one fixed text.
    let rows = sqlx::query(select_pipelines!(
        "WHERE p.project_id = $1 AND ($2 IS NULL OR p.status = $2) AND ($3 IS NULL OR p.ref_name = $3) \
         AND ($4 IS NULL OR p.sha = $4) AND ($5 IS NULL OR p.source = $5) AND ($6 IS NULL OR u.username = $6) \
         ORDER BY p.id DESC LIMIT $7 OFFSET $8"
    ))
    .bind(project.0)
    .bind(filter.status.map(CiStatus::as_str))
    .bind(filter.ref_name)
    .bind(filter.sha)
    .bind(filter.source)
    .bind(filter.username)
    .bind(page.limit)
    .bind(page.offset)
    .fetch_all(&mut *conn)
    .await?;
    let total = sqlx::query(
        "SELECT COUNT(*) AS n FROM ci_pipelines p LEFT JOIN users u ON u.id = p.user_id \
         WHERE p.project_id = $1 AND ($2 IS NULL OR p.status = $2) AND ($3 IS NULL OR p.ref_name = $3) \
         AND ($4 IS NULL OR p.sha = $4) AND ($5 IS NULL OR p.source = $5) AND ($6 IS NULL OR u.username = $6)",
    )
    .bind(project.0)
    .bind(filter.status.map(CiStatus::as_str))
    .bind(filter.ref_name)
    .bind(filter.sha)
    .bind(filter.source)
    .bind(filter.username)
    .fetch_one(conn)
    .await?;
    Ok((rows.iter().map(map_pipeline).collect::<DbResult<_>>()?, int(&total, "n")?))
}

/// The newest pipeline of a ref (for badges and branch lists).
pub async fn latest_pipeline_for_ref(
    conn: &mut Conn,
    project: ProjectId,
    ref_name: &str,
) -> DbResult<Option<PipelineRow>> {
    let row = sqlx::query(select_pipelines!(
        "WHERE p.project_id = $1 AND p.ref_name = $2 AND p.source <> 'parent_pipeline' ORDER BY p.id DESC LIMIT 1"
    ))
    .bind(project.0)
    .bind(ref_name)
    .fetch_optional(conn)
    .await?;
    row.as_ref().map(map_pipeline).transpose()
}

/// The newest finished (`success` or `failed`) pipeline of a ref older than pipeline `before`:
/// what a pipeline's test results are compared with.
pub async fn finished_pipeline_before(
    conn: &mut Conn,
    project: ProjectId,
    ref_name: &str,
    before: PipelineId,
) -> DbResult<Option<PipelineRow>> {
    let row = sqlx::query(select_pipelines!(
        "WHERE p.project_id = $1 AND p.ref_name = $2 AND p.id < $3 AND p.status IN ('success', 'failed') \
         AND p.source <> 'parent_pipeline' \
         ORDER BY p.id DESC LIMIT 1"
    ))
    .bind(project.0)
    .bind(ref_name)
    .bind(before.0)
    .fetch_optional(conn)
    .await?;
    row.as_ref().map(map_pipeline).transpose()
}

/// The newest pipeline of a commit.
pub async fn latest_pipeline_for_sha(conn: &mut Conn, project: ProjectId, sha: &str) -> DbResult<Option<PipelineRow>> {
    let row = sqlx::query(select_pipelines!(
        "WHERE p.project_id = $1 AND p.sha = $2 AND p.source <> 'parent_pipeline' ORDER BY p.id DESC LIMIT 1"
    ))
    .bind(project.0)
    .bind(sha)
    .fetch_optional(conn)
    .await?;
    row.as_ref().map(map_pipeline).transpose()
}

/// Older unfinished pipelines of the same ref (candidates for auto-cancel).
pub async fn older_active_pipelines(
    conn: &mut Conn,
    project: ProjectId,
    ref_name: &str,
    before: PipelineId,
) -> DbResult<Vec<PipelineId>> {
    let rows = sqlx::query(
        "SELECT id FROM ci_pipelines WHERE project_id = $1 AND ref_name = $2 AND id < $3 \
         AND source <> 'parent_pipeline' \
         AND status IN ('created', 'pending', 'running', 'manual', 'scheduled', 'waiting_for_resource')",
    )
    .bind(project.0)
    .bind(ref_name)
    .bind(before.0)
    .fetch_all(conn)
    .await?;
    rows.iter().map(|r| int(r, "id").map(PipelineId)).collect()
}

/// Pipelines that are not finished (resumed after a restart).
pub async fn unfinished_pipelines(conn: &mut Conn) -> DbResult<Vec<PipelineId>> {
    let rows = sqlx::query(
        "SELECT id FROM ci_pipelines WHERE status IN ('created', 'pending', 'running', 'scheduled', 'waiting_for_resource')",
    )
    .fetch_all(conn)
    .await?;
    rows.iter().map(|r| int(r, "id").map(PipelineId)).collect()
}

/// Sets a pipeline's status and its start and finish times.
pub async fn set_pipeline_status(
    conn: &mut Conn,
    id: PipelineId,
    status: CiStatus,
    started_at: Option<i64>,
    finished_at: Option<i64>,
) -> DbResult<()> {
    sqlx::query(
        "UPDATE ci_pipelines SET status = $1, started_at = COALESCE(started_at, $2), finished_at = $3, updated_at = $4 \
         WHERE id = $5",
    )
    .bind(status.as_str())
    .bind(started_at)
    .bind(finished_at)
    .bind(now_millis())
    .bind(id.0)
    .execute(conn)
    .await?;
    Ok(())
}

/// Deletes a pipeline with its jobs and logs.
pub async fn delete_pipeline(conn: &mut Conn, id: PipelineId) -> DbResult<bool> {
    let done = sqlx::query("DELETE FROM ci_pipelines WHERE id = $1").bind(id.0).execute(conn).await?;
    Ok(done.rows_affected() > 0)
}

/// A project's CI settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CiSettings {
    /// Empty: `.gitlab-ci.yml`, else `.gantry-ci.yml`.
    pub config_path: String,
    pub auto_cancel: bool,
    /// Job timeout in seconds.
    pub timeout: i64,
    /// Keep the artifacts of each ref's latest successful pipeline past their expiry.
    pub keep_latest_artifact: bool,
    /// Who may give variables to pipelines: `no_one_allowed`, `developer`, `maintainer` or
    /// `owner` (GitLab's `ci_pipeline_variables_minimum_override_role`).
    pub pipeline_variables_minimum_role: String,
}

/// Reads a project's CI settings.
pub async fn ci_settings(conn: &mut Conn, project: ProjectId) -> DbResult<CiSettings> {
    let row = sqlx::query(
        "SELECT ci_config_path, ci_auto_cancel, ci_timeout, ci_keep_latest_artifact, \
         ci_pipeline_variables_minimum_role FROM projects WHERE id = $1",
    )
    .bind(project.0)
    .fetch_one(conn)
    .await?;
    Ok(CiSettings {
        config_path: text(&row, "ci_config_path")?,
        auto_cancel: flag(&row, "ci_auto_cancel")?,
        timeout: int(&row, "ci_timeout")?,
        keep_latest_artifact: flag(&row, "ci_keep_latest_artifact")?,
        pipeline_variables_minimum_role: text(&row, "ci_pipeline_variables_minimum_role")?,
    })
}

/// Changes a project's CI settings.
pub async fn set_ci_settings(conn: &mut Conn, project: ProjectId, settings: &CiSettings) -> DbResult<()> {
    sqlx::query(
        "UPDATE projects SET ci_config_path = $1, ci_auto_cancel = $2, ci_timeout = $3, \
         ci_keep_latest_artifact = $4, ci_pipeline_variables_minimum_role = $5 WHERE id = $6",
    )
    .bind(&settings.config_path)
    .bind(i64::from(settings.auto_cancel))
    .bind(settings.timeout)
    .bind(i64::from(settings.keep_latest_artifact))
    .bind(&settings.pipeline_variables_minimum_role)
    .bind(project.0)
    .execute(conn)
    .await?;
    Ok(())
}

/// Takes the pipeline's row lock for the rest of the transaction, so two processes never
/// decide the same pipeline's jobs at once (SQLite's write transaction already serialises).
pub async fn lock_pipeline(conn: &mut Conn, backend: crate::Backend, id: PipelineId) -> DbResult<()> {
    if backend == crate::Backend::Postgres {
        sqlx::query("SELECT id FROM ci_pipelines WHERE id = $1 FOR UPDATE").bind(id.0).fetch_optional(conn).await?;
    }
    Ok(())
}

/// The newest pipeline of each of these commits (commit lists show their status).
pub async fn latest_pipelines_for_shas(
    conn: &mut Conn,
    project: ProjectId,
    shas: &[String],
) -> DbResult<std::collections::HashMap<String, PipelineRow>> {
    let joined = shas.join(",");
    let rows = sqlx::query(select_pipelines!(
        "WHERE p.project_id = $1 AND (',' || $2 || ',') LIKE ('%,' || p.sha || ',%') \
         AND p.source <> 'parent_pipeline' ORDER BY p.id"
    ))
    .bind(project.0)
    .bind(joined)
    .fetch_all(conn)
    .await?;
    let mut newest = std::collections::HashMap::new();
    for row in rows.iter() {
        let pipeline = map_pipeline(row)?;
        newest.insert(pipeline.sha.clone(), pipeline);
    }
    Ok(newest)
}
