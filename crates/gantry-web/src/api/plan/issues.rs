//! `/projects/:id/issues`, `/groups/:id/issues` and `/issues`, shaped like GitLab's: the lists
//! with their filters (`state`, `labels` with `None`/`Any`, `assignee_id`/`assignee_username`,
//! `author_id`/`author_username`, `milestone` and `iteration_id` with `None`/`Any`, `search`,
//! `confidential`,
//! `iids[]`, `created_after`…, `order_by`, `sort`, `scope`), one issue, create, edit (with
//! `state_event`, `labels`, `add_labels`, `remove_labels`, `assignee_ids`, `milestone_id`,
//! `iteration_id`),
//! delete, its participants, and the statistics of a project's issues. Core decides who sees and
//! changes what.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use gantry_core::SortDirection;
use gantry_core::plan::issues::{
    AssigneeQuery, IssueChanges, IssueOrder, IssueQuery, IssueScope, IssuesOf, IterationFilter, MilestoneFilter,
    StateEvent, UserRef, WeightFilter,
};
use gantry_types::{IssueId, IssueState, IterationId, MilestoneId, UserId};
use serde::{Deserialize, Serialize};

use super::issue_iid;
use super::types::{Issue, TimeStats, with_epics};
use crate::AppState;
use crate::api::groups::lookup_group_access;
use crate::api::history::parse_time;
use crate::api::projects::lookup_access;
use crate::api::{ApiInput, ApiResult, PageParams, paginated, sort_direction};
use crate::auth::ApiActor;
use crate::error::AppError;

/// The filters of GitLab's issue lists.
#[derive(Debug, Default, Deserialize)]
pub struct IssueListParams {
    state: Option<String>,
    labels: Option<Vec<String>>,
    assignee_id: Option<String>,
    assignee_username: Option<Vec<String>>,
    author_id: Option<String>,
    author_username: Option<String>,
    milestone: Option<String>,
    /// An iteration's id, `None` or `Any`.
    iteration_id: Option<String>,
    search: Option<String>,
    confidential: Option<bool>,
    #[serde(default)]
    iids: Vec<i64>,
    created_after: Option<String>,
    created_before: Option<String>,
    updated_after: Option<String>,
    updated_before: Option<String>,
    order_by: Option<String>,
    sort: Option<String>,
    scope: Option<String>,
    weight: Option<String>,
}

impl IssueListParams {
    /// The core query; `default_scope` is `all` for a project's and a group's issues and
    /// `created_by_me` for `/issues`, as in GitLab.
    fn query(&self, default_scope: IssueScope) -> ApiResult<IssueQuery> {
        let bad = |message: String| -> crate::error::ApiError { AppError::BadRequest(message).into() };
        let state = match self.state.as_deref().map(str::trim) {
            None | Some("" | "all") => None,
            Some(value) => Some(
                IssueState::parse(value).ok_or_else(|| bad(format!("state does not have a valid value: {value}")))?,
            ),
        };
        let scope = match self.scope.as_deref().map(str::trim) {
            None | Some("") => default_scope,
            Some(value) => {
                IssueScope::parse(value).ok_or_else(|| bad(format!("scope does not have a valid value: {value}")))?
            }
        };
        let assignee = match (self.assignee_id.as_deref().map(str::trim), &self.assignee_username) {
            (Some(id), _) if id.eq_ignore_ascii_case("none") => AssigneeQuery::Nobody,
            (Some(id), _) if id.eq_ignore_ascii_case("any") => AssigneeQuery::Anybody,
            (Some(id), _) if !id.is_empty() => AssigneeQuery::User(UserRef::Id(UserId(
                id.parse().map_err(|_| bad("assignee_id should be an integer, none or any".to_owned()))?,
            ))),
            (_, Some(names)) => match names.iter().find(|name| !name.trim().is_empty()) {
                Some(name) => AssigneeQuery::User(UserRef::Username(name.trim().to_owned())),
                None => AssigneeQuery::Ignore,
            },
            _ => AssigneeQuery::Ignore,
        };
        let author = match (self.author_id.as_deref().map(str::trim), self.author_username.as_deref().map(str::trim)) {
            (Some(id), _) if !id.is_empty() => {
                Some(UserRef::Id(UserId(id.parse().map_err(|_| bad("author_id is invalid".to_owned()))?)))
            }
            (_, Some(name)) if !name.is_empty() => Some(UserRef::Username(name.to_owned())),
            _ => None,
        };
        let order_by = match self.order_by.as_deref().map(str::trim) {
            None | Some("") => IssueOrder::CreatedAt,
            Some(value) => IssueOrder::parse(value).ok_or_else(|| {
                bad(format!(
                    "order_by must be one of created_at, updated_at, title, due_date, relative_position, label_priority, \
                     weight, not '{value}'"
                ))
            })?,
        };
        let millis = |name: &str, value: &Option<String>| -> ApiResult<Option<i64>> {
            Ok(parse_time(name, value.as_deref())?.map(|seconds| seconds.saturating_mul(1000)))
        };
        let milestone = match self.milestone.as_deref().map(str::trim) {
            None | Some("") => MilestoneFilter::Ignore,
            Some(value) if value.eq_ignore_ascii_case("none") => MilestoneFilter::Nobody,
            Some(value) if value.eq_ignore_ascii_case("any") => MilestoneFilter::Anybody,
            Some(title) => MilestoneFilter::Title(title.to_owned()),
        };
        let iteration = match self.iteration_id.as_deref().map(str::trim) {
            None | Some("") => IterationFilter::Ignore,
            Some(value) if value.eq_ignore_ascii_case("none") => IterationFilter::Nobody,
            Some(value) if value.eq_ignore_ascii_case("any") => IterationFilter::Anybody,
            Some(value) => IterationFilter::Id(IterationId(
                value
                    .parse::<i64>()
                    .ok()
                    .filter(|id| *id > 0)
                    .ok_or_else(|| bad(format!("iteration_id is invalid: {value} (an id, None or Any)")))?,
            )),
        };
        Ok(IssueQuery {
            scope,
            state,
            labels: self.labels.clone().unwrap_or_default(),
            assignee,
            milestone,
            iteration,
            author,
            search: self.search.clone(),
            confidential: self.confidential,
            iids: self.iids.clone(),
            created_after: millis("created_after", &self.created_after)?,
            created_before: millis("created_before", &self.created_before)?,
            updated_after: millis("updated_after", &self.updated_after)?,
            updated_before: millis("updated_before", &self.updated_before)?,
            weight: weight_filter(self.weight.as_deref())?,
            order_by,
            sort: sort_direction(self.sort.as_deref(), SortDirection::Desc)?,
            ..IssueQuery::default()
        })
    }
}

