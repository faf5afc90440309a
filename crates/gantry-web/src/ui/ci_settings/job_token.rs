//! The "Job token permissions" section of a project's CI/CD settings: whether other projects'
//! job tokens are limited to the allowlist, the allowlist itself (projects and groups, added
//! by path, removed one by one). Its forms post here; the page is `ci_settings.rs`'s.

use axum::Extension;
use axum::extract::State;
use gantry_core::CoreError;
use gantry_core::policy::ProjectAccess;
use gantry_types::{NamespaceId, ProjectId};
use serde::Deserialize;

use super::{VariableForm, project_page};
use crate::AppState;
use crate::auth::{CsrfForm, PageActor};
use crate::namespace_dispatch::ProjectTarget;
use crate::ui::project_frame::ProjectFrame;
use crate::ui::{PageResult, form_error, see_other};

/// The most allowlist entries of each kind the page shows.
const SHOWN: i64 = 200;

/// One entry of the allowlist, for the page.
pub struct AllowlistLine {
    /// `project` or `group` (what the remove form sends).
    pub kind: &'static str,
    pub id: i64,
    pub full_path: String,
    pub name: String,
    /// The project whose settings these are (listed, never removable).
    pub is_self: bool,
}

/// The section's content.
pub struct JobTokenBlock {
    /// Only the project itself and the allowlist reach it (GitLab's "limit access to this
    /// project").
    pub limited: bool,
    pub entries: Vec<AllowlistLine>,
    /// Entries past the ones shown.
    pub more: i64,
}

impl JobTokenBlock {
    pub async fn load(state: &AppState, access: &ProjectAccess) -> Result<JobTokenBlock, CoreError> {
        let ci = state.core.ci();
        let limited = ci.job_token_scope_enabled(access).await?;
        let page = gantry_core::Page { offset: 0, limit: SHOWN };
        let (projects, project_total) = ci.job_token_allowlist(access, page).await?;
        let (groups, group_total) = ci.job_token_groups_allowlist(access, page).await?;
        let mut entries: Vec<AllowlistLine> = groups
            .into_iter()
            .map(|group| AllowlistLine {
                kind: "group",
                id: group.id.0,
                full_path: group.full_path,
                name: group.name,
                is_self: false,
            })
            .collect();
        let shown = i64::try_from(projects.len() + entries.len()).unwrap_or(i64::MAX);
        entries.extend(projects.into_iter().map(|(project, _)| AllowlistLine {
            kind: "project",
            id: project.id.0,
            is_self: project.id == access.project().id,
            full_path: project.full_path,
            name: project.name,
        }));
        entries.sort_by_key(|entry| (!entry.is_self, entry.full_path.to_lowercase()));
        Ok(JobTokenBlock { limited, entries, more: (project_total + group_total - shown).max(0) })
    }
}

#[derive(Debug, Deserialize)]
pub struct ScopeForm {
    /// `1`: limit to the allowlist; `0`: every project's jobs.
    #[serde(default)]
    inbound_enabled: String,
}

/// `POST /{project}/-/settings/ci_cd/job_token_scope`: limits job tokens to the allowlist, or
/// stops limiting them.
pub async fn save_scope(
    State(state): State<AppState>,
    visitor: PageActor,
    Extension(target): Extension<ProjectTarget>,
    CsrfForm(form): CsrfForm<ScopeForm>,
) -> PageResult {
    let frame = ProjectFrame::load(&state, &visitor, target).await?;
    let enabled = match form.inbound_enabled.as_str() {
        "1" => true,
        "0" => false,
        _ => {
            let error = CoreError::invalid_input("inbound_enabled", "must be 1 (limit to the allowlist) or 0");
            return project_page(&state, &visitor, target, VariableForm::default(), None, Some(form_error(error)))
                .await;
        }
    };
    state.core.ci().set_job_token_scope_enabled(&frame.access, enabled).await.map_err(|e| visitor.error(e))?;
    see_other(&format!("/{}/-/settings/ci_cd#job-token", frame.project.full_path))
}

#[derive(Debug, Deserialize)]
pub struct AddForm {
    #[serde(default)]
    path: String,
}

/// `POST /{project}/-/settings/ci_cd/job_token_scope/allowlist`: adds the project or group at
/// `path`.
pub async fn add_to_allowlist(
    State(state): State<AppState>,
    visitor: PageActor,
    Extension(target): Extension<ProjectTarget>,
    CsrfForm(form): CsrfForm<AddForm>,
) -> PageResult {
    let frame = ProjectFrame::load(&state, &visitor, target).await?;
    match state.core.ci().add_to_job_token_allowlist_by_path(&frame.access, &form.path).await {
        Ok(_) => see_other(&format!("/{}/-/settings/ci_cd#job-token", frame.project.full_path)),
        Err(error @ (CoreError::Invalid { .. } | CoreError::Refused(_))) => {
            project_page(&state, &visitor, target, VariableForm::default(), None, Some(form_error(error))).await
        }
        Err(error) => Err(visitor.error(error)),
    }
}

#[derive(Debug, Deserialize)]
pub struct RemoveForm {
    #[serde(default)]
    kind: String,
    #[serde(default)]
    id: String,
}

/// `POST /{project}/-/settings/ci_cd/job_token_scope/allowlist/remove`: removes one project or
/// group (`kind`, `id`).
pub async fn remove_from_allowlist(
    State(state): State<AppState>,
    visitor: PageActor,
    Extension(target): Extension<ProjectTarget>,
    CsrfForm(form): CsrfForm<RemoveForm>,
) -> PageResult {
    let frame = ProjectFrame::load(&state, &visitor, target).await?;
    let id = crate::ui::pipelines::id_of(&form.id, "allowlist entry").map_err(|e| visitor.error(e))?;
    let ci = state.core.ci();
    let removed = match form.kind.as_str() {
        "project" => ci.remove_project_from_job_token_allowlist(&frame.access, ProjectId(id)).await,
        "group" => ci.remove_group_from_job_token_allowlist(&frame.access, NamespaceId(id)).await,
        _ => Err(CoreError::invalid_input("kind", "must be project or group")),
    };
    match removed {
        Ok(()) => see_other(&format!("/{}/-/settings/ci_cd#job-token", frame.project.full_path)),
        Err(error @ (CoreError::Invalid { .. } | CoreError::Refused(_))) => {
            project_page(&state, &visitor, target, VariableForm::default(), None, Some(form_error(error))).await
        }
        Err(error) => Err(visitor.error(error)),
    }
}
