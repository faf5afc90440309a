//! The admin area: users (create, approve or reject sign-ups, block, ban or deactivate and
//! undo it, delete), the background job queue (retry or discard failed jobs) and instance
//! settings.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use gantry_core::background::{BackgroundJobRow, BackgroundQueue};
use gantry_core::manage::accounts::{NewAccount, UserFilter};
use gantry_core::manage::application_settings::{ApplicationSettings, ApplicationSettingsChanges};
use gantry_core::manage::user_admin::{Moderation, UserState};
use gantry_core::{Page, UserRow};
use gantry_types::UserId;
use serde::Deserialize;

use super::{Chrome, PageResult, form_error, render, see_other};
use crate::AppState;
use crate::auth::{CsrfForm, PageActor};
use crate::time_format::date;
use crate::ui::flash::{Flash, see_other_with};

#[derive(Template)]
#[template(path = "admin/users.html")]
struct UsersPage {
    chrome: Chrome,
    users: Vec<UserRow>,
    error: Option<String>,
}

impl UsersPage {
    fn created(&self, user: &UserRow) -> String {
        date(user.created_at)
    }

    /// The user's state, in words.
    fn state_label(&self, user: &UserRow) -> &'static str {
        match user.state {
            UserState::Active => "active",
            UserState::Blocked => "blocked",
            UserState::BlockedPendingApproval => "waiting for approval",
            UserState::Banned => "banned",
            UserState::Deactivated => "deactivated",
        }
    }

    /// The state changes offered for the user: (the action's path, its button, whether it
    /// takes something away).
    fn moderations(&self, user: &UserRow) -> &'static [(&'static str, &'static str, bool)] {
        match user.state {
            UserState::Active => &[("block", "Block", true), ("ban", "Ban", true), ("deactivate", "Deactivate", true)],
            UserState::Blocked => &[("unblock", "Unblock", false)],
            UserState::Banned => &[("unban", "Unban", false)],
            UserState::Deactivated => &[("activate", "Activate", false), ("block", "Block", true)],
            UserState::BlockedPendingApproval => &[],
        }
    }
}

#[derive(Template)]
#[template(path = "admin/settings.html")]
struct SettingsPage {
    chrome: Chrome,
    settings: ApplicationSettings,
    /// Who mail comes from, when an SMTP server is configured.
    mail_sender: Option<String>,
    /// The visibility choices: (value, label).
    visibilities: [(&'static str, &'static str); 3],
    error: Option<String>,
}

#[derive(Template)]
#[template(path = "admin/background_jobs.html")]
struct BackgroundJobsPage {
    chrome: Chrome,
    queue: BackgroundQueue,
    error: Option<String>,
    now: i64,
}

impl BackgroundJobsPage {
    fn describe(&self, job: &BackgroundJobRow) -> String {
        gantry_core::background::describe(&job.kind, &job.payload)
    }

    fn iso(&self, at: &i64) -> String {
        crate::time_format::iso8601(*at)
    }

    fn ago(&self, at: &i64) -> String {
        crate::time_format::ago(*at, self.now)
    }

    fn due(&self, at: &i64) -> String {
        crate::time_format::from_now(*at, self.now)
    }
}

fn require_admin(visitor: &PageActor) -> Result<(), crate::error::PageError> {
    gantry_core::policy::require_admin(&visitor.actor).map_err(|e| visitor.error(e))?;
    Ok(())
}

async fn users_page(state: &AppState, visitor: &PageActor, status: StatusCode, error: Option<String>) -> PageResult {
    require_admin(visitor)?;
    let (users, _) =
        state.core.manage().list_users(&visitor.actor, UserFilter::default(), Page { offset: 0, limit: 500 }).await?;
    render(status, &UsersPage { chrome: Chrome::new(visitor), users, error })
}

/// `GET /admin`
pub async fn users(State(state): State<AppState>, visitor: PageActor) -> PageResult {
    users_page(&state, &visitor, StatusCode::OK, None).await
}

#[derive(Debug, Deserialize)]
pub struct NewUserForm {
    #[serde(default)]
    username: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    admin: Option<String>,
}

/// `POST /admin/users`
pub async fn create_user(
    State(state): State<AppState>,
    visitor: PageActor,
    CsrfForm(form): CsrfForm<NewUserForm>,
) -> PageResult {
    require_admin(&visitor)?;
    let account = NewAccount { username: form.username, email: form.email, name: form.name, password: form.password };
    match state.core.manage().create_user(&visitor.actor, &account, form.admin.is_some()).await {
        Ok(_) => see_other("/admin"),
        Err(error) => {
            let (status, message) = form_error(error);
            users_page(&state, &visitor, status, Some(message)).await
        }
    }
}

/// Back to the admin area after an action on a user, or the users page with what went wrong.
async fn after_user_action(
    state: &AppState,
    visitor: &PageActor,
    done: Result<(), gantry_core::CoreError>,
) -> PageResult {
    match done {
        Ok(()) => see_other("/admin"),
        Err(error) => {
            let (status, message) = form_error(error);
            users_page(state, visitor, status, Some(message)).await
        }
    }
}

