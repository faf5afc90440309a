//! `/projects/:id/job_token_scope`, shaped like GitLab's CI/CD job token scope API: whether
//! other projects' job tokens are limited (`inbound_enabled`, changed with `enabled`), and the
//! allowlists of projects (`/allowlist`) and groups (`/groups_allowlist`) whose jobs may reach
//! the project. Maintainers only; core checks the role before any parameter is read.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use gantry_core::policy::{ProjectAccess, ProjectAction};
use gantry_core::{NamespaceRow, ProjectRow};
use gantry_types::{NamespaceId, ProjectId};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::projects::lookup_access;
use super::types::{Namespace, avatar_url};
use super::{ApiInput, ApiResult, PageParams, paginated, params};
use crate::auth::ApiActor;
use crate::error::AppError;
use crate::time_format::iso8601;
use crate::{AppState, WebConfig};

/// A project's job token settings. `outbound_enabled` is GitLab's deprecated limit on where
/// a project's own jobs go, which Gantry never had: always false.
#[derive(Debug, Serialize)]
pub struct JobTokenScope {
    pub inbound_enabled: bool,
    pub outbound_enabled: bool,
}

/// A project of an allowlist, as GitLab lists one (`BasicProjectDetails`).
#[derive(Debug, Serialize)]
pub struct AllowedProject {
    pub id: i64,
    pub description: String,
    pub name: String,
    pub name_with_namespace: String,
    pub path: String,
    pub path_with_namespace: String,
    pub created_at: String,
    pub default_branch: String,
    pub tag_list: Vec<String>,
    pub topics: Vec<String>,
    pub ssh_url_to_repo: String,
    pub http_url_to_repo: String,
    pub web_url: String,
    pub readme_url: Option<String>,
    pub avatar_url: Option<String>,
    pub forks_count: i64,
    pub star_count: i64,
    pub last_activity_at: String,
    pub visibility: &'static str,
    pub namespace: Namespace,
}

impl AllowedProject {
    fn new(project: &ProjectRow, namespace: &NamespaceRow, topics: Vec<String>, config: &WebConfig) -> AllowedProject {
        AllowedProject {
            id: project.id.0,
            description: project.description.clone(),
            name: project.name.clone(),
            name_with_namespace: format!("{} / {}", namespace.full_path.replace('/', " / "), project.name),
            path: project.path.clone(),
            path_with_namespace: project.full_path.clone(),
            created_at: iso8601(project.created_at),
            default_branch: project.default_branch.clone(),
            tag_list: topics.clone(),
            topics,
            ssh_url_to_repo: format!("ssh://git@{}/{}.git", config.ssh_host, project.full_path),
            http_url_to_repo: format!("{}/{}.git", config.external_url, project.full_path),
            web_url: format!("{}/{}", config.external_url, project.full_path),
            readme_url: None,
            avatar_url: avatar_url(config, "project", project.id.0, project.avatar.as_ref()),
            forks_count: 0,
            star_count: 0,
            last_activity_at: iso8601(project.updated_at),
            visibility: project.visibility.as_str(),
            namespace: Namespace::new(namespace, config),
        }
    }
}

/// A group of an allowlist, as GitLab lists one (`BasicGroupDetails`).
#[derive(Debug, Serialize)]
pub struct AllowedGroup {
    pub id: i64,
    pub web_url: String,
    pub name: String,
}

/// What adding a project answers (GitLab's `ProjectScopeLink`).
#[derive(Debug, Serialize)]
pub struct ProjectScopeLink {
    pub source_project_id: i64,
    pub target_project_id: i64,
}

/// What adding a group answers (GitLab's `GroupScopeLink`).
#[derive(Debug, Serialize)]
pub struct GroupScopeLink {
    pub source_project_id: i64,
    pub target_group_id: i64,
}

/// The project in the path, for someone who may manage its CI: the role is checked here,
/// before the parameters are read, so a caller without it learns nothing about them.
async fn managed_project(state: &AppState, actor: &gantry_core::Actor, id: &str) -> ApiResult<ProjectAccess> {
    let access = lookup_access(state, actor, id).await?;
    access.require(ProjectAction::ManageCi)?;
    Ok(access)
}

/// Reads the parameters as Grape would (`enabled is missing`, `target_project_id is invalid`).
fn read<T: DeserializeOwned>(gathered: Map<String, Value>) -> ApiResult<T> {
    params::read(gathered).map_err(|message| AppError::BadRequest(message).into())
}

/// An id in the path, which GitLab types as an integer.
fn path_id(value: &str, name: &str) -> ApiResult<i64> {
    value.trim().parse::<i64>().map_err(|_| AppError::BadRequest(format!("{name} is invalid")).into())
}

