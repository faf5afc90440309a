//! Typed configuration of Gantry (see the README below).
#![doc = include_str!("../README.md")]

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::Deserialize;

/// Why the configuration could not be assembled.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {path}: {source}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("config file {path} is invalid: {source}")]
    Parse {
        path: PathBuf,
        #[source]
        source: toml::de::Error,
    },
    #[error("{0}")]
    Invalid(String),
}

/// Where the data lives: shared by `serve`, `migrate` and `admin`.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct StorageArgs {
    /// Directory for the database (SQLite), repositories and blobs
    #[arg(long, global = true, env = "GANTRY_DATA_DIR", value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// sqlite://PATH or postgres://USER:PASSWORD@HOST/DB (default: SQLite in the data directory)
    #[arg(long, global = true, env = "GANTRY_DATABASE_URL", value_name = "URL")]
    pub database_url: Option<String>,
    /// Configuration file (default: ./gantry.toml when it exists)
    #[arg(long, global = true, env = "GANTRY_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// The key that encrypts secrets at rest, as 64 hexadecimal characters (default: the file
    /// `secrets.key` in the data directory, created on first start)
    #[arg(long, global = true, env = "GANTRY_SECRET_KEY", value_name = "HEX", hide_env_values = true)]
    pub secret_key: Option<String>,
}

/// Options of `gantry serve`.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct ServeArgs {
    #[command(flatten)]
    pub storage: StorageArgs,
    /// Address for HTTP (web UI, API, git)
    #[arg(long, env = "GANTRY_LISTEN", value_name = "ADDR")]
    pub listen: Option<SocketAddr>,
    /// Address for git over SSH
    #[arg(long, env = "GANTRY_SSH_LISTEN", value_name = "ADDR")]
    pub ssh_listen: Option<SocketAddr>,
    /// The URL people use to reach this server (for links and clone URLs)
    #[arg(long, env = "GANTRY_EXTERNAL_URL", value_name = "URL")]
    pub external_url: Option<String>,
    /// Do not start the built-in CI runner (jobs then need `gantry runner` agents)
    #[arg(long, env = "GANTRY_NO_BUILTIN_RUNNER")]
    pub no_builtin_runner: bool,
    /// How the built-in runner runs jobs
    #[arg(long, env = "GANTRY_BUILTIN_RUNNER_EXECUTOR", value_name = "shell|docker")]
    pub builtin_runner_executor: Option<Executor>,
    /// How many jobs the built-in runner runs at once
    #[arg(long, env = "GANTRY_BUILTIN_RUNNER_CONCURRENT", value_name = "N")]
    pub builtin_runner_concurrent: Option<usize>,
    /// The image of jobs without `image:` when the built-in runner uses Docker
    #[arg(long, env = "GANTRY_DOCKER_DEFAULT_IMAGE", value_name = "IMAGE")]
    pub docker_default_image: Option<String>,
    /// Seconds without a sign of life from a job's runner before the job fails as a runner
    /// system failure
    #[arg(long, env = "GANTRY_RUNNER_HEARTBEAT_TIMEOUT", value_name = "SECONDS")]
    pub runner_heartbeat_timeout: Option<u64>,
    /// The largest artifacts archive or cache a job may upload, in MiB (default 100)
    #[arg(long, env = "GANTRY_MAX_ARTIFACTS_SIZE", value_name = "MIB")]
    pub max_artifacts_size: Option<u64>,
    /// How many background jobs (pipelines for pushes, log archiving, repository maintenance)
    /// this server runs at once; 0 leaves them to the other servers on the same database
    /// (default 4)
    #[arg(long, env = "GANTRY_BACKGROUND_JOBS", value_name = "N")]
    pub background_jobs: Option<usize>,
    #[command(flatten)]
    pub sandbox: SandboxArgs,
}

