//! The runner's main loop: `concurrent` workers, each asking the server for a job, running it
//! and asking again, until shutdown; and the token check.

use std::future::Future;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use gantry_ci::protocol::RunnerInfo;
use tokio::sync::watch;
use tokio::task::JoinSet;
use tokio::time::Instant;

use crate::client::{RequestError, ServerClient};
use crate::config::{ExecutorKind, RunnerConfig};
use crate::docker::DockerEngine;
use crate::error::RunnerError;
use crate::executor::AnyExecutor;
use crate::executor::shell::ShellExecutor;
use crate::job;
use crate::tls::ServerCa;

/// The first wait after the server could not be reached; it doubles up to [`LAST_RETRY`].
const FIRST_RETRY: Duration = Duration::from_secs(1);
const LAST_RETRY: Duration = Duration::from_secs(10);
/// The least time between two job requests that found no job: a server that answers at once
/// instead of holding the request is not asked in a tight loop.
const EMPTY_POLL_INTERVAL: Duration = Duration::from_secs(1);
/// How long a worker told to stop still waits for the answer to the job request it has sent.
/// A server that is stopping too answers at once; another one holds the request (long poll),
/// and a job it hands over later is failed by its watchdog when the runner stays silent.
const ANSWER_GRACE_AT_SHUTDOWN: Duration = Duration::from_secs(5);

/// Runs the runner until `shutdown` completes: `config.concurrent` workers ask for jobs and run
/// them. On shutdown no more jobs are asked for, and running jobs are killed and reported
/// failed (`runner_system_failure`) rather than awaited, since a job may run for hours.
///
/// With the Docker executor it first connects to the engine and removes the containers and
/// networks a crashed run of this runner (the same `name`) left.
///
/// Returns an error when the server refuses the runner token (every worker stops then), when
/// the builds directory cannot be prepared, or when the Docker Engine cannot be used; a server
/// that cannot be reached is asked again, waiting 1 s, doubling up to 10 s.
pub async fn run(config: RunnerConfig, shutdown: impl Future<Output = ()>) -> Result<(), RunnerError> {
    validate(&config)?;
    let builds_dir = prepare_builds_dir(&config.builds_dir).await?;
    if config.isolation.jobs_run_as_other_users() {
        reachable_by_others(&builds_dir)?;
    }
    let executor = Arc::new(prepare_executor(&config).await?);
    let config = Arc::new(RunnerConfig { builds_dir, ..config });
    let ca = ServerCa::read_optional(config.tls_ca_file.as_deref())?;
    let client = ServerClient::new(&config.url, &config.token, ca)?;
    tracing::info!(
        runner.name = %config.name,
        url = %config.url,
        concurrent = config.concurrent,
        executor = config.executor.name(),
        isolation = config.isolation.describe(),
        "runner started"
    );

    let (stopping, stopping_receiver) = watch::channel(false);
    let mut workers = JoinSet::new();
    for worker_number in 1..=config.concurrent {
        workers.spawn(worker(
            worker_number,
            client.clone(),
            Arc::clone(&config),
            Arc::clone(&executor),
            stopping_receiver.clone(),
        ));
    }

    let mut result = Ok(());
    tokio::select! {
        () = shutdown => tracing::info!("runner stopping: asking for no more jobs, killing running ones"),
        Some(first) = workers.join_next() => result = first.map_err(RunnerError::WorkerFailed).and_then(|ended| ended),
    }
    let _ = stopping.send(true);
    while let Some(ended) = workers.join_next().await {
        let ended = ended.map_err(RunnerError::WorkerFailed).and_then(|ended| ended);
        if let Err(error) = ended
            && result.is_ok()
        {
            result = Err(error);
        }
    }
    result
}

/// Checks `token` with the server at `url` (`POST /api/v4/runners/verify`), trusting the
/// certificates in `tls_ca_file` besides the system's.
pub async fn verify(url: &str, token: &str, tls_ca_file: Option<&Path>) -> Result<(), RunnerError> {
    let client = ServerClient::new(url, token, ServerCa::read_optional(tls_ca_file)?)?;
    match client.verify().await {
        Ok(()) => Ok(()),
        Err(error) if error.is_refused() => Err(RunnerError::InvalidToken { url: url.to_owned() }),
        Err(RequestError::Transport(source)) if crate::tls::is_certificate_error(&source) => {
            Err(RunnerError::UntrustedCertificate { url: url.to_owned(), source })
        }
        Err(RequestError::Transport(source)) => Err(RunnerError::Unreachable { url: url.to_owned(), source }),
        Err(other) => Err(RunnerError::UnexpectedAnswer {
            url: url.to_owned(),
            request: "runners/verify",
            answer: other.to_string(),
        }),
    }
}