/// An administrator's change of a user's state; one that was already so changes nothing.
async fn moderate(state: AppState, visitor: PageActor, id: i64, action: Moderation) -> PageResult {
    require_admin(&visitor)?;
    let done = state.core.manage().moderate_user(&visitor.actor, UserId(id), action).await.map(drop);
    after_user_action(&state, &visitor, done).await
}

/// `POST /admin/users/{user_id}/block`
pub async fn block_user(
    State(state): State<AppState>,
    visitor: PageActor,
    Path(id): Path<i64>,
    CsrfForm(_): CsrfForm<serde::de::IgnoredAny>,
) -> PageResult {
    moderate(state, visitor, id, Moderation::Block).await
}

/// `POST /admin/users/{user_id}/unblock`
pub async fn unblock_user(
    State(state): State<AppState>,
    visitor: PageActor,
    Path(id): Path<i64>,
    CsrfForm(_): CsrfForm<serde::de::IgnoredAny>,
) -> PageResult {
    moderate(state, visitor, id, Moderation::Unblock).await
}

/// `POST /admin/users/{user_id}/ban`
pub async fn ban_user(
    State(state): State<AppState>,
    visitor: PageActor,
    Path(id): Path<i64>,
    CsrfForm(_): CsrfForm<serde::de::IgnoredAny>,
) -> PageResult {
    moderate(state, visitor, id, Moderation::Ban).await
}

/// `POST /admin/users/{user_id}/unban`
pub async fn unban_user(
    State(state): State<AppState>,
    visitor: PageActor,
    Path(id): Path<i64>,
    CsrfForm(_): CsrfForm<serde::de::IgnoredAny>,
) -> PageResult {
    moderate(state, visitor, id, Moderation::Unban).await
}

/// `POST /admin/users/{user_id}/deactivate`
pub async fn deactivate_user(
    State(state): State<AppState>,
    visitor: PageActor,
    Path(id): Path<i64>,
    CsrfForm(_): CsrfForm<serde::de::IgnoredAny>,
) -> PageResult {
    moderate(state, visitor, id, Moderation::Deactivate).await
}

/// `POST /admin/users/{user_id}/activate`
pub async fn activate_user(
    State(state): State<AppState>,
    visitor: PageActor,
    Path(id): Path<i64>,
    CsrfForm(_): CsrfForm<serde::de::IgnoredAny>,
) -> PageResult {
    moderate(state, visitor, id, Moderation::Activate).await
}

/// `POST /admin/users/{user_id}/approve`
pub async fn approve_user(
    State(state): State<AppState>,
    visitor: PageActor,
    Path(id): Path<i64>,
    CsrfForm(_): CsrfForm<serde::de::IgnoredAny>,
) -> PageResult {
    require_admin(&visitor)?;
    let done = state.core.manage().approve_user(&visitor.actor, UserId(id)).await.map(drop);
    after_user_action(&state, &visitor, done).await
}

/// `POST /admin/users/{user_id}/reject`: deletes the account waiting for approval.
pub async fn reject_user(
    State(state): State<AppState>,
    visitor: PageActor,
    Path(id): Path<i64>,
    CsrfForm(_): CsrfForm<serde::de::IgnoredAny>,
) -> PageResult {
    require_admin(&visitor)?;
    let done = state.core.manage().reject_user(&visitor.actor, UserId(id)).await;
    after_user_action(&state, &visitor, done).await
}

/// `POST /admin/users/{user_id}/delete`: deletes the account with its personal projects.
pub async fn delete_user(
    State(state): State<AppState>,
    visitor: PageActor,
    Path(id): Path<i64>,
    CsrfForm(_): CsrfForm<serde::de::IgnoredAny>,
) -> PageResult {
    require_admin(&visitor)?;
    let done = state.core.manage().delete_user(&visitor.actor, UserId(id)).await;
    after_user_action(&state, &visitor, done).await
}

/// How many jobs of each state the page lists.
const BACKGROUND_JOBS_SHOWN: i64 = 100;

async fn background_jobs_page(
    state: &AppState,
    visitor: &PageActor,
    status: StatusCode,
    error: Option<String>,
) -> PageResult {
    let queue = state.core.background_queue(&visitor.actor, BACKGROUND_JOBS_SHOWN).await?;
    let page = BackgroundJobsPage { chrome: Chrome::new(visitor), queue, error, now: gantry_core::now_millis() };
    render(status, &page)
}

/// `GET /admin/background_jobs`
pub async fn background_jobs(State(state): State<AppState>, visitor: PageActor) -> PageResult {
    background_jobs_page(&state, &visitor, StatusCode::OK, None).await
}

/// Back to the queue after an action on a job, or the queue with what went wrong (which, for
/// anyone but an administrator, is that there is no such page).
async fn after_background_job_action(
    state: &AppState,
    visitor: &PageActor,
    done: Result<(), gantry_core::CoreError>,
) -> PageResult {
    match done {
        Ok(()) => see_other("/admin/background_jobs"),
        Err(error) => {
            let (status, message) = form_error(error);
            background_jobs_page(state, visitor, status, Some(message)).await
        }
    }
}

