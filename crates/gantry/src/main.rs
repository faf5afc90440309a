//! The `gantry` command: `serve`, `migrate`, `admin …`, `ci …`, and `hook …` (run by git).

mod ci;
mod ci_exec;
mod runners;

use std::io::{Read, Write};
use std::net::SocketAddr;

use anyhow::{Context, bail};
use axum::serve::ListenerExt;
use clap::{Parser, Subcommand};
use gantry_config::{MailConfig, ServeArgs, ServeConfig, StorageArgs, StorageConfig};
use gantry_core::ci::CiSettingsOfServer;
use gantry_core::ci::runners::{RunnerRegistration, RunnerScope};
use gantry_core::manage::accounts::NewAccount;
use gantry_core::manage::tokens::parse_expiry_date;
use gantry_core::{Core, Repositories, SecretBox};
use gantry_db::Db;
use gantry_git::hooks;
use gantry_types::TokenScopes;
use gantry_web::{AppState, WebConfig};

#[derive(Parser)]
#[command(name = "gantry", version, about = "One self-hosted program for a software team's whole lifecycle")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the server (web UI, API)
    Serve(ServeArgs),
    /// Bring the database schema up to date and exit
    Migrate(StorageArgs),
    /// Administer users and tokens from the command line
    Admin {
        #[command(subcommand)]
        command: AdminCommand,
        #[command(flatten)]
        storage: StorageArgs,
        /// Log what happens on the way (the result and errors are printed either way)
        #[arg(short, long, global = true)]
        verbose: bool,
    },
    /// Run a CI runner agent that takes jobs from a Gantry server
    Runner(gantry_config::RunnerArgs),
    /// Work with CI files on a laptop: `gantry ci lint`
    Ci {
        #[command(subcommand)]
        command: ci::CiCommand,
    },
    /// Run by git's receive-pack during a push; not for people
    #[command(hide = true)]
    Hook {
        #[command(subcommand)]
        hook: HookCommand,
    },
    /// Run by the runner inside a sandboxed job's network: listens on the server's address
    /// there and hands the socket to the runner (standard output); not for people
    #[command(hide = true)]
    JobNetworkDoor { address: SocketAddr },
}

#[derive(Subcommand)]
enum HookCommand {
    /// Check the pushed ref updates (standard input) against the push's policy
    PreReceive,
    /// Report the ref updates git made
    PostReceive,
}

#[derive(Subcommand)]
enum AdminCommand {
    /// Create a user; the password is read from standard input
    CreateUser {
        #[arg(long)]
        username: String,
        #[arg(long)]
        email: String,
        #[arg(long)]
        name: Option<String>,
        /// Read the password from standard input (required: passwords never go on the command line)
        #[arg(long, required = true)]
        password_stdin: bool,
        /// Make the user an instance administrator
        #[arg(long)]
        admin: bool,
    },
    /// Set a user's password, read from standard input, and end their sessions
    ResetPassword {
        #[arg(long)]
        username: String,
        #[arg(long, required = true)]
        password_stdin: bool,
    },
    /// List users
    ListUsers,
    /// Create a personal access token and print it (only the token) on standard output
    CreateToken {
        #[arg(long)]
        username: String,
        #[arg(long)]
        name: String,
        /// Comma-separated: api, read_api, read_repository, write_repository, read_registry, write_registry
        #[arg(long)]
        scopes: String,
        /// Expiry date, YYYY-MM-DD
        #[arg(long)]
        expires_at: Option<String>,
    },
    /// Register a CI runner and print its token (only the token) on standard output
    CreateRunner {
        /// Comma-separated tags; jobs with tags run only on runners that have all of them
        #[arg(long, value_delimiter = ',')]
        tags: Vec<String>,
        /// Make a project runner for this project (full path); an instance runner otherwise
        #[arg(long, value_name = "PATH")]
        project: Option<String>,
        #[arg(long, default_value = "")]
        description: String,
        /// Only take jobs with tags
        #[arg(long)]
        tagged_only: bool,
    },
    /// Queue a test e-mail to an address; the running server sends it through the configured
    /// SMTP server (mail_smtp_url, mail_from), retrying while that server is down
    SendTestMail {
        /// The address to send it to
        #[arg(long)]
        to: String,
    },
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let command = match cli.command {
        Command::Hook { hook } => {
            // Runs inside git: whatever goes to stderr reaches the pusher as `remote: …`.
            std::process::exit(run_hook(hook));
        }
        Command::Ci { command } => {
            std::process::exit(ci::run(command));
        }
        Command::JobNetworkDoor { address } => {
            return gantry_runner::open_door(address).with_context(|| format!("cannot listen on {address}"));
        }
        command => command,
    };
    if matches!(command, Command::Serve(_) | Command::Migrate(_) | Command::Admin { .. }) {
        // The data directory holds keys, the database and repositories: whatever these
        // commands create there is for this user alone.
        rustix::process::umask(rustix::fs::Mode::from_raw_mode(0o077));
    }
    // An admin command prints its result; its log is for when something goes wrong, or when
    // asked for. RUST_LOG, when set, decides for every command.
    let quiet = matches!(command, Command::Admin { verbose: false, .. });
    let default_filter = if quiet { "warn" } else { "info,sqlx=warn" };
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| default_filter.into()),
        )
        .with_writer(std::io::stderr)
        .with_ansi(colours_on_stderr())
        .init();
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(async move {
        match command {
            Command::Serve(args) => serve(ServeConfig::load(&args)?).await,
            Command::Migrate(args) => {
                let storage = StorageConfig::load(&args)?;
                open_db(&storage).await?;
                eprintln!("database is up to date");
                Ok(())
            }
            Command::Admin { command, storage, .. } => {
                admin(StorageConfig::load(&storage)?, MailConfig::load(&storage)?, command).await
            }
            Command::Runner(args) => runners::runner(args).await,
            Command::Hook { .. } | Command::Ci { .. } | Command::JobNetworkDoor { .. } => {
                unreachable!("handled before the runtime starts")
            }
        }
    })
}

