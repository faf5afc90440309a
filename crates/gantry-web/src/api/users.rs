//! `/user`, `/users`: accounts, and what administrators do to them (block, ban, deactivate
//! and undo it, approve or reject sign-ups).

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use gantry_core::manage::accounts::NewAccount;
use gantry_core::manage::accounts::UserFilter;
use gantry_core::manage::avatars::{AvatarSubject, check_avatar_upload};
use gantry_core::manage::user_admin::{Moderation, ModerationOutcome};
use gantry_types::UserId;
use serde::Deserialize;

use super::types::User;
use super::{ApiResult, ApiUpload, PageParams, avatar_change, flag, paginated};
use crate::AppState;
use crate::auth::ApiActor;
use crate::error::AppError;

/// `GET /user`: the token's owner.
pub async fn current_user(State(state): State<AppState>, ApiActor(actor): ApiActor) -> ApiResult<Json<User>> {
    let user = actor.require_user()?;
    Ok(Json(User::new(user, &state.config, true)))
}

#[derive(Debug, Deserialize)]
pub struct UserListQuery {
    username: Option<String>,
    search: Option<String>,
    blocked: Option<String>,
}

/// `GET /users`
pub async fn list_users(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    uri: Uri,
    Query(query): Query<UserListQuery>,
    Query(page): Query<PageParams>,
) -> ApiResult<Response> {
    let page = page.resolve()?;
    let filter = UserFilter {
        username: query.username.filter(|u| !u.is_empty()),
        search: query.search.filter(|s| !s.is_empty()),
        blocked: flag(query.blocked.as_deref())?.filter(|b| *b),
    };
    let (users, total) = state.core.manage().list_users(&actor, filter, page.db()).await?;
    let admin = gantry_core::policy::administers(&actor);
    let items = users.iter().map(|u| User::new(u, &state.config, admin)).collect();
    Ok(paginated(&state.config.external_url, &uri, items, total, page))
}

/// `GET /users/:id`
pub async fn get_user(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
) -> ApiResult<Json<User>> {
    let id = user_id(&id)?;
    let user = state.core.manage().find_user(&actor, id).await?;
    let private = actor.user().is_some_and(|viewer| gantry_core::policy::owns_or_administers(viewer, Some(user.id)));
    Ok(Json(User::new(&user, &state.config, private)))
}

#[derive(Debug, Deserialize)]
pub struct CreateUserInput {
    #[serde(default)]
    username: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    admin: bool,
    /// Empty (nothing to remove yet) or absent: the image comes as a file.
    avatar: Option<String>,
}

/// `POST /users` (administrators)
pub async fn create_user(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiUpload(input, mut uploads): ApiUpload<CreateUserInput>,
) -> ApiResult<Response> {
    gantry_core::policy::require_admin(&actor)?;
    let avatar = avatar_change(input.avatar.as_deref(), &mut uploads)?.flatten();
    if let Some(avatar) = &avatar {
        check_avatar_upload(avatar)?;
    }
    let account =
        NewAccount { username: input.username, email: input.email, name: input.name, password: input.password };
    let mut user = state.core.manage().create_user(&actor, &account, input.admin).await?;
    if let Some(avatar) = &avatar {
        user.avatar = state.core.manage().set_avatar(&actor, AvatarSubject::User(user.id), Some(avatar)).await?;
    }
    Ok((StatusCode::CREATED, Json(User::new(&user, &state.config, true))).into_response())
}

/// A user id from the path; anything else names no user.
pub(crate) fn user_id(id: &str) -> Result<UserId, AppError> {
    id.parse::<i64>().map(UserId).map_err(|_| AppError::Core(gantry_core::CoreError::NotFound("user")))
}

/// An administrator's change of a user's state; GitLab answers 201 with `true` when it
/// happened, `null` when the user already was so, `false` when there was nothing to undo.
async fn moderate(state: AppState, actor: gantry_core::Actor, id: String, action: Moderation) -> ApiResult<Response> {
    let id = user_id(&id)?;
    let outcome = state.core.manage().moderate_user(&actor, id, action).await?;
    let answer = match outcome {
        ModerationOutcome::Done => Some(true),
        ModerationOutcome::AlreadySo => None,
        ModerationOutcome::NotApplicable => Some(false),
    };
    Ok((StatusCode::CREATED, Json(answer)).into_response())
}

