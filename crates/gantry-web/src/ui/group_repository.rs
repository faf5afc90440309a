//! A group's repository settings page (`/{group}/-/settings/repository`): its protected
//! branches, which apply to every project in the group and its subgroups on top of each
//! project's own rules (the stricter wins). Owners only, as in GitLab.

use askama::Template;
use axum::Extension;
use axum::extract::State;
use axum::http::StatusCode;
use gantry_core::code::protected_branches::{GroupProtectedBranchRow, ProtectBranch, RULE_LEVELS, rule_level_label};
use gantry_core::manage::groups::Lookup;
use gantry_core::policy::{GroupAccess, GroupAction};
use gantry_core::{CoreError, NamespaceRow};
use serde::Deserialize;

use crate::AppState;
use crate::auth::{CsrfForm, PageActor};
use crate::error::PageError;
use crate::namespace_dispatch::NamespaceTarget;
use crate::ui::{Chrome, Crumb, PageResult, breadcrumbs, form_error, render, see_other};

#[derive(Template)]
#[template(path = "groups/repository_settings.html")]
struct GroupRepositoryPage {
    chrome: Chrome,
    crumbs: Vec<Crumb>,
    group: NamespaceRow,
    rules: Vec<GroupProtectedBranchRow>,
    levels: Vec<(i64, &'static str)>,
    error: Option<String>,
}

/// The group, for an Owner (others are refused or told there is nothing here).
async fn load(state: &AppState, visitor: &PageActor, target: NamespaceTarget) -> Result<GroupAccess, PageError> {
    let access =
        state.core.group_access(&visitor.actor, &Lookup::Id(target.0.0)).await.map_err(|e| visitor.error(e))?;
    access.require(GroupAction::ManageProtectedBranches).map_err(|e| visitor.error(e))?;
    Ok(access)
}

async fn page(
    state: &AppState,
    visitor: &PageActor,
    access: GroupAccess,
    error: Option<(StatusCode, String)>,
) -> PageResult {
    let rules = state.core.code().list_group_protected_branches(&access).await.map_err(|e| visitor.error(e))?;
    let chain = state.core.manage().namespace_chain(access.group().id).await?;
    let (status, error) = error.map_or((StatusCode::OK, None), |(s, m)| (s, Some(m)));
    let page = GroupRepositoryPage {
        chrome: Chrome::new(visitor),
        crumbs: breadcrumbs(&chain, None),
        group: access.into_group(),
        rules,
        levels: RULE_LEVELS.iter().map(|level| (*level, rule_level_label(*level))).collect(),
        error,
    };
    render(status, &page)
}

/// Back to the page after a change, or the page again with what was wrong.
async fn after_change(
    state: &AppState,
    visitor: &PageActor,
    access: GroupAccess,
    result: Result<(), CoreError>,
) -> PageResult {
    match result {
        Ok(()) => see_other(&format!("/{}/-/settings/repository", access.group().full_path)),
        Err(error) => page(state, visitor, access, Some(form_error(error))).await,
    }
}

/// `GET /{group}/-/settings/repository`
pub async fn repository_settings(
    State(state): State<AppState>,
    visitor: PageActor,
    Extension(target): Extension<NamespaceTarget>,
) -> PageResult {
    let access = load(&state, &visitor, target).await?;
    page(&state, &visitor, access, None).await
}

/// A rule as the page's forms send it.
#[derive(Debug, Deserialize)]
pub struct GroupRuleForm {
    #[serde(default)]
    name: String,
    push_access_level: Option<i64>,
    merge_access_level: Option<i64>,
    /// A checkbox: present when ticked.
    allow_force_push: Option<String>,
}

impl GroupRuleForm {
    fn rule(&self) -> ProtectBranch {
        ProtectBranch {
            name: self.name.clone(),
            push_access_level: self.push_access_level,
            merge_access_level: self.merge_access_level,
            allow_force_push: Some(self.allow_force_push.is_some()),
        }
    }
}

/// `POST /{group}/-/settings/repository/protected_branches`: protects a branch or pattern in
/// every project of the group.
pub async fn protect_branch(
    State(state): State<AppState>,
    visitor: PageActor,
    Extension(target): Extension<NamespaceTarget>,
    CsrfForm(form): CsrfForm<GroupRuleForm>,
) -> PageResult {
    let access = load(&state, &visitor, target).await?;
    let result = state.core.code().protect_group_branch(&access, &form.rule()).await.map(|_| ());
    after_change(&state, &visitor, access, result).await
}

/// `POST /{group}/-/settings/repository/protected_branches/update`: changes a rule.
pub async fn update_protected_branch(
    State(state): State<AppState>,
    visitor: PageActor,
    Extension(target): Extension<NamespaceTarget>,
    CsrfForm(form): CsrfForm<GroupRuleForm>,
) -> PageResult {
    let access = load(&state, &visitor, target).await?;
    let result = state.core.code().update_group_protected_branch(&access, &form.name, &form.rule()).await.map(|_| ());
    after_change(&state, &visitor, access, result).await
}

/// The rule a delete form names.
#[derive(Debug, Deserialize)]
pub struct RuleNameForm {
    #[serde(default)]
    name: String,
}

/// `POST /{group}/-/settings/repository/protected_branches/delete`: unprotects.
pub async fn unprotect_branch(
    State(state): State<AppState>,
    visitor: PageActor,
    Extension(target): Extension<NamespaceTarget>,
    CsrfForm(form): CsrfForm<RuleNameForm>,
) -> PageResult {
    let access = load(&state, &visitor, target).await?;
    let result = state.core.code().unprotect_group_branch(&access, &form.name).await.map(|_| ());
    after_change(&state, &visitor, access, result).await
}
