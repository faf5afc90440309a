//! Membership of groups and projects: who holds which role, directly, inherited or through a
//! share with their group; and a user's own memberships, for administrators.

use gantry_db::Page;
pub use gantry_db::manage::members::MembershipRow;
use gantry_db::manage::members::{self, MemberSource, MembershipKind};
use gantry_db::manage::users;
use gantry_types::{AccessLevel, UserId};

use crate::policy::{GroupAccess, GroupAction, ProjectAccess, ProjectAction, authorize_group, authorize_project};
use crate::{Actor, CoreError, CoreResult, MemberRow, NamespaceRow, ProjectRow};

/// A group or a project whose members are managed.
#[derive(Debug, Clone, Copy)]
pub enum MemberTarget<'a> {
    Group(&'a NamespaceRow),
    Project(&'a ProjectRow),
}

impl MemberTarget<'_> {
    fn source(self) -> MemberSource {
        match self {
            MemberTarget::Group(group) => MemberSource::Namespace(group.id),
            MemberTarget::Project(project) => MemberSource::Project(project.id),
        }
    }
}

/// Who reads a group's or project's members, as the request loaded them once.
#[derive(Debug, Clone, Copy)]
pub enum MembersOf<'a> {
    Group(&'a GroupAccess),
    Project(&'a ProjectAccess),
}

impl<'a> MembersOf<'a> {
    /// The group or project whose members these are.
    pub fn target(self) -> MemberTarget<'a> {
        match self {
            MembersOf::Group(access) => MemberTarget::Group(access.group()),
            MembersOf::Project(access) => MemberTarget::Project(access.project()),
        }
    }

    /// Whether the reader may add, change and remove members.
    pub fn can_manage(self) -> bool {
        match self {
            MembersOf::Group(access) => access.can(GroupAction::ManageMembers),
            MembersOf::Project(access) => access.can(ProjectAction::ManageMembers),
        }
    }

    fn require_read(self) -> CoreResult<()> {
        match self {
            MembersOf::Group(access) => access.require(GroupAction::Read),
            MembersOf::Project(access) => access.require(ProjectAction::Read),
        }
    }
}

/// A membership with the role that applies after inheritance.
#[derive(Debug, Clone)]
pub struct EffectiveMember {
    pub member: MemberRow,
    pub level: AccessLevel,
}

