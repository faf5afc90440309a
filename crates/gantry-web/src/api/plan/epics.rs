//! `/groups/:id/epics`, shaped like GitLab's epics API: lists (filters `state`, `labels`,
//! `search`, `author_id`/`author_username`, `confidential`, `iids[]`, `order_by`, `sort`,
//! `include_descendant_groups`, true unless said), one
//! epic by number, create (`title`, `description`, `labels`, `confidential`,
//! `start_date_is_fixed`, `start_date_fixed`, `due_date_is_fixed`, `due_date_fixed`,
//! `parent_id`), edit (the same, `add_labels`, `remove_labels`, `state_event` `close` or
//! `reopen`), delete; an epic's issues (each with its `epic_issue_id`), assigning an issue by id
//! and removing one by `epic_issue_id` (each answering the link with its issue and epic); child
//! epics: listed, created by title, assigned and removed by id. Core decides who may.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use gantry_core::CoreError;
use gantry_core::plan::epics::{EpicInput, EpicOrder, EpicQuery, EpicStateEvent, EpicView};
use gantry_core::plan::issues::{IssueView, UserRef};
use gantry_core::policy::{GroupAccess, GroupAction};
use gantry_types::{EpicId, IssueId, IssueState, UserId};
use serde::{Deserialize, Serialize};

use super::types::{Issue, References};
use crate::api::groups::lookup_group_access;
use crate::api::types::User;
use crate::api::{ApiInput, ApiResult, PageParams, paginated};
use crate::auth::ApiActor;
use crate::error::AppError;
use crate::time_format::iso8601;
use crate::{AppState, WebConfig};

/// GitLab's epic.
#[derive(Debug, Serialize)]
pub struct Epic {
    pub id: i64,
    pub iid: i64,
    pub group_id: i64,
    pub parent_id: Option<i64>,
    pub parent_iid: Option<i64>,
    pub title: String,
    pub description: String,
    pub state: &'static str,
    pub confidential: bool,
    pub web_url: String,
    pub reference: String,
    pub references: References,
    pub author: Option<User>,
    pub start_date: Option<String>,
    pub start_date_is_fixed: bool,
    pub start_date_fixed: Option<String>,
    pub start_date_from_milestones: Option<String>,
    pub start_date_from_inherited_source: Option<String>,
    pub end_date: Option<String>,
    pub due_date: Option<String>,
    pub due_date_is_fixed: bool,
    pub due_date_fixed: Option<String>,
    pub due_date_from_milestones: Option<String>,
    pub due_date_from_inherited_source: Option<String>,
    pub created_at: String,
    pub updated_at: String,
    pub closed_at: Option<String>,
    pub labels: Vec<String>,
    pub upvotes: i64,
    pub downvotes: i64,
    #[serde(rename = "_links")]
    pub links: EpicLinks,
}

/// Where the epic's resources are.
#[derive(Debug, Serialize)]
pub struct EpicLinks {
    #[serde(rename = "self")]
    pub self_url: String,
    pub epic_issues: String,
    pub group: String,
    pub parent: Option<String>,
}

impl Epic {
    pub fn new(view: &EpicView, config: &WebConfig) -> Epic {
        let epic = &view.epic;
        let group = format!("{}/api/v4/groups/{}", config.external_url, epic.group_id.0);
        Epic {
            id: epic.id.0,
            iid: epic.iid,
            group_id: epic.group_id.0,
            parent_id: epic.parent_id.map(|id| id.0),
            parent_iid: epic.parent_iid,
            title: epic.title.clone(),
            description: epic.description.clone(),
            state: epic.state.as_str(),
            confidential: epic.confidential,
            web_url: format!("{}/{}/-/epics/{}", config.external_url, epic.group_path, epic.iid),
            reference: format!("&{}", epic.iid),
            references: References {
                short: format!("&{}", epic.iid),
                relative: format!("&{}", epic.iid),
                full: format!("{}&{}", epic.group_path, epic.iid),
            },
            author: view.author.as_ref().map(|user| User::new(user, config, false)),
            start_date: epic.start_date().map(str::to_owned),
            start_date_is_fixed: epic.start_date_is_fixed,
            start_date_fixed: epic.start_date_fixed.clone(),
            start_date_from_milestones: epic.start_date_inherited.clone(),
            start_date_from_inherited_source: epic.start_date_inherited.clone(),
            end_date: epic.due_date().map(str::to_owned),
            due_date: epic.due_date().map(str::to_owned),
            due_date_is_fixed: epic.due_date_is_fixed,
            due_date_fixed: epic.due_date_fixed.clone(),
            due_date_from_milestones: epic.due_date_inherited.clone(),
            due_date_from_inherited_source: epic.due_date_inherited.clone(),
            created_at: iso8601(epic.created_at),
            updated_at: iso8601(epic.updated_at),
            closed_at: epic.closed_at.map(iso8601),
            labels: view.labels.iter().map(|label| label.title.clone()).collect(),
            upvotes: 0,
            downvotes: 0,
            links: EpicLinks {
                self_url: format!("{group}/epics/{}", epic.iid),
                epic_issues: format!("{group}/epics/{}/issues", epic.iid),
                parent: epic.parent_iid.map(|iid| format!("{group}/epics/{iid}")),
                group,
            },
        }
    }
}

