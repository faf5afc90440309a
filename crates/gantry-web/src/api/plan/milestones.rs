//! `/projects/:id/milestones` and `/groups/:id/milestones`, shaped like GitLab's: lists (filters
//! `state`, `title`, `search`, `iids[]`; a project's with its groups' milestones when
//! `include_parent_milestones` or `include_ancestors` is true, a group's with its ancestors' when
//! `include_ancestors` is), one milestone by id, create (`title`, `description`, `start_date`,
//! `due_date`), edit (the same and `state_event` `close` or `activate`), delete, and a
//! milestone's issues and merge requests (none until merge requests exist), and a project
//! milestone's promotion to its group. Reporters and above change milestones (core decides).

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use gantry_core::CoreError;
use gantry_core::plan::burnup::Timebox;
use gantry_core::plan::issues::{IssueQuery, IssuesOf, MilestoneFilter};
use gantry_core::plan::milestones::MilestoneStateEvent;
use gantry_core::plan::milestones::{MilestoneInput, MilestoneQuery, MilestoneRow, MilestoneScope, MilestoneState};
use gantry_types::MilestoneId;
use serde::Deserialize;

use super::issues::list;
use super::types::{Milestone, burnup_json};
use crate::AppState;
use crate::api::groups::lookup_group_access;
use crate::api::projects::lookup_access;
use crate::api::{ApiInput, ApiResult, PageParams, paginated};
use crate::auth::ApiActor;
use crate::error::AppError;

/// The filters of GitLab's milestone lists.
#[derive(Debug, Default, Deserialize)]
pub struct MilestoneListParams {
    state: Option<String>,
    title: Option<String>,
    search: Option<String>,
    #[serde(default)]
    iids: Vec<i64>,
    include_parent_milestones: Option<bool>,
    include_ancestors: Option<bool>,
}

impl MilestoneListParams {
    fn query(&self) -> ApiResult<MilestoneQuery> {
        let state = match self.state.as_deref().map(str::trim) {
            None | Some("" | "all") => None,
            Some(value) => Some(MilestoneState::parse(value).ok_or_else(|| {
                AppError::BadRequest(format!("state does not have a valid value: {value} (active, closed or all)"))
            })?),
        };
        Ok(MilestoneQuery {
            state,
            title: self.title.clone().filter(|title| !title.trim().is_empty()),
            search: self.search.clone(),
            iids: self.iids.clone(),
            include_ancestors: self.include_parent_milestones.or(self.include_ancestors).unwrap_or(false),
        })
    }
}

fn page_of_milestones(
    state: &AppState,
    uri: &Uri,
    milestones: Vec<MilestoneRow>,
    page: &PageParams,
) -> ApiResult<Response> {
    let page = page.resolve()?;
    let total = i64::try_from(milestones.len()).unwrap_or(i64::MAX);
    let offset = usize::try_from(page.db().offset).unwrap_or(usize::MAX);
    let limit = usize::try_from(page.db().limit).unwrap_or(usize::MAX);
    let items: Vec<Milestone> =
        milestones.iter().skip(offset).take(limit).map(|m| Milestone::new(m, &state.config)).collect();
    Ok(paginated(&state.config.external_url, uri, items, total, page))
}

/// A milestone's id from the path; anything else names no milestone.
fn milestone_id(value: &str) -> ApiResult<MilestoneId> {
    value
        .parse::<i64>()
        .ok()
        .filter(|id| *id > 0)
        .map(MilestoneId)
        .ok_or_else(|| CoreError::NotFound("milestone").into())
}

/// What creating or editing a milestone takes.
#[derive(Debug, Default, Deserialize)]
pub struct MilestoneParams {
    title: Option<String>,
    description: Option<String>,
    /// `YYYY-MM-DD`; empty removes it.
    start_date: Option<String>,
    /// `YYYY-MM-DD`; empty removes it.
    due_date: Option<String>,
    state_event: Option<String>,
}

impl MilestoneParams {
    fn input(self) -> ApiResult<MilestoneInput> {
        let state_event = match self.state_event.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(value) => Some(MilestoneStateEvent::parse(value).ok_or_else(|| {
                AppError::BadRequest(format!("state_event does not have a valid value: {value} (close or activate)"))
            })?),
        };
        let date = |value: Option<String>| value.map(|date| Some(date).filter(|d| !d.trim().is_empty()));
        Ok(MilestoneInput {
            title: self.title,
            description: self.description,
            start_date: date(self.start_date),
            due_date: date(self.due_date),
            state_event,
        })
    }
}

async fn listed(
    state: &AppState,
    uri: &Uri,
    scope: MilestoneScope<'_>,
    params: &MilestoneListParams,
    page: &PageParams,
) -> ApiResult<Response> {
    let milestones = state.core.plan().list_milestones(scope, &params.query()?).await?;
    page_of_milestones(state, uri, milestones, page)
}

async fn found(state: &AppState, scope: MilestoneScope<'_>, id: &str) -> ApiResult<Json<Milestone>> {
    let milestone = state.core.plan().find_milestone(scope, milestone_id(id)?).await?;
    Ok(Json(Milestone::new(&milestone, &state.config)))
}

