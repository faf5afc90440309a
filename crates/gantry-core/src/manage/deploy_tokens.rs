//! Deploy tokens: a project's or a group's credentials for machines (git over HTTP now, the
//! registries later), with scopes and an optional expiry, shown once and stored as a SHA-256
//! digest. A project's Maintainers manage its tokens; a group's Maintainers see its tokens and
//! its Owners create and revoke them (GitLab's rules); a group's token works for every project
//! below the group.

use gantry_db::manage::deploy_tokens::{self, NewDeployToken};
pub use gantry_db::manage::deploy_tokens::{DeployTokenHolder, DeployTokenRow};
use gantry_db::manage::namespaces::namespace_with_ancestors;
use gantry_db::now_millis;
use gantry_types::{DeployTokenId, DeployTokenScope};

use crate::policy::{self, GroupAccess, GroupAction, ProjectAccess, ProjectAction};
use crate::secret::{digest, random_hex};
use crate::{Actor, CoreError, CoreResult, ProjectRow};

/// Every deploy token starts with this (GitLab's prefix), so secret scanners recognise one and
/// git's credentials say which kind of secret they carry.
pub const DEPLOY_TOKEN_PREFIX: &str = "gldt-";

/// Whose deploy tokens an operation is about, as the actor may see them.
#[derive(Debug, Clone, Copy)]
pub enum DeployTokenOwner<'a> {
    Project(&'a ProjectAccess),
    Group(&'a GroupAccess),
}

impl DeployTokenOwner<'_> {
    fn holder(self) -> DeployTokenHolder {
        match self {
            DeployTokenOwner::Project(access) => DeployTokenHolder::Project(access.project().id),
            DeployTokenOwner::Group(access) => DeployTokenHolder::Group(access.group().id),
        }
    }

    fn kind(self) -> &'static str {
        match self {
            DeployTokenOwner::Project(_) => "project",
            DeployTokenOwner::Group(_) => "group",
        }
    }

    /// Seeing the tokens: a project's Maintainers, a group's Maintainers.
    fn require_read(self) -> CoreResult<()> {
        match self {
            DeployTokenOwner::Project(access) => access.require(ProjectAction::ManageDeployCredentials),
            DeployTokenOwner::Group(access) => access.require(GroupAction::ReadDeployTokens),
        }
    }

    /// Creating and revoking: a project's Maintainers, a group's Owners.
    fn require_manage(self) -> CoreResult<()> {
        match self {
            DeployTokenOwner::Project(access) => access.require(ProjectAction::ManageDeployCredentials),
            DeployTokenOwner::Group(access) => access.require(GroupAction::ManageDeployTokens),
        }
    }
}

/// A deploy token to create.
#[derive(Debug, Clone, Default)]
pub struct DeployTokenInput {
    pub name: String,
    /// Empty: `gitlab+deploy-token-<id>`.
    pub username: String,
    /// GitLab's scope names; at least one.
    pub scopes: Vec<String>,
    /// A date or an RFC 3339 moment; empty for none.
    pub expires_at: String,
}

/// A deploy token just created: the only moment its secret is known.
#[derive(Debug, Clone)]
pub struct NewDeployTokenSecret {
    pub token: DeployTokenRow,
    pub secret: String,
}

/// The user name git sends with a deploy token: the one given, else GitLab's default.
pub fn deploy_token_username(token: &DeployTokenRow) -> String {
    token.username.clone().unwrap_or_else(|| format!("gitlab+deploy-token-{}", token.id))
}

/// A token's scopes in GitLab's order (unknown stored names are skipped).
pub fn deploy_token_scopes(token: &DeployTokenRow) -> Vec<DeployTokenScope> {
    let stored: Vec<&str> = token.scopes.split(',').map(str::trim).collect();
    DeployTokenScope::ALL.iter().copied().filter(|scope| stored.contains(&scope.as_str())).collect()
}

/// Whether the token's expiry has passed.
pub fn deploy_token_expired(token: &DeployTokenRow) -> bool {
    token.expires_at.is_some_and(|at| at <= now_millis())
}

/// Whether the token works: neither revoked nor expired (GitLab's `active`).
pub fn deploy_token_active(token: &DeployTokenRow) -> bool {
    !token.revoked && !deploy_token_expired(token)
}

