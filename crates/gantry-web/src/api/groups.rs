//! `/groups`: groups, their subgroups and descendants, the projects in them, and moving a
//! group (`/transfer`).

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use gantry_core::manage::avatars::{AvatarSubject, check_avatar_upload};
use gantry_core::manage::groups::{GroupChanges, GroupFilters, GroupQuery, GroupScope, Lookup, NewGroup};
use gantry_core::policy::GroupAccess;
use gantry_core::{Actor, NamespaceRow, SortDirection};
use gantry_types::NamespaceId;
use serde::Deserialize;

use super::projects::{ProjectListQuery, projects_page};
use super::sharing::GroupDetail;
use super::types::Group;
use super::{
    ApiInput, ApiResult, ApiUpload, PageParams, accepted, avatar_change, flag, order_by, paginated, sort_direction,
    visibility,
};
use crate::AppState;
use crate::auth::ApiActor;

/// Resolves `:id` (number or URL-encoded full path) to a group the actor may see.
pub async fn lookup_group(state: &AppState, actor: &Actor, id: &str) -> ApiResult<NamespaceRow> {
    Ok(state.core.find_group(actor, &Lookup::parse(id)).await?.0)
}

/// Resolves `:id` to who the actor is to the group (one query), for handlers that hand it to
/// core.
pub async fn lookup_group_access(state: &AppState, actor: &Actor, id: &str) -> ApiResult<GroupAccess> {
    Ok(state.core.group_access(actor, &Lookup::parse(id)).await?)
}

/// GitLab's group list parameters (`GET /groups`, `…/subgroups`, `…/descendant_groups`).
#[derive(Debug, Deserialize)]
pub struct GroupListQuery {
    search: Option<String>,
    top_level_only: Option<String>,
    all_available: Option<String>,
    owned: Option<String>,
    order_by: Option<String>,
    sort: Option<String>,
    /// Groups left out: `skip_groups[]=1&skip_groups[]=2` or `skip_groups=1,2`.
    #[serde(default)]
    skip_groups: Vec<i64>,
    visibility: Option<String>,
}

impl GroupListQuery {
    /// Core's query: for signed-in users the groups they hold a role in (GitLab's default),
    /// with `all_available=true` every group they can see.
    fn to_core(&self, actor: &Actor) -> ApiResult<(GroupQuery, GroupFilters)> {
        let all_available = flag(self.all_available.as_deref())?;
        let membership =
            actor.user().is_some() && !gantry_core::policy::administers(actor) && all_available != Some(true)
                || flag(self.owned.as_deref())? == Some(true);
        let query = GroupQuery {
            membership,
            top_level_only: flag(self.top_level_only.as_deref())?.unwrap_or(false),
            search: self.search.clone().filter(|s| !s.is_empty()),
            order_by: order_by(self.order_by.as_deref(), &["name", "path", "id"], "name")?,
            sort: sort_direction(self.sort.as_deref(), SortDirection::Asc)?,
        };
        let filters = GroupFilters {
            skip_groups: self.skip_groups.iter().copied().map(NamespaceId).collect(),
            visibility: visibility(self.visibility.as_deref())?,
        };
        Ok((query, filters))
    }
}

/// One page of the groups of `scope`, as GitLab lists them.
async fn groups_page(
    state: &AppState,
    actor: &Actor,
    uri: &Uri,
    scope: GroupScope<'_>,
    query: &GroupListQuery,
    page: &PageParams,
) -> ApiResult<Response> {
    let page = page.resolve()?;
    let (group_query, filters) = query.to_core(actor)?;
    let (groups, total) = state.core.manage().list_groups_in(actor, scope, &group_query, &filters, page.db()).await?;
    let items = groups.iter().map(|g| Group::new(g, &state.config)).collect();
    Ok(paginated(&state.config.external_url, uri, items, total, page))
}

/// `GET /groups` (`search`, `skip_groups`, `all_available`, `owned`, `top_level_only`,
/// `visibility`, `order_by`, `sort`)
pub async fn list_groups(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    uri: Uri,
    Query(page): Query<PageParams>,
    ApiInput(query): ApiInput<GroupListQuery>,
) -> ApiResult<Response> {
    groups_page(&state, &actor, &uri, GroupScope::All, &query, &page).await
}

/// `GET /groups/:id`: the group with the groups it is shared with.
pub async fn get_group(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
) -> ApiResult<Json<GroupDetail>> {
    let access = lookup_group_access(&state, &actor, &id).await?;
    Ok(Json(GroupDetail::new(&state, &access).await?))
}

