//! The pipeline state machine: after anything changes in a pipeline, decide which waiting
//! (`created`) jobs may start, wait for a person, wait for a time, or are skipped, and what
//! the pipeline's own status is. [`decide`] and [`pipeline_status`] are pure; [`Core::process_pipeline`]
//! applies them.

use std::collections::HashMap;

use gantry_ci::keywords::AllowFailure;
use gantry_db::ci::jobs::JobRow;
use gantry_db::ci::{jobs, pipelines};
use gantry_types::{CiStatus, JobId, PipelineId, When};

use crate::{CoreResult, now_millis};

/// What becomes of a waiting job.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Decision {
    Pending,
    Manual,
    /// Delayed: due this many seconds from now.
    Scheduled(i64),
    Skipped,
}

/// Whether a failure of this job does not fail the pipeline.
pub(crate) fn failure_allowed(job: &JobRow) -> bool {
    match serde_json::from_str::<AllowFailure>(&job.allow_failure) {
        Ok(AllowFailure::Yes) => true,
        Ok(AllowFailure::ExitCodes(codes)) => {
            job.exit_code.is_some_and(|code| codes.iter().any(|c| i64::from(*c) == code))
        }
        _ => false,
    }
}

/// How a finished (or blocking) predecessor looks to the jobs after it.
#[derive(Debug, Clone, Copy, Default)]
struct Outcome {
    /// A predecessor has not finished (or is a manual job that blocks).
    waiting: bool,
    /// A predecessor failed (without allow_failure) or was canceled.
    failed: bool,
}

impl Outcome {
    fn add(&mut self, job: &JobRow) {
        match job.status {
            CiStatus::Manual if !failure_allowed(job) => self.waiting = true,
            CiStatus::Manual => {}
            CiStatus::Failed if !failure_allowed(job) => self.failed = true,
            CiStatus::Canceled => self.failed = true,
            status if status.is_active() => self.waiting = true,
            _ => {}
        }
    }
}

/// The current attempts of a pipeline's jobs (retried attempts left out).
pub(crate) fn latest(jobs: &[JobRow]) -> Vec<&JobRow> {
    jobs.iter().filter(|j| !j.retried).collect()
}

/// Decides every waiting job whose predecessors allow a decision now.
pub(crate) fn decide(jobs: &[&JobRow]) -> Vec<(JobId, Decision)> {
    let by_name: HashMap<&str, &JobRow> = jobs.iter().map(|j| (j.name.as_str(), *j)).collect();
    // The outcome of all jobs before each stage: stage-ordered jobs wait for all of them.
    let max_stage = jobs.iter().map(|j| j.stage_idx).max().unwrap_or(0);
    let mut per_stage = vec![Outcome::default(); usize::try_from(max_stage + 2).unwrap_or(1)];
    for job in jobs {
        let at = usize::try_from(job.stage_idx + 1).unwrap_or(0);
        per_stage[at].add(job);
    }
    for at in 1..per_stage.len() {
        let before = per_stage[at - 1];
        per_stage[at].waiting |= before.waiting;
        per_stage[at].failed |= before.failed;
    }
    let mut decisions = Vec::new();
    for job in jobs.iter().filter(|j| j.status == CiStatus::Created) {
        let outcome = match job.needs.as_deref().map(serde_json::from_str::<Vec<String>>) {
            Some(Ok(needs)) => {
                let mut outcome = Outcome::default();
                for need in &needs {
                    if let Some(needed) = by_name.get(need.as_str()) {
                        outcome.add(needed);
                    }
                }
                outcome
            }
            _ => per_stage[usize::try_from(job.stage_idx).unwrap_or(0)],
        };
        if outcome.waiting {
            continue;
        }
        let decision = match (job.run_when, outcome.failed) {
            (When::Always, _) | (When::OnFailure, true) | (When::OnSuccess, false) => Decision::Pending,
            (When::Manual, false) => Decision::Manual,
            (When::Delayed, false) => Decision::Scheduled(job.start_in.unwrap_or(0)),
            _ => Decision::Skipped,
        };
        decisions.push((job.id, decision));
    }
    decisions
}

/// A pipeline's status from its jobs' (GitLab's composite status).
pub(crate) fn pipeline_status(jobs: &[&JobRow]) -> CiStatus {
    use CiStatus::*;
    let any = |status: CiStatus| jobs.iter().any(|j| j.status == status);
    if jobs.is_empty() {
        return Skipped;
    }
    if any(Running) {
        return Running;
    }
    if any(Pending) || any(WaitingForResource) {
        let started = jobs.iter().any(|j| !matches!(j.status, Pending | Created));
        return if started { Running } else { Pending };
    }
    if any(Scheduled) {
        return Scheduled;
    }
    if any(Created) || jobs.iter().any(|j| j.status == Manual && !failure_allowed(j)) {
        // Waiting for a blocking manual job.
        return Manual;
    }
    if jobs.iter().all(|j| j.status == Skipped) {
        return Skipped;
    }
    if jobs.iter().any(|j| j.status == Failed && !failure_allowed(j)) {
        return Failed;
    }
    if any(Canceled) {
        return Canceled;
    }
    Success
}

