//! Personal access tokens: created for a user with scopes and an optional expiry date, shown
//! once, stored as a SHA-256 digest, revocable. Impersonation tokens are personal access
//! tokens an administrator makes for a user (GitLab's): they act as the user within their
//! scopes, and only administrators see, list or revoke them; the user does not.

use gantry_db::manage::tokens;
use gantry_db::manage::users;
use gantry_db::now_millis;
use gantry_types::{TokenId, TokenScopes, UserId, parse_display_name};

use crate::policy::{self, require_admin};
use crate::secret::{digest, random_hex};
use crate::{Actor, CoreError, CoreResult, TokenRow, UserRow};

/// Every token starts with this, so secret scanners can recognise a leaked one.
pub const TOKEN_PREFIX: &str = "gpat-";
const MILLIS_PER_DAY: i64 = 86_400_000;

/// A token just created: the only moment its secret is known.
#[derive(Debug, Clone)]
pub struct NewToken {
    pub token: TokenRow,
    pub secret: String,
}

/// Why a presented token was not accepted; the API tells the client which.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenProblem {
    Unknown,
    Revoked,
    Expired,
    UserBlocked,
}

impl TokenProblem {
    /// The message for the client.
    pub fn message(self) -> &'static str {
        match self {
            TokenProblem::Unknown => "invalid token",
            TokenProblem::Revoked => "token has been revoked",
            TokenProblem::Expired => "token has expired",
            TokenProblem::UserBlocked => "your account has been blocked",
        }
    }
}

/// The start (UTC, Unix milliseconds) of the day `YYYY-MM-DD` names.
fn start_of_day(value: &str) -> CoreResult<i64> {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    let date = time::Date::parse(value.trim(), &format)
        .map_err(|_| CoreError::invalid("expires_at", "must be a date like 2030-01-31"))?;
    Ok(date.midnight().assume_utc().unix_timestamp() * 1000)
}

/// Parses an expiry date `YYYY-MM-DD` into the moment the token stops working (the start of
/// that day, UTC, as GitLab does); it must lie in the future.
pub fn parse_expiry_date(value: &str) -> CoreResult<i64> {
    let millis = start_of_day(value)?;
    if millis <= now_millis() {
        return Err(CoreError::invalid("expires_at", "must be in the future"));
    }
    Ok(millis)
}

/// Parses an impersonation token's expiry date `YYYY-MM-DD`, as [`parse_expiry_date`] but today
/// is accepted (GitLab takes any date; a token that expires today no longer works).
pub fn parse_impersonation_expiry_date(value: &str) -> CoreResult<i64> {
    let millis = start_of_day(value)?;
    if millis + MILLIS_PER_DAY <= now_millis() {
        return Err(CoreError::invalid("expires_at", "must not be in the past"));
    }
    Ok(millis)
}

/// Which impersonation tokens a listing shows (GitLab's `state`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenStateFilter {
    All,
    /// Neither revoked nor expired.
    Active,
    /// Revoked or expired.
    Inactive,
}

/// Whether a token still works: not revoked and not expired.
pub fn token_active(token: &TokenRow) -> bool {
    !token.revoked && token.expires_at.is_none_or(|at| at > now_millis())
}

/// Formats a stored expiry as `YYYY-MM-DD`.
pub fn format_expiry_date(millis: i64) -> String {
    let days = millis.div_euclid(MILLIS_PER_DAY);
    let date = time::Date::from_julian_day(2_440_588 + i32::try_from(days).unwrap_or(0)).unwrap_or(time::Date::MIN);
    let format = time::macros::format_description!("[year]-[month]-[day]");
    date.format(&format).unwrap_or_default()
}

