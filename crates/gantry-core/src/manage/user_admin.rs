//! What administrators do to accounts: approve or reject sign-ups; block, ban or deactivate
//! them and undo it; change and delete them; and act for a user (adding a key or a token in
//! their name). Every operation asks `policy::require_admin` first.

pub use gantry_db::manage::users::UserState;
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

/// What an administrator does to a user's state (GitLab's user moderation).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Moderation {
    /// Any account but one already blocked (or banned, or waiting for approval) becomes
    /// blocked.
    Block,
    /// A blocked, banned or waiting account becomes active; not a deactivated one.
    Unblock,
    /// An active account becomes banned.
    Ban,
    /// A banned account becomes active.
    Unban,
    /// An active account becomes deactivated (it becomes active again when its user signs in
    /// on the web).
    Deactivate,
    /// A deactivated account becomes active; not a blocked one.
    Activate,
}

/// What came of a [`Moderation`] that was not refused; GitLab answers `true`, `null` and
/// `false` for them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ModerationOutcome {
    /// The state changed.
    Done,
    /// The user already was in that state (blocking a blocked user, deactivating a
    /// deactivated one).
    AlreadySo,
    /// Nothing to undo (unblocking or activating an active user).
    NotApplicable,
}

enum Target {
    Move(UserState),
    AlreadySo,
    NotApplicable,
}

/// Where `action` takes an account in `state`, by GitLab's state machine and its API's
/// refusals (worded as GitLab words them).
fn moderation_target(action: Moderation, state: UserState) -> CoreResult<Target> {
    use UserState::*;
    let refuse = |message: String| Err(CoreError::Forbidden(message));
    let blocked = matches!(state, Blocked | BlockedPendingApproval | Banned);
    match action {
        Moderation::Block if blocked => Ok(Target::AlreadySo),
        Moderation::Block => Ok(Target::Move(Blocked)),
        Moderation::Unblock if state == Deactivated => {
            refuse("403 Forbidden - Deactivated users cannot be unblocked by the API".into())
        }
        Moderation::Unblock if blocked => Ok(Target::Move(Active)),
        Moderation::Unblock => Ok(Target::NotApplicable),
        Moderation::Ban if state == Active => Ok(Target::Move(Banned)),
        Moderation::Ban => refuse(format!("You cannot ban {} users.", state.as_str())),
        Moderation::Unban if state == Banned => Ok(Target::Move(Active)),
        Moderation::Unban => refuse(format!("You cannot unban {} users.", state.as_str())),
        Moderation::Deactivate if blocked => {
            refuse("403 Forbidden - A blocked user cannot be deactivated by the API".into())
        }
        Moderation::Deactivate if state == Deactivated => Ok(Target::AlreadySo),
        Moderation::Deactivate => Ok(Target::Move(Deactivated)),
        Moderation::Activate if blocked => {
            refuse("403 Forbidden - A blocked user must be unblocked to be activated".into())
        }
        Moderation::Activate if state == Deactivated => Ok(Target::Move(Active)),
        Moderation::Activate => Ok(Target::NotApplicable),
    }
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
        super::emails::claim_primary_email(&mut tx, id, &email).await?;
        users::update_profile(&mut tx, id, &name, &email).await.map_err(conflict_as("Email has already been taken"))?;
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

    /// An administrator blocks, unblocks, bans, unbans, deactivates or activates a user, by
    /// GitLab's rules (see [`Moderation`]). Leaving the active state ends the user's sessions;
    /// blocking also turns their pipeline schedules off.
    pub async fn moderate_user(&self, actor: &Actor, id: UserId, action: Moderation) -> CoreResult<ModerationOutcome> {
        let admin = require_admin(actor)?;
        let mut tx = self.db.begin().await?;
        let user = users::find_user_by_id(&mut tx, id).await?.ok_or(CoreError::NotFound("user"))?;
        if action == Moderation::Block && admin.id == id {
            return Err(CoreError::Forbidden(
                "403 Forbidden - The API initiating user cannot be blocked by the API".into(),
            ));
        }
        let to = match moderation_target(action, user.state)? {
            Target::Move(to) => to,
            Target::AlreadySo => return Ok(ModerationOutcome::AlreadySo),
            Target::NotApplicable => return Ok(ModerationOutcome::NotApplicable),
        };
        if !users::change_state(&mut tx, id, user.state, to).await? {
            return Err(CoreError::Conflict("the user's state changed meanwhile; try again".into()));
        }
        if to != UserState::Active {
            sessions::delete_user_sessions(&mut tx, id).await?;
        }
        if to == UserState::Blocked {
            crate::ci::schedules::deactivate_schedules_of(&mut tx, id).await?;
        }
        tx.commit().await.map_err(gantry_db::DbError::from)?;
        tracing::info!(user.id = %id, from = user.state.as_str(), to = to.as_str(), by = %admin.id, "user state changed");
        Ok(ModerationOutcome::Done)
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
        Ok(UserRow { state: UserState::Active, blocked: false, pending_approval: false, ..user })
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
