//! What a job's processes may see and do of the machine. In the sandbox a job runs as an
//! unprivileged user that is not the runner's when the runner is root (one user per worker, so
//! jobs cannot touch each other), in its own user, mount, PID, IPC, UTS, cgroup and network
//! namespaces, with no capabilities, `no_new_privs` and a seccomp filter (`seccomp.rs`). It sees
//! the system's directories read-only (`/usr`, `/etc` less its secrets, the library links), a
//! size-capped `/tmp`, and its own two directories; nothing else of the machine: no `/root`, no
//! `/home`, no data directory, no other job. Its network is a user-mode stack (`pasta`, from
//! Debian's `passt`) that reaches the outside through the machine's default interface only (or,
//! if the admin says so, nothing outside), so the machine's loopback and its own addresses are
//! out of reach but for the ports the admin allows; the server the runner talks to is reached
//! at its own address, through a door the runner relays (`door.rs`). Its processes, open files, memory per process and largest file
//! are capped (rlimits set by `prlimit` inside the sandbox, so each job's process count is its
//! own).
//!
//! The layers: once per job, `pasta` (as the job's user) makes the user and network namespaces
//! and runs a holder process in them; each of the job's commands then enters them with
//! `nsenter`, and runs `bwrap`, which makes the rest and runs `prlimit`, which runs the
//! program. pasta takes some 70–100 ms to start, so each worker has a network started ahead for
//! its next job; a command costs a few ms more than unsandboxed.

mod door;
mod network;
mod seccomp;

use std::ffi::{OsStr, OsString};
use std::fmt;
use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Arc;

use command_fds::{CommandFdExt, FdMapping};
pub use door::open_door;
use network::{JobNetwork, default_route_interface, loopback_address, network_of, start_spare};
use tokio::process::Command;

use crate::job::JobDirs;

/// How a job is isolated from the machine it runs on.
#[derive(Clone)]
pub enum Isolation {
    /// None: a job runs as the runner's user and sees all the runner sees. Only for runners
    /// whose admin chose it (and for `gantry ci exec` on one's own working tree).
    None,
    /// In the sandbox.
    Sandbox(Arc<Sandbox>),
}

/// What the sandbox is told by whoever starts the runner.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SandboxSettings {
    /// Paths a job must not see even where the sandbox shows their directory (a configuration
    /// file under `/etc`, say). The data directory is never shown anyway; list it too.
    pub hide: Vec<PathBuf>,
    /// Directories jobs may read besides the system's (tool chains under `/opt`, say); each
    /// must be reachable by the jobs' user.
    pub read_only: Vec<PathBuf>,
    /// The server the runner talks to (`http://127.0.0.1:3000`): when its host is a loopback
    /// address, jobs reach it there (the runner relays what they send to that address in their
    /// network namespace).
    pub server_url: String,
    /// The program, with its first arguments, that runs [`open_door`] with the address given
    /// as its last argument (`gantry job-network-door`).
    pub door_program: Vec<OsString>,
    /// Whether jobs reach the world outside the machine (through its default interface); if
    /// not, their network holds the server's port and `loopback_ports` only.
    pub internet: bool,
    /// Ports of the machine's loopback jobs may reach besides the server's.
    pub loopback_ports: Vec<u16>,
    /// What one job may use.
    pub limits: JobLimits,
    /// When the runner runs as root, worker `n` (from 1) runs its jobs as user and group
    /// `job_uid_base + n`, users that should exist nowhere else on the machine.
    pub job_uid_base: u32,
}

/// What one job may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JobLimits {
    /// Processes (and threads) at once.
    pub processes: u64,
    /// Open files per process.
    pub open_files: u64,
    /// Bytes of data (heap and private mappings) per process.
    pub memory_per_process: u64,
    /// Bytes of `/tmp` (in memory).
    pub tmp: u64,
    /// Bytes of the job's directories on disk, and of its largest file.
    pub disk: u64,
}

impl JobLimits {
    /// Limits that fit common builds on a machine of a few gigabytes.
    pub const STANDARD: JobLimits =
        JobLimits { processes: 1024, open_files: 4096, memory_per_process: 4 << 30, tmp: 512 << 20, disk: 10 << 30 };
}

/// Why jobs cannot be sandboxed on this machine, and what to do about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SandboxUnavailable(pub String);

