//! `/deploy_keys` (administrators: every key, and instance keys any project may enable) and
//! `/projects/:id/deploy_keys` (a project's keys: add, enable another, change, disable), shaped
//! like GitLab's Deploy keys API. The core checks the roles.

use axum::Json;
use axum::extract::{OriginalUri, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use gantry_core::CoreError;
use gantry_core::manage::deploy_keys::{
    DeployKeyChange, DeployKeyInput, DeployKeyRow, KeyProjectRow, ProjectDeployKey,
};
use gantry_types::DeployKeyId;
use serde::{Deserialize, Serialize};

use super::projects::lookup_access;
use super::{ApiInput, ApiResult, PageParams, flag, paginated};
use crate::AppState;
use crate::auth::ApiActor;
use crate::time_format::iso8601;

/// A deploy key as GitLab shows one; a project's listing adds `can_push`, the administrators'
/// the projects it is enabled on. (GitLab's `fingerprint` is an MD5 one, which Gantry does not
/// keep: like a FIPS GitLab, it leaves it out and gives `fingerprint_sha256`.)
#[derive(Debug, Serialize)]
pub struct DeployKey {
    pub id: i64,
    pub title: String,
    pub key: String,
    pub fingerprint_sha256: String,
    pub usage_type: &'static str,
    pub created_at: String,
    pub expires_at: Option<String>,
    pub last_used_at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub can_push: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub projects_with_write_access: Option<Vec<ProjectIdentity>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub projects_with_readonly_access: Option<Vec<ProjectIdentity>>,
}

impl DeployKey {
    pub fn new(key: &DeployKeyRow) -> DeployKey {
        DeployKey {
            id: key.id.0,
            title: key.title.clone(),
            key: key.public_key.clone(),
            fingerprint_sha256: key.fingerprint.clone(),
            usage_type: "auth",
            created_at: iso8601(key.created_at),
            expires_at: key.expires_at.map(iso8601),
            last_used_at: key.last_used_at.map(iso8601),
            can_push: None,
            projects_with_write_access: None,
            projects_with_readonly_access: None,
        }
    }

    /// The key as the project has it, with `can_push`.
    pub fn of_project(key: &ProjectDeployKey) -> DeployKey {
        DeployKey { can_push: Some(key.link.can_push), ..DeployKey::new(&key.key) }
    }
}

/// A project as the administrators' key listing names it (GitLab's `ProjectIdentity`).
#[derive(Debug, Serialize)]
pub struct ProjectIdentity {
    pub id: i64,
    pub description: String,
    pub name: String,
    pub name_with_namespace: String,
    pub path: String,
    pub path_with_namespace: String,
    pub created_at: String,
}

impl ProjectIdentity {
    fn new(project: &KeyProjectRow) -> ProjectIdentity {
        let namespace = project.full_path.rsplit_once('/').map_or("", |(namespace, _)| namespace);
        ProjectIdentity {
            id: project.link.project_id.0,
            description: project.description.clone(),
            name: project.name.clone(),
            name_with_namespace: format!("{} / {}", namespace.replace('/', " / "), project.name),
            path: project.path.clone(),
            path_with_namespace: project.full_path.clone(),
            created_at: iso8601(project.created_at),
        }
    }
}

/// A deploy key's place in one project (GitLab's `DeployKeysProject`).
#[derive(Debug, Serialize)]
pub struct DeployKeysProject {
    pub id: i64,
    pub deploy_key_id: i64,
    pub project_id: i64,
    pub can_push: bool,
    pub created_at: String,
    pub updated_at: String,
}

impl DeployKeysProject {
    pub fn new(project: &KeyProjectRow) -> DeployKeysProject {
        let link = &project.link;
        DeployKeysProject {
            id: link.id,
            deploy_key_id: link.deploy_key_id.0,
            project_id: link.project_id.0,
            can_push: link.can_push,
            created_at: iso8601(link.created_at),
            updated_at: iso8601(link.updated_at),
        }
    }
}

fn key_id(value: &str) -> ApiResult<DeployKeyId> {
    value.parse::<i64>().map(DeployKeyId).map_err(|_| CoreError::NotFound("deploy key").into())
}

#[derive(Debug, Deserialize)]
pub struct ListQuery {
    public: Option<String>,
    #[serde(flatten)]
    page: PageParams,
}

/// `GET /deploy_keys` (administrators; `public=true`: only the instance keys)
pub async fn list_all(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    OriginalUri(uri): OriginalUri,
    Query(query): Query<ListQuery>,
) -> ApiResult<Response> {
    let page = query.page.resolve()?;
    let public_only = flag(query.public.as_deref())?.unwrap_or(false);
    let (uses, total) = state.core.manage().list_all_deploy_keys(&actor, public_only, page.db()).await?;
    let keys = uses
        .iter()
        .map(|used| {
            let projects = |can_push: bool| {
                used.projects.iter().filter(|p| p.link.can_push == can_push).map(ProjectIdentity::new).collect()
            };
            DeployKey {
                projects_with_write_access: Some(projects(true)),
                projects_with_readonly_access: Some(projects(false)),
                ..DeployKey::new(&used.key)
            }
        })
        .collect();
    Ok(paginated(&state.config.external_url, &uri, keys, total, page))
}

/// The parameters of a new deploy key (all read by core, after the role is checked).
#[derive(Debug, Deserialize)]
pub struct DeployKeyParams {
    #[serde(default)]
    title: String,
    #[serde(default)]
    key: String,
    can_push: Option<bool>,
    expires_at: Option<String>,
}

impl DeployKeyParams {
    fn input(self) -> DeployKeyInput {
        DeployKeyInput {
            title: self.title,
            key: self.key,
            can_push: self.can_push.unwrap_or(false),
            expires_at: self.expires_at.unwrap_or_default(),
        }
    }
}

/// `POST /deploy_keys` (administrators): an instance key, enabled on no project yet.
pub async fn create_instance(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiInput(params): ApiInput<DeployKeyParams>,
) -> ApiResult<Response> {
    let key = state.core.manage().create_instance_deploy_key(&actor, &params.input()).await?;
    Ok((StatusCode::CREATED, Json(DeployKey::new(&key))).into_response())
}

/// `GET /projects/:id/deploy_keys`
pub async fn list_for_project(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
    OriginalUri(uri): OriginalUri,
    Query(page): Query<PageParams>,
) -> ApiResult<Response> {
    let access = lookup_access(&state, &actor, &id).await?;
    let keys = state.core.manage().list_project_deploy_keys(&access).await?;
    super::repository::page_of(&state, &uri, keys.iter().map(DeployKey::of_project).collect(), &page)
}

/// `GET /projects/:id/deploy_keys/:key_id`
pub async fn get_for_project(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path((id, key)): Path<(String, String)>,
) -> ApiResult<Json<DeployKey>> {
    let access = lookup_access(&state, &actor, &id).await?;
    let key = state.core.manage().find_project_deploy_key(&access, key_id(&key)?).await?;
    Ok(Json(DeployKey::of_project(&key)))
}

/// `POST /projects/:id/deploy_keys` (`title`, `key`, `can_push`, `expires_at`): a new key, or
/// one the caller may use elsewhere enabled here.
pub async fn add_to_project(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
    ApiInput(params): ApiInput<DeployKeyParams>,
) -> ApiResult<Response> {
    let access = lookup_access(&state, &actor, &id).await?;
    let key = state.core.manage().add_project_deploy_key(&access, &params.input()).await?;
    Ok((StatusCode::CREATED, Json(DeployKey::of_project(&key))).into_response())
}

#[derive(Debug, Deserialize)]
pub struct ChangeParams {
    title: Option<String>,
    can_push: Option<bool>,
}

/// `PUT /projects/:id/deploy_keys/:key_id` (`title`, `can_push`)
pub async fn update_for_project(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path((id, key)): Path<(String, String)>,
    ApiInput(params): ApiInput<ChangeParams>,
) -> ApiResult<Json<DeployKey>> {
    let access = lookup_access(&state, &actor, &id).await?;
    let change = DeployKeyChange { title: params.title, can_push: params.can_push };
    let key = state.core.manage().update_project_deploy_key(&access, key_id(&key)?, &change).await?;
    Ok(Json(DeployKey::of_project(&key)))
}

/// `POST /projects/:id/deploy_keys/:key_id/enable`: enables a key the caller may use.
pub async fn enable_for_project(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path((id, key)): Path<(String, String)>,
) -> ApiResult<Response> {
    let access = lookup_access(&state, &actor, &id).await?;
    let key = state.core.manage().enable_deploy_key(&access, key_id(&key)?).await?;
    Ok((StatusCode::CREATED, Json(DeployKey::of_project(&key))).into_response())
}

/// `DELETE /projects/:id/deploy_keys/:key_id`: disables the key here (and deletes it when no
/// project uses it any more, unless it is an instance key).
pub async fn delete_from_project(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path((id, key)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    let access = lookup_access(&state, &actor, &id).await?;
    state.core.manage().disable_deploy_key(&access, key_id(&key)?).await?;
    Ok(StatusCode::NO_CONTENT)
}