/// How shell jobs are sandboxed, for the built-in runner of `gantry serve` and for `gantry runner`.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct SandboxArgs {
    /// Run shell jobs WITHOUT a sandbox, as this process's user with all its privileges and files
    /// (the data directory, keys and database included): only where everyone who can push a CI
    /// file is trusted with the whole server
    #[arg(long, env = "GANTRY_UNSAFE_JOBS_WITHOUT_SANDBOX")]
    pub unsafe_jobs_without_sandbox: bool,
    /// When running as root, worker N runs its jobs as user and group BASE+N: users that should
    /// exist nowhere else on the machine (default 1900000000)
    #[arg(long, env = "GANTRY_JOB_UID_BASE", value_name = "BASE")]
    pub job_uid_base: Option<u32>,
    /// How many processes and threads a job may have at once (default 1024)
    #[arg(long, env = "GANTRY_JOB_MAX_PROCESSES", value_name = "N")]
    pub job_max_processes: Option<u64>,
    /// MiB of memory each process of a job may allocate (default 4096)
    #[arg(long, env = "GANTRY_JOB_MAX_MEMORY", value_name = "MIB")]
    pub job_max_memory: Option<u64>,
    /// MiB a job's directories may hold (default 10240)
    #[arg(long, env = "GANTRY_JOB_MAX_DISK", value_name = "MIB")]
    pub job_max_disk: Option<u64>,
    /// MiB of a job's /tmp, which lives in memory (default 512)
    #[arg(long, env = "GANTRY_JOB_MAX_TMP", value_name = "MIB")]
    pub job_max_tmp: Option<u64>,
    /// What a job's network reaches: `internet`, everything outside this machine (through its
    /// default interface) and the Gantry server; or `server`, the Gantry server only
    #[arg(long, env = "GANTRY_JOB_NETWORK", value_name = "internet|server", default_value = "internet")]
    pub job_network: JobNetwork,
    /// Ports on this machine's loopback that jobs may reach besides the server's (a package
    /// proxy, say), comma-separated; the machine's other local services stay out of reach
    #[arg(long, env = "GANTRY_JOB_LOOPBACK_PORTS", value_name = "PORT,…", value_delimiter = ',')]
    pub job_loopback_ports: Vec<u16>,
}

/// What a sandboxed job's network reaches.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum JobNetwork {
    /// Everything outside this machine, through its default interface, and the Gantry server
    #[default]
    Internet,
    /// The Gantry server only (sources, artifacts, the job token API)
    Server,
}

/// The sandbox of shell jobs, resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobSandbox {
    /// The admin chose to run jobs without one.
    pub unsafe_without_sandbox: bool,
    pub job_uid_base: u32,
    pub max_processes: u64,
    /// Bytes.
    pub max_memory: u64,
    /// Bytes.
    pub max_disk: u64,
    /// Bytes.
    pub max_tmp: u64,
    pub network: JobNetwork,
    /// Loopback ports jobs may reach besides the server's.
    pub loopback_ports: Vec<u16>,
}

impl SandboxArgs {
    /// The settings, with defaults for what is not given; limits of zero are refused.
    pub fn resolve(&self) -> Result<JobSandbox, ConfigError> {
        let mib = |value: Option<u64>, default: u64, what: &str| match value.unwrap_or(default) {
            0 => Err(ConfigError::Invalid(format!("{what} must be at least 1 MiB"))),
            value if value > 1 << 30 => Err(ConfigError::Invalid(format!("{what} must be at most 1 PiB"))),
            value => Ok(value << 20),
        };
        let max_processes = self.job_max_processes.unwrap_or(1024);
        if max_processes < 8 {
            return Err(ConfigError::Invalid("a job needs at least 8 processes".to_owned()));
        }
        if self.job_loopback_ports.contains(&0) {
            return Err(ConfigError::Invalid("--job-loopback-ports: 0 is not a port".to_owned()));
        }
        Ok(JobSandbox {
            unsafe_without_sandbox: self.unsafe_jobs_without_sandbox,
            job_uid_base: self.job_uid_base.unwrap_or(1_900_000_000),
            max_processes,
            max_memory: mib(self.job_max_memory, 4096, "a job's memory per process")?,
            max_disk: mib(self.job_max_disk, 10240, "a job's disk")?,
            max_tmp: mib(self.job_max_tmp, 512, "a job's /tmp")?,
            network: self.job_network,
            loopback_ports: self.job_loopback_ports.clone(),
        })
    }
}

