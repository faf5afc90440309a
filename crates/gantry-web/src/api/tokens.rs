//! `/personal_access_tokens`, `/user/personal_access_tokens`, and the impersonation tokens
//! administrators make for users (`/users/:id/impersonation_tokens`).

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use gantry_core::manage::tokens::{TokenStateFilter, parse_expiry_date, parse_impersonation_expiry_date};
use gantry_types::{TokenId, TokenScopes, UserId};
use serde::{Deserialize, Serialize};

use super::ci_types::id_param;
use super::types::PersonalAccessToken;
use super::{ApiInput, ApiResult};
use crate::AppState;
use crate::auth::ApiActor;
use crate::error::AppError;

fn parse_token_id(value: &str) -> ApiResult<TokenId> {
    value.parse::<i64>().map(TokenId).map_err(|_| AppError::Core(gantry_core::CoreError::NotFound("token")).into())
}

/// `GET /personal_access_tokens`: the caller's tokens (administrators: all).
pub async fn list_tokens(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
) -> ApiResult<Json<Vec<PersonalAccessToken>>> {
    let tokens = state.core.manage().list_tokens(&actor).await?;
    Ok(Json(tokens.iter().map(|t| PersonalAccessToken::new(t, None)).collect()))
}

/// `GET /personal_access_tokens/:id`
pub async fn get_token(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
) -> ApiResult<Json<PersonalAccessToken>> {
    let token = state.core.manage().find_token(&actor, parse_token_id(&id)?).await?;
    Ok(Json(PersonalAccessToken::new(&token, None)))
}

/// `DELETE /personal_access_tokens/:id`: revokes the token.
pub async fn revoke_token(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    state.core.manage().revoke_token(&actor, parse_token_id(&id)?).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize)]
pub struct RotateInput {
    expires_at: Option<String>,
}

/// `POST /personal_access_tokens/:id/rotate`: revokes the token and answers its successor, with
/// the new secret in `token`, shown this once.
pub async fn rotate_token(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
    ApiInput(input): ApiInput<RotateInput>,
) -> ApiResult<Json<PersonalAccessToken>> {
    let expires_at = input.expires_at.unwrap_or_default();
    let rotated = state.core.manage().rotate_token(&actor, parse_token_id(&id)?, &expires_at).await?;
    Ok(Json(PersonalAccessToken::new(&rotated.token, Some(rotated.secret))))
}

#[derive(Debug, Deserialize)]
pub struct CreateTokenInput {
    #[serde(default)]
    name: String,
    #[serde(default)]
    scopes: Vec<String>,
    expires_at: Option<String>,
}

/// `POST /users/:id/personal_access_tokens` (administrators): a token for that user.
pub async fn create_for_user(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
    input: ApiInput<CreateTokenInput>,
) -> ApiResult<Response> {
    let user = state.core.manage().act_for(&actor, super::ci_types::id_param(&id, "user")?).await?;
    create_token(State(state), ApiActor(user), input).await
}

/// `POST /user/personal_access_tokens`: a token for the caller; the secret is in `token`,
/// shown this once.
pub async fn create_token(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiInput(input): ApiInput<CreateTokenInput>,
) -> ApiResult<Response> {
    let scopes = token_scopes(&input.scopes)?;
    let expires = match input.expires_at.as_deref().filter(|d| !d.is_empty()) {
        Some(date) => Some(parse_expiry_date(date)?),
        None => None,
    };
    let created = state.core.manage().create_token(&actor, &input.name, &scopes, expires).await?;
    Ok((StatusCode::CREATED, Json(PersonalAccessToken::new(&created.token, Some(created.secret)))).into_response())
}

/// Reads `scopes` (a list, or one comma-separated text).
fn token_scopes(scopes: &[String]) -> ApiResult<TokenScopes> {
    TokenScopes::parse_list(&scopes.join(",")).map_err(|unknown| {
        AppError::BadRequest(if unknown.is_empty() {
            "scopes is missing".into()
        } else {
            format!("unknown scope '{unknown}'")
        })
        .into()
    })
}

/// An impersonation token (GitLab's `ImpersonationToken`): a personal access token made by an
/// administrator to act as the user.
#[derive(Debug, Serialize)]
pub struct ImpersonationToken {
    #[serde(flatten)]
    pub token: PersonalAccessToken,
    pub impersonation: bool,
}

impl ImpersonationToken {
    fn new(token: &gantry_core::TokenRow, secret: Option<String>) -> ImpersonationToken {
        ImpersonationToken { token: PersonalAccessToken::new(token, secret), impersonation: token.impersonation }
    }
}

#[derive(Debug, Deserialize)]
pub struct ImpersonationListQuery {
    state: Option<String>,
}

/// `GET /users/:id/impersonation_tokens` (administrators; `state`: `all`, `active` or
/// `inactive`)
pub async fn list_impersonation_tokens(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(user): Path<String>,
    axum::extract::Query(query): axum::extract::Query<ImpersonationListQuery>,
) -> ApiResult<Json<Vec<ImpersonationToken>>> {
    gantry_core::policy::require_admin(&actor)?;
    let filter = match query.state.as_deref().unwrap_or("all") {
        "" | "all" => TokenStateFilter::All,
        "active" => TokenStateFilter::Active,
        "inactive" => TokenStateFilter::Inactive,
        _ => return Err(AppError::BadRequest("state does not have a valid value".into()).into()),
    };
    let user = id_param::<UserId>(&user, "user")?;
    let tokens = state.core.manage().list_impersonation_tokens(&actor, user, filter).await?;
    Ok(Json(tokens.iter().map(|t| ImpersonationToken::new(t, None)).collect()))
}

/// `POST /users/:id/impersonation_tokens` (administrators; `name`, `scopes`, `expires_at`):
/// the secret is in `token`, shown this once.
pub async fn create_impersonation_token(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(user): Path<String>,
    ApiInput(input): ApiInput<CreateTokenInput>,
) -> ApiResult<Response> {
    gantry_core::policy::require_admin(&actor)?;
    let user = id_param::<UserId>(&user, "user")?;
    let scopes = token_scopes(&input.scopes)?;
    let expires = match input.expires_at.as_deref().filter(|d| !d.is_empty()) {
        Some(date) => Some(parse_impersonation_expiry_date(date)?),
        None => None,
    };
    let created = state.core.manage().create_impersonation_token(&actor, user, &input.name, &scopes, expires).await?;
    Ok((StatusCode::CREATED, Json(ImpersonationToken::new(&created.token, Some(created.secret)))).into_response())
}

/// `GET /users/:id/impersonation_tokens/:impersonation_token_id` (administrators)
pub async fn get_impersonation_token(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path((user, id)): Path<(String, String)>,
) -> ApiResult<Json<ImpersonationToken>> {
    let user = id_param::<UserId>(&user, "user")?;
    let token = state.core.manage().find_impersonation_token(&actor, user, impersonation_token_id(&id)?).await?;
    Ok(Json(ImpersonationToken::new(&token, None)))
}

/// `DELETE /users/:id/impersonation_tokens/:impersonation_token_id` (administrators): revokes
/// the token.
pub async fn revoke_impersonation_token(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path((user, id)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    let user = id_param::<UserId>(&user, "user")?;
    state.core.manage().revoke_impersonation_token(&actor, user, impersonation_token_id(&id)?).await?;
    Ok(StatusCode::NO_CONTENT)
}

fn impersonation_token_id(value: &str) -> ApiResult<TokenId> {
    id_param(value, "impersonation token")
}