/// GitLab's `weight` filter: a whole number, `None` or `Any`.
pub(crate) fn weight_filter(value: Option<&str>) -> ApiResult<WeightFilter> {
    Ok(match value.map(str::trim) {
        None | Some("") => WeightFilter::Ignore,
        Some(value) if value.eq_ignore_ascii_case("none") => WeightFilter::Nobody,
        Some(value) if value.eq_ignore_ascii_case("any") => WeightFilter::Anybody,
        Some(value) => WeightFilter::Is(value.parse::<i64>().ok().filter(|weight| *weight >= 0).ok_or_else(|| {
            AppError::BadRequest(format!("weight must be a whole number from 0, None or Any, not '{value}'"))
        })?),
    })
}

pub(super) async fn list(
    state: &AppState,
    uri: &Uri,
    of: IssuesOf<'_>,
    query: &IssueQuery,
    page: &PageParams,
) -> ApiResult<Response> {
    let page = page.resolve()?;
    let (issues, total) = state.core.plan().list_issues(of, query, page.db()).await?;
    let mut items: Vec<Issue> = issues.iter().map(|view| Issue::new(view, &state.config)).collect();
    let actor = match of {
        IssuesOf::Project(access) => access.actor(),
        IssuesOf::Group(access) => access.actor(),
        IssuesOf::Visible(actor) => actor,
    };
    with_epics(state, actor, &issues.iter().collect::<Vec<_>>(), &mut items).await?;
    Ok(paginated(&state.config.external_url, uri, items, total, page))
}

/// `GET /projects/:id/issues`
pub async fn list_project_issues(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
    uri: Uri,
    Query(page): Query<PageParams>,
    ApiInput(params): ApiInput<IssueListParams>,
) -> ApiResult<Response> {
    let access = lookup_access(&state, &actor, &id).await?;
    list(&state, &uri, IssuesOf::Project(&access), &params.query(IssueScope::All)?, &page).await
}

/// `GET /groups/:id/issues`: the issues of the group's projects and its subgroups'.
pub async fn list_group_issues(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
    uri: Uri,
    Query(page): Query<PageParams>,
    ApiInput(params): ApiInput<IssueListParams>,
) -> ApiResult<Response> {
    let access = lookup_group_access(&state, &actor, &id).await?;
    list(&state, &uri, IssuesOf::Group(&access), &params.query(IssueScope::All)?, &page).await
}

