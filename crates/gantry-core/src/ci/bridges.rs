//! Trigger jobs (bridges, in GitLab's words): a job with `trigger:` starts a downstream
//! pipeline instead of going to a runner — a child pipeline of the same project and commit,
//! whose CI file is the includes the job names (files of the commit, other projects' files,
//! templates, or a file among the artifacts of an earlier job: a dynamic child pipeline), or a
//! pipeline of another project's branch (multi-project).
//!
//! When the pipeline decides a trigger job may start, it becomes `pending` and background work
//! is queued in the same transaction ([`Ci::trigger_downstream`]); a crash in between loses
//! nothing, and running the work twice makes one pipeline (the database allows one downstream
//! pipeline per trigger job). The downstream pipeline runs as the pipeline's user, who must be
//! allowed to run pipelines where it runs; otherwise the trigger job fails with GitLab's
//! reason. Without `strategy: depend` the trigger job succeeds once the pipeline exists; with
//! it, the job follows the downstream pipeline's status ([`Ci::settle_bridge`], called when
//! that status changes).

use gantry_ci::keywords::Trigger;
use gantry_db::ci::{jobs, pipelines};
use gantry_types::{CiStatus, JobId, PipelineId};

use super::create::{Downstream, PipelineRequest, StoredJob};
use super::predefined::{PipelineContext, pipeline_variables};
use crate::policy::{ProjectAccess, ProjectAction, authorize_project, authorize_protected_ref};
use crate::{Actor, CoreError, CoreResult, ProjectRow};

/// How deep pipelines may start pipelines: a parent, its child and a grandchild (GitLab's
/// limit for child pipelines), or a chain of projects triggering each other.
const MAX_DEPTH: usize = 3;
/// A trigger job waiting this long is looked at again by the watchdog.
const BRIDGE_RECHECK_AFTER_MS: i64 = 5 * 60 * 1000;

/// Why a trigger job could not start its pipeline (GitLab's failure reasons).
struct Refused {
    reason: &'static str,
    message: String,
}

impl Refused {
    fn new(reason: &'static str, message: impl Into<String>) -> Refused {
        Refused { reason, message: message.into() }
    }
}

/// A stored trigger job's `trigger:`, or None when the job is not one.
pub(crate) fn trigger_of(definition: &str) -> Option<Trigger> {
    serde_json::from_str::<StoredJob>(definition).ok()?.definition.trigger
}