/// Whether the log may be coloured: only for a person at a terminal (escapes in a file or a pipe
/// are noise), and not when they asked for no colours (`NO_COLOR`, https://no-color.org).
fn colours_on_stderr() -> bool {
    use std::io::IsTerminal;
    std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|value| value.is_empty())
}

async fn open_db(storage: &StorageConfig) -> anyhow::Result<Db> {
    std::fs::create_dir_all(&storage.data_dir)
        .with_context(|| format!("cannot create data directory {}", storage.data_dir.display()))?;
    // Nobody else may list or read it; a root server's sandboxed jobs may pass through it
    // (0711, set when the built-in runner starts), which this leaves as it is.
    let mode = std::fs::metadata(&storage.data_dir)
        .with_context(|| format!("cannot read data directory {}", storage.data_dir.display()))?
        .permissions();
    if std::os::unix::fs::PermissionsExt::mode(&mode) & 0o066 != 0 {
        set_mode(&storage.data_dir, 0o700)?;
    }
    // What an older version made here may be readable by others (gantry.db at 0644, say); the
    // data directory may let them pass through to the builds directory.
    for entry in std::fs::read_dir(&storage.data_dir)
        .with_context(|| format!("cannot read data directory {}", storage.data_dir.display()))?
        .flatten()
    {
        let Ok(metadata) = entry.metadata() else { continue };
        let mode = std::os::unix::fs::PermissionsExt::mode(&metadata.permissions());
        if entry.file_name() != "builds" && !metadata.file_type().is_symlink() && mode & 0o077 != 0 {
            set_mode(&entry.path(), mode & 0o700)?;
        }
    }
    Db::open(&storage.database_url).await.context("cannot open the database")
}

/// Sets a directory's permission bits (the data directory's, made before umask applied or by
/// an older version, say).
pub(crate) fn set_mode(dir: &std::path::Path, mode: u32) -> anyhow::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(mode))
        .with_context(|| format!("cannot set the permissions of {}", dir.display()))
}

fn run_hook(hook: HookCommand) -> i32 {
    let stdin = std::io::stdin().lock();
    match hook {
        HookCommand::PreReceive => {
            let policy = std::env::var(hooks::POLICY_ENV).ok();
            let refusals = hooks::pre_receive(stdin, policy.as_deref(), std::path::Path::new("git"));
            for refusal in &refusals {
                eprintln!("Gantry: {refusal}");
            }
            i32::from(!refusals.is_empty())
        }
        HookCommand::PostReceive => {
            let Some(report) = std::env::var_os(hooks::REPORT_ENV) else { return 0 };
            // receive-pack hands the client's push options (`git push -o ci.skip`) over this way.
            let count = std::env::var("GIT_PUSH_OPTION_COUNT").ok().and_then(|n| n.parse::<usize>().ok()).unwrap_or(0);
            let options: Vec<String> =
                (0..count.min(100)).filter_map(|i| std::env::var(format!("GIT_PUSH_OPTION_{i}")).ok()).collect();
            match hooks::post_receive(stdin, &options, std::path::Path::new(&report)) {
                Ok(()) => 0,
                Err(error) => {
                    eprintln!("Gantry: the push went through but could not be recorded: {error}");
                    0
                }
            }
        }
    }
}