/// `POST /admin/background_jobs/{job_id}/retry`
pub async fn retry_background_job(
    State(state): State<AppState>,
    visitor: PageActor,
    Path(id): Path<gantry_types::BackgroundJobId>,
    CsrfForm(_): CsrfForm<serde::de::IgnoredAny>,
) -> PageResult {
    let done = state.core.retry_background_job(&visitor.actor, id).await;
    after_background_job_action(&state, &visitor, done).await
}

/// `POST /admin/background_jobs/{job_id}/discard`
pub async fn discard_background_job(
    State(state): State<AppState>,
    visitor: PageActor,
    Path(id): Path<gantry_types::BackgroundJobId>,
    CsrfForm(_): CsrfForm<serde::de::IgnoredAny>,
) -> PageResult {
    let done = state.core.discard_background_job(&visitor.actor, id).await;
    after_background_job_action(&state, &visitor, done).await
}

async fn settings_page(state: &AppState, visitor: &PageActor, status: StatusCode, error: Option<String>) -> PageResult {
    let settings = state.core.manage().application_settings(&visitor.actor).await.map_err(|e| visitor.error(e))?;
    let visibilities = [
        ("private", "Private: only members"),
        ("internal", "Internal: any signed-in user"),
        ("public", "Public: everyone"),
    ];
    let mail_sender = state.core.mail_sender();
    render(status, &SettingsPage { chrome: Chrome::new(visitor), settings, mail_sender, visibilities, error })
}

/// `POST /admin/settings/test_mail` (`to`): queues a test mail, as `gantry admin
/// send-test-mail` does.
pub async fn send_test_mail(
    State(state): State<AppState>,
    visitor: PageActor,
    CsrfForm(form): CsrfForm<Vec<(String, String)>>,
) -> PageResult {
    let to = form.iter().find(|(name, _)| name == "to").map(|(_, value)| value.trim().to_owned()).unwrap_or_default();
    match state.core.send_test_mail(&visitor.actor, &to).await {
        Ok(()) => {
            let message = format!("A test e-mail to {to} is on its way; the background jobs page shows if it waits.");
            see_other_with(&state, &visitor, "/admin/settings", &Flash::notice(message))
        }
        Err(error @ (gantry_core::CoreError::Invalid { .. } | gantry_core::CoreError::Conflict(_))) => {
            let (status, message) = crate::ui::form_error(error);
            settings_page(&state, &visitor, status, Some(message)).await
        }
        Err(error) => Err(visitor.error(error)),
    }
}

/// `GET /admin/settings`
pub async fn settings(State(state): State<AppState>, visitor: PageActor) -> PageResult {
    settings_page(&state, &visitor, StatusCode::OK, None).await
}

/// The settings form: the checkboxes are sent only when ticked; a field not sent at all is
/// left as it is.
#[derive(Debug, Deserialize)]
pub struct SettingsForm {
    signup_enabled: Option<String>,
    require_admin_approval: Option<String>,
    default_projects_limit: Option<String>,
    default_project_visibility: Option<String>,
    default_branch_name: Option<String>,
    max_artifacts_size: Option<String>,
    default_artifacts_expire_in: Option<String>,
    /// One host a line.
    ci_remote_include_hosts: Option<String>,
}

/// A whole number typed in the form; `None` when the field was not sent.
fn whole_number(field: &'static str, text: Option<&str>) -> Result<Option<i64>, String> {
    text.map(|text| text.trim().parse::<i64>().map_err(|_| format!("{field} must be a whole number"))).transpose()
}

/// `POST /admin/settings`
pub async fn save_settings(
    State(state): State<AppState>,
    visitor: PageActor,
    CsrfForm(form): CsrfForm<SettingsForm>,
) -> PageResult {
    require_admin(&visitor)?;
    let numbers = whole_number("default_projects_limit", form.default_projects_limit.as_deref())
        .and_then(|limit| Ok((limit, whole_number("max_artifacts_size", form.max_artifacts_size.as_deref())?)));
    let (default_projects_limit, max_artifacts_size) = match numbers {
        Ok(numbers) => numbers,
        Err(message) => return settings_page(&state, &visitor, StatusCode::BAD_REQUEST, Some(message)).await,
    };
    let changes = ApplicationSettingsChanges {
        signup_enabled: Some(form.signup_enabled.is_some()),
        require_admin_approval_after_user_signup: Some(form.require_admin_approval.is_some()),
        default_projects_limit,
        default_project_visibility: form.default_project_visibility,
        default_branch_name: form.default_branch_name,
        max_artifacts_size,
        default_artifacts_expire_in: form.default_artifacts_expire_in,
        ci_remote_include_hosts: form
            .ci_remote_include_hosts
            .as_deref()
            .map(crate::api::application_settings::split_hosts),
    };
    match state.core.manage().update_application_settings(&visitor.actor, &changes).await {
        Ok(_) => see_other("/admin/settings"),
        Err(error) => {
            let (status, message) = form_error(error);
            settings_page(&state, &visitor, status, Some(message)).await
        }
    }
}
