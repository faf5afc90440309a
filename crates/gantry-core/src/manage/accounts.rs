//! Accounts: sign-up, sign-in with rate limiting, sessions, passwords, profiles, blocking,
//! and the instance settings that govern them.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use argon2::{Argon2, PasswordHash, PasswordHasher, PasswordVerifier};
use gantry_db::manage::namespaces::{NamespaceKind, NewNamespace, insert_namespace};
pub use gantry_db::manage::users::UserFilter;
use gantry_db::manage::users::{NewUser, UserState};
use gantry_db::manage::{sessions, settings, users};
use gantry_db::{Page, now_millis};
use gantry_types::{Email, MAX_EMAIL_LEN, MAX_SEGMENT_LEN, PathSegment, UserId, Visibility, parse_display_name};
use sha2::{Digest, Sha256};

use super::application_settings::{REQUIRE_ADMIN_APPROVAL as APPROVAL_SETTING, SIGNUP_ENABLED as SIGNUP_SETTING};
use super::conflict_as;
// background.rs asks for administrators through this path; the rule itself is policy's.
use crate::policy;
use crate::policy::require_admin;
use crate::secret::{digest, random_hex};
use crate::{Actor, Core, CoreError, CoreResult, UserRow};

/// Shortest and longest password accepted.
pub const PASSWORD_MIN: usize = 8;
const PASSWORD_MAX: usize = 256;
/// How long a browser session lasts.
pub const SESSION_LIFETIME: Duration = Duration::from_secs(7 * 24 * 3600);
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

/// Most (login, client) pairs the sign-in limiter remembers at once.
const LIMITER_CAPACITY: usize = 10_000;

/// Counts failed sign-ins per login and client address in a window. Keys are SHA-256 digests,
/// so an entry has the same small size whatever was typed; the table holds at most `capacity`
/// entries, forgets entries whose window has passed and, when full, the oldest one.
#[derive(Debug)]
pub struct LoginLimiter {
    capacity: usize,
    table: Mutex<LimiterTable>,
}

#[derive(Debug, Default)]
struct LimiterTable {
    failures: HashMap<[u8; 32], Failures>,
    /// When expired entries were last dropped.
    swept: Option<Instant>,
}

/// Failed sign-ins of one key since the start of its window.
#[derive(Debug, Clone, Copy)]
struct Failures {
    count: u32,
    since: Instant,
}

impl Failures {
    fn expired(&self, now: Instant) -> bool {
        now.saturating_duration_since(self.since) >= FAILURE_WINDOW
    }
}

impl Default for LoginLimiter {
    fn default() -> Self {
        LoginLimiter::new(LIMITER_CAPACITY)
    }
}

impl LoginLimiter {
    fn new(capacity: usize) -> LoginLimiter {
        LoginLimiter { capacity: capacity.max(1), table: Mutex::default() }
    }

    /// The key of a login (case-insensitive) from a client.
    fn key(login: &str, client: &str) -> [u8; 32] {
        let mut hasher = Sha256::new();
        hasher.update(login.trim().to_lowercase().as_bytes());
        hasher.update([0]);
        hasher.update(client.as_bytes());
        hasher.finalize().into()
    }

    fn check(&self, key: &[u8; 32], now: Instant) -> CoreResult<()> {
        let table = self.table.lock().expect("limiter lock");
        match table.failures.get(key) {
            Some(failures) if failures.count >= FAILURES_ALLOWED && !failures.expired(now) => {
                Err(CoreError::RateLimited)
            }
            _ => Ok(()),
        }
    }

    fn record_failure(&self, key: [u8; 32], now: Instant) {
        let mut table = self.table.lock().expect("limiter lock");
        if table.swept.is_none_or(|at| now.saturating_duration_since(at) >= FAILURE_WINDOW) {
            table.failures.retain(|_, failures| !failures.expired(now));
            table.swept = Some(now);
        }
        if !table.failures.contains_key(&key) && table.failures.len() >= self.capacity {
            let oldest = table.failures.iter().min_by_key(|(_, failures)| failures.since).map(|(key, _)| *key);
            if let Some(oldest) = oldest {
                table.failures.remove(&oldest);
            }
        }
        let failures = table.failures.entry(key).or_insert(Failures { count: 0, since: now });
        if failures.expired(now) {
            *failures = Failures { count: 0, since: now };
        }
        failures.count += 1;
    }

