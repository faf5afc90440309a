//! GitLab's events API: `GET /events` (what the caller did, or with `scope=all` everything in
//! the projects they see), `GET /users/:id/events` (what someone did, among what the caller may
//! see) and `GET /projects/:id/events`; filters `action`, `target_type`, `before`, `after` and
//! `sort`, GitLab's shapes (a push's `push_data`, a comment's `note`) and pagination.

use axum::extract::{Path, Query, State};
use axum::http::Uri;
use axum::response::Response;
use gantry_core::activity::{ActivityOf, ActivityQuery, ActivityView};
use serde::{Deserialize, Serialize};

use super::projects::lookup_access;
use super::types::User;
use super::{ApiInput, ApiResult, PageParams, paginated, sort_direction};
use crate::auth::ApiActor;
use crate::error::AppError;
use crate::time_format::iso8601;
use crate::{AppState, WebConfig};

/// The filters every event list takes.
#[derive(Debug, Default, Deserialize)]
pub struct EventParams {
    action: Option<String>,
    target_type: Option<String>,
    before: Option<String>,
    after: Option<String>,
    sort: Option<String>,
    scope: Option<String>,
}

impl EventParams {
    fn query(&self) -> ApiResult<ActivityQuery> {
        let given =
            |value: &Option<String>| value.as_deref().map(str::trim).filter(|v| !v.is_empty()).map(str::to_owned);
        let sort = sort_direction(self.sort.as_deref(), gantry_core::SortDirection::Desc)?;
        Ok(ActivityQuery {
            action: given(&self.action),
            target_type: given(&self.target_type).map(|kind| kind.to_lowercase()),
            before: given(&self.before),
            after: given(&self.after),
            ascending: sort == gantry_core::SortDirection::Asc,
        })
    }
}

/// An event, as GitLab's API shows it.
#[derive(Debug, Serialize)]
pub struct Event {
    pub id: i64,
    pub project_id: i64,
    pub action_name: &'static str,
    pub target_id: Option<i64>,
    pub target_iid: Option<i64>,
    pub target_type: Option<String>,
    pub author_id: Option<i64>,
    pub target_title: Option<String>,
    pub created_at: String,
    pub author: Option<User>,
    pub author_username: Option<String>,
    pub imported: bool,
    pub imported_from: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub push_data: Option<PushData>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<EventNote>,
}

/// What a push changed: one ref.
#[derive(Debug, Serialize)]
pub struct PushData {
    pub commit_count: i64,
    /// `pushed`, `created` or `removed`.
    pub action: &'static str,
    /// `branch` or `tag`.
    pub ref_type: &'static str,
    pub commit_from: Option<String>,
    pub commit_to: Option<String>,
    #[serde(rename = "ref")]
    pub reference: String,
    pub commit_title: Option<String>,
    pub ref_count: Option<i64>,
}

/// The comment of a `commented on` event.
#[derive(Debug, Serialize)]
pub struct EventNote {
    pub id: i64,
    pub body: String,
    pub author: Option<User>,
    pub created_at: String,
    pub noteable_type: &'static str,
    pub noteable_iid: Option<i64>,
}

fn is_zero(sha: &str) -> bool {
    sha.bytes().all(|b| b == b'0')
}

impl Event {
    pub fn new(view: &ActivityView, config: &WebConfig) -> Event {
        let event = &view.event;
        let author = event.author.as_ref().map(|user| User::new(user, config, false));
        let push_data = event.push.as_ref().map(|(name, old, new)| {
            let (ref_type, short) = match (name.strip_prefix("refs/heads/"), name.strip_prefix("refs/tags/")) {
                (Some(branch), _) => ("branch", branch),
                (_, Some(tag)) => ("tag", tag),
                _ => ("branch", name.as_str()),
            };
            let action = if is_zero(old) {
                "created"
            } else if is_zero(new) {
                "removed"
            } else {
                "pushed"
            };
            PushData {
                commit_count: i64::from(!is_zero(new)),
                action,
                ref_type,
                commit_from: (!is_zero(old)).then(|| old.clone()),
                commit_to: (!is_zero(new)).then(|| new.clone()),
                reference: short.to_owned(),
                commit_title: None,
                ref_count: None,
            }
        });
        let note = match (event.target_type.as_deref(), event.target_id, &event.note_body) {
            (Some("Note"), Some(id), Some(body)) => Some(EventNote {
                id,
                body: body.clone(),
                author: event.author.as_ref().map(|user| User::new(user, config, false)),
                created_at: iso8601(event.created_at),
                noteable_type: "Issue",
                noteable_iid: event.target_iid,
            }),
            _ => None,
        };
        Event {
            id: event.id,
            project_id: event.project_id.0,
            action_name: view.action_name(),
            target_id: event.target_id,
            target_iid: event.target_iid,
            target_type: event.target_type.clone(),
            author_id: event.author_id.map(|id| id.0),
            target_title: event.target_title.clone(),
            created_at: iso8601(event.created_at),
            author_username: event.author.as_ref().map(|user| user.username.clone()),
            author,
            imported: false,
            imported_from: "none",
            push_data,
            note,
        }
    }
}

async fn list(
    state: &AppState,
    uri: &Uri,
    of: ActivityOf<'_>,
    params: &EventParams,
    page: &PageParams,
) -> ApiResult<Response> {
    let query = params.query()?;
    let page = page.resolve()?;
    let (events, total) = state.core.list_activity(of, &query, page.db()).await?;
    let items: Vec<Event> = events.iter().map(|view| Event::new(view, &state.config)).collect();
    Ok(paginated(&state.config.external_url, uri, items, total, page))
}

/// `GET /events`: what the caller did (`scope=all`: everything in the projects they see).
pub async fn list_own_events(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    uri: Uri,
    Query(page): Query<PageParams>,
    ApiInput(params): ApiInput<EventParams>,
) -> ApiResult<Response> {
    let user = actor.require_user()?.id;
    let of = match params.scope.as_deref().map(str::trim) {
        Some("all") => ActivityOf::Visible(&actor),
        None | Some("") => ActivityOf::User(&actor, user),
        Some(other) => return Err(AppError::BadRequest(format!("scope must be all, not '{other}'")).into()),
    };
    list(&state, &uri, of, &params, &page).await
}

/// `GET /users/:id/events`: what someone did (by id or username), among what the caller sees.
pub async fn list_user_events(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
    uri: Uri,
    Query(page): Query<PageParams>,
    ApiInput(params): ApiInput<EventParams>,
) -> ApiResult<Response> {
    let user = state.core.manage().find_user_by_reference(&actor, &id).await?;
    list(&state, &uri, ActivityOf::User(&actor, user.id), &params, &page).await
}

/// `GET /projects/:id/events`
pub async fn list_project_events(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
    uri: Uri,
    Query(page): Query<PageParams>,
    ApiInput(params): ApiInput<EventParams>,
) -> ApiResult<Response> {
    let access = lookup_access(&state, &actor, &id).await?;
    list(&state, &uri, ActivityOf::Project(&access), &params, &page).await
}
