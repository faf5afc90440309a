//! The `ci_jobs` table: the jobs of pipelines, their state machine's transitions (each one a
//! conditional update, so two replicas or runners never both win) and the queue runners take
//! pending jobs from.

use gantry_types::{CiStatus, JobId, PipelineId, ProjectId, RunnerId, UserId, When};
use sqlx::any::AnyRow;

use crate::row::{flag, int, opt_int, opt_text, parsed, text};
use crate::{Conn, DbResult, Page, now_millis};

/// A job without its definition (which only the runner needs).
#[derive(Debug, Clone)]
pub struct JobRow {
    pub id: JobId,
    pub pipeline_id: PipelineId,
    pub project_id: ProjectId,
    pub name: String,
    pub stage: String,
    pub stage_idx: i64,
    pub status: CiStatus,
    pub run_when: When,
    /// JSON of `gantry_ci::keywords::AllowFailure`.
    pub allow_failure: String,
    pub start_in: Option<i64>,
    pub scheduled_at: Option<i64>,
    /// JSON list of needed job names, or None to wait for the earlier stages.
    pub needs: Option<String>,
    pub tags: Vec<String>,
    pub interruptible: bool,
    pub resource_group: Option<String>,
    pub runner_id: Option<RunnerId>,
    pub attempt: i64,
    pub retried: bool,
    pub failure_reason: Option<String>,
    pub exit_code: Option<i64>,
    pub trace_size: i64,
    pub coverage: Option<f64>,
    pub user_id: Option<UserId>,
    pub created_at: i64,
    pub queued_at: Option<i64>,
    pub started_at: Option<i64>,
    pub finished_at: Option<i64>,
    pub heartbeat_at: Option<i64>,
    /// A trigger job: it starts a downstream pipeline and never goes to a runner.
    pub bridge: bool,
}

fn map_job(row: &AnyRow) -> DbResult<JobRow> {
    Ok(JobRow {
        id: JobId(int(row, "id")?),
        pipeline_id: PipelineId(int(row, "pipeline_id")?),
        project_id: ProjectId(int(row, "project_id")?),
        name: text(row, "name")?,
        stage: text(row, "stage")?,
        stage_idx: int(row, "stage_idx")?,
        status: parsed(row, "status", CiStatus::parse)?,
        run_when: parsed(row, "run_when", When::parse)?,
        allow_failure: text(row, "allow_failure")?,
        start_in: opt_int(row, "start_in")?,
        scheduled_at: opt_int(row, "scheduled_at")?,
        needs: opt_text(row, "needs")?,
        tags: super::runners::split_tags(&text(row, "tags")?),
        interruptible: flag(row, "interruptible")?,
        resource_group: opt_text(row, "resource_group")?,
        runner_id: opt_int(row, "runner_id")?.map(RunnerId),
        attempt: int(row, "attempt")?,
        retried: flag(row, "retried")?,
        failure_reason: opt_text(row, "failure_reason")?,
        exit_code: opt_int(row, "exit_code")?,
        trace_size: int(row, "trace_size")?,
        coverage: sqlx::Row::try_get::<Option<f64>, _>(row, "coverage")?,
        user_id: opt_int(row, "user_id")?.map(UserId),
        created_at: int(row, "created_at")?,
        queued_at: opt_int(row, "queued_at")?,
        started_at: opt_int(row, "started_at")?,
        finished_at: opt_int(row, "finished_at")?,
        heartbeat_at: opt_int(row, "heartbeat_at")?,
        bridge: flag(row, "bridge")?,
    })
}

macro_rules! select_jobs {
    ($rest:literal) => {
        concat!(
            "SELECT id, pipeline_id, project_id, name, stage, stage_idx, status, run_when, allow_failure, start_in, \
             scheduled_at, needs, tags, interruptible, resource_group, runner_id, attempt, retried, failure_reason, \
             exit_code, trace_size, coverage, user_id, created_at, queued_at, started_at, finished_at, heartbeat_at, \
             bridge FROM ci_jobs ",
            $rest
        )
    };
}

