//! Runners: registration (instance runners by administrators, project runners by the
//! project's Maintainers, group runners by the group's Owners), their tokens (shown once,
//! stored as SHA-256), settings, and the built-in runner of `gantry serve`.

use gantry_db::ci::runners::{self, NewRunner, RunnerSettings};
use gantry_db::manage::namespaces;
use gantry_types::{NamespaceId, ProjectId, RunnerId, RunnerType};

use super::{RUNNER_TOKEN_PREFIX, RunnerRow};
use crate::policy::{GroupAction, ProjectAccess, ProjectAction, authorize_group, authorize_project};
use crate::secret::{digest, random_hex};
use crate::{Actor, CoreError, CoreResult, ProjectRow};

/// What a new runner is for.
#[derive(Debug, Clone)]
pub enum RunnerScope {
    Instance,
    Group(NamespaceId),
    Project(ProjectId),
}

/// A runner to register.
#[derive(Debug, Clone)]
pub struct RunnerRegistration {
    pub scope: RunnerScope,
    pub description: String,
    pub tags: Vec<String>,
    pub run_untagged: bool,
    pub paused: bool,
    pub max_concurrent: i64,
}

/// The settings people change on a runner.
#[derive(Debug, Clone)]
pub struct RunnerChange {
    pub description: Option<String>,
    pub tags: Option<Vec<String>>,
    pub run_untagged: Option<bool>,
    pub paused: Option<bool>,
    pub max_concurrent: Option<i64>,
}

fn check_tags(tags: &[String]) -> CoreResult<()> {
    for tag in tags {
        let tag = tag.trim();
        if tag.is_empty() || tag.len() > 255 || tag.contains(',') || tag.chars().any(char::is_control) {
            return Err(CoreError::invalid("tag_list", format!("'{tag}' is not a valid tag")));
        }
    }
    if tags.len() > 50 {
        return Err(CoreError::invalid("tag_list", "has more than 50 tags"));
    }
    Ok(())
}

/// How this server's built-in runner runs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum BuiltinRunnerState {
    /// The server was started without it.
    #[default]
    Off,
    /// It could not start: why, and what to do about it.
    NotStarted(String),
    /// It runs its jobs in a sandbox, described in a sentence.
    Sandboxed(String),
    /// It runs its jobs in containers (the Docker executor).
    InContainers,
    /// It runs shell jobs without a sandbox, as the admin chose.
    Unsandboxed,
}

