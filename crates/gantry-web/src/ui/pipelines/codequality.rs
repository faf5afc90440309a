//! A pipeline's Code quality tab: the findings of its jobs' code quality reports, most serious
//! first, each linking to its file and line at the pipeline's commit; a report that could not
//! be read is named with why, the others still shown.

use askama::Template;
use axum::Extension;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use gantry_core::ci::codequality::{MAX_LISTED_FINDINGS, Severity};

use super::{PipelineLine, id_of};
use crate::AppState;
use crate::auth::PageActor;
use crate::namespace_dispatch::ProjectTarget;
use crate::ui::code::url_path;
use crate::ui::project_frame::ProjectFrame;
use crate::ui::{Chrome, PageResult, render};

/// One finding as the tab lists it.
pub struct FindingLine {
    pub severity: &'static str,
    pub description: String,
    pub check_name: Option<String>,
    /// `path:line` as shown, and the link to it at the pipeline's commit (none for a path that
    /// cannot be in the repository).
    pub place: Option<String>,
    pub href: Option<String>,
    pub job_id: gantry_types::JobId,
    pub job_name: String,
}

/// A job that uploaded a report: its count, or why it could not be read.
pub struct ReportLine {
    pub job_id: gantry_types::JobId,
    pub job_name: String,
    pub findings: usize,
    pub errors: Vec<String>,
}

#[derive(Template)]
#[template(path = "projects/pipeline_codequality.html")]
struct CodeQualityPage {
    chrome: Chrome,
    frame: ProjectFrame,
    tab: &'static str,
    line: PipelineLine,
    test_count: usize,
    quality_count: Option<usize>,
    /// `(severity, count)`, most serious first, those with findings only.
    counts: Vec<(&'static str, usize)>,
    reports: Vec<ReportLine>,
    findings: Vec<FindingLine>,
    /// The most findings listed, and how many are not.
    listed_limit: usize,
    unlisted: usize,
}

/// Where a finding's file is in the repository, when its path can be there: relative, with no
/// `..` segment.
fn repository_path(path: &str) -> Option<&str> {
    let path = path.trim_start_matches('/');
    let fits = !path.is_empty() && path.split('/').all(|segment| !segment.is_empty() && segment != "..");
    fits.then_some(path)
}

/// `GET /{project}/-/pipelines/{pipeline_id}/codequality_report`: the Code quality tab.
pub async fn codequality(
    State(state): State<AppState>,
    visitor: PageActor,
    Extension(target): Extension<ProjectTarget>,
    Path(id): Path<String>,
) -> PageResult {
    let frame = ProjectFrame::load(&state, &visitor, target).await?;
    let id = id_of(&id, "pipeline").map_err(|e| visitor.error(e))?;
    let ci = state.core.ci();
    let (pipeline, quality) = ci.pipeline_codequality(&frame.access, id).await.map_err(|e| visitor.error(e))?;
    let tests = ci.pipeline_test_summary(&frame.access, id).await.map_err(|e| visitor.error(e))?;
    let project_path = &frame.project.full_path;
    let findings: Vec<FindingLine> = quality
        .findings
        .iter()
        .map(|listed| {
            let finding = &listed.finding;
            let place = finding.path.as_ref().map(|path| match finding.line {
                Some(line) => format!("{path}:{line}"),
                None => path.clone(),
            });
            let href = finding.path.as_deref().and_then(repository_path).map(|path| {
                let anchor = finding.line.map(|line| format!("#L{line}")).unwrap_or_default();
                format!("/{project_path}/-/blob/{}/{}{anchor}", pipeline.sha, url_path(path))
            });
            FindingLine {
                severity: finding.severity.label(),
                description: finding.description.clone().unwrap_or_else(|| "(no description)".to_owned()),
                check_name: finding.check_name.clone(),
                place,
                href,
                job_id: listed.job_id,
                job_name: listed.job_name.clone(),
            }
        })
        .collect();
    let counts = Severity::ALL
        .iter()
        .map(|severity| (severity.label(), quality.counts[*severity as usize]))
        .filter(|(_, count)| *count > 0)
        .collect();
    let total = quality.total();
    let unlisted = total.saturating_sub(findings.len());
    let reports = quality
        .jobs
        .into_iter()
        .map(|job| ReportLine {
            job_id: job.job_id,
            job_name: job.job_name,
            findings: job.findings,
            errors: job.errors,
        })
        .collect::<Vec<_>>();
    let page = CodeQualityPage {
        chrome: Chrome::new(&visitor),
        tab: "pipelines",
        line: PipelineLine::new(pipeline, gantry_core::now_millis()),
        test_count: tests.counts.total,
        quality_count: (!reports.is_empty()).then_some(total),
        counts,
        reports,
        findings,
        listed_limit: MAX_LISTED_FINDINGS,
        unlisted,
        frame,
    };
    render(StatusCode::OK, &page)
}

#[cfg(test)]
mod tests {
    use super::repository_path;

    #[test]
    fn only_paths_inside_the_repository_are_linked() {
        assert_eq!(repository_path("src/a.rb"), Some("src/a.rb"));
        assert_eq!(repository_path("/src/a.rb"), Some("src/a.rb"));
        assert_eq!(repository_path("../etc/passwd"), None);
        assert_eq!(repository_path("src//a"), None);
        assert_eq!(repository_path(""), None);
    }
}
