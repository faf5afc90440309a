//! Deploy keys: SSH keys that give git access to projects rather than to a person. A project's
//! Maintainers add one (read-only, or read-write with `can_push`) or enable one that another
//! project they maintain already uses, or one of the instance's public keys, which
//! administrators add. A key is one identity: a user's SSH key cannot be a deploy key too, and
//! one deploy key is one row however many projects use it. Disabling a key on its last project
//! removes it, unless it is an instance key (GitLab's rule).

use gantry_db::manage::deploy_keys::{self, KeyHolder, NewDeployKey};
pub use gantry_db::manage::deploy_keys::{DeployKeyLinkRow, DeployKeyRow, KeyProjectRow};
use gantry_db::{DbError, Page};
use gantry_types::DeployKeyId;

use super::deploy_tokens::parse_expiry;
use super::ssh_keys::parse_public_key;
use crate::policy::{self, ProjectAccess, ProjectAction};
use crate::{Actor, CoreError, CoreResult, now_millis};

/// A deploy key to add.
#[derive(Debug, Clone, Default)]
pub struct DeployKeyInput {
    pub title: String,
    pub key: String,
    /// Whether it may push to the project (instance keys are enabled read-only).
    pub can_push: bool,
    /// A date or an RFC 3339 moment, ahead; empty for none.
    pub expires_at: String,
}

/// What to change of a deploy key on one project (`None`: unchanged).
#[derive(Debug, Clone, Default)]
pub struct DeployKeyChange {
    pub title: Option<String>,
    pub can_push: Option<bool>,
}

/// A deploy key as one project has it.
#[derive(Debug, Clone)]
pub struct ProjectDeployKey {
    pub key: DeployKeyRow,
    pub link: DeployKeyLinkRow,
}

/// A deploy key and the projects it is enabled on (the administrators' listing).
#[derive(Debug, Clone)]
pub struct DeployKeyUse {
    pub key: DeployKeyRow,
    pub projects: Vec<KeyProjectRow>,
}

/// The title to store: given, else the key's comment; at most 255 characters.
fn title_of(given: &str, comment: &str) -> CoreResult<String> {
    let title = if given.trim().is_empty() { comment.trim() } else { given.trim() };
    if title.is_empty() {
        return Err(CoreError::invalid("title", "can't be blank"));
    }
    if title.chars().count() > 255 {
        return Err(CoreError::invalid("title", "is too long (at most 255 characters)"));
    }
    Ok(title.to_owned())
}

/// The answer when a key's fingerprint is held by a user's key or by a deploy key the actor may
/// not use.
fn fingerprint_taken() -> CoreError {
    CoreError::invalid(
        "fingerprint",
        "has already been taken: this key is in use as an account's SSH key or as a deploy key you cannot use; \
         a deploy key needs a key of its own",
    )
}

