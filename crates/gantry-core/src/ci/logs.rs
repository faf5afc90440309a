//! Finished jobs' logs leave the database: their pieces become one blob in the object store,
//! with an index of where each runner piece starts, so reading from any runner offset (a live
//! viewer resuming) works the same before and after. The archive is recorded first, then the
//! pieces are dropped in small batches from the end: a reader takes pieces while there are and
//! the archive after them, and never waits on one long delete.

use gantry_types::JobId;
use std::io::{Read, Seek, SeekFrom};

use gantry_blob::Digest;
use gantry_db::ci::traces;

use crate::{CoreError, CoreResult};

impl super::Ci<'_> {
    /// Moves a finished job's log into the object store (nothing to do without pieces).
    pub(crate) async fn archive_job_trace(&self, job: JobId) -> CoreResult<()> {
        let mut conn = self.db.conn().await?;
        let mut writer = self.blobs.writer(u64::MAX).await.map_err(|e| CoreError::Internal(Box::new(e)))?;
        let mut index: Vec<(i64, u64)> = Vec::new();
        let mut from = 0;
        loop {
            let pieces = traces::read_trace(&mut conn, job, from, 256).await?;
            let Some((last, _)) = pieces.last() else { break };
            from = last + 1;
            for (offset, bytes) in pieces {
                index.push((offset, writer.size()));
                writer.write(&bytes).await.map_err(|e| CoreError::Internal(Box::new(e)))?;
            }
        }
        drop(conn);
        if index.is_empty() {
            return Ok(());
        }
        let blob = writer.finish().await.map_err(|e| CoreError::Internal(Box::new(e)))?;
        let index = serde_json::to_string(&index).map_err(|e| CoreError::Internal(Box::new(e)))?;
        let mut conn = self.db.conn().await?;
        // Two archivers of one job (the finish hook and the sweeper) may race: the first archive
        // recorded wins, and the loser, which may have read pieces the winner was already
        // dropping, leaves it alone.
        if !traces::set_trace_archive(&mut conn, job, blob.digest.as_str(), &index).await? {
            return Ok(());
        }
        drop(conn);
        self.drop_trace_pieces(job).await
    }

    async fn drop_trace_pieces(&self, job: JobId) -> CoreResult<()> {
        loop {
            let mut conn = self.db.conn().await?;
            if traces::drop_trace_pieces(&mut conn, job, 64).await? == 0 {
                return Ok(());
            }
            drop(conn);
            tokio::task::yield_now().await;
        }
    }

    /// Archives the logs of finished jobs a stopped server left in pieces; how many.
    pub(crate) async fn archive_leftover_traces(&self) -> CoreResult<usize> {
        let mut conn = self.db.conn().await?;
        let jobs = traces::finished_jobs_with_pieces(&mut conn, 100).await?;
        drop(conn);
        for &(job, archived) in &jobs {
            if archived {
                self.drop_trace_pieces(job).await?;
            } else {
                self.archive_job_trace(job).await?;
            }
        }
        Ok(jobs.len())
    }

    /// Up to `limit` pieces of an archived log from runner offset `from` on, as `(offset,
    /// bytes)`; empty when the job's log is not archived.
    pub(crate) async fn archived_trace_pieces(
        &self,
        conn: &mut gantry_db::Conn,
        job: JobId,
        from: i64,
        limit: usize,
    ) -> CoreResult<Vec<(i64, Vec<u8>)>> {
        let Some((digest, index)) = traces::trace_archive(conn, job).await? else { return Ok(Vec::new()) };
        let index: Vec<(i64, u64)> = serde_json::from_str(&index).map_err(|e| CoreError::Internal(Box::new(e)))?;
        let first = index.partition_point(|(offset, _)| *offset < from);
        let wanted: Vec<(i64, u64, Option<u64>)> = index[first..]
            .iter()
            .enumerate()
            .take(limit)
            .map(|(i, (offset, start))| (*offset, *start, index.get(first + i + 1).map(|(_, next)| *next)))
            .collect();
        if wanted.is_empty() {
            return Ok(Vec::new());
        }
        let digest = Digest::parse(&digest).map_err(|e| CoreError::Internal(Box::new(e)))?;
        self.read_blob_blocking(&digest, move |mut file| {
            let io = |e: std::io::Error| CoreError::Internal(Box::new(e));
            let mut pieces = Vec::with_capacity(wanted.len());
            file.seek(SeekFrom::Start(wanted[0].1)).map_err(io)?;
            for (offset, start, end) in wanted {
                let mut bytes = Vec::new();
                match end {
                    Some(end) => {
                        bytes.resize(usize::try_from(end - start).unwrap_or(0), 0);
                        file.read_exact(&mut bytes).map_err(io)?;
                    }
                    None => {
                        file.read_to_end(&mut bytes).map_err(io)?;
                    }
                }
                pieces.push((offset, bytes));
            }
            Ok(pieces)
        })
        .await
    }
}
