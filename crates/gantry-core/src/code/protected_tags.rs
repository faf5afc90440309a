//! Protected tags: tags whose names match a rule (a name or a `*` pattern such as `v*`) are
//! created only by the rule's role, never moved or deleted by a push, and deleted from the web
//! or the API by Maintainers only (GitLab's rules). Pipelines on them are protected refs: they
//! get protected CI/CD variables, and running one needs the right to create the tag
//! (`policy::authorize_protected_ref`).

use gantry_db::code::protected_tags as rules;
pub use gantry_db::code::protected_tags::ProtectedTagRow;
use gantry_git::refcheck::TagRule;
use gantry_types::AccessLevel;

use super::protected_branches::{check_level, check_pattern};
use crate::policy::{ProjectAccess, ProjectAction, authorize_project, may_create_protected_tag};
use crate::{Actor, CoreError, CoreResult, ProjectRow};

/// A rule as asked for.
#[derive(Debug, Clone)]
pub struct ProtectTag {
    /// A tag name or a pattern with `*`.
    pub name: String,
    /// Who may create matching tags: 0, 30 or 40 (Maintainers when not given).
    pub create_access_level: Option<i64>,
}

/// The tag rules of a push policy: for each rule, whether `role` may create matching tags.
pub(crate) fn tag_rules(rows: &[ProtectedTagRow], role: Option<AccessLevel>) -> Vec<TagRule> {
    rows.iter()
        .map(|row| TagRule { pattern: row.name.clone(), create_allowed: may_create_protected_tag(row, role) })
        .collect()
}

impl super::Code<'_> {
    /// The project's protected-tag rules (Maintainers, as in GitLab).
    pub async fn list_protected_tags(&self, access: &ProjectAccess) -> CoreResult<Vec<ProtectedTagRow>> {
        access.require(ProjectAction::ManageProtectedTags)?;
        let mut conn = self.db.conn().await?;
        Ok(rules::list_protected_tags(&mut conn, access.project().id).await?)
    }

    /// One rule by its exact name (Maintainers).
    pub async fn find_protected_tag(
        &self,
        actor: &Actor,
        project: &ProjectRow,
        name: &str,
    ) -> CoreResult<ProtectedTagRow> {
        let mut conn = self.db.conn().await?;
        authorize_project(&mut conn, actor, project, ProjectAction::ManageProtectedTags).await?;
        rules::find_protected_tag(&mut conn, project.id, name).await?.ok_or(CoreError::NotFound("protected tag"))
    }

    /// Protects a tag name or pattern (Maintainers); a second rule of the same name is a
    /// conflict.
    pub async fn protect_tag(
        &self,
        actor: &Actor,
        project: &ProjectRow,
        input: &ProtectTag,
    ) -> CoreResult<ProtectedTagRow> {
        let mut conn = self.db.conn().await?;
        authorize_project(&mut conn, actor, project, ProjectAction::ManageProtectedTags).await?;
        let name = check_pattern(&input.name, "tag")?;
        let level = check_level("create_access_level", input.create_access_level, AccessLevel::Maintainer.as_i64())?;
        let row = rules::insert_protected_tag(&mut conn, project.id, &name, level)
            .await
            .map_err(crate::manage::conflict_as(&format!("protected tag '{name}' already exists")))?;
        tracing::info!(project.id = %project.id, tag = %name, create_access_level = level, "tag protected");
        Ok(row)
    }

    /// Removes a rule (Maintainers); the tags it covered stay.
    pub async fn unprotect_tag(&self, actor: &Actor, project: &ProjectRow, name: &str) -> CoreResult<()> {
        let mut conn = self.db.conn().await?;
        authorize_project(&mut conn, actor, project, ProjectAction::ManageProtectedTags).await?;
        let row = rules::find_protected_tag(&mut conn, project.id, name)
            .await?
            .ok_or(CoreError::NotFound("protected tag"))?;
        rules::delete_protected_tag(&mut conn, row.id).await?;
        tracing::info!(project.id = %project.id, tag = %name, "tag unprotected");
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_rule_tells_whether_the_role_may_create() {
        let row = |name: &str, level: i64| ProtectedTagRow {
            id: 1,
            project_id: gantry_types::ProjectId(1),
            name: name.into(),
            create_access_level: level,
            created_at: 0,
        };
        let rows = [row("v*", 40), row("release-*", 30), row("frozen", 0)];
        let developer = tag_rules(&rows, Some(AccessLevel::Developer));
        assert_eq!(developer.iter().map(|r| r.create_allowed).collect::<Vec<_>>(), [false, true, false]);
        let maintainer = tag_rules(&rows, Some(AccessLevel::Maintainer));
        assert_eq!(maintainer.iter().map(|r| r.create_allowed).collect::<Vec<_>>(), [true, true, false]);
        assert_eq!(maintainer[0].pattern, "v*");
        assert!(tag_rules(&rows, None).iter().all(|r| !r.create_allowed));
    }
}