impl super::Manage<'_> {
    /// Every deploy key with the projects it is enabled on, or only the instance's public ones
    /// (administrators).
    pub async fn list_all_deploy_keys(
        &self,
        actor: &Actor,
        public_only: bool,
        page: Page,
    ) -> CoreResult<(Vec<DeployKeyUse>, i64)> {
        policy::require_admin(actor)?;
        let mut conn = self.db.conn().await?;
        let (keys, total) = deploy_keys::list_deploy_keys(&mut conn, public_only, page).await?;
        let mut uses = Vec::with_capacity(keys.len());
        for key in keys {
            let projects = deploy_keys::list_deploy_key_projects(&mut conn, key.id).await?;
            uses.push(DeployKeyUse { key, projects });
        }
        Ok((uses, total))
    }

    /// Adds an instance deploy key, enabled on no project yet: any project's Maintainers may
    /// enable it (administrators).
    pub async fn create_instance_deploy_key(&self, actor: &Actor, input: &DeployKeyInput) -> CoreResult<DeployKeyRow> {
        let admin = policy::require_admin(actor)?;
        let parsed = parse_public_key(&input.key).map_err(|message| CoreError::invalid("key", message))?;
        let title = title_of(&input.title, &parsed.comment)?;
        let expires_at = expiry(&input.expires_at)?;
        let new = NewDeployKey {
            title: &title,
            key_type: &parsed.key_type,
            public_key: &parsed.public_key,
            fingerprint: &parsed.fingerprint,
            is_public: true,
            user: Some(admin.id),
            expires_at,
        };
        let mut tx = self.db.begin().await?;
        let id = insert_key(&mut tx, &new).await?;
        let key = deploy_keys::find_deploy_key(&mut tx, id).await?.ok_or(CoreError::NotFound("deploy key"))?;
        tx.commit().await.map_err(DbError::from)?;
        tracing::info!(key.id = %id, fingerprint = %parsed.fingerprint, "instance deploy key added");
        Ok(key)
    }

    /// The project's deploy keys (Maintainers).
    pub async fn list_project_deploy_keys(&self, access: &ProjectAccess) -> CoreResult<Vec<ProjectDeployKey>> {
        access.require(ProjectAction::ManageDeployCredentials)?;
        let mut conn = self.db.conn().await?;
        let keys = deploy_keys::list_project_deploy_keys(&mut conn, access.project().id).await?;
        Ok(keys.into_iter().map(|(key, link)| ProjectDeployKey { key, link }).collect())
    }

    /// One deploy key of the project (Maintainers).
    pub async fn find_project_deploy_key(
        &self,
        access: &ProjectAccess,
        id: DeployKeyId,
    ) -> CoreResult<ProjectDeployKey> {
        access.require(ProjectAction::ManageDeployCredentials)?;
        let mut conn = self.db.conn().await?;
        let (key, link) = deploy_keys::find_project_deploy_key(&mut conn, access.project().id, id)
            .await?
            .ok_or(CoreError::NotFound("deploy key"))?;
        Ok(ProjectDeployKey { key, link })
    }

    /// Adds a deploy key to the project (Maintainers), as GitLab does: a key the project has
    /// already is answered as it is; a deploy key the actor may use elsewhere is enabled here;
    /// a new key is stored (and so is a private one left on no project, afresh). A key held by
    /// a user, or by a deploy key the actor may not use, is refused.
    pub async fn add_project_deploy_key(
        &self,
        access: &ProjectAccess,
        input: &DeployKeyInput,
    ) -> CoreResult<ProjectDeployKey> {
        access.require(ProjectAction::ManageDeployCredentials)?;
        let parsed = parse_public_key(&input.key).map_err(|message| CoreError::invalid("key", message))?;
        let title = title_of(&input.title, &parsed.comment)?;
        let expires_at = expiry(&input.expires_at)?;
        let project = access.project().id;
        let mut tx = self.db.begin().await?;
        let holder = deploy_keys::find_key_holder(&mut tx, &parsed.fingerprint).await?;
        let existing = match holder {
            Some(KeyHolder::DeployKey(id)) => deploy_keys::find_deploy_key(&mut tx, id).await?,
            _ => None,
        };
        // A private key left on no project (its projects were deleted) is no one's any more.
        let orphan = match &existing {
            Some(key) => !key.is_public && deploy_keys::count_deploy_key_projects(&mut tx, key.id).await? == 0,
            None => false,
        };
        let id = match (holder, existing) {
            (Some(KeyHolder::DeployKey(id)), Some(_)) if !orphan => {
                let here = deploy_keys::find_project_deploy_key(&mut tx, project, id).await?.is_some();
                if !here {
                    if !policy::may_use_deploy_key(&mut tx, access.actor(), id).await? {
                        return Err(fingerprint_taken());
                    }
                    deploy_keys::enable_deploy_key(&mut tx, id, project, input.can_push).await?;
                }
                id
            }
            (Some(KeyHolder::SshKey(_)), _) => return Err(fingerprint_taken()),
            (_, existing) => {
                if let Some(orphan) = existing {
                    deploy_keys::delete_deploy_key(&mut tx, orphan.id).await?;
                }
                let new = NewDeployKey {
                    title: &title,
                    key_type: &parsed.key_type,
                    public_key: &parsed.public_key,
                    fingerprint: &parsed.fingerprint,
                    is_public: false,
                    user: access.actor().user().map(|user| user.id),
                    expires_at,
                };
                let id = insert_key(&mut tx, &new).await?;
                deploy_keys::enable_deploy_key(&mut tx, id, project, input.can_push).await?;
                id
            }
        };
        let (key, link) = deploy_keys::find_project_deploy_key(&mut tx, project, id)
            .await?
            .ok_or(CoreError::NotFound("deploy key"))?;
        tx.commit().await.map_err(DbError::from)?;
        tracing::info!(project.id = %project, key.id = %id, can_push = link.can_push, "deploy key added to a project");
        Ok(ProjectDeployKey { key, link })
    }

    /// Enables on the project a deploy key the actor may use (Maintainers; see
    /// [`policy::may_use_deploy_key`]); read-only unless it already is enabled here.
    pub async fn enable_deploy_key(&self, access: &ProjectAccess, id: DeployKeyId) -> CoreResult<ProjectDeployKey> {
        access.require(ProjectAction::ManageDeployCredentials)?;
        let project = access.project().id;
        let mut tx = self.db.begin().await?;
        if deploy_keys::find_deploy_key(&mut tx, id).await?.is_none()
            || !policy::may_use_deploy_key(&mut tx, access.actor(), id).await?
        {
            return Err(CoreError::NotFound("deploy key"));
        }
        deploy_keys::enable_deploy_key(&mut tx, id, project, false).await?;
        let (key, link) = deploy_keys::find_project_deploy_key(&mut tx, project, id)
            .await?
            .ok_or(CoreError::NotFound("deploy key"))?;
        tx.commit().await.map_err(DbError::from)?;
        tracing::info!(project.id = %project, key.id = %id, "deploy key enabled");
        Ok(ProjectDeployKey { key, link })
    }

    /// Changes whether a deploy key may push to the project, and its title (Maintainers; an
    /// instance key's title only administrators).
    pub async fn update_project_deploy_key(
        &self,
        access: &ProjectAccess,
        id: DeployKeyId,
        change: &DeployKeyChange,
    ) -> CoreResult<ProjectDeployKey> {
        let current = self.find_project_deploy_key(access, id).await?;
        let title = match &change.title {
            Some(title) if *title != current.key.title => {
                if current.key.is_public && !policy::administers(access.actor()) {
                    return Err(CoreError::Forbidden(
                        "only administrators can rename an instance deploy key".to_owned(),
                    ));
                }
                Some(title_of(title, "")?)
            }
            _ => None,
        };
        let project = access.project().id;
        let mut tx = self.db.begin().await?;
        if let Some(title) = &title {
            deploy_keys::update_deploy_key_title(&mut tx, id, title).await?;
        }
        if let Some(can_push) = change.can_push {
            deploy_keys::update_deploy_key_access(&mut tx, id, project, can_push).await?;
        }
        let (key, link) = deploy_keys::find_project_deploy_key(&mut tx, project, id)
            .await?
            .ok_or(CoreError::NotFound("deploy key"))?;
        tx.commit().await.map_err(DbError::from)?;
        Ok(ProjectDeployKey { key, link })
    }

    /// Disables a deploy key on the project (Maintainers); a key no project uses any more is
    /// deleted, unless it is an instance key.
    pub async fn disable_deploy_key(&self, access: &ProjectAccess, id: DeployKeyId) -> CoreResult<()> {
        access.require(ProjectAction::ManageDeployCredentials)?;
        let project = access.project().id;
        let mut tx = self.db.begin().await?;
        let (key, _) = deploy_keys::find_project_deploy_key(&mut tx, project, id)
            .await?
            .ok_or(CoreError::NotFound("deploy key"))?;
        deploy_keys::disable_deploy_key(&mut tx, id, project).await?;
        let orphaned = !key.is_public && deploy_keys::count_deploy_key_projects(&mut tx, id).await? == 0;
        if orphaned {
            deploy_keys::delete_deploy_key(&mut tx, id).await?;
        }
        tx.commit().await.map_err(DbError::from)?;
        tracing::info!(project.id = %project, key.id = %id, deleted = orphaned, "deploy key disabled");
        Ok(())
    }

    /// The deploy keys the actor could enable on the project, besides those it has (Maintainers:
    /// the "enable an existing key" list).
    pub async fn deploy_keys_to_enable(&self, access: &ProjectAccess) -> CoreResult<Vec<DeployKeyRow>> {
        access.require(ProjectAction::ManageDeployCredentials)?;
        let mut conn = self.db.conn().await?;
        let enabled: Vec<DeployKeyId> = deploy_keys::list_project_deploy_keys(&mut conn, access.project().id)
            .await?
            .into_iter()
            .map(|(key, _)| key.id)
            .collect();
        let mut usable = policy::usable_deploy_keys(&mut conn, access.actor()).await?;
        usable.retain(|key| !enabled.contains(&key.id));
        Ok(usable)
    }
}

