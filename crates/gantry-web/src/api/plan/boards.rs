//! `/projects/:id/boards` and `/groups/:id/boards`, shaped like GitLab's issue boards APIs: the
//! boards (listing them makes the first one, "Development", when there is none, as GitLab
//! does), one board, create (`name`), edit (`name`, `hide_backlog_list`, `hide_closed_list`),
//! delete; a board's lists (the open and closed columns are no lists), one list, create (one of
//! `label_id`, `milestone_id`, `assignee_id`), move (`position`) and delete. Reporters and above
//! change boards and lists (core decides).

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use gantry_core::CoreError;
use gantry_core::plan::boards::{BoardInput, BoardList as CoreList, BoardScope, BoardView, ListFor};
use gantry_types::{BoardId, BoardListId, IterationId, LabelId, MilestoneId, UserId};
use serde::{Deserialize, Serialize};

use super::types::{Iteration, Label, Milestone};
use crate::api::groups::lookup_group_access;
use crate::api::projects::lookup_access;
use crate::api::types::User;
use crate::api::{ApiInput, ApiResult};
use crate::auth::ApiActor;
use crate::error::AppError;
use crate::{AppState, WebConfig};

/// GitLab's board.
#[derive(Debug, Serialize)]
pub struct Board {
    pub id: i64,
    pub name: String,
    pub hide_backlog_list: bool,
    pub hide_closed_list: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub project: Option<BoardProject>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group: Option<BoardGroup>,
    /// A board's scope (GitLab's milestone, assignee, labels and weight): none here, every
    /// board shows every issue.
    pub milestone: Option<Milestone>,
    pub assignee: Option<User>,
    pub labels: Vec<Label>,
    pub weight: Option<i64>,
    pub lists: Vec<BoardList>,
}

/// The project of a project's board.
#[derive(Debug, Serialize)]
pub struct BoardProject {
    pub id: i64,
    pub name: String,
    pub name_with_namespace: String,
    pub path: String,
    pub path_with_namespace: String,
    pub http_url_to_repo: String,
    pub web_url: String,
}

/// The group of a group's board.
#[derive(Debug, Serialize)]
pub struct BoardGroup {
    pub id: i64,
    pub name: String,
    pub web_url: String,
}

/// GitLab's board list.
#[derive(Debug, Serialize)]
pub struct BoardList {
    pub id: i64,
    pub list_type: &'static str,
    pub label: Option<Label>,
    pub milestone: Option<Milestone>,
    pub assignee: Option<User>,
    pub iteration: Option<Iteration>,
    pub position: i64,
    pub max_issue_count: i64,
    pub max_issue_weight: i64,
    pub limit_metric: Option<String>,
}

impl BoardList {
    fn new(list: &CoreList, config: &WebConfig) -> BoardList {
        BoardList {
            id: list.list.id.0,
            list_type: list.list.list_for.list_type(),
            label: list.label.as_ref().map(Label::new),
            milestone: list.milestone.as_ref().map(|m| Milestone::new(m, config)),
            assignee: list.assignee.as_ref().map(|u| User::new(u, config, false)),
            iteration: list.iteration.as_ref().map(|it| Iteration::new(it, config)),
            position: list.list.position,
            max_issue_count: 0,
            max_issue_weight: 0,
            limit_metric: None,
        }
    }
}

fn board(view: &BoardView, scope: BoardScope<'_>, config: &WebConfig) -> Board {
    let base = &config.external_url;
    let (project, group) = match scope {
        BoardScope::Project(access) => {
            let project = access.project();
            let project = BoardProject {
                id: project.id.0,
                name: project.name.clone(),
                name_with_namespace: format!("{} / {}", access.namespace().name, project.name),
                path: project.path.clone(),
                path_with_namespace: project.full_path.clone(),
                http_url_to_repo: format!("{base}/{}.git", project.full_path),
                web_url: format!("{base}/{}", project.full_path),
            };
            (Some(project), None)
        }
        BoardScope::Group(access) => {
            let group = access.group();
            let group = BoardGroup {
                id: group.id.0,
                name: group.name.clone(),
                web_url: format!("{base}/groups/{}", group.full_path),
            };
            (None, Some(group))
        }
    };
    Board {
        id: view.board.id.0,
        name: view.board.name.clone(),
        hide_backlog_list: view.board.hide_backlog_list,
        hide_closed_list: view.board.hide_closed_list,
        project,
        group,
        milestone: None,
        assignee: None,
        labels: Vec::new(),
        weight: None,
        lists: view.lists.iter().map(|list| BoardList::new(list, config)).collect(),
    }
}

