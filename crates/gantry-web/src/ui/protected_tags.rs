//! The protected-tag forms of a project's repository settings (`/-/settings/repository`, drawn
//! by `repository.rs`): protect a tag name or pattern, unprotect one. Plain forms with CSRF
//! tokens; the core checks the Maintainer role.

use axum::Extension;
use axum::extract::State;
use gantry_core::code::protected_tags::ProtectTag;
use serde::Deserialize;

use super::PageResult;
use super::project_frame::ProjectFrame;
use super::repository::{DeleteRefForm, after_rule_change};
use crate::AppState;
use crate::auth::{CsrfForm, PageActor};
use crate::namespace_dispatch::ProjectTarget;

#[derive(Debug, Deserialize)]
pub struct ProtectTagForm {
    #[serde(default)]
    name: String,
    create_access_level: Option<i64>,
}

/// `POST /{project}/-/settings/repository/protected_tags`: protects a tag name or pattern.
pub async fn protect_tag(
    State(state): State<AppState>,
    visitor: PageActor,
    Extension(target): Extension<ProjectTarget>,
    CsrfForm(form): CsrfForm<ProtectTagForm>,
) -> PageResult {
    let frame = ProjectFrame::load(&state, &visitor, target).await?;
    let rule = ProtectTag { name: form.name, create_access_level: form.create_access_level };
    let outcome = state.core.code().protect_tag(&visitor.actor, &frame.project, &rule).await.map(drop);
    after_rule_change(&state, &visitor, target, &frame.project, outcome).await
}

/// `POST /{project}/-/settings/repository/protected_tags/delete`: unprotects.
pub async fn unprotect_tag(
    State(state): State<AppState>,
    visitor: PageActor,
    Extension(target): Extension<ProjectTarget>,
    CsrfForm(form): CsrfForm<DeleteRefForm>,
) -> PageResult {
    let frame = ProjectFrame::load(&state, &visitor, target).await?;
    let outcome = state.core.code().unprotect_tag(&visitor.actor, &frame.project, &form.name).await;
    after_rule_change(&state, &visitor, target, &frame.project, outcome).await
}
