//! The deploy keys and deploy tokens pages of a project's settings (`/-/settings/deploy`: add a
//! key, enable one used elsewhere, allow its pushes, remove it; create a token, shown once, and
//! revoke one) and of a group's (its tokens, valid for every project below it). Plain forms
//! with CSRF tokens; core checks the roles.

use askama::Template;
use axum::Extension;
use axum::extract::State;
use axum::http::StatusCode;
use gantry_core::CoreError;
use gantry_core::manage::deploy_keys::{DeployKeyChange, DeployKeyInput, DeployKeyRow, ProjectDeployKey};
use gantry_core::manage::deploy_tokens::{
    DeployTokenInput, DeployTokenOwner, DeployTokenRow, deploy_token_expired, deploy_token_scopes,
    deploy_token_username,
};
use gantry_core::manage::groups::Lookup;
use gantry_core::policy::{GroupAccess, GroupAction, ProjectAction};
use gantry_types::{DeployKeyId, DeployTokenId, DeployTokenScope};
use serde::Deserialize;

use super::project_frame::ProjectFrame;
use super::{Chrome, Crumb, PageResult, breadcrumbs, form_error, render, see_other};
use crate::AppState;
use crate::auth::{CsrfForm, PageActor};
use crate::error::PageError;
use crate::namespace_dispatch::{NamespaceTarget, ProjectTarget};
use crate::time_format::date;

/// A deploy key enabled on the project, as the page lists it.
pub struct KeyLine {
    pub id: i64,
    pub title: String,
    pub key_type: String,
    pub fingerprint: String,
    pub can_push: bool,
    /// An administrator's instance key.
    pub instance: bool,
    pub created: String,
    pub last_used: String,
    pub expires: String,
}

impl KeyLine {
    fn new(key: &ProjectDeployKey) -> KeyLine {
        KeyLine { can_push: key.link.can_push, ..KeyLine::of(&key.key) }
    }

    fn of(key: &DeployKeyRow) -> KeyLine {
        KeyLine {
            id: key.id.0,
            title: key.title.clone(),
            key_type: key.key_type.clone(),
            fingerprint: key.fingerprint.clone(),
            can_push: false,
            instance: key.is_public,
            created: date(key.created_at),
            last_used: key.last_used_at.map_or_else(|| "never".to_owned(), date),
            expires: key.expires_at.map_or_else(|| "never".to_owned(), date),
        }
    }
}

/// A deploy token, as the pages list it.
pub struct TokenLine {
    pub id: i64,
    pub name: String,
    pub username: String,
    pub scopes: String,
    pub created: String,
    pub expires: String,
    pub state: &'static str,
}

impl TokenLine {
    fn new(token: &DeployTokenRow) -> TokenLine {
        let scopes: Vec<&str> = deploy_token_scopes(token).into_iter().map(|scope| scope.as_str()).collect();
        TokenLine {
            id: token.id.0,
            name: token.name.clone(),
            username: deploy_token_username(token),
            scopes: scopes.join(", "),
            created: date(token.created_at),
            expires: token.expires_at.map_or_else(|| "never".to_owned(), date),
            state: if token.revoked {
                "revoked"
            } else if deploy_token_expired(token) {
                "expired"
            } else {
                "active"
            },
        }
    }
}

/// A token just made: its user name and secret, shown once, and where to clone with it.
pub struct NewToken {
    pub username: String,
    pub secret: String,
}

/// The kind of the flash secret these pages show.
const NEW_DEPLOY_TOKEN: &str = "deploy_token";

impl NewToken {
    /// The token the form before this page made (after its redirect).
    fn shown(visitor: &PageActor) -> Option<NewToken> {
        let secret = visitor.flash.as_ref()?.secret_of(NEW_DEPLOY_TOKEN)?;
        Some(NewToken { username: secret.detail.clone(), secret: secret.value.clone() })
    }

    /// To `settings` (the deploy settings page), which shows the token once.
    fn redirect(self, state: &AppState, visitor: &PageActor, settings: &str) -> PageResult {
        let flash = crate::ui::flash::Flash::secret(NEW_DEPLOY_TOKEN, self.secret, self.username);
        crate::ui::flash::see_other_with(state, visitor, settings, &flash)
    }
}

/// What the visitor typed into a form that failed, shown again.
#[derive(Debug, Clone, Default)]
pub struct Typed {
    pub key: String,
    pub title: String,
    pub token_name: String,
    pub token_username: String,
}

/// The scope checkboxes: name and what it allows.
fn scope_choices() -> Vec<(&'static str, &'static str)> {
    DeployTokenScope::ALL.iter().map(|scope| (scope.as_str(), scope.description())).collect()
}

