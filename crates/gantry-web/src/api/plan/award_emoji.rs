//! Emoji reactions on issues and their comments, shaped like GitLab's award emoji API
//! (`/projects/:id/issues/:issue_iid/award_emoji` and `…/notes/:note_id/award_emoji`: list,
//! one, award with `name`, remove one's own). Core decides.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use gantry_core::CoreError;
use gantry_core::plan::award_emoji::{AwardRow, AwardTarget};
use gantry_types::NoteId;
use serde::{Deserialize, Serialize};

use super::issue_iid;
use crate::api::projects::lookup_access;
use crate::api::types::User;
use crate::api::{ApiInput, ApiResult, PageParams, paginated};
use crate::auth::ApiActor;
use crate::error::AppError;
use crate::time_format::iso8601;
use crate::{AppState, WebConfig};

/// GitLab's award emoji.
#[derive(Debug, Serialize)]
pub struct AwardEmoji {
    pub id: i64,
    pub name: String,
    pub user: User,
    pub created_at: String,
    pub updated_at: String,
    pub awardable_id: i64,
    pub awardable_type: String,
}

impl AwardEmoji {
    fn new(award: &AwardRow, config: &WebConfig) -> AwardEmoji {
        AwardEmoji {
            id: award.id,
            name: award.name.clone(),
            user: User::new(&award.user, config, false),
            created_at: iso8601(award.created_at),
            updated_at: iso8601(award.updated_at),
            awardable_id: award.awardable_id,
            awardable_type: award.awardable_type.clone(),
        }
    }
}

/// The issue, or its note, a path names.
fn target(iid: &str, note: Option<&str>) -> ApiResult<AwardTarget> {
    let iid = issue_iid(iid)?;
    Ok(match note {
        None => AwardTarget::Issue(iid),
        Some(note) => AwardTarget::Note { iid, note: note.parse::<NoteId>().map_err(|_| CoreError::NotFound("note"))? },
    })
}

fn award_id(value: &str) -> ApiResult<i64> {
    value.parse().map_err(|_| CoreError::NotFound("award emoji").into())
}

async fn list(
    state: AppState,
    actor: gantry_core::Actor,
    id: &str,
    target: AwardTarget,
    uri: Uri,
    page: PageParams,
) -> ApiResult<Response> {
    let access = lookup_access(&state, &actor, id).await?;
    let page = page.resolve()?;
    let (awards, total) = state.core.plan().list_award_emoji(&access, target, page.db()).await?;
    let items: Vec<AwardEmoji> = awards.iter().map(|award| AwardEmoji::new(award, &state.config)).collect();
    Ok(paginated(&state.config.external_url, &uri, items, total, page))
}

async fn get(
    state: AppState,
    actor: gantry_core::Actor,
    id: &str,
    target: AwardTarget,
    award: &str,
) -> ApiResult<Json<AwardEmoji>> {
    let access = lookup_access(&state, &actor, id).await?;
    let award = state.core.plan().find_award_emoji(&access, target, award_id(award)?).await?;
    Ok(Json(AwardEmoji::new(&award, &state.config)))
}

#[derive(Debug, Default, Deserialize)]
pub struct AwardInput {
    name: Option<String>,
}

async fn create(
    state: AppState,
    actor: gantry_core::Actor,
    id: &str,
    target: AwardTarget,
    input: AwardInput,
) -> ApiResult<Response> {
    let access = lookup_access(&state, &actor, id).await?;
    let Some(name) = input.name.filter(|name| !name.trim().is_empty()) else {
        access.require(gantry_core::policy::ProjectAction::ReadIssues)?;
        access.actor().require_user()?;
        return Err(AppError::BadRequest("name is missing".to_owned()).into());
    };
    let award = state.core.plan().award_emoji(&access, target, &name).await?;
    Ok((StatusCode::CREATED, Json(AwardEmoji::new(&award, &state.config))).into_response())
}

async fn delete(
    state: AppState,
    actor: gantry_core::Actor,
    id: &str,
    target: AwardTarget,
    award: &str,
) -> ApiResult<StatusCode> {
    let access = lookup_access(&state, &actor, id).await?;
    state.core.plan().remove_award_emoji(&access, target, award_id(award)?).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /projects/:id/issues/:issue_iid/award_emoji`
pub async fn list_issue_awards(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path((id, iid)): Path<(String, String)>,
    uri: Uri,
    Query(page): Query<PageParams>,
) -> ApiResult<Response> {
    let target = target(&iid, None)?;
    list(state, actor, &id, target, uri, page).await
}

/// `GET /projects/:id/issues/:issue_iid/award_emoji/:award_id`
pub async fn get_issue_award(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path((id, iid, award)): Path<(String, String, String)>,
) -> ApiResult<Json<AwardEmoji>> {
    let target = target(&iid, None)?;
    get(state, actor, &id, target, &award).await
}

/// `POST /projects/:id/issues/:issue_iid/award_emoji` (`name`)
pub async fn award_issue(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path((id, iid)): Path<(String, String)>,
    ApiInput(input): ApiInput<AwardInput>,
) -> ApiResult<Response> {
    let target = target(&iid, None)?;
    create(state, actor, &id, target, input).await
}

/// `DELETE /projects/:id/issues/:issue_iid/award_emoji/:award_id` (who gave it)
pub async fn delete_issue_award(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path((id, iid, award)): Path<(String, String, String)>,
) -> ApiResult<StatusCode> {
    let target = target(&iid, None)?;
    delete(state, actor, &id, target, &award).await
}

/// `GET /projects/:id/issues/:issue_iid/notes/:note_id/award_emoji`
pub async fn list_note_awards(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path((id, iid, note)): Path<(String, String, String)>,
    uri: Uri,
    Query(page): Query<PageParams>,
) -> ApiResult<Response> {
    let target = target(&iid, Some(&note))?;
    list(state, actor, &id, target, uri, page).await
}

/// `GET /projects/:id/issues/:issue_iid/notes/:note_id/award_emoji/:award_id`
pub async fn get_note_award(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path((id, iid, note, award)): Path<(String, String, String, String)>,
) -> ApiResult<Json<AwardEmoji>> {
    let target = target(&iid, Some(&note))?;
    get(state, actor, &id, target, &award).await
}

/// `POST /projects/:id/issues/:issue_iid/notes/:note_id/award_emoji` (`name`)
pub async fn award_note(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path((id, iid, note)): Path<(String, String, String)>,
    ApiInput(input): ApiInput<AwardInput>,
) -> ApiResult<Response> {
    let target = target(&iid, Some(&note))?;
    create(state, actor, &id, target, input).await
}

/// `DELETE /projects/:id/issues/:issue_iid/notes/:note_id/award_emoji/:award_id` (who gave it)
pub async fn delete_note_award(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path((id, iid, note, award)): Path<(String, String, String, String)>,
) -> ApiResult<StatusCode> {
    let target = target(&iid, Some(&note))?;
    delete(state, actor, &id, target, &award).await
}