/// A job to store (in `created` state).
#[derive(Debug, Clone)]
pub struct NewJob<'a> {
    pub pipeline_id: PipelineId,
    pub project_id: ProjectId,
    pub name: &'a str,
    pub stage: &'a str,
    pub stage_idx: i64,
    pub run_when: When,
    pub allow_failure: &'a str,
    pub start_in: Option<i64>,
    pub needs: Option<&'a str>,
    pub definition: &'a str,
    pub tags: &'a [String],
    pub interruptible: bool,
    pub resource_group: Option<&'a str>,
    pub attempt: i64,
    pub user_id: Option<UserId>,
    /// A trigger job (see [`JobRow::bridge`]).
    pub bridge: bool,
}

/// Stores a job and returns its id.
pub async fn insert_job(conn: &mut Conn, job: &NewJob<'_>) -> DbResult<JobId> {
    let row = sqlx::query(
        "INSERT INTO ci_jobs (pipeline_id, project_id, name, stage, stage_idx, status, run_when, allow_failure, \
         start_in, needs, definition, tags, interruptible, resource_group, attempt, user_id, created_at, bridge) \
         VALUES ($1, $2, $3, $4, $5, 'created', $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17) RETURNING id",
    )
    .bind(job.pipeline_id.0)
    .bind(job.project_id.0)
    .bind(job.name)
    .bind(job.stage)
    .bind(job.stage_idx)
    .bind(job.run_when.as_str())
    .bind(job.allow_failure)
    .bind(job.start_in)
    .bind(job.needs)
    .bind(job.definition)
    .bind(super::runners::join_tags(job.tags))
    .bind(i64::from(job.interruptible))
    .bind(job.resource_group)
    .bind(job.attempt)
    .bind(job.user_id.map(|u| u.0))
    .bind(now_millis())
    .bind(i64::from(job.bridge))
    .fetch_one(conn)
    .await?;
    Ok(JobId(int(&row, "id")?))
}

/// One job by id.
pub async fn get_job(conn: &mut Conn, id: JobId) -> DbResult<Option<JobRow>> {
    let row = sqlx::query(select_jobs!("WHERE id = $1")).bind(id.0).fetch_optional(conn).await?;
    row.as_ref().map(map_job).transpose()
}

/// The newest successful job named `name` of the pipelines of a branch, or of a tag
/// (`is_tag`), called `ref_name`.
pub async fn latest_successful_job(
    conn: &mut Conn,
    project: ProjectId,
    ref_name: &str,
    is_tag: bool,
    name: &str,
) -> DbResult<Option<JobRow>> {
    let row = sqlx::query(select_jobs!(
        "WHERE project_id = $1 AND name = $2 AND status = 'success' \
         AND pipeline_id IN (SELECT id FROM ci_pipelines WHERE project_id = $1 AND ref_name = $3 AND is_tag = $4) \
         ORDER BY id DESC LIMIT 1"
    ))
    .bind(project.0)
    .bind(name)
    .bind(ref_name)
    .bind(i64::from(is_tag))
    .fetch_optional(conn)
    .await?;
    row.as_ref().map(map_job).transpose()
}

/// The running job holding this token digest.
pub async fn running_job_by_token(conn: &mut Conn, digest: &str) -> DbResult<Option<JobRow>> {
    let row = sqlx::query(select_jobs!("WHERE token_digest = $1 AND status = 'running'"))
        .bind(digest)
        .fetch_optional(conn)
        .await?;
    row.as_ref().map(map_job).transpose()
}

/// A job's definition (JSON).
pub async fn job_definition(conn: &mut Conn, id: JobId) -> DbResult<Option<String>> {
    let row = sqlx::query("SELECT definition FROM ci_jobs WHERE id = $1").bind(id.0).fetch_optional(conn).await?;
    row.as_ref().map(|r| text(r, "definition")).transpose()
}

