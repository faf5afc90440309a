//! An epic's notes and discussions, shaped like GitLab's (`/groups/:id/epics/:epic_id/notes`
//! and `…/discussions`). GitLab names the epic here by its id, not its number (the route's
//! parameter sits where the other epic routes have the number, so it keeps their name). Comments
//! alone, threads with replies (resolved by Reporters of the group or whoever started them),
//! edited and deleted by their author. Core decides.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use gantry_core::CoreError;
use gantry_core::plan::epic_notes::EpicNotePlace;
use gantry_core::plan::notes::NoteOrder;
use gantry_core::policy::GroupAccess;
use gantry_types::{EpicId, NoteId};
use serde::Deserialize;

use super::discussions::DiscussionJson;
use super::notes::{NoteListParams, note_id};
use super::types::Note;
use crate::AppState;
use crate::api::groups::lookup_group_access;
use crate::api::{ApiInput, ApiResult, PageParams, paginated};
use crate::auth::ApiActor;
use crate::error::AppError;

/// The group and the number of its epic whose id is `epic_id`.
async fn epic_of(
    state: &AppState,
    actor: &gantry_core::Actor,
    id: &str,
    epic_id: &str,
) -> ApiResult<(GroupAccess, i64)> {
    let access = lookup_group_access(state, actor, id).await?;
    let epic = epic_id.parse::<i64>().ok().filter(|id| *id > 0).ok_or(CoreError::NotFound("epic"))?;
    let epic = state.core.plan().find_epic_by_id(&access, EpicId(epic)).await?;
    Ok((access, epic.epic.iid))
}

#[derive(Debug, Default, Deserialize)]
pub struct EpicNoteInput {
    body: Option<String>,
    resolved: Option<bool>,
}

/// `GET /groups/:id/epics/:epic_id/notes` (`sort`, `order_by` as an issue's)
pub async fn list_notes(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path((id, epic)): Path<(String, String)>,
    uri: Uri,
    Query(page): Query<PageParams>,
    ApiInput(params): ApiInput<NoteListParams>,
) -> ApiResult<Response> {
    let page = page.resolve()?;
    let order: NoteOrder = params.order()?;
    let (access, iid) = epic_of(&state, &actor, &id, &epic).await?;
    let (notes, total) = state.core.plan().list_epic_notes(&access, iid, order, page.db()).await?;
    let items: Vec<Note> = notes.iter().map(|note| Note::new(note, iid, &state.config)).collect();
    Ok(paginated(&state.config.external_url, &uri, items, total, page))
}

/// `GET /groups/:id/epics/:epic_id/notes/:note_id`
pub async fn get_note(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path((id, epic, note)): Path<(String, String, String)>,
) -> ApiResult<Json<Note>> {
    let (access, iid) = epic_of(&state, &actor, &id, &epic).await?;
    let note = state.core.plan().find_epic_note(&access, iid, note_id(&note)?).await?;
    Ok(Json(Note::new(&note, iid, &state.config)))
}

/// `GET /groups/:id/epics/:epic_id/notes/:note_id/versions`: the texts the comment had
/// (`page`, `per_page`: at most 20 a page).
pub async fn note_versions(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path((id, epic, note)): Path<(String, String, String)>,
    uri: Uri,
    Query(page): Query<PageParams>,
) -> ApiResult<Response> {
    let page = super::notes::versions_page(page)?;
    let (access, iid) = epic_of(&state, &actor, &id, &epic).await?;
    let (_, versions, total) = state.core.plan().epic_note_versions(&access, iid, note_id(&note)?, page.db()).await?;
    let items = super::notes::note_versions_json(&versions, &state.config);
    Ok(paginated(&state.config.external_url, &uri, items, total, page))
}

/// `POST /groups/:id/epics/:epic_id/notes` (`body`)
pub async fn create_note(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path((id, epic)): Path<(String, String)>,
    ApiInput(input): ApiInput<EpicNoteInput>,
) -> ApiResult<Response> {
    let (access, iid) = epic_of(&state, &actor, &id, &epic).await?;
    let body = input.body.as_deref().unwrap_or("");
    let note = state.core.plan().comment_on_epic(&access, iid, body, EpicNotePlace::Comment).await?;
    Ok((StatusCode::CREATED, Json(Note::new(&note, iid, &state.config))).into_response())
}

/// `PUT /groups/:id/epics/:epic_id/notes/:note_id` (`body`; the comment's author)
pub async fn update_note(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path((id, epic, note)): Path<(String, String, String)>,
    ApiInput(input): ApiInput<EpicNoteInput>,
) -> ApiResult<Json<Note>> {
    let (access, iid) = epic_of(&state, &actor, &id, &epic).await?;
    let body = input.body.as_deref().unwrap_or("");
    let note = state.core.plan().update_epic_note(&access, iid, note_id(&note)?, body).await?;
    Ok(Json(Note::new(&note, iid, &state.config)))
}

