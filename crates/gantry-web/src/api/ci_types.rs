//! Wire types of the CI API (pipelines and jobs, shaped like GitLab's) and the small parsers
//! its handlers share.

use gantry_core::ci::{ArtifactRow, JobRow, PipelineRow};
use gantry_core::{CoreError, ProjectRow};
use gantry_types::{CiStatus, JobId, PipelineId, RunnerId, When};
use serde::Serialize;

use super::ApiResult;
use crate::WebConfig;
use crate::error::AppError;
use crate::time_format::iso8601;

/// An id from the path: one that is not a number names nothing (404, as GitLab answers).
pub(crate) fn id_param<T: std::str::FromStr>(value: &str, what: &'static str) -> ApiResult<T> {
    value.parse::<T>().map_err(|_| CoreError::NotFound(what).into())
}

/// The user who started something, as GitLab embeds it.
#[derive(Debug, Serialize)]
pub struct UserBasic {
    pub id: i64,
    pub username: String,
    pub name: String,
    pub state: &'static str,
    pub avatar_url: Option<String>,
    pub web_url: String,
}

pub(crate) fn user_basic(
    id: Option<gantry_types::UserId>,
    username: Option<&str>,
    config: &WebConfig,
) -> Option<UserBasic> {
    let (id, username) = (id?, username?);
    Some(UserBasic {
        id: id.0,
        username: username.to_owned(),
        name: username.to_owned(),
        state: "active",
        avatar_url: None,
        web_url: format!("{}/{username}", config.external_url),
    })
}

/// A pipeline as lists show it.
#[derive(Debug, Serialize)]
pub struct PipelineBasic {
    pub id: PipelineId,
    pub iid: i64,
    pub project_id: i64,
    pub sha: String,
    #[serde(rename = "ref")]
    pub ref_name: String,
    pub status: CiStatus,
    pub source: String,
    pub name: Option<String>,
    pub created_at: String,
    pub updated_at: String,
    pub web_url: String,
}

impl PipelineBasic {
    pub fn new(pipeline: &PipelineRow, project: &ProjectRow, config: &WebConfig) -> PipelineBasic {
        PipelineBasic {
            id: pipeline.id,
            iid: pipeline.iid,
            project_id: project.id.0,
            sha: pipeline.sha.clone(),
            ref_name: pipeline.ref_name.clone(),
            status: pipeline.status,
            source: pipeline.source.clone(),
            name: pipeline.name.clone(),
            created_at: iso8601(pipeline.created_at),
            updated_at: iso8601(pipeline.updated_at),
            web_url: format!("{}/{}/-/pipelines/{}", config.external_url, project.full_path, pipeline.id),
        }
    }
}

/// GitLab's `detailed_status` (what the status icon shows).
#[derive(Debug, Serialize)]
pub struct DetailedStatus {
    pub icon: String,
    pub text: String,
    pub label: String,
    pub group: String,
    pub has_details: bool,
    pub details_path: String,
}

fn detailed_status(status: CiStatus, details_path: String) -> DetailedStatus {
    DetailedStatus {
        icon: format!("status_{status}"),
        text: status.to_string(),
        label: match status {
            CiStatus::Manual => "manual action",
            CiStatus::WaitingForResource => "waiting_for_resource",
            other => other.label(),
        }
        .to_owned(),
        group: status.to_string(),
        has_details: true,
        details_path,
    }
}

fn seconds_between(from: Option<i64>, to: Option<i64>) -> Option<f64> {
    Some(((to? - from?).max(0)) as f64 / 1000.0)
}

/// A pipeline with its details.
#[derive(Debug, Serialize)]
pub struct Pipeline {
    #[serde(flatten)]
    pub basic: PipelineBasic,
    pub before_sha: String,
    pub tag: bool,
    pub yaml_errors: Option<String>,
    pub user: Option<UserBasic>,
    pub started_at: Option<String>,
    pub finished_at: Option<String>,
    pub committed_at: Option<String>,
    pub duration: Option<i64>,
    pub queued_duration: Option<f64>,
    pub coverage: Option<String>,
    pub detailed_status: DetailedStatus,
}

impl Pipeline {
    pub fn new(pipeline: &PipelineRow, jobs: &[JobRow], project: &ProjectRow, config: &WebConfig) -> Pipeline {
        let latest: Vec<&JobRow> = jobs.iter().filter(|j| !j.retried).collect();
        let coverages: Vec<f64> = latest.iter().filter_map(|j| j.coverage).collect();
        let coverage =
            (!coverages.is_empty()).then(|| format!("{:.2}", coverages.iter().sum::<f64>() / coverages.len() as f64));
        let basic = PipelineBasic::new(pipeline, project, config);
        let details_path = format!("/{}/-/pipelines/{}", project.full_path, pipeline.id);
        Pipeline {
            before_sha: pipeline.before_sha.clone(),
            tag: pipeline.is_tag,
            yaml_errors: pipeline.yaml_errors.clone(),
            user: user_basic(pipeline.user_id, pipeline.username.as_deref(), config),
            started_at: pipeline.started_at.map(iso8601),
            finished_at: pipeline.finished_at.map(iso8601),
            committed_at: None,
            duration: seconds_between(pipeline.started_at, pipeline.finished_at).map(|s| s as i64),
            queued_duration: seconds_between(Some(pipeline.created_at), pipeline.started_at),
            coverage,
            detailed_status: detailed_status(pipeline.status, details_path),
            basic,
        }
    }
}

