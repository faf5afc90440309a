//! The instance settings administrators choose (GitLab's application settings), under GitLab's
//! names: who may sign up and whether sign-ups wait for approval, how many personal projects a
//! new account may have, the visibility and first branch of new projects, and the largest
//! artifact runners may upload and how long artifacts are kept when a job does not say, and the
//! hosts CI files may include remote files from.
//! Each is a row of the `settings` table; an absent row holds the default.

use std::collections::HashMap;

use gantry_db::Conn;
use gantry_db::manage::project_limits::{self, PersonalProjects};
use gantry_db::manage::settings;
use gantry_types::{UserId, Visibility};

use crate::policy::{administers, require_admin};
use crate::{Actor, CoreError, CoreResult};

pub(crate) const SIGNUP_ENABLED: &str = "signup_enabled";
pub(crate) const REQUIRE_ADMIN_APPROVAL: &str = "require_admin_approval_after_user_signup";
const DEFAULT_PROJECTS_LIMIT: &str = "default_projects_limit";
const DEFAULT_PROJECT_VISIBILITY: &str = "default_project_visibility";
const DEFAULT_BRANCH_NAME: &str = "default_branch_name";
const MAX_ARTIFACTS_SIZE: &str = "max_artifacts_size";
const DEFAULT_ARTIFACTS_EXPIRE_IN: &str = "default_artifacts_expire_in";
const CI_REMOTE_INCLUDE_HOSTS: &str = "ci_remote_include_hosts";

/// The names of the settings, as the API takes them.
pub const SETTING_NAMES: [&str; 8] = [
    SIGNUP_ENABLED,
    REQUIRE_ADMIN_APPROVAL,
    DEFAULT_PROJECTS_LIMIT,
    DEFAULT_PROJECT_VISIBILITY,
    DEFAULT_BRANCH_NAME,
    MAX_ARTIFACTS_SIZE,
    DEFAULT_ARTIFACTS_EXPIRE_IN,
    CI_REMOTE_INCLUDE_HOSTS,
];

/// GitLab's default limit on personal projects.
pub const DEFAULT_PROJECTS_LIMIT_VALUE: i64 = 100_000;
/// The largest limit GitLab stores (a 32-bit column).
const PROJECTS_LIMIT_MAX: i64 = i32::MAX as i64;
/// The first branch of new projects when the administrator has not chosen one.
pub const INITIAL_BRANCH: &str = "main";
/// How long artifacts are kept when neither the job nor the administrator says (GitLab's).
const DEFAULT_EXPIRE_IN_VALUE: &str = "30 days";
/// The largest artifact size an administrator may set: 1 TiB, in MiB (more is a typo).
const MAX_ARTIFACTS_SIZE_LIMIT: i64 = 1 << 20;
/// Most hosts remote includes may be allowed from (a longer list is a mistake).
const MAX_REMOTE_INCLUDE_HOSTS: usize = 100;

/// The instance's settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApplicationSettings {
    /// Whether people may create their own accounts.
    pub signup_enabled: bool,
    /// Whether those accounts wait for an administrator's approval.
    pub require_admin_approval_after_user_signup: bool,
    /// The limit on personal projects a new account gets (0: none may be created).
    pub default_projects_limit: i64,
    /// The visibility of a new project when its creator does not choose one.
    pub default_project_visibility: Visibility,
    /// The first branch of new projects; `None` for [`INITIAL_BRANCH`].
    pub default_branch_name: Option<String>,
    /// The largest artifact or cache archive a runner may upload, in MiB; until an
    /// administrator sets it, the server's configuration decides.
    pub max_artifacts_size: u64,
    /// The same in bytes (the configured default need not be whole MiB).
    max_artifacts_bytes: u64,
    /// How long artifacts are kept when their job does not say, as the administrator wrote it
    /// (`30 days`; `0` keeps them for ever).
    pub default_artifacts_expire_in: String,
    /// The hosts `include:remote` may fetch CI files from (`ci.example.com`, `*.example.com`,
    /// `10.0.0.5:8080`); none until an administrator names some. A loopback or private address
    /// is reached only through a host named exactly.
    pub ci_remote_include_hosts: Vec<String>,
}

