//! Pipeline schedule pages: the list (next run, last pipeline, owner; play, take ownership,
//! delete), and the form that creates or edits one with its variables.

use askama::Template;
use axum::Extension;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use gantry_core::ci::ScheduleRow;
use gantry_core::ci::schedules::{ScheduleInput, ScheduleVariable};
use gantry_core::policy::ProjectAction;
use gantry_core::{CoreError, now_millis};
use gantry_types::{PipelineId, ScheduleId};

use super::pipelines::id_of;
use super::project_frame::ProjectFrame;
use super::{Chrome, PageResult, form_error, render, see_other};
use crate::AppState;
use crate::auth::{CsrfForm, PageActor};
use crate::namespace_dispatch::ProjectTarget;

/// One schedule in the list.
pub struct ScheduleLine {
    pub row: ScheduleRow,
    pub next_run: String,
    /// The last pipeline's id and status label.
    pub last: Option<(PipelineId, &'static str)>,
    pub mine: bool,
}

#[derive(Template)]
#[template(path = "projects/schedules.html")]
struct SchedulesPage {
    chrome: Chrome,
    frame: ProjectFrame,
    tab: &'static str,
    schedules: Vec<ScheduleLine>,
    can_manage: bool,
    error: Option<String>,
}

async fn list_page(
    state: &AppState,
    visitor: &PageActor,
    target: ProjectTarget,
    error: Option<(StatusCode, String)>,
) -> PageResult {
    let frame = ProjectFrame::load(state, visitor, target).await?;
    let actor = &visitor.actor;
    let rows = state.core.ci().list_schedules(actor, &frame.project, None).await.map_err(|e| visitor.error(e))?;
    let now = now_millis();
    let me = actor.user().map(|u| u.id);
    let mut schedules = Vec::with_capacity(rows.len());
    for row in rows {
        let last = row.last_pipeline.as_ref().map(|p| (p.id, p.status.label()));
        let next_run = if row.active {
            format!(
                "{} ({})",
                crate::time_format::ago(row.next_run_at, now),
                crate::time_format::iso8601(row.next_run_at)
            )
        } else {
            "inactive".to_owned()
        };
        schedules.push(ScheduleLine { mine: me.is_some() && row.owner_id == me, next_run, last, row });
    }
    let (status, error) = error.map_or((StatusCode::OK, None), |(s, m)| (s, Some(m)));
    let page = SchedulesPage {
        chrome: Chrome::new(visitor),
        tab: "schedules",
        schedules,
        can_manage: frame.access.can(ProjectAction::ManageCi),
        error,
        frame,
    };
    render(status, &page)
}

/// `GET /{project}/-/pipeline_schedules`
pub async fn schedules(
    State(state): State<AppState>,
    visitor: PageActor,
    Extension(target): Extension<ProjectTarget>,
) -> PageResult {
    list_page(&state, &visitor, target, None).await
}

#[derive(Template)]
#[template(path = "projects/schedule_form.html")]
struct SchedulePage {
    chrome: Chrome,
    frame: ProjectFrame,
    tab: &'static str,
    /// The schedule edited; `None` for a new one.
    id: Option<ScheduleId>,
    description: String,
    ref_name: String,
    cron: String,
    cron_timezone: String,
    active: bool,
    variables: Vec<(String, String)>,
    /// The visitor may not read the schedule's variables (its owner and Maintainers may).
    variables_hidden: bool,
    /// Values for the CI file's `spec:inputs`, as the form shows them.
    inputs: Vec<(String, String)>,
    error: Option<String>,
}

/// An input's value as the form shows it: text as it is, anything else as JSON.
fn input_text(value: &serde_json::Value) -> String {
    match value {
        serde_json::Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}

/// The form's input values read as the types the CI file at the schedule's ref declares
/// (text for an input it does not declare: its header then says what is wrong).
async fn typed_inputs(state: &AppState, visitor: &PageActor, frame: &ProjectFrame, form: &mut ScheduleForm) {
    let Some(given) = form.input.inputs.as_mut().filter(|given| !given.is_empty()) else { return };
    let ref_name = form.input.ref_name.clone().unwrap_or_default();
    let declared = match state.core.ci().pipeline_inputs_of(&visitor.actor, &frame.project, &ref_name).await {
        Ok(Ok(declared)) => declared,
        _ => Vec::new(),
    };
    for (name, value) in given.iter_mut() {
        let (Some(input), serde_json::Value::String(text)) = (declared.iter().find(|i| i.name == *name), &*value)
        else {
            continue;
        };
        *value = super::pipelines::typed_input(&input.kind, text);
    }
}

/// What the form sends: the fields, then `key`/`value` pairs in order.
struct ScheduleForm {
    input: ScheduleInput,
    variables: Vec<(String, String)>,
    variables_hidden: bool,
}

fn read_form(form: &[(String, String)]) -> ScheduleForm {
    let field = |name: &str| form.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());
    let keys = form.iter().filter(|(k, _)| k == "key").map(|(_, v)| v.trim().to_owned());
    let values = form.iter().filter(|(k, _)| k == "value").map(|(_, v)| v.clone());
    let names = form.iter().filter(|(k, _)| k == "input_name").map(|(_, v)| v.trim().to_owned());
    let input_values =
        form.iter().filter(|(k, _)| k == "input_value").map(|(_, v)| serde_json::Value::String(v.clone()));
    let inputs: Vec<(String, serde_json::Value)> =
        names.zip(input_values).filter(|(name, _)| !name.is_empty()).collect();
    ScheduleForm {
        input: ScheduleInput {
            description: Some(field("description").unwrap_or_default()),
            ref_name: Some(field("ref").unwrap_or_default()),
            cron: Some(field("cron").unwrap_or_default()),
            cron_timezone: Some(field("cron_timezone").unwrap_or_default()),
            active: Some(field("active").is_some()),
            inputs: Some(inputs),
        },
        variables: keys.zip(values).collect(),
        variables_hidden: false,
    }
}

fn form_page(
    visitor: &PageActor,
    frame: ProjectFrame,
    id: Option<ScheduleId>,
    form: ScheduleForm,
    error: Option<(StatusCode, String)>,
) -> PageResult {
    let (status, error) = error.map_or((StatusCode::OK, None), |(s, m)| (s, Some(m)));
    let mut variables = form.variables;
    variables.push((String::new(), String::new()));
    let input = form.input;
    let mut inputs: Vec<(String, String)> =
        input.inputs.iter().flatten().map(|(name, value)| (name.clone(), input_text(value))).collect();
    inputs.push((String::new(), String::new()));
    let page = SchedulePage {
        chrome: Chrome::new(visitor),
        tab: "schedules",
        id,
        description: input.description.unwrap_or_default(),
        ref_name: input.ref_name.unwrap_or_default(),
        cron: input.cron.unwrap_or_default(),
        cron_timezone: input.cron_timezone.unwrap_or_else(|| "UTC".to_owned()),
        active: input.active.unwrap_or(true),
        variables,
        variables_hidden: form.variables_hidden,
        inputs,
        error,
        frame,
    };
    render(status, &page)
}

/// `GET /{project}/-/pipeline_schedules/new`
pub async fn new_schedule_form(
    State(state): State<AppState>,
    visitor: PageActor,
    Extension(target): Extension<ProjectTarget>,
) -> PageResult {
    let frame = ProjectFrame::load(&state, &visitor, target).await?;
    state
        .core
        .authorize_project(&visitor.actor, &frame.project, ProjectAction::RunPipelines)
        .await
        .map_err(|e| visitor.error(e))?;
    let form = ScheduleForm {
        input: ScheduleInput {
            ref_name: Some(frame.project.default_branch.clone()),
            cron: Some("0 4 * * *".to_owned()),
            ..ScheduleInput::default()
        },
        variables: Vec::new(),
        variables_hidden: false,
    };
    form_page(&visitor, frame, None, form, None)
}

/// Makes the schedule's variables the form's: adds, changes, removes.
async fn sync_variables(
    state: &AppState,
    visitor: &PageActor,
    frame: &ProjectFrame,
    id: ScheduleId,
    wanted: &[(String, String)],
) -> Result<(), CoreError> {
    let actor = &visitor.actor;
    // Only the owner gets here (or an administrator): both read the variables.
    let existing = state.core.ci().schedule(actor, &frame.project, id).await?.variables.unwrap_or_default();
    for (key, value) in wanted.iter().filter(|(key, _)| !key.is_empty()) {
        let known = existing.iter().find(|v| &v.key == key);
        if known.is_some_and(|v| &v.value == value) {
            continue;
        }
        let variable = ScheduleVariable { key: key.clone(), value: value.clone(), variable_type: "env_var".to_owned() };
        state.core.ci().set_schedule_variable(actor, &frame.project, id, &variable, known.is_none()).await?;
    }
    for gone in existing.iter().filter(|v| !wanted.iter().any(|(key, _)| key == &v.key)) {
        state.core.ci().delete_schedule_variable(actor, &frame.project, id, &gone.key).await?;
    }
    Ok(())
}

/// `POST /{project}/-/pipeline_schedules`: creates a schedule with its variables.
pub async fn create_schedule(
    State(state): State<AppState>,
    visitor: PageActor,
    Extension(target): Extension<ProjectTarget>,
    CsrfForm(fields): CsrfForm<Vec<(String, String)>>,
) -> PageResult {
    let frame = ProjectFrame::load(&state, &visitor, target).await?;
    let mut form = read_form(&fields);
    typed_inputs(&state, &visitor, &frame, &mut form).await;
    // Variables the visitor may not set refuse the whole form, before the schedule is made.
    let allowed = if form.variables.iter().any(|(key, _)| !key.is_empty()) {
        state.core.ci().may_set_pipeline_variables(&visitor.actor, &frame.project).await
    } else {
        Ok(())
    };
    let created = match allowed {
        Ok(()) => state.core.ci().create_schedule(&visitor.actor, &frame.project, &form.input).await,
        Err(error) => Err(error),
    };
    let created = match created {
        Ok(schedule) => sync_variables(&state, &visitor, &frame, schedule.row.id, &form.variables).await,
        Err(error) => Err(error),
    };
    match created {
        Ok(()) => see_other(&format!("/{}/-/pipeline_schedules", frame.project.full_path)),
        Err(error @ (CoreError::Invalid { .. } | CoreError::Conflict(_) | CoreError::Forbidden(_))) => {
            form_page(&visitor, frame, None, form, Some(form_error(error)))
        }
        Err(error) => Err(visitor.error(error)),
    }
}

/// `GET /{project}/-/pipeline_schedules/{schedule_id}/edit`
pub async fn edit_schedule_form(
    State(state): State<AppState>,
    visitor: PageActor,
    Extension(target): Extension<ProjectTarget>,
    Path(id): Path<String>,
) -> PageResult {
    let frame = ProjectFrame::load(&state, &visitor, target).await?;
    let id = id_of(&id, "pipeline schedule").map_err(|e| visitor.error(e))?;
    let schedule = state.core.ci().schedule(&visitor.actor, &frame.project, id).await.map_err(|e| visitor.error(e))?;
    let row = schedule.row;
    let inputs = gantry_core::ci::schedules::schedule_inputs(&row);
    let form = ScheduleForm {
        input: ScheduleInput {
            description: Some(row.description),
            ref_name: Some(row.ref_name),
            cron: Some(row.cron),
            active: Some(row.active),
            inputs: Some(inputs),
            cron_timezone: Some(row.cron_timezone),
        },
        variables_hidden: schedule.variables.is_none(),
        variables: schedule.variables.into_iter().flatten().map(|v| (v.key, v.value)).collect(),
    };
    form_page(&visitor, frame, Some(id), form, None)
}

/// `POST /{project}/-/pipeline_schedules/{schedule_id}/edit`: saves the schedule (its owner).
pub async fn update_schedule(
    State(state): State<AppState>,
    visitor: PageActor,
    Extension(target): Extension<ProjectTarget>,
    Path(id): Path<String>,
    CsrfForm(fields): CsrfForm<Vec<(String, String)>>,
) -> PageResult {
    let frame = ProjectFrame::load(&state, &visitor, target).await?;
    let id = id_of(&id, "pipeline schedule").map_err(|e| visitor.error(e))?;
    let mut form = read_form(&fields);
    typed_inputs(&state, &visitor, &frame, &mut form).await;
    let saved = match state.core.ci().update_schedule(&visitor.actor, &frame.project, id, &form.input).await {
        Ok(_) => sync_variables(&state, &visitor, &frame, id, &form.variables).await,
        Err(error) => Err(error),
    };
    match saved {
        Ok(()) => see_other(&format!("/{}/-/pipeline_schedules", frame.project.full_path)),
        Err(error @ (CoreError::Invalid { .. } | CoreError::Conflict(_) | CoreError::Forbidden(_))) => {
            form_page(&visitor, frame, Some(id), form, Some(form_error(error)))
        }
        Err(error) => Err(visitor.error(error)),
    }
}

/// `POST /{project}/-/pipeline_schedules/{schedule_id}/{action}`: `play`, `take_ownership` or
/// `delete`.
pub async fn change_schedule(
    State(state): State<AppState>,
    visitor: PageActor,
    Extension(target): Extension<ProjectTarget>,
    Path((id, action)): Path<(String, String)>,
    CsrfForm(_): CsrfForm<serde::de::IgnoredAny>,
) -> PageResult {
    let frame = ProjectFrame::load(&state, &visitor, target).await?;
    let id = id_of(&id, "pipeline schedule").map_err(|e| visitor.error(e))?;
    let (actor, project) = (&visitor.actor, &frame.project);
    let done = match action.as_str() {
        "play" => state.core.ci().play_schedule(actor, project, id).await.map(|p| Some(p.id)),
        "take_ownership" => state.core.ci().take_schedule_ownership(actor, project, id).await.map(|_| None),
        "delete" => state.core.ci().delete_schedule(actor, project, id).await.map(|()| None),
        _ => Err(CoreError::NotFound("action")),
    };
    match done {
        Ok(Some(pipeline)) => see_other(&format!("/{}/-/pipelines/{pipeline}", project.full_path)),
        Ok(None) => see_other(&format!("/{}/-/pipeline_schedules", project.full_path)),
        Err(error @ (CoreError::Invalid { .. } | CoreError::Conflict(_) | CoreError::Forbidden(_))) => {
            list_page(&state, &visitor, target, Some(form_error(error))).await
        }
        Err(error) => Err(visitor.error(error)),
    }
}
