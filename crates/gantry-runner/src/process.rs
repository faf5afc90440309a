//! Running one process of a job: its standard output and error go through one pipe into the
//! job's log, it runs in a process group of its own, and a deadline or a stop from outside
//! kills that whole group (and so whatever the script started in the background).

use std::io;
use std::process::{ExitStatus, Stdio};
use std::sync::Arc;
use std::time::Duration;

use rustix::process::{Pid, Signal, kill_process_group};
use tokio::io::AsyncReadExt;
use tokio::net::unix::pipe;
use tokio::process::{Child, Command};
use tokio::sync::watch;
use tokio::time::{Instant, sleep_until};

use crate::trace::JobLog;

/// How long output is still read after the process ended, for what it wrote just before.
pub(crate) const OUTPUT_GRACE: Duration = Duration::from_secs(2);
/// How much of the end of a process's output is kept for telling why it failed.
const TAIL_LIMIT: usize = 8 * 1024;
const READ_SIZE: usize = 64 * 1024;

/// Why a job is stopped from outside.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum StopReason {
    /// The server no longer runs the job (`Job-Status: canceled`, or 403).
    Canceled,
    /// The runner is shutting down.
    Shutdown,
    /// The job passed one of its limits.
    OverLimit(OverLimit),
}

/// A limit a sandboxed job passed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum OverLimit {
    /// Bytes its directories may hold.
    Disk(u64),
    /// Processes it may have (a fork bomb, most likely).
    Processes(u64),
}

impl OverLimit {
    /// Why the job failed, for its log and the server.
    pub(crate) fn describe(self) -> String {
        match self {
            OverLimit::Disk(bytes) => {
                format!("the job's files grew past its limit of {} MiB; it was stopped", bytes >> 20)
            }
            OverLimit::Processes(count) => {
                format!("the job stayed at its limit of {count} processes (a fork bomb?); it was stopped")
            }
        }
    }
}

/// Stops a job; the first reason given wins. Cheap to clone.
#[derive(Clone)]
pub(crate) struct JobStopper(Arc<watch::Sender<Option<StopReason>>>);

/// Tells whether a job was stopped.
pub(crate) type StopListener = watch::Receiver<Option<StopReason>>;

impl JobStopper {
    pub(crate) fn new() -> (JobStopper, StopListener) {
        let (sender, receiver) = watch::channel(None);
        (JobStopper(Arc::new(sender)), receiver)
    }

    pub(crate) fn stop(&self, reason: StopReason) {
        self.0.send_if_modified(|current| {
            if current.is_some() {
                return false;
            }
            *current = Some(reason);
            true
        });
    }
}

/// How a process ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ProcessEnd {
    Exited(ExitStatus),
    /// The deadline passed; the process group was killed.
    TimedOut,
    /// Stopped from outside; the process group was killed.
    Stopped(StopReason),
}

/// A finished process: how it ended and the last bytes of its output (unmasked: for
/// classifying failures, never for printing).
pub(crate) struct ProcessRun {
    pub(crate) end: ProcessEnd,
    pub(crate) tail: Vec<u8>,
}

/// Runs `command` to its end, its output into `log`. When `deadline` passes or `stop` says so,
/// the process group is killed. When the process ends by itself, what is left of its group
/// (background processes) is killed too: a job step leaves nothing running behind.
pub(crate) async fn run_process(
    mut command: Command,
    log: &mut JobLog,
    deadline: Instant,
    stop: &mut StopListener,
) -> io::Result<ProcessRun> {
    let (sender, receiver) = pipe::pipe()?;
    let writer = sender.into_blocking_fd()?;
    command
        .stdin(Stdio::null())
        .stdout(Stdio::from(writer.try_clone()?))
        .stderr(Stdio::from(writer))
        .process_group(0)
        .kill_on_drop(true);
    let spawned = command.spawn();
    // The command holds the pipe's write ends: drop them, or the output never ends.
    drop(command);
    let mut child = spawned?;
    let group = child.id().and_then(|id| i32::try_from(id).ok()).and_then(Pid::from_raw);

    let (ended_sender, ended) = watch::channel(None);
    let mut tail = Vec::new();
    let pump = pump_output(receiver, log, ended, &mut tail);
    let supervise = supervise(&mut child, group, deadline, stop, &ended_sender);
    let (pumped, end) = tokio::join!(pump, supervise);
    if let Err(error) = pumped {
        tracing::warn!(error = %error, "reading a job process's output failed");
    }
    Ok(ProcessRun { end: end?, tail })
}

/// Waits for the process, its deadline or a stop; kills the group; tells the pump when.
async fn supervise(
    child: &mut Child,
    group: Option<Pid>,
    deadline: Instant,
    stop: &mut StopListener,
    ended: &watch::Sender<Option<Instant>>,
) -> io::Result<ProcessEnd> {
    let end = tokio::select! {
        status = child.wait() => status.map(ProcessEnd::Exited),
        () = sleep_until(deadline) => Ok(ProcessEnd::TimedOut),
        reason = stopped(stop) => Ok(ProcessEnd::Stopped(reason)),
    };
    kill_group(group);
    if !matches!(end, Ok(ProcessEnd::Exited(_))) {
        // The kill reached the child too: this returns at once.
        let _ = child.wait().await;
    }
    let _ = ended.send(Some(Instant::now() + OUTPUT_GRACE));
    end
}

/// Copies the output into the log until its end, or until the process has ended and nothing
/// more came for a moment (a process that left the group may hold the pipe open).
async fn pump_output(
    mut receiver: pipe::Receiver,
    log: &mut JobLog,
    mut ended: watch::Receiver<Option<Instant>>,
    tail: &mut Vec<u8>,
) -> io::Result<()> {
    let mut buffer = vec![0; READ_SIZE];
    loop {
        let grace = *ended.borrow_and_update();
        let read = tokio::select! {
            biased;
            read = receiver.read(&mut buffer) => read?,
            changed = ended.changed(), if grace.is_none() => {
                if changed.is_err() {
                    return Ok(());
                }
                continue;
            }
            () = sleep_until(grace.unwrap_or_else(Instant::now)), if grace.is_some() => return Ok(()),
        };
        if read == 0 {
            return Ok(());
        }
        keep_tail(tail, &buffer[..read]);
        log.write(&buffer[..read]).await;
    }
}

/// Waits until the job is stopped; why.
pub(crate) async fn stopped(stop: &mut StopListener) -> StopReason {
    let reason = stop.wait_for(Option::is_some).await.ok().and_then(|reason| *reason);
    match reason {
        Some(reason) => reason,
        // Nobody can stop the job any more.
        None => std::future::pending().await,
    }
}

/// Kills every process of the group. A group that is gone already is fine.
pub(crate) fn kill_group(group: Option<Pid>) {
    let Some(group) = group else { return };
    // Never signal init's group (`kill(-1)` would reach every process).
    if group.as_raw_pid() <= 1 {
        return;
    }
    match kill_process_group(group, Signal::KILL) {
        Ok(()) => {}
        Err(error) if error == rustix::io::Errno::SRCH => {}
        Err(error) => {
            tracing::warn!(process.group = group.as_raw_pid(), error = %error, "cannot kill a job's processes")
        }
    }
}

/// Keeps the last bytes of a process's output.
pub(crate) fn keep_tail(tail: &mut Vec<u8>, bytes: &[u8]) {
    tail.extend_from_slice(bytes);
    if tail.len() > TAIL_LIMIT {
        tail.drain(..tail.len() - TAIL_LIMIT);
    }
}