/// How a runner runs jobs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Executor {
    /// A shell in a fresh directory (isolated with bubblewrap when available)
    Shell,
    /// A container per job through the Docker Engine API
    Docker,
}

/// Options of `gantry runner`.
#[derive(Debug, Clone, clap::Args)]
pub struct RunnerArgs {
    /// The Gantry server's URL
    #[arg(long, env = "GANTRY_RUNNER_URL", value_name = "URL")]
    pub url: String,
    /// The runner's token (from `gantry admin create-runner` or `POST /api/v4/user/runners`)
    #[arg(long, env = "GANTRY_RUNNER_TOKEN", value_name = "TOKEN", hide_env_values = true)]
    pub token: String,
    /// How jobs run
    #[arg(long, env = "GANTRY_RUNNER_EXECUTOR", value_name = "shell|docker", default_value = "shell")]
    pub executor: Executor,
    /// How many jobs run at once
    #[arg(long, env = "GANTRY_RUNNER_CONCURRENT", value_name = "N", default_value_t = 1)]
    pub concurrent: usize,
    /// Where job directories are made
    #[arg(long, env = "GANTRY_RUNNER_BUILDS_DIR", value_name = "DIR", default_value = "builds")]
    pub builds_dir: PathBuf,
    /// The name the runner reports to the server (unique per Docker engine)
    #[arg(long, env = "GANTRY_RUNNER_NAME", value_name = "NAME")]
    pub name: Option<String>,
    /// The image of jobs without `image:` (Docker executor)
    #[arg(long, env = "GANTRY_DOCKER_DEFAULT_IMAGE", value_name = "IMAGE", default_value = DEFAULT_DOCKER_IMAGE)]
    pub docker_default_image: String,
    /// A PEM file of CA certificates to trust besides the system's, for an https:// server whose
    /// certificate a private CA signed; jobs get it as CI_SERVER_TLS_CA_FILE
    #[arg(long, env = "GANTRY_RUNNER_TLS_CA_FILE", value_name = "FILE")]
    pub tls_ca_file: Option<PathBuf>,
    /// Where jobs reach the server when --url is not reachable from them (as GitLab runner's
    /// `clone_url`): sources and the API URLs jobs call use this URL's scheme, host and port
    #[arg(long, env = "GANTRY_RUNNER_CLONE_URL", value_name = "URL")]
    pub clone_url: Option<String>,
    #[command(flatten)]
    pub sandbox: SandboxArgs,
}

/// The image of jobs that name none, for Docker executors.
pub const DEFAULT_DOCKER_IMAGE: &str = "alpine:3";

/// The subset of `gantry.toml` we understand; unknown keys are an error so typos are caught.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ConfigFile {
    listen: Option<SocketAddr>,
    ssh_listen: Option<SocketAddr>,
    data_dir: Option<PathBuf>,
    database_url: Option<String>,
    external_url: Option<String>,
    builtin_runner: Option<bool>,
    builtin_runner_executor: Option<Executor>,
    builtin_runner_concurrent: Option<usize>,
    docker_default_image: Option<String>,
    runner_heartbeat_timeout: Option<u64>,
    max_artifacts_size: Option<u64>,
    background_jobs: Option<usize>,
    mail_smtp_url: Option<String>,
    mail_from: Option<String>,
}