impl super::Ci<'_> {
    /// Registers a runner after checking the actor may; returns it with its token (shown once).
    pub async fn register_runner(
        &self,
        actor: &Actor,
        registration: RunnerRegistration,
    ) -> CoreResult<(RunnerRow, String)> {
        let mut conn = self.db.conn().await?;
        match registration.scope {
            RunnerScope::Instance => crate::policy::authorize_instance_runner(actor)?,
            RunnerScope::Group(group) => {
                let group = namespaces::find_namespace_by_id(&mut conn, group)
                    .await?
                    .filter(|n| n.kind == crate::NamespaceKind::Group)
                    .ok_or(CoreError::NotFound("group"))?;
                authorize_group(&mut conn, actor, &group, GroupAction::ManageRunners).await?;
            }
            RunnerScope::Project(project) => {
                let project = gantry_db::manage::projects::find_project_by_id(&mut conn, project)
                    .await?
                    .ok_or(CoreError::NotFound("project"))?;
                authorize_project(&mut conn, actor, &project, ProjectAction::ManageCi).await?;
            }
        }
        drop(conn);
        self.create_runner(registration, actor.user().map(|u| u.id), false).await
    }

    /// Registers a runner without a permission check (`gantry admin create-runner`).
    pub async fn create_runner_as_operator(&self, registration: RunnerRegistration) -> CoreResult<(RunnerRow, String)> {
        self.create_runner(registration, None, false).await
    }

    /// A project by full path without a permission check (`gantry admin create-runner`).
    pub async fn find_project_as_operator(&self, full_path: &str) -> CoreResult<Option<ProjectRow>> {
        let mut conn = self.db.conn().await?;
        Ok(gantry_db::manage::projects::find_project_by_full_path(&mut conn, full_path).await?)
    }

    async fn create_runner(
        &self,
        registration: RunnerRegistration,
        creator: Option<gantry_types::UserId>,
        builtin: bool,
    ) -> CoreResult<(RunnerRow, String)> {
        check_tags(&registration.tags)?;
        if registration.description.len() > 1024 {
            return Err(CoreError::invalid("description", "is longer than 1024 characters"));
        }
        if registration.max_concurrent < 0 {
            return Err(CoreError::invalid("maximum_concurrent_jobs", "cannot be negative"));
        }
        let (runner_type, group_id, project_id) = match registration.scope {
            RunnerScope::Instance => (RunnerType::Instance, None, None),
            RunnerScope::Group(group) => (RunnerType::Group, Some(group), None),
            RunnerScope::Project(project) => (RunnerType::Project, None, Some(project)),
        };
        let token = format!("{RUNNER_TOKEN_PREFIX}{}", random_hex(20));
        let mut conn = self.db.conn().await?;
        let id = runners::insert_runner(
            &mut conn,
            &NewRunner {
                runner_type,
                group_id,
                project_id,
                description: &registration.description,
                token_digest: &digest(&token),
                tags: &registration.tags,
                run_untagged: registration.run_untagged,
                paused: registration.paused,
                max_concurrent: registration.max_concurrent,
                builtin,
                creator,
            },
        )
        .await?;
        let runner = runners::get_runner(&mut conn, id).await?.ok_or(CoreError::NotFound("runner"))?;
        tracing::info!(runner = %id, %runner_type, "runner registered");
        Ok((runner, token))
    }

    /// The built-in runner's token: the runner is created on first start and gets a fresh
    /// token on every start (the old one stops working).
    pub async fn builtin_runner_token(&self, concurrent: i64) -> CoreResult<String> {
        let mut conn = self.db.conn().await?;
        if let Some(runner) = runners::builtin_runner(&mut conn).await? {
            let token = format!("{RUNNER_TOKEN_PREFIX}{}", random_hex(20));
            runners::set_runner_token(&mut conn, runner.id, &digest(&token)).await?;
            return Ok(token);
        }
        drop(conn);
        let registration = RunnerRegistration {
            scope: RunnerScope::Instance,
            description: "built-in runner".to_owned(),
            tags: Vec::new(),
            run_untagged: true,
            paused: false,
            max_concurrent: concurrent,
        };
        Ok(self.create_runner(registration, None, true).await?.1)
    }

    /// Records how the built-in runner runs (its starter calls this once it knows).
    pub fn set_builtin_runner_state(&self, state: BuiltinRunnerState) {
        if let Ok(mut current) = self.ci.builtin_runner.lock() {
            *current = state;
        }
    }

    /// How the built-in runner runs, for the admin area (administrators only).
    pub fn builtin_runner_state(&self, actor: &Actor) -> CoreResult<BuiltinRunnerState> {
        crate::policy::require_admin(actor)?;
        Ok(self.ci.builtin_runner.lock().map(|state| state.clone()).unwrap_or_default())
    }

    /// The runner holding `token`; `Unauthorized` for an unknown token.
    pub async fn authenticate_runner(&self, token: &str) -> CoreResult<RunnerRow> {
        if !token.starts_with(RUNNER_TOKEN_PREFIX) {
            return Err(CoreError::Unauthorized);
        }
        let mut conn = self.db.conn().await?;
        runners::runner_by_token_digest(&mut conn, &digest(token)).await?.ok_or(CoreError::Unauthorized)
    }

    /// Whether the actor may see and change this runner.
    async fn may_manage_runner(&self, actor: &Actor, runner: &RunnerRow) -> CoreResult<bool> {
        if crate::policy::administers(actor) {
            return Ok(true);
        }
        let Some(_) = actor.user() else { return Ok(false) };
        let mut conn = self.db.conn().await?;
        Ok(match (runner.runner_type, runner.project_id, runner.group_id) {
            (RunnerType::Project, Some(project), _) => {
                match gantry_db::manage::projects::find_project_by_id(&mut conn, project).await? {
                    Some(project) => {
                        authorize_project(&mut conn, actor, &project, ProjectAction::ManageCi).await.is_ok()
                    }
                    None => false,
                }
            }
            (RunnerType::Group, _, Some(group)) => match namespaces::find_namespace_by_id(&mut conn, group).await? {
                Some(group) => authorize_group(&mut conn, actor, &group, GroupAction::ManageRunners).await.is_ok(),
                None => false,
            },
            _ => false,
        })
    }

    /// The runners the actor manages (administrators: all of them), in one query: project
    /// runners of projects where they may manage CI, group runners of groups where they may
    /// manage runners.
    pub async fn list_runners(&self, actor: &Actor) -> CoreResult<Vec<RunnerRow>> {
        let user = actor.require_user()?;
        let mut conn = self.db.conn().await?;
        if crate::policy::administers(actor) {
            return Ok(runners::list_runners(&mut conn).await?);
        }
        let project_level = ProjectAction::ManageCi.required_level().as_i64();
        let group_level = GroupAction::ManageRunners.required_level().as_i64();
        Ok(runners::runners_managed_by(&mut conn, user.id, project_level, group_level).await?)
    }

    /// The runners that may run the project's jobs (Maintainers).
    pub async fn project_runners(&self, access: &ProjectAccess) -> CoreResult<Vec<RunnerRow>> {
        access.require(ProjectAction::ManageCi)?;
        let project = access.project();
        let mut conn = self.db.conn().await?;
        let ancestors: Vec<NamespaceId> =
            namespaces::namespace_with_ancestors(&mut conn, project.namespace_id).await?.iter().map(|n| n.id).collect();
        let all = runners::list_runners(&mut conn).await?;
        Ok(all
            .into_iter()
            .filter(|r| match r.runner_type {
                RunnerType::Instance => true,
                RunnerType::Project => r.project_id == Some(project.id),
                RunnerType::Group => r.group_id.is_some_and(|g| ancestors.contains(&g)),
            })
            .collect())
    }

    /// One runner the actor manages.
    pub async fn runner(&self, actor: &Actor, id: RunnerId) -> CoreResult<RunnerRow> {
        actor.require_user()?;
        let mut conn = self.db.conn().await?;
        let runner = runners::get_runner(&mut conn, id).await?.ok_or(CoreError::NotFound("runner"))?;
        drop(conn);
        if !self.may_manage_runner(actor, &runner).await? {
            return Err(CoreError::NotFound("runner"));
        }
        Ok(runner)
    }

    /// Changes a runner's settings.
    pub async fn update_runner(&self, actor: &Actor, id: RunnerId, change: RunnerChange) -> CoreResult<RunnerRow> {
        let runner = self.runner(actor, id).await?;
        let tags = change.tags.unwrap_or(runner.tags);
        check_tags(&tags)?;
        let description = change.description.unwrap_or(runner.description);
        if description.len() > 1024 {
            return Err(CoreError::invalid("description", "is longer than 1024 characters"));
        }
        let max_concurrent = change.max_concurrent.unwrap_or(runner.max_concurrent);
        if max_concurrent < 0 {
            return Err(CoreError::invalid("maximum_concurrent_jobs", "cannot be negative"));
        }
        let mut conn = self.db.conn().await?;
        runners::update_runner(
            &mut conn,
            id,
            &RunnerSettings {
                description: &description,
                tags: &tags,
                run_untagged: change.run_untagged.unwrap_or(runner.run_untagged),
                paused: change.paused.unwrap_or(runner.paused),
                max_concurrent,
            },
        )
        .await?;
        let runner = runners::get_runner(&mut conn, id).await?.ok_or(CoreError::NotFound("runner"))?;
        drop(conn);
        self.ci.job_queued();
        Ok(runner)
    }

    /// Removes a runner; its token stops working at once.
    pub async fn delete_runner(&self, actor: &Actor, id: RunnerId) -> CoreResult<()> {
        self.runner(actor, id).await?;
        let mut conn = self.db.conn().await?;
        runners::delete_runner(&mut conn, id).await?;
        Ok(())
    }

    /// A runner removes itself (`gitlab-runner unregister`), proving who it is with its token.
    pub async fn unregister_runner(&self, token: &str) -> CoreResult<()> {
        let runner = self.authenticate_runner(token).await?;
        let mut conn = self.db.conn().await?;
        runners::delete_runner(&mut conn, runner.id).await?;
        tracing::info!(runner = %runner.id, "runner unregistered itself");
        Ok(())
    }
}
