//! `/-/archive/:ref/:file`: the files at a ref as `.tar.gz`, `.tar` or `.zip`, streamed.

use axum::Extension;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, header};
use axum::response::Response;
use gantry_core::CoreError;
use gantry_git::transport::ArchiveFormat;

use super::not_found;
use crate::AppState;
use crate::auth::PageActor;
use crate::namespace_dispatch::ProjectTarget;
use crate::ui::PageResult;
use crate::ui::project_frame::ProjectFrame;

/// `GET /{project}/-/archive/{ref}/{name}.tar.gz|.tgz|.tar|.zip`: the files at a ref,
/// streamed as `git archive` writes them.
pub async fn archive(
    State(state): State<AppState>,
    visitor: PageActor,
    Extension(target): Extension<ProjectTarget>,
    Path(rest): Path<String>,
) -> PageResult {
    let frame = ProjectFrame::load(&state, &visitor, target).await?;
    let (reference, file) = rest.rsplit_once('/').ok_or_else(|| not_found(&visitor, "archive"))?;
    let (format, stem) = ArchiveFormat::from_file_name(file).ok_or_else(|| not_found(&visitor, "archive format"))?;
    let wanted = reference.to_owned();
    let commit = state
        .core
        .code()
        .read_repository(&visitor.actor, &frame.project, move |reader| reader.resolve(&wanted))
        .await
        .map_err(|e| visitor.error(e))?
        .ok_or_else(|| not_found(&visitor, "ref"))?;
    let child = state
        .core
        .repos()
        .spawn_archive(frame.project.id, &commit, format, stem)
        .map_err(|e| visitor.error(CoreError::from(e)))?;
    let mut response = Response::new(crate::git_http::stream_output(child, Vec::new(), None, None));
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(format.content_type()));
    if let Ok(value) = HeaderValue::from_str(&crate::blob_io::content_disposition(file)) {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    Ok(response)
}