// ----- project -----

#[derive(Template)]
#[template(path = "projects/deploy_settings.html")]
struct ProjectDeployPage {
    chrome: Chrome,
    frame: ProjectFrame,
    tab: &'static str,
    keys: Vec<KeyLine>,
    keys_to_enable: Vec<KeyLine>,
    tokens: Vec<TokenLine>,
    /// Where the token forms post (`…/settings/deploy/tokens`).
    tokens_action: String,
    manage_tokens: bool,
    scopes: Vec<(&'static str, &'static str)>,
    new_token: Option<NewToken>,
    clone_url: String,
    typed: Typed,
    error: Option<String>,
}

async fn project_page_with(
    state: &AppState,
    visitor: &PageActor,
    target: ProjectTarget,
    new_token: Option<NewToken>,
    typed: Typed,
    error: Option<(StatusCode, String)>,
) -> PageResult {
    let frame = ProjectFrame::load(state, visitor, target).await?;
    let manage = state.core.manage();
    let keys = manage.list_project_deploy_keys(&frame.access).await.map_err(|e| visitor.error(e))?;
    let keys_to_enable = manage.deploy_keys_to_enable(&frame.access).await.map_err(|e| visitor.error(e))?;
    let tokens = manage
        .list_deploy_tokens(DeployTokenOwner::Project(&frame.access), None)
        .await
        .map_err(|e| visitor.error(e))?;
    let (status, error) = error.map_or((StatusCode::OK, None), |(s, m)| (s, Some(m)));
    let page = ProjectDeployPage {
        chrome: Chrome::new(visitor),
        tab: "settings",
        keys: keys.iter().map(KeyLine::new).collect(),
        keys_to_enable: keys_to_enable.iter().map(KeyLine::of).collect(),
        tokens: tokens.iter().map(TokenLine::new).collect(),
        tokens_action: format!("/{}/-/settings/deploy/tokens", frame.project.full_path),
        manage_tokens: true,
        scopes: scope_choices(),
        new_token,
        clone_url: format!("{}/{}.git", state.config.external_url, frame.project.full_path),
        typed,
        error,
        frame,
    };
    render(status, &page)
}

/// Back to the page after a change, or the page again with what was wrong.
async fn after_project_change(
    state: &AppState,
    visitor: &PageActor,
    target: ProjectTarget,
    frame: &ProjectFrame,
    typed: Typed,
    outcome: Result<(), CoreError>,
) -> PageResult {
    match outcome {
        Ok(()) => see_other(&format!("/{}/-/settings/deploy", frame.project.full_path)),
        Err(error @ (CoreError::Invalid { .. } | CoreError::Conflict(_) | CoreError::Forbidden(_))) => {
            project_page_with(state, visitor, target, None, typed, Some(form_error(error))).await
        }
        Err(error) => Err(visitor.error(error)),
    }
}

/// `GET /{project}/-/settings/deploy`
pub async fn project_page(
    State(state): State<AppState>,
    visitor: PageActor,
    Extension(target): Extension<ProjectTarget>,
) -> PageResult {
    project_page_with(&state, &visitor, target, NewToken::shown(&visitor), Typed::default(), None).await
}

#[derive(Debug, Deserialize)]
pub struct AddKeyForm {
    #[serde(default)]
    title: String,
    #[serde(default)]
    key: String,
    /// A checkbox: present when ticked.
    can_push: Option<String>,
    #[serde(default)]
    expires_at: String,
}

/// `POST /{project}/-/settings/deploy/keys`: adds a deploy key.
pub async fn add_key(
    State(state): State<AppState>,
    visitor: PageActor,
    Extension(target): Extension<ProjectTarget>,
    CsrfForm(form): CsrfForm<AddKeyForm>,
) -> PageResult {
    let frame = ProjectFrame::load(&state, &visitor, target).await?;
    let input = DeployKeyInput {
        title: form.title.clone(),
        key: form.key.clone(),
        can_push: form.can_push.is_some(),
        expires_at: form.expires_at,
    };
    let outcome = state.core.manage().add_project_deploy_key(&frame.access, &input).await.map(drop);
    let typed = Typed { key: form.key, title: form.title, ..Typed::default() };
    after_project_change(&state, &visitor, target, &frame, typed, outcome).await
}

#[derive(Debug, Deserialize)]
pub struct KeyForm {
    #[serde(default)]
    key_id: String,
    /// The push checkbox of the update form: present when ticked.
    can_push: Option<String>,
}

