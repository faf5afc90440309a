//! The signed-in user's settings: profile (with secondary e-mail addresses and status),
//! password (and signing out everywhere), personal access tokens, SSH keys, and GPG keys
//! (`profile/gpg_keys.rs`).

pub mod gpg_keys;

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use gantry_core::manage::ssh_keys::NewKeyInput;
use gantry_core::manage::tokens::{format_expiry_date, parse_expiry_date};
use gantry_core::manage::user_status::{CLEAR_STATUS_AFTER, StatusChange, StatusInput, UserStatusRow};
use gantry_core::{CoreError, TokenRow};
use gantry_types::{EmailId, TokenId, TokenScope, TokenScopes};
use serde::Deserialize;

use super::{Chrome, PageResult, form_error, render, see_other};
use crate::AppState;
use crate::auth::{CsrfForm, PageActor};
use crate::time_format::{date, from_now};

#[derive(Template)]
#[template(path = "profile/profile.html")]
struct ProfilePage {
    chrome: Chrome,
    user_id: i64,
    avatar: Option<gantry_core::manage::avatars::Avatar>,
    name: String,
    email: String,
    error: Option<String>,
    password_error: Option<String>,
    emails: Vec<EmailLine>,
    typed_email: String,
    email_error: Option<String>,
    status: StatusForm,
    status_clears: Option<String>,
    clear_choices: Vec<(&'static str, String)>,
    status_error: Option<String>,
}

/// One secondary address on the profile page.
pub struct EmailLine {
    pub id: i64,
    pub email: String,
    pub confirmed: bool,
}

/// What the profile page shows besides the stored profile: what was typed into the form that
/// failed, and why.
#[derive(Default)]
struct ProfileFeedback {
    /// The name and e-mail typed into the profile form (the stored ones otherwise).
    typed: Option<(String, String)>,
    error: Option<String>,
    password_error: Option<String>,
    typed_email: String,
    email_error: Option<String>,
    status: Option<StatusForm>,
    status_error: Option<String>,
}

async fn profile_page(
    state: &AppState,
    visitor: &PageActor,
    status_code: StatusCode,
    feedback: ProfileFeedback,
) -> PageResult {
    let user = visitor.require_user()?;
    let emails = state.core.manage().list_own_emails(&visitor.actor).await?;
    let current = state.core.manage().own_status(&visitor.actor).await?;
    let now = gantry_core::now_millis();
    let (name, email) = feedback.typed.unwrap_or_else(|| (user.name.clone(), user.email.clone()));
    let page = ProfilePage {
        chrome: Chrome::new(visitor),
        user_id: user.id.0,
        avatar: user.avatar.clone(),
        name,
        email,
        error: feedback.error,
        password_error: feedback.password_error,
        emails: emails
            .into_iter()
            .map(|e| EmailLine { id: e.id.0, email: e.email, confirmed: e.confirmed_at.is_some() })
            .collect(),
        typed_email: feedback.typed_email,
        email_error: feedback.email_error,
        status_clears: current.as_ref().and_then(|s| s.clear_at).map(|at| from_now(at, now)),
        status: feedback.status.unwrap_or_else(|| StatusForm::of(current.as_ref())),
        clear_choices: CLEAR_STATUS_AFTER.iter().map(|(value, _)| (*value, value.replace('_', " "))).collect(),
        status_error: feedback.status_error,
    };
    render(status_code, &page)
}

/// `GET /-/profile`
pub async fn profile(State(state): State<AppState>, visitor: PageActor) -> PageResult {
    profile_page(&state, &visitor, StatusCode::OK, ProfileFeedback::default()).await
}

#[derive(Debug, Deserialize)]
pub struct ProfileForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    email: String,
}

/// `POST /-/profile`
pub async fn update_profile(
    State(state): State<AppState>,
    visitor: PageActor,
    CsrfForm(form): CsrfForm<ProfileForm>,
) -> PageResult {
    visitor.require_user()?;
    match state.core.manage().update_profile(&visitor.actor, &form.name, &form.email).await {
        Ok(_) => see_other("/-/profile"),
        Err(error) => {
            let (status, message) = form_error(error);
            let feedback =
                ProfileFeedback { typed: Some((form.name, form.email)), error: Some(message), ..Default::default() };
            profile_page(&state, &visitor, status, feedback).await
        }
    }
}

