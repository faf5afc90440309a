//! Iterations, shaped like GitLab's: `GET /groups/:id/iterations` and
//! `GET /projects/:id/iterations` (`state` opened, upcoming, current, closed or all; `search`;
//! `include_ancestors`, default true; `include_descendants`; `updated_before`/`after`). GitLab
//! manages cadences and iterations through GraphQL only; Gantry offers the same as REST routes
//! of its own: a group's cadences (`/groups/:id/iteration_cadences`: list, create, one, edit,
//! delete), a manual cadence's new iterations (`…/iteration_cadences/:cadence_id/iterations`),
//! and one iteration of the group (`/groups/:id/iterations/:iteration_id`: get, edit, delete,
//! and its issues). Reporters and above change them (core decides).

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use gantry_core::CoreError;
use gantry_core::plan::burnup::Timebox;
use gantry_core::plan::cadences::CadenceInput;
use gantry_core::plan::issues::{IssueQuery, IssuesOf, IterationFilter};
use gantry_core::plan::iterations::{IterationInput, IterationQuery, IterationScope, IterationStateFilter};
use gantry_types::{CadenceId, IterationId};
use serde::Deserialize;

use super::issues::list;
use super::types::{Cadence, Iteration, burnup_json};
use crate::AppState;
use crate::api::groups::lookup_group_access;
use crate::api::history::parse_time;
use crate::api::projects::lookup_access;
use crate::api::{ApiInput, ApiResult, PageParams, paginated};
use crate::auth::ApiActor;
use crate::error::AppError;

/// The filters of GitLab's iteration lists.
#[derive(Debug, Default, Deserialize)]
pub struct IterationListParams {
    state: Option<String>,
    search: Option<String>,
    include_ancestors: Option<bool>,
    include_descendants: Option<bool>,
    updated_before: Option<String>,
    updated_after: Option<String>,
}

impl IterationListParams {
    fn query(&self) -> ApiResult<IterationQuery> {
        let state = match self.state.as_deref().map(str::trim) {
            None | Some("") => IterationStateFilter::Opened,
            Some(value) => IterationStateFilter::parse(value).ok_or_else(|| {
                AppError::BadRequest(format!(
                    "state does not have a valid value: {value} (opened, upcoming, current, closed or all)"
                ))
            })?,
        };
        let time = |field: &str, value: &Option<String>| -> ApiResult<Option<i64>> {
            Ok(parse_time(field, value.as_deref())?.map(|seconds| seconds.saturating_mul(1000)))
        };
        Ok(IterationQuery {
            state,
            search: self.search.clone(),
            include_ancestors: self.include_ancestors.unwrap_or(true),
            include_descendants: self.include_descendants.unwrap_or(false),
            cadence: None,
            updated_after: time("updated_after", &self.updated_after)?,
            updated_before: time("updated_before", &self.updated_before)?,
        })
    }
}

async fn listed(
    state: &AppState,
    uri: &Uri,
    scope: IterationScope<'_>,
    params: &IterationListParams,
    page: &PageParams,
) -> ApiResult<Response> {
    let page = page.resolve()?;
    let (iterations, total) = state.core.plan().list_iterations(scope, &params.query()?, page.db()).await?;
    let items: Vec<Iteration> = iterations.iter().map(|it| Iteration::new(it, &state.config)).collect();
    Ok(paginated(&state.config.external_url, uri, items, total, page))
}

/// `GET /groups/:id/iterations`
pub async fn list_group_iterations(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
    uri: Uri,
    Query(page): Query<PageParams>,
    ApiInput(params): ApiInput<IterationListParams>,
) -> ApiResult<Response> {
    let access = lookup_group_access(&state, &actor, &id).await?;
    listed(&state, &uri, IterationScope::Group(&access), &params, &page).await
}

/// `GET /projects/:id/iterations`: the iterations of the project's groups.
pub async fn list_project_iterations(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
    uri: Uri,
    Query(page): Query<PageParams>,
    ApiInput(params): ApiInput<IterationListParams>,
) -> ApiResult<Response> {
    let access = lookup_access(&state, &actor, &id).await?;
    listed(&state, &uri, IterationScope::Project(&access), &params, &page).await
}

