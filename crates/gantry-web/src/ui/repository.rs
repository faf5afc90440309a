//! Repository pages of a project: branches (`/-/branches`), tags (`/-/tags`), protected
//! branches and tags (`/-/settings/repository`; the tag rules' forms are `protected_tags.rs`).

use askama::Template;
use axum::Extension;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use gantry_core::code::branches::{BranchView, TagView};
use gantry_core::code::protected_branches::{ProtectBranch, ProtectedBranchRow, RULE_LEVELS, rule_level_label};
use gantry_core::code::protected_tags::ProtectedTagRow;
use gantry_core::policy::ProjectAction;
use gantry_core::{CoreError, ProjectRow, now_millis};
use serde::Deserialize;

use super::project_frame::ProjectFrame;
use super::{Chrome, PageResult, form_error, render, see_other};
use crate::AppState;
use crate::auth::{CsrfForm, PageActor};
use crate::namespace_dispatch::ProjectTarget;
use crate::time_format::ago;
use crate::ui::flash::{Flash, see_other_with};

#[derive(Debug, Default, Deserialize)]
pub struct SearchQuery {
    #[serde(default)]
    search: String,
}

/// A branch row of the branches page.
pub struct BranchRow {
    pub view: BranchView,
    pub updated: String,
    pub can_delete: bool,
    /// The branch tip's newest pipeline (id, status label).
    pub pipeline: Option<(gantry_types::PipelineId, &'static str)>,
}

#[derive(Template)]
#[template(path = "projects/branches.html")]
struct BranchesPage {
    chrome: Chrome,
    frame: ProjectFrame,
    tab: &'static str,
    branches: Vec<BranchRow>,
    search: String,
    error: Option<String>,
    new_branch: String,
    new_ref: String,
}

async fn branches_page(
    state: &AppState,
    visitor: &PageActor,
    target: ProjectTarget,
    search: String,
    error: Option<(StatusCode, String)>,
    typed: (String, String),
) -> PageResult {
    let frame = ProjectFrame::load(state, visitor, target).await?;
    frame.require(visitor, ProjectAction::ReadCode)?;
    let found = if state.core.repos().is_empty(frame.project.id) {
        Vec::new()
    } else {
        let filter = Some(search.as_str()).filter(|s| !s.is_empty());
        state.core.code().list_branches(&frame.access, filter).await.map_err(|e| visitor.error(e))?
    };
    let now = now_millis();
    let tips: Vec<String> = found.iter().map(|view| view.branch.commit.id.clone()).collect();
    let pipelines = state.core.ci().pipelines_of_commits(&frame.access, &tips).await?;
    let may_delete_protected = frame.access.can(ProjectAction::ManageProtectedBranches);
    let branches = found
        .into_iter()
        .map(|view| BranchRow {
            pipeline: pipelines.get(&view.branch.commit.id).map(|p| (p.id, p.status.label())),
            updated: ago(view.branch.commit.committed_date.saturating_mul(1000), now),
            can_delete: frame.can_push && !view.default && (!view.protected || may_delete_protected),
            view,
        })
        .collect();
    let (status, error) = error.map_or((StatusCode::OK, None), |(s, m)| (s, Some(m)));
    let page = BranchesPage {
        chrome: Chrome::new(visitor),
        frame,
        tab: "branches",
        branches,
        search,
        error,
        new_branch: typed.0,
        new_ref: typed.1,
    };
    render(status, &page)
}

/// `GET /{project}/-/branches`
pub async fn branches(
    State(state): State<AppState>,
    visitor: PageActor,
    Extension(target): Extension<ProjectTarget>,
    Query(query): Query<SearchQuery>,
) -> PageResult {
    branches_page(&state, &visitor, target, query.search, None, (String::new(), String::new())).await
}

#[derive(Debug, Deserialize)]
pub struct NewBranchForm {
    #[serde(default)]
    branch: String,
    #[serde(default, rename = "ref")]
    revision: String,
}

/// `POST /{project}/-/branches`: creates a branch.
pub async fn create_branch(
    State(state): State<AppState>,
    visitor: PageActor,
    Extension(target): Extension<ProjectTarget>,
    CsrfForm(form): CsrfForm<NewBranchForm>,
) -> PageResult {
    let frame = ProjectFrame::load(&state, &visitor, target).await?;
    let revision = if form.revision.trim().is_empty() { frame.project.default_branch.clone() } else { form.revision };
    match state.core.code().create_branch(&visitor.actor, &frame.project, &form.branch, &revision).await {
        Ok(_) => see_other(&format!("/{}/-/branches", frame.project.full_path)),
        Err(error @ (CoreError::Invalid { .. } | CoreError::Conflict(_) | CoreError::Forbidden(_))) => {
            let failure = Some(form_error(error));
            branches_page(&state, &visitor, target, String::new(), failure, (form.branch, revision)).await
        }
        Err(error) => Err(visitor.error(error)),
    }
}

#[derive(Debug, Deserialize)]
pub struct DeleteRefForm {
    #[serde(default)]
    pub(super) name: String,
    /// `yes` once the visitor confirmed (the branches page's script asks; without it the
    /// confirmation page does).
    #[serde(default)]
    confirm: String,
}

/// The page that asks before a branch or tag is deleted (when the browser's script did not).
#[derive(Template)]
#[template(path = "projects/ref_delete.html")]
struct DeleteRefPage {
    chrome: Chrome,
    frame: ProjectFrame,
    /// The tab, which is also the path of its pages: `branches` or `tags`.
    tab: &'static str,
    /// `branch` or `tag`.
    kind: &'static str,
    name: String,
}

/// Asks whether to delete the `kind` named `name` (the visitor must be one who may push).
fn ask_before_deleting(visitor: &PageActor, frame: ProjectFrame, kind: &'static str, name: String) -> PageResult {
    frame.require(visitor, ProjectAction::PushCode)?;
    let tab = if kind == "branch" { "branches" } else { "tags" };
    render(StatusCode::OK, &DeleteRefPage { chrome: Chrome::new(visitor), frame, tab, kind, name })
}

/// `POST /{project}/-/branches/delete`: deletes the branch named in the form once confirmed
/// (unconfirmed, it asks on a page of its own), then says so on the branches page.
pub async fn delete_branch(
    State(state): State<AppState>,
    visitor: PageActor,
    Extension(target): Extension<ProjectTarget>,
    CsrfForm(form): CsrfForm<DeleteRefForm>,
) -> PageResult {
    let frame = ProjectFrame::load(&state, &visitor, target).await?;
    if form.confirm != "yes" {
        return ask_before_deleting(&visitor, frame, "branch", form.name);
    }
    match state.core.code().delete_branch(&visitor.actor, &frame.project, &form.name).await {
        Ok(()) => {
            let location = format!("/{}/-/branches", frame.project.full_path);
            see_other_with(&state, &visitor, &location, &Flash::notice(format!("Branch {} was deleted.", form.name)))
        }
        Err(error @ (CoreError::Invalid { .. } | CoreError::Conflict(_))) => {
            let failure = Some(form_error(error));
            branches_page(&state, &visitor, target, String::new(), failure, (String::new(), String::new())).await
        }
        Err(error) => Err(visitor.error(error)),
    }
}

/// A tag row of the tags page.
pub struct TagRow {
    pub view: TagView,
    pub updated: String,
    /// The visitor may delete it (a protected tag: Maintainers only).
    pub can_delete: bool,
}

#[derive(Template)]
#[template(path = "projects/tags.html")]
struct TagsPage {
    chrome: Chrome,
    frame: ProjectFrame,
    tab: &'static str,
    tags: Vec<TagRow>,
    search: String,
    error: Option<String>,
    new_tag: String,
    new_ref: String,
    new_message: String,
}

async fn tags_page(
    state: &AppState,
    visitor: &PageActor,
    target: ProjectTarget,
    search: String,
    error: Option<(StatusCode, String)>,
    typed: (String, String, String),
) -> PageResult {
    let frame = ProjectFrame::load(state, visitor, target).await?;
    frame.require(visitor, ProjectAction::ReadCode)?;
    let found = if state.core.repos().is_empty(frame.project.id) {
        Vec::new()
    } else {
        let filter = Some(search.as_str()).filter(|s| !s.is_empty());
        state.core.code().list_tags(&frame.access, filter).await.map_err(|e| visitor.error(e))?
    };
    let now = now_millis();
    let may_delete_protected = frame.access.can(ProjectAction::ManageProtectedTags);
    let tags = found
        .into_iter()
        .map(|view| TagRow {
            updated: ago(view.tag.commit.committed_date.saturating_mul(1000), now),
            can_delete: frame.can_push && (!view.protected || may_delete_protected),
            view,
        })
        .collect();
    let (status, error) = error.map_or((StatusCode::OK, None), |(s, m)| (s, Some(m)));
    let (new_tag, new_ref, new_message) = typed;
    let page = TagsPage {
        chrome: Chrome::new(visitor),
        frame,
        tab: "tags",
        tags,
        search,
        error,
        new_tag,
        new_ref,
        new_message,
    };
    render(status, &page)
}

/// `GET /{project}/-/tags`
pub async fn tags(
    State(state): State<AppState>,
    visitor: PageActor,
    Extension(target): Extension<ProjectTarget>,
    Query(query): Query<SearchQuery>,
) -> PageResult {
    tags_page(&state, &visitor, target, query.search, None, Default::default()).await
}

#[derive(Debug, Deserialize)]
pub struct NewTagForm {
    #[serde(default)]
    tag_name: String,
    #[serde(default, rename = "ref")]
    revision: String,
    #[serde(default)]
    message: String,
}

/// `POST /{project}/-/tags`: creates a tag (annotated when a message is given).
pub async fn create_tag(
    State(state): State<AppState>,
    visitor: PageActor,
    Extension(target): Extension<ProjectTarget>,
    CsrfForm(form): CsrfForm<NewTagForm>,
) -> PageResult {
    let frame = ProjectFrame::load(&state, &visitor, target).await?;
    let revision = if form.revision.trim().is_empty() { frame.project.default_branch.clone() } else { form.revision };
    match state.core.code().create_tag(&visitor.actor, &frame.project, &form.tag_name, &revision, &form.message).await {
        Ok(_) => see_other(&format!("/{}/-/tags", frame.project.full_path)),
        Err(error @ (CoreError::Invalid { .. } | CoreError::Conflict(_) | CoreError::Forbidden(_))) => {
            let failure = Some(form_error(error));
            let typed = (form.tag_name, revision, form.message);
            tags_page(&state, &visitor, target, String::new(), failure, typed).await
        }
        Err(error) => Err(visitor.error(error)),
    }
}

/// `POST /{project}/-/tags/delete`: deletes the tag named in the form once confirmed (as a
/// branch), then says so on the tags page.
pub async fn delete_tag(
    State(state): State<AppState>,
    visitor: PageActor,
    Extension(target): Extension<ProjectTarget>,
    CsrfForm(form): CsrfForm<DeleteRefForm>,
) -> PageResult {
    let frame = ProjectFrame::load(&state, &visitor, target).await?;
    if form.confirm != "yes" {
        return ask_before_deleting(&visitor, frame, "tag", form.name);
    }
    match state.core.code().delete_tag(&visitor.actor, &frame.project, &form.name).await {
        Ok(()) => {
            let location = format!("/{}/-/tags", frame.project.full_path);
            see_other_with(&state, &visitor, &location, &Flash::notice(format!("Tag {} was deleted.", form.name)))
        }
        Err(error @ (CoreError::Conflict(_) | CoreError::Forbidden(_))) if frame.can_push => {
            tags_page(&state, &visitor, target, String::new(), Some(form_error(error)), Default::default()).await
        }
        Err(error) => Err(visitor.error(error)),
    }
}

#[derive(Template)]
#[template(path = "projects/repository_settings.html")]
struct RepositorySettingsPage {
    chrome: Chrome,
    frame: ProjectFrame,
    tab: &'static str,
    rules: Vec<ProtectedBranchRow>,
    levels: Vec<(i64, &'static str)>,
    branch_names: Vec<String>,
    tag_rules: Vec<ProtectedTagRow>,
    tag_names: Vec<String>,
    error: Option<String>,
    /// Administrators may check the repository; the outcome of a check just made.
    can_check: bool,
    check: Option<(bool, String)>,
}

impl RepositorySettingsPage {
    /// Who may create tags under a protected-tag rule.
    fn tag_level(&self, rule: &ProtectedTagRow) -> &'static str {
        rule_level_label(rule.create_access_level)
    }
}

async fn repository_settings_page(
    state: &AppState,
    visitor: &PageActor,
    target: ProjectTarget,
    error: Option<(StatusCode, String)>,
) -> PageResult {
    settings_with_check(state, visitor, target, error, None).await
}

async fn settings_with_check(
    state: &AppState,
    visitor: &PageActor,
    target: ProjectTarget,
    error: Option<(StatusCode, String)>,
    check: Option<(bool, String)>,
) -> PageResult {
    let frame = ProjectFrame::load(state, visitor, target).await?;
    frame.require(visitor, ProjectAction::ManageProtectedBranches)?;
    let rules = state.core.code().list_protected_branches(&frame.access).await.map_err(|e| visitor.error(e))?;
    let tag_rules = state.core.code().list_protected_tags(&frame.access).await.map_err(|e| visitor.error(e))?;
    let (branch_names, tag_names) = if state.core.repos().is_empty(frame.project.id) {
        (Vec::new(), Vec::new())
    } else {
        let branches = state.core.code().list_branches(&frame.access, None).await.map_err(|e| visitor.error(e))?;
        let tags = state.core.code().list_tags(&frame.access, None).await.map_err(|e| visitor.error(e))?;
        (branches.into_iter().map(|b| b.branch.name).collect(), tags.into_iter().map(|t| t.tag.name).collect())
    };
    let (status, error) = error.map_or((StatusCode::OK, None), |(s, m)| (s, Some(m)));
    let levels = RULE_LEVELS.iter().rev().map(|l| (*l, rule_level_label(*l))).collect();
    let page = RepositorySettingsPage {
        chrome: Chrome::new(visitor),
        frame,
        tab: "settings",
        rules,
        levels,
        branch_names,
        tag_rules,
        tag_names,
        error,
        can_check: gantry_core::policy::administers(&visitor.actor),
        check,
    };
    render(status, &page)
}

/// `GET /{project}/-/settings/repository`
pub async fn repository_settings(
    State(state): State<AppState>,
    visitor: PageActor,
    Extension(target): Extension<ProjectTarget>,
) -> PageResult {
    repository_settings_page(&state, &visitor, target, None).await
}

#[derive(Debug, Deserialize)]
pub struct ProtectForm {
    #[serde(default)]
    name: String,
    push_access_level: Option<i64>,
    merge_access_level: Option<i64>,
    /// A checkbox: present when ticked.
    allow_force_push: Option<String>,
}

impl ProtectForm {
    fn rule(&self) -> ProtectBranch {
        ProtectBranch {
            name: self.name.clone(),
            push_access_level: self.push_access_level,
            merge_access_level: self.merge_access_level,
            allow_force_push: Some(self.allow_force_push.is_some()),
        }
    }
}

/// Back to the settings page after a rule changed, or the page again with what was wrong.
pub(super) async fn after_rule_change(
    state: &AppState,
    visitor: &PageActor,
    target: ProjectTarget,
    project: &ProjectRow,
    outcome: Result<(), CoreError>,
) -> PageResult {
    match outcome {
        Ok(()) => see_other(&format!("/{}/-/settings/repository", project.full_path)),
        Err(error @ (CoreError::Invalid { .. } | CoreError::Conflict(_))) => {
            repository_settings_page(state, visitor, target, Some(form_error(error))).await
        }
        Err(error) => Err(visitor.error(error)),
    }
}

/// `POST /{project}/-/settings/repository/protected_branches`: protects a branch or pattern.
pub async fn protect_branch(
    State(state): State<AppState>,
    visitor: PageActor,
    Extension(target): Extension<ProjectTarget>,
    CsrfForm(form): CsrfForm<ProtectForm>,
) -> PageResult {
    let frame = ProjectFrame::load(&state, &visitor, target).await?;
    let outcome = state.core.code().protect_branch(&visitor.actor, &frame.project, &form.rule()).await.map(drop);
    after_rule_change(&state, &visitor, target, &frame.project, outcome).await
}

/// `POST /{project}/-/settings/repository/protected_branches/update`: changes a rule.
pub async fn update_protected_branch(
    State(state): State<AppState>,
    visitor: PageActor,
    Extension(target): Extension<ProjectTarget>,
    CsrfForm(form): CsrfForm<ProtectForm>,
) -> PageResult {
    let frame = ProjectFrame::load(&state, &visitor, target).await?;
    let outcome = state
        .core
        .code()
        .update_protected_branch(&visitor.actor, &frame.project, &form.name, &form.rule())
        .await
        .map(drop);
    after_rule_change(&state, &visitor, target, &frame.project, outcome).await
}

/// `POST /{project}/-/settings/repository/protected_branches/delete`: unprotects.
pub async fn unprotect_branch(
    State(state): State<AppState>,
    visitor: PageActor,
    Extension(target): Extension<ProjectTarget>,
    CsrfForm(form): CsrfForm<DeleteRefForm>,
) -> PageResult {
    let frame = ProjectFrame::load(&state, &visitor, target).await?;
    let outcome = state.core.code().unprotect_branch(&visitor.actor, &frame.project, &form.name).await;
    after_rule_change(&state, &visitor, target, &frame.project, outcome).await
}

/// `POST /{project}/-/settings/repository/fsck`: runs `git fsck` (administrators).
pub async fn check_repository(
    State(state): State<AppState>,
    visitor: PageActor,
    Extension(target): Extension<ProjectTarget>,
    CsrfForm(_): CsrfForm<serde::de::IgnoredAny>,
) -> PageResult {
    visitor.require_user()?;
    let frame = ProjectFrame::load(&state, &visitor, target).await?;
    let outcome =
        state.core.code().check_repository(&visitor.actor, &frame.project).await.map_err(|e| visitor.error(e))?;
    settings_with_check(&state, &visitor, target, None, Some(outcome)).await
}