impl ApplicationSettings {
    /// The first branch of a new project.
    pub fn initial_branch(&self) -> &str {
        self.default_branch_name.as_deref().unwrap_or(INITIAL_BRANCH)
    }

    /// The largest artifact a runner may upload, in bytes.
    pub fn max_artifacts_bytes(&self) -> u64 {
        self.max_artifacts_bytes
    }

    /// How long artifacts are kept when their job does not say, in seconds; `None` for ever.
    pub fn default_artifacts_lifetime(&self) -> Option<u64> {
        parse_expire_in(&self.default_artifacts_expire_in).filter(|seconds| *seconds > 0)
    }
}

/// What an administrator changes; `None` leaves a setting as it is. Values are checked by
/// [`super::Manage::update_application_settings`].
#[derive(Debug, Clone, Default)]
pub struct ApplicationSettingsChanges {
    pub signup_enabled: Option<bool>,
    pub require_admin_approval_after_user_signup: Option<bool>,
    pub default_projects_limit: Option<i64>,
    /// `private`, `internal` or `public`.
    pub default_project_visibility: Option<String>,
    /// Empty to go back to [`INITIAL_BRANCH`].
    pub default_branch_name: Option<String>,
    /// MiB, at least 1.
    pub max_artifacts_size: Option<i64>,
    /// A duration such as `30 days`, `1 week`, `3600`; `0` keeps artifacts for ever.
    pub default_artifacts_expire_in: Option<String>,
    /// Host names (`ci.example.com`), domains (`*.example.com`) or addresses, each with an
    /// optional port; empty to allow none.
    pub ci_remote_include_hosts: Option<Vec<String>>,
}

impl ApplicationSettingsChanges {
    /// Whether nothing is to change.
    pub fn is_empty(&self) -> bool {
        self.signup_enabled.is_none()
            && self.require_admin_approval_after_user_signup.is_none()
            && self.default_projects_limit.is_none()
            && self.default_project_visibility.is_none()
            && self.default_branch_name.is_none()
            && self.max_artifacts_size.is_none()
            && self.default_artifacts_expire_in.is_none()
            && self.ci_remote_include_hosts.is_none()
    }
}

/// Seconds in a duration as GitLab's settings take it (`30 days`, `1 week`, `3600`), `0` for
/// "never".
fn parse_expire_in(text: &str) -> Option<u64> {
    match text.trim() {
        "never" => Some(0),
        text => gantry_ci::vars::parse_duration(text),
    }
}

fn flag_text(value: bool) -> &'static str {
    if value { "true" } else { "false" }
}

/// The settings from the stored rows, defaults where a row is absent (or unreadable: every
/// value was checked when written).
/// `max_artifacts_default` is the server's configured limit, in bytes.
fn settings_from(stored: &HashMap<String, String>, max_artifacts_default: u64) -> ApplicationSettings {
    let flag = |key: &str| stored.get(key).is_none_or(|value| value == "true");
    let max_artifacts_mib = stored.get(MAX_ARTIFACTS_SIZE).and_then(|value| value.parse::<u64>().ok());
    ApplicationSettings {
        signup_enabled: flag(SIGNUP_ENABLED),
        require_admin_approval_after_user_signup: flag(REQUIRE_ADMIN_APPROVAL),
        default_projects_limit: stored
            .get(DEFAULT_PROJECTS_LIMIT)
            .and_then(|value| value.parse().ok())
            .unwrap_or(DEFAULT_PROJECTS_LIMIT_VALUE),
        default_project_visibility: stored
            .get(DEFAULT_PROJECT_VISIBILITY)
            .and_then(|value| Visibility::parse(value))
            .unwrap_or(Visibility::Private),
        default_branch_name: stored.get(DEFAULT_BRANCH_NAME).filter(|name| !name.is_empty()).cloned(),
        max_artifacts_size: max_artifacts_mib.unwrap_or_else(|| max_artifacts_default.div_ceil(1 << 20)),
        max_artifacts_bytes: max_artifacts_mib.map_or(max_artifacts_default, |mib| mib.saturating_mul(1 << 20)),
        default_artifacts_expire_in: stored
            .get(DEFAULT_ARTIFACTS_EXPIRE_IN)
            .cloned()
            .unwrap_or_else(|| DEFAULT_EXPIRE_IN_VALUE.to_owned()),
        ci_remote_include_hosts: stored
            .get(CI_REMOTE_INCLUDE_HOSTS)
            .map(|hosts| hosts.lines().map(str::to_owned).collect())
            .unwrap_or_default(),
    }
}

