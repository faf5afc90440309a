//! What people do with pipelines and jobs: read them (lists, one pipeline with its jobs, logs,
//! the newest pipeline of a ref or commit) and act on them (cancel, retry, play, delete; the
//! auto-cancel of older pipelines). Every operation checks the project policy first; what acts
//! on jobs (cancel, retry, play) also checks the pipeline's ref (`policy::authorize_protected_ref`).

use gantry_db::ci::{jobs, pipelines, traces};
use gantry_db::{Conn, Page};
use gantry_types::{CiStatus, JobId, PipelineId};

use super::process::latest;
use super::{JobRow, PipelineFilter, PipelineRow};
use crate::policy::{
    ProjectAccess, ProjectAction, authorize_project, authorize_protected_ref, may_read_schedule_variables,
};
use crate::{Actor, CoreError, CoreResult, ProjectRow};

/// What a job may be canceled from: not finished, or a manual job nobody played.
const CANCELABLE: &[CiStatus] = &[
    CiStatus::Created,
    CiStatus::WaitingForResource,
    CiStatus::Preparing,
    CiStatus::Pending,
    CiStatus::Running,
    CiStatus::Scheduled,
    CiStatus::Manual,
];

impl super::Ci<'_> {
    pub(super) async fn project_pipeline(
        &self,
        conn: &mut Conn,
        project: &ProjectRow,
        id: PipelineId,
    ) -> CoreResult<PipelineRow> {
        pipelines::get_pipeline(conn, id)
            .await?
            .filter(|p| p.project_id == project.id)
            .ok_or(CoreError::NotFound("pipeline"))
    }

    /// Checks that the actor may run or stop jobs on the pipeline's ref (a protected branch
    /// asks for the right to push or merge to it).
    async fn authorize_pipeline_ref(
        &self,
        conn: &mut Conn,
        actor: &Actor,
        project: &ProjectRow,
        pipeline: PipelineId,
    ) -> CoreResult<PipelineRow> {
        let pipeline = self.project_pipeline(conn, project, pipeline).await?;
        authorize_protected_ref(conn, actor, project, &pipeline.ref_name, pipeline.is_tag).await?;
        Ok(pipeline)
    }

    pub(super) async fn project_job(&self, conn: &mut Conn, project: &ProjectRow, id: JobId) -> CoreResult<JobRow> {
        jobs::get_job(conn, id).await?.filter(|j| j.project_id == project.id).ok_or(CoreError::NotFound("job"))
    }

    /// A project's pipelines, newest first.
    pub async fn list_pipelines(
        &self,
        access: &ProjectAccess,
        filter: &PipelineFilter<'_>,
        page: Page,
    ) -> CoreResult<(Vec<PipelineRow>, i64)> {
        access.require(ProjectAction::ReadPipelines)?;
        let mut conn = self.db.conn().await?;
        Ok(pipelines::list_pipelines(&mut conn, access.project().id, filter, page).await?)
    }

    /// One pipeline with all its jobs (retried attempts included, flagged).
    pub async fn pipeline(&self, access: &ProjectAccess, id: PipelineId) -> CoreResult<(PipelineRow, Vec<JobRow>)> {
        access.require(ProjectAction::ReadPipelines)?;
        let mut conn = self.db.conn().await?;
        let pipeline = self.project_pipeline(&mut conn, access.project(), id).await?;
        let jobs = jobs::pipeline_jobs(&mut conn, id).await?;
        Ok((pipeline, jobs))
    }

    /// The variables a pipeline was run with, as stored (JSON `[{"key", "value",
    /// "variable_type"}]`), for those who may act on the pipeline (GitLab's rule: Developers and
    /// above, on a protected ref those who may push or merge to it) and the pipeline's own
    /// user. A scheduled pipeline's are its schedule's: only those who may read the schedule's
    /// variables see them (an empty list for others).
    pub async fn pipeline_variables(&self, actor: &Actor, project: &ProjectRow, id: PipelineId) -> CoreResult<String> {
        let mut conn = self.db.conn().await?;
        let level = authorize_project(&mut conn, actor, project, ProjectAction::ReadPipelines).await?;
        let pipeline = self.project_pipeline(&mut conn, project, id).await?;
        let own = actor.user().is_some_and(|user| Some(user.id) == pipeline.user_id);
        if !own {
            authorize_project(&mut conn, actor, project, ProjectAction::RunPipelines).await.map_err(|_| {
                CoreError::Forbidden("you need the Developer role to read a pipeline's variables".to_owned())
            })?;
            authorize_protected_ref(&mut conn, actor, project, &pipeline.ref_name, pipeline.is_tag).await?;
        }
        if pipeline.source != "schedule" {
            return Ok(pipeline.variables);
        }
        let owner = match pipeline.schedule_id {
            Some(schedule) => {
                gantry_db::ci::schedules::get_schedule(&mut conn, schedule).await?.and_then(|s| s.owner_id)
            }
            None => None,
        };
        if may_read_schedule_variables(actor, level, owner) { Ok(pipeline.variables) } else { Ok("[]".to_owned()) }
    }

    /// The newest pipeline of a branch or tag (for badges and status icons), if visible.
    pub async fn latest_pipeline(
        &self,
        actor: &Actor,
        project: &ProjectRow,
        ref_name: &str,
    ) -> CoreResult<Option<PipelineRow>> {
        let mut conn = self.db.conn().await?;
        authorize_project(&mut conn, actor, project, ProjectAction::ReadPipelines).await?;
        Ok(pipelines::latest_pipeline_for_ref(&mut conn, project.id, ref_name).await?)
    }

    /// The newest pipeline of a commit, if visible.
    pub async fn commit_pipeline(
        &self,
        actor: &Actor,
        project: &ProjectRow,
        sha: &str,
    ) -> CoreResult<Option<PipelineRow>> {
        let mut conn = self.db.conn().await?;
        authorize_project(&mut conn, actor, project, ProjectAction::ReadPipelines).await?;
        Ok(pipelines::latest_pipeline_for_sha(&mut conn, project.id, sha).await?)
    }

    /// The newest pipeline of each commit, for commit and branch lists; empty for visitors who
    /// may not see pipelines (the list itself is still theirs to see).
    pub async fn pipelines_of_commits(
        &self,
        access: &ProjectAccess,
        shas: &[String],
    ) -> CoreResult<std::collections::HashMap<String, PipelineRow>> {
        if !access.can(ProjectAction::ReadPipelines) || shas.is_empty() {
            return Ok(std::collections::HashMap::new());
        }
        let mut conn = self.db.conn().await?;
        let shas: Vec<String> = shas.iter().filter(|s| s.bytes().all(|b| b.is_ascii_hexdigit())).cloned().collect();
        Ok(pipelines::latest_pipelines_for_shas(&mut conn, access.project().id, &shas).await?)
    }

    /// A project's jobs (latest attempts), newest first.
    pub async fn list_jobs(
        &self,
        access: &ProjectAccess,
        statuses: &[CiStatus],
        page: Page,
    ) -> CoreResult<(Vec<JobRow>, i64)> {
        access.require(ProjectAction::ReadPipelines)?;
        let mut conn = self.db.conn().await?;
        Ok(jobs::project_jobs(&mut conn, access.project().id, statuses, page).await?)
    }

    /// One job with its pipeline.
    pub async fn job(&self, access: &ProjectAccess, id: JobId) -> CoreResult<(JobRow, PipelineRow)> {
        access.require(ProjectAction::ReadPipelines)?;
        let project = access.project();
        let mut conn = self.db.conn().await?;
        let job = self.project_job(&mut conn, project, id).await?;
        let pipeline = self.project_pipeline(&mut conn, project, job.pipeline_id).await?;
        Ok((job, pipeline))
    }

    /// A job's log from runner offset `from` on: the bytes and the offset to continue from.
    pub async fn job_trace(&self, access: &ProjectAccess, id: JobId, from: i64) -> CoreResult<(Vec<u8>, i64)> {
        let mut log = Vec::new();
        let mut next = from;
        loop {
            let pieces = self.job_trace_pieces(access, id, next).await?;
            let Some((last, _)) = pieces.last() else { break };
            next = last + 1;
            for (_, bytes) in pieces {
                log.extend_from_slice(&bytes);
            }
        }
        Ok((log, next))
    }

    /// Up to 256 stored pieces of a job's log from runner offset `from` on, as `(offset, bytes)`.
    pub async fn job_trace_pieces(
        &self,
        access: &ProjectAccess,
        id: JobId,
        from: i64,
    ) -> CoreResult<Vec<(i64, Vec<u8>)>> {
        access.require(ProjectAction::ReadPipelines)?;
        let mut conn = self.db.conn().await?;
        self.project_job(&mut conn, access.project(), id).await?;
        // Pieces first: a log being archived right now is still whole in one of the two places.
        let pieces = traces::read_trace(&mut conn, id, from, 256).await?;
        if !pieces.is_empty() {
            return Ok(pieces);
        }
        self.archived_trace_pieces(&mut conn, id, from, 256).await
    }

    /// Cancels a job that has not finished.
    pub async fn cancel_job(&self, actor: &Actor, project: &ProjectRow, id: JobId) -> CoreResult<JobRow> {
        let mut conn = self.db.conn().await?;
        authorize_project(&mut conn, actor, project, ProjectAction::RunPipelines).await?;
        let job = self.project_job(&mut conn, project, id).await?;
        self.authorize_pipeline_ref(&mut conn, actor, project, job.pipeline_id).await?;
        if !job.status.is_active() && job.status != CiStatus::Manual {
            return Err(CoreError::Conflict(format!("the job is {} and cannot be canceled", job.status)));
        }
        self.cancel_jobs(&mut conn, std::slice::from_ref(&job), actor.user().map(|u| u.id)).await?;
        drop(conn);
        self.process_pipeline(job.pipeline_id).await?;
        let mut conn = self.db.conn().await?;
        self.project_job(&mut conn, project, id).await
    }

    async fn cancel_jobs(
        &self,
        conn: &mut Conn,
        to_cancel: &[JobRow],
        user: Option<gantry_types::UserId>,
    ) -> CoreResult<()> {
        let mut bridges = Vec::new();
        for job in to_cancel {
            if jobs::transition(conn, job.id, CANCELABLE, CiStatus::Canceled).await? {
                jobs::set_job_user(conn, job.id, user.or(job.user_id)).await?;
                // Its log ends here: what masking held back (a possible start of a secret) goes.
                self.ci.maskers().remove(&job.id);
                gantry_db::ci::traces::take_trace_held(conn, job.id).await?;
                self.ci.job_changed(job.id);
                if job.bridge {
                    bridges.push(job.id);
                }
            }
        }
        self.cancel_downstream(&bridges).await
    }

    /// Cancels every unfinished job of a pipeline a canceled trigger job started (no
    /// authorisation: canceling the trigger job decided).
    pub(super) async fn cancel_unfinished(&self, pipeline: PipelineId) -> CoreResult<()> {
        let mut conn = self.db.conn().await?;
        let all = jobs::pipeline_jobs(&mut conn, pipeline).await?;
        let active: Vec<JobRow> =
            latest(&all).into_iter().filter(|j| CANCELABLE.contains(&j.status)).cloned().collect();
        self.cancel_jobs(&mut conn, &active, None).await?;
        drop(conn);
        self.process_pipeline(pipeline).await
    }

    /// Cancels every unfinished job of a pipeline.
    pub async fn cancel_pipeline(
        &self,
        actor: &Actor,
        project: &ProjectRow,
        id: PipelineId,
    ) -> CoreResult<PipelineRow> {
        let mut conn = self.db.conn().await?;
        authorize_project(&mut conn, actor, project, ProjectAction::RunPipelines).await?;
        self.authorize_pipeline_ref(&mut conn, actor, project, id).await?;
        let all = jobs::pipeline_jobs(&mut conn, id).await?;
        let active: Vec<JobRow> =
            latest(&all).into_iter().filter(|j| CANCELABLE.contains(&j.status)).cloned().collect();
        self.cancel_jobs(&mut conn, &active, actor.user().map(|u| u.id)).await?;
        drop(conn);
        self.process_pipeline(id).await?;
        let mut conn = self.db.conn().await?;
        self.project_pipeline(&mut conn, project, id).await
    }

    /// Cancels the interruptible jobs of older pipelines of the same branch (auto-cancel):
    /// a pipeline is canceled when all its unfinished jobs are interruptible or not started.
    pub(crate) async fn auto_cancel_older(
        &self,
        project: &ProjectRow,
        ref_name: &str,
        newer: PipelineId,
    ) -> CoreResult<()> {
        let mut conn = self.db.conn().await?;
        for old in pipelines::older_active_pipelines(&mut conn, project.id, ref_name, newer).await? {
            let all = jobs::pipeline_jobs(&mut conn, old).await?;
            let current = latest(&all);
            // GitLab's rule: once a non-interruptible job has started, the pipeline runs on.
            let protected = current.iter().any(|j| !j.interruptible && j.started_at.is_some());
            if protected {
                continue;
            }
            let to_cancel: Vec<JobRow> =
                current.into_iter().filter(|j| CANCELABLE.contains(&j.status)).cloned().collect();
            self.cancel_jobs(&mut conn, &to_cancel, None).await?;
            self.process_pipeline(old).await?;
            tracing::info!(pipeline = %old, %newer, "older pipeline auto-canceled");
        }
        Ok(())
    }

    /// Runs a finished job again (a new attempt; the old one stays in the history).
    pub async fn retry_job(&self, actor: &Actor, project: &ProjectRow, id: JobId) -> CoreResult<JobRow> {
        let mut conn = self.db.conn().await?;
        authorize_project(&mut conn, actor, project, ProjectAction::RunPipelines).await?;
        let job = self.project_job(&mut conn, project, id).await?;
        self.authorize_pipeline_ref(&mut conn, actor, project, job.pipeline_id).await?;
        if job.retried || !job.status.is_retryable() {
            return Err(CoreError::Conflict(format!("the job is {} and cannot be retried", job.status)));
        }
        drop(conn);
        let new = self.new_attempt(&job, actor.user().map(|u| u.id)).await?;
        self.reopen_later_jobs(job.pipeline_id).await?;
        self.process_pipeline(job.pipeline_id).await?;
        let mut conn = self.db.conn().await?;
        self.project_job(&mut conn, project, new).await
    }

    /// Retries every failed or canceled job of a pipeline.
    pub async fn retry_pipeline(&self, actor: &Actor, project: &ProjectRow, id: PipelineId) -> CoreResult<PipelineRow> {
        let mut conn = self.db.conn().await?;
        authorize_project(&mut conn, actor, project, ProjectAction::RunPipelines).await?;
        self.authorize_pipeline_ref(&mut conn, actor, project, id).await?;
        let all = jobs::pipeline_jobs(&mut conn, id).await?;
        drop(conn);
        let failed: Vec<JobRow> = latest(&all)
            .into_iter()
            .filter(|j| matches!(j.status, CiStatus::Failed | CiStatus::Canceled))
            .cloned()
            .collect();
        if failed.is_empty() {
            return Err(CoreError::Conflict("the pipeline has no failed or canceled jobs to retry".to_owned()));
        }
        for job in &failed {
            self.new_attempt(job, actor.user().map(|u| u.id)).await?;
        }
        self.reopen_later_jobs(id).await?;
        self.process_pipeline(id).await?;
        let mut conn = self.db.conn().await?;
        self.project_pipeline(&mut conn, project, id).await
    }

    /// Jobs skipped because of a failure get another chance once it is retried, and jobs
    /// skipped because they need a manual job once it is played.
    async fn reopen_later_jobs(&self, pipeline: PipelineId) -> CoreResult<()> {
        let mut tx = self.db.begin().await?;
        let all = jobs::pipeline_jobs(&mut tx, pipeline).await?;
        for job in latest(&all).into_iter().filter(|j| j.status == CiStatus::Skipped) {
            jobs::transition(&mut tx, job.id, &[CiStatus::Skipped], CiStatus::Created).await?;
        }
        tx.commit().await.map_err(gantry_db::DbError::from)?;
        Ok(())
    }

    /// Starts a manual job.
    pub async fn play_job(&self, actor: &Actor, project: &ProjectRow, id: JobId) -> CoreResult<JobRow> {
        let mut conn = self.db.conn().await?;
        authorize_project(&mut conn, actor, project, ProjectAction::RunPipelines).await?;
        let job = self.project_job(&mut conn, project, id).await?;
        self.authorize_pipeline_ref(&mut conn, actor, project, job.pipeline_id).await?;
        if job.status != CiStatus::Manual {
            return Err(CoreError::Conflict(format!(
                "the job is {}, not a manual job waiting to be played",
                job.status
            )));
        }
        jobs::set_job_user(&mut conn, id, actor.user().map(|u| u.id)).await?;
        drop(conn);
        if !self.make_pending(&job, &[CiStatus::Manual]).await? {
            return Err(CoreError::Conflict("the job changed meanwhile; reload and try again".to_owned()));
        }
        self.ci.job_changed(id);
        // Jobs that need it were skipped while it waited (GitLab's rule): they get their chance.
        self.reopen_later_jobs(job.pipeline_id).await?;
        self.process_pipeline(job.pipeline_id).await?;
        let mut conn = self.db.conn().await?;
        self.project_job(&mut conn, project, id).await
    }

    /// Deletes a finished pipeline with its jobs and logs (Owners).
    pub async fn delete_pipeline(&self, actor: &Actor, project: &ProjectRow, id: PipelineId) -> CoreResult<()> {
        let mut conn = self.db.conn().await?;
        authorize_project(&mut conn, actor, project, ProjectAction::DeletePipelines).await?;
        let pipeline = self.project_pipeline(&mut conn, project, id).await?;
        let all = jobs::pipeline_jobs(&mut conn, id).await?;
        if latest(&all).iter().any(|j| j.status == CiStatus::Running) {
            return Err(CoreError::Conflict("cancel the pipeline before deleting it: jobs are running".to_owned()));
        }
        pipelines::delete_pipeline(&mut conn, id).await?;
        drop(conn);
        let keep = format!("refs/pipelines/{id}");
        if let Err(error) = self.repos.update_ref(project.id, &keep, &pipeline.sha, gantry_git::ZERO_OID).await {
            tracing::warn!(error = %error, pipeline = %id, "cannot remove the pipeline's ref");
        }
        Ok(())
    }
}
