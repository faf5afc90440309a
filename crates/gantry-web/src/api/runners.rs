//! Runner management: `POST /user/runners` (GitLab 16's way to create a runner and get its
//! token), `/runners` and `/projects/:id/runners`.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use gantry_core::ci::RunnerRow;
use gantry_core::ci::runners::{RunnerChange, RunnerRegistration, RunnerScope};
use gantry_types::{NamespaceId, ProjectId};
use gantry_types::{RunnerId, RunnerType};
use serde::{Deserialize, Serialize};

use super::projects::lookup_access;
use super::{ApiInput, ApiResult, Flag, Number};
use crate::AppState;
use crate::auth::ApiActor;
use crate::error::AppError;
use crate::time_format::iso8601;

/// A runner that has not asked for work for this long is shown offline.
const ONLINE_WITHIN_MS: i64 = 2 * 60 * 60 * 1000;

/// A runner as GitLab lists it, with its details.
#[derive(Debug, Serialize)]
pub struct Runner {
    pub id: RunnerId,
    pub description: String,
    pub ip_address: Option<String>,
    pub active: bool,
    pub paused: bool,
    pub is_shared: bool,
    pub runner_type: RunnerType,
    pub name: Option<String>,
    pub online: bool,
    pub status: &'static str,
    pub tag_list: Vec<String>,
    pub run_untagged: bool,
    pub locked: bool,
    pub maximum_timeout: Option<i64>,
    pub maximum_concurrent_jobs: i64,
    pub access_level: &'static str,
    pub version: Option<String>,
    pub executor: Option<String>,
    pub platform: Option<String>,
    pub architecture: Option<String>,
    pub contacted_at: Option<String>,
    pub created_at: String,
    pub builtin: bool,
}

impl Runner {
    pub fn new(runner: &RunnerRow) -> Runner {
        let online = runner.contacted_at.is_some_and(|at| gantry_core::now_millis() - at < ONLINE_WITHIN_MS);
        let status = match (runner.contacted_at, online, runner.paused) {
            (None, _, _) => "never_contacted",
            (_, _, true) => "paused",
            (_, true, _) => "online",
            _ => "offline",
        };
        Runner {
            id: runner.id,
            description: runner.description.clone(),
            ip_address: runner.ip_address.clone(),
            active: !runner.paused,
            paused: runner.paused,
            is_shared: runner.runner_type == RunnerType::Instance,
            runner_type: runner.runner_type,
            name: Some(if runner.builtin { "gantry-builtin" } else { "gantry-runner" }.to_owned()),
            online,
            status,
            tag_list: runner.tags.clone(),
            run_untagged: runner.run_untagged,
            locked: runner.runner_type == RunnerType::Project,
            maximum_timeout: None,
            maximum_concurrent_jobs: runner.max_concurrent,
            access_level: "not_protected",
            version: runner.version.clone(),
            executor: runner.executor.clone(),
            platform: runner.platform.clone(),
            architecture: runner.architecture.clone(),
            contacted_at: runner.contacted_at.map(iso8601),
            created_at: iso8601(runner.created_at),
            builtin: runner.builtin,
        }
    }
}

/// `tag_list` as GitLab takes it: an array or a comma-separated string.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum TagList {
    List(Vec<String>),
    Text(String),
}

impl TagList {
    fn into_tags(self) -> Vec<String> {
        match self {
            TagList::List(tags) => tags,
            TagList::Text(text) => text.split(',').map(|t| t.trim().to_owned()).filter(|t| !t.is_empty()).collect(),
        }
    }
}

#[derive(Debug, Deserialize)]
pub struct CreateRunnerInput {
    runner_type: Option<String>,
    group_id: Option<Number>,
    project_id: Option<Number>,
    description: Option<String>,
    paused: Option<Flag>,
    run_untagged: Option<Flag>,
    tag_list: Option<TagList>,
    maximum_concurrent_jobs: Option<Number>,
}

#[derive(Debug, Serialize)]
struct CreatedRunner {
    id: RunnerId,
    token: String,
    token_expires_at: Option<String>,
}

