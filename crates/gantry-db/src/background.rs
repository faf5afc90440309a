//! The `background_jobs` table: durable work queued in the transaction of the change that needs
//! it, claimed by one worker at a time (`FOR UPDATE SKIP LOCKED` on PostgreSQL, the single
//! writer on SQLite), leased so that a dead server's jobs are taken again, retried, and kept as
//! failed when their attempts run out. Done jobs are deleted.

use gantry_types::{BackgroundJobId, BackgroundStatus};
use sqlx::any::AnyRow;

use crate::row::{int, opt_text, parsed, text};
use crate::{Backend, Conn, DbError, DbResult, now_millis};

/// A job to queue.
#[derive(Debug, Clone)]
pub struct NewBackgroundJob<'a> {
    pub kind: &'a str,
    /// Its arguments, as JSON.
    pub payload: &'a str,
    /// A queued job with the same key is this job: it is pushed back to `run_at` and takes
    /// this payload instead of a second one being queued.
    pub dedupe_key: Option<&'a str>,
    pub max_attempts: i64,
    /// Not before (Unix ms).
    pub run_at: i64,
}

/// A job a worker took: run it, then [`complete`] or [`fail`] it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimedJob {
    pub id: BackgroundJobId,
    pub kind: String,
    pub payload: String,
    /// This attempt's number, from 1.
    pub attempt: i64,
    pub max_attempts: i64,
}

/// A job as the admin area shows it.
#[derive(Debug, Clone)]
pub struct BackgroundJobRow {
    pub id: BackgroundJobId,
    pub kind: String,
    pub payload: String,
    pub status: BackgroundStatus,
    pub attempts: i64,
    pub max_attempts: i64,
    pub run_at: i64,
    pub locked_by: Option<String>,
    pub last_error: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

/// How many jobs are in each state, for the admin area and `/metrics`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct QueueCounts {
    /// Queued and due now.
    pub ready: i64,
    /// Queued for later (a retry's backoff, a quiet period).
    pub scheduled: i64,
    pub running: i64,
    pub failed: i64,
}

fn map_job(row: &AnyRow) -> DbResult<BackgroundJobRow> {
    Ok(BackgroundJobRow {
        id: BackgroundJobId(int(row, "id")?),
        kind: text(row, "kind")?,
        payload: text(row, "payload")?,
        status: parsed(row, "status", BackgroundStatus::parse)?,
        attempts: int(row, "attempts")?,
        max_attempts: int(row, "max_attempts")?,
        run_at: int(row, "run_at")?,
        locked_by: opt_text(row, "locked_by")?,
        last_error: opt_text(row, "last_error")?,
        created_at: int(row, "created_at")?,
        updated_at: int(row, "updated_at")?,
    })
}

/// Queues a job; call inside the transaction of the change that needs it.
pub async fn enqueue(conn: &mut Conn, job: &NewBackgroundJob<'_>) -> DbResult<()> {
    let now = now_millis();
    sqlx::query(
        "INSERT INTO background_jobs (kind, payload, status, dedupe_key, attempts, max_attempts, run_at, \
         created_at, updated_at) VALUES ($1, $2, 'queued', $3, 0, $4, $5, $6, $6) \
         ON CONFLICT (dedupe_key) WHERE status = 'queued' \
         DO UPDATE SET payload = excluded.payload, run_at = excluded.run_at, updated_at = excluded.updated_at",
    )
    .bind(job.kind)
    .bind(job.payload)
    .bind(job.dedupe_key)
    .bind(job.max_attempts)
    .bind(job.run_at)
    .bind(now)
    .execute(conn)
    .await
    .map_err(DbError::classify)?;
    Ok(())
}

/// Takes the next due job for `worker` until `lease_until` (Unix ms): a queued one, or a
/// running one whose lease ran out (its server died). `None` when nothing is due.
pub async fn claim_next(
    conn: &mut Conn,
    backend: Backend,
    worker: &str,
    lease_until: i64,
) -> DbResult<Option<ClaimedJob>> {
    // SQLite has one writer at a time, so the inner select cannot race another claim there.
    macro_rules! claim_sql {
        ($lock:literal) => {
            concat!(
                "UPDATE background_jobs SET status = 'running', attempts = attempts + 1, locked_by = $1, \
                 locked_until = $2, updated_at = $3 \
                 WHERE id = (SELECT id FROM background_jobs WHERE run_at <= $3 \
                 AND (status = 'queued' OR (status = 'running' AND locked_until < $3)) \
                 ORDER BY run_at, id LIMIT 1 ",
                $lock,
                ") RETURNING id, kind, payload, attempts, max_attempts"
            )
        };
    }
    let sql = match backend {
        Backend::Postgres => claim_sql!("FOR UPDATE SKIP LOCKED"),
        Backend::Sqlite => claim_sql!(""),
    };
    let now = now_millis();
    let row = sqlx::query(sql).bind(worker).bind(lease_until).bind(now).fetch_optional(conn).await?;
    row.map(|row| {
        Ok(ClaimedJob {
            id: BackgroundJobId(int(&row, "id")?),
            kind: text(&row, "kind")?,
            payload: text(&row, "payload")?,
            attempt: int(&row, "attempts")?,
            max_attempts: int(&row, "max_attempts")?,
        })
    })
    .transpose()
}

