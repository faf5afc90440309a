//! Project and group access tokens (GitLab's): tokens that act for a project or a group rather
//! than for a person. Each is the personal access token of a bot user made for it
//! (`project_<id>_bot_<hex>`, `group_<id>_bot_<hex>`), a member of that project or group only,
//! with the role the token was given; so the bot reaches exactly what that role reaches there,
//! through the same authorisation as everyone. A project's Maintainers manage its tokens and a
//! group's Owners manage the group's; a token's role is at most its creator's. Revoking a token
//! blocks its bot; rotating one revokes it and gives the same bot a new secret. Deleting the
//! project or group deletes its bots (the schema cascades).

use gantry_db::manage::members::{self, MemberSource};
use gantry_db::manage::namespaces::{NamespaceKind, NewNamespace, insert_namespace};
use gantry_db::manage::project_limits;
use gantry_db::manage::tokens;
pub use gantry_db::manage::tokens::ResourceTokenRow;
use gantry_db::manage::users::{self, BotOf, NewUser, UserState};
use gantry_db::now_millis;
use gantry_types::{AccessLevel, TokenId, TokenScope, TokenScopes, Visibility, parse_display_name};

use super::tokens::{NewToken, TOKEN_PREFIX, parse_impersonation_expiry_date};
use crate::policy::{GroupAccess, GroupAction, ProjectAccess, ProjectAction};
use crate::secret::{digest, random_hex};
use crate::{Actor, CoreError, CoreResult};

/// A token without an expiry date gets one a year ahead (GitLab's maximum lifetime).
const DEFAULT_LIFETIME_MILLIS: i64 = 365 * 86_400_000;

/// Whose access tokens an operation is about, as the actor may see it.
#[derive(Debug, Clone, Copy)]
pub enum AccessTokenResource<'a> {
    Project(&'a ProjectAccess),
    Group(&'a GroupAccess),
}

impl<'a> AccessTokenResource<'a> {
    fn bot_of(self) -> BotOf {
        match self {
            AccessTokenResource::Project(access) => BotOf::Project(access.project().id),
            AccessTokenResource::Group(access) => BotOf::Group(access.group().id),
        }
    }

    fn kind(self) -> &'static str {
        match self {
            AccessTokenResource::Project(_) => "project",
            AccessTokenResource::Group(_) => "group",
        }
    }

    fn resource_id(self) -> i64 {
        match self {
            AccessTokenResource::Project(access) => access.project().id.0,
            AccessTokenResource::Group(access) => access.group().id.0,
        }
    }

    fn actor(self) -> &'a Actor {
        match self {
            AccessTokenResource::Project(access) => access.actor(),
            AccessTokenResource::Group(access) => access.actor(),
        }
    }

    /// A project's Maintainers, a group's Owners (and administrators).
    fn require_manage(self) -> CoreResult<()> {
        match self {
            AccessTokenResource::Project(access) => access.require(ProjectAction::ManageAccessTokens),
            AccessTokenResource::Group(access) => access.require(GroupAction::ManageAccessTokens),
        }
    }

    /// The highest role the actor may give a token: their own (administrators: Owner).
    pub fn grantable(self) -> Option<AccessLevel> {
        match self {
            AccessTokenResource::Project(access) => access.highest_grantable_role(),
            AccessTokenResource::Group(access) => access.highest_grantable_role(),
        }
    }
}

/// An access token to create.
#[derive(Debug, Clone, Default)]
pub struct AccessTokenInput {
    pub name: String,
    /// GitLab's scope names (each may also be a comma list); at least one.
    pub scopes: Vec<String>,
    /// GitLab's number; `None`: Maintainer (GitLab's default).
    pub access_level: Option<i64>,
    /// `YYYY-MM-DD`; empty: a year from now.
    pub expires_at: String,
}

/// Which scopes a project or group token may have: those of personal tokens but the ones that
/// only make sense for a person (`read_user`) or an administrator (`sudo`, `admin_mode`).
fn check_scopes(scopes: &[String]) -> CoreResult<TokenScopes> {
    let mut chosen = Vec::new();
    for name in scopes.iter().flat_map(|s| s.split(',')).map(str::trim).filter(|s| !s.is_empty()) {
        let allowed = |scope: &TokenScope| !scope.is_for_administrators() && *scope != TokenScope::ReadUser;
        let scope = TokenScope::parse(name).filter(allowed).ok_or_else(|| {
            let known: Vec<&str> = TokenScope::ALL.iter().filter(|s| allowed(s)).map(|s| s.as_str()).collect();
            CoreError::invalid(
                "scopes",
                format!("does not have a valid value: '{name}' is none of {}", known.join(", ")),
            )
        })?;
        chosen.push(scope);
    }
    TokenScopes::new(chosen).ok_or_else(|| CoreError::invalid("scopes", "can't be blank: choose at least one"))
}

fn check_level(value: Option<i64>, grantable: Option<AccessLevel>) -> CoreResult<AccessLevel> {
    let level = match value {
        None => AccessLevel::Maintainer,
        Some(value) => AccessLevel::from_i64(value).ok_or_else(|| {
            CoreError::invalid("access_level", "does not have a valid value: give 10, 20, 30, 40 or 50")
        })?,
    };
    if grantable.is_none_or(|most| level > most) {
        return Err(CoreError::invalid(
            "access_level",
            format!("{} is above your own role: a token's role can be at most yours", level.label()),
        ));
    }
    Ok(level)
}

