//! The `gantry` command: `serve`, `migrate`, `admin …`, `ci …`, and `hook …` (run by git).

mod ci;

use std::io::Read;
use std::net::SocketAddr;

use anyhow::{Context, bail};
use clap::{Parser, Subcommand};
use gantry_config::{ServeArgs, ServeConfig, StorageArgs, StorageConfig};
use gantry_core::manage::accounts::NewAccount;
use gantry_core::manage::tokens::parse_expiry_date;
use gantry_core::{Core, Repositories};
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
    },
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
        command => command,
    };
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info,sqlx=warn".into()),
        )
        .with_writer(std::io::stderr)
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
            Command::Admin { command, storage } => admin(StorageConfig::load(&storage)?, command).await,
            Command::Hook { .. } | Command::Ci { .. } => unreachable!("handled before the runtime starts"),
        }
    })
}

async fn open_db(storage: &StorageConfig) -> anyhow::Result<Db> {
    std::fs::create_dir_all(&storage.data_dir)
        .with_context(|| format!("cannot create data directory {}", storage.data_dir.display()))?;
    Db::open(&storage.database_url).await.context("cannot open the database")
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
            match hooks::post_receive(stdin, std::path::Path::new(&report)) {
                Ok(()) => 0,
                Err(error) => {
                    eprintln!("Gantry: the push went through but could not be recorded: {error}");
                    0
                }
            }
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
    let core = Core::new(db.clone(), repos);
    let web = WebConfig {
        external_url: config.external_url.clone(),
        ssh_host: config.ssh_listen.to_string(),
        secure_cookies: config.is_https(),
    };
    let app = gantry_web::app(AppState::new(core.clone(), web));
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .with_context(|| format!("cannot listen on {}", config.listen))?;
    let host_key =
        gantry_ssh::load_or_create_host_key(&config.storage.data_dir).context("cannot set up the SSH host key")?;
    let ssh_listener = tokio::net::TcpListener::bind(config.ssh_listen)
        .await
        .with_context(|| format!("cannot listen for SSH on {}", config.ssh_listen))?;
    // The syntax definitions load in the background, so the first file page is not slow.
    tokio::task::spawn_blocking(gantry_web::warm_up);
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let housekeeping = tokio::spawn({
        let core = core.clone();
        let events = core.subscribe();
        let mut stopped = stopped.clone();
        async move {
            core.run_housekeeping(events, gantry_core::code::housekeeping::QUIET_PERIOD, async move {
                let _ = stopped.wait_for(|stop| *stop).await;
            })
            .await
        }
    });
    let ssh = tokio::spawn(gantry_ssh::serve(core, ssh_listener, host_key, async move {
        let mut stopped = stopped;
        let _ = stopped.wait_for(|stop| *stop).await;
    }));
    tracing::info!(
        listen = %config.listen, ssh_listen = %config.ssh_listen, external_url = %config.external_url,
        "gantry is ready"
    );
    axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>())
        .with_graceful_shutdown(async move {
            shutdown_signal().await;
            let _ = stop.send(true);
        })
        .await?;
    ssh.await.context("the SSH server stopped unexpectedly")??;
    housekeeping.await.context("repository housekeeping stopped unexpectedly")?;
    db.close().await;
    tracing::info!("gantry stopped");
    Ok(())
}

async fn shutdown_signal() {
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

async fn admin(storage: StorageConfig, command: AdminCommand) -> anyhow::Result<()> {
    let core = Core::new(open_db(&storage).await?, repositories(&storage));
    match command {
        AdminCommand::CreateUser { username, email, name, admin, .. } => {
            let account = NewAccount { name: name.unwrap_or_default(), username, email, password: read_password()? };
            let user = core.create_user_as_operator(&account, admin).await?;
            eprintln!(
                "created user {} (id {}){}",
                user.username,
                user.id,
                if user.is_admin { ", administrator" } else { "" }
            );
        }
        AdminCommand::ResetPassword { username, .. } => {
            let user = core.reset_password_as_operator(&username, &read_password()?).await?;
            eprintln!("password of {} changed; their sessions were ended", user.username);
        }
        AdminCommand::ListUsers => {
            println!("{:>6}  {:<24} {:<32} {:<8} ADMIN", "ID", "USERNAME", "EMAIL", "STATE");
            for user in core.list_users_as_operator().await? {
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
            let created = core.create_token_as_operator(&username, &name, &scopes, expires).await?;
            println!("{}", created.secret);
        }
    }
    core.db().close().await;
    Ok(())
}
