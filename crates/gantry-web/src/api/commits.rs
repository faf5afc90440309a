//! Writing to a repository without git, shaped like GitLab's API: `POST`/`PUT`/`DELETE
//! /repository/files/:file_path` (one file), `POST /repository/commits` (several actions in one
//! commit) and `POST /repository/commits/:sha/cherry_pick|revert`. Core checks them as a push
//! of the branch.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use base64::Engine;
use gantry_core::code::commits::{ActionKind, ChangeOutcome, CommitAction, CommitChange, NewCommit};
use gantry_core::policy::ProjectAction;
use gantry_git::write::ChangeKind;
use serde::{Deserialize, Serialize};

use super::history::CommitDetail;
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
    execute_filemode: Option<bool>,
    last_commit_id: Option<String>,
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
        actions: vec![CommitAction {
            kind,
            file_path: file_path.clone(),
            previous_path: None,
            content,
            executable: input.execute_filemode,
            last_commit_id: input.last_commit_id,
        }],
        author_name: input.author_name,
        author_email: input.author_email,
        one_file: true,
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
    execute_filemode: Option<bool>,
    last_commit_id: Option<String>,
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
    stats: Option<bool>,
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
                "actions[action] must be one of: create, update, move, delete, chmod, not '{}'",
                action.action
            ))
        })?;
        let file_path = action.file_path.ok_or_else(|| AppError::BadRequest("actions[file_path] is missing".into()))?;
        let content = content_bytes(action.content, action.encoding.as_deref())?;
        actions.push(CommitAction {
            kind,
            file_path,
            previous_path: action.previous_path,
            content,
            executable: action.execute_filemode,
            last_commit_id: action.last_commit_id,
        });
    }
    let commit = NewCommit {
        branch: input.branch.unwrap_or_default(),
        start_branch: input.start_branch,
        message: input.commit_message.unwrap_or_default(),
        actions,
        author_name: input.author_name,
        author_email: input.author_email,
        one_file: false,
    };
    let sha = state.core.code().commit_files(&actor, &access, &commit).await?;
    let project = access.project();
    let summary = super::history::find_commit(&state, &actor, project, sha).await?;
    let diff = match input.stats.unwrap_or(true) {
        true => Some(state.core.code().commit_diff(&actor, project, &summary.id).await?),
        false => None,
    };
    Ok((StatusCode::CREATED, Json(CommitDetail::new(&summary, project, &state, diff.as_ref()))).into_response())
}

/// The parameters of a cherry-pick or revert.
#[derive(Debug, Deserialize)]
pub struct ChangeInput {
    branch: Option<String>,
    #[serde(default)]
    dry_run: bool,
    message: Option<String>,
}

/// Why a cherry-pick or revert was not made, as GitLab answers it (with `dry_run: "error"`
/// for a dry run).
#[derive(Debug, Serialize)]
struct ChangeRefused {
    message: String,
    error_code: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    dry_run: Option<&'static str>,
}

async fn change_commit(
    state: AppState,
    actor: gantry_core::Actor,
    id: String,
    sha: String,
    kind: ChangeKind,
    input: ChangeInput,
) -> ApiResult<Response> {
    // Who may write comes first: a visitor without the right learns nothing about the input.
    let access = lookup_access(&state, &actor, &id).await?;
    access.require(ProjectAction::PushCode)?;
    let change = CommitChange {
        kind,
        commit: sha,
        branch: input.branch.unwrap_or_default(),
        dry_run: input.dry_run,
        // GitLab takes a message for cherry-picks only.
        message: input.message.filter(|_| kind == ChangeKind::CherryPick),
    };
    let project = access.project();
    Ok(match state.core.code().change_commit(&actor, &access, &change).await? {
        ChangeOutcome::Committed(summary) => Json(Commit::new(&summary, project, &state.config)).into_response(),
        ChangeOutcome::WouldSucceed => Json(serde_json::json!({"dry_run": "success"})).into_response(),
        ChangeOutcome::Failed(failure) => {
            let body = ChangeRefused {
                message: failure.message(kind),
                error_code: failure.code(),
                dry_run: change.dry_run.then_some("error"),
            };
            (StatusCode::BAD_REQUEST, Json(body)).into_response()
        }
    })
}

/// `POST /projects/:id/repository/commits/:sha/cherry_pick` (`branch`, `dry_run`, `message`):
/// the commit's change as a new commit on the branch.
pub async fn cherry_pick(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path((id, sha)): Path<(String, String)>,
    ApiInput(input): ApiInput<ChangeInput>,
) -> ApiResult<Response> {
    change_commit(state, actor, id, sha, ChangeKind::CherryPick, input).await
}

/// `POST /projects/:id/repository/commits/:sha/revert` (`branch`, `dry_run`): a new commit on
/// the branch that undoes the commit's change.
pub async fn revert(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path((id, sha)): Path<(String, String)>,
    ApiInput(input): ApiInput<ChangeInput>,
) -> ApiResult<Response> {
    change_commit(state, actor, id, sha, ChangeKind::Revert, input).await
}