/// Every job of a pipeline (retried attempts included), in creation order.
pub async fn pipeline_jobs(conn: &mut Conn, pipeline: PipelineId) -> DbResult<Vec<JobRow>> {
    let rows = sqlx::query(select_jobs!("WHERE pipeline_id = $1 ORDER BY id")).bind(pipeline.0).fetch_all(conn).await?;
    rows.iter().map(map_job).collect()
}

/// A project's latest job attempts, newest first, optionally only those in `statuses`
/// (empty: all), with the total.
pub async fn project_jobs(
    conn: &mut Conn,
    project: ProjectId,
    statuses: &[CiStatus],
    page: Page,
) -> DbResult<(Vec<JobRow>, i64)> {
    let statuses = status_list(statuses);
    let rows = sqlx::query(select_jobs!(
        "WHERE project_id = $1 AND retried = 0 AND bridge = 0 AND ($2 = '' OR (',' || $2 || ',') LIKE ('%,' || status || ',%')) \
         ORDER BY id DESC LIMIT $3 OFFSET $4"
    ))
    .bind(project.0)
    .bind(&statuses)
    .bind(page.limit)
    .bind(page.offset)
    .fetch_all(&mut *conn)
    .await?;
    let total = sqlx::query(
        "SELECT COUNT(*) AS n FROM ci_jobs WHERE project_id = $1 AND retried = 0 AND bridge = 0 \
         AND ($2 = '' OR (',' || $2 || ',') LIKE ('%,' || status || ',%'))",
    )
    .bind(project.0)
    .bind(&statuses)
    .fetch_one(conn)
    .await?;
    Ok((rows.iter().map(map_job).collect::<DbResult<_>>()?, int(&total, "n")?))
}

/// Moves a job from one of `from` to `to` (for transitions without side data); false when the
/// job was not in one of those states.
pub async fn transition(conn: &mut Conn, id: JobId, from: &[CiStatus], to: CiStatus) -> DbResult<bool> {
    let from = status_list(from);
    let now = now_millis();
    let done = sqlx::query(
        "UPDATE ci_jobs SET status = $1, \
         queued_at = CASE WHEN $1 = 'pending' THEN $2 ELSE queued_at END, \
         finished_at = CASE WHEN $1 IN ('success', 'failed', 'canceled', 'skipped') THEN $2 ELSE finished_at END, \
         token_digest = CASE WHEN $1 IN ('success', 'failed', 'canceled', 'skipped') THEN NULL ELSE token_digest END \
         WHERE id = $3 AND (',' || $4 || ',') LIKE ('%,' || status || ',%')",
    )
    .bind(to.as_str())
    .bind(now)
    .bind(id.0)
    .bind(from)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() > 0)
}

/// Schedules a delayed job: `created` → `scheduled`, due at `at`.
pub async fn schedule_job(conn: &mut Conn, id: JobId, at: i64) -> DbResult<bool> {
    let done =
        sqlx::query("UPDATE ci_jobs SET status = 'scheduled', scheduled_at = $1 WHERE id = $2 AND status = 'created'")
            .bind(at)
            .bind(id.0)
            .execute(conn)
            .await?;
    Ok(done.rows_affected() > 0)
}

/// Delayed jobs whose time has come.
pub async fn due_scheduled_jobs(conn: &mut Conn, now: i64) -> DbResult<Vec<JobRow>> {
    let rows = sqlx::query(select_jobs!("WHERE status = 'scheduled' AND scheduled_at <= $1 ORDER BY id"))
        .bind(now)
        .fetch_all(conn)
        .await?;
    rows.iter().map(map_job).collect()
}

/// The earliest time a delayed job is due, if any.
pub async fn next_scheduled_at(conn: &mut Conn) -> DbResult<Option<i64>> {
    let row =
        sqlx::query("SELECT MIN(scheduled_at) AS at FROM ci_jobs WHERE status = 'scheduled'").fetch_one(conn).await?;
    opt_int(&row, "at")
}

