//! Uploading files from the browser (`/-/upload/:ref/*dir`): a multipart form of one or more
//! files, at most [`UPLOAD_LIMIT_BYTES`] and [`UPLOAD_MAX_FILES`] in all, committed as one
//! change through the same path as the other pages of `edit.rs`.

use axum::Extension;
use axum::extract::{FromRequest, Multipart, Path, Request, State};
use axum::http::StatusCode;
use gantry_core::code::commits::{ActionKind, CommitAction, NewCommit};

use super::{
    ChangeForm, ChangeKind, UPLOAD_LIMIT_BYTES, UPLOAD_MAX_FILES, commit_of, commit_or_show, inside, open, page, show,
    starting_form,
};
use crate::AppState;
use crate::auth::{PageActor, csrf_token_valid};
use crate::error::AppError;
use crate::namespace_dispatch::ProjectTarget;
use crate::ui::project_frame::ProjectFrame;
use crate::ui::{PageResult, human_size};

/// `GET /{project}/-/upload/{ref}/{*dir}`
pub async fn upload_form(
    State(state): State<AppState>,
    visitor: PageActor,
    Extension(target): Extension<ProjectTarget>,
    Path(ref_path): Path<String>,
) -> PageResult {
    show(state, visitor, target, ChangeKind::Upload, ref_path).await
}

/// A file of an upload.
struct Uploaded {
    name: String,
    bytes: Vec<u8>,
}

/// Reads an upload's multipart form: its fields and files, at most [`UPLOAD_LIMIT_BYTES`] in
/// all. `Err` carries the status and message for the form.
async fn read_upload(
    state: &AppState,
    request: Request,
) -> Result<Result<(ChangeForm, Vec<Uploaded>), (StatusCode, String)>, AppError> {
    let headers = request.headers().clone();
    let mut multipart = Multipart::from_request(request, state)
        .await
        .map_err(|_| AppError::BadRequest("Choose files to upload.".into()))?;
    let (mut token, mut form, mut files, mut total) = (String::new(), ChangeForm::default(), Vec::new(), 0usize);
    let too_large = || {
        (
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("The files are larger than {} in all: nothing was committed.", human_size(UPLOAD_LIMIT_BYTES)),
        )
    };
    loop {
        let field = match multipart.next_field().await {
            Ok(Some(field)) => field,
            Ok(None) => break,
            Err(error) if error.status() == StatusCode::PAYLOAD_TOO_LARGE => return Ok(Err(too_large())),
            Err(error) => return Err(AppError::BadRequest(format!("The form could not be read: {error}."))),
        };
        let name = field.name().unwrap_or("").to_owned();
        let filename = field.file_name().map(str::to_owned);
        let bytes = match field.bytes().await {
            Ok(bytes) => bytes,
            Err(error) if error.status() == StatusCode::PAYLOAD_TOO_LARGE => return Ok(Err(too_large())),
            Err(error) => return Err(AppError::BadRequest(format!("The form could not be read: {error}."))),
        };
        let text = || String::from_utf8_lossy(&bytes).into_owned();
        match name.as_str() {
            "authenticity_token" => token = text(),
            "commit_message" => form.commit_message = text(),
            "branch_name" => form.branch_name = text(),
            // A file input left empty sends a part without a name or content.
            "files" if filename.as_deref().is_some_and(|f| !f.is_empty()) => {
                total += bytes.len();
                if total > UPLOAD_LIMIT_BYTES {
                    return Ok(Err(too_large()));
                }
                if files.len() == UPLOAD_MAX_FILES {
                    return Ok(Err((
                        StatusCode::BAD_REQUEST,
                        format!("Upload at most {UPLOAD_MAX_FILES} files at once."),
                    )));
                }
                // Browsers send a name; some send a path: only its last part counts.
                let name = filename.unwrap_or_default().rsplit(['/', '\\']).next().unwrap_or_default().to_owned();
                files.push(Uploaded { name, bytes: bytes.to_vec() });
            }
            _ => {}
        }
    }
    if !csrf_token_valid(state, &headers, &token) {
        return Err(AppError::Csrf);
    }
    Ok(Ok((form, files)))
}

/// `POST /{project}/-/upload/{ref}/{*dir}`: commits the uploaded files into the folder (each
/// must be new there).
pub async fn upload(
    State(state): State<AppState>,
    visitor: PageActor,
    Extension(target): Extension<ProjectTarget>,
    Path(ref_path): Path<String>,
    request: Request,
) -> PageResult {
    let frame = ProjectFrame::load(&state, &visitor, target).await?;
    let opened = open(&state, &visitor, &frame, ChangeKind::Upload, &ref_path).await?;
    let (form, files) = match read_upload(&state, request).await.map_err(|e| visitor.error(e))? {
        Ok(read) => read,
        Err(refusal) => {
            let form = starting_form(&visitor, ChangeKind::Upload, &opened);
            return page(&visitor, frame, ChangeKind::Upload, &opened, form, Some(refusal), None);
        }
    };
    let commit = if files.is_empty() {
        Err("Choose one or more files to upload.".to_owned())
    } else {
        let actions = files
            .into_iter()
            .map(|file| CommitAction {
                kind: ActionKind::Create,
                file_path: inside(&opened.path, &file.name),
                previous_path: None,
                content: Some(file.bytes),
                executable: None,
                last_commit_id: None,
            })
            .collect();
        commit_of(&opened, &form, actions).map(|commit| NewCommit { one_file: false, ..commit })
    };
    let dir = opened.path.clone();
    commit_or_show(&state, visitor, frame, ChangeKind::Upload, &opened, form, commit, ("tree", &dir)).await
}
