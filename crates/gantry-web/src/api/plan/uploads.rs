//! Files for a project's issues and comments, shaped like GitLab's project uploads API
//! (`POST /projects/:id/uploads` with a multipart `file`: its `alt`, `url`, `full_path` and
//! `markdown`). Core decides who may.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use gantry_core::policy::ProjectAction;
use serde::{Deserialize, Serialize};

use crate::AppState;
use crate::api::projects::lookup_access;
use crate::api::{ApiResult, ApiUpload};
use crate::auth::ApiActor;
use crate::error::AppError;

#[derive(Debug, Default, Deserialize)]
pub struct UploadInput {}

/// An upload as GitLab answers it.
#[derive(Debug, Serialize)]
pub struct UploadJson {
    pub id: i64,
    pub alt: String,
    pub url: String,
    pub full_path: String,
    pub markdown: String,
}

/// `POST /projects/:id/uploads` (a multipart `file`)
pub async fn upload_project_file(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
    ApiUpload(_, mut uploads): ApiUpload<UploadInput>,
) -> ApiResult<Response> {
    let access = lookup_access(&state, &actor, &id).await?;
    access.require(ProjectAction::CreateIssue)?;
    let Some(file) = uploads.take("file") else {
        return Err(AppError::BadRequest("file is missing: send it as a file in a multipart form".to_owned()).into());
    };
    let upload = state.core.plan().upload_file(&access, &file.filename, &file.bytes).await?;
    let json = UploadJson {
        id: upload.row.id,
        alt: upload.row.filename.clone(),
        full_path: format!("/{}/-{}", access.project().full_path, upload.url()),
        url: upload.url(),
        markdown: upload.markdown(),
    };
    Ok((StatusCode::CREATED, Json(json)).into_response())
}