#[derive(Debug, Deserialize)]
pub struct PasswordForm {
    #[serde(default)]
    current_password: String,
    #[serde(default)]
    new_password: String,
}

/// `POST /-/profile/password`
pub async fn change_password(
    State(state): State<AppState>,
    visitor: PageActor,
    CsrfForm(form): CsrfForm<PasswordForm>,
) -> PageResult {
    visitor.require_user()?;
    let changed = state
        .core
        .manage()
        .change_password(&visitor.actor, &form.current_password, &form.new_password, visitor.session.as_deref())
        .await;
    match changed {
        Ok(()) => see_other("/-/profile"),
        Err(error) => {
            let (status, message) = form_error(error);
            let feedback = ProfileFeedback { password_error: Some(message), ..Default::default() };
            profile_page(&state, &visitor, status, feedback).await
        }
    }
}

#[derive(Debug, Deserialize)]
pub struct EmailForm {
    #[serde(default)]
    email: String,
}

/// `POST /-/profile/emails`: adds a secondary address (unconfirmed: Gantry sends no mail).
pub async fn add_email(
    State(state): State<AppState>,
    visitor: PageActor,
    CsrfForm(form): CsrfForm<EmailForm>,
) -> PageResult {
    visitor.require_user()?;
    match state.core.manage().add_own_email(&visitor.actor, &form.email).await {
        Ok(_) => see_other("/-/profile#emails"),
        Err(error) => {
            let (status, message) = form_error(error);
            let feedback =
                ProfileFeedback { typed_email: form.email, email_error: Some(message), ..Default::default() };
            profile_page(&state, &visitor, status, feedback).await
        }
    }
}

/// `POST /-/profile/emails/{email_id}/delete`
pub async fn delete_email(
    State(state): State<AppState>,
    visitor: PageActor,
    Path(id): Path<i64>,
    CsrfForm(_): CsrfForm<serde::de::IgnoredAny>,
) -> PageResult {
    visitor.require_user()?;
    state.core.manage().delete_email(&visitor.actor, EmailId(id)).await.map_err(|e| visitor.error(e))?;
    see_other("/-/profile#emails")
}

/// The status form: what the user has set, or typed.
#[derive(Debug, Default, Deserialize)]
pub struct StatusForm {
    #[serde(default)]
    emoji: String,
    #[serde(default)]
    message: String,
    /// `busy` when the box is ticked.
    #[serde(default)]
    availability: String,
    #[serde(default)]
    clear_status_after: String,
    /// Present when the "Clear status" button was pressed.
    clear: Option<String>,
}

impl StatusForm {
    fn of(status: Option<&UserStatusRow>) -> StatusForm {
        status.map_or_else(StatusForm::default, |status| StatusForm {
            emoji: status.emoji.clone(),
            message: status.message.clone(),
            availability: status.availability.as_str().to_owned(),
            ..StatusForm::default()
        })
    }

    fn busy(&self) -> bool {
        self.availability == "busy"
    }
}

/// `POST /-/profile/status`: sets the status, or clears it.
pub async fn set_status(
    State(state): State<AppState>,
    visitor: PageActor,
    CsrfForm(form): CsrfForm<StatusForm>,
) -> PageResult {
    visitor.require_user()?;
    let input = if form.clear.is_some() {
        StatusInput::default()
    } else {
        let saying = !form.emoji.trim().is_empty() || !form.message.trim().is_empty();
        let availability = match (form.busy(), saying) {
            (true, _) => Some("busy".to_owned()),
            (false, true) => Some("not_set".to_owned()),
            (false, false) => None,
        };
        StatusInput {
            emoji: Some(form.emoji.clone()),
            message: Some(form.message.clone()),
            availability,
            clear_status_after: Some(form.clear_status_after.clone()),
        }
    };
    match state.core.manage().set_own_status(&visitor.actor, &input, StatusChange::Replace).await {
        Ok(_) => see_other("/-/profile#status"),
        Err(error) => {
            let (status, message) = form_error(error);
            let feedback = ProfileFeedback { status: Some(form), status_error: Some(message), ..Default::default() };
            profile_page(&state, &visitor, status, feedback).await
        }
    }
}