/// The SMTP server Gantry's mail goes out through (`mail_smtp_url`, `mail_from` in
/// `gantry.toml`, or `GANTRY_MAIL_SMTP_URL`, `GANTRY_MAIL_FROM`); mail is off without one.
#[derive(Clone)]
pub struct MailConfig {
    /// `smtp://host:25`, `smtp://user:password@host:587?tls=required`, `smtps://…@host:465`.
    pub smtp_url: String,
    /// The sender, `Gantry <gantry@example.com>`.
    pub from: String,
}

impl std::fmt::Debug for MailConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The URL may hold the SMTP password.
        f.debug_struct("MailConfig").field("from", &self.from).finish_non_exhaustive()
    }
}

/// The mail settings of the environment over the file; both or neither.
fn resolve_mail(file: &ConfigFile) -> Result<Option<MailConfig>, ConfigError> {
    let from_env = |name: &str| std::env::var(name).ok().filter(|value| !value.trim().is_empty());
    let smtp_url = from_env("GANTRY_MAIL_SMTP_URL").or_else(|| file.mail_smtp_url.clone());
    let from = from_env("GANTRY_MAIL_FROM").or_else(|| file.mail_from.clone());
    match (smtp_url, from) {
        (None, None) => Ok(None),
        (Some(smtp_url), Some(from)) => Ok(Some(MailConfig { smtp_url, from })),
        (Some(_), None) => Err(ConfigError::Invalid("mail_smtp_url is set but mail_from, the sender, is not".into())),
        (None, Some(_)) => {
            Err(ConfigError::Invalid("mail_from is set but mail_smtp_url, the SMTP server, is not".into()))
        }
    }
}

impl MailConfig {
    /// Resolves the mail settings of `admin` commands (as `serve` does).
    pub fn load(args: &StorageArgs) -> Result<Option<MailConfig>, ConfigError> {
        resolve_mail(&read_file(args.config.as_deref())?)
    }
}

/// Where Gantry keeps its data.
#[derive(Debug, Clone)]
pub struct StorageConfig {
    pub data_dir: PathBuf,
    pub database_url: String,
    /// The secrets key from the environment; None means the key file in the data directory.
    pub secret_key: Option<String>,
}

/// The resolved configuration of `gantry serve`.
#[derive(Debug, Clone)]
pub struct ServeConfig {
    pub storage: StorageConfig,
    pub listen: SocketAddr,
    pub ssh_listen: SocketAddr,
    /// Without a trailing slash.
    pub external_url: String,
    /// The built-in runner, unless turned off.
    pub builtin_runner: Option<BuiltinRunner>,
    /// How long a running job's runner may be silent.
    pub runner_heartbeat_timeout: std::time::Duration,
    /// The largest artifacts archive or cache a job may upload, in bytes.
    pub max_artifacts_size: u64,
    /// How many background jobs this server runs at once (0: none).
    pub background_jobs: usize,
    /// Where mail goes out; none: mail is off.
    pub mail: Option<MailConfig>,
}

/// The built-in runner's settings.
#[derive(Debug, Clone)]
pub struct BuiltinRunner {
    pub executor: Executor,
    pub concurrent: usize,
    /// For the Docker executor: the image of jobs that name none.
    pub docker_default_image: String,
    /// For the shell executor.
    pub sandbox: JobSandbox,
}

impl ServeConfig {
    /// Whether people reach the server over https (session cookies are then `Secure`).
    pub fn is_https(&self) -> bool {
        self.external_url.starts_with("https://")
    }
}

const DEFAULT_LISTEN: &str = "127.0.0.1:3000";
const DEFAULT_SSH_LISTEN: &str = "127.0.0.1:2222";
const DEFAULT_DATA_DIR: &str = "gantry-data";
const DEFAULT_CONFIG_FILE: &str = "gantry.toml";

