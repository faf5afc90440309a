//! Uploading files from the browser (`/-/upload/:ref/*dir`): a multipart form of one or more
//! files, at most [`UPLOAD_LIMIT_BYTES`] and [`UPLOAD_MAX_FILES`] in all, committed as one
//! change through the same path as the other pages of `edit.rs`.

use axum::Extension;
use axum::extract::{Path, Request, State};
use axum::http::StatusCode;
use gantry_core::code::commits::{ActionKind, CommitAction, NewCommit};

use super::{
    ChangeForm, ChangeKind, UPLOAD_LIMIT_BYTES, UPLOAD_MAX_FILES, commit_of, commit_or_show, inside, open, page, show,
    starting_form,
};
use crate::AppState;
use crate::auth::PageActor;
use crate::error::AppError;
use crate::namespace_dispatch::ProjectTarget;
use crate::ui::multipart::read_multipart;
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

/// Reads an upload's multipart form: its fields and files, at most [`UPLOAD_LIMIT_BYTES`] and
/// [`UPLOAD_MAX_FILES`] in all. `Err` carries the status and message for the form.
async fn read_upload(
    state: &AppState,
    request: Request,
) -> Result<Result<(ChangeForm, Vec<Uploaded>), (StatusCode, String)>, AppError> {
    let too_large = || {
        (
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("The files are larger than {} in all: nothing was committed.", human_size(UPLOAD_LIMIT_BYTES)),
        )
    };
    let Some(posted) = read_multipart(state, request).await? else { return Ok(Err(too_large())) };
    let form = ChangeForm {
        commit_message: posted.get("commit_message").to_owned(),
        branch_name: posted.get("branch_name").to_owned(),
        ..ChangeForm::default()
    };
    let mut files = Vec::new();
    let mut total = 0usize;
    for (field, filename, bytes) in posted.files {
        if field != "files" {
            continue;
        }
        total += bytes.len();
        if total > UPLOAD_LIMIT_BYTES {
            return Ok(Err(too_large()));
        }
        if files.len() == UPLOAD_MAX_FILES {
            return Ok(Err((StatusCode::BAD_REQUEST, format!("Upload at most {UPLOAD_MAX_FILES} files at once."))));
        }
        // Browsers send a name; some send a path: only its last part counts.
        let name = filename.rsplit(['/', '\\']).next().unwrap_or_default().to_owned();
        files.push(Uploaded { name, bytes });
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
