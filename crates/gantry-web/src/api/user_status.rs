//! `/user/status` (the caller's status: read, replace with `PUT`, change with `PATCH`) and
//! `/users/:id_or_username/status`.

use axum::Json;
use axum::extract::{Path, State};
use gantry_core::manage::user_status::{StatusChange, StatusInput, UserStatusRow};
use serde::{Deserialize, Serialize};

use super::{ApiInput, ApiResult};
use crate::AppState;
use crate::auth::ApiActor;
use crate::markup::escape;
use crate::time_format::iso8601;

/// A user's status (GitLab's `UserStatus`); every field is empty for a user without one.
#[derive(Debug, Serialize)]
pub struct UserStatus {
    pub emoji: Option<String>,
    pub message: Option<String>,
    pub availability: Option<&'static str>,
    pub message_html: String,
    pub clear_status_at: Option<String>,
}

impl UserStatus {
    fn new(status: Option<&UserStatusRow>) -> UserStatus {
        match status {
            Some(status) => UserStatus {
                emoji: Some(status.emoji.clone()),
                message: Some(status.message.clone()),
                availability: Some(status.availability.as_str()),
                message_html: escape(&status.message),
                clear_status_at: status.clear_at.map(iso8601),
            },
            None => UserStatus {
                emoji: None,
                message: None,
                availability: None,
                message_html: String::new(),
                clear_status_at: None,
            },
        }
    }
}

#[derive(Debug, Deserialize)]
pub struct StatusParams {
    emoji: Option<String>,
    message: Option<String>,
    availability: Option<String>,
    clear_status_after: Option<String>,
}

impl StatusParams {
    fn input(self) -> StatusInput {
        StatusInput {
            emoji: self.emoji,
            message: self.message,
            availability: self.availability,
            clear_status_after: self.clear_status_after,
        }
    }
}

/// `GET /user/status`
pub async fn get_own(State(state): State<AppState>, ApiActor(actor): ApiActor) -> ApiResult<Json<UserStatus>> {
    let status = state.core.manage().own_status(&actor).await?;
    Ok(Json(UserStatus::new(status.as_ref())))
}

/// `PUT /user/status` (`emoji`, `message`, `availability`, `clear_status_after`): what is not
/// sent is cleared; nothing sent clears the status.
pub async fn replace_own(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiInput(params): ApiInput<StatusParams>,
) -> ApiResult<Json<UserStatus>> {
    let status = state.core.manage().set_own_status(&actor, &params.input(), StatusChange::Replace).await?;
    Ok(Json(UserStatus::new(status.as_ref())))
}

/// `PATCH /user/status`: what is not sent stays.
pub async fn update_own(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiInput(params): ApiInput<StatusParams>,
) -> ApiResult<Json<UserStatus>> {
    let status = state.core.manage().set_own_status(&actor, &params.input(), StatusChange::Update).await?;
    Ok(Json(UserStatus::new(status.as_ref())))
}

/// `GET /users/:id_or_username/status`
pub async fn get_for_user(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(user): Path<String>,
) -> ApiResult<Json<UserStatus>> {
    let status = state.core.manage().user_status(&actor, &user).await?;
    Ok(Json(UserStatus::new(status.as_ref())))
}