impl super::Ci<'_> {
    /// Starts the downstream pipeline of pending trigger job `bridge_id` (background work),
    /// then brings the job in line with it. Running it again does no harm: a pipeline made
    /// before (the work ran again after a crash) is only moved on.
    pub(crate) async fn trigger_downstream(&self, bridge_id: JobId) -> CoreResult<()> {
        let mut conn = self.db.conn().await?;
        let Some(bridge) = jobs::get_job(&mut conn, bridge_id).await? else { return Ok(()) };
        if !bridge.bridge || bridge.status != CiStatus::Pending {
            return Ok(());
        }
        if let Some(made) = pipelines::downstream_of(&mut conn, bridge.id).await? {
            drop(conn);
            self.process_pipeline(made.id).await?;
            return self.settle_bridge(bridge.id).await;
        }
        let definition = jobs::job_definition(&mut conn, bridge.id).await?.ok_or(CoreError::NotFound("job"))?;
        let stored: Option<StoredJob> = serde_json::from_str(&definition).ok();
        let Some((stored, trigger)) = stored.and_then(|s| s.definition.trigger.clone().map(|t| (s, t))) else {
            drop(conn);
            let refused = Refused::new("invalid_bridge_trigger", "the job's stored definition has no trigger");
            return self.refuse_bridge(&bridge, refused).await;
        };
        let pipeline =
            pipelines::get_pipeline(&mut conn, bridge.pipeline_id).await?.ok_or(CoreError::NotFound("pipeline"))?;
        let project = gantry_db::manage::projects::find_project_by_id(&mut conn, bridge.project_id)
            .await?
            .ok_or(CoreError::NotFound("project"))?;
        // Whoever played or retried the trigger job answers for it, else the pipeline's user.
        let user = match bridge.user_id.or(pipeline.user_id) {
            Some(id) => gantry_db::manage::users::find_user_by_id(&mut conn, id).await?.filter(|user| !user.blocked),
            None => None,
        };
        let depth = self.pipeline_depth(&mut conn, &pipeline).await?;
        drop(conn);
        if depth + 1 >= MAX_DEPTH {
            let refused = Refused::new(
                "reached_max_descendant_pipelines_depth",
                format!("pipelines may start pipelines at most {MAX_DEPTH} levels deep"),
            );
            return self.refuse_bridge(&bridge, refused).await;
        }
        let known = self.bridge_variables(&project, &pipeline, &stored, &trigger).await?;
        let made = match self.start_downstream(&bridge, &project, &pipeline, user, &trigger, known).await {
            Ok(Ok(made)) => made,
            Ok(Err(refused)) => return self.refuse_bridge(&bridge, refused).await,
            Err(error) => {
                // Another run of this work may have made it meanwhile (its lease ran out).
                let mut conn = self.db.conn().await?;
                if pipelines::downstream_of(&mut conn, bridge.id).await?.is_none() {
                    return Err(error);
                }
                drop(conn);
                return self.settle_bridge(bridge.id).await;
            }
        };
        // Canceled while its pipeline was being made: the pipeline goes too.
        let mut conn = self.db.conn().await?;
        let now = jobs::get_job(&mut conn, bridge.id).await?;
        drop(conn);
        // (It may have moved on already: making the pipeline settles it when it has a status.)
        if now.is_none_or(|job| job.status == CiStatus::Canceled) {
            return self.cancel_unfinished(made.id).await;
        }
        if let Some(errors) = &made.yaml_errors {
            let refused = Refused::new("downstream_pipeline_creation_failed", errors.clone());
            return self.refuse_bridge(&bridge, refused).await;
        }
        self.settle_bridge(bridge.id).await
    }

    /// Fails a pending trigger job that cannot start its pipeline, with GitLab's reason.
    async fn refuse_bridge(&self, bridge: &jobs::JobRow, refused: Refused) -> CoreResult<()> {
        tracing::info!(job = %bridge.id, reason = refused.reason, message = %refused.message, "trigger job refused");
        let mut conn = self.db.conn().await?;
        jobs::bridge_transition(&mut conn, bridge.id, &[CiStatus::Pending], CiStatus::Failed, Some(refused.reason))
            .await?;
        drop(conn);
        self.ci.job_changed(bridge.id);
        self.process_pipeline(bridge.pipeline_id).await
    }

    /// Looks again at trigger jobs that have waited long (the watchdog): a pending one gets its
    /// work queued again (one queued at a time), a running one follows its pipeline, or fails
    /// when that pipeline is gone. Nothing is lost to a crash between a downstream pipeline's
    /// change and its trigger job's, nor to work that failed for good.
    pub(crate) async fn recheck_bridges(&self) -> CoreResult<()> {
        let before = crate::now_millis() - BRIDGE_RECHECK_AFTER_MS;
        let mut conn = self.db.conn().await?;
        let waiting = jobs::waiting_bridges(&mut conn, before).await?;
        drop(conn);
        for bridge in waiting {
            if bridge.status == CiStatus::Pending {
                let mut conn = self.db.conn().await?;
                self.enqueue(&mut conn, &crate::background::Work::TriggerDownstream { job: bridge.id }).await?;
                drop(conn);
                self.wake_background();
                continue;
            }
            let mut conn = self.db.conn().await?;
            let gone = pipelines::downstream_of(&mut conn, bridge.id).await?.is_none();
            if gone
                && jobs::bridge_transition(
                    &mut conn,
                    bridge.id,
                    &[CiStatus::Running],
                    CiStatus::Failed,
                    Some("downstream_pipeline_deleted"),
                )
                .await?
            {
                drop(conn);
                self.ci.job_changed(bridge.id);
                self.process_pipeline(bridge.pipeline_id).await?;
                continue;
            }
            drop(conn);
            self.settle_bridge(bridge.id).await?;
        }
        Ok(())
    }

    /// Makes a waiting job pending (from one of `from`: a played manual job, a delayed one
    /// whose time came): a trigger job with the work that starts its pipeline queued in the
    /// same transaction, any other job for the runners. False when it was in none of `from`.
    pub(crate) async fn make_pending(&self, job: &jobs::JobRow, from: &[CiStatus]) -> CoreResult<bool> {
        let mut tx = self.db.begin().await?;
        if !jobs::transition(&mut tx, job.id, from, CiStatus::Pending).await? {
            return Ok(false);
        }
        if job.bridge {
            self.enqueue(&mut tx, &crate::background::Work::TriggerDownstream { job: job.id }).await?;
        }
        tx.commit().await.map_err(gantry_db::DbError::from)?;
        if job.bridge {
            self.wake_background();
        } else {
            self.ci.job_queued();
        }
        Ok(true)
    }

    /// How many pipelines started the ones above `pipeline` (0 for one nobody started).
    async fn pipeline_depth(&self, conn: &mut gantry_db::Conn, pipeline: &pipelines::PipelineRow) -> CoreResult<usize> {
        let mut depth = 0;
        let mut upstream = pipeline.upstream_job_id;
        while let Some(job) = upstream {
            depth += 1;
            if depth > MAX_DEPTH {
                break;
            }
            let Some(job) = jobs::get_job(conn, job).await? else { break };
            upstream = pipelines::get_pipeline(conn, job.pipeline_id).await?.and_then(|p| p.upstream_job_id);
        }
        Ok(depth)
    }

    /// What a trigger job knows of variables: the ones it forwards to the downstream pipeline
    /// (its own from the CI file, expanded with the pipeline's predefined variables, unless
    /// `forward:yaml_variables` is false; the pipeline's own when `forward:pipeline_variables`
    /// is true), and those `trigger:project` and `branch` are expanded with (its own, then the
    /// predefined ones).
    async fn bridge_variables(
        &self,
        project: &ProjectRow,
        pipeline: &pipelines::PipelineRow,
        stored: &StoredJob,
        trigger: &Trigger,
    ) -> CoreResult<BridgeVariables> {
        let mut conn = self.db.conn().await?;
        let protected = super::ref_is_protected(&mut conn, project.id, &pipeline.ref_name, pipeline.is_tag).await?;
        drop(conn);
        let server_url = &self.ci.settings.external_url;
        let predefined =
            pipeline_variables(&PipelineContext::of_stored(server_url, project, pipeline, protected, None, None));
        let mut own: Vec<(String, String)> = Vec::new();
        for variable in &stored.variables {
            let value = if variable.expand {
                let lookup = |name: &str| {
                    own.iter()
                        .rev()
                        .chain(predefined.iter().rev())
                        .find(|(key, _)| key == name)
                        .map(|(_, value)| value.clone())
                };
                gantry_ci::vars::expand(&variable.value, &lookup, false)
            } else {
                variable.value.clone()
            };
            set(&mut own, &variable.key, value);
        }
        let mut forwarded = if trigger.forward_yaml_variables { own.clone() } else { Vec::new() };
        if trigger.forward_pipeline_variables {
            for (key, value) in pipeline_own_variables(&pipeline.variables) {
                set(&mut forwarded, &key, value);
            }
        }
        let mut lookup = predefined;
        lookup.extend(own);
        Ok(BridgeVariables { forwarded, lookup })
    }

    /// Creates the downstream pipeline; Err(Refused) when the trigger cannot start one.
    async fn start_downstream(
        &self,
        bridge: &jobs::JobRow,
        project: &ProjectRow,
        pipeline: &pipelines::PipelineRow,
        user: Option<crate::UserRow>,
        trigger: &Trigger,
        known: BridgeVariables,
    ) -> CoreResult<Result<pipelines::PipelineRow, Refused>> {
        let actor = user.clone().map_or(Actor::Anonymous, Actor::User);
        let BridgeVariables { forwarded: variables, lookup } = known;
        let expand = |text: &str| {
            gantry_ci::vars::expand(
                text,
                &|name| lookup.iter().rev().find(|(key, _)| key == name).map(|(_, v)| v.clone()),
                false,
            )
        };
        let (target, request, downstream) = if let Some(include) = &trigger.include {
            let mut conn = self.db.conn().await?;
            let allowed = authorize_project(&mut conn, &actor, project, ProjectAction::RunPipelines).await;
            drop(conn);
            if allowed.is_err() {
                return Ok(Err(Refused::new(
                    "insufficient_bridge_permissions",
                    "the pipeline's user may not run pipelines in this project any more",
                )));
            }
            let request = PipelineRequest {
                ref_name: pipeline.ref_name.clone(),
                is_tag: pipeline.is_tag,
                sha: pipeline.sha.clone(),
                before_sha: pipeline.before_sha.clone(),
                source: "parent_pipeline",
                user,
                variables,
                schedule_id: None,
                inputs: None,
            };
            let downstream = Downstream {
                upstream_job: bridge.id,
                child: Some((include.clone(), format!("{}:trigger:include", bridge.name), pipeline.id)),
            };
            (project.clone(), request, downstream)
        } else {
            let path = expand(trigger.project.as_deref().unwrap_or_default());
            let path = path.trim().trim_matches('/');
            let mut conn = self.db.conn().await?;
            let found = gantry_db::manage::projects::find_project_by_full_path(&mut conn, path).await?;
            let Some(target) = found else {
                return Ok(Err(Refused::new(
                    "downstream_bridge_project_not_found",
                    format!("project `{path}` does not exist or the pipeline's user cannot see it"),
                )));
            };
            match authorize_project(&mut conn, &actor, &target, ProjectAction::RunPipelines).await {
                Ok(_) => {}
                Err(CoreError::NotFound(_)) => {
                    return Ok(Err(Refused::new(
                        "downstream_bridge_project_not_found",
                        format!("project `{path}` does not exist or the pipeline's user cannot see it"),
                    )));
                }
                Err(CoreError::Forbidden(_) | CoreError::Unauthorized) => {
                    return Ok(Err(Refused::new(
                        "insufficient_bridge_permissions",
                        format!("the pipeline's user may not run pipelines in `{path}`"),
                    )));
                }
                Err(error) => return Err(error),
            }
            if target.id == project.id {
                return Ok(Err(Refused::new(
                    "invalid_bridge_trigger",
                    "a multi-project trigger names another project (a child pipeline uses `trigger:include`)",
                )));
            }
            let branch = trigger.branch.as_deref().map(expand).unwrap_or_else(|| target.default_branch.clone());
            let branch = branch.trim().to_owned();
            if !is_branch_name(&branch) {
                return Ok(Err(Refused::new("invalid_bridge_trigger", format!("`{branch}` is not a branch name"))));
            }
            let protected = authorize_protected_ref(&mut conn, &actor, &target, &branch, false).await;
            drop(conn);
            if protected.is_err() {
                return Ok(Err(Refused::new(
                    "insufficient_bridge_permissions",
                    format!("the pipeline's user may not run pipelines on the protected branch `{branch}` of `{path}`"),
                )));
            }
            // The branch itself, never a revision expression (`main~1`) its name might spell.
            let Some(sha) = self.repos.ref_target(target.id, &format!("refs/heads/{branch}")).await? else {
                return Ok(Err(Refused::new("invalid_bridge_trigger", format!("`{path}` has no branch `{branch}`"))));
            };
            let request = PipelineRequest {
                ref_name: branch,
                is_tag: false,
                sha,
                before_sha: gantry_git::ZERO_OID.to_owned(),
                source: "pipeline",
                user,
                variables,
                schedule_id: None,
                inputs: None,
            };
            (target, request, Downstream { upstream_job: bridge.id, child: None })
        };
        // Variables go along as the downstream pipeline's own: the same rules as for a person
        // running it (the minimum role, no protected variable's name).
        match self.check_pipeline_variables(&actor, &target, &request.variables).await {
            Ok(()) => {}
            Err(error @ (CoreError::Forbidden(_) | CoreError::Invalid { .. } | CoreError::Unauthorized)) => {
                return Ok(Err(Refused::new("downstream_pipeline_creation_failed", error.to_string())));
            }
            Err(error) => return Err(error),
        }
        match self.create_downstream_pipeline(&target, request, downstream).await? {
            Ok(made) => Ok(Ok(made)),
            Err(reason) => Ok(Err(Refused::new("downstream_pipeline_creation_failed", reason.to_string()))),
        }
    }

    /// Brings trigger job `bridge_id` in line with its downstream pipeline: without `strategy:
    /// depend` it has succeeded; with it, it is running until the pipeline finishes, then has
    /// the pipeline's status. Then its own pipeline moves on.
    pub(crate) async fn settle_bridge(&self, bridge_id: JobId) -> CoreResult<()> {
        let mut conn = self.db.conn().await?;
        let Some(bridge) = jobs::get_job(&mut conn, bridge_id).await? else { return Ok(()) };
        if !bridge.bridge || !matches!(bridge.status, CiStatus::Pending | CiStatus::Running) {
            return Ok(());
        }
        let Some(downstream) = pipelines::downstream_of(&mut conn, bridge.id).await? else { return Ok(()) };
        let depend = jobs::job_definition(&mut conn, bridge.id)
            .await?
            .and_then(|definition| trigger_of(&definition))
            .is_some_and(|trigger| trigger.depend);
        let target = match downstream.status {
            _ if !depend => CiStatus::Success,
            status if status.is_finished() => status,
            _ => CiStatus::Running,
        };
        if target == bridge.status {
            return Ok(());
        }
        let reason = (target == CiStatus::Failed).then_some("downstream_pipeline_failed");
        let moved =
            jobs::bridge_transition(&mut conn, bridge.id, &[CiStatus::Pending, CiStatus::Running], target, reason)
                .await?;
        drop(conn);
        if moved {
            self.ci.job_changed(bridge.id);
            self.ci.pipeline_changed(bridge.pipeline_id);
            Box::pin(self.process_pipeline(bridge.pipeline_id)).await?;
        }
        Ok(())
    }

    /// Cancels what is left of the child pipelines of canceled trigger jobs (GitLab cancels a
    /// pipeline's children with it).
    pub(crate) async fn cancel_downstream(&self, bridges: &[JobId]) -> CoreResult<()> {
        for bridge in bridges {
            let mut conn = self.db.conn().await?;
            let Some(downstream) = pipelines::downstream_of(&mut conn, *bridge).await? else { continue };
            let bridge = jobs::get_job(&mut conn, *bridge).await?;
            drop(conn);
            // Only child pipelines: another project's pipeline is its people's to cancel.
            if bridge.is_some_and(|bridge| bridge.project_id == downstream.project_id) {
                Box::pin(self.cancel_unfinished(downstream.id)).await?;
            }
        }
        Ok(())
    }

    /// A pipeline's trigger jobs (every attempt), each with the pipeline it started and that
    /// pipeline's project, when the actor may see that project's pipelines.
    pub async fn bridges(&self, access: &ProjectAccess, pipeline: PipelineId) -> CoreResult<Vec<Bridge>> {
        access.require(ProjectAction::ReadPipelines)?;
        let mut conn = self.db.conn().await?;
        let pipeline = self.project_pipeline(&mut conn, access.project(), pipeline).await?;
        let triggers: Vec<jobs::JobRow> =
            jobs::pipeline_jobs(&mut conn, pipeline.id).await?.into_iter().filter(|j| j.bridge).collect();
        let mut started = pipelines::downstream_pipelines(&mut conn, pipeline.id).await?;
        let mut bridges = Vec::with_capacity(triggers.len());
        for job in triggers {
            let downstream = match started.iter().position(|p| p.upstream_job_id == Some(job.id)) {
                Some(index) => self.visible_pipeline(&mut conn, access, started.swap_remove(index)).await?,
                None => None,
            };
            bridges.push(Bridge { job, downstream });
        }
        Ok(bridges)
    }

    /// The trigger job that started `pipeline` (of the access's project), with its pipeline and
    /// project, when the actor may see them.
    pub async fn upstream_of(
        &self,
        access: &ProjectAccess,
        pipeline: &pipelines::PipelineRow,
    ) -> CoreResult<Option<(jobs::JobRow, pipelines::PipelineRow, ProjectRow)>> {
        access.require(ProjectAction::ReadPipelines)?;
        let Some(job) = pipeline.upstream_job_id else { return Ok(None) };
        let mut conn = self.db.conn().await?;
        let Some(job) = jobs::get_job(&mut conn, job).await? else { return Ok(None) };
        let Some(upstream) = pipelines::get_pipeline(&mut conn, job.pipeline_id).await? else { return Ok(None) };
        Ok(self
            .visible_pipeline(&mut conn, access, upstream)
            .await?
            .map(|(pipeline, project)| (job, pipeline, project)))
    }

    /// `pipeline` with its project, if the actor may see that project's pipelines (its own
    /// project's always: the access says so).
    async fn visible_pipeline(
        &self,
        conn: &mut gantry_db::Conn,
        access: &ProjectAccess,
        pipeline: pipelines::PipelineRow,
    ) -> CoreResult<Option<(pipelines::PipelineRow, ProjectRow)>> {
        if pipeline.project_id == access.project().id {
            return Ok(Some((pipeline, access.project().clone())));
        }
        let Some(project) = gantry_db::manage::projects::find_project_by_id(conn, pipeline.project_id).await? else {
            return Ok(None);
        };
        match authorize_project(conn, access.actor(), &project, ProjectAction::ReadPipelines).await {
            Ok(_) => Ok(Some((pipeline, project))),
            Err(CoreError::NotFound(_) | CoreError::Forbidden(_) | CoreError::Unauthorized) => Ok(None),
            Err(error) => Err(error),
        }
    }
}

