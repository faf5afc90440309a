//! CI's watchdog: due schedules, delayed jobs coming due, jobs whose runner went silent
//! (failed as a runner system failure, retried when configured) and jobs past their timeout;
//! every few minutes, expired artifacts and unused blobs. All state is in the database, so a
//! restarted server carries on.

use std::time::Duration;

use gantry_db::ci::{jobs, pipelines};
use gantry_types::CiStatus;

use super::create::StoredJob;
use crate::{Core, CoreResult, now_millis};

/// How often the watchdog looks at delayed, silent and overdue jobs.
const TICK: Duration = Duration::from_secs(1);
/// Extra time a job gets past its timeout before the server fails it (the runner enforces
/// the timeout itself; this catches runners that never report back).
const TIMEOUT_GRACE_MS: i64 = 60_000;
/// How often expired artifacts and unused blobs are removed.
const SWEEP_EVERY: Duration = Duration::from_secs(10 * 60);
/// How old another server's push report must be to be taken as that server's, gone for good:
/// a live server records its pushes within seconds of git's end.
const ORPHANED_PUSH_AGE: Duration = Duration::from_secs(15 * 60);
/// How often a server that does not lead asks whether it may (a leader that died releases
/// its lock at once, so this is how long the periodic work may pause).
const LEAD_RETRY: Duration = Duration::from_secs(3);

/// This server's claim on the periodic work, asked for again when lost.
#[derive(Debug, Default)]
struct Leader {
    held: Option<gantry_db::cluster::Leadership>,
    last_try: Option<tokio::time::Instant>,
}

impl Leader {
    /// Whether this server leads now, becoming the leader if no one is.
    async fn holds(&mut self, core: &Core) -> bool {
        if let Some(held) = &mut self.held {
            if held.still_held().await {
                return true;
            }
            tracing::warn!("this server lost the lead of the periodic work (its database connection ended)");
            self.held = None;
        }
        if self.last_try.is_some_and(|at| at.elapsed() < LEAD_RETRY) {
            return false;
        }
        self.last_try = Some(tokio::time::Instant::now());
        match core.db.try_lead().await {
            Ok(Some(held)) => {
                if core.db.backend() == gantry_db::Backend::Postgres {
                    tracing::info!("this server leads the periodic work (schedules, timeouts, sweeps)");
                }
                self.held = Some(held);
                true
            }
            Ok(None) => false,
            Err(error) => {
                tracing::warn!(error = %error, "cannot ask for the lead of the periodic work");
                false
            }
        }
    }
}

impl super::Ci<'_> {
    /// Runs until `shutdown` resolves. Of several servers on one database only one, the
    /// leader, does the periodic work; when it dies another one takes over within seconds.
    /// (Pipelines for pushes are background jobs: [`crate::background`].)
    pub async fn run_ci(&self, shutdown: impl std::future::Future<Output = ()>) {
        tokio::pin!(shutdown);
        // Runners waiting since before a restart look at the queue again.
        self.ci.job_queued();
        let mut leader = Leader::default();
        leader.holds(self).await;
        let mut tick = tokio::time::interval(TICK);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut sweep = tokio::time::interval(SWEEP_EVERY);
        sweep.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                () = &mut shutdown => return,
                _ = sweep.tick() => {
                    if !leader.holds(self).await {
                        continue;
                    }
                    let core = Core::clone(self);
                    tokio::spawn(async move {
                        match core.ci().sweep_artifacts().await {
                            Ok(0) => {}
                            Ok(removed) => tracing::info!(removed, "expired artifacts removed"),
                            Err(error) => tracing::error!(error = %error, "cannot remove expired artifacts"),
                        }
                        if let Err(error) = core.code().record_orphaned_pushes(ORPHANED_PUSH_AGE).await {
                            tracing::error!(error = %error, "cannot record the pushes of servers gone for good");
                        }
                    });
                }
                _ = tick.tick() => {
                    if !leader.holds(self).await {
                        continue;
                    }
                    if let Err(error) = self.ci_housekeeping().await {
                        tracing::error!(error = %error, "CI housekeeping failed");
                    }
                }
            }
        }
    }

    /// One round of the watchdog.
    pub async fn ci_housekeeping(&self) -> CoreResult<()> {
        let now = now_millis();
        let mut conn = self.db.conn().await?;
        let mut touched = Vec::new();
        for job in jobs::due_scheduled_jobs(&mut conn, now).await? {
            if self.make_pending(&job, &[CiStatus::Scheduled]).await? {
                touched.push(job.pipeline_id);
            }
        }
        drop(conn);
        self.recheck_bridges().await?;
        let mut conn = self.db.conn().await?;
        let silence = i64::try_from(self.ci.settings.runner_silence.as_millis()).unwrap_or(i64::MAX);
        let silent = jobs::silent_running_jobs(&mut conn, now - silence).await?;
        let overdue = jobs::running_jobs_started_before(&mut conn, now - TIMEOUT_GRACE_MS).await?;
        let mut timed_out = Vec::new();
        for job in overdue {
            let Some(started) = job.started_at else { continue };
            let settings = pipelines::ci_settings(&mut conn, job.project_id).await?;
            let definition = jobs::job_definition(&mut conn, job.id).await?.unwrap_or_default();
            let timeout = serde_json::from_str::<StoredJob>(&definition)
                .ok()
                .and_then(|s| s.definition.timeout)
                .map_or(settings.timeout, |t| i64::try_from(t).unwrap_or(i64::MAX));
            if started + timeout.saturating_mul(1000) + TIMEOUT_GRACE_MS < now {
                timed_out.push(job);
            }
        }
        drop(conn);
        self.run_due_schedules().await?;
        for pipeline in touched {
            self.process_pipeline(pipeline).await?;
        }
        for job in silent {
            tracing::warn!(job = %job.id, runner = job.runner_id.map_or(0, |runner| runner.0), "the job's runner went silent");
            self.finish_running_job(&job, CiStatus::Failed, Some("runner_system_failure"), None).await?;
        }
        for job in timed_out {
            tracing::warn!(job = %job.id, "the job passed its timeout without its runner reporting");
            self.finish_running_job(&job, CiStatus::Failed, Some("job_execution_timeout"), None).await?;
        }
        Ok(())
    }
}
