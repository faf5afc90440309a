//! Branches and tags from the web UI and the API: listing, creating and deleting them under
//! the same rules as a push (protected branches and tags, the default branch), and recording
//! each change as a push event, so the activity feed tells the same story either way.

use gantry_db::code::{protected_branches, protected_tags};
use gantry_git::ZERO_OID;
use gantry_git::refcheck::{PushPolicy, RefUpdate};
use gantry_git::refs::{Branch, Tag, is_valid_ref_name};
use gantry_git::{Author, Repositories};
use gantry_types::AccessLevel;

use super::protected_branches::push_policy;
use crate::policy::{ProjectAccess, ProjectAction, authorize_project};
use crate::{Actor, CoreError, CoreResult, ProjectRow, now_millis};

/// A tag as lists show it, and whether a protected-tag rule covers it.
#[derive(Debug, Clone)]
pub struct TagView {
    pub tag: Tag,
    pub protected: bool,
}

/// A branch as lists show it: its tip, and what protection means for the viewer.
#[derive(Debug, Clone)]
pub struct BranchView {
    pub branch: Branch,
    pub default: bool,
    pub protected: bool,
    /// The protection lets Developers push / merge.
    pub developers_can_push: bool,
    pub developers_can_merge: bool,
    /// The viewer may push to it.
    pub can_push: bool,
}