/// `GET /issues`: the issues the caller may see (`scope`: `created_by_me` unless asked).
pub async fn list_issues(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    uri: Uri,
    Query(page): Query<PageParams>,
    ApiInput(params): ApiInput<IssueListParams>,
) -> ApiResult<Response> {
    actor.require_user()?;
    list(&state, &uri, IssuesOf::Visible(&actor), &params.query(IssueScope::CreatedByMe)?, &page).await
}

/// GitLab's issues statistics.
#[derive(Debug, Serialize)]
pub struct IssuesStatistics {
    statistics: Statistics,
}

#[derive(Debug, Serialize)]
struct Statistics {
    counts: Counts,
}

#[derive(Debug, Serialize)]
struct Counts {
    all: i64,
    closed: i64,
    opened: i64,
}

/// `GET /projects/:id/issues_statistics` (the list's filters)
pub async fn project_issues_statistics(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
    ApiInput(params): ApiInput<IssueListParams>,
) -> ApiResult<Json<IssuesStatistics>> {
    let access = lookup_access(&state, &actor, &id).await?;
    // GitLab's statistics are exact, however many.
    let query = IssueQuery { count_limit: i64::MAX, ..params.query(IssueScope::All)? };
    let (opened, closed) = state.core.plan().count_issues(IssuesOf::Project(&access), &query).await?;
    Ok(Json(IssuesStatistics { statistics: Statistics { counts: Counts { all: opened + closed, closed, opened } } }))
}

/// `GET /projects/:id/issues/:issue_iid`
pub async fn get_issue(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path((id, iid)): Path<(String, String)>,
) -> ApiResult<Json<Issue>> {
    let access = lookup_access(&state, &actor, &id).await?;
    let view = state.core.plan().find_issue(&access, issue_iid(&iid)?).await?;
    let mut issue = Issue::new(&view, &state.config);
    issue.subscribed = state.core.plan().issue_subscribed(&access, &view).await?;
    with_epics(&state, &actor, &[&view], std::slice::from_mut(&mut issue)).await?;
    Ok(Json(issue))
}

/// What creating or editing an issue takes.
#[derive(Debug, Default, Deserialize)]
pub struct IssueInput {
    title: Option<String>,
    description: Option<String>,
    confidential: Option<bool>,
    /// `YYYY-MM-DD`; empty removes it.
    due_date: Option<String>,
    /// A whole number (or its text); empty removes it.
    weight: Option<serde_json::Value>,
    discussion_locked: Option<bool>,
    labels: Option<Vec<String>>,
    #[serde(default)]
    add_labels: Vec<String>,
    #[serde(default)]
    remove_labels: Vec<String>,
    assignee_ids: Option<Vec<i64>>,
    assignee_id: Option<i64>,
    /// A milestone's id; `0`, empty or `null` takes the issue out of its milestone.
    #[serde(default, deserialize_with = "present")]
    milestone_id: Option<serde_json::Value>,
    /// An iteration's id (Gantry's; GitLab sets it through GraphQL); `0`, empty or `null` takes
    /// the issue out of its iteration.
    #[serde(default, deserialize_with = "present")]
    iteration_id: Option<serde_json::Value>,
    state_event: Option<String>,
}

/// A parameter that was sent, `null` included (`Some(Null)`), apart from one that was not.
pub(crate) fn present<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<serde_json::Value>, D::Error> {
    serde_json::Value::deserialize(deserializer).map(Some)
}

/// The milestone an issue's `milestone_id` asks for: `Some(None)` for none.
fn milestone_of(value: Option<serde_json::Value>) -> ApiResult<Option<Option<MilestoneId>>> {
    Ok(optional_id("milestone_id", value)?.map(|id| id.map(MilestoneId)))
}

/// An id parameter that may take something out: `Some(None)` for `0`, empty or `null`.
fn optional_id(field: &str, value: Option<serde_json::Value>) -> ApiResult<Option<Option<i64>>> {
    let invalid = || AppError::BadRequest(format!("{field} is invalid"));
    let id = match value {
        None => return Ok(None),
        Some(serde_json::Value::Null) => 0,
        Some(serde_json::Value::Number(n)) => n.as_i64().ok_or_else(invalid)?,
        Some(serde_json::Value::String(text)) if text.trim().is_empty() => 0,
        Some(serde_json::Value::String(text)) => text.trim().parse::<i64>().map_err(|_| invalid())?,
        Some(_) => return Err(invalid().into()),
    };
    match id {
        0 => Ok(Some(None)),
        id if id > 0 => Ok(Some(Some(id))),
        _ => Err(invalid().into()),
    }
}

