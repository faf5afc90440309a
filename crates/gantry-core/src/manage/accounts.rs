//! Accounts: sign-up, sign-in with rate limiting, sessions, passwords, profiles, blocking,
//! and the instance settings that govern them.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use argon2::{Argon2, PasswordHash, PasswordHasher, PasswordVerifier};
use gantry_db::manage::namespaces::{NamespaceKind, NewNamespace, insert_namespace};
use gantry_db::manage::users::NewUser;
pub use gantry_db::manage::users::UserFilter;
use gantry_db::manage::{sessions, settings, users};
use gantry_db::{Page, now_millis};
use gantry_types::{Email, PathSegment, UserId, Visibility, parse_display_name};

use super::conflict_as;
use crate::secret::{digest, random_hex};
use crate::{Actor, Core, CoreError, CoreResult, UserRow};

/// Shortest and longest password accepted.
pub const PASSWORD_MIN: usize = 8;
const PASSWORD_MAX: usize = 256;
/// How long a browser session lasts.
pub const SESSION_LIFETIME: Duration = Duration::from_secs(7 * 24 * 3600);
const SIGNUP_SETTING: &str = "signup_enabled";
const FAILURES_ALLOWED: u32 = 10;
const FAILURE_WINDOW: Duration = Duration::from_secs(300);

/// What a person fills in to get an account.
#[derive(Debug, Clone, Default)]
pub struct NewAccount {
    pub username: String,
    pub email: String,
    pub name: String,
    pub password: String,
}

/// Counts failed sign-ins per key (login name and client address) in a sliding window.
#[derive(Debug, Default)]
pub struct LoginLimiter {
    failures: Mutex<HashMap<String, (u32, Instant)>>,
}

impl LoginLimiter {
    fn check(&self, key: &str) -> CoreResult<()> {
        let failures = self.failures.lock().expect("limiter lock");
        match failures.get(key) {
            Some((count, since)) if *count >= FAILURES_ALLOWED && since.elapsed() < FAILURE_WINDOW => {
                Err(CoreError::RateLimited)
            }
            _ => Ok(()),
        }
    }

    fn record_failure(&self, key: &str) {
        let mut failures = self.failures.lock().expect("limiter lock");
        if failures.len() > 100_000 {
            failures.retain(|_, (_, since)| since.elapsed() < FAILURE_WINDOW);
        }
        let entry = failures.entry(key.to_owned()).or_insert((0, Instant::now()));
        if entry.1.elapsed() >= FAILURE_WINDOW {
            *entry = (0, Instant::now());
        }
        entry.0 += 1;
    }

    fn clear(&self, key: &str) {
        self.failures.lock().expect("limiter lock").remove(key);
    }
}

fn check_password(password: &str) -> CoreResult<()> {
    if password.chars().count() < PASSWORD_MIN {
        return Err(CoreError::invalid("password", format!("is too short (at least {PASSWORD_MIN} characters)")));
    }
    if password.len() > PASSWORD_MAX {
        return Err(CoreError::invalid("password", format!("is too long (at most {PASSWORD_MAX} bytes)")));
    }
    Ok(())
}

/// Hashes on a blocking thread: argon2id is deliberately slow.
async fn hash_password(password: String) -> CoreResult<String> {
    tokio::task::spawn_blocking(move || {
        Argon2::default()
            .hash_password(password.as_bytes())
            .map(|hash| hash.to_string())
            .map_err(|e| CoreError::invalid("password", format!("could not be hashed: {e}")))
    })
    .await
    .expect("hashing task does not panic")
}

async fn verify_password(password: String, stored: String) -> bool {
    tokio::task::spawn_blocking(move || {
        PasswordHash::new(&stored)
            .is_ok_and(|hash| Argon2::default().verify_password(password.as_bytes(), &hash).is_ok())
    })
    .await
    .unwrap_or(false)
}

