//! The messages of the runner protocol, shared by the server (`gantry-web`) and the runner
//! agent (`gantry-runner`). The shape follows GitLab's runner API (`POST /api/v4/jobs/request`,
//! `PUT /api/v4/jobs/:id`, `PATCH /api/v4/jobs/:id/trace`) so the two read the same JSON.

use serde::{Deserialize, Serialize};

use crate::keywords::{Image, Service};

/// The header carrying a job's token on trace, update and artifact requests.
pub const JOB_TOKEN_HEADER: &str = "JOB-TOKEN";
/// The header in which the server tells a runner the job's state (`running`, `canceled`, …) on
/// every trace and update answer; a runner stops the job when it reads `canceled`.
pub const JOB_STATUS_HEADER: &str = "Job-Status";

/// `POST /api/v4/jobs/request`: a runner asks for a job (the answer is 201 with a
/// [`JobPayload`], or 204 when none came before the long poll ended).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct JobRequest {
    pub token: String,
    #[serde(default)]
    pub info: RunnerInfo,
}

/// What a runner says about itself on each request.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct RunnerInfo {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub version: String,
    /// `shell` or `docker`.
    #[serde(default)]
    pub executor: String,
    #[serde(default)]
    pub platform: String,
    #[serde(default)]
    pub architecture: String,
}

/// `POST /api/v4/runners/verify`: checks a runner's token.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct VerifyRequest {
    pub token: String,
}

/// A job handed to a runner.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct JobPayload {
    pub id: i64,
    /// The job token: authenticates this job's trace, updates, clone and artifacts while it runs.
    pub token: String,
    pub job_info: JobInfo,
    pub git_info: GitInfo,
    pub runner_info: JobRunnerInfo,
    pub variables: Vec<JobVariable>,
    pub steps: Vec<Step>,
    #[serde(default)]
    pub image: Option<Image>,
    #[serde(default)]
    pub services: Vec<Service>,
    #[serde(default)]
    pub artifacts: Vec<ArtifactSpec>,
    #[serde(default)]
    pub cache: Vec<CacheSpec>,
    #[serde(default)]
    pub dependencies: Vec<Dependency>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct JobInfo {
    pub id: i64,
    pub name: String,
    pub stage: String,
    pub project_id: i64,
    /// The project's full path (`acme/platform/api`).
    pub project_name: String,
}

/// How the runner fetches the sources.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct GitInfo {
    /// Clone URL with the job token as Basic credentials (`gitlab-ci-token:<token>`).
    pub repo_url: String,
    #[serde(rename = "ref")]
    pub ref_name: String,
    pub sha: String,
    pub before_sha: String,
    /// `branch` or `tag`.
    pub ref_type: String,
    pub refspecs: Vec<String>,
    /// Shallow clone depth (`GIT_DEPTH`); 0 means a full clone.
    pub depth: u32,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct JobRunnerInfo {
    /// The job's timeout in seconds.
    pub timeout: u64,
}

/// One variable of the job's environment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobVariable {
    pub key: String,
    pub value: String,
    /// Not secret (predefined variables and ones from the CI file).
    #[serde(default)]
    pub public: bool,
    /// Replaced by `[MASKED]` in the log.
    #[serde(default)]
    pub masked: bool,
    /// A file variable: the runner writes the value to a file and sets the variable to its path.
    #[serde(default)]
    pub file: bool,
}

/// A step: `script` (before_script and script together) or `after_script`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Step {
    pub name: String,
    pub script: Vec<String>,
    /// Seconds.
    pub timeout: u64,
    /// `on_success` or `always`.
    pub when: String,
    pub allow_failure: bool,
}

/// One artifact archive the runner uploads after the job.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ArtifactSpec {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub untracked: bool,
    pub paths: Vec<String>,
    #[serde(default)]
    pub exclude: Vec<String>,
    /// `on_success`, `on_failure` or `always`.
    pub when: String,
    /// `archive`, `junit`, `dotenv` or `cobertura`.
    pub artifact_type: String,
    /// `zip` for archives, `raw` for reports.
    pub artifact_format: String,
    /// Seconds, when set.
    #[serde(default)]
    pub expire_in: Option<u64>,
}

/// One cache the runner restores before and saves after the job.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CacheSpec {
    /// The resolved key (`key:files` already turned into a digest).
    pub key: String,
    pub paths: Vec<String>,
    #[serde(default)]
    pub untracked: bool,
    /// `pull-push`, `pull` or `push`.
    pub policy: String,
    /// `on_success`, `on_failure` or `always`.
    pub when: String,
    #[serde(default)]
    pub fallback_keys: Vec<String>,
}

/// A job whose artifacts this job downloads (`dependencies`, `needs`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Dependency {
    pub id: i64,
    pub name: String,
    #[serde(default)]
    pub artifacts_file: Option<ArtifactsFile>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ArtifactsFile {
    pub filename: String,
    pub size: u64,
}

/// `PUT /api/v4/jobs/:id`: the runner reports the job's state (also its heartbeat while running).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct JobUpdate {
    pub token: String,
    /// `running`, `success` or `failed`.
    pub state: String,
    #[serde(default)]
    pub failure_reason: Option<String>,
    #[serde(default)]
    pub exit_code: Option<i32>,
}

/// The failure reasons a runner may report (GitLab's names).
pub const FAILURE_REASONS: &[&str] = &[
    "unknown_failure",
    "script_failure",
    "api_failure",
    "stuck_or_timeout_failure",
    "runner_system_failure",
    "job_execution_timeout",
    "runner_unsupported",
    "unmet_prerequisites",
    "data_integrity_failure",
];
