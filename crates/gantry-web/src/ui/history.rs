//! History pages of the code browser: `/-/commits/:ref/*path` (paged), `/-/commit/:sha` (the
//! message and the diff, with forms to cherry-pick or revert it onto a branch) and
//! `/-/compare/from...to` (commits and the diff since the merge base). The frame, the ref
//! picker and ref resolution are shared with `code.rs`.

use askama::Template;
use axum::Extension;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use gantry_core::CoreError;
use gantry_core::code::commits::{ChangeOutcome, CommitChange};
use gantry_git::diff::{Diff, FileStatus};
use gantry_git::refs::{CommitSummary, RefKind};
use gantry_git::write::ChangeKind;
use serde::Deserialize;

use super::code::{CommitLine, PathCrumb, RefPicker, not_found, path_crumbs, read_for_page, url_path};
use super::project_frame::ProjectFrame;
use super::{Chrome, PageResult, form_error, render, see_other};
use crate::AppState;
use crate::auth::{CsrfForm, PageActor};
use crate::markup::{LineHighlighter, escape};
use crate::namespace_dispatch::ProjectTarget;
use crate::time_format::ago;

/// Commits per page of the history.
const COMMITS_PER_PAGE: usize = 40;
/// How many of the branches holding a commit its page names.
const CONTAINING_BRANCHES_SHOWN: usize = 20;
/// Diffs of more lines than this in one file are collapsed.
const COLLAPSE_LINES: usize = 500;