/// An issue of an epic, with its place in it.
#[derive(Debug, Serialize)]
pub struct EpicIssue {
    #[serde(flatten)]
    pub issue: Issue,
    pub epic_issue_id: i64,
}

/// An issue's place in an epic, as assigning and removing answer it.
#[derive(Debug, Serialize)]
pub struct EpicIssueLink {
    pub id: i64,
    pub upvotes: i64,
    pub downvotes: i64,
    pub epic: Epic,
    pub issue: Issue,
}

fn link(state: &AppState, id: i64, issue: &IssueView, epic: &EpicView) -> EpicIssueLink {
    EpicIssueLink {
        id,
        upvotes: 0,
        downvotes: 0,
        epic: Epic::new(epic, &state.config),
        issue: Issue::new(issue, &state.config),
    }
}

/// An epic's number from the path; anything else names no epic.
fn epic_iid(value: &str) -> ApiResult<i64> {
    value.parse::<i64>().ok().filter(|iid| *iid > 0).ok_or_else(|| CoreError::NotFound("epic").into())
}

/// A positive id from the path; anything else names nothing.
fn path_id(value: &str, what: &'static str) -> ApiResult<i64> {
    value.parse::<i64>().ok().filter(|id| *id > 0).ok_or_else(|| CoreError::NotFound(what).into())
}

fn bad(message: String) -> crate::error::ApiError {
    AppError::BadRequest(message).into()
}

/// The filters of GitLab's epic list.
#[derive(Debug, Default, Deserialize)]
pub struct EpicListParams {
    state: Option<String>,
    labels: Option<Vec<String>>,
    search: Option<String>,
    author_id: Option<String>,
    author_username: Option<String>,
    confidential: Option<bool>,
    #[serde(default)]
    iids: Vec<i64>,
    order_by: Option<String>,
    sort: Option<String>,
    /// GitLab's default: true.
    include_descendant_groups: Option<bool>,
}

impl EpicListParams {
    fn query(&self) -> ApiResult<EpicQuery> {
        let state = match self.state.as_deref().map(str::trim) {
            None | Some("" | "all") => None,
            Some("opened") => Some(IssueState::Opened),
            Some("closed") => Some(IssueState::Closed),
            Some(value) => {
                return Err(bad(format!("state does not have a valid value: {value} (opened, closed or all)")));
            }
        };
        let author = match (self.author_id.as_deref().map(str::trim), self.author_username.as_deref().map(str::trim)) {
            (Some(id), _) if !id.is_empty() => {
                Some(UserRef::Id(UserId(id.parse().map_err(|_| bad("author_id is invalid".to_owned()))?)))
            }
            (_, Some(name)) if !name.is_empty() => Some(UserRef::Username(name.to_owned())),
            _ => None,
        };
        let order_by = match self.order_by.as_deref().map(str::trim) {
            None | Some("") => EpicOrder::CreatedAt,
            Some(value) => EpicOrder::parse(value).ok_or_else(|| {
                bad(format!(
                    "order_by must be one of created_at, updated_at, title, start_date, end_date, not '{value}'"
                ))
            })?,
        };
        let ascending = match self.sort.as_deref().map(str::trim) {
            None | Some("" | "desc") => false,
            Some("asc") => true,
            Some(value) => return Err(bad(format!("sort must be asc or desc, not '{value}'"))),
        };
        Ok(EpicQuery {
            state,
            labels: self.labels.clone().unwrap_or_default(),
            search: self.search.clone(),
            author,
            confidential: self.confidential,
            iids: self.iids.clone(),
            order_by,
            ascending,
            include_descendant_groups: self.include_descendant_groups.unwrap_or(true),
        })
    }
}

/// What creating or editing an epic takes.
#[derive(Debug, Default, Deserialize)]
pub struct EpicParams {
    title: Option<String>,
    description: Option<String>,
    confidential: Option<bool>,
    labels: Option<Vec<String>>,
    #[serde(default)]
    add_labels: Vec<String>,
    #[serde(default)]
    remove_labels: Vec<String>,
    start_date_is_fixed: Option<bool>,
    /// `YYYY-MM-DD`; empty removes it.
    start_date_fixed: Option<String>,
    due_date_is_fixed: Option<bool>,
    /// `YYYY-MM-DD`; empty removes it.
    due_date_fixed: Option<String>,
    /// An epic's id; `0` or empty: no parent.
    parent_id: Option<String>,
    state_event: Option<String>,
}

