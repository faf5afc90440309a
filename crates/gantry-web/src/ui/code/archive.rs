//! `/-/archive/:ref/:file`: the files at a ref as `.tar.gz`, `.tar.bz2`, `.tar` or `.zip` (or
//! GitLab's other names for them), streamed.

use axum::Extension;
use axum::extract::{Path, State};
use gantry_git::archive::ArchiveFormat;

use super::not_found;
use crate::AppState;
use crate::auth::PageActor;
use crate::namespace_dispatch::ProjectTarget;
use crate::ui::PageResult;
use crate::ui::project_frame::ProjectFrame;

/// `GET /{project}/-/archive/{ref}/{name}.tar.gz|.tgz|.tar.bz2|.tbz2|.tar|.zip|…`: the files at
/// a ref, streamed.
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
    let stream = state
        .core
        .code()
        .archive(&visitor.actor, &frame.project, &commit, format, stem, None)
        .await
        .map_err(|e| visitor.error(e))?;
    Ok(crate::api::archives::download(stream, format.content_type(), file))
}