#[derive(Template)]
#[template(path = "projects/commits.html")]
struct CommitsPage {
    chrome: Chrome,
    frame: ProjectFrame,
    tab: &'static str,
    picker: RefPicker,
    trail: Vec<PathCrumb>,
    commits: Vec<CommitLine>,
    newer_href: Option<String>,
    older_href: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub struct PageQuery {
    page: Option<usize>,
}

/// `GET /{project}/-/commits/{ref}/{*path}`: the history, newest first, 40 a page.
pub async fn commits(
    State(state): State<AppState>,
    visitor: PageActor,
    Extension(target): Extension<ProjectTarget>,
    Path(ref_path): Path<String>,
    Query(query): Query<PageQuery>,
) -> PageResult {
    let frame = ProjectFrame::load(&state, &visitor, target).await?;
    let page = query.page.unwrap_or(1).clamp(1, 100_000);
    let (at, picker, (found, more)) = read_for_page(&state, &visitor, &frame, &ref_path, move |reader, at| {
        let path = Some(at.path.as_str()).filter(|p| !p.is_empty());
        reader.history(&at.commit, path, (page - 1) * COMMITS_PER_PAGE, COMMITS_PER_PAGE)
    })
    .await?;
    let project = frame.project.full_path.clone();
    let here = format!("/{project}/-/commits/{}/{}", url_path(&at.reference), url_path(&at.path));
    let now = gantry_core::now_millis();
    let shas: Vec<String> = found.iter().map(|c| c.id.clone()).collect();
    let pipelines = state.core.ci().pipelines_of_commits(&frame.access, &shas).await?;
    let commits = found
        .iter()
        .map(|c| {
            let mut line = CommitLine::new(c, now);
            line.pipeline = pipelines.get(&c.id).map(|p| (p.id, p.status.label()));
            line
        })
        .collect();
    let page = CommitsPage {
        chrome: Chrome::new(&visitor),
        trail: path_crumbs(&project, &at.reference, &at.path),
        commits,
        newer_href: (page > 1).then(|| format!("{here}?page={}", page - 1)),
        older_href: more.then(|| format!("{here}?page={}", page + 1)),
        picker,
        tab: "code",
        frame,
    };
    render(StatusCode::OK, &page)
}

/// A file of a diff as the page shows it.
pub struct FileRow {
    pub anchor: String,
    pub path: String,
    pub old_path: Option<String>,
    pub status: &'static str,
    pub additions: usize,
    pub deletions: usize,
    pub binary: bool,
    pub collapsed: bool,
    pub hunks: Vec<HunkView>,
    pub view_href: Option<String>,
}

/// A hunk of a diff as the page shows it: its lines highlighted as the file's language.
pub struct HunkView {
    pub header: String,
    pub lines: Vec<DiffLineView>,
}

/// One line of a [`HunkView`]: `kind` as in [`gantry_git::diff::DiffLine`], `html` escaped.
pub struct DiffLineView {
    pub kind: char,
    pub old_number: Option<u32>,
    pub new_number: Option<u32>,
    pub html: String,
}

/// At most this many lines of a page's diff are highlighted (the rest are shown plain).
const HIGHLIGHTED_DIFF_LINES: usize = 10_000;

/// A file's hunks with their lines highlighted while `budget` lasts. Each side of a hunk is
/// highlighted in its own order: context and added lines as the new file, context and removed
/// lines as the old one, so a comment opened on one side colours the lines after it there.
fn highlight_hunks(path: &str, hunks: Vec<gantry_git::diff::Hunk>, budget: &mut usize) -> Vec<HunkView> {
    hunks
        .into_iter()
        .map(|hunk| {
            let highlight = *budget >= hunk.lines.len();
            *budget = budget.saturating_sub(hunk.lines.len());
            let start = || highlight.then(|| LineHighlighter::for_file(path, "")).flatten();
            let (mut old_side, mut new_side) = (start(), start());
            let lines = hunk
                .lines
                .into_iter()
                .map(|line| {
                    let text = format!("{}\n", line.text);
                    let side = |highlighter: &mut Option<LineHighlighter>| {
                        highlighter.as_mut().map_or_else(|| escape(&line.text), |h| h.line(&text))
                    };
                    let html = match line.kind {
                        '+' => side(&mut new_side),
                        '-' => side(&mut old_side),
                        ' ' => {
                            side(&mut old_side);
                            side(&mut new_side)
                        }
                        _ => escape(&line.text),
                    };
                    DiffLineView { kind: line.kind, old_number: line.old_number, new_number: line.new_number, html }
                })
                .collect();
            HunkView { header: hunk.header, lines }
        })
        .collect()
}

/// The files of a diff, large ones collapsed.
pub fn file_rows(diff: Diff, project: &str, at: &str) -> Vec<FileRow> {
    let mut budget = HIGHLIGHTED_DIFF_LINES;
    diff.files
        .into_iter()
        .enumerate()
        .map(|(n, file)| {
            let lines: usize = file.hunks.iter().map(|h| h.lines.len()).sum();
            let hunks = highlight_hunks(&file.new_path, file.hunks, &mut budget);
            let status = match file.status {
                FileStatus::Added => "added",
                FileStatus::Deleted => "deleted",
                FileStatus::Modified => "modified",
                FileStatus::Renamed => "renamed",
            };
            FileRow {
                anchor: format!("diff-{n}"),
                old_path: (file.old_path != file.new_path).then(|| file.old_path.clone()),
                view_href: (file.status != FileStatus::Deleted)
                    .then(|| format!("/{project}/-/blob/{at}/{}", url_path(&file.new_path))),
                path: file.new_path,
                status,
                additions: file.additions,
                deletions: file.deletions,
                binary: file.binary,
                collapsed: lines > COLLAPSE_LINES,
                hunks,
            }
        })
        .collect()
}

#[derive(Template)]
#[template(path = "projects/commit.html")]
struct CommitPage {
    chrome: Chrome,
    frame: ProjectFrame,
    tab: &'static str,
    commit: CommitSummary,
    authored: String,
    body: String,
    files: Vec<FileRow>,
    additions: usize,
    deletions: usize,
    truncated: bool,
    browse_href: String,
    /// The commit's newest pipeline (id, status label).
    pipeline: Option<(gantry_types::PipelineId, &'static str)>,
    /// Statuses other systems reported: name, status label, link, description.
    statuses: Vec<(String, &'static str, Option<String>, Option<String>)>,
    /// The branches a visitor who may push can cherry-pick or revert the commit onto.
    branches: Vec<String>,
    /// The branches that hold the commit (the first [`CONTAINING_BRANCHES_SHOWN`]), and
    /// whether there are more.
    containing: Vec<String>,
    more_containing: bool,
    /// The branch the forms offer first, and why the last cherry-pick or revert failed.
    target_branch: String,
    error: Option<String>,
}

/// `GET /{project}/-/commit/{sha}`: a commit and its diff.
pub async fn commit(
    State(state): State<AppState>,
    visitor: PageActor,
    Extension(target): Extension<ProjectTarget>,
    Path(revision): Path<String>,
) -> PageResult {
    let frame = ProjectFrame::load(&state, &visitor, target).await?;
    commit_page(&state, &visitor, frame, revision, None, None).await
}

/// The commit page, with the outcome of a failed cherry-pick or revert onto `branch`.
async fn commit_page(
    state: &AppState,
    visitor: &PageActor,
    frame: ProjectFrame,
    revision: String,
    branch: Option<String>,
    failure: Option<(StatusCode, String)>,
) -> PageResult {
    let summary = state
        .core
        .code()
        .read_repository(&visitor.actor, &frame.project, move |reader| match reader.resolve(&revision)? {
            Some(id) => reader.commit(&id).map(Some),
            None => Ok(None),
        })
        .await
        .map_err(|e| visitor.error(e))?
        .ok_or_else(|| not_found(visitor, "commit"))?;
    let diff = state
        .core
        .code()
        .commit_diff(&visitor.actor, &frame.project, &summary.id)
        .await
        .map_err(|e| visitor.error(e))?;
    let project = frame.project.full_path.clone();
    let pipeline = state
        .core
        .ci()
        .pipelines_of_commits(&frame.access, std::slice::from_ref(&summary.id))
        .await?
        .remove(&summary.id)
        .map(|p| (p.id, p.status.label()));
    let statuses = state
        .core
        .ci()
        .visible_commit_statuses(&visitor.actor, &frame.project, &summary.id)
        .await
        .map_err(|e| visitor.error(e))?
        .into_iter()
        .map(|s| (s.name, s.status.label(), s.target_url, s.description))
        .collect();
    let mut containing: Vec<String> = state
        .core
        .code()
        .refs_containing(&visitor.actor, &frame.project, &summary.id, &[RefKind::Branch], CONTAINING_BRANCHES_SHOWN + 1)
        .await
        .map_err(|e| visitor.error(e))?
        .into_iter()
        .map(|(_, name)| name)
        .collect();
    let more_containing = containing.len() > CONTAINING_BRANCHES_SHOWN;
    containing.truncate(CONTAINING_BRANCHES_SHOWN);
    let branches = if frame.can_push {
        state
            .core
            .code()
            .read_repository(&visitor.actor, &frame.project, |reader| reader.branch_names())
            .await
            .map_err(|e| visitor.error(e))?
    } else {
        Vec::new()
    };
    let (status, error) = match failure {
        Some((status, message)) => (status, Some(message)),
        None => (StatusCode::OK, None),
    };
    let page = CommitPage {
        statuses,
        pipeline,
        target_branch: branch.unwrap_or_else(|| frame.project.default_branch.clone()),
        branches,
        containing,
        more_containing,
        error,
        chrome: Chrome::new(visitor),
        authored: ago(summary.authored_date.saturating_mul(1000), gantry_core::now_millis()),
        body: summary.message.split_once('\n').map(|(_, body)| body.trim().to_owned()).unwrap_or_default(),
        additions: diff.additions(),
        deletions: diff.deletions(),
        truncated: diff.truncated,
        files: file_rows(diff, &project, &summary.id),
        browse_href: format!("/{project}/-/tree/{}", summary.id),
        commit: summary,
        tab: "code",
        frame,
    };
    render(status, &page)
}

#[derive(Debug, Deserialize)]
pub struct ChangeForm {
    #[serde(default)]
    branch: String,
}

/// `POST /{project}/-/commit/{sha}/cherry_pick`: the commit's change as a new commit on the
/// form's branch.
pub async fn cherry_pick(
    state: State<AppState>,
    visitor: PageActor,
    target: Extension<ProjectTarget>,
    revision: Path<String>,
    form: CsrfForm<ChangeForm>,
) -> PageResult {
    change(state, visitor, target, revision, form, ChangeKind::CherryPick).await
}

/// `POST /{project}/-/commit/{sha}/revert`: a new commit on the form's branch that undoes the
/// commit's change.
pub async fn revert(
    state: State<AppState>,
    visitor: PageActor,
    target: Extension<ProjectTarget>,
    revision: Path<String>,
    form: CsrfForm<ChangeForm>,
) -> PageResult {
    change(state, visitor, target, revision, form, ChangeKind::Revert).await
}

/// Makes the change and shows the new commit; a change that fails is told on the commit's page.
async fn change(
    State(state): State<AppState>,
    visitor: PageActor,
    Extension(target): Extension<ProjectTarget>,
    Path(revision): Path<String>,
    CsrfForm(form): CsrfForm<ChangeForm>,
    kind: ChangeKind,
) -> PageResult {
    let frame = ProjectFrame::load(&state, &visitor, target).await?;
    let change =
        CommitChange { kind, commit: revision.clone(), branch: form.branch.clone(), dry_run: false, message: None };
    let failure = match state.core.code().change_commit(&visitor.actor, &frame.access, &change).await {
        Ok(ChangeOutcome::Committed(commit)) => {
            return see_other(&format!("/{}/-/commit/{}", frame.project.full_path, commit.id));
        }
        Ok(ChangeOutcome::WouldSucceed) => {
            return see_other(&format!("/{}/-/commit/{revision}", frame.project.full_path));
        }
        Ok(ChangeOutcome::Failed(failure)) => (StatusCode::BAD_REQUEST, failure.message(kind)),
        Err(error @ (CoreError::Invalid { .. } | CoreError::Forbidden(_) | CoreError::Conflict(_))) => {
            form_error(error)
        }
        Err(CoreError::NotFound("branch")) => {
            (StatusCode::BAD_REQUEST, format!("There is no branch '{}' to change.", form.branch.trim()))
        }
        Err(error) => return Err(visitor.error(error)),
    };
    commit_page(&state, &visitor, frame, revision, Some(form.branch), Some(failure)).await
}

#[derive(Template)]
#[template(path = "projects/compare.html")]
struct ComparePage {
    chrome: Chrome,
    frame: ProjectFrame,
    tab: &'static str,
    branches: Vec<String>,
    tags: Vec<String>,
    from: String,
    to: String,
    commits: Vec<CommitLine>,
    more_commits: bool,
    files: Vec<FileRow>,
    additions: usize,
    deletions: usize,
    truncated: bool,
    error: Option<String>,
    compared: bool,
}

#[derive(Debug, Default, Deserialize)]
pub struct CompareQuery {
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
}

/// `GET /{project}/-/compare[?from=…&to=…]`: the form (and where it lands).
pub async fn compare_form(
    State(state): State<AppState>,
    visitor: PageActor,
    Extension(target): Extension<ProjectTarget>,
    Query(query): Query<CompareQuery>,
) -> PageResult {
    let frame = ProjectFrame::load(&state, &visitor, target).await?;
    if !query.from.trim().is_empty() && !query.to.trim().is_empty() {
        let spec = format!("{}...{}", query.from.trim(), query.to.trim());
        return see_other(&format!("/{}/-/compare/{}", frame.project.full_path, url_path(&spec)));
    }
    compare_page(&state, &visitor, frame, (query.from.trim().to_owned(), query.to.trim().to_owned()), None).await
}

/// `GET /{project}/-/compare/{from}...{to}`: commits in `to` not in `from`, and the diff
/// since their merge base.
pub async fn compare(
    State(state): State<AppState>,
    visitor: PageActor,
    Extension(target): Extension<ProjectTarget>,
    Path(spec): Path<String>,
) -> PageResult {
    let frame = ProjectFrame::load(&state, &visitor, target).await?;
    let Some((from, to)) = spec.split_once("...").or_else(|| spec.split_once("..")) else {
        let error = Some("Compare two refs as from...to, such as main...feature.".to_owned());
        return compare_page(&state, &visitor, frame, (String::new(), String::new()), error).await;
    };
    compare_page(&state, &visitor, frame, (from.to_owned(), to.to_owned()), None).await
}

async fn compare_page(
    state: &AppState,
    visitor: &PageActor,
    frame: ProjectFrame,
    (from, to): (String, String),
    error: Option<String>,
) -> PageResult {
    let (from_name, to_name) = (from.clone(), to.clone());
    let (branches, tags, ids) = state
        .core
        .code()
        .read_repository(&visitor.actor, &frame.project, move |reader| {
            let ids = match (reader.resolve(&from_name)?, reader.resolve(&to_name)?) {
                (Some(from), Some(to)) => {
                    let (commits, more) = reader.commits_between(&from, &to, 100)?;
                    Some((from, to, commits, more))
                }
                _ => None,
            };
            Ok((reader.branch_names()?, reader.tag_names()?, ids))
        })
        .await
        .map_err(|e| visitor.error(e))?;
    let now = gantry_core::now_millis();
    let project = frame.project.full_path.clone();
    let mut page = ComparePage {
        chrome: Chrome::new(visitor),
        tab: "code",
        branches,
        tags,
        commits: Vec::new(),
        more_commits: false,
        files: Vec::new(),
        additions: 0,
        deletions: 0,
        truncated: false,
        compared: false,
        error,
        from,
        to,
        frame,
    };
    let mut status = StatusCode::OK;
    match ids {
        Some((from_id, to_id, commits, more)) => {
            let diff = state
                .core
                .code()
                .compare_diff(&visitor.actor, &page.frame.project, &from_id, &to_id)
                .await
                .map_err(|e| visitor.error(e))?;
            page.commits = commits.iter().map(|c| CommitLine::new(c, now)).collect();
            page.more_commits = more;
            page.additions = diff.additions();
            page.deletions = diff.deletions();
            page.truncated = diff.truncated;
            page.files = file_rows(diff, &project, &to_id);
            page.compared = true;
        }
        None if !page.from.is_empty() || !page.to.is_empty() => {
            status = StatusCode::NOT_FOUND;
            page.error = Some(format!("'{}' or '{}' is not a branch, tag or commit.", page.from, page.to));
        }
        None => {}
    }
    render(status, &page)
}