/// `DELETE /groups/:id/epics/:epic_id/notes/:note_id` (the comment's author)
pub async fn delete_note(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path((id, epic, note)): Path<(String, String, String)>,
) -> ApiResult<StatusCode> {
    let (access, iid) = epic_of(&state, &actor, &id, &epic).await?;
    state.core.plan().delete_epic_note(&access, iid, note_id(&note)?).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /groups/:id/epics/:epic_id/discussions`
pub async fn list_discussions(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path((id, epic)): Path<(String, String)>,
    uri: Uri,
    Query(page): Query<PageParams>,
) -> ApiResult<Response> {
    let page = page.resolve()?;
    let (access, iid) = epic_of(&state, &actor, &id, &epic).await?;
    let all = state.core.plan().list_epic_discussions(&access, iid).await?;
    let total = i64::try_from(all.len()).unwrap_or(i64::MAX);
    let shown = page.db();
    let items: Vec<DiscussionJson> = all
        .iter()
        .skip(usize::try_from(shown.offset).unwrap_or(0))
        .take(usize::try_from(shown.limit).unwrap_or(0))
        .map(|discussion| DiscussionJson::new(discussion, iid, &state.config))
        .collect();
    Ok(paginated(&state.config.external_url, &uri, items, total, page))
}

/// `GET /groups/:id/epics/:epic_id/discussions/:discussion_id`
pub async fn get_discussion(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path((id, epic, discussion)): Path<(String, String, String)>,
) -> ApiResult<Json<DiscussionJson>> {
    let (access, iid) = epic_of(&state, &actor, &id, &epic).await?;
    let found = state.core.plan().find_epic_discussion(&access, iid, &discussion).await?;
    Ok(Json(DiscussionJson::new(&found, iid, &state.config)))
}

/// `POST /groups/:id/epics/:epic_id/discussions` (`body`): starts a thread.
pub async fn create_discussion(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path((id, epic)): Path<(String, String)>,
    ApiInput(input): ApiInput<EpicNoteInput>,
) -> ApiResult<Response> {
    let (access, iid) = epic_of(&state, &actor, &id, &epic).await?;
    let plan = state.core.plan();
    let body = input.body.as_deref().unwrap_or("");
    let note = plan.comment_on_epic(&access, iid, body, EpicNotePlace::NewThread).await?;
    let discussion = plan.find_epic_discussion(&access, iid, &note.discussion_id).await?;
    Ok((StatusCode::CREATED, Json(DiscussionJson::new(&discussion, iid, &state.config))).into_response())
}

/// `PUT /groups/:id/epics/:epic_id/discussions/:discussion_id` (`resolved`)
pub async fn resolve_discussion(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path((id, epic, discussion)): Path<(String, String, String)>,
    ApiInput(input): ApiInput<EpicNoteInput>,
) -> ApiResult<Json<DiscussionJson>> {
    let (access, iid) = epic_of(&state, &actor, &id, &epic).await?;
    let Some(resolved) = input.resolved else {
        state.core.plan().find_epic_discussion(&access, iid, &discussion).await?;
        access.require(gantry_core::policy::GroupAction::ManageEpics)?;
        return Err(AppError::BadRequest("resolved is missing (true or false)".to_owned()).into());
    };
    let found = state.core.plan().resolve_epic_discussion(&access, iid, &discussion, resolved).await?;
    Ok(Json(DiscussionJson::new(&found, iid, &state.config)))
}

/// `POST /groups/:id/epics/:epic_id/discussions/:discussion_id/notes` (`body`): a reply.
pub async fn reply(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path((id, epic, discussion)): Path<(String, String, String)>,
    ApiInput(input): ApiInput<EpicNoteInput>,
) -> ApiResult<Response> {
    let (access, iid) = epic_of(&state, &actor, &id, &epic).await?;
    let body = input.body.as_deref().unwrap_or("");
    let note = state.core.plan().comment_on_epic(&access, iid, body, EpicNotePlace::Reply(&discussion)).await?;
    Ok((StatusCode::CREATED, Json(Note::new(&note, iid, &state.config))).into_response())
}

/// The note `note` of the discussion `discussion` of an epic (else "not found").
async fn note_of_discussion(
    state: &AppState,
    access: &GroupAccess,
    iid: i64,
    discussion: &str,
    note: &str,
) -> ApiResult<NoteId> {
    let id = note_id(note)?;
    let found = state.core.plan().find_epic_note(access, iid, id).await?;
    if found.discussion_id != discussion {
        return Err(CoreError::NotFound("note").into());
    }
    Ok(id)
}

/// `PUT /groups/:id/epics/:epic_id/discussions/:discussion_id/notes/:note_id` (`body`, the
/// note's author; or `resolved`, for the thread)
pub async fn update_discussion_note(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path((id, epic, discussion, note)): Path<(String, String, String, String)>,
    ApiInput(input): ApiInput<EpicNoteInput>,
) -> ApiResult<Json<Note>> {
    let (access, iid) = epic_of(&state, &actor, &id, &epic).await?;
    let note = note_of_discussion(&state, &access, iid, &discussion, &note).await?;
    let plan = state.core.plan();
    let changed = match (input.body.as_deref(), input.resolved) {
        (Some(body), _) => plan.update_epic_note(&access, iid, note, body).await?,
        (None, Some(resolved)) => {
            plan.resolve_epic_discussion(&access, iid, &discussion, resolved).await?;
            plan.find_epic_note(&access, iid, note).await?
        }
        (None, None) => plan.update_epic_note(&access, iid, note, "").await?,
    };
    Ok(Json(Note::new(&changed, iid, &state.config)))
}

/// `DELETE /groups/:id/epics/:epic_id/discussions/:discussion_id/notes/:note_id` (the note's
/// author)
pub async fn delete_discussion_note(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path((id, epic, discussion, note)): Path<(String, String, String, String)>,
) -> ApiResult<StatusCode> {
    let (access, iid) = epic_of(&state, &actor, &id, &epic).await?;
    let note = note_of_discussion(&state, &access, iid, &discussion, &note).await?;
    state.core.plan().delete_epic_note(&access, iid, note).await?;
    Ok(StatusCode::NO_CONTENT)
}