/// Extends the lease of a job `worker` is still running; false when it is no longer theirs.
pub async fn renew(conn: &mut Conn, id: BackgroundJobId, worker: &str, lease_until: i64) -> DbResult<bool> {
    let done = sqlx::query(
        "UPDATE background_jobs SET locked_until = $1 WHERE id = $2 AND status = 'running' AND locked_by = $3",
    )
    .bind(lease_until)
    .bind(id.0)
    .bind(worker)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() > 0)
}

/// Removes a job that ran to its end.
pub async fn complete(conn: &mut Conn, id: BackgroundJobId, worker: &str) -> DbResult<()> {
    sqlx::query("DELETE FROM background_jobs WHERE id = $1 AND status = 'running' AND locked_by = $2")
        .bind(id.0)
        .bind(worker)
        .execute(conn)
        .await?;
    Ok(())
}

/// Records a failed attempt: queued again for `retry_at`, or failed for good when `retry_at`
/// is `None`.
pub async fn fail(
    conn: &mut Conn,
    id: BackgroundJobId,
    worker: &str,
    error: &str,
    retry_at: Option<i64>,
) -> DbResult<()> {
    sqlx::query(
        "UPDATE background_jobs SET status = $1, run_at = COALESCE($2, run_at), last_error = $3, \
         locked_by = NULL, locked_until = NULL, updated_at = $4 \
         WHERE id = $5 AND status = 'running' AND locked_by = $6",
    )
    .bind(if retry_at.is_some() { BackgroundStatus::Queued } else { BackgroundStatus::Failed }.as_str())
    .bind(retry_at)
    .bind(error)
    .bind(now_millis())
    .bind(id.0)
    .bind(worker)
    .execute(conn)
    .await
    .map_err(DbError::classify)?;
    Ok(())
}

/// Hands back, at once, the jobs a stopped worker whose name starts with `worker_prefix` held
/// (a server restarting on the same address cannot still be running them).
pub async fn release_held_by(conn: &mut Conn, worker_prefix: &str) -> DbResult<u64> {
    let done = sqlx::query(
        "UPDATE background_jobs SET locked_until = 0 \
         WHERE status = 'running' AND substr(locked_by, 1, length($1)) = $1",
    )
    .bind(worker_prefix)
    .execute(conn)
    .await?;
    Ok(done.rows_affected())
}

/// Queues a failed job again, now, with a fresh set of attempts; false when it is not failed.
pub async fn retry_failed(conn: &mut Conn, id: BackgroundJobId) -> DbResult<bool> {
    let done = sqlx::query(
        "UPDATE background_jobs SET status = 'queued', attempts = 0, run_at = $1, updated_at = $1 \
         WHERE id = $2 AND status = 'failed'",
    )
    .bind(now_millis())
    .bind(id.0)
    .execute(conn)
    .await
    .map_err(DbError::classify)?;
    Ok(done.rows_affected() > 0)
}

/// Deletes a failed job (an admin gave up on it); false when it is not failed.
pub async fn discard_failed(conn: &mut Conn, id: BackgroundJobId) -> DbResult<bool> {
    let done =
        sqlx::query("DELETE FROM background_jobs WHERE id = $1 AND status = 'failed'").bind(id.0).execute(conn).await?;
    Ok(done.rows_affected() > 0)
}

/// How many jobs are ready, scheduled, running and failed.
pub async fn counts(conn: &mut Conn) -> DbResult<QueueCounts> {
    let row = sqlx::query(
        "SELECT \
         COUNT(*) FILTER (WHERE status = 'queued' AND run_at <= $1) AS ready, \
         COUNT(*) FILTER (WHERE status = 'queued' AND run_at > $1) AS scheduled, \
         COUNT(*) FILTER (WHERE status = 'running') AS running, \
         COUNT(*) FILTER (WHERE status = 'failed') AS failed \
         FROM background_jobs",
    )
    .bind(now_millis())
    .fetch_one(conn)
    .await?;
    Ok(QueueCounts {
        ready: int(&row, "ready")?,
        scheduled: int(&row, "scheduled")?,
        running: int(&row, "running")?,
        failed: int(&row, "failed")?,
    })
}

/// Jobs in one state (`queued`, `running`, `failed`), oldest first, at most `limit`.
pub async fn list(conn: &mut Conn, status: BackgroundStatus, limit: i64) -> DbResult<Vec<BackgroundJobRow>> {
    let rows = sqlx::query(
        "SELECT id, kind, payload, status, attempts, max_attempts, run_at, locked_by, last_error, created_at, \
         updated_at FROM background_jobs WHERE status = $1 ORDER BY run_at, id LIMIT $2",
    )
    .bind(status.as_str())
    .bind(limit)
    .fetch_all(conn)
    .await?;
    rows.iter().map(map_job).collect()
}
