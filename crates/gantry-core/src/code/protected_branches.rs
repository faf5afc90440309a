//! Protected branches: which roles may push and merge to branches matching a name or a `*`
//! pattern, and whether force-pushes are allowed. The default branch of a new project is
//! protected (Maintainers push and merge, no force-push), as in GitLab. A group's rules
//! (GitLab Premium's group-level protected branches) apply to every project in the group and
//! its subgroups, on top of the project's own: the stricter wins.

use gantry_db::Conn;
use gantry_db::code::protected_branches::{self as rules, NewProtectedBranch};
pub use gantry_db::code::protected_branches::{GroupProtectedBranchRow, ProtectedBranchRow};
use gantry_db::code::protected_tags::ProtectedTagRow;
use gantry_git::refcheck::{BranchRule, PushPolicy};
use gantry_types::{AccessLevel, ProjectId};

use crate::policy::{GroupAccess, GroupAction, ProjectAccess, ProjectAction, authorize_project};
use crate::{Actor, CoreError, CoreResult, ProjectRow};

/// Access levels a rule (of a protected branch or tag) may name: no one (0), Developer,
/// Maintainer (as GitLab allows).
pub const RULE_LEVELS: [i64; 3] = [0, 30, 40];

/// The label of a rule's access level.
pub fn rule_level_label(level: i64) -> &'static str {
    match level {
        0 => "No one",
        30 => "Developers + Maintainers",
        _ => "Maintainers",
    }
}

/// A rule as asked for.
#[derive(Debug, Clone)]
pub struct ProtectBranch {
    pub name: String,
    pub push_access_level: Option<i64>,
    pub merge_access_level: Option<i64>,
    pub allow_force_push: Option<bool>,
}

/// Protects `branch` of a new project with GitLab's defaults.
pub(crate) async fn protect_default_branch(conn: &mut Conn, project: ProjectId, branch: &str) -> CoreResult<()> {
    let rule = NewProtectedBranch {
        name: branch,
        push_access_level: AccessLevel::Maintainer.as_i64(),
        merge_access_level: AccessLevel::Maintainer.as_i64(),
        allow_force_push: false,
    };
    rules::insert_protected_branch(conn, project, &rule).await?;
    Ok(())
}

/// A rule's level, or `default` when none was given; refused unless one of [`RULE_LEVELS`].
pub(crate) fn check_level(field: &'static str, level: Option<i64>, default: i64) -> CoreResult<i64> {
    let level = level.unwrap_or(default);
    if RULE_LEVELS.contains(&level) {
        Ok(level)
    } else {
        Err(CoreError::invalid(field, "must be 0 (no one), 30 (Developers + Maintainers) or 40 (Maintainers)"))
    }
}

/// A rule's name or pattern (`kind`: "branch" or "tag"), trimmed; refused when git could not
/// hold such a ref.
pub(crate) fn check_pattern(name: &str, kind: &str) -> CoreResult<String> {
    let name = name.trim();
    let valid = !name.is_empty()
        && name.len() <= 255
        && !name.starts_with(['-', '/'])
        && !name.contains("..")
        && !name.chars().any(|c| c.is_ascii_control() || " ~^:?[\\".contains(c));
    if valid {
        Ok(name.to_owned())
    } else {
        Err(CoreError::invalid("name", format!("'{name}' is not a valid {kind} name or pattern")))
    }
}

/// The push policy of one pusher: for each branch rule, whether their role may push (the
/// project's own rules, and apart from them those of the groups above it, which each must
/// allow too); for each tag rule, whether it may create matching tags.
pub(crate) fn push_policy(
    project: &ProjectRow,
    rows: &[ProtectedBranchRow],
    tag_rows: &[ProtectedTagRow],
    role: Option<AccessLevel>,
) -> PushPolicy {
    let level = role.map_or(0, AccessLevel::as_i64);
    let rule = |row: &ProtectedBranchRow| BranchRule {
        pattern: row.name.clone(),
        push_allowed: row.push_access_level != 0 && level >= row.push_access_level,
        allow_force_push: row.allow_force_push,
    };
    PushPolicy {
        default_branch: project.default_branch.clone(),
        protected: rows.iter().filter(|row| row.group_id.is_none()).map(rule).collect(),
        protected_tags: super::protected_tags::tag_rules(tag_rows, role),
        group_protected: rows.iter().filter(|row| row.group_id.is_some()).map(rule).collect(),
    }
}