fn read_file(explicit: Option<&Path>) -> Result<ConfigFile, ConfigError> {
    let path = match explicit {
        Some(path) => path.to_owned(),
        None if Path::new(DEFAULT_CONFIG_FILE).exists() => PathBuf::from(DEFAULT_CONFIG_FILE),
        None => return Ok(ConfigFile::default()),
    };
    let text = std::fs::read_to_string(&path).map_err(|source| ConfigError::Read { path: path.clone(), source })?;
    toml::from_str(&text).map_err(|source| ConfigError::Parse { path, source })
}

fn resolve_storage(args: &StorageArgs, file: &ConfigFile) -> Result<StorageConfig, ConfigError> {
    let data_dir =
        args.data_dir.clone().or_else(|| file.data_dir.clone()).unwrap_or_else(|| PathBuf::from(DEFAULT_DATA_DIR));
    let database_url = match args.database_url.clone().or_else(|| file.database_url.clone()) {
        Some(url) => url,
        None => format!("sqlite://{}", data_dir.join("gantry.db").display()),
    };
    if !(database_url.starts_with("sqlite:")
        || database_url.starts_with("postgres://")
        || database_url.starts_with("postgresql://"))
    {
        return Err(ConfigError::Invalid(format!(
            "database URL must start with sqlite:// or postgres://, got '{database_url}'"
        )));
    }
    Ok(StorageConfig { data_dir, database_url, secret_key: args.secret_key.clone() })
}

impl StorageConfig {
    /// Resolves the storage settings of `migrate` and `admin` commands.
    pub fn load(args: &StorageArgs) -> Result<StorageConfig, ConfigError> {
        let file = read_file(args.config.as_deref())?;
        resolve_storage(args, &file)
    }
}