/// Refuses a new personal project of `owner` past their limit, in GitLab's words.
pub(crate) async fn check_personal_projects_limit(conn: &mut Conn, owner: UserId) -> CoreResult<()> {
    let Some(PersonalProjects { limit, count }) = project_limits::personal_projects(conn, owner).await? else {
        return Ok(());
    };
    if count < limit {
        return Ok(());
    }
    Err(CoreError::Forbidden(if limit == 0 {
        "Personal project creation is not allowed. Please contact your administrator with questions".to_owned()
    } else {
        format!("Your project limit is {limit} projects! Please contact your administrator to increase it")
    }))
}

/// Gives a new account the instance's default limit on personal projects (in the transaction
/// that creates it).
pub(crate) async fn give_default_projects_limit(conn: &mut Conn, user: UserId) -> CoreResult<()> {
    let limit = settings::get_setting(conn, DEFAULT_PROJECTS_LIMIT)
        .await?
        .and_then(|value| value.parse().ok())
        .unwrap_or(DEFAULT_PROJECTS_LIMIT_VALUE);
    project_limits::set_projects_limit(conn, user, limit).await?;
    Ok(())
}

fn check_projects_limit(field: &'static str, limit: i64) -> CoreResult<i64> {
    if limit < 0 {
        return Err(CoreError::invalid(field, "must be greater than or equal to 0"));
    }
    if limit > PROJECTS_LIMIT_MAX {
        return Err(CoreError::invalid(field, format!("must be less than or equal to {PROJECTS_LIMIT_MAX}")));
    }
    Ok(limit)
}

/// The rows to write (`None`: delete the row) for checked changes.
fn rows_for(changes: &ApplicationSettingsChanges) -> CoreResult<Vec<(&'static str, Option<String>)>> {
    let mut rows = Vec::new();
    if let Some(enabled) = changes.signup_enabled {
        rows.push((SIGNUP_ENABLED, Some(flag_text(enabled).to_owned())));
    }
    if let Some(required) = changes.require_admin_approval_after_user_signup {
        rows.push((REQUIRE_ADMIN_APPROVAL, Some(flag_text(required).to_owned())));
    }
    if let Some(limit) = changes.default_projects_limit {
        rows.push((DEFAULT_PROJECTS_LIMIT, Some(check_projects_limit(DEFAULT_PROJECTS_LIMIT, limit)?.to_string())));
    }
    if let Some(visibility) = &changes.default_project_visibility {
        let visibility = Visibility::parse(visibility.trim())
            .ok_or_else(|| CoreError::invalid(DEFAULT_PROJECT_VISIBILITY, "does not have a valid value"))?;
        rows.push((DEFAULT_PROJECT_VISIBILITY, Some(visibility.as_str().to_owned())));
    }
    if let Some(name) = &changes.default_branch_name {
        let name = name.trim();
        if name.is_empty() {
            rows.push((DEFAULT_BRANCH_NAME, None));
        } else {
            let name = super::projects::check_branch_name(name)
                .map_err(|_| CoreError::invalid(DEFAULT_BRANCH_NAME, format!("'{name}' is not a valid branch name")))?;
            rows.push((DEFAULT_BRANCH_NAME, Some(name)));
        }
    }
    if let Some(size) = changes.max_artifacts_size {
        if size < 1 {
            return Err(CoreError::invalid(MAX_ARTIFACTS_SIZE, "must be greater than 0"));
        }
        if size > MAX_ARTIFACTS_SIZE_LIMIT {
            return Err(CoreError::invalid(
                MAX_ARTIFACTS_SIZE,
                format!("must be less than or equal to {MAX_ARTIFACTS_SIZE_LIMIT}"),
            ));
        }
        rows.push((MAX_ARTIFACTS_SIZE, Some(size.to_string())));
    }
    if let Some(expire_in) = &changes.default_artifacts_expire_in {
        let expire_in = expire_in.trim();
        if expire_in.is_empty() {
            return Err(CoreError::invalid(DEFAULT_ARTIFACTS_EXPIRE_IN, "can't be blank"));
        }
        if expire_in.len() > 100 || parse_expire_in(expire_in).is_none() {
            return Err(CoreError::invalid(DEFAULT_ARTIFACTS_EXPIRE_IN, "is not a correct duration"));
        }
        rows.push((DEFAULT_ARTIFACTS_EXPIRE_IN, Some(expire_in.to_owned())));
    }
    if let Some(hosts) = &changes.ci_remote_include_hosts {
        let mut checked: Vec<String> = Vec::new();
        for host in hosts.iter().map(|h| h.trim().to_ascii_lowercase()).filter(|h| !h.is_empty()) {
            if !crate::ci::remote_include::is_host_entry(&host) {
                return Err(CoreError::invalid(
                    CI_REMOTE_INCLUDE_HOSTS,
                    format!("'{host}' is not a host: write `ci.example.com`, `*.example.com` or `10.0.0.5:8080`"),
                ));
            }
            if !checked.contains(&host) {
                checked.push(host);
            }
        }
        if checked.len() > MAX_REMOTE_INCLUDE_HOSTS {
            return Err(CoreError::invalid(
                CI_REMOTE_INCLUDE_HOSTS,
                format!("is too long (maximum is {MAX_REMOTE_INCLUDE_HOSTS} hosts)"),
            ));
        }
        rows.push((CI_REMOTE_INCLUDE_HOSTS, (!checked.is_empty()).then(|| checked.join("\n"))));
    }
    Ok(rows)
}

