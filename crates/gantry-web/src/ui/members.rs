//! Members pages of groups and projects: list (direct, inherited and through shares), add,
//! change role, remove; and the groups the group or project is shared with ("Invite a group").

use askama::Template;
use axum::Extension;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use gantry_core::manage::groups::Lookup;
use gantry_core::manage::members::{EffectiveMember, MemberTarget, MembersOf};
use gantry_core::manage::sharing::{GroupLinkRow, ShareInput};
use gantry_core::manage::tokens::{format_expiry_date, parse_expiry_date};
use gantry_core::policy::{GroupAccess, ProjectAccess};
use gantry_types::{AccessLevel, NamespaceId, UserId};
use serde::Deserialize;

use super::{Chrome, Crumb, PageResult, breadcrumbs, form_error, render, role_options, see_other};
use crate::AppState;
use crate::auth::{CsrfForm, PageActor};
use crate::error::PageError;
use crate::namespace_dispatch::{NamespaceTarget, ProjectTarget};

/// One row of the members table.
pub struct MemberLine {
    pub username: String,
    pub name: String,
    pub user_id: i64,
    pub level: i64,
    pub role: &'static str,
    pub inherited_from: Option<String>,
    pub expires: Option<String>,
}

/// One group the group or project is shared with.
pub struct ShareLine {
    pub group_id: i64,
    pub full_path: String,
    pub role: &'static str,
    pub expires: Option<String>,
}

impl ShareLine {
    fn new(link: &GroupLinkRow) -> ShareLine {
        ShareLine {
            group_id: link.group_id.0,
            full_path: link.group_full_path.clone(),
            role: AccessLevel::from_i64(link.group_access).map_or("?", AccessLevel::label),
            expires: link.expires_at.map(format_expiry_date),
        }
    }
}

#[derive(Template)]
#[template(path = "members.html")]
struct MembersPage {
    chrome: Chrome,
    crumbs: Vec<Crumb>,
    title: String,
    base: String,
    members: Vec<MemberLine>,
    shares: Vec<ShareLine>,
    can_manage: bool,
    roles: Vec<(i64, &'static str)>,
    error: Option<String>,
}

/// Who the visitor is to the group or project whose members the page shows, read once.
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
    /// Checks that the visitor may manage the members (and shares), before reading a form.
    fn require_manage(&self) -> Result<(), gantry_core::CoreError> {
        match self {
            Loaded::Group(access) => access.require(gantry_core::policy::GroupAction::ManageMembers),
            Loaded::Project(access) => access.require(gantry_core::policy::ProjectAction::ManageMembers),
        }
    }
    fn full_path(&self) -> &str {
        match self {
            Loaded::Group(access) => &access.group().full_path,
            Loaded::Project(access) => &access.project().full_path,
        }
    }
}

#[derive(Clone, Copy)]
enum Which {
    Group(NamespaceTarget),
    Project(ProjectTarget),
}

async fn load(state: &AppState, visitor: &PageActor, which: Which) -> Result<(Loaded, Vec<Crumb>), PageError> {
    let core = &state.core;
    let actor = &visitor.actor;
    Ok(match which {
        Which::Group(NamespaceTarget(id)) => {
            let access = core.group_access(actor, &Lookup::Id(id.0)).await.map_err(|e| visitor.error(e))?;
            let crumbs = breadcrumbs(&core.manage().namespace_chain(access.group().id).await?, None);
            (Loaded::Group(Box::new(access)), crumbs)
        }
        Which::Project(ProjectTarget(id)) => {
            let access = core.project_access(actor, &Lookup::Id(id.0)).await.map_err(|e| visitor.error(e))?;
            let project = access.project();
            let crumbs = breadcrumbs(&core.manage().namespace_chain(project.namespace_id).await?, Some(project));
            (Loaded::Project(Box::new(access)), crumbs)
        }
    })
}

fn line(member: &EffectiveMember, loaded: &Loaded, shares: &[GroupLinkRow]) -> MemberLine {
    let direct = match (member.member.source, loaded.target()) {
        (gantry_core::MemberSource::Namespace(id), MemberTarget::Group(g)) => id == g.id,
        (gantry_core::MemberSource::Project(id), MemberTarget::Project(p)) => id == p.id,
        _ => false,
    };
    let shared_through = match member.member.source {
        gantry_core::MemberSource::Namespace(id) => shares.iter().find(|link| link.group_id == id),
        gantry_core::MemberSource::Project(_) => None,
    };
    let inherited_from = match shared_through {
        _ if direct => None,
        Some(link) => Some(format!("the shared group {}", link.group_full_path)),
        None => Some("a parent group".to_owned()),
    };
    MemberLine {
        username: member.member.user.username.clone(),
        name: member.member.user.name.clone(),
        user_id: member.member.user.id.0,
        level: member.level.as_i64(),
        role: member.level.label(),
        inherited_from,
        expires: member.member.expires_at.map(format_expiry_date),
    }
}

