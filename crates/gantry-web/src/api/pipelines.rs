//! `/projects/:id/pipelines`, `/projects/:id/pipeline`, `/projects/:id/jobs` and
//! `/projects/:id/ci/lint`, shaped like GitLab's (python-gitlab reads them).

use std::collections::HashMap;

use axum::Json;
use axum::extract::{OriginalUri, Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use gantry_core::ci::{JobRow, PipelineFilter, PipelineRow};
use gantry_core::{Actor, CoreError, ProjectRow};
use serde::{Deserialize, Serialize};

use super::projects::lookup_project;
use super::{ApiInput, ApiResult, PageParams, paginated};
use crate::auth::ApiActor;
use crate::error::AppError;
use crate::time_format::iso8601;
use crate::{AppState, WebConfig};

/// The statuses a pipeline or job filter accepts.
const STATUSES: &[&str] = &[
    "created",
    "waiting_for_resource",
    "preparing",
    "pending",
    "running",
    "success",
    "failed",
    "canceled",
    "skipped",
    "manual",
    "scheduled",
];

fn id_param(value: &str, what: &'static str) -> ApiResult<i64> {
    value.parse::<i64>().map_err(|_| CoreError::NotFound(what).into())
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

fn user_basic(id: Option<gantry_types::UserId>, username: Option<&str>, config: &WebConfig) -> Option<UserBasic> {
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
    pub id: i64,
    pub iid: i64,
    pub project_id: i64,
    pub sha: String,
    #[serde(rename = "ref")]
    pub ref_name: String,
    pub status: String,
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
            status: pipeline.status.clone(),
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

fn detailed_status(status: &str, details_path: String) -> DetailedStatus {
    DetailedStatus {
        icon: format!("status_{status}"),
        text: status.to_owned(),
        label: match status {
            "success" => "passed",
            "failed" => "failed",
            "manual" => "manual action",
            "scheduled" => "delayed",
            other => other,
        }
        .to_owned(),
        group: status.to_owned(),
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
            detailed_status: detailed_status(&pipeline.status, details_path),
            basic,
        }
    }
}

/// The pipeline a job belongs to, as jobs embed it.
#[derive(Debug, Serialize)]
pub struct JobPipeline {
    pub id: i64,
    pub iid: i64,
    pub project_id: i64,
    #[serde(rename = "ref")]
    pub ref_name: String,
    pub sha: String,
    pub status: String,
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
    pub id: i64,
}

/// A job.
#[derive(Debug, Serialize)]
pub struct Job {
    pub id: i64,
    pub name: String,
    pub stage: String,
    pub status: String,
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
    pub artifacts: Vec<serde_json::Value>,
    pub artifacts_expire_at: Option<String>,
    pub runner: Option<JobRunner>,
    pub tag_list: Vec<String>,
    pub failure_reason: Option<String>,
    pub retried: bool,
    pub when: String,
    pub attempt: i64,
}

impl Job {
    pub fn new(job: &JobRow, pipeline: &PipelineRow, project: &ProjectRow, config: &WebConfig) -> Job {
        Job {
            id: job.id,
            name: job.name.clone(),
            stage: job.stage.clone(),
            status: job.status.clone(),
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
                status: pipeline.status.clone(),
                source: pipeline.source.clone(),
                created_at: iso8601(pipeline.created_at),
                updated_at: iso8601(pipeline.updated_at),
                web_url: format!("{}/{}/-/pipelines/{}", config.external_url, project.full_path, pipeline.id),
            },
            web_url: format!("{}/{}/-/jobs/{}", config.external_url, project.full_path, job.id),
            artifacts: Vec::new(),
            artifacts_expire_at: None,
            runner: job.runner_id.map(|id| JobRunner { id }),
            tag_list: job.tags.clone(),
            failure_reason: job.failure_reason.clone(),
            retried: job.retried,
            when: job.run_when.clone(),
            attempt: job.attempt,
        }
    }
}

/// Reads repeated filter parameters (`scope[]=failed&scope[]=success`, or `scope=failed`).
fn statuses_from_query(query: Option<&str>, names: &[&str]) -> ApiResult<Vec<String>> {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(query.unwrap_or("")).unwrap_or_default();
    let mut statuses = Vec::new();
    for (key, value) in pairs {
        if names.contains(&key.as_str()) && !value.is_empty() {
            if !STATUSES.contains(&value.as_str()) {
                return Err(AppError::BadRequest(format!("'{value}' is not a job status")).into());
            }
            statuses.push(value);
        }
    }
    Ok(statuses)
}

#[derive(Debug, Deserialize)]
pub struct PipelineListQuery {
    status: Option<String>,
    scope: Option<String>,
    #[serde(rename = "ref")]
    ref_name: Option<String>,
    sha: Option<String>,
    source: Option<String>,
    username: Option<String>,
    #[serde(flatten)]
    page: PageParams,
}

/// `GET /projects/:id/pipelines`
pub async fn list_pipelines(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
    OriginalUri(uri): OriginalUri,
    Query(query): Query<PipelineListQuery>,
) -> ApiResult<Response> {
    let project = lookup_project(&state, &actor, &id).await?;
    let status = query.status.as_deref().filter(|s| !s.is_empty());
    if let Some(status) = status
        && !STATUSES.contains(&status)
    {
        return Err(AppError::BadRequest(format!("'{status}' is not a pipeline status")).into());
    }
    // GitLab's scopes: running, pending, finished, branches, tags. The ones that map to a
    // status filter are honoured; the rest list everything.
    let status = status.or(match query.scope.as_deref() {
        Some("running") => Some("running"),
        Some("pending") => Some("pending"),
        _ => None,
    });
    let filter = PipelineFilter {
        status,
        ref_name: query.ref_name.as_deref().filter(|s| !s.is_empty()),
        sha: query.sha.as_deref().filter(|s| !s.is_empty()),
        source: query.source.as_deref().filter(|s| !s.is_empty()),
        username: query.username.as_deref().filter(|s| !s.is_empty()),
    };
    let request = query.page.resolve()?;
    let (pipelines, total) = state.core.list_pipelines(&actor, &project, &filter, request.db()).await?;
    let items: Vec<PipelineBasic> = pipelines.iter().map(|p| PipelineBasic::new(p, &project, &state.config)).collect();
    Ok(paginated(&state.config.external_url, &uri, items, total, request))
}

#[derive(Debug, Deserialize)]
pub struct VariableInput {
    key: String,
    #[serde(default)]
    value: String,
    #[serde(default)]
    variable_type: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct CreatePipelineInput {
    #[serde(rename = "ref")]
    ref_name: Option<String>,
    #[serde(default)]
    variables: Vec<VariableInput>,
}

/// The variables given to a new pipeline, checked.
pub(crate) fn pipeline_variables(variables: Vec<VariableInput>) -> ApiResult<Vec<(String, String)>> {
    let mut out = Vec::new();
    for variable in variables {
        if variable.variable_type.as_deref().is_some_and(|t| t != "env_var") {
            return Err(AppError::BadRequest("only env_var variables can be given to a pipeline".to_owned()).into());
        }
        out.push((variable.key, variable.value));
    }
    Ok(out)
}

/// `POST /projects/:id/pipeline` (`ref`, `variables`)
pub async fn create_pipeline(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
    ApiInput(input): ApiInput<CreatePipelineInput>,
) -> ApiResult<Response> {
    let project = lookup_project(&state, &actor, &id).await?;
    let ref_name =
        input.ref_name.filter(|r| !r.is_empty()).ok_or_else(|| AppError::BadRequest("ref is missing".to_owned()))?;
    let variables = pipeline_variables(input.variables)?;
    let pipeline = state.core.run_pipeline(&actor, &project, &ref_name, variables, "api").await?;
    let (pipeline, jobs) = state.core.pipeline(&actor, &project, pipeline.id).await?;
    Ok((StatusCode::CREATED, Json(Pipeline::new(&pipeline, &jobs, &project, &state.config))).into_response())
}

/// `GET /projects/:id/pipelines/:pipeline_id`
pub async fn get_pipeline(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path((id, pipeline_id)): Path<(String, String)>,
) -> ApiResult<Json<Pipeline>> {
    let project = lookup_project(&state, &actor, &id).await?;
    let (pipeline, jobs) = state.core.pipeline(&actor, &project, id_param(&pipeline_id, "pipeline")?).await?;
    Ok(Json(Pipeline::new(&pipeline, &jobs, &project, &state.config)))
}

/// `DELETE /projects/:id/pipelines/:pipeline_id`
pub async fn delete_pipeline(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path((id, pipeline_id)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    let project = lookup_project(&state, &actor, &id).await?;
    state.core.delete_pipeline(&actor, &project, id_param(&pipeline_id, "pipeline")?).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn pipeline_json(state: &AppState, actor: &Actor, project: &ProjectRow, id: i64) -> ApiResult<Response> {
    let (pipeline, jobs) = state.core.pipeline(actor, project, id).await?;
    Ok((StatusCode::CREATED, Json(Pipeline::new(&pipeline, &jobs, project, &state.config))).into_response())
}

/// `POST /projects/:id/pipelines/:pipeline_id/retry`
pub async fn retry_pipeline(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path((id, pipeline_id)): Path<(String, String)>,
) -> ApiResult<Response> {
    let project = lookup_project(&state, &actor, &id).await?;
    let pipeline = state.core.retry_pipeline(&actor, &project, id_param(&pipeline_id, "pipeline")?).await?;
    pipeline_json(&state, &actor, &project, pipeline.id).await
}

/// `POST /projects/:id/pipelines/:pipeline_id/cancel`
pub async fn cancel_pipeline(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path((id, pipeline_id)): Path<(String, String)>,
) -> ApiResult<Response> {
    let project = lookup_project(&state, &actor, &id).await?;
    let pipeline = state.core.cancel_pipeline(&actor, &project, id_param(&pipeline_id, "pipeline")?).await?;
    pipeline_json(&state, &actor, &project, pipeline.id).await
}

/// `GET /projects/:id/pipelines/:pipeline_id/variables`
pub async fn pipeline_variables_of(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path((id, pipeline_id)): Path<(String, String)>,
) -> ApiResult<Json<Vec<serde_json::Value>>> {
    let project = lookup_project(&state, &actor, &id).await?;
    let (pipeline, _) = state.core.pipeline(&actor, &project, id_param(&pipeline_id, "pipeline")?).await?;
    Ok(Json(serde_json::from_str(&pipeline.variables).unwrap_or_default()))
}

#[derive(Debug, Deserialize)]
pub struct PipelineJobsQuery {
    include_retried: Option<String>,
}

/// `GET /projects/:id/pipelines/:pipeline_id/jobs` (`scope[]`, `include_retried`)
pub async fn pipeline_jobs(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path((id, pipeline_id)): Path<(String, String)>,
    OriginalUri(uri): OriginalUri,
    Query(query): Query<PipelineJobsQuery>,
) -> ApiResult<Json<Vec<Job>>> {
    let project = lookup_project(&state, &actor, &id).await?;
    let statuses = statuses_from_query(uri.query(), &["scope", "scope[]"])?;
    let include_retried = super::flag(query.include_retried.as_deref())?.unwrap_or(false);
    let (pipeline, jobs) = state.core.pipeline(&actor, &project, id_param(&pipeline_id, "pipeline")?).await?;
    Ok(Json(
        jobs.iter()
            .filter(|j| include_retried || !j.retried)
            .filter(|j| statuses.is_empty() || statuses.contains(&j.status))
            .map(|j| Job::new(j, &pipeline, &project, &state.config))
            .collect(),
    ))
}

#[derive(Debug, Deserialize)]
pub struct JobsQuery {
    #[serde(flatten)]
    page: PageParams,
}

/// `GET /projects/:id/jobs` (`scope[]`)
pub async fn list_jobs(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
    OriginalUri(uri): OriginalUri,
    Query(query): Query<JobsQuery>,
) -> ApiResult<Response> {
    let project = lookup_project(&state, &actor, &id).await?;
    let statuses = statuses_from_query(uri.query(), &["scope", "scope[]"])?;
    let borrowed: Vec<&str> = statuses.iter().map(String::as_str).collect();
    let request = query.page.resolve()?;
    let (jobs, total) = state.core.list_jobs(&actor, &project, &borrowed, request.db()).await?;
    let mut pipelines: HashMap<i64, PipelineRow> = HashMap::new();
    let mut items = Vec::with_capacity(jobs.len());
    for job in &jobs {
        if let std::collections::hash_map::Entry::Vacant(slot) = pipelines.entry(job.pipeline_id) {
            slot.insert(state.core.pipeline(&actor, &project, job.pipeline_id).await?.0);
        }
        items.push(Job::new(job, &pipelines[&job.pipeline_id], &project, &state.config));
    }
    Ok(paginated(&state.config.external_url, &uri, items, total, request))
}

/// `GET /projects/:id/jobs/:job_id`
pub async fn get_job(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path((id, job_id)): Path<(String, String)>,
) -> ApiResult<Json<Job>> {
    let project = lookup_project(&state, &actor, &id).await?;
    let (job, pipeline) = state.core.job(&actor, &project, id_param(&job_id, "job")?).await?;
    Ok(Json(Job::new(&job, &pipeline, &project, &state.config)))
}

/// `GET /projects/:id/jobs/:job_id/trace`: the log as plain text.
pub async fn job_trace(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path((id, job_id)): Path<(String, String)>,
) -> ApiResult<Response> {
    let project = lookup_project(&state, &actor, &id).await?;
    let body = crate::ui::pipelines::log_body(&state.core, &actor, &project, id_param(&job_id, "job")?).await?;
    Ok(([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], body).into_response())
}

async fn job_json(state: &AppState, actor: &Actor, project: &ProjectRow, job: &JobRow) -> ApiResult<Response> {
    let (job, pipeline) = state.core.job(actor, project, job.id).await?;
    Ok((StatusCode::CREATED, Json(Job::new(&job, &pipeline, project, &state.config))).into_response())
}

/// `POST /projects/:id/jobs/:job_id/retry`
pub async fn retry_job(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path((id, job_id)): Path<(String, String)>,
) -> ApiResult<Response> {
    let project = lookup_project(&state, &actor, &id).await?;
    let job = state.core.retry_job(&actor, &project, id_param(&job_id, "job")?).await?;
    job_json(&state, &actor, &project, &job).await
}

/// `POST /projects/:id/jobs/:job_id/cancel`
pub async fn cancel_job(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path((id, job_id)): Path<(String, String)>,
) -> ApiResult<Response> {
    let project = lookup_project(&state, &actor, &id).await?;
    let job = state.core.cancel_job(&actor, &project, id_param(&job_id, "job")?).await?;
    job_json(&state, &actor, &project, &job).await
}

/// `POST /projects/:id/jobs/:job_id/play`
pub async fn play_job(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path((id, job_id)): Path<(String, String)>,
) -> ApiResult<Response> {
    let project = lookup_project(&state, &actor, &id).await?;
    let job = state.core.play_job(&actor, &project, id_param(&job_id, "job")?).await?;
    job_json(&state, &actor, &project, &job).await
}

#[derive(Debug, Deserialize)]
pub struct LintInput {
    content: Option<String>,
    #[serde(rename = "ref")]
    ref_name: Option<String>,
}

/// A lint answer, as GitLab's `ci/lint`.
#[derive(Debug, Serialize)]
pub struct LintResult {
    pub valid: bool,
    pub errors: Vec<String>,
    pub warnings: Vec<String>,
    pub jobs: Vec<LintJob>,
}

#[derive(Debug, Serialize)]
pub struct LintJob {
    pub name: String,
    pub stage: String,
    pub when: String,
    pub allow_failure: bool,
    pub tag_list: Vec<String>,
    pub needs: Option<Vec<String>>,
    pub before_script: Vec<String>,
    pub script: Vec<String>,
    pub after_script: Vec<String>,
}

async fn lint(state: &AppState, actor: &Actor, id: &str, input: LintInput) -> ApiResult<Json<LintResult>> {
    let project = lookup_project(state, actor, id).await?;
    let report = state.core.lint_ci(actor, &project, input.content, input.ref_name.as_deref()).await?;
    Ok(Json(LintResult {
        valid: report.errors.is_empty(),
        errors: report.errors,
        warnings: report.warnings,
        jobs: report
            .jobs
            .iter()
            .map(|job| LintJob {
                name: job.name.clone(),
                stage: job.stage.clone(),
                when: serde_json::to_value(job.when)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_owned))
                    .unwrap_or_default(),
                allow_failure: job.allow_failure != gantry_ci::keywords::AllowFailure::No,
                tag_list: job.definition.tags.clone(),
                needs: job.needs.as_ref().map(|needs| needs.iter().map(|n| n.job.clone()).collect()),
                before_script: job.definition.before_script.clone(),
                script: job.definition.script.clone(),
                after_script: job.definition.after_script.clone(),
            })
            .collect(),
    }))
}

/// `POST /projects/:id/ci/lint` (`content`, `ref`): checks the given configuration.
pub async fn lint_content(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
    ApiInput(input): ApiInput<LintInput>,
) -> ApiResult<Json<LintResult>> {
    if input.content.is_none() {
        return Err(AppError::BadRequest("content is missing".to_owned()).into());
    }
    lint(&state, &actor, &id, input).await
}

/// `GET /projects/:id/ci/lint` (`ref`): checks the project's CI file at a ref.
pub async fn lint_project(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
    Query(input): Query<LintInput>,
) -> ApiResult<Json<LintResult>> {
    lint(&state, &actor, &id, LintInput { content: None, ref_name: input.ref_name }).await
}
