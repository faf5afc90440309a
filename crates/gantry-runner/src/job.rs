//! One job from payload to final report: its log and heartbeat are started, then the steps run
//! in GitLab's order — `prepare_script`, `get_sources`, `restore_cache`, `download_artifacts`,
//! `step_script`, `after_script`, `archive_cache`, `upload_artifacts_on_success|on_failure` —
//! and the outcome is logged and reported. The steps are the same for every executor; what
//! differs between them is behind `executor.rs`' seam.

pub(crate) mod archive;
mod dirs;
pub(crate) mod environment;
mod limits_watch;
pub(crate) mod log_lines;
mod report;
pub(crate) mod script;
mod sources;
pub(crate) mod step;
mod transfer;

use std::os::unix::process::ExitStatusExt;
use std::process::ExitStatus;
use std::time::Duration;

use gantry_ci::mask::Masker;
use gantry_ci::protocol::{JobPayload, JobUpdate, JobVariable};
use tokio::sync::watch;
use tokio::time::Instant;

pub(crate) use self::dirs::{JobDirs, create_fresh, remove_leftovers, write_fresh};
use self::environment::Environment;
use self::log_lines::{Colour, coloured, section_end, section_start};
use self::step::Step;
use crate::client::ServerClient;
use crate::config::RunnerConfig;
use crate::executor::{AnyExecutor, Executor, ExecutorJob};
use crate::process::{JobStopper, ProcessEnd, StopListener, StopReason};
use crate::tls;
use crate::trace::{self, JobLog};

/// A job's timeout when the server gives none.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60 * 60);
/// `after_script`'s own limit.
const AFTER_SCRIPT_TIMEOUT: Duration = Duration::from_secs(5 * 60);

/// How a job ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Outcome {
    Succeeded,
    Failed {
        reason: FailureReason,
        exit_code: Option<i32>,
        message: String,
    },
    /// Canceled by the server or aborted by the runner's shutdown; its processes were killed.
    Stopped(StopReason),
}

/// Why a job failed, in GitLab's words (`gantry_ci::protocol::FAILURE_REASONS`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FailureReason {
    ScriptFailure,
    RunnerSystemFailure,
    JobExecutionTimeout,
}

/// Runs `payload` to its end and reports it. A `true` on `shutdown` kills it. `worker` (from 1)
/// tells which of the runner's workers runs it.
pub(crate) async fn run_job(
    client: &ServerClient,
    config: &RunnerConfig,
    executor: &AnyExecutor,
    worker: usize,
    mut payload: JobPayload,
    mut shutdown: watch::Receiver<bool>,
) {
    let job_id = payload.id;
    if let Some(pem) = client.ca_pem() {
        // The job reaches the same server (git, and whatever its scripts call): it trusts the
        // same CA. The runner's file wins over a variable of the same name.
        payload.variables.retain(|variable| variable.key != tls::CA_FILE_VARIABLE);
        payload.variables.push(JobVariable {
            key: tls::CA_FILE_VARIABLE.to_owned(),
            value: pem.to_owned(),
            public: true,
            masked: false,
            file: true,
        });
    }
    if let Some(clone_url) = &config.clone_url {
        reach_server_at(&mut payload, clone_url);
    }
    tracing::info!(job.id = job_id, job.name = %payload.job_info.name, project = %payload.job_info.project_name, "job started");
    let (stopper, mut stop) = JobStopper::new();
    let trace = trace::start(client.clone(), job_id, payload.token.clone(), stopper.clone());
    let mut log = JobLog::new(masker(&payload), trace);
    let heartbeat = tokio::spawn(report::heartbeat(
        client.clone(),
        job_id,
        payload.token.clone(),
        config.heartbeat,
        stopper.clone(),
    ));
    let stop_on_shutdown = tokio::spawn({
        let stopper = stopper.clone();
        async move {
            if shutdown.wait_for(|stopping| *stopping).await.is_ok() {
                stopper.stop(StopReason::Shutdown);
            }
        }
    });

    let dirs = JobDirs::new(&config.builds_dir, job_id, config.isolation.job_user(worker));
    let watcher = match (executor, config.isolation.limits()) {
        (AnyExecutor::Shell(_), Some(limits)) => {
            Some(tokio::spawn(limits_watch::watch(dirs.clone(), limits, stopper.clone())))
        }
        _ => None,
    };
    let mut outcome = execute(client, &payload, config, executor, &dirs, &mut log, &mut stop).await;
    if let Some(watcher) = watcher {
        watcher.abort();
    }
    if let (AnyExecutor::Shell(_), Some(limits)) = (executor, config.isolation.limits())
        && !matches!(outcome, Outcome::Stopped(_))
        && limits_watch::over_disk_limit(&dirs, limits).await
    {
        outcome = Outcome::Stopped(StopReason::OverLimit(crate::process::OverLimit::Disk(limits.disk)));
    }
    config.isolation.job_finished(&dirs);
    if let Outcome::Stopped(StopReason::OverLimit(limit)) = outcome {
        let message = limit.describe();
        log.line(&coloured(Colour::Red, &format!("ERROR: {message}"))).await;
        outcome = Outcome::failed(FailureReason::ScriptFailure, None, &message);
    }
    heartbeat.abort();
    stop_on_shutdown.abort();

    log.line("").await;
    log.line(&outcome.final_line()).await;
    log.finish().await;
    report::final_state(client, job_id, &outcome.update(&payload.token)).await;
    if let Err(error) = dirs.remove().await {
        tracing::warn!(job.id = job_id, error = %error, "cannot remove the job's directories");
    }
    tracing::info!(job.id = job_id, outcome = ?outcome, "job finished");
}

