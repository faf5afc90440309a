//! Secondary e-mail addresses: a user adds and removes their own (`/user/emails`, the profile
//! page), an administrator anyone's (`/users/:id/emails`). An address belongs to one account,
//! as its primary address or as a secondary one. Gantry sends no mail yet, so an address is
//! never confirmed by its owner: `confirmed_at` is set only when an administrator adds it with
//! `skip_confirmation`.

pub use gantry_db::manage::emails::EmailRow;
use gantry_db::manage::{emails, users};
use gantry_db::{Conn, now_millis};
use gantry_types::{Email, EmailId, UserId};

use crate::policy::{self, require_admin};
use crate::{Actor, CoreError, CoreResult};

/// GitLab's answer when an address is already some account's (its `Email` validation).
const TAKEN: &str = "has already been taken";

/// Checks that `email` may become `user`'s primary address: no other account holds it. A
/// secondary address of `user`'s own is dropped (it becomes the primary one).
pub(super) async fn claim_primary_email(conn: &mut Conn, user: UserId, email: &str) -> CoreResult<()> {
    match users::find_email_holder(conn, email).await? {
        Some(holder) if holder != user => Err(CoreError::Conflict("Email has already been taken".into())),
        Some(_) => Ok(emails::delete_user_email_address(conn, user, email).await?),
        None => Ok(()),
    }
}

impl super::Manage<'_> {
    /// The signed-in user's secondary addresses.
    pub async fn list_own_emails(&self, actor: &Actor) -> CoreResult<Vec<EmailRow>> {
        let user = actor.require_user()?;
        let mut conn = self.db.conn().await?;
        Ok(emails::list_emails(&mut conn, user.id).await?)
    }

    /// Any user's secondary addresses (administrators).
    pub async fn list_user_emails(&self, actor: &Actor, user: UserId) -> CoreResult<Vec<EmailRow>> {
        require_admin(actor)?;
        let mut conn = self.db.conn().await?;
        users::find_user_by_id(&mut conn, user).await?.ok_or(CoreError::NotFound("user"))?;
        Ok(emails::list_emails(&mut conn, user).await?)
    }

    /// One of the actor's secondary addresses (administrators: anyone's).
    pub async fn find_email(&self, actor: &Actor, id: EmailId) -> CoreResult<EmailRow> {
        let user = actor.require_user()?;
        let mut conn = self.db.conn().await?;
        let email = emails::find_email(&mut conn, id).await?.ok_or(CoreError::NotFound("email"))?;
        if !policy::owns_or_administers(user, Some(email.user_id)) {
            return Err(CoreError::NotFound("email"));
        }
        Ok(email)
    }

    /// The signed-in user adds a secondary address (unconfirmed: Gantry sends no mail).
    pub async fn add_own_email(&self, actor: &Actor, email: &str) -> CoreResult<EmailRow> {
        let user = actor.require_user()?;
        self.insert_email(user.id, email, None).await
    }

    /// An administrator adds a secondary address to a user; `skip_confirmation` records it as
    /// confirmed now.
    pub async fn add_user_email(
        &self,
        actor: &Actor,
        user: UserId,
        email: &str,
        skip_confirmation: bool,
    ) -> CoreResult<EmailRow> {
        let admin = require_admin(actor)?;
        let mut conn = self.db.conn().await?;
        users::find_user_by_id(&mut conn, user).await?.ok_or(CoreError::NotFound("user"))?;
        drop(conn);
        let added = self.insert_email(user, email, skip_confirmation.then(now_millis)).await?;
        tracing::info!(user.id = %user, email.id = %added.id, by = %admin.id, "secondary e-mail added by an administrator");
        Ok(added)
    }

    async fn insert_email(&self, user: UserId, email: &str, confirmed_at: Option<i64>) -> CoreResult<EmailRow> {
        if email.trim().is_empty() {
            return Err(CoreError::invalid("email", "is missing"));
        }
        let email = Email::parse(email).map_err(|e| CoreError::invalid("email", e.0))?;
        let mut tx = self.db.begin().await?;
        if users::find_email_holder(&mut tx, email.as_str()).await?.is_some() {
            return Err(CoreError::invalid("email", TAKEN));
        }
        let id =
            emails::insert_email(&mut tx, user, email.as_str(), confirmed_at).await.map_err(|error| match error {
                gantry_db::DbError::Conflict(_) => CoreError::invalid("email", TAKEN),
                other => other.into(),
            })?;
        let added = emails::find_email(&mut tx, id).await?.ok_or(CoreError::NotFound("email"))?;
        tx.commit().await.map_err(gantry_db::DbError::from)?;
        tracing::info!(user.id = %user, email.id = %id, "secondary e-mail added");
        Ok(added)
    }

    /// Removes one of the actor's secondary addresses (administrators: anyone's).
    pub async fn delete_email(&self, actor: &Actor, id: EmailId) -> CoreResult<()> {
        let email = self.find_email(actor, id).await?;
        let mut conn = self.db.conn().await?;
        emails::delete_email(&mut conn, email.id).await?;
        tracing::info!(user.id = %email.user_id, email.id = %id, "secondary e-mail removed");
        Ok(())
    }

    /// An administrator removes a user's secondary address (`DELETE /users/:id/emails/:id`):
    /// not found unless it is that user's.
    pub async fn delete_user_email(&self, actor: &Actor, user: UserId, id: EmailId) -> CoreResult<()> {
        require_admin(actor)?;
        let mut conn = self.db.conn().await?;
        users::find_user_by_id(&mut conn, user).await?.ok_or(CoreError::NotFound("user"))?;
        let email = emails::find_email(&mut conn, id).await?.filter(|e| e.user_id == user);
        let email = email.ok_or(CoreError::NotFound("email"))?;
        emails::delete_email(&mut conn, email.id).await?;
        tracing::info!(user.id = %user, email.id = %id, "secondary e-mail removed by an administrator");
        Ok(())
    }
}
