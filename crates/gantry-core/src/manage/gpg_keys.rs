//! Users' GPG keys: added in the profile or through `/user/gpg_keys` (administrators:
//! `/users/:id/gpg_keys`), listed for anyone signed in who may see the user. A key is parsed
//! (`openpgp`) for its fingerprint, which belongs to one account. Commit signatures are not
//! checked against them yet, so revoking a key is deleting it.

pub use gantry_db::manage::gpg_keys::GpgKeyRow;
use gantry_db::manage::gpg_keys::{self, NewGpgKey};
use gantry_db::manage::users;
use gantry_types::{GpgKeyId, UserId};

use super::openpgp::parse_armored_public_key;
use crate::policy::{self, require_admin};
use crate::{Actor, CoreError, CoreResult};

impl super::Manage<'_> {
    /// The keys of a user the actor may see.
    pub async fn list_gpg_keys(&self, actor: &Actor, user: UserId) -> CoreResult<Vec<GpgKeyRow>> {
        let user = self.find_user(actor, user).await?;
        let mut conn = self.db.conn().await?;
        Ok(gpg_keys::list_gpg_keys(&mut conn, user.id).await?)
    }

    /// One key of a user the actor may see; not found unless it is that user's.
    pub async fn find_user_gpg_key(&self, actor: &Actor, user: UserId, id: GpgKeyId) -> CoreResult<GpgKeyRow> {
        let user = self.find_user(actor, user).await?;
        let mut conn = self.db.conn().await?;
        let key = gpg_keys::find_gpg_key(&mut conn, id).await?.filter(|key| key.user_id == user.id);
        key.ok_or(CoreError::NotFound("GPG key"))
    }

    /// One of the actor's keys (administrators: anyone's).
    pub async fn find_gpg_key(&self, actor: &Actor, id: GpgKeyId) -> CoreResult<GpgKeyRow> {
        let user = actor.require_user()?;
        let mut conn = self.db.conn().await?;
        let key = gpg_keys::find_gpg_key(&mut conn, id).await?.ok_or(CoreError::NotFound("GPG key"))?;
        if !policy::owns_or_administers(user, Some(key.user_id)) {
            return Err(CoreError::NotFound("GPG key"));
        }
        Ok(key)
    }

    /// The signed-in user adds a key.
    pub async fn add_gpg_key(&self, actor: &Actor, key: &str) -> CoreResult<GpgKeyRow> {
        let user = actor.require_user()?;
        self.insert_gpg_key(user.id, key).await
    }

    /// An administrator adds a key to a user's account.
    pub async fn add_user_gpg_key(&self, actor: &Actor, user: UserId, key: &str) -> CoreResult<GpgKeyRow> {
        let admin = require_admin(actor)?;
        let mut conn = self.db.conn().await?;
        users::find_user_by_id(&mut conn, user).await?.ok_or(CoreError::NotFound("user"))?;
        drop(conn);
        let added = self.insert_gpg_key(user, key).await?;
        tracing::info!(user.id = %user, key.id = %added.id, by = %admin.id, "GPG key added by an administrator");
        Ok(added)
    }

    async fn insert_gpg_key(&self, user: UserId, key: &str) -> CoreResult<GpgKeyRow> {
        if key.trim().is_empty() {
            return Err(CoreError::invalid("key", "is missing"));
        }
        let parsed = parse_armored_public_key(key).map_err(|refusal| CoreError::invalid("key", refusal.0))?;
        let armored = key.trim();
        let new =
            NewGpgKey { public_key: armored, fingerprint: &parsed.fingerprint, primary_keyid: &parsed.primary_keyid };
        let mut conn = self.db.conn().await?;
        let id = gpg_keys::insert_gpg_key(&mut conn, user, &new).await.map_err(|error| match error {
            gantry_db::DbError::Conflict(_) => CoreError::invalid("fingerprint", "has already been taken"),
            other => other.into(),
        })?;
        let added = gpg_keys::find_gpg_key(&mut conn, id).await?.ok_or(CoreError::NotFound("GPG key"))?;
        tracing::info!(user.id = %user, key.id = %id, fingerprint = %parsed.fingerprint, "GPG key added");
        Ok(added)
    }

    /// Removes one of the actor's keys (administrators: anyone's).
    pub async fn delete_gpg_key(&self, actor: &Actor, id: GpgKeyId) -> CoreResult<()> {
        let key = self.find_gpg_key(actor, id).await?;
        let mut conn = self.db.conn().await?;
        gpg_keys::delete_gpg_key(&mut conn, key.id).await?;
        tracing::info!(user.id = %key.user_id, key.id = %id, "GPG key deleted");
        Ok(())
    }

    /// An administrator removes a user's key; not found unless it is that user's.
    pub async fn delete_user_gpg_key(&self, actor: &Actor, user: UserId, id: GpgKeyId) -> CoreResult<()> {
        require_admin(actor)?;
        let key = self.find_user_gpg_key(actor, user, id).await?;
        let mut conn = self.db.conn().await?;
        gpg_keys::delete_gpg_key(&mut conn, key.id).await?;
        tracing::info!(user.id = %user, key.id = %id, "GPG key deleted by an administrator");
        Ok(())
    }
}

/// The addresses a stored key's user ids name (for showing next to it).
pub fn gpg_key_emails(key: &GpgKeyRow) -> Vec<String> {
    parse_armored_public_key(&key.public_key).map(|parsed| parsed.emails()).unwrap_or_default()
}