/// The job's steps, in a fresh directory.
async fn execute(
    client: &ServerClient,
    payload: &JobPayload,
    config: &RunnerConfig,
    executor: &AnyExecutor,
    dirs: &JobDirs,
    log: &mut JobLog,
    stop: &mut StopListener,
) -> Outcome {
    let timeout = match payload.runner_info.timeout {
        0 => DEFAULT_TIMEOUT,
        seconds => Duration::from_secs(seconds),
    };
    let deadline = Instant::now() + timeout;
    log.line(&coloured(Colour::Bold, &format!("Running with gantry-runner {}", crate::version()))).await;
    log.line(&format!("  on {}", config.name)).await;

    log.line(&section_start("prepare_script", "Preparing environment")).await;
    let mut step = Step { client, log, dirs, isolation: &config.isolation, stop, deadline, timeout };
    match executor {
        AnyExecutor::Shell(shell) => run_on(shell, &mut step, payload).await,
        AnyExecutor::Docker(engine) => run_on(engine, &mut step, payload).await,
    }
}

/// The rest of `prepare_script` (the caller opened its section) and every later step, with
/// `executor`.
async fn run_on<E: Executor>(executor: &E, step: &mut Step<'_>, payload: &JobPayload) -> Outcome {
    let job = executor.open(step, payload).await;
    let environment = match prepare_environment(step, payload, job.seen_dirs(), job.base_environment()).await {
        Ok(environment) => environment,
        Err(outcome) => {
            step.log.line(&section_end("prepare_script")).await;
            return outcome;
        }
    };
    let started = job.start(step, payload, &environment).await;
    step.log.line(&section_end("prepare_script")).await;
    let outcome = match started {
        Ok(()) => run_steps(step, payload, &job, &environment).await,
        Err(outcome) => outcome,
    };
    job.close().await;
    outcome
}

/// Makes the job's directories and writes its file variables; the environment of its scripts,
/// who see the job's directories at `seen`, over `base`.
async fn prepare_environment(
    step: &mut Step<'_>,
    payload: &JobPayload,
    seen: &JobDirs,
    base: Environment,
) -> Result<Environment, Outcome> {
    let plan = environment::plan(&payload.variables, seen, base);
    let written = match step.dirs.create().await {
        Ok(()) => environment::write_files(&step.dirs.temp, &plan.files, step.dirs.owner).await,
        Err(error) => Err(error),
    };
    if let Err(error) = written {
        return Err(Outcome::system_failure(&format!(
            "cannot prepare the job's directories in {}: {error}",
            step.dirs.builds.display()
        )));
    }
    for key in &plan.skipped {
        let warning = format!(
            "WARNING: variable {key:?} is left out: an environment takes only names of letters, digits and _, and values without NUL bytes"
        );
        step.log.line(&coloured(Colour::Yellow, &warning)).await;
    }
    Ok(plan.environment)
}

