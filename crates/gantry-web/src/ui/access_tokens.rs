//! The access tokens pages of a project's settings and of a group's
//! (`/-/settings/access_tokens`): create a token for a bot member with a role and scopes, shown
//! once; rotate one (a new secret, the old one ends); revoke one. Plain forms with CSRF tokens;
//! core checks the roles (a project's Maintainers, a group's Owners).

use askama::Template;
use axum::Extension;
use axum::extract::State;
use axum::http::StatusCode;
use gantry_core::CoreError;
use gantry_core::manage::access_tokens::{AccessTokenInput, AccessTokenResource, ResourceTokenRow};
use gantry_core::manage::groups::Lookup;
use gantry_core::manage::tokens::format_expiry_date;
use gantry_core::policy::GroupAccess;
use gantry_types::{AccessLevel, TokenId, TokenScope};
use serde::Deserialize;

use super::project_frame::ProjectFrame;
use super::{Chrome, Crumb, PageResult, breadcrumbs, form_error, render, see_other};
use crate::AppState;
use crate::auth::{CsrfForm, PageActor};
use crate::namespace_dispatch::{NamespaceTarget, ProjectTarget};
use crate::time_format::date;

/// A token, as the pages list it.
pub struct TokenLine {
    pub id: i64,
    pub name: String,
    pub scopes: String,
    pub role: &'static str,
    pub created: String,
    pub last_used: String,
    pub expires: String,
    pub state: &'static str,
}

impl TokenLine {
    fn new(row: &ResourceTokenRow) -> TokenLine {
        let token = &row.token;
        TokenLine {
            id: token.id.0,
            name: token.name.clone(),
            scopes: token.scopes.replace(',', ", "),
            role: row.access_level.and_then(AccessLevel::from_i64).map_or("none", AccessLevel::label),
            created: date(token.created_at),
            last_used: token.last_used_at.map_or_else(|| "never".to_owned(), date),
            expires: token.expires_at.map_or_else(|| "never".to_owned(), format_expiry_date),
            state: if token.revoked {
                "revoked"
            } else if gantry_core::manage::tokens::token_active(token) {
                "active"
            } else {
                "expired"
            },
        }
    }
}

/// A secret just made (`verb`: "created" or "rotated"), shown once.
pub struct NewSecret {
    pub verb: &'static str,
    pub secret: String,
}

/// What one page shows besides its frame.
struct Listing {
    tokens: Vec<TokenLine>,
    roles: Vec<(i64, &'static str)>,
    scopes: Vec<(&'static str, &'static str)>,
    tokens_action: String,
    new_token: Option<NewSecret>,
    typed_name: String,
    error: Option<String>,
    status: StatusCode,
}

/// What happened on a form post, for the page drawn after it.
#[derive(Default)]
struct Outcome {
    new_token: Option<NewSecret>,
    typed_name: String,
    error: Option<(StatusCode, String)>,
}

/// The kind of the flash secret these pages show.
const NEW_ACCESS_TOKEN: &str = "access_token";

impl Outcome {
    /// The token the form before this page made, shown once.
    fn shown(visitor: &PageActor) -> Outcome {
        let new_token = visitor.flash.as_ref().and_then(|f| f.secret_of(NEW_ACCESS_TOKEN)).map(|secret| NewSecret {
            verb: if secret.detail == "rotated" { "rotated" } else { "created" },
            secret: secret.value.clone(),
        });
        Outcome { new_token, ..Outcome::default() }
    }

    /// A new token goes to the list page after a redirect (POST → 303 → GET), to be shown
    /// there once; anything else is drawn on this answer.
    fn redirected(self, state: &AppState, visitor: &PageActor, full_path: &str) -> Result<PageResult, Outcome> {
        match self.new_token {
            Some(new) => {
                let flash = crate::ui::flash::Flash::secret(NEW_ACCESS_TOKEN, new.secret, new.verb);
                let location = format!("/{full_path}/-/settings/access_tokens");
                Ok(crate::ui::flash::see_other_with(state, visitor, &location, &flash))
            }
            None => Err(self),
        }
    }
}

async fn listing(
    state: &AppState,
    visitor: &PageActor,
    resource: AccessTokenResource<'_>,
    full_path: &str,
    outcome: Outcome,
) -> Result<Listing, crate::error::PageError> {
    let tokens = state.core.manage().list_access_tokens(resource).await.map_err(|e| visitor.error(e))?;
    let most = resource.grantable();
    let (status, error) = match outcome.error {
        Some((status, message)) => (status, Some(message)),
        None => (StatusCode::OK, None),
    };
    Ok(Listing {
        tokens: tokens.iter().map(TokenLine::new).collect(),
        roles: AccessLevel::ALL
            .into_iter()
            .filter(|level| most.is_some_and(|most| *level <= most))
            .map(|level| (level.as_i64(), level.label()))
            .collect(),
        scopes: TokenScope::ALL
            .iter()
            .filter(|scope| !scope.is_for_administrators() && **scope != TokenScope::ReadUser)
            .map(|scope| (scope.as_str(), scope.description()))
            .collect(),
        tokens_action: format!("/{full_path}/-/settings/access_tokens"),
        new_token: outcome.new_token,
        typed_name: outcome.typed_name,
        error,
        status,
    })
}

/// Reads the create form (`scopes` may come several times: one per ticked box).
fn token_input(form: &[(String, String)]) -> Result<AccessTokenInput, CoreError> {
    let field = |name: &str| form.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()).unwrap_or_default();
    let access_level = match field("access_level").trim() {
        "" => None,
        level => Some(level.parse::<i64>().map_err(|_| CoreError::invalid_input("access_level", "is not a role"))?),
    };
    Ok(AccessTokenInput {
        name: field("name"),
        scopes: form.iter().filter(|(k, _)| k == "scopes").map(|(_, v)| v.clone()).collect(),
        access_level,
        expires_at: field("expires_at"),
    })
}