/// Stores a new deploy key and claims its fingerprint, in the caller's transaction; a key held
/// already (by a user or another deploy key, added meanwhile) is refused.
async fn insert_key(tx: &mut gantry_db::Conn, new: &NewDeployKey<'_>) -> CoreResult<DeployKeyId> {
    let taken = |error| match error {
        DbError::Conflict(_) => fingerprint_taken(),
        other => CoreError::from(other),
    };
    let id = deploy_keys::insert_deploy_key(tx, new).await.map_err(taken)?;
    deploy_keys::claim_fingerprint(tx, new.fingerprint, KeyHolder::DeployKey(id)).await.map_err(taken)?;
    Ok(id)
}

/// A key's expiry, which must lie ahead (GitLab refuses a key that has expired already).
fn expiry(text: &str) -> CoreResult<Option<i64>> {
    let expires_at = parse_expiry(text)?;
    if expires_at.is_some_and(|at| at <= now_millis()) {
        return Err(CoreError::invalid("expires_at", "must be in the future"));
    }
    Ok(expires_at)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_title_comes_from_the_key_when_none_is_given() {
        assert_eq!(title_of("  ci ", "laptop").unwrap(), "ci");
        assert_eq!(title_of("", " deploy@host ").unwrap(), "deploy@host");
        assert!(matches!(title_of(" ", ""), Err(CoreError::Invalid { field: "title", .. })));
        assert!(title_of(&"x".repeat(256), "").is_err());
    }
}
