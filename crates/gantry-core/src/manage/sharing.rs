//! Sharing a group or a project with another group (GitLab's "invite a group"): the invited
//! group's members, direct or inherited from its ancestors, get the lower of their own role
//! there and the share's role on the shared group or project and everything below it, until
//! the share expires or is removed. Those roles are counted where every role is (gantry-db's
//! role lookups behind `policy`), so authorisation and listings see them without anything
//! here; this module makes, lists and removes the shares.

pub use gantry_db::manage::group_links::GroupLinkRow;
use gantry_db::manage::group_links::{self, NewGroupLink, SharedSource};
use gantry_db::manage::namespaces::{self, NamespaceKey};
use gantry_types::{AccessLevel, NamespaceId};

use super::conflict_as;
use crate::policy::{GroupAccess, GroupAction, ProjectAccess, ProjectAction};
use crate::{Actor, CoreError, CoreResult, NamespaceRow};

/// A share as asked for.
#[derive(Debug, Clone, Copy)]
pub struct ShareInput {
    /// The invited group.
    pub group_id: NamespaceId,
    /// The highest role the share gives.
    pub group_access: AccessLevel,
    /// When the share ends (Unix milliseconds), if ever.
    pub expires_at: Option<i64>,
}

/// Filters of the groups of a project (GitLab's `GET /projects/:id/groups`).
#[derive(Debug, Clone, Default)]
pub struct ProjectGroupsQuery {
    /// Also the groups the project is shared with.
    pub with_shared: bool,
    /// Of those, only the ones shared with at least this role.
    pub shared_min_access_level: Option<AccessLevel>,
    /// Of those, only the ones the actor may see.
    pub shared_visible_only: bool,
    pub skip_groups: Vec<NamespaceId>,
    /// Only groups whose name or path contains this (ignoring case).
    pub search: Option<String>,
}

