//! `/projects/:id/repository/…` reads, shaped like GitLab's: `tree`, `files/:path` (+ `/raw`),
//! `blobs/:sha/raw`, `commits` (+ `/:sha`, `/:sha/diff`), `compare`, `archive`.

use axum::Json;
use axum::extract::{OriginalUri, Path, Query, State};
use axum::http::{HeaderValue, header};
use axum::response::Response;
use base64::Engine;
use gantry_core::{CoreError, ProjectRow};
use gantry_git::diff::{Diff, FileStatus};
use gantry_git::read::{EntryKind, PathObject, Reader};
use gantry_git::transport::ArchiveFormat;
use serde::{Deserialize, Serialize};
use sha2::Digest;

use super::projects::lookup_project;
use super::types::Commit;
use super::{ApiResult, PageParams, paginated};
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
    size: usize,
    encoding: &'static str,
    content: String,
    content_sha256: String,
    #[serde(rename = "ref")]
    reference: String,
    blob_id: String,
    commit_id: String,
    last_commit_id: String,
}

/// The blob at `path` and the commit `reference` names, with the last commit that changed it.
async fn file_at(
    state: &AppState,
    actor: &gantry_core::Actor,
    project: &ProjectRow,
    reference: String,
    path: String,
) -> ApiResult<(gantry_git::read::Blob, String, String)> {
    let found = state
        .core
        .code()
        .read_repository(actor, project, move |reader| {
            let Some(commit) = commit_of(reader, &reference)? else { return Ok(None) };
            let Some(PathObject::Blob(blob)) = reader.object_at(&commit, &path)? else { return Ok(None) };
            let last = reader.history(&commit, Some(&path), 0, 1)?.0.into_iter().next().map(|c| c.id);
            Ok(Some((blob, commit.clone(), last.unwrap_or(commit))))
        })
        .await?;
    found.ok_or_else(|| not_found("file").into())
}

/// `GET /projects/:id/repository/files/:file_path` (`ref`): the file, base64-encoded.
pub async fn file(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path((id, file_path)): Path<(String, String)>,
    Query(query): Query<RefQuery>,
) -> ApiResult<Json<FileContent>> {
    let project = lookup_project(&state, &actor, &id).await?;
    let reference = reference_or_default(query.reference, &project);
    let (blob, commit, last) = file_at(&state, &actor, &project, reference.clone(), file_path.clone()).await?;
    if !blob.is_complete() {
        return Err(AppError::BadRequest(format!(
            "the file is larger than {} MiB: read it from /repository/files/:file_path/raw",
            gantry_git::read::LOADED_LIMIT >> 20
        ))
        .into());
    }
    Ok(Json(FileContent {
        file_name: file_path.rsplit('/').next().unwrap_or(&file_path).to_owned(),
        size: blob.data.len(),
        encoding: "base64",
        content_sha256: hex::encode(sha2::Sha256::digest(&blob.data)),
        content: base64::engine::general_purpose::STANDARD.encode(&blob.data),
        reference,
        blob_id: blob.id,
        commit_id: commit,
        last_commit_id: last,
        file_path,
    }))
}