impl fmt::Display for SandboxUnavailable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for SandboxUnavailable {}

/// The sandbox, checked to work on this machine.
pub struct Sandbox {
    settings: SandboxSettings,
    /// The seccomp programs, as bubblewrap reads them.
    seccomp: Vec<Vec<u8>>,
    prlimit: PathBuf,
    /// The interface of the default route: outbound connections leave through it only.
    outbound_interface: Option<String>,
    /// The server's loopback address, where jobs reach it through their door.
    server_address: Option<std::net::SocketAddr>,
    runner_is_root: bool,
    /// Each running job's network, by its project directory.
    networks: std::sync::Mutex<std::collections::HashMap<PathBuf, Arc<JobNetwork>>>,
    /// Networks started ahead for the next jobs of a user (pasta's start is the slow part of a
    /// job's sandbox), each used by one job only.
    spares: std::sync::Mutex<std::collections::HashMap<(u32, u32), Vec<JobNetwork>>>,
}

impl fmt::Debug for Sandbox {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sandbox")
            .field("settings", &self.settings)
            .field("outbound_interface", &self.outbound_interface)
            .field("server_address", &self.server_address)
            .field("runner_is_root", &self.runner_is_root)
            .finish_non_exhaustive()
    }
}

impl fmt::Debug for Isolation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Isolation::None => f.write_str("None"),
            Isolation::Sandbox(sandbox) => sandbox.fmt(f),
        }
    }
}

/// What to install when a piece is missing.
const INSTALL_HINT: &str = "install bubblewrap and passt (Debian: apt-get install bubblewrap passt), allow \
    unprivileged user namespaces (sysctl kernel.unprivileged_userns_clone=1 where it exists) and let users open \
    /dev/net/tun (chmod 0666 /dev/net/tun, its usual mode)";

/// The sandbox with `settings`, when it works on this machine: a `true` is run in it once. Runs
/// processes and waits for them: call it at start-up.
pub async fn sandbox(settings: SandboxSettings) -> Result<Isolation, SandboxUnavailable> {
    for program in ["bwrap", "pasta"] {
        if find_program(program).is_none() {
            return Err(SandboxUnavailable(format!("{program} is not installed; {INSTALL_HINT}")));
        }
    }
    let util_linux = |name: &str| {
        find_program(name)
            .ok_or_else(|| SandboxUnavailable(format!("{name} is not installed (Debian: apt-get install util-linux)")))
    };
    let prlimit = util_linux("prlimit")?;
    util_linux("nsenter")?;
    let seccomp = seccomp::programs().map_err(SandboxUnavailable)?;
    let hide = settings.hide.iter().cloned().map(absolute).collect();
    let sandbox = Sandbox {
        server_address: loopback_address(&settings.server_url),
        settings: SandboxSettings { hide, ..settings },
        seccomp,
        prlimit,
        outbound_interface: default_route_interface(),
        runner_is_root: rustix::process::geteuid().is_root(),
        networks: Default::default(),
        spares: Default::default(),
    };
    let (uid, gid) = sandbox.job_ids(None);
    let network = sandbox.start_network(uid, gid).await.map_err(|error| {
        SandboxUnavailable(format!("a job's network cannot be made here ({error}); {INSTALL_HINT}"))
    })?;
    let mut probe = sandbox
        .command(OsStr::new("true"), &[], None, &network)
        .map_err(|error| SandboxUnavailable(format!("cannot prepare the sandbox: {error}")))?;
    let output = probe
        .stdin(Stdio::null())
        .output()
        .await
        .map_err(|error| SandboxUnavailable(format!("cannot start the sandbox: {error}; {INSTALL_HINT}")))?;
    if !output.status.success() {
        let said = String::from_utf8_lossy(&output.stderr);
        let said: Vec<&str> = said.lines().filter(|line| !line.contains("to syslog")).collect();
        return Err(SandboxUnavailable(format!(
            "a job cannot be sandboxed here ({}: {}); {INSTALL_HINT}",
            output.status,
            said.join("; ")
        )));
    }
    Ok(Isolation::Sandbox(Arc::new(sandbox)))
}

