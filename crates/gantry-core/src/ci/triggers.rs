//! Trigger tokens: pipelines that other systems start with a project's token
//! (`POST /projects/:id/trigger/pipeline`), run with the rights of the token's owner; a blocked
//! or deleted owner's tokens answer as a wrong token does.

use gantry_db::ci::schedules::{self, TriggerRow};
use gantry_db::manage::users;
use gantry_types::TriggerId;

use super::PipelineRow;
use crate::policy::{ProjectAccess, ProjectAction, authorize_project};
use crate::secret::{digest, random_hex};
use crate::{Actor, CoreError, CoreResult, ProjectRow};

/// The prefix of trigger tokens (GitLab's `glptt-`).
pub const TRIGGER_TOKEN_PREFIX: &str = "glptt-";

impl super::Ci<'_> {
    /// A project's trigger tokens (Maintainers).
    pub async fn list_triggers(&self, access: &ProjectAccess) -> CoreResult<Vec<TriggerRow>> {
        access.require(ProjectAction::ManageCi)?;
        let mut conn = self.db.conn().await?;
        Ok(schedules::project_triggers(&mut conn, access.project().id).await?)
    }

    async fn project_trigger(
        &self,
        conn: &mut gantry_db::Conn,
        project: &ProjectRow,
        id: TriggerId,
    ) -> CoreResult<TriggerRow> {
        schedules::get_trigger(conn, id)
            .await?
            .filter(|trigger| trigger.project_id == project.id)
            .ok_or(CoreError::NotFound("trigger"))
    }

    /// Creates a trigger token owned by the actor (Maintainers); the token is returned once.
    pub async fn create_trigger(
        &self,
        actor: &Actor,
        project: &ProjectRow,
        description: &str,
    ) -> CoreResult<(TriggerRow, String)> {
        let mut conn = self.db.conn().await?;
        authorize_project(&mut conn, actor, project, ProjectAction::ManageCi).await?;
        let Some(user) = actor.user() else { return Err(CoreError::Unauthorized) };
        let description = description.trim();
        if description.len() > 255 {
            return Err(CoreError::invalid("description", "is at most 255 characters"));
        }
        let token = format!("{TRIGGER_TOKEN_PREFIX}{}", random_hex(20));
        let start: String = token.chars().take(TRIGGER_TOKEN_PREFIX.len() + 4).collect();
        let id =
            schedules::create_trigger(&mut conn, project.id, user.id, description, &digest(&token), &start).await?;
        Ok((self.project_trigger(&mut conn, project, id).await?, token))
    }

    /// Changes a trigger's description (Maintainers).
    pub async fn update_trigger(
        &self,
        actor: &Actor,
        project: &ProjectRow,
        id: TriggerId,
        description: &str,
    ) -> CoreResult<TriggerRow> {
        let mut conn = self.db.conn().await?;
        authorize_project(&mut conn, actor, project, ProjectAction::ManageCi).await?;
        let trigger = self.project_trigger(&mut conn, project, id).await?;
        schedules::update_trigger(&mut conn, trigger.id, description.trim()).await?;
        self.project_trigger(&mut conn, project, id).await
    }

    /// Deletes a trigger token (Maintainers).
    pub async fn delete_trigger(&self, actor: &Actor, project: &ProjectRow, id: TriggerId) -> CoreResult<()> {
        let mut conn = self.db.conn().await?;
        authorize_project(&mut conn, actor, project, ProjectAction::ManageCi).await?;
        let trigger = self.project_trigger(&mut conn, project, id).await?;
        Ok(schedules::delete_trigger(&mut conn, trigger.id).await?)
    }

    /// `POST /projects/:id/trigger/pipeline`: a pipeline started with a trigger token of
    /// `project`, run with its owner's rights (source `trigger`).
    pub async fn trigger_pipeline(
        &self,
        project: &crate::manage::groups::Lookup,
        token: &str,
        ref_name: &str,
        variables: Vec<(String, String)>,
    ) -> CoreResult<(ProjectRow, PipelineRow)> {
        // The same answer whether the project or the token is wrong, or its owner is gone or
        // blocked (checked now, not only when they were blocked): a token tells nothing.
        let refused = || CoreError::NotFound("project or trigger token");
        if !token.starts_with(TRIGGER_TOKEN_PREFIX) {
            return Err(refused());
        }
        let mut conn = self.db.conn().await?;
        let project = crate::manage::projects::project_by_lookup(&mut conn, project).await?.ok_or_else(refused)?;
        let trigger = schedules::find_trigger_by_digest(&mut conn, &digest(token))
            .await?
            .filter(|trigger| trigger.project_id == project.id)
            .ok_or_else(refused)?;
        let owner = match trigger.owner_id {
            Some(id) => users::find_user_by_id(&mut conn, id).await?,
            None => None,
        };
        let Some(owner) = owner.filter(|owner| !owner.blocked) else {
            tracing::info!(trigger = %trigger.id, "a trigger token of a blocked or deleted user was refused");
            return Err(refused());
        };
        schedules::mark_trigger_used(&mut conn, trigger.id).await?;
        drop(conn);
        let pipeline = self.run_pipeline(&Actor::User(owner), &project, ref_name, variables, "trigger").await?;
        Ok((project, pipeline))
    }
}
