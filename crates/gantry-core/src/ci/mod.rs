//! Verify stage: pipelines from `.gitlab-ci.yml`, their jobs' state machine, the queue runners
//! take jobs from, job logs, and runners.
//!
//! - [`create`]: a push (or the API) asks for a pipeline; the CI file at that commit becomes
//!   stored jobs. Its includes come from the repository, other projects and components the
//!   pipeline's user may read, the templates, and (`remote_include`) the hosts an
//!   administrator allows.
//! - [`process`]: after every change, decide which jobs may start; the pipeline's status.
//! - [`bridges`]: trigger jobs start child and multi-project pipelines and follow them.
//! - [`queue`]: runners long-poll for a job; a job becoming pending wakes them at once.
//! - [`jobs`]: the runner's side of a job: log pieces, state updates, automatic retries.
//! - [`actions`]: people's side: reading pipelines, jobs and logs; cancel, retry, play, delete.
//! - [`artifacts`], [`reports`], [`caches`]: what jobs upload (archives, JUnit and dotenv
//!   reports, caches), kept in the object store; [`codequality`] reads code quality reports
//!   for a pipeline's Code quality tab.
//! - [`runners`]: registration and tokens.
//! - [`id_tokens`]: OpenID Connect ID tokens for jobs (`id_tokens:`), signed with the
//!   instance's keys, which `/oauth/discovery/keys` publishes.
//! - [`catalog`]: the CI/CD Catalog: projects marked as catalog resources, their components
//!   (`templates/`) with their inputs, and their released versions.
//! - [`job_token_scope`]: which other projects' job tokens may reach a project (its allowlist);
//!   the decision itself is `policy::authorize_job_token`'s.
//! - [`watchdog`]: delayed jobs, silent runners, timeouts; pipelines on pushes.

pub mod actions;
pub mod artifacts;
pub mod bridges;
pub mod caches;
pub mod catalog;
pub mod codequality;
pub mod create;
pub mod id_tokens;
pub mod job_token_scope;
pub mod jobs;
pub mod logs;
pub mod predefined;
pub mod process;
pub mod queue;
pub(crate) mod remote_include;
pub mod reports;
pub mod runners;
pub mod schedules;
pub mod settings;
pub mod statuses;
pub mod triggers;
pub mod variables;
pub mod watchdog;

stage!(
    /// The Verify stage: pipelines, jobs, runners, their logs, artifacts, caches and reports.
    Ci,
    ci
);

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use gantry_ci::mask::Masker;
use gantry_types::{JobId, PipelineId};

use crate::signals::Signal;

pub use gantry_db::ci::artifacts::ArtifactRow;
pub use gantry_db::ci::jobs::JobRow;
pub use gantry_db::ci::pipelines::{CiSettings, PipelineFilter, PipelineRow};
pub use gantry_db::ci::runners::RunnerRow;
pub use gantry_db::ci::schedules::{ScheduleRow, TriggerRow};
pub use gantry_db::ci::statuses::CommitStatusRow;

/// How many running jobs' maskers a server keeps (more are made again on their next piece).
const MASKERS_KEPT: usize = 1024;

/// The prefix of job tokens (`CI_JOB_TOKEN`), so credentials checks can tell them apart.
pub const JOB_TOKEN_PREFIX: &str = "gjob-";
/// The prefix of runner authentication tokens.
pub const RUNNER_TOKEN_PREFIX: &str = "grt-";

/// Whether a pipeline's ref is protected (a protected branch or tag): protected variables
/// reach only such refs. The policy decides: [`crate::policy::ref_is_protected`].
pub(crate) async fn ref_is_protected(
    conn: &mut gantry_db::Conn,
    project: gantry_types::ProjectId,
    ref_name: &str,
    is_tag: bool,
) -> crate::CoreResult<bool> {
    crate::policy::ref_is_protected(conn, project, ref_name, is_tag).await
}

/// Something that changed in CI, for live views.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CiEvent {
    /// A job's log grew.
    Trace(JobId),
    /// A job's status changed.
    Job(JobId),
    /// A pipeline's status changed.
    Pipeline(PipelineId),
}

