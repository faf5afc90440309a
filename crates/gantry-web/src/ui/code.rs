//! The code browser, under GitLab's URLs: `/-/tree/:ref/*path`, `/-/last_commits/…` (JSON for
//! the tree page's script) and `/-/refs/switch` (the branch and tag picker's form target) here,
//! with what the pages share; a file's pages in `code/blob.rs`, blame in `code/blame.rs`,
//! archives in `code/archive.rs`, the history pages in `history.rs`. A ref may contain
//! slashes: the longest branch or tag that matches wins, as in GitLab.

use askama::Template;
use axum::Extension;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use gantry_core::CoreError;
use gantry_git::GitError;
use gantry_git::read::{EntryKind, PathObject, Reader, RefPath, TreeEntry};
use gantry_git::refs::CommitSummary;
use serde::Deserialize;

use super::project_frame::ProjectFrame;
use super::{Chrome, PageResult, render, see_other};
use crate::AppState;
use crate::auth::PageActor;
use crate::error::PageError;
use crate::markup::links::RepositoryLinks;
use crate::markup::{escape, render_markdown};
use crate::namespace_dispatch::ProjectTarget;
use crate::time_format::ago;

pub mod archive;
pub mod blame;
pub mod blob;
pub mod edit;

/// How many commits the tree view looks through for each entry's last commit.
const LAST_COMMIT_BUDGET: usize = 2000;

/// What a path segment of a URL may not hold as it is (slashes stay: they separate segments).
const PATH_ESCAPES: &percent_encoding::AsciiSet = &percent_encoding::CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'%')
    .add(b'<')
    .add(b'>')
    .add(b'?')
    .add(b'`')
    .add(b'{')
    .add(b'}');

/// Percent-encodes a path for a URL, keeping its slashes.
pub(crate) fn url_path(path: &str) -> String {
    percent_encoding::utf8_percent_encode(path, PATH_ESCAPES).to_string()
}