impl Core {
    /// Creates an account and its personal namespace. The first account of an instance
    /// becomes its administrator.
    async fn insert_account(&self, input: &NewAccount, make_admin: bool) -> CoreResult<UserRow> {
        let username =
            PathSegment::parse_top_level(input.username.trim()).map_err(|e| CoreError::invalid("username", e.0))?;
        let email = Email::parse(&input.email).map_err(|e| CoreError::invalid("email", e.0))?;
        let name = if input.name.trim().is_empty() { username.to_string() } else { input.name.clone() };
        let name = parse_display_name(&name).map_err(|e| CoreError::invalid("name", e.0))?;
        check_password(&input.password)?;
        let password_hash = hash_password(input.password.clone()).await?;

        let mut tx = self.db.begin().await?;
        if users::find_user_by_username(&mut tx, username.as_str()).await?.is_some()
            || gantry_db::manage::namespaces::resolve_route(&mut tx, username.as_str()).await?.is_some()
        {
            return Err(CoreError::Conflict("username has already been taken".into()));
        }
        if users::find_user_by_login(&mut tx, email.as_str()).await?.is_some() {
            return Err(CoreError::Conflict("email has already been taken".into()));
        }
        let first = users::count_users(&mut tx).await? == 0;
        let new_user = NewUser {
            username: username.as_str(),
            email: email.as_str(),
            name: &name,
            password_hash: &password_hash,
            is_admin: make_admin || first,
        };
        let id = users::insert_user(&mut tx, &new_user)
            .await
            .map_err(conflict_as("username or email has already been taken"))?;
        let namespace = NewNamespace {
            kind: NamespaceKind::User,
            parent_id: None,
            owner_id: Some(id),
            path: username.as_str(),
            full_path: username.as_str(),
            name: &name,
            description: "",
            visibility: Visibility::Public,
        };
        insert_namespace(&mut tx, &namespace).await.map_err(conflict_as("username has already been taken"))?;
        let user = users::find_user_by_id(&mut tx, id).await?.ok_or(CoreError::NotFound("user"))?;
        tx.commit().await.map_err(gantry_db::DbError::from)?;
        tracing::info!(user.id = %user.id, user.username = %user.username, admin = user.is_admin, "account created");
        Ok(user)
    }

    /// Self-service sign-up, when the administrator allows it (the very first account is
    /// always allowed, and becomes the administrator).
    pub async fn sign_up(&self, input: &NewAccount) -> CoreResult<UserRow> {
        let mut conn = self.db.conn().await?;
        let first = users::count_users(&mut conn).await? == 0;
        drop(conn);
        if !first && !self.signup_enabled().await? {
            return Err(CoreError::Forbidden(
                "sign-up is disabled on this instance; ask an administrator for an account".into(),
            ));
        }
        self.insert_account(input, false).await
    }

    /// An administrator creates an account.
    pub async fn create_user(&self, actor: &Actor, input: &NewAccount, is_admin: bool) -> CoreResult<UserRow> {
        require_admin(actor)?;
        self.insert_account(input, is_admin).await
    }

    /// Creates an account from the command line (the operator owns the data directory, so no
    /// actor is checked).
    pub async fn create_user_as_operator(&self, input: &NewAccount, is_admin: bool) -> CoreResult<UserRow> {
        self.insert_account(input, is_admin).await
    }

    /// Checks a login (username or e-mail) and password and opens a session; returns the user
    /// and the session secret for the cookie. `client` (the remote address) keys the rate limit.
    pub async fn sign_in(&self, login: &str, password: &str, client: &str) -> CoreResult<(UserRow, String)> {
        let user = self.check_password(login, password, client).await?;
        let secret = random_hex(32);
        let expires = now_millis() + i64::try_from(SESSION_LIFETIME.as_millis()).unwrap_or(i64::MAX);
        let mut conn = self.db.conn().await?;
        sessions::insert_session(&mut conn, &digest(&secret), user.id, expires).await?;
        tracing::info!(user.id = %user.id, "signed in");
        Ok((user, secret))
    }

