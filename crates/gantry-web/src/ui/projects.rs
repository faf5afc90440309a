//! Project pages: new project, overview (topics, clone addresses, the latest commit, the
//! languages bar and the activity feed, or the empty-repository instructions), settings
//! (general with topics, transfer, archive, delete).

use askama::Template;
use axum::Extension;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use gantry_core::code::languages::LanguageShare;
use gantry_core::manage::groups::Lookup;
use gantry_core::manage::projects::{NewProjectInput, ProjectChanges};
use gantry_core::plan::todos::LevelOf;
use gantry_core::policy::ProjectAction;
use gantry_core::{NamespaceRow, ProjectRow};
use gantry_types::{AccessLevel, NamespaceId, Visibility};
use serde::Deserialize;

use super::activity::ActivityLine;
use super::code::{find_readme, render_readme};
use super::project_frame::ProjectFrame;
use super::{Chrome, Crumb, PageResult, breadcrumbs, form_error, render, see_other};
use crate::AppState;
use crate::auth::{CsrfForm, PageActor};
use crate::error::PageError;
use crate::namespace_dispatch::ProjectTarget;
use gantry_git::read::PathObject;
use gantry_git::refs::CommitSummary;

#[derive(Template)]
#[template(path = "projects/new.html")]
struct NewProjectPage {
    chrome: Chrome,
    namespaces: Vec<NamespaceRow>,
    namespace_id: i64,
    name: String,
    path: String,
    description: String,
    visibility: String,
    initialize_with_readme: bool,
    error: Option<String>,
}

#[derive(Template)]
#[template(path = "projects/show.html")]
struct ProjectPage {
    chrome: Chrome,
    frame: ProjectFrame,
    tab: &'static str,
    http_url: String,
    ssh_url: String,
    /// `None` while the repository is empty.
    code: Option<CodeSummary>,
    /// The default branch's README: file name and HTML.
    readme: Option<(String, String)>,
    activity: Vec<ActivityLine>,
    /// The project's topic names, sorted.
    topics: Vec<String>,
    /// The signed-in visitor's notification level choices for the project (none for others).
    levels: Vec<crate::ui::plan::todos::LevelChoice>,
    levels_action: String,
}

/// What the overview says about a repository with commits.
struct CodeSummary {
    branches: usize,
    tags: usize,
    last_commit: Option<CommitSummary>,
    last_commit_when: String,
    /// The default branch's languages, largest first (none when it holds no code).
    languages: Vec<LanguageShare>,
}

impl CodeSummary {
    /// The languages in words, for those who do not see the bar.
    fn languages_label(&self) -> String {
        let parts: Vec<String> =
            self.languages.iter().map(|language| format!("{} {}%", language.name, language.share)).collect();
        format!("Languages: {}", parts.join(", "))
    }
}

#[derive(Template)]
#[template(path = "projects/settings.html")]
struct ProjectSettingsPage {
    chrome: Chrome,
    frame: ProjectFrame,
    tab: &'static str,
    project: ProjectRow,
    /// The project's topic names, comma-separated (the form's field).
    topics: String,
    namespaces: Vec<NamespaceRow>,
    can_owner: bool,
    /// The project is a CI/CD Catalog resource (`_catalog_setting.html`).
    catalog_resource: bool,
    error: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub struct NewProjectQuery {
    namespace_id: Option<i64>,
}

/// `GET /projects/new[?namespace_id=N]`
pub async fn new_project_form(
    State(state): State<AppState>,
    visitor: PageActor,
    Query(query): Query<NewProjectQuery>,
) -> PageResult {
    visitor.require_user()?;
    let namespaces = state.core.manage().namespaces_for_new_project(&visitor.actor).await?;
    let visibility = state.core.manage().default_project_visibility().await?;
    let page = NewProjectPage {
        chrome: Chrome::new(&visitor),
        namespace_id: query.namespace_id.unwrap_or_else(|| namespaces.first().map_or(0, |n| n.id.0)),
        namespaces,
        name: String::new(),
        path: String::new(),
        description: String::new(),
        visibility: visibility.as_str().into(),
        initialize_with_readme: false,
        error: None,
    };
    render(StatusCode::OK, &page)
}

#[derive(Debug, Deserialize)]
pub struct NewProjectForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    path: String,
    namespace_id: Option<i64>,
    #[serde(default)]
    description: String,
    #[serde(default)]
    visibility: String,
    /// A checkbox: present when ticked.
    initialize_with_readme: Option<String>,
}

