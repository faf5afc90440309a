//! The runners the `gantry` program starts: `gantry serve`'s built-in runner (with the jobs'
//! own door to the server, and the admin area told how it runs) and `gantry runner`, an agent
//! on another host; and the sandbox of their shell jobs.

use std::net::SocketAddr;

use anyhow::{Context, bail};
use axum::serve::ListenerExt;
use gantry_config::ServeConfig;
use gantry_core::Core;

use crate::{set_mode, shutdown_signal};

/// Starts the in-process runner: the same agent as `gantry runner`, talking to this server over
/// loopback with a token renewed at each start. Its shell jobs run in the sandbox; where the
/// sandbox cannot be had, it does not start (unless the admin chose to run jobs without one).
pub(crate) async fn start_builtin_runner(
    core: &Core,
    config: &ServeConfig,
    settings: gantry_config::BuiltinRunner,
    app: &axum::Router,
    mut stopped: tokio::sync::watch::Receiver<bool>,
) -> anyhow::Result<Option<tokio::task::JoinHandle<Result<(), gantry_runner::RunnerError>>>> {
    use gantry_core::ci::runners::BuiltinRunnerState;
    let data_dir = std::path::absolute(&config.storage.data_dir).context("cannot resolve the data directory")?;
    let builds_dir = data_dir.join("builds");
    let data_dir_name = data_dir.display().to_string();
    // The door closes once the runner has stopped: at shutdown the runner still reports the
    // jobs it kills, through the door.
    let (runner_stopped, mut door_closes) = tokio::sync::watch::channel(false);
    let (executor, isolation, url, clone_url) = match settings.executor {
        gantry_config::Executor::Shell => {
            // The jobs' door: a listener of their own on the machine's loopback (the only
            // address of it their network reaches), whatever --listen and the external URL
            // say. Requests through it are marked: being on this host proves nothing for them.
            let door = tokio::net::TcpListener::bind((std::net::Ipv4Addr::LOCALHOST, 0))
                .await
                .context("cannot listen on 127.0.0.1 for the built-in runner's jobs")?;
            let url = format!("http://{}", door.local_addr().context("the jobs' listener has no address")?);
            let isolation =
                match shell_isolation(&settings.sandbox, &url, vec![data_dir.clone()], "the built-in runner").await {
                    Ok(isolation) => isolation,
                    Err(why) => {
                        tracing::error!("{why}");
                        core.ci().set_builtin_runner_state(BuiltinRunnerState::NotStarted(why));
                        return Ok(None);
                    }
                };
            if isolation.jobs_run_as_other_users() {
                // bubblewrap, as a job's user, reaches the job's directory by its path: the
                // data directory and the builds directory let others pass through, and list
                // or read nothing.
                set_mode(&data_dir, 0o711)?;
                std::fs::create_dir_all(&builds_dir).context("cannot create the builds directory")?;
                set_mode(&builds_dir, 0o711)?;
            }
            core.ci().set_builtin_runner_state(match &isolation {
                gantry_runner::Isolation::None => BuiltinRunnerState::Unsandboxed,
                gantry_runner::Isolation::Sandbox(_) => BuiltinRunnerState::Sandboxed(describe_sandbox(
                    &settings.sandbox,
                    isolation.jobs_run_as_other_users().then_some(settings.concurrent),
                )),
            });
            let door_app = app.clone().layer(axum::Extension(gantry_web::ThroughJobsDoor));
            let door = door.tap_io(|stream| {
                let _ = stream.set_nodelay(true);
            });
            tokio::spawn(async move {
                axum::serve(door, door_app.into_make_service_with_connect_info::<SocketAddr>())
                    .with_graceful_shutdown(async move {
                        let _ = door_closes.wait_for(|stopped| *stopped).await;
                    })
                    .await
            });
            (gantry_runner::ExecutorKind::Shell, isolation, url.clone(), Some(url))
        }
        gantry_config::Executor::Docker => {
            let host = match config.listen.ip() {
                ip if ip.is_unspecified() && ip.is_ipv4() => std::net::IpAddr::from([127, 0, 0, 1]),
                ip if ip.is_unspecified() => std::net::IpAddr::from(std::net::Ipv6Addr::LOCALHOST),
                ip => ip,
            };
            let docker =
                gantry_runner::DockerSettings { host: None, default_image: settings.docker_default_image.clone() };
            core.ci().set_builtin_runner_state(BuiltinRunnerState::InContainers);
            let url = format!("http://{}", SocketAddr::new(host, config.listen.port()));
            (gantry_runner::ExecutorKind::Docker(docker), gantry_runner::Isolation::None, url, None)
        }
    };
    let concurrent = i64::try_from(settings.concurrent).unwrap_or(1);
    let token = core.ci().builtin_runner_token(concurrent).await.context("cannot register the built-in runner")?;
    let runner = gantry_runner::RunnerConfig {
        url,
        token,
        // Unique per data directory: two servers on one Docker engine never clean up each other's
        // containers.
        name: format!("gantry-builtin-{}", short_digest(&data_dir_name)),
        concurrent: settings.concurrent,
        builds_dir,
        executor,
        isolation,
        heartbeat: std::time::Duration::from_secs(10),
        tls_ca_file: None,
        clone_url,
    };
    Ok(Some(tokio::spawn(async move {
        let ended = gantry_runner::run(runner, async move {
            let _ = stopped.wait_for(|stop| *stop).await;
        })
        .await;
        let _ = runner_stopped.send(true);
        ended
    })))
}

