//! A group's CI/CD settings page: its variables, which its projects' jobs get.

use askama::Template;
use axum::Extension;
use axum::extract::State;
use axum::http::StatusCode;
use gantry_core::ci::variables::VariableScope;
use gantry_core::manage::groups::Lookup;
use gantry_core::policy::GroupAction;
use gantry_core::{CoreError, NamespaceRow};

use super::{DeleteVariableForm, VariableForm, VariablesBlock, save_variable};
use crate::AppState;
use crate::auth::{CsrfForm, PageActor};
use crate::error::PageError;
use crate::namespace_dispatch::NamespaceTarget;
use crate::ui::{Chrome, Crumb, PageResult, breadcrumbs, form_error, render, see_other};

#[derive(Template)]
#[template(path = "groups/ci_settings.html")]
struct GroupCiPage {
    chrome: Chrome,
    crumbs: Vec<Crumb>,
    group: NamespaceRow,
    block: VariablesBlock,
    error: Option<String>,
}

async fn group_page(
    state: &AppState,
    visitor: &PageActor,
    target: NamespaceTarget,
    form: VariableForm,
    error: Option<(StatusCode, String)>,
) -> PageResult {
    let (group, _) =
        state.core.find_group(&visitor.actor, &Lookup::Id(target.0.0)).await.map_err(|e| visitor.error(e))?;
    state.core.authorize_group(&visitor.actor, &group, GroupAction::ManageCi).await.map_err(|e| visitor.error(e))?;
    let variables = state
        .core
        .ci()
        .list_ci_variables(&visitor.actor, VariableScope::Group(&group))
        .await
        .map_err(|e| visitor.error(e))?;
    let chain = state.core.manage().namespace_chain(group.id).await?;
    let (status, error) = error.map_or((StatusCode::OK, None), |(s, m)| (s, Some(m)));
    let page = GroupCiPage {
        chrome: Chrome::new(visitor),
        crumbs: breadcrumbs(&chain, None),
        block: VariablesBlock {
            variables,
            base: format!("/{}/-/settings/ci_cd", group.full_path),
            form,
            with_scopes: true,
        },
        group,
        error,
    };
    render(status, &page)
}

async fn group_of(state: &AppState, visitor: &PageActor, target: &NamespaceTarget) -> Result<NamespaceRow, PageError> {
    Ok(state.core.find_group(&visitor.actor, &Lookup::Id(target.0.0)).await.map_err(|e| visitor.error(e))?.0)
}

/// `GET /{group}/-/settings/ci_cd`
pub async fn group_settings(
    State(state): State<AppState>,
    visitor: PageActor,
    Extension(target): Extension<NamespaceTarget>,
) -> PageResult {
    group_page(&state, &visitor, target, VariableForm::default(), None).await
}

/// `POST /{group}/-/settings/ci_cd/variables`
pub async fn save_group_variable(
    State(state): State<AppState>,
    visitor: PageActor,
    Extension(target): Extension<NamespaceTarget>,
    CsrfForm(form): CsrfForm<VariableForm>,
) -> PageResult {
    let group = group_of(&state, &visitor, &target).await?;
    match save_variable(&state, &visitor, VariableScope::Group(&group), &form).await {
        Ok(()) => see_other(&format!("/{}/-/settings/ci_cd#variables", group.full_path)),
        Err(error @ (CoreError::Invalid { .. } | CoreError::Conflict(_))) => {
            group_page(&state, &visitor, target, form, Some(form_error(error))).await
        }
        Err(error) => Err(visitor.error(error)),
    }
}

/// `POST /{group}/-/settings/ci_cd/variables/delete`
pub async fn delete_group_variable(
    State(state): State<AppState>,
    visitor: PageActor,
    Extension(target): Extension<NamespaceTarget>,
    CsrfForm(form): CsrfForm<DeleteVariableForm>,
) -> PageResult {
    let group = group_of(&state, &visitor, &target).await?;
    let scope = Some(form.environment_scope.as_str()).filter(|s| !s.is_empty());
    match state.core.ci().delete_ci_variable(&visitor.actor, VariableScope::Group(&group), &form.key, scope).await {
        Ok(()) => see_other(&format!("/{}/-/settings/ci_cd#variables", group.full_path)),
        Err(error @ CoreError::Conflict(_)) => {
            group_page(&state, &visitor, target, VariableForm::default(), Some(form_error(error))).await
        }
        Err(error) => Err(visitor.error(error)),
    }
}
