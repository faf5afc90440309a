//! A project's CI/CD job token scope, which its Maintainers manage (GitLab's "Job token
//! permissions"): whether other projects' job tokens are limited ("limit access to this
//! project", on by default), and the allowlist of the projects and groups whose jobs may reach
//! it while limited. The decision a job token meets is the policy's
//! (`policy::authorize_job_token`); this module only keeps its settings.
//!
//! As in GitLab's API, the project whose allowlist it is is the source and the project or group
//! it names the target. The project itself always counts as in its own allowlist and is listed
//! first; it can be neither added nor removed.

use gantry_db::ci::job_token_scope as scope;
use gantry_db::manage::namespaces::NamespaceKey;
use gantry_db::manage::projects::{ProjectKey, find_project_with_namespace_by_id};
use gantry_types::{NamespaceId, ProjectId};

use crate::policy::{GroupAccess, ProjectAccess, ProjectAction};
use crate::{CoreError, CoreResult, NamespaceRow, Page, ProjectRow};

/// An entry of an allowlist, as the settings page adds one by its path.
#[derive(Debug, Clone)]
pub enum AllowlistEntry {
    Project(ProjectRow),
    Group(NamespaceRow),
}

impl super::Ci<'_> {
    /// Whether the project limits which jobs' tokens reach it (GitLab's `inbound_enabled`).
    pub async fn job_token_scope_enabled(&self, access: &ProjectAccess) -> CoreResult<bool> {
        access.require(ProjectAction::ManageCi)?;
        let mut conn = self.db.conn().await?;
        Ok(scope::inbound_scope_enabled(&mut conn, access.project().id).await?)
    }

    /// Turns the limit on (only the project itself and its allowlist reach it) or off (every
    /// project's jobs do, within their users' rights).
    pub async fn set_job_token_scope_enabled(&self, access: &ProjectAccess, enabled: bool) -> CoreResult<()> {
        access.require(ProjectAction::ManageCi)?;
        let mut conn = self.db.conn().await?;
        scope::set_inbound_scope_enabled(&mut conn, access.project().id, enabled).await?;
        tracing::info!(project.id = %access.project().id, enabled, "job token scope limit changed");
        Ok(())
    }

    /// A page of the projects whose jobs may reach this one, the project itself first, with
    /// their namespaces, and how many there are.
    pub async fn job_token_allowlist(
        &self,
        access: &ProjectAccess,
        page: Page,
    ) -> CoreResult<(Vec<(ProjectRow, NamespaceRow)>, i64)> {
        access.require(ProjectAction::ManageCi)?;
        let source = access.project().id;
        let mut conn = self.db.conn().await?;
        // The project itself takes the first place of the first page.
        let links = match page.offset {
            0 => Page { offset: 0, limit: (page.limit - 1).max(0) },
            offset => Page { offset: offset - 1, limit: page.limit },
        };
        let (targets, total) = scope::list_project_links(&mut conn, source, links).await?;
        let mut ids = Vec::with_capacity(targets.len() + 1);
        if page.offset == 0 && page.limit > 0 {
            ids.push(source);
        }
        ids.extend(targets);
        let mut projects = Vec::with_capacity(ids.len());
        for id in ids {
            if let Some(found) = find_project_with_namespace_by_id(&mut conn, id).await? {
                projects.push(found);
            }
        }
        Ok((projects, total + 1))
    }

    /// Lets the jobs of project `target` reach this project; the actor must be able to see
    /// `target` (one they may not see is not found, whether or not it exists).
    pub async fn add_project_to_job_token_allowlist(
        &self,
        access: &ProjectAccess,
        target: ProjectId,
    ) -> CoreResult<ProjectRow> {
        access.require(ProjectAction::ManageCi)?;
        let mut conn = self.db.conn().await?;
        let target = ProjectAccess::load(&mut conn, access.actor(), ProjectKey::Id(target))
            .await
            .map_err(not_found_as("target project"))?
            .into_project();
        self.insert_project_link(&mut conn, access, &target).await?;
        Ok(target)
    }

    async fn insert_project_link(
        &self,
        conn: &mut gantry_db::Conn,
        access: &ProjectAccess,
        target: &ProjectRow,
    ) -> CoreResult<()> {
        let source = access.project();
        if target.id == source.id {
            return Err(CoreError::Refused("Target project can't be the same as the source project".to_owned()));
        }
        let added_by = access.actor().user().map(|user| user.id);
        match scope::insert_project_link(conn, source.id, target.id, added_by).await {
            Err(gantry_db::DbError::Conflict(_)) => {
                Err(CoreError::Refused("Target project is already in the job token scope".to_owned()))
            }
            Err(other) => Err(other.into()),
            Ok(()) => {
                tracing::info!(project.id = %source.id, target.id = %target.id, "project added to the job token allowlist");
                Ok(())
            }
        }
    }

    /// Stops letting the jobs of project `target` in. A project the actor no longer sees can
    /// still be removed; one neither listed nor seen is not found.
    pub async fn remove_project_from_job_token_allowlist(
        &self,
        access: &ProjectAccess,
        target: ProjectId,
    ) -> CoreResult<()> {
        access.require(ProjectAction::ManageCi)?;
        let source = access.project().id;
        if target == source {
            return Err(CoreError::Refused("Source project cannot be removed from the job token scope".to_owned()));
        }
        let mut conn = self.db.conn().await?;
        if scope::delete_project_link(&mut conn, source, target).await? {
            tracing::info!(project.id = %source, target.id = %target, "project removed from the job token allowlist");
            return Ok(());
        }
        ProjectAccess::load(&mut conn, access.actor(), ProjectKey::Id(target))
            .await
            .map_err(not_found_as("target project"))?;
        Err(CoreError::Refused("Target project is not in the job token scope".to_owned()))
    }

    /// A page of the groups whose projects' jobs may reach this project, and how many there
    /// are.
    pub async fn job_token_groups_allowlist(
        &self,
        access: &ProjectAccess,
        page: Page,
    ) -> CoreResult<(Vec<NamespaceRow>, i64)> {
        access.require(ProjectAction::ManageCi)?;
        let mut conn = self.db.conn().await?;
        Ok(scope::list_group_links(&mut conn, access.project().id, page).await?)
    }

    /// Lets the jobs of every project in group `target` (and its subgroups) reach this project;
    /// the actor must be able to see the group.
    pub async fn add_group_to_job_token_allowlist(
        &self,
        access: &ProjectAccess,
        target: NamespaceId,
    ) -> CoreResult<NamespaceRow> {
        access.require(ProjectAction::ManageCi)?;
        let mut conn = self.db.conn().await?;
        let group = GroupAccess::load(&mut conn, access.actor(), NamespaceKey::Id(target))
            .await
            .map_err(not_found_as("target group"))?
            .into_group();
        self.insert_group_link(&mut conn, access, &group).await?;
        Ok(group)
    }

    async fn insert_group_link(
        &self,
        conn: &mut gantry_db::Conn,
        access: &ProjectAccess,
        group: &NamespaceRow,
    ) -> CoreResult<()> {
        let source = access.project().id;
        let added_by = access.actor().user().map(|user| user.id);
        match scope::insert_group_link(conn, source, group.id, added_by).await {
            Err(gantry_db::DbError::Conflict(_)) => {
                Err(CoreError::Refused("Target group is already in the job token scope".to_owned()))
            }
            Err(other) => Err(other.into()),
            Ok(()) => {
                tracing::info!(project.id = %source, group.id = %group.id, "group added to the job token allowlist");
                Ok(())
            }
        }
    }

    /// Stops letting the jobs of group `target`'s projects in (by its rule for projects).
    pub async fn remove_group_from_job_token_allowlist(
        &self,
        access: &ProjectAccess,
        target: NamespaceId,
    ) -> CoreResult<()> {
        access.require(ProjectAction::ManageCi)?;
        let source = access.project().id;
        let mut conn = self.db.conn().await?;
        if scope::delete_group_link(&mut conn, source, target).await? {
            tracing::info!(project.id = %source, group.id = %target, "group removed from the job token allowlist");
            return Ok(());
        }
        GroupAccess::load(&mut conn, access.actor(), NamespaceKey::Id(target))
            .await
            .map_err(not_found_as("target group"))?;
        Err(CoreError::Refused("Target group is not in the job token scope".to_owned()))
    }

    /// Adds the project or group at `path` (the settings page's form), whichever the actor sees
    /// there.
    pub async fn add_to_job_token_allowlist_by_path(
        &self,
        access: &ProjectAccess,
        path: &str,
    ) -> CoreResult<AllowlistEntry> {
        access.require(ProjectAction::ManageCi)?;
        let path = path.trim().trim_matches('/');
        let mut conn = self.db.conn().await?;
        let unseen = || CoreError::invalid("path", "names no project or group you can see");
        if path.is_empty() {
            return Err(unseen());
        }
        match ProjectAccess::load(&mut conn, access.actor(), ProjectKey::FullPath(path)).await {
            Ok(target) => {
                let target = target.into_project();
                self.insert_project_link(&mut conn, access, &target).await?;
                return Ok(AllowlistEntry::Project(target));
            }
            Err(CoreError::NotFound(_)) => {}
            Err(other) => return Err(other),
        }
        match GroupAccess::load(&mut conn, access.actor(), NamespaceKey::FullPath(path)).await {
            Ok(group) => {
                let group = group.into_group();
                self.insert_group_link(&mut conn, access, &group).await?;
                Ok(AllowlistEntry::Group(group))
            }
            Err(CoreError::NotFound(_)) => Err(unseen()),
            Err(other) => Err(other),
        }
    }
}

/// Reports a target the actor may not see under its own name (`404 Target project Not
/// Found`), so it is not taken for the project in the path.
fn not_found_as(what: &'static str) -> impl Fn(CoreError) -> CoreError {
    move |error| match error {
        CoreError::NotFound(_) => CoreError::NotFound(what),
        other => other,
    }
}