/// One row of the tokens table.
pub struct TokenLine {
    pub id: i64,
    pub name: String,
    pub scopes: String,
    pub created: String,
    pub expires: String,
    pub last_used: String,
    pub state: &'static str,
}

impl TokenLine {
    fn new(token: &TokenRow) -> TokenLine {
        let expired = token.expires_at.is_some_and(|at| at <= gantry_core::now_millis());
        TokenLine {
            id: token.id.0,
            name: token.name.clone(),
            scopes: token.scopes.replace(',', ", "),
            created: date(token.created_at),
            expires: token.expires_at.map_or("never".to_owned(), format_expiry_date),
            last_used: token.last_used_at.map_or("never".to_owned(), date),
            state: if token.revoked {
                "revoked"
            } else if expired {
                "expired"
            } else {
                "active"
            },
        }
    }
}

#[derive(Template)]
#[template(path = "profile/tokens.html")]
struct TokensPage {
    chrome: Chrome,
    tokens: Vec<TokenLine>,
    scopes: Vec<(&'static str, &'static str)>,
    new_token: Option<String>,
    error: Option<String>,
}

async fn tokens_page(
    state: &AppState,
    visitor: &PageActor,
    status: StatusCode,
    new_token: Option<String>,
    error: Option<String>,
) -> PageResult {
    let user = visitor.require_user()?;
    let tokens = state.core.manage().list_tokens(&visitor.actor).await?;
    let page = TokensPage {
        chrome: Chrome::new(visitor),
        // An administrator's list holds everyone's tokens, and the impersonation tokens made
        // for them, which are not theirs to manage.
        tokens: tokens.iter().filter(|t| t.user_id == user.id && !t.impersonation).map(TokenLine::new).collect(),
        // sudo and admin_mode are offered to administrators only (others would be refused).
        scopes: TokenScope::ALL
            .iter()
            .filter(|s| !s.is_for_administrators() || gantry_core::policy::administers(&visitor.actor))
            .map(|s| (s.as_str(), s.description()))
            .collect(),
        new_token,
        error,
    };
    render(status, &page)
}

/// `GET /-/profile/personal_access_tokens`
pub async fn tokens(State(state): State<AppState>, visitor: PageActor) -> PageResult {
    let new_token = visitor.flash.as_ref().and_then(|f| f.secret_of(NEW_TOKEN)).map(|s| s.value.clone());
    tokens_page(&state, &visitor, StatusCode::OK, new_token, None).await
}

/// The kind of the flash secret the token page shows.
const NEW_TOKEN: &str = "personal_access_token";

/// `POST /-/profile/personal_access_tokens`: makes the token and sends the browser to the
/// list, which shows it once.
pub async fn create_token(
    State(state): State<AppState>,
    visitor: PageActor,
    CsrfForm(form): CsrfForm<Vec<(String, String)>>,
) -> PageResult {
    visitor.require_user()?;
    let field = |name: &str| form.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str()).unwrap_or("");
    let requested: Vec<&str> = form.iter().filter(|(k, _)| k == "scopes").map(|(_, v)| v.as_str()).collect();
    let result = async {
        let scopes = TokenScopes::parse_list(&requested.join(","))
            .map_err(|_| CoreError::invalid_input("scopes", "choose at least one of the listed scopes"))?;
        let expires = match field("expires_at").trim() {
            "" => None,
            day => Some(parse_expiry_date(day)?),
        };
        state.core.manage().create_token(&visitor.actor, field("name"), &scopes, expires).await
    }
    .await;
    match result {
        Ok(created) => crate::ui::flash::see_other_with(
            &state,
            &visitor,
            "/-/profile/personal_access_tokens",
            &crate::ui::flash::Flash::secret(NEW_TOKEN, created.secret, ""),
        ),
        Err(error) => {
            let (status, message) = form_error(error);
            tokens_page(&state, &visitor, status, None, Some(message)).await
        }
    }
}