/// One worker: asks for a job, runs it, asks again.
async fn worker(
    worker_number: usize,
    client: ServerClient,
    config: Arc<RunnerConfig>,
    executor: Arc<AnyExecutor>,
    mut stopping: watch::Receiver<bool>,
) -> Result<(), RunnerError> {
    let info = runner_info(&config);
    config.isolation.prepare_worker(worker_number);
    let mut retry = FIRST_RETRY;
    loop {
        let asked_at = Instant::now();
        let request = client.request_job(&info);
        tokio::pin!(request);
        let answered = tokio::select! {
            biased;
            answer = &mut request => Some(answer),
            _ = stopping.wait_for(|stopping| *stopping) => None,
        };
        let answer = match answered {
            Some(answer) => answer,
            // The server may have handed over a job already: it is running there, and only
            // this worker can report it. The answer gets a moment to arrive; a job in it is
            // killed at once and reported as the runner shutting down.
            None => match tokio::time::timeout(ANSWER_GRACE_AT_SHUTDOWN, request).await {
                Ok(answer) => answer,
                Err(_) => return Ok(()),
            },
        };
        let wait = match answer {
            Ok(Some(payload)) => {
                retry = FIRST_RETRY;
                job::run_job(&client, &config, &executor, worker_number, payload, stopping.clone()).await;
                None
            }
            Ok(None) => {
                retry = FIRST_RETRY;
                Some(asked_at + EMPTY_POLL_INTERVAL)
            }
            Err(error) if error.is_refused() => {
                tracing::error!(worker = worker_number, "the server refused the runner token");
                return Err(RunnerError::InvalidToken { url: client.url().to_owned() });
            }
            Err(error) => {
                let hint = if error.is_untrusted_certificate() {
                    "; its certificate is not trusted: pass --tls-ca-file with the CA that signed it"
                } else {
                    ""
                };
                tracing::warn!(worker = worker_number, error = %error.with_causes(), retry_in = ?retry, "cannot ask the server for a job{hint}");
                let until = Instant::now() + retry;
                retry = (retry * 2).min(LAST_RETRY);
                Some(until)
            }
        };
        if *stopping.borrow() {
            return Ok(());
        }
        if let Some(until) = wait {
            tokio::select! {
                () = tokio::time::sleep_until(until) => {}
                _ = stopping.wait_for(|stopping| *stopping) => return Ok(()),
            }
        }
    }
}

fn validate(config: &RunnerConfig) -> Result<(), RunnerError> {
    let invalid = |reason: &str| Err(RunnerError::InvalidConfig { reason: reason.to_owned() });
    if config.concurrent == 0 {
        return invalid("concurrent must be at least 1");
    }
    if !(config.url.starts_with("http://") || config.url.starts_with("https://")) {
        return invalid("the server url must start with http:// or https://");
    }
    if config.heartbeat.is_zero() {
        return invalid("the heartbeat interval must be longer than zero");
    }
    if let ExecutorKind::Docker(settings) = &config.executor
        && settings.default_image.trim().is_empty()
    {
        return invalid("the Docker executor needs a default image");
    }
    Ok(())
}

/// The executor of `config`: for Docker, a connection to the engine, cleared of what a crashed
/// run of this runner left.
async fn prepare_executor(config: &RunnerConfig) -> Result<AnyExecutor, RunnerError> {
    let settings = match &config.executor {
        ExecutorKind::Shell => return Ok(AnyExecutor::Shell(ShellExecutor)),
        ExecutorKind::Docker(settings) => settings,
    };
    let engine = DockerEngine::connect(settings, &config.name).await?;
    let removed = engine.remove_leftovers().await;
    if removed > 0 {
        tracing::info!(runner.name = %config.name, removed, "removed containers and networks left by an earlier run");
    }
    Ok(AnyExecutor::Docker(engine))
}

/// Creates the builds directory, makes its path absolute and removes what crashed runs left.
async fn prepare_builds_dir(path: &Path) -> Result<PathBuf, RunnerError> {
    let failed = |source| RunnerError::BuildsDir { path: path.to_owned(), source };
    tokio::fs::create_dir_all(path).await.map_err(failed)?;
    let path = tokio::fs::canonicalize(path).await.map_err(failed)?;
    let removed = job::remove_leftovers(&path).await.map_err(failed)?;
    if removed > 0 {
        tracing::info!(builds_dir = %path.display(), removed, "removed job directories left by an earlier run");
    }
    Ok(path)
}

/// Checks that users other than the runner's may pass through every directory down to the
/// builds directory: jobs' users set up their sandbox through that path.
fn reachable_by_others(builds_dir: &Path) -> Result<(), RunnerError> {
    use std::os::unix::fs::PermissionsExt;
    for dir in builds_dir.ancestors() {
        let metadata =
            std::fs::metadata(dir).map_err(|source| RunnerError::BuildsDir { path: dir.to_owned(), source })?;
        if metadata.permissions().mode() & 0o001 == 0 {
            let message = format!(
                "jobs run as users of their own, who cannot pass through {}: let others search it (chmod o+x), or \
                 choose a builds directory they can reach",
                dir.display()
            );
            return Err(RunnerError::BuildsDir {
                path: builds_dir.to_owned(),
                source: std::io::Error::new(std::io::ErrorKind::PermissionDenied, message),
            });
        }
    }
    Ok(())
}

fn runner_info(config: &RunnerConfig) -> RunnerInfo {
    let architecture = match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        "x86" => "386",
        other => other,
    };
    RunnerInfo {
        name: config.name.clone(),
        version: crate::version().to_owned(),
        executor: config.executor.name().to_owned(),
        platform: std::env::consts::OS.to_owned(),
        architecture: architecture.to_owned(),
    }
}
