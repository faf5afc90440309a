//! A pipeline's Tests tab: the JUnit results of its jobs, one suite per job, failures first
//! with their output, and the failures that are new compared with the default branch.

use askama::Template;
use axum::Extension;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use gantry_ci::reports::junit::CaseStatus;
use gantry_core::ci::reports::TestCounts;

use super::pipelines::{PipelineLine, id_of};
use super::project_frame::ProjectFrame;
use super::{Chrome, PageResult, render};
use crate::AppState;
use crate::auth::PageActor;
use crate::namespace_dispatch::ProjectTarget;

/// One test case, as the page shows it.
pub struct CaseLine {
    pub status: &'static str,
    pub name: String,
    pub classname: String,
    pub file: Option<String>,
    pub time: String,
    pub output: Option<String>,
    pub new_failure: bool,
}

/// One job's results.
pub struct SuiteBlock {
    pub job_id: gantry_types::JobId,
    pub job_name: String,
    pub counts: TestCounts,
    pub time: String,
    pub errors: Vec<String>,
    pub cases: Vec<CaseLine>,
}

#[derive(Template)]
#[template(path = "projects/pipeline_tests.html")]
struct TestsPage {
    chrome: Chrome,
    frame: ProjectFrame,
    tab: &'static str,
    line: PipelineLine,
    counts: TestCounts,
    /// How many code quality findings the jobs reported; None without a report (no tab).
    quality_count: Option<usize>,
    time: String,
    /// The pipeline compared with (id, number) and the counts of new and fixed failures.
    compared_with: Option<(gantry_types::PipelineId, i64)>,
    new_failures: usize,
    fixed: Vec<String>,
    suites: Vec<SuiteBlock>,
}

fn seconds(time: f64) -> String {
    if time < 1.0 { format!("{:.0} ms", time * 1000.0) } else { format!("{time:.2} s") }
}

fn status_name(status: CaseStatus) -> &'static str {
    match status {
        CaseStatus::Failed => "failed",
        CaseStatus::Error => "error",
        CaseStatus::Skipped => "skipped",
        CaseStatus::Success => "success",
    }
}

/// `GET /{project}/-/pipelines/{pipeline_id}/test_report`: the Tests tab.
pub async fn tests(
    State(state): State<AppState>,
    visitor: PageActor,
    Extension(target): Extension<ProjectTarget>,
    Path(id): Path<String>,
) -> PageResult {
    let frame = ProjectFrame::load(&state, &visitor, target).await?;
    let id = id_of(&id, "pipeline").map_err(|e| visitor.error(e))?;
    let (pipeline, report) =
        state.core.ci().pipeline_test_report(&visitor.actor, &frame.project, id).await.map_err(|e| visitor.error(e))?;
    let quality_count =
        state.core.ci().pipeline_codequality_count(&frame.access, id).await.map_err(|e| visitor.error(e))?;
    let suites = report
        .jobs
        .iter()
        .map(|job| {
            let mut cases: Vec<CaseLine> = job
                .suites
                .iter()
                .flat_map(|suite| &suite.cases)
                .map(|case| {
                    let output: Vec<&str> =
                        [case.system_output.as_deref(), case.stack_trace.as_deref()].into_iter().flatten().collect();
                    CaseLine {
                        status: status_name(case.status),
                        name: case.name.clone(),
                        classname: case.classname.clone(),
                        file: case.file.clone(),
                        time: seconds(case.execution_time),
                        output: (!output.is_empty()).then(|| output.join("\n\n")),
                        new_failure: report.is_new_failure(&job.job_name, &case.classname, &case.name),
                    }
                })
                .collect();
            let rank = |status: &str| match status {
                "failed" | "error" => 0,
                "skipped" => 2,
                _ => 1,
            };
            cases.sort_by_key(|case| (rank(case.status), !case.new_failure));
            SuiteBlock {
                job_id: job.job_id,
                job_name: job.job_name.clone(),
                counts: job.counts,
                time: seconds(job.counts.time),
                errors: job.errors.clone(),
                cases,
            }
        })
        .collect();
    let page = TestsPage {
        chrome: Chrome::new(&visitor),
        tab: "pipelines",
        line: PipelineLine::new(pipeline, gantry_core::now_millis()),
        counts: report.counts,
        quality_count,
        time: seconds(report.counts.time),
        compared_with: report.compared_with,
        new_failures: report.new_failures.len(),
        fixed: report.fixed.iter().map(|(job, class, name)| format!("{job}: {class} {name}")).collect(),
        suites,
        frame,
    };
    render(StatusCode::OK, &page)
}
