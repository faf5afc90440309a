//! A project's CI lint page: a CI configuration pasted or edited in a form (at first the
//! project's own file on its default branch), checked by the same core operation as the lint API
//! and `gantry ci lint`: its errors and warnings at their lines and columns, and the jobs a push
//! to a chosen branch would run (GitLab's "simulate a pipeline").

use askama::Template;
use axum::Extension;
use axum::extract::State;
use axum::http::StatusCode;
use gantry_ci::{Diagnostic, PlannedJob, Severity};
use gantry_core::ci::create::{DEFAULT_CI_FILES, LintReport};
use gantry_core::policy::ProjectAction;
use serde::Deserialize;

use super::project_frame::ProjectFrame;
use super::{Chrome, PageResult, render};
use crate::AppState;
use crate::auth::{CsrfForm, PageActor};
use crate::error::PageError;
use crate::namespace_dispatch::ProjectTarget;

#[derive(Template)]
#[template(path = "projects/ci_lint.html")]
struct CiLintPage {
    chrome: Chrome,
    frame: ProjectFrame,
    tab: &'static str,
    content: String,
    ref_name: String,
    /// The file the content came from, or the name it is checked as.
    file_name: String,
    /// The project has no CI file on its default branch.
    no_file: bool,
    result: Option<LintResult>,
}

/// What the check found, as the page shows it.
struct LintResult {
    valid: bool,
    /// Problems without a place in a file (no CI file at the ref, no pipeline for it).
    notes: Vec<Problem>,
    /// Problems at a line and column, in file order.
    problems: Vec<Problem>,
    /// The checked file, line by line, with the problems at each line.
    listing: Vec<ListingLine>,
    /// The jobs a push to the ref would run, by stage.
    stages: Vec<(String, Vec<JobLine>)>,
}

struct Problem {
    /// `error` or `warning`.
    severity: &'static str,
    /// `file:line:column`, empty for a note.
    place: String,
    /// The listing's line it is at, when it is in the checked file.
    line: Option<usize>,
    message: String,
}

struct ListingLine {
    number: usize,
    text: String,
    /// `error`, `warning` or empty: the worst problem at this line.
    mark: &'static str,
    problems: Vec<(&'static str, String)>,
}

struct JobLine {
    name: String,
    when: String,
    allow_failure: bool,
    needs: Option<String>,
    tags: String,
}

#[derive(Debug, Deserialize)]
pub struct LintForm {
    #[serde(default)]
    content: String,
    #[serde(default, rename = "ref")]
    ref_name: String,
}

fn severity_word(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
    }
}

fn job_line(job: &PlannedJob) -> JobLine {
    let when = serde_json::to_value(job.when).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default();
    JobLine {
        name: job.name.clone(),
        when,
        allow_failure: job.allow_failure != gantry_ci::keywords::AllowFailure::No,
        needs: job.needs.as_ref().map(|needs| needs.iter().map(|n| n.job.as_str()).collect::<Vec<_>>().join(", ")),
        tags: job.definition.tags.join(", "),
    }
}

fn lint_result(report: LintReport, content: &str, file_name: &str) -> LintResult {
    let positioned = |text: &String| report.diagnostics.iter().any(|d| d.api_text() == *text);
    let notes = report
        .errors
        .iter()
        .map(|e| ("error", e))
        .chain(report.warnings.iter().map(|w| ("warning", w)))
        .filter(|(_, text)| !positioned(text))
        .map(|(severity, text)| Problem { severity, place: String::new(), line: None, message: text.clone() })
        .collect();
    let mut diagnostics: Vec<&Diagnostic> = report.diagnostics.iter().collect();
    diagnostics.sort_by(|a, b| (&a.at, a.severity).cmp(&(&b.at, b.severity)));
    let in_file = |d: &Diagnostic| (*d.at.file == *file_name).then_some(d.at.line);
    let mut listing: Vec<ListingLine> = content
        .lines()
        .enumerate()
        .map(|(n, text)| ListingLine { number: n + 1, text: text.to_owned(), mark: "", problems: Vec::new() })
        .collect();
    for diagnostic in &diagnostics {
        let Some(line) = in_file(diagnostic) else { continue };
        // A problem past the end (a file cut short) shows at the last line.
        let last = listing.len().max(1);
        let Some(listed) = listing.get_mut(line.clamp(1, last) - 1) else { continue };
        let severity = severity_word(diagnostic.severity);
        if listed.mark != "error" {
            listed.mark = severity;
        }
        listed.problems.push((severity, format!("column {}: {}", diagnostic.at.column, diagnostic.message)));
    }
    let problems = diagnostics
        .iter()
        .map(|d| Problem {
            severity: severity_word(d.severity),
            place: d.at.to_string(),
            line: in_file(d).filter(|line| *line <= listing.len()),
            message: d.message.clone(),
        })
        .collect();
    let mut stages: Vec<(String, Vec<JobLine>)> = Vec::new();
    for job in &report.jobs {
        match stages.iter_mut().find(|(stage, _)| *stage == job.stage) {
            Some((_, jobs)) => jobs.push(job_line(job)),
            None => stages.push((job.stage.clone(), vec![job_line(job)])),
        }
    }
    LintResult { valid: report.errors.is_empty(), notes, problems, listing, stages }
}

