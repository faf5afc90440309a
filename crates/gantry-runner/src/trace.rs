//! A job's log on its way to the server: masked ([`JobLog`]), buffered with a cap, and sent by
//! one uploader task that starts a `PATCH` as soon as the previous one is answered, so the first
//! line arrives at once and a fast job costs few requests. When the server is slower than the
//! job the buffer fills up and the job's output waits; no byte is dropped unless the server
//! stops answering altogether.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use gantry_ci::mask::Masker;
use tokio::sync::Notify;
use tokio::task::JoinHandle;
use tokio::time::Instant;

use crate::client::{ServerClient, TraceAnswer, job_status_stops};
use crate::process::{JobStopper, StopReason};

/// The most one `PATCH` carries.
pub(crate) const PATCH_LIMIT: usize = 1 << 20;
/// The most the buffer holds before writers wait.
pub(crate) const BUFFER_CAP: usize = 16 << 20;
/// How long the server may fail every request before the log is given up.
const GIVE_UP_AFTER: Duration = Duration::from_secs(5 * 60);
const FIRST_RETRY: Duration = Duration::from_secs(1);
const LAST_RETRY: Duration = Duration::from_secs(10);

/// Where a job's log goes: masks secrets, then queues for the uploader.
pub(crate) struct JobLog {
    masker: Masker,
    trace: TraceWriter,
    /// Whether what was written so far ends with a newline (or nothing was written).
    at_line_start: bool,
}

impl JobLog {
    pub(crate) fn new(masker: Masker, trace: TraceWriter) -> JobLog {
        JobLog { masker, trace, at_line_start: true }
    }

    /// Appends bytes to the log (waits while the buffer is full).
    pub(crate) async fn write(&mut self, bytes: &[u8]) {
        if let Some(last) = bytes.last() {
            self.at_line_start = *last == b'\n';
        }
        let masked = self.masker.push(bytes);
        if !masked.is_empty() {
            self.trace.write(&masked).await;
        }
    }

    /// Appends a line of text, on a line of its own even when the output before it did not
    /// end its last line (section markers are only seen at the start of a line).
    pub(crate) async fn line(&mut self, text: &str) {
        let start = if self.at_line_start { "" } else { "\n" };
        self.write(format!("{start}{text}\n").as_bytes()).await;
    }

    /// Ends the log: releases what the masker held back and waits until the server has it all
    /// (or the upload was given up).
    pub(crate) async fn finish(mut self) {
        let rest = self.masker.finish();
        if !rest.is_empty() {
            self.trace.write(&rest).await;
        }
        self.trace.finish().await;
    }
}

/// The writing end of a trace upload.
pub(crate) struct TraceWriter {
    shared: Arc<Shared>,
    uploader: JoinHandle<()>,
}

struct Shared {
    state: Mutex<Buffer>,
    /// Wakes the uploader: bytes arrived or the log ended.
    data: Notify,
    /// Wakes the writer: the server took bytes, so there is room.
    room: Notify,
}

#[derive(Default)]
struct Buffer {
    /// Bytes the server does not hold yet, starting at `offset` of the log.
    pending: VecDeque<u8>,
    offset: u64,
    closed: bool,
    /// The upload was given up: writes are dropped.
    abandoned: bool,
}

/// Starts uploading job `job_id`'s log; a stop from the server (`403`, `Job-Status: canceled`)
/// goes to `stopper`.
pub(crate) fn start(client: ServerClient, job_id: i64, job_token: String, stopper: JobStopper) -> TraceWriter {
    let shared = Arc::new(Shared { state: Mutex::default(), data: Notify::new(), room: Notify::new() });
    let uploader = tokio::spawn(upload(client, job_id, job_token, stopper, Arc::clone(&shared)));
    TraceWriter { shared, uploader }
}

impl TraceWriter {
    /// Queues bytes, waiting while the buffer is at its cap.
    pub(crate) async fn write(&self, bytes: &[u8]) {
        loop {
            let room = self.shared.room.notified();
            {
                let mut buffer = self.shared.lock();
                if buffer.abandoned {
                    return;
                }
                if buffer.pending.len() < BUFFER_CAP {
                    buffer.pending.extend(bytes);
                    self.shared.data.notify_one();
                    return;
                }
            }
            room.await;
        }
    }