    /// The user whose username or e-mail and password these are, rate-limited per login and
    /// client: the check behind signing in and git's Basic authentication.
    pub async fn check_password(&self, login: &str, password: &str, client: &str) -> CoreResult<UserRow> {
        let key = format!("{}|{client}", login.trim().to_lowercase());
        self.login_limiter.check(&key)?;
        let mut conn = self.db.conn().await?;
        let user = users::find_user_by_login(&mut conn, login.trim()).await?;
        drop(conn);
        // Verify against a dummy hash when the user is unknown so timing does not tell.
        let stored = user.as_ref().map(|u| u.password_hash.clone()).unwrap_or_else(dummy_hash);
        let valid = password.len() <= PASSWORD_MAX && verify_password(password.to_owned(), stored).await;
        let Some(user) = user.filter(|_| valid) else {
            self.login_limiter.record_failure(&key);
            return Err(CoreError::invalid("login", "or password is incorrect"));
        };
        if user.blocked {
            return Err(CoreError::Forbidden("your account has been blocked; contact an administrator".into()));
        }
        self.login_limiter.clear(&key);
        Ok(user)
    }

    /// The user of a session cookie, unless the session expired or the user is blocked.
    pub async fn session_user(&self, secret: &str) -> CoreResult<Option<UserRow>> {
        let mut conn = self.db.conn().await?;
        let user = sessions::find_session_user(&mut conn, &digest(secret)).await?;
        Ok(user.filter(|u| !u.blocked))
    }

    /// Ends a session.
    pub async fn sign_out(&self, secret: &str) -> CoreResult<()> {
        let mut conn = self.db.conn().await?;
        sessions::delete_session(&mut conn, &digest(secret)).await?;
        Ok(())
    }

    /// Sets a new password from the command line and ends the user's sessions.
    pub async fn reset_password_as_operator(&self, username: &str, password: &str) -> CoreResult<UserRow> {
        check_password(password)?;
        let hash = hash_password(password.to_owned()).await?;
        let mut tx = self.db.begin().await?;
        let user = users::find_user_by_username(&mut tx, username).await?.ok_or(CoreError::NotFound("user"))?;
        users::update_password(&mut tx, user.id, &hash).await?;
        sessions::delete_user_sessions(&mut tx, user.id).await?;
        tx.commit().await.map_err(gantry_db::DbError::from)?;
        Ok(user)
    }

    /// A signed-in user changes their own password, proving they know the current one.
    pub async fn change_password(&self, actor: &Actor, current: &str, new: &str) -> CoreResult<()> {
        let user = actor.require_user()?;
        if !verify_password(current.to_owned(), user.password_hash.clone()).await {
            return Err(CoreError::invalid("current_password", "is incorrect"));
        }
        check_password(new)?;
        let hash = hash_password(new.to_owned()).await?;
        let mut conn = self.db.conn().await?;
        users::update_password(&mut conn, user.id, &hash).await?;
        Ok(())
    }

    /// A signed-in user changes their display name and e-mail.
    pub async fn update_profile(&self, actor: &Actor, name: &str, email: &str) -> CoreResult<UserRow> {
        let user = actor.require_user()?;
        let name = parse_display_name(name).map_err(|e| CoreError::invalid("name", e.0))?;
        let email = Email::parse(email).map_err(|e| CoreError::invalid("email", e.0))?;
        let mut tx = self.db.begin().await?;
        if let Some(other) = users::find_user_by_login(&mut tx, email.as_str()).await?
            && other.id != user.id
        {
            return Err(CoreError::Conflict("email has already been taken".into()));
        }
        users::update_profile(&mut tx, user.id, &name, email.as_str())
            .await
            .map_err(conflict_as("email has already been taken"))?;
        let updated = users::find_user_by_id(&mut tx, user.id).await?.ok_or(CoreError::NotFound("user"))?;
        tx.commit().await.map_err(gantry_db::DbError::from)?;
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
        users::set_blocked(&mut tx, id, blocked).await?;
        if blocked {
            sessions::delete_user_sessions(&mut tx, id).await?;
        }
        tx.commit().await.map_err(gantry_db::DbError::from)?;
        tracing::info!(user.id = %id, blocked, by = %admin.id, "user block state changed");
        Ok(UserRow { blocked, ..user })
    }

