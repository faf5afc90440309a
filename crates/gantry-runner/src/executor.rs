//! The executor seam: where a job's scripts run. `job.rs` takes every job through the same
//! steps in GitLab's order (the environment, the sources, caches, artifacts, the scripts, the
//! uploads) and asks its executor only what differs between places: where the job sees its
//! directories, the environment under its variables, what starts before its scripts, how a
//! script runs and what is released at the end. The shell executor (`executor/shell.rs`) and
//! the Docker executor (`docker.rs`) implement it; another (Kubernetes) would be one more
//! implementation and one more arm of [`AnyExecutor`].

pub(crate) mod shell;

use gantry_ci::protocol::JobPayload;
use tokio::time::Instant;

use crate::docker::DockerEngine;
use crate::job::environment::Environment;
use crate::job::step::{ScriptError, Step};
use crate::job::{JobDirs, Outcome};
use crate::process::ProcessRun;

use self::shell::ShellExecutor;

/// An executor: makes each job a place to run.
pub(crate) trait Executor {
    /// One job's place to run (for Docker, its containers and network).
    type Job<'a>: ExecutorJob
    where
        Self: 'a;

    /// Names itself in the job's log and makes the job's place; nothing runs yet.
    async fn open<'a>(&'a self, step: &mut Step<'_>, payload: &JobPayload) -> Self::Job<'a>;
}

/// One job's place to run, from `prepare_script` to the end of the job.
pub(crate) trait ExecutorJob {
    /// The job's directories as its scripts see them.
    fn seen_dirs(&self) -> &JobDirs;

    /// The environment under the job's variables.
    fn base_environment(&self) -> Environment;

    /// Starts what must run before the scripts (for Docker: the image, the network and the
    /// services), the job's environment known; still in `prepare_script`.
    async fn start(&self, step: &mut Step<'_>, payload: &JobPayload, environment: &Environment) -> Result<(), Outcome>;

    /// The text of the script file that runs `lines`.
    fn script(&self, lines: &[String]) -> String;

    /// Runs the script file `file_name` of the job's temporary directory for the step `section`,
    /// until `deadline`.
    async fn run_script(
        &self,
        step: &mut Step<'_>,
        section: &str,
        file_name: &str,
        environment: &Environment,
        deadline: Instant,
    ) -> Result<ProcessRun, ScriptError>;

    /// Releases what the job's place holds, on every way out once [`ExecutorJob::start`] was
    /// tried (for Docker: the files handed back, the containers and network removed).
    async fn close(self);
}

/// The executor a runner was started with, shared by its workers.
pub(crate) enum AnyExecutor {
    Shell(ShellExecutor),
    Docker(DockerEngine),
}
