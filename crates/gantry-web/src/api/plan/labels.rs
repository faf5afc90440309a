//! `/projects/:id/labels` and `/groups/:id/labels`, shaped like GitLab's: list (a project's
//! with its groups' labels; a group's with its ancestors' unless `include_ancestor_groups` is
//! false), one label by id or name, create (`name`, `color`, `description`), edit (`new_name`,
//! `color`, `description`) and delete. Reporters and above change labels (core decides).

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use gantry_core::plan::labels::{LabelInput, LabelRow, LabelScope};
use serde::Deserialize;

use super::types::Label;
use crate::AppState;
use crate::api::groups::lookup_group_access;
use crate::api::projects::lookup_access;
use crate::api::{ApiInput, ApiResult, PageParams, paginated};
use crate::auth::ApiActor;

#[derive(Debug, Default, Deserialize)]
pub struct LabelListParams {
    search: Option<String>,
    include_ancestor_groups: Option<bool>,
}

fn page_of_labels(
    state: &AppState,
    uri: &Uri,
    labels: Vec<LabelRow>,
    search: Option<&str>,
    page: &PageParams,
) -> ApiResult<Response> {
    let page = page.resolve()?;
    let search = search.map(|s| s.trim().to_lowercase()).filter(|s| !s.is_empty());
    let matching: Vec<&LabelRow> = labels
        .iter()
        .filter(|label| search.as_ref().is_none_or(|s| label.title.to_lowercase().contains(s.as_str())))
        .collect();
    let total = i64::try_from(matching.len()).unwrap_or(i64::MAX);
    let offset = usize::try_from(page.db().offset).unwrap_or(usize::MAX);
    let limit = usize::try_from(page.db().limit).unwrap_or(usize::MAX);
    let items: Vec<Label> = matching.into_iter().skip(offset).take(limit).map(Label::new).collect();
    Ok(paginated(&state.config.external_url, uri, items, total, page))
}

/// `GET /projects/:id/labels` (`search`)
pub async fn list_project_labels(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
    uri: Uri,
    Query(page): Query<PageParams>,
    ApiInput(params): ApiInput<LabelListParams>,
) -> ApiResult<Response> {
    let access = lookup_access(&state, &actor, &id).await?;
    let labels = state.core.plan().list_project_labels(&access).await?;
    page_of_labels(&state, &uri, labels, params.search.as_deref(), &page)
}

/// `GET /groups/:id/labels` (`search`, `include_ancestor_groups`)
pub async fn list_group_labels(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
    uri: Uri,
    Query(page): Query<PageParams>,
    ApiInput(params): ApiInput<LabelListParams>,
) -> ApiResult<Response> {
    let access = lookup_group_access(&state, &actor, &id).await?;
    let with_ancestors = params.include_ancestor_groups.unwrap_or(true);
    let labels = state.core.plan().list_group_labels(&access, with_ancestors).await?;
    page_of_labels(&state, &uri, labels, params.search.as_deref(), &page)
}

#[derive(Debug, Default, Deserialize)]
pub struct LabelParams {
    name: Option<String>,
    new_name: Option<String>,
    color: Option<String>,
    description: Option<String>,
}

impl LabelParams {
    fn input(self) -> LabelInput {
        LabelInput { name: self.new_name.or(self.name), color: self.color, description: self.description }
    }
}

async fn created(state: &AppState, scope: LabelScope<'_>, params: LabelParams) -> ApiResult<Response> {
    let label = state.core.plan().create_label(scope, &params.input()).await?;
    Ok((StatusCode::CREATED, Json(Label::new(&label))).into_response())
}

async fn updated(state: &AppState, scope: LabelScope<'_>, which: &str, params: LabelParams) -> ApiResult<Json<Label>> {
    let label = state.core.plan().find_label(scope, which).await?;
    let input = LabelInput { name: params.new_name, color: params.color, description: params.description };
    let label = state.core.plan().update_label(scope, label.id, &input).await?;
    Ok(Json(Label::new(&label)))
}

