//! `/personal_access_tokens` and `/user/personal_access_tokens`.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use gantry_core::manage::tokens::parse_expiry_date;
use gantry_types::{TokenId, TokenScopes};
use serde::Deserialize;

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
    let scopes = TokenScopes::parse_list(&input.scopes.join(",")).map_err(|unknown| {
        AppError::BadRequest(if unknown.is_empty() {
            "scopes is missing".into()
        } else {
            format!("unknown scope '{unknown}'")
        })
    })?;
    let expires = match input.expires_at.as_deref().filter(|d| !d.is_empty()) {
        Some(date) => Some(parse_expiry_date(date)?),
        None => None,
    };
    let created = state.core.manage().create_token(&actor, &input.name, &scopes, expires).await?;
    Ok((StatusCode::CREATED, Json(PersonalAccessToken::new(&created.token, Some(created.secret)))).into_response())
}