/// `POST /projects`
pub async fn create_project(
    State(state): State<AppState>,
    visitor: PageActor,
    CsrfForm(form): CsrfForm<NewProjectForm>,
) -> PageResult {
    visitor.require_user()?;
    let input = NewProjectInput {
        name: form.name.clone(),
        path: form.path.clone(),
        namespace: form.namespace_id.map(NamespaceId),
        description: form.description.clone(),
        visibility: Visibility::parse(&form.visibility),
        default_branch: None,
        initialize_with_readme: form.initialize_with_readme.is_some(),
        topics: Vec::new(),
    };
    match state.core.manage().create_project(&visitor.actor, &input).await {
        Ok(project) => see_other(&format!("/{}", project.full_path)),
        Err(error) => {
            let (status, message) = form_error(error);
            let namespaces = state.core.manage().namespaces_for_new_project(&visitor.actor).await?;
            let page = NewProjectPage {
                chrome: Chrome::new(&visitor),
                namespaces,
                namespace_id: form.namespace_id.unwrap_or(0),
                name: form.name,
                path: form.path,
                description: form.description,
                visibility: form.visibility,
                initialize_with_readme: input.initialize_with_readme,
                error: Some(message),
            };
            render(status, &page)
        }
    }
}

async fn load(
    state: &AppState,
    visitor: &PageActor,
    target: ProjectTarget,
) -> Result<(ProjectRow, Option<AccessLevel>, Vec<Crumb>), PageError> {
    let (project, level) =
        state.core.find_project(&visitor.actor, &Lookup::Id(target.0.0)).await.map_err(|e| visitor.error(e))?;
    let chain = state.core.manage().namespace_chain(project.namespace_id).await?;
    let crumbs = breadcrumbs(&chain, Some(&project));
    Ok((project, level, crumbs))
}

/// `GET /{namespace}/{project}`
pub async fn show(
    State(state): State<AppState>,
    visitor: PageActor,
    Extension(target): Extension<ProjectTarget>,
) -> PageResult {
    let frame = ProjectFrame::load(&state, &visitor, target).await?;
    let project = &frame.project;
    let may_read_code = frame.access.can(ProjectAction::ReadCode);
    let code = if may_read_code && !state.core.repos().is_empty(project.id) {
        let branches = state.core.code().list_branches(&frame.access, None).await.map_err(|e| visitor.error(e))?;
        let tags = state.core.code().list_tags(&frame.access, None).await.map_err(|e| visitor.error(e))?;
        let last_commit = branches.iter().find(|b| b.default).map(|b| b.branch.commit.clone());
        // The bar is an extra: a repository that cannot be measured still has its page.
        let languages = state.core.code().repository_languages(&visitor.actor, project).await.unwrap_or_else(|error| {
            tracing::warn!(project.id = %project.id, error = %error, "cannot measure the repository's languages");
            Vec::new()
        });
        Some(CodeSummary {
            languages,
            branches: branches.len(),
            tags: tags.len(),
            last_commit_when: last_commit
                .as_ref()
                .map(|c| crate::time_format::ago(c.committed_date.saturating_mul(1000), gantry_core::now_millis()))
                .unwrap_or_default(),
            last_commit,
        })
    } else {
        None
    };
    let activity =
        if may_read_code { crate::ui::activity::recent(&state, &visitor, &frame.access).await? } else { Vec::new() };
    let topics = state.core.manage().project_topics(project).await?;
    let readme = match &code {
        Some(_) => {
            let branch = project.default_branch.clone();
            let found = state
                .core
                .code()
                .read_repository(&visitor.actor, project, move |reader| {
                    let Some(commit) = reader.resolve(&format!("refs/heads/{branch}"))? else { return Ok(None) };
                    match reader.object_at(&commit, "")? {
                        Some(PathObject::Tree(entries)) => find_readme(reader, &commit, "", &entries),
                        _ => Ok(None),
                    }
                })
                .await
                .map_err(|e| visitor.error(e))?;
            found.map(|(name, data)| render_readme(&project.full_path, &project.default_branch, "", &name, &data))
        }
        None => None,
    };
    let levels = crate::ui::plan::todos::level_form(&state, &visitor, LevelOf::Project(&frame.access)).await?;
    let page = ProjectPage {
        levels,
        levels_action: format!("/{}/-/notifications", frame.project.full_path),
        chrome: Chrome::new(&visitor),
        http_url: format!("{}/{}.git", state.config.external_url, project.full_path),
        ssh_url: format!("ssh://git@{}/{}.git", state.config.ssh_host, project.full_path),
        code,
        activity,
        readme,
        topics,
        tab: "overview",
        frame,
    };
    render(StatusCode::OK, &page)
}

async fn settings_page(
    state: &AppState,
    visitor: &PageActor,
    target: ProjectTarget,
    error: Option<(StatusCode, String)>,
) -> PageResult {
    let frame = ProjectFrame::load(state, visitor, target).await?;
    frame.require(visitor, ProjectAction::Update)?;
    let project = frame.project.clone();
    let namespaces = state.core.manage().namespaces_for_new_project(&visitor.actor).await?;
    let topics = state.core.manage().project_topics(&project).await?.join(", ");
    let catalog_resource = state.core.ci().is_catalog_resource(&frame.access).await?;
    let (status, error) = match error {
        Some((status, message)) => (status, Some(message)),
        None => (StatusCode::OK, None),
    };
    let page = ProjectSettingsPage {
        chrome: Chrome::new(visitor),
        can_owner: frame.role == Some(AccessLevel::Owner),
        tab: "settings",
        frame,
        project,
        topics,
        namespaces,
        catalog_resource,
        error,
    };
    render(status, &page)
}

