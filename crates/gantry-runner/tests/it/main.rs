//! Integration tests of the runner: the real `gantry_runner::run` against
//! `FakeServerForRunnerTests`, with real shells, git, process groups, bubblewrap and Docker.

mod docker;
mod fake_server;
mod isolation;
mod jobs;
mod logs;
mod sources;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use gantry_ci::protocol::{GitInfo, JobInfo, JobPayload, JobRunnerInfo, JobVariable, Step};
use gantry_runner::{ExecutorKind, Isolation, RunnerConfig, RunnerError};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::fake_server::{FakeServerForRunnerTests, RUNNER_TOKEN};

/// A temporary directory outside `/tmp` (which bubblewrap replaces with an empty one, so a
/// test under `/tmp` would prove nothing about hidden paths).
pub fn test_dir() -> tempfile::TempDir {
    tempfile::Builder::new().prefix("runner-it-").tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap()
}

/// A runner started against a fake server, stopped by [`TestRunner::shut_down`].
pub struct TestRunner {
    pub builds: tempfile::TempDir,
    shutdown: Option<oneshot::Sender<()>>,
    task: JoinHandle<Result<(), RunnerError>>,
}

impl TestRunner {
    pub fn start(server: &FakeServerForRunnerTests, isolation: Isolation, concurrent: usize) -> TestRunner {
        let builds = test_dir();
        let config = config(server.url(), builds.path(), isolation, concurrent);
        TestRunner::start_with(config, builds)
    }

    pub fn start_with(config: RunnerConfig, builds: tempfile::TempDir) -> TestRunner {
        let (shutdown, shutdown_signal) = oneshot::channel();
        let task = tokio::spawn(gantry_runner::run(config, async move {
            let _ = shutdown_signal.await;
        }));
        TestRunner { builds, shutdown: Some(shutdown), task }
    }

    /// Stops the runner and returns what `run` returned; the builds directory stays until the
    /// `TestRunner` is dropped.
    pub async fn shut_down(&mut self) -> Result<(), RunnerError> {
        let _ = self.shutdown.take().expect("shut down once").send(());
        tokio::time::timeout(Duration::from_secs(60), &mut self.task).await.expect("the runner stops").unwrap()
    }
}

pub fn config(url: &str, builds: &Path, isolation: Isolation, concurrent: usize) -> RunnerConfig {
    RunnerConfig {
        url: url.to_owned(),
        token: RUNNER_TOKEN.to_owned(),
        name: "test-runner".to_owned(),
        concurrent,
        builds_dir: builds.to_owned(),
        executor: ExecutorKind::Shell,
        isolation,
        heartbeat: Duration::from_millis(200),
        tls_ca_file: None,
        clone_url: None,
    }
}

/// A bare repository with commits made by the real `git`.
pub struct TestRepo {
    _dir: tempfile::TempDir,
    pub bare: PathBuf,
    pub commits: Vec<String>,
}

impl TestRepo {
    /// A repository whose `main` has one commit per entry of `readmes` (the README's text).
    pub fn with_commits(readmes: &[&str]) -> TestRepo {
        let dir = test_dir();
        let work = dir.path().join("work");
        let bare = dir.path().join("repo.git");
        git(dir.path(), &["init", "-q", "-b", "main", "work"]);
        let mut commits = Vec::new();
        for text in readmes {
            std::fs::write(work.join("README.md"), text).unwrap();
            git(&work, &["add", "README.md"]);
            git(&work, &["-c", "user.name=Test", "-c", "user.email=test@example.com", "commit", "-q", "-m", text]);
            commits.push(git(&work, &["rev-parse", "HEAD"]));
        }
        git(dir.path(), &["clone", "-q", "--bare", "work", "repo.git"]);
        TestRepo { _dir: dir, bare, commits }
    }

    /// The directory holding the repository.
    pub fn dir(&self) -> &Path {
        self._dir.path()
    }