async fn shares_of(state: &AppState, loaded: &Loaded) -> Result<Vec<GroupLinkRow>, gantry_core::CoreError> {
    match loaded {
        Loaded::Group(access) => state.core.manage().group_shares(access).await,
        Loaded::Project(access) => state.core.manage().project_shares(access).await,
    }
}

async fn page(state: &AppState, visitor: &PageActor, which: Which, error: Option<(StatusCode, String)>) -> PageResult {
    let (loaded, crumbs) = load(state, visitor, which).await?;
    let members = state.core.manage().list_all_members(loaded.of()).await?;
    let shares = shares_of(state, &loaded).await?;
    let (status, error) = error.map_or((StatusCode::OK, None), |(s, m)| (s, Some(m)));
    let page = MembersPage {
        chrome: Chrome::new(visitor),
        crumbs,
        title: format!("Members of {}", loaded.full_path()),
        base: format!("/{}/-/members", loaded.full_path()),
        members: members.iter().map(|m| line(m, &loaded, &shares)).collect(),
        shares: shares.iter().map(ShareLine::new).collect(),
        can_manage: loaded.of().can_manage(),
        roles: role_options(),
        error,
    };
    render(status, &page)
}

#[derive(Debug, Deserialize)]
pub struct AddMemberForm {
    #[serde(default)]
    username: String,
    #[serde(default)]
    access_level: i64,
    #[serde(default)]
    expires_at: String,
}

async fn add(state: AppState, visitor: PageActor, which: Which, form: AddMemberForm) -> PageResult {
    let (loaded, _) = load(&state, &visitor, which).await?;
    let result = async {
        let user = state.core.manage().find_user_as_operator(form.username.trim()).await.map_err(|_| {
            gantry_core::CoreError::invalid_input("username", format!("no user named '{}'", form.username.trim()))
        })?;
        let level = AccessLevel::from_i64(form.access_level)
            .ok_or_else(|| gantry_core::CoreError::invalid_input("role", "must be chosen from the list"))?;
        let expires = match form.expires_at.trim() {
            "" => None,
            date => Some(parse_expiry_date(date)?),
        };
        state.core.manage().add_member(&visitor.actor, loaded.target(), user.id, level, expires).await
    }
    .await;
    match result {
        Ok(_) => see_other(&format!("/{}/-/members", loaded.full_path())),
        Err(error) => page(&state, &visitor, which, Some(form_error(error))).await,
    }
}

#[derive(Debug, Deserialize)]
pub struct UpdateMemberForm {
    #[serde(default)]
    access_level: i64,
}

async fn update(state: AppState, visitor: PageActor, which: Which, user: i64, form: UpdateMemberForm) -> PageResult {
    let (loaded, _) = load(&state, &visitor, which).await?;
    let result = match AccessLevel::from_i64(form.access_level) {
        Some(level) => state
            .core
            .manage()
            .update_member(&visitor.actor, loaded.target(), UserId(user), level, None)
            .await
            .map(|_| ()),
        None => Err(gantry_core::CoreError::invalid_input("role", "must be chosen from the list")),
    };
    match result {
        Ok(()) => see_other(&format!("/{}/-/members", loaded.full_path())),
        Err(error) => page(&state, &visitor, which, Some(form_error(error))).await,
    }
}

async fn remove(state: AppState, visitor: PageActor, which: Which, user: i64) -> PageResult {
    let (loaded, _) = load(&state, &visitor, which).await?;
    match state.core.manage().remove_member(&visitor.actor, loaded.target(), UserId(user)).await {
        Ok(()) => see_other(&format!("/{}/-/members", loaded.full_path())),
        Err(error) => page(&state, &visitor, which, Some(form_error(error))).await,
    }
}

#[derive(Debug, Deserialize)]
pub struct ShareForm {
    #[serde(default)]
    group_path: String,
    #[serde(default)]
    access_level: i64,
    #[serde(default)]
    expires_at: String,
}

async fn share(state: AppState, visitor: PageActor, which: Which, form: ShareForm) -> PageResult {
    let (loaded, _) = load(&state, &visitor, which).await?;
    loaded.require_manage().map_err(|e| visitor.error(e))?;
    let result = async {
        let path = form.group_path.trim().trim_matches('/');
        let invited = state.core.group_access(&visitor.actor, &Lookup::Path(path.to_owned())).await.map_err(|_| {
            gantry_core::CoreError::invalid_input("group", format!("no group named '{path}' that you can see"))
        })?;
        let group_access = AccessLevel::from_i64(form.access_level)
            .ok_or_else(|| gantry_core::CoreError::invalid_input("role", "must be chosen from the list"))?;
        let expires_at = match form.expires_at.trim() {
            "" => None,
            date => Some(parse_expiry_date(date)?),
        };
        let input = ShareInput { group_id: invited.group().id, group_access, expires_at };
        match &loaded {
            Loaded::Group(access) => state.core.manage().share_group(access, &input).await,
            Loaded::Project(access) => state.core.manage().share_project(access, &input).await,
        }
    }
    .await;
    match result {
        Ok(()) => see_other(&format!("/{}/-/members", loaded.full_path())),
        Err(error) => page(&state, &visitor, which, Some(form_error(error))).await,
    }
}

