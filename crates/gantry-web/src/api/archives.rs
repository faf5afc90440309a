//! `/projects/:id/repository/archive[.format]` (the files at a commit, in every format GitLab
//! names) and `/projects/:id/snapshot` (the bare repository as a tar), both streamed.

use axum::body::{Body, Bytes};
use axum::extract::{MatchedPath, Path, State};
use axum::http::{HeaderValue, header};
use axum::response::Response;
use gantry_core::CoreError;
use gantry_git::archive::{ArchiveFormat, ByteStream};
use serde::Deserialize;

use super::projects::lookup_project;
use super::{ApiInput, ApiResult};
use crate::AppState;
use crate::auth::ApiActor;
use crate::error::AppError;

/// A stream of pieces as a response body; an error cuts the response short.
pub(crate) fn stream_body(stream: ByteStream) -> Body {
    let pieces = futures_util::stream::unfold(stream, |mut stream| async move {
        let piece = stream.next().await?;
        Some((piece.map(Bytes::from), stream))
    });
    Body::from_stream(pieces)
}

/// A streamed download named `file_name`.
pub(crate) fn download(stream: ByteStream, content_type: &'static str, file_name: &str) -> Response {
    let mut response = Response::new(stream_body(stream));
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    if let Ok(value) = HeaderValue::from_str(&crate::blob_io::content_disposition(file_name)) {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    response
}

#[derive(Debug, Deserialize)]
pub struct ArchiveQuery {
    sha: Option<String>,
    format: Option<String>,
    path: Option<String>,
}

/// The folder every path of an archive starts with, as GitLab names it:
/// `<project>-<ref>-<sha>[-<path>]`, slashes as dashes.
pub(crate) fn archive_prefix(project_path: &str, reference: &str, sha: &str, path: Option<&str>) -> String {
    let mut prefix = format!("{project_path}-{}-{sha}", reference.replace('/', "-"));
    if let Some(path) = path {
        prefix.push('-');
        prefix.push_str(&path.replace('/', "-"));
    }
    prefix
}

/// `GET /projects/:id/repository/archive[.tar.gz|.tgz|.gz|.tar.bz2|.tbz|.tbz2|.tb2|.bz2|.tar|.zip]`
/// (`sha`, `format`, `path`): the files at a commit (the default branch's tip unless `sha` names
/// a branch, tag or commit), only those under `path` when given. The format is the path's
/// ending, else `format`, else tar.gz.
pub async fn archive(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
    matched: MatchedPath,
    ApiInput(query): ApiInput<ArchiveQuery>,
) -> ApiResult<Response> {
    let project = lookup_project(&state, &actor, &id).await?;
    let reference = query.sha.filter(|s| !s.trim().is_empty()).unwrap_or_else(|| project.default_branch.clone());
    let path = query.path.map(|p| p.trim_matches('/').to_owned()).filter(|p| !p.is_empty());
    let (wanted, inside) = (reference.clone(), path.clone());
    let commit = state
        .core
        .code()
        .read_repository(&actor, &project, move |reader| {
            let Some(commit) = reader.resolve(&wanted)? else { return Ok(Err("ref")) };
            match &inside {
                Some(inside) if reader.object_at(&commit, inside)?.is_none() => Ok(Err("path")),
                _ => Ok(Ok(commit)),
            }
        })
        .await?
        .map_err(|what| AppError::Core(CoreError::NotFound(what)))?;
    let ending = matched.as_str().rsplit_once("/archive").map(|(_, ending)| ending).unwrap_or_default();
    let name = match ending.strip_prefix('.') {
        Some(extension) => extension.to_owned(),
        None => query.format.filter(|f| !f.trim().is_empty()).unwrap_or_else(|| "tar.gz".to_owned()),
    };
    let format = ArchiveFormat::from_extension(name.trim()).ok_or_else(|| {
        AppError::BadRequest(
            "format does not have a valid value: tar.gz, tar.bz2, tar or zip (or their other names)".into(),
        )
    })?;
    let prefix = archive_prefix(&project.path, &reference, &commit, path.as_deref());
    let stream = state.core.code().archive(&actor, &project, &commit, format, &prefix, path.as_deref()).await?;
    Ok(download(stream, format.content_type(), &format!("{prefix}.{}", format.extension())))
}

#[derive(Debug, Deserialize)]
pub struct SnapshotQuery {
    #[serde(default)]
    wiki: bool,
}

/// `GET /projects/:id/snapshot` (`wiki`): the bare repository as an uncompressed tar
/// (administrators only).
pub async fn snapshot(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
    ApiInput(query): ApiInput<SnapshotQuery>,
) -> ApiResult<Response> {
    let lookup = gantry_core::manage::groups::Lookup::parse(&id);
    let (project, stream) = state.core.code().snapshot(&actor, &lookup, query.wiki).await?;
    Ok(download(stream, "application/x-tar", &format!("{}.tar", project.path)))
}
