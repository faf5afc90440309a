//! An issue's discussions, shaped like GitLab's discussions API
//! (`/projects/:id/issues/:issue_iid/discussions`): each comment alone and each thread with its
//! replies; start a thread, reply, resolve or reopen it, edit and delete its notes (their
//! author). Core decides.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use gantry_core::CoreError;
use gantry_core::plan::notes::Discussion;
use serde::{Deserialize, Serialize};

use super::issue_iid;
use super::notes::note_id;
use super::types::Note;
use crate::api::projects::lookup_access;
use crate::api::{ApiInput, ApiResult, PageParams, paginated};
use crate::auth::ApiActor;
use crate::error::AppError;
use crate::{AppState, WebConfig};

/// GitLab's discussion.
#[derive(Debug, Serialize)]
pub struct DiscussionJson {
    pub id: String,
    pub individual_note: bool,
    pub notes: Vec<Note>,
}

impl DiscussionJson {
    pub(super) fn new(discussion: &Discussion, iid: i64, config: &WebConfig) -> DiscussionJson {
        DiscussionJson {
            id: discussion.id.clone(),
            individual_note: discussion.individual_note,
            notes: discussion.notes.iter().map(|note| Note::new(note, iid, config)).collect(),
        }
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct DiscussionInput {
    body: Option<String>,
    resolved: Option<bool>,
}

/// `GET /projects/:id/issues/:issue_iid/discussions`
pub async fn list_issue_discussions(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path((id, iid)): Path<(String, String)>,
    uri: Uri,
    Query(page): Query<PageParams>,
) -> ApiResult<Response> {
    let access = lookup_access(&state, &actor, &id).await?;
    let iid = issue_iid(&iid)?;
    let page = page.resolve()?;
    let all = state.core.plan().list_issue_discussions(&access, iid).await?;
    let total = all.len() as i64;
    let shown = page.db();
    let items: Vec<DiscussionJson> = all
        .iter()
        .skip(usize::try_from(shown.offset).unwrap_or(0))
        .take(usize::try_from(shown.limit).unwrap_or(0))
        .map(|discussion| DiscussionJson::new(discussion, iid, &state.config))
        .collect();
    Ok(paginated(&state.config.external_url, &uri, items, total, page))
}

/// `GET /projects/:id/issues/:issue_iid/discussions/:discussion_id`
pub async fn get_issue_discussion(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path((id, iid, discussion)): Path<(String, String, String)>,
) -> ApiResult<Json<DiscussionJson>> {
    let access = lookup_access(&state, &actor, &id).await?;
    let iid = issue_iid(&iid)?;
    let found = state.core.plan().find_issue_discussion(&access, iid, &discussion).await?;
    Ok(Json(DiscussionJson::new(&found, iid, &state.config)))
}

/// `POST /projects/:id/issues/:issue_iid/discussions` (`body`): starts a thread.
pub async fn create_issue_discussion(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path((id, iid)): Path<(String, String)>,
    ApiInput(input): ApiInput<DiscussionInput>,
) -> ApiResult<Response> {
    let access = lookup_access(&state, &actor, &id).await?;
    let iid = issue_iid(&iid)?;
    let plan = state.core.plan();
    let note = plan.start_issue_thread(&access, iid, input.body.as_deref().unwrap_or("")).await?;
    let discussion = plan.find_issue_discussion(&access, iid, &note.discussion_id).await?;
    Ok((StatusCode::CREATED, Json(DiscussionJson::new(&discussion, iid, &state.config))).into_response())
}

/// `PUT /projects/:id/issues/:issue_iid/discussions/:discussion_id` (`resolved`)
pub async fn resolve_issue_discussion(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path((id, iid, discussion)): Path<(String, String, String)>,
    ApiInput(input): ApiInput<DiscussionInput>,
) -> ApiResult<Json<DiscussionJson>> {
    let access = lookup_access(&state, &actor, &id).await?;
    let iid = issue_iid(&iid)?;
    let Some(resolved) = input.resolved else {
        state.core.plan().find_issue_discussion(&access, iid, &discussion).await?;
        access.require(gantry_core::policy::ProjectAction::UpdateIssues)?;
        return Err(AppError::BadRequest("resolved is missing (true or false)".to_owned()).into());
    };
    let found = state.core.plan().resolve_issue_discussion(&access, iid, &discussion, resolved).await?;
    Ok(Json(DiscussionJson::new(&found, iid, &state.config)))
}

/// `POST /projects/:id/issues/:issue_iid/discussions/:discussion_id/notes` (`body`): a reply.
pub async fn reply_to_issue_discussion(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path((id, iid, discussion)): Path<(String, String, String)>,
    ApiInput(input): ApiInput<DiscussionInput>,
) -> ApiResult<Response> {
    let access = lookup_access(&state, &actor, &id).await?;
    let iid = issue_iid(&iid)?;
    let body = input.body.as_deref().unwrap_or("");
    let note = state.core.plan().reply_to_issue_discussion(&access, iid, &discussion, body).await?;
    Ok((StatusCode::CREATED, Json(Note::new(&note, iid, &state.config))).into_response())
}

/// The note `note` of the discussion `discussion` of an issue (else "not found").
async fn note_of_discussion(
    state: &AppState,
    access: &gantry_core::policy::ProjectAccess,
    iid: i64,
    discussion: &str,
    note: &str,
) -> ApiResult<gantry_types::NoteId> {
    let id = note_id(note)?;
    let found = state.core.plan().find_issue_note(access, iid, id).await?;
    if found.discussion_id != discussion {
        return Err(CoreError::NotFound("note").into());
    }
    Ok(id)
}

/// `GET /projects/:id/issues/:issue_iid/discussions/:discussion_id/notes/:note_id`
pub async fn get_discussion_note(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path((id, iid, discussion, note)): Path<(String, String, String, String)>,
) -> ApiResult<Json<Note>> {
    let access = lookup_access(&state, &actor, &id).await?;
    let iid = issue_iid(&iid)?;
    let note = note_of_discussion(&state, &access, iid, &discussion, &note).await?;
    let found = state.core.plan().find_issue_note(&access, iid, note).await?;
    Ok(Json(Note::new(&found, iid, &state.config)))
}

/// `PUT /projects/:id/issues/:issue_iid/discussions/:discussion_id/notes/:note_id` (`body`, the
/// note's author; or `resolved`, for the thread)
pub async fn update_discussion_note(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path((id, iid, discussion, note)): Path<(String, String, String, String)>,
    ApiInput(input): ApiInput<DiscussionInput>,
) -> ApiResult<Json<Note>> {
    let access = lookup_access(&state, &actor, &id).await?;
    let iid = issue_iid(&iid)?;
    let note = note_of_discussion(&state, &access, iid, &discussion, &note).await?;
    let plan = state.core.plan();
    let changed = match (input.body.as_deref(), input.resolved) {
        (Some(body), _) => plan.update_issue_note(&access, iid, note, body).await?,
        (None, Some(resolved)) => {
            plan.resolve_issue_discussion(&access, iid, &discussion, resolved).await?;
            plan.find_issue_note(&access, iid, note).await?
        }
        // Neither: the author's rights are checked before the empty text is refused.
        (None, None) => plan.update_issue_note(&access, iid, note, "").await?,
    };
    Ok(Json(Note::new(&changed, iid, &state.config)))
}

/// `DELETE /projects/:id/issues/:issue_iid/discussions/:discussion_id/notes/:note_id` (the
/// note's author)
pub async fn delete_discussion_note(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path((id, iid, discussion, note)): Path<(String, String, String, String)>,
) -> ApiResult<StatusCode> {
    let access = lookup_access(&state, &actor, &id).await?;
    let iid = issue_iid(&iid)?;
    let note = note_of_discussion(&state, &access, iid, &discussion, &note).await?;
    state.core.plan().delete_issue_note(&access, iid, note).await?;
    Ok(StatusCode::NO_CONTENT)
}