/// Creates a token from the form; a mistake is shown on the page, with the name kept.
async fn create(
    state: &AppState,
    resource: AccessTokenResource<'_>,
    form: &[(String, String)],
) -> Result<Outcome, CoreError> {
    let input = token_input(form)?;
    match state.core.manage().create_access_token(resource, &input).await {
        Ok((created, _)) => {
            Ok(Outcome { new_token: Some(NewSecret { verb: "created", secret: created.secret }), ..Outcome::default() })
        }
        Err(error @ (CoreError::Invalid { .. } | CoreError::Conflict(_))) => {
            Ok(Outcome { typed_name: input.name, error: Some(form_error(error)), ..Outcome::default() })
        }
        Err(error) => Err(error),
    }
}

#[derive(Debug, Deserialize)]
pub struct TokenForm {
    #[serde(default)]
    token_id: String,
}

impl TokenForm {
    fn id(&self) -> Result<TokenId, CoreError> {
        self.token_id.trim().parse::<i64>().map(TokenId).map_err(|_| CoreError::NotFound("access token"))
    }
}

async fn rotate(state: &AppState, resource: AccessTokenResource<'_>, form: &TokenForm) -> Result<Outcome, CoreError> {
    match state.core.manage().rotate_access_token(resource, form.id()?, "").await {
        Ok((rotated, _)) => {
            Ok(Outcome { new_token: Some(NewSecret { verb: "rotated", secret: rotated.secret }), ..Outcome::default() })
        }
        Err(error @ (CoreError::Invalid { .. } | CoreError::Conflict(_))) => {
            Ok(Outcome { error: Some(form_error(error)), ..Outcome::default() })
        }
        Err(error) => Err(error),
    }
}

async fn revoke(state: &AppState, resource: AccessTokenResource<'_>, form: &TokenForm) -> Result<(), CoreError> {
    state.core.manage().revoke_access_token(resource, form.id()?).await
}

// ----- project -----

