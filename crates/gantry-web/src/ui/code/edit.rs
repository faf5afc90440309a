//! Changing files from the browser, under GitLab's URLs: edit a file (`/-/edit/:ref/*path`),
//! create one (`/-/new/:ref/*dir`), upload files (`/-/upload/:ref/*dir`), make a folder
//! (`/-/new_dir/:ref/*dir`) and delete a file (`/-/delete/:ref/*path`). Each change is one
//! commit by the visitor through `Code::commit_files`, so git's push policy applies (protected
//! branches refuse with the same words) and a file changed since the page was opened is not
//! overwritten. Every refusal shows the form again with what the visitor wrote.
//!
//! Uploads, which read a multipart form, are in `edit/upload.rs`.
//!
//! Long because the five pages are one form with one commit path and one refusal path (the
//! target branch, the stale check, the message kept); split by page they would pass most of it
//! around.

use askama::Template;
use axum::Extension;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use gantry_core::CoreError;
use gantry_core::code::commits::{ActionKind, CommitAction, NewCommit};
use gantry_core::policy::ProjectAction;
use gantry_git::read::PathObject;
use serde::Deserialize;

use super::{PathCrumb, not_found, path_crumbs, read_at, url_path};
use crate::AppState;
use crate::auth::{CsrfForm, PageActor};
use crate::error::PageError;
use crate::markup::render_markdown;
use crate::namespace_dispatch::ProjectTarget;
use crate::ui::flash::{Flash, see_other_with};
use crate::ui::project_frame::ProjectFrame;
use crate::ui::{Chrome, PageResult, human_size, render};

mod upload;

pub use upload::{upload, upload_form};

/// The largest file the editor opens (its text travels back in a form).
pub const EDIT_LIMIT_BYTES: usize = 1 << 20;
/// The largest body of the editor's form: the text, percent-encoded (up to three bytes for one).
pub const EDIT_FORM_LIMIT: usize = 3 * EDIT_LIMIT_BYTES + 64 * 1024;
/// The most bytes one upload may carry, all files together.
pub const UPLOAD_LIMIT_BYTES: usize = 10 << 20;
/// The most files one upload may carry.
const UPLOAD_MAX_FILES: usize = 100;

/// What the page changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeKind {
    Edit,
    New,
    Upload,
    NewDir,
    Delete,
}

impl ChangeKind {
    /// The URL word (`/-/edit/…`).
    fn verb(self) -> &'static str {
        match self {
            ChangeKind::Edit => "edit",
            ChangeKind::New => "new",
            ChangeKind::Upload => "upload",
            ChangeKind::NewDir => "new_dir",
            ChangeKind::Delete => "delete",
        }
    }

    /// Whether the URL's path names a file (not a folder).
    fn on_a_file(self) -> bool {
        matches!(self, ChangeKind::Edit | ChangeKind::Delete)
    }
}

/// What the visitor filled in (or what the page starts with).
#[derive(Debug, Default, Deserialize)]
pub struct ChangeForm {
    /// Edit: the file's path (a new one moves it). New: its name inside the folder.
    #[serde(default)]
    file_path: String,
    #[serde(default)]
    content: String,
    /// New folder: its name inside the folder.
    #[serde(default)]
    dir_name: String,
    #[serde(default)]
    commit_message: String,
    /// The branch the commit goes to; another than the one opened makes a new branch.
    #[serde(default)]
    branch_name: String,
    /// The last commit that changed the file when the page was opened.
    #[serde(default)]
    last_commit_sha: String,
    /// The file had CRLF line ends (a browser sends every textarea with them).
    #[serde(default)]
    crlf: String,
    /// The Preview button was pressed: show the markdown, commit nothing.
    #[serde(default)]
    preview: Option<String>,
}

#[derive(Template)]
#[template(path = "projects/change_file.html")]
struct ChangePage {
    chrome: Chrome,
    frame: ProjectFrame,
    tab: &'static str,
    kind: ChangeKind,
    /// The branch, tag or commit the page was opened at, and the file or folder.
    reference: String,
    path: String,
    trail: Vec<PathCrumb>,
    action: String,
    cancel_href: String,
    form: ChangeForm,
    /// Where the branch field starts a new branch from, when the visitor cannot (or may not)
    /// commit to the one opened.
    new_branch_note: Option<String>,
    error: Option<String>,
    preview: Option<String>,
    markdown: bool,
    upload_limit: String,
}

