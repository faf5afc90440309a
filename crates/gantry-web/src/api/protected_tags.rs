//! `/projects/:id/protected_tags`, shaped like GitLab's: who may create tags matching a name
//! or a `*` pattern. Every route needs the Maintainer role (the core checks it).

use axum::Json;
use axum::extract::{OriginalUri, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use gantry_core::code::protected_tags::ProtectTag;
use serde::Deserialize;

use super::projects::{lookup_access, lookup_project};
use super::repository::page_of;
use super::types::ProtectedTag;
use super::{ApiInput, ApiResult, PageParams};
use crate::AppState;
use crate::auth::ApiActor;
use crate::error::AppError;

/// `GET /projects/:id/protected_tags`
pub async fn list_protected_tags(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
    OriginalUri(uri): OriginalUri,
    Query(page): Query<PageParams>,
) -> ApiResult<Response> {
    let access = lookup_access(&state, &actor, &id).await?;
    let rules = state.core.code().list_protected_tags(&access).await?;
    page_of(&state, &uri, rules.iter().map(ProtectedTag::new).collect(), &page)
}

/// `GET /projects/:id/protected_tags/:name`
pub async fn get_protected_tag(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path((id, name)): Path<(String, String)>,
) -> ApiResult<Json<ProtectedTag>> {
    let project = lookup_project(&state, &actor, &id).await?;
    let rule = state.core.code().find_protected_tag(&actor, &project, &name).await?;
    Ok(Json(ProtectedTag::new(&rule)))
}

/// `{"access_level": 30}` in GitLab's `allowed_to_create` list (users and groups are not
/// supported: entries without a level are ignored).
#[derive(Debug, Deserialize)]
pub struct AllowedLevel {
    access_level: Option<i64>,
}

#[derive(Debug, Deserialize)]
pub struct ProtectTagInput {
    #[serde(default)]
    name: String,
    create_access_level: Option<i64>,
    #[serde(default)]
    allowed_to_create: Vec<AllowedLevel>,
}

/// `POST /projects/:id/protected_tags` (`name`, `create_access_level` or `allowed_to_create`)
pub async fn protect_tag(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
    ApiInput(input): ApiInput<ProtectTagInput>,
) -> ApiResult<Response> {
    if input.name.trim().is_empty() {
        return Err(AppError::BadRequest("name is required".into()).into());
    }
    let project = lookup_project(&state, &actor, &id).await?;
    let rule = ProtectTag {
        create_access_level: input
            .create_access_level
            .or_else(|| input.allowed_to_create.iter().find_map(|allowed| allowed.access_level)),
        name: input.name,
    };
    let row = state.core.code().protect_tag(&actor, &project, &rule).await?;
    Ok((StatusCode::CREATED, Json(ProtectedTag::new(&row))).into_response())
}

/// `DELETE /projects/:id/protected_tags/:name`
pub async fn unprotect_tag(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path((id, name)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    let project = lookup_project(&state, &actor, &id).await?;
    state.core.code().unprotect_tag(&actor, &project, &name).await?;
    Ok(StatusCode::NO_CONTENT)
}