/// An id from the path; anything else names nothing.
fn path_id(value: &str, what: &'static str) -> ApiResult<i64> {
    value.parse::<i64>().ok().filter(|id| *id > 0).ok_or_else(|| CoreError::NotFound(what).into())
}

/// What creating or editing a board takes.
#[derive(Debug, Default, Deserialize)]
pub struct BoardParams {
    name: Option<String>,
    hide_backlog_list: Option<bool>,
    hide_closed_list: Option<bool>,
}

impl BoardParams {
    fn input(self) -> BoardInput {
        BoardInput {
            name: self.name,
            hide_backlog_list: self.hide_backlog_list,
            hide_closed_list: self.hide_closed_list,
        }
    }
}

/// What creating a list takes: exactly one of a label, a milestone, a person or an iteration.
#[derive(Debug, Default, Deserialize)]
pub struct ListParams {
    label_id: Option<i64>,
    milestone_id: Option<i64>,
    assignee_id: Option<i64>,
    iteration_id: Option<i64>,
}

impl ListParams {
    fn list_for(&self) -> ApiResult<ListFor> {
        let given: Vec<(&str, i64)> = [
            ("label_id", self.label_id),
            ("milestone_id", self.milestone_id),
            ("assignee_id", self.assignee_id),
            ("iteration_id", self.iteration_id),
        ]
        .into_iter()
        .filter_map(|(name, id)| id.map(|id| (name, id)))
        .collect();
        const NAMES: &str = "label_id, milestone_id, assignee_id, iteration_id";
        let (name, id) = match given.as_slice() {
            [one] => *one,
            [] => {
                return Err(AppError::BadRequest(format!("{NAMES} are missing, exactly one must be provided")).into());
            }
            _ => {
                return Err(AppError::BadRequest(format!("{NAMES} are mutually exclusive: give exactly one")).into());
            }
        };
        if id <= 0 {
            return Err(AppError::BadRequest(format!("{name} must be a positive id, not {id}")).into());
        }
        Ok(match name {
            "label_id" => ListFor::Label(LabelId(id)),
            "milestone_id" => ListFor::Milestone(MilestoneId(id)),
            "assignee_id" => ListFor::Assignee(UserId(id)),
            _ => ListFor::Iteration(IterationId(id)),
        })
    }
}

/// What moving a list takes.
#[derive(Debug, Default, Deserialize)]
pub struct ListPositionParams {
    position: Option<i64>,
}

async fn boards_of(state: &AppState, scope: BoardScope<'_>) -> ApiResult<Json<Vec<Board>>> {
    let boards = state.core.plan().list_boards(scope, false).await?;
    Ok(Json(boards.iter().map(|view| board(view, scope, &state.config)).collect()))
}

async fn board_of(state: &AppState, scope: BoardScope<'_>, id: &str) -> ApiResult<Json<Board>> {
    let view = state.core.plan().find_board(scope, BoardId(path_id(id, "board")?)).await?;
    Ok(Json(board(&view, scope, &state.config)))
}

async fn created(state: &AppState, scope: BoardScope<'_>, params: BoardParams) -> ApiResult<Response> {
    scope.require_manage()?;
    if params.name.is_none() {
        return Err(AppError::BadRequest("name is missing".to_owned()).into());
    }
    let view = state.core.plan().create_board(scope, &params.input()).await?;
    Ok((StatusCode::CREATED, Json(board(&view, scope, &state.config))).into_response())
}

async fn updated(state: &AppState, scope: BoardScope<'_>, id: &str, params: BoardParams) -> ApiResult<Json<Board>> {
    scope.require_manage()?;
    let view = state.core.plan().update_board(scope, BoardId(path_id(id, "board")?), &params.input()).await?;
    Ok(Json(board(&view, scope, &state.config)))
}