    /// An administrator grants or takes away administration.
    pub async fn set_user_admin(&self, actor: &Actor, id: UserId, is_admin: bool) -> CoreResult<UserRow> {
        let admin = require_admin(actor)?;
        if admin.id == id && !is_admin {
            return Err(CoreError::Conflict("you can't take away your own administrator rights".into()));
        }
        let mut conn = self.db.conn().await?;
        let user = users::find_user_by_id(&mut conn, id).await?.ok_or(CoreError::NotFound("user"))?;
        users::set_admin(&mut conn, id, is_admin).await?;
        Ok(UserRow { is_admin, ..user })
    }

    /// Lists users; signed-in users see active accounts, administrators see all.
    pub async fn list_users(
        &self,
        actor: &Actor,
        mut filter: UserFilter,
        page: Page,
    ) -> CoreResult<(Vec<UserRow>, i64)> {
        actor.require_user()?;
        if !actor.is_admin() {
            filter.blocked = Some(false);
        }
        let mut conn = self.db.conn().await?;
        Ok(users::list_users(&mut conn, &filter, page).await?)
    }

    /// Finds a user by id (signed-in users only; blocked users only for administrators).
    pub async fn find_user(&self, actor: &Actor, id: UserId) -> CoreResult<UserRow> {
        actor.require_user()?;
        let mut conn = self.db.conn().await?;
        let user = users::find_user_by_id(&mut conn, id).await?.ok_or(CoreError::NotFound("user"))?;
        if user.blocked && !actor.is_admin() {
            return Err(CoreError::NotFound("user"));
        }
        Ok(user)
    }

    /// Finds a user by username, for the command line.
    pub async fn find_user_as_operator(&self, username: &str) -> CoreResult<UserRow> {
        let mut conn = self.db.conn().await?;
        users::find_user_by_username(&mut conn, username).await?.ok_or(CoreError::NotFound("user"))
    }

    /// Every user, for the command line.
    pub async fn list_users_as_operator(&self) -> CoreResult<Vec<UserRow>> {
        let mut conn = self.db.conn().await?;
        let (users, _) =
            users::list_users(&mut conn, &UserFilter::default(), Page { offset: 0, limit: i64::MAX }).await?;
        Ok(users)
    }

    /// Whether people may create their own accounts (on by default).
    pub async fn signup_enabled(&self) -> CoreResult<bool> {
        let mut conn = self.db.conn().await?;
        Ok(settings::get_setting(&mut conn, SIGNUP_SETTING).await?.is_none_or(|v| v == "true"))
    }

    /// An administrator turns self-service sign-up on or off.
    pub async fn set_signup_enabled(&self, actor: &Actor, enabled: bool) -> CoreResult<()> {
        require_admin(actor)?;
        let mut conn = self.db.conn().await?;
        settings::set_setting(&mut conn, SIGNUP_SETTING, if enabled { "true" } else { "false" }).await?;
        Ok(())
    }
}

/// Administrators only; others are told it does not exist.
pub(crate) fn require_admin(actor: &Actor) -> CoreResult<&UserRow> {
    let user = actor.require_user()?;
    if !user.is_admin {
        return Err(CoreError::NotFound("page"));
    }
    Ok(user)
}

/// A valid hash of a random password, to spend the same time on unknown logins.
fn dummy_hash() -> String {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DUMMY
        .get_or_init(|| {
            Argon2::default().hash_password(random_hex(16).as_bytes()).map(|h| h.to_string()).unwrap_or_default()
        })
        .clone()
}
