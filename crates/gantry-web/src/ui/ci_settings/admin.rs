//! The admin area's CI/CD page: instance variables, how the built-in runner runs (or why it
//! does not), and every runner (pause, resume, delete).

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use gantry_core::CoreError;
use gantry_core::ci::runners::{BuiltinRunnerState, RunnerChange};
use gantry_core::ci::variables::VariableScope;
use serde::Deserialize;

use super::{DeleteVariableForm, RunnerLine, VariableForm, VariablesBlock, runner_lines, save_variable};
use crate::AppState;
use crate::auth::{CsrfForm, PageActor};
use crate::ui::{Chrome, PageResult, form_error, render, see_other};

#[derive(Template)]
#[template(path = "admin/ci.html")]
struct AdminCiPage {
    chrome: Chrome,
    block: VariablesBlock,
    runners: Vec<RunnerLine>,
    builtin_runner: BuiltinRunnerState,
    error: Option<String>,
}

async fn admin_page(
    state: &AppState,
    visitor: &PageActor,
    form: VariableForm,
    error: Option<(StatusCode, String)>,
) -> PageResult {
    let variables = state
        .core
        .ci()
        .list_ci_variables(&visitor.actor, VariableScope::Instance)
        .await
        .map_err(|e| visitor.error(e))?;
    let runners = state.core.ci().list_runners(&visitor.actor).await.map_err(|e| visitor.error(e))?;
    let builtin_runner = state.core.ci().builtin_runner_state(&visitor.actor).map_err(|e| visitor.error(e))?;
    let (status, error) = error.map_or((StatusCode::OK, None), |(s, m)| (s, Some(m)));
    let page = AdminCiPage {
        chrome: Chrome::new(visitor),
        block: VariablesBlock { variables, base: "/admin/ci_cd".to_owned(), form, with_scopes: false },
        runners: runner_lines(runners),
        builtin_runner,
        error,
    };
    render(status, &page)
}

/// `GET /admin/ci_cd`: instance variables and every runner.
pub async fn admin_settings(State(state): State<AppState>, visitor: PageActor) -> PageResult {
    admin_page(&state, &visitor, VariableForm::default(), None).await
}

/// `POST /admin/ci_cd/variables`
pub async fn save_admin_variable(
    State(state): State<AppState>,
    visitor: PageActor,
    CsrfForm(form): CsrfForm<VariableForm>,
) -> PageResult {
    match save_variable(&state, &visitor, VariableScope::Instance, &form).await {
        Ok(()) => see_other("/admin/ci_cd#variables"),
        Err(error @ (CoreError::Invalid { .. } | CoreError::Conflict(_))) => {
            admin_page(&state, &visitor, form, Some(form_error(error))).await
        }
        Err(error) => Err(visitor.error(error)),
    }
}

/// `POST /admin/ci_cd/variables/delete`
pub async fn delete_admin_variable(
    State(state): State<AppState>,
    visitor: PageActor,
    CsrfForm(form): CsrfForm<DeleteVariableForm>,
) -> PageResult {
    match state.core.ci().delete_ci_variable(&visitor.actor, VariableScope::Instance, &form.key, None).await {
        Ok(()) => see_other("/admin/ci_cd#variables"),
        Err(error @ CoreError::Conflict(_)) => {
            admin_page(&state, &visitor, VariableForm::default(), Some(form_error(error))).await
        }
        Err(error) => Err(visitor.error(error)),
    }
}

#[derive(Debug, Deserialize)]
pub struct RunnerActionForm {
    #[serde(default)]
    action: String,
}

/// `POST /admin/runners/{runner_id}`: pause, resume or delete a runner.
pub async fn change_runner(
    State(state): State<AppState>,
    visitor: PageActor,
    Path(id): Path<String>,
    CsrfForm(form): CsrfForm<RunnerActionForm>,
) -> PageResult {
    // The admin area is for administrators, even for runners others may manage elsewhere.
    gantry_core::policy::require_admin(&visitor.actor).map_err(|e| visitor.error(e))?;
    let id = id.parse::<gantry_types::RunnerId>().map_err(|_| visitor.error(CoreError::NotFound("runner")))?;
    let pause = |paused: bool| RunnerChange {
        description: None,
        tags: None,
        run_untagged: None,
        paused: Some(paused),
        max_concurrent: None,
    };
    let done = match form.action.as_str() {
        "pause" => state.core.ci().update_runner(&visitor.actor, id, pause(true)).await.map(|_| ()),
        "resume" => state.core.ci().update_runner(&visitor.actor, id, pause(false)).await.map(|_| ()),
        "delete" => state.core.ci().delete_runner(&visitor.actor, id).await,
        _ => Err(CoreError::invalid_input("action", "must be pause, resume or delete")),
    };
    match done {
        Ok(()) => see_other("/admin/ci_cd#runners"),
        Err(error @ CoreError::Invalid { .. }) => {
            admin_page(&state, &visitor, VariableForm::default(), Some(form_error(error))).await
        }
        Err(error) => Err(visitor.error(error)),
    }
}