impl ChangePage {
    fn heading(&self) -> String {
        match self.kind {
            ChangeKind::Edit => format!("Edit {}", self.path),
            ChangeKind::New => "New file".to_owned(),
            ChangeKind::Upload => "Upload files".to_owned(),
            ChangeKind::NewDir => "New folder".to_owned(),
            ChangeKind::Delete => format!("Delete {}", self.path),
        }
    }

    /// The folder a new file, upload or folder goes into, as the page shows it.
    fn folder_label(&self) -> String {
        if self.path.is_empty() { "/".to_owned() } else { format!("{}/", self.path) }
    }
}

/// The branch, tag or commit a change page was opened at, read once.
struct Opened {
    reference: String,
    commit: String,
    path: String,
    /// The file's text and whether it had CRLF line ends (edit), and the last commit that
    /// changed it (edit, delete).
    text: Option<(String, bool)>,
    last_commit: Option<String>,
    /// The visitor may commit to `reference` (a branch the push policy lets them push to).
    may_commit_here: bool,
    branches: Vec<String>,
}

/// Why a page cannot change what its URL names.
fn refuse(visitor: &PageActor, message: String) -> PageError {
    visitor.error(CoreError::Refused(message))
}

/// Reads what a change page needs at `ref_path`: the file (edit, delete) or folder (new,
/// upload, new folder), its last commit, and whether the visitor may commit to the ref.
async fn open(
    state: &AppState,
    visitor: &PageActor,
    frame: &ProjectFrame,
    kind: ChangeKind,
    ref_path: &str,
) -> Result<Opened, PageError> {
    frame.require(visitor, ProjectAction::PushCode)?;
    if matches!(kind, ChangeKind::New | ChangeKind::Upload) && state.core.repos().is_empty(frame.project.id) {
        return first_commit(state, visitor, frame, ref_path).await;
    }
    let (at, (object, last_commit)) = read_at(state, visitor, frame, ref_path, move |reader, at| {
        let object = reader.object_at(&at.commit, &at.path)?;
        let last = match &object {
            Some(PathObject::Blob(_)) if kind.on_a_file() => {
                reader.history(&at.commit, Some(&at.path), 0, 1)?.0.into_iter().next().map(|c| c.id)
            }
            _ => None,
        };
        Ok((object, last))
    })
    .await?;
    let text = match (kind, object) {
        (ChangeKind::Edit, Some(PathObject::Blob(blob))) => {
            if blob.is_binary() {
                return Err(refuse(visitor, format!("The file {} is binary: it cannot be edited here.", at.path)));
            }
            if !blob.is_complete() || blob.data.len() > EDIT_LIMIT_BYTES {
                return Err(refuse(
                    visitor,
                    format!(
                        "The file {} is larger than {}: change it with git instead.",
                        at.path,
                        human_size(EDIT_LIMIT_BYTES)
                    ),
                ));
            }
            let text = String::from_utf8(blob.data).map_err(|_| {
                refuse(visitor, format!("The file {} is not UTF-8 text: it cannot be edited here.", at.path))
            })?;
            let crlf = text.contains("\r\n");
            Some((text, crlf))
        }
        (ChangeKind::Delete, Some(PathObject::Blob(_))) => None,
        (ChangeKind::New | ChangeKind::Upload | ChangeKind::NewDir, Some(PathObject::Tree(_))) => None,
        (ChangeKind::Edit | ChangeKind::Delete, Some(PathObject::Tree(_))) => {
            return Err(refuse(visitor, format!("The path {} is a folder, not a file.", at.path)));
        }
        (ChangeKind::New | ChangeKind::Upload | ChangeKind::NewDir, Some(_)) => {
            return Err(refuse(visitor, format!("The path {} is a file: choose the folder to add to.", at.path)));
        }
        _ => return Err(not_found(visitor, if kind.on_a_file() { "file" } else { "directory" })),
    };
    let branches = state.core.code().list_branches(&frame.access, None).await.map_err(|e| visitor.error(e))?;
    let may_commit_here = branches.iter().any(|b| b.branch.name == at.reference && b.can_push);
    Ok(Opened {
        reference: at.reference,
        commit: at.commit,
        path: at.path,
        text,
        last_commit,
        may_commit_here,
        branches: branches.into_iter().map(|b| b.branch.name).collect(),
    })
}

