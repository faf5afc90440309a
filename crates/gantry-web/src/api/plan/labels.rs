//! `/projects/:id/labels` and `/groups/:id/labels`, shaped like GitLab's: list (a project's
//! with its groups' labels; a group's with its ancestors' unless `include_ancestor_groups` is
//! false), one label by id or name, create (`name`, `color`, `description`, and a project's
//! `priority`), edit (`new_name`, `color`, `description`, `priority`; `null` takes the priority
//! away) and delete; `subscribe` and `unsubscribe` (201 with the label, 304 when nothing
//! changed) and a project label's `promote` to its group. Reporters and above change labels
//! (core decides); whoever sees a label may subscribe to it. Each label carries the caller's
//! `subscribed` and the project's `priority`.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use gantry_core::plan::labels::{LabelInput, LabelMarks, LabelRow, LabelScope};
use gantry_types::LabelId;
use serde::Deserialize;

use super::types::Label;
use crate::AppState;
use crate::api::groups::lookup_group_access;
use crate::api::projects::lookup_access;
use crate::api::{ApiInput, ApiResult, PageParams, paginated};
use crate::auth::ApiActor;
use crate::error::AppError;

#[derive(Debug, Default, Deserialize)]
pub struct LabelListParams {
    search: Option<String>,
    include_ancestor_groups: Option<bool>,
}

fn page_of_labels(
    state: &AppState,
    uri: &Uri,
    labels: Vec<LabelRow>,
    marks: &LabelMarks,
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
    let items: Vec<Label> =
        matching.into_iter().skip(offset).take(limit).map(|label| Label::marked(label, marks)).collect();
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
    let marks = state.core.plan().label_marks(LabelScope::Project(&access)).await?;
    page_of_labels(&state, &uri, labels, &marks, params.search.as_deref(), &page)
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
    let marks = state.core.plan().label_marks(LabelScope::Group(&access)).await?;
    page_of_labels(&state, &uri, labels, &marks, params.search.as_deref(), &page)
}

#[derive(Debug, Default, Deserialize)]
pub struct LabelParams {
    name: Option<String>,
    new_name: Option<String>,
    color: Option<String>,
    description: Option<String>,
    /// A project's priority for the label: a number from 0, or `null` for none.
    #[serde(default, deserialize_with = "super::issues::present")]
    priority: Option<serde_json::Value>,
}

impl LabelParams {
    fn input(&self) -> LabelInput {
        LabelInput {
            name: self.new_name.clone().or_else(|| self.name.clone()),
            color: self.color.clone(),
            description: self.description.clone(),
        }
    }

    /// The priority asked for: `Some(None)` to take it away, `None` when not asked.
    fn priority(&self) -> ApiResult<Option<Option<i64>>> {
        let invalid = || AppError::BadRequest("priority is invalid".to_owned());
        match &self.priority {
            None => Ok(None),
            Some(serde_json::Value::Null) => Ok(Some(None)),
            Some(serde_json::Value::String(text)) if text.trim().is_empty() => Ok(Some(None)),
            Some(serde_json::Value::String(text)) => Ok(Some(Some(text.trim().parse().map_err(|_| invalid())?))),
            Some(serde_json::Value::Number(n)) => Ok(Some(Some(n.as_i64().ok_or_else(invalid)?))),
            Some(_) => Err(invalid().into()),
        }
    }
}

/// The label as the caller sees it in `scope`.
async fn shown(state: &AppState, scope: LabelScope<'_>, label: &LabelRow) -> ApiResult<Label> {
    let marks = state.core.plan().label_marks(scope).await?;
    Ok(Label::marked(label, &marks))
}

/// Sets a project label's priority when the call asks for one (a group has none: refused).
async fn prioritised(state: &AppState, scope: LabelScope<'_>, id: LabelId, params: &LabelParams) -> ApiResult<()> {
    let Some(priority) = params.priority()? else { return Ok(()) };
    match scope {
        LabelScope::Project(access) => Ok(state.core.plan().set_label_priority(access, id, priority).await?),
        // Refused before anything was saved (`check_priority`).
        LabelScope::Group(_) => Ok(()),
    }
}

/// Refuses a priority that could not be set here before anything is saved: a negative one, or
/// any on a group's label in its group.
fn check_priority(scope: LabelScope<'_>, params: &LabelParams) -> ApiResult<()> {
    match (params.priority()?, scope) {
        (None, _) => Ok(()),
        (Some(_), LabelScope::Group(_)) => Err(AppError::BadRequest(
            "priority: a group label is prioritised in each project, not in its group".to_owned(),
        )
        .into()),
        (Some(Some(priority)), _) if priority < 0 => {
            Err(AppError::BadRequest("priority must be greater than or equal to 0".to_owned()).into())
        }
        (Some(_), LabelScope::Project(_)) => Ok(()),
    }
}

