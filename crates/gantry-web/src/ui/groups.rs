//! Group pages: new group, overview (subgroups, projects, members), settings, transfer,
//! deletion. The overview also serves users' personal namespaces.

use askama::Template;
use axum::Extension;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use gantry_core::manage::groups::{GroupChanges, Lookup, NewGroup};
use gantry_core::manage::members::MembersOf;
use gantry_core::manage::projects::ProjectQuery;
use gantry_core::policy::{GroupAccess, GroupAction};
use gantry_core::{MemberRow, NamespaceKind, NamespaceRow, Page, ProjectRow};
use gantry_types::{NamespaceId, Visibility};
use serde::Deserialize;

use super::{Chrome, Crumb, PageResult, breadcrumbs, form_error, render, see_other};
use crate::AppState;
use crate::auth::{CsrfForm, PageActor};
use crate::namespace_dispatch::NamespaceTarget;

#[derive(Template)]
#[template(path = "groups/new.html")]
struct NewGroupPage {
    chrome: Chrome,
    parent: Option<NamespaceRow>,
    name: String,
    path: String,
    description: String,
    visibility: String,
    error: Option<String>,
}

#[derive(Template)]
#[template(path = "groups/show.html")]
struct GroupPage {
    chrome: Chrome,
    crumbs: Vec<Crumb>,
    group: NamespaceRow,
    is_user: bool,
    subgroups: Vec<NamespaceRow>,
    projects: Vec<ProjectRow>,
    members: Vec<MemberRow>,
    can_create_project: bool,
    can_create_subgroup: bool,
    can_admin: bool,
    /// The signed-in visitor's notification level choices for the group (none for others).
    levels: Vec<crate::ui::plan::todos::LevelChoice>,
    levels_action: String,
}

#[derive(Template)]
#[template(path = "groups/settings.html")]
struct GroupSettingsPage {
    chrome: Chrome,
    crumbs: Vec<Crumb>,
    group: NamespaceRow,
    /// Where the transfer form can move the group.
    transfer_targets: Vec<NamespaceRow>,
    error: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub struct NewGroupQuery {
    parent_id: Option<i64>,
}

async fn parent_group(
    state: &AppState,
    visitor: &PageActor,
    parent: Option<i64>,
) -> Result<Option<NamespaceRow>, crate::error::PageError> {
    match parent {
        Some(id) => {
            Ok(Some(state.core.find_group(&visitor.actor, &Lookup::Id(id)).await.map_err(|e| visitor.error(e))?.0))
        }
        None => Ok(None),
    }
}

/// `GET /groups/new[?parent_id=N]`
pub async fn new_group_form(
    State(state): State<AppState>,
    visitor: PageActor,
    Query(query): Query<NewGroupQuery>,
) -> PageResult {
    visitor.require_user()?;
    let parent = parent_group(&state, &visitor, query.parent_id).await?;
    let page = NewGroupPage {
        chrome: Chrome::new(&visitor),
        parent,
        name: String::new(),
        path: String::new(),
        description: String::new(),
        visibility: "private".into(),
        error: None,
    };
    render(StatusCode::OK, &page)
}

#[derive(Debug, Deserialize)]
pub struct GroupForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    path: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    visibility: String,
    parent_id: Option<i64>,
}

/// `POST /groups`
pub async fn create_group(
    State(state): State<AppState>,
    visitor: PageActor,
    CsrfForm(form): CsrfForm<GroupForm>,
) -> PageResult {
    visitor.require_user()?;
    let new = NewGroup {
        name: form.name.clone(),
        path: form.path.clone(),
        description: form.description.clone(),
        visibility: Visibility::parse(&form.visibility),
        parent: form.parent_id.map(NamespaceId),
    };
    match state.core.manage().create_group(&visitor.actor, &new).await {
        Ok(group) => see_other(&format!("/{}", group.full_path)),
        Err(error) => {
            let (status, message) = form_error(error);
            let parent = parent_group(&state, &visitor, form.parent_id).await?;
            let page = NewGroupPage {
                chrome: Chrome::new(&visitor),
                parent,
                name: form.name,
                path: form.path,
                description: form.description,
                visibility: form.visibility,
                error: Some(message),
            };
            render(status, &page)
        }
    }
}