/// A new file or upload into an empty repository: its first commit, on the default branch
/// (the only ref these pages take there).
async fn first_commit(
    state: &AppState,
    visitor: &PageActor,
    frame: &ProjectFrame,
    ref_path: &str,
) -> Result<Opened, PageError> {
    let default = &frame.project.default_branch;
    if ref_path.trim_matches('/') != default.as_str() {
        return Err(not_found(visitor, "ref"));
    }
    let may_commit_here =
        state.core.code().may_push_to_branch(&frame.access, default).await.map_err(|e| visitor.error(e))?;
    Ok(Opened {
        reference: default.clone(),
        commit: String::new(),
        path: String::new(),
        text: None,
        last_commit: None,
        may_commit_here,
        branches: Vec::new(),
    })
}

/// A branch name the visitor's change can go to when it cannot go to the branch opened:
/// `<username>-patch-<n>`, the first one free.
fn patch_branch(visitor: &PageActor, branches: &[String]) -> String {
    let user = visitor.actor.user().map_or("patch", |u| u.username.as_str());
    (1..)
        .map(|n| format!("{user}-patch-{n}"))
        .find(|name| !branches.contains(name))
        .unwrap_or_else(|| format!("{user}-patch"))
}

fn default_message(kind: ChangeKind, path: &str) -> String {
    let name = path.rsplit('/').next().unwrap_or(path);
    match kind {
        ChangeKind::Edit => format!("Update {name}"),
        ChangeKind::New => "Add new file".to_owned(),
        ChangeKind::Upload => "Upload New File".to_owned(),
        ChangeKind::NewDir => "Add new directory".to_owned(),
        ChangeKind::Delete => format!("Delete {name}"),
    }
}

fn is_markdown(path: &str) -> bool {
    let lower = path.to_lowercase();
    lower.ends_with(".md") || lower.ends_with(".markdown")
}

/// The page for `opened`, with the visitor's `form`.
fn page(
    visitor: &PageActor,
    frame: ProjectFrame,
    kind: ChangeKind,
    opened: &Opened,
    form: ChangeForm,
    error: Option<(StatusCode, String)>,
    preview: Option<String>,
) -> PageResult {
    let project = frame.project.full_path.clone();
    let reference = url_path(&opened.reference);
    let cancel_href = if kind.on_a_file() {
        format!("/{project}/-/blob/{reference}/{}", url_path(&opened.path))
    } else {
        format!("/{project}/-/tree/{reference}/{}", url_path(&opened.path))
    };
    let new_branch_note = (!opened.may_commit_here).then(|| {
        if opened.branches.contains(&opened.reference) {
            format!("You cannot commit to {} directly: your change goes to a new branch.", opened.reference)
        } else {
            format!("{} is not a branch: your change goes to a new branch started there.", opened.reference)
        }
    });
    let markdown_path = match kind {
        ChangeKind::Edit => form.file_path.as_str(),
        ChangeKind::New => form.file_path.as_str(),
        _ => "",
    };
    let (status, error) = match error {
        Some((status, message)) => (status, Some(crate::ui::sentence(&message))),
        None => (StatusCode::OK, None),
    };
    let page = ChangePage {
        chrome: Chrome::new(visitor),
        tab: "code",
        kind,
        reference: opened.reference.clone(),
        path: opened.path.clone(),
        trail: path_crumbs(&project, &opened.reference, &opened.path),
        action: format!("/{project}/-/{}/{reference}/{}", kind.verb(), url_path(&opened.path)),
        cancel_href,
        markdown: is_markdown(markdown_path) || (kind == ChangeKind::Edit && is_markdown(&opened.path)),
        form,
        new_branch_note,
        error,
        preview,
        upload_limit: human_size(UPLOAD_LIMIT_BYTES),
        frame,
    };
    render(status, &page)
}

/// The form a change page starts with.
fn starting_form(visitor: &PageActor, kind: ChangeKind, opened: &Opened) -> ChangeForm {
    let (content, crlf) = match &opened.text {
        Some((text, crlf)) => (text.clone(), *crlf),
        None => (String::new(), false),
    };
    ChangeForm {
        file_path: if kind == ChangeKind::Edit { opened.path.clone() } else { String::new() },
        content,
        commit_message: default_message(kind, &opened.path),
        branch_name: if opened.may_commit_here {
            opened.reference.clone()
        } else {
            patch_branch(visitor, &opened.branches)
        },
        last_commit_sha: opened.last_commit.clone().unwrap_or_default(),
        crlf: if crlf { "1".to_owned() } else { String::new() },
        ..ChangeForm::default()
    }
}