impl super::Ci<'_> {
    /// Moves a pipeline on: decides its waiting jobs until nothing changes, stores its status,
    /// and wakes waiting runners when a job became pending.
    pub async fn process_pipeline(&self, pipeline_id: PipelineId) -> CoreResult<()> {
        let mut tx = self.db.begin().await?;
        pipelines::lock_pipeline(&mut tx, self.db.backend(), pipeline_id).await?;
        let Some(pipeline) = pipelines::get_pipeline(&mut tx, pipeline_id).await? else { return Ok(()) };
        let mut queued = false;
        let all = loop {
            let all = jobs::pipeline_jobs(&mut tx, pipeline_id).await?;
            let decisions = decide(&latest(&all));
            if decisions.is_empty() {
                break all;
            }
            for (job, decision) in decisions {
                match decision {
                    Decision::Pending => {
                        queued |= jobs::transition(&mut tx, job, &[CiStatus::Created], CiStatus::Pending).await?;
                    }
                    Decision::Manual => {
                        jobs::transition(&mut tx, job, &[CiStatus::Created], CiStatus::Manual).await?;
                    }
                    Decision::Skipped => {
                        jobs::transition(&mut tx, job, &[CiStatus::Created], CiStatus::Skipped).await?;
                    }
                    Decision::Scheduled(seconds) => {
                        jobs::schedule_job(&mut tx, job, now_millis() + seconds * 1000).await?;
                    }
                }
            }
        };
        let latest = latest(&all);
        let status = if pipeline.yaml_errors.is_some() { CiStatus::Failed } else { pipeline_status(&latest) };
        if status != pipeline.status {
            let now = now_millis();
            let started = latest.iter().filter_map(|j| j.started_at).min();
            let finished = status.is_finished().then_some(now);
            pipelines::set_pipeline_status(&mut tx, pipeline_id, status, started, finished).await?;
        }
        tx.commit().await.map_err(gantry_db::DbError::from)?;
        if queued {
            self.ci.job_queued();
        }
        if status != pipeline.status {
            self.ci.pipeline_changed(pipeline_id);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use gantry_types::ProjectId;

    fn job(id: i64, name: &str, stage: i64, status: &str, when: &str, needs: Option<&[&str]>) -> JobRow {
        JobRow {
            id: JobId(id),
            pipeline_id: PipelineId(1),
            project_id: ProjectId(1),
            name: name.into(),
            stage: format!("s{stage}"),
            stage_idx: stage,
            status: CiStatus::parse(status).unwrap(),
            run_when: When::parse(when).unwrap(),
            allow_failure: "\"no\"".into(),
            start_in: None,
            scheduled_at: None,
            needs: needs.map(|n| serde_json::to_string(n).unwrap()),
            tags: Vec::new(),
            interruptible: false,
            resource_group: None,
            runner_id: None,
            attempt: 1,
            retried: false,
            failure_reason: None,
            exit_code: None,
            trace_size: 0,
            coverage: None,
            user_id: None,
            created_at: 0,
            queued_at: None,
            started_at: None,
            finished_at: None,
            heartbeat_at: None,
        }
    }

    #[test]
    fn stages_wait_for_earlier_stages_and_needs_only_for_their_needs() {
        let jobs = [
            job(1, "build", 0, "running", "on_success", None),
            job(2, "lint", 0, "success", "on_success", None),
            job(3, "test", 1, "created", "on_success", None),
            job(4, "fast", 1, "created", "on_success", Some(&["lint"])),
            job(5, "first", 0, "created", "on_success", Some(&[])),
        ];
        let decisions = decide(&jobs.iter().collect::<Vec<_>>());
        assert_eq!(decisions, [(JobId(4), Decision::Pending), (JobId(5), Decision::Pending)]);
        assert_eq!(pipeline_status(&jobs.iter().collect::<Vec<_>>()), CiStatus::Running);
    }

    #[test]
    fn failures_skip_on_success_jobs_and_start_on_failure_jobs() {
        let mut failing = job(1, "build", 0, "failed", "on_success", None);
        let jobs = [
            failing.clone(),
            job(2, "test", 1, "created", "on_success", None),
            job(3, "report", 1, "created", "on_failure", None),
            job(4, "cleanup", 1, "created", "always", None),
            job(5, "deploy", 1, "created", "manual", None),
        ];
        let decisions = decide(&jobs.iter().collect::<Vec<_>>());
        assert_eq!(
            decisions,
            [
                (JobId(2), Decision::Skipped),
                (JobId(3), Decision::Pending),
                (JobId(4), Decision::Pending),
                (JobId(5), Decision::Skipped)
            ]
        );
        failing.allow_failure = "\"yes\"".into();
        let allowed = [failing, job(2, "test", 1, "created", "on_success", None)];
        assert_eq!(decide(&allowed.iter().collect::<Vec<_>>()), [(JobId(2), Decision::Pending)]);
    }

    #[test]
    fn pipeline_status_follows_gitlab() {
        let status = |jobs: &[JobRow]| pipeline_status(&jobs.iter().collect::<Vec<_>>());
        assert_eq!(status(&[job(1, "a", 0, "pending", "on_success", None)]), CiStatus::Pending);
        assert_eq!(
            status(&[job(1, "a", 0, "success", "on_success", None), job(2, "b", 1, "skipped", "on_success", None)]),
            CiStatus::Success
        );
        assert_eq!(status(&[job(1, "a", 0, "failed", "on_success", None)]), CiStatus::Failed);
        assert_eq!(status(&[job(1, "a", 0, "canceled", "on_success", None)]), CiStatus::Canceled);
        let mut manual = job(1, "deploy", 0, "manual", "manual", None);
        assert_eq!(status(std::slice::from_ref(&manual)), CiStatus::Manual);
        manual.allow_failure = "\"yes\"".into();
        assert_eq!(status(&[manual, job(2, "a", 0, "success", "on_success", None)]), CiStatus::Success);
    }
}