/// A milestone's burnup; it needs a start and a due date, as in GitLab.
async fn burnup_of(state: &AppState, scope: MilestoneScope<'_>, id: &str) -> ApiResult<Json<serde_json::Value>> {
    let milestone = state.core.plan().find_milestone(scope, milestone_id(id)?).await?;
    let (Some(start), Some(due)) = (&milestone.start_date, &milestone.due_date) else {
        return Err(AppError::BadRequest("Milestone must have a start and a due date".to_owned()).into());
    };
    let (Ok(first), Ok(last)) = (start.parse(), due.parse()) else {
        return Err(AppError::BadRequest("Milestone must have a start and a due date".to_owned()).into());
    };
    let of = match scope {
        MilestoneScope::Project(access) => IssuesOf::Project(access),
        MilestoneScope::Group(access) => IssuesOf::Group(access),
    };
    let burnup = state.core.plan().burnup(of, Timebox::Milestone(milestone.id), first, last).await?;
    Ok(Json(burnup_json(&burnup, start, due)))
}

async fn created(state: &AppState, scope: MilestoneScope<'_>, params: MilestoneParams) -> ApiResult<Response> {
    if params.title.is_none() {
        scope.require_manage()?;
        return Err(AppError::BadRequest("title is missing".to_owned()).into());
    }
    let milestone = state.core.plan().create_milestone(scope, &params.input()?).await?;
    Ok((StatusCode::CREATED, Json(Milestone::new(&milestone, &state.config))).into_response())
}

async fn updated(
    state: &AppState,
    scope: MilestoneScope<'_>,
    id: &str,
    params: MilestoneParams,
) -> ApiResult<Json<Milestone>> {
    let id = milestone_id(id)?;
    let milestone = state.core.plan().update_milestone(scope, id, &params.input()?).await?;
    Ok(Json(Milestone::new(&milestone, &state.config)))
}

