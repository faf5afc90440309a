//! What a runner is told when it starts: the server, its token, how many jobs at once, where
//! jobs run and how they are isolated.

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use crate::isolation::Isolation;

/// A runner's configuration, built by the caller (the binary reads it from its own sources).
#[derive(Clone)]
pub struct RunnerConfig {
    /// The Gantry server's base URL (`https://gantry.example.com`), without `/api/v4`.
    pub url: String,
    /// The runner's authentication token, as registration handed it out.
    pub token: String,
    /// The name the runner gives itself in job requests and job logs.
    pub name: String,
    /// How many jobs run at the same time (one worker each); at least 1.
    pub concurrent: usize,
    /// Where job directories are made (`<builds_dir>/<job id>`). It belongs to this runner:
    /// directories in it named like jobs are removed at start-up as leftovers of a crash.
    pub builds_dir: PathBuf,
    /// How jobs run.
    pub executor: ExecutorKind,
    /// What a job's processes may see of the machine.
    pub isolation: Isolation,
    /// How often a running job tells the server it is still alive (`PUT /api/v4/jobs/:id` with
    /// `state: running`); the answer is also how the runner learns of a cancel.
    pub heartbeat: Duration,
    /// A PEM file of certificates to trust besides the system's, for an `https://` server whose
    /// certificate a private CA signed. Jobs get it too (`CI_SERVER_TLS_CA_FILE`).
    pub tls_ca_file: Option<PathBuf>,
    /// Where jobs reach the server when it is not where the server says it is (GitLab runner's
    /// `clone_url`): the scheme, host and port of the sources' URL and of `CI_REPOSITORY_URL`,
    /// `CI_API_V4_URL` and `CI_API_GRAPHQL_URL` are replaced by this URL's.
    pub clone_url: Option<String>,
}

/// The executors a runner can have.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExecutorKind {
    /// Scripts run in a shell on the runner's machine (optionally inside bubblewrap).
    Shell,
    /// Scripts run in containers of a Docker Engine, one private network per job with its
    /// `services`; the sources are still fetched on the runner's machine (with `isolation`).
    Docker(DockerSettings),
}

/// Where the Docker executor finds its engine and which image a job without `image:` gets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DockerSettings {
    /// The engine's address (`unix:///var/run/docker.sock`, `tcp://127.0.0.1:2375`); `None`
    /// reads `DOCKER_HOST`, then falls back to the local socket. TLS (`https://`) is not
    /// supported. The engine must see the runner's builds directory at the same path: job
    /// directories are bind-mounted from it.
    pub host: Option<String>,
    /// The image of jobs that name none (`alpine:3.20`, `debian:bookworm`).
    pub default_image: String,
}

impl ExecutorKind {
    /// The name the protocol uses (`RunnerInfo::executor`).
    pub fn name(&self) -> &'static str {
        match self {
            ExecutorKind::Shell => "shell",
            ExecutorKind::Docker(_) => "docker",
        }
    }
}

impl fmt::Debug for RunnerConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RunnerConfig")
            .field("url", &self.url)
            .field("token", &"[MASKED]")
            .field("name", &self.name)
            .field("concurrent", &self.concurrent)
            .field("builds_dir", &self.builds_dir)
            .field("executor", &self.executor)
            .field("isolation", &self.isolation)
            .field("heartbeat", &self.heartbeat)
            .field("tls_ca_file", &self.tls_ca_file)
            .field("clone_url", &self.clone_url)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_token_never_shows_in_debug_output() {
        let config = RunnerConfig {
            url: "http://127.0.0.1:1".into(),
            token: "glrt-very-secret".into(),
            name: "r1".into(),
            concurrent: 1,
            builds_dir: "/tmp/b".into(),
            executor: ExecutorKind::Shell,
            isolation: Isolation::None,
            heartbeat: Duration::from_secs(10),
            tls_ca_file: None,
            clone_url: None,
        };
        let shown = format!("{config:?}");
        assert!(!shown.contains("glrt-very-secret"), "{shown}");
        assert!(shown.contains("[MASKED]"));
    }

    #[test]
    fn executor_names_are_the_protocols() {
        assert_eq!(ExecutorKind::Shell.name(), "shell");
        let docker = DockerSettings { host: None, default_image: "alpine:3.20".into() };
        assert_eq!(ExecutorKind::Docker(docker).name(), "docker");
    }
}
