//! A project's CI settings (Maintainers): which file defines the pipelines, whether newer
//! pipelines cancel older interruptible ones on the same branch, the job timeout, and who may
//! give variables to pipelines.

use gantry_db::ci::pipelines;

use super::CiSettings;
use crate::policy::{
    PipelineVariablesRole, ProjectAccess, ProjectAction, authorize_pipeline_variables, authorize_project,
};
use crate::{Actor, CoreError, CoreResult, ProjectRow};

/// The shortest and longest job timeouts a project may set (seconds).
pub const TIMEOUT_RANGE: std::ops::RangeInclusive<i64> = 600..=30 * 24 * 3600;

impl super::Ci<'_> {
    /// The project's CI settings.
    pub async fn ci_settings(&self, access: &ProjectAccess) -> CoreResult<CiSettings> {
        access.require(ProjectAction::ManageCi)?;
        let mut conn = self.db.conn().await?;
        Ok(pipelines::ci_settings(&mut conn, access.project().id).await?)
    }

    /// Changes the project's CI settings.
    pub async fn update_ci_settings(
        &self,
        actor: &Actor,
        project: &ProjectRow,
        settings: &CiSettings,
    ) -> CoreResult<()> {
        let mut conn = self.db.conn().await?;
        authorize_project(&mut conn, actor, project, ProjectAction::ManageCi).await?;
        let path = settings.config_path.trim();
        if path.starts_with('/') || path.contains("..") || path.contains('\0') || path.len() > 255 {
            return Err(CoreError::invalid(
                "ci_config_path",
                "must be a path inside the repository, like .gitlab-ci.yml",
            ));
        }
        if !TIMEOUT_RANGE.contains(&settings.timeout) {
            return Err(CoreError::invalid("timeout", "must be between 10 minutes and 30 days"));
        }
        let role = checked_role(&settings.pipeline_variables_minimum_role)?;
        let settings = CiSettings {
            config_path: path.to_owned(),
            pipeline_variables_minimum_role: role.as_str().to_owned(),
            ..settings.clone()
        };
        pipelines::set_ci_settings(&mut conn, project.id, &settings).await?;
        tracing::info!(project.id = %project.id, pipeline_variables = role.as_str(), "CI settings changed");
        Ok(())
    }

    /// Who may give variables to the project's pipelines, for those who manage its CI.
    pub fn pipeline_variables_minimum_role(&self, access: &ProjectAccess) -> CoreResult<PipelineVariablesRole> {
        access.require(ProjectAction::ManageCi)?;
        Ok(PipelineVariablesRole::parse(&access.project().pipeline_variables_minimum_role).unwrap_or_default())
    }

    /// Changes who may give variables to the project's pipelines (Maintainers):
    /// `no_one_allowed`, `developer`, `maintainer` or `owner`.
    pub async fn set_pipeline_variables_minimum_role(
        &self,
        actor: &Actor,
        project: &ProjectRow,
        role: &str,
    ) -> CoreResult<PipelineVariablesRole> {
        let settings = self.ci_settings(&self.access_to_project(actor, project).await?).await?;
        let role = checked_role(role)?;
        self.update_ci_settings(
            actor,
            project,
            &CiSettings { pipeline_variables_minimum_role: role.as_str().to_owned(), ..settings },
        )
        .await?;
        Ok(role)
    }

    /// Whether the actor may give variables to the project's pipelines; the reason when not.
    pub async fn may_set_pipeline_variables(&self, actor: &Actor, project: &ProjectRow) -> CoreResult<()> {
        let mut conn = self.db.conn().await?;
        authorize_project(&mut conn, actor, project, ProjectAction::RunPipelines).await?;
        authorize_pipeline_variables(&mut conn, actor, project).await
    }
}

fn checked_role(role: &str) -> CoreResult<PipelineVariablesRole> {
    PipelineVariablesRole::parse(role.trim()).ok_or_else(|| {
        CoreError::invalid(
            "ci_pipeline_variables_minimum_override_role",
            "must be no_one_allowed, developer, maintainer or owner",
        )
    })
}
