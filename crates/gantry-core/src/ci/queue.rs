//! The job queue runners take work from: a long poll (`POST /api/v4/jobs/request`) held open
//! until a pending job matches the runner (its scope, tags, "run untagged", concurrency limit,
//! the job's resource group) — answered the moment one is queued, never on a fixed interval.

use std::time::{Duration, Instant};

use gantry_ci::payload;
use gantry_ci::protocol::{self, JobPayload};
use gantry_db::ci::jobs::{self, QueuedJob};
use gantry_db::ci::pipelines;
use gantry_db::ci::runners::{self, RunnerContact};
use gantry_db::manage::projects;
use gantry_types::{CiStatus, JobId, RunnerType};

use super::create::StoredJob;
use super::predefined::{PipelineContext, job_variables, pipeline_variables};
use super::{JOB_TOKEN_PREFIX, RunnerRow};
use crate::secret::{digest, random_hex};
use crate::{CoreError, CoreResult};

/// Other replicas queue jobs without waking this one: look again this often regardless.
const RECHECK: Duration = Duration::from_secs(5);
/// How many pending jobs one look at the queue reads at a time, and how many such pages.
const QUEUE_PAGE: i64 = 200;
const QUEUE_PAGES: usize = 10;

/// Whether a runner may take a job, by tags.
fn tags_match(runner: &RunnerRow, job: &QueuedJob) -> bool {
    if job.tags.is_empty() {
        return runner.run_untagged;
    }
    job.tags.iter().all(|t| runner.tags.contains(t))
}

/// Claims the first of `candidates` this runner may run; returns it with its new job token.
async fn claim_first(
    conn: &mut gantry_db::Conn,
    runner: &RunnerRow,
    candidates: Vec<QueuedJob>,
    group_projects: Option<&[gantry_types::ProjectId]>,
) -> CoreResult<Option<(QueuedJob, String)>> {
    for job in candidates {
        let allowed_project = match runner.runner_type {
            RunnerType::Instance => true,
            RunnerType::Project => runner.project_id == Some(job.project_id),
            RunnerType::Group => group_projects.is_some_and(|ids| ids.contains(&job.project_id)),
        };
        if !allowed_project || !tags_match(runner, &job) {
            continue;
        }
        if let Some(group) = &job.resource_group
            && jobs::resource_group_busy(conn, job.project_id, group).await?
        {
            continue;
        }
        let token = format!("{JOB_TOKEN_PREFIX}{}", random_hex(24));
        if jobs::claim_job(conn, job.id, runner.id, &digest(&token)).await? {
            return Ok(Some((job, token)));
        }
    }
    Ok(None)
}