/// A trigger job and the pipeline it started (with that pipeline's project), if it has and the
/// viewer may see it.
#[derive(Debug, Clone)]
pub struct Bridge {
    pub job: jobs::JobRow,
    pub downstream: Option<(pipelines::PipelineRow, ProjectRow)>,
}

/// A trigger job's variables: those its downstream pipeline is given, and those its
/// `trigger:project` and `branch` are expanded with.
struct BridgeVariables {
    forwarded: Vec<(String, String)>,
    lookup: Vec<(String, String)>,
}

/// A branch name as `git check-ref-format --branch` would take it, without the revision
/// syntax (`~`, `^`, `@{`, `..`) that would name another commit.
fn is_branch_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 255
        && !name.starts_with(['-', '/', '.'])
        && !name.ends_with(['/', '.'])
        && !name.ends_with(".lock")
        && !name.contains("..")
        && !name.contains("@{")
        && !name.contains("//")
        && name != "@"
        && !name.chars().any(|c| c.is_control() || c.is_whitespace() || "~^:?*[\\".contains(c))
}

/// Sets `key` in `variables`, replacing an earlier value.
fn set(variables: &mut Vec<(String, String)>, key: &str, value: String) {
    variables.retain(|(k, _)| k != key);
    variables.push((key.to_owned(), value));
}

/// A pipeline's own variables (stored as JSON `[{"key", "value"}]`).
pub(crate) fn pipeline_own_variables(stored: &str) -> Vec<(String, String)> {
    serde_json::from_str::<Vec<serde_json::Value>>(stored)
        .unwrap_or_default()
        .iter()
        .filter_map(|v| Some((v["key"].as_str()?.to_owned(), v["value"].as_str()?.to_owned())))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::is_branch_name;

    #[test]
    fn branch_names_never_spell_other_commits() {
        for good in ["main", "release/1.0", "feature-x_2", "v1.2.3"] {
            assert!(is_branch_name(good), "{good}");
        }
        for bad in ["", "main~1", "main^", "main@{0}", "@", "a..b", "-x", "/x", "x/", "x.lock", "a b", "a:b", "a*"] {
            assert!(!is_branch_name(bad), "{bad}");
        }
    }
}