fn cadence_id(value: &str) -> ApiResult<CadenceId> {
    value
        .parse::<i64>()
        .ok()
        .filter(|id| *id > 0)
        .map(CadenceId)
        .ok_or_else(|| CoreError::NotFound("iteration cadence").into())
}

fn iteration_id(value: &str) -> ApiResult<IterationId> {
    value
        .parse::<i64>()
        .ok()
        .filter(|id| *id > 0)
        .map(IterationId)
        .ok_or_else(|| CoreError::NotFound("iteration").into())
}

/// What creating or editing a cadence takes (GitLab's GraphQL fields, in snake case).
#[derive(Debug, Default, Deserialize)]
pub struct CadenceParams {
    title: Option<String>,
    description: Option<String>,
    /// `YYYY-MM-DD`: the first iteration's start.
    start_date: Option<String>,
    duration_in_weeks: Option<i64>,
    iterations_in_advance: Option<i64>,
    automatic: Option<bool>,
    roll_over: Option<bool>,
}

impl From<CadenceParams> for CadenceInput {
    fn from(params: CadenceParams) -> CadenceInput {
        CadenceInput {
            title: params.title,
            description: params.description,
            start_date: params.start_date,
            duration_in_weeks: params.duration_in_weeks,
            iterations_in_advance: params.iterations_in_advance,
            automatic: params.automatic,
            roll_over: params.roll_over,
        }
    }
}

/// `GET /groups/:id/iteration_cadences`: the group's cadences and, unless
/// `include_ancestors=false`, those of the groups above it.
pub async fn list_cadences(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
    uri: Uri,
    Query(page): Query<PageParams>,
    ApiInput(params): ApiInput<IterationListParams>,
) -> ApiResult<Response> {
    let access = lookup_group_access(&state, &actor, &id).await?;
    let page = page.resolve()?;
    let cadences = state.core.plan().list_cadences(&access, params.include_ancestors.unwrap_or(true)).await?;
    let total = i64::try_from(cadences.len()).unwrap_or(i64::MAX);
    let offset = usize::try_from(page.db().offset).unwrap_or(usize::MAX);
    let limit = usize::try_from(page.db().limit).unwrap_or(usize::MAX);
    let items: Vec<Cadence> =
        cadences.iter().skip(offset).take(limit).map(|cadence| Cadence::new(cadence, &state.config)).collect();
    Ok(paginated(&state.config.external_url, &uri, items, total, page))
}

/// `POST /groups/:id/iteration_cadences`
pub async fn create_cadence(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
    ApiInput(params): ApiInput<CadenceParams>,
) -> ApiResult<Response> {
    let access = lookup_group_access(&state, &actor, &id).await?;
    let cadence = state.core.plan().create_cadence(&access, &params.into()).await?;
    Ok((StatusCode::CREATED, Json(Cadence::new(&cadence, &state.config))).into_response())
}

/// `GET /groups/:id/iteration_cadences/:cadence_id`
pub async fn get_cadence(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path((id, cadence)): Path<(String, String)>,
) -> ApiResult<Json<Cadence>> {
    let access = lookup_group_access(&state, &actor, &id).await?;
    let cadence = state.core.plan().find_cadence(&access, cadence_id(&cadence)?).await?;
    Ok(Json(Cadence::new(&cadence, &state.config)))
}

/// `PUT /groups/:id/iteration_cadences/:cadence_id`
pub async fn update_cadence(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path((id, cadence)): Path<(String, String)>,
    ApiInput(params): ApiInput<CadenceParams>,
) -> ApiResult<Json<Cadence>> {
    let access = lookup_group_access(&state, &actor, &id).await?;
    let cadence = state.core.plan().update_cadence(&access, cadence_id(&cadence)?, &params.into()).await?;
    Ok(Json(Cadence::new(&cadence, &state.config)))
}

