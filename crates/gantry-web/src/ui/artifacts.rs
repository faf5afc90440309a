//! A job's artifacts in the browser: browse the archive's folders, view or download one file,
//! download the archive or a report, keep them past their expiry, delete them.

use askama::Template;
use axum::Extension;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use gantry_core::ci::ArtifactRow;
use gantry_core::ci::artifacts::ArchiveEntry;
use gantry_core::{CoreError, now_millis};
use gantry_types::JobId;
use serde::Deserialize;

use super::pipelines::id_of;
use super::project_frame::ProjectFrame;
use super::{Chrome, PageResult, see_other};
use crate::AppState;
use crate::auth::{CsrfForm, PageActor};
use crate::namespace_dispatch::ProjectTarget;

/// The most bytes of a text file shown on its page (the rest is a download away).
const SHOWN_BYTES: u64 = 512 << 10;

/// One artifact of a job, for its page's sidebar.
pub struct ArtifactLine {
    pub file_type: String,
    pub size: String,
    pub expires: Option<String>,
}

/// The lines of a job's artifacts, and when the archive expires (`None`: kept).
pub fn artifact_lines(rows: &[ArtifactRow]) -> Vec<ArtifactLine> {
    let now = now_millis();
    rows.iter()
        .map(|row| ArtifactLine {
            file_type: row.file_type.clone(),
            size: super::human_size(row.size),
            expires: row.expire_at.map(|at| {
                if at <= now { "expired".to_owned() } else { format!("expire {}", crate::time_format::date(at)) }
            }),
        })
        .collect()
}

/// One row of a folder listing.
pub struct EntryLine {
    pub name: String,
    pub href: String,
    pub is_dir: bool,
    pub size: String,
}

#[derive(Template)]
#[template(path = "projects/artifacts.html")]
struct BrowsePage {
    chrome: Chrome,
    frame: ProjectFrame,
    tab: &'static str,
    job_id: JobId,
    job_name: String,
    /// The folder shown, `""` for the top.
    path: String,
    parent_href: Option<String>,
    entries: Vec<EntryLine>,
    size: String,
}

/// The browse page of the folder holding `path` (under the job's artifacts URL `base`).
fn folder_of(base: &str, path: &str) -> String {
    match path.rsplit_once('/') {
        Some((up, _)) => format!("{base}/browse/{}", super::code::url_path(up)),
        None => format!("{base}/browse"),
    }
}

/// The entries directly inside `dir` (`""` for the top), folders first.
fn children(entries: &[ArchiveEntry], dir: &str) -> Vec<ArchiveEntry> {
    let prefix = if dir.is_empty() { String::new() } else { format!("{dir}/") };
    let mut inside: Vec<ArchiveEntry> = entries
        .iter()
        .filter(|entry| entry.path.strip_prefix(&prefix).is_some_and(|rest| !rest.is_empty() && !rest.contains('/')))
        .cloned()
        .collect();
    inside.sort_by(|a, b| b.is_dir.cmp(&a.is_dir).then_with(|| a.path.cmp(&b.path)));
    inside
}

async fn browse_at(state: &AppState, visitor: &PageActor, target: ProjectTarget, id: &str, path: &str) -> PageResult {
    let frame = ProjectFrame::load(state, visitor, target).await?;
    let job_id = id_of(id, "job").map_err(|e| visitor.error(e))?;
    let (job, _) = state.core.ci().job(&frame.access, job_id).await.map_err(|e| visitor.error(e))?;
    let (row, entries) =
        state.core.ci().artifact_entries(&visitor.actor, &frame.project, job_id).await.map_err(|e| visitor.error(e))?;
    let path = path.trim_matches('/').to_owned();
    if !path.is_empty() && !entries.iter().any(|entry| entry.is_dir && entry.path == path) {
        return Err(visitor.error(CoreError::NotFound("folder in the artifacts")));
    }
    let base = format!("/{}/-/jobs/{job_id}/artifacts", frame.project.full_path);
    let lines = children(&entries, &path)
        .into_iter()
        .map(|entry| {
            let name = entry.path.rsplit('/').next().unwrap_or(&entry.path).to_owned();
            let kind = if entry.is_dir { "browse" } else { "file" };
            EntryLine {
                href: format!("{base}/{kind}/{}", super::code::url_path(&entry.path)),
                name,
                is_dir: entry.is_dir,
                size: if entry.is_dir { String::new() } else { super::human_size(entry.size) },
            }
        })
        .collect();
    let parent_href = (!path.is_empty()).then(|| folder_of(&base, &path));
    let page = BrowsePage {
        chrome: Chrome::new(visitor),
        tab: "pipelines",
        job_id,
        job_name: job.name,
        path,
        parent_href,
        entries: lines,
        size: super::human_size(row.size),
        frame,
    };
    super::render(StatusCode::OK, &page)
}

/// `GET /{project}/-/jobs/{job_id}/artifacts/browse`
pub async fn browse(
    State(state): State<AppState>,
    visitor: PageActor,
    Extension(target): Extension<ProjectTarget>,
    Path(id): Path<String>,
) -> PageResult {
    browse_at(&state, &visitor, target, &id, "").await
}

/// `GET /{project}/-/jobs/{job_id}/artifacts/browse/{*path}`
pub async fn browse_folder(
    State(state): State<AppState>,
    visitor: PageActor,
    Extension(target): Extension<ProjectTarget>,
    Path((id, path)): Path<(String, String)>,
) -> PageResult {
    browse_at(&state, &visitor, target, &id, &path).await
}