/// A pending job as the queue sees it.
#[derive(Debug, Clone)]
pub struct QueuedJob {
    pub id: JobId,
    pub project_id: ProjectId,
    pub pipeline_id: PipelineId,
    pub tags: Vec<String>,
    pub resource_group: Option<String>,
}

/// The oldest pending jobs after job `after`, of one project or all (a runner picks the first
/// it may run).
pub async fn pending_jobs(
    conn: &mut Conn,
    project: Option<ProjectId>,
    after: Option<JobId>,
    limit: i64,
) -> DbResult<Vec<QueuedJob>> {
    let rows = sqlx::query(
        "SELECT id, project_id, pipeline_id, tags, resource_group FROM ci_jobs \
         WHERE status = 'pending' AND bridge = 0 AND id > $1 AND ($2 IS NULL OR project_id = $2) ORDER BY id LIMIT $3",
    )
    .bind(after.map_or(0, |job| job.0))
    .bind(project.map(|p| p.0))
    .bind(limit)
    .fetch_all(conn)
    .await?;
    rows.iter()
        .map(|row| {
            Ok(QueuedJob {
                id: JobId(int(row, "id")?),
                project_id: ProjectId(int(row, "project_id")?),
                pipeline_id: PipelineId(int(row, "pipeline_id")?),
                tags: super::runners::split_tags(&text(row, "tags")?),
                resource_group: opt_text(row, "resource_group")?,
            })
        })
        .collect()
}

/// Whether another job of the project's resource group is running.
pub async fn resource_group_busy(conn: &mut Conn, project: ProjectId, group: &str) -> DbResult<bool> {
    let row = sqlx::query(
        "SELECT COUNT(*) AS n FROM ci_jobs WHERE project_id = $1 AND resource_group = $2 AND status = 'running'",
    )
    .bind(project.0)
    .bind(group)
    .fetch_one(conn)
    .await?;
    Ok(int(&row, "n")? > 0)
}

/// How many jobs a runner is running.
pub async fn running_count(conn: &mut Conn, runner: RunnerId) -> DbResult<i64> {
    let row = sqlx::query("SELECT COUNT(*) AS n FROM ci_jobs WHERE runner_id = $1 AND status = 'running'")
        .bind(runner.0)
        .fetch_one(conn)
        .await?;
    int(&row, "n")
}

/// Gives a pending job to a runner: `pending` → `running` with the job token's digest; false
/// when someone else took it first.
pub async fn claim_job(conn: &mut Conn, id: JobId, runner: RunnerId, token_digest: &str) -> DbResult<bool> {
    let now = now_millis();
    let done = sqlx::query(
        "UPDATE ci_jobs SET status = 'running', runner_id = $1, token_digest = $2, started_at = $3, heartbeat_at = $3, \
         trace_size = 0 WHERE id = $4 AND status = 'pending'",
    )
    .bind(runner.0)
    .bind(token_digest)
    .bind(now)
    .bind(id.0)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() > 0)
}

/// Ends a running job with the runner's verdict; false when it was no longer running.
pub async fn finish_job(
    conn: &mut Conn,
    id: JobId,
    status: CiStatus,
    failure_reason: Option<&str>,
    exit_code: Option<i64>,
) -> DbResult<bool> {
    let done = sqlx::query(
        "UPDATE ci_jobs SET status = $1, failure_reason = $2, exit_code = $3, finished_at = $4, token_digest = NULL \
         WHERE id = $5 AND status = 'running'",
    )
    .bind(status.as_str())
    .bind(failure_reason)
    .bind(exit_code)
    .bind(now_millis())
    .bind(id.0)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() > 0)
}

/// Records a sign of life from the runner of a running job.
pub async fn heartbeat(conn: &mut Conn, id: JobId) -> DbResult<()> {
    sqlx::query("UPDATE ci_jobs SET heartbeat_at = $1 WHERE id = $2 AND status = 'running'")
        .bind(now_millis())
        .bind(id.0)
        .execute(conn)
        .await?;
    Ok(())
}