impl IssueInput {
    fn changes(self) -> ApiResult<IssueChanges> {
        let invalid = || AppError::BadRequest("weight is invalid".to_owned());
        let weight = match self.weight {
            None | Some(serde_json::Value::Null) => None,
            Some(serde_json::Value::Number(n)) => Some(Some(n.as_i64().ok_or_else(invalid)?)),
            Some(serde_json::Value::String(text)) if text.trim().is_empty() => Some(None),
            Some(serde_json::Value::String(text)) => Some(Some(text.trim().parse::<i64>().map_err(|_| invalid())?)),
            Some(_) => return Err(invalid().into()),
        };
        let state_event = match self.state_event.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(value) => Some(
                StateEvent::parse(value)
                    .ok_or_else(|| AppError::BadRequest(format!("state_event does not have a valid value: {value}")))?,
            ),
        };
        let assignee_ids = self.assignee_ids.or(self.assignee_id.map(|id| vec![id]));
        let milestone_id = milestone_of(self.milestone_id)?;
        let iteration_id = optional_id("iteration_id", self.iteration_id)?.map(|id| id.map(IterationId));
        Ok(IssueChanges {
            title: self.title,
            description: self.description,
            confidential: self.confidential,
            due_date: self.due_date.map(|date| Some(date).filter(|d| !d.trim().is_empty())),
            weight,
            discussion_locked: self.discussion_locked,
            labels: self.labels,
            add_labels: self.add_labels,
            remove_labels: self.remove_labels,
            assignee_ids: assignee_ids.map(|ids| ids.into_iter().map(UserId).collect()),
            milestone_id,
            iteration_id,
            state_event,
            ..IssueChanges::default()
        })
    }
}

/// `POST /projects/:id/issues` (`title`, `description`, `labels`, `assignee_ids`,
/// `confidential`, `due_date`, `weight`, `discussion_locked`)
pub async fn create_issue(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
    ApiInput(input): ApiInput<IssueInput>,
) -> ApiResult<Response> {
    let access = lookup_access(&state, &actor, &id).await?;
    if input.title.is_none() {
        access.require(gantry_core::policy::ProjectAction::CreateIssue)?;
        return Err(AppError::BadRequest("title is missing".to_owned()).into());
    }
    let view = state.core.plan().create_issue(&access, &input.changes()?).await?;
    Ok((StatusCode::CREATED, Json(Issue::new(&view, &state.config))).into_response())
}

/// `PUT /projects/:id/issues/:issue_iid` (the fields of create, `state_event`, `add_labels`,
/// `remove_labels`)
pub async fn update_issue(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path((id, iid)): Path<(String, String)>,
    ApiInput(input): ApiInput<IssueInput>,
) -> ApiResult<Json<Issue>> {
    let access = lookup_access(&state, &actor, &id).await?;
    let view = state.core.plan().update_issue(&access, issue_iid(&iid)?, &input.changes()?).await?;
    Ok(Json(Issue::new(&view, &state.config)))
}

/// What a reorder takes: the issue to come after (`move_before_id`) and the one to come before
/// (`move_after_id`), by their global ids, as GitLab's.
#[derive(Debug, Default, Deserialize)]
pub struct ReorderParams {
    move_after_id: Option<i64>,
    move_before_id: Option<i64>,
}

/// `PUT /projects/:id/issues/:issue_iid/reorder` (`move_after_id`, `move_before_id`): its place
/// in boards and lists sorted by hand.
pub async fn reorder_issue(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path((id, iid)): Path<(String, String)>,
    ApiInput(params): ApiInput<ReorderParams>,
) -> ApiResult<Json<Issue>> {
    let access = lookup_access(&state, &actor, &id).await?;
    let iid = issue_iid(&iid)?;
    let issue = state.core.plan().find_issue(&access, iid).await?;
    access.require_edit_issue(&issue.facts())?;
    let id = |value: Option<i64>, name: &str| -> ApiResult<Option<IssueId>> {
        match value {
            None => Ok(None),
            Some(id) if id > 0 => Ok(Some(IssueId(id))),
            Some(id) => Err(AppError::BadRequest(format!("{name} must be an issue's id, not {id}")).into()),
        }
    };
    let (before, after) = (id(params.move_before_id, "move_before_id")?, id(params.move_after_id, "move_after_id")?);
    if before.is_none() && after.is_none() {
        return Err(
            AppError::BadRequest("move_after_id, move_before_id are missing, at least one is required".into()).into()
        );
    }
    let view = state.core.plan().reorder_issue(&access, iid, before, after).await?;
    Ok(Json(Issue::new(&view, &state.config)))
}

