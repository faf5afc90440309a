//! What the steps of a job need to run its processes: the log, the directories, the stop and
//! the deadline; its scripts are written here and run where its executor says
//! (`executor.rs`).

use std::ffi::OsStr;
use std::io;
use std::process::ExitStatus;
use std::time::Duration;

use tokio::time::Instant;

use crate::client::ServerClient;
use crate::executor::ExecutorJob;
use crate::isolation::Isolation;
use crate::job::environment::Environment;
use crate::job::log_lines::{Colour, coloured};
use crate::job::{FailureReason, JobDirs, Outcome};
use crate::process::{ProcessEnd, ProcessRun, StopListener, run_process};
use crate::trace::JobLog;

/// Why a script could not be run at all.
#[derive(Debug)]
pub(crate) struct ScriptError {
    pub(crate) reason: FailureReason,
    pub(crate) message: String,
}

impl ScriptError {
    /// The runner's or the engine's fault.
    pub(crate) fn runner(message: String) -> ScriptError {
        ScriptError { reason: FailureReason::RunnerSystemFailure, message }
    }

    /// The job's fault (its image cannot run the script).
    pub(crate) fn job(message: String) -> ScriptError {
        ScriptError { reason: FailureReason::ScriptFailure, message }
    }
}

/// A process of the job that ended by itself.
pub(crate) struct Exited {
    pub(crate) status: ExitStatus,
    /// The end of its output, unmasked: for telling why it failed, never for printing.
    pub(crate) tail: Vec<u8>,
}

/// What a step needs to run the job's processes.
pub(crate) struct Step<'a> {
    pub(crate) client: &'a ServerClient,
    pub(crate) log: &'a mut JobLog,
    pub(crate) dirs: &'a JobDirs,
    pub(crate) isolation: &'a Isolation,
    pub(crate) stop: &'a mut StopListener,
    pub(crate) deadline: Instant,
    pub(crate) timeout: Duration,
}

impl Step<'_> {
    /// Runs a process of the job on the runner's machine. Its timing out or being stopped ends
    /// the job.
    pub(crate) async fn run(
        &mut self,
        program: &OsStr,
        args: &[&OsStr],
        environment: &Environment,
    ) -> Result<Exited, Outcome> {
        if let Some(reason) = *self.stop.borrow() {
            return Err(Outcome::Stopped(reason));
        }
        let run = self
            .run_until(program, args, environment, self.deadline)
            .await
            .map_err(|error| Outcome::system_failure(&format!("cannot run {}: {error}", program.to_string_lossy())))?;
        self.judge(run).await
    }

    /// A process that ran: one that timed out or was stopped ends the job.
    pub(crate) async fn judge(&mut self, run: ProcessRun) -> Result<Exited, Outcome> {
        match run.end {
            ProcessEnd::Exited(status) => Ok(Exited { status, tail: run.tail }),
            ProcessEnd::TimedOut => Err(self.timed_out().await),
            ProcessEnd::Stopped(reason) => Err(Outcome::Stopped(reason)),
        }
    }

    /// Logs that the job timed out; its outcome.
    pub(crate) async fn timed_out(&mut self) -> Outcome {
        let line = format!("ERROR: Job timed out after {} seconds; its processes were killed", self.timeout.as_secs());
        self.log.line(&coloured(Colour::Red, &line)).await;
        Outcome::failed(
            FailureReason::JobExecutionTimeout,
            None,
            &format!("execution took longer than {} seconds", self.timeout.as_secs()),
        )
    }

    /// Runs a process on the runner's machine (in the sandbox, when there is one) until
    /// `deadline`.
    pub(crate) async fn run_until(
        &mut self,
        program: &OsStr,
        args: &[&OsStr],
        environment: &Environment,
        deadline: Instant,
    ) -> io::Result<ProcessRun> {
        let started = Instant::now();
        let mut command = self.isolation.command(program, args, self.dirs).await?;
        command.env_clear().envs(environment);
        let run = run_process(command, self.log, deadline, self.stop).await;
        tracing::debug!(program = %program.to_string_lossy(), elapsed = ?started.elapsed(), "a job's process ended");
        run
    }

    /// Writes the script of `lines` (named after step `name`) and runs it where `job`'s executor
    /// runs scripts, until `deadline`.
    pub(crate) async fn run_script(
        &mut self,
        job: &impl ExecutorJob,
        name: &str,
        lines: &[String],
        environment: &Environment,
        deadline: Instant,
    ) -> Result<ProcessRun, ScriptError> {
        if let Some(reason) = *self.stop.borrow() {
            return Ok(ProcessRun { end: ProcessEnd::Stopped(reason), tail: Vec::new() });
        }
        let file_name = format!("{name}.sh");
        let path = self.dirs.temp.join(&file_name);
        if let Err(error) = crate::job::write_fresh(&path, job.script(lines).into_bytes(), 0o644, self.dirs.owner).await
        {
            return Err(ScriptError::runner(format!("cannot write the job's script: {error}")));
        }
        job.run_script(self, name, &file_name, environment, deadline).await
    }
}