impl super::Manage<'_> {
    /// Checks `read` or `manage` permission on the target; returns the actor's role.
    async fn authorize_members(
        &self,
        actor: &Actor,
        target: MemberTarget<'_>,
        manage: bool,
    ) -> CoreResult<Option<AccessLevel>> {
        let mut conn = self.db.conn().await?;
        match target {
            MemberTarget::Group(group) => {
                let action = if manage { GroupAction::ManageMembers } else { GroupAction::Read };
                authorize_group(&mut conn, actor, group, action).await
            }
            MemberTarget::Project(project) => {
                let action = if manage { ProjectAction::ManageMembers } else { ProjectAction::Read };
                authorize_project(&mut conn, actor, project, action).await
            }
        }
    }

    /// Only Owners may hand out, change or take away the Owner role.
    fn check_owner_rights(actor_level: Option<AccessLevel>, touching_owner: bool) -> CoreResult<()> {
        if touching_owner && actor_level != Some(AccessLevel::Owner) {
            return Err(CoreError::Forbidden("only an Owner can grant, change or remove the Owner role".into()));
        }
        Ok(())
    }

    /// A group must keep at least one Owner.
    async fn check_not_last_owner(
        &self,
        target: MemberTarget<'_>,
        member: &MemberRow,
        new_level: Option<AccessLevel>,
    ) -> CoreResult<()> {
        let MemberTarget::Group(group) = target else { return Ok(()) };
        let is_owner = member.access_level >= AccessLevel::Owner.as_i64();
        if !is_owner || new_level == Some(AccessLevel::Owner) {
            return Ok(());
        }
        let mut conn = self.db.conn().await?;
        if members::count_owners(&mut conn, group.id, AccessLevel::Owner.as_i64()).await? <= 1 {
            return Err(CoreError::Conflict("a group must keep at least one Owner".into()));
        }
        Ok(())
    }

    /// The direct members of a group or project.
    pub async fn list_members(&self, of: MembersOf<'_>) -> CoreResult<Vec<MemberRow>> {
        of.require_read()?;
        self.direct_members(of.target()).await
    }

    /// Everyone with a role on the target, directly or through an ancestor group, each once
    /// with the highest role that applies.
    pub async fn list_all_members(&self, of: MembersOf<'_>) -> CoreResult<Vec<EffectiveMember>> {
        of.require_read()?;
        self.applicable_members(of.target()).await
    }

    /// The members (direct and inherited) of the target whose username or name contains
    /// `term`, ignoring case: a group's or project's search for people.
    pub async fn search_members(&self, of: MembersOf<'_>, term: &str) -> CoreResult<Vec<crate::UserRow>> {
        let term = term.to_lowercase();
        let members = self.list_all_members(of).await?;
        Ok(members
            .into_iter()
            .map(|member| member.member.user)
            .filter(|user| user.username.to_lowercase().contains(&term) || user.name.to_lowercase().contains(&term))
            .collect())
    }

    /// One direct or inherited member of the target.
    pub async fn find_member(&self, of: MembersOf<'_>, user: UserId, inherited: bool) -> CoreResult<EffectiveMember> {
        of.require_read()?;
        self.member_of(of.target(), user, inherited).await
    }

    async fn direct_members(&self, target: MemberTarget<'_>) -> CoreResult<Vec<MemberRow>> {
        let mut conn = self.db.conn().await?;
        Ok(members::list_direct_members(&mut conn, target.source()).await?)
    }

    async fn applicable_members(&self, target: MemberTarget<'_>) -> CoreResult<Vec<EffectiveMember>> {
        let mut conn = self.db.conn().await?;
        let rows = match target {
            MemberTarget::Group(group) => members::list_applicable_members(&mut conn, group.id, None).await?,
            MemberTarget::Project(project) => {
                members::list_applicable_members(&mut conn, project.namespace_id, Some(project.id)).await?
            }
        };
        let mut out: Vec<EffectiveMember> = Vec::new();
        for row in rows {
            let Some(level) = AccessLevel::from_i64(row.access_level) else { continue };
            match out.iter_mut().find(|m| m.member.user.id == row.user.id) {
                Some(existing) if existing.level >= level => {}
                Some(existing) => *existing = EffectiveMember { member: row, level },
                None => out.push(EffectiveMember { member: row, level }),
            }
        }
        Ok(out)
    }

    /// One member of a target whose reader is already authorised.
    async fn member_of(&self, target: MemberTarget<'_>, user: UserId, inherited: bool) -> CoreResult<EffectiveMember> {
        let found = if inherited {
            self.applicable_members(target).await?.into_iter().find(|m| m.member.user.id == user)
        } else {
            self.direct_members(target).await?.into_iter().find(|m| m.user.id == user).and_then(|member| {
                AccessLevel::from_i64(member.access_level).map(|level| EffectiveMember { member, level })
            })
        };
        found.ok_or(CoreError::NotFound("member"))
    }

    /// A user's direct memberships of groups (`type` `Namespace`) and projects (`Project`), or
    /// both without a type (administrators only: others are "forbidden", as in GitLab).
    pub async fn list_user_memberships(
        &self,
        actor: &Actor,
        user: UserId,
        kind: Option<&str>,
        page: Page,
    ) -> CoreResult<(Vec<MembershipRow>, i64)> {
        crate::policy::require_admin_or_forbid(actor)?;
        let kind = match kind {
            None => MembershipKind::All,
            Some("Project") => MembershipKind::Projects,
            Some("Namespace") => MembershipKind::Namespaces,
            Some(_) => return Err(CoreError::invalid("type", "does not have a valid value")),
        };
        let mut conn = self.db.conn().await?;
        users::find_user_by_id(&mut conn, user).await?.ok_or(CoreError::NotFound("user"))?;
        Ok(members::list_user_memberships(&mut conn, user, kind, page).await?)
    }

    /// Adds a user with a role (Maintainers; the Owner role only by Owners).
    pub async fn add_member(
        &self,
        actor: &Actor,
        target: MemberTarget<'_>,
        user: UserId,
        level: AccessLevel,
        expires_at: Option<i64>,
    ) -> CoreResult<EffectiveMember> {
        let actor_level = self.authorize_members(actor, target, true).await?;
        Self::check_owner_rights(actor_level, level == AccessLevel::Owner)?;
        let mut tx = self.db.begin().await?;
        let member_user = users::find_user_by_id(&mut tx, user).await?.ok_or(CoreError::NotFound("user"))?;
        if member_user.blocked {
            return Err(CoreError::invalid("user_id", "belongs to a blocked user"));
        }
        if member_user.bot_of.is_some() {
            return Err(CoreError::invalid(
                "user_id",
                "belongs to a project or group bot: it is a member of its own project or group only",
            ));
        }
        let by = actor.user().map(|u| u.id);
        members::insert_member(&mut tx, target.source(), user, level.as_i64(), by, expires_at)
            .await
            .map_err(super::conflict_as("member already exists"))?;
        tx.commit().await.map_err(gantry_db::DbError::from)?;
        tracing::info!(user.id = %user, role = %level, "member added");
        self.member_of(target, user, false).await
    }

    /// Changes a direct member's role or expiry.
    pub async fn update_member(
        &self,
        actor: &Actor,
        target: MemberTarget<'_>,
        user: UserId,
        level: AccessLevel,
        expires_at: Option<i64>,
    ) -> CoreResult<EffectiveMember> {
        let actor_level = self.authorize_members(actor, target, true).await?;
        let existing = self.member_of(target, user, false).await?;
        Self::check_owner_rights(actor_level, level == AccessLevel::Owner || existing.level == AccessLevel::Owner)?;
        self.check_not_last_owner(target, &existing.member, Some(level)).await?;
        let mut conn = self.db.conn().await?;
        members::update_member(&mut conn, target.source(), user, level.as_i64(), expires_at).await?;
        drop(conn);
        self.member_of(target, user, false).await
    }

    /// Removes a direct member.
    pub async fn remove_member(&self, actor: &Actor, target: MemberTarget<'_>, user: UserId) -> CoreResult<()> {
        let actor_level = self.authorize_members(actor, target, true).await?;
        let existing = self.member_of(target, user, false).await?;
        Self::check_owner_rights(actor_level, existing.level == AccessLevel::Owner)?;
        self.check_not_last_owner(target, &existing.member, None).await?;
        let mut conn = self.db.conn().await?;
        members::delete_member(&mut conn, target.source(), user).await?;
        tracing::info!(user.id = %user, "member removed");
        Ok(())
    }
}
