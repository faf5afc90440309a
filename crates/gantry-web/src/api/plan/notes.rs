//! `/projects/:id/issues/:issue_iid/notes`, shaped like GitLab's: an issue's comments and
//! system notes (`sort`, `order_by`), one note, comment, edit and delete a comment (its
//! author). Core decides.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use gantry_core::CoreError;
use gantry_core::plan::note_versions::NoteVersion;
use gantry_core::plan::notes::NoteOrder;
use gantry_types::NoteId;
use serde::Deserialize;
use serde_json::{Value, json};

use super::issue_iid;
use super::types::Note;
use crate::AppState;
use crate::api::projects::lookup_access;
use crate::api::types::User;
use crate::api::{ApiInput, ApiResult, PageParams, paginated, sort_direction};
use crate::auth::ApiActor;
use crate::error::AppError;
use crate::time_format::iso8601;

pub(super) fn note_id(value: &str) -> ApiResult<NoteId> {
    value.parse::<NoteId>().map_err(|_| CoreError::NotFound("note").into())
}

#[derive(Debug, Default, Deserialize)]
pub struct NoteListParams {
    sort: Option<String>,
    order_by: Option<String>,
}

impl NoteListParams {
    /// The order asked for: `created_at` (or `updated_at`), newest first unless `sort=asc`.
    pub(super) fn order(&self) -> ApiResult<NoteOrder> {
        let by_update = match self.order_by.as_deref().map(str::trim) {
            None | Some("" | "created_at") => false,
            Some("updated_at") => true,
            Some(other) => {
                return Err(
                    AppError::BadRequest(format!("order_by must be created_at or updated_at, not '{other}'")).into()
                );
            }
        };
        let newest_first =
            sort_direction(self.sort.as_deref(), gantry_core::SortDirection::Desc)? == gantry_core::SortDirection::Desc;
        Ok(NoteOrder { by_update, newest_first })
    }
}

/// `GET /projects/:id/issues/:issue_iid/notes` (`sort`: `desc` unless asked; `order_by`:
/// `created_at` or `updated_at`)
pub async fn list_issue_notes(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path((id, iid)): Path<(String, String)>,
    uri: Uri,
    Query(page): Query<PageParams>,
    ApiInput(params): ApiInput<NoteListParams>,
) -> ApiResult<Response> {
    let page = page.resolve()?;
    let iid = issue_iid(&iid)?;
    let order = params.order()?;
    let access = lookup_access(&state, &actor, &id).await?;
    let (notes, total) = state.core.plan().list_issue_notes(&access, iid, order, page.db()).await?;
    let items: Vec<Note> = notes.iter().map(|note| Note::new(note, iid, &state.config)).collect();
    Ok(paginated(&state.config.external_url, &uri, items, total, page))
}

/// `GET /projects/:id/issues/:issue_iid/notes/:note_id`
pub async fn get_issue_note(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path((id, iid, note)): Path<(String, String, String)>,
) -> ApiResult<Json<Note>> {
    let access = lookup_access(&state, &actor, &id).await?;
    let iid = issue_iid(&iid)?;
    let note = state.core.plan().find_issue_note(&access, iid, note_id(&note)?).await?;
    Ok(Json(Note::new(&note, iid, &state.config)))
}

#[derive(Debug, Default, Deserialize)]
pub struct NoteInput {
    body: Option<String>,
}

/// `POST /projects/:id/issues/:issue_iid/notes` (`body`)
pub async fn create_issue_note(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path((id, iid)): Path<(String, String)>,
    ApiInput(input): ApiInput<NoteInput>,
) -> ApiResult<Response> {
    let access = lookup_access(&state, &actor, &id).await?;
    let iid = issue_iid(&iid)?;
    let comment = state.core.plan().comment_on_issue(&access, iid, input.body.as_deref().unwrap_or("")).await?;
    match comment.note {
        Some(note) => Ok((StatusCode::CREATED, Json(Note::new(&note, iid, &state.config))).into_response()),
        // Only quick actions: GitLab answers 202 with what they did.
        None => {
            let done = serde_json::json!({"commands_changes": {}, "summary": comment.done});
            Ok((StatusCode::ACCEPTED, Json(done)).into_response())
        }
    }
}

/// `PUT /projects/:id/issues/:issue_iid/notes/:note_id` (`body`; the comment's author)
pub async fn update_issue_note(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path((id, iid, note)): Path<(String, String, String)>,
    ApiInput(input): ApiInput<NoteInput>,
) -> ApiResult<Json<Note>> {
    let access = lookup_access(&state, &actor, &id).await?;
    let iid = issue_iid(&iid)?;
    let note =
        state.core.plan().update_issue_note(&access, iid, note_id(&note)?, input.body.as_deref().unwrap_or("")).await?;
    Ok(Json(Note::new(&note, iid, &state.config)))
}

/// `DELETE /projects/:id/issues/:issue_iid/notes/:note_id` (the comment's author)
pub async fn delete_issue_note(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path((id, iid, note)): Path<(String, String, String)>,
) -> ApiResult<StatusCode> {
    let access = lookup_access(&state, &actor, &id).await?;
    state.core.plan().delete_issue_note(&access, issue_iid(&iid)?, note_id(&note)?).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The texts a comment had, newest first, with who wrote each and when (Gantry's own; GitLab
/// keeps none). Empty for a comment never edited.
pub(super) fn note_versions_json(versions: &[NoteVersion], config: &crate::WebConfig) -> Vec<Value> {
    versions
        .iter()
        .map(|version| {
            json!({
                "id": version.row.id,
                "body": version.row.body,
                "author": version.author.as_ref().map(|user| User::new(user, config, false)),
                "created_at": iso8601(version.row.created_at),
            })
        })
        .collect()
}

/// `GET /projects/:id/issues/:issue_iid/notes/:note_id/versions` (`page`, `per_page`: at most
/// 20 a page)
pub async fn issue_note_versions(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path((id, iid, note)): Path<(String, String, String)>,
    uri: Uri,
    Query(page): Query<PageParams>,
) -> ApiResult<Response> {
    let page = versions_page(page)?;
    let access = lookup_access(&state, &actor, &id).await?;
    let (_, versions, total) =
        state.core.plan().issue_note_versions(&access, issue_iid(&iid)?, note_id(&note)?, page.db()).await?;
    Ok(paginated(&state.config.external_url, &uri, note_versions_json(&versions, &state.config), total, page))
}

/// A page of a comment's versions: each may be as long as a comment, so at most
/// `MAX_NOTE_VERSIONS` a page.
pub(super) fn versions_page(page: PageParams) -> ApiResult<crate::api::PageRequest> {
    let page = page.resolve()?;
    Ok(crate::api::PageRequest {
        per_page: page.per_page.min(gantry_core::plan::note_versions::MAX_NOTE_VERSIONS),
        ..page
    })
}
