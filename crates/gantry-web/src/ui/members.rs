//! Members pages of groups and projects: list (direct and inherited), add, change role, remove.

use askama::Template;
use axum::Extension;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use gantry_core::manage::groups::Lookup;
use gantry_core::manage::members::{EffectiveMember, MemberTarget, MembersOf};
use gantry_core::manage::tokens::{format_expiry_date, parse_expiry_date};
use gantry_core::policy::{GroupAccess, ProjectAccess};
use gantry_types::{AccessLevel, UserId};
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

#[derive(Template)]
#[template(path = "members.html")]
struct MembersPage {
    chrome: Chrome,
    crumbs: Vec<Crumb>,
    title: String,
    base: String,
    members: Vec<MemberLine>,
    can_manage: bool,
    roles: Vec<(i64, &'static str)>,
    error: Option<String>,
}

/// Who the visitor is to the group or project whose members the page shows, read once.
enum Loaded {
    Group(GroupAccess),
    Project(ProjectAccess),
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
            (Loaded::Group(access), crumbs)
        }
        Which::Project(ProjectTarget(id)) => {
            let access = core.project_access(actor, &Lookup::Id(id.0)).await.map_err(|e| visitor.error(e))?;
            let project = access.project();
            let crumbs = breadcrumbs(&core.manage().namespace_chain(project.namespace_id).await?, Some(project));
            (Loaded::Project(access), crumbs)
        }
    })
}

fn line(member: &EffectiveMember, loaded: &Loaded) -> MemberLine {
    let direct = match (member.member.source, loaded.target()) {
        (gantry_core::MemberSource::Namespace(id), MemberTarget::Group(g)) => id == g.id,
        (gantry_core::MemberSource::Project(id), MemberTarget::Project(p)) => id == p.id,
        _ => false,
    };
    MemberLine {
        username: member.member.user.username.clone(),
        name: member.member.user.name.clone(),
        user_id: member.member.user.id.0,
        level: member.level.as_i64(),
        role: member.level.label(),
        inherited_from: (!direct).then(|| "a parent group".to_owned()),
        expires: member.member.expires_at.map(format_expiry_date),
    }
}

async fn page(state: &AppState, visitor: &PageActor, which: Which, error: Option<(StatusCode, String)>) -> PageResult {
    let (loaded, crumbs) = load(state, visitor, which).await?;
    let members = state.core.manage().list_all_members(loaded.of()).await?;
    let (status, error) = error.map_or((StatusCode::OK, None), |(s, m)| (s, Some(m)));
    let page = MembersPage {
        chrome: Chrome::new(visitor),
        crumbs,
        title: format!("Members of {}", loaded.full_path()),
        base: format!("/{}/-/members", loaded.full_path()),
        members: members.iter().map(|m| line(m, &loaded)).collect(),
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
