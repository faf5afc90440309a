//! CI/CD settings pages: a project's (general pipeline settings, variables, runners, trigger
//! tokens, caches; job token permissions in `ci_settings/job_token.rs`) here, a group's (variables) in `ci_settings/group.rs` and the instance's in
//! the admin area (variables, every runner) in `ci_settings/admin.rs`. The variable forms are
//! the same on the three; only where they post differs.

use askama::Template;
use axum::Extension;
use axum::extract::State;
use axum::http::StatusCode;
use gantry_core::CoreError;
use gantry_core::ci::runners::{RunnerRegistration, RunnerScope};
use gantry_core::ci::variables::{CiVariable, VariableInput, VariableScope};
use gantry_core::ci::{CiSettings, RunnerRow};
use gantry_core::policy::PipelineVariablesRole;
use serde::Deserialize;

use super::project_frame::ProjectFrame;
use super::{Chrome, PageResult, form_error, render, see_other};
use crate::AppState;
use crate::auth::{CsrfForm, PageActor};
use crate::namespace_dispatch::ProjectTarget;
use crate::time_format::ago;

pub mod admin;
pub mod group;
pub mod job_token;

/// The variables part of a page: the list, where the forms post, and a typed form to show
/// again after an error.
pub struct VariablesBlock {
    pub variables: Vec<CiVariable>,
    /// `/{project}/-/settings/ci_cd`, `/{group}/-/settings/ci_cd` or `/admin/ci_cd`.
    pub base: String,
    pub form: VariableForm,
    pub with_scopes: bool,
}

/// A runner line.
pub struct RunnerLine {
    pub runner: RunnerRow,
    pub contacted: String,
}