/// Reads an expiry as GitLab's API takes it: a date (`2030-01-31`: the start of that day, UTC)
/// or a moment (`2030-01-31T08:00:00Z`, RFC 3339); empty is none. A moment already past is
/// taken, as GitLab takes it (the token is then expired).
pub fn parse_expiry(value: &str) -> CoreResult<Option<i64>> {
    let value = value.trim();
    if value.is_empty() {
        return Ok(None);
    }
    let invalid = || {
        CoreError::invalid("expires_at", "is invalid: give a date like 2030-01-31 or a time like 2030-01-31T08:00:00Z")
    };
    let moment = if value.len() == 10 {
        let format = time::macros::format_description!("[year]-[month]-[day]");
        time::Date::parse(value, &format).map_err(|_| invalid())?.midnight().assume_utc()
    } else {
        time::OffsetDateTime::parse(value, &time::format_description::well_known::Rfc3339).map_err(|_| invalid())?
    };
    i64::try_from(moment.unix_timestamp_nanos() / 1_000_000).map(Some).map_err(|_| invalid())
}

/// A user name git may send: letters, digits, `_`, `-`, `+` and `.`, at most 255 (GitLab's rule).
fn check_username(username: &str) -> CoreResult<Option<String>> {
    let username = username.trim();
    if username.is_empty() {
        return Ok(None);
    }
    let allowed = |c: char| c.is_ascii_alphanumeric() || "._+-".contains(c);
    if username.len() > 255 || !username.chars().all(allowed) {
        return Err(CoreError::invalid("username", "can contain only letters, digits, '_', '-', '+', and '.'"));
    }
    Ok(Some(username.to_owned()))
}

/// The scopes asked for, as stored (GitLab's order); at least one, each known.
fn check_scopes(scopes: &[String]) -> CoreResult<String> {
    let mut chosen = Vec::new();
    for name in scopes.iter().flat_map(|s| s.split(',')).map(str::trim).filter(|s| !s.is_empty()) {
        let scope = DeployTokenScope::parse(name).ok_or_else(|| {
            let known: Vec<&str> = DeployTokenScope::ALL.iter().map(|s| s.as_str()).collect();
            CoreError::invalid(
                "scopes",
                format!("does not have a valid value: '{name}' is none of {}", known.join(", ")),
            )
        })?;
        chosen.push(scope);
    }
    let ordered: Vec<&str> =
        DeployTokenScope::ALL.iter().filter(|scope| chosen.contains(scope)).map(|scope| scope.as_str()).collect();
    if ordered.is_empty() {
        return Err(CoreError::invalid("scopes", "can't be blank: choose at least one"));
    }
    Ok(ordered.join(","))
}