impl super::Code<'_> {
    /// The project's own protected branches (anyone who may read the code may see them).
    pub async fn list_protected_branches(&self, access: &ProjectAccess) -> CoreResult<Vec<ProtectedBranchRow>> {
        access.require(ProjectAction::ReadCode)?;
        let mut conn = self.db.conn().await?;
        let mut rows = rules::list_protected_branches(&mut conn, access.project().id).await?;
        rows.retain(|row| row.group_id.is_none());
        Ok(rows)
    }

    /// The rules of the groups above the project that its pushes must also satisfy, the
    /// closest group first (shown, locked, beside the project's own).
    pub async fn inherited_protected_branches(&self, access: &ProjectAccess) -> CoreResult<Vec<ProtectedBranchRow>> {
        access.require(ProjectAction::ReadCode)?;
        let mut conn = self.db.conn().await?;
        let mut rows = rules::list_protected_branches(&mut conn, access.project().id).await?;
        rows.retain(|row| row.group_id.is_some());
        Ok(rows)
    }

    /// A group's own protected branches (Owners, as in GitLab).
    pub async fn list_group_protected_branches(
        &self,
        access: &GroupAccess,
    ) -> CoreResult<Vec<GroupProtectedBranchRow>> {
        access.require(GroupAction::ManageProtectedBranches)?;
        let mut conn = self.db.conn().await?;
        Ok(rules::list_group_protected_branches(&mut conn, access.group().id).await?)
    }

    /// One of a group's rules by its exact name (Owners).
    pub async fn find_group_protected_branch(
        &self,
        access: &GroupAccess,
        name: &str,
    ) -> CoreResult<GroupProtectedBranchRow> {
        access.require(GroupAction::ManageProtectedBranches)?;
        let mut conn = self.db.conn().await?;
        rules::find_group_protected_branch(&mut conn, access.group().id, name)
            .await?
            .ok_or(CoreError::NotFound("protected branch"))
    }

    /// Protects a branch or pattern in every project of the group and its subgroups (Owners).
    pub async fn protect_group_branch(
        &self,
        access: &GroupAccess,
        input: &ProtectBranch,
    ) -> CoreResult<GroupProtectedBranchRow> {
        access.require(GroupAction::ManageProtectedBranches)?;
        let name = check_pattern(&input.name, "branch")?;
        let rule = NewProtectedBranch {
            name: &name,
            push_access_level: check_level("push_access_level", input.push_access_level, 40)?,
            merge_access_level: check_level("merge_access_level", input.merge_access_level, 40)?,
            allow_force_push: input.allow_force_push.unwrap_or(false),
        };
        let mut conn = self.db.conn().await?;
        let group = access.group();
        let row = rules::insert_group_protected_branch(&mut conn, group.id, &rule)
            .await
            .map_err(crate::manage::conflict_as(&format!("protected branch '{name}' already exists")))?;
        tracing::info!(group.id = %group.id, branch = %name, "branch protected in every project of the group");
        Ok(row)
    }

    /// Changes a group rule's levels or force-push setting (Owners).
    pub async fn update_group_protected_branch(
        &self,
        access: &GroupAccess,
        name: &str,
        input: &ProtectBranch,
    ) -> CoreResult<GroupProtectedBranchRow> {
        let row = self.find_group_protected_branch(access, name).await?;
        let rule = NewProtectedBranch {
            name: &row.name,
            push_access_level: check_level("push_access_level", input.push_access_level, row.push_access_level)?,
            merge_access_level: check_level("merge_access_level", input.merge_access_level, row.merge_access_level)?,
            allow_force_push: input.allow_force_push.unwrap_or(row.allow_force_push),
        };
        let mut conn = self.db.conn().await?;
        rules::update_group_protected_branch(&mut conn, row.id, &rule).await?;
        rules::find_group_protected_branch(&mut conn, access.group().id, name)
            .await?
            .ok_or(CoreError::NotFound("protected branch"))
    }

    /// Removes a group rule (Owners); returns it as it was.
    pub async fn unprotect_group_branch(
        &self,
        access: &GroupAccess,
        name: &str,
    ) -> CoreResult<GroupProtectedBranchRow> {
        let row = self.find_group_protected_branch(access, name).await?;
        let mut conn = self.db.conn().await?;
        rules::delete_group_protected_branch(&mut conn, row.id).await?;
        tracing::info!(group.id = %row.namespace_id, branch = %row.name, "group branch rule removed");
        Ok(row)
    }

    /// One rule by its exact name.
    pub async fn find_protected_branch(
        &self,
        actor: &Actor,
        project: &ProjectRow,
        name: &str,
    ) -> CoreResult<ProtectedBranchRow> {
        let mut conn = self.db.conn().await?;
        authorize_project(&mut conn, actor, project, ProjectAction::ReadCode).await?;
        rules::find_protected_branch(&mut conn, project.id, name).await?.ok_or(CoreError::NotFound("protected branch"))
    }

    /// Protects a branch or pattern (Maintainers).
    pub async fn protect_branch(
        &self,
        actor: &Actor,
        project: &ProjectRow,
        input: &ProtectBranch,
    ) -> CoreResult<ProtectedBranchRow> {
        let mut conn = self.db.conn().await?;
        authorize_project(&mut conn, actor, project, ProjectAction::ManageProtectedBranches).await?;
        let name = check_pattern(&input.name, "branch")?;
        let rule = NewProtectedBranch {
            name: &name,
            push_access_level: check_level("push_access_level", input.push_access_level, 40)?,
            merge_access_level: check_level("merge_access_level", input.merge_access_level, 40)?,
            allow_force_push: input.allow_force_push.unwrap_or(false),
        };
        let row = rules::insert_protected_branch(&mut conn, project.id, &rule)
            .await
            .map_err(crate::manage::conflict_as(&format!("protected branch '{name}' already exists")))?;
        tracing::info!(project.id = %project.id, branch = %name, "branch protected");
        Ok(row)
    }

    /// Changes a rule's levels or force-push setting (Maintainers).
    pub async fn update_protected_branch(
        &self,
        actor: &Actor,
        project: &ProjectRow,
        name: &str,
        input: &ProtectBranch,
    ) -> CoreResult<ProtectedBranchRow> {
        let mut conn = self.db.conn().await?;
        authorize_project(&mut conn, actor, project, ProjectAction::ManageProtectedBranches).await?;
        let row = rules::find_protected_branch(&mut conn, project.id, name)
            .await?
            .ok_or(CoreError::NotFound("protected branch"))?;
        let rule = NewProtectedBranch {
            name: &row.name,
            push_access_level: check_level("push_access_level", input.push_access_level, row.push_access_level)?,
            merge_access_level: check_level("merge_access_level", input.merge_access_level, row.merge_access_level)?,
            allow_force_push: input.allow_force_push.unwrap_or(row.allow_force_push),
        };
        rules::update_protected_branch(&mut conn, row.id, &rule).await?;
        rules::find_protected_branch(&mut conn, project.id, name).await?.ok_or(CoreError::NotFound("protected branch"))
    }

    /// Unprotects a branch or pattern (Maintainers).
    pub async fn unprotect_branch(&self, actor: &Actor, project: &ProjectRow, name: &str) -> CoreResult<()> {
        let mut conn = self.db.conn().await?;
        authorize_project(&mut conn, actor, project, ProjectAction::ManageProtectedBranches).await?;
        let row = rules::find_protected_branch(&mut conn, project.id, name)
            .await?
            .ok_or(CoreError::NotFound("protected branch"))?;
        rules::delete_protected_branch(&mut conn, row.id).await?;
        tracing::info!(project.id = %project.id, branch = %name, "branch unprotected");
        Ok(())
    }
}
