//! `/groups/:id/members` and `/projects/:id/members` (+ `/all` with inherited and shared
//! members), and a user's memberships (`/users/:id/memberships`, administrators).

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use gantry_core::manage::members::{MemberTarget, MembersOf};
use gantry_core::manage::tokens::parse_expiry_date;
use gantry_core::policy::{GroupAccess, ProjectAccess};
use gantry_core::{Actor, MemberSource};
use gantry_types::{AccessLevel, UserId};
use serde::{Deserialize, Serialize};

use super::groups::lookup_group_access;
use super::projects::lookup_access;
use super::types::Member;
use super::{ApiInput, ApiResult, PageParams, paginated};
use crate::AppState;
use crate::auth::ApiActor;
use crate::error::AppError;

/// Which kind of resource the members route is under.
#[derive(Debug, Clone, Copy)]
pub enum Source {
    Group,
    Project,
}

// Boxed: the rows an access holds are large, and the two differ in size.
enum Loaded {
    Group(Box<GroupAccess>),
    Project(Box<ProjectAccess>),
}

impl Loaded {
    fn of(&self) -> MembersOf<'_> {
        match self {
            Loaded::Group(access) => MembersOf::Group(access),
            Loaded::Project(access) => MembersOf::Project(access),
        }
    }

    fn target(&self) -> MemberTarget<'_> {
        self.of().target()
    }
}

async fn load(state: &AppState, actor: &Actor, source: Source, id: &str) -> ApiResult<Loaded> {
    Ok(match source {
        Source::Group => Loaded::Group(Box::new(lookup_group_access(state, actor, id).await?)),
        Source::Project => Loaded::Project(Box::new(lookup_access(state, actor, id).await?)),
    })
}

fn parse_user_id(value: &str) -> ApiResult<UserId> {
    value.parse::<i64>().map(UserId).map_err(|_| AppError::Core(gantry_core::CoreError::NotFound("member")).into())
}

fn parse_level(value: Option<i64>) -> ApiResult<AccessLevel> {
    let value = value.ok_or_else(|| AppError::BadRequest("access_level is missing".into()))?;
    AccessLevel::from_i64(value)
        .ok_or_else(|| AppError::BadRequest(format!("access_level must be 10, 20, 30, 40 or 50, not {value}")).into())
}

fn parse_expiry(value: Option<&str>) -> ApiResult<Option<i64>> {
    match value.filter(|v| !v.is_empty()) {
        None => Ok(None),
        Some(date) => Ok(Some(parse_expiry_date(date)?)),
    }
}

/// GitLab's filters of a member list: `query` (in the name or username), `user_ids`,
/// `skip_users`.
#[derive(Debug, Default, Deserialize)]
pub struct MemberListParams {
    query: Option<String>,
    #[serde(default)]
    user_ids: Vec<i64>,
    #[serde(default)]
    skip_users: Vec<i64>,
}

impl MemberListParams {
    fn keeps(&self, user: &gantry_core::UserRow) -> bool {
        let query = self.query.as_deref().map(str::to_lowercase).filter(|q| !q.is_empty());
        (self.user_ids.is_empty() || self.user_ids.contains(&user.id.0))
            && !self.skip_users.contains(&user.id.0)
            && query.is_none_or(|q| user.username.to_lowercase().contains(&q) || user.name.to_lowercase().contains(&q))
    }
}

/// `GET …/members`
pub async fn list_members(
    state: AppState,
    actor: Actor,
    source: Source,
    id: String,
    params: MemberListParams,
) -> ApiResult<Json<Vec<Member>>> {
    let loaded = load(&state, &actor, source, &id).await?;
    let members = state.core.manage().list_members(loaded.of()).await?;
    Ok(Json(
        members
            .iter()
            .filter(|m| params.keeps(&m.user))
            .map(|m| Member::new(m, m.access_level, &state.config))
            .collect(),
    ))
}

/// `GET …/members/all`
pub async fn list_all_members(
    state: AppState,
    actor: Actor,
    source: Source,
    id: String,
    params: MemberListParams,
) -> ApiResult<Json<Vec<Member>>> {
    let loaded = load(&state, &actor, source, &id).await?;
    let members = state.core.manage().list_all_members(loaded.of()).await?;
    Ok(Json(
        members.iter().filter(|m| params.keeps(&m.member.user)).map(|m| Member::effective(m, &state.config)).collect(),
    ))
}

/// `GET …/members/:user_id` (`inherited` for `/members/all/:user_id`)
pub async fn get_member(
    state: AppState,
    actor: Actor,
    source: Source,
    id: String,
    user: String,
    inherited: bool,
) -> ApiResult<Json<Member>> {
    let loaded = load(&state, &actor, source, &id).await?;
    let member = state.core.manage().find_member(loaded.of(), parse_user_id(&user)?, inherited).await?;
    Ok(Json(Member::effective(&member, &state.config)))
}

#[derive(Debug, Deserialize)]
pub struct MemberInput {
    user_id: Option<i64>,
    access_level: Option<i64>,
    expires_at: Option<String>,
}

