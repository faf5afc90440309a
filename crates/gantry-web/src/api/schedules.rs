//! `/projects/:id/pipeline_schedules` (with their variables, `play`, `take_ownership` and
//! `pipelines`), `/projects/:id/triggers`, and `POST /projects/:id/trigger/pipeline` (a
//! trigger token instead of user credentials), shaped like GitLab's.

use axum::Json;
use axum::extract::{FromRequest, Multipart, Path, Query, Request, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use gantry_core::ci::schedules::{Schedule, ScheduleInput, ScheduleVariable};
use gantry_core::ci::{PipelineRow, TriggerRow};
use gantry_core::manage::groups::Lookup;
use gantry_core::{Actor, ProjectRow};
use gantry_types::{CiStatus, PipelineId, ScheduleId, TriggerId};
use serde::{Deserialize, Serialize};

use super::ci_types::{Pipeline, PipelineBasic, UserBasic, id_param, user_basic};
use super::projects::{lookup_access, lookup_project};
use super::{ApiInput, ApiResult};
use crate::AppState;
use crate::auth::ApiActor;
use crate::error::AppError;
use crate::time_format::iso8601;

#[derive(Debug, Serialize)]
pub struct LastPipeline {
    pub id: PipelineId,
    pub sha: String,
    #[serde(rename = "ref")]
    pub ref_name: String,
    pub status: CiStatus,
}

#[derive(Debug, Serialize)]
pub struct ScheduleVariableJson {
    pub key: String,
    pub value: String,
    pub variable_type: String,
}

#[derive(Debug, Serialize)]
pub struct ScheduleJson {
    pub id: ScheduleId,
    pub description: String,
    #[serde(rename = "ref")]
    pub ref_name: String,
    pub cron: String,
    pub cron_timezone: String,
    pub next_run_at: String,
    pub active: bool,
    pub created_at: String,
    pub updated_at: String,
    pub owner: Option<UserBasic>,
    pub last_pipeline: Option<LastPipeline>,
    /// Only for those who may read them (GitLab leaves the field out for others).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub variables: Option<Vec<ScheduleVariableJson>>,
    /// Values for the CI file's `spec:inputs`.
    pub inputs: Vec<ScheduleInputJson>,
}

/// One of a schedule's `inputs` (GitLab's `name` and `value`).
#[derive(Debug, Serialize, Deserialize)]
pub struct ScheduleInputJson {
    pub name: String,
    pub value: serde_json::Value,
}

fn schedule_json(state: &AppState, schedule: Schedule) -> ScheduleJson {
    let row = schedule.row;
    let inputs = gantry_core::ci::schedules::schedule_inputs(&row)
        .into_iter()
        .map(|(name, value)| ScheduleInputJson { name, value })
        .collect();
    let last_pipeline =
        row.last_pipeline.map(|p| LastPipeline { id: p.id, sha: p.sha, ref_name: p.ref_name, status: p.status });
    ScheduleJson {
        id: row.id,
        description: row.description,
        ref_name: row.ref_name,
        cron: row.cron,
        cron_timezone: row.cron_timezone,
        next_run_at: iso8601(row.next_run_at),
        active: row.active,
        created_at: iso8601(row.created_at),
        updated_at: iso8601(row.updated_at),
        owner: user_basic(row.owner_id, row.owner_username.as_deref(), &state.config),
        last_pipeline,
        variables: schedule.variables.map(|variables| {
            variables
                .into_iter()
                .map(|v| ScheduleVariableJson { key: v.key, value: v.value, variable_type: v.variable_type })
                .collect()
        }),
        inputs,
    }
}

#[derive(Debug, Deserialize)]
pub struct ScheduleListQuery {
    scope: Option<String>,
}

/// `GET /projects/:id/pipeline_schedules` (`scope`: `active`, `inactive`)
pub async fn list(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
    Query(query): Query<ScheduleListQuery>,
) -> ApiResult<Json<Vec<ScheduleJson>>> {
    let project = lookup_project(&state, &actor, &id).await?;
    let active = match query.scope.as_deref() {
        None | Some("") => None,
        Some("active") => Some(true),
        Some("inactive") => Some(false),
        Some(other) => {
            return Err(AppError::BadRequest(format!("scope must be active or inactive, not '{other}'")).into());
        }
    };
    let rows = state.core.ci().list_schedules(&actor, &project, active).await?;
    Ok(Json(rows.into_iter().map(|row| schedule_json(&state, Schedule { row, variables: None })).collect()))
}

/// `GET /projects/:id/pipeline_schedules/:schedule_id`
pub async fn get(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path((id, schedule_id)): Path<(String, String)>,
) -> ApiResult<Json<ScheduleJson>> {
    let project = lookup_project(&state, &actor, &id).await?;
    let schedule = state.core.ci().schedule(&actor, &project, id_param(&schedule_id, "pipeline schedule")?).await?;
    Ok(Json(schedule_json(&state, schedule)))
}

#[derive(Debug, Default, Deserialize)]
pub struct ScheduleBody {
    description: Option<String>,
    #[serde(rename = "ref")]
    ref_name: Option<String>,
    cron: Option<String>,
    cron_timezone: Option<String>,
    active: Option<serde_json::Value>,
    /// `[{"name": …, "value": …}]`: replaces the schedule's inputs.
    inputs: Option<Vec<ScheduleInputJson>>,
}

impl ScheduleBody {
    fn input(self) -> ApiResult<ScheduleInput> {
        let active = match self.active {
            None | Some(serde_json::Value::Null) => None,
            Some(serde_json::Value::Bool(value)) => Some(value),
            Some(serde_json::Value::String(text)) => super::flag(Some(&text))?,
            Some(other) => {
                return Err(AppError::BadRequest(format!("active must be true or false, not {other}")).into());
            }
        };
        Ok(ScheduleInput {
            description: self.description,
            ref_name: self.ref_name,
            cron: self.cron,
            cron_timezone: self.cron_timezone,
            active,
            inputs: self.inputs.map(|inputs| inputs.into_iter().map(|i| (i.name, i.value)).collect()),
        })
    }
}

/// `POST /projects/:id/pipeline_schedules` (`description`, `ref`, `cron`, `cron_timezone`, `active`,
/// `inputs`)
pub async fn create(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
    ApiInput(body): ApiInput<ScheduleBody>,
) -> ApiResult<Response> {
    let project = lookup_project(&state, &actor, &id).await?;
    let schedule = state.core.ci().create_schedule(&actor, &project, &body.input()?).await?;
    Ok((StatusCode::CREATED, Json(schedule_json(&state, schedule))).into_response())
}

/// `PUT /projects/:id/pipeline_schedules/:schedule_id`
pub async fn update(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path((id, schedule_id)): Path<(String, String)>,
    ApiInput(body): ApiInput<ScheduleBody>,
) -> ApiResult<Json<ScheduleJson>> {
    let project = lookup_project(&state, &actor, &id).await?;
    let id = id_param(&schedule_id, "pipeline schedule")?;
    let schedule = state.core.ci().update_schedule(&actor, &project, id, &body.input()?).await?;
    Ok(Json(schedule_json(&state, schedule)))
}

/// `POST /projects/:id/pipeline_schedules/:schedule_id/take_ownership`
pub async fn take_ownership(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path((id, schedule_id)): Path<(String, String)>,
) -> ApiResult<Response> {
    let project = lookup_project(&state, &actor, &id).await?;
    let id = id_param(&schedule_id, "pipeline schedule")?;
    let schedule = state.core.ci().take_schedule_ownership(&actor, &project, id).await?;
    Ok((StatusCode::CREATED, Json(schedule_json(&state, schedule))).into_response())
}

/// `DELETE /projects/:id/pipeline_schedules/:schedule_id`
pub async fn delete(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path((id, schedule_id)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    let project = lookup_project(&state, &actor, &id).await?;
    state.core.ci().delete_schedule(&actor, &project, id_param(&schedule_id, "pipeline schedule")?).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /projects/:id/pipeline_schedules/:schedule_id/play`: runs it now.
pub async fn play(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path((id, schedule_id)): Path<(String, String)>,
) -> ApiResult<Response> {
    #[derive(Serialize)]
    struct Message {
        message: &'static str,
    }
    let project = lookup_project(&state, &actor, &id).await?;
    state.core.ci().play_schedule(&actor, &project, id_param(&schedule_id, "pipeline schedule")?).await?;
    Ok((StatusCode::CREATED, Json(Message { message: "201 Created" })).into_response())
}

/// `GET /projects/:id/pipeline_schedules/:schedule_id/pipelines`
pub async fn pipelines(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path((id, schedule_id)): Path<(String, String)>,
) -> ApiResult<Json<Vec<PipelineBasic>>> {
    let project = lookup_project(&state, &actor, &id).await?;
    let found =
        state.core.ci().schedule_pipelines(&actor, &project, id_param(&schedule_id, "pipeline schedule")?).await?;
    Ok(Json(found.iter().rev().map(|p| PipelineBasic::new(p, &project, &state.config)).collect()))
}

#[derive(Debug, Deserialize)]
pub struct VariableBody {
    key: Option<String>,
    value: Option<String>,
    variable_type: Option<String>,
}

async fn put_variable(
    state: &AppState,
    actor: &Actor,
    id: &str,
    schedule_id: &str,
    key: Option<String>,
    body: VariableBody,
) -> ApiResult<Response> {
    let project = lookup_project(state, actor, id).await?;
    let create = key.is_none();
    let key = key.or(body.key).filter(|k| !k.is_empty()).ok_or(AppError::BadRequest("key is missing".to_owned()))?;
    let variable = ScheduleVariable {
        value: body.value.ok_or(AppError::BadRequest("value is missing".to_owned()))?,
        variable_type: body.variable_type.unwrap_or_else(|| "env_var".to_owned()),
        key,
    };
    let schedule_id = id_param(schedule_id, "pipeline schedule")?;
    state.core.ci().set_schedule_variable(actor, &project, schedule_id, &variable, create).await?;
    let json = ScheduleVariableJson { key: variable.key, value: variable.value, variable_type: variable.variable_type };
    Ok((if create { StatusCode::CREATED } else { StatusCode::OK }, Json(json)).into_response())
}

/// `POST /projects/:id/pipeline_schedules/:schedule_id/variables` (`key`, `value`, `variable_type`)
pub async fn create_variable(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path((id, schedule_id)): Path<(String, String)>,
    ApiInput(body): ApiInput<VariableBody>,
) -> ApiResult<Response> {
    put_variable(&state, &actor, &id, &schedule_id, None, body).await
}

/// `PUT /projects/:id/pipeline_schedules/:schedule_id/variables/:key`
pub async fn update_variable(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path((id, schedule_id, key)): Path<(String, String, String)>,
    ApiInput(body): ApiInput<VariableBody>,
) -> ApiResult<Response> {
    put_variable(&state, &actor, &id, &schedule_id, Some(key), body).await
}

/// `DELETE /projects/:id/pipeline_schedules/:schedule_id/variables/:key`
pub async fn delete_variable(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path((id, schedule_id, key)): Path<(String, String, String)>,
) -> ApiResult<StatusCode> {
    let project = lookup_project(&state, &actor, &id).await?;
    let schedule_id = id_param(&schedule_id, "pipeline schedule")?;
    state.core.ci().delete_schedule_variable(&actor, &project, schedule_id, &key).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Serialize)]
pub struct TriggerJson {
    pub id: TriggerId,
    pub description: String,
    /// The whole token only in the answer that created it; its start afterwards.
    pub token: String,
    pub created_at: String,
    pub updated_at: String,
    pub last_used: Option<String>,
    pub owner: Option<UserBasic>,
}

fn trigger_json(state: &AppState, trigger: TriggerRow, token: Option<String>) -> TriggerJson {
    TriggerJson {
        id: trigger.id,
        token: token.unwrap_or_else(|| format!("{}…", trigger.token_start)),
        description: trigger.description,
        created_at: iso8601(trigger.created_at),
        updated_at: iso8601(trigger.created_at),
        last_used: trigger.last_used_at.map(iso8601),
        owner: user_basic(trigger.owner_id, trigger.owner_username.as_deref(), &state.config),
    }
}

/// `GET /projects/:id/triggers`
pub async fn list_triggers(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
) -> ApiResult<Json<Vec<TriggerJson>>> {
    let access = lookup_access(&state, &actor, &id).await?;
    let triggers = state.core.ci().list_triggers(&access).await?;
    Ok(Json(triggers.into_iter().map(|t| trigger_json(&state, t, None)).collect()))
}

#[derive(Debug, Deserialize)]
pub struct TriggerBody {
    #[serde(default)]
    description: String,
}

/// `POST /projects/:id/triggers` (`description`): the token is in this answer only.
pub async fn create_trigger(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
    ApiInput(body): ApiInput<TriggerBody>,
) -> ApiResult<Response> {
    let project = lookup_project(&state, &actor, &id).await?;
    let (trigger, token) = state.core.ci().create_trigger(&actor, &project, &body.description).await?;
    Ok((StatusCode::CREATED, Json(trigger_json(&state, trigger, Some(token)))).into_response())
}

/// `PUT /projects/:id/triggers/:trigger_id` (`description`)
pub async fn update_trigger(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path((id, trigger_id)): Path<(String, String)>,
    ApiInput(body): ApiInput<TriggerBody>,
) -> ApiResult<Json<TriggerJson>> {
    let project = lookup_project(&state, &actor, &id).await?;
    let trigger =
        state.core.ci().update_trigger(&actor, &project, id_param(&trigger_id, "trigger")?, &body.description).await?;
    Ok(Json(trigger_json(&state, trigger, None)))
}

/// `DELETE /projects/:id/triggers/:trigger_id`
pub async fn delete_trigger(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path((id, trigger_id)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    let project = lookup_project(&state, &actor, &id).await?;
    state.core.ci().delete_trigger(&actor, &project, id_param(&trigger_id, "trigger")?).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The fields of a trigger request, from the query, a form (urlencoded or multipart, as
/// `curl -F` sends it) or JSON: `token`, `ref`, `variables[KEY]=value`.
#[derive(Debug, Default)]
struct TriggerFields {
    token: Option<String>,
    ref_name: Option<String>,
    variables: Vec<(String, String)>,
}

impl TriggerFields {
    fn add(&mut self, name: &str, value: String) {
        match name {
            "token" => self.token = Some(value),
            "ref" => self.ref_name = Some(value),
            _ => {
                if let Some(key) = name.strip_prefix("variables[").and_then(|rest| rest.strip_suffix(']')) {
                    self.variables.push((key.to_owned(), value));
                }
            }
        }
    }
}

async fn trigger_fields(state: &AppState, request: Request) -> ApiResult<TriggerFields> {
    let mut fields = TriggerFields::default();
    let pairs: Vec<(String, String)> =
        serde_urlencoded::from_str(request.uri().query().unwrap_or("")).unwrap_or_default();
    for (name, value) in pairs {
        fields.add(&name, value);
    }
    let content_type = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.split(';').next().unwrap_or("").trim().to_ascii_lowercase())
        .unwrap_or_default();
    match content_type.as_str() {
        "multipart/form-data" => {
            let mut form = Multipart::from_request(request, state)
                .await
                .map_err(|error| AppError::BadRequest(format!("invalid multipart form: {error}")))?;
            while let Some(field) = form
                .next_field()
                .await
                .map_err(|error| AppError::BadRequest(format!("invalid multipart form: {error}")))?
            {
                let name = field.name().unwrap_or("").to_owned();
                let value = field.text().await.map_err(|error| AppError::BadRequest(error.to_string()))?;
                fields.add(&name, value);
            }
        }
        "application/json" => {
            #[derive(Deserialize)]
            struct JsonTrigger {
                token: Option<String>,
                #[serde(rename = "ref")]
                ref_name: Option<String>,
                #[serde(default)]
                variables: std::collections::BTreeMap<String, String>,
            }
            let body = axum::body::Bytes::from_request(request, state).await.map_err(|_| AppError::body_too_large())?;
            let json: JsonTrigger =
                serde_json::from_slice(&body).map_err(|e| AppError::BadRequest(format!("invalid JSON body: {e}")))?;
            fields.token = json.token.or(fields.token);
            fields.ref_name = json.ref_name.or(fields.ref_name);
            fields.variables.extend(json.variables);
        }
        "application/x-www-form-urlencoded" => {
            let body = axum::body::Bytes::from_request(request, state).await.map_err(|_| AppError::body_too_large())?;
            let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(&body)
                .map_err(|e| AppError::BadRequest(format!("invalid form body: {e}")))?;
            for (name, value) in pairs {
                fields.add(&name, value);
            }
        }
        _ => {}
    }
    Ok(fields)
}

/// `POST /projects/:id/trigger/pipeline` (`token`, `ref`, `variables[KEY]`): a pipeline started
/// by a trigger token, with the token's owner's rights.
pub async fn trigger_pipeline(
    State(state): State<AppState>,
    Path(id): Path<String>,
    request: Request,
) -> ApiResult<Response> {
    let fields = trigger_fields(&state, request).await?;
    let token = fields.token.filter(|t| !t.is_empty()).ok_or(AppError::BadRequest("token is missing".to_owned()))?;
    let ref_name =
        fields.ref_name.filter(|r| !r.is_empty()).ok_or(AppError::BadRequest("ref is missing".to_owned()))?;
    let (project, pipeline): (ProjectRow, PipelineRow) =
        state.core.ci().trigger_pipeline(&Lookup::parse(&id), &token, &ref_name, fields.variables).await?;
    let json = Pipeline::new(&pipeline, &[], &project, &state.config);
    Ok((StatusCode::CREATED, Json(json)).into_response())
}
