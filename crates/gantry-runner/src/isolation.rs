//! What a job's processes may see of the machine. With bubblewrap: the whole file system
//! read-only, a private `/tmp`, `/dev` and `/proc`, its own process and IPC namespaces, the
//! hidden paths (the server's data directory) replaced by empty ones, the builds directory
//! empty but for this job's own directories, which are writable.

use std::ffi::OsStr;
use std::path::PathBuf;
use std::process::Stdio;

use tokio::process::Command;

use crate::job::JobDirs;

/// How a job is isolated from the machine it runs on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Isolation {
    /// None: a job runs as the runner's user and sees all the runner sees.
    None,
    /// Inside bubblewrap (`bwrap`), with these paths hidden from the job (directories appear
    /// empty, files empty; paths that do not exist are skipped).
    Bubblewrap { hide: Vec<PathBuf> },
}

/// The sandbox every job gets from bubblewrap, before its own paths.
const BUBBLEWRAP_BASE: &[&str] = &[
    "--ro-bind",
    "/",
    "/",
    "--dev",
    "/dev",
    "--proc",
    "/proc",
    "--tmpfs",
    "/tmp",
    "--unshare-pid",
    "--unshare-ipc",
    "--die-with-parent",
    "--new-session",
];

/// Bubblewrap isolation hiding `hide`, when bubblewrap works on this machine (it is installed
/// and may create the namespaces it needs); [`Isolation::None`] otherwise, which the caller
/// should warn about loudly. Paths in `hide` are made absolute, with symbolic links resolved.
/// Runs `bwrap` once and waits for it: call it at start-up, not on an async runtime's thread
/// in the middle of its work.
pub fn detect_isolation(hide: Vec<PathBuf>) -> Isolation {
    let probe = std::process::Command::new("bwrap")
        .args(BUBBLEWRAP_BASE)
        .arg("true")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
    match probe {
        Ok(status) if status.success() => Isolation::Bubblewrap { hide: hide.into_iter().map(absolute).collect() },
        Ok(status) => {
            tracing::debug!(%status, "bubblewrap cannot create a sandbox here");
            Isolation::None
        }
        Err(error) => {
            tracing::debug!(error = %error, "bubblewrap cannot be run");
            Isolation::None
        }
    }
}

impl Isolation {
    /// A command running `program` with `args` for the job in `dirs`, in its project directory.
    pub(crate) fn command(&self, program: &OsStr, args: &[&OsStr], dirs: &JobDirs) -> Command {
        let mut command = match self {
            Isolation::None => {
                let mut command = Command::new(program);
                command.args(args);
                command
            }
            Isolation::Bubblewrap { hide } => {
                let mut command = Command::new("bwrap");
                command.args(bubblewrap_args(hide, dirs)).arg("--").arg(program).args(args);
                command
            }
        };
        command.current_dir(&dirs.project);
        command
    }

    /// A short description for logs.
    pub(crate) fn describe(&self) -> &'static str {
        match self {
            Isolation::None => "without isolation",
            Isolation::Bubblewrap { .. } => "isolated with bubblewrap",
        }
    }
}

fn bubblewrap_args<'a>(hide: &'a [PathBuf], dirs: &'a JobDirs) -> Vec<&'a OsStr> {
    let mut args: Vec<&OsStr> = BUBBLEWRAP_BASE.iter().map(OsStr::new).collect();
    for path in hide {
        if path.is_dir() {
            args.extend([OsStr::new("--tmpfs"), path.as_os_str()]);
        } else if path.exists() {
            args.extend([OsStr::new("--ro-bind"), OsStr::new("/dev/null"), path.as_os_str()]);
        }
    }
    args.extend([OsStr::new("--tmpfs"), dirs.builds.as_os_str()]);
    for writable in [&dirs.project, &dirs.temp] {
        args.extend([OsStr::new("--bind"), writable.as_os_str(), writable.as_os_str()]);
    }
    args.extend([OsStr::new("--chdir"), dirs.project.as_os_str()]);
    args
}

fn absolute(path: PathBuf) -> PathBuf {
    std::fs::canonicalize(&path).or_else(|_| std::path::absolute(&path)).unwrap_or(path)
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    #[test]
    fn hidden_paths_come_before_the_job_directories() {
        let hidden = tempfile::tempdir().unwrap();
        let dirs = JobDirs::new(Path::new("/srv/builds"), 7);
        let hide = vec![hidden.path().to_owned(), PathBuf::from("/does/not/exist")];
        let args: Vec<String> =
            bubblewrap_args(&hide, &dirs).iter().map(|a| a.to_string_lossy().into_owned()).collect();
        let hidden_at = args.iter().position(|a| a == &hidden.path().to_string_lossy()).unwrap();
        let builds_at = args.iter().position(|a| a == "/srv/builds").unwrap();
        let bind_at = args.iter().position(|a| a == "/srv/builds/7").unwrap();
        assert_eq!(args[hidden_at - 1], "--tmpfs");
        assert!(hidden_at < builds_at && builds_at < bind_at, "{args:?}");
        assert!(!args.iter().any(|a| a == "/does/not/exist"), "missing paths are skipped: {args:?}");
        assert_eq!(&args[args.len() - 2..], ["--chdir", "/srv/builds/7"]);
    }
}