impl super::Code<'_> {
    /// The policy a push by `actor` would get, and the actor's role.
    pub(super) async fn ref_policy(
        &self,
        actor: &Actor,
        project: &ProjectRow,
        action: ProjectAction,
    ) -> CoreResult<(PushPolicy, Option<AccessLevel>, Vec<protected_branches::ProtectedBranchRow>)> {
        let mut conn = self.db.conn().await?;
        let level = authorize_project(&mut conn, actor, project, action).await?;
        drop(conn);
        let (policy, rules) = self.push_policy_of(project, level).await?;
        Ok((policy, level, rules))
    }

    /// The policy a push by someone of role `level` gets (the project's branch and tag
    /// protections read), with the branch rules.
    pub(super) async fn push_policy_of(
        &self,
        project: &ProjectRow,
        level: Option<AccessLevel>,
    ) -> CoreResult<(PushPolicy, Vec<protected_branches::ProtectedBranchRow>)> {
        let mut conn = self.db.conn().await?;
        let rules = protected_branches::list_protected_branches(&mut conn, project.id).await?;
        let tag_rules = protected_tags::list_protected_tags(&mut conn, project.id).await?;
        Ok((push_policy(project, &rules, &tag_rules, level), rules))
    }

    pub(super) fn repository(&self, project: &ProjectRow) -> CoreResult<&Repositories> {
        self.repos.existing(project.id)?;
        Ok(&self.repos)
    }

    /// The project's branches (default branch first), optionally only those whose name
    /// contains `search`.
    pub async fn list_branches(&self, access: &ProjectAccess, search: Option<&str>) -> CoreResult<Vec<BranchView>> {
        access.require(ProjectAction::ReadCode)?;
        let project = access.project();
        let mut conn = self.db.conn().await?;
        let rules = protected_branches::list_protected_branches(&mut conn, project.id).await?;
        let tag_rules = protected_tags::list_protected_tags(&mut conn, project.id).await?;
        drop(conn);
        let policy = push_policy(project, &rules, &tag_rules, access.level());
        let may_push = access.can(ProjectAction::PushCode);
        let developer = push_policy(project, &rules, &[], Some(AccessLevel::Developer));
        let search = search.map(str::to_lowercase);
        let mut views: Vec<BranchView> = self
            .repository(project)?
            .branches(project.id)
            .await?
            .into_iter()
            .filter(|b| search.as_deref().is_none_or(|s| b.name.to_lowercase().contains(s)))
            .map(|branch| {
                let protection = policy.protection(&branch.name);
                let for_developers = developer.protection(&branch.name);
                let merge_level = rules
                    .iter()
                    .filter(|r| gantry_git::refcheck::pattern_matches(&r.name, &branch.name))
                    .map(|r| r.merge_access_level)
                    .filter(|l| *l != 0)
                    .min();
                BranchView {
                    default: branch.name == project.default_branch,
                    protected: protection.is_some(),
                    developers_can_push: for_developers.as_ref().is_none_or(|r| r.push_allowed),
                    developers_can_merge: protection.is_none() || merge_level == Some(AccessLevel::Developer.as_i64()),
                    can_push: may_push && protection.as_ref().is_none_or(|r| r.push_allowed),
                    branch,
                }
            })
            .collect();
        views.sort_by_key(|v| !v.default);
        Ok(views)
    }

    /// Whether the actor of `access` may push to the branch `name`, which need not exist yet:
    /// the role to push code, and the branch's protection.
    pub async fn may_push_to_branch(&self, access: &ProjectAccess, name: &str) -> CoreResult<bool> {
        if !access.can(ProjectAction::PushCode) {
            return Ok(false);
        }
        let (policy, _) = self.push_policy_of(access.project(), access.level()).await?;
        Ok(policy.protection(name).is_none_or(|rule| rule.push_allowed))
    }

    /// One branch by name.
    pub async fn find_branch(&self, actor: &Actor, project: &ProjectRow, name: &str) -> CoreResult<BranchView> {
        let access = self.access_to_project(actor, project).await?;
        self.list_branches(&access, None)
            .await?
            .into_iter()
            .find(|v| v.branch.name == name)
            .ok_or(CoreError::NotFound("branch"))
    }

    /// Creates a branch at a revision (Developers; a protected name needs the right to push
    /// to it). In an empty repository the default branch is made first, as GitLab does, with an
    /// empty `README.md` committed by the actor, so that there is something to branch from.
    pub async fn create_branch(
        &self,
        actor: &Actor,
        project: &ProjectRow,
        name: &str,
        revision: &str,
    ) -> CoreResult<BranchView> {
        let (policy, _, _) = self.ref_policy(actor, project, ProjectAction::PushCode).await?;
        let name = name.trim();
        if !is_valid_ref_name(name) {
            return Err(CoreError::invalid("branch", format!("'{name}' is not a valid branch name")));
        }
        let repos = self.repository(project)?;
        if repos.is_empty(project.id) {
            let access = self.access_to_project(actor, project).await?;
            let readme = super::commits::NewCommit {
                branch: project.default_branch.clone(),
                start_branch: None,
                message: "Add README.md".to_owned(),
                actions: vec![super::commits::CommitAction {
                    kind: super::commits::ActionKind::Create,
                    file_path: "README.md".to_owned(),
                    previous_path: None,
                    content: Some(Vec::new()),
                    executable: None,
                    last_commit_id: None,
                }],
                author_name: None,
                author_email: None,
                one_file: true,
            };
            // When another request made the default branch meanwhile, branch from it all the same.
            if let Err(error) = self.commit_files(actor, &access, &readme).await
                && repos.is_empty(project.id)
            {
                return Err(error);
            }
        }
        let commit = repos.resolve_commit(project.id, revision.trim()).await?.ok_or_else(|| {
            CoreError::invalid("ref", format!("'{}' is not a branch, tag or commit", revision.trim()))
        })?;
        let full_name = format!("refs/heads/{name}");
        let clashing = existing_clash_candidates(repos, project, &full_name).await?;
        let update = RefUpdate { old: ZERO_OID.to_owned(), new: commit, name: full_name };
        policy.check(&update, || true, |full| clashing.iter().any(|c| c == full)).map_err(CoreError::Forbidden)?;
        self.apply_ref_update(actor, project, &update, "branch").await?;
        self.find_branch(actor, project, name).await
    }

    /// Deletes a branch. The default branch cannot be deleted; a protected one only by those
    /// who may manage protected branches (as in GitLab's UI).
    pub async fn delete_branch(&self, actor: &Actor, project: &ProjectRow, name: &str) -> CoreResult<()> {
        let (policy, level, _) = self.ref_policy(actor, project, ProjectAction::PushCode).await?;
        let full_name = format!("refs/heads/{name}");
        let old =
            self.repository(project)?.ref_target(project.id, &full_name).await?.ok_or(CoreError::NotFound("branch"))?;
        if name == project.default_branch {
            return Err(CoreError::invalid("branch", "is the default branch; choose another default branch first"));
        }
        if policy.protection(name).is_some()
            && level.is_none_or(|l| l < ProjectAction::ManageProtectedBranches.required_level())
        {
            return Err(CoreError::Forbidden(format!("'{name}' is protected: only Maintainers can delete it")));
        }
        let update = RefUpdate { old, new: ZERO_OID.to_owned(), name: full_name };
        self.apply_ref_update(actor, project, &update, "branch").await
    }

    /// The project's tags, newest first, each with whether it is protected.
    pub async fn list_tags(&self, access: &ProjectAccess, search: Option<&str>) -> CoreResult<Vec<TagView>> {
        access.require(ProjectAction::ReadCode)?;
        let project = access.project();
        let mut conn = self.db.conn().await?;
        let rules = protected_tags::list_protected_tags(&mut conn, project.id).await?;
        drop(conn);
        let search = search.map(str::to_lowercase);
        let tags = self.repository(project)?.tags(project.id).await?;
        Ok(tags
            .into_iter()
            .filter(|t| search.as_deref().is_none_or(|s| t.name.to_lowercase().contains(s)))
            .map(|tag| TagView {
                protected: rules.iter().any(|rule| gantry_git::refcheck::pattern_matches(&rule.name, &tag.name)),
                tag,
            })
            .collect())
    }

    /// One tag by name.
    pub async fn find_tag(&self, actor: &Actor, project: &ProjectRow, name: &str) -> CoreResult<TagView> {
        let access = self.access_to_project(actor, project).await?;
        self.list_tags(&access, None).await?.into_iter().find(|t| t.tag.name == name).ok_or(CoreError::NotFound("tag"))
    }

    /// Creates a tag at a revision; with a message it is an annotated tag by the actor
    /// (Developers; a protected name needs the rule's role, as a push does).
    pub async fn create_tag(
        &self,
        actor: &Actor,
        project: &ProjectRow,
        name: &str,
        revision: &str,
        message: &str,
    ) -> CoreResult<TagView> {
        let (policy, _, _) = self.ref_policy(actor, project, ProjectAction::PushCode).await?;
        let name = name.trim();
        if !is_valid_ref_name(name) {
            return Err(CoreError::invalid("tag_name", format!("'{name}' is not a valid tag name")));
        }
        let user = actor.require_user()?;
        let repos = self.repository(project)?;
        let commit = repos.resolve_commit(project.id, revision.trim()).await?.ok_or_else(|| {
            CoreError::invalid("ref", format!("'{}' is not a branch, tag or commit", revision.trim()))
        })?;
        let target = if message.trim().is_empty() {
            commit
        } else {
            let display = if user.name.is_empty() { &user.username } else { &user.name };
            let tagger = Author { name: display, email: &user.email };
            repos.write_tag_object(project.id, name, &commit, message, &tagger, now_millis() / 1000).await?
        };
        let full_name = format!("refs/tags/{name}");
        let clashing = existing_clash_candidates(repos, project, &full_name).await?;
        let update = RefUpdate { old: ZERO_OID.to_owned(), new: target, name: full_name };
        policy.check(&update, || true, |full| clashing.iter().any(|c| c == full)).map_err(CoreError::Forbidden)?;
        self.apply_ref_update(actor, project, &update, "tag").await?;
        self.find_tag(actor, project, name).await
    }

    /// Deletes a tag (Developers, as a push may). A protected tag, which no push may delete,
    /// only those who may manage protected tags may delete here (as in GitLab).
    pub async fn delete_tag(&self, actor: &Actor, project: &ProjectRow, name: &str) -> CoreResult<()> {
        let (policy, level, _) = self.ref_policy(actor, project, ProjectAction::PushCode).await?;
        let full_name = format!("refs/tags/{name}");
        let old =
            self.repository(project)?.ref_target(project.id, &full_name).await?.ok_or(CoreError::NotFound("tag"))?;
        let update = RefUpdate { old, new: ZERO_OID.to_owned(), name: full_name };
        if policy.tag_protection(name).is_none() {
            policy.check(&update, || true, |_| false).map_err(CoreError::Forbidden)?;
        } else if level.is_none_or(|l| l < ProjectAction::ManageProtectedTags.required_level()) {
            return Err(CoreError::Forbidden(format!("'{name}' is a protected tag: only Maintainers can delete it")));
        }
        self.apply_ref_update(actor, project, &update, "tag").await
    }

    /// Changes one ref if nobody else moved it meanwhile, and records it as a push event.
    pub(super) async fn apply_ref_update(
        &self,
        actor: &Actor,
        project: &ProjectRow,
        update: &RefUpdate,
        what: &'static str,
    ) -> CoreResult<()> {
        let changed = self.repos.update_ref(project.id, &update.name, &update.old, &update.new).await?;
        if !changed {
            return Err(if update.is_create() {
                CoreError::Conflict(format!("{what} already exists"))
            } else {
                CoreError::Conflict(format!("the {what} changed meanwhile; try again"))
            });
        }
        self.record_push(project.id, actor.user().map(|u| u.id), std::slice::from_ref(update), &[]).await?;
        tracing::info!(project.id = %project.id, r#ref = %update.name, "ref changed from the web");
        Ok(())
    }
}

/// Which refs of [`gantry_git::refcheck::clash_candidates`] of `full_name` exist.
async fn existing_clash_candidates(
    repos: &gantry_git::Repositories,
    project: &ProjectRow,
    full_name: &str,
) -> CoreResult<Vec<String>> {
    let mut existing = Vec::new();
    for candidate in gantry_git::refcheck::clash_candidates(full_name) {
        if repos.ref_target(project.id, &candidate).await?.is_some() {
            existing.push(candidate);
        }
    }
    Ok(existing)
}