async fn show(
    state: AppState,
    visitor: PageActor,
    target: ProjectTarget,
    kind: ChangeKind,
    ref_path: String,
) -> PageResult {
    show_with_name(state, visitor, target, kind, ref_path, String::new()).await
}

async fn show_with_name(
    state: AppState,
    visitor: PageActor,
    target: ProjectTarget,
    kind: ChangeKind,
    ref_path: String,
    file_name: String,
) -> PageResult {
    let frame = ProjectFrame::load(&state, &visitor, target).await?;
    let opened = open(&state, &visitor, &frame, kind, &ref_path).await?;
    let mut form = starting_form(&visitor, kind, &opened);
    if !file_name.is_empty() {
        form.file_path = file_name;
    }
    page(&visitor, frame, kind, &opened, form, None, None)
}

/// `?file_path=` of the new-file page: the name it starts with (the empty project's "New
/// file" offers `README.md`).
#[derive(Debug, Default, Deserialize)]
pub struct NewFileQuery {
    #[serde(default)]
    file_path: String,
}

/// The file path inside the folder `dir`.
fn inside(dir: &str, name: &str) -> String {
    let name = name.trim();
    if dir.is_empty() { name.to_owned() } else { format!("{dir}/{name}") }
}

/// Refuses a name or path typed in a form that starts with `/` (it would look like a path
/// from the machine's root); the rest is checked with every commit.
fn relative(what: &str, name: &str) -> Result<(), String> {
    if name.trim().starts_with('/') {
        return Err(format!("The {what} cannot start with a slash: it is a path inside the repository."));
    }
    Ok(())
}

/// The commit `form` asks for on top of `opened`: its branch (a new one starts at the commit
/// opened), message and actions.
fn commit_of(opened: &Opened, form: &ChangeForm, actions: Vec<CommitAction>) -> Result<NewCommit, String> {
    let branch = form.branch_name.trim();
    if branch.is_empty() {
        return Err("Name the branch to commit to.".to_owned());
    }
    if form.commit_message.trim().is_empty() {
        return Err("Write a commit message.".to_owned());
    }
    let start_branch = if opened.commit.is_empty() {
        // The first commit of an empty repository: it makes the branch.
        if branch != opened.reference {
            return Err(format!("The repository is empty: its first commit goes to {}.", opened.reference));
        }
        None
    } else if branch == opened.reference && opened.branches.contains(&opened.reference) {
        None
    } else if opened.branches.iter().any(|b| b == branch) {
        return Err(format!(
            "A branch named {branch} already exists: name a new branch, or open the file on {branch} to change it there."
        ));
    } else {
        Some(opened.commit.clone())
    };
    Ok(NewCommit {
        branch: branch.to_owned(),
        start_branch,
        message: form.commit_message.clone(),
        actions,
        author_name: None,
        author_email: None,
        one_file: true,
    })
}

/// The text as the file stores it: a browser sends LF as CRLF.
fn stored_text(form: &ChangeForm) -> Vec<u8> {
    if form.crlf == "1" { form.content.clone().into_bytes() } else { form.content.replace("\r\n", "\n").into_bytes() }
}

/// Where the visitor lands after the commit went to `branch`: the file, or the folder, told
/// what happened.
fn after_commit(
    state: &AppState,
    visitor: &PageActor,
    frame: &ProjectFrame,
    (branch, new_branch): (&str, bool),
    (view, path): (&str, &str),
) -> PageResult {
    let location = format!("/{}/-/{view}/{}/{}", frame.project.full_path, url_path(branch), url_path(path));
    let notice = if new_branch {
        format!("Your changes were committed to the new branch {branch}.")
    } else {
        format!("Your changes were committed to {branch}.")
    };
    see_other_with(state, visitor, &location, &Flash::notice(notice))
}