    /// Ends the log and waits until the uploader has sent it all or given up.
    pub(crate) async fn finish(self) {
        self.shared.lock().closed = true;
        self.shared.data.notify_one();
        if let Err(error) = self.uploader.await {
            tracing::error!(error = %error, "the job log uploader failed");
        }
    }
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Buffer> {
        self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The next piece to send, or `None` when the log ended and everything was sent.
    async fn next_piece(&self) -> Option<(u64, Vec<u8>)> {
        loop {
            let data = self.data.notified();
            {
                let buffer = self.lock();
                if !buffer.pending.is_empty() {
                    let piece = buffer.pending.iter().take(PATCH_LIMIT).copied().collect();
                    return Some((buffer.offset, piece));
                }
                if buffer.closed {
                    return None;
                }
            }
            data.await;
        }
    }

    /// The server holds `length` bytes: forget those and say how many that was, or say that it
    /// cannot be.
    fn accepted(&self, length: u64) -> Result<usize, String> {
        let mut buffer = self.lock();
        let end = buffer.offset + buffer.pending.len() as u64;
        if length < buffer.offset || length > end {
            return Err(format!(
                "the server holds {length} bytes of the log, the runner expected {} to {end}",
                buffer.offset
            ));
        }
        let taken = (length - buffer.offset) as usize;
        buffer.pending.drain(..taken);
        buffer.offset = length;
        drop(buffer);
        if taken > 0 {
            self.room.notify_one();
        }
        Ok(taken)
    }

    fn abandon(&self) {
        let mut buffer = self.lock();
        buffer.abandoned = true;
        buffer.pending = VecDeque::new();
        drop(buffer);
        self.room.notify_one();
    }
}

async fn upload(client: ServerClient, job_id: i64, job_token: String, stopper: JobStopper, shared: Arc<Shared>) {
    let mut failing_since: Option<Instant> = None;
    let mut retry = FIRST_RETRY;
    while let Some((offset, piece)) = shared.next_piece().await {
        let answer = client.patch_trace(job_id, &job_token, offset, piece).await;
        let taken = match answer {
            Ok(TraceAnswer::Accepted { length, job_status }) => {
                if job_status_stops(job_status.as_deref()) {
                    stopper.stop(StopReason::Canceled);
                }
                shared.accepted(length)
            }
            Ok(TraceAnswer::WrongOffset { length: Some(length) }) => {
                tracing::debug!(
                    job.id = job_id,
                    offset,
                    server.length = length,
                    "resending the log from the server's offset"
                );
                shared.accepted(length)
            }
            Ok(TraceAnswer::WrongOffset { length: None }) => {
                Err("the server refused the log's offset without saying its own".to_owned())
            }
            Ok(TraceAnswer::JobStopped) => {
                stopper.stop(StopReason::Canceled);
                tracing::info!(job.id = job_id, "the server no longer takes this job's log");
                shared.abandon();
                return;
            }
            Err(error) => {
                tracing::warn!(job.id = job_id, error = %error, retry_in = ?retry, "sending the job log failed; retrying");
                Ok(0)
            }
        };
        match taken {
            Err(reason) => {
                tracing::error!(job.id = job_id, reason, "giving up sending the job log");
                shared.abandon();
                return;
            }
            Ok(0) => {
                // No progress (the server failed, or took nothing): wait before asking again.
                let since = *failing_since.get_or_insert_with(Instant::now);
                if since.elapsed() >= GIVE_UP_AFTER {
                    tracing::error!(
                        job.id = job_id,
                        "giving up sending the job log: the server has taken none of it for minutes"
                    );
                    shared.abandon();
                    return;
                }
                tokio::time::sleep(retry).await;
                retry = (retry * 2).min(LAST_RETRY);
            }
            Ok(_) => {
                failing_since = None;
                retry = FIRST_RETRY;
            }
        }
    }
}