/// `get_sources`, every step, then `after_script`.
async fn run_steps(
    step: &mut Step<'_>,
    payload: &JobPayload,
    job: &impl ExecutorJob,
    environment: &Environment,
) -> Outcome {
    let mut outcome = match run_script(step, payload, job, environment).await {
        Ok(()) => Outcome::Succeeded,
        Err(outcome) => outcome,
    };
    if !matches!(outcome, Outcome::Stopped(_))
        && let Some(reason) = run_after_script(step, payload, job, environment, &outcome).await
    {
        outcome = Outcome::Stopped(reason);
    }
    if matches!(outcome, Outcome::Stopped(_)) {
        return outcome;
    }
    let succeeded = outcome == Outcome::Succeeded;
    transfer::save_caches(step, step.client, payload, succeeded).await;
    if let Err(failure) = transfer::upload_artifacts(step, step.client, payload, succeeded).await
        && succeeded
    {
        outcome = failure;
    }
    outcome
}

/// `get_sources`, then every step but `after_script`, stopping at the first failure.
async fn run_script(
    step: &mut Step<'_>,
    payload: &JobPayload,
    job: &impl ExecutorJob,
    environment: &Environment,
) -> Result<(), Outcome> {
    step.log.line(&section_start("get_sources", "Getting source from Git repository")).await;
    let fetched = sources::get_sources(step, &payload.git_info).await;
    step.log.line(&section_end("get_sources")).await;
    fetched?;
    transfer::restore_caches(step, step.client, payload).await;
    transfer::download_artifacts(step, step.client, payload).await?;

    for script_step in payload.steps.iter().filter(|s| s.name != "after_script") {
        let section = match script_step.name.as_str() {
            "script" => "step_script".to_owned(),
            name => format!("step_{}", section_safe(name)),
        };
        let header = format!("Executing \"{section}\" stage of the job script");
        step.log.line(&section_start(&section, &header)).await;
        let deadline = step.deadline;
        let ran = step.run_script(job, &section, &script_step.script, environment, deadline).await;
        step.log.line(&section_end(&section)).await;
        let ran = ran.map_err(|error| Outcome::failed(error.reason, None, &error.message))?;
        let status = step.judge(ran).await?.status;
        if !status.success() {
            return Err(script_failure(status));
        }
    }
    Ok(())
}

/// `after_script`, when there is one: always run (but for a stopped job), with its own time
/// limit; its failure only shows in the log. Returns the stop that interrupted it.
async fn run_after_script(
    step: &mut Step<'_>,
    payload: &JobPayload,
    job: &impl ExecutorJob,
    environment: &Environment,
    outcome: &Outcome,
) -> Option<StopReason> {
    let after = payload.steps.iter().find(|s| s.name == "after_script" && !s.script.is_empty())?;
    let mut environment = environment.clone();
    let status = if *outcome == Outcome::Succeeded { "success" } else { "failed" };
    environment.insert("CI_JOB_STATUS".into(), status.into());

    step.log.line(&section_start("after_script", "Running after_script")).await;
    let deadline = Instant::now() + AFTER_SCRIPT_TIMEOUT;
    let ran = step.run_script(job, "after_script", &after.script, &environment, deadline).await;
    let warning = match ran.map(|run| run.end) {
        Ok(ProcessEnd::Exited(status)) if status.success() => None,
        Ok(ProcessEnd::Exited(status)) => Some(format!("after_script failed: {}", describe_status(status))),
        Ok(ProcessEnd::TimedOut) => {
            Some(format!("after_script timed out after {} seconds", AFTER_SCRIPT_TIMEOUT.as_secs()))
        }
        Ok(ProcessEnd::Stopped(reason)) => {
            step.log.line(&section_end("after_script")).await;
            return Some(reason);
        }
        Err(error) => Some(format!("cannot run after_script: {}", error.message)),
    };
    if let Some(warning) = warning {
        let line = format!("WARNING: {warning}; the job's result does not change");
        step.log.line(&coloured(Colour::Yellow, &line)).await;
    }
    step.log.line(&section_end("after_script")).await;
    None
}

