//! The keywords of a CI file as typed values: what `decode` makes of the YAML tree and what a
//! planned job carries to the runner. Serialisable, so core can store a job's definition.

use serde::{Deserialize, Serialize};

use crate::expr::Expression;

/// A whole CI configuration after includes, `extends`, `!reference` and `default`.
#[derive(Debug, Clone)]
pub struct Config {
    /// Stages in order, `.pre` first and `.post` last.
    pub stages: Vec<String>,
    pub variables: Vec<Variable>,
    pub workflow: Workflow,
    /// Jobs in the order written (hidden jobs are not jobs).
    pub jobs: Vec<Job>,
    /// What GitLab's linter would warn about: the file runs, but may not do what it seems to.
    pub warnings: Vec<crate::Diagnostic>,
}

#[derive(Debug, Clone, Default)]
pub struct Workflow {
    pub name: Option<String>,
    pub rules: Option<Vec<Rule>>,
    /// `auto_cancel:on_new_commit`: `conservative` (default), `interruptible` or `none`.
    pub auto_cancel_on_new_commit: Option<String>,
}

/// A CI/CD variable set in the file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Variable {
    pub key: String,
    pub value: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// False when `expand: false`: `$OTHER` in the value stays as written.
    #[serde(default = "yes", skip_serializing_if = "is_true")]
    pub expand: bool,
    /// `options` offered on the "Run pipeline" page.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub options: Vec<String>,
}

fn yes() -> bool {
    true
}

fn is_true(value: &bool) -> bool {
    *value
}

pub use gantry_types::When;

/// `allow_failure`: false, true, or only for some exit codes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AllowFailure {
    No,
    Yes,
    ExitCodes(Vec<i32>),
}

/// One rule of `rules:` (or `workflow:rules:`).
#[derive(Debug, Clone)]
pub struct Rule {
    pub condition: Option<Expression>,
    pub changes: Option<Vec<String>>,
    pub exists: Option<Vec<String>>,
    pub when: Option<When>,
    pub start_in: Option<u64>,
    pub allow_failure: Option<AllowFailure>,
    pub variables: Vec<Variable>,
}