/// `GET /{project}/-/settings`
pub async fn settings(
    State(state): State<AppState>,
    visitor: PageActor,
    Extension(target): Extension<ProjectTarget>,
) -> PageResult {
    settings_page(&state, &visitor, target, None).await
}

#[derive(Debug, Deserialize)]
pub struct ProjectSettingsForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    path: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    visibility: String,
    #[serde(default)]
    default_branch: String,
    /// Comma-separated topic names; absent leaves the topics as they are.
    topics: Option<String>,
}

/// `POST /{project}/-/settings`
pub async fn save_settings(
    State(state): State<AppState>,
    visitor: PageActor,
    Extension(target): Extension<ProjectTarget>,
    CsrfForm(form): CsrfForm<ProjectSettingsForm>,
) -> PageResult {
    let (project, _, _) = load(&state, &visitor, target).await?;
    let changes = ProjectChanges {
        name: Some(form.name),
        path: Some(form.path),
        description: Some(form.description),
        visibility: Visibility::parse(&form.visibility),
        default_branch: Some(form.default_branch),
        topics: form.topics.map(|names| names.split(',').map(str::to_owned).collect()),
    };
    match state.core.manage().update_project(&visitor.actor, &project, &changes).await {
        Ok(updated) => see_other(&format!("/{}/-/settings", updated.full_path)),
        Err(error) => settings_page(&state, &visitor, target, Some(form_error(error))).await,
    }
}

#[derive(Debug, Deserialize)]
pub struct TransferForm {
    namespace_id: Option<String>,
    #[serde(default)]
    confirm_path: String,
}

/// `POST /{project}/-/transfer`: the full path must be typed to confirm, and a namespace
/// chosen (the form preselects none).
pub async fn transfer(
    State(state): State<AppState>,
    visitor: PageActor,
    Extension(target): Extension<ProjectTarget>,
    CsrfForm(form): CsrfForm<TransferForm>,
) -> PageResult {
    let (project, _, _) = load(&state, &visitor, target).await?;
    state
        .core
        .authorize_project(&visitor.actor, &project, ProjectAction::Transfer)
        .await
        .map_err(|e| visitor.error(e))?;
    let refused = |message: String| settings_page(&state, &visitor, target, Some((StatusCode::BAD_REQUEST, message)));
    let Some(namespace) = form.namespace_id.and_then(|id| id.trim().parse::<i64>().ok()) else {
        return refused("Choose the namespace to transfer the project to.".to_owned()).await;
    };
    if form.confirm_path.trim() != project.full_path {
        return refused(format!("Type {} to confirm the transfer.", project.full_path)).await;
    }
    let namespace = NamespaceId(namespace);
    match state.core.manage().transfer_project(&visitor.actor, &project, namespace).await {
        Ok(moved) => see_other(&format!("/{}", moved.full_path)),
        Err(error) => settings_page(&state, &visitor, target, Some(form_error(error))).await,
    }
}

async fn set_archived(state: AppState, visitor: PageActor, target: ProjectTarget, archived: bool) -> PageResult {
    let (project, _, _) = load(&state, &visitor, target).await?;
    let project = state
        .core
        .manage()
        .set_project_archived(&visitor.actor, &project, archived)
        .await
        .map_err(|e| visitor.error(e))?;
    see_other(&format!("/{}", project.full_path))
}

/// `POST /{project}/-/archive`
pub async fn archive(
    State(state): State<AppState>,
    visitor: PageActor,
    Extension(target): Extension<ProjectTarget>,
    CsrfForm(_): CsrfForm<serde::de::IgnoredAny>,
) -> PageResult {
    set_archived(state, visitor, target, true).await
}

/// `POST /{project}/-/unarchive`
pub async fn unarchive(
    State(state): State<AppState>,
    visitor: PageActor,
    Extension(target): Extension<ProjectTarget>,
    CsrfForm(_): CsrfForm<serde::de::IgnoredAny>,
) -> PageResult {
    set_archived(state, visitor, target, false).await
}

#[derive(Debug, Deserialize)]
pub struct DeleteForm {
    #[serde(default)]
    confirm_path: String,
}

/// `POST /{project}/-/delete`: the full path must be typed to confirm.
pub async fn delete(
    State(state): State<AppState>,
    visitor: PageActor,
    Extension(target): Extension<ProjectTarget>,
    CsrfForm(form): CsrfForm<DeleteForm>,
) -> PageResult {
    let (project, _, _) = load(&state, &visitor, target).await?;
    state
        .core
        .authorize_project(&visitor.actor, &project, ProjectAction::Delete)
        .await
        .map_err(|e| visitor.error(e))?;
    if form.confirm_path.trim() != project.full_path {
        let message = format!("Type {} to confirm the deletion.", project.full_path);
        return settings_page(&state, &visitor, target, Some((StatusCode::BAD_REQUEST, message))).await;
    }
    state.core.manage().delete_project(&visitor.actor, &project).await.map_err(|e| visitor.error(e))?;
    see_other("/dashboard")
}