impl super::Manage<'_> {
    /// The invited group of a share: one the actor may see (others are "not found").
    async fn invited_group(&self, actor: &Actor, id: NamespaceId) -> CoreResult<NamespaceRow> {
        let mut conn = self.db.conn().await?;
        Ok(GroupAccess::load(&mut conn, actor, NamespaceKey::Id(id)).await?.into_group())
    }

    /// Shares a group with another group (those who manage the group's members; only an Owner
    /// may share the Owner role).
    pub async fn share_group(&self, access: &GroupAccess, input: &ShareInput) -> CoreResult<()> {
        access.require(GroupAction::ManageMembers)?;
        check_owner_share(access.level(), input.group_access)?;
        let invited = self.invited_group(access.actor(), input.group_id).await?;
        let group = access.group();
        if invited.id == group.id {
            return Err(CoreError::invalid("group_id", "is the group itself: a group cannot be shared with itself"));
        }
        let link = NewGroupLink {
            shared: SharedSource::Group(group.id),
            group_id: invited.id,
            group_access: input.group_access.as_i64(),
            expires_at: input.expires_at,
            created_by: access.actor().user().map(|u| u.id),
        };
        let mut conn = self.db.conn().await?;
        group_links::insert_group_link(&mut conn, &link)
            .await
            .map_err(conflict_as("Shared with group has already been taken"))?;
        tracing::info!(group.id = %group.id, invited = %invited.id, role = %input.group_access, "group shared");
        Ok(())
    }

    /// Ends a group's share with another group.
    pub async fn unshare_group(&self, access: &GroupAccess, invited: NamespaceId) -> CoreResult<()> {
        access.require(GroupAction::ManageMembers)?;
        let existing = self.group_shares(access).await?.into_iter().find(|link| link.group_id == invited);
        let link = existing.ok_or(CoreError::NotFound("group link"))?;
        check_owner_share(access.level(), AccessLevel::from_i64(link.group_access).unwrap_or(AccessLevel::Owner))?;
        let mut conn = self.db.conn().await?;
        group_links::delete_group_link(&mut conn, SharedSource::Group(access.group().id), invited).await?;
        tracing::info!(group.id = %access.group().id, invited = %invited, "group share removed");
        Ok(())
    }

    /// The groups a group is shared with (anyone who may see the group).
    pub async fn group_shares(&self, access: &GroupAccess) -> CoreResult<Vec<GroupLinkRow>> {
        access.require(GroupAction::Read)?;
        let mut conn = self.db.conn().await?;
        Ok(group_links::list_group_links(&mut conn, SharedSource::Group(access.group().id)).await?)
    }

    /// Shares a project with a group (those who manage the project's members; only an Owner
    /// may share the Owner role). The project's own group and its ancestors hold it already.
    pub async fn share_project(&self, access: &ProjectAccess, input: &ShareInput) -> CoreResult<()> {
        access.require(ProjectAction::ManageMembers)?;
        check_owner_share(access.level(), input.group_access)?;
        let invited = self.invited_group(access.actor(), input.group_id).await?;
        let project = access.project();
        let mut conn = self.db.conn().await?;
        let holders = namespaces::namespace_with_ancestors(&mut conn, project.namespace_id).await?;
        if holders.iter().any(|holder| holder.id == invited.id) {
            return Err(CoreError::Conflict(
                "Project cannot be shared with the group it is in or one of its ancestors.".to_owned(),
            ));
        }
        let link = NewGroupLink {
            shared: SharedSource::Project(project.id),
            group_id: invited.id,
            group_access: input.group_access.as_i64(),
            expires_at: input.expires_at,
            created_by: access.actor().user().map(|u| u.id),
        };
        group_links::insert_group_link(&mut conn, &link)
            .await
            .map_err(conflict_as("Group already shared with this group"))?;
        tracing::info!(project.id = %project.id, invited = %invited.id, role = %input.group_access, "project shared");
        Ok(())
    }

    /// Ends a project's share with a group.
    pub async fn unshare_project(&self, access: &ProjectAccess, invited: NamespaceId) -> CoreResult<()> {
        access.require(ProjectAction::ManageMembers)?;
        let existing = self.project_shares(access).await?.into_iter().find(|link| link.group_id == invited);
        let link = existing.ok_or(CoreError::NotFound("group link"))?;
        check_owner_share(access.level(), AccessLevel::from_i64(link.group_access).unwrap_or(AccessLevel::Owner))?;
        let mut conn = self.db.conn().await?;
        group_links::delete_group_link(&mut conn, SharedSource::Project(access.project().id), invited).await?;
        tracing::info!(project.id = %access.project().id, invited = %invited, "project share removed");
        Ok(())
    }

    /// The groups a project is shared with (anyone who may see the project).
    pub async fn project_shares(&self, access: &ProjectAccess) -> CoreResult<Vec<GroupLinkRow>> {
        access.require(ProjectAction::Read)?;
        let mut conn = self.db.conn().await?;
        Ok(group_links::list_group_links(&mut conn, SharedSource::Project(access.project().id)).await?)
    }

    /// The groups of a project: its namespace and that namespace's ancestors when it is in a
    /// group, and with `with_shared` the groups it is shared with; newest group first.
    pub async fn project_groups(
        &self,
        access: &ProjectAccess,
        query: &ProjectGroupsQuery,
    ) -> CoreResult<Vec<NamespaceRow>> {
        access.require(ProjectAction::Read)?;
        let mut conn = self.db.conn().await?;
        let mut groups: Vec<NamespaceRow> =
            namespaces::namespace_with_ancestors(&mut conn, access.project().namespace_id)
                .await?
                .into_iter()
                .filter(|namespace| namespace.kind == namespaces::NamespaceKind::Group)
                .collect();
        if query.with_shared {
            let min_access = query.shared_min_access_level.map_or(0, AccessLevel::as_i64);
            for (group, _) in
                group_links::groups_shared_with_project(&mut conn, access.project().id, min_access).await?
            {
                if query.shared_visible_only
                    && GroupAccess::load(&mut conn, access.actor(), NamespaceKey::Id(group.id)).await.is_err()
                {
                    continue;
                }
                if !groups.iter().any(|known| known.id == group.id) {
                    groups.push(group);
                }
            }
        }
        let search = query.search.as_deref().map(str::to_lowercase).filter(|s| !s.is_empty());
        groups.retain(|group| {
            !query.skip_groups.contains(&group.id)
                && search.as_deref().is_none_or(|needle| {
                    group.name.to_lowercase().contains(needle) || group.full_path.to_lowercase().contains(needle)
                })
        });
        groups.sort_by_key(|group| std::cmp::Reverse(group.id.0));
        Ok(groups)
    }
}

/// Only Owners may share the Owner role, or end such a share (as for members).
fn check_owner_share(actor_level: Option<AccessLevel>, shared: AccessLevel) -> CoreResult<()> {
    if shared == AccessLevel::Owner && actor_level != Some(AccessLevel::Owner) {
        return Err(CoreError::Forbidden("only an Owner can share or unshare the Owner role".into()));
    }
    Ok(())
}
