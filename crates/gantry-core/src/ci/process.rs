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

/// A job's status as GitLab's composite status counts it: a failure allowed to fail counts as
/// a success with warnings, a manual job allowed to fail (an optional one) is left out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Counted {
    Status(CiStatus),
    SuccessWithWarnings,
    Ignored,
}

fn counted(job: &JobRow) -> Counted {
    match job.status {
        CiStatus::Failed | CiStatus::Canceled if failure_allowed(job) => Counted::SuccessWithWarnings,
        CiStatus::Manual if failure_allowed(job) => Counted::Ignored,
        status => Counted::Status(status),
    }
}

/// GitLab's composite status of a set of jobs (`Gitlab::Ci::Status::Composite`): a stage's, a
/// pipeline's, or what the jobs before a job (`dag`: the jobs it needs) add up to for it. `None`
/// for no jobs. The order of the checks is GitLab's and matters.
pub(crate) fn composite_status(jobs: &[&JobRow], dag: bool) -> Option<CiStatus> {
    use CiStatus::*;
    let mut set: Vec<Counted> = Vec::new();
    for job in jobs {
        let status = counted(job);
        if !set.contains(&status) {
            set.push(status);
        }
    }
    if set.is_empty() {
        return None;
    }
    let has = |status: CiStatus| set.contains(&Counted::Status(status));
    // GitLab's `only_of?`: every status of the set is one of these (optional manual jobs always
    // are; allowed failures in all but the first check).
    let only_of = |statuses: &[CiStatus], warned_too: bool| {
        set.iter().all(|s| match s {
            Counted::Status(status) => statuses.contains(status),
            Counted::SuccessWithWarnings => warned_too,
            Counted::Ignored => true,
        })
    };
    let status = if dag && (has(Skipped) || set.contains(&Counted::Ignored)) {
        // A job that needs a job which did not run (or waits for a person) does not run either.
        Skipped
    } else if only_of(&[Skipped], false) {
        Skipped
    } else if only_of(&[Success, Skipped], true) {
        Success
    } else if only_of(&[Created], true) {
        Created
    } else if only_of(&[Preparing], true) {
        Preparing
    } else if only_of(&[Canceled, Success, Skipped], true) {
        Canceled
    } else if only_of(&[Pending, Created, Skipped], true) {
        Pending
    } else if has(Running) || has(Pending) {
        Running
    } else if has(WaitingForResource) {
        WaitingForResource
    } else if has(Manual) {
        Manual
    } else if has(Scheduled) {
        Scheduled
    } else if has(Preparing) {
        Preparing
    } else if has(Created) {
        Running
    } else if has(Canceling) {
        Canceling
    } else {
        Failed
    };
    Some(status)
}

/// The current attempts of a pipeline's jobs (retried attempts left out).
pub(crate) fn latest(jobs: &[JobRow]) -> Vec<&JobRow> {
    jobs.iter().filter(|j| !j.retried).collect()
}

/// Decides every waiting job whose predecessors allow a decision now, as GitLab does: the jobs
/// before a job (the earlier stages, or with `needs` the jobs it needs) add up to a composite
/// status; until that is finished the job waits, then its `when` says whether it runs.
pub(crate) fn decide(jobs: &[&JobRow]) -> Vec<(JobId, Decision)> {
    let by_name: HashMap<&str, &JobRow> = jobs.iter().map(|j| (j.name.as_str(), *j)).collect();
    let mut decisions = Vec::new();
    for job in jobs.iter().filter(|j| j.status == CiStatus::Created) {
        let (before, dag): (Vec<&JobRow>, bool) = match job.needs.as_deref().map(serde_json::from_str::<Vec<String>>) {
            Some(Ok(needs)) => (needs.iter().filter_map(|need| by_name.get(need.as_str()).copied()).collect(), true),
            _ => (jobs.iter().copied().filter(|j| j.stage_idx < job.stage_idx).collect(), false),
        };
        let status = composite_status(&before, dag).unwrap_or(CiStatus::Success);
        if !status.is_finished() {
            continue;
        }
        let runs = match job.run_when {
            When::OnSuccess | When::Manual | When::Delayed => {
                status == CiStatus::Success || (!dag && status == CiStatus::Skipped)
            }
            When::OnFailure => status == CiStatus::Failed,
            When::Always => matches!(status, CiStatus::Success | CiStatus::Failed | CiStatus::Skipped),
            _ => false,
        };
        let decision = match job.run_when {
            _ if !runs => Decision::Skipped,
            When::Manual => Decision::Manual,
            When::Delayed => Decision::Scheduled(job.start_in.unwrap_or(0)),
            _ => Decision::Pending,
        };
        decisions.push((job.id, decision));
    }
    decisions
}

/// A pipeline's status from its current jobs' (GitLab's composite status; `skipped` when it has
/// none).
pub(crate) fn pipeline_status(jobs: &[&JobRow]) -> CiStatus {
    composite_status(jobs, false).unwrap_or(CiStatus::Skipped)
}

