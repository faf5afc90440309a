//! Job artifacts and test reports for people (GitLab's shapes): `/projects/:id/jobs/:job_id/
//! artifacts` (the archive, one file of it, keep, delete), the latest archive of a ref (whole or
//! one file of it), and a pipeline's `/test_report` and `/test_report_summary`.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use gantry_ci::reports::junit::{CaseStatus, TestCase};
use gantry_core::ci::reports::{JobTestReport, PipelineTestReport, TestCounts};
use serde::{Deserialize, Serialize};

use super::ci_types::id_param;
use super::projects::{lookup_access, lookup_project};
use super::{ApiInput, ApiResult};
use crate::AppState;
use crate::auth::ApiActor;
use crate::error::AppError;

/// `GET /projects/:id/jobs/:job_id/artifacts`: the job's archive.
pub async fn download(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path((id, job_id)): Path<(String, String)>,
) -> ApiResult<Response> {
    let project = lookup_project(&state, &actor, &id).await?;
    let (row, file, size) =
        state.core.ci().open_job_artifact(&actor, &project, id_param(&job_id, "job")?, "archive").await?;
    Ok(crate::blob_io::file_response(file, size, "application/zip", &row.file_name))
}

/// `GET /projects/:id/jobs/:job_id/artifacts/*artifact_path`: one file of the archive.
pub async fn file(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path((id, job_id, path)): Path<(String, String, String)>,
) -> ApiResult<Response> {
    let project = lookup_project(&state, &actor, &id).await?;
    let content = state.core.ci().artifact_file(&actor, &project, id_param(&job_id, "job")?, &path).await?;
    Ok(crate::ui::code::blob::raw_content_response(&path, content, false))
}

/// `POST /projects/:id/jobs/:job_id/artifacts/keep`: keeps them past their expiry.
pub async fn keep(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path((id, job_id)): Path<(String, String)>,
) -> ApiResult<Response> {
    let project = lookup_project(&state, &actor, &id).await?;
    let job_id = id_param(&job_id, "job")?;
    state.core.ci().keep_job_artifacts(&actor, &project, job_id).await?;
    let access = state.core.access_to_project(&actor, &project).await?;
    let (job, pipeline) = state.core.ci().job(&access, job_id).await?;
    let artifacts = state.core.ci().job_artifacts(&access, job_id).await?;
    let json = super::ci_types::Job::new(&job, &pipeline, &project, &state.config).with_artifacts(&artifacts);
    Ok(Json(json).into_response())
}

