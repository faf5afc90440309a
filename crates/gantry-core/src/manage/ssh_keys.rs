//! Users' SSH keys: added in the profile or through `/user/keys`, checked when a git client
//! authenticates over SSH. Keys are parsed and normalised here (so the same key cannot be
//! added twice in two spellings); weak kinds are refused.

pub use gantry_db::manage::ssh_keys::SshKeyRow;
use gantry_db::manage::ssh_keys::{self, NewSshKey};
use gantry_types::UserId;
use ssh_key::{Algorithm, HashAlg, PublicKey, public::KeyData};

use crate::policy;
use crate::{Actor, CoreError, CoreResult, UserRow, now_millis};

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
        let mut conn = self.db.conn().await?;
        let id = ssh_keys::insert_ssh_key(&mut conn, user.id, &new)
            .await
            .map_err(super::conflict_as("this key has already been added to an account"))?;
        tracing::info!(user.id = %user.id, key.id = id, fingerprint = %parsed.fingerprint, "SSH key added");
        ssh_keys::find_ssh_key(&mut conn, id).await?.ok_or(CoreError::NotFound("key"))
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

    /// Removes one of the actor's keys (administrators: anyone's).
    pub async fn delete_ssh_key(&self, actor: &Actor, id: i64) -> CoreResult<()> {
        let key = self.find_ssh_key(actor, id).await?;
        let mut conn = self.db.conn().await?;
        ssh_keys::delete_ssh_key(&mut conn, key.id).await?;
        tracing::info!(user.id = %key.user_id, key.id = key.id, "SSH key deleted");
        Ok(())
    }

    /// The user a key with this fingerprint belongs to, unless it expired or the user is
    /// blocked.
    pub async fn authenticate_ssh_key(&self, fingerprint: &str) -> CoreResult<Option<UserRow>> {
        let mut conn = self.db.conn().await?;
        let Some((key, user)) = ssh_keys::find_ssh_key_by_fingerprint(&mut conn, fingerprint).await? else {
            return Ok(None);
        };
        let now = now_millis();
        if user.blocked || key.expires_at.is_some_and(|at| at <= now) {
            return Ok(None);
        }
        if key.last_used_at.is_none_or(|at| at < now - 60_000) {
            ssh_keys::touch_ssh_key(&mut conn, key.id).await?;
        }
        Ok(Some(user))
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
