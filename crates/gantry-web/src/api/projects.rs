//! `/projects`: create, list, read, update, transfer, archive and delete projects.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use gantry_core::manage::avatars::{AvatarSubject, check_avatar_upload};
use gantry_core::manage::groups::Lookup;
use gantry_core::manage::projects::{NewProjectInput, ProjectChanges, ProjectQuery};
use gantry_core::policy::ProjectAccess;
use gantry_core::{Actor, ProjectRow, SortDirection};
use gantry_types::NamespaceId;
use serde::Deserialize;

use super::types::Project;
use super::{
    ApiInput, ApiResult, ApiUpload, PageParams, accepted, avatar_change, flag, order_by, paginated, sort_direction,
    visibility,
};
use crate::AppState;
use crate::auth::ApiActor;

/// Resolves `:id` (number or URL-encoded full path) to a project the actor may see.
pub async fn lookup_project(state: &AppState, actor: &Actor, id: &str) -> ApiResult<ProjectRow> {
    Ok(state.core.find_project(actor, &Lookup::parse(id)).await?.0)
}

/// Resolves `:id` to who the actor is to the project (one query), for handlers that hand it
/// to core.
pub async fn lookup_access(state: &AppState, actor: &Actor, id: &str) -> ApiResult<ProjectAccess> {
    Ok(state.core.project_access(actor, &Lookup::parse(id)).await?)
}

/// The wire form of a project, with the actor's access.
pub async fn project_json(state: &AppState, actor: &Actor, project: &ProjectRow) -> ApiResult<Project> {
    let level = state.core.authorize_project(actor, project, gantry_core::policy::ProjectAction::Read).await?;
    let namespace = state.core.manage().project_namespace(project).await?;
    let topics = state.core.manage().project_topics(project).await?;
    Ok(Project::new(project, &namespace, level, state.core.repos().is_empty(project.id), topics, &state.config))
}

#[derive(Debug, Deserialize)]
pub struct ProjectListQuery {
    search: Option<String>,
    membership: Option<String>,
    owned: Option<String>,
    visibility: Option<String>,
    archived: Option<String>,
    order_by: Option<String>,
    sort: Option<String>,
    /// Comma-separated topic names: only projects carrying all of them.
    topic: Option<String>,
    pub include_subgroups: Option<String>,
}

impl ProjectListQuery {
    /// Validates the filters.
    pub fn to_core(&self) -> ApiResult<ProjectQuery> {
        Ok(ProjectQuery {
            membership: flag(self.membership.as_deref())?.unwrap_or(false),
            owned: flag(self.owned.as_deref())?.unwrap_or(false),
            search: self.search.clone().filter(|s| !s.is_empty()),
            visibility: visibility(self.visibility.as_deref())?,
            archived: flag(self.archived.as_deref())?,
            topics: self
                .topic
                .as_deref()
                .map(|names| {
                    names.split(',').map(str::trim).filter(|name| !name.is_empty()).map(str::to_owned).collect()
                })
                .unwrap_or_default(),
            order_by: order_by(
                self.order_by.as_deref(),
                &["id", "name", "path", "created_at", "updated_at", "last_activity_at"],
                "created_at",
            )
            .map(|o| if o == "last_activity_at" { "updated_at" } else { o })?,
            sort: sort_direction(self.sort.as_deref(), SortDirection::Desc)?,
        })
    }
}

/// `GET /projects`
pub async fn list_projects(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    uri: Uri,
    Query(query): Query<ProjectListQuery>,
    Query(page): Query<PageParams>,
) -> ApiResult<Response> {
    projects_page(&state, &actor, &uri, &query, None, &page).await
}

/// A page of the projects the actor may see, within a namespace (and its subgroups) when
/// given, as GitLab lists them: the `/projects`, `/groups/:id/projects` and
/// `/users/:id/projects` answer.
pub async fn projects_page(
    state: &AppState,
    actor: &Actor,
    uri: &Uri,
    query: &ProjectListQuery,
    namespace: Option<(gantry_types::NamespaceId, bool)>,
    page: &PageParams,
) -> ApiResult<Response> {
    let page = page.resolve()?;
    let (projects, total) = state.core.manage().list_projects(actor, &query.to_core()?, namespace, page.db()).await?;
    let mut items = Vec::with_capacity(projects.len());
    for project in &projects {
        items.push(project_json(state, actor, project).await?);
    }
    Ok(paginated(&state.config.external_url, uri, items, total, page))
}

/// `GET /users/:id/projects`: the projects of a user's personal namespace the caller may see.
pub async fn list_user_projects(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
    uri: Uri,
    Query(query): Query<ProjectListQuery>,
    Query(page): Query<PageParams>,
) -> ApiResult<Response> {
    let user = super::ci_types::id_param(&id, "user")?;
    let namespace = state.core.manage().user_namespace(&actor, user).await?;
    projects_page(&state, &actor, &uri, &query, Some((namespace, false)), &page).await
}

/// `GET /projects/:id`
pub async fn get_project(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
) -> ApiResult<Json<Project>> {
    let access = state.core.project_access(&actor, &Lookup::parse(&id)).await?;
    let project = access.project();
    let topics = state.core.manage().project_topics(project).await?;
    let json = Project::new(
        project,
        access.namespace(),
        access.level(),
        state.core.repos().is_empty(project.id),
        topics,
        &state.config,
    );
    Ok(Json(with_ci_settings(state, &access, json)))
}

/// Adds the CI settings GitLab shows those who manage the project's CI.
fn with_ci_settings(state: AppState, access: &ProjectAccess, mut json: Project) -> Project {
    if let Ok(role) = state.core.ci().pipeline_variables_minimum_role(access) {
        json.ci_pipeline_variables_minimum_override_role = Some(role.as_str());
    }
    json
}