/// `DELETE /projects/:id/jobs/:job_id/artifacts`
pub async fn delete(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path((id, job_id)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    let project = lookup_project(&state, &actor, &id).await?;
    state.core.ci().delete_job_artifacts(&actor, &project, id_param(&job_id, "job")?).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `job`: the name of the job whose artifacts are wanted (GitLab requires it).
#[derive(Debug, Deserialize)]
pub struct LatestQuery {
    job: Option<String>,
}

impl LatestQuery {
    /// The job's name, checked after the caller's access (a stranger learns nothing from a 400).
    fn job(&self) -> ApiResult<&str> {
        match self.job.as_deref() {
            Some(job) if !job.is_empty() => Ok(job),
            _ => Err(AppError::BadRequest("job is missing".to_owned()).into()),
        }
    }
}

/// `GET /projects/:id/jobs/artifacts/:ref_name/download?job=NAME`: the archive of the latest
/// successful job of that name on the ref.
pub async fn latest_of_ref(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path((id, ref_name)): Path<(String, String)>,
    ApiInput(query): ApiInput<LatestQuery>,
) -> ApiResult<Response> {
    let project = lookup_project(&state, &actor, &id).await?;
    let job = query.job()?;
    let (_, row, file, size) = state.core.ci().latest_artifact_of_ref(&actor, &project, &ref_name, job).await?;
    Ok(crate::blob_io::file_response(file, size, "application/zip", &row.file_name))
}

/// `GET /projects/:id/jobs/artifacts/:ref_name/raw/*artifact_path?job=NAME`: one file of the
/// archive of the latest successful job of that name on the ref.
pub async fn latest_file_of_ref(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path((id, ref_name, path)): Path<(String, String, String)>,
    ApiInput(query): ApiInput<LatestQuery>,
) -> ApiResult<Response> {
    let project = lookup_project(&state, &actor, &id).await?;
    let job = query.job()?;
    let content = state.core.ci().latest_artifact_file_of_ref(&actor, &project, &ref_name, job, &path).await?;
    Ok(crate::ui::code::blob::raw_content_response(&path, content, false))
}

/// Counts in GitLab's names.
#[derive(Debug, Serialize)]
pub struct Counts {
    pub total_time: f64,
    pub total_count: usize,
    pub success_count: usize,
    pub failed_count: usize,
    pub skipped_count: usize,
    pub error_count: usize,
}

impl From<&TestCounts> for Counts {
    fn from(counts: &TestCounts) -> Counts {
        Counts {
            total_time: (counts.time * 1000.0).round() / 1000.0,
            total_count: counts.total,
            success_count: counts.success,
            failed_count: counts.failed,
            skipped_count: counts.skipped,
            error_count: counts.error,
        }
    }
}

#[derive(Debug, Serialize)]
pub struct Case {
    pub status: CaseStatus,
    pub name: String,
    pub classname: String,
    pub file: Option<String>,
    pub execution_time: f64,
    pub system_output: Option<String>,
    pub stack_trace: Option<String>,
    /// Fails here, but did not in the pipeline this one is compared with.
    pub new_failure: bool,
}

#[derive(Debug, Serialize)]
pub struct Suite {
    pub name: String,
    #[serde(flatten)]
    pub counts: Counts,
    pub build_ids: Vec<gantry_types::JobId>,
    pub suite_error: Option<String>,
    pub test_cases: Vec<Case>,
}

#[derive(Debug, Serialize)]
pub struct TestReport {
    #[serde(flatten)]
    pub counts: Counts,
    /// The pipeline failures are compared with (the default branch's latest finished one).
    pub compared_with_pipeline_id: Option<gantry_types::PipelineId>,
    pub new_failure_count: usize,
    pub test_suites: Vec<Suite>,
}

fn case(report: &PipelineTestReport, job: &JobTestReport, case: &TestCase) -> Case {
    Case {
        status: case.status,
        name: case.name.clone(),
        classname: case.classname.clone(),
        file: case.file.clone(),
        execution_time: case.execution_time,
        system_output: case.system_output.clone(),
        stack_trace: case.stack_trace.clone(),
        new_failure: report.is_new_failure(&job.job_name, &case.classname, &case.name),
    }
}

fn suite_error(job: &JobTestReport) -> Option<String> {
    (!job.errors.is_empty()).then(|| job.errors.join("; "))
}

/// `GET /projects/:id/pipelines/:pipeline_id/test_report`: one suite per job, with its cases.
pub async fn test_report(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path((id, pipeline_id)): Path<(String, String)>,
) -> ApiResult<Json<TestReport>> {
    let project = lookup_project(&state, &actor, &id).await?;
    let (_, report) =
        state.core.ci().pipeline_test_report(&actor, &project, id_param(&pipeline_id, "pipeline")?).await?;
    let test_suites = report
        .jobs
        .iter()
        .map(|job| Suite {
            name: job.job_name.clone(),
            counts: Counts::from(&job.counts),
            build_ids: vec![job.job_id],
            suite_error: suite_error(job),
            test_cases: job.suites.iter().flat_map(|suite| &suite.cases).map(|c| case(&report, job, c)).collect(),
        })
        .collect();
    Ok(Json(TestReport {
        counts: Counts::from(&report.counts),
        compared_with_pipeline_id: report.compared_with.map(|(id, _)| id),
        new_failure_count: report.new_failures.len(),
        test_suites,
    }))
}

#[derive(Debug, Serialize)]
pub struct SummaryTotal {
    pub time: f64,
    pub count: usize,
    pub success: usize,
    pub failed: usize,
    pub skipped: usize,
    pub error: usize,
    pub suite_error: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct SummarySuite {
    pub name: String,
    #[serde(flatten)]
    pub counts: Counts,
    pub build_ids: Vec<gantry_types::JobId>,
    pub suite_error: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct TestReportSummary {
    pub total: SummaryTotal,
    pub test_suites: Vec<SummarySuite>,
}

/// `GET /projects/:id/pipelines/:pipeline_id/test_report_summary`: the counts only.
pub async fn test_report_summary(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path((id, pipeline_id)): Path<(String, String)>,
) -> ApiResult<Json<TestReportSummary>> {
    let access = lookup_access(&state, &actor, &id).await?;
    let summary = state.core.ci().pipeline_test_summary(&access, id_param(&pipeline_id, "pipeline")?).await?;
    let counts = Counts::from(&summary.counts);
    let errors: Vec<&str> = summary.jobs.iter().filter_map(|job| job.suite_error.as_deref()).collect();
    Ok(Json(TestReportSummary {
        total: SummaryTotal {
            time: counts.total_time,
            count: counts.total_count,
            success: counts.success_count,
            failed: counts.failed_count,
            skipped: counts.skipped_count,
            error: counts.error_count,
            suite_error: (!errors.is_empty()).then(|| errors.join("; ")),
        },
        test_suites: summary
            .jobs
            .into_iter()
            .map(|job| SummarySuite {
                name: job.job_name,
                counts: Counts::from(&job.counts),
                build_ids: vec![job.job_id],
                suite_error: job.suite_error,
            })
            .collect(),
    }))
}
