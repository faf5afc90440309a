//! One container of a job run to its end, as `process.rs` runs a process: attached before it
//! starts (so no output is missed), its standard output and error copied into the job's log as
//! they come (the log's backpressure reaches the container: Docker stops reading its output
//! while the runner does), and killed when the deadline passes or the job is stopped.

use std::os::unix::process::ExitStatusExt;
use std::process::ExitStatus;

use bollard::Docker;
use bollard::container::LogOutput;
use bollard::errors::Error;
use bollard::query_parameters::{AttachContainerOptions, KillContainerOptions, WaitContainerOptions};
use futures_util::{Stream, StreamExt};
use tokio::sync::watch;
use tokio::time::{Instant, sleep_until};

use crate::process::{OUTPUT_GRACE, ProcessEnd, ProcessRun, StopListener, keep_tail, stopped};
use crate::trace::JobLog;

/// Why a container could not be run.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ContainerError {
    /// The engine refused to start it: mostly the image's fault (no `sh`, a bad entrypoint).
    #[error("the container did not start: {0}")]
    Start(#[source] Error),
    /// Talking to the engine failed.
    #[error("{what}: {source}")]
    Engine {
        what: &'static str,
        #[source]
        source: Error,
    },
}

/// Starts the created container `id`, copies its output into `log` and waits for its end. When
/// `deadline` passes or `stop` says so, the container is killed.
pub(crate) async fn run_to_end(
    docker: &Docker,
    id: &str,
    log: &mut JobLog,
    deadline: Instant,
    stop: &mut StopListener,
) -> Result<ProcessRun, ContainerError> {
    let options = AttachContainerOptions { stdout: true, stderr: true, stream: true, ..Default::default() };
    let attached = docker
        .attach_container(id, Some(options))
        .await
        .map_err(|source| ContainerError::Engine { what: "cannot attach to the container", source })?;
    // Held until the end: closing the connection's writing half could end the attachment.
    let _input = attached.input;
    docker.start_container(id, None).await.map_err(ContainerError::Start)?;

    let (ended_sender, ended) = watch::channel(None);
    let mut tail = Vec::new();
    let pump = pump_output(attached.output, log, ended, &mut tail);
    let supervise = supervise(docker, id, deadline, stop, &ended_sender);
    let (pumped, end) = tokio::join!(pump, supervise);
    if let Err(error) = pumped {
        tracing::warn!(container = id, error = %error, "reading a job container's output failed");
    }
    let end = end.map_err(|source| ContainerError::Engine { what: "cannot wait for the container", source })?;
    Ok(ProcessRun { end, tail })
}

/// Kills container `id` at once; one that is not running (or gone) is fine.
pub(crate) async fn kill(docker: &Docker, id: &str) {
    let options = KillContainerOptions { signal: "SIGKILL".to_owned() };
    match docker.kill_container(id, Some(options)).await {
        Ok(()) => {}
        Err(Error::DockerResponseServerError { status_code: 404 | 409, .. }) => {}
        Err(error) => tracing::warn!(container = id, error = %error, "cannot kill a job container"),
    }
}

/// Waits for the container's end, its deadline or a stop; kills it unless it ended by itself;
/// tells the pump when to give up on the output.
async fn supervise(
    docker: &Docker,
    id: &str,
    deadline: Instant,
    stop: &mut StopListener,
    ended: &watch::Sender<Option<Instant>>,
) -> Result<ProcessEnd, Error> {
    let end = tokio::select! {
        code = exit_code(docker, id) => code.map(|code| ProcessEnd::Exited(exit_status(code))),
        () = sleep_until(deadline) => Ok(ProcessEnd::TimedOut),
        reason = stopped(stop) => Ok(ProcessEnd::Stopped(reason)),
    };
    if !matches!(end, Ok(ProcessEnd::Exited(_))) {
        kill(docker, id).await;
    }
    let _ = ended.send(Some(Instant::now() + OUTPUT_GRACE));
    end
}

/// The exit code of container `id`, once it is not running.
async fn exit_code(docker: &Docker, id: &str) -> Result<i64, Error> {
    let options = WaitContainerOptions { condition: "not-running".to_owned() };
    match docker.wait_container(id, Some(options)).next().await {
        Some(Ok(answer)) => Ok(answer.status_code),
        // bollard reports a non-zero exit code as an error.
        Some(Err(Error::DockerContainerWaitError { code, .. })) => Ok(code),
        Some(Err(error)) => Err(error),
        None => Err(Error::DockerStreamError { error: "the engine ended the wait without an exit code".to_owned() }),
    }
}

/// Copies the output into the log until its end, or until the container has ended and nothing
/// more came for a moment.
async fn pump_output(
    mut output: impl Stream<Item = Result<LogOutput, Error>> + Unpin,
    log: &mut JobLog,
    mut ended: watch::Receiver<Option<Instant>>,
    tail: &mut Vec<u8>,
) -> Result<(), Error> {
    loop {
        let grace = *ended.borrow_and_update();
        let item = tokio::select! {
            biased;
            item = output.next() => item,
            changed = ended.changed(), if grace.is_none() => {
                if changed.is_err() {
                    return Ok(());
                }
                continue;
            }
            () = sleep_until(grace.unwrap_or_else(Instant::now)), if grace.is_some() => return Ok(()),
        };
        let Some(item) = item else { return Ok(()) };
        let item = item?;
        let bytes: &[u8] = item.as_ref();
        keep_tail(tail, bytes);
        log.write(bytes).await;
    }
}

/// A container's exit code as a process's exit status (a code of 128 + N is what a shell reports
/// for a process killed by signal N; it stays a code).
fn exit_status(code: i64) -> ExitStatus {
    ExitStatus::from_raw(((code & 0xff) as i32) << 8)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_codes_become_exit_statuses() {
        assert!(exit_status(0).success());
        assert_eq!(exit_status(7).code(), Some(7));
        assert_eq!(exit_status(137).code(), Some(137));
    }
}
