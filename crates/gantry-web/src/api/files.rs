//! `/projects/:id/repository/…` reads of files, shaped like GitLab's: `tree`, `files/:path`
//! (its metadata also as `X-Gitlab-*` headers, which `HEAD` gives alone; + `/raw`, `/blame`)
//! and `blobs/:sha/raw`. Commits are read in `history.rs`, archives in `archives.rs`.

use axum::Json;
use axum::extract::{OriginalUri, Path, Query, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use gantry_core::{CoreError, ProjectRow};
use gantry_git::read::{Blob, EntryKind, PathObject, Reader};
use gantry_git::refs::CommitSummary;
use serde::{Deserialize, Serialize};
use sha2::Digest;

use super::projects::lookup_project;
use super::types::Commit;
use super::{ApiInput, ApiResult, PageParams, paginated};
use crate::AppState;
use crate::auth::ApiActor;
use crate::error::AppError;

/// The commit `reference` names (the default branch when empty), or 404.
fn commit_of(reader: &Reader, reference: &str) -> Result<Option<String>, gantry_git::GitError> {
    reader.resolve(reference)
}

fn not_found(what: &'static str) -> AppError {
    AppError::Core(CoreError::NotFound(what))
}

fn reference_or_default(reference: Option<String>, project: &ProjectRow) -> String {
    reference.filter(|r| !r.trim().is_empty()).unwrap_or_else(|| project.default_branch.clone())
}

#[derive(Debug, Deserialize)]
pub struct TreeQuery {
    path: Option<String>,
    #[serde(rename = "ref")]
    reference: Option<String>,
    #[serde(flatten)]
    page: PageParams,
}

/// One entry of `GET /repository/tree`.
#[derive(Debug, Serialize)]
pub struct TreeItem {
    id: String,
    name: String,
    #[serde(rename = "type")]
    kind: &'static str,
    path: String,
    mode: &'static str,
}

/// `GET /projects/:id/repository/tree` (`path`, `ref`, pagination)
pub async fn tree(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
    OriginalUri(uri): OriginalUri,
    Query(query): Query<TreeQuery>,
) -> ApiResult<Response> {
    let project = lookup_project(&state, &actor, &id).await?;
    let reference = reference_or_default(query.reference, &project);
    let path = query.path.unwrap_or_default().trim_matches('/').to_owned();
    let dir = path.clone();
    let found = state
        .core
        .code()
        .read_repository(&actor, &project, move |reader| match commit_of(reader, &reference)? {
            Some(commit) => reader.object_at(&commit, &dir),
            None => Ok(None),
        })
        .await?;
    let Some(PathObject::Tree(entries)) = found else { return Err(not_found("tree").into()) };
    let prefix = if path.is_empty() { String::new() } else { format!("{path}/") };
    let items: Vec<TreeItem> = entries
        .into_iter()
        .map(|entry| {
            let (kind, mode) = match entry.kind {
                EntryKind::Tree => ("tree", "040000"),
                EntryKind::Submodule => ("commit", "160000"),
                EntryKind::Symlink => ("blob", "120000"),
                EntryKind::Executable => ("blob", "100755"),
                EntryKind::Blob => ("blob", "100644"),
            };
            TreeItem { id: entry.id, path: format!("{prefix}{}", entry.name), name: entry.name, kind, mode }
        })
        .collect();
    let page = query.page.resolve()?;
    let total = items.len() as i64;
    let window = page.db();
    let items = items
        .into_iter()
        .skip(usize::try_from(window.offset).unwrap_or(usize::MAX))
        .take(window.limit as usize)
        .collect();
    Ok(paginated(&state.config.external_url, &uri, items, total, page))
}

#[derive(Debug, Deserialize)]
pub struct RefQuery {
    #[serde(rename = "ref")]
    reference: Option<String>,
}

/// `GET /repository/files/:file_path`
#[derive(Debug, Serialize)]
pub struct FileContent {
    file_name: String,
    file_path: String,
    size: u64,
    encoding: &'static str,
    content: String,
    content_sha256: String,
    #[serde(rename = "ref")]
    reference: String,
    blob_id: String,
    commit_id: String,
    last_commit_id: String,
    execute_filemode: bool,
}

/// A file at a ref: the blob, the commit the ref names and the last commit that changed it.
struct FoundFile {
    blob: Blob,
    path: String,
    reference: String,
    commit: String,
    last_commit: String,
}

impl FoundFile {
    fn name(&self) -> &str {
        self.path.rsplit('/').next().unwrap_or(&self.path)
    }

    /// GitLab's `X-Gitlab-*` headers of the file; the content's SHA-256 only when the content
    /// was read (files over [`gantry_git::read::LOADED_LIMIT`] are streamed instead).
    fn headers(&self) -> HeaderMap {
        let mut headers = HeaderMap::new();
        let mut set = |name: &'static str, value: &str| {
            // Paths may hold any UTF-8: sent as the bytes they are, as GitLab does.
            if let Ok(value) = HeaderValue::from_bytes(value.as_bytes()) {
                headers.insert(HeaderName::from_static(name), value);
            }
        };
        set("x-gitlab-file-name", self.name());
        set("x-gitlab-file-path", &self.path);
        set("x-gitlab-size", &self.blob.size.to_string());
        set("x-gitlab-encoding", "base64");
        set("x-gitlab-ref", &self.reference);
        set("x-gitlab-blob-id", &self.blob.id);
        set("x-gitlab-commit-id", &self.commit);
        set("x-gitlab-last-commit-id", &self.last_commit);
        set("x-gitlab-execute-filemode", if self.blob.kind == EntryKind::Executable { "true" } else { "false" });
        if self.blob.is_complete() {
            set("x-gitlab-content-sha256", &hex::encode(sha2::Sha256::digest(&self.blob.data)));
        }
        headers
    }
}