impl super::Ci<'_> {
    /// A runner asks for a job: waits up to `wait` for one it may run, and hands it over.
    pub async fn request_job(
        &self,
        token: &str,
        info: &protocol::RunnerInfo,
        ip_address: &str,
        wait: Duration,
    ) -> CoreResult<Option<JobPayload>> {
        let runner = self.authenticate_runner(token).await?;
        let mut conn = self.db.conn().await?;
        runners::touch_runner(
            &mut conn,
            runner.id,
            &RunnerContact {
                version: &info.version,
                executor: &info.executor,
                platform: &info.platform,
                architecture: &info.architecture,
                ip_address,
            },
        )
        .await?;
        drop(conn);
        let deadline = Instant::now() + wait;
        loop {
            // Register for the wake-up before looking, so a job queued in between is not missed.
            let notified = self.ci.queue.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            let runner = self.authenticate_runner(token).await?;
            if !runner.paused
                && let Some(payload) = self.try_claim(&runner).await?
            {
                return Ok(Some(payload));
            }
            let now = Instant::now();
            if now >= deadline || self.ci.is_stopping() {
                return Ok(None);
            }
            let _ = tokio::time::timeout((deadline - now).min(RECHECK), notified).await;
        }
    }

    /// Takes the oldest pending job this runner may run, if any.
    async fn try_claim(&self, runner: &RunnerRow) -> CoreResult<Option<JobPayload>> {
        let mut conn = self.db.conn().await?;
        if runner.max_concurrent > 0 && jobs::running_count(&mut conn, runner.id).await? >= runner.max_concurrent {
            return Ok(None);
        }
        let group_projects: Option<Vec<gantry_types::ProjectId>> = match runner.group_id {
            Some(group) if runner.runner_type == RunnerType::Group => {
                Some(projects::project_ids_in_subtree(&mut conn, group).await?)
            }
            _ => None,
        };
        // A project runner looks at its project's jobs only; others page through the queue
        // (a long queue of jobs for other runners must not hide the ones for this one).
        let only = if runner.runner_type == RunnerType::Project { runner.project_id } else { None };
        let mut after = None;
        for _ in 0..QUEUE_PAGES {
            let candidates = jobs::pending_jobs(&mut conn, only, after, QUEUE_PAGE).await?;
            let Some(last) = candidates.last() else { return Ok(None) };
            after = Some(last.id);
            let full_page = i64::try_from(candidates.len()).unwrap_or(0) == QUEUE_PAGE;
            if let Some((job, token)) = claim_first(&mut conn, runner, candidates, group_projects.as_deref()).await? {
                // The connection goes back before describing the job, which takes others.
                drop(conn);
                return self.hand_over(job, &token).await;
            }
            if !full_page {
                break;
            }
        }
        Ok(None)
    }

    /// Describes a claimed job for its runner; a job that cannot be described fails.
    async fn hand_over(&self, job: QueuedJob, token: &str) -> CoreResult<Option<JobPayload>> {
        self.ci.job_changed(job.id);
        match self.job_payload(job.id, token).await {
            Ok(payload) => {
                let _ = self.process_pipeline(job.pipeline_id).await;
                Ok(Some(payload))
            }
            Err(error) => {
                // Its project vanished or its definition is unreadable: fail it rather than
                // hand a runner half a job.
                tracing::error!(job = %job.id, error = %error, "cannot prepare a job for its runner");
                let mut conn = self.db.conn().await?;
                jobs::finish_job(&mut conn, job.id, CiStatus::Failed, Some("data_integrity_failure"), None).await?;
                drop(conn);
                self.process_pipeline(job.pipeline_id).await?;
                Ok(None)
            }
        }
    }

    /// Everything the runner needs to run a claimed job.
    async fn job_payload(&self, job_id: JobId, token: &str) -> CoreResult<JobPayload> {
        let mut conn = self.db.conn().await?;
        let job = jobs::get_job(&mut conn, job_id).await?.ok_or(CoreError::NotFound("job"))?;
        let pipeline =
            pipelines::get_pipeline(&mut conn, job.pipeline_id).await?.ok_or(CoreError::NotFound("pipeline"))?;
        let project =
            projects::find_project_by_id(&mut conn, job.project_id).await?.ok_or(CoreError::NotFound("project"))?;
        let settings = pipelines::ci_settings(&mut conn, project.id).await?;
        let definition = jobs::job_definition(&mut conn, job_id).await?.ok_or(CoreError::NotFound("job"))?;
        let stored: StoredJob =
            serde_json::from_str(&definition).map_err(|error| CoreError::Internal(Box::new(error)))?;
        let user = match pipeline.user_id {
            Some(id) => gantry_db::manage::users::find_user_by_id(&mut conn, id).await?,
            None => None,
        };
        let protected = super::ref_is_protected(&mut conn, project.id, &pipeline.ref_name, pipeline.is_tag).await?;
        let dependencies = super::jobs::dependency_jobs(&mut conn, &job, &stored).await?;
        let dependency_ids: Vec<JobId> = dependencies.iter().map(|dependency| JobId(dependency.id)).collect();
        let dotenv = self.dotenv_variables(&mut conn, job.pipeline_id, &dependency_ids).await?;
        let cache = self.cache_specs(&mut conn, &job, &pipeline.sha, protected, &stored.definition.cache).await?;
        drop(conn);
        let server_url = self.ci.settings.external_url.trim_end_matches('/').to_owned();
        let (repos, sha, project_id) = (self.repos.clone(), pipeline.sha.clone(), project.id);
        let commit =
            tokio::task::spawn_blocking(move || repos.reader(project_id).ok()?.commit(&sha).ok()).await.ok().flatten();
        let pipeline_predefined = pipeline_variables(&PipelineContext::of_stored(
            &server_url,
            &project,
            &pipeline,
            protected,
            commit.as_ref(),
            user.as_ref(),
        ));
        let job_predefined = job_variables(&server_url, &project, &pipeline, &job, token, stored.definition.node);
        let pipeline_own = super::bridges::pipeline_own_variables(&pipeline.variables);
        let mut layers = payload::Layers {
            pipeline_predefined: &pipeline_predefined,
            job_predefined: &job_predefined,
            file: &stored.variables,
            dotenv: &dotenv,
            ci_cd: &[],
            pipeline: &pipeline_own,
        };
        // CI/CD variables may be limited to the job's environment, whose name they cannot shape.
        let environment =
            stored.definition.environment.as_ref().and_then(|e| payload::job_environment(&layers, &e.name));
        let ci_cd: Vec<payload::CiCdVariable> = self
            .variables_for_job(&project, protected, environment.as_deref())
            .await?
            .into_iter()
            .map(Into::into)
            .collect();
        layers.ci_cd = &ci_cd;
        let payload::JobVariables { mut variables, secrets: masked } = payload::job_variables(&layers);
        let timeout = stored.definition.timeout.unwrap_or(u64::try_from(settings.timeout).unwrap_or(3600));
        let id_tokens = self
            .id_token_variables(&super::id_tokens::TokenJob {
                project: &project,
                pipeline: &pipeline,
                job: &job,
                definition: &stored.definition,
                protected,
                environment: environment.as_deref(),
                timeout,
                config_path: &settings.config_path,
                variables: &variables,
            })
            .await?;
        let id_token_values = id_tokens.iter().map(|v| v.value.clone());
        let secrets: Vec<String> = std::iter::once(token.to_owned()).chain(masked).chain(id_token_values).collect();
        // The job token, masked variables and ID tokens are secrets in every log, whatever the
        // job prints.
        self.ci.maskers().insert(job_id, gantry_ci::mask::Masker::new(secrets));
        // ID tokens come first, below every other variable, as in GitLab.
        variables.splice(0..0, id_tokens);
        let definition = stored.definition;
        let depth = variables
            .iter()
            .rev()
            .find(|v| v.key == "GIT_DEPTH")
            .and_then(|v| v.value.parse::<u32>().ok())
            .unwrap_or(20);
        let (scheme, rest) = server_url.split_once("://").unwrap_or(("http", &server_url));
        let steps = payload::job_steps(&definition, timeout);
        Ok(JobPayload {
            id: job.id.0,
            token: token.to_owned(),
            job_info: protocol::JobInfo {
                id: job.id.0,
                name: job.name.clone(),
                stage: job.stage.clone(),
                project_id: project.id.0,
                project_name: project.full_path.clone(),
            },
            git_info: protocol::GitInfo {
                repo_url: format!("{scheme}://gitlab-ci-token:{token}@{rest}/{}.git", project.full_path),
                ref_name: pipeline.ref_name.clone(),
                sha: pipeline.sha.clone(),
                before_sha: pipeline.before_sha.clone(),
                ref_type: if pipeline.is_tag { "tag" } else { "branch" }.to_owned(),
                refspecs: vec![format!("+refs/pipelines/{id}:refs/pipelines/{id}", id = pipeline.id)],
                depth,
            },
            runner_info: protocol::JobRunnerInfo { timeout },
            variables,
            steps,
            image: definition.image.clone(),
            services: definition.services.clone(),
            artifacts: payload::artifact_specs(&definition),
            cache,
            dependencies,
        })
    }
}
