//! Sharing with groups: `POST /groups/:id/share`, `DELETE /groups/:id/share/:group_id` and
//! their project twins, the `shared_with_groups` of a group's details, and
//! `GET /projects/:id/groups` (a project's groups: its namespace, that namespace's ancestors and
//! the groups it is shared with).

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use gantry_core::manage::sharing::{GroupLinkRow, ProjectGroupsQuery, ShareInput};
use gantry_core::manage::tokens::{format_expiry_date, parse_expiry_date};
use gantry_core::policy::GroupAccess;
use gantry_types::{AccessLevel, NamespaceId};
use serde::{Deserialize, Serialize};

use super::groups::lookup_group_access;
use super::projects::lookup_access;
use super::types::Group;
use super::{ApiInput, ApiResult, flag};
use crate::AppState;
use crate::auth::ApiActor;
use crate::error::AppError;

/// One group a group or project is shared with, as GitLab shows it.
#[derive(Debug, Serialize)]
pub struct SharedGroup {
    pub group_id: i64,
    pub group_name: String,
    pub group_full_path: String,
    pub group_access_level: i64,
    pub expires_at: Option<String>,
}

impl SharedGroup {
    pub fn new(link: &GroupLinkRow) -> SharedGroup {
        SharedGroup {
            group_id: link.group_id.0,
            group_name: link.group_name.clone(),
            group_full_path: link.group_full_path.clone(),
            group_access_level: link.group_access,
            expires_at: link.expires_at.map(format_expiry_date),
        }
    }
}

/// A group's details (GitLab's `GroupDetail`): the group and the groups it is shared with.
#[derive(Debug, Serialize)]
pub struct GroupDetail {
    #[serde(flatten)]
    pub group: Group,
    pub shared_with_groups: Vec<SharedGroup>,
}

impl GroupDetail {
    /// The details of the group `access` holds, as its reader may see them.
    pub async fn new(state: &AppState, access: &GroupAccess) -> ApiResult<GroupDetail> {
        let shares = state.core.manage().group_shares(access).await?;
        Ok(GroupDetail {
            group: Group::new(access.group(), &state.config),
            shared_with_groups: shares.iter().map(SharedGroup::new).collect(),
        })
    }
}

/// `group_id`, `group_access` and `expires_at` of a share.
#[derive(Debug, Deserialize)]
pub struct ShareParams {
    group_id: Option<i64>,
    group_access: Option<i64>,
    expires_at: Option<String>,
}

impl ShareParams {
    fn to_core(&self) -> ApiResult<ShareInput> {
        let group_id = self.group_id.ok_or_else(|| AppError::BadRequest("group_id is missing".into()))?;
        let level = self.group_access.ok_or_else(|| AppError::BadRequest("group_access is missing".into()))?;
        let group_access = AccessLevel::from_i64(level)
            .ok_or_else(|| AppError::BadRequest("group_access does not have a valid value".into()))?;
        let expires_at = match self.expires_at.as_deref().map(str::trim).filter(|v| !v.is_empty()) {
            None => None,
            Some(date) => Some(parse_expiry_date(date)?),
        };
        Ok(ShareInput { group_id: NamespaceId(group_id), group_access, expires_at })
    }
}

fn group_id_param(value: &str) -> ApiResult<NamespaceId> {
    value.parse::<i64>().map(NamespaceId).map_err(|_| AppError::BadRequest("group_id is invalid".into()).into())
}

/// `POST /groups/:id/share`: the group's details after.
pub async fn share_group(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
    ApiInput(params): ApiInput<ShareParams>,
) -> ApiResult<Response> {
    let access = lookup_group_access(&state, &actor, &id).await?;
    access.require(gantry_core::policy::GroupAction::ManageMembers)?;
    state.core.manage().share_group(&access, &params.to_core()?).await?;
    Ok((StatusCode::CREATED, Json(GroupDetail::new(&state, &access).await?)).into_response())
}

/// `DELETE /groups/:id/share/:group_id`
pub async fn unshare_group(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path((id, group_id)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    let access = lookup_group_access(&state, &actor, &id).await?;
    access.require(gantry_core::policy::GroupAction::ManageMembers)?;
    state.core.manage().unshare_group(&access, group_id_param(&group_id)?).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /projects/:id/share`: the share as GitLab answers it.
pub async fn share_project(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
    ApiInput(params): ApiInput<ShareParams>,
) -> ApiResult<Response> {
    let access = lookup_access(&state, &actor, &id).await?;
    access.require(gantry_core::policy::ProjectAction::ManageMembers)?;
    let input = params.to_core()?;
    state.core.manage().share_project(&access, &input).await?;
    let shares = state.core.manage().project_shares(&access).await?;
    let link = shares.iter().find(|link| link.group_id == input.group_id).ok_or(AppError::NotFound)?;
    let body = ProjectGroupLink {
        id: link.id,
        project_id: access.project().id.0,
        group_id: link.group_id.0,
        group_access: link.group_access,
        expires_at: link.expires_at.map(format_expiry_date),
    };
    Ok((StatusCode::CREATED, Json(body)).into_response())
}

/// The link `POST /projects/:id/share` answers with.
#[derive(Debug, Serialize)]
pub struct ProjectGroupLink {
    pub id: i64,
    pub project_id: i64,
    pub group_id: i64,
    pub group_access: i64,
    pub expires_at: Option<String>,
}

/// `DELETE /projects/:id/share/:group_id`
pub async fn unshare_project(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path((id, group_id)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    let access = lookup_access(&state, &actor, &id).await?;
    access.require(gantry_core::policy::ProjectAction::ManageMembers)?;
    state.core.manage().unshare_project(&access, group_id_param(&group_id)?).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// GitLab's parameters of a project's groups.
#[derive(Debug, Deserialize)]
pub struct ProjectGroupsParams {
    search: Option<String>,
    #[serde(default)]
    skip_groups: Vec<i64>,
    with_shared: Option<String>,
    shared_visible_only: Option<String>,
    shared_min_access_level: Option<i64>,
}

/// `GET /projects/:id/groups` (`search`, `skip_groups`, `with_shared`, `shared_visible_only`,
/// `shared_min_access_level`)
pub async fn list_project_groups(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
    ApiInput(params): ApiInput<ProjectGroupsParams>,
) -> ApiResult<Json<Vec<Group>>> {
    let access = lookup_access(&state, &actor, &id).await?;
    let shared_min_access_level = match params.shared_min_access_level {
        None => None,
        Some(level) => Some(
            AccessLevel::from_i64(level)
                .ok_or_else(|| AppError::BadRequest("shared_min_access_level does not have a valid value".into()))?,
        ),
    };
    let query = ProjectGroupsQuery {
        with_shared: flag(params.with_shared.as_deref())?.unwrap_or(false),
        shared_min_access_level,
        shared_visible_only: flag(params.shared_visible_only.as_deref())?.unwrap_or(false),
        skip_groups: params.skip_groups.into_iter().map(NamespaceId).collect(),
        search: params.search,
    };
    let groups = state.core.manage().project_groups(&access, &query).await?;
    Ok(Json(groups.iter().map(|group| Group::new(group, &state.config)).collect()))
}
