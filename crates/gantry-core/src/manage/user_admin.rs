//! What administrators do to accounts: approve or reject sign-ups, block, change and delete
//! them, and act for a user (adding a key or a token in their name). Every
//! operation asks `policy::require_admin` first.

use gantry_db::manage::{sessions, users};
use gantry_types::{Email, UserId, parse_display_name};

use super::accounts::{check_password, hash_password};
use super::conflict_as;
use crate::policy::require_admin;
use crate::{Actor, CoreError, CoreResult, UserRow};

/// What an administrator changes of an account; `None` leaves a value as it is.
#[derive(Debug, Clone, Default)]
pub struct UserChanges {
    pub name: Option<String>,
    pub email: Option<String>,
    /// Only the same username (any case) is accepted for now.
    pub username: Option<String>,
    pub password: Option<String>,
    pub admin: Option<bool>,
}

impl super::Manage<'_> {
    /// The user an administrator acts for (`POST /users/:id/keys`, `/personal_access_tokens`):
    /// what is then done for them is done as them, with their own checks.
    pub async fn act_for(&self, actor: &Actor, id: UserId) -> CoreResult<Actor> {
        require_admin(actor)?;
        let mut conn = self.db.conn().await?;
        let user = users::find_user_by_id(&mut conn, id).await?.ok_or(CoreError::NotFound("user"))?;
        Ok(Actor::User(user))
    }

    /// The personal namespace of a user the actor may see (`GET /users/:id/projects`).
    pub async fn user_namespace(&self, actor: &Actor, id: UserId) -> CoreResult<gantry_types::NamespaceId> {
        self.find_user(actor, id).await?;
        let mut conn = self.db.conn().await?;
        let namespace = gantry_db::manage::namespaces::find_user_namespace(&mut conn, id).await?;
        Ok(namespace.ok_or(CoreError::NotFound("user"))?.id)
    }

    /// An administrator changes a user's name, e-mail, password or administration (`None`
    /// leaves a value as it is). A new password ends the user's sessions. The username cannot
    /// change yet (their namespace's paths would have to follow).
    pub async fn update_user(&self, actor: &Actor, id: UserId, changes: &UserChanges) -> CoreResult<UserRow> {
        let admin = require_admin(actor)?;
        let mut tx = self.db.begin().await?;
        let user = users::find_user_by_id(&mut tx, id).await?.ok_or(CoreError::NotFound("user"))?;
        if let Some(username) = &changes.username
            && !username.eq_ignore_ascii_case(&user.username)
        {
            return Err(CoreError::invalid("username", "cannot be changed yet"));
        }
        if changes.admin == Some(false) && admin.id == id {
            return Err(CoreError::Conflict("you can't take away your own administrator rights".into()));
        }
        let name = match &changes.name {
            Some(name) => parse_display_name(name).map_err(|e| CoreError::invalid("name", e.0))?,
            None => user.name.clone(),
        };
        let email = match &changes.email {
            Some(email) => Email::parse(email).map_err(|e| CoreError::invalid("email", e.0))?.as_str().to_owned(),
            None => user.email.clone(),
        };
        let hash = match &changes.password {
            Some(password) => {
                check_password(password)?;
                Some(hash_password(password.clone()).await?)
            }
            None => None,
        };
        if let Some(other) = users::find_user_by_login(&mut tx, &email).await?
            && other.id != id
        {
            return Err(CoreError::Conflict("email has already been taken".into()));
        }
        users::update_profile(&mut tx, id, &name, &email).await.map_err(conflict_as("email has already been taken"))?;
        if let Some(grant) = changes.admin {
            users::set_admin(&mut tx, id, grant).await?;
        }
        if let Some(hash) = &hash {
            users::update_password(&mut tx, id, hash).await?;
            sessions::delete_user_sessions(&mut tx, id).await?;
        }
        let updated = users::find_user_by_id(&mut tx, id).await?.ok_or(CoreError::NotFound("user"))?;
        tx.commit().await.map_err(gantry_db::DbError::from)?;
        tracing::info!(user.id = %id, by = %admin.id, password = hash.is_some(), "account changed by an administrator");
        Ok(updated)
    }

    /// An administrator blocks or unblocks a user; blocking ends their sessions.
    pub async fn set_user_blocked(&self, actor: &Actor, id: UserId, blocked: bool) -> CoreResult<UserRow> {
        let admin = require_admin(actor)?;
        if admin.id == id && blocked {
            return Err(CoreError::Conflict("you can't block yourself".into()));
        }
        let mut tx = self.db.begin().await?;
        let user = users::find_user_by_id(&mut tx, id).await?.ok_or(CoreError::NotFound("user"))?;
        if user.pending_approval {
            return Err(CoreError::Conflict("the user is waiting for approval; approve or reject them instead".into()));
        }
        users::set_blocked(&mut tx, id, blocked).await?;
        if blocked {
            sessions::delete_user_sessions(&mut tx, id).await?;
            crate::ci::schedules::deactivate_schedules_of(&mut tx, id).await?;
        }
        tx.commit().await.map_err(gantry_db::DbError::from)?;
        tracing::info!(user.id = %id, blocked, by = %admin.id, "user block state changed");
        Ok(UserRow { blocked, ..user })
    }

    /// An administrator approves an account waiting for approval: it becomes active.
    pub async fn approve_user(&self, actor: &Actor, id: UserId) -> CoreResult<UserRow> {
        let admin = require_admin(actor)?;
        let mut tx = self.db.begin().await?;
        let user = users::find_user_by_id(&mut tx, id).await?.ok_or(CoreError::NotFound("user"))?;
        if !users::approve_user(&mut tx, id).await? {
            return Err(CoreError::Conflict("the user you are trying to approve is not pending approval".into()));
        }
        tx.commit().await.map_err(gantry_db::DbError::from)?;
        tracing::info!(user.id = %id, by = %admin.id, "sign-up approved");
        Ok(UserRow { blocked: false, pending_approval: false, ..user })
    }

    /// An administrator rejects an account waiting for approval: it is deleted, with its
    /// personal namespace, and the username and e-mail address are free again.
    pub async fn reject_user(&self, actor: &Actor, id: UserId) -> CoreResult<()> {
        let admin = require_admin(actor)?;
        let mut tx = self.db.begin().await?;
        users::find_user_by_id(&mut tx, id).await?.ok_or(CoreError::NotFound("user"))?;
        if !users::delete_pending_user(&mut tx, id).await? {
            return Err(CoreError::Conflict("the user does not have a pending request".into()));
        }
        tx.commit().await.map_err(gantry_db::DbError::from)?;
        tracing::info!(user.id = %id, by = %admin.id, "sign-up rejected; account deleted");
        Ok(())
    }

    /// An administrator deletes an account, with its personal projects (their repositories
    /// too), memberships, tokens, keys and sessions. Refused for oneself, and while the user is
    /// the only Owner of a group (transfer or delete those first).
    pub async fn delete_user(&self, actor: &Actor, id: UserId) -> CoreResult<()> {
        let admin = require_admin(actor)?;
        if admin.id == id {
            return Err(CoreError::Conflict("you can't delete your own account here".into()));
        }
        let mut tx = self.db.begin().await?;
        let user = users::find_user_by_id(&mut tx, id).await?.ok_or(CoreError::NotFound("user"))?;
        let sole = users::groups_solely_owned_by(&mut tx, id).await?;
        if !sole.is_empty() {
            return Err(CoreError::Conflict(format!(
                "{} is the only Owner of {}: give those groups another Owner, or delete them, first",
                user.username,
                sole.join(", ")
            )));
        }
        let projects = match gantry_db::manage::namespaces::find_user_namespace(&mut tx, id).await? {
            Some(namespace) => gantry_db::manage::projects::project_ids_in_subtree(&mut tx, namespace.id).await?,
            None => Vec::new(),
        };
        users::delete_user(&mut tx, id).await?;
        tx.commit().await.map_err(gantry_db::DbError::from)?;
        for project in projects {
            if let Err(error) = self.repos.delete(project).await {
                tracing::warn!(project.id = %project, %error, "cannot remove a deleted user's repository");
            }
        }
        tracing::info!(user.id = %id, by = %admin.id, "account deleted");
        Ok(())
    }
}