/// `only:` or `except:`.
#[derive(Debug, Clone, Default)]
pub struct RefFilter {
    pub refs: Option<Vec<String>>,
    pub variables: Option<Vec<Expression>>,
    pub changes: Option<Vec<String>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Image {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entrypoint: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pull_policy: Option<Vec<String>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Service {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alias: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entrypoint: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub command: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub variables: Vec<Variable>,
}

/// One entry of `needs:`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Need {
    pub job: String,
    /// Download the needed job's artifacts (default true).
    pub artifacts: bool,
    /// The need is dropped when the job is not in the pipeline.
    pub optional: bool,
    /// `parallel:matrix` values picking some instances of a parallel job.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub matrix: Vec<Vec<(String, Vec<String>)>>,
    /// `needs:pipeline`: the job is of another pipeline, this id (variables expanded when the
    /// job starts; a child pipeline names its parent's, `$PARENT_PIPELINE_ID`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pipeline: Option<String>,
    /// `needs:project` with `ref`: the job is the latest successful one of another project's
    /// branch or tag. Needs of other pipelines only give artifacts: the job does not wait.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project: Option<(String, String)>,
}

impl Need {
    /// Whether the needed job is of another pipeline (`needs:pipeline`, `needs:project`).
    pub fn is_elsewhere(&self) -> bool {
        self.pipeline.is_some() || self.project.is_some()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Retry {
    pub max: u8,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub when: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub exit_codes: Vec<i32>,
}

/// The failure reasons `retry:when` accepts.
pub const RETRY_REASONS: &[&str] = &[
    "always",
    "unknown_failure",
    "script_failure",
    "api_failure",
    "stuck_or_timeout_failure",
    "runner_system_failure",
    "runner_unsupported",
    "stale_schedule",
    "job_execution_timeout",
    "archived_failure",
    "unmet_prerequisites",
    "scheduler_failure",
    "data_integrity_failure",
];

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Parallel {
    Count(u32),
    /// Each entry maps variable names to the values to combine.
    Matrix(Vec<Vec<(String, Vec<String>)>>),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Artifacts {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub paths: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub exclude: Vec<String>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub untracked: bool,
    /// `on_success` (default), `on_failure` or `always`.
    pub when: When,
    /// Seconds; None keeps them until deleted (`never`) or uses the instance default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expire_in: Option<ExpireIn>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expose_as: Option<String>,
    #[serde(default, skip_serializing_if = "Reports::is_empty")]
    pub reports: Reports,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ExpireIn {
    Seconds(u64),
    Never,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Reports {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub junit: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub dotenv: Vec<String>,
    /// `coverage_report`: (format, path) — `cobertura` or `jacoco`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub coverage_report: Option<(String, String)>,
    /// Reports of GitLab's other types ([`KEPT_REPORT_TYPES`]): uploaded and kept as artifacts
    /// of the job under their type, not read yet. (type, paths)
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub kept: Vec<(String, Vec<String>)>,
}

/// The `artifacts:reports` types GitLab documents that Gantry keeps as the job's artifacts
/// without reading them (yet).
pub const KEPT_REPORT_TYPES: &[&str] = &[
    "accessibility",
    "annotations",
    "api_fuzzing",
    "browser_performance",
    "codequality",
    "container_scanning",
    "coverage_fuzzing",
    "cyclonedx",
    "dast",
    "dependency_scanning",
    "license_scanning",
    "load_performance",
    "metrics",
    "repository_xray",
    "requirements",
    "requirements_v2",
    "sast",
    "secret_detection",
    "terraform",
];

impl Reports {
    pub fn is_empty(&self) -> bool {
        self.junit.is_empty() && self.dotenv.is_empty() && self.coverage_report.is_none() && self.kept.is_empty()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cache {
    /// The key as written (variables expanded when the job is planned); `default` when unset.
    pub key: CacheKey,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub paths: Vec<String>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub untracked: bool,
    /// `pull-push` (default), `pull` or `push`.
    pub policy: String,
    /// `on_success` (default), `on_failure` or `always`.
    pub when: When,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fallback_keys: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CacheKey {
    Text(String),
    /// `key:files` (one or two files whose contents name the cache) and an optional prefix.
    Files {
        files: Vec<String>,
        prefix: Option<String>,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Environment {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// `start` (default), `prepare`, `stop`, `verify` or `access`.
    pub action: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_stop: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auto_stop_in: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deployment_tier: Option<String>,
}

/// A job as written, with `default:` and global variables applied.
#[derive(Debug, Clone)]
pub struct Job {
    pub name: String,
    /// Where the job's name is written.
    pub at: crate::Location,
    pub stage: String,
    pub image: Option<Image>,
    pub services: Vec<Service>,
    pub before_script: Vec<String>,
    pub script: Vec<String>,
    pub after_script: Vec<String>,
    /// The job's own variables (global ones are added when the job is planned, unless
    /// `inherit:variables` says otherwise).
    pub variables: Vec<Variable>,
    /// Which global variables the job inherits: all, none, or the listed ones.
    pub inherit_variables: Inherit,
    pub rules: Option<Vec<Rule>>,
    pub only: Option<RefFilter>,
    pub except: Option<RefFilter>,
    /// The job's `when`, if written.
    pub when: Option<When>,
    pub start_in: Option<u64>,
    /// The job's `allow_failure`, if written.
    pub allow_failure: Option<AllowFailure>,
    pub needs: Option<Vec<Need>>,
    pub dependencies: Option<Vec<String>>,
    pub retry: Retry,
    pub timeout: Option<u64>,
    pub parallel: Option<Parallel>,
    pub artifacts: Option<Artifacts>,
    pub cache: Vec<Cache>,
    pub coverage: Option<String>,
    pub environment: Option<Environment>,
    pub resource_group: Option<String>,
    pub interruptible: bool,
    pub tags: Vec<String>,
    /// `trigger:`: the job starts a downstream pipeline instead of running a script.
    pub trigger: Option<Trigger>,
    /// `id_tokens:`: the OpenID Connect ID tokens the job gets as variables.
    pub id_tokens: Vec<IdToken>,
}

/// `trigger:` of a job (a bridge, in GitLab's words): a child pipeline of the same project,
/// whose CI file is made of the given includes, or a pipeline of another project.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Trigger {
    /// A multi-project pipeline: the other project's full path (variables expanded when the
    /// job starts).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project: Option<String>,
    /// The other project's branch (its default branch when None).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub branch: Option<String>,
    /// A child pipeline: its CI file, `include:` of the entries written (YAML text).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub include: Option<String>,
    /// `strategy: depend` (or `mirror`): the job's status follows the downstream pipeline's.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub depend: bool,
    /// `forward:yaml_variables` (default true): the job's variables go to the pipeline.
    #[serde(default = "yes", skip_serializing_if = "is_true")]
    pub forward_yaml_variables: bool,
    /// `forward:pipeline_variables` (default false): so do the variables this pipeline was
    /// given.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub forward_pipeline_variables: bool,
}

/// One of `id_tokens:`: the variable `name` holds an ID token for the audiences `aud`
/// (variables expanded when the job starts).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdToken {
    pub name: String,
    pub aud: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Inherit {
    All,
    None,
    Only(Vec<String>),
}

impl Inherit {
    pub fn allows(&self, key: &str) -> bool {
        match self {
            Inherit::All => true,
            Inherit::None => false,
            Inherit::Only(keys) => keys.iter().any(|k| k == key),
        }
    }
}