/// `DELETE /groups/:id/iteration_cadences/:cadence_id`
pub async fn delete_cadence(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path((id, cadence)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    let access = lookup_group_access(&state, &actor, &id).await?;
    state.core.plan().delete_cadence(&access, cadence_id(&cadence)?).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// What creating or editing an iteration of a manual cadence takes.
#[derive(Debug, Default, Deserialize)]
pub struct IterationParams {
    title: Option<String>,
    description: Option<String>,
    start_date: Option<String>,
    due_date: Option<String>,
}

impl From<IterationParams> for IterationInput {
    fn from(params: IterationParams) -> IterationInput {
        IterationInput {
            title: params.title.map(|title| Some(title).filter(|t| !t.trim().is_empty())),
            description: params.description,
            start_date: params.start_date,
            due_date: params.due_date,
        }
    }
}

/// `POST /groups/:id/iteration_cadences/:cadence_id/iterations` (a manual cadence's)
pub async fn create_iteration(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path((id, cadence)): Path<(String, String)>,
    ApiInput(params): ApiInput<IterationParams>,
) -> ApiResult<Response> {
    let access = lookup_group_access(&state, &actor, &id).await?;
    let iteration = state.core.plan().create_iteration(&access, cadence_id(&cadence)?, &params.into()).await?;
    Ok((StatusCode::CREATED, Json(Iteration::new(&iteration, &state.config))).into_response())
}

/// `GET /groups/:id/iterations/:iteration_id` (the group's or an ancestor's)
pub async fn get_iteration(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path((id, iteration)): Path<(String, String)>,
) -> ApiResult<Json<Iteration>> {
    let access = lookup_group_access(&state, &actor, &id).await?;
    let iteration = state.core.plan().find_iteration(IterationScope::Group(&access), iteration_id(&iteration)?).await?;
    Ok(Json(Iteration::new(&iteration, &state.config)))
}

/// `PUT /groups/:id/iterations/:iteration_id`
pub async fn update_iteration(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path((id, iteration)): Path<(String, String)>,
    ApiInput(params): ApiInput<IterationParams>,
) -> ApiResult<Json<Iteration>> {
    let access = lookup_group_access(&state, &actor, &id).await?;
    let iteration = state.core.plan().update_iteration(&access, iteration_id(&iteration)?, &params.into()).await?;
    Ok(Json(Iteration::new(&iteration, &state.config)))
}

/// `DELETE /groups/:id/iterations/:iteration_id` (a manual cadence's)
pub async fn delete_iteration(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path((id, iteration)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    let access = lookup_group_access(&state, &actor, &id).await?;
    state.core.plan().delete_iteration(&access, iteration_id(&iteration)?).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /groups/:id/iterations/:iteration_id/burnup`: its burnup over the group's projects'
/// issues the caller may see (GitLab: GraphQL's `report`).
pub async fn iteration_burnup(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path((id, iteration)): Path<(String, String)>,
) -> ApiResult<Json<serde_json::Value>> {
    let access = lookup_group_access(&state, &actor, &id).await?;
    let plan = state.core.plan();
    let iteration = plan.find_iteration(IterationScope::Group(&access), iteration_id(&iteration)?).await?;
    let (Ok(start), Ok(due)) = (iteration.start_date.parse(), iteration.due_date.parse()) else {
        return Err(CoreError::NotFound("iteration").into());
    };
    let burnup = plan.burnup(IssuesOf::Group(&access), Timebox::Iteration(iteration.id), start, due).await?;
    Ok(Json(burnup_json(&burnup, &iteration.start_date, &iteration.due_date)))
}

/// `GET /groups/:id/iterations/:iteration_id/issues`: its issues in the group's projects that
/// the caller may see.
pub async fn list_iteration_issues(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path((id, iteration)): Path<(String, String)>,
    uri: Uri,
    Query(page): Query<PageParams>,
) -> ApiResult<Response> {
    let access = lookup_group_access(&state, &actor, &id).await?;
    let iteration = state.core.plan().find_iteration(IterationScope::Group(&access), iteration_id(&iteration)?).await?;
    let query = IssueQuery { iteration: IterationFilter::Id(iteration.id), ..IssueQuery::default() };
    list(&state, &uri, IssuesOf::Group(&access), &query, &page).await
}
