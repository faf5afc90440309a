//! The caller's side of Plan, shaped like GitLab's: `/todos` (list with `action`, `author_id`,
//! `project_id`, `state`, `type`; mark one or all done), `POST …/issues/:iid/todo` (add one),
//! `…/issues/:iid/subscribe` and `unsubscribe`, and `notification_settings` for all one's mail,
//! a group and a project (`level`).

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use gantry_core::plan::todos::{LevelOf, TODO_ACTIONS, TodoFilter, TodoRow, TodoView};
use gantry_types::{ProjectId, TodoId, UserId};
use serde::{Deserialize, Serialize};

use super::issue_iid;
use super::types::Issue;
use crate::AppState;
use crate::api::groups::lookup_group_access;
use crate::api::projects::lookup_access;
use crate::api::types::User;
use crate::api::{ApiInput, ApiResult, PageParams, paginated};
use crate::auth::ApiActor;
use crate::error::AppError;
use crate::time_format::iso8601;

/// A to-do as GitLab's API shows it.
#[derive(Debug, Serialize)]
pub struct Todo {
    id: i64,
    project: TodoProject,
    author: Option<User>,
    action_name: String,
    target_type: String,
    target: Issue,
    target_url: String,
    body: String,
    state: String,
    created_at: String,
    updated_at: String,
}

#[derive(Debug, Serialize)]
struct TodoProject {
    id: i64,
    name: String,
    name_with_namespace: String,
    path: String,
    path_with_namespace: String,
}

impl Todo {
    fn new(view: &TodoView, state: &AppState) -> Todo {
        let todo = &view.todo;
        let config = &state.config;
        Todo {
            id: todo.id.0,
            project: TodoProject {
                id: view.project.id.0,
                name: view.project.name.clone(),
                name_with_namespace: view.project_path.replace('/', " / "),
                path: view.project.path.clone(),
                path_with_namespace: view.project_path.clone(),
            },
            author: todo.author.as_ref().map(|user| User::new(user, config, false)),
            action_name: todo.action.clone(),
            target_type: todo.target_type.clone(),
            target: Issue::new(&view.issue, config),
            target_url: format!("{}/{}/-/issues/{}", config.external_url, view.project_path, view.issue.issue.iid),
            body: todo.body.clone(),
            state: todo.state.clone(),
            created_at: iso8601(todo.created_at),
            updated_at: iso8601(todo.updated_at),
        }
    }
}

/// The filters of `GET /todos`.
#[derive(Debug, Default, Deserialize)]
pub struct TodoParams {
    action: Option<String>,
    author_id: Option<i64>,
    project_id: Option<i64>,
    state: Option<String>,
    #[serde(rename = "type")]
    kind: Option<String>,
}

impl TodoParams {
    fn filter(&self) -> ApiResult<TodoFilter> {
        let bad = |message: String| -> crate::error::ApiError { AppError::BadRequest(message).into() };
        let state = match self.state.as_deref().map(str::trim) {
            None | Some("") => Some("pending".to_owned()),
            Some(value @ ("pending" | "done")) => Some(value.to_owned()),
            Some(value) => return Err(bad(format!("state does not have a valid value: {value}"))),
        };
        let action = match self.action.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(value) if TODO_ACTIONS.contains(&value) => Some(value.to_owned()),
            Some(value) => return Err(bad(format!("action does not have a valid value: {value}"))),
        };
        let target_type = match self.kind.as_deref().map(str::trim) {
            None | Some("") => None,
            Some("Issue") => Some("Issue".to_owned()),
            // Kinds Gantry has no to-dos of yet (merge requests, epics…) list nothing.
            Some(
                value @ ("MergeRequest" | "Commit" | "Epic" | "DesignManagement::Design" | "AlertManagement::Alert"),
            ) => Some(value.to_owned()),
            Some(value) => return Err(bad(format!("type does not have a valid value: {value}"))),
        };
        Ok(TodoFilter {
            state,
            action,
            project_id: self.project_id.map(ProjectId),
            author_id: self.author_id.map(UserId),
            target_type,
        })
    }
}

/// `GET /todos`: the caller's pending to-dos (or `state=done`), newest first.
pub async fn list_todos(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    uri: Uri,
    Query(page): Query<PageParams>,
    Query(params): Query<TodoParams>,
) -> ApiResult<Response> {
    let page = page.resolve()?;
    let (views, total) = state.core.plan().list_todos(&actor, &params.filter()?, page.db()).await?;
    let todos: Vec<Todo> = views.iter().map(|view| Todo::new(view, &state)).collect();
    Ok(paginated(&state.config.external_url, &uri, todos, total, page))
}

/// `POST /todos/:id/mark_as_done`
pub async fn mark_todo_done(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let id = id.parse::<i64>().map_err(|_| gantry_core::CoreError::NotFound("to-do"))?;
    let row = state.core.plan().mark_todo_done(&actor, TodoId(id)).await?;
    todo_response(&state, &actor, row, StatusCode::CREATED).await
}

