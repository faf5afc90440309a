//! `/deploy_tokens` (administrators: every token), `/projects/:id/deploy_tokens` and
//! `/groups/:id/deploy_tokens`, shaped like GitLab's Deploy tokens API. The token itself is in
//! the creation's answer only. The core checks the roles.

use axum::Json;
use axum::extract::{OriginalUri, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use gantry_core::CoreError;
use gantry_core::manage::deploy_tokens::{
    DeployTokenInput, DeployTokenOwner, DeployTokenRow, deploy_token_expired, deploy_token_scopes,
    deploy_token_username,
};
use gantry_types::DeployTokenId;
use serde::{Deserialize, Serialize};

use super::groups::lookup_group_access;
use super::projects::lookup_access;
use super::repository::page_of;
use super::{ApiInput, ApiResult, PageParams, flag};
use crate::AppState;
use crate::auth::ApiActor;
use crate::time_format::iso8601;

/// A deploy token as GitLab shows one; `token` only in the answer that created it.
#[derive(Debug, Serialize)]
pub struct DeployToken {
    pub id: i64,
    pub name: String,
    pub username: String,
    pub expires_at: Option<String>,
    pub scopes: Vec<&'static str>,
    pub revoked: bool,
    pub expired: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
}

impl DeployToken {
    pub fn new(token: &DeployTokenRow, secret: Option<String>) -> DeployToken {
        DeployToken {
            id: token.id.0,
            name: token.name.clone(),
            username: deploy_token_username(token),
            expires_at: token.expires_at.map(iso8601),
            scopes: deploy_token_scopes(token).into_iter().map(|scope| scope.as_str()).collect(),
            revoked: token.revoked,
            expired: deploy_token_expired(token),
            token: secret,
        }
    }
}

fn token_id(value: &str) -> ApiResult<DeployTokenId> {
    value.parse::<i64>().map(DeployTokenId).map_err(|_| CoreError::NotFound("deploy token").into())
}

#[derive(Debug, Deserialize)]
pub struct ListQuery {
    active: Option<String>,
    #[serde(flatten)]
    page: PageParams,
}

fn listing(
    state: &AppState,
    uri: &axum::http::Uri,
    tokens: &[DeployTokenRow],
    page: &PageParams,
) -> ApiResult<Response> {
    page_of(state, uri, tokens.iter().map(|token| DeployToken::new(token, None)).collect(), page)
}

/// `GET /deploy_tokens` (administrators; `active=true`: neither revoked nor expired)
pub async fn list_all(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    OriginalUri(uri): OriginalUri,
    Query(query): Query<ListQuery>,
) -> ApiResult<Response> {
    let active = flag(query.active.as_deref())?;
    let tokens = state.core.manage().list_all_deploy_tokens(&actor, active).await?;
    listing(&state, &uri, &tokens, &query.page)
}

/// The parameters of a new token (all read by core, after the role is checked).
#[derive(Debug, Deserialize)]
pub struct CreateParams {
    #[serde(default)]
    name: String,
    #[serde(default)]
    username: Option<String>,
    /// A list, or one comma-separated text as the command line sends it.
    #[serde(default)]
    scopes: Vec<String>,
    expires_at: Option<String>,
}

impl CreateParams {
    fn input(self) -> DeployTokenInput {
        DeployTokenInput {
            name: self.name,
            username: self.username.unwrap_or_default(),
            scopes: self.scopes,
            expires_at: self.expires_at.unwrap_or_default(),
        }
    }
}

/// Creates a token and answers it with its secret.
async fn create(
    state: &AppState,
    owner: DeployTokenOwner<'_>,
    actor: &gantry_core::Actor,
    params: CreateParams,
) -> ApiResult<Response> {
    let created = state.core.manage().create_deploy_token(owner, actor, &params.input()).await?;
    Ok((StatusCode::CREATED, Json(DeployToken::new(&created.token, Some(created.secret)))).into_response())
}

pub mod project {
    //! `/projects/:id/deploy_tokens` (Maintainers).

    use super::*;

    /// `GET /projects/:id/deploy_tokens`
    pub async fn list(
        State(state): State<AppState>,
        ApiActor(actor): ApiActor,
        Path(id): Path<String>,
        OriginalUri(uri): OriginalUri,
        Query(query): Query<ListQuery>,
    ) -> ApiResult<Response> {
        let access = lookup_access(&state, &actor, &id).await?;
        let active = flag(query.active.as_deref())?;
        let tokens = state.core.manage().list_deploy_tokens(DeployTokenOwner::Project(&access), active).await?;
        listing(&state, &uri, &tokens, &query.page)
    }

    /// `POST /projects/:id/deploy_tokens` (`name`, `scopes`, `username`, `expires_at`)
    pub async fn create(
        State(state): State<AppState>,
        ApiActor(actor): ApiActor,
        Path(id): Path<String>,
        ApiInput(params): ApiInput<CreateParams>,
    ) -> ApiResult<Response> {
        let access = lookup_access(&state, &actor, &id).await?;
        super::create(&state, DeployTokenOwner::Project(&access), &actor, params).await
    }

    /// `GET /projects/:id/deploy_tokens/:token_id`
    pub async fn get(
        State(state): State<AppState>,
        ApiActor(actor): ApiActor,
        Path((id, token)): Path<(String, String)>,
    ) -> ApiResult<Json<DeployToken>> {
        let access = lookup_access(&state, &actor, &id).await?;
        let token =
            state.core.manage().find_deploy_token(DeployTokenOwner::Project(&access), token_id(&token)?).await?;
        Ok(Json(DeployToken::new(&token, None)))
    }

    /// `DELETE /projects/:id/deploy_tokens/:token_id`
    pub async fn delete(
        State(state): State<AppState>,
        ApiActor(actor): ApiActor,
        Path((id, token)): Path<(String, String)>,
    ) -> ApiResult<StatusCode> {
        let access = lookup_access(&state, &actor, &id).await?;
        state.core.manage().delete_deploy_token(DeployTokenOwner::Project(&access), token_id(&token)?).await?;
        Ok(StatusCode::NO_CONTENT)
    }
}

pub mod group {
    //! `/groups/:id/deploy_tokens` (Maintainers see them, Owners create and delete them).

    use super::*;

    /// `GET /groups/:id/deploy_tokens`
    pub async fn list(
        State(state): State<AppState>,
        ApiActor(actor): ApiActor,
        Path(id): Path<String>,
        OriginalUri(uri): OriginalUri,
        Query(query): Query<ListQuery>,
    ) -> ApiResult<Response> {
        let access = lookup_group_access(&state, &actor, &id).await?;
        let active = flag(query.active.as_deref())?;
        let tokens = state.core.manage().list_deploy_tokens(DeployTokenOwner::Group(&access), active).await?;
        listing(&state, &uri, &tokens, &query.page)
    }

    /// `POST /groups/:id/deploy_tokens` (`name`, `scopes`, `username`, `expires_at`)
    pub async fn create(
        State(state): State<AppState>,
        ApiActor(actor): ApiActor,
        Path(id): Path<String>,
        ApiInput(params): ApiInput<CreateParams>,
    ) -> ApiResult<Response> {
        let access = lookup_group_access(&state, &actor, &id).await?;
        super::create(&state, DeployTokenOwner::Group(&access), &actor, params).await
    }

    /// `GET /groups/:id/deploy_tokens/:token_id`
    pub async fn get(
        State(state): State<AppState>,
        ApiActor(actor): ApiActor,
        Path((id, token)): Path<(String, String)>,
    ) -> ApiResult<Json<DeployToken>> {
        let access = lookup_group_access(&state, &actor, &id).await?;
        let token = state.core.manage().find_deploy_token(DeployTokenOwner::Group(&access), token_id(&token)?).await?;
        Ok(Json(DeployToken::new(&token, None)))
    }

    /// `DELETE /groups/:id/deploy_tokens/:token_id`
    pub async fn delete(
        State(state): State<AppState>,
        ApiActor(actor): ApiActor,
        Path((id, token)): Path<(String, String)>,
    ) -> ApiResult<StatusCode> {
        let access = lookup_group_access(&state, &actor, &id).await?;
        state.core.manage().delete_deploy_token(DeployTokenOwner::Group(&access), token_id(&token)?).await?;
        Ok(StatusCode::NO_CONTENT)
    }
}
