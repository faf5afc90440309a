//! A group's milestones pages (`/{group}/-/milestones`): the handlers, each loading the group
//! and calling the milestones pages' shared code in `milestones.rs` (lists, a milestone with its
//! issues in the group's projects, the forms).

use axum::Extension;
use axum::extract::{Path, Query, State};
use gantry_core::plan::milestones::MilestoneStateEvent;

use super::issues::Fields;
use super::milestones::{self, Home, MilestoneListQuery};
use crate::AppState;
use crate::auth::{CsrfForm, PageActor};
use crate::namespace_dispatch::NamespaceTarget;
use crate::ui::PageResult;

/// `GET /{group}/-/milestones` (`state`: opened, closed or all)
pub async fn list(
    State(state): State<AppState>,
    visitor: PageActor,
    Extension(target): Extension<NamespaceTarget>,
    Query(query): Query<MilestoneListQuery>,
) -> PageResult {
    let home = Home::of_group(&state, &visitor, target).await?;
    milestones::list(&state, &visitor, home, &query).await
}

/// `POST /{group}/-/milestones`: creates a group milestone.
pub async fn create(
    State(state): State<AppState>,
    visitor: PageActor,
    Extension(target): Extension<NamespaceTarget>,
    CsrfForm(form): CsrfForm<Vec<(String, String)>>,
) -> PageResult {
    let home = Home::of_group(&state, &visitor, target).await?;
    milestones::create(&state, &visitor, home, Fields(form)).await
}

/// `GET /{group}/-/milestones/{iid}`: with its issues in the group's projects.
pub async fn show(
    State(state): State<AppState>,
    visitor: PageActor,
    Extension(target): Extension<NamespaceTarget>,
    Path(iid): Path<String>,
) -> PageResult {
    let home = Home::of_group(&state, &visitor, target).await?;
    milestones::show(&state, &visitor, home, &iid).await
}

/// `GET /{group}/-/milestones/{iid}/edit`
pub async fn edit(
    State(state): State<AppState>,
    visitor: PageActor,
    Extension(target): Extension<NamespaceTarget>,
    Path(iid): Path<String>,
) -> PageResult {
    let home = Home::of_group(&state, &visitor, target).await?;
    milestones::edit(&state, &visitor, home, &iid).await
}

/// `POST /{group}/-/milestones/{iid}/edit`
pub async fn save(
    State(state): State<AppState>,
    visitor: PageActor,
    Extension(target): Extension<NamespaceTarget>,
    Path(iid): Path<String>,
    CsrfForm(form): CsrfForm<Vec<(String, String)>>,
) -> PageResult {
    let home = Home::of_group(&state, &visitor, target).await?;
    milestones::save(&state, &visitor, home, &iid, Fields(form)).await
}

/// `POST /{group}/-/milestones/{iid}/close`
pub async fn close(
    State(state): State<AppState>,
    visitor: PageActor,
    Extension(target): Extension<NamespaceTarget>,
    Path(iid): Path<String>,
    CsrfForm(_form): CsrfForm<Vec<(String, String)>>,
) -> PageResult {
    let home = Home::of_group(&state, &visitor, target).await?;
    milestones::change_state(&state, &visitor, home, &iid, MilestoneStateEvent::Close).await
}

/// `POST /{group}/-/milestones/{iid}/reopen`
pub async fn reopen(
    State(state): State<AppState>,
    visitor: PageActor,
    Extension(target): Extension<NamespaceTarget>,
    Path(iid): Path<String>,
    CsrfForm(_form): CsrfForm<Vec<(String, String)>>,
) -> PageResult {
    let home = Home::of_group(&state, &visitor, target).await?;
    milestones::change_state(&state, &visitor, home, &iid, MilestoneStateEvent::Activate).await
}

/// `POST /{group}/-/milestones/{iid}/delete`: deletes once confirmed (unconfirmed, it asks on a
/// page of its own).
pub async fn delete(
    State(state): State<AppState>,
    visitor: PageActor,
    Extension(target): Extension<NamespaceTarget>,
    Path(iid): Path<String>,
    CsrfForm(form): CsrfForm<Vec<(String, String)>>,
) -> PageResult {
    let home = Home::of_group(&state, &visitor, target).await?;
    milestones::delete(&state, &visitor, home, &iid, Fields(form)).await
}