/// Makes `commit`, or shows the form again with why it was refused.
#[allow(clippy::too_many_arguments)]
async fn commit_or_show(
    state: &AppState,
    visitor: PageActor,
    frame: ProjectFrame,
    kind: ChangeKind,
    opened: &Opened,
    form: ChangeForm,
    commit: Result<NewCommit, String>,
    landing: (&str, &str),
) -> PageResult {
    let commit = match commit {
        Ok(commit) => commit,
        Err(message) => {
            return page(&visitor, frame, kind, opened, form, Some((StatusCode::BAD_REQUEST, message)), None);
        }
    };
    match state.core.code().commit_files(&visitor.actor, &frame.access, &commit).await {
        Ok(_) => after_commit(state, &visitor, &frame, (&commit.branch, commit.start_branch.is_some()), landing),
        // The form names its fields itself: a refused value's message is enough.
        Err(CoreError::Invalid { message, .. }) => {
            page(&visitor, frame, kind, opened, form, Some((StatusCode::BAD_REQUEST, message)), None)
        }
        Err(error @ (CoreError::Refused(_) | CoreError::Forbidden(_) | CoreError::Conflict(_))) => {
            let error = crate::ui::form_error(error);
            page(&visitor, frame, kind, opened, form, Some(error), None)
        }
        Err(error) => Err(visitor.error(error)),
    }
}

/// `GET /{project}/-/edit/{ref}/{*path}`
pub async fn edit_form(
    State(state): State<AppState>,
    visitor: PageActor,
    Extension(target): Extension<ProjectTarget>,
    Path(ref_path): Path<String>,
) -> PageResult {
    show(state, visitor, target, ChangeKind::Edit, ref_path).await
}

/// `POST /{project}/-/edit/{ref}/{*path}`: commits the new text (and moves the file when its
/// path changed), or shows the markdown preview.
pub async fn edit(
    State(state): State<AppState>,
    visitor: PageActor,
    Extension(target): Extension<ProjectTarget>,
    Path(ref_path): Path<String>,
    CsrfForm(form): CsrfForm<ChangeForm, EDIT_FORM_LIMIT>,
) -> PageResult {
    let frame = ProjectFrame::load(&state, &visitor, target).await?;
    let opened = open(&state, &visitor, &frame, ChangeKind::Edit, &ref_path).await?;
    if form.preview.is_some() {
        return preview(&visitor, frame, ChangeKind::Edit, &opened, form);
    }
    let new_path = form.file_path.trim().to_owned();
    let moved = !new_path.is_empty() && new_path != opened.path;
    let action = CommitAction {
        kind: if moved { ActionKind::Move } else { ActionKind::Update },
        file_path: if moved { new_path.clone() } else { opened.path.clone() },
        previous_path: moved.then(|| opened.path.clone()),
        content: Some(stored_text(&form)),
        executable: None,
        last_commit_id: Some(form.last_commit_sha.clone()),
    };
    let commit = relative("file path", &new_path).and_then(|()| commit_of(&opened, &form, vec![action]));
    let landing = if moved { new_path } else { opened.path.clone() };
    commit_or_show(&state, visitor, frame, ChangeKind::Edit, &opened, form, commit, ("blob", &landing)).await
}

/// `GET /{project}/-/new/{ref}/{*dir}`
pub async fn new_form(
    State(state): State<AppState>,
    visitor: PageActor,
    Extension(target): Extension<ProjectTarget>,
    Path(ref_path): Path<String>,
    Query(query): Query<NewFileQuery>,
) -> PageResult {
    let name = query.file_path.chars().take(255).collect();
    show_with_name(state, visitor, target, ChangeKind::New, ref_path, name).await
}

/// `POST /{project}/-/new/{ref}/{*dir}`: commits a new file in the folder.
pub async fn create(
    State(state): State<AppState>,
    visitor: PageActor,
    Extension(target): Extension<ProjectTarget>,
    Path(ref_path): Path<String>,
    CsrfForm(form): CsrfForm<ChangeForm, EDIT_FORM_LIMIT>,
) -> PageResult {
    let frame = ProjectFrame::load(&state, &visitor, target).await?;
    let opened = open(&state, &visitor, &frame, ChangeKind::New, &ref_path).await?;
    if form.preview.is_some() {
        return preview(&visitor, frame, ChangeKind::New, &opened, form);
    }
    let path = inside(&opened.path, &form.file_path);
    let commit = commit_new(&opened, &form, ("file", &form.file_path), &path, stored_text(&form));
    commit_or_show(&state, visitor, frame, ChangeKind::New, &opened, form, commit, ("blob", &path)).await
}

