//! Files attached to a project's issues and comments: served at `/-/uploads/<secret>/<name>`
//! so the browser runs nothing of them (an image, told by its first bytes, is shown; plain text
//! is shown as text; anything else is downloaded; always `nosniff` and a sandboxing CSP), and
//! uploaded from an issue's page, which then says what Markdown shows the file.

use axum::Extension;
use axum::extract::{Path, Request, State};
use axum::http::{HeaderValue, header};
use gantry_core::CoreError;
use gantry_core::policy::ProjectAction;

use crate::AppState;
use crate::auth::PageActor;
use crate::namespace_dispatch::ProjectTarget;
use crate::ui::PageResult;
use crate::ui::flash::{Flash, see_other_with};
use crate::ui::multipart::read_multipart;
use crate::ui::project_frame::ProjectFrame;

/// `GET /{project}/-/uploads/{secret}/{filename}`
pub async fn show(
    State(state): State<AppState>,
    visitor: PageActor,
    Extension(target): Extension<ProjectTarget>,
    Path((secret, filename)): Path<(String, String)>,
) -> PageResult {
    let frame = ProjectFrame::load(&state, &visitor, target).await?;
    let (row, bytes) =
        state.core.plan().read_upload(&frame.access, &secret, &filename).await.map_err(|e| visitor.error(e))?;
    let mut response = crate::ui::code::blob::uploaded_file_response(&row.filename, bytes);
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("private, max-age=3600"));
    Ok(response)
}

/// `POST /{project}/-/issues/{issue_iid}/uploads` (a multipart `file`): stores the file and
/// goes back to the issue, whose notice gives the Markdown that shows it.
pub async fn upload(
    State(state): State<AppState>,
    visitor: PageActor,
    Extension(target): Extension<ProjectTarget>,
    Path(iid): Path<String>,
    request: Request,
) -> PageResult {
    let frame = ProjectFrame::load(&state, &visitor, target).await?;
    frame.require(&visitor, ProjectAction::CreateIssue)?;
    let iid: i64 = iid.parse().map_err(|_| visitor.error(CoreError::NotFound("issue")))?;
    let back = format!("/{}/-/issues/{iid}", frame.project.full_path);
    let Some(mut form) = read_multipart(&state, request).await.map_err(|e| visitor.error(e))? else {
        let limit = crate::ui::human_size(gantry_core::plan::uploads::MAX_UPLOAD_BYTES);
        let notice = Flash::notice(format!("The file is larger than {limit}: nothing was uploaded."));
        return see_other_with(&state, &visitor, &back, &notice);
    };
    let Some((name, bytes)) = form.take_file("file") else {
        return see_other_with(&state, &visitor, &back, &Flash::notice("Choose a file to upload."));
    };
    let notice = match state.core.plan().upload_file(&frame.access, &name, &bytes).await {
        Ok(upload) => format!(
            "{} was uploaded. Put {} in the description or a comment to show it.",
            upload.row.filename,
            upload.markdown()
        ),
        Err(error @ CoreError::Invalid { .. }) => crate::ui::form_error(error).1,
        Err(error) => return Err(visitor.error(error)),
    };
    see_other_with(&state, &visitor, &back, &Flash::notice(notice))
}