impl super::Manage<'_> {
    /// Every deploy token of the instance, or only the active ones (administrators).
    pub async fn list_all_deploy_tokens(&self, actor: &Actor, active: Option<bool>) -> CoreResult<Vec<DeployTokenRow>> {
        policy::require_admin(actor)?;
        let mut conn = self.db.conn().await?;
        let mut tokens = deploy_tokens::list_deploy_tokens(&mut conn, None).await?;
        tokens.retain(|token| active.is_none_or(|active| deploy_token_active(token) == active));
        Ok(tokens)
    }

    /// A project's or group's tokens, or only the active ones.
    pub async fn list_deploy_tokens(
        &self,
        owner: DeployTokenOwner<'_>,
        active: Option<bool>,
    ) -> CoreResult<Vec<DeployTokenRow>> {
        owner.require_read()?;
        let mut conn = self.db.conn().await?;
        let mut tokens = deploy_tokens::list_deploy_tokens(&mut conn, Some(owner.holder())).await?;
        tokens.retain(|token| active.is_none_or(|active| deploy_token_active(token) == active));
        Ok(tokens)
    }

    /// One of a project's or group's tokens.
    pub async fn find_deploy_token(
        &self,
        owner: DeployTokenOwner<'_>,
        id: DeployTokenId,
    ) -> CoreResult<DeployTokenRow> {
        owner.require_read()?;
        let mut conn = self.db.conn().await?;
        deploy_tokens::find_deploy_token(&mut conn, id)
            .await?
            .filter(|token| token.holder == owner.holder())
            .ok_or(CoreError::NotFound("deploy token"))
    }

    /// Creates a token for a project or group; the secret is in the answer, this once.
    pub async fn create_deploy_token(
        &self,
        owner: DeployTokenOwner<'_>,
        creator: &Actor,
        input: &DeployTokenInput,
    ) -> CoreResult<NewDeployTokenSecret> {
        owner.require_manage()?;
        let name = input.name.trim();
        if name.is_empty() {
            return Err(CoreError::invalid("name", "can't be blank"));
        }
        if name.chars().count() > 255 {
            return Err(CoreError::invalid("name", "is too long (at most 255 characters)"));
        }
        let username = check_username(&input.username)?;
        let scopes = check_scopes(&input.scopes)?;
        let expires_at = parse_expiry(&input.expires_at)?;
        let secret = format!("{DEPLOY_TOKEN_PREFIX}{}", random_hex(20));
        let new = NewDeployToken {
            holder: owner.holder(),
            name,
            username: username.as_deref(),
            digest: &digest(&secret),
            scopes: &scopes,
            expires_at,
            creator: creator.user().map(|user| user.id),
        };
        let mut conn = self.db.conn().await?;
        let id = deploy_tokens::insert_deploy_token(&mut conn, &new).await?;
        let token =
            deploy_tokens::find_deploy_token(&mut conn, id).await?.ok_or(CoreError::NotFound("deploy token"))?;
        tracing::info!(token.id = %id, of = owner.kind(), scopes = %scopes, "deploy token created");
        Ok(NewDeployTokenSecret { token, secret })
    }

    /// Revokes a project's or group's token: it stays listed, as revoked, and stops working.
    pub async fn revoke_deploy_token(&self, owner: DeployTokenOwner<'_>, id: DeployTokenId) -> CoreResult<()> {
        owner.require_manage()?;
        let token = self.find_deploy_token(owner, id).await?;
        let mut conn = self.db.conn().await?;
        deploy_tokens::revoke_deploy_token(&mut conn, token.id).await?;
        tracing::info!(token.id = %id, "deploy token revoked");
        Ok(())
    }

    /// Deletes a project's or group's token (the API's `DELETE`, as GitLab's).
    pub async fn delete_deploy_token(&self, owner: DeployTokenOwner<'_>, id: DeployTokenId) -> CoreResult<()> {
        owner.require_manage()?;
        let token = self.find_deploy_token(owner, id).await?;
        let mut conn = self.db.conn().await?;
        deploy_tokens::delete_deploy_token(&mut conn, token.id).await?;
        tracing::info!(token.id = %id, "deploy token deleted");
        Ok(())
    }

    /// The active token behind git's Basic credentials: the token as the password and its user
    /// name as the login. `None` for anything else (unknown, revoked, expired, another name).
    pub async fn authenticate_deploy_token(&self, login: &str, secret: &str) -> CoreResult<Option<DeployTokenRow>> {
        if !secret.starts_with(DEPLOY_TOKEN_PREFIX) || secret.len() > 128 {
            return Ok(None);
        }
        let mut conn = self.db.conn().await?;
        let Some(token) = deploy_tokens::find_deploy_token_by_digest(&mut conn, &digest(secret)).await? else {
            return Ok(None);
        };
        if !deploy_token_active(&token) || deploy_token_username(&token) != login {
            return Ok(None);
        }
        if token.last_used_at.is_none_or(|at| at < now_millis() - 60_000) {
            deploy_tokens::touch_deploy_token(&mut conn, token.id).await?;
        }
        Ok(Some(token))
    }

    /// Whether a deploy token is valid for the project: its own project's, or a group's above
    /// the project.
    pub(crate) async fn deploy_token_covers(&self, token: &DeployTokenRow, project: &ProjectRow) -> CoreResult<bool> {
        Ok(match token.holder {
            DeployTokenHolder::Project(id) => id == project.id,
            DeployTokenHolder::Group(group) => {
                let mut conn = self.db.conn().await?;
                namespace_with_ancestors(&mut conn, project.namespace_id).await?.iter().any(|ns| ns.id == group)
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_are_checked_and_kept_in_gitlabs_order() {
        let given = vec!["write_registry".to_owned(), "read_repository,read_registry".to_owned()];
        assert_eq!(check_scopes(&given).unwrap(), "read_repository,read_registry,write_registry");
        assert!(matches!(check_scopes(&[]), Err(CoreError::Invalid { field: "scopes", .. })));
        let unknown = check_scopes(&["api".to_owned()]).unwrap_err().to_string();
        assert!(unknown.contains("'api'") && unknown.contains("read_repository"), "{unknown}");
    }

    #[test]
    fn expiries_are_dates_or_moments() {
        assert_eq!(parse_expiry("").unwrap(), None);
        assert_eq!(parse_expiry("2030-01-31").unwrap(), Some(1_896_048_000_000));
        assert_eq!(parse_expiry("2030-01-31T08:00:00Z").unwrap(), Some(1_896_076_800_000));
        assert_eq!(parse_expiry("2030-01-31T08:00:00.000+01:00").unwrap(), Some(1_896_073_200_000));
        assert!(parse_expiry("tomorrow").is_err());
        assert!(parse_expiry("2030-02-31").is_err());
    }

    #[test]
    fn usernames_are_gitlabs_and_empty_means_the_default() {
        assert_eq!(check_username(" ").unwrap(), None);
        assert_eq!(check_username("ci+bot.1_x-y").unwrap().as_deref(), Some("ci+bot.1_x-y"));
        assert!(check_username("with space").is_err());
        assert!(check_username("é").is_err());
    }
}