/// `POST /todos/mark_as_done`: every pending to-do of the caller.
pub async fn mark_all_todos_done(State(state): State<AppState>, ApiActor(actor): ApiActor) -> ApiResult<StatusCode> {
    state.core.plan().mark_all_todos_done(&actor).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /projects/:id/issues/:issue_iid/todo`: 201 with the new to-do, 304 when one is
/// already pending.
pub async fn add_issue_todo(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path((id, iid)): Path<(String, String)>,
) -> ApiResult<Response> {
    let access = lookup_access(&state, &actor, &id).await?;
    match state.core.plan().add_issue_todo(&access, issue_iid(&iid)?).await? {
        Some(row) => todo_response(&state, &actor, row, StatusCode::CREATED).await,
        None => Ok(StatusCode::NOT_MODIFIED.into_response()),
    }
}

/// A to-do as its own answer (read back through the list, which checks the item is visible).
async fn todo_response(
    state: &AppState,
    actor: &gantry_core::Actor,
    row: TodoRow,
    status: StatusCode,
) -> ApiResult<Response> {
    let filter = TodoFilter {
        project_id: Some(row.project_id),
        target_type: Some(row.target_type.clone()),
        ..TodoFilter::default()
    };
    let every = gantry_core::Page { offset: 0, limit: 1000 };
    let (views, _) = state.core.plan().list_todos(actor, &filter, every).await?;
    let view = views.iter().find(|view| view.todo.id == row.id).ok_or(gantry_core::CoreError::NotFound("to-do"))?;
    Ok((status, Json(Todo::new(view, state))).into_response())
}

/// `POST /projects/:id/issues/:issue_iid/subscribe` (or `unsubscribe`): 201 with the issue,
/// 304 when nothing changed.
async fn subscription(
    state: AppState,
    actor: gantry_core::Actor,
    id: String,
    iid: String,
    subscribed: bool,
) -> ApiResult<Response> {
    let access = lookup_access(&state, &actor, &id).await?;
    let plan = state.core.plan();
    let iid = issue_iid(&iid)?;
    if !plan.subscribe_to_issue(&access, iid, subscribed).await? {
        return Ok(StatusCode::NOT_MODIFIED.into_response());
    }
    let view = plan.find_issue(&access, iid).await?;
    let mut issue = Issue::new(&view, &state.config);
    issue.subscribed = subscribed;
    Ok((StatusCode::CREATED, Json(issue)).into_response())
}

/// `POST /projects/:id/issues/:issue_iid/subscribe`
pub async fn subscribe_issue(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path((id, iid)): Path<(String, String)>,
) -> ApiResult<Response> {
    subscription(state, actor, id, iid, true).await
}

/// `POST /projects/:id/issues/:issue_iid/unsubscribe`
pub async fn unsubscribe_issue(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path((id, iid)): Path<(String, String)>,
) -> ApiResult<Response> {
    subscription(state, actor, id, iid, false).await
}

/// A notification setting as GitLab shows it.
#[derive(Debug, Serialize)]
pub struct NotificationSetting {
    level: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    notification_email: Option<String>,
}

/// What `PUT …/notification_settings` takes.
#[derive(Debug, Default, Deserialize)]
pub struct LevelInput {
    level: Option<String>,
    /// Kept where GitLab has it: mail goes to the account's address.
    notification_email: Option<String>,
}

async fn setting(
    state: &AppState,
    actor: &gantry_core::Actor,
    of: LevelOf<'_>,
    input: Option<LevelInput>,
) -> ApiResult<Json<NotificationSetting>> {
    let plan = state.core.plan();
    let email = actor.require_user()?.email.clone();
    let level = match input {
        Some(LevelInput { notification_email: Some(other), .. })
            if !other.trim().is_empty() && other.trim() != email =>
        {
            return Err(AppError::BadRequest(
                "notification_email: mail goes to your account's primary e-mail address; change that in your profile"
                    .to_owned(),
            )
            .into());
        }
        Some(LevelInput { level: Some(level), .. }) => plan.set_notification_level(actor, of, level.trim()).await?,
        _ => plan.notification_level(actor, of).await?,
    };
    let notification_email = matches!(of, LevelOf::Everything).then_some(email);
    Ok(Json(NotificationSetting { level: level.as_str(), notification_email }))
}

/// `GET /notification_settings`: the level of all the caller's mail.
pub async fn get_global_setting(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
) -> ApiResult<Json<NotificationSetting>> {
    setting(&state, &actor, LevelOf::Everything, None).await
}

/// `PUT /notification_settings` (`level`).
pub async fn put_global_setting(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiInput(input): ApiInput<LevelInput>,
) -> ApiResult<Json<NotificationSetting>> {
    setting(&state, &actor, LevelOf::Everything, Some(input)).await
}

/// `GET /groups/:id/notification_settings`
pub async fn get_group_setting(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
) -> ApiResult<Json<NotificationSetting>> {
    let access = lookup_group_access(&state, &actor, &id).await?;
    setting(&state, &actor, LevelOf::Group(&access), None).await
}

/// `PUT /groups/:id/notification_settings` (`level`).
pub async fn put_group_setting(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
    ApiInput(input): ApiInput<LevelInput>,
) -> ApiResult<Json<NotificationSetting>> {
    let access = lookup_group_access(&state, &actor, &id).await?;
    setting(&state, &actor, LevelOf::Group(&access), Some(input)).await
}

/// `GET /projects/:id/notification_settings`
pub async fn get_project_setting(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
) -> ApiResult<Json<NotificationSetting>> {
    let access = lookup_access(&state, &actor, &id).await?;
    setting(&state, &actor, LevelOf::Project(&access), None).await
}

/// `PUT /projects/:id/notification_settings` (`level`).
pub async fn put_project_setting(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
    ApiInput(input): ApiInput<LevelInput>,
) -> ApiResult<Json<NotificationSetting>> {
    let access = lookup_access(&state, &actor, &id).await?;
    setting(&state, &actor, LevelOf::Project(&access), Some(input)).await
}
