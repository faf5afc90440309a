//! The predefined CI/CD variables of a stored project, pipeline and job: the rows turned into
//! the plain facts `gantry_ci::predefined` builds them from (the same function `gantry ci lint`
//! and `gantry ci exec` use with what a local checkout knows).

use gantry_ci::predefined;
use gantry_git::refs::CommitSummary;
use gantry_types::PipelineId;

use super::PipelineRow;
use crate::{ProjectRow, UserRow};

/// What the pipeline's variables are made from.
pub(crate) struct PipelineContext<'a> {
    pub server_url: &'a str,
    pub project: &'a ProjectRow,
    /// Id and number of the pipeline, when it has been stored.
    pub pipeline: Option<(PipelineId, i64)>,
    pub ref_name: &'a str,
    pub is_tag: bool,
    pub protected: bool,
    pub sha: &'a str,
    pub before_sha: &'a str,
    pub source: &'a str,
    pub commit: Option<&'a CommitSummary>,
    pub user: Option<&'a UserRow>,
}

impl<'a> PipelineContext<'a> {
    /// The context of a stored pipeline of `project`.
    pub(crate) fn of_stored(
        server_url: &'a str,
        project: &'a ProjectRow,
        pipeline: &'a PipelineRow,
        protected: bool,
        commit: Option<&'a CommitSummary>,
        user: Option<&'a UserRow>,
    ) -> PipelineContext<'a> {
        PipelineContext {
            server_url,
            project,
            pipeline: Some((pipeline.id, pipeline.iid)),
            ref_name: &pipeline.ref_name,
            is_tag: pipeline.is_tag,
            protected,
            sha: &pipeline.sha,
            before_sha: &pipeline.before_sha,
            source: &pipeline.source,
            commit,
            user,
        }
    }
}

/// The pipeline-wide predefined variables, in GitLab's names.
pub(crate) fn pipeline_variables(context: &PipelineContext<'_>) -> Vec<(String, String)> {
    let project = context.project;
    predefined::for_pipeline(&predefined::Pipeline {
        server_url: Some(context.server_url),
        project: predefined::Project {
            id: Some(project.id.0),
            path: &project.path,
            name: &project.name,
            full_path: &project.full_path,
            visibility: Some(project.visibility.as_str()),
            description: &project.description,
            default_branch: &project.default_branch,
        },
        ids: context.pipeline.map(|(id, iid)| (id.0, iid)),
        ref_name: context.ref_name,
        is_tag: context.is_tag,
        protected: context.protected,
        sha: context.sha,
        before_sha: context.before_sha,
        source: context.source,
        commit: context.commit.map(|commit| predefined::Commit {
            message: &commit.message,
            title: &commit.title,
            author_name: &commit.author_name,
            author_email: &commit.author_email,
            committed_at: commit.committed_date,
        }),
        user: context.user.map(|user| predefined::User {
            id: user.id.0,
            username: &user.username,
            email: &user.email,
            name: &user.name,
        }),
    })
}

/// The job's own predefined variables.
pub(crate) fn job_variables(
    server_url: &str,
    project: &ProjectRow,
    pipeline: &PipelineRow,
    job: &super::JobRow,
    token: &str,
    node: Option<(u32, u32)>,
) -> Vec<(String, String)> {
    predefined::for_job(
        Some(server_url),
        &project.full_path,
        &predefined::Job {
            id: job.id.0,
            name: &job.name,
            stage: &job.stage,
            started_at: job.started_at.unwrap_or_else(crate::now_millis),
            token,
            runner_id: job.runner_id.map(|runner| runner.0),
            node,
            pipeline_id: pipeline.id.0,
            pipeline_iid: pipeline.iid,
            pipeline_created_at: pipeline.created_at,
        },
    )
}
