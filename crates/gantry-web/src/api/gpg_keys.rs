//! `/user/gpg_keys` (the caller's GPG keys) and `/users/:id/gpg_keys` (anyone's, for those
//! signed in; adding and deleting for administrators). Revoking a key deletes it: commit
//! signatures are not verified yet, so there are none to mark unverified.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use gantry_core::manage::gpg_keys::GpgKeyRow;
use gantry_types::{GpgKeyId, UserId};
use serde::{Deserialize, Serialize};

use super::ci_types::id_param;
use super::{ApiInput, ApiResult};
use crate::AppState;
use crate::auth::ApiActor;
use crate::time_format::iso8601;

/// A GPG key (GitLab's `GpgKey`).
#[derive(Debug, Serialize)]
pub struct GpgKey {
    pub id: i64,
    pub key: String,
    pub created_at: String,
}

impl GpgKey {
    fn new(key: &GpgKeyRow) -> GpgKey {
        GpgKey { id: key.id.0, key: key.public_key.clone(), created_at: iso8601(key.created_at) }
    }
}

fn listing(keys: &[GpgKeyRow]) -> Json<Vec<GpgKey>> {
    Json(keys.iter().map(GpgKey::new).collect())
}

fn key_id(value: &str) -> ApiResult<GpgKeyId> {
    id_param(value, "GPG key")
}

#[derive(Debug, Deserialize)]
pub struct AddGpgKeyInput {
    #[serde(default)]
    key: String,
}

/// `GET /user/gpg_keys`
pub async fn list_own(State(state): State<AppState>, ApiActor(actor): ApiActor) -> ApiResult<Json<Vec<GpgKey>>> {
    let user = actor.require_user()?;
    Ok(listing(&state.core.manage().list_gpg_keys(&actor, user.id).await?))
}

/// `GET /user/gpg_keys/:key_id`
pub async fn get_own(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
) -> ApiResult<Json<GpgKey>> {
    Ok(Json(GpgKey::new(&state.core.manage().find_gpg_key(&actor, key_id(&id)?).await?)))
}

/// `POST /user/gpg_keys` (`key`: the ASCII-armored public key)
pub async fn add_own(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiInput(input): ApiInput<AddGpgKeyInput>,
) -> ApiResult<Response> {
    let key = state.core.manage().add_gpg_key(&actor, &input.key).await?;
    Ok((StatusCode::CREATED, Json(GpgKey::new(&key))).into_response())
}

/// `DELETE /user/gpg_keys/:key_id`
pub async fn delete_own(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    state.core.manage().delete_gpg_key(&actor, key_id(&id)?).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /user/gpg_keys/:key_id/revoke`: 202, the key is gone.
pub async fn revoke_own(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    state.core.manage().delete_gpg_key(&actor, key_id(&id)?).await?;
    Ok(StatusCode::ACCEPTED)
}

/// `GET /users/:id/gpg_keys`
pub async fn list_for_user(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(user): Path<String>,
) -> ApiResult<Json<Vec<GpgKey>>> {
    let user = id_param::<UserId>(&user, "user")?;
    Ok(listing(&state.core.manage().list_gpg_keys(&actor, user).await?))
}

/// `GET /users/:id/gpg_keys/:key_id`
pub async fn get_for_user(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path((user, id)): Path<(String, String)>,
) -> ApiResult<Json<GpgKey>> {
    let user = id_param::<UserId>(&user, "user")?;
    Ok(Json(GpgKey::new(&state.core.manage().find_user_gpg_key(&actor, user, key_id(&id)?).await?)))
}

/// `POST /users/:id/gpg_keys` (administrators)
pub async fn add_for_user(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(user): Path<String>,
    ApiInput(input): ApiInput<AddGpgKeyInput>,
) -> ApiResult<Response> {
    let user = id_param::<UserId>(&user, "user")?;
    let key = state.core.manage().add_user_gpg_key(&actor, user, &input.key).await?;
    Ok((StatusCode::CREATED, Json(GpgKey::new(&key))).into_response())
}

/// `DELETE /users/:id/gpg_keys/:key_id` (administrators)
pub async fn delete_for_user(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path((user, id)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    let user = id_param::<UserId>(&user, "user")?;
    state.core.manage().delete_user_gpg_key(&actor, user, key_id(&id)?).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /users/:id/gpg_keys/:key_id/revoke` (administrators): 202, the key is gone.
pub async fn revoke_for_user(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path((user, id)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    let user = id_param::<UserId>(&user, "user")?;
    state.core.manage().delete_user_gpg_key(&actor, user, key_id(&id)?).await?;
    Ok(StatusCode::ACCEPTED)
}