impl Outcome {
    pub(crate) fn failed(reason: FailureReason, exit_code: Option<i32>, message: &str) -> Outcome {
        Outcome::Failed { reason, exit_code, message: message.to_owned() }
    }

    pub(crate) fn system_failure(message: &str) -> Outcome {
        Outcome::failed(FailureReason::RunnerSystemFailure, None, message)
    }

    /// The last line of the job's log.
    fn final_line(&self) -> String {
        match self {
            Outcome::Succeeded => coloured(Colour::Green, "Job succeeded"),
            Outcome::Failed { reason: FailureReason::RunnerSystemFailure, message, .. } => {
                coloured(Colour::Red, &format!("ERROR: Job failed (system failure): {message}"))
            }
            Outcome::Failed { message, .. } => coloured(Colour::Red, &format!("ERROR: Job failed: {message}")),
            Outcome::Stopped(StopReason::Canceled) => coloured(Colour::Red, "ERROR: Job canceled"),
            Outcome::Stopped(StopReason::Shutdown) => {
                coloured(Colour::Red, "ERROR: Job failed (system failure): the runner is shutting down")
            }
            Outcome::Stopped(StopReason::OverLimit(limit)) => {
                coloured(Colour::Red, &format!("ERROR: Job failed: {}", limit.describe()))
            }
        }
    }

    /// The final state update for the server.
    fn update(&self, token: &str) -> JobUpdate {
        let (state, reason, exit_code) = match self {
            Outcome::Succeeded => ("success", None, None),
            Outcome::Failed { reason, exit_code, .. } => ("failed", Some(*reason), *exit_code),
            // The server holds the job canceled already; this only closes the runner's side.
            Outcome::Stopped(StopReason::Canceled) => ("failed", None, None),
            Outcome::Stopped(StopReason::Shutdown) => ("failed", Some(FailureReason::RunnerSystemFailure), None),
            Outcome::Stopped(StopReason::OverLimit(_)) => ("failed", Some(FailureReason::ScriptFailure), None),
        };
        JobUpdate {
            token: token.to_owned(),
            state: state.to_owned(),
            failure_reason: reason.map(|reason| reason.as_str().to_owned()),
            exit_code,
        }
    }
}

impl FailureReason {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            FailureReason::ScriptFailure => "script_failure",
            FailureReason::RunnerSystemFailure => "runner_system_failure",
            FailureReason::JobExecutionTimeout => "job_execution_timeout",
        }
    }
}

/// The variables that hold URLs of the server a job calls (rather than links it shows).
const SERVER_URL_VARIABLES: [&str; 3] = ["CI_REPOSITORY_URL", "CI_API_V4_URL", "CI_API_GRAPHQL_URL"];

/// Points the job's sources and the server URLs its scripts call at `clone_url` (scheme, host
/// and port; paths and credentials stay). URLs that do not parse are left as they are.
fn reach_server_at(payload: &mut JobPayload, clone_url: &str) {
    let Ok(onto) = reqwest::Url::parse(clone_url) else { return };
    let rebase = |url: &mut String| {
        let Ok(mut parsed) = reqwest::Url::parse(url) else { return };
        if parsed.set_scheme(onto.scheme()).is_ok()
            && parsed.set_host(onto.host_str()).is_ok()
            && parsed.set_port(onto.port()).is_ok()
        {
            *url = parsed.into();
        }
    };
    rebase(&mut payload.git_info.repo_url);
    for variable in payload.variables.iter_mut().filter(|v| SERVER_URL_VARIABLES.contains(&v.key.as_str())) {
        rebase(&mut variable.value);
    }
}

/// The masker of the job's log: its masked variables and its token.
fn masker(payload: &JobPayload) -> Masker {
    let masked = payload.variables.iter().filter(|variable| variable.masked).map(|variable| variable.value.as_str());
    Masker::new(masked.chain([payload.token.as_str()]))
}

