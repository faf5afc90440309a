//! Users' SSH keys: added in the profile or through `/user/keys`, checked when a git client
//! authenticates over SSH (where a key may also be a deploy key: one key, one identity). Keys
//! are parsed and normalised here (so the same key cannot be added twice in two spellings);
//! weak kinds are refused. Administrators look keys up by id or fingerprint (`/keys`).

use gantry_db::manage::deploy_keys::{self, DeployKeyRow, KeyHolder, KeyProjectRow};
pub use gantry_db::manage::ssh_keys::SshKeyRow;
use gantry_db::manage::ssh_keys::{self, NewSshKey};
use gantry_db::manage::users;
use gantry_types::UserId;
use ssh_key::{Algorithm, HashAlg, PublicKey, public::KeyData};

use crate::policy;
use crate::{Actor, CoreError, CoreResult, UserRow, now_millis};

/// Who a key the SSH server was offered stands for.
#[derive(Debug, Clone)]
pub enum SshIdentity {
    /// A user's key: the user's rights.
    User(UserRow),
    /// A deploy key: the projects it is enabled on.
    DeployKey(DeployKeyRow),
}

/// A key found by its fingerprint (the keys API), with whom it belongs to.
#[derive(Debug, Clone)]
pub enum KeyByFingerprint {
    /// A user's SSH key and its user.
    User(SshKeyRow, UserRow),
    /// A deploy key, who added it (if that account still exists) and the projects it is
    /// enabled on.
    Deploy(DeployKeyRow, Option<UserRow>, Vec<KeyProjectRow>),
}

/// The smallest RSA key accepted.
const MIN_RSA_BITS: usize = 2048;

/// A public key as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedKey {
    /// The algorithm name (`ssh-ed25519`, `ssh-rsa`, `ecdsa-sha2-nistp256`, …).
    pub key_type: String,
    /// `<algorithm> <base64>` without the comment.
    pub public_key: String,
    /// `SHA256:<base64>`, as `ssh-keygen -l` prints it.
    pub fingerprint: String,
    /// The comment at the end of the line (a default title).
    pub comment: String,
}

/// Parses one line of an `authorized_keys`-style public key.
pub fn parse_public_key(text: &str) -> Result<ParsedKey, String> {
    let text = text.trim();
    if text.is_empty() {
        return Err("is empty: paste the contents of your .pub file".to_owned());
    }
    if text.contains("PRIVATE KEY") {
        return Err(
            "looks like a private key: paste the public key (the .pub file) instead, and keep the private one secret"
                .to_owned(),
        );
    }
    let key = PublicKey::from_openssh(text).map_err(|_| {
        "is not a valid OpenSSH public key (it starts with ssh-ed25519, ssh-rsa or ecdsa-sha2-…)".to_owned()
    })?;
    match key.key_data() {
        KeyData::Dsa(_) => return Err("is a DSA key, which is no longer secure; use an Ed25519 key".to_owned()),
        KeyData::Rsa(rsa) => {
            let bits = rsa.n().as_positive_bytes().map_or(0, |n| n.len() * 8);
            if bits < MIN_RSA_BITS {
                return Err(format!("is an RSA key of {bits} bits; at least {MIN_RSA_BITS} are needed"));
            }
        }
        _ => {}
    }
    if matches!(key.algorithm(), Algorithm::Other(_)) {
        return Err(format!("uses the unsupported algorithm {}", key.algorithm()));
    }
    let mut bare = key.clone();
    bare.set_comment("");
    let public_key = bare.to_openssh().map_err(|_| "cannot be encoded".to_owned())?.trim().to_owned();
    Ok(ParsedKey {
        key_type: key.algorithm().to_string(),
        public_key,
        fingerprint: key.fingerprint(HashAlg::Sha256).to_string(),
        comment: key.comment().to_string(),
    })
}

/// A key to add.
#[derive(Debug, Clone, Default)]
pub struct NewKeyInput {
    pub title: String,
    pub key: String,
    pub expires_at: Option<i64>,
}