/// `POST /user/runners` (`runner_type`, `group_id`/`project_id`, `tag_list`, `run_untagged`, …)
pub async fn create_runner(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiInput(input): ApiInput<CreateRunnerInput>,
) -> ApiResult<Response> {
    actor.require_user()?;
    let scope = match input.runner_type.as_deref() {
        Some("instance_type") => RunnerScope::Instance,
        Some("group_type") => {
            let id = input.group_id.as_ref().ok_or_else(|| AppError::BadRequest("group_id is missing".to_owned()))?;
            RunnerScope::Group(NamespaceId(id.value("group_id")?))
        }
        Some("project_type") => {
            let id =
                input.project_id.as_ref().ok_or_else(|| AppError::BadRequest("project_id is missing".to_owned()))?;
            RunnerScope::Project(ProjectId(id.value("project_id")?))
        }
        Some(other) => {
            return Err(AppError::BadRequest(format!(
                "runner_type must be instance_type, group_type or project_type, not '{other}'"
            ))
            .into());
        }
        None => return Err(AppError::BadRequest("runner_type is missing".to_owned()).into()),
    };
    let registration = RunnerRegistration {
        scope,
        description: input.description.unwrap_or_default(),
        tags: input.tag_list.map(TagList::into_tags).unwrap_or_default(),
        run_untagged: input.run_untagged.as_ref().map(|f| f.value("run_untagged")).transpose()?.unwrap_or(true),
        paused: input.paused.as_ref().map(|f| f.value("paused")).transpose()?.unwrap_or(false),
        max_concurrent: input
            .maximum_concurrent_jobs
            .as_ref()
            .map(|n| n.value("maximum_concurrent_jobs"))
            .transpose()?
            .unwrap_or(0),
    };
    let (runner, token) = state.core.ci().register_runner(&actor, registration).await?;
    Ok((StatusCode::CREATED, Json(CreatedRunner { id: runner.id, token, token_expires_at: None })).into_response())
}

fn runner_id(value: &str) -> ApiResult<RunnerId> {
    super::ci_types::id_param(value, "runner")
}

/// `GET /runners`: the runners you manage.
pub async fn list_runners(State(state): State<AppState>, ApiActor(actor): ApiActor) -> ApiResult<Json<Vec<Runner>>> {
    let runners = state.core.ci().list_runners(&actor).await?;
    Ok(Json(runners.iter().map(Runner::new).collect()))
}

/// `GET /runners/all`: every runner (administrators).
pub async fn list_all_runners(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
) -> ApiResult<Json<Vec<Runner>>> {
    gantry_core::policy::require_admin(&actor)?;
    let runners = state.core.ci().list_runners(&actor).await?;
    Ok(Json(runners.iter().map(Runner::new).collect()))
}

/// `GET /projects/:id/runners`: the runners that may run the project's jobs.
pub async fn project_runners(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
) -> ApiResult<Json<Vec<Runner>>> {
    let access = lookup_access(&state, &actor, &id).await?;
    let runners = state.core.ci().project_runners(&access).await?;
    Ok(Json(runners.iter().map(Runner::new).collect()))
}

/// `GET /runners/:runner_id`
pub async fn get_runner(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
) -> ApiResult<Json<Runner>> {
    Ok(Json(Runner::new(&state.core.ci().runner(&actor, runner_id(&id)?).await?)))
}

#[derive(Debug, Deserialize)]
pub struct UpdateRunnerInput {
    description: Option<String>,
    paused: Option<Flag>,
    active: Option<Flag>,
    run_untagged: Option<Flag>,
    tag_list: Option<TagList>,
    maximum_concurrent_jobs: Option<Number>,
}

/// `PUT /runners/:runner_id`
pub async fn update_runner(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
    ApiInput(input): ApiInput<UpdateRunnerInput>,
) -> ApiResult<Json<Runner>> {
    let paused = match (&input.paused, &input.active) {
        (Some(paused), _) => Some(paused.value("paused")?),
        (None, Some(active)) => Some(!active.value("active")?),
        (None, None) => None,
    };
    let change = RunnerChange {
        description: input.description,
        tags: input.tag_list.map(TagList::into_tags),
        run_untagged: input.run_untagged.as_ref().map(|f| f.value("run_untagged")).transpose()?,
        paused,
        max_concurrent: input
            .maximum_concurrent_jobs
            .as_ref()
            .map(|n| n.value("maximum_concurrent_jobs"))
            .transpose()?,
    };
    Ok(Json(Runner::new(&state.core.ci().update_runner(&actor, runner_id(&id)?, change).await?)))
}

/// `DELETE /runners/:runner_id`
pub async fn delete_runner(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    state.core.ci().delete_runner(&actor, runner_id(&id)?).await?;
    Ok(StatusCode::NO_CONTENT)
}