impl KeyForm {
    fn id(&self) -> Result<DeployKeyId, CoreError> {
        self.key_id.trim().parse::<i64>().map(DeployKeyId).map_err(|_| CoreError::NotFound("deploy key"))
    }
}

/// `POST /{project}/-/settings/deploy/keys/enable`: enables a key used elsewhere.
pub async fn enable_key(
    State(state): State<AppState>,
    visitor: PageActor,
    Extension(target): Extension<ProjectTarget>,
    CsrfForm(form): CsrfForm<KeyForm>,
) -> PageResult {
    let frame = ProjectFrame::load(&state, &visitor, target).await?;
    frame.require(&visitor, ProjectAction::ManageDeployCredentials)?;
    let id = form.id().map_err(|e| visitor.error(e))?;
    let outcome = state.core.manage().enable_deploy_key(&frame.access, id).await.map(drop);
    after_project_change(&state, &visitor, target, &frame, Typed::default(), outcome).await
}

/// `POST /{project}/-/settings/deploy/keys/update`: allows or forbids the key's pushes.
pub async fn update_key(
    State(state): State<AppState>,
    visitor: PageActor,
    Extension(target): Extension<ProjectTarget>,
    CsrfForm(form): CsrfForm<KeyForm>,
) -> PageResult {
    let frame = ProjectFrame::load(&state, &visitor, target).await?;
    frame.require(&visitor, ProjectAction::ManageDeployCredentials)?;
    let id = form.id().map_err(|e| visitor.error(e))?;
    let change = DeployKeyChange { title: None, can_push: Some(form.can_push.is_some()) };
    let outcome = state.core.manage().update_project_deploy_key(&frame.access, id, &change).await.map(drop);
    after_project_change(&state, &visitor, target, &frame, Typed::default(), outcome).await
}

/// `POST /{project}/-/settings/deploy/keys/disable`: removes the key from the project.
pub async fn disable_key(
    State(state): State<AppState>,
    visitor: PageActor,
    Extension(target): Extension<ProjectTarget>,
    CsrfForm(form): CsrfForm<KeyForm>,
) -> PageResult {
    let frame = ProjectFrame::load(&state, &visitor, target).await?;
    frame.require(&visitor, ProjectAction::ManageDeployCredentials)?;
    let id = form.id().map_err(|e| visitor.error(e))?;
    let outcome = state.core.manage().disable_deploy_key(&frame.access, id).await;
    after_project_change(&state, &visitor, target, &frame, Typed::default(), outcome).await
}

/// Reads the token form (`scopes` may come several times: one per ticked box).
fn token_input(form: &[(String, String)]) -> DeployTokenInput {
    let field = |name: &str| form.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()).unwrap_or_default();
    DeployTokenInput {
        name: field("name"),
        username: field("username"),
        scopes: form.iter().filter(|(k, _)| k == "scopes").map(|(_, v)| v.clone()).collect(),
        expires_at: field("expires_at"),
    }
}

/// `POST /{project}/-/settings/deploy/tokens`: creates a token; the settings page shows it once.
pub async fn create_project_token(
    State(state): State<AppState>,
    visitor: PageActor,
    Extension(target): Extension<ProjectTarget>,
    CsrfForm(form): CsrfForm<Vec<(String, String)>>,
) -> PageResult {
    let frame = ProjectFrame::load(&state, &visitor, target).await?;
    let input = token_input(&form);
    let owner = DeployTokenOwner::Project(&frame.access);
    match state.core.manage().create_deploy_token(owner, &visitor.actor, &input).await {
        Ok(created) => {
            let new = NewToken { username: deploy_token_username(&created.token), secret: created.secret };
            new.redirect(&state, &visitor, &format!("/{}/-/settings/deploy", frame.project.full_path))
        }
        Err(error @ CoreError::Invalid { .. }) => {
            let typed = Typed { token_name: input.name, token_username: input.username, ..Typed::default() };
            project_page_with(&state, &visitor, target, None, typed, Some(form_error(error))).await
        }
        Err(error) => Err(visitor.error(error)),
    }
}

#[derive(Debug, Deserialize)]
pub struct TokenForm {
    #[serde(default)]
    token_id: String,
}

impl TokenForm {
    fn id(&self) -> Result<DeployTokenId, CoreError> {
        self.token_id.trim().parse::<i64>().map(DeployTokenId).map_err(|_| CoreError::NotFound("deploy token"))
    }
}

