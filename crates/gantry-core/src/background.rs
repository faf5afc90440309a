//! Durable background work: what has to happen after a change — pipelines for a push, the
//! archive of a finished job's log, a pushed repository's maintenance, a mail — is queued in the
//! database in the change's own transaction, so a crash between the two loses nothing. Every
//! server runs one worker ([`Core::run_background`]); a job is claimed by one worker at a time
//! under a lease the worker renews, retried with growing waits when it fails, and kept as
//! failed, with its last error, for the admin area once its attempts run out.
//!
//! Running a job twice must do no harm (a server may die after the work and before the job is
//! deleted): pipelines remember the push event they were made for, log archiving and
//! maintenance are idempotent.

use std::sync::Arc;
use std::time::Duration;

use gantry_db::background::{self, ClaimedJob, NewBackgroundJob};
use gantry_db::plan::wiki_pages::WikiOwner;
use gantry_types::{BackgroundJobId, BackgroundStatus, JobId, NamespaceId, ProjectId, UserId};
use serde::{Deserialize, Serialize};

use crate::policy::require_admin;
use crate::{Actor, Core, CoreError, CoreResult, now_millis};

pub use gantry_db::background::{BackgroundJobRow, QueueCounts};

/// How the background worker paces itself; tests shorten the waits.
#[derive(Debug, Clone)]
pub struct BackgroundSettings {
    /// A failed job's first retry waits this long; each further one twice as long as the last.
    pub first_retry: Duration,
    /// A repository is maintained this long after the last push to it, so a burst of pushes
    /// costs one run.
    pub maintenance_quiet: Duration,
    /// How long a claimed job stays its worker's without a renewal.
    pub lease: Duration,
    /// How often the worker looks for jobs nobody told it about (other servers', retries).
    pub poll: Duration,
    /// Jobs one worker runs at once.
    pub concurrency: usize,
}

impl Default for BackgroundSettings {
    fn default() -> Self {
        BackgroundSettings {
            first_retry: Duration::from_secs(10),
            maintenance_quiet: Duration::from_secs(20),
            lease: Duration::from_secs(60),
            poll: Duration::from_secs(1),
            concurrency: 4,
        }
    }
}

/// The worker's in-memory side: settings, and the wake-up a local enqueue sends.
#[derive(Debug, Default)]
pub(crate) struct BackgroundState {
    pub(crate) settings: BackgroundSettings,
    wake: tokio::sync::Notify,
}

impl BackgroundState {
    pub(crate) fn new(settings: BackgroundSettings) -> BackgroundState {
        BackgroundState { settings, wake: tokio::sync::Notify::new() }
    }

    /// Wakes this server's worker.
    pub(crate) fn wake(&self) {
        self.wake.notify_one();
    }
}

/// One ref a push changed, with the push event that records it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub(crate) struct PushedRef {
    pub(crate) event: i64,
    pub(crate) name: String,
    pub(crate) old: String,
    pub(crate) new: String,
}

/// A piece of background work and its arguments (stored as `kind` and a JSON payload).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(tag = "kind", content = "payload", rename_all = "snake_case")]
pub(crate) enum Work {
    /// Create the pipelines a push asks for.
    PipelinesForPush { project: ProjectId, user: Option<UserId>, refs: Vec<PushedRef>, options: Vec<String> },
    /// Move a finished job's log into the object store.
    ArchiveJobLog { job: JobId },
    /// Incremental maintenance of a pushed repository.
    MaintainRepository { project: ProjectId },
    /// Start the downstream pipeline of a pending trigger job.
    TriggerDownstream { job: JobId },
    /// Send a mail to its one recipient.
    SendMail { mail: crate::mail::OutgoingMail },
    /// Note the issues a push's new commits name, and close those they close.
    IssuesFromPush { project: ProjectId, user: Option<UserId>, refs: Vec<PushedRef> },
    /// Bring a project's wiki search index up to its wiki's branch.
    IndexWiki { project: ProjectId },
    /// Bring a group's wiki search index up to its wiki's branch.
    IndexGroupWiki { group: NamespaceId },
}

impl Work {
    fn max_attempts(&self) -> i64 {
        match self {
            Work::PipelinesForPush { .. }
            | Work::ArchiveJobLog { .. }
            | Work::TriggerDownstream { .. }
            | Work::IssuesFromPush { .. }
            | Work::IndexWiki { .. }
            | Work::IndexGroupWiki { .. } => 8,
            Work::MaintainRepository { .. } => 3,
            // With waits doubling up to an hour: an SMTP server down for most of a day.
            Work::SendMail { .. } => 24,
        }
    }