async fn deleted(state: &AppState, scope: MilestoneScope<'_>, id: &str) -> ApiResult<StatusCode> {
    state.core.plan().delete_milestone(scope, milestone_id(id)?).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The issues of a milestone the caller may see, a page of them.
async fn issues_of(
    state: &AppState,
    uri: &Uri,
    scope: MilestoneScope<'_>,
    id: &str,
    page: &PageParams,
) -> ApiResult<Response> {
    let milestone = state.core.plan().find_milestone(scope, milestone_id(id)?).await?;
    let query = IssueQuery { milestone: MilestoneFilter::Id(milestone.id), ..IssueQuery::default() };
    let of = match scope {
        MilestoneScope::Project(access) => IssuesOf::Project(access),
        MilestoneScope::Group(access) => IssuesOf::Group(access),
    };
    list(state, uri, of, &query, page).await
}

/// Merge requests come later: a milestone has none.
async fn merge_requests_of(
    state: &AppState,
    uri: &Uri,
    scope: MilestoneScope<'_>,
    id: &str,
    page: &PageParams,
) -> ApiResult<Response> {
    state.core.plan().find_milestone(scope, milestone_id(id)?).await?;
    let page = page.resolve()?;
    Ok(paginated::<serde_json::Value>(&state.config.external_url, uri, Vec::new(), 0, page))
}

/// `GET /projects/:id/milestones` (`state`, `title`, `search`, `iids[]`,
/// `include_parent_milestones`)
pub async fn list_project_milestones(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
    uri: Uri,
    Query(page): Query<PageParams>,
    ApiInput(params): ApiInput<MilestoneListParams>,
) -> ApiResult<Response> {
    let access = lookup_access(&state, &actor, &id).await?;
    listed(&state, &uri, MilestoneScope::Project(&access), &params, &page).await
}

/// `GET /projects/:id/milestones/:milestone_id`
pub async fn get_project_milestone(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path((id, milestone)): Path<(String, String)>,
) -> ApiResult<Json<Milestone>> {
    let access = lookup_access(&state, &actor, &id).await?;
    found(&state, MilestoneScope::Project(&access), &milestone).await
}

/// `POST /projects/:id/milestones` (`title`, `description`, `start_date`, `due_date`)
pub async fn create_project_milestone(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
    ApiInput(params): ApiInput<MilestoneParams>,
) -> ApiResult<Response> {
    let access = lookup_access(&state, &actor, &id).await?;
    created(&state, MilestoneScope::Project(&access), params).await
}

/// `PUT /projects/:id/milestones/:milestone_id` (the fields of create, `state_event`)
pub async fn update_project_milestone(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path((id, milestone)): Path<(String, String)>,
    ApiInput(params): ApiInput<MilestoneParams>,
) -> ApiResult<Json<Milestone>> {
    let access = lookup_access(&state, &actor, &id).await?;
    updated(&state, MilestoneScope::Project(&access), &milestone, params).await
}

/// `DELETE /projects/:id/milestones/:milestone_id`
pub async fn delete_project_milestone(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path((id, milestone)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    let access = lookup_access(&state, &actor, &id).await?;
    deleted(&state, MilestoneScope::Project(&access), &milestone).await
}

/// `GET /projects/:id/milestones/:milestone_id/issues`
pub async fn list_project_milestone_issues(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path((id, milestone)): Path<(String, String)>,
    uri: Uri,
    Query(page): Query<PageParams>,
) -> ApiResult<Response> {
    let access = lookup_access(&state, &actor, &id).await?;
    issues_of(&state, &uri, MilestoneScope::Project(&access), &milestone, &page).await
}

/// `GET /projects/:id/milestones/:milestone_id/merge_requests`
pub async fn list_project_milestone_merge_requests(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path((id, milestone)): Path<(String, String)>,
    uri: Uri,
    Query(page): Query<PageParams>,
) -> ApiResult<Response> {
    let access = lookup_access(&state, &actor, &id).await?;
    merge_requests_of(&state, &uri, MilestoneScope::Project(&access), &milestone, &page).await
}

/// `POST /projects/:id/milestones/:milestone_id/promote`: the milestone becomes its group's.
pub async fn promote_project_milestone(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path((id, milestone)): Path<(String, String)>,
) -> ApiResult<Json<Milestone>> {
    let access = lookup_access(&state, &actor, &id).await?;
    let milestone = state.core.plan().promote_milestone(&access, milestone_id(&milestone)?).await?;
    Ok(Json(Milestone::new(&milestone, &state.config)))
}

/// `GET /groups/:id/milestones` (`state`, `title`, `search`, `iids[]`, `include_ancestors`)
pub async fn list_group_milestones(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
    uri: Uri,
    Query(page): Query<PageParams>,
    ApiInput(params): ApiInput<MilestoneListParams>,
) -> ApiResult<Response> {
    let access = lookup_group_access(&state, &actor, &id).await?;
    listed(&state, &uri, MilestoneScope::Group(&access), &params, &page).await
}

/// `GET /groups/:id/milestones/:milestone_id`
pub async fn get_group_milestone(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path((id, milestone)): Path<(String, String)>,
) -> ApiResult<Json<Milestone>> {
    let access = lookup_group_access(&state, &actor, &id).await?;
    found(&state, MilestoneScope::Group(&access), &milestone).await
}

/// `POST /groups/:id/milestones` (`title`, `description`, `start_date`, `due_date`)
pub async fn create_group_milestone(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
    ApiInput(params): ApiInput<MilestoneParams>,
) -> ApiResult<Response> {
    let access = lookup_group_access(&state, &actor, &id).await?;
    created(&state, MilestoneScope::Group(&access), params).await
}

/// `PUT /groups/:id/milestones/:milestone_id` (the fields of create, `state_event`)
pub async fn update_group_milestone(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path((id, milestone)): Path<(String, String)>,
    ApiInput(params): ApiInput<MilestoneParams>,
) -> ApiResult<Json<Milestone>> {
    let access = lookup_group_access(&state, &actor, &id).await?;
    updated(&state, MilestoneScope::Group(&access), &milestone, params).await
}

/// `DELETE /groups/:id/milestones/:milestone_id`
pub async fn delete_group_milestone(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path((id, milestone)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    let access = lookup_group_access(&state, &actor, &id).await?;
    deleted(&state, MilestoneScope::Group(&access), &milestone).await
}

/// `GET /groups/:id/milestones/:milestone_id/issues`: its issues in the group's projects.
pub async fn list_group_milestone_issues(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path((id, milestone)): Path<(String, String)>,
    uri: Uri,
    Query(page): Query<PageParams>,
) -> ApiResult<Response> {
    let access = lookup_group_access(&state, &actor, &id).await?;
    issues_of(&state, &uri, MilestoneScope::Group(&access), &milestone, &page).await
}

/// `GET /projects/:id/milestones/:milestone_id/burnup`: Gantry's burnup (GitLab: GraphQL).
pub async fn project_milestone_burnup(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path((id, milestone)): Path<(String, String)>,
) -> ApiResult<Json<serde_json::Value>> {
    let access = lookup_access(&state, &actor, &id).await?;
    burnup_of(&state, MilestoneScope::Project(&access), &milestone).await
}

/// `GET /groups/:id/milestones/:milestone_id/burnup`
pub async fn group_milestone_burnup(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path((id, milestone)): Path<(String, String)>,
) -> ApiResult<Json<serde_json::Value>> {
    let access = lookup_group_access(&state, &actor, &id).await?;
    burnup_of(&state, MilestoneScope::Group(&access), &milestone).await
}

/// `GET /groups/:id/milestones/:milestone_id/merge_requests`
pub async fn list_group_milestone_merge_requests(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path((id, milestone)): Path<(String, String)>,
    uri: Uri,
    Query(page): Query<PageParams>,
) -> ApiResult<Response> {
    let access = lookup_group_access(&state, &actor, &id).await?;
    merge_requests_of(&state, &uri, MilestoneScope::Group(&access), &milestone, &page).await
}