/// The key that encrypts secrets at rest: from the environment, or the data directory's file.
fn secrets(storage: &StorageConfig) -> anyhow::Result<SecretBox> {
    match &storage.secret_key {
        Some(hex) => SecretBox::from_hex(hex).map_err(|message| anyhow::anyhow!("GANTRY_SECRET_KEY: {message}")),
        None => {
            let path = storage.data_dir.join("secrets.key");
            SecretBox::load_or_create(&path)
                .with_context(|| format!("cannot read or create the secrets key {}", path.display()))
        }
    }
}

fn repositories(storage: &StorageConfig) -> Repositories {
    Repositories::new(&storage.data_dir, "git")
}

async fn serve(config: ServeConfig) -> anyhow::Result<()> {
    let db = open_db(&config.storage).await?;
    let repos = repositories(&config.storage);
    let program = std::env::current_exe().context("cannot find the gantry program for git's hooks")?;
    hooks::install(repos.hooks_dir(), &program)
        .with_context(|| format!("cannot write git hooks into {}", repos.hooks_dir().display()))?;
    let core = Core::new(db.clone(), repos)
        .with_secrets(secrets(&config.storage)?)
        .with_ci_settings(CiSettingsOfServer {
            external_url: config.external_url.clone(),
            runner_silence: config.runner_heartbeat_timeout,
            max_artifact_size: config.max_artifacts_size,
        })
        .with_identity(&server_identity(config.listen))
        .with_background_settings(gantry_core::background::BackgroundSettings {
            concurrency: config.background_jobs,
            ..Default::default()
        });
    let core = with_mail(core, config.mail.as_ref())?;
    let web = WebConfig {
        external_url: config.external_url.clone(),
        ssh_host: config.ssh_listen.to_string(),
        secure_cookies: config.is_https(),
    };
    let app = gantry_web::app(AppState::new(core.clone(), web));
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .with_context(|| format!("cannot listen on {}", config.listen))?
        // Without TCP_NODELAY a response written in two pieces waits for the client's delayed
        // ACK (40 ms): git's smart HTTP, which makes several small requests, paid it each time.
        .tap_io(|stream| {
            let _ = stream.set_nodelay(true);
        });
    let host_key =
        gantry_ssh::load_or_create_host_key(&config.storage.data_dir).context("cannot set up the SSH host key")?;
    let ssh_listener = tokio::net::TcpListener::bind(config.ssh_listen)
        .await
        .with_context(|| format!("cannot listen for SSH on {}", config.ssh_listen))?;
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let background = tokio::spawn({
        let (core, stop) = (core.clone(), told_to_stop(&stopped));
        async move { core.run_background(stop).await }
    });
    let signals = tokio::spawn({
        let (core, stop) = (core.clone(), told_to_stop(&stopped));
        async move { core.run_signals(stop).await }
    });
    let ci = tokio::spawn({
        let (core, stop) = (core.clone(), told_to_stop(&stopped));
        async move { core.ci().run_ci(stop).await }
    });
    // Pushes a killed server left unrecorded are recorded (and their pipelines queued).
    match core.code().record_leftover_pushes().await {
        Ok(0) => {}
        Ok(recorded) => tracing::warn!(recorded, "pushes left unrecorded by a stopped server were recorded"),
        Err(error) => tracing::error!(error = %error, "cannot record the pushes a stopped server left"),
    }
    let builtin_runner = match config.builtin_runner.clone() {
        Some(settings) => runners::start_builtin_runner(&core, &config, settings, &app, stopped.clone()).await?,
        None => None,
    };
    let ssh = tokio::spawn(gantry_ssh::serve(core.clone(), ssh_listener, host_key, told_to_stop(&stopped)));
    tracing::info!(
        listen = %config.listen, ssh_listen = %config.ssh_listen, external_url = %config.external_url,
        "gantry is ready"
    );
    // Whatever the log level, the person who started it learns where to go (standard output;
    // the log is on standard error). A closed standard output (a daemon's) is no reason to stop.
    let _ = writeln!(std::io::stdout(), "Gantry is ready at {}/", config.external_url);
    axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>())
        .with_graceful_shutdown({
            let core = core.clone();
            async move {
                shutdown_signal().await;
                core.ci().stop_ci();
                let _ = stop.send(true);
            }
        })
        .await?;
    ssh.await.context("the SSH server stopped unexpectedly")??;
    background.await.context("the background worker stopped unexpectedly")?;
    ci.await.context("the CI scheduler stopped unexpectedly")?;
    signals.await.context("the signals between servers stopped unexpectedly")?;
    if let Some(runner) = builtin_runner {
        match runner.await {
            Ok(Ok(())) => {}
            Ok(Err(error)) => tracing::error!(error = %error, "the built-in runner stopped with an error"),
            Err(error) => tracing::error!(error = %error, "the built-in runner stopped unexpectedly"),
        }
    }
    db.close().await;
    tracing::info!("gantry stopped");
    Ok(())
}

