//! `/groups`: groups and subgroups, and the projects in them.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use gantry_core::manage::groups::{GroupChanges, GroupQuery, Lookup, NewGroup};
use gantry_core::policy::GroupAccess;
use gantry_core::{Actor, NamespaceRow, SortDirection};
use gantry_types::NamespaceId;
use serde::Deserialize;

use super::projects::{ProjectListQuery, projects_page};
use super::types::Group;
use super::{ApiInput, ApiResult, PageParams, accepted, flag, order_by, paginated, sort_direction, visibility};
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

#[derive(Debug, Deserialize)]
pub struct GroupListQuery {
    search: Option<String>,
    top_level_only: Option<String>,
    all_available: Option<String>,
    owned: Option<String>,
    order_by: Option<String>,
    sort: Option<String>,
}

/// `GET /groups`: for signed-in users the groups they belong to (GitLab's default), with
/// `all_available=true` every group they can see.
pub async fn list_groups(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    uri: Uri,
    Query(query): Query<GroupListQuery>,
    Query(page): Query<PageParams>,
) -> ApiResult<Response> {
    let page = page.resolve()?;
    let all_available = flag(query.all_available.as_deref())?;
    let membership = actor.user().is_some() && !gantry_core::policy::administers(&actor) && all_available != Some(true)
        || flag(query.owned.as_deref())? == Some(true);
    let group_query = GroupQuery {
        membership,
        top_level_only: flag(query.top_level_only.as_deref())?.unwrap_or(false),
        search: query.search.filter(|s| !s.is_empty()),
        order_by: order_by(query.order_by.as_deref(), &["name", "path", "id"], "name")?,
        sort: sort_direction(query.sort.as_deref(), SortDirection::Asc)?,
    };
    let (groups, total) = state.core.manage().list_groups(&actor, &group_query, page.db()).await?;
    let items = groups.iter().map(|g| Group::new(g, &state.config)).collect();
    Ok(paginated(&state.config.external_url, &uri, items, total, page))
}

/// `GET /groups/:id`
pub async fn get_group(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
) -> ApiResult<Json<Group>> {
    let group = lookup_group(&state, &actor, &id).await?;
    Ok(Json(Group::new(&group, &state.config)))
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
}

/// `POST /groups`
pub async fn create_group(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiInput(input): ApiInput<CreateGroupInput>,
) -> ApiResult<Response> {
    let new = NewGroup {
        name: input.name,
        path: input.path,
        description: input.description,
        visibility: visibility(input.visibility.as_deref())?,
        parent: input.parent_id.map(NamespaceId),
    };
    let group = state.core.manage().create_group(&actor, &new).await?;
    Ok((StatusCode::CREATED, Json(Group::new(&group, &state.config))).into_response())
}

#[derive(Debug, Deserialize)]
pub struct UpdateGroupInput {
    name: Option<String>,
    path: Option<String>,
    description: Option<String>,
    visibility: Option<String>,
}

/// `PUT /groups/:id`
pub async fn update_group(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
    ApiInput(input): ApiInput<UpdateGroupInput>,
) -> ApiResult<Json<Group>> {
    let group = lookup_group(&state, &actor, &id).await?;
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

/// `GET /groups/:id/subgroups`
pub async fn list_subgroups(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
    uri: Uri,
    Query(page): Query<PageParams>,
) -> ApiResult<Response> {
    let page = page.resolve()?;
    let access = lookup_group_access(&state, &actor, &id).await?;
    let (groups, total) = state.core.manage().list_subgroups(&access, page.db()).await?;
    let items = groups.iter().map(|g| Group::new(g, &state.config)).collect();
    Ok(paginated(&state.config.external_url, &uri, items, total, page))
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