/// `GET /projects/:id/job_token_scope`
pub async fn get_scope(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
) -> ApiResult<Json<JobTokenScope>> {
    let access = lookup_access(&state, &actor, &id).await?;
    let inbound_enabled = state.core.ci().job_token_scope_enabled(&access).await?;
    Ok(Json(JobTokenScope { inbound_enabled, outbound_enabled: false }))
}

#[derive(Debug, Deserialize)]
struct ScopeChange {
    enabled: bool,
}

/// `PATCH /projects/:id/job_token_scope` (`enabled`: limit which projects' job tokens reach
/// this one)
pub async fn update_scope(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
    ApiInput(gathered): ApiInput<Map<String, Value>>,
) -> ApiResult<StatusCode> {
    let access = managed_project(&state, &actor, &id).await?;
    let change: ScopeChange = read(gathered)?;
    state.core.ci().set_job_token_scope_enabled(&access, change.enabled).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /projects/:id/job_token_scope/allowlist`: the project itself, then the projects added.
pub async fn list_projects(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
    uri: Uri,
    Query(page): Query<PageParams>,
) -> ApiResult<Response> {
    let page = page.resolve()?;
    let access = lookup_access(&state, &actor, &id).await?;
    let (projects, total) = state.core.ci().job_token_allowlist(&access, page.db()).await?;
    let mut items = Vec::with_capacity(projects.len());
    for (project, namespace) in &projects {
        let topics = state.core.manage().project_topics(project).await?;
        items.push(AllowedProject::new(project, namespace, topics, &state.config));
    }
    Ok(paginated(&state.config.external_url, &uri, items, total, page))
}

#[derive(Debug, Deserialize)]
struct NewProjectLink {
    target_project_id: i64,
}

/// `POST /projects/:id/job_token_scope/allowlist` (`target_project_id`)
pub async fn add_project(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
    ApiInput(gathered): ApiInput<Map<String, Value>>,
) -> ApiResult<Response> {
    let access = managed_project(&state, &actor, &id).await?;
    let link: NewProjectLink = read(gathered)?;
    let target = state.core.ci().add_project_to_job_token_allowlist(&access, ProjectId(link.target_project_id)).await?;
    let answer = ProjectScopeLink { source_project_id: access.project().id.0, target_project_id: target.id.0 };
    Ok((StatusCode::CREATED, Json(answer)).into_response())
}

/// `DELETE /projects/:id/job_token_scope/allowlist/:target_project_id`
pub async fn remove_project(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path((id, target)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    let access = managed_project(&state, &actor, &id).await?;
    let target = ProjectId(path_id(&target, "target_project_id")?);
    state.core.ci().remove_project_from_job_token_allowlist(&access, target).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /projects/:id/job_token_scope/groups_allowlist`
pub async fn list_groups(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
    uri: Uri,
    Query(page): Query<PageParams>,
) -> ApiResult<Response> {
    let page = page.resolve()?;
    let access = lookup_access(&state, &actor, &id).await?;
    let (groups, total) = state.core.ci().job_token_groups_allowlist(&access, page.db()).await?;
    let items: Vec<AllowedGroup> = groups
        .iter()
        .map(|group| AllowedGroup {
            id: group.id.0,
            web_url: format!("{}/groups/{}", state.config.external_url, group.full_path),
            name: group.name.clone(),
        })
        .collect();
    Ok(paginated(&state.config.external_url, &uri, items, total, page))
}

#[derive(Debug, Deserialize)]
struct NewGroupLink {
    target_group_id: i64,
}

/// `POST /projects/:id/job_token_scope/groups_allowlist` (`target_group_id`)
pub async fn add_group(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
    ApiInput(gathered): ApiInput<Map<String, Value>>,
) -> ApiResult<Response> {
    let access = managed_project(&state, &actor, &id).await?;
    let link: NewGroupLink = read(gathered)?;
    let group = state.core.ci().add_group_to_job_token_allowlist(&access, NamespaceId(link.target_group_id)).await?;
    let answer = GroupScopeLink { source_project_id: access.project().id.0, target_group_id: group.id.0 };
    Ok((StatusCode::CREATED, Json(answer)).into_response())
}

/// `DELETE /projects/:id/job_token_scope/groups_allowlist/:target_group_id`
pub async fn remove_group(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path((id, target)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    let access = managed_project(&state, &actor, &id).await?;
    let target = NamespaceId(path_id(&target, "target_group_id")?);
    state.core.ci().remove_group_from_job_token_allowlist(&access, target).await?;
    Ok(StatusCode::NO_CONTENT)
}
