//! The GPG keys page of the signed-in user's settings: their keys (fingerprint, key id and the
//! addresses the key names), adding one and deleting one.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use gantry_core::manage::gpg_keys::gpg_key_emails;
use gantry_types::GpgKeyId;
use serde::Deserialize;

use crate::AppState;
use crate::auth::{CsrfForm, PageActor};
use crate::time_format::date;
use crate::ui::{Chrome, PageResult, form_error, render, see_other};

/// One row of the GPG keys table.
pub struct GpgKeyLine {
    pub id: i64,
    /// In groups of four hex digits, as `gpg` prints it.
    pub fingerprint: String,
    pub key_id: String,
    pub emails: String,
    pub created: String,
}

#[derive(Template)]
#[template(path = "profile/gpg_keys.html")]
struct GpgKeysPage {
    chrome: Chrome,
    keys: Vec<GpgKeyLine>,
    typed_key: String,
    error: Option<String>,
}

async fn gpg_keys_page(
    state: &AppState,
    visitor: &PageActor,
    failure: Option<(StatusCode, String)>,
    typed_key: String,
) -> PageResult {
    let user = visitor.require_user()?;
    let keys = state.core.manage().list_gpg_keys(&visitor.actor, user.id).await?;
    let (status, error) = failure.map_or((StatusCode::OK, None), |(s, m)| (s, Some(m)));
    let page = GpgKeysPage {
        chrome: Chrome::new(visitor),
        keys: keys
            .iter()
            .map(|key| GpgKeyLine {
                id: key.id.0,
                fingerprint: key
                    .fingerprint
                    .as_bytes()
                    .chunks(4)
                    .map(|group| String::from_utf8_lossy(group).into_owned())
                    .collect::<Vec<_>>()
                    .join(" "),
                key_id: key.primary_keyid.clone(),
                emails: gpg_key_emails(key).join(", "),
                created: date(key.created_at),
            })
            .collect(),
        typed_key,
        error,
    };
    render(status, &page)
}

/// `GET /-/profile/gpg_keys`
pub async fn list(State(state): State<AppState>, visitor: PageActor) -> PageResult {
    gpg_keys_page(&state, &visitor, None, String::new()).await
}

#[derive(Debug, Deserialize)]
pub struct GpgKeyForm {
    #[serde(default)]
    key: String,
}

/// `POST /-/profile/gpg_keys`
pub async fn add(
    State(state): State<AppState>,
    visitor: PageActor,
    CsrfForm(form): CsrfForm<GpgKeyForm>,
) -> PageResult {
    visitor.require_user()?;
    match state.core.manage().add_gpg_key(&visitor.actor, &form.key).await {
        Ok(_) => see_other("/-/profile/gpg_keys"),
        Err(error) => gpg_keys_page(&state, &visitor, Some(form_error(error)), form.key).await,
    }
}

/// `POST /-/profile/gpg_keys/{gpg_key_id}/delete`
pub async fn delete(
    State(state): State<AppState>,
    visitor: PageActor,
    Path(id): Path<i64>,
    CsrfForm(_): CsrfForm<serde::de::IgnoredAny>,
) -> PageResult {
    visitor.require_user()?;
    state.core.manage().delete_gpg_key(&visitor.actor, GpgKeyId(id)).await.map_err(|e| visitor.error(e))?;
    see_other("/-/profile/gpg_keys")
}
