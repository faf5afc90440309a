//! `/user/keys` (the caller's SSH keys) and `/users/:id/keys` (anyone's public keys).

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use gantry_core::CoreError;
use gantry_core::manage::ssh_keys::NewKeyInput;
use gantry_core::manage::tokens::parse_expiry_date;
use gantry_types::UserId;
use serde::Deserialize;

use super::types::SshKey;
use super::{ApiInput, ApiResult};
use crate::AppState;
use crate::auth::ApiActor;

fn key_id(value: &str) -> ApiResult<i64> {
    value.parse::<i64>().map_err(|_| CoreError::NotFound("key").into())
}

/// `GET /user/keys`
pub async fn list_own(State(state): State<AppState>, ApiActor(actor): ApiActor) -> ApiResult<Json<Vec<SshKey>>> {
    let user = actor.require_user()?;
    let keys = state.core.manage().list_ssh_keys(user.id).await?;
    Ok(Json(keys.iter().map(SshKey::new).collect()))
}

/// `GET /users/:user_id/keys`: public keys are public, as in GitLab.
pub async fn list_for_user(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(user_id): Path<String>,
) -> ApiResult<Json<Vec<SshKey>>> {
    let id = user_id.parse::<i64>().map_err(|_| CoreError::NotFound("user"))?;
    let user = state.core.manage().find_user(&actor, UserId(id)).await?;
    let keys = state.core.manage().list_ssh_keys(user.id).await?;
    Ok(Json(keys.iter().map(SshKey::new).collect()))
}

/// `GET /user/keys/:key_id`
pub async fn get_own(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
) -> ApiResult<Json<SshKey>> {
    let key = state.core.manage().find_ssh_key(&actor, key_id(&id)?).await?;
    Ok(Json(SshKey::new(&key)))
}

#[derive(Debug, Deserialize)]
pub struct AddKeyInput {
    #[serde(default)]
    title: String,
    #[serde(default)]
    key: String,
    expires_at: Option<String>,
}

/// `POST /users/:id/keys` (administrators): adds a key to that user's account.
pub async fn add_for_user(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
    input: ApiInput<AddKeyInput>,
) -> ApiResult<Response> {
    let user = state.core.manage().act_for(&actor, super::ci_types::id_param(&id, "user")?).await?;
    add_own(State(state), ApiActor(user), input).await
}

/// `POST /user/keys` (`title`, `key`, optional `expires_at`)
pub async fn add_own(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiInput(input): ApiInput<AddKeyInput>,
) -> ApiResult<Response> {
    let expires_at = match input.expires_at.as_deref().map(|d| d.get(..10).unwrap_or(d)).filter(|d| !d.is_empty()) {
        Some(date) => Some(parse_expiry_date(date)?),
        None => None,
    };
    let key = state
        .core
        .manage()
        .add_ssh_key(&actor, &NewKeyInput { title: input.title, key: input.key, expires_at })
        .await?;
    Ok((StatusCode::CREATED, Json(SshKey::new(&key))).into_response())
}

/// `DELETE /user/keys/:key_id`
pub async fn delete_own(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    state.core.manage().delete_ssh_key(&actor, key_id(&id)?).await?;
    Ok(StatusCode::NO_CONTENT)
}