async fn deleted(state: &AppState, scope: BoardScope<'_>, id: &str) -> ApiResult<StatusCode> {
    scope.require_manage()?;
    state.core.plan().delete_board(scope, BoardId(path_id(id, "board")?)).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn lists_of(state: &AppState, scope: BoardScope<'_>, id: &str) -> ApiResult<Json<Vec<BoardList>>> {
    let view = state.core.plan().find_board(scope, BoardId(path_id(id, "board")?)).await?;
    Ok(Json(view.lists.iter().map(|list| BoardList::new(list, &state.config)).collect()))
}

async fn list_of(state: &AppState, scope: BoardScope<'_>, id: &str, list: &str) -> ApiResult<Json<BoardList>> {
    let board = BoardId(path_id(id, "board")?);
    let list = state.core.plan().find_board_list(scope, board, BoardListId(path_id(list, "list")?)).await?;
    Ok(Json(BoardList::new(&list, &state.config)))
}

async fn list_created(state: &AppState, scope: BoardScope<'_>, id: &str, params: ListParams) -> ApiResult<Response> {
    scope.require_manage()?;
    let board = BoardId(path_id(id, "board")?);
    let list = state.core.plan().create_board_list(scope, board, params.list_for()?).await?;
    Ok((StatusCode::CREATED, Json(BoardList::new(&list, &state.config))).into_response())
}

async fn list_moved(
    state: &AppState,
    scope: BoardScope<'_>,
    id: &str,
    list: &str,
    params: ListPositionParams,
) -> ApiResult<Json<BoardList>> {
    scope.require_manage()?;
    let board = BoardId(path_id(id, "board")?);
    let list = BoardListId(path_id(list, "list")?);
    let position = params.position.ok_or_else(|| AppError::BadRequest("position is missing".to_owned()))?;
    if position < 0 {
        return Err(AppError::BadRequest(format!("position must be 0 or more, not {position}")).into());
    }
    let list = state.core.plan().move_board_list(scope, board, list, position).await?;
    Ok(Json(BoardList::new(&list, &state.config)))
}

async fn list_deleted(state: &AppState, scope: BoardScope<'_>, id: &str, list: &str) -> ApiResult<StatusCode> {
    scope.require_manage()?;
    let board = BoardId(path_id(id, "board")?);
    state.core.plan().delete_board_list(scope, board, BoardListId(path_id(list, "list")?)).await?;
    Ok(StatusCode::NO_CONTENT)
}

macro_rules! board_handlers {
    ($lookup:ident, $scope:ident, $list:ident, $get:ident, $create:ident, $update:ident, $delete:ident,
     $lists:ident, $get_list:ident, $create_list:ident, $update_list:ident, $delete_list:ident, $what:literal) => {
        #[doc = concat!("`GET /", $what, "/:id/boards` (the first look makes \"Development\")")]
        pub async fn $list(
            State(state): State<AppState>,
            ApiActor(actor): ApiActor,
            Path(id): Path<String>,
        ) -> ApiResult<Json<Vec<Board>>> {
            let access = $lookup(&state, &actor, &id).await?;
            boards_of(&state, BoardScope::$scope(&access)).await
        }

        #[doc = concat!("`GET /", $what, "/:id/boards/:board_id`")]
        pub async fn $get(
            State(state): State<AppState>,
            ApiActor(actor): ApiActor,
            Path((id, board)): Path<(String, String)>,
        ) -> ApiResult<Json<Board>> {
            let access = $lookup(&state, &actor, &id).await?;
            board_of(&state, BoardScope::$scope(&access), &board).await
        }

        #[doc = concat!("`POST /", $what, "/:id/boards` (`name`)")]
        pub async fn $create(
            State(state): State<AppState>,
            ApiActor(actor): ApiActor,
            Path(id): Path<String>,
            ApiInput(params): ApiInput<BoardParams>,
        ) -> ApiResult<Response> {
            let access = $lookup(&state, &actor, &id).await?;
            created(&state, BoardScope::$scope(&access), params).await
        }

        #[doc = concat!("`PUT /", $what, "/:id/boards/:board_id` (`name`, `hide_backlog_list`, `hide_closed_list`)")]
        pub async fn $update(
            State(state): State<AppState>,
            ApiActor(actor): ApiActor,
            Path((id, board)): Path<(String, String)>,
            ApiInput(params): ApiInput<BoardParams>,
        ) -> ApiResult<Json<Board>> {
            let access = $lookup(&state, &actor, &id).await?;
            updated(&state, BoardScope::$scope(&access), &board, params).await
        }

        #[doc = concat!("`DELETE /", $what, "/:id/boards/:board_id`")]
        pub async fn $delete(
            State(state): State<AppState>,
            ApiActor(actor): ApiActor,
            Path((id, board)): Path<(String, String)>,
        ) -> ApiResult<StatusCode> {
            let access = $lookup(&state, &actor, &id).await?;
            deleted(&state, BoardScope::$scope(&access), &board).await
        }

        #[doc = concat!("`GET /", $what, "/:id/boards/:board_id/lists`")]
        pub async fn $lists(
            State(state): State<AppState>,
            ApiActor(actor): ApiActor,
            Path((id, board)): Path<(String, String)>,
        ) -> ApiResult<Json<Vec<BoardList>>> {
            let access = $lookup(&state, &actor, &id).await?;
            lists_of(&state, BoardScope::$scope(&access), &board).await
        }

        #[doc = concat!("`GET /", $what, "/:id/boards/:board_id/lists/:list_id`")]
        pub async fn $get_list(
            State(state): State<AppState>,
            ApiActor(actor): ApiActor,
            Path((id, board, list)): Path<(String, String, String)>,
        ) -> ApiResult<Json<BoardList>> {
            let access = $lookup(&state, &actor, &id).await?;
            list_of(&state, BoardScope::$scope(&access), &board, &list).await
        }

        #[doc = concat!("`POST /", $what, "/:id/boards/:board_id/lists` (`label_id`, `milestone_id` or `assignee_id`)")]
        pub async fn $create_list(
            State(state): State<AppState>,
            ApiActor(actor): ApiActor,
            Path((id, board)): Path<(String, String)>,
            ApiInput(params): ApiInput<ListParams>,
        ) -> ApiResult<Response> {
            let access = $lookup(&state, &actor, &id).await?;
            list_created(&state, BoardScope::$scope(&access), &board, params).await
        }

        #[doc = concat!("`PUT /", $what, "/:id/boards/:board_id/lists/:list_id` (`position`)")]
        pub async fn $update_list(
            State(state): State<AppState>,
            ApiActor(actor): ApiActor,
            Path((id, board, list)): Path<(String, String, String)>,
            ApiInput(params): ApiInput<ListPositionParams>,
        ) -> ApiResult<Json<BoardList>> {
            let access = $lookup(&state, &actor, &id).await?;
            list_moved(&state, BoardScope::$scope(&access), &board, &list, params).await
        }

        #[doc = concat!("`DELETE /", $what, "/:id/boards/:board_id/lists/:list_id`")]
        pub async fn $delete_list(
            State(state): State<AppState>,
            ApiActor(actor): ApiActor,
            Path((id, board, list)): Path<(String, String, String)>,
        ) -> ApiResult<StatusCode> {
            let access = $lookup(&state, &actor, &id).await?;
            list_deleted(&state, BoardScope::$scope(&access), &board, &list).await
        }
    };
}

board_handlers!(
    lookup_access,
    Project,
    list_project_boards,
    get_project_board,
    create_project_board,
    update_project_board,
    delete_project_board,
    list_project_board_lists,
    get_project_board_list,
    create_project_board_list,
    update_project_board_list,
    delete_project_board_list,
    "projects"
);

board_handlers!(
    lookup_group_access,
    Group,
    list_group_boards,
    get_group_board,
    create_group_board,
    update_group_board,
    delete_group_board,
    list_group_board_lists,
    get_group_board_list,
    create_group_board_list,
    update_group_board_list,
    delete_group_board_list,
    "groups"
);