/// `GET /{namespace}`: a group's overview, or a user's projects.
pub async fn show(
    State(state): State<AppState>,
    visitor: PageActor,
    Extension(NamespaceTarget(id)): Extension<NamespaceTarget>,
) -> PageResult {
    let actor = &visitor.actor;
    let core = &state.core;
    let chain = core.manage().namespace_chain(id).await?;
    let namespace =
        chain.last().cloned().ok_or_else(|| visitor.error(gantry_core::CoreError::NotFound("namespace")))?;
    let page_size = Page { offset: 0, limit: 100 };
    if namespace.kind == NamespaceKind::User {
        let (projects, _) = core
            .manage()
            .list_projects(actor, &ProjectQuery::default(), Some((namespace.id, false)), page_size)
            .await?;
        let is_owner = actor.user().is_some_and(|u| namespace.owner_id == Some(u.id));
        let page = GroupPage {
            chrome: Chrome::new(&visitor),
            crumbs: breadcrumbs(&chain, None),
            group: namespace,
            is_user: true,
            subgroups: Vec::new(),
            projects,
            members: Vec::new(),
            can_create_project: is_owner,
            can_create_subgroup: false,
            can_admin: false,
            levels: Vec::new(),
            levels_action: String::new(),
        };
        return render(StatusCode::OK, &page);
    }
    let access = core.group_access(actor, &Lookup::Id(id.0)).await.map_err(|e| visitor.error(e))?;
    let (subgroups, _) = core.manage().list_subgroups(&access, page_size).await?;
    let (projects, _) = core
        .manage()
        .list_projects(actor, &ProjectQuery::default(), Some((access.group().id, false)), page_size)
        .await?;
    let members = core.manage().list_members(MembersOf::Group(&access)).await?;
    let levels =
        crate::ui::plan::todos::level_form(&state, &visitor, gantry_core::plan::todos::LevelOf::Group(&access)).await?;
    let page = GroupPage {
        levels,
        levels_action: format!("/{}/-/notifications", access.group().full_path),
        chrome: Chrome::new(&visitor),
        crumbs: breadcrumbs(&chain, None),
        is_user: false,
        subgroups,
        projects,
        members,
        can_create_project: access.can(GroupAction::CreateProject),
        can_create_subgroup: access.can(GroupAction::CreateSubgroup),
        can_admin: access.can(GroupAction::Update),
        group: access.into_group(),
    };
    render(StatusCode::OK, &page)
}

/// The group whose settings the visitor changes (Owner), with its breadcrumbs.
async fn load_for_admin(
    state: &AppState,
    visitor: &PageActor,
    id: NamespaceId,
) -> Result<(GroupAccess, Vec<Crumb>), crate::error::PageError> {
    let access = state.core.group_access(&visitor.actor, &Lookup::Id(id.0)).await.map_err(|e| visitor.error(e))?;
    access.require(GroupAction::Update).map_err(|e| visitor.error(e))?;
    let chain = state.core.manage().namespace_chain(access.group().id).await?;
    Ok((access, breadcrumbs(&chain, None)))
}

/// `GET /{group}/-/settings`
pub async fn settings(
    State(state): State<AppState>,
    visitor: PageActor,
    Extension(NamespaceTarget(id)): Extension<NamespaceTarget>,
) -> PageResult {
    let (access, crumbs) = load_for_admin(&state, &visitor, id).await?;
    let transfer_targets = state.core.manage().transfer_targets(&access).await?;
    let group = access.into_group();
    let page = GroupSettingsPage { chrome: Chrome::new(&visitor), crumbs, group, transfer_targets, error: None };
    render(StatusCode::OK, &page)
}