impl EpicParams {
    fn input(self) -> ApiResult<EpicInput> {
        let state_event =
            match self.state_event.as_deref().map(str::trim) {
                None | Some("") => None,
                Some(value) => Some(EpicStateEvent::parse(value).ok_or_else(|| {
                    bad(format!("state_event does not have a valid value: {value} (close or reopen)"))
                })?),
            };
        let parent_id = match self.parent_id.as_deref().map(str::trim) {
            None => None,
            Some("" | "0" | "null") => Some(None),
            Some(value) => Some(Some(EpicId(
                value.parse::<i64>().ok().filter(|id| *id > 0).ok_or_else(|| bad("parent_id is invalid".to_owned()))?,
            ))),
        };
        let date = |value: Option<String>| value.map(|date| Some(date).filter(|d| !d.trim().is_empty()));
        Ok(EpicInput {
            title: self.title,
            description: self.description,
            confidential: self.confidential,
            start_date_is_fixed: self.start_date_is_fixed,
            start_date_fixed: date(self.start_date_fixed),
            due_date_is_fixed: self.due_date_is_fixed,
            due_date_fixed: date(self.due_date_fixed),
            labels: self.labels,
            add_labels: self.add_labels,
            remove_labels: self.remove_labels,
            parent_id,
            state_event,
        })
    }
}

/// Answers one epic, its parent left out when the caller may not see it.
async fn one(state: &AppState, access: &GroupAccess, epic: EpicView) -> ApiResult<Epic> {
    let mut epics = [epic];
    state.core.plan().hide_unseen_parents(access, &mut epics).await?;
    let [epic] = epics;
    Ok(Epic::new(&epic, &state.config))
}

async fn page_of_epics(
    state: &AppState,
    access: &GroupAccess,
    uri: &Uri,
    epics: Vec<EpicView>,
    page: &PageParams,
) -> ApiResult<Response> {
    let page = page.resolve()?;
    let total = i64::try_from(epics.len()).unwrap_or(i64::MAX);
    let offset = usize::try_from(page.db().offset).unwrap_or(usize::MAX);
    let limit = usize::try_from(page.db().limit).unwrap_or(usize::MAX);
    let mut shown: Vec<EpicView> = epics.into_iter().skip(offset).take(limit).collect();
    state.core.plan().hide_unseen_parents(access, &mut shown).await?;
    let items: Vec<Epic> = shown.iter().map(|e| Epic::new(e, &state.config)).collect();
    Ok(paginated(&state.config.external_url, uri, items, total, page))
}

async fn created(
    state: &AppState,
    access: &GroupAccess,
    params: EpicParams,
    parent: Option<i64>,
) -> ApiResult<Response> {
    access.require(GroupAction::ManageEpics)?;
    if params.title.is_none() {
        return Err(bad("title is missing".to_owned()));
    }
    let input = params.input()?;
    let plan = state.core.plan();
    let epic = match parent {
        Some(iid) => plan.create_child_epic(access, iid, &input).await?,
        None => plan.create_epic(access, &input).await?,
    };
    Ok((StatusCode::CREATED, Json(one(state, access, epic).await?)).into_response())
}

/// `GET /groups/:id/epics`
pub async fn list_epics(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
    uri: Uri,
    Query(page): Query<PageParams>,
    ApiInput(params): ApiInput<EpicListParams>,
) -> ApiResult<Response> {
    let access = lookup_group_access(&state, &actor, &id).await?;
    let query = params.query()?;
    let epics = state.core.plan().list_epics(&access, &query).await?;
    page_of_epics(&state, &access, &uri, epics, &page).await
}

/// `POST /groups/:id/epics`
pub async fn create_epic(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
    ApiInput(params): ApiInput<EpicParams>,
) -> ApiResult<Response> {
    let access = lookup_group_access(&state, &actor, &id).await?;
    created(&state, &access, params, None).await
}

/// `GET /groups/:id/epics/:epic_iid`
pub async fn get_epic(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path((id, iid)): Path<(String, String)>,
) -> ApiResult<Json<Epic>> {
    let access = lookup_group_access(&state, &actor, &id).await?;
    let epic = state.core.plan().find_epic(&access, epic_iid(&iid)?).await?;
    Ok(Json(one(&state, &access, epic).await?))
}

/// `PUT /groups/:id/epics/:epic_iid`
pub async fn update_epic(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path((id, iid)): Path<(String, String)>,
    ApiInput(params): ApiInput<EpicParams>,
) -> ApiResult<Json<Epic>> {
    let access = lookup_group_access(&state, &actor, &id).await?;
    let iid = epic_iid(&iid)?;
    let plan = state.core.plan();
    plan.find_epic(&access, iid).await?;
    access.require(GroupAction::ManageEpics)?;
    let epic = plan.update_epic(&access, iid, &params.input()?).await?;
    Ok(Json(one(&state, &access, epic).await?))
}