/// CI's in-memory state shared by every clone of `Core`.
#[derive(Debug)]
pub(crate) struct CiState {
    /// Wakes runners waiting in a long poll when a job becomes pending.
    queue: tokio::sync::Notify,
    events: tokio::sync::broadcast::Sender<CiEvent>,
    /// Per running job: the masker of its log (its secrets; what it holds back between pieces
    /// is kept with the job in the database).
    maskers: Mutex<HashMap<JobId, Masker>>,
    /// Set at shutdown: long polls end at once so the server can stop.
    stopping: std::sync::atomic::AtomicBool,
    pub(crate) settings: CiSettingsOfServer,
    /// How the built-in runner runs, as its starter told.
    builtin_runner: Mutex<runners::BuiltinRunnerState>,
    /// Where wake-ups for other servers go.
    signals: std::sync::Arc<crate::signals::Signals>,
    /// The files `include:remote` fetched, kept to be asked for again with their ETag.
    pub(crate) remote_includes: remote_include::RemoteIncludes,
}

/// Server-wide CI settings.
#[derive(Debug, Clone)]
pub struct CiSettingsOfServer {
    /// The URL people and runners reach this server at (clone URLs, `CI_SERVER_URL`).
    pub external_url: String,
    /// A running job whose runner is silent this long fails as a runner system failure.
    pub runner_silence: Duration,
    /// The largest artifact or cache archive a runner may upload (bytes).
    pub max_artifact_size: u64,
}

impl Default for CiSettingsOfServer {
    fn default() -> Self {
        CiSettingsOfServer {
            external_url: "http://localhost:3000".to_owned(),
            runner_silence: Duration::from_secs(120),
            max_artifact_size: 100 << 20,
        }
    }
}

impl CiState {
    pub(crate) fn new(settings: CiSettingsOfServer, signals: std::sync::Arc<crate::signals::Signals>) -> CiState {
        let (events, _) = tokio::sync::broadcast::channel(4096);
        CiState {
            queue: tokio::sync::Notify::new(),
            events,
            maskers: Mutex::default(),
            stopping: std::sync::atomic::AtomicBool::new(false),
            settings,
            builtin_runner: Mutex::default(),
            signals,
            remote_includes: remote_include::RemoteIncludes::default(),
        }
    }

    pub(crate) fn is_stopping(&self) -> bool {
        self.stopping.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// A job became pending: runners waiting here and on the other servers look.
    pub(crate) fn job_queued(&self) {
        self.wake_runners();
        self.signals.publish(Signal::JobQueued);
    }

    /// Wakes the runners waiting in a long poll on this server.
    pub(crate) fn wake_runners(&self) {
        self.queue.notify_waiters();
    }

    pub(crate) fn pipeline_changed(&self, pipeline: PipelineId) {
        self.changed(CiEvent::Pipeline(pipeline));
    }

    pub(crate) fn job_changed(&self, job: JobId) {
        self.changed(CiEvent::Job(job));
    }

    pub(crate) fn trace_grew(&self, job: JobId) {
        self.changed(CiEvent::Trace(job));
    }

    fn changed(&self, event: CiEvent) {
        self.tell_viewers(event);
        self.signals.publish(Signal::Ci(event));
    }

    /// Tells the live views on this server.
    pub(crate) fn tell_viewers(&self, event: CiEvent) {
        let _ = self.events.send(event);
    }

    fn maskers(&self) -> std::sync::MutexGuard<'_, HashMap<JobId, Masker>> {
        self.maskers.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl Ci<'_> {
    /// CI events from now on (live logs and pipeline pages listen).
    pub fn ci_events(&self) -> tokio::sync::broadcast::Receiver<CiEvent> {
        self.ci.events.subscribe()
    }

    /// Ends every waiting job request now and from now on (at shutdown).
    pub fn stop_ci(&self) {
        self.ci.stopping.store(true, std::sync::atomic::Ordering::SeqCst);
        self.ci.wake_runners();
    }

    /// The server-wide CI settings.
    pub fn ci_server_settings(&self) -> &CiSettingsOfServer {
        &self.ci.settings
    }
}
