//! The `ci_trace_chunks` table: a job's log as the runner sends it (after masking), keyed by
//! the runner's byte offset so a retried upload is recognised and a live viewer can resume; and
//! the archive a finished job's pieces become (a blob and an index of where each piece starts).

use gantry_types::JobId;
use sqlx::Row;

use crate::row::{int, opt_text};
use crate::{Conn, DbResult};

/// Takes bytes `offset..offset + length` of a running job's log for a piece (heartbeat
/// included): the held-back bytes of the last piece (sealed), or `Err` with the log's size
/// when `offset` is not where the log ends or the job is not running. Call in a transaction
/// with [`store_trace_piece`]: the row stays locked until then, so pieces never interleave.
pub async fn reserve_trace(
    conn: &mut Conn,
    job: JobId,
    offset: i64,
    length: i64,
) -> DbResult<Result<Option<String>, i64>> {
    let row = sqlx::query(
        "UPDATE ci_jobs SET trace_size = trace_size + $1, heartbeat_at = $2 \
         WHERE id = $3 AND trace_size = $4 AND status = 'running' RETURNING trace_held",
    )
    .bind(length)
    .bind(crate::now_millis())
    .bind(job.0)
    .bind(offset)
    .fetch_optional(&mut *conn)
    .await?;
    match row {
        Some(row) => Ok(Ok(opt_text(&row, "trace_held")?)),
        None => {
            let row =
                sqlx::query("SELECT trace_size FROM ci_jobs WHERE id = $1").bind(job.0).fetch_optional(conn).await?;
            Ok(Err(row.as_ref().map(|r| int(r, "trace_size")).transpose()?.unwrap_or(0)))
        }
    }
}

/// Stores the (masked) piece at runner offset `offset` and what masking holds back now.
pub async fn store_trace_piece(
    conn: &mut Conn,
    job: JobId,
    offset: i64,
    data: &[u8],
    held: Option<&str>,
) -> DbResult<()> {
    sqlx::query("UPDATE ci_jobs SET trace_held = $1 WHERE id = $2").bind(held).bind(job.0).execute(&mut *conn).await?;
    if !data.is_empty() {
        sqlx::query("INSERT INTO ci_trace_chunks (job_id, seq, data) VALUES ($1, $2, $3)")
            .bind(job.0)
            .bind(offset)
            .bind(data)
            .execute(conn)
            .await?;
    }
    Ok(())
}

/// What masking held back of a job's log (sealed), which it forgets: the log has ended.
pub async fn take_trace_held(conn: &mut Conn, job: JobId) -> DbResult<Option<String>> {
    let row =
        sqlx::query("SELECT trace_held FROM ci_jobs WHERE id = $1").bind(job.0).fetch_optional(&mut *conn).await?;
    let held = row.as_ref().map(|row| opt_text(row, "trace_held")).transpose()?.flatten();
    if held.is_some() {
        sqlx::query("UPDATE ci_jobs SET trace_held = NULL WHERE id = $1").bind(job.0).execute(conn).await?;
    }
    Ok(held)
}

/// Stores the masker's held-back end of a log when the job finishes, after the last piece.
pub async fn append_tail(conn: &mut Conn, job: JobId, data: &[u8]) -> DbResult<()> {
    if data.is_empty() {
        return Ok(());
    }
    let row = sqlx::query("SELECT trace_size FROM ci_jobs WHERE id = $1").bind(job.0).fetch_one(&mut *conn).await?;
    sqlx::query("INSERT INTO ci_trace_chunks (job_id, seq, data) VALUES ($1, $2, $3)")
        .bind(job.0)
        .bind(int(&row, "trace_size")?)
        .bind(data)
        .execute(conn)
        .await?;
    Ok(())
}

/// The stored pieces from the runner offset `from` on, as `(offset, bytes)`, at most `limit`.
pub async fn read_trace(conn: &mut Conn, job: JobId, from: i64, limit: i64) -> DbResult<Vec<(i64, Vec<u8>)>> {
    let rows =
        sqlx::query("SELECT seq, data FROM ci_trace_chunks WHERE job_id = $1 AND seq >= $2 ORDER BY seq LIMIT $3")
            .bind(job.0)
            .bind(from)
            .bind(limit)
            .fetch_all(conn)
            .await?;
    rows.iter().map(|r| Ok((int(r, "seq")?, r.try_get::<Vec<u8>, _>("data")?))).collect()
}

/// Records that a finished job's log is the blob `digest` (with `index`, JSON of `[[runner
/// offset, byte position], …]`). Its pieces are dropped afterwards by [`drop_trace_pieces`].
pub async fn set_trace_archive(conn: &mut Conn, job: JobId, digest: &str, index: &str) -> DbResult<bool> {
    let done = sqlx::query("UPDATE ci_jobs SET trace_blob = $1, trace_index = $2 WHERE id = $3 AND trace_blob IS NULL")
        .bind(digest)
        .bind(index)
        .bind(job.0)
        .execute(conn)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// Drops up to `batch` of a job's log pieces, the last ones first, so that what is left is
/// always the start of the log (a reader takes pieces while there are, then the archive).
/// Returns how many went.
pub async fn drop_trace_pieces(conn: &mut Conn, job: JobId, batch: i64) -> DbResult<u64> {
    let done = sqlx::query(
        "DELETE FROM ci_trace_chunks WHERE job_id = $1 AND seq IN \
         (SELECT seq FROM ci_trace_chunks WHERE job_id = $1 ORDER BY seq DESC LIMIT $2)",
    )
    .bind(job.0)
    .bind(batch)
    .execute(conn)
    .await?;
    Ok(done.rows_affected())
}

/// A job's archived log: the blob's digest and the index of its pieces.
pub async fn trace_archive(conn: &mut Conn, job: JobId) -> DbResult<Option<(String, String)>> {
    let row = sqlx::query("SELECT trace_blob, trace_index FROM ci_jobs WHERE id = $1 AND trace_blob IS NOT NULL")
        .bind(job.0)
        .fetch_optional(conn)
        .await?;
    row.map(|row| Ok((crate::row::text(&row, "trace_blob")?, crate::row::text(&row, "trace_index")?))).transpose()
}

/// Finished jobs with log pieces left, and whether their archive exists already (a server
/// stopped before archiving them, or before dropping the pieces).
pub async fn finished_jobs_with_pieces(conn: &mut Conn, limit: i64) -> DbResult<Vec<(JobId, bool)>> {
    let rows = sqlx::query(
        "SELECT DISTINCT c.job_id, CASE WHEN j.trace_blob IS NULL THEN 0 ELSE 1 END AS archived \
         FROM ci_trace_chunks c JOIN ci_jobs j ON j.id = c.job_id \
         WHERE j.status IN ('success', 'failed', 'canceled', 'skipped') LIMIT $1",
    )
    .bind(limit)
    .fetch_all(conn)
    .await?;
    rows.iter().map(|row| Ok((JobId(int(row, "job_id")?), int(row, "archived")? != 0))).collect()
}