/// This server among those sharing a database, the same across its restarts: the host and the
/// address it listens on (two running servers on one host cannot share an address).
fn server_identity(listen: SocketAddr) -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap_or_default();
    format!("{} {listen}", host.trim())
}

/// Resolves once `serve` is told to stop (through `stopped`).
fn told_to_stop(stopped: &tokio::sync::watch::Receiver<bool>) -> impl std::future::Future<Output = ()> + use<> {
    let mut stopped = stopped.clone();
    async move {
        let _ = stopped.wait_for(|stop| *stop).await;
    }
}

pub(crate) async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down");
}

fn read_password() -> anyhow::Result<String> {
    let mut password = String::new();
    std::io::stdin().read_to_string(&mut password).context("cannot read the password from standard input")?;
    let password = password.trim_end_matches(['\n', '\r']).to_owned();
    if password.is_empty() {
        bail!("no password on standard input");
    }
    Ok(password)
}

/// Sets the SMTP server mail goes out through, when one is configured.
fn with_mail(core: Core, mail: Option<&MailConfig>) -> anyhow::Result<Core> {
    let Some(mail) = mail else { return Ok(core) };
    let settings = gantry_core::mail::MailSettings { smtp_url: mail.smtp_url.clone(), from: mail.from.clone() };
    core.with_mail(&settings).map_err(|problem| anyhow::anyhow!("the mail settings are wrong: {problem}"))
}

async fn admin(storage: StorageConfig, mail: Option<MailConfig>, command: AdminCommand) -> anyhow::Result<()> {
    let core = Core::new(open_db(&storage).await?, repositories(&storage)).with_secrets(secrets(&storage)?);
    let core = with_mail(core, mail.as_ref())?;
    match command {
        AdminCommand::CreateUser { username, email, name, admin, .. } => {
            let account = NewAccount { name: name.unwrap_or_default(), username, email, password: read_password()? };
            let user = core.manage().create_user_as_operator(&account, admin).await?;
            eprintln!(
                "created user {} (id {}){}",
                user.username,
                user.id,
                if user.is_admin { ", administrator" } else { "" }
            );
        }
        AdminCommand::ResetPassword { username, .. } => {
            let user = core.manage().reset_password_as_operator(&username, &read_password()?).await?;
            eprintln!("password of {} changed; their sessions were ended", user.username);
        }
        AdminCommand::ListUsers => {
            println!("{:>6}  {:<24} {:<32} {:<8} ADMIN", "ID", "USERNAME", "EMAIL", "STATE");
            for user in core.manage().list_users_as_operator().await? {
                let state = if user.blocked { "blocked" } else { "active" };
                let admin = if user.is_admin { "yes" } else { "no" };
                println!("{:>6}  {:<24} {:<32} {:<8} {admin}", user.id, user.username, user.email, state);
            }
        }
        AdminCommand::CreateToken { username, name, scopes, expires_at } => {
            let scopes = TokenScopes::parse_list(&scopes).map_err(|unknown| {
                if unknown.is_empty() {
                    anyhow::anyhow!("--scopes is empty")
                } else {
                    anyhow::anyhow!("unknown scope '{unknown}'")
                }
            })?;
            let expires = expires_at.as_deref().map(parse_expiry_date).transpose()?;
            let created = core.manage().create_token_as_operator(&username, &name, &scopes, expires).await?;
            println!("{}", created.secret);
        }
        AdminCommand::CreateRunner { tags, project, description, tagged_only } => {
            let scope = match project {
                Some(path) => {
                    let project = core
                        .ci()
                        .find_project_as_operator(&path)
                        .await?
                        .with_context(|| format!("there is no project at {path}"))?;
                    RunnerScope::Project(project.id)
                }
                None => RunnerScope::Instance,
            };
            let tags: Vec<String> = tags.into_iter().filter(|t| !t.trim().is_empty()).collect();
            if tagged_only && tags.is_empty() {
                bail!("--tagged-only needs --tags");
            }
            let registration = RunnerRegistration {
                scope,
                description,
                tags,
                run_untagged: !tagged_only,
                paused: false,
                max_concurrent: 0,
            };
            let (_, token) = core.ci().create_runner_as_operator(registration).await?;
            println!("{token}");
        }
        AdminCommand::SendTestMail { to } => {
            core.send_test_mail_as_operator(&to).await?;
            println!("a test e-mail to {} is queued: the running server sends it", to.trim());
        }
    }
    core.db().close().await;
    Ok(())
}