impl ServeConfig {
    /// Resolves flags and environment (already merged by clap) over the file over defaults.
    pub fn load(args: &ServeArgs) -> Result<ServeConfig, ConfigError> {
        let file = read_file(args.storage.config.as_deref())?;
        let storage = resolve_storage(&args.storage, &file)?;
        let listen = args.listen.or(file.listen).unwrap_or_else(|| DEFAULT_LISTEN.parse().expect("valid default"));
        let ssh_listen =
            args.ssh_listen.or(file.ssh_listen).unwrap_or_else(|| DEFAULT_SSH_LISTEN.parse().expect("valid default"));
        let external_url = args
            .external_url
            .clone()
            .or_else(|| file.external_url.clone())
            .unwrap_or_else(|| format!("http://{listen}"));
        if !(external_url.starts_with("http://") || external_url.starts_with("https://")) {
            return Err(ConfigError::Invalid(format!(
                "external URL must start with http:// or https://, got '{external_url}'"
            )));
        }
        let external_url = external_url.trim_end_matches('/').to_owned();
        let builtin_on = !args.no_builtin_runner && file.builtin_runner.unwrap_or(true);
        let concurrent = args.builtin_runner_concurrent.or(file.builtin_runner_concurrent).unwrap_or(4);
        if concurrent == 0 || concurrent > 256 {
            return Err(ConfigError::Invalid(format!(
                "the built-in runner runs 1 to 256 jobs at once, not {concurrent}"
            )));
        }
        let sandbox = args.sandbox.resolve()?;
        let builtin_runner = builtin_on.then(|| BuiltinRunner {
            sandbox,
            executor: args.builtin_runner_executor.or(file.builtin_runner_executor).unwrap_or(Executor::Shell),
            concurrent,
            docker_default_image: args
                .docker_default_image
                .clone()
                .or_else(|| file.docker_default_image.clone())
                .unwrap_or_else(|| DEFAULT_DOCKER_IMAGE.to_owned()),
        });
        let heartbeat = args.runner_heartbeat_timeout.or(file.runner_heartbeat_timeout).unwrap_or(120);
        if heartbeat == 0 {
            return Err(ConfigError::Invalid("the runner heartbeat timeout must be at least one second".to_owned()));
        }
        let max_artifacts_mib = args.max_artifacts_size.or(file.max_artifacts_size).unwrap_or(100);
        if max_artifacts_mib == 0 || max_artifacts_mib > 1 << 20 {
            return Err(ConfigError::Invalid("the maximum artifacts size must be from 1 MiB to 1 TiB".to_owned()));
        }
        let background_jobs = args.background_jobs.or(file.background_jobs).unwrap_or(4);
        if background_jobs > 256 {
            return Err(ConfigError::Invalid(format!(
                "a server runs 0 to 256 background jobs at once, not {background_jobs}"
            )));
        }
        let mail = resolve_mail(&file)?;
        Ok(ServeConfig {
            mail,
            max_artifacts_size: max_artifacts_mib << 20,
            background_jobs,
            storage,
            listen,
            ssh_listen,
            external_url,
            builtin_runner,
            runner_heartbeat_timeout: std::time::Duration::from_secs(heartbeat),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_embedded() {
        let config = ServeConfig::load(&ServeArgs {
            storage: StorageArgs { config: Some(PathBuf::from("/dev/null")), ..Default::default() },
            ..Default::default()
        })
        .unwrap();
        assert_eq!(config.listen.to_string(), DEFAULT_LISTEN);
        assert_eq!(config.storage.database_url, "sqlite://gantry-data/gantry.db");
        assert_eq!(config.external_url, "http://127.0.0.1:3000");
        assert!(!config.is_https());
    }

    #[test]
    fn flags_win_over_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("gantry.toml");
        std::fs::write(
            &file,
            "listen = \"127.0.0.1:4000\"\ndata_dir = \"/srv/gantry\"\nexternal_url = \"https://git.example.com/\"\n",
        )
        .unwrap();
        let config = ServeConfig::load(&ServeArgs {
            storage: StorageArgs { config: Some(file), ..Default::default() },
            listen: Some("127.0.0.1:5000".parse().unwrap()),
            ..Default::default()
        })
        .unwrap();
        assert_eq!(config.listen.port(), 5000);
        assert_eq!(config.storage.database_url, "sqlite:///srv/gantry/gantry.db");
        assert_eq!(config.external_url, "https://git.example.com");
        assert!(config.is_https());
    }

    #[test]
    fn mail_needs_both_a_server_and_a_sender() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("gantry.toml");
        let args = |file: &PathBuf| ServeArgs {
            storage: StorageArgs { config: Some(file.clone()), ..Default::default() },
            ..Default::default()
        };
        std::fs::write(&file, "mail_smtp_url = \"smtp://127.0.0.1:25\"\n").unwrap();
        assert!(ServeConfig::load(&args(&file)).unwrap_err().to_string().contains("mail_from"));
        std::fs::write(&file, "mail_smtp_url = \"smtp://u:secret@127.0.0.1:25\"\nmail_from = \"g@example.com\"\n")
            .unwrap();
        let mail = ServeConfig::load(&args(&file)).unwrap().mail.unwrap();
        assert_eq!((mail.smtp_url.as_str(), mail.from.as_str()), ("smtp://u:secret@127.0.0.1:25", "g@example.com"));
        assert!(!format!("{mail:?}").contains("secret"), "the password stays out of logs");
        std::fs::write(&file, "").unwrap();
        assert!(ServeConfig::load(&args(&file)).unwrap().mail.is_none(), "mail is off by default");
    }

    #[test]
    fn unknown_keys_and_bad_urls_are_errors() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("gantry.toml");
        std::fs::write(&file, "lisen = \"x\"\n").unwrap();
        let args =
            ServeArgs { storage: StorageArgs { config: Some(file), ..Default::default() }, ..Default::default() };
        assert!(matches!(ServeConfig::load(&args), Err(ConfigError::Parse { .. })));
        let args = ServeArgs {
            storage: StorageArgs {
                database_url: Some("mysql://x".into()),
                config: Some("/dev/null".into()),
                ..Default::default()
            },
            ..Default::default()
        };
        assert!(ServeConfig::load(&args).unwrap_err().to_string().contains("sqlite://"));
    }
}