/// A commit as lists show it.
pub struct CommitLine {
    pub id: String,
    pub short_id: String,
    pub title: String,
    pub author: String,
    pub when: String,
    /// The commit's newest pipeline: its id and status label, when there is one to show.
    pub pipeline: Option<(gantry_types::PipelineId, &'static str)>,
}

impl CommitLine {
    pub(crate) fn new(commit: &CommitSummary, now: i64) -> CommitLine {
        CommitLine {
            short_id: commit.id.chars().take(8).collect(),
            id: commit.id.clone(),
            title: commit.title.clone(),
            author: commit.author_name.clone(),
            when: ago(commit.committed_date.saturating_mul(1000), now),
            pipeline: None,
        }
    }
}

/// The ref picker: branches and tags, the current one marked.
pub struct RefPicker {
    pub current: String,
    pub path: String,
    pub branches: Vec<String>,
    pub tags: Vec<String>,
    /// Find file at the current ref (the `t` key and the tree's button).
    pub find_file_href: String,
}

/// One row of a directory listing.
pub struct EntryRow {
    pub name: String,
    pub href: String,
    /// `folder`, `file`, `link` or `submodule` (a CSS class draws it).
    pub icon: &'static str,
}

/// A step of the path trail (`src` / `lib`).
pub struct PathCrumb {
    pub name: String,
    pub href: String,
}

pub(crate) fn path_crumbs(project: &str, reference: &str, path: &str) -> Vec<PathCrumb> {
    let mut crumbs = Vec::new();
    let mut so_far = String::new();
    for part in path.split('/').filter(|p| !p.is_empty()) {
        if !so_far.is_empty() {
            so_far.push('/');
        }
        so_far.push_str(part);
        crumbs.push(PathCrumb {
            name: part.to_owned(),
            href: format!("/{project}/-/tree/{}/{}", url_path(reference), url_path(&so_far)),
        });
    }
    crumbs
}

pub(crate) fn not_found(visitor: &PageActor, what: &'static str) -> PageError {
    visitor.error(CoreError::NotFound(what))
}

/// Resolves `ref/path` and runs `read` at it, in one pass over the repository (one access
/// check, one trip to a blocking thread); 404 when no branch, tag or commit matches.
pub(crate) async fn read_at<T, F>(
    state: &AppState,
    visitor: &PageActor,
    frame: &ProjectFrame,
    ref_path: &str,
    read: F,
) -> Result<(RefPath, T), PageError>
where
    T: Send + 'static,
    F: FnOnce(&Reader, &RefPath) -> Result<T, GitError> + Send + 'static,
{
    let ref_path = ref_path.to_owned();
    let found = state
        .core
        .code()
        .read_repository(&visitor.actor, &frame.project, move |reader| {
            let Some(at) = reader.resolve_ref_path(&ref_path)? else { return Ok(None) };
            let value = read(reader, &at)?;
            Ok(Some((at, value)))
        })
        .await
        .map_err(|e| visitor.error(e))?;
    found.ok_or_else(|| not_found(visitor, "ref"))
}

/// [`read_at`] for a page: also the branch and tag names of the ref picker.
pub(crate) async fn read_for_page<T, F>(
    state: &AppState,
    visitor: &PageActor,
    frame: &ProjectFrame,
    ref_path: &str,
    read: F,
) -> Result<(RefPath, RefPicker, T), PageError>
where
    T: Send + 'static,
    F: FnOnce(&Reader, &RefPath) -> Result<T, GitError> + Send + 'static,
{
    let (at, (value, branches, tags)) = read_at(state, visitor, frame, ref_path, move |reader, at| {
        Ok((read(reader, at)?, reader.branch_names()?, reader.tag_names()?))
    })
    .await?;
    let find_file_href = format!("/{}/-/find_file/{}", frame.project.full_path, url_path(&at.reference));
    let picker = RefPicker { current: at.reference.clone(), path: at.path.clone(), branches, tags, find_file_href };
    Ok((at, picker, value))
}

#[derive(Template)]
#[template(path = "projects/tree.html")]
struct TreePage {
    chrome: Chrome,
    frame: ProjectFrame,
    tab: &'static str,
    picker: RefPicker,
    trail: Vec<PathCrumb>,
    entries: Vec<EntryRow>,
    parent_href: Option<String>,
    readme: Option<(String, String)>,
    history_href: String,
    /// The archive URL without its extension.
    archive_base: String,
    /// Where the page's script fetches each entry's last commit.
    last_commits_href: String,
    /// The ref and folder of the new-file, upload and new-folder pages (`main/src`).
    change_base: String,
}

/// `GET /{project}/-/tree/{ref}/{*path}`
pub async fn tree(
    State(state): State<AppState>,
    visitor: PageActor,
    Extension(target): Extension<ProjectTarget>,
    Path(ref_path): Path<String>,
) -> PageResult {
    let frame = ProjectFrame::load(&state, &visitor, target).await?;
    let (at, picker, listing) = read_for_page(&state, &visitor, &frame, &ref_path, |reader, at| {
        let Some(object) = reader.object_at(&at.commit, &at.path)? else { return Ok(None) };
        let PathObject::Tree(entries) = object else { return Ok(Some((object, None))) };
        let readme = find_readme(reader, &at.commit, &at.path, &entries)?;
        Ok(Some((PathObject::Tree(entries), readme)))
    })
    .await?;
    let project = frame.project.full_path.clone();
    let reference = url_path(&at.reference);
    let Some((object, readme)) = listing else { return Err(not_found(&visitor, "file")) };
    let entries: Vec<TreeEntry> = match object {
        PathObject::Tree(entries) => entries,
        PathObject::Blob(_) => return see_other(&format!("/{project}/-/blob/{reference}/{}", url_path(&at.path))),
        PathObject::Submodule(_) => return Err(not_found(&visitor, "directory")),
    };
    let prefix = if at.path.is_empty() { String::new() } else { format!("{}/", at.path) };
    let rows = entries
        .into_iter()
        .map(|entry| {
            let full = format!("{prefix}{}", entry.name);
            let (verb, icon) = match entry.kind {
                EntryKind::Tree => ("tree", "folder"),
                EntryKind::Submodule => ("tree", "submodule"),
                EntryKind::Symlink => ("blob", "link"),
                _ => ("blob", "file"),
            };
            EntryRow { href: format!("/{project}/-/{verb}/{reference}/{}", url_path(&full)), icon, name: entry.name }
        })
        .collect();
    let parent_href = (!at.path.is_empty()).then(|| {
        let parent = at.path.rsplit_once('/').map_or("", |(p, _)| p);
        format!("/{project}/-/tree/{reference}/{}", url_path(parent))
    });
    let readme = readme.map(|(name, data)| render_readme(&project, &at.reference, &at.path, &name, &data));
    let page = TreePage {
        chrome: Chrome::new(&visitor),
        trail: path_crumbs(&project, &at.reference, &at.path),
        history_href: format!("/{project}/-/commits/{reference}/{}", url_path(&at.path)),
        last_commits_href: format!("/{project}/-/last_commits/{reference}/{}", url_path(&at.path)),
        change_base: format!("{reference}/{}", url_path(&at.path)),
        archive_base: format!(
            "/{project}/-/archive/{reference}/{}-{}",
            url_path(&frame.project.path),
            url_path(&at.reference.replace('/', "-"))
        ),
        picker,
        tab: "code",
        frame,
        entries: rows,
        parent_href,
        readme,
    };
    render(StatusCode::OK, &page)
}

fn is_readme(name: &str) -> bool {
    let lower = name.to_lowercase();
    ["readme.md", "readme.markdown", "readme", "readme.txt", "readme.rst"].contains(&lower.as_str())
}

/// The README among a folder's entries, with its bytes.
pub fn find_readme(
    reader: &gantry_git::read::Reader,
    commit: &str,
    dir: &str,
    entries: &[TreeEntry],
) -> Result<Option<(String, Vec<u8>)>, gantry_git::GitError> {
    let Some(entry) = entries.iter().find(|e| e.kind == EntryKind::Blob && is_readme(&e.name)) else {
        return Ok(None);
    };
    let file = if dir.is_empty() { entry.name.clone() } else { format!("{dir}/{}", entry.name) };
    Ok(match reader.object_at(commit, &file)? {
        Some(PathObject::Blob(blob)) if blob.is_complete() => Some((entry.name.clone(), blob.data)),
        _ => None,
    })
}

/// A README as HTML: markdown rendered (its relative links and images leading into the
/// repository at `reference`, from the folder `dir`), other text preformatted.
pub fn render_readme(project: &str, reference: &str, dir: &str, name: &str, data: &[u8]) -> (String, String) {
    let text = String::from_utf8_lossy(data);
    let lower = name.to_lowercase();
    let html = if lower.ends_with(".md") || lower.ends_with(".markdown") {
        let links = RepositoryLinks::repository(project, reference, dir);
        render_markdown(&text, Some(&links))
    } else {
        format!("<pre>{}</pre>", escape(&text))
    };
    (name.to_owned(), html)
}

#[derive(Debug, Deserialize)]
pub struct SwitchQuery {
    #[serde(default, rename = "ref")]
    reference: String,
    #[serde(default)]
    path: String,
    #[serde(default)]
    view: String,
}

/// `GET /{project}/-/refs/switch?ref=…&path=…&view=tree|blob|commits`: the picker's target.
pub async fn switch_ref(
    State(state): State<AppState>,
    visitor: PageActor,
    Extension(target): Extension<ProjectTarget>,
    Query(query): Query<SwitchQuery>,
) -> PageResult {
    let frame = ProjectFrame::load(&state, &visitor, target).await?;
    let view = match query.view.as_str() {
        "blob" => "blob",
        "commits" => "commits",
        _ => "tree",
    };
    let reference =
        if query.reference.trim().is_empty() { frame.project.default_branch.clone() } else { query.reference };
    see_other(&format!("/{}/-/{view}/{}/{}", frame.project.full_path, url_path(&reference), url_path(&query.path)))
}

/// One entry's last commit, for the tree page's script.
#[derive(Debug, serde::Serialize)]
pub struct LastCommit {
    pub id: String,
    pub title: String,
    pub author: String,
    pub when: String,
    pub href: String,
}

/// `GET /{project}/-/last_commits/{ref}/{*path}`: the last commit of each entry of a folder
/// (or of one file), as JSON. The tree page asks for it after it is shown: walking the history can take longer
/// than listing the folder.
pub async fn last_commits(
    State(state): State<AppState>,
    visitor: PageActor,
    Extension(target): Extension<ProjectTarget>,
    Path(ref_path): Path<String>,
) -> Result<axum::Json<std::collections::HashMap<String, LastCommit>>, PageError> {
    let frame = ProjectFrame::load(&state, &visitor, target).await?;
    let (_, found) = read_at(&state, &visitor, &frame, &ref_path, |reader, at| {
        let (commit, path) = (&at.commit, &at.path);
        match reader.object_at(commit, path)? {
            Some(PathObject::Tree(entries)) => {
                let names: Vec<String> = entries.into_iter().map(|e| e.name).collect();
                reader.last_commits(commit, path, &names, LAST_COMMIT_BUDGET).map(Some)
            }
            // A file: its own last commit, under its name.
            Some(PathObject::Blob(_)) => {
                let name = path.rsplit('/').next().unwrap_or(path).to_owned();
                let last = reader.history(commit, Some(path), 0, 1)?.0.into_iter().next();
                Ok(Some(last.map(|c| (name, c)).into_iter().collect()))
            }
            _ => Ok(None),
        }
    })
    .await?;
    let found = found.ok_or_else(|| not_found(&visitor, "directory"))?;
    let now = gantry_core::now_millis();
    let project = &frame.project.full_path;
    Ok(axum::Json(
        found
            .into_iter()
            .map(|(name, commit)| {
                let line = CommitLine::new(&commit, now);
                let href = format!("/{project}/-/commit/{}", line.id);
                (name, LastCommit { id: line.id, title: line.title, author: line.author, when: line.when, href })
            })
            .collect(),
    ))
}
