//! The handlers of the issue boards pages, the same for a project (`/{project}/-/boards…`) and
//! for a group (`/{group}/-/boards…`): each loads where the boards are and calls the shared code
//! in `boards.rs`; and the forms that delete a board (after a page that asks) and add and
//! remove its lists.

use askama::Template;
use axum::Extension;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use gantry_core::CoreError;
use gantry_core::plan::boards::ListFor;
use gantry_types::{BoardListId, IterationId, LabelId, MilestoneId};

use super::boards::{self, BoardFilters, Home};
use super::issues::Fields;
use crate::AppState;
use crate::auth::{CsrfForm, PageActor};
use crate::namespace_dispatch::{NamespaceTarget, ProjectTarget};
use crate::ui::flash::{Flash, see_other_with};
use crate::ui::{Chrome, PageResult, render};

#[derive(Template)]
#[template(path = "boards/delete.html")]
struct DeleteBoardPage {
    chrome: Chrome,
    home: Home,
    tab: &'static str,
    board_id: i64,
    board_name: String,
}

async fn delete(state: &AppState, visitor: &PageActor, home: Home, board: &str, form: Fields) -> PageResult {
    home.scope().require_manage().map_err(|e| visitor.error(e))?;
    let board = boards::board_id(visitor, board)?;
    let plan = state.core.plan();
    if form.get("confirm") != "yes" {
        let view = plan.find_board(home.scope(), board).await.map_err(|e| visitor.error(e))?;
        let page = DeleteBoardPage {
            chrome: Chrome::new(visitor),
            tab: "issues",
            board_id: view.board.id.0,
            board_name: view.board.name,
            home,
        };
        return render(StatusCode::OK, &page);
    }
    let deleted = plan.delete_board(home.scope(), board).await.map_err(|e| visitor.error(e))?;
    let notice = Flash::notice(format!("Board {} was deleted.", deleted.name));
    see_other_with(state, visitor, &home.base, &notice)
}

async fn add_list(state: &AppState, visitor: &PageActor, home: Home, board: &str, form: Fields) -> PageResult {
    home.scope().require_manage().map_err(|e| visitor.error(e))?;
    let board = boards::board_id(visitor, board)?;
    let outcome = async {
        let chosen = form.get("list").trim();
        let username = form.get("username").trim().trim_start_matches('@');
        let id = |text: &str, field: &'static str| {
            text.parse::<i64>().ok().filter(|id| *id > 0).ok_or_else(|| CoreError::invalid_input(field, "is not one"))
        };
        let list_for = match (chosen.split_once(':'), username) {
            (Some(("label", value)), _) => ListFor::Label(LabelId(id(value, "label")?)),
            (Some(("milestone", value)), _) => ListFor::Milestone(MilestoneId(id(value, "milestone")?)),
            (Some(("iteration", value)), _) => ListFor::Iteration(IterationId(id(value, "iteration")?)),
            (_, name) if !name.is_empty() => {
                let ids = state.core.plan().user_ids_by_usernames(&[name.to_owned()]).await?;
                ListFor::Assignee(*ids.first().ok_or_else(|| CoreError::invalid_input("username", "is no user"))?)
            }
            _ => {
                return Err(CoreError::invalid_input("list", "needs a label, a milestone, an iteration or a username"));
            }
        };
        let list = state.core.plan().create_board_list(home.scope(), board, list_for).await?;
        Ok(format!("The list {} was added.", list.title()))
    }
    .await;
    boards::answer(state, visitor, home, board, &form, outcome).await
}

async fn remove_list(
    state: &AppState,
    visitor: &PageActor,
    home: Home,
    board: &str,
    list: &str,
    form: Fields,
) -> PageResult {
    home.scope().require_manage().map_err(|e| visitor.error(e))?;
    let board = boards::board_id(visitor, board)?;
    let list = list
        .parse::<i64>()
        .ok()
        .filter(|id| *id > 0)
        .map(BoardListId)
        .ok_or_else(|| visitor.error(CoreError::NotFound("list")))?;
    let outcome = state
        .core
        .plan()
        .delete_board_list(home.scope(), board, list)
        .await
        .map(|()| "The list was removed.".to_owned());
    boards::answer(state, visitor, home, board, &form, outcome).await
}