fn runner_lines(runners: Vec<RunnerRow>) -> Vec<RunnerLine> {
    let now = gantry_core::now_millis();
    runners
        .into_iter()
        .map(|runner| RunnerLine {
            contacted: runner.contacted_at.map_or_else(|| "never".to_owned(), |t| ago(t, now)),
            runner,
        })
        .collect()
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct VariableForm {
    #[serde(default)]
    pub key: String,
    #[serde(default)]
    pub value: String,
    #[serde(default)]
    pub variable_type: String,
    pub masked: Option<String>,
    /// Hide the value for good (the add form).
    pub hidden: Option<String>,
    /// Set by the edit form of a hidden variable: an empty value keeps the stored one.
    pub keeps_hidden_value: Option<String>,
    pub protected: Option<String>,
    pub raw: Option<String>,
    #[serde(default)]
    pub environment_scope: String,
    #[serde(default)]
    pub description: String,
    /// Set when editing: the variable being replaced.
    #[serde(default)]
    pub original_key: String,
    #[serde(default)]
    pub original_scope: String,
}

impl VariableForm {
    fn input(&self) -> VariableInput {
        VariableInput {
            key: self.key.trim().to_owned(),
            value: (self.keeps_hidden_value.is_none() || !self.value.is_empty()).then(|| self.value.clone()),
            hidden: self.hidden.is_some(),
            variable_type: Some(self.variable_type.clone()),
            masked: self.masked.is_some(),
            protected: self.protected.is_some(),
            raw: self.raw.is_some(),
            environment_scope: Some(self.environment_scope.clone()),
            description: Some(self.description.clone()),
        }
    }
}

#[derive(Debug, Deserialize)]
pub struct DeleteVariableForm {
    #[serde(default)]
    key: String,
    #[serde(default)]
    environment_scope: String,
}

/// Creates or replaces a variable from the form.
async fn save_variable(
    state: &AppState,
    visitor: &PageActor,
    scope: VariableScope<'_>,
    form: &VariableForm,
) -> Result<(), CoreError> {
    let input = form.input();
    if form.original_key.is_empty() {
        state.core.ci().create_ci_variable(&visitor.actor, scope, &input).await.map(|_| ())
    } else {
        let original_scope = Some(form.original_scope.as_str()).filter(|s| !s.is_empty());
        state
            .core
            .ci()
            .update_ci_variable(&visitor.actor, scope, &form.original_key, original_scope, &input)
            .await
            .map(|_| ())
    }
}

// ----- project -----

#[derive(Template)]
#[template(path = "projects/ci_settings.html")]
struct ProjectCiPage {
    chrome: Chrome,
    frame: ProjectFrame,
    tab: &'static str,
    settings: CiSettings,
    /// The choices of who may set pipeline variables.
    variable_roles: [PipelineVariablesRole; 4],
    caches: Vec<CacheLine>,
    block: VariablesBlock,
    runners: Vec<RunnerLine>,
    triggers: Vec<TriggerLine>,
    job_token: job_token::JobTokenBlock,
    new_secret: Option<NewSecret>,
    server_url: String,
    error: Option<String>,
}

/// A token shown once, just after it was made.
pub enum NewSecret {
    Runner(String),
    Trigger(String),
}

impl NewSecret {
    const RUNNER: &str = "runner_token";
    const TRIGGER: &str = "trigger_token";

    /// The token the form before this page made (after its redirect).
    fn shown(visitor: &PageActor) -> Option<NewSecret> {
        let flash = visitor.flash.as_ref()?;
        match (flash.secret_of(Self::RUNNER), flash.secret_of(Self::TRIGGER)) {
            (Some(runner), _) => Some(NewSecret::Runner(runner.value.clone())),
            (_, Some(trigger)) => Some(NewSecret::Trigger(trigger.value.clone())),
            _ => None,
        }
    }

    /// To the settings page, which shows the token once.
    fn redirect(self, state: &AppState, visitor: &PageActor, frame: &ProjectFrame) -> PageResult {
        let flash = match self {
            NewSecret::Runner(token) => crate::ui::flash::Flash::secret(Self::RUNNER, token, ""),
            NewSecret::Trigger(token) => crate::ui::flash::Flash::secret(Self::TRIGGER, token, ""),
        };
        let location = format!("/{}/-/settings/ci_cd", frame.project.full_path);
        crate::ui::flash::see_other_with(state, visitor, &location, &flash)
    }
}

/// One trigger token, for the settings page.
pub struct TriggerLine {
    id: gantry_types::TriggerId,
    description: String,
    token_start: String,
    owner: String,
    last_used: String,
}

/// One saved cache, for the settings page.
pub struct CacheLine {
    key: String,
    size: String,
    updated: String,
}

async fn project_page(
    state: &AppState,
    visitor: &PageActor,
    target: ProjectTarget,
    form: VariableForm,
    new_secret: Option<NewSecret>,
    error: Option<(StatusCode, String)>,
) -> PageResult {
    let frame = ProjectFrame::load(state, visitor, target).await?;
    let access = &frame.access;
    let settings = state.core.ci().ci_settings(access).await.map_err(|e| visitor.error(e))?;
    let variables = state.core.ci().list_project_ci_variables(access).await.map_err(|e| visitor.error(e))?;
    let runners = state.core.ci().project_runners(access).await.map_err(|e| visitor.error(e))?;
    let now = gantry_core::now_millis();
    let caches = state
        .core
        .ci()
        .project_caches(access)
        .await
        .map_err(|e| visitor.error(e))?
        .into_iter()
        .map(|cache| CacheLine {
            key: cache.key,
            size: crate::ui::human_size(cache.size),
            updated: crate::time_format::ago(cache.updated_at, now),
        })
        .collect();
    let triggers = state
        .core
        .ci()
        .list_triggers(access)
        .await
        .map_err(|e| visitor.error(e))?
        .into_iter()
        .map(|trigger| TriggerLine {
            id: trigger.id,
            description: trigger.description,
            token_start: trigger.token_start,
            owner: trigger.owner_username.unwrap_or_default(),
            last_used: trigger.last_used_at.map_or_else(|| "never".to_owned(), |at| crate::time_format::ago(at, now)),
        })
        .collect();
    let job_token = job_token::JobTokenBlock::load(state, access).await.map_err(|e| visitor.error(e))?;
    let (status, error) = error.map_or((StatusCode::OK, None), |(s, m)| (s, Some(m)));
    let page = ProjectCiPage {
        triggers,
        job_token,
        chrome: Chrome::new(visitor),
        tab: "settings",
        settings,
        variable_roles: PipelineVariablesRole::ALL,
        caches,
        block: VariablesBlock {
            variables,
            base: format!("/{}/-/settings/ci_cd", frame.project.full_path),
            form,
            with_scopes: true,
        },
        runners: runner_lines(runners),
        new_secret,
        server_url: state.config.external_url.clone(),
        error,
        frame,
    };
    render(status, &page)
}

/// `GET /{project}/-/settings/ci_cd`
pub async fn project_settings(
    State(state): State<AppState>,
    visitor: PageActor,
    Extension(target): Extension<ProjectTarget>,
) -> PageResult {
    project_page(&state, &visitor, target, VariableForm::default(), NewSecret::shown(&visitor), None).await
}

#[derive(Debug, Deserialize)]
pub struct GeneralForm {
    #[serde(default)]
    ci_config_path: String,
    auto_cancel: Option<String>,
    keep_latest_artifact: Option<String>,
    #[serde(default)]
    timeout_minutes: String,
    /// Absent: unchanged.
    ci_pipeline_variables_minimum_override_role: Option<String>,
}

/// `POST /{project}/-/settings/ci_cd/caches/clear`: "Clear runner caches".
pub async fn clear_caches(
    State(state): State<AppState>,
    visitor: PageActor,
    Extension(target): Extension<ProjectTarget>,
    CsrfForm(_): CsrfForm<serde::de::IgnoredAny>,
) -> PageResult {
    let frame = ProjectFrame::load(&state, &visitor, target).await?;
    state.core.ci().clear_caches(&visitor.actor, &frame.project).await.map_err(|e| visitor.error(e))?;
    see_other(&format!("/{}/-/settings/ci_cd#caches", frame.project.full_path))
}

/// `POST /{project}/-/settings/ci_cd`: the general pipeline settings.
pub async fn save_project_settings(
    State(state): State<AppState>,
    visitor: PageActor,
    Extension(target): Extension<ProjectTarget>,
    CsrfForm(form): CsrfForm<GeneralForm>,
) -> PageResult {
    let frame = ProjectFrame::load(&state, &visitor, target).await?;
    let Ok(minutes) = form.timeout_minutes.trim().parse::<i64>() else {
        let failure = (StatusCode::BAD_REQUEST, "The timeout must be a whole number of minutes.".to_owned());
        return project_page(&state, &visitor, target, VariableForm::default(), None, Some(failure)).await;
    };
    let role = match form.ci_pipeline_variables_minimum_override_role {
        Some(role) => role,
        None => {
            let current = state.core.ci().pipeline_variables_minimum_role(&frame.access);
            current.map_err(|e| visitor.error(e))?.as_str().to_owned()
        }
    };
    let settings = CiSettings {
        config_path: form.ci_config_path,
        auto_cancel: form.auto_cancel.is_some(),
        timeout: minutes.saturating_mul(60),
        keep_latest_artifact: form.keep_latest_artifact.is_some(),
        pipeline_variables_minimum_role: role,
    };
    match state.core.ci().update_ci_settings(&visitor.actor, &frame.project, &settings).await {
        Ok(()) => see_other(&format!("/{}/-/settings/ci_cd", frame.project.full_path)),
        Err(error @ CoreError::Invalid { .. }) => {
            project_page(&state, &visitor, target, VariableForm::default(), None, Some(form_error(error))).await
        }
        Err(error) => Err(visitor.error(error)),
    }
}

/// `POST /{project}/-/settings/ci_cd/variables`: adds or changes a variable.
pub async fn save_project_variable(
    State(state): State<AppState>,
    visitor: PageActor,
    Extension(target): Extension<ProjectTarget>,
    CsrfForm(form): CsrfForm<VariableForm>,
) -> PageResult {
    let frame = ProjectFrame::load(&state, &visitor, target).await?;
    match save_variable(&state, &visitor, VariableScope::Project(&frame.project), &form).await {
        Ok(()) => see_other(&format!("/{}/-/settings/ci_cd#variables", frame.project.full_path)),
        Err(error @ (CoreError::Invalid { .. } | CoreError::Conflict(_) | CoreError::NotFound(_))) => {
            project_page(&state, &visitor, target, form, None, Some(form_error(error))).await
        }
        Err(error) => Err(visitor.error(error)),
    }
}

/// `POST /{project}/-/settings/ci_cd/variables/delete`
pub async fn delete_project_variable(
    State(state): State<AppState>,
    visitor: PageActor,
    Extension(target): Extension<ProjectTarget>,
    CsrfForm(form): CsrfForm<DeleteVariableForm>,
) -> PageResult {
    let frame = ProjectFrame::load(&state, &visitor, target).await?;
    let scope = Some(form.environment_scope.as_str()).filter(|s| !s.is_empty());
    match state
        .core
        .ci()
        .delete_ci_variable(&visitor.actor, VariableScope::Project(&frame.project), &form.key, scope)
        .await
    {
        Ok(()) => see_other(&format!("/{}/-/settings/ci_cd#variables", frame.project.full_path)),
        Err(error @ (CoreError::NotFound(_) | CoreError::Conflict(_)))
            if !matches!(error, CoreError::NotFound("project")) =>
        {
            project_page(&state, &visitor, target, VariableForm::default(), None, Some(form_error(error))).await
        }
        Err(error) => Err(visitor.error(error)),
    }
}

#[derive(Debug, Deserialize)]
pub struct NewRunnerForm {
    #[serde(default)]
    description: String,
    #[serde(default)]
    tags: String,
    run_untagged: Option<String>,
}

/// `POST /{project}/-/settings/ci_cd/runners`: registers a project runner; the settings page shows
/// its token once.
pub async fn create_project_runner(
    State(state): State<AppState>,
    visitor: PageActor,
    Extension(target): Extension<ProjectTarget>,
    CsrfForm(form): CsrfForm<NewRunnerForm>,
) -> PageResult {
    let frame = ProjectFrame::load(&state, &visitor, target).await?;
    let registration = RunnerRegistration {
        scope: RunnerScope::Project(frame.project.id),
        description: form.description.trim().to_owned(),
        tags: form.tags.split(',').map(|t| t.trim().to_owned()).filter(|t| !t.is_empty()).collect(),
        run_untagged: form.run_untagged.is_some(),
        paused: false,
        max_concurrent: 0,
    };
    match state.core.ci().register_runner(&visitor.actor, registration).await {
        Ok((_, token)) => NewSecret::Runner(token).redirect(&state, &visitor, &frame),
        Err(error @ CoreError::Invalid { .. }) => {
            project_page(&state, &visitor, target, VariableForm::default(), None, Some(form_error(error))).await
        }
        Err(error) => Err(visitor.error(error)),
    }
}

#[derive(Debug, Deserialize)]
pub struct NewTriggerForm {
    #[serde(default)]
    description: String,
}

/// `POST /{project}/-/settings/ci_cd/triggers`: creates a trigger token; the settings page shows it once.
pub async fn create_trigger(
    State(state): State<AppState>,
    visitor: PageActor,
    Extension(target): Extension<ProjectTarget>,
    CsrfForm(form): CsrfForm<NewTriggerForm>,
) -> PageResult {
    let frame = ProjectFrame::load(&state, &visitor, target).await?;
    match state.core.ci().create_trigger(&visitor.actor, &frame.project, &form.description).await {
        Ok((_, token)) => NewSecret::Trigger(token).redirect(&state, &visitor, &frame),
        Err(error @ CoreError::Invalid { .. }) => {
            project_page(&state, &visitor, target, VariableForm::default(), None, Some(form_error(error))).await
        }
        Err(error) => Err(visitor.error(error)),
    }
}

#[derive(Debug, Deserialize)]
pub struct DeleteTriggerForm {
    trigger_id: String,
}

/// `POST /{project}/-/settings/ci_cd/triggers/delete`
pub async fn delete_trigger(
    State(state): State<AppState>,
    visitor: PageActor,
    Extension(target): Extension<ProjectTarget>,
    CsrfForm(form): CsrfForm<DeleteTriggerForm>,
) -> PageResult {
    let frame = ProjectFrame::load(&state, &visitor, target).await?;
    let id = super::pipelines::id_of(&form.trigger_id, "trigger").map_err(|e| visitor.error(e))?;
    state.core.ci().delete_trigger(&visitor.actor, &frame.project, id).await.map_err(|e| visitor.error(e))?;
    see_other(&format!("/{}/-/settings/ci_cd#triggers", frame.project.full_path))
}