    fn clear(&self, key: &[u8; 32]) {
        self.table.lock().expect("limiter lock").failures.remove(key);
    }

    fn len(&self) -> usize {
        self.table.lock().expect("limiter lock").failures.len()
    }
}

pub(super) fn check_password(password: &str) -> CoreResult<()> {
    if password.chars().count() < PASSWORD_MIN {
        return Err(CoreError::invalid("password", format!("is too short (at least {PASSWORD_MIN} characters)")));
    }
    if password.len() > PASSWORD_MAX {
        return Err(CoreError::invalid("password", format!("is too long (at most {PASSWORD_MAX} bytes)")));
    }
    Ok(())
}

/// Hashes on a blocking thread: argon2id is deliberately slow.
pub(super) async fn hash_password(password: String) -> CoreResult<String> {
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

impl super::Manage<'_> {
    /// Creates an account and its personal namespace. The first account of an instance
    /// becomes its administrator, active whatever `needs_approval` says; others wait for an
    /// administrator's approval when `needs_approval`.
    async fn insert_account(&self, input: &NewAccount, make_admin: bool, needs_approval: bool) -> CoreResult<UserRow> {
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
        if users::find_email_holder(&mut tx, email.as_str()).await?.is_some() {
            return Err(CoreError::Conflict("Email has already been taken".into()));
        }
        let first = users::count_users(&mut tx).await? == 0;
        let new_user = NewUser {
            username: username.as_str(),
            email: email.as_str(),
            name: &name,
            password_hash: &password_hash,
            is_admin: make_admin || first,
            pending_approval: needs_approval && !first,
            bot_of: None,
        };
        let id = users::insert_user(&mut tx, &new_user)
            .await
            .map_err(conflict_as("username or email has already been taken"))?;
        super::application_settings::give_default_projects_limit(&mut tx, id).await?;
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
        tracing::info!(
            user.id = %user.id, user.username = %user.username, admin = user.is_admin,
            pending_approval = user.pending_approval, "account created"
        );
        Ok(user)
    }

    /// Self-service sign-up, when the administrator allows it (the very first account is
    /// always allowed, and becomes the administrator). Unless the administrator turned approval
    /// off, the account waits for their approval before it can sign in.
    pub async fn sign_up(&self, input: &NewAccount) -> CoreResult<UserRow> {
        let mut conn = self.db.conn().await?;
        let first = users::count_users(&mut conn).await? == 0;
        drop(conn);
        if !first && !self.signup_enabled().await? {
            return Err(CoreError::Forbidden(
                "sign-up is disabled on this instance; ask an administrator for an account".into(),
            ));
        }
        let needs_approval = self.signup_approval_required().await?;
        self.insert_account(input, false, needs_approval).await
    }

    /// An administrator creates an account.
    pub async fn create_user(&self, actor: &Actor, input: &NewAccount, is_admin: bool) -> CoreResult<UserRow> {
        require_admin(actor)?;
        self.insert_account(input, is_admin, false).await
    }

    /// Creates an account from the command line (the operator owns the data directory, so no
    /// actor is checked).
    pub async fn create_user_as_operator(&self, input: &NewAccount, is_admin: bool) -> CoreResult<UserRow> {
        self.insert_account(input, is_admin, false).await
    }

    /// Checks a login (username or e-mail) and password and opens a session; returns the user
    /// and the session secret for the cookie. `client` (the remote address) keys the rate limit.
    /// A deactivated account becomes active again by signing in (as in GitLab).
    pub async fn sign_in(&self, login: &str, password: &str, client: &str) -> CoreResult<(UserRow, String)> {
        let mut user = self.verify_login(login, password, client).await?;
        let secret = random_hex(32);
        let expires = now_millis() + i64::try_from(SESSION_LIFETIME.as_millis()).unwrap_or(i64::MAX);
        let mut tx = self.db.begin().await?;
        if user.state == UserState::Deactivated {
            if users::change_state(&mut tx, user.id, UserState::Deactivated, UserState::Active).await? {
                tracing::info!(user.id = %user.id, "deactivated account active again: its user signed in");
            }
            user = users::find_user_by_id(&mut tx, user.id).await?.ok_or(CoreError::NotFound("user"))?;
        }
        refuse_inactive(&user)?;
        sessions::insert_session(&mut tx, &digest(&secret), user.id, expires).await?;
        tx.commit().await.map_err(gantry_db::DbError::from)?;
        tracing::info!(user.id = %user.id, "signed in");
        Ok((user, secret))
    }

    /// The active user whose username or e-mail and password these are, rate-limited per
    /// login and client: the check behind git's Basic authentication. (A deactivated account
    /// is refused here: only signing in on the web makes it active again.)
    pub async fn check_password(&self, login: &str, password: &str, client: &str) -> CoreResult<UserRow> {
        let user = self.verify_login(login, password, client).await?;
        refuse_inactive(&user)?;
        Ok(user)
    }

    /// The user whose username or e-mail and password these are, whatever their state,
    /// rate-limited per login and client.
    async fn verify_login(&self, login: &str, password: &str, client: &str) -> CoreResult<UserRow> {
        let incorrect = || CoreError::invalid("login", "or password is incorrect");
        // No account has a longer login: refuse before anything is hashed or remembered.
        let longest = if login.contains('@') { MAX_EMAIL_LEN } else { MAX_SEGMENT_LEN };
        if login.trim().len() > longest {
            return Err(incorrect());
        }
        let key = LoginLimiter::key(login, client);
        self.login_limiter.check(&key, Instant::now())?;
        let mut conn = self.db.conn().await?;
        let user = users::find_user_by_login(&mut conn, login.trim()).await?;
        drop(conn);
        // Verify against a dummy hash when the user is unknown so timing does not tell.
        let stored = user.as_ref().map(|u| u.password_hash.clone()).unwrap_or_else(dummy_hash);
        let valid = password.len() <= PASSWORD_MAX && verify_password(password.to_owned(), stored).await;
        let Some(user) = user.filter(|_| valid) else {
            self.login_limiter.record_failure(key, Instant::now());
            return Err(incorrect());
        };
        self.login_limiter.clear(&key);
        Ok(user)
    }

    /// How many (login, client) pairs the sign-in limiter remembers now.
    pub fn sign_in_limiter_entries(&self) -> usize {
        self.login_limiter.len()
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

    /// Ends every session of the signed-in user ("sign out everywhere").
    pub async fn sign_out_everywhere(&self, actor: &Actor) -> CoreResult<()> {
        let user = actor.require_user()?;
        let mut conn = self.db.conn().await?;
        sessions::delete_user_sessions(&mut conn, user.id).await?;
        tracing::info!(user.id = %user.id, "signed out everywhere");
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
        tracing::info!(user.id = %user.id, "password reset by the operator; sessions ended");
        Ok(user)
    }

    /// A signed-in user changes their own password, proving they know the current one. Every
    /// other session of theirs ends: whoever else held one must sign in with the new password.
    /// `current_session` (the cookie of the browser making the change, if any) stays.
    pub async fn change_password(
        &self,
        actor: &Actor,
        current: &str,
        new: &str,
        current_session: Option<&str>,
    ) -> CoreResult<()> {
        let user = actor.require_user()?;
        if !verify_password(current.to_owned(), user.password_hash.clone()).await {
            return Err(CoreError::invalid("current_password", "is incorrect"));
        }
        check_password(new)?;
        let hash = hash_password(new.to_owned()).await?;
        let mut tx = self.db.begin().await?;
        users::update_password(&mut tx, user.id, &hash).await?;
        match current_session {
            Some(secret) => sessions::delete_other_user_sessions(&mut tx, user.id, &digest(secret)).await?,
            None => sessions::delete_user_sessions(&mut tx, user.id).await?,
        }
        tx.commit().await.map_err(gantry_db::DbError::from)?;
        tracing::info!(user.id = %user.id, "password changed; other sessions ended");
        Ok(())
    }

    /// A signed-in user changes their display name and e-mail (one of their secondary
    /// addresses may become the primary one).
    pub async fn update_profile(&self, actor: &Actor, name: &str, email: &str) -> CoreResult<UserRow> {
        let user = actor.require_user()?;
        let name = parse_display_name(name).map_err(|e| CoreError::invalid("name", e.0))?;
        let email = Email::parse(email).map_err(|e| CoreError::invalid("email", e.0))?;
        let mut tx = self.db.begin().await?;
        super::emails::claim_primary_email(&mut tx, user.id, email.as_str()).await?;
        users::update_profile(&mut tx, user.id, &name, email.as_str())
            .await
            .map_err(conflict_as("Email has already been taken"))?;
        let updated = users::find_user_by_id(&mut tx, user.id).await?.ok_or(CoreError::NotFound("user"))?;
        tx.commit().await.map_err(gantry_db::DbError::from)?;
        Ok(updated)
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
        if !policy::administers(actor) {
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
        if user.blocked && !policy::administers(actor) {
            return Err(CoreError::NotFound("user"));
        }
        Ok(user)
    }

    /// Finds a user by id, or by username when `reference` is not a number (GitLab's
    /// `:id_or_username`), as [`Self::find_user`] sees them.
    pub async fn find_user_by_reference(&self, actor: &Actor, reference: &str) -> CoreResult<UserRow> {
        if let Ok(id) = reference.parse::<i64>() {
            return self.find_user(actor, UserId(id)).await;
        }
        actor.require_user()?;
        let mut conn = self.db.conn().await?;
        let user = users::find_user_by_username(&mut conn, reference).await?.ok_or(CoreError::NotFound("user"))?;
        drop(conn);
        self.find_user(actor, user.id).await
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

    /// Whether new sign-ups wait for an administrator's approval (on by default).
    pub async fn signup_approval_required(&self) -> CoreResult<bool> {
        let mut conn = self.db.conn().await?;
        Ok(settings::get_setting(&mut conn, APPROVAL_SETTING).await?.is_none_or(|v| v == "true"))
    }
}

/// Refuses an account that is not active, saying why.
fn refuse_inactive(user: &UserRow) -> CoreResult<()> {
    let why = match user.state {
        UserState::Active => return Ok(()),
        UserState::BlockedPendingApproval => "your account is waiting for an administrator's approval",
        UserState::Deactivated => {
            "your account has been deactivated: sign in on the web to activate it again, or contact an administrator"
        }
        UserState::Blocked | UserState::Banned => "your account has been blocked; contact an administrator",
    };
    Err(CoreError::Forbidden(why.into()))
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

impl Core {
    /// Sets how many (login, client) pairs the sign-in limiter remembers (10,000 otherwise).
    pub fn with_sign_in_limiter_capacity(mut self, entries: usize) -> Core {
        self.login_limiter = std::sync::Arc::new(LoginLimiter::new(entries));
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_limiter_blocks_after_repeated_failures_and_forgets_after_the_window() {
        let limiter = LoginLimiter::default();
        let start = Instant::now();
        let key = LoginLimiter::key(" Ada ", "10.0.0.1");
        assert_eq!(key, LoginLimiter::key("ada", "10.0.0.1"), "logins are case-insensitive");
        assert_ne!(key, LoginLimiter::key("ada", "10.0.0.2"), "clients are apart");
        for _ in 0..FAILURES_ALLOWED {
            assert!(limiter.check(&key, start).is_ok());
            limiter.record_failure(key, start);
        }
        assert!(matches!(limiter.check(&key, start), Err(CoreError::RateLimited)));
        let later = start + FAILURE_WINDOW;
        assert!(limiter.check(&key, later).is_ok(), "the window has passed");
        limiter.record_failure(LoginLimiter::key("bob", "10.0.0.1"), later);
        assert_eq!(limiter.len(), 1, "the expired entry is forgotten");
        limiter.clear(&LoginLimiter::key("bob", "10.0.0.1"));
        assert_eq!(limiter.len(), 0);
    }

    #[test]
    fn the_limiter_table_stays_at_its_capacity_and_drops_the_oldest() {
        assert_eq!(LoginLimiter::default().capacity, LIMITER_CAPACITY);
        let limiter = LoginLimiter::new(1_000);
        let start = Instant::now();
        for n in 0..3_000_u64 {
            let at = start + Duration::from_millis(n);
            limiter.record_failure(LoginLimiter::key(&format!("user{n}"), "10.0.0.1"), at);
        }
        assert_eq!(limiter.len(), 1_000);
        let table = limiter.table.lock().unwrap();
        assert!(!table.failures.contains_key(&LoginLimiter::key("user1999", "10.0.0.1")), "the oldest went first");
        assert!(table.failures.contains_key(&LoginLimiter::key("user2000", "10.0.0.1")));
        assert!(table.failures.contains_key(&LoginLimiter::key("user2999", "10.0.0.1")));
    }
}
