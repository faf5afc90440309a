//! `/groups/:id/protected_branches`: a group's protected branches (GitLab Premium's
//! group-level protected branches), which apply to every project in the group and its
//! subgroups on top of each project's own rules. Owners only, reading included, as in GitLab.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use gantry_core::code::protected_branches::{GroupProtectedBranchRow, ProtectBranch, rule_level_label};
use serde::Deserialize;

use super::groups::lookup_group_access;
use super::types::{BranchAccessLevel, ProtectedBranch};
use super::{ApiInput, ApiResult};
use crate::AppState;
use crate::auth::ApiActor;
use crate::error::AppError;

fn group_rule_json(rule: &GroupProtectedBranchRow) -> ProtectedBranch {
    let level = |access_level: i64| BranchAccessLevel {
        id: rule.id,
        access_level,
        access_level_description: rule_level_label(access_level),
        user_id: None,
        group_id: None,
    };
    ProtectedBranch {
        id: rule.id,
        name: rule.name.clone(),
        push_access_levels: vec![level(rule.push_access_level)],
        merge_access_levels: vec![level(rule.merge_access_level)],
        allow_force_push: rule.allow_force_push,
        code_owner_approval_required: false,
    }
}

/// `{"access_level": 30}` in GitLab's `allowed_to_push`/`allowed_to_merge` lists.
#[derive(Debug, Deserialize)]
pub struct AllowedLevel {
    access_level: Option<i64>,
}

/// A rule's parameters, as for a project's protected branches.
#[derive(Debug, Deserialize)]
pub struct GroupRuleInput {
    #[serde(default)]
    name: String,
    push_access_level: Option<i64>,
    merge_access_level: Option<i64>,
    allow_force_push: Option<bool>,
    #[serde(default)]
    allowed_to_push: Vec<AllowedLevel>,
    #[serde(default)]
    allowed_to_merge: Vec<AllowedLevel>,
}

impl GroupRuleInput {
    fn into_rule(self) -> ProtectBranch {
        let first = |levels: &[AllowedLevel]| levels.iter().find_map(|l| l.access_level);
        ProtectBranch {
            push_access_level: self.push_access_level.or_else(|| first(&self.allowed_to_push)),
            merge_access_level: self.merge_access_level.or_else(|| first(&self.allowed_to_merge)),
            allow_force_push: self.allow_force_push,
            name: self.name,
        }
    }
}

/// `GET /groups/:id/protected_branches`
pub async fn list_group_protected_branches(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
) -> ApiResult<Json<Vec<ProtectedBranch>>> {
    let access = lookup_group_access(&state, &actor, &id).await?;
    let rules = state.core.code().list_group_protected_branches(&access).await?;
    Ok(Json(rules.iter().map(group_rule_json).collect()))
}

/// `GET /groups/:id/protected_branches/:name`
pub async fn get_group_protected_branch(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path((id, name)): Path<(String, String)>,
) -> ApiResult<Json<ProtectedBranch>> {
    let access = lookup_group_access(&state, &actor, &id).await?;
    let rule = state.core.code().find_group_protected_branch(&access, &name).await?;
    Ok(Json(group_rule_json(&rule)))
}

/// `POST /groups/:id/protected_branches` (`name`, `push_access_level`, `merge_access_level`,
/// `allow_force_push`)
pub async fn protect_group_branch(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
    ApiInput(input): ApiInput<GroupRuleInput>,
) -> ApiResult<Response> {
    let access = lookup_group_access(&state, &actor, &id).await?;
    access.require(gantry_core::policy::GroupAction::ManageProtectedBranches)?;
    if input.name.trim().is_empty() {
        return Err(AppError::BadRequest("name is missing".into()).into());
    }
    let rule = state.core.code().protect_group_branch(&access, &input.into_rule()).await?;
    Ok((StatusCode::CREATED, Json(group_rule_json(&rule))).into_response())
}

/// `PATCH /groups/:id/protected_branches/:name`
pub async fn update_group_protected_branch(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path((id, name)): Path<(String, String)>,
    ApiInput(input): ApiInput<GroupRuleInput>,
) -> ApiResult<Json<ProtectedBranch>> {
    let access = lookup_group_access(&state, &actor, &id).await?;
    let rule = state.core.code().update_group_protected_branch(&access, &name, &input.into_rule()).await?;
    Ok(Json(group_rule_json(&rule)))
}

/// `DELETE /groups/:id/protected_branches/:name`: the rule removed, as GitLab answers.
pub async fn unprotect_group_branch(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path((id, name)): Path<(String, String)>,
) -> ApiResult<Json<ProtectedBranch>> {
    let access = lookup_group_access(&state, &actor, &id).await?;
    let rule = state.core.code().unprotect_group_branch(&access, &name).await?;
    Ok(Json(group_rule_json(&rule)))
}
