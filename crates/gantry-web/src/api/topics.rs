//! `/topics`: project topics, as GitLab's Topics API has them. Anyone lists and reads them;
//! administrators create, change, merge and delete them (core decides).

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use gantry_core::CoreError;
use gantry_core::manage::avatars::{AvatarSubject, check_avatar_upload};
use gantry_core::manage::topics::{TopicFilter, TopicInput};
use gantry_types::TopicId;
use serde::Deserialize;

use super::types::Topic;
use super::{ApiInput, ApiResult, ApiUpload, PageParams, avatar_change, flag, paginated};
use crate::AppState;
use crate::auth::ApiActor;
use crate::error::AppError;

fn topic_id(value: &str) -> ApiResult<TopicId> {
    value.parse::<TopicId>().map_err(|_| CoreError::NotFound("topic").into())
}

#[derive(Debug, Deserialize)]
pub struct TopicListQuery {
    search: Option<String>,
    without_projects: Option<String>,
}

/// `GET /topics` (`search`, `without_projects`, `page`, `per_page`)
pub async fn list_topics(
    State(state): State<AppState>,
    ApiActor(_actor): ApiActor,
    uri: Uri,
    Query(query): Query<TopicListQuery>,
    Query(page): Query<PageParams>,
) -> ApiResult<Response> {
    let page = page.resolve()?;
    let filter = TopicFilter {
        search: query.search.filter(|search| !search.trim().is_empty()),
        without_projects: flag(query.without_projects.as_deref())?.unwrap_or(false),
    };
    let (topics, total) = state.core.manage().list_topics(&filter, page.db()).await?;
    let items: Vec<Topic> = topics.iter().map(|topic| Topic::new(topic, &state.config)).collect();
    Ok(paginated(&state.config.external_url, &uri, items, total, page))
}

/// `GET /topics/:topic_id`
pub async fn get_topic(
    State(state): State<AppState>,
    ApiActor(_actor): ApiActor,
    Path(id): Path<String>,
) -> ApiResult<Json<Topic>> {
    let topic = state.core.manage().find_topic(topic_id(&id)?).await?;
    Ok(Json(Topic::new(&topic, &state.config)))
}

#[derive(Debug, Deserialize)]
pub struct TopicFieldsInput {
    name: Option<String>,
    title: Option<String>,
    description: Option<String>,
    /// Empty removes the avatar; an image comes as a file.
    avatar: Option<String>,
}

impl TopicFieldsInput {
    fn into_core(self) -> TopicInput {
        TopicInput { name: self.name, title: self.title, description: self.description }
    }
}

/// `POST /topics` (`name`, `title`, optional `description`; administrators)
pub async fn create_topic(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiUpload(input, mut uploads): ApiUpload<TopicFieldsInput>,
) -> ApiResult<Response> {
    gantry_core::policy::require_admin(&actor)?;
    let avatar = avatar_change(input.avatar.as_deref(), &mut uploads)?.flatten();
    if let Some(avatar) = &avatar {
        check_avatar_upload(avatar)?;
    }
    let mut topic = state.core.manage().create_topic(&actor, &input.into_core()).await?;
    if let Some(avatar) = &avatar {
        topic.avatar = state.core.manage().set_avatar(&actor, AvatarSubject::Topic(topic.id), Some(avatar)).await?;
    }
    Ok((StatusCode::CREATED, Json(Topic::new(&topic, &state.config))).into_response())
}

/// `PUT /topics/:topic_id` (`name`, `title`, `description`; administrators)
pub async fn update_topic(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
    ApiUpload(input, mut uploads): ApiUpload<TopicFieldsInput>,
) -> ApiResult<Json<Topic>> {
    let id = topic_id(&id)?;
    if let Some(avatar) = avatar_change(input.avatar.as_deref(), &mut uploads)? {
        state.core.manage().set_avatar(&actor, AvatarSubject::Topic(id), avatar.as_ref()).await?;
    }
    let topic = state.core.manage().update_topic(&actor, id, &input.into_core()).await?;
    Ok(Json(Topic::new(&topic, &state.config)))
}

/// `DELETE /topics/:topic_id` (administrators)
pub async fn delete_topic(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    state.core.manage().delete_topic(&actor, topic_id(&id)?).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize)]
pub struct MergeTopicsInput {
    source_topic_id: Option<i64>,
    target_topic_id: Option<i64>,
}

/// `POST /topics/merge` (`source_topic_id`, `target_topic_id`; administrators): answers the
/// target, which now carries the source's projects.
pub async fn merge_topics(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiInput(input): ApiInput<MergeTopicsInput>,
) -> ApiResult<Response> {
    let required = |value: Option<i64>, name: &str| -> ApiResult<TopicId> {
        value.map(TopicId).ok_or_else(|| AppError::BadRequest(format!("{name} is missing")).into())
    };
    let source = required(input.source_topic_id, "source_topic_id")?;
    let target = required(input.target_topic_id, "target_topic_id")?;
    let merged = state.core.manage().merge_topics(&actor, source, target).await?;
    Ok((StatusCode::CREATED, Json(Topic::new(&merged, &state.config))).into_response())
}