/// `GET /projects/:id/issues/:issue_iid/participants`: its author, assignees and commenters.
pub async fn list_issue_participants(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path((id, iid)): Path<(String, String)>,
) -> ApiResult<Json<Vec<crate::api::types::User>>> {
    let access = lookup_access(&state, &actor, &id).await?;
    let people = state.core.plan().issue_participants(&access, issue_iid(&iid)?).await?;
    Ok(Json(people.iter().map(|user| crate::api::types::User::new(user, &state.config, false)).collect()))
}

/// `DELETE /projects/:id/issues/:issue_iid` (Owners)
pub async fn delete_issue(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path((id, iid)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    let access = lookup_access(&state, &actor, &id).await?;
    state.core.plan().delete_issue(&access, issue_iid(&iid)?).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// What the time tracking routes take: a GitLab duration (`3h30m`, `1d 2h`) and a summary.
#[derive(Debug, Default, Deserialize)]
pub struct DurationInput {
    duration: Option<String>,
    summary: Option<String>,
}

impl DurationInput {
    fn seconds(&self) -> ApiResult<i64> {
        let text = self.duration.as_deref().unwrap_or("").trim();
        let (negative, unsigned) = match text.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, text),
        };
        let seconds = gantry_core::plan::quick_actions::duration(unsigned).ok_or_else(|| {
            crate::error::ApiError::from(AppError::BadRequest(format!(
                "duration '{text}' is not a time: use GitLab's form, such as 3h30m or 1d 2h"
            )))
        })?;
        Ok(if negative { -seconds } else { seconds })
    }
}

/// `GET /projects/:id/issues/:issue_iid/time_stats`
pub async fn time_stats(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path((id, iid)): Path<(String, String)>,
) -> ApiResult<Json<TimeStats>> {
    let access = lookup_access(&state, &actor, &id).await?;
    let view = state.core.plan().find_issue(&access, issue_iid(&iid)?).await?;
    Ok(Json(TimeStats::new(&view.issue)))
}

/// `POST /projects/:id/issues/:issue_iid/time_estimate` (`duration`)
pub async fn set_time_estimate(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path((id, iid)): Path<(String, String)>,
    ApiInput(input): ApiInput<DurationInput>,
) -> ApiResult<(StatusCode, Json<TimeStats>)> {
    let access = lookup_access(&state, &actor, &id).await?;
    // Rights before input: a Guest is refused, not told the duration is wrong.
    access.require(gantry_core::policy::ProjectAction::UpdateIssues)?;
    let view = state.core.plan().set_time_estimate(&access, issue_iid(&iid)?, input.seconds()?).await?;
    Ok((StatusCode::CREATED, Json(TimeStats::new(&view.issue))))
}

/// `POST /projects/:id/issues/:issue_iid/reset_time_estimate`
pub async fn reset_time_estimate(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path((id, iid)): Path<(String, String)>,
) -> ApiResult<(StatusCode, Json<TimeStats>)> {
    let access = lookup_access(&state, &actor, &id).await?;
    let view = state.core.plan().set_time_estimate(&access, issue_iid(&iid)?, 0).await?;
    Ok((StatusCode::CREATED, Json(TimeStats::new(&view.issue))))
}

/// `POST /projects/:id/issues/:issue_iid/add_spent_time` (`duration`, negative to take off;
/// `summary`)
pub async fn add_spent_time(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path((id, iid)): Path<(String, String)>,
    ApiInput(input): ApiInput<DurationInput>,
) -> ApiResult<(StatusCode, Json<TimeStats>)> {
    let access = lookup_access(&state, &actor, &id).await?;
    access.require(gantry_core::policy::ProjectAction::UpdateIssues)?;
    let summary = input.summary.clone().unwrap_or_default();
    let view = state.core.plan().add_spent_time(&access, issue_iid(&iid)?, input.seconds()?, None, &summary).await?;
    Ok((StatusCode::CREATED, Json(TimeStats::new(&view.issue))))
}

/// `POST /projects/:id/issues/:issue_iid/reset_spent_time`
pub async fn reset_spent_time(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path((id, iid)): Path<(String, String)>,
) -> ApiResult<(StatusCode, Json<TimeStats>)> {
    let access = lookup_access(&state, &actor, &id).await?;
    let view = state.core.plan().reset_spent_time(&access, issue_iid(&iid)?).await?;
    Ok((StatusCode::CREATED, Json(TimeStats::new(&view.issue))))
}