    /// Queued jobs with the same key are one job.
    fn dedupe_key(&self) -> Option<String> {
        match self {
            Work::MaintainRepository { project } => Some(format!("maintain_repository:{project}")),
            Work::TriggerDownstream { job } => Some(format!("trigger_downstream:{job}")),
            Work::IndexWiki { project } => Some(format!("index_wiki:{project}")),
            Work::IndexGroupWiki { group } => Some(format!("index_group_wiki:{group}")),
            Work::PipelinesForPush { .. }
            | Work::ArchiveJobLog { .. }
            | Work::SendMail { .. }
            | Work::IssuesFromPush { .. } => None,
        }
    }

    fn decode(kind: &str, payload: &str) -> Result<Work, String> {
        let payload: serde_json::Value = serde_json::from_str(payload).map_err(|error| error.to_string())?;
        serde_json::from_value(serde_json::json!({ "kind": kind, "payload": payload }))
            .map_err(|error| format!("this server cannot run a '{kind}' job: {error}"))
    }
}

/// What a stored job does, in a sentence for the admin area.
pub fn describe(kind: &str, payload: &str) -> String {
    match Work::decode(kind, payload) {
        Ok(Work::PipelinesForPush { project, refs, .. }) => {
            let names: Vec<&str> = refs.iter().map(|r| r.name.as_str()).collect();
            format!("Create the pipelines of a push to project {project} ({})", names.join(", "))
        }
        Ok(Work::ArchiveJobLog { job }) => format!("Archive the log of CI job {job}"),
        Ok(Work::MaintainRepository { project }) => format!("Maintain the repository of project {project}"),
        Ok(Work::TriggerDownstream { job }) => format!("Start the downstream pipeline of trigger job {job}"),
        Ok(Work::SendMail { mail }) => format!("Send the mail \"{}\" to {}", mail.subject, mail.to.join(", ")),
        Ok(Work::IssuesFromPush { project, .. }) => {
            format!("Note and close the issues named by the commits of a push to project {project}")
        }
        Ok(Work::IndexWiki { project }) => format!("Refresh the search index of the wiki of project {project}"),
        Ok(Work::IndexGroupWiki { group }) => format!("Refresh the search index of the wiki of group {group}"),
        Err(_) => format!("A '{kind}' job, which this server does not know"),
    }
}

/// The wait before retry number `attempt` (from 1): `first`, then doubling, at most an hour.
fn retry_delay(first: Duration, attempt: i64) -> Duration {
    let doublings = u32::try_from(attempt.saturating_sub(1)).unwrap_or(u32::MAX).min(16);
    first.saturating_mul(1 << doublings).min(Duration::from_secs(3600))
}

fn millis(duration: Duration) -> i64 {
    i64::try_from(duration.as_millis()).unwrap_or(i64::MAX)
}

impl Core {
    /// Queues `work` in the caller's transaction; call [`Core::wake_background`] once it is
    /// committed.
    pub(crate) async fn enqueue(&self, conn: &mut gantry_db::Conn, work: &Work) -> CoreResult<()> {
        let run_at = match work {
            Work::MaintainRepository { .. } => now_millis() + millis(self.background.settings.maintenance_quiet),
            Work::PipelinesForPush { .. }
            | Work::ArchiveJobLog { .. }
            | Work::TriggerDownstream { .. }
            | Work::SendMail { .. }
            | Work::IssuesFromPush { .. }
            | Work::IndexWiki { .. }
            | Work::IndexGroupWiki { .. } => now_millis(),
        };
        let stored = serde_json::to_value(work).map_err(|error| CoreError::Internal(Box::new(error)))?;
        let kind = stored["kind"].as_str().unwrap_or_default();
        let dedupe_key = work.dedupe_key();
        background::enqueue(
            conn,
            &NewBackgroundJob {
                kind,
                payload: &stored["payload"].to_string(),
                dedupe_key: dedupe_key.as_deref(),
                max_attempts: work.max_attempts(),
                run_at,
            },
        )
        .await?;
        Ok(())
    }

    /// Tells the workers, this server's and the others', that a job was queued.
    pub(crate) fn wake_background(&self) {
        self.background.wake();
        self.signals.publish(crate::signals::Signal::BackgroundQueued);
    }

