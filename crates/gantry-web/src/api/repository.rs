//! `/projects/:id/repository/branches|tags` and `/projects/:id/protected_branches`, shaped
//! like GitLab's.

use axum::Json;
use axum::extract::{OriginalUri, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use gantry_core::code::protected_branches::ProtectBranch;
use serde::Deserialize;

use super::projects::{lookup_access, lookup_project};
use super::types::{Branch, ProtectedBranch, Tag};
use super::{ApiInput, ApiResult, PageParams, paginated};
use crate::AppState;
use crate::auth::ApiActor;
use crate::error::AppError;

#[derive(Debug, Deserialize)]
pub struct ListQuery {
    search: Option<String>,
    #[serde(flatten)]
    page: PageParams,
}

/// One page of an in-memory list, with GitLab's pagination headers.
pub(super) fn page_of<T: serde::Serialize>(
    state: &AppState,
    uri: &axum::http::Uri,
    items: Vec<T>,
    page: &PageParams,
) -> ApiResult<Response> {
    let request = page.resolve()?;
    let total = items.len() as i64;
    let db = request.db();
    let items =
        items.into_iter().skip(usize::try_from(db.offset).unwrap_or(usize::MAX)).take(db.limit as usize).collect();
    Ok(paginated(&state.config.external_url, uri, items, total, request))
}

/// `GET /projects/:id/repository/branches`
pub async fn list_branches(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
    OriginalUri(uri): OriginalUri,
    Query(query): Query<ListQuery>,
) -> ApiResult<Response> {
    let access = lookup_access(&state, &actor, &id).await?;
    let branches = state.core.code().list_branches(&access, query.search.as_deref()).await?;
    let items = branches.iter().map(|b| Branch::new(b, access.project(), &state.config)).collect();
    page_of(&state, &uri, items, &query.page)
}

/// `GET /projects/:id/repository/branches/:branch`
pub async fn get_branch(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path((id, name)): Path<(String, String)>,
) -> ApiResult<Json<Branch>> {
    let project = lookup_project(&state, &actor, &id).await?;
    let branch = state.core.code().find_branch(&actor, &project, &name).await?;
    Ok(Json(Branch::new(&branch, &project, &state.config)))
}

#[derive(Debug, Deserialize)]
pub struct CreateBranchInput {
    #[serde(default)]
    branch: String,
    #[serde(default, rename = "ref")]
    revision: String,
}

/// `POST /projects/:id/repository/branches` (`branch`, `ref`)
pub async fn create_branch(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
    ApiInput(input): ApiInput<CreateBranchInput>,
) -> ApiResult<Response> {
    if input.branch.trim().is_empty() || input.revision.trim().is_empty() {
        return Err(AppError::BadRequest("branch and ref are required".into()).into());
    }
    let project = lookup_project(&state, &actor, &id).await?;
    let branch = state.core.code().create_branch(&actor, &project, &input.branch, &input.revision).await?;
    Ok((StatusCode::CREATED, Json(Branch::new(&branch, &project, &state.config))).into_response())
}

/// `DELETE /projects/:id/repository/branches/:branch`
pub async fn delete_branch(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path((id, name)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    let project = lookup_project(&state, &actor, &id).await?;
    state.core.code().delete_branch(&actor, &project, &name).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /projects/:id/repository/tags`
pub async fn list_tags(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
    OriginalUri(uri): OriginalUri,
    Query(query): Query<ListQuery>,
) -> ApiResult<Response> {
    let access = lookup_access(&state, &actor, &id).await?;
    let tags = state.core.code().list_tags(&access, query.search.as_deref()).await?;
    let items = tags.iter().map(|t| Tag::new(t, access.project(), &state.config)).collect();
    page_of(&state, &uri, items, &query.page)
}

/// `GET /projects/:id/repository/tags/:tag_name`
pub async fn get_tag(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path((id, name)): Path<(String, String)>,
) -> ApiResult<Json<Tag>> {
    let project = lookup_project(&state, &actor, &id).await?;
    let tag = state.core.code().find_tag(&actor, &project, &name).await?;
    Ok(Json(Tag::new(&tag, &project, &state.config)))
}

#[derive(Debug, Deserialize)]
pub struct CreateTagInput {
    #[serde(default)]
    tag_name: String,
    #[serde(default, rename = "ref")]
    revision: String,
    #[serde(default)]
    message: String,
}

/// `POST /projects/:id/repository/tags` (`tag_name`, `ref`, optional `message`)
pub async fn create_tag(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
    ApiInput(input): ApiInput<CreateTagInput>,
) -> ApiResult<Response> {
    if input.tag_name.trim().is_empty() || input.revision.trim().is_empty() {
        return Err(AppError::BadRequest("tag_name and ref are required".into()).into());
    }
    let project = lookup_project(&state, &actor, &id).await?;
    let tag = state.core.code().create_tag(&actor, &project, &input.tag_name, &input.revision, &input.message).await?;
    Ok((StatusCode::CREATED, Json(Tag::new(&tag, &project, &state.config))).into_response())
}

/// `DELETE /projects/:id/repository/tags/:tag_name`
pub async fn delete_tag(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path((id, name)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    let project = lookup_project(&state, &actor, &id).await?;
    state.core.code().delete_tag(&actor, &project, &name).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /projects/:id/protected_branches`
pub async fn list_protected_branches(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
) -> ApiResult<Json<Vec<ProtectedBranch>>> {
    let access = lookup_access(&state, &actor, &id).await?;
    let rules = state.core.code().list_protected_branches(&access).await?;
    Ok(Json(rules.iter().map(ProtectedBranch::new).collect()))
}

/// `GET /projects/:id/protected_branches/:name`
pub async fn get_protected_branch(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path((id, name)): Path<(String, String)>,
) -> ApiResult<Json<ProtectedBranch>> {
    let project = lookup_project(&state, &actor, &id).await?;
    let rule = state.core.code().find_protected_branch(&actor, &project, &name).await?;
    Ok(Json(ProtectedBranch::new(&rule)))
}

/// `{"access_level": 30}` in GitLab's `allowed_to_push`/`allowed_to_merge` lists.
#[derive(Debug, Deserialize)]
pub struct AllowedLevel {
    access_level: Option<i64>,
}

#[derive(Debug, Deserialize)]
pub struct ProtectInput {
    #[serde(default)]
    name: String,
    push_access_level: Option<i64>,
    merge_access_level: Option<i64>,
    allow_force_push: Option<bool>,
    #[serde(default)]
    allowed_to_push: Vec<AllowedLevel>,
    #[serde(default)]
    allowed_to_merge: Vec<AllowedLevel>,
}

impl ProtectInput {
    fn into_rule(self) -> ProtectBranch {
        let first = |levels: &[AllowedLevel]| levels.iter().find_map(|l| l.access_level);
        ProtectBranch {
            push_access_level: self.push_access_level.or_else(|| first(&self.allowed_to_push)),
            merge_access_level: self.merge_access_level.or_else(|| first(&self.allowed_to_merge)),
            allow_force_push: self.allow_force_push,
            name: self.name,
        }
    }
}

/// `POST /projects/:id/protected_branches` (`name`, `push_access_level`, `merge_access_level`,
/// `allow_force_push`)
pub async fn protect_branch(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
    ApiInput(input): ApiInput<ProtectInput>,
) -> ApiResult<Response> {
    if input.name.trim().is_empty() {
        return Err(AppError::BadRequest("name is required".into()).into());
    }
    let project = lookup_project(&state, &actor, &id).await?;
    let rule = state.core.code().protect_branch(&actor, &project, &input.into_rule()).await?;
    Ok((StatusCode::CREATED, Json(ProtectedBranch::new(&rule))).into_response())
}

/// `PATCH /projects/:id/protected_branches/:name`
pub async fn update_protected_branch(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path((id, name)): Path<(String, String)>,
    ApiInput(input): ApiInput<ProtectInput>,
) -> ApiResult<Json<ProtectedBranch>> {
    let project = lookup_project(&state, &actor, &id).await?;
    let rule = state.core.code().update_protected_branch(&actor, &project, &name, &input.into_rule()).await?;
    Ok(Json(ProtectedBranch::new(&rule)))
}

/// `DELETE /projects/:id/protected_branches/:name`
pub async fn unprotect_branch(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path((id, name)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    let project = lookup_project(&state, &actor, &id).await?;
    state.core.code().unprotect_branch(&actor, &project, &name).await?;
    Ok(StatusCode::NO_CONTENT)
}