/// The pipeline a job belongs to, as jobs embed it.
#[derive(Debug, Serialize)]
pub struct JobPipeline {
    pub id: PipelineId,
    pub iid: i64,
    pub project_id: i64,
    #[serde(rename = "ref")]
    pub ref_name: String,
    pub sha: String,
    pub status: CiStatus,
    pub source: String,
    pub created_at: String,
    pub updated_at: String,
    pub web_url: String,
}

#[derive(Debug, Serialize)]
pub struct JobCommit {
    pub id: String,
    pub short_id: String,
}

#[derive(Debug, Serialize)]
pub struct JobRunner {
    pub id: RunnerId,
}

/// A job.
#[derive(Debug, Serialize)]
pub struct Job {
    pub id: JobId,
    pub name: String,
    pub stage: String,
    pub status: CiStatus,
    #[serde(rename = "ref")]
    pub ref_name: String,
    pub tag: bool,
    pub coverage: Option<f64>,
    pub allow_failure: bool,
    pub created_at: String,
    pub started_at: Option<String>,
    pub finished_at: Option<String>,
    pub erased_at: Option<String>,
    pub duration: Option<f64>,
    pub queued_duration: Option<f64>,
    pub user: Option<UserBasic>,
    pub commit: JobCommit,
    pub pipeline: JobPipeline,
    pub web_url: String,
    pub artifacts_file: Option<ArtifactsFile>,
    pub artifacts: Vec<JobArtifact>,
    pub artifacts_expire_at: Option<String>,
    pub runner: Option<JobRunner>,
    pub tag_list: Vec<String>,
    pub failure_reason: Option<String>,
    pub retried: bool,
    pub when: When,
    pub attempt: i64,
}

impl Job {
    pub fn new(job: &JobRow, pipeline: &PipelineRow, project: &ProjectRow, config: &WebConfig) -> Job {
        Job {
            id: job.id,
            name: job.name.clone(),
            stage: job.stage.clone(),
            status: job.status,
            ref_name: pipeline.ref_name.clone(),
            tag: pipeline.is_tag,
            coverage: job.coverage,
            allow_failure: job.allow_failure != "\"no\"",
            created_at: iso8601(job.created_at),
            started_at: job.started_at.map(iso8601),
            finished_at: job.finished_at.map(iso8601),
            erased_at: None,
            duration: seconds_between(
                job.started_at,
                job.finished_at.or(job.started_at.map(|_| gantry_core::now_millis())),
            ),
            queued_duration: seconds_between(job.queued_at, job.started_at),
            user: None,
            commit: JobCommit { id: pipeline.sha.clone(), short_id: pipeline.sha.chars().take(8).collect() },
            pipeline: JobPipeline {
                id: pipeline.id,
                iid: pipeline.iid,
                project_id: project.id.0,
                ref_name: pipeline.ref_name.clone(),
                sha: pipeline.sha.clone(),
                status: pipeline.status,
                source: pipeline.source.clone(),
                created_at: iso8601(pipeline.created_at),
                updated_at: iso8601(pipeline.updated_at),
                web_url: format!("{}/{}/-/pipelines/{}", config.external_url, project.full_path, pipeline.id),
            },
            web_url: format!("{}/{}/-/jobs/{}", config.external_url, project.full_path, job.id),
            artifacts_file: None,
            artifacts: Vec::new(),
            artifacts_expire_at: None,
            runner: job.runner_id.map(|id| JobRunner { id }),
            tag_list: job.tags.clone(),
            failure_reason: job.failure_reason.clone(),
            retried: job.retried,
            when: job.run_when,
            attempt: job.attempt,
        }
    }
}

/// The job's archive, as GitLab names it.
#[derive(Debug, Serialize)]
pub struct ArtifactsFile {
    pub filename: String,
    pub size: i64,
}

/// A trigger job with the pipeline it started (GitLab's bridge).
#[derive(Debug, Serialize)]
pub struct Bridge {
    #[serde(flatten)]
    pub job: Job,
    pub downstream_pipeline: Option<PipelineBasic>,
}

/// One of a job's artifacts (the archive or a report).
#[derive(Debug, Serialize)]
pub struct JobArtifact {
    pub file_type: String,
    pub size: i64,
    pub filename: String,
    pub file_format: String,
}

impl Job {
    /// Adds the job's artifacts (rows of any jobs; the job's own are picked).
    pub fn with_artifacts(mut self, rows: &[ArtifactRow]) -> Job {
        for row in rows.iter().filter(|row| row.job_id == self.id) {
            if row.file_type == "archive" {
                self.artifacts_file = Some(ArtifactsFile { filename: row.file_name.clone(), size: row.size });
                self.artifacts_expire_at = row.expire_at.map(iso8601);
            }
            self.artifacts.push(JobArtifact {
                file_type: row.file_type.clone(),
                size: row.size,
                filename: row.file_name.clone(),
                file_format: row.file_format.clone(),
            });
        }
        self
    }
}

/// Reads repeated filter parameters (`scope[]=failed&scope[]=success`, or `scope=failed`).
pub(crate) fn statuses_from_query(query: Option<&str>, names: &[&str]) -> ApiResult<Vec<CiStatus>> {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(query.unwrap_or("")).unwrap_or_default();
    let mut statuses = Vec::new();
    for (key, value) in pairs {
        if names.contains(&key.as_str()) && !value.is_empty() {
            statuses.push(status_param(&value, "job")?);
        }
    }
    Ok(statuses)
}

/// A status filter's value; `what` names what it filters in the error.
pub(crate) fn status_param(value: &str, what: &str) -> ApiResult<CiStatus> {
    CiStatus::parse(value).ok_or_else(|| AppError::BadRequest(format!("'{value}' is not a {what} status")).into())
}