async fn unshare(state: AppState, visitor: PageActor, which: Which, group: i64) -> PageResult {
    let (loaded, _) = load(&state, &visitor, which).await?;
    let result = match &loaded {
        Loaded::Group(access) => state.core.manage().unshare_group(access, NamespaceId(group)).await,
        Loaded::Project(access) => state.core.manage().unshare_project(access, NamespaceId(group)).await,
    };
    match result {
        Ok(()) => see_other(&format!("/{}/-/members", loaded.full_path())),
        Err(error) => page(&state, &visitor, which, Some(form_error(error))).await,
    }
}

/// `POST /{group}/-/members/share`: invites a group.
pub async fn share_group(
    State(state): State<AppState>,
    visitor: PageActor,
    Extension(t): Extension<NamespaceTarget>,
    CsrfForm(form): CsrfForm<ShareForm>,
) -> PageResult {
    share(state, visitor, Which::Group(t), form).await
}
/// `POST /{group}/-/members/share/{group_id}/remove`
pub async fn unshare_group(
    State(state): State<AppState>,
    visitor: PageActor,
    Extension(t): Extension<NamespaceTarget>,
    Path(group): Path<i64>,
    CsrfForm(_): CsrfForm<serde::de::IgnoredAny>,
) -> PageResult {
    unshare(state, visitor, Which::Group(t), group).await
}
/// `POST /{project}/-/members/share`: invites a group.
pub async fn share_project(
    State(state): State<AppState>,
    visitor: PageActor,
    Extension(t): Extension<ProjectTarget>,
    CsrfForm(form): CsrfForm<ShareForm>,
) -> PageResult {
    share(state, visitor, Which::Project(t), form).await
}
/// `POST /{project}/-/members/share/{group_id}/remove`
pub async fn unshare_project(
    State(state): State<AppState>,
    visitor: PageActor,
    Extension(t): Extension<ProjectTarget>,
    Path(group): Path<i64>,
    CsrfForm(_): CsrfForm<serde::de::IgnoredAny>,
) -> PageResult {
    unshare(state, visitor, Which::Project(t), group).await
}

/// `GET /{group}/-/members`
pub async fn group_members(
    State(state): State<AppState>,
    visitor: PageActor,
    Extension(t): Extension<NamespaceTarget>,
) -> PageResult {
    page(&state, &visitor, Which::Group(t), None).await
}
/// `POST /{group}/-/members`
pub async fn add_group_member(
    State(state): State<AppState>,
    visitor: PageActor,
    Extension(t): Extension<NamespaceTarget>,
    CsrfForm(form): CsrfForm<AddMemberForm>,
) -> PageResult {
    add(state, visitor, Which::Group(t), form).await
}
/// `POST /{group}/-/members/{user_id}/update`
pub async fn update_group_member(
    State(state): State<AppState>,
    visitor: PageActor,
    Extension(t): Extension<NamespaceTarget>,
    Path(user): Path<i64>,
    CsrfForm(form): CsrfForm<UpdateMemberForm>,
) -> PageResult {
    update(state, visitor, Which::Group(t), user, form).await
}
/// `POST /{group}/-/members/{user_id}/remove`
pub async fn remove_group_member(
    State(state): State<AppState>,
    visitor: PageActor,
    Extension(t): Extension<NamespaceTarget>,
    Path(user): Path<i64>,
    CsrfForm(_): CsrfForm<serde::de::IgnoredAny>,
) -> PageResult {
    remove(state, visitor, Which::Group(t), user).await
}
/// `GET /{project}/-/members`
pub async fn project_members(
    State(state): State<AppState>,
    visitor: PageActor,
    Extension(t): Extension<ProjectTarget>,
) -> PageResult {
    page(&state, &visitor, Which::Project(t), None).await
}
/// `POST /{project}/-/members`
pub async fn add_project_member(
    State(state): State<AppState>,
    visitor: PageActor,
    Extension(t): Extension<ProjectTarget>,
    CsrfForm(form): CsrfForm<AddMemberForm>,
) -> PageResult {
    add(state, visitor, Which::Project(t), form).await
}
/// `POST /{project}/-/members/{user_id}/update`
pub async fn update_project_member(
    State(state): State<AppState>,
    visitor: PageActor,
    Extension(t): Extension<ProjectTarget>,
    Path(user): Path<i64>,
    CsrfForm(form): CsrfForm<UpdateMemberForm>,
) -> PageResult {
    update(state, visitor, Which::Project(t), user, form).await
}
/// `POST /{project}/-/members/{user_id}/remove`
pub async fn remove_project_member(
    State(state): State<AppState>,
    visitor: PageActor,
    Extension(t): Extension<ProjectTarget>,
    Path(user): Path<i64>,
    CsrfForm(_): CsrfForm<serde::de::IgnoredAny>,
) -> PageResult {
    remove(state, visitor, Which::Project(t), user).await
}