#[derive(Debug, Deserialize)]
pub struct CreateProjectInput {
    #[serde(default)]
    name: String,
    #[serde(default)]
    path: String,
    namespace_id: Option<i64>,
    #[serde(default)]
    description: String,
    visibility: Option<String>,
    default_branch: Option<String>,
    #[serde(default)]
    initialize_with_readme: bool,
    /// Topic names (a list, or one comma-separated text).
    topics: Option<Vec<String>>,
    /// The deprecated name of `topics`, used when `topics` is absent.
    tag_list: Option<Vec<String>>,
    /// Empty or absent: the image comes as a file.
    avatar: Option<String>,
}

/// `POST /projects`
pub async fn create_project(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiUpload(input, mut uploads): ApiUpload<CreateProjectInput>,
) -> ApiResult<Response> {
    actor.require_user()?;
    let avatar = avatar_change(input.avatar.as_deref(), &mut uploads)?.flatten();
    if let Some(avatar) = &avatar {
        check_avatar_upload(avatar)?;
    }
    let name = if input.name.trim().is_empty() { input.path.clone() } else { input.name };
    let new = NewProjectInput {
        name,
        path: input.path,
        namespace: input.namespace_id.map(NamespaceId),
        description: input.description,
        visibility: visibility(input.visibility.as_deref())?,
        default_branch: input.default_branch,
        initialize_with_readme: input.initialize_with_readme,
        topics: input.topics.or(input.tag_list).unwrap_or_default(),
    };
    let mut project = state.core.manage().create_project(&actor, &new).await?;
    if let Some(avatar) = &avatar {
        project.avatar =
            state.core.manage().set_avatar(&actor, AvatarSubject::Project(project.id), Some(avatar)).await?;
    }
    let json = project_json(&state, &actor, &project).await?;
    Ok((StatusCode::CREATED, Json(json)).into_response())
}

#[derive(Debug, Deserialize)]
pub struct UpdateProjectInput {
    name: Option<String>,
    path: Option<String>,
    description: Option<String>,
    visibility: Option<String>,
    default_branch: Option<String>,
    archived: Option<bool>,
    ci_pipeline_variables_minimum_override_role: Option<String>,
    avatar: Option<String>,
    /// Topic names replacing the project's (a list, or one comma-separated text).
    topics: Option<Vec<String>>,
    /// The deprecated name of `topics`, used when `topics` is absent.
    tag_list: Option<Vec<String>>,
}

/// `PUT /projects/:id`
pub async fn update_project(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
    ApiUpload(input, mut uploads): ApiUpload<UpdateProjectInput>,
) -> ApiResult<Json<Project>> {
    let mut project = lookup_project(&state, &actor, &id).await?;
    if let Some(avatar) = avatar_change(input.avatar.as_deref(), &mut uploads)? {
        project.avatar =
            state.core.manage().set_avatar(&actor, AvatarSubject::Project(project.id), avatar.as_ref()).await?;
    }
    if let Some(role) = &input.ci_pipeline_variables_minimum_override_role {
        state.core.ci().set_pipeline_variables_minimum_role(&actor, &project, role).await?;
    }
    let changes = ProjectChanges {
        name: input.name,
        path: input.path,
        description: input.description,
        visibility: visibility(input.visibility.as_deref())?,
        default_branch: input.default_branch,
        topics: input.topics.or(input.tag_list),
    };
    let mut project = state.core.manage().update_project(&actor, &project, &changes).await?;
    if let Some(archived) = input.archived.filter(|a| *a != project.archived) {
        project = state.core.manage().set_project_archived(&actor, &project, archived).await?;
    }
    let json = project_json(&state, &actor, &project).await?;
    let access = state.core.access_to_project(&actor, &project).await?;
    Ok(Json(with_ci_settings(state, &access, json)))
}

/// `DELETE /projects/:id`
pub async fn delete_project(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let project = lookup_project(&state, &actor, &id).await?;
    state.core.manage().delete_project(&actor, &project).await?;
    Ok(accepted())
}

/// A namespace given by id or by full path, as GitLab accepts both.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum NamespaceRef {
    Id(i64),
    Path(String),
}

#[derive(Debug, Deserialize)]
pub struct TransferInput {
    namespace: Option<NamespaceRef>,
}

/// `PUT /projects/:id/transfer` (`namespace`: id or full path)
pub async fn transfer_project(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
    ApiInput(input): ApiInput<TransferInput>,
) -> ApiResult<Json<Project>> {
    let project = lookup_project(&state, &actor, &id).await?;
    let target = input.namespace.ok_or_else(|| crate::error::AppError::BadRequest("namespace is missing".into()))?;
    let namespace = match target {
        NamespaceRef::Id(id) => NamespaceId(id),
        NamespaceRef::Path(path) => match Lookup::parse(&path) {
            Lookup::Id(id) => NamespaceId(id),
            Lookup::Path(path) => state.core.manage().find_namespace(&actor, &path).await?.id,
        },
    };
    let project = state.core.manage().transfer_project(&actor, &project, namespace).await?;
    Ok(Json(project_json(&state, &actor, &project).await?))
}

async fn set_archived(state: AppState, actor: Actor, id: String, archived: bool) -> ApiResult<Response> {
    let project = lookup_project(&state, &actor, &id).await?;
    let project = state.core.manage().set_project_archived(&actor, &project, archived).await?;
    Ok((StatusCode::CREATED, Json(project_json(&state, &actor, &project).await?)).into_response())
}

/// `POST /projects/:id/archive`
pub async fn archive_project(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    set_archived(state, actor, id, true).await
}

/// `POST /projects/:id/unarchive`
pub async fn unarchive_project(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    set_archived(state, actor, id, false).await
}