#[derive(Template)]
#[template(path = "projects/access_tokens.html")]
struct ProjectTokensPage {
    chrome: Chrome,
    frame: ProjectFrame,
    tab: &'static str,
    tokens: Vec<TokenLine>,
    roles: Vec<(i64, &'static str)>,
    scopes: Vec<(&'static str, &'static str)>,
    tokens_action: String,
    new_token: Option<NewSecret>,
    typed_name: String,
    error: Option<String>,
}

async fn project_page_with(state: &AppState, visitor: &PageActor, frame: ProjectFrame, outcome: Outcome) -> PageResult {
    let full_path = frame.project.full_path.clone();
    let listed = listing(state, visitor, AccessTokenResource::Project(&frame.access), &full_path, outcome).await?;
    let page = ProjectTokensPage {
        chrome: Chrome::new(visitor),
        frame,
        tab: "settings",
        tokens: listed.tokens,
        roles: listed.roles,
        scopes: listed.scopes,
        tokens_action: listed.tokens_action,
        new_token: listed.new_token,
        typed_name: listed.typed_name,
        error: listed.error,
    };
    render(listed.status, &page)
}

/// `GET /{project}/-/settings/access_tokens`
pub async fn project_page(
    State(state): State<AppState>,
    visitor: PageActor,
    Extension(target): Extension<ProjectTarget>,
) -> PageResult {
    let frame = ProjectFrame::load(&state, &visitor, target).await?;
    project_page_with(&state, &visitor, frame, Outcome::shown(&visitor)).await
}

/// `POST /{project}/-/settings/access_tokens`: creates a token; the list shows it once.
pub async fn create_project_token(
    State(state): State<AppState>,
    visitor: PageActor,
    Extension(target): Extension<ProjectTarget>,
    CsrfForm(form): CsrfForm<Vec<(String, String)>>,
) -> PageResult {
    let frame = ProjectFrame::load(&state, &visitor, target).await?;
    let outcome =
        create(&state, AccessTokenResource::Project(&frame.access), &form).await.map_err(|e| visitor.error(e))?;
    match outcome.redirected(&state, &visitor, &frame.project.full_path) {
        Ok(redirect) => redirect,
        Err(outcome) => project_page_with(&state, &visitor, frame, outcome).await,
    }
}

/// `POST /{project}/-/settings/access_tokens/rotate`: a new secret, shown once.
pub async fn rotate_project_token(
    State(state): State<AppState>,
    visitor: PageActor,
    Extension(target): Extension<ProjectTarget>,
    CsrfForm(form): CsrfForm<TokenForm>,
) -> PageResult {
    let frame = ProjectFrame::load(&state, &visitor, target).await?;
    let outcome =
        rotate(&state, AccessTokenResource::Project(&frame.access), &form).await.map_err(|e| visitor.error(e))?;
    match outcome.redirected(&state, &visitor, &frame.project.full_path) {
        Ok(redirect) => redirect,
        Err(outcome) => project_page_with(&state, &visitor, frame, outcome).await,
    }
}

/// `POST /{project}/-/settings/access_tokens/revoke`
pub async fn revoke_project_token(
    State(state): State<AppState>,
    visitor: PageActor,
    Extension(target): Extension<ProjectTarget>,
    CsrfForm(form): CsrfForm<TokenForm>,
) -> PageResult {
    let frame = ProjectFrame::load(&state, &visitor, target).await?;
    revoke(&state, AccessTokenResource::Project(&frame.access), &form).await.map_err(|e| visitor.error(e))?;
    see_other(&format!("/{}/-/settings/access_tokens", frame.project.full_path))
}

// ----- group -----

#[derive(Template)]
#[template(path = "groups/access_tokens.html")]
struct GroupTokensPage {
    chrome: Chrome,
    crumbs: Vec<Crumb>,
    group: gantry_core::NamespaceRow,
    tokens: Vec<TokenLine>,
    roles: Vec<(i64, &'static str)>,
    scopes: Vec<(&'static str, &'static str)>,
    tokens_action: String,
    new_token: Option<NewSecret>,
    typed_name: String,
    error: Option<String>,
}

async fn group_access(
    state: &AppState,
    visitor: &PageActor,
    target: &NamespaceTarget,
) -> Result<GroupAccess, crate::error::PageError> {
    state.core.group_access(&visitor.actor, &Lookup::Id(target.0.0)).await.map_err(|e| visitor.error(e))
}

async fn group_page_with(state: &AppState, visitor: &PageActor, access: GroupAccess, outcome: Outcome) -> PageResult {
    let full_path = access.group().full_path.clone();
    let listed = listing(state, visitor, AccessTokenResource::Group(&access), &full_path, outcome).await?;
    let chain = state.core.manage().namespace_chain(access.group().id).await?;
    let page = GroupTokensPage {
        chrome: Chrome::new(visitor),
        crumbs: breadcrumbs(&chain, None),
        group: access.into_group(),
        tokens: listed.tokens,
        roles: listed.roles,
        scopes: listed.scopes,
        tokens_action: listed.tokens_action,
        new_token: listed.new_token,
        typed_name: listed.typed_name,
        error: listed.error,
    };
    render(listed.status, &page)
}

/// `GET /{group}/-/settings/access_tokens`
pub async fn group_page(
    State(state): State<AppState>,
    visitor: PageActor,
    Extension(target): Extension<NamespaceTarget>,
) -> PageResult {
    let access = group_access(&state, &visitor, &target).await?;
    group_page_with(&state, &visitor, access, Outcome::shown(&visitor)).await
}

/// `POST /{group}/-/settings/access_tokens`: creates a token; the list shows it once.
pub async fn create_group_token(
    State(state): State<AppState>,
    visitor: PageActor,
    Extension(target): Extension<NamespaceTarget>,
    CsrfForm(form): CsrfForm<Vec<(String, String)>>,
) -> PageResult {
    let access = group_access(&state, &visitor, &target).await?;
    let outcome = create(&state, AccessTokenResource::Group(&access), &form).await.map_err(|e| visitor.error(e))?;
    match outcome.redirected(&state, &visitor, &access.group().full_path) {
        Ok(redirect) => redirect,
        Err(outcome) => group_page_with(&state, &visitor, access, outcome).await,
    }
}

/// `POST /{group}/-/settings/access_tokens/rotate`: a new secret, shown once.
pub async fn rotate_group_token(
    State(state): State<AppState>,
    visitor: PageActor,
    Extension(target): Extension<NamespaceTarget>,
    CsrfForm(form): CsrfForm<TokenForm>,
) -> PageResult {
    let access = group_access(&state, &visitor, &target).await?;
    let outcome = rotate(&state, AccessTokenResource::Group(&access), &form).await.map_err(|e| visitor.error(e))?;
    match outcome.redirected(&state, &visitor, &access.group().full_path) {
        Ok(redirect) => redirect,
        Err(outcome) => group_page_with(&state, &visitor, access, outcome).await,
    }
}

/// `POST /{group}/-/settings/access_tokens/revoke`
pub async fn revoke_group_token(
    State(state): State<AppState>,
    visitor: PageActor,
    Extension(target): Extension<NamespaceTarget>,
    CsrfForm(form): CsrfForm<TokenForm>,
) -> PageResult {
    let access = group_access(&state, &visitor, &target).await?;
    revoke(&state, AccessTokenResource::Group(&access), &form).await.map_err(|e| visitor.error(e))?;
    see_other(&format!("/{}/-/settings/access_tokens", access.group().full_path))
}
