//! `/user/emails` (the caller's secondary e-mail addresses) and `/users/:id/emails`
//! (administrators: anyone's). The primary address is not among them, as in GitLab.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use gantry_core::manage::emails::EmailRow;
use gantry_types::{EmailId, UserId};
use serde::{Deserialize, Serialize};

use super::ci_types::id_param;
use super::{ApiInput, ApiResult, Flag};
use crate::AppState;
use crate::auth::ApiActor;
use crate::time_format::iso8601;

/// A secondary address (GitLab's `Email`).
#[derive(Debug, Serialize)]
pub struct Email {
    pub id: i64,
    pub email: String,
    pub confirmed_at: Option<String>,
}

impl Email {
    fn new(email: &EmailRow) -> Email {
        Email { id: email.id.0, email: email.email.clone(), confirmed_at: email.confirmed_at.map(iso8601) }
    }
}

fn listing(emails: &[EmailRow]) -> Json<Vec<Email>> {
    Json(emails.iter().map(Email::new).collect())
}

#[derive(Debug, Deserialize)]
pub struct AddEmailInput {
    #[serde(default)]
    email: String,
    skip_confirmation: Option<Flag>,
}

/// `GET /user/emails`
pub async fn list_own(State(state): State<AppState>, ApiActor(actor): ApiActor) -> ApiResult<Json<Vec<Email>>> {
    Ok(listing(&state.core.manage().list_own_emails(&actor).await?))
}

/// `GET /user/emails/:email_id`
pub async fn get_own(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
) -> ApiResult<Json<Email>> {
    let email = state.core.manage().find_email(&actor, id_param::<EmailId>(&id, "email")?).await?;
    Ok(Json(Email::new(&email)))
}

/// `POST /user/emails` (`email`): unconfirmed, as Gantry sends no mail yet.
pub async fn add_own(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiInput(input): ApiInput<AddEmailInput>,
) -> ApiResult<Response> {
    let email = state.core.manage().add_own_email(&actor, &input.email).await?;
    Ok((StatusCode::CREATED, Json(Email::new(&email))).into_response())
}

/// `DELETE /user/emails/:email_id`
pub async fn delete_own(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    state.core.manage().delete_email(&actor, id_param::<EmailId>(&id, "email")?).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /users/:id/emails` (administrators)
pub async fn list_for_user(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(user): Path<String>,
) -> ApiResult<Json<Vec<Email>>> {
    let user = id_param::<UserId>(&user, "user")?;
    Ok(listing(&state.core.manage().list_user_emails(&actor, user).await?))
}

/// `POST /users/:id/emails` (administrators; `email`, `skip_confirmation`)
pub async fn add_for_user(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(user): Path<String>,
    ApiInput(input): ApiInput<AddEmailInput>,
) -> ApiResult<Response> {
    gantry_core::policy::require_admin(&actor)?;
    let user = id_param::<UserId>(&user, "user")?;
    let skip_confirmation = match &input.skip_confirmation {
        Some(flag) => flag.value("skip_confirmation")?,
        None => false,
    };
    let email = state.core.manage().add_user_email(&actor, user, &input.email, skip_confirmation).await?;
    Ok((StatusCode::CREATED, Json(Email::new(&email))).into_response())
}

/// `DELETE /users/:id/emails/:email_id` (administrators)
pub async fn delete_for_user(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path((user, id)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    let user = id_param::<UserId>(&user, "user")?;
    state.core.manage().delete_user_email(&actor, user, id_param::<EmailId>(&id, "email")?).await?;
    Ok(StatusCode::NO_CONTENT)
}