/// The file at `path` and the commit `reference` names: `404 Commit Not Found` for a ref that
/// names nothing, `404 File Not Found` for a path that is no file there.
async fn file_at(
    state: &AppState,
    actor: &gantry_core::Actor,
    project: &ProjectRow,
    reference: String,
    path: String,
) -> ApiResult<FoundFile> {
    let wanted = (reference.clone(), path.clone());
    let found = state
        .core
        .code()
        .read_repository(actor, project, move |reader| {
            let (reference, path) = wanted;
            let Some(commit) = commit_of(reader, &reference)? else { return Ok(Err("commit")) };
            let Some(PathObject::Blob(blob)) = reader.object_at(&commit, &path)? else { return Ok(Err("file")) };
            let last = reader.history(&commit, Some(&path), 0, 1)?.0.into_iter().next().map(|c| c.id);
            Ok(Ok((blob, commit.clone(), last.unwrap_or(commit))))
        })
        .await?;
    let (blob, commit, last_commit) = found.map_err(not_found)?;
    Ok(FoundFile { blob, path, reference, commit, last_commit })
}

/// The `ref` a file read requires (GitLab's Grape: `ref is missing`).
fn required_ref(reference: Option<String>) -> ApiResult<String> {
    reference.filter(|r| !r.trim().is_empty()).ok_or_else(|| AppError::BadRequest("ref is missing".into()).into())
}

/// `GET` (and `HEAD`) `/projects/:id/repository/files/:file_path` (`ref`): the file,
/// base64-encoded, and its metadata as `X-Gitlab-*` headers.
pub async fn file(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path((id, file_path)): Path<(String, String)>,
    Query(query): Query<RefQuery>,
) -> ApiResult<Response> {
    let project = lookup_project(&state, &actor, &id).await?;
    state.core.authorize_project(&actor, &project, gantry_core::policy::ProjectAction::ReadCode).await?;
    let reference = required_ref(query.reference)?;
    let file = file_at(&state, &actor, &project, reference, file_path).await?;
    if !file.blob.is_complete() {
        return Err(AppError::BadRequest(format!(
            "the file is larger than {} MiB: read it from /repository/files/:file_path/raw",
            gantry_git::read::LOADED_LIMIT >> 20
        ))
        .into());
    }
    let headers = file.headers();
    let body = FileContent {
        file_name: file.name().to_owned(),
        size: file.blob.size,
        encoding: "base64",
        content_sha256: hex::encode(sha2::Sha256::digest(&file.blob.data)),
        content: base64::engine::general_purpose::STANDARD.encode(&file.blob.data),
        execute_filemode: file.blob.kind == EntryKind::Executable,
        reference: file.reference,
        blob_id: file.blob.id,
        commit_id: file.commit,
        last_commit_id: file.last_commit,
        file_path: file.path,
    };
    Ok((headers, Json(body)).into_response())
}