async fn deleted(state: &AppState, scope: LabelScope<'_>, which: &str) -> ApiResult<StatusCode> {
    let label = state.core.plan().find_label(scope, which).await?;
    state.core.plan().delete_label(scope, label.id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /projects/:id/labels/:label_id` (an id or a name)
pub async fn get_project_label(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path((id, label)): Path<(String, String)>,
) -> ApiResult<Json<Label>> {
    let access = lookup_access(&state, &actor, &id).await?;
    let label = state.core.plan().find_label(LabelScope::Project(&access), &label).await?;
    Ok(Json(Label::new(&label)))
}

/// `POST /projects/:id/labels` (`name`, `color`, `description`)
pub async fn create_project_label(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
    ApiInput(params): ApiInput<LabelParams>,
) -> ApiResult<Response> {
    let access = lookup_access(&state, &actor, &id).await?;
    created(&state, LabelScope::Project(&access), params).await
}

/// `PUT /projects/:id/labels/:label_id` (`new_name`, `color`, `description`)
pub async fn update_project_label(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path((id, label)): Path<(String, String)>,
    ApiInput(params): ApiInput<LabelParams>,
) -> ApiResult<Json<Label>> {
    let access = lookup_access(&state, &actor, &id).await?;
    updated(&state, LabelScope::Project(&access), &label, params).await
}

/// `DELETE /projects/:id/labels/:label_id`
pub async fn delete_project_label(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path((id, label)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    let access = lookup_access(&state, &actor, &id).await?;
    deleted(&state, LabelScope::Project(&access), &label).await
}

/// `GET /groups/:id/labels/:label_id` (an id or a name)
pub async fn get_group_label(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path((id, label)): Path<(String, String)>,
) -> ApiResult<Json<Label>> {
    let access = lookup_group_access(&state, &actor, &id).await?;
    let label = state.core.plan().find_label(LabelScope::Group(&access), &label).await?;
    Ok(Json(Label::new(&label)))
}

/// `POST /groups/:id/labels` (`name`, `color`, `description`)
pub async fn create_group_label(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
    ApiInput(params): ApiInput<LabelParams>,
) -> ApiResult<Response> {
    let access = lookup_group_access(&state, &actor, &id).await?;
    created(&state, LabelScope::Group(&access), params).await
}

/// `PUT /groups/:id/labels/:label_id` (`new_name`, `color`, `description`)
pub async fn update_group_label(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path((id, label)): Path<(String, String)>,
    ApiInput(params): ApiInput<LabelParams>,
) -> ApiResult<Json<Label>> {
    let access = lookup_group_access(&state, &actor, &id).await?;
    updated(&state, LabelScope::Group(&access), &label, params).await
}

/// `DELETE /groups/:id/labels/:label_id`
pub async fn delete_group_label(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path((id, label)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    let access = lookup_group_access(&state, &actor, &id).await?;
    deleted(&state, LabelScope::Group(&access), &label).await
}

/// A label named in the parameters (`name`), for GitLab's older routes without an id in the
/// path, which python-gitlab still uses to save and delete.
fn named(params: &LabelParams) -> ApiResult<String> {
    params
        .name
        .clone()
        .filter(|name| !name.trim().is_empty())
        .ok_or_else(|| crate::error::AppError::BadRequest("name is missing".to_owned()).into())
}

/// `PUT /projects/:id/labels` (`name`, then `new_name`, `color`, `description`)
pub async fn update_project_label_by_name(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
    ApiInput(params): ApiInput<LabelParams>,
) -> ApiResult<Json<Label>> {
    let access = lookup_access(&state, &actor, &id).await?;
    let name = named(&params)?;
    updated(&state, LabelScope::Project(&access), &name, params).await
}

/// `DELETE /projects/:id/labels` (`name`)
pub async fn delete_project_label_by_name(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
    ApiInput(params): ApiInput<LabelParams>,
) -> ApiResult<StatusCode> {
    let access = lookup_access(&state, &actor, &id).await?;
    deleted(&state, LabelScope::Project(&access), &named(&params)?).await
}

/// `PUT /groups/:id/labels` (`name`, then `new_name`, `color`, `description`)
pub async fn update_group_label_by_name(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
    ApiInput(params): ApiInput<LabelParams>,
) -> ApiResult<Json<Label>> {
    let access = lookup_group_access(&state, &actor, &id).await?;
    let name = named(&params)?;
    updated(&state, LabelScope::Group(&access), &name, params).await
}

/// `DELETE /groups/:id/labels` (`name`)
pub async fn delete_group_label_by_name(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
    ApiInput(params): ApiInput<LabelParams>,
) -> ApiResult<StatusCode> {
    let access = lookup_group_access(&state, &actor, &id).await?;
    deleted(&state, LabelScope::Group(&access), &named(&params)?).await
}
