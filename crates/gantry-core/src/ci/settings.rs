//! A project's CI settings (Maintainers): which file defines the pipelines, whether newer
//! pipelines cancel older interruptible ones on the same branch, and the job timeout.

use gantry_db::ci::pipelines;

use super::CiSettings;
use crate::policy::{ProjectAction, authorize_project};
use crate::{Actor, Core, CoreError, CoreResult, ProjectRow};

/// The shortest and longest job timeouts a project may set (seconds).
pub const TIMEOUT_RANGE: std::ops::RangeInclusive<i64> = 600..=30 * 24 * 3600;

impl Core {
    /// The project's CI settings.
    pub async fn ci_settings(&self, actor: &Actor, project: &ProjectRow) -> CoreResult<CiSettings> {
        let mut conn = self.db.conn().await?;
        authorize_project(&mut conn, actor, project, ProjectAction::ManageCi).await?;
        Ok(pipelines::ci_settings(&mut conn, project.id).await?)
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
        let settings = CiSettings { config_path: path.to_owned(), ..settings.clone() };
        Ok(pipelines::set_ci_settings(&mut conn, project.id, &settings).await?)
    }
}
