//! The shell executor: a job's scripts run in a shell on the runner's machine (in the sandbox
//! when the runner has one), its directories where they are.

use std::ffi::{OsStr, OsString};

use gantry_ci::protocol::JobPayload;
use tokio::time::Instant;

use crate::executor::{Executor, ExecutorJob};
use crate::isolation::Isolation;
use crate::job::environment::{self, Environment};
use crate::job::log_lines::{Colour, coloured};
use crate::job::script::{self, Shell};
use crate::job::step::{ScriptError, Step};
use crate::job::{JobDirs, Outcome};
use crate::process::ProcessRun;

/// The shell executor; nothing to set up.
pub(crate) struct ShellExecutor;

/// A job in the shell: the shell found on the machine and the job's directories.
pub(crate) struct ShellJob {
    shell: Shell,
    dirs: JobDirs,
}

impl Executor for ShellExecutor {
    type Job<'a> = ShellJob;

    async fn open(&self, step: &mut Step<'_>, _payload: &JobPayload) -> ShellJob {
        let line = format!("Using the shell executor {}", step.isolation.describe());
        match step.isolation {
            Isolation::None => step.log.line(&coloured(Colour::Red, &line)).await,
            Isolation::Sandbox(_) => step.log.line(&line).await,
        }
        ShellJob { shell: Shell::detect(), dirs: step.dirs.clone() }
    }
}

impl ExecutorJob for ShellJob {
    fn seen_dirs(&self) -> &JobDirs {
        &self.dirs
    }

    fn base_environment(&self) -> Environment {
        environment::for_shell(&self.dirs, environment::runner_env)
    }

    async fn start(&self, _: &mut Step<'_>, _: &JobPayload, _: &Environment) -> Result<(), Outcome> {
        Ok(())
    }

    fn script(&self, lines: &[String]) -> String {
        script::generate(self.shell, lines)
    }

    async fn run_script(
        &self,
        step: &mut Step<'_>,
        _section: &str,
        file_name: &str,
        environment: &Environment,
        deadline: Instant,
    ) -> Result<ProcessRun, ScriptError> {
        let args = self.shell.args(&self.dirs.temp.join(file_name));
        let args: Vec<&OsStr> = args.iter().map(OsString::as_os_str).collect();
        step.run_until(OsStr::new(self.shell.program()), &args, environment, deadline)
            .await
            .map_err(|error| ScriptError::runner(format!("cannot run {}: {error}", self.shell.program())))
    }

    async fn close(self) {}
}