macro_rules! board_pages {
    ($target:ty, $home:ident, $index:ident, $show:ident, $create:ident, $save:ident, $delete:ident,
     $add_list:ident, $remove_list:ident, $move_card:ident, $what:literal) => {
        #[doc = concat!("`GET /{", $what, "}/-/boards`: the first board (made on the first look)")]
        pub async fn $index(
            State(state): State<AppState>,
            visitor: PageActor,
            Extension(target): Extension<$target>,
            Query(filters): Query<BoardFilters>,
        ) -> PageResult {
            let home = Home::$home(&state, &visitor, target).await?;
            boards::show(&state, &visitor, home, None, filters).await
        }

        #[doc = concat!("`GET /{", $what, "}/-/boards/{board_id}` (filters in the query string)")]
        pub async fn $show(
            State(state): State<AppState>,
            visitor: PageActor,
            Extension(target): Extension<$target>,
            Path(board): Path<String>,
            Query(filters): Query<BoardFilters>,
        ) -> PageResult {
            let home = Home::$home(&state, &visitor, target).await?;
            boards::show(&state, &visitor, home, Some(&board), filters).await
        }

        #[doc = concat!("`POST /{", $what, "}/-/boards` (`name`)")]
        pub async fn $create(
            State(state): State<AppState>,
            visitor: PageActor,
            Extension(target): Extension<$target>,
            CsrfForm(form): CsrfForm<Vec<(String, String)>>,
        ) -> PageResult {
            let home = Home::$home(&state, &visitor, target).await?;
            boards::create(&state, &visitor, home, Fields(form)).await
        }

        #[doc = concat!("`POST /{", $what, "}/-/boards/{board_id}/edit` (`name`, `hide_backlog_list`, `hide_closed_list`)")]
        pub async fn $save(
            State(state): State<AppState>,
            visitor: PageActor,
            Extension(target): Extension<$target>,
            Path(board): Path<String>,
            CsrfForm(form): CsrfForm<Vec<(String, String)>>,
        ) -> PageResult {
            let home = Home::$home(&state, &visitor, target).await?;
            boards::save(&state, &visitor, home, &board, Fields(form)).await
        }

        #[doc = concat!("`POST /{", $what, "}/-/boards/{board_id}/delete`: deletes once confirmed")]
        pub async fn $delete(
            State(state): State<AppState>,
            visitor: PageActor,
            Extension(target): Extension<$target>,
            Path(board): Path<String>,
            CsrfForm(form): CsrfForm<Vec<(String, String)>>,
        ) -> PageResult {
            let home = Home::$home(&state, &visitor, target).await?;
            delete(&state, &visitor, home, &board, Fields(form)).await
        }

        #[doc = concat!("`POST /{", $what, "}/-/boards/{board_id}/lists` (`list`: `label:ID` or `milestone:ID`, or `username`)")]
        pub async fn $add_list(
            State(state): State<AppState>,
            visitor: PageActor,
            Extension(target): Extension<$target>,
            Path(board): Path<String>,
            CsrfForm(form): CsrfForm<Vec<(String, String)>>,
        ) -> PageResult {
            let home = Home::$home(&state, &visitor, target).await?;
            add_list(&state, &visitor, home, &board, Fields(form)).await
        }

        #[doc = concat!("`POST /{", $what, "}/-/boards/{board_id}/lists/{list_id}/delete`")]
        pub async fn $remove_list(
            State(state): State<AppState>,
            visitor: PageActor,
            Extension(target): Extension<$target>,
            Path((board, list)): Path<(String, String)>,
            CsrfForm(form): CsrfForm<Vec<(String, String)>>,
        ) -> PageResult {
            let home = Home::$home(&state, &visitor, target).await?;
            remove_list(&state, &visitor, home, &board, &list, Fields(form)).await
        }

        #[doc = concat!("`POST /{", $what, "}/-/boards/{board_id}/issues/{issue_id}/move` (`from`, `to`: open, closed or a list's id; `move_before_id`, `move_after_id`: the cards it lands between)")]
        pub async fn $move_card(
            State(state): State<AppState>,
            visitor: PageActor,
            Extension(target): Extension<$target>,
            Path((board, issue)): Path<(String, String)>,
            CsrfForm(form): CsrfForm<Vec<(String, String)>>,
        ) -> PageResult {
            let home = Home::$home(&state, &visitor, target).await?;
            boards::move_card(&state, &visitor, home, &board, &issue, Fields(form)).await
        }
    };
}

board_pages!(
    ProjectTarget,
    of_project,
    project_index,
    project_show,
    project_create,
    project_save,
    project_delete,
    project_add_list,
    project_remove_list,
    project_move_card,
    "project"
);

board_pages!(
    NamespaceTarget,
    of_group,
    group_index,
    group_show,
    group_create,
    group_save,
    group_delete,
    group_add_list,
    group_remove_list,
    group_move_card,
    "group"
);
