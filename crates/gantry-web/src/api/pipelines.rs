//! `/projects/:id/pipelines`, `/projects/:id/pipeline`, `/projects/:id/jobs` and
//! `/projects/:id/ci/lint`, shaped like GitLab's (python-gitlab reads them).

use std::collections::HashMap;

use axum::Json;
use axum::extract::{OriginalUri, Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use gantry_core::ci::{ArtifactRow, JobRow, PipelineFilter, PipelineRow};
use gantry_core::{Actor, ProjectRow};
use gantry_types::{CiStatus, PipelineId};
use serde::{Deserialize, Serialize};

use super::ci_types::{Bridge, Job, Pipeline, PipelineBasic, id_param, status_param, statuses_from_query};
use super::projects::{lookup_access, lookup_project};
use super::{ApiInput, ApiResult, PageParams, paginated};
use crate::AppState;
use crate::auth::ApiActor;
use crate::error::AppError;

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
    let access = lookup_access(&state, &actor, &id).await?;
    let status = match query.status.as_deref().filter(|s| !s.is_empty()) {
        Some(status) => Some(status_param(status, "pipeline")?),
        None => None,
    };
    // GitLab's scopes: running, pending, finished, branches, tags. The ones that map to a
    // status filter are honoured; the rest list everything.
    let status = status.or(match query.scope.as_deref() {
        Some("running") => Some(CiStatus::Running),
        Some("pending") => Some(CiStatus::Pending),
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
    let (pipelines, total) = state.core.ci().list_pipelines(&access, &filter, request.db()).await?;
    let project = access.project();
    let items: Vec<PipelineBasic> = pipelines.iter().map(|p| PipelineBasic::new(p, project, &state.config)).collect();
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
    /// Values for the CI file's `spec:inputs`.
    inputs: Option<serde_json::Value>,
}

/// A pipeline's `inputs`, checked to be a hash (JSON text for core).
pub(crate) fn pipeline_inputs(inputs: Option<serde_json::Value>) -> ApiResult<Option<String>> {
    match inputs {
        None | Some(serde_json::Value::Null) => Ok(None),
        Some(serde_json::Value::Object(values)) if values.is_empty() => Ok(None),
        Some(value @ serde_json::Value::Object(_)) => Ok(Some(value.to_string())),
        Some(_) => Err(AppError::BadRequest("inputs should be a hash of input names and values".to_owned()).into()),
    }
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

/// `POST /projects/:id/pipeline` (`ref`, `variables`, `inputs`)
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
    let inputs = pipeline_inputs(input.inputs)?;
    let pipeline =
        state.core.ci().run_pipeline_with_inputs(&actor, &project, &ref_name, variables, inputs, "api").await?;
    let access = state.core.access_to_project(&actor, &project).await?;
    let (pipeline, jobs) = state.core.ci().pipeline(&access, pipeline.id).await?;
    Ok((StatusCode::CREATED, Json(Pipeline::new(&pipeline, &jobs, &project, &state.config))).into_response())
}

/// `GET /projects/:id/pipelines/:pipeline_id`
pub async fn get_pipeline(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path((id, pipeline_id)): Path<(String, String)>,
) -> ApiResult<Json<Pipeline>> {
    let access = lookup_access(&state, &actor, &id).await?;
    let (pipeline, jobs) = state.core.ci().pipeline(&access, id_param(&pipeline_id, "pipeline")?).await?;
    Ok(Json(Pipeline::new(&pipeline, &jobs, access.project(), &state.config)))
}

/// `DELETE /projects/:id/pipelines/:pipeline_id`
pub async fn delete_pipeline(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path((id, pipeline_id)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    let project = lookup_project(&state, &actor, &id).await?;
    state.core.ci().delete_pipeline(&actor, &project, id_param(&pipeline_id, "pipeline")?).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn pipeline_json(state: &AppState, actor: &Actor, project: &ProjectRow, id: PipelineId) -> ApiResult<Response> {
    let access = state.core.access_to_project(actor, project).await?;
    let (pipeline, jobs) = state.core.ci().pipeline(&access, id).await?;
    Ok((StatusCode::CREATED, Json(Pipeline::new(&pipeline, &jobs, project, &state.config))).into_response())
}

/// `POST /projects/:id/pipelines/:pipeline_id/retry`
pub async fn retry_pipeline(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path((id, pipeline_id)): Path<(String, String)>,
) -> ApiResult<Response> {
    let project = lookup_project(&state, &actor, &id).await?;
    let pipeline = state.core.ci().retry_pipeline(&actor, &project, id_param(&pipeline_id, "pipeline")?).await?;
    pipeline_json(&state, &actor, &project, pipeline.id).await
}

/// `POST /projects/:id/pipelines/:pipeline_id/cancel`
pub async fn cancel_pipeline(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path((id, pipeline_id)): Path<(String, String)>,
) -> ApiResult<Response> {
    let project = lookup_project(&state, &actor, &id).await?;
    let pipeline = state.core.ci().cancel_pipeline(&actor, &project, id_param(&pipeline_id, "pipeline")?).await?;
    pipeline_json(&state, &actor, &project, pipeline.id).await
}

/// `GET /projects/:id/pipelines/:pipeline_id/variables`
pub async fn pipeline_variables_of(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path((id, pipeline_id)): Path<(String, String)>,
) -> ApiResult<Json<Vec<serde_json::Value>>> {
    let project = lookup_project(&state, &actor, &id).await?;
    let variables = state.core.ci().pipeline_variables(&actor, &project, id_param(&pipeline_id, "pipeline")?).await?;
    Ok(Json(serde_json::from_str(&variables).unwrap_or_default()))
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
    let access = lookup_access(&state, &actor, &id).await?;
    let project = access.project();
    let statuses = statuses_from_query(uri.query(), &["scope", "scope[]"])?;
    let include_retried = super::flag(query.include_retried.as_deref())?.unwrap_or(false);
    let (pipeline, jobs) = state.core.ci().pipeline(&access, id_param(&pipeline_id, "pipeline")?).await?;
    let artifacts = state.core.ci().pipeline_artifacts(&actor, project, pipeline.id).await?;
    Ok(Json(
        jobs.iter()
            .filter(|j| !j.bridge && (include_retried || !j.retried))
            .filter(|j| statuses.is_empty() || statuses.contains(&j.status))
            .map(|j| Job::new(j, &pipeline, project, &state.config).with_artifacts(&artifacts))
            .collect(),
    ))
}

/// `GET /projects/:id/pipelines/:pipeline_id/bridges` (`scope[]`): the pipeline's trigger
/// jobs, each with the downstream pipeline it started.
pub async fn pipeline_bridges(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path((id, pipeline_id)): Path<(String, String)>,
    OriginalUri(uri): OriginalUri,
) -> ApiResult<Json<Vec<Bridge>>> {
    let access = lookup_access(&state, &actor, &id).await?;
    let project = access.project();
    let statuses = statuses_from_query(uri.query(), &["scope", "scope[]"])?;
    let pipeline_id = id_param(&pipeline_id, "pipeline")?;
    let pipeline = state.core.ci().pipeline(&access, pipeline_id).await?.0;
    let bridges = state.core.ci().bridges(&access, pipeline_id).await?;
    Ok(Json(
        bridges
            .iter()
            .filter(|b| !b.job.retried && (statuses.is_empty() || statuses.contains(&b.job.status)))
            .map(|b| Bridge {
                job: Job::new(&b.job, &pipeline, project, &state.config),
                downstream_pipeline: b
                    .downstream
                    .as_ref()
                    .map(|(downstream, of)| PipelineBasic::new(downstream, of, &state.config)),
            })
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
    let access = lookup_access(&state, &actor, &id).await?;
    let project = access.project();
    let statuses = statuses_from_query(uri.query(), &["scope", "scope[]"])?;
    let request = query.page.resolve()?;
    let (jobs, total) = state.core.ci().list_jobs(&access, &statuses, request.db()).await?;
    // Each pipeline and its artifacts are read once, however many of its jobs the page has.
    let mut pipelines: HashMap<PipelineId, (PipelineRow, Vec<ArtifactRow>)> = HashMap::new();
    let mut items = Vec::with_capacity(jobs.len());
    for job in &jobs {
        if let std::collections::hash_map::Entry::Vacant(slot) = pipelines.entry(job.pipeline_id) {
            let pipeline = state.core.ci().pipeline(&access, job.pipeline_id).await?.0;
            let artifacts = state.core.ci().pipeline_artifacts(&actor, project, job.pipeline_id).await?;
            slot.insert((pipeline, artifacts));
        }
        let (pipeline, artifacts) = &pipelines[&job.pipeline_id];
        items.push(Job::new(job, pipeline, project, &state.config).with_artifacts(artifacts));
    }
    Ok(paginated(&state.config.external_url, &uri, items, total, request))
}

/// `GET /projects/:id/jobs/:job_id`
pub async fn get_job(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path((id, job_id)): Path<(String, String)>,
) -> ApiResult<Json<Job>> {
    let access = lookup_access(&state, &actor, &id).await?;
    let (job, pipeline) = state.core.ci().job(&access, id_param(&job_id, "job")?).await?;
    let artifacts = state.core.ci().job_artifacts(&access, job.id).await?;
    Ok(Json(Job::new(&job, &pipeline, access.project(), &state.config).with_artifacts(&artifacts)))
}

/// `GET /projects/:id/jobs/:job_id/trace`: the log as plain text.
pub async fn job_trace(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path((id, job_id)): Path<(String, String)>,
) -> ApiResult<Response> {
    let access = lookup_access(&state, &actor, &id).await?;
    let body = crate::ui::jobs::log_body(&state.core, &access, id_param(&job_id, "job")?).await?;
    Ok(([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], body).into_response())
}

async fn job_json(state: &AppState, actor: &Actor, project: &ProjectRow, job: &JobRow) -> ApiResult<Response> {
    let access = state.core.access_to_project(actor, project).await?;
    let (job, pipeline) = state.core.ci().job(&access, job.id).await?;
    Ok((StatusCode::CREATED, Json(Job::new(&job, &pipeline, project, &state.config))).into_response())
}

/// `POST /projects/:id/jobs/:job_id/retry`
pub async fn retry_job(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path((id, job_id)): Path<(String, String)>,
) -> ApiResult<Response> {
    let project = lookup_project(&state, &actor, &id).await?;
    let job = state.core.ci().retry_job(&actor, &project, id_param(&job_id, "job")?).await?;
    job_json(&state, &actor, &project, &job).await
}

/// `POST /projects/:id/jobs/:job_id/cancel`
pub async fn cancel_job(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path((id, job_id)): Path<(String, String)>,
) -> ApiResult<Response> {
    let project = lookup_project(&state, &actor, &id).await?;
    let job = state.core.ci().cancel_job(&actor, &project, id_param(&job_id, "job")?).await?;
    job_json(&state, &actor, &project, &job).await
}

/// `POST /projects/:id/jobs/:job_id/play`
pub async fn play_job(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path((id, job_id)): Path<(String, String)>,
) -> ApiResult<Response> {
    let project = lookup_project(&state, &actor, &id).await?;
    let job = state.core.ci().play_job(&actor, &project, id_param(&job_id, "job")?).await?;
    job_json(&state, &actor, &project, &job).await
}

#[derive(Debug, Deserialize)]
pub struct LintInput {
    content: Option<String>,
    #[serde(rename = "ref")]
    ref_name: Option<String>,
    /// GitLab's name for the ref on `GET` (`ref` is its older one).
    content_ref: Option<String>,
    include_jobs: Option<bool>,
}

/// A lint answer, as GitLab's `ci/lint`.
#[derive(Debug, Serialize)]
pub struct LintResult {
    pub valid: bool,
    /// GitLab's fixed messages as GitLab words them; other problems with file:line:column.
    pub errors: Vec<String>,
    pub warnings: Vec<String>,
    /// Only when asked for (`include_jobs`), as in GitLab.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub jobs: Option<Vec<LintJob>>,
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

async fn lint(
    state: &AppState,
    actor: &Actor,
    project: &ProjectRow,
    content: Option<String>,
    ref_name: Option<&str>,
    include_jobs: bool,
) -> ApiResult<Json<LintResult>> {
    let report = state.core.ci().lint_ci(actor, project, content, ref_name).await?;
    let jobs = report
        .jobs
        .iter()
        .map(|job| LintJob {
            name: job.name.clone(),
            stage: job.stage.clone(),
            when: serde_json::to_value(job.when).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default(),
            allow_failure: job.allow_failure != gantry_ci::keywords::AllowFailure::No,
            tag_list: job.definition.tags.clone(),
            needs: job.needs.as_ref().map(|needs| needs.iter().map(|n| n.job.clone()).collect()),
            before_script: job.definition.before_script.clone(),
            script: job.definition.script.clone(),
            after_script: job.definition.after_script.clone(),
        })
        .collect();
    Ok(Json(LintResult {
        valid: report.errors.is_empty(),
        errors: report.errors,
        warnings: report.warnings,
        jobs: include_jobs.then_some(jobs),
    }))
}

/// `POST /projects/:id/ci/lint` (`content`, `ref`, `include_jobs`): checks the given
/// configuration.
pub async fn lint_content(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
    ApiInput(input): ApiInput<LintInput>,
) -> ApiResult<Json<LintResult>> {
    let project = lookup_project(&state, &actor, &id).await?;
    let Some(content) = input.content else {
        return Err(AppError::BadRequest("content is missing".to_owned()).into());
    };
    let include_jobs = input.include_jobs.unwrap_or(false);
    lint(&state, &actor, &project, Some(content), input.ref_name.as_deref(), include_jobs).await
}

/// `GET /projects/:id/ci/lint` (`content_ref` or `ref`, `include_jobs`): checks the project's
/// CI file at a ref (the default branch when none).
pub async fn lint_project(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
    ApiInput(input): ApiInput<LintInput>,
) -> ApiResult<Json<LintResult>> {
    let project = lookup_project(&state, &actor, &id).await?;
    let ref_name = input.content_ref.or(input.ref_name);
    lint(&state, &actor, &project, None, ref_name.as_deref(), input.include_jobs.unwrap_or(false)).await
}