/// `DELETE /groups/:id/epics/:epic_iid`
pub async fn delete_epic(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path((id, iid)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    let access = lookup_group_access(&state, &actor, &id).await?;
    state.core.plan().delete_epic(&access, epic_iid(&iid)?).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /groups/:id/epics/:epic_iid/issues`: the epic's issues the caller may see.
pub async fn list_epic_issues(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path((id, iid)): Path<(String, String)>,
    uri: Uri,
    Query(page): Query<PageParams>,
) -> ApiResult<Response> {
    let access = lookup_group_access(&state, &actor, &id).await?;
    let plan = state.core.plan();
    let epic = plan.find_epic(&access, epic_iid(&iid)?).await?;
    let page = page.resolve()?;
    let (issues, total) = plan.epic_issues(&access, &epic.epic, page.db()).await?;
    let items: Vec<EpicIssue> = issues
        .iter()
        .map(|(place, view)| EpicIssue { issue: Issue::new(view, &state.config), epic_issue_id: place.id })
        .collect();
    Ok(paginated(&state.config.external_url, &uri, items, total, page))
}

/// `POST /groups/:id/epics/:epic_iid/issues/:issue_id`: puts the issue (by id) in the epic.
pub async fn add_epic_issue(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path((id, iid, issue)): Path<(String, String, String)>,
) -> ApiResult<Response> {
    let access = lookup_group_access(&state, &actor, &id).await?;
    let issue = IssueId(path_id(&issue, "issue")?);
    let (place, issue, epic) = state.core.plan().add_epic_issue(&access, epic_iid(&iid)?, issue).await?;
    Ok((StatusCode::CREATED, Json(link(&state, place.id, &issue, &epic))).into_response())
}

/// `DELETE /groups/:id/epics/:epic_iid/issues/:epic_issue_id`: takes the issue out of the epic.
pub async fn remove_epic_issue(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path((id, iid, place)): Path<(String, String, String)>,
) -> ApiResult<Json<EpicIssueLink>> {
    let access = lookup_group_access(&state, &actor, &id).await?;
    let place = path_id(&place, "epic issue")?;
    let (place, issue, epic) = state.core.plan().remove_epic_issue(&access, epic_iid(&iid)?, place).await?;
    Ok(Json(link(&state, place.id, &issue, &epic)))
}

/// `GET /groups/:id/epics/:epic_iid/epics`: the child epics the caller may see.
pub async fn list_child_epics(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path((id, iid)): Path<(String, String)>,
    uri: Uri,
    Query(page): Query<PageParams>,
) -> ApiResult<Response> {
    let access = lookup_group_access(&state, &actor, &id).await?;
    let plan = state.core.plan();
    let epic = plan.find_epic(&access, epic_iid(&iid)?).await?;
    let children = plan.child_epics(&access, &epic.epic).await?;
    page_of_epics(&state, &access, &uri, children, &page).await
}

/// `POST /groups/:id/epics/:epic_iid/epics`: a new epic of the group under this one (`title`,
/// and the fields of create).
pub async fn create_child_epic(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path((id, iid)): Path<(String, String)>,
    ApiInput(params): ApiInput<EpicParams>,
) -> ApiResult<Response> {
    let access = lookup_group_access(&state, &actor, &id).await?;
    let iid = epic_iid(&iid)?;
    state.core.plan().find_epic(&access, iid).await?;
    created(&state, &access, params, Some(iid)).await
}

/// `POST /groups/:id/epics/:epic_iid/epics/:child_epic_id`: puts an epic (by id) under this one.
pub async fn add_child_epic(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path((id, iid, child)): Path<(String, String, String)>,
) -> ApiResult<Response> {
    let access = lookup_group_access(&state, &actor, &id).await?;
    let child = EpicId(path_id(&child, "epic")?);
    let epic = state.core.plan().add_child_epic(&access, epic_iid(&iid)?, child).await?;
    Ok((StatusCode::CREATED, Json(one(&state, &access, epic).await?)).into_response())
}

/// `DELETE /groups/:id/epics/:epic_iid/epics/:child_epic_id`: the epic goes to the top.
pub async fn remove_child_epic(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path((id, iid, child)): Path<(String, String, String)>,
) -> ApiResult<Json<Epic>> {
    let access = lookup_group_access(&state, &actor, &id).await?;
    let child = EpicId(path_id(&child, "epic")?);
    let epic = state.core.plan().remove_child_epic(&access, epic_iid(&iid)?, child).await?;
    Ok(Json(Epic::new(&epic, &state.config)))
}
