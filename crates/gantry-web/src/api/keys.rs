//! `/user/keys` (the caller's SSH keys), `/users/:id/keys` (anyone's public keys; administrators
//! add and delete them) and `/keys`
//! (administrators: any key by id, or by fingerprint, users' keys and deploy keys alike).

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use gantry_core::CoreError;
use gantry_core::manage::ssh_keys::{KeyByFingerprint, NewKeyInput};
use gantry_core::manage::tokens::parse_expiry_date;
use gantry_types::UserId;
use serde::{Deserialize, Serialize};

use super::deploy_keys::DeployKeysProject;
use super::types::{SshKey, User};
use super::{ApiInput, ApiResult};
use crate::AppState;
use crate::auth::ApiActor;
use crate::time_format::iso8601;

/// A user's SSH key with its user (GitLab's `SSHKeyWithUser`).
#[derive(Debug, Serialize)]
pub struct SshKeyWithUser {
    #[serde(flatten)]
    pub key: SshKey,
    pub user: User,
}

/// A deploy key found by fingerprint, with who added it and where it is enabled (GitLab's
/// `DeployKeyWithUser`).
#[derive(Debug, Serialize)]
pub struct DeployKeyWithUser {
    pub id: i64,
    pub title: String,
    pub key: String,
    pub fingerprint: String,
    pub usage_type: &'static str,
    pub created_at: String,
    pub expires_at: Option<String>,
    pub last_used_at: Option<String>,
    pub user: Option<User>,
    pub deploy_keys_projects: Vec<DeployKeysProject>,
}

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

/// `GET /users/:user_id/keys/:key_id`: one of a user's public keys.
pub async fn get_for_user(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path((user_id, id)): Path<(String, String)>,
) -> ApiResult<Json<SshKey>> {
    let user = user_id.parse::<i64>().map_err(|_| CoreError::NotFound("user"))?;
    let key = state.core.manage().find_user_ssh_key(&actor, UserId(user), key_id(&id)?).await?;
    Ok(Json(SshKey::new(&key)))
}

/// `DELETE /users/:user_id/keys/:key_id` (administrators)
pub async fn delete_for_user(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path((user_id, id)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    let user = user_id.parse::<i64>().map_err(|_| CoreError::NotFound("user"))?;
    state.core.manage().delete_user_ssh_key(&actor, UserId(user), key_id(&id)?).await?;
    Ok(StatusCode::NO_CONTENT)
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

/// `GET /keys/:key_id` (administrators): any user's SSH key, with its user.
pub async fn get_any(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
) -> ApiResult<Json<SshKeyWithUser>> {
    let (key, user) = state.core.manage().find_any_ssh_key(&actor, key_id(&id)?).await?;
    Ok(Json(SshKeyWithUser { key: SshKey::new(&key), user: User::new(&user, &state.config, true) }))
}

#[derive(Debug, Deserialize)]
pub struct FingerprintQuery {
    fingerprint: Option<String>,
}

/// `GET /keys?fingerprint=SHA256:…` (administrators): the user's key or the deploy key with
/// this fingerprint.
pub async fn find_by_fingerprint(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Query(query): Query<FingerprintQuery>,
) -> ApiResult<Response> {
    // Base64 holds no spaces: a `+` the client left unencoded arrives as one.
    let fingerprint = query.fingerprint.unwrap_or_default().trim().replace(' ', "+");
    Ok(match state.core.manage().find_key_by_fingerprint(&actor, &fingerprint).await? {
        KeyByFingerprint::User(key, user) => {
            Json(SshKeyWithUser { key: SshKey::new(&key), user: User::new(&user, &state.config, true) }).into_response()
        }
        KeyByFingerprint::Deploy(key, user, projects) => Json(DeployKeyWithUser {
            id: key.id.0,
            title: key.title.clone(),
            key: key.public_key.clone(),
            fingerprint: key.fingerprint.clone(),
            usage_type: "auth",
            created_at: iso8601(key.created_at),
            expires_at: key.expires_at.map(iso8601),
            last_used_at: key.last_used_at.map(iso8601),
            user: user.map(|user| User::new(&user, &state.config, true)),
            deploy_keys_projects: projects.iter().map(DeployKeysProject::new).collect(),
        })
        .into_response(),
    })
}