impl super::Manage<'_> {
    /// A project's or group's access tokens, newest first, revoked and expired ones too.
    pub async fn list_access_tokens(&self, resource: AccessTokenResource<'_>) -> CoreResult<Vec<ResourceTokenRow>> {
        resource.require_manage()?;
        let mut conn = self.db.conn().await?;
        Ok(tokens::list_resource_tokens(&mut conn, resource.bot_of()).await?)
    }

    /// One of a project's or group's access tokens.
    pub async fn find_access_token(
        &self,
        resource: AccessTokenResource<'_>,
        id: TokenId,
    ) -> CoreResult<ResourceTokenRow> {
        resource.require_manage()?;
        let mut conn = self.db.conn().await?;
        tokens::find_resource_token(&mut conn, resource.bot_of(), id).await?.ok_or(CoreError::NotFound("access token"))
    }

    /// Creates a bot user for the project or group, a member with the token's role, and its
    /// token; the secret is in the answer, this once.
    pub async fn create_access_token(
        &self,
        resource: AccessTokenResource<'_>,
        input: &AccessTokenInput,
    ) -> CoreResult<(NewToken, AccessLevel)> {
        resource.require_manage()?;
        let name = parse_display_name(&input.name).map_err(|e| CoreError::invalid("name", e.0))?;
        let scopes = check_scopes(&input.scopes)?;
        let level = check_level(input.access_level, resource.grantable())?;
        let expires_at = match input.expires_at.trim() {
            "" => now_millis() + DEFAULT_LIFETIME_MILLIS,
            date => parse_impersonation_expiry_date(date)?,
        };

        let username = format!("{}_{}_bot_{}", resource.kind(), resource.resource_id(), random_hex(16));
        let email = format!("{username}@noreply.gantry.invalid");
        let mut tx = self.db.begin().await?;
        let bot = NewUser::bot(&username, &email, &name, resource.bot_of());
        let bot_id = users::insert_user(&mut tx, &bot).await?;
        project_limits::set_projects_limit(&mut tx, bot_id, 0).await?;
        // The namespace keeps the bot's name out of the shared path space, as every user's does.
        let namespace = NewNamespace {
            kind: NamespaceKind::User,
            parent_id: None,
            owner_id: Some(bot_id),
            path: &username,
            full_path: &username,
            name: &name,
            description: "",
            visibility: Visibility::Private,
        };
        insert_namespace(&mut tx, &namespace).await?;
        let source = match resource.bot_of() {
            BotOf::Project(project) => MemberSource::Project(project),
            BotOf::Group(group) => MemberSource::Namespace(group),
        };
        let creator = resource.actor().user().map(|u| u.id);
        members::insert_member(&mut tx, source, bot_id, level.as_i64(), creator, None).await?;
        let secret = format!("{TOKEN_PREFIX}{}", random_hex(20));
        let scope_list = scopes.to_list();
        let new = tokens::NewToken {
            user: bot_id,
            name: &name,
            digest: &digest(&secret),
            scopes: &scope_list,
            expires_at: Some(expires_at),
            impersonation: false,
        };
        let id = tokens::insert_token(&mut tx, &new).await?;
        let token = tokens::find_token(&mut tx, id).await?.ok_or(CoreError::NotFound("access token"))?;
        tx.commit().await.map_err(gantry_db::DbError::from)?;
        tracing::info!(
            token.id = %id, bot.id = %bot_id, of = resource.kind(), resource.id = resource.resource_id(),
            role = %level, scopes = %scope_list, "access token created"
        );
        Ok((NewToken { token, secret }, level))
    }

    /// Revokes a project's or group's token and blocks its bot: the token stays listed, as
    /// revoked, and nothing it opened opens any more.
    pub async fn revoke_access_token(&self, resource: AccessTokenResource<'_>, id: TokenId) -> CoreResult<()> {
        let found = self.find_access_token(resource, id).await?;
        let mut tx = self.db.begin().await?;
        tokens::revoke_token(&mut tx, found.token.id).await?;
        users::change_state(&mut tx, found.token.user_id, UserState::Active, UserState::Blocked).await?;
        tx.commit().await.map_err(gantry_db::DbError::from)?;
        tracing::info!(token.id = %id, of = resource.kind(), "access token revoked");
        Ok(())
    }

    /// Revokes a project's or group's active token and gives its bot a new one with the same
    /// name and scopes, expiring at `expires_at` (`YYYY-MM-DD`; empty: a week from now, as
    /// GitLab does).
    pub async fn rotate_access_token(
        &self,
        resource: AccessTokenResource<'_>,
        id: TokenId,
        expires_at: &str,
    ) -> CoreResult<(NewToken, Option<i64>)> {
        let found = self.find_access_token(resource, id).await?;
        let rotated = self.rotate_token_row(&found.token, expires_at).await?;
        tracing::info!(token.id = %id, new.id = %rotated.token.id, of = resource.kind(), "access token rotated");
        Ok((rotated, found.access_level))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_are_those_a_bot_may_have() {
        let scopes = check_scopes(&["api,read_repository".into()]).unwrap();
        assert_eq!(scopes.to_list(), "api,read_repository");
        for refused in ["read_user", "sudo", "admin_mode", "everything"] {
            assert!(check_scopes(&[refused.into()]).is_err(), "{refused} is refused");
        }
        assert!(check_scopes(&[]).is_err());
    }

    #[test]
    fn a_token_role_is_at_most_the_creators() {
        assert_eq!(check_level(None, Some(AccessLevel::Maintainer)).unwrap(), AccessLevel::Maintainer);
        assert_eq!(check_level(Some(20), Some(AccessLevel::Maintainer)).unwrap(), AccessLevel::Reporter);
        assert!(check_level(Some(50), Some(AccessLevel::Maintainer)).is_err());
        assert!(check_level(Some(45), Some(AccessLevel::Owner)).is_err());
        assert!(check_level(None, None).is_err());
    }
}