/// `GET /projects/:id/repository/files/:file_path/raw` (`ref`)
pub async fn file_raw(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path((id, file_path)): Path<(String, String)>,
    Query(query): Query<RefQuery>,
) -> ApiResult<Response> {
    let project = lookup_project(&state, &actor, &id).await?;
    let reference = reference_or_default(query.reference, &project);
    let (blob, _, _) = file_at(&state, &actor, &project, reference, file_path.clone()).await?;
    Ok(crate::ui::code::blob::raw_blob_response(&state, &actor, &project, &file_path, blob, false).await?)
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

#[derive(Debug, Deserialize)]
pub struct CommitsQuery {
    ref_name: Option<String>,
    path: Option<String>,
    #[serde(flatten)]
    page: PageParams,
}

/// `GET /projects/:id/repository/commits` (`ref_name`, `path`, pagination)
pub async fn commits(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
    OriginalUri(uri): OriginalUri,
    Query(query): Query<CommitsQuery>,
) -> ApiResult<Response> {
    let project = lookup_project(&state, &actor, &id).await?;
    let reference = reference_or_default(query.ref_name, &project);
    let page = query.page.resolve()?;
    let window = page.db();
    let (skip, limit) = (usize::try_from(window.offset).unwrap_or(usize::MAX), window.limit as usize);
    let path = query.path.filter(|p| !p.trim().is_empty());
    let found = state
        .core
        .code()
        .read_repository(&actor, &project, move |reader| match commit_of(reader, &reference)? {
            Some(commit) => reader.history(&commit, path.as_deref(), skip, limit).map(Some),
            None => Ok(None),
        })
        .await?;
    let (commits, more) = found.ok_or_else(|| not_found("ref"))?;
    // The total is not counted (it means walking the whole history); the next page is known.
    let total = (skip + commits.len() + usize::from(more)) as i64;
    let items: Vec<Commit> = commits.iter().map(|c| Commit::new(c, &project, &state.config)).collect();
    Ok(paginated(&state.config.external_url, &uri, items, total, page))
}

/// A commit (by id, branch or tag) or 404.
pub(crate) async fn find_commit(
    state: &AppState,
    actor: &gantry_core::Actor,
    project: &ProjectRow,
    revision: String,
) -> ApiResult<gantry_git::refs::CommitSummary> {
    let found = state
        .core
        .code()
        .read_repository(actor, project, move |reader| match reader.resolve(&revision)? {
            Some(id) => reader.commit(&id).map(Some),
            None => Ok(None),
        })
        .await?;
    found.ok_or_else(|| not_found("commit").into())
}

/// `GET /projects/:id/repository/commits/:sha`
pub async fn commit(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path((id, sha)): Path<(String, String)>,
) -> ApiResult<Json<Commit>> {
    let project = lookup_project(&state, &actor, &id).await?;
    let commit = find_commit(&state, &actor, &project, sha).await?;
    Ok(Json(Commit::new(&commit, &project, &state.config)))
}

/// One file of a diff, as GitLab returns it.
#[derive(Debug, Serialize)]
pub struct FileChange {
    old_path: String,
    new_path: String,
    new_file: bool,
    renamed_file: bool,
    deleted_file: bool,
    diff: String,
}

fn changes(diff: Diff) -> Vec<FileChange> {
    diff.files
        .into_iter()
        .map(|file| {
            let mut text = String::new();
            for hunk in &file.hunks {
                text.push_str(&hunk.header);
                text.push('\n');
                for line in &hunk.lines {
                    text.push(line.kind);
                    text.push_str(&line.text);
                    text.push('\n');
                }
            }
            if file.binary {
                text = format!("Binary files a/{} and b/{} differ\n", file.old_path, file.new_path);
            }
            FileChange {
                new_file: file.status == FileStatus::Added,
                renamed_file: file.status == FileStatus::Renamed,
                deleted_file: file.status == FileStatus::Deleted,
                old_path: file.old_path,
                new_path: file.new_path,
                diff: text,
            }
        })
        .collect()
}

/// `GET /projects/:id/repository/commits/:sha/diff`
pub async fn commit_diff(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path((id, sha)): Path<(String, String)>,
) -> ApiResult<Json<Vec<FileChange>>> {
    let project = lookup_project(&state, &actor, &id).await?;
    let commit = find_commit(&state, &actor, &project, sha).await?;
    let diff = state.core.code().commit_diff(&actor, &project, &commit.id).await?;
    Ok(Json(changes(diff)))
}

#[derive(Debug, Deserialize)]
pub struct CompareQuery {
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
}

/// `GET /repository/compare`
#[derive(Debug, Serialize)]
pub struct Comparison {
    commit: Option<Commit>,
    commits: Vec<Commit>,
    diffs: Vec<FileChange>,
    compare_timeout: bool,
    compare_same_ref: bool,
}

/// `GET /projects/:id/repository/compare` (`from`, `to`)
pub async fn compare(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
    Query(query): Query<CompareQuery>,
) -> ApiResult<Json<Comparison>> {
    let project = lookup_project(&state, &actor, &id).await?;
    state.core.authorize_project(&actor, &project, gantry_core::policy::ProjectAction::ReadCode).await?;
    if query.from.trim().is_empty() || query.to.trim().is_empty() {
        return Err(AppError::BadRequest("from and to are required".into()).into());
    }
    let (from, to) = (query.from.clone(), query.to.clone());
    let found = state
        .core
        .code()
        .read_repository(&actor, &project, move |reader| match (reader.resolve(&from)?, reader.resolve(&to)?) {
            (Some(from), Some(to)) => Ok(Some((from.clone(), to.clone(), reader.commits_between(&from, &to, 1000)?.0))),
            _ => Ok(None),
        })
        .await?;
    let (from, to, commits) = found.ok_or_else(|| not_found("ref"))?;
    let diff = state.core.code().compare_diff(&actor, &project, &from, &to).await?;
    let commits: Vec<Commit> = commits.iter().map(|c| Commit::new(c, &project, &state.config)).collect();
    Ok(Json(Comparison {
        compare_timeout: diff.truncated,
        compare_same_ref: query.from == query.to,
        commit: commits.first().cloned(),
        commits,
        diffs: changes(diff),
    }))
}

#[derive(Debug, Deserialize)]
pub struct ArchiveQuery {
    sha: Option<String>,
    format: Option<String>,
}

async fn archive_as(
    state: AppState,
    actor: gantry_core::Actor,
    id: String,
    query: ArchiveQuery,
    format: Option<ArchiveFormat>,
) -> ApiResult<Response> {
    let project = lookup_project(&state, &actor, &id).await?;
    let format = match format {
        Some(format) => format,
        None => {
            let name = format!("x.{}", query.format.as_deref().unwrap_or("tar.gz"));
            ArchiveFormat::from_file_name(&name)
                .ok_or_else(|| AppError::BadRequest("format must be tar.gz, tar or zip".into()))?
                .0
        }
    };
    let reference = reference_or_default(query.sha, &project);
    let wanted = reference.clone();
    let commit = state.core.code().read_repository(&actor, &project, move |reader| reader.resolve(&wanted)).await?;
    let commit = commit.ok_or_else(|| not_found("ref"))?;
    let stem = format!("{}-{}", project.path, reference.replace('/', "-"));
    let child = state.core.repos().spawn_archive(project.id, &commit, format, &stem).map_err(CoreError::from)?;
    let mut response = Response::new(crate::git_http::stream_output(child, Vec::new(), None, None));
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(format.content_type()));
    Ok(response)
}

/// `GET /projects/:id/repository/archive` (`sha`, `format`)
pub async fn archive(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
    Query(query): Query<ArchiveQuery>,
) -> ApiResult<Response> {
    archive_as(state, actor, id, query, None).await
}

/// `GET /projects/:id/repository/archive.zip`
pub async fn archive_zip(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
    Query(query): Query<ArchiveQuery>,
) -> ApiResult<Response> {
    archive_as(state, actor, id, query, Some(ArchiveFormat::Zip)).await
}

/// `GET /projects/:id/repository/archive.tar.gz`
pub async fn archive_tar_gz(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
    Query(query): Query<ArchiveQuery>,
) -> ApiResult<Response> {
    archive_as(state, actor, id, query, Some(ArchiveFormat::TarGz)).await
}