/// `POST /-/profile/personal_access_tokens/{token_id}/revoke`
pub async fn revoke_token(
    State(state): State<AppState>,
    visitor: PageActor,
    Path(id): Path<i64>,
    CsrfForm(_): CsrfForm<serde::de::IgnoredAny>,
) -> PageResult {
    visitor.require_user()?;
    state.core.manage().revoke_token(&visitor.actor, TokenId(id)).await.map_err(|e| visitor.error(e))?;
    see_other("/-/profile/personal_access_tokens")
}

/// One row of the SSH keys table.
pub struct KeyLine {
    pub id: i64,
    pub title: String,
    pub key_type: String,
    pub fingerprint: String,
    pub created: String,
    pub last_used: String,
    pub expires: String,
}

#[derive(Template)]
#[template(path = "profile/keys.html")]
struct KeysPage {
    chrome: Chrome,
    keys: Vec<KeyLine>,
    ssh_host: String,
    typed_key: String,
    typed_title: String,
    error: Option<String>,
}

async fn keys_page(
    state: &AppState,
    visitor: &PageActor,
    failure: Option<(StatusCode, String)>,
    typed: (String, String),
) -> PageResult {
    let user = visitor.require_user()?;
    let keys = state.core.manage().list_ssh_keys(user.id).await?;
    let (status, error) = failure.map_or((StatusCode::OK, None), |(s, m)| (s, Some(m)));
    let page = KeysPage {
        chrome: Chrome::new(visitor),
        keys: keys
            .into_iter()
            .map(|key| KeyLine {
                id: key.id,
                created: date(key.created_at),
                last_used: key.last_used_at.map_or("never".to_owned(), date),
                expires: key.expires_at.map_or("never".to_owned(), format_expiry_date),
                title: key.title,
                key_type: key.key_type,
                fingerprint: key.fingerprint,
            })
            .collect(),
        ssh_host: state.config.ssh_host.clone(),
        typed_key: typed.0,
        typed_title: typed.1,
        error,
    };
    render(status, &page)
}

/// `GET /-/profile/keys`
pub async fn keys(State(state): State<AppState>, visitor: PageActor) -> PageResult {
    keys_page(&state, &visitor, None, (String::new(), String::new())).await
}

#[derive(Debug, Deserialize)]
pub struct KeyForm {
    #[serde(default)]
    key: String,
    #[serde(default)]
    title: String,
    #[serde(default)]
    expires_at: String,
}

/// `POST /-/profile/keys`
pub async fn add_key(
    State(state): State<AppState>,
    visitor: PageActor,
    CsrfForm(form): CsrfForm<KeyForm>,
) -> PageResult {
    visitor.require_user()?;
    let result = async {
        let expires_at = match form.expires_at.trim() {
            "" => None,
            day => Some(parse_expiry_date(day)?),
        };
        let input = NewKeyInput { title: form.title.clone(), key: form.key.clone(), expires_at };
        state.core.manage().add_ssh_key(&visitor.actor, &input).await
    }
    .await;
    match result {
        Ok(_) => see_other("/-/profile/keys"),
        Err(error) => keys_page(&state, &visitor, Some(form_error(error)), (form.key, form.title)).await,
    }
}

/// `POST /-/profile/keys/{key_id}/delete`
pub async fn delete_key(
    State(state): State<AppState>,
    visitor: PageActor,
    Path(id): Path<i64>,
    CsrfForm(_): CsrfForm<serde::de::IgnoredAny>,
) -> PageResult {
    visitor.require_user()?;
    state.core.manage().delete_ssh_key(&visitor.actor, id).await.map_err(|e| visitor.error(e))?;
    see_other("/-/profile/keys")
}
