//! The admin area: users (create, approve or reject sign-ups, block, unblock), the background
//! job queue (retry or discard failed jobs) and instance settings.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use gantry_core::background::{BackgroundJobRow, BackgroundQueue};
use gantry_core::manage::accounts::{NewAccount, UserFilter};
use gantry_core::{Page, UserRow};
use gantry_types::UserId;
use serde::Deserialize;

use super::{Chrome, PageResult, form_error, render, see_other};
use crate::AppState;
use crate::auth::{CsrfForm, PageActor};
use crate::time_format::date;

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
}

#[derive(Template)]
#[template(path = "admin/settings.html")]
struct SettingsPage {
    chrome: Chrome,
    signup_enabled: bool,
    approval_required: bool,
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

async fn set_blocked(state: AppState, visitor: PageActor, id: i64, blocked: bool) -> PageResult {
    require_admin(&visitor)?;
    let done = state.core.manage().set_user_blocked(&visitor.actor, UserId(id), blocked).await.map(drop);
    after_user_action(&state, &visitor, done).await
}

/// `POST /admin/users/{user_id}/block`
pub async fn block_user(
    State(state): State<AppState>,
    visitor: PageActor,
    Path(id): Path<i64>,
    CsrfForm(_): CsrfForm<serde::de::IgnoredAny>,
) -> PageResult {
    set_blocked(state, visitor, id, true).await
}

/// `POST /admin/users/{user_id}/unblock`
pub async fn unblock_user(
    State(state): State<AppState>,
    visitor: PageActor,
    Path(id): Path<i64>,
    CsrfForm(_): CsrfForm<serde::de::IgnoredAny>,
) -> PageResult {
    set_blocked(state, visitor, id, false).await
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

/// `GET /admin/settings`
pub async fn settings(State(state): State<AppState>, visitor: PageActor) -> PageResult {
    require_admin(&visitor)?;
    let signup_enabled = state.core.manage().signup_enabled().await?;
    let approval_required = state.core.manage().signup_approval_required().await?;
    render(StatusCode::OK, &SettingsPage { chrome: Chrome::new(&visitor), signup_enabled, approval_required })
}

#[derive(Debug, Deserialize)]
pub struct SettingsForm {
    signup_enabled: Option<String>,
    require_admin_approval: Option<String>,
}

/// `POST /admin/settings`
pub async fn save_settings(
    State(state): State<AppState>,
    visitor: PageActor,
    CsrfForm(form): CsrfForm<SettingsForm>,
) -> PageResult {
    require_admin(&visitor)?;
    state.core.manage().set_signup_enabled(&visitor.actor, form.signup_enabled.is_some()).await?;
    state.core.manage().set_signup_approval_required(&visitor.actor, form.require_admin_approval.is_some()).await?;
    see_other("/admin/settings")
}