/// `POST /users/:id/block` (administrators)
pub async fn block_user(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    moderate(state, actor, id, Moderation::Block).await
}

/// `POST /users/:id/unblock` (administrators)
pub async fn unblock_user(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    moderate(state, actor, id, Moderation::Unblock).await
}

/// `POST /users/:id/ban` (administrators)
pub async fn ban_user(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    moderate(state, actor, id, Moderation::Ban).await
}

/// `POST /users/:id/unban` (administrators)
pub async fn unban_user(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    moderate(state, actor, id, Moderation::Unban).await
}

/// `POST /users/:id/deactivate` (administrators)
pub async fn deactivate_user(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    moderate(state, actor, id, Moderation::Deactivate).await
}

/// `POST /users/:id/activate` (administrators)
pub async fn activate_user(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    moderate(state, actor, id, Moderation::Activate).await
}

/// `POST /users/:id/approve` (administrators): an account waiting for approval becomes active.
pub async fn approve_user(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let id = user_id(&id)?;
    state.core.manage().approve_user(&actor, id).await?;
    Ok(super::message(StatusCode::CREATED, "Success"))
}

/// What `PUT /users/:id` takes (GitLab's names; unknown ones are ignored).
#[derive(Debug, Default, Deserialize)]
pub struct UserUpdate {
    name: Option<String>,
    email: Option<String>,
    username: Option<String>,
    password: Option<String>,
    admin: Option<bool>,
    avatar: Option<String>,
}

/// `PUT /users/:id` (administrators): the changed user.
pub async fn update_user(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
    ApiUpload(input, mut uploads): ApiUpload<UserUpdate>,
) -> ApiResult<Json<User>> {
    let id = user_id(&id)?;
    if let Some(avatar) = avatar_change(input.avatar.as_deref(), &mut uploads)? {
        gantry_core::policy::require_admin(&actor)?;
        state.core.manage().set_avatar(&actor, AvatarSubject::User(id), avatar.as_ref()).await?;
    }
    let changes = gantry_core::manage::user_admin::UserChanges {
        name: input.name,
        email: input.email,
        username: input.username,
        password: input.password,
        admin: input.admin,
    };
    let user = state.core.manage().update_user(&actor, id, &changes).await?;
    Ok(Json(User::new(&user, &state.config, true)))
}

/// `DELETE /users/:id` (administrators): 204; the user's personal projects go too.
pub async fn delete_user(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let id = user_id(&id)?;
    state.core.manage().delete_user(&actor, id).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// `POST /users/:id/reject` (administrators): an account waiting for approval is deleted.
pub async fn reject_user(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let id = user_id(&id)?;
    state.core.manage().reject_user(&actor, id).await?;
    Ok(super::message(StatusCode::OK, "Success"))
}

#[derive(Debug, Deserialize)]
pub struct AvatarInput {
    avatar: Option<String>,
}

/// What `PUT /user/avatar` answers.
#[derive(Debug, serde::Serialize)]
pub struct AvatarUrl {
    avatar_url: Option<String>,
}

/// `PUT /user/avatar`: sets the signed-in user's avatar (a file sent as `avatar`).
pub async fn set_own_avatar(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiUpload(input, mut uploads): ApiUpload<AvatarInput>,
) -> ApiResult<Json<AvatarUrl>> {
    let user = actor.require_user()?;
    let change = avatar_change(input.avatar.as_deref(), &mut uploads)?
        .ok_or_else(|| AppError::BadRequest("avatar is missing".to_owned()))?;
    let avatar = state.core.manage().set_avatar(&actor, AvatarSubject::User(user.id), change.as_ref()).await?;
    let avatar_url = super::types::avatar_url(&state.config, "user", user.id.0, avatar.as_ref());
    Ok(Json(AvatarUrl { avatar_url }))
}