/// `POST /{project}/-/settings/deploy/tokens/revoke`
pub async fn revoke_project_token(
    State(state): State<AppState>,
    visitor: PageActor,
    Extension(target): Extension<ProjectTarget>,
    CsrfForm(form): CsrfForm<TokenForm>,
) -> PageResult {
    let frame = ProjectFrame::load(&state, &visitor, target).await?;
    frame.require(&visitor, ProjectAction::ManageDeployCredentials)?;
    let id = form.id().map_err(|e| visitor.error(e))?;
    let outcome = state.core.manage().revoke_deploy_token(DeployTokenOwner::Project(&frame.access), id).await;
    after_project_change(&state, &visitor, target, &frame, Typed::default(), outcome).await
}

// ----- group -----

#[derive(Template)]
#[template(path = "groups/deploy_settings.html")]
struct GroupDeployPage {
    chrome: Chrome,
    crumbs: Vec<Crumb>,
    group: gantry_core::NamespaceRow,
    /// Owners create and revoke; Maintainers only see.
    manage_tokens: bool,
    tokens: Vec<TokenLine>,
    tokens_action: String,
    scopes: Vec<(&'static str, &'static str)>,
    new_token: Option<NewToken>,
    typed: Typed,
    error: Option<String>,
}

async fn group_access(
    state: &AppState,
    visitor: &PageActor,
    target: &NamespaceTarget,
) -> Result<GroupAccess, PageError> {
    state.core.group_access(&visitor.actor, &Lookup::Id(target.0.0)).await.map_err(|e| visitor.error(e))
}

async fn group_page_with(
    state: &AppState,
    visitor: &PageActor,
    access: GroupAccess,
    new_token: Option<NewToken>,
    typed: Typed,
    error: Option<(StatusCode, String)>,
) -> PageResult {
    let tokens = state
        .core
        .manage()
        .list_deploy_tokens(DeployTokenOwner::Group(&access), None)
        .await
        .map_err(|e| visitor.error(e))?;
    let chain = state.core.manage().namespace_chain(access.group().id).await?;
    let (status, error) = error.map_or((StatusCode::OK, None), |(s, m)| (s, Some(m)));
    let page = GroupDeployPage {
        chrome: Chrome::new(visitor),
        crumbs: breadcrumbs(&chain, None),
        manage_tokens: access.can(GroupAction::ManageDeployTokens),
        tokens: tokens.iter().map(TokenLine::new).collect(),
        tokens_action: format!("/{}/-/settings/deploy/tokens", access.group().full_path),
        scopes: scope_choices(),
        new_token,
        typed,
        error,
        group: access.into_group(),
    };
    render(status, &page)
}

/// `GET /{group}/-/settings/deploy`
pub async fn group_page(
    State(state): State<AppState>,
    visitor: PageActor,
    Extension(target): Extension<NamespaceTarget>,
) -> PageResult {
    let access = group_access(&state, &visitor, &target).await?;
    group_page_with(&state, &visitor, access, NewToken::shown(&visitor), Typed::default(), None).await
}

/// `POST /{group}/-/settings/deploy/tokens`: creates a group token; the settings page shows it once.
pub async fn create_group_token(
    State(state): State<AppState>,
    visitor: PageActor,
    Extension(target): Extension<NamespaceTarget>,
    CsrfForm(form): CsrfForm<Vec<(String, String)>>,
) -> PageResult {
    let access = group_access(&state, &visitor, &target).await?;
    let input = token_input(&form);
    match state.core.manage().create_deploy_token(DeployTokenOwner::Group(&access), &visitor.actor, &input).await {
        Ok(created) => {
            let new = NewToken { username: deploy_token_username(&created.token), secret: created.secret };
            new.redirect(&state, &visitor, &format!("/{}/-/settings/deploy", access.group().full_path))
        }
        Err(error @ CoreError::Invalid { .. }) => {
            let typed = Typed { token_name: input.name, token_username: input.username, ..Typed::default() };
            group_page_with(&state, &visitor, access, None, typed, Some(form_error(error))).await
        }
        Err(error) => Err(visitor.error(error)),
    }
}

/// `POST /{group}/-/settings/deploy/tokens/revoke`
pub async fn revoke_group_token(
    State(state): State<AppState>,
    visitor: PageActor,
    Extension(target): Extension<NamespaceTarget>,
    CsrfForm(form): CsrfForm<TokenForm>,
) -> PageResult {
    let access = group_access(&state, &visitor, &target).await?;
    access.require(GroupAction::ManageDeployTokens).map_err(|e| visitor.error(e))?;
    let id = form.id().map_err(|e| visitor.error(e))?;
    state
        .core
        .manage()
        .revoke_deploy_token(DeployTokenOwner::Group(&access), id)
        .await
        .map_err(|e| visitor.error(e))?;
    see_other(&format!("/{}/-/settings/deploy", access.group().full_path))
}