/// Running jobs whose runner has been silent since `before`.
pub async fn silent_running_jobs(conn: &mut Conn, before: i64) -> DbResult<Vec<JobRow>> {
    let rows = sqlx::query(select_jobs!("WHERE status = 'running' AND bridge = 0 AND heartbeat_at < $1 ORDER BY id"))
        .bind(before)
        .fetch_all(conn)
        .await?;
    rows.iter().map(map_job).collect()
}

/// Running jobs started before `before` (past their timeout, checked by the caller).
pub async fn running_jobs_started_before(conn: &mut Conn, before: i64) -> DbResult<Vec<JobRow>> {
    let rows = sqlx::query(select_jobs!("WHERE status = 'running' AND bridge = 0 AND started_at < $1 ORDER BY id"))
        .bind(before)
        .fetch_all(conn)
        .await?;
    rows.iter().map(map_job).collect()
}

/// Moves a trigger job from one of `from` to `to`, with why it failed; its start time is set
/// when it starts waiting for its downstream pipeline, its finish time when it finishes. False
/// when the job was not in one of those states.
pub async fn bridge_transition(
    conn: &mut Conn,
    id: JobId,
    from: &[CiStatus],
    to: CiStatus,
    failure_reason: Option<&str>,
) -> DbResult<bool> {
    let now = now_millis();
    let finished = to.is_finished();
    let done = sqlx::query(
        "UPDATE ci_jobs SET status = $1, failure_reason = COALESCE($2, failure_reason), \
         started_at = COALESCE(started_at, $3), finished_at = CASE WHEN $4 = 1 THEN $3 ELSE NULL END \
         WHERE id = $5 AND bridge = 1 AND (',' || $6 || ',') LIKE ('%,' || status || ',%')",
    )
    .bind(to.as_str())
    .bind(failure_reason)
    .bind(now)
    .bind(i64::from(finished))
    .bind(id.0)
    .bind(status_list(from))
    .execute(conn)
    .await?;
    Ok(done.rows_affected() > 0)
}

/// Trigger jobs waiting (pending: to start their pipeline; running: for it to finish) since
/// before `before`, for the watchdog to look at again.
pub async fn waiting_bridges(conn: &mut Conn, before: i64) -> DbResult<Vec<JobRow>> {
    let rows = sqlx::query(select_jobs!(
        "WHERE bridge = 1 AND status IN ('pending', 'running') AND COALESCE(started_at, queued_at, created_at) < $1 \
         ORDER BY id LIMIT 100"
    ))
    .bind(before)
    .fetch_all(conn)
    .await?;
    rows.iter().map(map_job).collect()
}

/// Marks a job as replaced by a newer attempt.
pub async fn mark_retried(conn: &mut Conn, id: JobId) -> DbResult<()> {
    sqlx::query("UPDATE ci_jobs SET retried = 1 WHERE id = $1").bind(id.0).execute(conn).await?;
    Ok(())
}

/// Records who played, retried or canceled a job.
pub async fn set_job_user(conn: &mut Conn, id: JobId, user: Option<UserId>) -> DbResult<()> {
    sqlx::query("UPDATE ci_jobs SET user_id = $1 WHERE id = $2")
        .bind(user.map(|u| u.0))
        .bind(id.0)
        .execute(conn)
        .await?;
    Ok(())
}

/// Sets the coverage a job's log reported.
pub async fn set_coverage(conn: &mut Conn, id: JobId, coverage: f64) -> DbResult<()> {
    sqlx::query("UPDATE ci_jobs SET coverage = $1 WHERE id = $2").bind(coverage).bind(id.0).execute(conn).await?;
    Ok(())
}

/// Statuses as one comma-separated bind value, matched with `LIKE` (the same SQL on both
/// databases, without building a statement from strings).
pub(crate) fn status_list(statuses: &[CiStatus]) -> String {
    statuses.iter().map(|status| status.as_str()).collect::<Vec<_>>().join(",")
}