#[derive(Debug, Deserialize)]
pub struct CreateGroupInput {
    #[serde(default)]
    name: String,
    #[serde(default)]
    path: String,
    #[serde(default)]
    description: String,
    visibility: Option<String>,
    parent_id: Option<i64>,
    /// Empty or absent: the image comes as a file.
    avatar: Option<String>,
}

/// `POST /groups`
pub async fn create_group(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiUpload(input, mut uploads): ApiUpload<CreateGroupInput>,
) -> ApiResult<Response> {
    actor.require_user()?;
    let avatar = avatar_change(input.avatar.as_deref(), &mut uploads)?.flatten();
    if let Some(avatar) = &avatar {
        check_avatar_upload(avatar)?;
    }
    let new = NewGroup {
        name: input.name,
        path: input.path,
        description: input.description,
        visibility: visibility(input.visibility.as_deref())?,
        parent: input.parent_id.map(NamespaceId),
    };
    let mut group = state.core.manage().create_group(&actor, &new).await?;
    if let Some(avatar) = &avatar {
        group.avatar = state.core.manage().set_avatar(&actor, AvatarSubject::Group(group.id), Some(avatar)).await?;
    }
    Ok((StatusCode::CREATED, Json(Group::new(&group, &state.config))).into_response())
}

#[derive(Debug, Deserialize)]
pub struct UpdateGroupInput {
    name: Option<String>,
    path: Option<String>,
    description: Option<String>,
    visibility: Option<String>,
    avatar: Option<String>,
}

/// `PUT /groups/:id`
pub async fn update_group(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
    ApiUpload(input, mut uploads): ApiUpload<UpdateGroupInput>,
) -> ApiResult<Json<Group>> {
    let mut group = lookup_group(&state, &actor, &id).await?;
    if let Some(avatar) = avatar_change(input.avatar.as_deref(), &mut uploads)? {
        group.avatar = state.core.manage().set_avatar(&actor, AvatarSubject::Group(group.id), avatar.as_ref()).await?;
    }
    let changes = GroupChanges {
        name: input.name,
        path: input.path,
        description: input.description,
        visibility: visibility(input.visibility.as_deref())?,
    };
    let group = state.core.manage().update_group(&actor, &group, &changes).await?;
    Ok(Json(Group::new(&group, &state.config)))
}

/// `DELETE /groups/:id`
pub async fn delete_group(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let group = lookup_group(&state, &actor, &id).await?;
    state.core.manage().delete_group(&actor, &group).await?;
    Ok(accepted())
}

/// `GET /groups/:id/subgroups`: the direct subgroups (the group list's parameters).
pub async fn list_subgroups(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
    uri: Uri,
    Query(page): Query<PageParams>,
    ApiInput(query): ApiInput<GroupListQuery>,
) -> ApiResult<Response> {
    let access = lookup_group_access(&state, &actor, &id).await?;
    groups_page(&state, &actor, &uri, GroupScope::Subgroups(&access), &query, &page).await
}

/// `GET /groups/:id/descendant_groups`: every group below it, at any depth (the group list's
/// parameters).
pub async fn list_descendant_groups(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
    uri: Uri,
    Query(page): Query<PageParams>,
    ApiInput(query): ApiInput<GroupListQuery>,
) -> ApiResult<Response> {
    let access = lookup_group_access(&state, &actor, &id).await?;
    groups_page(&state, &actor, &uri, GroupScope::Descendants(&access), &query, &page).await
}

#[derive(Debug, Deserialize)]
pub struct TransferGroupInput {
    /// The new parent; without it the group becomes a top-level group.
    group_id: Option<i64>,
}

/// `POST /groups/:id/transfer` (`group_id`: the new parent, or none for the top level)
pub async fn transfer_group(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
    ApiInput(input): ApiInput<TransferGroupInput>,
) -> ApiResult<Response> {
    let access = lookup_group_access(&state, &actor, &id).await?;
    let moved = state.core.manage().transfer_group(&access, input.group_id.map(NamespaceId)).await?;
    let access = state.core.group_access(&actor, &Lookup::Id(moved.id.0)).await?;
    Ok((StatusCode::CREATED, Json(GroupDetail::new(&state, &access).await?)).into_response())
}

/// `GET /groups/:id/projects`
pub async fn list_group_projects(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
    uri: Uri,
    Query(query): Query<ProjectListQuery>,
    Query(page): Query<PageParams>,
) -> ApiResult<Response> {
    let group = lookup_group(&state, &actor, &id).await?;
    let include_subgroups = flag(query.include_subgroups.as_deref())?.unwrap_or(false);
    projects_page(&state, &actor, &uri, &query, Some((group.id, include_subgroups)), &page).await
}
