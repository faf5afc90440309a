//! `/projects/:id/access_tokens` and `/groups/:id/access_tokens`, shaped like GitLab's project
//! and group access tokens API: list, get, create, rotate, revoke. The token itself is in the
//! answers of create and rotate only. The core checks the roles.

use axum::Json;
use axum::extract::{OriginalUri, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use gantry_core::CoreError;
use gantry_core::manage::access_tokens::{AccessTokenInput, AccessTokenResource, ResourceTokenRow};
use gantry_core::manage::tokens::NewToken;
use gantry_types::TokenId;
use serde::{Deserialize, Serialize};

use super::groups::lookup_group_access;
use super::projects::lookup_access;
use super::repository::page_of;
use super::types::PersonalAccessToken;
use super::{ApiInput, ApiResult, PageParams};
use crate::AppState;
use crate::auth::ApiActor;

/// A project or group access token as GitLab shows one: a personal access token of the bot,
/// with the bot's role.
#[derive(Debug, Serialize)]
pub struct ResourceAccessToken {
    #[serde(flatten)]
    pub token: PersonalAccessToken,
    pub access_level: i64,
}

impl ResourceAccessToken {
    fn new(row: &ResourceTokenRow, secret: Option<String>) -> ResourceAccessToken {
        ResourceAccessToken {
            token: PersonalAccessToken::new(&row.token, secret),
            access_level: row.access_level.unwrap_or(0),
        }
    }

    fn created(new: NewToken, access_level: Option<i64>) -> ResourceAccessToken {
        let row = ResourceTokenRow { token: new.token, access_level };
        ResourceAccessToken::new(&row, Some(new.secret))
    }
}

fn token_id(value: &str) -> ApiResult<TokenId> {
    value.parse::<i64>().map(TokenId).map_err(|_| CoreError::NotFound("access token").into())
}

#[derive(Debug, Deserialize)]
pub struct ListQuery {
    /// `active` or `inactive` (revoked or expired); absent: all.
    state: Option<String>,
    #[serde(flatten)]
    page: PageParams,
}

/// The parameters of a new token (all read by core, after the role is checked).
#[derive(Debug, Deserialize)]
pub struct CreateParams {
    #[serde(default)]
    name: String,
    /// A list, or one comma-separated text as the command line sends it.
    #[serde(default)]
    scopes: Vec<String>,
    access_level: Option<i64>,
    expires_at: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct RotateParams {
    expires_at: Option<String>,
}

async fn list(
    state: &AppState,
    resource: AccessTokenResource<'_>,
    uri: &axum::http::Uri,
    query: ListQuery,
) -> ApiResult<Response> {
    let wanted = match query.state.as_deref() {
        None | Some("") => None,
        Some("active") => Some(true),
        Some("inactive") => Some(false),
        Some(_) => {
            return Err(
                CoreError::invalid_input("state", "does not have a valid value: give active or inactive").into()
            );
        }
    };
    let tokens = state.core.manage().list_access_tokens(resource).await?;
    let shown = tokens
        .iter()
        .map(|row| ResourceAccessToken::new(row, None))
        .filter(|token| wanted.is_none_or(|active| token.token.active == active))
        .collect();
    page_of(state, uri, shown, &query.page)
}

async fn get(state: &AppState, resource: AccessTokenResource<'_>, token: &str) -> ApiResult<Json<ResourceAccessToken>> {
    let row = state.core.manage().find_access_token(resource, token_id(token)?).await?;
    Ok(Json(ResourceAccessToken::new(&row, None)))
}

async fn create(state: &AppState, resource: AccessTokenResource<'_>, params: CreateParams) -> ApiResult<Response> {
    let input = AccessTokenInput {
        name: params.name,
        scopes: params.scopes,
        access_level: params.access_level,
        expires_at: params.expires_at.unwrap_or_default(),
    };
    let (created, level) = state.core.manage().create_access_token(resource, &input).await?;
    let answer = ResourceAccessToken::created(created, Some(level.as_i64()));
    Ok((StatusCode::CREATED, Json(answer)).into_response())
}

async fn rotate(
    state: &AppState,
    resource: AccessTokenResource<'_>,
    token: &str,
    params: RotateParams,
) -> ApiResult<Json<ResourceAccessToken>> {
    let expires_at = params.expires_at.unwrap_or_default();
    let (rotated, level) = state.core.manage().rotate_access_token(resource, token_id(token)?, &expires_at).await?;
    Ok(Json(ResourceAccessToken::created(rotated, level)))
}

async fn revoke(state: &AppState, resource: AccessTokenResource<'_>, token: &str) -> ApiResult<StatusCode> {
    state.core.manage().revoke_access_token(resource, token_id(token)?).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub mod project {
    //! `/projects/:id/access_tokens` (Maintainers).

    use super::*;

    /// `GET /projects/:id/access_tokens` (`state`: `active` or `inactive`)
    pub async fn list(
        State(state): State<AppState>,
        ApiActor(actor): ApiActor,
        Path(id): Path<String>,
        OriginalUri(uri): OriginalUri,
        Query(query): Query<ListQuery>,
    ) -> ApiResult<Response> {
        let access = lookup_access(&state, &actor, &id).await?;
        super::list(&state, AccessTokenResource::Project(&access), &uri, query).await
    }

    /// `GET /projects/:id/access_tokens/:token_id`
    pub async fn get(
        State(state): State<AppState>,
        ApiActor(actor): ApiActor,
        Path((id, token)): Path<(String, String)>,
    ) -> ApiResult<Json<ResourceAccessToken>> {
        let access = lookup_access(&state, &actor, &id).await?;
        super::get(&state, AccessTokenResource::Project(&access), &token).await
    }

    /// `POST /projects/:id/access_tokens` (`name`, `scopes`, `access_level`, `expires_at`)
    pub async fn create(
        State(state): State<AppState>,
        ApiActor(actor): ApiActor,
        Path(id): Path<String>,
        ApiInput(params): ApiInput<CreateParams>,
    ) -> ApiResult<Response> {
        let access = lookup_access(&state, &actor, &id).await?;
        super::create(&state, AccessTokenResource::Project(&access), params).await
    }

    /// `POST /projects/:id/access_tokens/:token_id/rotate` (`expires_at`)
    pub async fn rotate(
        State(state): State<AppState>,
        ApiActor(actor): ApiActor,
        Path((id, token)): Path<(String, String)>,
        ApiInput(params): ApiInput<RotateParams>,
    ) -> ApiResult<Json<ResourceAccessToken>> {
        let access = lookup_access(&state, &actor, &id).await?;
        super::rotate(&state, AccessTokenResource::Project(&access), &token, params).await
    }

    /// `DELETE /projects/:id/access_tokens/:token_id`: revokes the token.
    pub async fn revoke(
        State(state): State<AppState>,
        ApiActor(actor): ApiActor,
        Path((id, token)): Path<(String, String)>,
    ) -> ApiResult<StatusCode> {
        let access = lookup_access(&state, &actor, &id).await?;
        super::revoke(&state, AccessTokenResource::Project(&access), &token).await
    }
}

pub mod group {
    //! `/groups/:id/access_tokens` (Owners).

    use super::*;

    /// `GET /groups/:id/access_tokens` (`state`: `active` or `inactive`)
    pub async fn list(
        State(state): State<AppState>,
        ApiActor(actor): ApiActor,
        Path(id): Path<String>,
        OriginalUri(uri): OriginalUri,
        Query(query): Query<ListQuery>,
    ) -> ApiResult<Response> {
        let access = lookup_group_access(&state, &actor, &id).await?;
        super::list(&state, AccessTokenResource::Group(&access), &uri, query).await
    }

    /// `GET /groups/:id/access_tokens/:token_id`
    pub async fn get(
        State(state): State<AppState>,
        ApiActor(actor): ApiActor,
        Path((id, token)): Path<(String, String)>,
    ) -> ApiResult<Json<ResourceAccessToken>> {
        let access = lookup_group_access(&state, &actor, &id).await?;
        super::get(&state, AccessTokenResource::Group(&access), &token).await
    }

    /// `POST /groups/:id/access_tokens` (`name`, `scopes`, `access_level`, `expires_at`)
    pub async fn create(
        State(state): State<AppState>,
        ApiActor(actor): ApiActor,
        Path(id): Path<String>,
        ApiInput(params): ApiInput<CreateParams>,
    ) -> ApiResult<Response> {
        let access = lookup_group_access(&state, &actor, &id).await?;
        super::create(&state, AccessTokenResource::Group(&access), params).await
    }

    /// `POST /groups/:id/access_tokens/:token_id/rotate` (`expires_at`)
    pub async fn rotate(
        State(state): State<AppState>,
        ApiActor(actor): ApiActor,
        Path((id, token)): Path<(String, String)>,
        ApiInput(params): ApiInput<RotateParams>,
    ) -> ApiResult<Json<ResourceAccessToken>> {
        let access = lookup_group_access(&state, &actor, &id).await?;
        super::rotate(&state, AccessTokenResource::Group(&access), &token, params).await
    }

    /// `DELETE /groups/:id/access_tokens/:token_id`: revokes the token.
    pub async fn revoke(
        State(state): State<AppState>,
        ApiActor(actor): ApiActor,
        Path((id, token)): Path<(String, String)>,
    ) -> ApiResult<StatusCode> {
        let access = lookup_group_access(&state, &actor, &id).await?;
        super::revoke(&state, AccessTokenResource::Group(&access), &token).await
    }
}