impl super::Manage<'_> {
    /// Adds a key to the actor's account. The title defaults to the key's comment.
    pub async fn add_ssh_key(&self, actor: &Actor, input: &NewKeyInput) -> CoreResult<SshKeyRow> {
        let user = actor.require_user()?;
        let parsed = parse_public_key(&input.key).map_err(|message| CoreError::invalid("key", message))?;
        let title = if input.title.trim().is_empty() { parsed.comment.trim() } else { input.title.trim() };
        if title.is_empty() {
            return Err(CoreError::invalid("title", "can't be blank"));
        }
        if title.chars().count() > 255 {
            return Err(CoreError::invalid("title", "is too long (at most 255 characters)"));
        }
        if input.expires_at.is_some_and(|at| at <= now_millis()) {
            return Err(CoreError::invalid("expires_at", "must be in the future"));
        }
        let new = NewSshKey {
            title,
            key_type: &parsed.key_type,
            public_key: &parsed.public_key,
            fingerprint: &parsed.fingerprint,
            expires_at: input.expires_at,
        };
        let taken = "this key is already in use, as an account's SSH key or as a deploy key";
        let mut tx = self.db.begin().await?;
        let id = ssh_keys::insert_ssh_key(&mut tx, user.id, &new).await.map_err(super::conflict_as(taken))?;
        deploy_keys::claim_fingerprint(&mut tx, &parsed.fingerprint, KeyHolder::SshKey(id))
            .await
            .map_err(super::conflict_as(taken))?;
        let key = ssh_keys::find_ssh_key(&mut tx, id).await?.ok_or(CoreError::NotFound("key"))?;
        tx.commit().await.map_err(gantry_db::DbError::from)?;
        tracing::info!(user.id = %user.id, key.id = id, fingerprint = %parsed.fingerprint, "SSH key added");
        Ok(key)
    }

    /// A user's keys: anyone may list them, as GitLab's `/users/:id/keys` allows (public
    /// keys are public).
    pub async fn list_ssh_keys(&self, user: UserId) -> CoreResult<Vec<SshKeyRow>> {
        let mut conn = self.db.conn().await?;
        Ok(ssh_keys::list_ssh_keys(&mut conn, user).await?)
    }

    /// One of the actor's keys (administrators: anyone's).
    pub async fn find_ssh_key(&self, actor: &Actor, id: i64) -> CoreResult<SshKeyRow> {
        let user = actor.require_user()?;
        let mut conn = self.db.conn().await?;
        let key = ssh_keys::find_ssh_key(&mut conn, id).await?.ok_or(CoreError::NotFound("key"))?;
        if !policy::owns_or_administers(user, Some(key.user_id)) {
            return Err(CoreError::NotFound("key"));
        }
        Ok(key)
    }

    /// One key of a user (public keys are public: anyone who may see the user, as GitLab's
    /// `/users/:id/keys/:key_id`).
    pub async fn find_user_ssh_key(&self, actor: &Actor, user: UserId, id: i64) -> CoreResult<SshKeyRow> {
        let user = self.find_user(actor, user).await?;
        let mut conn = self.db.conn().await?;
        ssh_keys::find_ssh_key(&mut conn, id)
            .await?
            .filter(|key| key.user_id == user.id)
            .ok_or(CoreError::NotFound("key"))
    }

    /// Removes a key from a user's account (administrators).
    pub async fn delete_user_ssh_key(&self, actor: &Actor, user: UserId, id: i64) -> CoreResult<()> {
        policy::require_admin(actor)?;
        let mut conn = self.db.conn().await?;
        let key = ssh_keys::find_ssh_key(&mut conn, id)
            .await?
            .filter(|key| key.user_id == user)
            .ok_or(CoreError::NotFound("key"))?;
        ssh_keys::delete_ssh_key(&mut conn, key.id).await?;
        tracing::info!(user.id = %key.user_id, key.id = key.id, "SSH key deleted by an administrator");
        Ok(())
    }

    /// Removes one of the actor's keys (administrators: anyone's).
    pub async fn delete_ssh_key(&self, actor: &Actor, id: i64) -> CoreResult<()> {
        let key = self.find_ssh_key(actor, id).await?;
        let mut conn = self.db.conn().await?;
        ssh_keys::delete_ssh_key(&mut conn, key.id).await?;
        tracing::info!(user.id = %key.user_id, key.id = key.id, "SSH key deleted");
        Ok(())
    }

    /// Who the key with this fingerprint stands for: its user (unless the key expired or the
    /// user is blocked) or a deploy key (unless it expired).
    pub async fn authenticate_ssh_key(&self, fingerprint: &str) -> CoreResult<Option<SshIdentity>> {
        let mut conn = self.db.conn().await?;
        let now = now_millis();
        let recently = |used: Option<i64>| used.is_some_and(|at| at >= now - 60_000);
        match deploy_keys::find_key_holder(&mut conn, fingerprint).await? {
            None => Ok(None),
            Some(KeyHolder::SshKey(id)) => {
                let Some(key) = ssh_keys::find_ssh_key(&mut conn, id).await? else { return Ok(None) };
                let Some(user) = users::find_user_by_id(&mut conn, key.user_id).await? else { return Ok(None) };
                if user.blocked || key.expires_at.is_some_and(|at| at <= now) {
                    return Ok(None);
                }
                if !recently(key.last_used_at) {
                    ssh_keys::touch_ssh_key(&mut conn, key.id).await?;
                }
                Ok(Some(SshIdentity::User(user)))
            }
            Some(KeyHolder::DeployKey(id)) => {
                let Some(key) = deploy_keys::find_deploy_key(&mut conn, id).await? else { return Ok(None) };
                if key.expires_at.is_some_and(|at| at <= now) {
                    return Ok(None);
                }
                if !recently(key.last_used_at) {
                    deploy_keys::touch_deploy_key(&mut conn, key.id).await?;
                }
                Ok(Some(SshIdentity::DeployKey(key)))
            }
        }
    }

    /// Any user's SSH key with its user (administrators: GitLab's `GET /keys/:id`).
    pub async fn find_any_ssh_key(&self, actor: &Actor, id: i64) -> CoreResult<(SshKeyRow, UserRow)> {
        policy::require_admin(actor)?;
        let mut conn = self.db.conn().await?;
        let key = ssh_keys::find_ssh_key(&mut conn, id).await?.ok_or(CoreError::NotFound("key"))?;
        let user = users::find_user_by_id(&mut conn, key.user_id).await?.ok_or(CoreError::NotFound("key"))?;
        Ok((key, user))
    }

    /// The user's SSH key or the deploy key with this fingerprint (administrators: GitLab's
    /// `GET /keys?fingerprint=`). Fingerprints are SHA-256 ones (`SHA256:…`), as `ssh-keygen
    /// -l` prints them.
    pub async fn find_key_by_fingerprint(&self, actor: &Actor, fingerprint: &str) -> CoreResult<KeyByFingerprint> {
        policy::require_admin(actor)?;
        let fingerprint = fingerprint.trim();
        if fingerprint.is_empty() {
            return Err(CoreError::invalid("fingerprint", "is missing"));
        }
        if !fingerprint.starts_with("SHA256:") {
            return Err(CoreError::invalid(
                "fingerprint",
                "must be a SHA256 fingerprint (SHA256:…, as ssh-keygen -l prints it); MD5 ones are not kept",
            ));
        }
        let mut conn = self.db.conn().await?;
        if let Some(key) = ssh_keys::find_ssh_key_by_fingerprint(&mut conn, fingerprint).await? {
            let user = users::find_user_by_id(&mut conn, key.user_id).await?.ok_or(CoreError::NotFound("key"))?;
            return Ok(KeyByFingerprint::User(key, user));
        }
        let key = deploy_keys::find_deploy_key_by_fingerprint(&mut conn, fingerprint)
            .await?
            .ok_or(CoreError::NotFound("key"))?;
        let user = match key.user_id {
            Some(id) => users::find_user_by_id(&mut conn, id).await?,
            None => None,
        };
        let projects = deploy_keys::list_deploy_key_projects(&mut conn, key.id).await?;
        Ok(KeyByFingerprint::Deploy(key, user, projects))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ED25519: &str = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAILuQv48Nf5fGcJQbPCqq0oO8XrxxtKoN8EDKUUr8Bvpu ada@laptop";
    const RSA_1024: &str = "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAAAgQC6DLv02dyyD8kc7fuPaLXKaiIglHFpcw0zcL2J8m7TZEHrhMqccBeigaPYzCch+AvDQLqJbJpqIcDP1UyiwewXrHdE3IzgMD6kZsSu+cDFjW/lfH33sa51U9OF/x8wF5a81lUE3ZxrQb4lNI+lotHWeyZVeqOPB3wG4aVH3MxJmw==";

    #[test]
    fn parses_and_normalises_keys() {
        let parsed = parse_public_key(&format!("  {ED25519}\n")).unwrap();
        assert_eq!(parsed.key_type, "ssh-ed25519");
        assert_eq!(parsed.comment, "ada@laptop");
        assert!(parsed.fingerprint.starts_with("SHA256:"));
        assert!(!parsed.public_key.contains("ada@laptop"));
        let other_comment = parse_public_key(&ED25519.replace("ada@laptop", "work")).unwrap();
        assert_eq!(other_comment.fingerprint, parsed.fingerprint, "the comment is not part of the key");
    }

    #[test]
    fn refuses_what_is_not_a_usable_public_key() {
        assert!(parse_public_key("").unwrap_err().contains("empty"));
        assert!(parse_public_key("-----BEGIN OPENSSH PRIVATE KEY-----").unwrap_err().contains("private key"));
        assert!(parse_public_key("ssh-ed25519 not-base64").unwrap_err().contains("not a valid"));
        assert!(parse_public_key("hello world").unwrap_err().contains("not a valid"));
        assert!(parse_public_key(RSA_1024).unwrap_err().contains("1024 bits"));
    }
}