#[derive(Template)]
#[template(path = "projects/artifact_file.html")]
struct FilePage {
    chrome: Chrome,
    frame: ProjectFrame,
    tab: &'static str,
    job_id: JobId,
    job_name: String,
    path: String,
    parent_href: String,
    raw_href: String,
    size: String,
    /// The text shown, or `None` for a binary file.
    text: Option<String>,
    cut: bool,
}

/// `GET /{project}/-/jobs/{job_id}/artifacts/file/{*path}`: one file, shown when it is text.
pub async fn file(
    State(state): State<AppState>,
    visitor: PageActor,
    Extension(target): Extension<ProjectTarget>,
    Path((id, path)): Path<(String, String)>,
) -> PageResult {
    let frame = ProjectFrame::load(&state, &visitor, target).await?;
    let job_id = id_of(&id, "job").map_err(|e| visitor.error(e))?;
    let (job, _) = state.core.ci().job(&frame.access, job_id).await.map_err(|e| visitor.error(e))?;
    // Only the part shown is unpacked, however large the file.
    let (start, size) = state
        .core
        .ci()
        .artifact_file_start(&visitor.actor, &frame.project, job_id, &path, SHOWN_BYTES)
        .await
        .map_err(|e| visitor.error(e))?;
    let path = path.trim_matches('/').to_owned();
    let base = format!("/{}/-/jobs/{job_id}/artifacts", frame.project.full_path);
    let binary = gantry_git::read::looks_binary(&start);
    let cut = size > SHOWN_BYTES;
    let text = (!binary).then(|| String::from_utf8_lossy(&start).into_owned());
    let page = FilePage {
        chrome: Chrome::new(&visitor),
        tab: "pipelines",
        job_id,
        job_name: job.name,
        parent_href: folder_of(&base, &path),
        raw_href: format!("{base}/raw/{}", super::code::url_path(&path)),
        size: super::human_size(size),
        path,
        text,
        cut,
        frame,
    };
    super::render(StatusCode::OK, &page)
}

/// `GET /{project}/-/jobs/{job_id}/artifacts/raw/{*path}`: one file's bytes, never rendered as
/// a page of this site.
pub async fn raw(
    State(state): State<AppState>,
    visitor: PageActor,
    Extension(target): Extension<ProjectTarget>,
    Path((id, path)): Path<(String, String)>,
) -> PageResult {
    let frame = ProjectFrame::load(&state, &visitor, target).await?;
    let job_id = id_of(&id, "job").map_err(|e| visitor.error(e))?;
    let content = state
        .core
        .ci()
        .artifact_file(&visitor.actor, &frame.project, job_id, &path)
        .await
        .map_err(|e| visitor.error(e))?;
    let binary = gantry_git::read::looks_binary(&content.head);
    Ok(super::code::blob::raw_content_response(&path, content, binary))
}

#[derive(Debug, Default, Deserialize)]
pub struct DownloadQuery {
    /// `archive` (default) or a report type.
    file_type: Option<String>,
}

/// `GET /{project}/-/jobs/{job_id}/artifacts/download`: the archive (or `?file_type=junit`…).
pub async fn download(
    State(state): State<AppState>,
    visitor: PageActor,
    Extension(target): Extension<ProjectTarget>,
    Path(id): Path<String>,
    Query(query): Query<DownloadQuery>,
) -> PageResult {
    let frame = ProjectFrame::load(&state, &visitor, target).await?;
    let job_id = id_of(&id, "job").map_err(|e| visitor.error(e))?;
    let file_type = query.file_type.as_deref().unwrap_or("archive");
    let (row, file, size) = state
        .core
        .ci()
        .open_job_artifact(&visitor.actor, &frame.project, job_id, file_type)
        .await
        .map_err(|e| visitor.error(e))?;
    let name = format!("{}-job-{job_id}-{}", frame.project.path, row.file_name);
    Ok(crate::blob_io::file_response(file, size, "application/zip", &name).into_response())
}

/// `POST /{project}/-/jobs/{job_id}/artifacts/{action}`: `keep` or `delete`.
pub async fn change(
    State(state): State<AppState>,
    visitor: PageActor,
    Extension(target): Extension<ProjectTarget>,
    Path((id, action)): Path<(String, String)>,
    CsrfForm(_): CsrfForm<serde::de::IgnoredAny>,
) -> PageResult {
    let frame = ProjectFrame::load(&state, &visitor, target).await?;
    let job_id = id_of(&id, "job").map_err(|e| visitor.error(e))?;
    let (actor, project) = (&visitor.actor, &frame.project);
    let done = match action.as_str() {
        "keep" => state.core.ci().keep_job_artifacts(actor, project, job_id).await,
        "delete" => state.core.ci().delete_job_artifacts(actor, project, job_id).await,
        _ => Err(CoreError::NotFound("action")),
    };
    done.map_err(|e| visitor.error(e))?;
    see_other(&format!("/{}/-/jobs/{job_id}", frame.project.full_path))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(path: &str, is_dir: bool) -> ArchiveEntry {
        ArchiveEntry { path: path.to_owned(), size: 1, is_dir }
    }

    #[test]
    fn a_folder_lists_its_own_children_folders_first() {
        let entries =
            [entry("a", true), entry("a/x.txt", false), entry("a/b", true), entry("a/b/y", false), entry("top", false)];
        let names = |dir: &str| children(&entries, dir).into_iter().map(|e| e.path).collect::<Vec<_>>();
        assert_eq!(names(""), ["a", "top"]);
        assert_eq!(names("a"), ["a/b", "a/x.txt"]);
        assert_eq!(names("a/b"), ["a/b/y"]);
    }
}
