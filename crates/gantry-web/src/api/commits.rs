//! Writing to a repository without git, shaped like GitLab's API: `POST`/`PUT`/`DELETE
//! /repository/files/:file_path` (one file) and `POST /repository/commits` (several actions
//! in one commit). Core checks them as a push of the branch.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use base64::Engine;
use gantry_core::code::commits::{ActionKind, CommitAction, NewCommit};
use gantry_core::policy::ProjectAction;
use serde::{Deserialize, Serialize};

use super::projects::lookup_access;
use super::types::Commit;
use super::{ApiInput, ApiResult};
use crate::AppState;
use crate::auth::ApiActor;
use crate::error::AppError;

/// Content as sent: text, or base64 with `encoding=base64`.
fn content_bytes(content: Option<String>, encoding: Option<&str>) -> ApiResult<Option<Vec<u8>>> {
    match (content, encoding.unwrap_or("text")) {
        (None, _) => Ok(None),
        (Some(text), "text") => Ok(Some(text.into_bytes())),
        (Some(encoded), "base64") => base64::engine::general_purpose::STANDARD
            .decode(encoded.trim())
            .map(Some)
            .map_err(|_| AppError::BadRequest("content is not valid base64".into()).into()),
        (Some(_), other) => Err(AppError::BadRequest(format!("encoding must be text or base64, not '{other}'")).into()),
    }
}

/// The parameters of a one-file write.
#[derive(Debug, Deserialize)]
pub struct FileWrite {
    branch: Option<String>,
    start_branch: Option<String>,
    content: Option<String>,
    encoding: Option<String>,
    commit_message: Option<String>,
    author_name: Option<String>,
    author_email: Option<String>,
}

/// What a one-file write answers.
#[derive(Debug, Serialize)]
pub struct FileWritten {
    file_path: String,
    branch: String,
}

async fn write_file(
    state: AppState,
    actor: gantry_core::Actor,
    id: String,
    file_path: String,
    kind: ActionKind,
    input: FileWrite,
) -> ApiResult<String> {
    // Who may write comes first: a visitor without the right learns nothing about the input.
    let access = lookup_access(&state, &actor, &id).await?;
    access.require(ProjectAction::PushCode)?;
    let branch = input.branch.unwrap_or_default();
    let content = content_bytes(input.content, input.encoding.as_deref())?;
    let commit = NewCommit {
        branch: branch.clone(),
        start_branch: input.start_branch,
        message: input.commit_message.unwrap_or_default(),
        actions: vec![CommitAction { kind, file_path: file_path.clone(), previous_path: None, content }],
        author_name: input.author_name,
        author_email: input.author_email,
    };
    state.core.code().commit_files(&actor, &access, &commit).await?;
    Ok(branch)
}

/// `POST /projects/:id/repository/files/:file_path` (`branch`, `content`, `commit_message`,
/// optional `start_branch`, `encoding`, `author_name`, `author_email`): 201.
pub async fn create_file(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path((id, file_path)): Path<(String, String)>,
    ApiInput(input): ApiInput<FileWrite>,
) -> ApiResult<Response> {
    let branch = write_file(state, actor, id, file_path.clone(), ActionKind::Create, input).await?;
    Ok((StatusCode::CREATED, Json(FileWritten { file_path, branch })).into_response())
}

/// `PUT /projects/:id/repository/files/:file_path`: new content for a file that exists.
pub async fn update_file(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path((id, file_path)): Path<(String, String)>,
    ApiInput(input): ApiInput<FileWrite>,
) -> ApiResult<Json<FileWritten>> {
    let branch = write_file(state, actor, id, file_path.clone(), ActionKind::Update, input).await?;
    Ok(Json(FileWritten { file_path, branch }))
}

/// `DELETE /projects/:id/repository/files/:file_path` (`branch`, `commit_message`): 204.
pub async fn delete_file(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path((id, file_path)): Path<(String, String)>,
    ApiInput(input): ApiInput<FileWrite>,
) -> ApiResult<StatusCode> {
    write_file(state, actor, id, file_path, ActionKind::Delete, input).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// One action of `POST /repository/commits`.
#[derive(Debug, Deserialize)]
pub struct ActionInput {
    action: String,
    file_path: Option<String>,
    previous_path: Option<String>,
    content: Option<String>,
    encoding: Option<String>,
}

/// The parameters of `POST /repository/commits`.
#[derive(Debug, Deserialize)]
pub struct CommitInput {
    branch: Option<String>,
    start_branch: Option<String>,
    commit_message: Option<String>,
    #[serde(default)]
    actions: Vec<ActionInput>,
    author_name: Option<String>,
    author_email: Option<String>,
}

/// `POST /projects/:id/repository/commits`: one commit of several file actions; 201 with the
/// commit.
pub async fn create_commit(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
    ApiInput(input): ApiInput<CommitInput>,
) -> ApiResult<Response> {
    let access = lookup_access(&state, &actor, &id).await?;
    access.require(ProjectAction::PushCode)?;
    let mut actions = Vec::with_capacity(input.actions.len());
    for action in input.actions {
        let kind = ActionKind::parse(&action.action).ok_or_else(|| {
            AppError::BadRequest(format!(
                "actions[action] must be create, update, delete or move, not '{}'",
                action.action
            ))
        })?;
        let file_path = action.file_path.ok_or_else(|| AppError::BadRequest("actions[file_path] is missing".into()))?;
        let content = content_bytes(action.content, action.encoding.as_deref())?;
        actions.push(CommitAction { kind, file_path, previous_path: action.previous_path, content });
    }
    let commit = NewCommit {
        branch: input.branch.unwrap_or_default(),
        start_branch: input.start_branch,
        message: input.commit_message.unwrap_or_default(),
        actions,
        author_name: input.author_name,
        author_email: input.author_email,
    };
    let sha = state.core.code().commit_files(&actor, &access, &commit).await?;
    let project = access.project();
    let summary = super::files::find_commit(&state, &actor, project, sha).await?;
    Ok((StatusCode::CREATED, Json(Commit::new(&summary, project, &state.config))).into_response())
}
