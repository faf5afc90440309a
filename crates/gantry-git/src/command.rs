//! Running the `git` binary with a hermetic environment: no system or user configuration,
//! no prompts, and none of the server's own `GIT_*` variables leaking in.

use std::path::Path;
use std::process::Stdio;

use tokio::io::AsyncWriteExt;
use tokio::process::Command;

/// What went wrong with a repository.
#[derive(Debug, thiserror::Error)]
pub enum GitError {
    #[error("cannot run git: {0}")]
    Spawn(#[source] std::io::Error),
    #[error("git {command} failed: {stderr}")]
    Failed { command: String, stderr: String },
    #[error("repository storage: {0}")]
    Io(#[from] std::io::Error),
    #[error("the repository does not exist")]
    Missing,
    #[error("cannot read the repository: {0}")]
    Read(String),
    #[error("git hooks are not installed in {0}; pushes are refused until `gantry serve` writes them")]
    HooksMissing(std::path::PathBuf),
}

/// A `git` command for the repository at `repo` (`git -C repo …`), hermetic.
pub fn git(program: &Path, repo: &Path) -> Command {
    let mut command = Command::new(program);
    command.arg("-C").arg(repo);
    hermetic(&mut command);
    command
}

/// Clears what would make git's behaviour depend on the machine rather than the repository.
pub fn hermetic(command: &mut Command) {
    for (key, _) in std::env::vars_os() {
        if key.to_str().is_some_and(|k| k.starts_with("GIT_")) {
            command.env_remove(key);
        }
    }
    command
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_TERMINAL_PROMPT", "0")
        .env("LC_ALL", "C")
        .kill_on_drop(true);
}

/// Runs a git command to completion, feeding `input`; returns its standard output.
pub async fn run(mut command: Command, input: Option<&[u8]>) -> Result<Vec<u8>, GitError> {
    let description = format!("{:?}", command.as_std().get_args().collect::<Vec<_>>());
    command.stdin(if input.is_some() { Stdio::piped() } else { Stdio::null() });
    command.stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = command.spawn().map_err(GitError::Spawn)?;
    if let Some(input) = input {
        let mut stdin = child.stdin.take().expect("piped stdin");
        stdin.write_all(input).await?;
        drop(stdin);
    }
    let output = child.wait_with_output().await?;
    if !output.status.success() {
        return Err(GitError::Failed {
            command: description,
            stderr: String::from_utf8_lossy(&output.stderr).trim().to_owned(),
        });
    }
    Ok(output.stdout)
}

/// Runs a git command whose exit code 1 is an answer rather than a failure (`merge-tree`: there
/// are conflicts; `merge-base`: there is none): whether it exited 0, and its standard output.
pub async fn run_answer(mut command: Command, input: Option<&[u8]>) -> Result<(bool, Vec<u8>), GitError> {
    let description = format!("{:?}", command.as_std().get_args().collect::<Vec<_>>());
    command.stdin(if input.is_some() { Stdio::piped() } else { Stdio::null() });
    command.stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = command.spawn().map_err(GitError::Spawn)?;
    if let Some(input) = input {
        let mut stdin = child.stdin.take().expect("piped stdin");
        stdin.write_all(input).await?;
        drop(stdin);
    }
    let output = child.wait_with_output().await?;
    match output.status.code() {
        Some(code @ (0 | 1)) => Ok((code == 0, output.stdout)),
        _ => Err(GitError::Failed {
            command: description,
            stderr: String::from_utf8_lossy(&output.stderr).trim().to_owned(),
        }),
    }
}

/// Runs a git command and returns its standard output as trimmed text.
pub async fn run_text(command: Command, input: Option<&[u8]>) -> Result<String, GitError> {
    let stdout = run(command, input).await?;
    Ok(String::from_utf8_lossy(&stdout).trim().to_owned())
}