impl super::Manage<'_> {
    async fn insert_token(
        &self,
        user: UserId,
        name: &str,
        scopes: &TokenScopes,
        expires_at: Option<i64>,
        impersonation: bool,
    ) -> CoreResult<NewToken> {
        let name = parse_display_name(name).map_err(|e| CoreError::invalid("name", e.0))?;
        let secret = format!("{TOKEN_PREFIX}{}", random_hex(20));
        let mut conn = self.db.conn().await?;
        let scope_list = scopes.to_list();
        let new = tokens::NewToken {
            user,
            name: &name,
            digest: &digest(&secret),
            scopes: &scope_list,
            expires_at,
            impersonation,
        };
        let id = tokens::insert_token(&mut conn, &new).await?;
        let token = tokens::find_token(&mut conn, id).await?.ok_or(CoreError::NotFound("token"))?;
        tracing::info!(user.id = %user, token.id = %id, scopes = %scope_list, impersonation, "personal access token created");
        Ok(NewToken { token, secret })
    }

    /// A signed-in user creates a token for themselves (a bot has only the token made with
    /// it).
    pub async fn create_token(
        &self,
        actor: &Actor,
        name: &str,
        scopes: &TokenScopes,
        expires_at: Option<i64>,
    ) -> CoreResult<NewToken> {
        let user = actor.require_user()?;
        if user.bot_of.is_some() {
            return Err(CoreError::Forbidden("a project or group bot cannot create personal access tokens".into()));
        }
        policy::authorize_token_scopes(user, scopes)?;
        self.insert_token(user.id, name, scopes, expires_at, false).await
    }

    /// Creates a token for a user from the command line.
    pub async fn create_token_as_operator(
        &self,
        username: &str,
        name: &str,
        scopes: &TokenScopes,
        expires_at: Option<i64>,
    ) -> CoreResult<NewToken> {
        let mut conn = self.db.conn().await?;
        let user = users::find_user_by_username(&mut conn, username).await?.ok_or(CoreError::NotFound("user"))?;
        drop(conn);
        policy::authorize_token_scopes(&user, scopes)?;
        self.insert_token(user.id, name, scopes, expires_at, false).await
    }

    /// The user an administrator's request acts as (`Sudo: <id or username>`): refused unless
    /// `actor` may use sudo with a token of these scopes; a blocked user cannot be acted as.
    pub async fn sudo(&self, actor: &Actor, scopes: &TokenScopes, who: &str) -> CoreResult<UserRow> {
        policy::authorize_sudo(actor, scopes)?;
        let mut conn = self.db.conn().await?;
        let who = who.trim();
        let user = match who.parse::<i64>() {
            Ok(id) => users::find_user_by_id(&mut conn, UserId(id)).await?,
            Err(_) => users::find_user_by_username(&mut conn, who).await?,
        };
        let user = user.ok_or(CoreError::NotFound("user"))?;
        if user.blocked {
            return Err(CoreError::Forbidden(format!("{} is not an active user", user.username)));
        }
        Ok(user)
    }

    /// The user and token behind a presented secret, or why it is not accepted.
    pub async fn authenticate_token(&self, secret: &str) -> CoreResult<Result<(UserRow, TokenRow), TokenProblem>> {
        if !secret.starts_with(TOKEN_PREFIX) || secret.len() > 128 {
            return Ok(Err(TokenProblem::Unknown));
        }
        let mut conn = self.db.conn().await?;
        let Some((token, user)) = tokens::find_token_by_digest(&mut conn, &digest(secret)).await? else {
            return Ok(Err(TokenProblem::Unknown));
        };
        if token.revoked {
            return Ok(Err(TokenProblem::Revoked));
        }
        if token.expires_at.is_some_and(|at| at <= now_millis()) {
            return Ok(Err(TokenProblem::Expired));
        }
        if user.blocked {
            return Ok(Err(TokenProblem::UserBlocked));
        }
        // `last_used_at` is kept to the minute: most requests need no write at all.
        if token.last_used_at.is_none_or(|at| at < now_millis() - 60_000) {
            tokens::touch_token(&mut conn, token.id).await?;
        }
        Ok(Ok((user, token)))
    }

    /// The actor's own tokens (administrators: everyone's, impersonation tokens too).
    pub async fn list_tokens(&self, actor: &Actor) -> CoreResult<Vec<TokenRow>> {
        let user = actor.require_user()?;
        let mut conn = self.db.conn().await?;
        Ok(if policy::administers(actor) {
            tokens::list_all_tokens(&mut conn).await?
        } else {
            tokens::list_tokens(&mut conn, user.id, false).await?
        })
    }

    /// One token the actor owns (or any, for administrators); an impersonation token is not
    /// its user's to see.
    pub async fn find_token(&self, actor: &Actor, id: TokenId) -> CoreResult<TokenRow> {
        let user = actor.require_user()?;
        let mut conn = self.db.conn().await?;
        let token = tokens::find_token(&mut conn, id).await?.ok_or(CoreError::NotFound("token"))?;
        let owner = (!token.impersonation).then_some(token.user_id);
        if !policy::owns_or_administers(user, owner) {
            return Err(CoreError::NotFound("token"));
        }
        Ok(token)
    }

    /// Revokes a token the actor owns (or any, for administrators).
    pub async fn revoke_token(&self, actor: &Actor, id: TokenId) -> CoreResult<()> {
        let token = self.find_token(actor, id).await?;
        let mut conn = self.db.conn().await?;
        tokens::revoke_token(&mut conn, token.id).await?;
        tracing::info!(token.id = %id, "personal access token revoked");
        Ok(())
    }

    /// Revokes an active token and makes its successor: the same user, name, scopes and kind,
    /// expiring at `expires_at` (`YYYY-MM-DD`; empty: a week from now, as GitLab does). Refused
    /// for a token already revoked or expired (GitLab's rule: a leaked token's successor must
    /// come from one still trusted).
    pub(crate) async fn rotate_token_row(&self, old: &TokenRow, expires_at: &str) -> CoreResult<NewToken> {
        if !token_active(old) {
            return Err(CoreError::invalid("token", "is revoked or expired and cannot be rotated"));
        }
        let expires_at = match expires_at.trim() {
            "" => now_millis() + 7 * MILLIS_PER_DAY,
            date => parse_impersonation_expiry_date(date)?,
        };
        let secret = format!("{TOKEN_PREFIX}{}", random_hex(20));
        let mut tx = self.db.begin().await?;
        if !tokens::revoke_active_token(&mut tx, old.id).await? {
            return Err(CoreError::Conflict("the token was revoked meanwhile".into()));
        }
        let new = tokens::NewToken {
            user: old.user_id,
            name: &old.name,
            digest: &digest(&secret),
            scopes: &old.scopes,
            expires_at: Some(expires_at),
            impersonation: old.impersonation,
        };
        let id = tokens::insert_token(&mut tx, &new).await?;
        let token = tokens::find_token(&mut tx, id).await?.ok_or(CoreError::NotFound("token"))?;
        tx.commit().await.map_err(gantry_db::DbError::from)?;
        Ok(NewToken { token, secret })
    }

    /// Rotates a token the actor owns (or any, for administrators): the old one stops working
    /// and the answer holds its successor's secret, this once.
    pub async fn rotate_token(&self, actor: &Actor, id: TokenId, expires_at: &str) -> CoreResult<NewToken> {
        let token = self.find_token(actor, id).await?;
        let rotated = self.rotate_token_row(&token, expires_at).await?;
        tracing::info!(token.id = %id, new.id = %rotated.token.id, "personal access token rotated");
        Ok(rotated)
    }

    /// Used by the admin area to show any user's own tokens.
    pub async fn list_user_tokens(&self, actor: &Actor, user: UserId) -> CoreResult<Vec<TokenRow>> {
        require_admin(actor)?;
        let mut conn = self.db.conn().await?;
        Ok(tokens::list_tokens(&mut conn, user, false).await?)
    }

    /// The impersonation tokens made for a user (administrators), newest first.
    pub async fn list_impersonation_tokens(
        &self,
        actor: &Actor,
        user: UserId,
        state: TokenStateFilter,
    ) -> CoreResult<Vec<TokenRow>> {
        require_admin(actor)?;
        let mut conn = self.db.conn().await?;
        users::find_user_by_id(&mut conn, user).await?.ok_or(CoreError::NotFound("user"))?;
        let listed = tokens::list_tokens(&mut conn, user, true).await?;
        Ok(listed
            .into_iter()
            .filter(|token| match state {
                TokenStateFilter::All => true,
                TokenStateFilter::Active => token_active(token),
                TokenStateFilter::Inactive => !token_active(token),
            })
            .collect())
    }

    /// An administrator makes an impersonation token for a user: it acts as the user within
    /// its scopes (those reserved for administrators only if the user is one).
    pub async fn create_impersonation_token(
        &self,
        actor: &Actor,
        user: UserId,
        name: &str,
        scopes: &TokenScopes,
        expires_at: Option<i64>,
    ) -> CoreResult<NewToken> {
        let admin = require_admin(actor)?;
        let mut conn = self.db.conn().await?;
        let target = users::find_user_by_id(&mut conn, user).await?.ok_or(CoreError::NotFound("user"))?;
        drop(conn);
        policy::authorize_token_scopes(&target, scopes)?;
        let created = self.insert_token(target.id, name, scopes, expires_at, true).await?;
        tracing::info!(user.id = %user, token.id = %created.token.id, by = %admin.id, "impersonation token created");
        Ok(created)
    }

    /// One impersonation token of a user (administrators); not found unless it is one of
    /// theirs.
    pub async fn find_impersonation_token(&self, actor: &Actor, user: UserId, id: TokenId) -> CoreResult<TokenRow> {
        require_admin(actor)?;
        let mut conn = self.db.conn().await?;
        users::find_user_by_id(&mut conn, user).await?.ok_or(CoreError::NotFound("user"))?;
        let token = tokens::find_token(&mut conn, id).await?.filter(|t| t.impersonation && t.user_id == user);
        token.ok_or(CoreError::NotFound("impersonation token"))
    }

    /// Revokes one impersonation token of a user (administrators).
    pub async fn revoke_impersonation_token(&self, actor: &Actor, user: UserId, id: TokenId) -> CoreResult<()> {
        let token = self.find_impersonation_token(actor, user, id).await?;
        let mut conn = self.db.conn().await?;
        tokens::revoke_token(&mut conn, token.id).await?;
        tracing::info!(user.id = %user, token.id = %id, "impersonation token revoked");
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expiry_dates_round_trip_and_must_be_future() {
        let millis = parse_expiry_date("2999-12-31").unwrap();
        assert_eq!(format_expiry_date(millis), "2999-12-31");
        assert!(parse_expiry_date("2001-01-01").is_err());
        assert!(parse_expiry_date("tomorrow").is_err());
        let today = format_expiry_date(now_millis());
        assert!(parse_expiry_date(&today).is_err(), "a personal token must outlive today");
        assert_eq!(format_expiry_date(parse_impersonation_expiry_date(&today).unwrap()), today);
        assert!(parse_impersonation_expiry_date("2001-01-01").is_err());
    }
}