impl super::Manage<'_> {
    /// The settings, without asking who wants them (for the operations they govern).
    pub(crate) async fn current_application_settings(&self) -> CoreResult<ApplicationSettings> {
        let mut conn = self.db.conn().await?;
        let stored = settings::all_settings(&mut conn).await?;
        Ok(settings_from(&stored, self.ci.settings.max_artifact_size))
    }

    /// The instance's settings (administrators).
    pub async fn application_settings(&self, actor: &Actor) -> CoreResult<ApplicationSettings> {
        require_admin(actor)?;
        self.current_application_settings().await
    }

    /// Changes the instance's settings (administrators): every value is checked before any is
    /// written, and all are written in one transaction. Changing the default limit on personal
    /// projects leaves existing accounts' limits as they are, as in GitLab.
    pub async fn update_application_settings(
        &self,
        actor: &Actor,
        changes: &ApplicationSettingsChanges,
    ) -> CoreResult<ApplicationSettings> {
        let admin = require_admin(actor)?;
        let rows = rows_for(changes)?;
        let mut tx = self.db.begin().await?;
        for (key, value) in &rows {
            match value {
                Some(value) => settings::set_setting(&mut tx, key, value).await?,
                None => settings::delete_setting(&mut tx, key).await?,
            }
        }
        tx.commit().await.map_err(gantry_db::DbError::from)?;
        let names: Vec<&str> = rows.iter().map(|(key, _)| *key).collect();
        tracing::info!(by = %admin.id, settings = ?names, "application settings changed");
        self.current_application_settings().await
    }

    /// The visibility a new project gets when its creator does not choose (for the form).
    pub async fn default_project_visibility(&self) -> CoreResult<Visibility> {
        Ok(self.current_application_settings().await?.default_project_visibility)
    }

    /// A user's limit on personal projects and how many they have (the user or an
    /// administrator; others are told there is no such user).
    pub async fn personal_projects(&self, actor: &Actor, user: UserId) -> CoreResult<PersonalProjects> {
        let me = actor.require_user()?;
        if me.id != user && !administers(actor) {
            return Err(CoreError::NotFound("user"));
        }
        let mut conn = self.db.conn().await?;
        project_limits::personal_projects(&mut conn, user).await?.ok_or(CoreError::NotFound("user"))
    }

    /// Sets a user's limit on personal projects (administrators; GitLab's `projects_limit`).
    pub async fn set_projects_limit(&self, actor: &Actor, user: UserId, limit: i64) -> CoreResult<()> {
        let admin = require_admin(actor)?;
        let limit = check_projects_limit("projects_limit", limit)?;
        let mut conn = self.db.conn().await?;
        project_limits::personal_projects(&mut conn, user).await?.ok_or(CoreError::NotFound("user"))?;
        project_limits::set_projects_limit(&mut conn, user, limit).await?;
        tracing::info!(user.id = %user, limit, by = %admin.id, "projects limit changed");
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn absent_rows_hold_gitlab_defaults() {
        let settings = settings_from(&HashMap::new(), 100 << 20);
        assert!(settings.signup_enabled && settings.require_admin_approval_after_user_signup);
        assert_eq!(settings.default_projects_limit, 100_000);
        assert_eq!(settings.default_project_visibility, Visibility::Private);
        assert_eq!(settings.initial_branch(), "main");
        assert_eq!(settings.max_artifacts_bytes(), 100 << 20);
        assert_eq!(settings.default_artifacts_lifetime(), Some(30 * 24 * 3600));
        assert!(settings.ci_remote_include_hosts.is_empty(), "no remote include is allowed by default");
    }

    #[test]
    fn remote_include_hosts_are_checked_and_kept_one_a_line() {
        let hosts = |list: &[&str]| ApplicationSettingsChanges {
            ci_remote_include_hosts: Some(list.iter().map(|h| (*h).to_owned()).collect()),
            ..Default::default()
        };
        let rows =
            rows_for(&hosts(&[" CI.example.com ", "*.example.org", "", "ci.example.com", "127.0.0.1:8080"])).unwrap();
        let stored = "ci.example.com\n*.example.org\n127.0.0.1:8080".to_owned();
        assert_eq!(rows, [(CI_REMOTE_INCLUDE_HOSTS, Some(stored.clone()))]);
        let settings = settings_from(&HashMap::from([(CI_REMOTE_INCLUDE_HOSTS.to_owned(), stored)]), 1);
        assert_eq!(settings.ci_remote_include_hosts, ["ci.example.com", "*.example.org", "127.0.0.1:8080"]);
        assert_eq!(rows_for(&hosts(&[])).unwrap(), [(CI_REMOTE_INCLUDE_HOSTS, None)], "an empty list allows none");
        let error = rows_for(&hosts(&["https://ci.example.com/x.yml"])).unwrap_err().to_string();
        assert!(error.starts_with("ci_remote_include_hosts 'https://ci.example.com/x.yml' is not a host"), "{error}");
    }

    #[test]
    fn changes_are_checked_before_anything_is_written() {
        let bad = |changes: ApplicationSettingsChanges| rows_for(&changes).unwrap_err().to_string();
        assert_eq!(
            bad(ApplicationSettingsChanges { default_projects_limit: Some(-1), ..Default::default() }),
            "default_projects_limit must be greater than or equal to 0"
        );
        assert_eq!(
            bad(ApplicationSettingsChanges { default_project_visibility: Some("secret".into()), ..Default::default() }),
            "default_project_visibility does not have a valid value"
        );
        assert_eq!(
            bad(ApplicationSettingsChanges { default_artifacts_expire_in: Some("soon".into()), ..Default::default() }),
            "default_artifacts_expire_in is not a correct duration"
        );
        assert_eq!(
            bad(ApplicationSettingsChanges { max_artifacts_size: Some(0), ..Default::default() }),
            "max_artifacts_size must be greater than 0"
        );
        assert!(
            bad(ApplicationSettingsChanges { default_branch_name: Some("a..b".into()), ..Default::default() })
                .starts_with("default_branch_name ")
        );
        let never =
            ApplicationSettings { default_artifacts_expire_in: "0".into(), ..settings_from(&HashMap::new(), 1) };
        assert_eq!(never.default_artifacts_lifetime(), None);
        let rows =
            rows_for(&ApplicationSettingsChanges { default_branch_name: Some(" ".into()), ..Default::default() })
                .unwrap();
        assert_eq!(rows, [(DEFAULT_BRANCH_NAME, None)], "an empty branch name goes back to the default");
    }
}