/// The commit of one new file at `path`, made for the `(what, name)` the visitor typed (a
/// file's or a folder's name, relative to the page's folder); a missing or absolute name is
/// refused.
fn commit_new(
    opened: &Opened,
    form: &ChangeForm,
    (what, name): (&str, &str),
    path: &str,
    content: Vec<u8>,
) -> Result<NewCommit, String> {
    if name.trim().trim_matches('/').is_empty() {
        return Err(format!("Name the new {what}."));
    }
    relative(&format!("{what} name"), name)?;
    let action = CommitAction {
        kind: ActionKind::Create,
        file_path: path.to_owned(),
        previous_path: None,
        content: Some(content),
        executable: None,
        last_commit_id: None,
    };
    commit_of(opened, form, vec![action])
}

/// The edit or new-file page again, with the markdown rendered below the text.
fn preview(
    visitor: &PageActor,
    frame: ProjectFrame,
    kind: ChangeKind,
    opened: &Opened,
    form: ChangeForm,
) -> PageResult {
    let path = if kind == ChangeKind::New { inside(&opened.path, &form.file_path) } else { opened.path.clone() };
    let links = crate::markup::links::RepositoryLinks::repository(
        &frame.project.full_path,
        &opened.reference,
        path.rsplit_once('/').map_or("", |(dir, _)| dir),
    );
    let html = render_markdown(&form.content, Some(&links));
    page(visitor, frame, kind, opened, form, None, Some(html))
}

/// `GET /{project}/-/new_dir/{ref}/{*dir}`
pub async fn new_dir_form(
    State(state): State<AppState>,
    visitor: PageActor,
    Extension(target): Extension<ProjectTarget>,
    Path(ref_path): Path<String>,
) -> PageResult {
    show(state, visitor, target, ChangeKind::NewDir, ref_path).await
}

/// `POST /{project}/-/new_dir/{ref}/{*dir}`: commits a folder (git keeps no empty folder: it
/// holds an empty `.gitkeep`, as GitLab's).
pub async fn create_dir(
    State(state): State<AppState>,
    visitor: PageActor,
    Extension(target): Extension<ProjectTarget>,
    Path(ref_path): Path<String>,
    CsrfForm(form): CsrfForm<ChangeForm>,
) -> PageResult {
    let frame = ProjectFrame::load(&state, &visitor, target).await?;
    let opened = open(&state, &visitor, &frame, ChangeKind::NewDir, &ref_path).await?;
    let dir = inside(&opened.path, form.dir_name.trim_end_matches('/'));
    let commit = commit_new(&opened, &form, ("folder", &form.dir_name), &format!("{dir}/.gitkeep"), Vec::new());
    commit_or_show(&state, visitor, frame, ChangeKind::NewDir, &opened, form, commit, ("tree", &dir)).await
}

/// `GET /{project}/-/delete/{ref}/{*path}`: asks before deleting.
pub async fn delete_form(
    State(state): State<AppState>,
    visitor: PageActor,
    Extension(target): Extension<ProjectTarget>,
    Path(ref_path): Path<String>,
) -> PageResult {
    show(state, visitor, target, ChangeKind::Delete, ref_path).await
}

/// `POST /{project}/-/delete/{ref}/{*path}`: commits the file's removal.
pub async fn delete(
    State(state): State<AppState>,
    visitor: PageActor,
    Extension(target): Extension<ProjectTarget>,
    Path(ref_path): Path<String>,
    CsrfForm(form): CsrfForm<ChangeForm>,
) -> PageResult {
    let frame = ProjectFrame::load(&state, &visitor, target).await?;
    let opened = open(&state, &visitor, &frame, ChangeKind::Delete, &ref_path).await?;
    let action = CommitAction {
        kind: ActionKind::Delete,
        file_path: opened.path.clone(),
        previous_path: None,
        content: None,
        executable: None,
        last_commit_id: Some(form.last_commit_sha.clone()),
    };
    let commit = commit_of(&opened, &form, vec![action]);
    let dir = opened.path.rsplit_once('/').map_or(String::new(), |(dir, _)| dir.to_owned());
    commit_or_show(&state, visitor, frame, ChangeKind::Delete, &opened, form, commit, ("tree", &dir)).await
}