#[derive(Debug, Deserialize)]
pub struct GroupSettingsForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    path: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    visibility: String,
}

/// `POST /{group}/-/settings`
pub async fn save_settings(
    State(state): State<AppState>,
    visitor: PageActor,
    Extension(NamespaceTarget(id)): Extension<NamespaceTarget>,
    CsrfForm(form): CsrfForm<GroupSettingsForm>,
) -> PageResult {
    let (access, crumbs) = load_for_admin(&state, &visitor, id).await?;
    let transfer_targets = state.core.manage().transfer_targets(&access).await?;
    let group = access.into_group();
    let changes = GroupChanges {
        name: Some(form.name),
        path: Some(form.path),
        description: Some(form.description),
        visibility: Visibility::parse(&form.visibility),
    };
    match state.core.manage().update_group(&visitor.actor, &group, &changes).await {
        Ok(updated) => see_other(&format!("/{}/-/settings", updated.full_path)),
        Err(error) => {
            let (status, message) = form_error(error);
            let page = GroupSettingsPage {
                chrome: Chrome::new(&visitor),
                crumbs,
                group,
                transfer_targets,
                error: Some(message),
            };
            render(status, &page)
        }
    }
}

#[derive(Debug, Deserialize)]
pub struct DeleteForm {
    #[serde(default)]
    confirm_path: String,
}

/// `POST /{group}/-/delete`: the full path must be typed to confirm.
pub async fn delete(
    State(state): State<AppState>,
    visitor: PageActor,
    Extension(NamespaceTarget(id)): Extension<NamespaceTarget>,
    CsrfForm(form): CsrfForm<DeleteForm>,
) -> PageResult {
    let (access, crumbs) = load_for_admin(&state, &visitor, id).await?;
    access.require(GroupAction::Delete).map_err(|e| visitor.error(e))?;
    let transfer_targets = state.core.manage().transfer_targets(&access).await?;
    let group = access.into_group();
    if form.confirm_path.trim() != group.full_path {
        let error = Some(format!("Type {} to confirm the deletion.", group.full_path));
        let page = GroupSettingsPage { chrome: Chrome::new(&visitor), crumbs, group, transfer_targets, error };
        return render(StatusCode::BAD_REQUEST, &page);
    }
    state.core.manage().delete_group(&visitor.actor, &group).await.map_err(|e| visitor.error(e))?;
    see_other("/dashboard")
}

#[derive(Debug, Deserialize)]
pub struct TransferForm {
    /// The new parent's id; empty for the top level.
    #[serde(default)]
    group_id: String,
}

/// `POST /{group}/-/transfer`: moves the group under another group or to the top level.
pub async fn transfer(
    State(state): State<AppState>,
    visitor: PageActor,
    Extension(NamespaceTarget(id)): Extension<NamespaceTarget>,
    CsrfForm(form): CsrfForm<TransferForm>,
) -> PageResult {
    let (access, crumbs) = load_for_admin(&state, &visitor, id).await?;
    access.require(GroupAction::Transfer).map_err(|e| visitor.error(e))?;
    let parent = match form.group_id.trim() {
        "" => Ok(None),
        text => text
            .parse::<i64>()
            .map(|parent| Some(NamespaceId(parent)))
            .map_err(|_| gantry_core::CoreError::invalid_input("group_id", "must be chosen from the list")),
    };
    let moved = match parent {
        Ok(parent) => state.core.manage().transfer_group(&access, parent).await,
        Err(error) => Err(error),
    };
    match moved {
        Ok(moved) => see_other(&format!("/{}/-/settings", moved.full_path)),
        Err(error) => {
            let transfer_targets = state.core.manage().transfer_targets(&access).await?;
            let (status, message) = form_error(error);
            let group = access.into_group();
            let page = GroupSettingsPage {
                chrome: Chrome::new(&visitor),
                crumbs,
                group,
                transfer_targets,
                error: Some(message),
            };
            render(status, &page)
        }
    }
}