    /// Runs queued background jobs until `shutdown` resolves, then waits a little for the ones
    /// running. The jobs a previous run of this server ([`Core::with_identity`]) held when it
    /// died are taken again at once instead of after their lease.
    pub async fn run_background(&self, shutdown: impl std::future::Future<Output = ()>) {
        let prefix = format!("{} #", self.identity);
        let worker = format!("{prefix}{}", std::process::id());
        match self.db.conn().await.map_err(CoreError::from) {
            Ok(mut conn) => match background::release_held_by(&mut conn, &prefix).await {
                Ok(0) => {}
                Ok(released) => {
                    tracing::warn!(released, "background jobs a stopped server was running are queued again")
                }
                Err(error) => tracing::error!(error = %error, "cannot release the background jobs of a stopped server"),
            },
            Err(error) => tracing::error!(error = %error, "cannot release the background jobs of a stopped server"),
        }
        let settings = self.background.settings.clone();
        let worker = Arc::<str>::from(worker);
        let mut running = tokio::task::JoinSet::new();
        let mut poll = tokio::time::interval(settings.poll);
        poll.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        // Iteration cadences schedule their iterations and roll over by the calendar; any
        // server's pass does it (the writes are idempotent), soon after start and hourly after.
        let mut cadences = tokio::time::interval(Duration::from_secs(3600));
        cadences.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        tokio::pin!(shutdown);
        loop {
            while running.len() < settings.concurrency {
                match self.claim_background_job(&worker).await {
                    Ok(Some(job)) => {
                        let core = self.clone();
                        let worker = worker.clone();
                        running.spawn(async move { core.run_claimed(&worker, job).await });
                    }
                    Ok(None) => break,
                    Err(error) => {
                        tracing::error!(error = %error, "cannot take a background job");
                        break;
                    }
                }
            }
            tokio::select! {
                () = &mut shutdown => break,
                () = self.background.wake.notified() => {}
                _ = poll.tick() => {}
                _ = cadences.tick() => {
                    // Its own task: jobs are taken meanwhile, and a stop does not wait for it.
                    let core = self.clone();
                    tokio::spawn(async move {
                        if let Err(error) = core.plan().keep_up_all_cadences().await {
                            tracing::error!(error = %error, "cannot keep iteration cadences up to date");
                        }
                    });
                }
                Some(_) = running.join_next(), if !running.is_empty() => {}
            }
        }
        // What is still running gets a moment to end; what does not is taken again later.
        let _ =
            tokio::time::timeout(Duration::from_secs(10), async { while running.join_next().await.is_some() {} }).await;
    }

    async fn claim_background_job(&self, worker: &str) -> CoreResult<Option<ClaimedJob>> {
        let mut conn = self.db.conn().await?;
        let lease_until = now_millis() + millis(self.background.settings.lease);
        Ok(background::claim_next(&mut conn, self.db.backend(), worker, lease_until).await?)
    }

    /// Runs one claimed job, renewing its lease meanwhile, and records how it ended.
    async fn run_claimed(&self, worker: &str, job: ClaimedJob) {
        let lease = self.background.settings.lease;
        let mut renew = tokio::time::interval(lease / 3);
        renew.tick().await;
        let work = Work::decode(&job.kind, &job.payload);
        let outcome = {
            let run = async {
                match &work {
                    Ok(work) => self.perform(work).await.map_err(|error| error.to_string()),
                    Err(error) => Err(error.clone()),
                }
            };
            tokio::pin!(run);
            loop {
                tokio::select! {
                    outcome = &mut run => break outcome,
                    _ = renew.tick() => {
                        let lease_until = now_millis() + millis(lease);
                        if let Ok(mut conn) = self.db.conn().await {
                            let _ = background::renew(&mut conn, job.id, worker, lease_until).await;
                        }
                    }
                }
            }
        };
        let recorded = async {
            let mut conn = self.db.conn().await?;
            match &outcome {
                Ok(()) => background::complete(&mut conn, job.id, worker).await?,
                Err(error) => {
                    let retry_at = (job.attempt < job.max_attempts)
                        .then(|| now_millis() + millis(retry_delay(self.background.settings.first_retry, job.attempt)));
                    if retry_at.is_some() {
                        tracing::warn!(job = %job.id, kind = %job.kind, attempt = job.attempt, %error, "background job failed; it will be retried");
                    } else {
                        tracing::error!(job = %job.id, kind = %job.kind, attempts = job.attempt, %error, "background job failed for good");
                    }
                    background::fail(&mut conn, job.id, worker, error, retry_at).await?;
                }
            }
            Ok::<_, CoreError>(())
        };
        if let Err(error) = recorded.await {
            tracing::error!(job = %job.id, error = %error, "cannot record how a background job ended; it runs again");
        }
    }

