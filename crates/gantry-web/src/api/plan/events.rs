//! An issue's resource events, shaped like GitLab's (`resource_label_events`,
//! `resource_milestone_events`, `resource_iteration_events`, `resource_weight_events`, `resource_state_events`: lists and one
//! by id), and the merge requests that close or name it (`closed_by`,
//! `related_merge_requests`: none until merge requests exist). Core decides who sees them.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::Uri;
use axum::response::Response;
use gantry_core::CoreError;
use gantry_core::plan::events::{EventKind, ResourceEventView};
use serde_json::{Value, json};

use super::issue_iid;
use super::types::{Iteration, Label, Milestone};
use crate::api::projects::lookup_access;
use crate::api::types::User;
use crate::api::{ApiResult, PageParams, paginated};
use crate::auth::ApiActor;
use crate::time_format::iso8601;
use crate::{AppState, WebConfig};

/// GitLab's shape of an event of its kind.
fn event_json(view: &ResourceEventView, kind: EventKind, config: &WebConfig) -> Value {
    let event = &view.event;
    let mut value = json!({
        "id": event.id,
        "user": view.user.as_ref().map(|user| User::new(user, config, false)),
        "created_at": iso8601(event.created_at),
    });
    let fields = match kind {
        EventKind::Label => json!({
            "resource_type": "Issue",
            "resource_id": event.issue_id.0,
            "label": view.label.as_ref().map(Label::new),
            "action": event.action,
        }),
        EventKind::Milestone => json!({
            "resource_type": "Issue",
            "resource_id": event.issue_id.0,
            "milestone": view.milestone.as_ref().map(|milestone| Milestone::new(milestone, config)),
            "action": event.action,
        }),
        EventKind::Iteration => json!({
            "resource_type": "Issue",
            "resource_id": event.issue_id.0,
            "iteration": view.iteration.as_ref().map(|iteration| Iteration::new(iteration, config)),
            "action": event.action,
        }),
        EventKind::Weight => json!({"issue_id": event.issue_id.0, "weight": event.weight}),
        EventKind::State => json!({
            "resource_type": "Issue",
            "resource_id": event.issue_id.0,
            "state": event.state,
            "source_commit": null,
            "source_merge_request": null,
        }),
    };
    if let (Value::Object(all), Value::Object(fields)) = (&mut value, fields) {
        all.extend(fields);
    }
    value
}

async fn list_events(
    state: AppState,
    actor: gantry_core::Actor,
    (id, iid): (String, String),
    uri: Uri,
    page: PageParams,
    kind: EventKind,
) -> ApiResult<Response> {
    let access = lookup_access(&state, &actor, &id).await?;
    let iid = issue_iid(&iid)?;
    let page = page.resolve()?;
    let (events, total) = state.core.plan().list_resource_events(&access, iid, kind, page.db()).await?;
    let items: Vec<Value> = events.iter().map(|event| event_json(event, kind, &state.config)).collect();
    Ok(paginated(&state.config.external_url, &uri, items, total, page))
}

async fn get_event(
    state: AppState,
    actor: gantry_core::Actor,
    (id, iid, event): (String, String, String),
    kind: EventKind,
) -> ApiResult<Json<Value>> {
    let access = lookup_access(&state, &actor, &id).await?;
    let iid = issue_iid(&iid)?;
    let event: i64 = event.parse().map_err(|_| CoreError::NotFound("resource event"))?;
    let view = state.core.plan().find_resource_event(&access, iid, kind, event).await?;
    Ok(Json(event_json(&view, kind, &state.config)))
}

macro_rules! event_routes {
    ($($kind:ident: $list:ident, $get:ident, $words:literal;)*) => {$(
        #[doc = concat!("`GET /projects/:id/issues/:issue_iid/resource_", $words, "_events`")]
        pub async fn $list(
            State(state): State<AppState>,
            ApiActor(actor): ApiActor,
            Path(path): Path<(String, String)>,
            uri: Uri,
            Query(page): Query<PageParams>,
        ) -> ApiResult<Response> {
            list_events(state, actor, path, uri, page, EventKind::$kind).await
        }

        #[doc = concat!("`GET /projects/:id/issues/:issue_iid/resource_", $words, "_events/:id`")]
        pub async fn $get(
            State(state): State<AppState>,
            ApiActor(actor): ApiActor,
            Path(path): Path<(String, String, String)>,
        ) -> ApiResult<Json<Value>> {
            get_event(state, actor, path, EventKind::$kind).await
        }
    )*};
}

event_routes! {
    Label: list_label_events, get_label_event, "label";
    Milestone: list_milestone_events, get_milestone_event, "milestone";
    Iteration: list_iteration_events, get_iteration_event, "iteration";
    Weight: list_weight_events, get_weight_event, "weight";
    State: list_state_events, get_state_event, "state";
}

/// `GET /projects/:id/issues/:issue_iid/closed_by` and `…/related_merge_requests`: the merge
/// requests that close or name the issue — none, until merge requests exist.
pub async fn list_issue_merge_requests(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path((id, iid)): Path<(String, String)>,
) -> ApiResult<Json<Vec<Value>>> {
    let access = lookup_access(&state, &actor, &id).await?;
    state.core.plan().find_issue(&access, issue_iid(&iid)?).await?;
    Ok(Json(Vec::new()))
}