impl Isolation {
    /// A command running `program` with `args` for the job in `dirs`, in its project directory.
    /// In the sandbox, the job's network is made on its first command and kept for the next
    /// ones until [`Isolation::job_finished`].
    pub(crate) async fn command(&self, program: &OsStr, args: &[&OsStr], dirs: &JobDirs) -> std::io::Result<Command> {
        match self {
            Isolation::None => {
                let mut command = Command::new(program);
                command.args(args).current_dir(&dirs.project);
                Ok(command)
            }
            // bubblewrap changes into the project directory, inside; outside, the job's user may
            // not be allowed to reach it.
            Isolation::Sandbox(sandbox) => {
                let network = network_of(sandbox, dirs).await?;
                sandbox.command(program, args, Some(dirs), &network)
            }
        }
    }

    /// Starts a network ahead for the first job of worker `worker` (from 1) when it is the
    /// first worker: one spare network per runner while idle (each costs a pasta process of
    /// about 30 MB). The workers of a runner that is not root share that spare (their jobs run
    /// as one user); a root runner's other workers, each with a user of its own, start their
    /// first job's network when it comes, and keep a spare from then on.
    pub(crate) fn prepare_worker(&self, worker: usize) {
        if worker != 1 {
            return;
        }
        if let Isolation::Sandbox(sandbox) = self {
            let ids = match self.job_user(worker) {
                Some(user) => (user, user),
                None => sandbox.job_ids(None),
            };
            start_spare(Arc::clone(sandbox), ids);
        }
    }

    /// Ends what the job in `dirs` kept between its commands (its network).
    pub(crate) fn job_finished(&self, dirs: &JobDirs) {
        if let Isolation::Sandbox(sandbox) = self
            && let Ok(mut networks) = sandbox.networks.lock()
        {
            networks.remove(&dirs.project);
        }
    }

    /// The user that owns a job's directories and runs its processes when worker `worker` (from
    /// 1) runs it; `None` for the runner's own user.
    pub(crate) fn job_user(&self, worker: usize) -> Option<u32> {
        match self {
            Isolation::Sandbox(sandbox) if sandbox.runner_is_root => {
                let worker = u32::try_from(worker).unwrap_or(u32::MAX);
                Some(sandbox.settings.job_uid_base.saturating_add(worker))
            }
            _ => None,
        }
    }

    /// Whether jobs run as users other than the runner's (a root runner's sandbox).
    pub fn jobs_run_as_other_users(&self) -> bool {
        self.job_user(1).is_some()
    }

    /// What one job may use, when the sandbox caps it.
    pub(crate) fn limits(&self) -> Option<JobLimits> {
        match self {
            Isolation::Sandbox(sandbox) => Some(sandbox.settings.limits),
            Isolation::None => None,
        }
    }

    /// A short description for logs.
    pub(crate) fn describe(&self) -> &'static str {
        match self {
            Isolation::None => "WITHOUT A SANDBOX: the job runs with the runner's privileges",
            Isolation::Sandbox(_) => "in a sandbox",
        }
    }
}

/// The system's directories a job sees, read-only (those that exist; links stay links).
const SYSTEM_DIRS: &[&str] = &["/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/etc"];
/// Files and directories under those that hold secrets; they appear empty.
const SYSTEM_SECRETS: &[&str] =
    &["/etc/shadow", "/etc/shadow-", "/etc/gshadow", "/etc/gshadow-", "/etc/ssh", "/etc/ssl/private", "/etc/gantry"];
/// Where the job's two directories come in: descriptors 3 and 4; the seccomp programs from 5.
const PROJECT_FD: i32 = 3;
const TEMP_FD: i32 = 4;
const FIRST_SECCOMP_FD: i32 = 5;

impl Sandbox {
    /// The user and group that run the job in `dirs` (a probe: `None`).
    fn job_ids(&self, dirs: Option<&JobDirs>) -> (u32, u32) {
        match dirs.and_then(|dirs| dirs.owner) {
            Some(owner) => (owner, owner),
            None if self.runner_is_root => (self.settings.job_uid_base, self.settings.job_uid_base),
            None => (rustix::process::geteuid().as_raw(), rustix::process::getegid().as_raw()),
        }
    }