    async fn perform(&self, work: &Work) -> CoreResult<()> {
        match work {
            Work::PipelinesForPush { project, user, refs, options } => {
                self.ci().pipelines_for_push(*project, *user, refs, options).await
            }
            Work::ArchiveJobLog { job } => self.ci().archive_job_trace(*job).await,
            Work::TriggerDownstream { job } => self.ci().trigger_downstream(*job).await,
            Work::SendMail { mail } => self.deliver_mail(mail).await,
            Work::IssuesFromPush { project, user, refs } => self.plan().issues_from_push(*project, *user, refs).await,
            Work::IndexWiki { project } => self.plan().index_wiki(WikiOwner::Project(*project)).await,
            Work::IndexGroupWiki { group } => self.plan().index_wiki(WikiOwner::Group(*group)).await,
            Work::MaintainRepository { project } => match self.repos.maintain(*project).await {
                Ok(()) | Err(gantry_git::GitError::Missing) => Ok(()),
                Err(error) => Err(error.into()),
            },
        }
    }

    /// The queue's counts, for `/metrics` (no authorisation: the caller decided).
    pub async fn background_queue_counts(&self) -> CoreResult<QueueCounts> {
        let mut conn = self.db.conn().await?;
        Ok(background::counts(&mut conn).await?)
    }

    /// The queue for the admin area: its counts, and up to `limit` jobs of each state that
    /// needs a look (failed, running, queued). Administrators only.
    pub async fn background_queue(&self, actor: &Actor, limit: i64) -> CoreResult<BackgroundQueue> {
        require_admin(actor)?;
        let mut conn = self.db.conn().await?;
        Ok(BackgroundQueue {
            counts: background::counts(&mut conn).await?,
            failed: background::list(&mut conn, BackgroundStatus::Failed, limit).await?,
            running: background::list(&mut conn, BackgroundStatus::Running, limit).await?,
            queued: background::list(&mut conn, BackgroundStatus::Queued, limit).await?,
        })
    }

    /// Queues a failed job again with a fresh set of attempts. Administrators only.
    pub async fn retry_background_job(&self, actor: &Actor, id: BackgroundJobId) -> CoreResult<()> {
        require_admin(actor)?;
        let mut conn = self.db.conn().await?;
        if !background::retry_failed(&mut conn, id).await? {
            return Err(no_longer_failed(id));
        }
        drop(conn);
        self.wake_background();
        tracing::info!(job = %id, "failed background job queued again");
        Ok(())
    }

    /// Deletes a failed job. Administrators only.
    pub async fn discard_background_job(&self, actor: &Actor, id: BackgroundJobId) -> CoreResult<()> {
        require_admin(actor)?;
        let mut conn = self.db.conn().await?;
        if !background::discard_failed(&mut conn, id).await? {
            return Err(no_longer_failed(id));
        }
        tracing::info!(job = %id, "failed background job discarded");
        Ok(())
    }
}

/// A retry or discard of a job that is not (or no longer) failed: another administrator, or
/// a second click, got there first.
fn no_longer_failed(id: BackgroundJobId) -> CoreError {
    CoreError::Conflict(format!("background job #{id} is not failed (it was retried or discarded meanwhile)"))
}

/// The background queue as the admin area shows it.
#[derive(Debug, Clone)]
pub struct BackgroundQueue {
    pub counts: QueueCounts,
    pub failed: Vec<BackgroundJobRow>,
    pub running: Vec<BackgroundJobRow>,
    pub queued: Vec<BackgroundJobRow>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_wait_longer_each_time_up_to_an_hour() {
        let first = Duration::from_secs(10);
        assert_eq!(retry_delay(first, 1), Duration::from_secs(10));
        assert_eq!(retry_delay(first, 2), Duration::from_secs(20));
        assert_eq!(retry_delay(first, 4), Duration::from_secs(80));
        assert_eq!(retry_delay(first, 40), Duration::from_secs(3600));
    }

    #[test]
    fn work_is_stored_as_a_kind_and_a_payload_and_read_back() {
        let work = Work::MaintainRepository { project: ProjectId(7) };
        let stored = serde_json::to_value(&work).unwrap();
        assert_eq!(stored["kind"], "maintain_repository");
        assert_eq!(Work::decode("maintain_repository", &stored["payload"].to_string()), Ok(work));
        let unknown = Work::decode("send_rockets", "{}").unwrap_err();
        assert!(unknown.contains("cannot run a 'send_rockets' job"), "{unknown}");
    }
}