async fn created(state: &AppState, scope: LabelScope<'_>, params: LabelParams) -> ApiResult<Response> {
    check_priority(scope, &params)?;
    let label = state.core.plan().create_label(scope, &params.input()).await?;
    prioritised(state, scope, label.id, &params).await?;
    Ok((StatusCode::CREATED, Json(shown(state, scope, &label).await?)).into_response())
}

async fn updated(state: &AppState, scope: LabelScope<'_>, which: &str, params: LabelParams) -> ApiResult<Json<Label>> {
    check_priority(scope, &params)?;
    let label = state.core.plan().find_label(scope, which).await?;
    let input = LabelInput {
        name: params.new_name.clone(),
        color: params.color.clone(),
        description: params.description.clone(),
    };
    let label = if input.name.is_some() || input.color.is_some() || input.description.is_some() {
        state.core.plan().update_label(scope, label.id, &input).await?
    } else {
        scope.require_manage()?;
        label
    };
    prioritised(state, scope, label.id, &params).await?;
    Ok(Json(shown(state, scope, &label).await?))
}

async fn deleted(state: &AppState, scope: LabelScope<'_>, which: &str) -> ApiResult<StatusCode> {
    let label = state.core.plan().find_label(scope, which).await?;
    state.core.plan().delete_label(scope, label.id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A subscription asked for: 201 with the label when it changed, 304 when it was so already.
async fn subscription(state: &AppState, scope: LabelScope<'_>, which: &str, subscribed: bool) -> ApiResult<Response> {
    let label = state.core.plan().find_label(scope, which).await?;
    if !state.core.plan().subscribe_to_label(scope, label.id, subscribed).await? {
        return Ok(StatusCode::NOT_MODIFIED.into_response());
    }
    Ok((StatusCode::CREATED, Json(shown(state, scope, &label).await?)).into_response())
}

/// `GET /projects/:id/labels/:label_id` (an id or a name)
pub async fn get_project_label(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path((id, label)): Path<(String, String)>,
) -> ApiResult<Json<Label>> {
    let access = lookup_access(&state, &actor, &id).await?;
    let scope = LabelScope::Project(&access);
    let label = state.core.plan().find_label(scope, &label).await?;
    Ok(Json(shown(&state, scope, &label).await?))
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
    let scope = LabelScope::Group(&access);
    let label = state.core.plan().find_label(scope, &label).await?;
    Ok(Json(shown(&state, scope, &label).await?))
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
        .ok_or_else(|| AppError::BadRequest("name is missing".to_owned()).into())
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

/// `POST /projects/:id/labels/:label_id/subscribe`
pub async fn subscribe_project_label(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path((id, label)): Path<(String, String)>,
) -> ApiResult<Response> {
    let access = lookup_access(&state, &actor, &id).await?;
    subscription(&state, LabelScope::Project(&access), &label, true).await
}

/// `POST /projects/:id/labels/:label_id/unsubscribe`
pub async fn unsubscribe_project_label(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path((id, label)): Path<(String, String)>,
) -> ApiResult<Response> {
    let access = lookup_access(&state, &actor, &id).await?;
    subscription(&state, LabelScope::Project(&access), &label, false).await
}

/// `POST /groups/:id/labels/:label_id/subscribe`
pub async fn subscribe_group_label(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path((id, label)): Path<(String, String)>,
) -> ApiResult<Response> {
    let access = lookup_group_access(&state, &actor, &id).await?;
    subscription(&state, LabelScope::Group(&access), &label, true).await
}

/// `POST /groups/:id/labels/:label_id/unsubscribe`
pub async fn unsubscribe_group_label(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path((id, label)): Path<(String, String)>,
) -> ApiResult<Response> {
    let access = lookup_group_access(&state, &actor, &id).await?;
    subscription(&state, LabelScope::Group(&access), &label, false).await
}

/// `PUT /projects/:id/labels/:label_id/promote`: the project label becomes its group's; the
/// answer is the group label.
pub async fn promote_project_label(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path((id, label)): Path<(String, String)>,
) -> ApiResult<Json<Label>> {
    let access = lookup_access(&state, &actor, &id).await?;
    let found = state.core.plan().find_label(LabelScope::Project(&access), &label).await?;
    let promoted = state.core.plan().promote_label(&access, found.id).await?;
    Ok(Json(Label::new(&promoted)))
}