/// The project's CI file on `branch`, if it has one of the usual names.
async fn ci_file(
    state: &AppState,
    visitor: &PageActor,
    frame: &ProjectFrame,
    branch: &str,
) -> Result<Option<(String, String)>, PageError> {
    let branch = branch.to_owned();
    state
        .core
        .code()
        .read_repository(&visitor.actor, &frame.project, move |reader| {
            for path in DEFAULT_CI_FILES {
                if let Some(bytes) = reader.blob(&format!("refs/heads/{branch}:{path}"))? {
                    return Ok(Some((path.to_owned(), String::from_utf8_lossy(&bytes).into_owned())));
                }
            }
            Ok(None)
        })
        .await
        .map_err(|e| visitor.error(e))
}

/// `GET /{project}/-/ci/lint`: the form, holding the project's CI file of its default branch.
pub async fn ci_lint_form(
    State(state): State<AppState>,
    visitor: PageActor,
    Extension(target): Extension<ProjectTarget>,
) -> PageResult {
    let frame = ProjectFrame::load(&state, &visitor, target).await?;
    frame.require(&visitor, ProjectAction::ReadPipelines)?;
    let branch = frame.project.default_branch.clone();
    let found = ci_file(&state, &visitor, &frame, &branch).await?;
    let no_file = found.is_none();
    let (file_name, content) = found.unwrap_or_else(|| (DEFAULT_CI_FILES[0].to_owned(), String::new()));
    let page = CiLintPage {
        chrome: Chrome::new(&visitor),
        tab: "pipelines",
        content,
        ref_name: branch,
        file_name,
        no_file,
        result: None,
        frame,
    };
    render(StatusCode::OK, &page)
}

/// `POST /{project}/-/ci/lint` (`content`, `ref`): checks the content as the CI file of a push
/// to `ref` (the default branch when empty) and shows what it found.
pub async fn ci_lint(
    State(state): State<AppState>,
    visitor: PageActor,
    Extension(target): Extension<ProjectTarget>,
    CsrfForm(form): CsrfForm<LintForm>,
) -> PageResult {
    let frame = ProjectFrame::load(&state, &visitor, target).await?;
    frame.require(&visitor, ProjectAction::ReadPipelines)?;
    let ref_name = match form.ref_name.trim() {
        "" => frame.project.default_branch.clone(),
        other => other.to_owned(),
    };
    // Pasted text keeps its line breaks as the browser sent them (`\r\n`): lines count alike.
    let content = form.content.replace("\r\n", "\n");
    let report = state
        .core
        .ci()
        .lint_ci(&visitor.actor, &frame.project, Some(content.clone()), Some(&ref_name))
        .await
        .map_err(|e| visitor.error(e))?;
    // The name problems in the pasted file are reported under (the project's file name).
    let file_name = report
        .diagnostics
        .iter()
        .map(|d| d.at.file.to_string())
        .find(|file| DEFAULT_CI_FILES.contains(&file.as_str()))
        .unwrap_or_else(|| DEFAULT_CI_FILES[0].to_owned());
    let result = lint_result(report, &content, &file_name);
    let page = CiLintPage {
        chrome: Chrome::new(&visitor),
        tab: "pipelines",
        content,
        ref_name,
        file_name,
        no_file: false,
        result: Some(result),
        frame,
    };
    render(StatusCode::OK, &page)
}

#[cfg(test)]
mod tests {
    use super::*;
    use gantry_ci::Location;

    fn at(line: usize, column: usize) -> Location {
        Location { file: ".gitlab-ci.yml".into(), line, column }
    }

    #[test]
    fn problems_show_at_their_lines_and_the_rest_as_notes() {
        let content = "build:\n  script: make\n  colour: red\n";
        let unknown = Diagnostic::new(at(3, 3), "`build`: unknown keyword `colour`");
        let warning = Diagnostic::warning(at(1, 1), "`build` may run twice");
        let elsewhere = Diagnostic::new(
            Location { file: "ci/included.yml".into(), line: 2, column: 1 },
            "`test`: `script` is missing",
        );
        let report = LintReport {
            errors: vec![unknown.api_text(), elsewhere.api_text(), "main has no pipeline".into()],
            warnings: vec![warning.api_text()],
            diagnostics: vec![unknown, warning, elsewhere],
            jobs: Vec::new(),
        };
        let result = lint_result(report, content, ".gitlab-ci.yml");
        assert!(!result.valid);
        assert_eq!(result.notes.len(), 1);
        assert_eq!(result.notes[0].message, "main has no pipeline");
        let places: Vec<&str> = result.problems.iter().map(|p| p.place.as_str()).collect();
        assert_eq!(places, [".gitlab-ci.yml:1:1", ".gitlab-ci.yml:3:3", "ci/included.yml:2:1"]);
        assert_eq!(result.problems.iter().map(|p| p.line).collect::<Vec<_>>(), [Some(1), Some(3), None]);
        assert_eq!((result.listing[0].mark, result.listing[1].mark, result.listing[2].mark), ("warning", "", "error"));
        assert_eq!(result.listing[2].problems, [("error", "column 3: `build`: unknown keyword `colour`".to_owned())]);
    }
}