impl super::Ci<'_> {
    /// Moves a pipeline on: decides its waiting jobs until nothing changes, stores its status,
    /// wakes waiting runners when a job became pending, and tells viewers what changed.
    pub async fn process_pipeline(&self, pipeline_id: PipelineId) -> CoreResult<()> {
        let mut tx = self.db.begin().await?;
        pipelines::lock_pipeline(&mut tx, self.db.backend(), pipeline_id).await?;
        let Some(pipeline) = pipelines::get_pipeline(&mut tx, pipeline_id).await? else { return Ok(()) };
        let mut queued = false;
        let mut triggered = false;
        let mut decided = false;
        let all = loop {
            let all = jobs::pipeline_jobs(&mut tx, pipeline_id).await?;
            let decisions = decide(&latest(&all));
            if decisions.is_empty() {
                break all;
            }
            decided = true;
            for (job, decision) in decisions {
                match decision {
                    // A trigger job starts its pipeline in the background, in this transaction.
                    Decision::Pending if all.iter().any(|j| j.id == job && j.bridge) => {
                        if jobs::transition(&mut tx, job, &[CiStatus::Created], CiStatus::Pending).await? {
                            self.enqueue(&mut tx, &crate::background::Work::TriggerDownstream { job }).await?;
                            triggered = true;
                        }
                    }
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
        if triggered {
            self.wake_background();
        }
        // Pipeline pages redraw on this: a job that became pending, manual or skipped changes
        // them even when the pipeline's own status stays.
        if status != pipeline.status || decided {
            self.ci.pipeline_changed(pipeline_id);
        }
        // The trigger job that started this pipeline follows it.
        if status != pipeline.status
            && let Some(bridge) = pipeline.upstream_job_id
        {
            Box::pin(self.settle_bridge(bridge)).await?;
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
            bridge: false,
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

    fn allowed(mut job: JobRow) -> JobRow {
        job.allow_failure = "\"yes\"".into();
        job
    }

    #[test]
    fn optional_manual_jobs_left_over_finish_the_pipeline() {
        let status = |jobs: &[JobRow]| pipeline_status(&jobs.iter().collect::<Vec<_>>());
        let built = job(1, "build", 0, "success", "on_success", None);
        let deploy = allowed(job(2, "deploy", 1, "manual", "manual", None));
        assert_eq!(status(&[built.clone(), deploy.clone()]), CiStatus::Success);
        // Nothing but an optional manual job: GitLab calls the pipeline skipped.
        assert_eq!(status(std::slice::from_ref(&deploy)), CiStatus::Skipped);
        // A failure allowed to fail is a success with warnings.
        let flaky = allowed(job(3, "flaky", 0, "failed", "on_success", None));
        assert_eq!(status(&[built.clone(), flaky, deploy.clone()]), CiStatus::Success);
        // A blocking manual job holds the jobs after it: the pipeline is blocked (`manual`).
        let gate = job(4, "approve", 1, "manual", "manual", None);
        let after = job(5, "release", 2, "created", "on_success", None);
        assert_eq!(status(&[built.clone(), gate, after]), CiStatus::Manual);
        // A failure beside an optional manual job fails the pipeline.
        let broken = job(6, "test", 0, "failed", "on_success", None);
        assert_eq!(status(&[broken, deploy]), CiStatus::Failed);
        // Waiting jobs beside finished ones: pending only when nothing has run yet.
        let skipped = job(7, "docs", 0, "skipped", "on_success", None);
        assert_eq!(status(&[job(8, "a", 0, "pending", "on_success", None), skipped]), CiStatus::Pending);
        assert_eq!(status(&[built.clone(), job(9, "b", 1, "pending", "on_success", None)]), CiStatus::Running);
        assert_eq!(status(&[built, job(10, "c", 1, "scheduled", "delayed", None)]), CiStatus::Scheduled);
    }

    #[test]
    fn jobs_needing_an_optional_manual_or_skipped_job_are_skipped_like_gitlab() {
        let deploy = allowed(job(1, "deploy", 0, "manual", "manual", None));
        let jobs = [
            deploy,
            job(2, "smoke", 1, "created", "on_success", Some(&["deploy"])),
            job(3, "notify", 1, "created", "always", Some(&["deploy"])),
            // By stages an optional manual job does not hold the next stage.
            job(4, "report", 1, "created", "on_success", None),
        ];
        let decisions = decide(&jobs.iter().collect::<Vec<_>>());
        assert_eq!(
            decisions,
            [(JobId(2), Decision::Skipped), (JobId(3), Decision::Pending), (JobId(4), Decision::Pending)]
        );
        let skipped = [
            job(1, "docs", 0, "skipped", "on_success", None),
            job(2, "publish", 1, "created", "on_success", Some(&["docs"])),
            job(3, "later", 1, "created", "on_success", None),
        ];
        let decisions = decide(&skipped.iter().collect::<Vec<_>>());
        assert_eq!(decisions, [(JobId(2), Decision::Skipped), (JobId(3), Decision::Pending)]);
    }

    #[test]
    fn a_canceled_job_skips_the_jobs_after_it_even_always_ones() {
        let jobs = [
            job(1, "build", 0, "canceled", "on_success", None),
            job(2, "test", 1, "created", "on_success", None),
            job(3, "cleanup", 1, "created", "always", None),
            job(4, "report", 1, "created", "on_failure", None),
        ];
        let decisions = decide(&jobs.iter().collect::<Vec<_>>());
        assert!(decisions.iter().all(|(_, d)| *d == Decision::Skipped), "{decisions:?}");
        // A blocking manual job holds the next stage; delayed and manual jobs follow `when`.
        let held =
            [job(1, "approve", 0, "manual", "manual", None), job(2, "release", 1, "created", "on_success", None)];
        assert!(decide(&held.iter().collect::<Vec<_>>()).is_empty());
        let ready = [
            job(1, "build", 0, "success", "on_success", None),
            job(2, "deploy", 1, "created", "manual", None),
            job(3, "later", 1, "created", "delayed", None),
        ];
        assert_eq!(
            decide(&ready.iter().collect::<Vec<_>>()),
            [(JobId(2), Decision::Manual), (JobId(3), Decision::Scheduled(0))]
        );
    }
}