    fn command(
        &self,
        program: &OsStr,
        args: &[&OsStr],
        dirs: Option<&JobDirs>,
        network: &JobNetwork,
    ) -> std::io::Result<Command> {
        let (uid, gid) = self.job_ids(dirs);
        let mut command = Command::new("nsenter");
        command.current_dir("/");
        if self.runner_is_root {
            command.uid(uid).gid(gid);
        }
        command
            .arg("--target")
            .arg(network.holder.to_string())
            .args(["--user", "--net", "--preserve-credentials", "--"])
            .arg("bwrap");
        let mut descriptors = Vec::new();
        command.args(self.bubblewrap_args(uid, gid));
        if let Some(dirs) = dirs {
            for (fd, dir) in [(PROJECT_FD, &dirs.project), (TEMP_FD, &dirs.temp)] {
                descriptors.push(FdMapping { parent_fd: OwnedFd::from(std::fs::File::open(dir)?), child_fd: fd });
                command.arg("--bind-fd").arg(fd.to_string()).arg(dir);
            }
            command.arg("--chdir").arg(&dirs.project);
        }
        for (program, fd) in self.seccomp.iter().zip(FIRST_SECCOMP_FD..) {
            descriptors.push(FdMapping { parent_fd: pipe_holding(program)?, child_fd: fd });
            command.arg("--add-seccomp-fd").arg(fd.to_string());
        }
        let limits = &self.settings.limits;
        command
            .arg("--")
            .arg(&self.prlimit)
            .arg(format!("--nproc={}", limits.processes))
            .arg(format!("--nofile={}", limits.open_files))
            .arg(format!("--data={}", limits.memory_per_process))
            .arg(format!("--fsize={}", limits.disk))
            .arg("--core=0")
            .arg("--")
            .arg(program)
            .args(args);
        command.fd_mappings(descriptors).map_err(std::io::Error::other)?;
        Ok(command)
    }

    fn bubblewrap_args(&self, uid: u32, gid: u32) -> Vec<OsString> {
        let mut args: Vec<OsString> = [
            "--unshare-user",
            "--unshare-ipc",
            "--unshare-pid",
            "--unshare-uts",
            "--unshare-cgroup-try",
            "--disable-userns",
            "--cap-drop",
            "ALL",
            "--hostname",
            "gantry-job",
            "--die-with-parent",
            "--new-session",
        ]
        .into_iter()
        .map(OsString::from)
        .collect();
        args.extend(["--uid".into(), uid.to_string().into(), "--gid".into(), gid.to_string().into()]);
        for dir in SYSTEM_DIRS.iter().map(Path::new) {
            match std::fs::symlink_metadata(dir) {
                Ok(metadata) if metadata.file_type().is_symlink() => {
                    if let Ok(target) = std::fs::read_link(dir) {
                        args.extend(["--symlink".into(), target.into(), dir.into()]);
                    }
                }
                Ok(metadata) if metadata.is_dir() => args.extend(["--ro-bind".into(), dir.into(), dir.into()]),
                _ => {}
            }
        }
        let hidden = SYSTEM_SECRETS.iter().map(Path::new).chain(self.settings.hide.iter().map(PathBuf::as_path));
        for path in hidden.filter(|path| SYSTEM_DIRS.iter().any(|dir| path.starts_with(dir))) {
            if path.is_dir() {
                args.extend(["--tmpfs".into(), path.into()]);
            } else if path.exists() {
                args.extend(["--ro-bind".into(), "/dev/null".into(), path.into()]);
            }
        }
        for dir in &self.settings.read_only {
            args.extend(["--ro-bind".into(), dir.into(), dir.into()]);
        }
        args.extend(["--dev".into(), "/dev".into(), "--proc".into(), "/proc".into()]);
        args.extend(["--size".into(), self.settings.limits.tmp.to_string().into()]);
        args.extend(["--perms".into(), "1777".into(), "--tmpfs".into(), "/tmp".into()]);
        args
    }
}

/// A pipe's read end holding `bytes` (a seccomp program: a few hundred bytes, far below what a
/// pipe holds).
fn pipe_holding(bytes: &[u8]) -> std::io::Result<OwnedFd> {
    use std::io::Write;
    let (reader, mut writer) = std::io::pipe()?;
    writer.write_all(bytes)?;
    Ok(OwnedFd::from(reader))
}

fn find_program(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_else(|| "/usr/local/bin:/usr/bin:/bin".into());
    std::env::split_paths(&path).map(|dir| dir.join(name)).find(|candidate| candidate.is_file())
}

fn absolute(path: PathBuf) -> PathBuf {
    std::fs::canonicalize(&path).or_else(|_| std::path::absolute(&path)).unwrap_or(path)
}
