//! Linked issues, shaped like GitLab's issue links API (`/projects/:id/issues/:issue_iid/links`:
//! the linked issues with `issue_link_id` and `link_type`; one link; link with
//! `target_project_id`, `target_issue_iid` and `link_type`; unlink). Core decides.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use gantry_core::CoreError;
use gantry_core::plan::links::{IssueLinkView, LinkType};
use serde::{Deserialize, Serialize};

use super::issue_iid;
use super::types::Issue;
use crate::api::projects::lookup_access;
use crate::api::{ApiInput, ApiResult};
use crate::auth::ApiActor;
use crate::error::AppError;
use crate::time_format::iso8601;
use crate::{AppState, WebConfig};

/// A linked issue in a list: the issue with its link.
#[derive(Debug, Serialize)]
pub struct LinkedIssue {
    #[serde(flatten)]
    pub issue: Issue,
    pub issue_link_id: i64,
    pub link_type: &'static str,
    pub link_created_at: String,
    pub link_updated_at: String,
}

/// A link: the issue it was read from, the other, and how the first stands to the second.
#[derive(Debug, Serialize)]
pub struct IssueLink {
    pub source_issue: Issue,
    pub target_issue: Issue,
    pub link_type: &'static str,
}

impl IssueLink {
    fn new(view: &IssueLinkView, config: &WebConfig) -> IssueLink {
        IssueLink {
            source_issue: Issue::new(&view.this, config),
            target_issue: Issue::new(&view.other, config),
            link_type: view.link_type.as_str(),
        }
    }
}

fn link_id(value: &str) -> ApiResult<i64> {
    value.parse().map_err(|_| CoreError::NotFound("issue link").into())
}

/// `GET /projects/:id/issues/:issue_iid/links`
pub async fn list_issue_links(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path((id, iid)): Path<(String, String)>,
) -> ApiResult<Json<Vec<LinkedIssue>>> {
    let access = lookup_access(&state, &actor, &id).await?;
    let links = state.core.plan().list_issue_links(&access, issue_iid(&iid)?).await?;
    Ok(Json(
        links
            .iter()
            .map(|view| LinkedIssue {
                issue: Issue::new(&view.other, &state.config),
                issue_link_id: view.link.id,
                link_type: view.link_type.as_str(),
                link_created_at: iso8601(view.link.created_at),
                link_updated_at: iso8601(view.link.updated_at),
            })
            .collect(),
    ))
}

/// `GET /projects/:id/issues/:issue_iid/links/:issue_link_id`
pub async fn get_issue_link(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path((id, iid, link)): Path<(String, String, String)>,
) -> ApiResult<Json<IssueLink>> {
    let access = lookup_access(&state, &actor, &id).await?;
    let view = state.core.plan().find_issue_link(&access, issue_iid(&iid)?, link_id(&link)?).await?;
    Ok(Json(IssueLink::new(&view, &state.config)))
}

/// A number or a string, as clients send ids.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum IdOrText {
    Number(i64),
    Text(String),
}

impl IdOrText {
    fn text(&self) -> String {
        match self {
            IdOrText::Number(n) => n.to_string(),
            IdOrText::Text(text) => text.clone(),
        }
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct LinkInput {
    target_project_id: Option<IdOrText>,
    target_issue_iid: Option<IdOrText>,
    link_type: Option<String>,
}

/// `POST /projects/:id/issues/:issue_iid/links` (`target_project_id`, `target_issue_iid`,
/// `link_type`: `relates_to`, `blocks` or `is_blocked_by`)
pub async fn create_issue_link(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path((id, iid)): Path<(String, String)>,
    ApiInput(input): ApiInput<LinkInput>,
) -> ApiResult<Response> {
    let access = lookup_access(&state, &actor, &id).await?;
    access.require(gantry_core::policy::ProjectAction::UpdateIssues)?;
    let iid = issue_iid(&iid)?;
    let (Some(project), Some(target)) = (&input.target_project_id, &input.target_issue_iid) else {
        return Err(AppError::BadRequest("target_project_id and target_issue_iid are required".to_owned()).into());
    };
    let target: i64 = target
        .text()
        .trim()
        .parse()
        .map_err(|_| AppError::BadRequest("target_issue_iid must be an issue's number".to_owned()))?;
    let link_type = LinkType::parse(input.link_type.as_deref().unwrap_or(""))
        .ok_or_else(|| AppError::BadRequest("link_type must be relates_to, blocks or is_blocked_by".to_owned()))?;
    let view = state.core.plan().link_issues(&access, iid, &project.text(), target, link_type).await?;
    Ok((StatusCode::CREATED, Json(IssueLink::new(&view, &state.config))).into_response())
}

/// `DELETE /projects/:id/issues/:issue_iid/links/:issue_link_id`
pub async fn delete_issue_link(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path((id, iid, link)): Path<(String, String, String)>,
) -> ApiResult<Json<IssueLink>> {
    let access = lookup_access(&state, &actor, &id).await?;
    let view = state.core.plan().unlink_issues(&access, issue_iid(&iid)?, link_id(&link)?).await?;
    Ok(Json(IssueLink::new(&view, &state.config)))
}