fn script_failure(status: ExitStatus) -> Outcome {
    Outcome::failed(FailureReason::ScriptFailure, status.code(), &describe_status(status))
}

fn describe_status(status: ExitStatus) -> String {
    match (status.code(), status.signal()) {
        (Some(code), _) => format!("exit code {code}"),
        (None, Some(signal)) => format!("killed by signal {signal}"),
        (None, None) => "ended abnormally".to_owned(),
    }
}

/// A step name usable in a section marker.
fn section_safe(name: &str) -> String {
    name.chars().map(|c| if c.is_ascii_alphanumeric() || c == '_' { c } else { '_' }).collect()
}

#[cfg(test)]
mod tests {
    use gantry_ci::protocol::FAILURE_REASONS;

    use super::*;

    #[test]
    fn failure_reasons_are_the_protocols() {
        for reason in
            [FailureReason::ScriptFailure, FailureReason::RunnerSystemFailure, FailureReason::JobExecutionTimeout]
        {
            assert!(FAILURE_REASONS.contains(&reason.as_str()), "{reason:?}");
        }
    }

    #[test]
    fn a_script_failure_reports_its_exit_code() {
        let update = script_failure(ExitStatus::from_raw(3 << 8)).update("job-token");
        assert_eq!(update.state, "failed");
        assert_eq!(update.failure_reason.as_deref(), Some("script_failure"));
        assert_eq!(update.exit_code, Some(3));
        assert_eq!(Outcome::Succeeded.update("t").state, "success");
    }

    #[test]
    fn a_clone_url_replaces_the_servers_origin_where_jobs_call_it() {
        let mut payload: JobPayload = serde_json::from_value(serde_json::json!({
            "id": 1, "token": "t",
            "job_info": {"id": 1, "name": "j", "stage": "test", "project_id": 1, "project_name": "g/p"},
            "git_info": {"repo_url": "https://gitlab-ci-token:t@gantry.example.com/g/p.git", "ref": "main", "sha": "", "before_sha": "", "ref_type": "branch", "refspecs": [], "depth": 0},
            "runner_info": {"timeout": 60},
            "variables": [
                {"key": "CI_API_V4_URL", "value": "https://gantry.example.com/api/v4", "public": true},
                {"key": "CI_PROJECT_URL", "value": "https://gantry.example.com/g/p", "public": true},
                {"key": "CI_REPOSITORY_URL", "value": "not a url", "public": true}
            ],
            "steps": []
        }))
        .unwrap();
        reach_server_at(&mut payload, "http://127.0.0.1:4100");
        assert_eq!(payload.git_info.repo_url, "http://gitlab-ci-token:t@127.0.0.1:4100/g/p.git");
        let value = |key: &str| payload.variables.iter().find(|v| v.key == key).unwrap().value.clone();
        assert_eq!(value("CI_API_V4_URL"), "http://127.0.0.1:4100/api/v4");
        assert_eq!(value("CI_PROJECT_URL"), "https://gantry.example.com/g/p", "links people follow stay");
        assert_eq!(value("CI_REPOSITORY_URL"), "not a url");
    }

    #[test]
    fn the_job_token_and_masked_variables_are_masked() {
        let payload: JobPayload = serde_json::from_value(serde_json::json!({
            "id": 1, "token": "job-token-123",
            "job_info": {"id": 1, "name": "n", "stage": "s", "project_id": 1, "project_name": "a/b"},
            "git_info": {"repo_url": "", "ref": "main", "sha": "", "before_sha": "", "ref_type": "branch", "refspecs": [], "depth": 0},
            "runner_info": {"timeout": 10},
            "variables": [
                {"key": "SECRET", "value": "hunter22", "masked": true},
                {"key": "PLAIN", "value": "visible", "masked": false}
            ],
            "steps": []
        }))
        .unwrap();
        let mut masker = masker(&payload);
        let mut out = masker.push(b"job-token-123 hunter22 visi");
        out.extend(masker.push(b"ble hunter"));
        out.extend(masker.push(b"22"));
        out.extend(masker.finish());
        assert_eq!(String::from_utf8(out).unwrap(), "[MASKED] [MASKED] visible [MASKED]");
    }
}