/// The sandbox of the built-in runner's jobs in a sentence, for the admin area; `workers` when
/// each of them runs its jobs as a user of its own.
fn describe_sandbox(sandbox: &gantry_config::JobSandbox, workers: Option<usize>) -> String {
    let users = match workers {
        Some(workers) => {
            let first = u64::from(sandbox.job_uid_base) + 1;
            format!("as users {first}–{} (one per worker)", first + workers.max(1) as u64 - 1)
        }
        None => "as this server's user, in namespaces of their own".to_owned(),
    };
    let network = match sandbox.network {
        gantry_config::JobNetwork::Internet => "the internet and this server",
        gantry_config::JobNetwork::Server => "this server only",
    };
    let ports = match sandbox.loopback_ports.as_slice() {
        [] => String::new(),
        ports => {
            let ports: Vec<String> = ports.iter().map(u16::to_string).collect();
            format!(", and this machine's loopback ports {}", ports.join(", "))
        }
    };
    format!(
        "Jobs run {users}. Their network reaches {network}{ports}. Each job may have {} processes, {} MiB of memory \
         per process, {} MiB of disk and a {} MiB /tmp.",
        sandbox.max_processes,
        sandbox.max_memory >> 20,
        sandbox.max_disk >> 20,
        sandbox.max_tmp >> 20
    )
}

/// The isolation of shell jobs: the sandbox, or nothing when the admin chose that (logged as
/// the risk it is). When the sandbox cannot be had here, why and what to do: `who` then runs no
/// shell jobs.
async fn shell_isolation(
    sandbox: &gantry_config::JobSandbox,
    server_url: &str,
    hide: Vec<std::path::PathBuf>,
    who: &str,
) -> Result<gantry_runner::Isolation, String> {
    if sandbox.unsafe_without_sandbox {
        tracing::warn!(
            "!!! {who} runs shell jobs WITHOUT A SANDBOX (--unsafe-jobs-without-sandbox): every job runs as this \
             process's user, with its privileges, files and network. Anyone who can push a CI file can take over \
             this machine. !!!"
        );
        return Ok(gantry_runner::Isolation::None);
    }
    let limits = gantry_runner::JobLimits {
        processes: sandbox.max_processes,
        memory_per_process: sandbox.max_memory,
        disk: sandbox.max_disk,
        tmp: sandbox.max_tmp,
        ..gantry_runner::JobLimits::STANDARD
    };
    let program = std::env::current_exe().map_err(|error| format!("{who} cannot find the gantry program: {error}"))?;
    let settings = gantry_runner::SandboxSettings {
        hide,
        read_only: Vec::new(),
        server_url: server_url.to_owned(),
        door_program: vec![program.into_os_string(), "job-network-door".into()],
        internet: sandbox.network == gantry_config::JobNetwork::Internet,
        loopback_ports: sandbox.loopback_ports.clone(),
        limits,
        job_uid_base: sandbox.job_uid_base,
    };
    gantry_runner::sandbox(settings).await.map_err(|why| {
        format!(
            "{who} is NOT started: CI jobs are untrusted code and must run in a sandbox, which this machine cannot \
             give: {why}. Fix that and restart, or run jobs on `gantry runner` agents elsewhere \
             (`--no-builtin-runner`), or, only if everyone who can push is trusted with this server, pass \
             --unsafe-jobs-without-sandbox"
        )
    })
}

/// The first 8 hex digits of a text's SHA-256.
fn short_digest(text: &str) -> String {
    use sha2::Digest;
    hex::encode(&sha2::Sha256::digest(text.as_bytes())[..4])
}

/// `gantry runner`: an agent on this host taking jobs from a server until stopped.
pub(crate) async fn runner(args: gantry_config::RunnerArgs) -> anyhow::Result<()> {
    if args.concurrent == 0 {
        bail!("--concurrent must be at least 1");
    }
    let url = args.url.trim_end_matches('/').to_owned();
    gantry_runner::verify(&url, &args.token, args.tls_ca_file.as_deref())
        .await
        .context("the server did not accept this runner")?;
    let builds_dir = std::path::absolute(&args.builds_dir).context("cannot resolve --builds-dir")?;
    let sandbox = args.sandbox.resolve()?;
    let isolation = match args.executor {
        gantry_config::Executor::Shell => match shell_isolation(&sandbox, &url, Vec::new(), "this runner").await {
            Ok(isolation) => isolation,
            Err(why) => bail!("{why}"),
        },
        // The Docker executor fetches sources on this machine, for jobs that then run in containers.
        gantry_config::Executor::Docker => gantry_runner::Isolation::None,
    };
    let host = std::process::Command::new("hostname")
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned());
    let config = gantry_runner::RunnerConfig {
        url,
        token: args.token,
        name: args.name.or(host).filter(|n| !n.is_empty()).unwrap_or_else(|| "gantry-runner".to_owned()),
        concurrent: args.concurrent,
        builds_dir,
        executor: match args.executor {
            gantry_config::Executor::Shell => gantry_runner::ExecutorKind::Shell,
            gantry_config::Executor::Docker => gantry_runner::ExecutorKind::Docker(gantry_runner::DockerSettings {
                host: None,
                default_image: args.docker_default_image.clone(),
            }),
        },
        isolation,
        heartbeat: std::time::Duration::from_secs(10),
        tls_ca_file: args.tls_ca_file,
        clone_url: args.clone_url,
    };
    tracing::info!(url = %config.url, concurrent = config.concurrent, "runner started");
    gantry_runner::run(config, shutdown_signal()).await?;
    tracing::info!("runner stopped");
    Ok(())
}