/// `POST …/members`
pub async fn add_member(
    state: AppState,
    actor: Actor,
    source: Source,
    id: String,
    input: MemberInput,
) -> ApiResult<Response> {
    let loaded = load(&state, &actor, source, &id).await?;
    let user = input.user_id.ok_or_else(|| AppError::BadRequest("user_id is missing".into()))?;
    let level = parse_level(input.access_level)?;
    let expires = parse_expiry(input.expires_at.as_deref())?;
    let member = state.core.manage().add_member(&actor, loaded.target(), UserId(user), level, expires).await?;
    Ok((StatusCode::CREATED, Json(Member::effective(&member, &state.config))).into_response())
}

/// `PUT …/members/:user_id`
pub async fn update_member(
    state: AppState,
    actor: Actor,
    source: Source,
    id: String,
    user: String,
    input: MemberInput,
) -> ApiResult<Json<Member>> {
    let loaded = load(&state, &actor, source, &id).await?;
    let level = parse_level(input.access_level)?;
    let expires = parse_expiry(input.expires_at.as_deref())?;
    let member =
        state.core.manage().update_member(&actor, loaded.target(), parse_user_id(&user)?, level, expires).await?;
    Ok(Json(Member::effective(&member, &state.config)))
}

/// `DELETE …/members/:user_id`
pub async fn remove_member(
    state: AppState,
    actor: Actor,
    source: Source,
    id: String,
    user: String,
) -> ApiResult<StatusCode> {
    let loaded = load(&state, &actor, source, &id).await?;
    state.core.manage().remove_member(&actor, loaded.target(), parse_user_id(&user)?).await?;
    Ok(StatusCode::NO_CONTENT)
}

macro_rules! member_routes {
    ($module:ident, $source:expr) => {
        /// Route handlers bound to one member source.
        pub mod $module {
            use super::*;

            pub async fn list(
                State(state): State<AppState>,
                ApiActor(actor): ApiActor,
                Path(id): Path<String>,
                ApiInput(params): ApiInput<MemberListParams>,
            ) -> ApiResult<Json<Vec<Member>>> {
                list_members(state, actor, $source, id, params).await
            }
            pub async fn list_all(
                State(state): State<AppState>,
                ApiActor(actor): ApiActor,
                Path(id): Path<String>,
                ApiInput(params): ApiInput<MemberListParams>,
            ) -> ApiResult<Json<Vec<Member>>> {
                list_all_members(state, actor, $source, id, params).await
            }
            pub async fn get(
                State(state): State<AppState>,
                ApiActor(actor): ApiActor,
                Path((id, user)): Path<(String, String)>,
            ) -> ApiResult<Json<Member>> {
                get_member(state, actor, $source, id, user, false).await
            }
            pub async fn get_inherited(
                State(state): State<AppState>,
                ApiActor(actor): ApiActor,
                Path((id, user)): Path<(String, String)>,
            ) -> ApiResult<Json<Member>> {
                get_member(state, actor, $source, id, user, true).await
            }
            pub async fn add(
                State(state): State<AppState>,
                ApiActor(actor): ApiActor,
                Path(id): Path<String>,
                ApiInput(input): ApiInput<MemberInput>,
            ) -> ApiResult<Response> {
                add_member(state, actor, $source, id, input).await
            }
            pub async fn update(
                State(state): State<AppState>,
                ApiActor(actor): ApiActor,
                Path((id, user)): Path<(String, String)>,
                ApiInput(input): ApiInput<MemberInput>,
            ) -> ApiResult<Json<Member>> {
                update_member(state, actor, $source, id, user, input).await
            }
            pub async fn remove(
                State(state): State<AppState>,
                ApiActor(actor): ApiActor,
                Path((id, user)): Path<(String, String)>,
            ) -> ApiResult<StatusCode> {
                remove_member(state, actor, $source, id, user).await
            }
        }
    };
}

member_routes!(group, Source::Group);
member_routes!(project, Source::Project);

/// One of a user's memberships, as GitLab shows it.
#[derive(Debug, Serialize)]
pub struct Membership {
    pub source_id: i64,
    pub source_name: String,
    /// `Project` or `Namespace` (a group).
    pub source_type: &'static str,
    pub access_level: i64,
}

#[derive(Debug, Deserialize)]
pub struct MembershipParams {
    #[serde(rename = "type")]
    kind: Option<String>,
}

/// `GET /users/:user_id/memberships` (`type`: `Project` or `Namespace`; administrators)
pub async fn list_user_memberships(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(user): Path<String>,
    uri: Uri,
    Query(page): Query<PageParams>,
    ApiInput(params): ApiInput<MembershipParams>,
) -> ApiResult<Response> {
    let page = page.resolve()?;
    // A path that names no user is "not found" once the actor is known to be an administrator.
    let user = user.parse::<i64>().unwrap_or(0);
    let kind = params.kind.as_deref().filter(|kind| !kind.is_empty());
    let (memberships, total) = state.core.manage().list_user_memberships(&actor, UserId(user), kind, page.db()).await?;
    let items: Vec<Membership> = memberships
        .iter()
        .map(|membership| {
            let (source_id, source_type) = match membership.source {
                MemberSource::Namespace(id) => (id.0, "Namespace"),
                MemberSource::Project(id) => (id.0, "Project"),
            };
            Membership {
                source_id,
                source_name: membership.source_name.clone(),
                source_type,
                access_level: membership.access_level,
            }
        })
        .collect();
    Ok(paginated(&state.config.external_url, &uri, items, total, page))
}