/// `GET /projects/:id/repository/files/:file_path/raw` (`ref`, the default branch when left
/// out): the file's bytes, with its `X-Gitlab-*` headers.
pub async fn file_raw(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path((id, file_path)): Path<(String, String)>,
    Query(query): Query<RefQuery>,
) -> ApiResult<Response> {
    let project = lookup_project(&state, &actor, &id).await?;
    let reference = reference_or_default(query.reference, &project);
    let file = file_at(&state, &actor, &project, reference, file_path).await?;
    let headers = file.headers();
    let mut response =
        crate::ui::code::blob::raw_blob_response(&state, &actor, &project, &file.path, file.blob, false).await?;
    response.headers_mut().extend(headers);
    Ok(response)
}

/// The lines of `range[start]`..=`range[end]` (1-based) to blame.
#[derive(Debug, Deserialize)]
pub struct BlameRangeInput {
    start: Option<i64>,
    end: Option<i64>,
}

#[derive(Debug, Deserialize)]
pub struct BlameQuery {
    #[serde(rename = "ref")]
    reference: Option<String>,
    range: Option<BlameRangeInput>,
}

/// One range of `GET /repository/files/:file_path/blame`: consecutive lines from one commit.
#[derive(Debug, Serialize)]
pub struct BlameRange {
    commit: Commit,
    lines: Vec<String>,
}

/// `GET` (and `HEAD`) `/projects/:id/repository/files/:file_path/blame` (`ref`, optional
/// `range[start]` and `range[end]`): which commit last changed each line, in runs of lines.
pub async fn file_blame(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path((id, file_path)): Path<(String, String)>,
    ApiInput(query): ApiInput<BlameQuery>,
) -> ApiResult<Response> {
    let project = lookup_project(&state, &actor, &id).await?;
    state.core.authorize_project(&actor, &project, gantry_core::policy::ProjectAction::ReadCode).await?;
    let reference = required_ref(query.reference)?;
    let range = match query.range {
        None => None,
        Some(BlameRangeInput { start: None, .. }) => {
            return Err(AppError::BadRequest("range[start] is missing".into()).into());
        }
        Some(BlameRangeInput { end: None, .. }) => {
            return Err(AppError::BadRequest("range[end] is missing".into()).into());
        }
        Some(BlameRangeInput { start: Some(start), end: Some(end) }) => {
            if start < 1 || end < 1 {
                return Err(AppError::BadRequest(
                    "range[start] does not have a valid value, range[end] does not have a valid value".into(),
                )
                .into());
            }
            if start > end {
                return Err(AppError::BadRequest("range[start] must be less than or equal to range[end]".into()).into());
            }
            Some((start as u32, end as u32))
        }
    };
    let file = file_at(&state, &actor, &project, reference, file_path).await?;
    let blame = state.core.code().blame(&actor, &project, &file.commit, &file.path, None).await?;
    let ids: Vec<String> = blame.commits.iter().map(|c| c.id.clone()).collect();
    let summaries: Vec<CommitSummary> = state
        .core
        .code()
        .read_repository(&actor, &project, move |reader| ids.iter().map(|id| reader.commit(id)).collect())
        .await?;
    let mut ranges = Vec::new();
    for piece in &blame.ranges {
        let first = piece.start;
        let lines: Vec<String> = piece
            .lines
            .iter()
            .enumerate()
            .filter(|(n, _)| range.is_none_or(|(start, end)| (start..=end).contains(&(first + *n as u32))))
            .map(|(_, line)| line.clone())
            .collect();
        if lines.is_empty() {
            continue;
        }
        let commit = Commit::new(&summaries[piece.commit], &project, &state.config);
        ranges.push(BlameRange { commit, lines });
    }
    Ok((file.headers(), Json(ranges)).into_response())
}

/// `GET /projects/:id/repository/blobs/:sha/raw`
pub async fn blob_raw(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path((id, sha)): Path<(String, String)>,
) -> ApiResult<Response> {
    let project = lookup_project(&state, &actor, &id).await?;
    let blob = state.core.code().read_repository(&actor, &project, move |reader| reader.blob_object(&sha)).await?;
    let blob = blob.ok_or_else(|| not_found("blob"))?;
    Ok(crate::ui::code::blob::raw_blob_response(&state, &actor, &project, "blob", blob, false).await?)
}