    /// Lets sandboxed jobs fetch from the repository: its directory readable by everyone and,
    /// when the tests run as root, the repository owned by the jobs' user `uid` (git refuses a
    /// repository of another user).
    pub fn share_with_jobs(&self, uid: u32) {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(self._dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
        if tests_run_as_root() {
            let status = Command::new("chown").args(["-R", &format!("{uid}:{uid}")]).arg(&self.bare).status().unwrap();
            assert!(status.success(), "chown the test repository");
        }
    }

    pub fn git_info(&self) -> GitInfo {
        GitInfo {
            repo_url: self.bare.to_string_lossy().into_owned(),
            ref_name: "main".into(),
            sha: self.commits.last().unwrap().clone(),
            before_sha: "0000000000000000000000000000000000000000".into(),
            ref_type: "branch".into(),
            refspecs: vec!["+refs/heads/main:refs/remotes/origin/main".into()],
            depth: 20,
        }
    }
}

fn git(dir: &Path, args: &[&str]) -> String {
    let output = Command::new("git")
        .args(args)
        .current_dir(dir)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .output()
        .unwrap();
    assert!(output.status.success(), "git {args:?}: {}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8(output.stdout).unwrap().trim().to_owned()
}

/// A job running `script` on `repo`'s last commit.
fn tests_run_as_root() -> bool {
    Command::new("id").arg("-u").output().is_ok_and(|out| out.stdout.starts_with(b"0\n"))
}

pub fn job(id: i64, repo: &TestRepo, script: &[&str]) -> JobPayload {
    JobPayload {
        id,
        token: format!("job-token-{id}-secret"),
        job_info: JobInfo {
            id,
            name: "test".into(),
            stage: "test".into(),
            project_id: 1,
            project_name: "acme/app".into(),
        },
        git_info: repo.git_info(),
        runner_info: JobRunnerInfo { timeout: 3600 },
        variables: Vec::new(),
        steps: vec![step("script", script)],
        image: None,
        services: Vec::new(),
        artifacts: Vec::new(),
        cache: Vec::new(),
        dependencies: Vec::new(),
    }
}

pub fn step(name: &str, script: &[&str]) -> Step {
    Step {
        name: name.into(),
        script: script.iter().map(|line| (*line).to_owned()).collect(),
        timeout: 3600,
        when: if name == "after_script" { "always".into() } else { "on_success".into() },
        allow_failure: false,
    }
}

pub fn variable(key: &str, value: &str) -> JobVariable {
    JobVariable { key: key.into(), value: value.into(), public: false, masked: false, file: false }
}

/// Whether a process is still alive (a zombie counts as gone: it runs nothing).
pub fn process_alive(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => stat.rsplit_once(") ").is_some_and(|(_, rest)| !rest.starts_with('Z')),
        Err(_) => false,
    }
}

/// Waits until a process is gone, failing after a while.
pub async fn wait_until_gone(pid: u32) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while process_alive(pid) {
        assert!(tokio::time::Instant::now() < deadline, "process {pid} is still running");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The pids of processes whose command line is exactly `args`.
pub fn processes_running(args: &[&str]) -> Vec<u32> {
    let wanted: Vec<u8> = args.iter().flat_map(|arg| arg.bytes().chain([0])).collect();
    std::fs::read_dir("/proc")
        .unwrap()
        .filter_map(|entry| entry.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| std::fs::read(format!("/proc/{pid}/cmdline")).is_ok_and(|cmdline| cmdline == wanted))
        .filter(|pid| process_alive(*pid))
        .collect()
}

/// Waits until a file exists (a script wrote it); its content.
pub async fn wait_for_file(path: &Path) -> String {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        if let Ok(text) = std::fs::read_to_string(path)
            && text.ends_with('\n')
        {
            return text;
        }
        assert!(tokio::time::Instant::now() < deadline, "{} was never written", path.display());
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
